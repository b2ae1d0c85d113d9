//! The exported readers of result codes and of the thread's error details, and the panic
//! self-test.

use std::ffi::{c_char, c_int};

use crate::args::{MAX_BYTES, write_str};
use crate::boundary::{guard, guard_details};
use crate::code::crmt_result;
use crate::details::{Failure, with_last};

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
    guard_details(crmt_result::CRMT_PANIC, || unsafe { write_str(text, buf, len, written) })
}

/// The result code of the calling thread's last failed call; `CRMT_OK` when the last call
/// succeeded.
///
/// Thread-safe: each thread has its own details.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_last_error_code() -> crmt_result {
    guard_details(crmt_result::CRMT_PANIC, || with_last(|l| l.map_or(crmt_result::CRMT_OK, |f| f.code)))
}

fn write_last(
    pick: impl FnOnce(&Failure) -> Option<&str>,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard_details(crmt_result::CRMT_PANIC, || {
        with_last(|l| {
            let text = l.and_then(pick).unwrap_or("");
            // SAFETY: forwarded contract of the exported callers.
            unsafe { write_str(text, buf, len, written) }
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
    guard_details(0, || with_last(|l| l.map_or(0, |f| f.month)))
}

fn write_record(
    pick: impl FnOnce(&Failure) -> Option<&Box<(String, u64)>>,
    row: *mut u64,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard_details(crmt_result::CRMT_PANIC, || {
        with_last(|l| {
            let (table, r) = l.and_then(pick).map_or(("", 0), |b| (b.0.as_str(), b.1));
            // An impossible length writes nothing, the row included.
            if len > MAX_BYTES {
                return crmt_result::CRMT_INVALID_ARGUMENT;
            }
            if !row.is_null() {
                // SAFETY: forwarded contract of the exported callers.
                unsafe { row.write(r) };
            }
            // SAFETY: forwarded contract of the exported callers.
            unsafe { write_str(table, buf, len, written) }
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
/// handling: returns `CRMT_PANIC` with details like any failure (the message, "self-test panic
/// requested by the caller", and its source location). Never unwinds into the caller and prints
/// nothing on stderr.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_selftest_panic() -> crmt_result {
    #[allow(clippy::panic)]
    guard(|| panic!("self-test panic requested by the caller"))
}
