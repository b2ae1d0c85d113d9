//! The boundary: the panic guard, pointer and string checks, and the library-owned buffer.

use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crm_tiering::{Decimal, TierCode};

use crate::CRMT_NO_AMOUNT;
use crate::error::{Failure, clear_last_error, crmt_result, set_last_error};

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

/// A non-NULL reference, or a NULL-argument failure naming the parameter.
///
/// # Safety
/// `p` is NULL or points to a valid `T` for the duration of the call.
pub(crate) unsafe fn arg<'a, T>(p: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: the caller guarantees `p` is NULL or valid.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(name))
}

/// A non-NULL mutable reference, or a NULL-argument failure naming the parameter.
///
/// # Safety
/// `p` is NULL or points to a valid `T` not aliased for the duration of the call.
pub(crate) unsafe fn arg_mut<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: the caller guarantees `p` is NULL or valid and unaliased.
    unsafe { p.as_mut() }.ok_or_else(|| Failure::null(name))
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the duration of the call.
pub(crate) unsafe fn c_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    utf8(bytes, name)
}

/// An optional NUL-terminated UTF-8 string argument (NULL: none).
///
/// # Safety
/// As [`c_str`].
pub(crate) unsafe fn c_str_opt<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { c_str(p, name) }.map(Some)
}

/// A `(pointer, length)` byte argument; NULL is accepted only with length 0.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes.
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize, name: &str) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return if len == 0 { Ok(&[]) } else { Err(Failure::null(name)) };
    }
    // SAFETY: non-NULL and `len` readable bytes per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A slice argument of `len` elements; NULL is accepted only with length 0.
///
/// # Safety
/// `p` is NULL or points to `len` readable elements.
pub(crate) unsafe fn slice<'a, T>(p: *const T, len: usize, name: &str) -> Result<&'a [T], Failure> {
    if p.is_null() {
        return if len == 0 { Ok(&[]) } else { Err(Failure::null(name)) };
    }
    // SAFETY: non-NULL and `len` readable elements per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// UTF-8 text, or an invalid-UTF-8 failure naming the parameter.
pub(crate) fn utf8<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            crmt_result::CRMT_INVALID_UTF8,
            format!("`{name}` is not valid UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        )
        .field(name)
    })
}

/// Stores `value` through an out-pointer, failing on NULL.
///
/// # Safety
/// `out` is NULL or valid for writes.
pub(crate) unsafe fn put<T>(out: *mut T, value: T, name: &str) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and writable per the caller's contract.
    unsafe { out.write(value) };
    Ok(())
}

/// Moves `value` to the heap and stores the handle through `out`.
///
/// # Safety
/// `out` is NULL or valid for writes.
pub(crate) unsafe fn put_box<T>(out: *mut *mut T, value: T, name: &str) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and writable per the caller's contract.
    unsafe { out.write(Box::into_raw(Box::new(value))) };
    Ok(())
}

/// Frees a handle made by [`put_box`]; NULL is ignored.
///
/// # Safety
/// `p` is NULL or a handle from `put_box` not freed before.
pub(crate) unsafe fn free_box<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: the caller passes a live handle made by Box::into_raw.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Writes `s` and a NUL into `buf` (`len` bytes); `*written` receives the full length of `s`
/// in bytes (without the NUL) when not NULL.
///
/// Returns [`crmt_result::CRMT_BUFFER_TOO_SMALL`] when `s` and its NUL do not fit: the buffer
/// then holds as much of `s` as fits, cut at a character boundary, NUL-terminated.
///
/// # Safety
/// `buf` is NULL or writable for `len` bytes; `written` is NULL or writable.
pub(crate) unsafe fn write_str(s: &str, buf: *mut c_char, len: usize, written: *mut usize) -> crmt_result {
    if !written.is_null() {
        // SAFETY: non-NULL and writable per the caller's contract.
        unsafe { written.write(s.len()) };
    }
    if buf.is_null() || len == 0 {
        return if s.is_empty() && !buf.is_null() { crmt_result::CRMT_OK } else { crmt_result::CRMT_BUFFER_TOO_SMALL };
    }
    let mut n = s.len().min(len - 1);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: `buf` is writable for `len > n` bytes and does not overlap `s`.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), n);
        buf.add(n).write(0);
    }
    if n < s.len() { crmt_result::CRMT_BUFFER_TOO_SMALL } else { crmt_result::CRMT_OK }
}

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
        unsafe { free_box(buffer) }
    });
}

/// An amount at most two decimals as fen; [`CRMT_NO_AMOUNT`] otherwise.
#[inline]
pub(crate) fn fen(amount: Decimal) -> i64 {
    crm_tiering::to_fen(amount).filter(|v| *v != CRMT_NO_AMOUNT).unwrap_or(CRMT_NO_AMOUNT)
}

/// A code in a fixed NUL-terminated field (empty when none).
#[inline]
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
