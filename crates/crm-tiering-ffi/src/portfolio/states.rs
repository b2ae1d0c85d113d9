//! A portfolio's stored states keyed by customer id (`crmt_portfolio`): made new, read from and
//! written to checked text, looked up by id or index, and built customer by customer when a core
//! system migrates its own store.

use std::ffi::c_char;

use crm_tiering::portfolio::PortfolioStates;
use crm_tiering::{CustomerKind, CustomerRef};

use crate::args::{bytes, c_str, c_str_opt, put, write_text};
use crate::boundary::guard;
use crate::buffer::crmt_buffer;
use crate::code::crmt_result;
use crate::details::Failure;
use crate::evaluate::{CRMT_KIND_CORPORATE, CRMT_KIND_PERSONAL};
use crate::handle::{Handle, Kind, free_handle, handle, handle_mut, put_handle, read_value};
use crate::portfolio::report::{category_code, record_failure};
use crate::rulebook::crmt_rulebook;
use crate::state::{crmt_state_info, info, parse_state};

/// A portfolio's stored states, keyed by customer id: each customer's id, legal entity, kind and
/// state, in a stable order (stored customers first, new customers appended in record order),
/// and the fingerprint of the rule book that last wrote them. Customer indices never change
/// (customers are only appended). Not synchronized; released with `crmt_portfolio_free`.
pub struct crmt_portfolio {
    pub(crate) states: PortfolioStates,
}

impl Handle for crmt_portfolio {
    const KIND: Kind = Kind::Portfolio;
}

/// A stored customer: its index in the portfolio, its kind and its state's figures. The id and
/// legal entity are read with `crmt_portfolio_customer_id` / `_legal_entity`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_portfolio_entry {
    /// The customer's index in the portfolio (stable).
    pub index: usize,
    /// `CRMT_KIND_PERSONAL` or `CRMT_KIND_CORPORATE`.
    pub kind: u32,
    /// The state: status, tier, effective tier, last month and the rest.
    pub state: crmt_state_info,
}

fn kind_code(kind: CustomerKind) -> u32 {
    match kind {
        CustomerKind::Personal => CRMT_KIND_PERSONAL,
        CustomerKind::Corporate => CRMT_KIND_CORPORATE,
    }
}

fn entry(p: &PortfolioStates, index: usize) -> Result<crmt_portfolio_entry, Failure> {
    let (c, s) = p.customer(index).zip(p.states().get(index)).ok_or_else(|| {
        Failure::new(
            crmt_result::CRMT_INDEX_OUT_OF_RANGE,
            format!("index {index} is past the end ({} customers)", p.len()),
        )
        .field("index")
    })?;
    Ok(crmt_portfolio_entry { index, kind: kind_code(c.kind), state: info(s) })
}

/// An empty portfolio (no customers, written by no rule book yet). Released with
/// `crmt_portfolio_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_new(out: *mut *mut crmt_portfolio) -> crmt_result {
    // SAFETY: per the contract.
    guard(|| unsafe { put_handle(out, crmt_portfolio { states: PortfolioStates::new() }, "out") })
}

/// Reads a portfolio's stored states from the checked text written by `crmt_portfolio_to_text`
/// (a header line, one JSON line per customer with its id, and a trailer with the count and a
/// SHA-256): text cut at any byte (a line end included), altered, or holding an id twice is
/// refused. Released with `crmt_portfolio_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8`, `CRMT_STATE_ERROR` (truncated, altered, a line
/// that is not a state, a duplicate id) or `CRMT_INPUT_ERROR` (an unusable id). The details
/// name the line: `crmt_last_error_record` gives table `states` and the 1-based line, and for
/// a duplicate `crmt_last_error_other_record` the line of the first one.
///
/// # Safety
/// `data` is readable for `len` bytes; `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_from_text(
    data: *const u8,
    len: usize,
    out: *mut *mut crmt_portfolio,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let data = unsafe { bytes(data, len, "data", "len") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let text = crate::args::utf8(data, "data")?;
        let states = PortfolioStates::from_jsonl(text, "states")
            .map_err(|e| record_failure(category_code(&e.error), &e, e.to_string()))?;
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_portfolio { states }, "out") }
    })
}

/// Writes the portfolio as checked text (see `crmt_portfolio_from_text`), stamped with `book`'s
/// fingerprint, into a new buffer released with `crmt_buffer_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `portfolio` and `book` are live; `out` is writable. Not synchronized (`portfolio`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_to_text(
    portfolio: *const crmt_portfolio,
    book: *const crmt_rulebook,
    out: *mut *mut crmt_buffer,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let (p, b) = unsafe { (handle(portfolio, "portfolio")?, handle(book, "book")?) };
        let text = p.states.to_jsonl(b.engine.rule_book());
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_buffer::new(text.into_bytes()), "out") }
    })
}

/// The number of customers; 0 when `portfolio` is NULL or not a live handle
/// (then recorded in the error details).
///
/// # Safety
/// `portfolio` is NULL or live. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_len(portfolio: *const crmt_portfolio) -> usize {
    // SAFETY: per the contract.
    unsafe { read_value(portfolio, "portfolio", 0, |p| p.states.len()) }
}

/// Adds a customer with its stored state (bytes as `crmt_state_to_bytes` writes them; empty for
/// a new customer), as a core system migrating its own store builds a portfolio. `legal_entity`
/// may be NULL or empty (none); `kind` is `CRMT_KIND_PERSONAL` or `CRMT_KIND_CORPORATE`.
/// `*index` (when not NULL) receives the customer's index.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8`, `CRMT_INVALID_ARGUMENT` (kind),
/// `CRMT_INPUT_ERROR` (an unusable id: empty, control characters, leading or trailing spaces,
/// longer than 64 bytes), `CRMT_STATE_ERROR` (a state that cannot be read, or the id is already
/// there). Nothing is added on error.
///
/// # Safety
/// `portfolio` is live; `id` is a NUL-terminated string; `legal_entity` is NULL or one;
/// `state` is readable for `state_len` bytes; `index` is NULL or writable. Not synchronized.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_insert(
    portfolio: *mut crmt_portfolio,
    id: *const c_char,
    legal_entity: *const c_char,
    kind: u32,
    state: *const u8,
    state_len: usize,
    index: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let p = unsafe { handle_mut(portfolio, "portfolio") }?;
        // SAFETY: per the contract.
        let (id, entity) = unsafe { (c_str(id, "id")?, c_str_opt(legal_entity, "legal_entity")?) };
        let kind = crate::evaluate::customer_kind(kind, id)?;
        // SAFETY: per the contract.
        let st = parse_state(unsafe { bytes(state, state_len, "state", "state_len") }?, "state")?;
        let customer = CustomerRef { id, legal_entity: entity.filter(|e| !e.is_empty()), kind };
        let i = p.states.insert(customer, st.state).map_err(Failure::from)?;
        if !st.history.is_empty() {
            p.states.set_history(i, &st.history).map_err(Failure::from)?;
        }
        if !index.is_null() {
            // SAFETY: per the contract.
            unsafe { put(index, i, "index") }?;
        }
        Ok(())
    })
}

/// Finds a customer by id: `*out` receives its index, kind and state.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8`, `CRMT_NOT_FOUND` when the portfolio does not hold
/// the id (`*out` unchanged).
///
/// # Safety
/// `portfolio` is live; `id` is a NUL-terminated string; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_find(
    portfolio: *const crmt_portfolio,
    id: *const c_char,
    out: *mut crmt_portfolio_entry,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let (p, id) = unsafe { (handle(portfolio, "portfolio")?, c_str(id, "id")?) };
        let i = p.states.index_of(id).ok_or_else(|| {
            Failure::new(crmt_result::CRMT_NOT_FOUND, format!("the portfolio holds no customer `{id}`"))
                .customer(id)
                .field("customer_id")
        })?;
        // SAFETY: per the contract.
        unsafe { put(out, entry(&p.states, i)?, "out") }
    })
}

/// The customer at `index` (0 to `crmt_portfolio_len - 1`, in portfolio order): `*out` receives
/// its index, kind and state.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
/// `portfolio` is live; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_entry_at(
    portfolio: *const crmt_portfolio,
    index: usize,
    out: *mut crmt_portfolio_entry,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let p = unsafe { handle(portfolio, "portfolio") }?;
        // SAFETY: per the contract.
        unsafe { put(out, entry(&p.states, index)?, "out") }
    })
}

fn write_at(
    portfolio: *const crmt_portfolio,
    index: usize,
    pick: impl for<'c> FnOnce(CustomerRef<'c>) -> &'c str,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: the exported callers' contract.
        let p = unsafe { handle(portfolio, "portfolio") }?;
        let c = p.states.customer(index).ok_or_else(|| {
            Failure::new(
                crmt_result::CRMT_INDEX_OUT_OF_RANGE,
                format!("index {index} is past the end ({} customers)", p.states.len()),
            )
            .field("index")
        })?;
        // SAFETY: the exported callers' contract.
        unsafe { write_text(pick(c), buf, len, written) }
    })
}

/// Writes the id of the customer at `index`. Buffer rules as `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `portfolio` is live; `buf` is NULL or writable for `len` bytes; `written` is NULL or
/// writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_customer_id(
    portfolio: *const crmt_portfolio,
    index: usize,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    write_at(portfolio, index, |c| c.id, buf, len, written)
}

/// Writes the legal entity of the customer at `index` (empty when none). Buffer rules as
/// `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `crmt_portfolio_customer_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_legal_entity(
    portfolio: *const crmt_portfolio,
    index: usize,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    write_at(portfolio, index, |c| c.legal_entity.unwrap_or(""), buf, len, written)
}

/// Serializes the state of the customer at `index` (as `crmt_state_to_bytes`) into a new
/// buffer released with `crmt_buffer_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
/// `portfolio` is live; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_state_bytes(
    portfolio: *const crmt_portfolio,
    index: usize,
    out: *mut *mut crmt_buffer,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let p = unsafe { handle(portfolio, "portfolio") }?;
        entry(&p.states, index)?;
        let json = p.states.states()[index].to_json_with_history(&p.states.history(index));
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_buffer::new(json.into_bytes()), "out") }
    })
}

/// Writes the fingerprint of the rule book that last wrote the states (empty when none has:
/// a new portfolio, or one built with `crmt_portfolio_insert`). Buffer rules as
/// `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `portfolio` is live; `buf` is NULL or writable for `len` bytes; `written` is NULL or
/// writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_rule_book(
    portfolio: *const crmt_portfolio,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let p = unsafe { handle(portfolio, "portfolio") }?;
        // SAFETY: per the contract.
        unsafe { write_text(p.states.rule_book().unwrap_or(""), buf, len, written) }
    })
}

/// Writes the rule book's fingerprint (what stored states are stamped with). Buffer rules as
/// `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `book` is live; `buf` is NULL or writable for `len` bytes; `written` is NULL or writable.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_rulebook_fingerprint(
    book: *const crmt_rulebook,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let b = unsafe { handle(book, "book") }?;
        // SAFETY: per the contract.
        unsafe { write_text(b.engine.rule_book().fingerprint(), buf, len, written) }
    })
}

/// Frees a portfolio. NULL is ignored. A pointer that is not a live `crmt_portfolio` (freed
/// already, another kind of handle) is refused: nothing is freed, and the thread's error details
/// say why (`CRMT_INVALID_ARGUMENT`, field `portfolio`). Otherwise keeps the error details, so a
/// caller may free its handles before reading why a call failed.
///
/// # Safety
/// No other thread uses `portfolio` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_free(portfolio: *mut crmt_portfolio) {
    crate::boundary::guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(portfolio, "portfolio") }
    });
}
