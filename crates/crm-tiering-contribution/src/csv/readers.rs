//! One reader a table: its columns and the typed record each line makes.

use crm_tiering::{Decimal, Month, parse_amount};

use super::Table;
use crate::error::ContributionErrors;
use crate::ftp::FtpRate;
use crate::inputs::{AccountMonth, Activity, Assignment, CostPool, DirectCost, Fee, LoanClass, Role, Side};

const DECIMAL: &str = "a decimal number";
const MONTH: &str = "a month (YYYY-MM)";

fn decimal(t: &str) -> Option<Decimal> {
    parse_amount(t).ok()
}

fn month(t: &str) -> Option<Month> {
    t.parse().ok()
}

/// Reads account-months: columns `month`, `customer`, `account`, `product`, `side` (`asset`
/// / 资产, `liability` / 负债), `average_balance`, `customer_rate`, `branch`, `legal_entity`;
/// optional `term` (empty: `none`), `days` (empty: the month's days), `loan_class` (a code or
/// 正常/关注/次级/可疑/损失), `risk_weight`.
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_account_months(table: &str, text: &str) -> Result<Vec<AccountMonth>, ContributionErrors> {
    let required = [
        "month",
        "customer",
        "account",
        "product",
        "side",
        "average_balance",
        "customer_rate",
        "branch",
        "legal_entity",
    ];
    let t = Table::parse(table, text, &required, &["term", "days", "loan_class", "risk_weight"])?;
    t.read(|r| {
        let month = r.parsed("month", MONTH, month);
        let (customer, account, product) = (r.text("customer"), r.text("account"), r.text("product"));
        let term = r.optional("term").unwrap_or_else(|| "none".to_string());
        let side = r.parsed("side", "asset or liability", Side::parse);
        let average_balance = r.parsed("average_balance", DECIMAL, decimal);
        let customer_rate = r.parsed("customer_rate", DECIMAL, decimal);
        let days = r.parsed_optional("days", "a day count", |t| t.parse::<u32>().ok());
        let (branch, legal_entity) = (r.text("branch"), r.text("legal_entity"));
        let loan_class = r.parsed_optional("loan_class", "a loan class", LoanClass::parse);
        let risk_weight = r.parsed_optional("risk_weight", DECIMAL, decimal);
        Some(AccountMonth {
            month: month?,
            customer,
            account,
            product,
            term,
            side: side?,
            average_balance: average_balance?,
            customer_rate: customer_rate?,
            days: days?,
            branch,
            legal_entity,
            loan_class: loan_class?,
            risk_weight: risk_weight?,
        })
    })
}

/// Reads FTP rates: columns `product`, `term`, `effective` (a month), `rate` (a fraction).
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_ftp_rates(table: &str, text: &str) -> Result<Vec<FtpRate>, ContributionErrors> {
    let t = Table::parse(table, text, &["product", "term", "effective", "rate"], &[])?;
    t.read(|r| {
        let (product, term) = (r.text("product"), r.text("term"));
        let effective = r.parsed("effective", MONTH, month);
        let rate = r.parsed("rate", DECIMAL, decimal);
        Some(FtpRate { product, term, effective: effective?, rate: rate? })
    })
}

/// Reads fees: columns `month`, `customer`, `amount`; optional `product`.
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_fees(table: &str, text: &str) -> Result<Vec<Fee>, ContributionErrors> {
    let t = Table::parse(table, text, &["month", "customer", "amount"], &["product"])?;
    t.read(|r| {
        let month = r.parsed("month", MONTH, month);
        let customer = r.text("customer");
        let product = r.optional("product");
        let amount = r.parsed("amount", DECIMAL, decimal);
        Some(Fee { month: month?, customer, product, amount: amount? })
    })
}

/// Reads cost pools: columns `month`, `cost_centre`, `amount`.
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_cost_pools(table: &str, text: &str) -> Result<Vec<CostPool>, ContributionErrors> {
    let t = Table::parse(table, text, &["month", "cost_centre", "amount"], &[])?;
    t.read(|r| {
        let month = r.parsed("month", MONTH, month);
        let cost_centre = r.text("cost_centre");
        let amount = r.parsed("amount", DECIMAL, decimal);
        Some(CostPool { month: month?, cost_centre, amount: amount? })
    })
}

/// Reads activity quantities: columns `month`, `customer`, `quantity`, `value`; optional
/// `product`, `channel`, `branch`.
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_activities(table: &str, text: &str) -> Result<Vec<Activity>, ContributionErrors> {
    let t = Table::parse(table, text, &["month", "customer", "quantity", "value"], &["product", "channel", "branch"])?;
    t.read(|r| {
        let month = r.parsed("month", MONTH, month);
        let (customer, quantity) = (r.text("customer"), r.text("quantity"));
        let (product, channel, branch) = (r.optional("product"), r.optional("channel"), r.optional("branch"));
        let value = r.parsed("value", DECIMAL, decimal);
        Some(Activity { month: month?, customer, quantity, product, channel, branch, value: value? })
    })
}

/// Reads direct costs: columns `month`, `customer`, `item`, `amount`.
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_direct_costs(table: &str, text: &str) -> Result<Vec<DirectCost>, ContributionErrors> {
    let t = Table::parse(table, text, &["month", "customer", "item", "amount"], &[])?;
    t.read(|r| {
        let month = r.parsed("month", MONTH, month);
        let (customer, item) = (r.text("customer"), r.text("item"));
        let amount = r.parsed("amount", DECIMAL, decimal);
        Some(DirectCost { month: month?, customer, item, amount: amount? })
    })
}

/// Reads account manager assignments: columns `customer`, `manager`, `role` (`lead` / 主办,
/// `assisting` / 协办), `share` (percent).
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_assignments(table: &str, text: &str) -> Result<Vec<Assignment>, ContributionErrors> {
    let t = Table::parse(table, text, &["customer", "manager", "role", "share"], &[])?;
    t.read(|r| {
        let (customer, manager) = (r.text("customer"), r.text("manager"));
        let role = r.parsed("role", "lead (主办) or assisting (协办)", Role::parse);
        let share = r.parsed("share", DECIMAL, decimal);
        Some(Assignment { customer, manager, role: role?, share: share? })
    })
}
