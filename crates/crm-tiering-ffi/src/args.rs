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

/// The most bytes an argument may span: `isize::MAX` (the bound of every Rust slice and
/// allocation), and on a 64-bit target 2^57 bytes (128 PiB), more than the address space any
/// 64-bit platform gives a process (at most 2^56 bytes of user space, with 5-level paging): a
/// larger size cannot be a real array, whatever the pointer (tagged pointers included).
#[cfg(target_pointer_width = "64")]
pub(crate) const MAX_BYTES: usize = 1 << 57;
#[cfg(not(target_pointer_width = "64"))]
pub(crate) const MAX_BYTES: usize = isize::MAX as usize;

/// The size in bytes of `len` elements of `T`, when an argument can span it (at most
/// [`MAX_BYTES`]); an argument failure naming `len_name` (the count or length parameter)
/// otherwise. Checked before anything is read or reserved.
pub(crate) fn byte_size<T>(len: usize, name: &str, len_name: &str) -> Result<usize, Failure> {
    match len.checked_mul(std::mem::size_of::<T>()) {
        Some(size) if size <= MAX_BYTES => Ok(size),
        _ => Err(Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!(
                "`{len_name}` is {len}: {len} elements of {} bytes for `{name}` are more than any array can hold",
                std::mem::size_of::<T>()
            ),
        )
        .field(len_name)),
    }
}

/// A `(pointer, length)` byte argument; NULL is accepted only with length 0. `len_name` names
/// the length parameter in an error.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes.
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize, name: &str, len_name: &str) -> Result<&'a [u8], Failure> {
    // SAFETY: forwarded contract.
    unsafe { slice(p, len, name, len_name) }
}

/// A slice argument of `len` elements; NULL is accepted only with length 0. The length is
/// checked first (an impossible size is an argument failure naming `len_name`), then the
/// pointer (aligned for `T`, the range inside the address space): never a slice that
/// `slice::from_raw_parts` forbids.
///
/// # Safety
/// `p` is NULL or points to `len` readable elements.
pub(crate) unsafe fn slice<'a, T>(p: *const T, len: usize, name: &str, len_name: &str) -> Result<&'a [T], Failure> {
    let size = byte_size::<T>(len, name, len_name)?;
    if p.is_null() {
        return if len == 0 { Ok(&[]) } else { Err(Failure::null(name)) };
    }
    if !p.is_aligned() || (p as usize).checked_add(size).is_none() {
        return Err(Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!("`{name}` ({p:p}) is not aligned for its type, or {len} elements from it leave the address space"),
        )
        .field(name));
    }
    // SAFETY: non-NULL, aligned, at most isize::MAX bytes inside the address space, and `len`
    // readable elements per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A writable slice argument of `len` elements; as [`slice()`].
///
/// # Safety
/// `p` is NULL or points to `len` writable elements, not aliased during `'a`.
pub(crate) unsafe fn slice_mut<'a, T>(
    p: *mut T,
    len: usize,
    name: &str,
    len_name: &str,
) -> Result<&'a mut [T], Failure> {
    // SAFETY: forwarded contract: the checks of `slice` hold for the same pointer and length.
    let checked = unsafe { slice(p.cast_const(), len, name, len_name) }?;
    let len = checked.len();
    if len == 0 {
        return Ok(&mut []);
    }
    // SAFETY: checked as a slice above; writable and unaliased per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, len) })
}

/// A vector with room for `len` elements, reserved fallibly: a count too large to allocate is an
/// argument failure naming `len_name`, never an abort.
pub(crate) fn vec_for<T>(len: usize, name: &str, len_name: &str) -> Result<Vec<T>, Failure> {
    byte_size::<T>(len, name, len_name)?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!("`{len_name}` is {len}: cannot allocate that many for `{name}`"),
        )
        .field(len_name)
    })?;
    Ok(v)
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
/// then holds as much of `s` as fits, cut at a character boundary, NUL-terminated; and
/// [`crmt_result::CRMT_INVALID_ARGUMENT`], writing nothing, for a `len` no buffer can have (more
/// than [`MAX_BYTES`]).
///
/// # Safety
/// `buf` is NULL or writable for `len` bytes; `written` is NULL or writable.
pub(crate) unsafe fn write_str(s: &str, buf: *mut c_char, len: usize, written: *mut usize) -> crmt_result {
    if len > MAX_BYTES {
        return crmt_result::CRMT_INVALID_ARGUMENT;
    }
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

/// [`write_str`] for the calls that record their failures: the code's failure, naming the
/// parameter (`len` for an impossible length, `buf` for a buffer too small).
///
/// # Safety
/// As [`write_str`].
pub(crate) unsafe fn write_text(s: &str, buf: *mut c_char, len: usize, written: *mut usize) -> Result<(), Failure> {
    // SAFETY: forwarded contract.
    match unsafe { write_str(s, buf, len, written) } {
        crmt_result::CRMT_OK => Ok(()),
        crmt_result::CRMT_INVALID_ARGUMENT => Err(Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!("`len` is {len}: no buffer has that many bytes"),
        )
        .field("len")),
        code => Err(Failure::new(
            code,
            format!("the buffer of {len} bytes cannot hold the text ({} bytes) and its NUL", s.len()),
        )
        .field("buf")),
    }
}
