//! The panic boundary around every exported function: the guards that clear or keep the
//! thread's error details, record a failure, and turn a panic into `CRMT_PANIC`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::code::crmt_result;
use crate::details::{Failure, clear_last_error, set_last_error};

/// Runs `f` inside the panic boundary: clears the thread's error details, records new ones on
/// failure, and turns a panic into [`crmt_result::CRMT_PANIC`].
pub(crate) fn guard(f: impl FnOnce() -> Result<(), Failure>) -> crmt_result {
    clear_last_error();
    let outcome = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_string());
        Err(Failure::new(crmt_result::CRMT_PANIC, format!("internal error (caught a panic): {what}")))
    });
    match outcome {
        Ok(()) => crmt_result::CRMT_OK,
        Err(failure) => {
            let code = failure.code;
            set_last_error(failure);
            code
        }
    }
}

/// Like [`guard`], for accessors that must keep the thread's error details.
pub(crate) fn guard_keep(f: impl FnOnce() -> Result<(), crmt_result>) -> crmt_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => crmt_result::CRMT_OK,
        Ok(Err(code)) => code,
        Err(_) => crmt_result::CRMT_PANIC,
    }
}

/// Runs an infallible accessor inside a panic boundary, with a fallback value.
pub(crate) fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}
