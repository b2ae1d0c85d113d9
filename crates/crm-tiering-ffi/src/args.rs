//! The caller's arguments: pointers, NUL-terminated strings, `(pointer, length)` slices, UTF-8
//! text, out-pointers and the caller's text buffers (`write_str`).

use std::ffi::{CStr, c_char};

use crate::code::crmt_result;
use crate::details::Failure;

/// A non-NULL reference, or a NULL-argument failure naming the parameter.
///
/// # Safety
/// `p` is NULL or points to a valid `T` for the duration of the call.
pub(crate) unsafe fn arg<'a, T>(p: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: the caller guarantees `p` is NULL or valid.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(name))
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
