//! The result of a batch (`crmt_batch`): events, alerts, AUMs and the customers in error as flat
//! arrays, filled by the engine through a sink and reused month after month.

use std::borrow::BorrowMut;
use std::ffi::c_char;

use crm_tiering::{Alert, BatchSink, Decimal, Event, TieringError};

use crate::args::write_text;
use crate::boundary::{guard, guard_keep};
use crate::code::crmt_result;
use crate::convert::fen;
use crate::details::Failure;
use crate::event::{alert_struct, crmt_alert, crmt_event, event_struct};
use crate::handle::{Handle, Kind, free_handle, handle, read_array, read_value};

/// The result of a batch: events, alerts and AUMs as flat arrays, and the customers in error.
/// Not synchronized; released with `crmt_batch_free`.
#[derive(Default)]
pub struct crmt_batch {
    events: Vec<crmt_event>,
    alerts: Vec<crmt_alert>,
    aums: Vec<i64>,
    /// The customers in error, in customer order.
    pub(super) errors: Vec<(u32, Failure)>,
    /// Emptied per-thread results of the last parallel batch, whose memory the next one reuses.
    pub(super) spare: Vec<crmt_batch>,
}

impl Handle for crmt_batch {
    const KIND: Kind = Kind::Batch;
}

impl crmt_batch {
    pub(super) fn clear(&mut self) {
        self.events.clear();
        self.alerts.clear();
        self.aums.clear();
        self.errors.clear();
    }

    /// Moves a part's results to the end of this one's, keeping the part's memory for reuse.
    pub(super) fn append(&mut self, mut part: crmt_batch) {
        self.events.extend_from_slice(&part.events);
        self.alerts.extend_from_slice(&part.alerts);
        self.aums.extend_from_slice(&part.aums);
        self.errors.append(&mut part.errors);
        part.clear();
        self.spare.push(part);
    }
}

/// Receives the engine's results for the customers of a batch and writes them, already in
/// their C layout, into a result's arrays (the caller's handle, or one thread's part of it).
///
/// The engine reports indices relative to the slice it was given: `base` makes them the
/// batch's. A customer whose record could not be read (`rejected`) reaches the engine as a
/// placeholder whose input fails; its error is replaced by the record's own failure.
pub(super) struct Collect<'r, B> {
    pub(super) out: B,
    pub(super) base: u32,
    pub(super) rejected: &'r [(u32, Failure)],
}

impl<B: BorrowMut<crmt_batch>> BatchSink for Collect<'_, B> {
    #[inline]
    fn event(&mut self, index: u32, event: &Event) {
        self.out.borrow_mut().events.push(event_struct(self.base + index, event));
    }

    #[inline]
    fn alert(&mut self, index: u32, alert: &Alert) {
        self.out.borrow_mut().alerts.push(alert_struct(self.base + index, alert));
    }

    #[inline]
    fn evaluated(&mut self, _index: u32, aum: Decimal, _state: &crm_tiering::CustomerState) {
        self.out.borrow_mut().aums.push(fen(aum));
    }

    fn error(&mut self, index: u32, error: TieringError) {
        let index = self.base + index;
        let failure = match self.rejected.binary_search_by_key(&index, |(i, _)| *i) {
            Ok(k) => self.rejected[k].1.clone(),
            Err(_) => Failure::from(error),
        };
        let out = self.out.borrow_mut();
        out.aums.push(0);
        out.errors.push((index, failure));
    }
}

/// The batch's events, `*count` plain structs in customer order, owned by the batch (valid
/// until `crmt_batch_free`); NULL and 0 when `batch` is NULL or not a live handle
/// (then recorded in the error details).
///
/// # Safety
/// `batch` is NULL or live; `count` is NULL or writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_events(batch: *const crmt_batch, count: *mut usize) -> *const crmt_event {
    // SAFETY: per the contract.
    unsafe { read_array(batch, "batch", count, |b| &b.events) }
}

/// The batch's alerts, `*count` plain structs in customer order, owned by the batch.
///
/// # Safety
/// `batch` is NULL or live; `count` is NULL or writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_alerts(batch: *const crmt_batch, count: *mut usize) -> *const crmt_alert {
    // SAFETY: per the contract.
    unsafe { read_array(batch, "batch", count, |b| &b.alerts) }
}

/// The month's AUM of each customer in fen (0 for customers in error), `*count` entries owned
/// by the batch.
///
/// # Safety
/// `batch` is NULL or live; `count` is NULL or writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_aums_fen(batch: *const crmt_batch, count: *mut usize) -> *const i64 {
    // SAFETY: per the contract.
    unsafe { read_array(batch, "batch", count, |b| &b.aums) }
}

/// The number of customers in error; 0 when `batch` is NULL or not a live handle
/// (then recorded in the error details).
///
/// # Safety
/// `batch` is NULL or live. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_error_count(batch: *const crmt_batch) -> usize {
    // SAFETY: per the contract.
    unsafe { read_value(batch, "batch", 0, |b| b.errors.len()) }
}

/// The `k`-th customer in error (in customer order): its index in the batch and its code.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE` when `k >= crmt_batch_error_count`.
///
/// # Safety
/// `batch` is live; `customer_index` and `code` are writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_error_at(
    batch: *const crmt_batch,
    k: usize,
    customer_index: *mut u32,
    code: *mut crmt_result,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let b = unsafe { handle(batch, "batch") }?;
        let (i, f) = b.errors.get(k).ok_or_else(|| {
            Failure::new(
                crmt_result::CRMT_INDEX_OUT_OF_RANGE,
                format!("error {k} is past the end ({} errors)", b.errors.len()),
            )
            .field("k")
        })?;
        // SAFETY: per the contract.
        unsafe {
            crate::args::put(customer_index, *i, "customer_index")?;
            crate::args::put(code, f.code, "code")
        }
    })
}

/// The error of customer `customer_index` of a batch; `None` when the customer has none.
fn error_of(b: &crmt_batch, customer_index: u32) -> Option<&Failure> {
    b.errors.binary_search_by_key(&customer_index, |(i, _)| *i).ok().map(|k| &b.errors[k].1)
}

fn write_error(
    batch: *const crmt_batch,
    customer_index: u32,
    pick: impl FnOnce(&Failure) -> Option<&str>,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    if batch.is_null() {
        return crmt_result::CRMT_NULL_ARGUMENT;
    }
    guard_keep(|| {
        // SAFETY: the exported callers' contract.
        let b = unsafe { handle(batch, "batch") }?;
        let text = error_of(b, customer_index).and_then(pick).unwrap_or("");
        // SAFETY: the exported callers' contract.
        match unsafe { write_text(text, buf, len, written) } {
            Ok(()) => Ok(crmt_result::CRMT_OK),
            // A buffer too small keeps the details, as every reader of text.
            Err(f) if f.code == crmt_result::CRMT_BUFFER_TOO_SMALL => Ok(f.code),
            Err(f) => Err(f),
        }
    })
}

/// Writes the error message of customer `customer_index` (naming the customer, month and
/// field); empty when that customer has no error. Buffer rules as `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `batch` is live; `buf` is NULL or writable for `len` bytes; `written` NULL or writable.
/// Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_error_message(
    batch: *const crmt_batch,
    customer_index: u32,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    write_error(batch, customer_index, |f| Some(&f.message), buf, len, written)
}

/// Writes the field the error of customer `customer_index` is about (a component code, `aum`,
/// `month`, `state`, `id`, `kind` ...); empty when none. Buffer rules as `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `crmt_batch_error_message`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_error_field(
    batch: *const crmt_batch,
    customer_index: u32,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    write_error(batch, customer_index, |f| f.field.as_deref(), buf, len, written)
}

/// The month (`year * 100 + month`) the error of customer `customer_index` is about; 0 when
/// none.
///
/// # Safety
/// `batch` is NULL or live. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_error_month(batch: *const crmt_batch, customer_index: u32) -> i32 {
    // SAFETY: per the contract.
    unsafe { read_value(batch, "batch", 0, |b| error_of(b, customer_index).map_or(0, |f| f.month)) }
}

/// Frees a batch result. NULL is ignored. A pointer that is not a live `crmt_batch` (freed already,
/// another kind of handle) is refused: nothing is freed, and the thread's error details say why
/// (`CRMT_INVALID_ARGUMENT`, field `batch`). Otherwise keeps the error details, so a caller may
/// free its handles before reading why a call failed.
///
/// # Safety
/// No other thread uses `batch` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_free(batch: *mut crmt_batch) {
    crate::boundary::guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(batch, "batch") }
    });
}
