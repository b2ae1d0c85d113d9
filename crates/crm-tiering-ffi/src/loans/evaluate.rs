//! `crmt_loans_evaluate`: a month's loan records and the states of the month before, classified
//! by the core's `evaluate_loan_month` (SPEC §21.9) under the rule book's `[loans]` settings,
//! into a `crmt_loan_result`; a refused month's failure names the first error's record.

use std::collections::BTreeMap;

use crm_tiering::{LoanMonthError, LoanMonthErrors, LoanOutcome, Month, evaluate_loan_month};

use super::codes::{class, class_or_none, signal_kind, trend, upgrade};
use super::input::{crmt_loan_records, crmt_loan_states};
use super::read::{crmt_loan, crmt_loan_customer, crmt_loan_signal};
use crate::boundary::{guard, guard_value};
use crate::code::crmt_result;
use crate::details::Failure;
use crate::evaluate::parse_month;
use crate::handle::{Handle, Kind, free_handle, handle, handle_or_null, put_handle};
use crate::rulebook::crmt_rulebook;

/// "None" in the `int64_t` fields of `crmt_loan_signal` (`boundary`, `clean_months`,
/// `clean_periods`).
pub const CRMT_LOAN_NO_VALUE: i64 = -1;

/// A classified loan month (SPEC §21): every customer's outcome in id order (bytes), its loans
/// by loan id and its signals, as C structs and as the core's outcomes. Immutable: read it from
/// any number of threads at once; free it once no thread reads it.
pub struct crmt_loan_result {
    pub(crate) month: Month,
    pub(crate) outcomes: Vec<LoanOutcome>,
    pub(crate) customers: Vec<crmt_loan_customer>,
    pub(crate) loans: Vec<crmt_loan>,
    pub(crate) signals: Vec<crmt_loan_signal>,
}

impl Handle for crmt_loan_result {
    const KIND: Kind = Kind::LoanResult;
}

impl crmt_loan_result {
    /// The outcomes with their C structs: loans and signals flattened, each customer's ranges.
    fn new(month: Month, outcomes: Vec<LoanOutcome>) -> Self {
        let mut r = crmt_loan_result {
            month,
            outcomes: Vec::new(),
            customers: Vec::new(),
            loans: Vec::new(),
            signals: Vec::new(),
        };
        for (c, o) in outcomes.iter().enumerate() {
            let first_loan = r.loans.len();
            r.customers.push(crmt_loan_customer {
                first_loan,
                loan_count: o.loans.len(),
                first_signal: r.signals.len(),
                signal_count: o.signals.len(),
                worst: class_or_none(o.worst),
                trend: trend(o.trend),
                has_non_performing: o.has_non_performing,
            });
            for l in &o.loans {
                r.loans.push(crmt_loan {
                    customer_index: c,
                    principal_overdue_days: l.principal_overdue_days,
                    interest_overdue_days: l.interest_overdue_days,
                    overdue_days: l.overdue_days,
                    floor: class(l.floor),
                    bank: class(l.bank),
                    effective: class(l.effective),
                    upgrade: upgrade(l.upgrade),
                    clean_months: l.clean_months,
                    clean_periods: l.clean_periods,
                    bank_kinder_than_floor: l.bank_kinder_than_floor,
                    has_expected_loss: l.expected_loss.is_some(),
                });
            }
            for s in &o.signals {
                // The loans are by id and ids are unique in a customer's month.
                let at = o.loans.iter().position(|l| l.loan_id == s.loan_id).unwrap_or(0);
                let value = |v: Option<u32>| v.map_or(CRMT_LOAN_NO_VALUE, i64::from);
                r.signals.push(crmt_loan_signal {
                    customer_index: c,
                    loan_index: first_loan + at,
                    kind: signal_kind(s.kind),
                    overdue_days: s.overdue_days,
                    boundary: value(s.boundary),
                    floor: class(s.floor),
                    bank: class(s.bank),
                    effective: class(s.effective),
                    clean_months: value(s.clean_months),
                    clean_periods: value(s.clean_periods),
                });
            }
        }
        r.outcomes = outcomes;
        r
    }
}

/// The failure of a refused month: the first error's category and details, every error's
/// message one a line (customers in id order).
fn failure(errors: LoanMonthErrors) -> Failure {
    let message = errors.to_string();
    let Some(LoanMonthError { error: first, record: row, other_record: other }) = errors.0.into_iter().next() else {
        return Failure::new(crmt_result::CRMT_INPUT_ERROR, "the loan month failed");
    };
    let code = match first.category() {
        "rules" => crmt_result::CRMT_RULES_ERROR,
        "sequence" => crmt_result::CRMT_SEQUENCE_ERROR,
        _ => crmt_result::CRMT_INPUT_ERROR,
    };
    let mut f = Failure::new(code, message);
    f.customer = first.customer().map(str::to_string);
    f.field = first.field().map(str::to_string);
    f.month = first.month().map_or(0, |m| i32::try_from(m.yyyymm()).unwrap_or(0));
    f.record = row.map(|r| Box::new(("loans".to_string(), r as u64)));
    f.other_record = other.map(|r| Box::new(("loans".to_string(), r as u64)));
    f
}

/// Classifies every customer of a month's loans (SPEC §21): each customer with a record in
/// `records`, and each customer of `states` (NULL: none) whose loans may all have closed, in id
/// order (bytes), from its state after the month before (none: a customer never evaluated),
/// under `book`'s `[loans]` settings (SPEC §21.2: the 2023 rules without the table). Every rule
/// is the core's `evaluate_loans`, one customer at a time.
///
/// On success `*out` receives a new `crmt_loan_result`, owned by the caller and released with
/// `crmt_loan_result_free`: read its customers, loans and signals as structs, the ids and
/// expected losses as text, and the states for the next month with
/// `crmt_loan_result_states_jsonl`.
///
/// # Errors
/// - `CRMT_NULL_ARGUMENT` (`book`, `records`, `out`), `CRMT_INVALID_ARGUMENT` (a handle not
///   live), `CRMT_INVALID_MONTH`.
/// - A month with errors gives no result (all or nothing, as the CLI's `loans`): every
///   customer is checked, and the code is the first error's category in customer order:
///   `CRMT_INPUT_ERROR` (a record: its customer or month not the one evaluated, an empty loan
///   id, negative days, an unknown class, a ratio outside 0 to 1, a loan twice; an unusable
///   customer id), `CRMT_SEQUENCE_ERROR` (the month does not follow the customer's state), or
///   `CRMT_RULES_ERROR`. The details are the first error's: customer, month, field
///   (`principal_overdue_days`, `bank_class`, ... or `month`), and the record
///   (`crmt_last_error_record`: table `loans`, row its index in the order pushed, from 0; for
///   a loan given twice the second record, the first in `crmt_last_error_other_record`; none
///   for a sequence error). `crmt_last_error_message` holds every error's message (SPEC
///   §21.6's), one a line, the first first.
///
/// # Safety
/// `book`, `records` are live handles, `states` NULL or a live handle, none changed by another
/// thread during the call; `out` is writable. Thread-safe otherwise.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loans_evaluate(
    book: *const crmt_rulebook,
    month: i32,
    records: *const crmt_loan_records,
    states: *const crmt_loan_states,
    out: *mut *mut crmt_loan_result,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract (each handle below likewise).
        let book = unsafe { handle(book, "book") }?;
        // SAFETY: as above.
        let records = unsafe { handle(records, "records") }?;
        // SAFETY: as above.
        let states = unsafe { handle_or_null(states, "states") }?;
        let month = parse_month(month)?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let settings = book.engine.rule_book().loan_settings();
        let empty = BTreeMap::new();
        let states = states.map_or(&empty, |s| &s.states);
        let outcomes = evaluate_loan_month(&settings, month, &records.records, states).map_err(failure)?;
        // SAFETY: `out` is writable per the contract.
        unsafe { put_handle(out, crmt_loan_result::new(month, outcomes), "out") }
    })
}

/// Frees a loan month's result. NULL is ignored. A pointer that is not a live
/// `crmt_loan_result` is refused: nothing is freed, and the thread's error details say why
/// (`CRMT_INVALID_ARGUMENT`, field `result`). Otherwise keeps the error details.
///
/// # Safety
/// No other thread uses `result` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_result_free(result: *mut crmt_loan_result) {
    guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(result, "result") }
    });
}
