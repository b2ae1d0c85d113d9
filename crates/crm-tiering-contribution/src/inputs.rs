//! The typed inputs of a contribution month (SPEC §20.1): account-months, fees, cost pools,
//! activity quantities, direct costs and account manager assignments. The transfer-pricing
//! rates, allocation stages, provision rates and capital settings are in the rule book.

use std::fmt;

use crm_tiering::{Decimal, Month};

/// The side of the balance sheet an account is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// 资产: a loan or other asset; contributes customer rate − FTP.
    #[serde(alias = "资产")]
    Asset,
    /// 负债: a deposit or other liability; contributes FTP − customer rate.
    #[serde(alias = "负债")]
    Liability,
}

impl Side {
    /// Reads `asset` / `资产` or `liability` / `负债`, exactly as written.
    #[must_use]
    pub fn parse(text: &str) -> Option<Side> {
        match text {
            "asset" | "资产" => Some(Side::Asset),
            "liability" | "负债" => Some(Side::Liability),
            _ => None,
        }
    }

    /// The code: `asset` or `liability`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Asset => "asset",
            Side::Liability => "liability",
        }
    }
}

/// The five-level loan classification (贷款五级分类), which sets a loan's provision rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LoanClass {
    /// 正常.
    Normal,
    /// 关注.
    SpecialMention,
    /// 次级.
    Substandard,
    /// 可疑.
    Doubtful,
    /// 损失.
    Loss,
}

impl LoanClass {
    /// Reads a code (`normal`, `special_mention`, `substandard`, `doubtful`, `loss`) or a
    /// Chinese name (正常, 关注, 次级, 可疑, 损失), exactly as written.
    #[must_use]
    pub fn parse(text: &str) -> Option<LoanClass> {
        match text {
            "normal" | "正常" => Some(LoanClass::Normal),
            "special_mention" | "关注" => Some(LoanClass::SpecialMention),
            "substandard" | "次级" => Some(LoanClass::Substandard),
            "doubtful" | "可疑" => Some(LoanClass::Doubtful),
            "loss" | "损失" => Some(LoanClass::Loss),
            _ => None,
        }
    }

    /// The code, as a rule book's `[provision]` key.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            LoanClass::Normal => "normal",
            LoanClass::SpecialMention => "special_mention",
            LoanClass::Substandard => "substandard",
            LoanClass::Doubtful => "doubtful",
            LoanClass::Loss => "loss",
        }
    }
}

/// An account manager's role for a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// 主办: the lead manager (exactly one a customer).
    Lead,
    /// 协办: an assisting manager.
    Assisting,
}

impl Role {
    /// Reads `lead` / `主办` or `assisting` / `协办`, exactly as written.
    #[must_use]
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "lead" | "主办" => Some(Role::Lead),
            "assisting" | "协办" => Some(Role::Assisting),
            _ => None,
        }
    }

    /// The code: `lead` or `assisting` ([`Role::parse`] reads it back).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Lead => "lead",
            Role::Assisting => "assisting",
        }
    }

    /// The Chinese name: 主办 or 协办 ([`Role::parse`] reads it back).
    #[must_use]
    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Lead => "主办",
            Role::Assisting => "协办",
        }
    }
}

/// One account in one month: the unit of the interest contribution, the risk cost and the
/// capital charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountMonth {
    /// The month.
    pub month: Month,
    /// The customer who holds the account.
    pub customer: String,
    /// The account (unique in the month).
    pub account: String,
    /// The product, as the FTP rate table names it.
    pub product: String,
    /// The term bucket the FTP rate is looked up by (`none` for products without a term).
    pub term: String,
    /// Asset (资产) or liability (负债).
    pub side: Side,
    /// The month's average daily balance (月日均), in CNY, at most two decimals, not negative.
    pub average_balance: Decimal,
    /// The customer's annual rate, as a fraction (`0.0035` is 0.35%).
    pub customer_rate: Decimal,
    /// The days the interest runs: `None` for the month's calendar days, or an explicit
    /// count (1 to 31).
    pub days: Option<u32>,
    /// The branch (网点/支行) that books the account.
    pub branch: String,
    /// The legal entity (法人机构, e.g. a county bank) the branch belongs to.
    pub legal_entity: String,
    /// The loan class of an asset that is a loan: its provision rate makes the risk cost.
    /// `None` for a non-loan asset and every liability.
    pub loan_class: Option<LoanClass>,
    /// The risk weight for the capital charge, as a fraction (`1` is 100%); `None` for none.
    pub risk_weight: Option<Decimal>,
}

/// Fee income (中间业务收入) of a customer in a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    /// The month.
    pub month: Month,
    /// The customer.
    pub customer: String,
    /// The product the fee came from, when known.
    pub product: Option<String>,
    /// The amount in CNY, at most two decimals (negative for a refund).
    pub amount: Decimal,
}

/// A cost pool: a cost centre's costs of a month, moved to customers (or to other pools) by
/// the book's allocation stages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostPool {
    /// The month.
    pub month: Month,
    /// The cost centre (the pool's id in the book's stages).
    pub cost_centre: String,
    /// The amount in CNY, at most two decimals, not negative.
    pub amount: Decimal,
}

/// A named quantity of a customer's activity in a month, the base of `quantity` and
/// `coefficients` drivers: transactions by channel, counter minutes, statements printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// The month.
    pub month: Month,
    /// The customer.
    pub customer: String,
    /// The quantity's name, as a stage's `quantity` names it (`counter_transactions`).
    pub quantity: String,
    /// The product, for a coefficient table keyed by product.
    pub product: Option<String>,
    /// The channel (柜面, 手机银行...), for a coefficient table keyed by channel.
    pub channel: Option<String>,
    /// The branch, for a coefficient table keyed by branch.
    pub branch: Option<String>,
    /// The quantity, not negative.
    pub value: Decimal,
}

/// A cost charged directly to a customer (a courier, a gift, a waived fee).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectCost {
    /// The month.
    pub month: Month,
    /// The customer.
    pub customer: String,
    /// What the cost is, for the lineage.
    pub item: String,
    /// The amount in CNY, at most two decimals (negative for a credit).
    pub amount: Decimal,
}

/// A customer's account manager and that manager's share of the customer's contribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The customer.
    pub customer: String,
    /// The account manager (客户经理).
    pub manager: String,
    /// 主办 or 协办.
    pub role: Role,
    /// The share in percent (`60` is 60%), above 0; a customer's shares sum to exactly 100.
    pub share: Decimal,
}

/// Everything a contribution month is computed from, besides the rule book.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inputs {
    /// The account-months.
    pub account_months: Vec<AccountMonth>,
    /// Fee income.
    pub fees: Vec<Fee>,
    /// Cost pools.
    pub cost_pools: Vec<CostPool>,
    /// Activity quantities for the drivers.
    pub activities: Vec<Activity>,
    /// Direct costs.
    pub direct_costs: Vec<DirectCost>,
    /// Account manager assignments.
    pub assignments: Vec<Assignment>,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
