//! The outputs (SPEC §20.6): each customer's figures, the roll-ups, and the lineage, one line
//! for each amount that makes a customer's net contribution.

use crm_tiering::{Decimal, Month};

use crate::fen::fen_decimal;

/// What a lineage line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineKind {
    /// 资产利息贡献: an asset account's (customer rate − FTP) × balance × days / basis.
    InterestAsset,
    /// 负债利息贡献: a liability account's (FTP − customer rate) × balance × days / basis.
    InterestLiability,
    /// 中间业务收入: a fee.
    Fee,
    /// 分摊费用: a share of a pool, by a stage's driver.
    AllocatedCost,
    /// 直接费用: a cost charged to the customer directly.
    DirectCost,
    /// 风险成本: a loan's balance × provision rate × days / basis.
    RiskCost,
    /// 资本占用成本: balance × risk weight × capital rate × days / basis.
    CapitalCharge,
}

impl LineKind {
    /// The code: `interest_asset`, `interest_liability`, `fee`, `allocated_cost`,
    /// `direct_cost`, `risk_cost`, `capital_charge`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::InterestAsset => "interest_asset",
            LineKind::InterestLiability => "interest_liability",
            LineKind::Fee => "fee",
            LineKind::AllocatedCost => "allocated_cost",
            LineKind::DirectCost => "direct_cost",
            LineKind::RiskCost => "risk_cost",
            LineKind::CapitalCharge => "capital_charge",
        }
    }
}

/// One line of a customer's contribution: what it is, what it was computed from, and its
/// amount as it enters the net contribution (income positive, costs negative), so a
/// customer's lines sum to its net contribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineageLine {
    /// The customer.
    pub customer: String,
    /// What the line is.
    pub kind: LineKind,
    /// The account (interest, risk cost, capital charge).
    pub account: Option<String>,
    /// The pool (an allocated cost).
    pub pool: Option<String>,
    /// The stage that allocated the pool, counting from 1.
    pub stage: Option<usize>,
    /// The product (the account's, or the fee's when given).
    pub product: Option<String>,
    /// A direct cost's item.
    pub item: Option<String>,
    /// The average balance the line was computed on.
    pub balance: Option<Decimal>,
    /// The FTP rate in force (interest lines).
    pub ftp_rate: Option<Decimal>,
    /// The customer rate (interest lines).
    pub customer_rate: Option<Decimal>,
    /// The provision rate (risk cost) or capital rate (capital charge).
    pub rate: Option<Decimal>,
    /// The risk weight (capital charge).
    pub risk_weight: Option<Decimal>,
    /// The days the line runs for (interest, risk cost, capital charge).
    pub days: Option<u32>,
    /// The customer's driver quantity (an allocated cost).
    pub driver_quantity: Option<Decimal>,
    /// The stage's driver total over every target (an allocated cost).
    pub driver_total: Option<Decimal>,
    /// The amount, as it enters the net contribution: income positive, costs negative.
    pub amount: Decimal,
}

impl LineageLine {
    /// A line of a kind and amount, computed from nothing else yet.
    pub(crate) fn new(customer: &str, kind: LineKind, amount: Decimal) -> Self {
        LineageLine {
            customer: customer.to_string(),
            kind,
            account: None,
            pool: None,
            stage: None,
            product: None,
            item: None,
            balance: None,
            ftp_rate: None,
            customer_rate: None,
            rate: None,
            risk_weight: None,
            days: None,
            driver_quantity: None,
            driver_total: None,
            amount,
        }
    }
}

/// A set of contribution figures: a customer's, a manager's or a branch's. Costs are
/// positive amounts; the net contribution is income less costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figures {
    /// Interest contribution of asset accounts.
    pub interest_asset: Decimal,
    /// Interest contribution of liability accounts.
    pub interest_liability: Decimal,
    /// Fee income.
    pub fees: Decimal,
    /// Costs allocated from pools.
    pub allocated_costs: Decimal,
    /// Costs charged directly.
    pub direct_costs: Decimal,
    /// Risk cost (provisions).
    pub risk_cost: Decimal,
    /// Capital charge.
    pub capital_charge: Decimal,
    /// Net contribution: interest + fees − allocated − direct − risk − capital.
    pub net_contribution: Decimal,
}

/// The seven components of a set of figures, in fen (the net is derived).
pub(crate) type Fen = [i128; 7];

pub(crate) const INTEREST_ASSET: usize = 0;
pub(crate) const INTEREST_LIABILITY: usize = 1;
pub(crate) const FEES: usize = 2;
pub(crate) const ALLOCATED: usize = 3;
pub(crate) const DIRECT: usize = 4;
pub(crate) const RISK: usize = 5;
pub(crate) const CAPITAL: usize = 6;

impl Figures {
    /// The figures' names, also their column names in every output (CSV files, Arrow tables,
    /// the store, Python): the seven components (interest on assets and on liabilities, fees, allocated and direct
    /// costs, risk cost, capital charge), then the net.
    pub const NAMES: [&'static str; 8] = [
        "interest_asset",
        "interest_liability",
        "fees",
        "allocated_costs",
        "direct_costs",
        "risk_cost",
        "capital_charge",
        "net_contribution",
    ];

    /// The figures in [`Figures::NAMES`] order.
    #[must_use]
    pub fn values(&self) -> [Decimal; 8] {
        [
            self.interest_asset,
            self.interest_liability,
            self.fees,
            self.allocated_costs,
            self.direct_costs,
            self.risk_cost,
            self.capital_charge,
            self.net_contribution,
        ]
    }

    /// Figures from their values in [`Figures::NAMES`] order (as read back from an output).
    #[must_use]
    pub fn from_values(v: [Decimal; 8]) -> Figures {
        let [
            interest_asset,
            interest_liability,
            fees,
            allocated_costs,
            direct_costs,
            risk_cost,
            capital_charge,
            net_contribution,
        ] = v;
        Figures {
            interest_asset,
            interest_liability,
            fees,
            allocated_costs,
            direct_costs,
            risk_cost,
            capital_charge,
            net_contribution,
        }
    }

    /// Figures from fen components.
    pub(crate) fn from_fen(f: &Fen) -> Figures {
        let [ia, il, fees, alloc, direct, risk, capital] = *f;
        Figures {
            interest_asset: fen_decimal(ia),
            interest_liability: fen_decimal(il),
            fees: fen_decimal(fees),
            allocated_costs: fen_decimal(alloc),
            direct_costs: fen_decimal(direct),
            risk_cost: fen_decimal(risk),
            capital_charge: fen_decimal(capital),
            net_contribution: fen_decimal(ia + il + fees - alloc - direct - risk - capital),
        }
    }
}

/// A pool's amount in a customer's (or a stage's) figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolAmount {
    /// The pool (cost centre).
    pub pool: String,
    /// The amount.
    pub amount: Decimal,
}

/// A customer's contribution for the month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerMonth {
    /// The customer.
    pub customer: String,
    /// The figures.
    pub figures: Figures,
    /// The allocated costs by pool, in stage order (pools with an amount only).
    pub allocated_by_pool: Vec<PoolAmount>,
}

/// An account manager's roll-up: each customer's components split by the manager's share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerFigures {
    /// The manager.
    pub manager: String,
    /// The customers the manager has a share of.
    pub customers: usize,
    /// The figures.
    pub figures: Figures,
}

/// A branch's roll-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchFigures {
    /// The legal entity.
    pub legal_entity: String,
    /// The branch.
    pub branch: String,
    /// The figures.
    pub figures: Figures,
}

/// A legal entity's roll-up (the sum of its branches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalEntityFigures {
    /// The legal entity.
    pub legal_entity: String,
    /// The figures.
    pub figures: Figures,
}

/// What one allocation stage did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageOutcome {
    /// The stage, counting from 1.
    pub stage: usize,
    /// The pool.
    pub pool: String,
    /// The pool's amount: its own and what earlier stages moved to it.
    pub amount: Decimal,
    /// The driver total over every target.
    pub driver_total: Decimal,
    /// The targets that received a share (customers, or pools for `cost_centres`).
    pub targets: usize,
    /// For `cost_centres`, what each pool received.
    pub to_pools: Vec<PoolAmount>,
}

/// A contribution month: the figures, the roll-ups and the lineage, every list in a fixed
/// order (customers, managers, branches by id; lineage by customer, then line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// The month.
    pub month: Month,
    /// Each customer's figures, by customer id.
    pub customers: Vec<CustomerMonth>,
    /// The lineage, by customer id, then kind (in [`LineKind`]'s order), then account, stage
    /// or input order.
    pub lineage: Vec<LineageLine>,
    /// Each account manager's roll-up, by manager id.
    pub managers: Vec<ManagerFigures>,
    /// The figures of customers with no account manager.
    pub unassigned: Figures,
    /// Each branch's roll-up, by legal entity and branch.
    pub branches: Vec<BranchFigures>,
    /// Each legal entity's roll-up, by legal entity.
    pub legal_entities: Vec<LegalEntityFigures>,
    /// What each allocation stage did, in stage order.
    pub stages: Vec<StageOutcome>,
}

impl Contribution {
    /// A customer's figures.
    #[must_use]
    pub fn customer(&self, customer: &str) -> Option<&CustomerMonth> {
        self.customers.iter().find(|c| c.customer == customer)
    }

    /// A customer's lineage lines, in order: what `explain --customer` shows.
    pub fn explain<'a>(&'a self, customer: &'a str) -> impl Iterator<Item = &'a LineageLine> + 'a {
        self.lineage.iter().filter(move |l| l.customer == customer)
    }
}
