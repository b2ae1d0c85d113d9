//! The record each input row makes, written once for every reader: a CSV line and an Arrow
//! row each give their cells as [`Fields`], and the functions here make the records (SPEC
//! §20.1, §20.7). A cell that cannot be read is recorded by the reader, naming its line or row
//! and column; the record is then `None`, and the table gives no records.

use crm_tiering::{Decimal, Month};

use crate::ftp::FtpRate;
use crate::inputs::{AccountMonth, Activity, Assignment, CostPool, DirectCost, Fee, LoanClass, Role, Side};

/// One input row's cells by column, as a reader gives them.
pub(crate) trait Fields {
    /// A required text (an empty or null cell is an error).
    fn text(&mut self, column: &str) -> String;

    /// An optional text: `None` when empty or null, or when the table has no such column.
    fn optional(&self, column: &str) -> Option<String>;

    /// An optional cell parsed by `parse`: `Some(None)` when empty, `None` (an error recorded,
    /// naming `expected`) when unreadable.
    fn parsed_optional<T>(
        &mut self,
        column: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<Option<T>>;

    /// A required cell parsed by `parse`.
    fn parsed<T>(&mut self, column: &str, expected: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T>;

    /// An optional decimal.
    fn decimal_optional(&mut self, column: &str) -> Option<Option<Decimal>>;

    /// A required decimal.
    fn decimal(&mut self, column: &str) -> Option<Decimal>;
}

const MONTH: &str = "a month (YYYY-MM)";

fn month(t: &str) -> Option<Month> {
    t.parse().ok()
}

/// An account-month: `term` defaults to `none`, `days` to the month's.
pub(crate) fn account_month(r: &mut impl Fields) -> Option<AccountMonth> {
    let month = r.parsed("month", MONTH, month);
    let (customer, account, product) = (r.text("customer"), r.text("account"), r.text("product"));
    let term = r.optional("term").unwrap_or_else(|| "none".to_string());
    let side = r.parsed("side", "asset or liability", Side::parse);
    let average_balance = r.decimal("average_balance");
    let customer_rate = r.decimal("customer_rate");
    let days = r.parsed_optional("days", "a day count", |t| t.parse::<u32>().ok());
    let (branch, legal_entity) = (r.text("branch"), r.text("legal_entity"));
    let loan_class = r.parsed_optional("loan_class", "a loan class", LoanClass::parse);
    let risk_weight = r.decimal_optional("risk_weight");
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
}

/// An FTP rate.
pub(crate) fn ftp_rate(r: &mut impl Fields) -> Option<FtpRate> {
    let (product, term) = (r.text("product"), r.text("term"));
    let effective = r.parsed("effective", MONTH, month);
    let rate = r.decimal("rate");
    Some(FtpRate { product, term, effective: effective?, rate: rate? })
}

/// A fee.
pub(crate) fn fee(r: &mut impl Fields) -> Option<Fee> {
    let month = r.parsed("month", MONTH, month);
    let customer = r.text("customer");
    let product = r.optional("product");
    let amount = r.decimal("amount");
    Some(Fee { month: month?, customer, product, amount: amount? })
}

/// A cost pool.
pub(crate) fn cost_pool(r: &mut impl Fields) -> Option<CostPool> {
    let month = r.parsed("month", MONTH, month);
    let cost_centre = r.text("cost_centre");
    let amount = r.decimal("amount");
    Some(CostPool { month: month?, cost_centre, amount: amount? })
}

/// An activity quantity.
pub(crate) fn activity(r: &mut impl Fields) -> Option<Activity> {
    let month = r.parsed("month", MONTH, month);
    let (customer, quantity) = (r.text("customer"), r.text("quantity"));
    let (product, channel, branch) = (r.optional("product"), r.optional("channel"), r.optional("branch"));
    let value = r.decimal("value");
    Some(Activity { month: month?, customer, quantity, product, channel, branch, value: value? })
}

/// A direct cost.
pub(crate) fn direct_cost(r: &mut impl Fields) -> Option<DirectCost> {
    let month = r.parsed("month", MONTH, month);
    let (customer, item) = (r.text("customer"), r.text("item"));
    let amount = r.decimal("amount");
    Some(DirectCost { month: month?, customer, item, amount: amount? })
}

/// An account manager assignment.
pub(crate) fn assignment(r: &mut impl Fields) -> Option<Assignment> {
    let (customer, manager) = (r.text("customer"), r.text("manager"));
    let role = r.parsed("role", "lead (主办) or assisting (协办)", Role::parse);
    let share = r.decimal("share");
    Some(Assignment { customer, manager, role: role?, share: share? })
}
