//! The library-owned buffer (`crmt_buffer`): serialized states, JSON renderings, stored text.

use crate::boundary::guard_value;
use crate::handle::{Handle, Kind, free_handle, read_value};

/// Bytes owned by the library: a serialized state, a JSON rendering, a rule book.
///
/// Read with `crmt_buffer_data` and `crmt_buffer_len`; release with `crmt_buffer_free`.
/// The data is followed by a NUL byte (not counted in the length), so text can be read as a C
/// string.
pub struct crmt_buffer {
    bytes: Vec<u8>,
}

impl Handle for crmt_buffer {
    const KIND: Kind = Kind::Buffer;
}

impl crmt_buffer {
    pub(crate) fn new(mut bytes: Vec<u8>) -> Self {
        bytes.push(0);
        crmt_buffer { bytes }
    }
}

/// The buffer's bytes (followed by a NUL), owned by the buffer; NULL when `buffer` is NULL or not
/// a live handle (then recorded in the error details).
///
/// # Safety
/// `buffer` is NULL or a live buffer. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_buffer_data(buffer: *const crmt_buffer) -> *const u8 {
    // SAFETY: per the contract.
    unsafe { read_value(buffer, "buffer", std::ptr::null(), |b| b.bytes.as_ptr()) }
}

/// The buffer's length in bytes, without the trailing NUL; 0 when `buffer` is NULL or not a live
/// handle (then recorded in the error details).
///
/// # Safety
/// `buffer` is NULL or a live buffer. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_buffer_len(buffer: *const crmt_buffer) -> usize {
    // SAFETY: per the contract.
    unsafe { read_value(buffer, "buffer", 0, |b| b.bytes.len().saturating_sub(1)) }
}

/// Frees a buffer. NULL is ignored. A pointer that is not a live `crmt_buffer` (freed already,
/// another kind of handle) is refused: nothing is freed, and the thread's error details say why
/// (`CRMT_INVALID_ARGUMENT`, field `buffer`). Otherwise keeps the error details, so a caller may
/// free its handles before reading why a call failed.
///
/// # Safety
/// No other thread uses `buffer` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_buffer_free(buffer: *mut crmt_buffer) {
    guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(buffer, "buffer") }
    });
}
