//! The library-owned buffer (`crmt_buffer`): serialized states, JSON renderings, stored text.

use crate::args::free_box;
use crate::boundary::guard_value;

/// Bytes owned by the library: a serialized state, a JSON rendering, a rule book.
///
/// Read with `crmt_buffer_data` and `crmt_buffer_len`; release with `crmt_buffer_free`.
/// The data is followed by a NUL byte (not counted in the length), so text can be read as a C
/// string.
pub struct crmt_buffer {
    bytes: Vec<u8>,
}

impl crmt_buffer {
    pub(crate) fn new(mut bytes: Vec<u8>) -> Self {
        bytes.push(0);
        crmt_buffer { bytes }
    }
}

/// The buffer's bytes (followed by a NUL); NULL when `buffer` is NULL. Owned by the buffer.
///
/// # Safety
/// `buffer` is NULL or a live buffer. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_buffer_data(buffer: *const crmt_buffer) -> *const u8 {
    // SAFETY: NULL or live per the contract.
    match unsafe { buffer.as_ref() } {
        Some(b) => b.bytes.as_ptr(),
        None => std::ptr::null(),
    }
}

/// The buffer's length in bytes, without the trailing NUL; 0 when `buffer` is NULL.
///
/// # Safety
/// `buffer` is NULL or a live buffer. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_buffer_len(buffer: *const crmt_buffer) -> usize {
    // SAFETY: NULL or live per the contract.
    match unsafe { buffer.as_ref() } {
        Some(b) => b.bytes.len().saturating_sub(1),
        None => 0,
    }
}

/// Frees a buffer. NULL is ignored; freeing twice is undefined behaviour.
///
/// # Safety
/// `buffer` is NULL or a buffer returned by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_buffer_free(buffer: *mut crmt_buffer) {
    guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_box(buffer) };
        Ok(())
    });
}
