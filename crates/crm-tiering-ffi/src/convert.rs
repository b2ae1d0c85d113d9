//! Values crossing out of the library: amounts as fen, tier codes as fixed NUL-terminated fields.

use std::ffi::c_char;

use crm_tiering::{Decimal, TierCode};

use crate::CRMT_NO_AMOUNT;

/// An amount at most two decimals as fen; [`CRMT_NO_AMOUNT`] otherwise.
#[inline]
pub(crate) fn fen(amount: Decimal) -> i64 {
    crm_tiering::to_fen(amount).filter(|v| *v != CRMT_NO_AMOUNT).unwrap_or(CRMT_NO_AMOUNT)
}

/// A code in a fixed NUL-terminated field (empty when none).
#[inline]
/// A measure code as a NUL-terminated field, empty when none.
/// A window's code as a NUL-terminated field, empty for none (the month alone).
pub(crate) fn window_field(window: Option<crm_tiering::Window>) -> [c_char; crate::CRMT_WINDOW_CODE_SIZE] {
    let mut out = [0 as c_char; crate::CRMT_WINDOW_CODE_SIZE];
    if let Some(w) = window {
        let b = w.as_str().as_bytes();
        for (o, b) in out.iter_mut().zip(b.iter().take(crate::CRMT_WINDOW_CODE_SIZE - 1)) {
            *o = *b as c_char;
        }
    }
    out
}

pub(crate) fn measure_field(code: Option<crm_tiering::MeasureCode>) -> [c_char; crate::CRMT_MEASURE_CODE_SIZE] {
    let mut out = [0 as c_char; crate::CRMT_MEASURE_CODE_SIZE];
    if let Some(c) = code {
        let b = c.as_str().as_bytes();
        let n = b.len().min(crate::CRMT_MEASURE_CODE_LEN);
        for (o, b) in out.iter_mut().zip(b.iter().take(n)) {
            *o = *b as c_char;
        }
    }
    out
}

pub(crate) fn code_field(code: Option<TierCode>) -> [c_char; crate::CRMT_CODE_SIZE] {
    let mut out = [0 as c_char; crate::CRMT_CODE_SIZE];
    if let Some(c) = code {
        let b = c.as_str().as_bytes();
        let n = b.len().min(crate::CRMT_CODE_LEN);
        for (o, b) in out[..n].iter_mut().zip(&b[..n]) {
            *o = *b as c_char;
        }
    }
    out
}
