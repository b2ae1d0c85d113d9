//! Rule books: loaded from TOML or JSON bytes, immutable, shared by threads.

use std::ffi::c_int;

use crm_tiering::{Engine, EngineOptions, MissingMonths, RuleBook};

use crate::args::{bytes, utf8};
use crate::boundary::guard;
use crate::buffer::crmt_buffer;
use crate::code::crmt_result;
use crate::details::Failure;
use crate::handle::{Handle, Kind, free_handle, handle, put_handle};

/// A validated rule book with its engine options. Immutable: share it freely between threads.
pub struct crmt_rulebook {
    pub(crate) engine: Engine,
}

impl Handle for crmt_rulebook {
    const KIND: Kind = Kind::Rulebook;
}

/// What to do when a customer's months skip one (values of `crmt_rulebook_with_missing_months`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_missing_months {
    /// A gap is a `CRMT_SEQUENCE_ERROR` (default).
    CRMT_MISSING_MONTHS_ERROR = 0,
    /// Each missing month is evaluated with zero AUM.
    CRMT_MISSING_MONTHS_TREAT_AS_ZERO = 1,
}

fn load(
    data: *const u8,
    len: usize,
    out: *mut *mut crmt_rulebook,
    parse: fn(&str) -> Result<RuleBook, crm_tiering::TieringError>,
) -> crmt_result {
    guard(|| {
        // SAFETY: `data` is NULL or readable for `len` bytes per the exported functions' contract.
        let text = utf8(unsafe { bytes(data, len, "data", "len") }?, "data")?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let book = parse(text)?;
        // SAFETY: `out` is writable per the contract.
        unsafe { put_handle(out, crmt_rulebook { engine: Engine::new(book) }, "out") }
    })
}

/// Loads and validates a rule book from TOML text (`len` bytes of UTF-8, no NUL needed).
///
/// On success `*out` receives a new handle, owned by the caller and released with
/// `crmt_rulebook_free`. Months gaps are errors; see `crmt_rulebook_with_missing_months`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8`, or `CRMT_RULES_ERROR` with the offending field
/// (`crmt_last_error_field`) and line in the message.
///
/// # Safety
/// `data` is readable for `len` bytes; `out` is writable.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_rulebook_from_toml(
    data: *const u8,
    len: usize,
    out: *mut *mut crmt_rulebook,
) -> crmt_result {
    load(data, len, out, RuleBook::from_toml_str)
}

/// Loads and validates a rule book from JSON text, as `crmt_rulebook_from_toml`.
///
/// # Errors
/// As `crmt_rulebook_from_toml`.
///
/// # Safety
/// `data` is readable for `len` bytes; `out` is writable.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_rulebook_from_json(
    data: *const u8,
    len: usize,
    out: *mut *mut crmt_rulebook,
) -> crmt_result {
    load(data, len, out, RuleBook::from_json_str)
}

/// The default rule book of `rules-spec/default-rules.toml` (金卡 200000, 白金卡 500000,
/// 钻石卡 1000000, 私行级 3000000). Released with `crmt_rulebook_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT` when `out` is NULL.
///
/// # Safety
/// `out` is writable.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_rulebook_default(out: *mut *mut crmt_rulebook) -> crmt_result {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let book = RuleBook::default_book()?;
        // SAFETY: `out` is writable per the contract.
        unsafe { put_handle(out, crmt_rulebook { engine: Engine::new(book) }, "out") }
    })
}

/// A new handle with the same rules and another policy for skipped months
/// (`crmt_missing_months` values). The original handle is unchanged.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, or `CRMT_INVALID_ARGUMENT` for an unknown `mode`.
///
/// # Safety
/// `book` is a live rule book; `out` is writable.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_rulebook_with_missing_months(
    book: *const crmt_rulebook,
    mode: c_int,
    out: *mut *mut crmt_rulebook,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let book = unsafe { handle(book, "book") }?;
        let missing_months = match mode {
            0 => MissingMonths::Error,
            1 => MissingMonths::TreatAsZero,
            other => {
                return Err(Failure::new(
                    crmt_result::CRMT_INVALID_ARGUMENT,
                    format!("`mode` must be 0 (error) or 1 (treat as zero), got {other}"),
                )
                .field("mode"));
            }
        };
        let engine = Engine::with_options(book.engine.rule_book().clone(), EngineOptions { missing_months });
        // SAFETY: `out` is writable per the contract.
        unsafe { put_handle(out, crmt_rulebook { engine }, "out") }
    })
}

/// The rule book as JSON (the same form `crmt_rulebook_from_json` reads), in a new buffer
/// released with `crmt_buffer_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `book` is a live rule book; `out` is writable.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_rulebook_to_json(book: *const crmt_rulebook, out: *mut *mut crmt_buffer) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let book = unsafe { handle(book, "book") }?;
        let json = book.engine.rule_book().to_json();
        // SAFETY: `out` is writable per the contract.
        unsafe { put_handle(out, crmt_buffer::new(json.into_bytes()), "out") }
    })
}

/// Frees a rule book. NULL is ignored. No other thread may use it any more. A pointer that is not a
/// live `crmt_rulebook` (freed already, another kind of handle) is refused: nothing is freed, and
/// the thread's error details say why (`CRMT_INVALID_ARGUMENT`, field `book`). Otherwise keeps the
/// error details, so a caller may free its handles before reading why a call failed.
///
/// # Safety
/// No other thread uses `book` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_rulebook_free(book: *mut crmt_rulebook) {
    crate::boundary::guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(book, "book") }
    });
}
