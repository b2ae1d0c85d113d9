//! The inputs of a loan month: the records builder (`crmt_loan_records`, one loan-month record
//! a push) and the customers' loan states after the month before (`crmt_loan_states`, read from
//! the JSON Lines the CLI writes, by the core's reader).

use std::collections::BTreeMap;
use std::ffi::c_char;

use crm_tiering::{LoanMonth, LoanState, parse_amount, read_loan_states};

use crate::args::{bytes, c_str, c_str_opt, utf8};
use crate::boundary::{guard, guard_value};
use crate::code::crmt_result;
use crate::details::Failure;
use crate::evaluate::parse_month;
use crate::handle::{Handle, Kind, free_handle, handle_mut, put_handle, read_value};

/// The loan-month records of a month (SPEC §21.1), in the order pushed: the input of
/// `crmt_loans_evaluate`. Made by `crmt_loan_records_new`, filled by `crmt_loan_records_push`,
/// freed by `crmt_loan_records_free`. Not synchronized: one thread at a time.
pub struct crmt_loan_records {
    pub(crate) records: Vec<LoanMonth>,
}

impl Handle for crmt_loan_records {
    const KIND: Kind = Kind::LoanRecords;
}

/// Customers' loan states after the month before, by customer id (SPEC §21.1): the text
/// `crmt_loan_result_states_jsonl` writes (the CLI's `loan-states.jsonl`). Immutable once made:
/// read it from any number of threads at once; free it once no thread reads it.
pub struct crmt_loan_states {
    pub(crate) states: BTreeMap<String, LoanState>,
}

impl Handle for crmt_loan_states {
    const KIND: Kind = Kind::LoanStates;
}

/// Makes an empty set of loan-month records. `*out` receives a new handle, owned by the caller
/// and released with `crmt_loan_records_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT` (`out`).
///
/// # Safety
/// `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_records_new(out: *mut *mut crmt_loan_records) -> crmt_result {
    // SAFETY: per the contract.
    guard(|| unsafe { put_handle(out, crmt_loan_records { records: Vec::new() }, "out") })
}

/// A push's failure about record `index` (from 0, in the order pushed): table `loans` in the
/// details' record, the field named.
fn bad(f: Failure, index: usize, customer: Option<&str>) -> Failure {
    let mut f = f;
    f.message = format!("loan record {index}: {}", f.message);
    f.record = Some(Box::new(("loans".to_string(), index as u64)));
    match customer {
        Some(c) => f.customer(c),
        None => f,
    }
}

/// Adds one loan-month record (SPEC §21.1): the customer, the loan, the month the record is
/// about (`year * 100 + month`), the principal and interest overdue days at month-end, the
/// bank's own class as text (`substandard`, `次级` or `3`, exactly as written), the
/// expected-loss ratio as decimal text (`"0.35"`; NULL: none) and whether a scheduled repayment
/// fell due in the month. The record takes the next index (from 0): `crmt_loan_records_count`
/// before the call.
///
/// Only what cannot be held is refused here; every rule of the record (the customer and month
/// evaluated, an empty loan id, negative days, an unknown class, a ratio outside 0 to 1, a loan
/// twice) is the core's, checked by `crmt_loans_evaluate`, whose error names the record's index.
///
/// # Errors
/// Nothing is added on an error; the details name the field and the record (table `loans`, row
/// the index it would have had; `crmt_last_error_record`):
/// - `CRMT_NULL_ARGUMENT` (`records`, `customer_id`, `loan_id`, `bank_class`),
///   `CRMT_INVALID_ARGUMENT` (`records` not a live handle);
/// - `CRMT_INVALID_UTF8` naming the field; `CRMT_INVALID_MONTH` (field `month`);
/// - `CRMT_INVALID_AMOUNT` (field `expected_loss`): not a plain decimal number (SPEC §16).
///
/// # Safety
/// `records` is a live handle used by no other thread during the call; each text is NULL or
/// NUL-terminated and readable for the call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments, reason = "one argument per field of a loan-month record")]
pub unsafe extern "C" fn crmt_loan_records_push(
    records: *mut crmt_loan_records,
    customer_id: *const c_char,
    loan_id: *const c_char,
    month: i32,
    principal_overdue_days: i64,
    interest_overdue_days: i64,
    bank_class: *const c_char,
    expected_loss: *const c_char,
    repayment_due: bool,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let r = unsafe { handle_mut(records, "records") }?;
        let index = r.records.len();
        // SAFETY: NULL or NUL-terminated per the contract (each text below likewise).
        let customer = unsafe { c_str(customer_id, "customer_id") }.map_err(|f| bad(f, index, None))?;
        let at = |f: Failure| bad(f, index, Some(customer));
        // SAFETY: as above.
        let loan = unsafe { c_str(loan_id, "loan_id") }.map_err(at)?;
        let month = parse_month(month).map_err(at)?;
        // SAFETY: as above.
        let class = unsafe { c_str(bank_class, "bank_class") }.map_err(at)?;
        // SAFETY: as above.
        let ratio = match unsafe { c_str_opt(expected_loss, "expected_loss") }.map_err(at)? {
            None => None,
            Some(text) => Some(parse_amount(text).map_err(|e| {
                at(Failure::new(crmt_result::CRMT_INVALID_AMOUNT, format!("`expected_loss`: {e}"))
                    .field("expected_loss"))
            })?),
        };
        r.records.try_reserve(1).map_err(|_| {
            at(Failure::new(crmt_result::CRMT_INVALID_ARGUMENT, "no memory for another record").field("records"))
        })?;
        r.records.push(LoanMonth {
            customer_id: customer.to_string(),
            loan_id: loan.to_string(),
            month,
            principal_overdue_days,
            interest_overdue_days,
            bank_class: class.to_string(),
            expected_loss: ratio,
            repayment_due,
        });
        Ok(())
    })
}

/// How many records have been pushed; 0 when `records` is NULL or not a live handle (then
/// recorded in the error details).
///
/// # Safety
/// `records` is NULL or a live handle used by no other thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_records_count(records: *const crmt_loan_records) -> usize {
    // SAFETY: per the contract.
    unsafe { read_value(records, "records", 0, |r| r.records.len()) }
}

/// Frees a set of loan-month records. NULL is ignored. A pointer that is not a live
/// `crmt_loan_records` (freed already, another kind of handle) is refused: nothing is freed, and
/// the thread's error details say why (`CRMT_INVALID_ARGUMENT`, field `records`). Otherwise keeps
/// the error details.
///
/// # Safety
/// No other thread uses `records` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_records_free(records: *mut crmt_loan_records) {
    guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(records, "records") }
    });
}

/// Reads customers' loan states from JSON Lines (`len` bytes of UTF-8, no NUL needed): one line
/// a customer, `{"customer_id": "c1", "state": {"month": "2024-05", "loans": {...}}}`, as
/// `crmt_loan_result_states_jsonl` and the CLI's `loans` command write them; blank lines are
/// skipped, an empty text is no state. `*out` receives a new handle, owned by the caller and
/// released with `crmt_loan_states_free`.
///
/// # Errors
/// - `CRMT_NULL_ARGUMENT` (`data` with a length, `out`), `CRMT_INVALID_UTF8` (`data`).
/// - `CRMT_STATE_ERROR` for a line that is not a loan state, or a customer listed twice: the
///   message names the line (`states line 3: customer `c1` is listed twice`), the details' record
///   is table `states`, row the line (from 1), the customer when known, field `state`.
///
/// # Safety
/// `data` is readable for `len` bytes; `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_states_from_jsonl(
    data: *const u8,
    len: usize,
    out: *mut *mut crmt_loan_states,
) -> crmt_result {
    guard(|| {
        // SAFETY: `data` is NULL or readable for `len` bytes per the contract.
        let text = utf8(unsafe { bytes(data, len, "data", "len") }?, "data")?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let states = read_loan_states(text).map_err(|e| {
            let mut f = Failure::new(crmt_result::CRMT_STATE_ERROR, format!("states {e}")).field("state");
            f.customer = e.customer;
            f.record = Some(Box::new(("states".to_string(), e.line)));
            f
        })?;
        // SAFETY: `out` is writable per the contract.
        unsafe { put_handle(out, crmt_loan_states { states }, "out") }
    })
}

/// How many customers the states hold; 0 when `states` is NULL or not a live handle (then
/// recorded in the error details).
///
/// # Safety
/// `states` is NULL or a live handle. Thread-safe (the handle is immutable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_states_count(states: *const crmt_loan_states) -> usize {
    // SAFETY: per the contract.
    unsafe { read_value(states, "states", 0, |s| s.states.len()) }
}

/// Frees loan states. NULL is ignored. A pointer that is not a live `crmt_loan_states` is
/// refused: nothing is freed, and the thread's error details say why (`CRMT_INVALID_ARGUMENT`,
/// field `states`). Otherwise keeps the error details.
///
/// # Safety
/// No other thread uses `states` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_states_free(states: *mut crmt_loan_states) {
    guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(states, "states") }
    });
}
