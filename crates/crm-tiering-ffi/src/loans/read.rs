//! The readers of a classified loan month: customers, loans and signals as arrays of C structs
//! the result owns, ids and expected losses as text, the next month's states as JSON Lines.

use std::ffi::c_char;

use crm_tiering::write_loan_states;

use super::codes::{crmt_loan_class, crmt_loan_signal_kind, crmt_loan_trend, crmt_loan_upgrade};
use super::evaluate::crmt_loan_result;
use crate::args::write_text;
use crate::boundary::guard;
use crate::buffer::crmt_buffer;
use crate::code::crmt_result;
use crate::details::Failure;
use crate::handle::{handle, put_handle, read_array, read_value};

/// A customer's loan month (SPEC §21.4): its loans are `loans[first_loan ..
/// first_loan + loan_count]` of `crmt_loan_result_loans` (by loan id), its signals
/// `signals[first_signal .. first_signal + signal_count]` of `crmt_loan_result_signals` (by
/// loan id, then number). Its id: `crmt_loan_result_customer_id`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct crmt_loan_customer {
    /// The index of its first loan.
    pub first_loan: usize,
    /// How many loans it has this month (0: its loans all closed).
    pub loan_count: usize,
    /// The index of its first signal.
    pub first_signal: usize,
    /// How many signals it has.
    pub signal_count: usize,
    /// The worst effective class of its loans; `CRMT_LOAN_CLASS_NONE` without loans.
    pub worst: crmt_loan_class,
    /// The worst class against last month's; `CRMT_LOAN_TREND_NONE` without loans.
    pub trend: crmt_loan_trend,
    /// Whether the worst class is non-performing (不良): what the upgrade pause reads.
    pub has_non_performing: bool,
}

/// One loan's classification for the month (SPEC §21.2, §21.3). Its id:
/// `crmt_loan_result_loan_id`; its expected-loss ratio: `crmt_loan_result_expected_loss`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct crmt_loan {
    /// The index of its customer in `crmt_loan_result_customers`.
    pub customer_index: usize,
    /// Days the principal is overdue.
    pub principal_overdue_days: u32,
    /// Days interest is overdue.
    pub interest_overdue_days: u32,
    /// The larger of the two: what the floor reads.
    pub overdue_days: u32,
    /// The regulatory floor from the overdue days.
    pub floor: crmt_loan_class,
    /// The bank's own class.
    pub bank: crmt_loan_class,
    /// The effective class: the worse of floor and bank, held at 次级 while an upgrade out of
    /// non-performing waits for the clean window.
    pub effective: crmt_loan_class,
    /// Whether the loan leaves non-performing this month, or is held.
    pub upgrade: crmt_loan_upgrade,
    /// Consecutive clean months, this month included.
    pub clean_months: u32,
    /// Consecutive clean repayment periods, this month included.
    pub clean_periods: u32,
    /// Whether the bank's class is kinder than the floor.
    pub bank_kinder_than_floor: bool,
    /// Whether the record gave an expected-loss ratio.
    pub has_expected_loss: bool,
}

/// A loan signal with its evidence (SPEC §21.5). `boundary`, `clean_months` and
/// `clean_periods` are `CRMT_LOAN_NO_VALUE` (-1) when the signal has none (the clean counters
/// are given for `CRMT_LOAN_SIGNAL_UPGRADE_HELD_BY_CLEAN_WINDOW` only).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct crmt_loan_signal {
    /// The index of its customer in `crmt_loan_result_customers`.
    pub customer_index: usize,
    /// The index of its loan in `crmt_loan_result_loans`.
    pub loan_index: usize,
    /// What it is about: its stable number (codes: `crmt_loan_signal_kind_code`).
    pub kind: crmt_loan_signal_kind,
    /// The loan's overdue days.
    pub overdue_days: u32,
    /// The day boundary concerned, in days; `CRMT_LOAN_NO_VALUE` when none.
    pub boundary: i64,
    /// The regulatory floor.
    pub floor: crmt_loan_class,
    /// The bank's class.
    pub bank: crmt_loan_class,
    /// The effective class.
    pub effective: crmt_loan_class,
    /// Consecutive clean months so far; `CRMT_LOAN_NO_VALUE` when none.
    pub clean_months: i64,
    /// Consecutive clean repayment periods so far; `CRMT_LOAN_NO_VALUE` when none.
    pub clean_periods: i64,
}

// The layouts the Java binding reads (64-bit targets).
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(std::mem::size_of::<crmt_loan_customer>() == 48);
    assert!(std::mem::offset_of!(crmt_loan_customer, has_non_performing) == 40);
    assert!(std::mem::size_of::<crmt_loan>() == 48);
    assert!(std::mem::offset_of!(crmt_loan, bank_kinder_than_floor) == 44);
    assert!(std::mem::size_of::<crmt_loan_signal>() == 64);
    assert!(std::mem::offset_of!(crmt_loan_signal, clean_months) == 48);
};

/// The month classified, `year * 100 + month`; 0 when `result` is NULL or not a live handle
/// (then recorded in the error details).
///
/// # Safety
/// `result` is NULL or a live handle. Thread-safe (the handle is immutable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_result_month(result: *const crmt_loan_result) -> i32 {
    // SAFETY: per the contract.
    unsafe { read_value(result, "result", 0, |r| i32::try_from(r.month.yyyymm()).unwrap_or(0)) }
}

/// The customers, in id order (bytes), owned by the result; their number into `*count` (when
/// not NULL). NULL and 0 when `result` is NULL or not a live handle (then recorded in the error
/// details).
///
/// # Safety
/// `result` is NULL or a live handle; `count` is NULL or writable. Thread-safe (the handle is
/// immutable); the array lives as long as the result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_result_customers(
    result: *const crmt_loan_result,
    count: *mut usize,
) -> *const crmt_loan_customer {
    // SAFETY: per the contract.
    unsafe { read_array(result, "result", count, |r| &r.customers) }
}

/// Every customer's loans, customer after customer, each customer's by loan id; as
/// `crmt_loan_result_customers`.
///
/// # Safety
/// As `crmt_loan_result_customers`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_result_loans(
    result: *const crmt_loan_result,
    count: *mut usize,
) -> *const crmt_loan {
    // SAFETY: per the contract.
    unsafe { read_array(result, "result", count, |r| &r.loans) }
}

/// Every customer's signals, customer after customer, each customer's by loan id, then number;
/// as `crmt_loan_result_customers`.
///
/// # Safety
/// As `crmt_loan_result_customers`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_result_signals(
    result: *const crmt_loan_result,
    count: *mut usize,
) -> *const crmt_loan_signal {
    // SAFETY: per the contract.
    unsafe { read_array(result, "result", count, |r| &r.signals) }
}

/// The entry at `index` of a list, or an index failure naming the list.
fn at<'a, T>(list: &'a [T], index: usize, what: &str) -> Result<&'a T, Failure> {
    list.get(index).ok_or_else(|| {
        Failure::new(
            crmt_result::CRMT_INDEX_OUT_OF_RANGE,
            format!("index {index} is past the end ({} {what})", list.len()),
        )
        .field("index")
    })
}

/// The core's loan result behind the loan at `index` of `crmt_loan_result_loans`.
fn loan_at(r: &crmt_loan_result, index: usize) -> Result<&crm_tiering::LoanResult, Failure> {
    let c = at(&r.loans, index, "loans")?;
    let customer = at(&r.customers, c.customer_index, "customers")?;
    let outcome = at(&r.outcomes, c.customer_index, "customers")?;
    at(&outcome.loans, index - customer.first_loan, "loans")
}

/// Writes the id of the customer at `index` of `crmt_loan_result_customers` into `buf`. Buffer
/// rules as `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_ARGUMENT` (not a live handle), `CRMT_INDEX_OUT_OF_RANGE`,
/// `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `result` is live; `buf` is NULL or writable for `len` bytes; `written` is NULL or writable.
/// Thread-safe (the handle is immutable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_result_customer_id(
    result: *const crmt_loan_result,
    index: usize,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let r = unsafe { handle(result, "result") }?;
        let outcome = at(&r.outcomes, index, "customers")?;
        // SAFETY: per the contract.
        unsafe { write_text(&outcome.customer_id, buf, len, written) }
    })
}

/// Writes the id of the loan at `index` of `crmt_loan_result_loans` into `buf`. Buffer rules
/// as `crmt_error_message`.
///
/// # Errors
/// As `crmt_loan_result_customer_id`.
///
/// # Safety
/// As `crmt_loan_result_customer_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_result_loan_id(
    result: *const crmt_loan_result,
    index: usize,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let r = unsafe { handle(result, "result") }?;
        let loan = loan_at(r, index)?;
        // SAFETY: per the contract.
        unsafe { write_text(&loan.loan_id, buf, len, written) }
    })
}

/// Writes the expected-loss ratio of the loan at `index` of `crmt_loan_result_loans` into `buf`
/// as decimal text, exactly as given (`"0.35"`); an empty text when the record gave none
/// (`has_expected_loss` false). Buffer rules as `crmt_error_message`.
///
/// # Errors
/// As `crmt_loan_result_customer_id`.
///
/// # Safety
/// As `crmt_loan_result_customer_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_result_expected_loss(
    result: *const crmt_loan_result,
    index: usize,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let r = unsafe { handle(result, "result") }?;
        let text = loan_at(r, index)?.expected_loss.map(|d| d.to_string()).unwrap_or_default();
        // SAFETY: per the contract.
        unsafe { write_text(&text, buf, len, written) }
    })
}

/// The customers' loan states after the month, for the next month's `crmt_loan_states_from_jsonl`,
/// as JSON Lines text (UTF-8) in a new buffer released with `crmt_buffer_free`: one line a
/// customer in id order, `{"customer_id": ..., "state": {...}}`, the core's form (the CLI's
/// `loan-states.jsonl`).
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_ARGUMENT` (not a live handle).
///
/// # Safety
/// `result` is live; `out` is writable. Thread-safe (the handle is immutable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_loan_result_states_jsonl(
    result: *const crmt_loan_result,
    out: *mut *mut crmt_buffer,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let r = unsafe { handle(result, "result") }?;
        let text = write_loan_states(r.outcomes.iter().map(|o| (o.customer_id.as_str(), &o.state)));
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_buffer::new(text.into_bytes()), "out") }
    })
}
