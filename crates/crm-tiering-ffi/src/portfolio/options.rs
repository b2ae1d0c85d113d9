//! The options of a portfolio evaluation by key (`crmt_options`): every option the core has
//! (`absent`, `rule_book_change`, `threads`, `allow_empty_month`, `empty_entities`,
//! `catch_up`, ...), read by the core's one parser, so a key means the same here as in the CLI,
//! Python and the conformance vectors, and a new option needs no new C type.

use std::ffi::c_char;

use crm_tiering::portfolio::{OptionError, PortfolioOptions};

use crate::args::c_str;
use crate::boundary::guard;
use crate::code::crmt_result;
use crate::details::Failure;
use crate::handle::{Handle, Kind, free_handle, handle_mut, put_handle};

/// Options of `crmt_evaluate_portfolio_with_options`, set by key. Made by `crmt_options_new`
/// (the defaults), changed by `crmt_options_set`, released by `crmt_options_free`. Not
/// synchronized while it is changed; it may be shared by concurrent evaluations once set.
pub struct crmt_options {
    pub(crate) options: PortfolioOptions,
}

impl Handle for crmt_options {
    const KIND: Kind = Kind::Options;
}

/// The failure of an option the core refuses: an argument error on the option's key.
pub(crate) fn option_failure(e: OptionError) -> Failure {
    let key = e.key.clone();
    Failure::new(crmt_result::CRMT_INVALID_ARGUMENT, e.to_string()).field(&key)
}

/// New options with the defaults (absent customers at zero AUM, states of another rule book
/// refused, one thread, an empty month refused, no legal entity declared empty, a regular run).
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_options_new(out: *mut *mut crmt_options) -> crmt_result {
    // SAFETY: per the contract.
    guard(|| unsafe { put_handle(out, crmt_options { options: PortfolioOptions::default() }, "out") })
}

/// Sets one option from its text: `key` and `value` are NUL-terminated UTF-8, as every surface
/// gives them (`"absent"` / `"hold"`, `"allow_empty_month"` / `"true"`, `"empty_entities"` /
/// `"620101,620102"`, `"catch_up"` / `"true"`, `"threads"` / `"2"`).
///
/// # Errors
/// `CRMT_INVALID_ARGUMENT` for an unknown key or a value the key does not take (the details'
/// field is the key, the message the core's); the options are unchanged then.
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8`.
///
/// # Safety
/// `options` is live; `key` and `value` are NUL-terminated strings. Not synchronized: one thread
/// at a time, and not while an evaluation uses the options.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_options_set(
    options: *mut crmt_options,
    key: *const c_char,
    value: *const c_char,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let o = unsafe { handle_mut(options, "options") }?;
        // SAFETY: per the contract.
        let (k, v) = unsafe { (c_str(key, "key")?, c_str(value, "value")?) };
        let mut changed = o.options.clone();
        changed.set(k, v).map_err(option_failure)?;
        o.options = changed;
        Ok(())
    })
}

/// Frees options. NULL is ignored; a pointer that is not a live `crmt_options` frees nothing
/// (recorded in the error details).
///
/// # Safety
/// `options` is NULL or live, and no evaluation uses it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_options_free(options: *mut crmt_options) {
    crate::boundary::guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(options, "options") }
    });
}
