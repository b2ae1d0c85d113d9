//! The readers of a computed contribution month: customers and account managers by index,
//! their figures in fen, the unassigned figures, and the whole month as JSON.

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use crm_tiering_contribution::Figures;

use super::compute::crmt_contribution;
use crate::args::{put, write_text};
use crate::boundary::{guard, guard_value};
use crate::buffer::crmt_buffer;
use crate::code::crmt_result;
use crate::convert::fen;
use crate::details::Failure;
use crate::handle::{handle, put_handle, read_value};

/// How many figures a `crmt_contribution_figures` holds: the seven components and the net.
pub const CRMT_CONTRIBUTION_FIGURES: usize = 8;

const _: () = assert!(CRMT_CONTRIBUTION_FIGURES == Figures::NAMES.len());

/// A set of contribution figures (a customer's, a manager's, the unassigned customers') in fen
/// (`int64_t` minor units: 164027 is 1640.27), in the order of their names:
/// `fen[i]` is the figure `crmt_contribution_figure_name(i)` names (`interest_asset`,
/// `interest_liability`, `fees`, `allocated_costs`, `direct_costs`, `risk_cost`,
/// `capital_charge`, `net_contribution`, SPEC §20.4: costs positive, the net income less
/// costs). The names are the library's, the columns of every other output, never restated.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct crmt_contribution_figures {
    /// The figures, in fen, in the order of `crmt_contribution_figure_name`.
    pub fen: [i64; CRMT_CONTRIBUTION_FIGURES],
}

impl From<&Figures> for crmt_contribution_figures {
    fn from(f: &Figures) -> Self {
        crmt_contribution_figures { fen: f.values().map(fen) }
    }
}

/// The figures' names as C strings, made once.
fn names() -> &'static [CString] {
    static NAMES: OnceLock<Vec<CString>> = OnceLock::new();
    NAMES.get_or_init(|| Figures::NAMES.iter().filter_map(|n| CString::new(*n).ok()).collect())
}

/// The name of figure `index` of a `crmt_contribution_figures` (`"interest_asset"` for 0 ...
/// `"net_contribution"` for 7): a static string, never freed; NULL for an index from
/// `CRMT_CONTRIBUTION_FIGURES` on.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_contribution_figure_name(index: usize) -> *const c_char {
    guard_value(std::ptr::null(), || Ok(names().get(index).map_or(std::ptr::null(), |n| n.as_ptr())))
}

/// The month computed, `year * 100 + month`; 0 when `contribution` is NULL or not a live handle
/// (then recorded in the error details).
///
/// # Safety
/// `contribution` is NULL or a live contribution month. Thread-safe (the handle is immutable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_contribution_month(contribution: *const crmt_contribution) -> i32 {
    // SAFETY: per the contract.
    unsafe { read_value(contribution, "contribution", 0, |c| i32::try_from(c.result.month.yyyymm()).unwrap_or(0)) }
}

/// How many customers the month has (each with an account-month); 0 when `contribution` is NULL
/// or not a live handle (then recorded in the error details). Customers are in id order (bytes).
///
/// # Safety
/// `contribution` is NULL or a live contribution month. Thread-safe (the handle is immutable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_contribution_customer_count(contribution: *const crmt_contribution) -> usize {
    // SAFETY: per the contract.
    unsafe { read_value(contribution, "contribution", 0, |c| c.result.customers.len()) }
}

/// How many account managers have a share of a customer; 0 when `contribution` is NULL or not
/// a live handle (then recorded in the error details). Managers are in id order (bytes).
///
/// # Safety
/// `contribution` is NULL or a live contribution month. Thread-safe (the handle is immutable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_contribution_manager_count(contribution: *const crmt_contribution) -> usize {
    // SAFETY: per the contract.
    unsafe { read_value(contribution, "contribution", 0, |c| c.result.managers.len()) }
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

/// Writes the id of the customer at `index` (from 0, in id order) into `buf`. Buffer rules as
/// `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_ARGUMENT` (not a live handle), `CRMT_INDEX_OUT_OF_RANGE`,
/// `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `contribution` is live; `buf` is NULL or writable for `len` bytes; `written` is NULL or
/// writable. Thread-safe (the handle is immutable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_contribution_customer_id(
    contribution: *const crmt_contribution,
    index: usize,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let c = unsafe { handle(contribution, "contribution") }?;
        let customer = at(&c.result.customers, index, "customers")?;
        // SAFETY: per the contract.
        unsafe { write_text(&customer.customer, buf, len, written) }
    })
}

/// The figures of the customer at `index` (from 0, in id order), in fen, into `*out`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_ARGUMENT` (not a live handle), `CRMT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
/// `contribution` is live; `out` is writable. Thread-safe (the handle is immutable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_contribution_customer_figures(
    contribution: *const crmt_contribution,
    index: usize,
    out: *mut crmt_contribution_figures,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let c = unsafe { handle(contribution, "contribution") }?;
        let customer = at(&c.result.customers, index, "customers")?;
        // SAFETY: per the contract.
        unsafe { put(out, (&customer.figures).into(), "out") }
    })
}

/// Writes the id of the account manager at `index` (from 0, in id order) into `buf`. Buffer
/// rules as `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_ARGUMENT` (not a live handle), `CRMT_INDEX_OUT_OF_RANGE`,
/// `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `crmt_contribution_customer_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_contribution_manager_id(
    contribution: *const crmt_contribution,
    index: usize,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let c = unsafe { handle(contribution, "contribution") }?;
        let manager = at(&c.result.managers, index, "managers")?;
        // SAFETY: per the contract.
        unsafe { write_text(&manager.manager, buf, len, written) }
    })
}

/// The roll-up of the account manager at `index` (from 0, in id order, SPEC §20.6): into
/// `*customers` (when not NULL) how many customers it has a share of, into `*out` its figures
/// in fen (each customer's components split by the manager's share, the net from them).
///
/// # Errors
/// `CRMT_NULL_ARGUMENT` (`contribution`, `out`), `CRMT_INVALID_ARGUMENT` (not a live handle),
/// `CRMT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
/// `contribution` is live; `customers` is NULL or writable; `out` is writable. Thread-safe (the
/// handle is immutable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_contribution_manager_figures(
    contribution: *const crmt_contribution,
    index: usize,
    customers: *mut usize,
    out: *mut crmt_contribution_figures,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let c = unsafe { handle(contribution, "contribution") }?;
        let manager = at(&c.result.managers, index, "managers")?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        if !customers.is_null() {
            // SAFETY: writable per the contract.
            unsafe { customers.write(manager.customers) };
        }
        // SAFETY: per the contract.
        unsafe { put(out, (&manager.figures).into(), "out") }
    })
}

/// The figures of the customers without an account manager (`unassigned`, SPEC §20.6: the
/// managers plus these are the customers), in fen, into `*out`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_ARGUMENT` (not a live handle).
///
/// # Safety
/// `contribution` is live; `out` is writable. Thread-safe (the handle is immutable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_contribution_unassigned(
    contribution: *const crmt_contribution,
    out: *mut crmt_contribution_figures,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let c = unsafe { handle(contribution, "contribution") }?;
        // SAFETY: per the contract.
        unsafe { put(out, (&c.result.unassigned).into(), "out") }
    })
}

/// The whole month as JSON text (UTF-8) in a new buffer released with `crmt_buffer_free`: every
/// output of SPEC §20.6 (`month`, `customers`, `managers`, `unassigned`, `branches`,
/// `legal_entities`, `stages`, `lineage`), each entry keyed by its output columns, amounts,
/// rates and quantities as decimal texts (exact; never JSON numbers), what a line lacks as
/// `null`. The form is the contribution crate's (`Contribution::to_json`), the same for every
/// binding.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_ARGUMENT` (not a live handle).
///
/// # Safety
/// `contribution` is live; `out` is writable. Thread-safe (the handle is immutable).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_contribution_to_json(
    contribution: *const crmt_contribution,
    out: *mut *mut crmt_buffer,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let c = unsafe { handle(contribution, "contribution") }?;
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_buffer::new(c.result.to_json().into_bytes()), "out") }
    })
}
