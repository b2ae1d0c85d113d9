//! The loan month's files (SPEC §21.10), written once: customers.csv, signals.csv and
//! loan-states.jsonl as the `loans` command writes them, and the loans' results, which `export`
//! adds from the store. `export` writes the stored months in these same columns.

use crm_tiering::{LoanOutcome, LoanResult, LoanSignal, Month};

use crate::text::csv_field;

/// The header of customers.csv. `non_performing` (1 or 0) is a measure column `run --measure
/// non_performing=customers.csv` reads, for a book that pauses upgrades while it is above zero
/// (SPEC §21.8).
pub(crate) const CUSTOMERS: &str = "month,customer_id,loans,worst,worst_zh,trend,non_performing";

/// The header of signals.csv.
pub(crate) const SIGNALS: &str = "month,customer_id,loan_id,number,signal,signal_zh,overdue_days,boundary,floor,bank,\
     effective,clean_months,clean_periods";

/// The header of the loans' results (the export's loan_results.csv).
pub(crate) const RESULTS: &str = "month,customer_id,loan_id,principal_overdue_days,interest_overdue_days,\
     overdue_days,floor,floor_zh,bank,effective,effective_zh,bank_kinder_than_floor,upgrade,clean_months,clean_periods,\
     expected_loss";

fn text<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A customer's line of customers.csv.
pub(crate) fn customer_line(o: &LoanOutcome) -> String {
    format!(
        "{},{},{},{},{},{},{}",
        o.month,
        csv_field(&o.customer_id),
        o.loans.len(),
        text(o.worst.map(|c| c.as_str())),
        text(o.worst.map(|c| c.name_zh())),
        text(o.trend.map(|t| t.as_str())),
        u8::from(o.has_non_performing)
    )
}

/// A signal's line of signals.csv.
pub(crate) fn signal_line(s: &LoanSignal) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{}",
        s.month,
        csv_field(&s.customer_id),
        csv_field(&s.loan_id),
        s.kind.number(),
        s.kind.as_str(),
        s.kind.name_zh(),
        s.overdue_days,
        text(s.boundary),
        s.floor.as_str(),
        s.bank.as_str(),
        s.effective.as_str(),
        text(s.clean_months),
        text(s.clean_periods)
    )
}

/// A loan's line of the results ([`RESULTS`]).
pub(crate) fn result_line(month: Month, customer: &str, l: &LoanResult) -> String {
    format!(
        "{month},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        csv_field(customer),
        csv_field(&l.loan_id),
        l.principal_overdue_days,
        l.interest_overdue_days,
        l.overdue_days,
        l.floor.as_str(),
        l.floor.name_zh(),
        l.bank.as_str(),
        l.effective.as_str(),
        l.effective.name_zh(),
        u8::from(l.bank_kinder_than_floor),
        l.upgrade.as_str(),
        l.clean_months,
        l.clean_periods,
        text(l.expected_loss)
    )
}
