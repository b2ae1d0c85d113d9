//! Result codes and error details.

use std::cell::RefCell;
use std::ffi::{c_char, c_int};

use crm_tiering::TieringError;

use crate::ffi::{guard_keep, write_str};

/// The result of a call. The values are stable: new codes may be added, none renumbered.
///
/// 1 to 9 are argument errors found at the boundary; 10 to 13 are the engine's error
/// categories (rules, input, sequence, state); 20 and up are about buffers and indexes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_result {
    /// Success.
    CRMT_OK = 0,
    /// A required pointer argument was NULL.
    CRMT_NULL_ARGUMENT = 1,
    /// A string or byte argument was not valid UTF-8.
    CRMT_INVALID_UTF8 = 2,
    /// An amount was not a plain decimal number.
    CRMT_INVALID_AMOUNT = 3,
    /// A month was not a valid `year * 100 + month`.
    CRMT_INVALID_MONTH = 4,
    /// Another argument was out of its documented range (a kind, a length, an offset).
    CRMT_INVALID_ARGUMENT = 5,
    /// The rule book is invalid, or no rule set applies to the customer.
    CRMT_RULES_ERROR = 10,
    /// A customer's input for the month is invalid.
    CRMT_INPUT_ERROR = 11,
    /// A month was evaluated out of order for the customer (repeated, earlier or skipped).
    CRMT_SEQUENCE_ERROR = 12,
    /// A stored state is malformed, of another schema version, or unusable with the rules.
    CRMT_STATE_ERROR = 13,
    /// A portfolio run was refused as a whole (nothing evaluated, states unchanged): every
    /// reason is in the result handle (`crmt_portfolio_result_errors`), the first in the
    /// thread's error details.
    CRMT_PORTFOLIO_REFUSED = 14,
    /// The caller's buffer is too small; the needed length was written.
    CRMT_BUFFER_TOO_SMALL = 20,
    /// An index was past the end.
    CRMT_INDEX_OUT_OF_RANGE = 21,
    /// A customer id was looked up that the portfolio does not hold.
    CRMT_NOT_FOUND = 22,
    /// An internal error: a Rust panic was caught at the boundary (the default panic hook
    /// also prints it to stderr). Please report it. The handles passed to the failed call are
    /// still valid and may be freed; a state or batch it was updating may be half-updated.
    CRMT_PANIC = 99,
}

impl crmt_result {
    const ALL: [crmt_result; 15] = [
        crmt_result::CRMT_OK,
        crmt_result::CRMT_NULL_ARGUMENT,
        crmt_result::CRMT_INVALID_UTF8,
        crmt_result::CRMT_INVALID_AMOUNT,
        crmt_result::CRMT_INVALID_MONTH,
        crmt_result::CRMT_INVALID_ARGUMENT,
        crmt_result::CRMT_RULES_ERROR,
        crmt_result::CRMT_INPUT_ERROR,
        crmt_result::CRMT_SEQUENCE_ERROR,
        crmt_result::CRMT_STATE_ERROR,
        crmt_result::CRMT_PORTFOLIO_REFUSED,
        crmt_result::CRMT_BUFFER_TOO_SMALL,
        crmt_result::CRMT_INDEX_OUT_OF_RANGE,
        crmt_result::CRMT_NOT_FOUND,
        crmt_result::CRMT_PANIC,
    ];

    fn from_int(value: c_int) -> Option<Self> {
        Self::ALL.into_iter().find(|r| *r as c_int == value)
    }

    fn name(self) -> &'static str {
        match self {
            crmt_result::CRMT_OK => "CRMT_OK\0",
            crmt_result::CRMT_NULL_ARGUMENT => "CRMT_NULL_ARGUMENT\0",
            crmt_result::CRMT_INVALID_UTF8 => "CRMT_INVALID_UTF8\0",
            crmt_result::CRMT_INVALID_AMOUNT => "CRMT_INVALID_AMOUNT\0",
            crmt_result::CRMT_INVALID_MONTH => "CRMT_INVALID_MONTH\0",
            crmt_result::CRMT_INVALID_ARGUMENT => "CRMT_INVALID_ARGUMENT\0",
            crmt_result::CRMT_RULES_ERROR => "CRMT_RULES_ERROR\0",
            crmt_result::CRMT_INPUT_ERROR => "CRMT_INPUT_ERROR\0",
            crmt_result::CRMT_SEQUENCE_ERROR => "CRMT_SEQUENCE_ERROR\0",
            crmt_result::CRMT_STATE_ERROR => "CRMT_STATE_ERROR\0",
            crmt_result::CRMT_PORTFOLIO_REFUSED => "CRMT_PORTFOLIO_REFUSED\0",
            crmt_result::CRMT_NOT_FOUND => "CRMT_NOT_FOUND\0",
            crmt_result::CRMT_BUFFER_TOO_SMALL => "CRMT_BUFFER_TOO_SMALL\0",
            crmt_result::CRMT_INDEX_OUT_OF_RANGE => "CRMT_INDEX_OUT_OF_RANGE\0",
            crmt_result::CRMT_PANIC => "CRMT_PANIC\0",
        }
    }

    fn description(self) -> &'static str {
        match self {
            crmt_result::CRMT_OK => "success",
            crmt_result::CRMT_NULL_ARGUMENT => "a required argument was null",
            crmt_result::CRMT_INVALID_UTF8 => "a text argument was not valid utf-8",
            crmt_result::CRMT_INVALID_AMOUNT => "an amount was not a plain decimal number",
            crmt_result::CRMT_INVALID_MONTH => "a month was not a valid year * 100 + month",
            crmt_result::CRMT_INVALID_ARGUMENT => "an argument was out of its documented range",
            crmt_result::CRMT_RULES_ERROR => "the rule book is invalid or has no rule set for the customer",
            crmt_result::CRMT_INPUT_ERROR => "a customer's input for the month is invalid",
            crmt_result::CRMT_SEQUENCE_ERROR => "a month was evaluated out of order for a customer",
            crmt_result::CRMT_STATE_ERROR => "a stored state cannot be used",
            crmt_result::CRMT_PORTFOLIO_REFUSED => "the portfolio run was refused as a whole",
            crmt_result::CRMT_NOT_FOUND => "no such customer",
            crmt_result::CRMT_BUFFER_TOO_SMALL => "the buffer is too small",
            crmt_result::CRMT_INDEX_OUT_OF_RANGE => "an index was past the end",
            crmt_result::CRMT_PANIC => "internal error (a panic was caught at the library boundary)",
        }
    }
}

/// A failure's details: the code, a message, and the customer, month and field it is about.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) code: crmt_result,
    pub(crate) message: String,
    pub(crate) customer: Option<String>,
    pub(crate) month: i32,
    pub(crate) field: Option<String>,
    /// The record (table, row) it is about.
    pub(crate) record: Option<Box<(String, u64)>>,
    /// The other record, for a duplicate.
    pub(crate) other_record: Option<Box<(String, u64)>>,
}

impl Failure {
    pub(crate) fn new(code: crmt_result, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            customer: None,
            month: 0,
            field: None,
            record: None,
            other_record: None,
        }
    }

    pub(crate) fn null(name: &str) -> Self {
        Failure::new(crmt_result::CRMT_NULL_ARGUMENT, format!("`{name}` must not be null")).field(name)
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub(crate) fn customer(mut self, customer: impl Into<String>) -> Self {
        self.customer = Some(customer.into());
        self
    }

    pub(crate) fn month(mut self, yyyymm: i32) -> Self {
        self.month = yyyymm;
        self
    }
}

impl From<TieringError> for Failure {
    fn from(e: TieringError) -> Self {
        let code = match e {
            TieringError::Rules(_) => crmt_result::CRMT_RULES_ERROR,
            TieringError::Input(_) => crmt_result::CRMT_INPUT_ERROR,
            TieringError::Sequence(_) => crmt_result::CRMT_SEQUENCE_ERROR,
            TieringError::State(_) => crmt_result::CRMT_STATE_ERROR,
        };
        // A state error names the state when it is about no particular field of it.
        let field = e.field().or(matches!(e, TieringError::State(_)).then_some("state")).filter(|f| !f.is_empty());
        Failure {
            code,
            message: e.to_string(),
            customer: e.customer().map(str::to_string),
            month: e.month().map_or(0, |m| i32::try_from(m.yyyymm()).unwrap_or(0)),
            field: field.map(str::to_string),
            record: None,
            other_record: None,
        }
    }
}

thread_local! {
    static LAST: RefCell<Option<Failure>> = const { RefCell::new(None) };
}

pub(crate) fn clear_last_error() {
    let _ = LAST.try_with(|l| l.borrow_mut().take());
}

pub(crate) fn set_last_error(f: Failure) {
    let _ = LAST.try_with(|l| *l.borrow_mut() = Some(f));
}

fn with_last<T>(f: impl FnOnce(Option<&Failure>) -> T) -> T {
    // Only fails during thread teardown; callers run inside a panic boundary.
    LAST.with(|l| f(l.borrow().as_ref()))
}

/// The name of a result code, such as `"CRMT_INPUT_ERROR"`: a static string, never freed;
/// `"CRMT_UNKNOWN"` for a value that is not a code.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_result_name(result: c_int) -> *const c_char {
    match crmt_result::from_int(result) {
        Some(r) => r.name().as_ptr().cast(),
        None => c"CRMT_UNKNOWN".as_ptr(),
    }
}

/// Writes the general description of a result code (not of a particular failure: see
/// `crmt_last_error_message`) into `buf`.
///
/// `buf` receives at most `len` bytes, NUL-terminated; `*written` (when not NULL) receives the
/// description's full length in bytes without the NUL.
///
/// # Errors
/// `CRMT_BUFFER_TOO_SMALL` when the text and its NUL do not fit (the buffer then holds the
/// truncated text). Keeps the thread's error details.
///
/// # Safety
/// `buf` is NULL or writable for `len` bytes; `written` is NULL or writable.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_error_message(
    result: c_int,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    let text = crmt_result::from_int(result).map_or("unknown result code", crmt_result::description);
    // SAFETY: forwarded contract.
    guard_keep(|| match unsafe { write_str(text, buf, len, written) } {
        crmt_result::CRMT_OK => Ok(()),
        other => Err(other),
    })
}

/// The result code of the calling thread's last failed call; `CRMT_OK` when the last call
/// succeeded.
///
/// Thread-safe: each thread has its own details.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_last_error_code() -> crmt_result {
    crate::ffi::guard_value(crmt_result::CRMT_PANIC, || with_last(|l| l.map_or(crmt_result::CRMT_OK, |f| f.code)))
}

fn write_last(
    pick: impl FnOnce(&Failure) -> Option<&str>,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard_keep(|| {
        with_last(|l| {
            let text = l.and_then(pick).unwrap_or("");
            // SAFETY: forwarded contract of the exported callers.
            match unsafe { write_str(text, buf, len, written) } {
                crmt_result::CRMT_OK => Ok(()),
                other => Err(other),
            }
        })
    })
}

/// Writes the message of the calling thread's last failed call (lowercase, naming the
/// customer, month and field, such as "invalid input for customer `c1`, month 2024-03, field
/// `time_deposit`: ..."); an empty string when the last call succeeded.
///
/// Buffer rules as `crmt_error_message`. Keeps the details, so they can be read field by field.
///
/// # Errors
/// `CRMT_BUFFER_TOO_SMALL` when the text and its NUL do not fit.
///
/// # Safety
/// `buf` is NULL or writable for `len` bytes; `written` is NULL or writable.
/// Thread-safe: each thread has its own details.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_last_error_message(buf: *mut c_char, len: usize, written: *mut usize) -> crmt_result {
    write_last(|f| Some(&f.message), buf, len, written)
}

/// Writes the customer id the calling thread's last failure is about; empty when none.
///
/// Buffer rules as `crmt_error_message`.
///
/// # Errors
/// `CRMT_BUFFER_TOO_SMALL` when the text and its NUL do not fit.
///
/// # Safety
/// `buf` is NULL or writable for `len` bytes; `written` is NULL or writable.
/// Thread-safe: each thread has its own details.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_last_error_customer(buf: *mut c_char, len: usize, written: *mut usize) -> crmt_result {
    write_last(|f| f.customer.as_deref(), buf, len, written)
}

/// Writes the field the calling thread's last failure is about: a component code, `aum`,
/// `special.tier`, `month`, `tier` (a state's tier the rules lack), `state`, a rule file path
/// such as `rule_sets[0].versions[0].tiers`, or an argument name; empty when none.
///
/// Buffer rules as `crmt_error_message`.
///
/// # Errors
/// `CRMT_BUFFER_TOO_SMALL` when the text and its NUL do not fit.
///
/// # Safety
/// `buf` is NULL or writable for `len` bytes; `written` is NULL or writable.
/// Thread-safe: each thread has its own details.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_last_error_field(buf: *mut c_char, len: usize, written: *mut usize) -> crmt_result {
    write_last(|f| f.field.as_deref(), buf, len, written)
}

/// The month (`year * 100 + month`) the calling thread's last failure is about; 0 when none.
///
/// Thread-safe: each thread has its own details.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_last_error_month() -> i32 {
    crate::ffi::guard_value(0, || with_last(|l| l.map_or(0, |f| f.month)))
}

fn write_record(
    pick: impl FnOnce(&Failure) -> Option<&Box<(String, u64)>>,
    row: *mut u64,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard_keep(|| {
        with_last(|l| {
            let (table, r) = l.and_then(pick).map_or(("", 0), |b| (b.0.as_str(), b.1));
            if !row.is_null() {
                // SAFETY: forwarded contract of the exported callers.
                unsafe { row.write(r) };
            }
            // SAFETY: forwarded contract of the exported callers.
            match unsafe { write_str(table, buf, len, written) } {
                crmt_result::CRMT_OK => Ok(()),
                other => Err(other),
            }
        })
    })
}

/// The record the calling thread's last failure is about: `*row` (when not NULL) receives its
/// row and `buf` its table (as the caller named it: `states` for stored states, whose rows are
/// 1-based lines); an empty table and row 0 when none.
///
/// Buffer rules as `crmt_error_message`.
///
/// # Errors
/// `CRMT_BUFFER_TOO_SMALL` when the table name and its NUL do not fit.
///
/// # Safety
/// `row` is NULL or writable; `buf` is NULL or writable for `len` bytes; `written` is NULL or
/// writable. Thread-safe: each thread has its own details.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_last_error_record(
    row: *mut u64,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    write_record(|f| f.record.as_ref(), row, buf, len, written)
}

/// For a duplicate, the other (first) record the calling thread's last failure names; as
/// `crmt_last_error_record`.
///
/// # Errors
/// `CRMT_BUFFER_TOO_SMALL` when the table name and its NUL do not fit.
///
/// # Safety
/// As `crmt_last_error_record`. Thread-safe: each thread has its own details.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_last_error_other_record(
    row: *mut u64,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    write_record(|f| f.other_record.as_ref(), row, buf, len, written)
}

/// Raises a Rust panic inside the panic boundary, for an embedder's tests of its error
/// handling: returns `CRMT_PANIC` with details like any failure. Never unwinds into the caller.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_selftest_panic() -> crmt_result {
    #[allow(clippy::panic)]
    crate::ffi::guard(|| panic!("self-test panic requested by the caller"))
}
