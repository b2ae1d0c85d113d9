//! One reader a table: its columns and the typed record each line makes.

use std::io::BufRead;

use super::Table;
use crate::error::{ContributionError, ContributionErrors};
use crate::ftp::FtpRate;
use crate::inputs::{AccountMonth, Activity, Assignment, CostPool, DirectCost, Fee};
use crate::records;

/// Reads account-months: columns `month`, `customer`, `account`, `product`, `side` (`asset`
/// / 资产, `liability` / 负债), `average_balance`, `customer_rate`, `branch`, `legal_entity`;
/// optional `term` (empty: `none`), `days` (empty: the month's days), `loan_class` (a code or
/// 正常/关注/次级/可疑/损失), `risk_weight`.
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_account_months(table: &str, text: &str) -> Result<Vec<AccountMonth>, ContributionErrors> {
    let (required, optional) = ACCOUNT_MONTH_COLUMNS;
    let t = Table::parse(table, text, &required, &optional)?;
    t.read(|r| records::account_month(r))
}

/// Reads account-months as [`read_account_months`] does, from `reader` one line at a time,
/// handing each to `each` (none after the first error).
pub(crate) fn read_account_months_with(
    table: &str,
    reader: impl BufRead,
    each: impl FnMut(AccountMonth) -> Result<(), ContributionError>,
) -> Result<(), ContributionErrors> {
    let (required, optional) = ACCOUNT_MONTH_COLUMNS;
    super::read_lines(table, reader, (&required, &optional), |r| records::account_month(r), each)
}

/// The account-months' required and optional columns.
const ACCOUNT_MONTH_COLUMNS: ([&str; 9], [&str; 4]) = (
    ["month", "customer", "account", "product", "side", "average_balance", "customer_rate", "branch", "legal_entity"],
    ["term", "days", "loan_class", "risk_weight"],
);

/// Reads FTP rates: columns `product`, `term`, `effective` (a month), `rate` (a fraction).
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_ftp_rates(table: &str, text: &str) -> Result<Vec<FtpRate>, ContributionErrors> {
    let t = Table::parse(table, text, &["product", "term", "effective", "rate"], &[])?;
    t.read(|r| records::ftp_rate(r))
}

/// Reads fees: columns `month`, `customer`, `amount`; optional `product`.
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_fees(table: &str, text: &str) -> Result<Vec<Fee>, ContributionErrors> {
    let t = Table::parse(table, text, &["month", "customer", "amount"], &["product"])?;
    t.read(|r| records::fee(r))
}

/// Reads cost pools: columns `month`, `cost_centre`, `amount`.
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_cost_pools(table: &str, text: &str) -> Result<Vec<CostPool>, ContributionErrors> {
    let t = Table::parse(table, text, &["month", "cost_centre", "amount"], &[])?;
    t.read(|r| records::cost_pool(r))
}

/// Reads activity quantities: columns `month`, `customer`, `quantity`, `value`; optional
/// `product`, `channel`, `branch`.
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_activities(table: &str, text: &str) -> Result<Vec<Activity>, ContributionErrors> {
    let t = Table::parse(table, text, &["month", "customer", "quantity", "value"], &["product", "channel", "branch"])?;
    t.read(|r| records::activity(r))
}

/// Reads direct costs: columns `month`, `customer`, `item`, `amount`.
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_direct_costs(table: &str, text: &str) -> Result<Vec<DirectCost>, ContributionErrors> {
    let t = Table::parse(table, text, &["month", "customer", "item", "amount"], &[])?;
    t.read(|r| records::direct_cost(r))
}

/// Reads account manager assignments: columns `customer`, `manager`, `role` (`lead` / 主办,
/// `assisting` / 协办), `share` (percent).
///
/// # Errors
/// Every header problem, or every cell that cannot be read, by line and column.
pub fn read_assignments(table: &str, text: &str) -> Result<Vec<Assignment>, ContributionErrors> {
    let t = Table::parse(table, text, &["customer", "manager", "role", "share"], &[])?;
    t.read(|r| records::assignment(r))
}
