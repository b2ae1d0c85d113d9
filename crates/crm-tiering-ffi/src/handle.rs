//! Handles and the registry of live ones: every handle the library returns is registered with
//! its kind when it is made and unregistered when it is freed, and every entry point looks a
//! handle argument up before it reads it. A freed handle, a double free, a handle of another kind
//! or a pointer the library never returned is refused (`CRMT_INVALID_ARGUMENT`, the parameter
//! named) without its memory being read, so the check holds under AddressSanitizer and valgrind.
//!
//! The limit: an address the allocator reuses for a new handle of the same kind is that new
//! handle (a stale pointer to it cannot be told apart); one reused by a handle of another kind
//! is refused. And the checks do not make the thread rules optional: a handle freed by one thread
//! while another uses it is undefined behaviour, as before.
//!

use crate::boundary::guard_value;
use crate::code::crmt_result;
use crate::details::Failure;
pub(crate) use crate::registry::Kind;
use crate::registry::{is_live, register, unregister};

/// A type the library hands out as an opaque handle.
pub(crate) trait Handle: Sized {
    /// Its kind in the registry.
    const KIND: Kind;
    /// Where the handle may also live, lent read-only by another: inside a handle of this kind,
    /// at this offset (the state of an outcome, `crmt_outcome_state`). Such a pointer may be
    /// read while its owner lives; it is never updated or freed on its own.
    const LENT_BY: Option<(Kind, usize)> = None;
}

// ---- The registry.

/// Why `p` is not a live handle of `T`'s kind (for mutation when `mutable`), naming `name`.
#[cold]
fn not_live<T: Handle>(p: usize, name: &str, mutable: bool) -> Failure {
    let wanted = T::KIND.c_name();
    let message = if let Some(other) = Kind::ALL.into_iter().find(|k| *k != T::KIND && is_live(*k, p)) {
        format!("`{name}` is a live {} handle, not a {wanted}", other.c_name())
    } else if let Some((owner, _)) = T::LENT_BY.filter(|(k, o)| is_live(*k, p.wrapping_sub(*o))) {
        if mutable {
            format!(
                "`{name}` is the {wanted} a {} lends (read-only, freed with it): copy it with the clone function to change or free it",
                owner.c_name()
            )
        } else {
            format!("`{name}` is the {wanted} a {} lends", owner.c_name())
        }
    } else {
        format!("`{name}` is not a live {wanted} handle (freed, or another kind of handle)")
    };
    Failure::new(crmt_result::CRMT_INVALID_ARGUMENT, message).field(name)
}

/// Whether `p` may be read as a `T`: a live handle of its kind, or one lent by a live handle.
#[inline]
fn readable<T: Handle>(p: usize) -> bool {
    is_live(T::KIND, p) || T::LENT_BY.is_some_and(|(owner, offset)| is_live(owner, p.wrapping_sub(offset)))
}

/// The handle `p` for reading: a NULL-argument failure when NULL, an argument failure naming
/// `name` when it is not a live handle of its kind (its memory is not read then).
///
/// # Safety
/// No other thread frees or changes the handle during `'a` (the thread rules).
#[inline]
pub(crate) unsafe fn handle<'a, T: Handle>(p: *const T, name: &str) -> Result<&'a T, Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    if !readable::<T>(p as usize) {
        return Err(not_live::<T>(p as usize, name, false));
    }
    // SAFETY: a live handle of its kind (registered when made, unregistered before it is freed);
    // the caller guarantees no concurrent free or change.
    Ok(unsafe { &*p })
}

/// As [`handle`], NULL giving `None` (the accessors that return a fallback for NULL).
///
/// # Safety
/// As [`handle`].
#[inline]
pub(crate) unsafe fn handle_or_null<'a, T: Handle>(p: *const T, name: &str) -> Result<Option<&'a T>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { handle(p, name) }.map(Some)
}

/// An accessor that returns a value from a handle: `f` of the handle, `fallback` for NULL or for
/// a pointer that is not a live handle (whose failure is recorded). Keeps the thread's error
/// details otherwise; runs inside the panic boundary.
///
/// # Safety
/// As [`handle`].
#[inline]
pub(crate) unsafe fn read_value<T: Handle, V: Copy>(
    p: *const T,
    name: &str,
    fallback: V,
    f: impl FnOnce(&T) -> V,
) -> V {
    // SAFETY: forwarded contract.
    guard_value(fallback, || Ok(unsafe { handle_or_null(p, name) }?.map_or(fallback, f)))
}

/// An accessor that returns an array a handle owns: its start, and its length through `count`
/// (when not NULL); NULL and 0 for NULL or for a pointer that is not a live handle (whose
/// failure is recorded). Keeps the thread's error details otherwise.
///
/// # Safety
/// As [`handle`]; `count` is NULL or writable.
#[inline]
pub(crate) unsafe fn read_array<T: Handle, U>(
    p: *const T,
    name: &str,
    count: *mut usize,
    items: impl FnOnce(&T) -> &[U],
) -> *const U {
    let (start, n) = guard_value((std::ptr::null(), 0), || {
        // SAFETY: forwarded contract.
        Ok(unsafe { handle_or_null(p, name) }?.map_or((std::ptr::null(), 0), |h| {
            let s = items(h);
            (s.as_ptr(), s.len())
        }))
    });
    if !count.is_null() {
        // SAFETY: writable per the caller's contract.
        unsafe { count.write(n) };
    }
    start
}

/// The handle `p` for changing: as [`handle`], and only a handle the caller owns (not one lent
/// by another handle).
///
/// # Safety
/// No other reference to the handle exists during `'a` (the thread rules: one thread at a time,
/// and the same handle not passed twice).
#[inline]
pub(crate) unsafe fn handle_mut<'a, T: Handle>(p: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    if !is_live(T::KIND, p as usize) {
        return Err(not_live::<T>(p as usize, name, true));
    }
    // SAFETY: a live handle of its kind, not aliased per the caller's contract.
    Ok(unsafe { &mut *p })
}

/// Moves `value` to the heap as a new handle, registers it, and stores it through `out`
/// (checked first: nothing is made when `out` is NULL).
///
/// # Safety
/// `out` is NULL or valid for writes.
pub(crate) unsafe fn put_handle<T: Handle>(out: *mut *mut T, value: T, name: &str) -> Result<(), Failure> {
    const { assert!(std::mem::size_of::<T>() > 0, "a handle has an address of its own") };
    if out.is_null() {
        return Err(Failure::null(name));
    }
    let p = Box::into_raw(Box::new(value));
    register(T::KIND, p as usize);
    // SAFETY: non-NULL and writable per the caller's contract.
    unsafe { out.write(p) };
    Ok(())
}

/// Frees the handle `p`: NULL is nothing to do; a pointer that is not a live handle of `T`'s
/// kind (freed already, another kind, lent by another handle) is refused and nothing is freed.
///
/// # Safety
/// No other thread uses the handle during or after the call (the thread rules).
pub(crate) unsafe fn free_handle<T: Handle>(p: *mut T, name: &str) -> Result<(), Failure> {
    if p.is_null() {
        return Ok(());
    }
    // Unregistered before it is freed: the address is never live in the registry while the
    // allocator may hand it out again. Of two threads freeing it at once, one only removes it.
    if !unregister(T::KIND, p as usize) {
        return Err(not_live::<T>(p as usize, name, true));
    }
    // SAFETY: a live handle made by `put_handle` (Box::into_raw), now unregistered: no other
    // call can reach it.
    drop(unsafe { Box::from_raw(p) });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Probe(#[allow(dead_code)] u64);
    impl Handle for Probe {
        const KIND: Kind = Kind::Columns;
    }

    #[test]
    fn a_handle_is_live_from_put_to_free_and_refused_after() {
        let mut p: *mut Probe = std::ptr::null_mut();
        // SAFETY: a valid out-pointer.
        unsafe { put_handle(&mut p, Probe(7), "out") }.unwrap();
        // SAFETY: live, and used by this thread only.
        assert_eq!(unsafe { handle(p, "probe") }.unwrap().0, 7);
        assert!(is_live(Kind::Columns, p as usize) && !is_live(Kind::Extract, p as usize));
        // SAFETY: as above.
        unsafe { free_handle(p, "probe") }.unwrap();
        // SAFETY: the pointer is only looked up, never read.
        let again = unsafe { free_handle(p, "probe") }.unwrap_err();
        assert_eq!(again.code, crmt_result::CRMT_INVALID_ARGUMENT);
        assert_eq!(again.field.as_deref(), Some("probe"));
        assert!(again.message.contains("not a live crmt_columns handle"), "{}", again.message);
        // SAFETY: as above.
        assert!(unsafe { handle(p, "probe") }.is_err());
        // SAFETY: NULL is nothing to free.
        assert!(unsafe { free_handle::<Probe>(std::ptr::null_mut(), "probe") }.is_ok());
    }
}
