//! An alert's severity (SPEC §11.1) for C: the stable `crmt_severity` enum, the severity of a
//! `crmt_alert` by the core's rule (`Alert::severity`, never restated here), and the severity's
//! code and Chinese name, which are the core's (`Severity::as_str`, `Severity::name_zh`).

use std::ffi::{CString, c_char, c_int};
use std::sync::OnceLock;

use crm_tiering::{Alert, AlertKind, Month, Severity};

use crate::boundary::guard;
use crate::code::crmt_result;
use crate::details::Failure;
use crate::event::{alert_kind, crmt_alert, crmt_alert_kind, text_table};

/// How soon an account manager must act on an alert (SPEC §11.1), valued by its place in a
/// work-list, most urgent first: the core's `Severity::rank` (codes: `crmt_severity_code`).
/// The values are stable.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_severity {
    /// high (高): act this month.
    CRMT_SEVERITY_HIGH = 0,
    /// medium (中): act soon.
    CRMT_SEVERITY_MEDIUM = 1,
    /// low (低): worth a call.
    CRMT_SEVERITY_LOW = 2,
}

// The kind field of a `crmt_alert` is read as the `int` C writes there.
const _: () = assert!(std::mem::size_of::<crmt_alert_kind>() == std::mem::size_of::<c_int>());

#[inline]
fn severity(s: Severity) -> crmt_severity {
    match s {
        Severity::High => crmt_severity::CRMT_SEVERITY_HIGH,
        Severity::Medium => crmt_severity::CRMT_SEVERITY_MEDIUM,
        Severity::Low => crmt_severity::CRMT_SEVERITY_LOW,
    }
}

/// The core's alert kind of a C value, by the ABI's own mapping (`event::alert_kind`).
fn kind_of(value: c_int) -> Option<AlertKind> {
    AlertKind::ALL.iter().copied().find(|k| alert_kind(*k) as c_int == value)
}

/// The core's months left of a C count: -1 is none; any other negative count is no count.
fn months_left_of(value: i32) -> Result<Option<u32>, Failure> {
    match value {
        -1 => Ok(None),
        n => u32::try_from(n).map(Some).map_err(|_| {
            Failure::new(
                crmt_result::CRMT_INVALID_ARGUMENT,
                format!("`alert.months_left` is {n}: a count of months is 0 or more, or -1 for none"),
            )
            .field("alert.months_left")
        }),
    }
}

/// The severity of a kind and months left, by the core's rule: an alert of that kind and months
/// left, asked `Alert::severity`. Only the kind and the months left decide a severity (SPEC
/// §11.1), so the alert is built from the one public constructor and given those two.
fn core_severity(kind: AlertKind, months_left: Option<u32>) -> Severity {
    let mut alert = Alert::held_back(Month::LAST, None, None);
    alert.kind = kind;
    alert.months_left = months_left;
    alert.severity()
}

/// Stores in `*out` the severity of `*alert` (SPEC §11.1): the severity of its kind, except
/// that a countdown (`CRMT_ALERT_WATCH_ACTIVE`, `CRMT_ALERT_EXIT_RISK`,
/// `CRMT_ALERT_IN_RETENTION`) with `months_left` at most 1 (and not -1) is
/// `CRMT_SEVERITY_HIGH`. The rule is the engine's (`Alert::severity`); only the alert's `kind`
/// and `months_left` are read. Any `crmt_alert` the library filled (an outcome's, a batch's, a
/// portfolio result's) has a severity; one the caller filled is checked.
///
/// `alert` is borrowed for the call; nothing is allocated or kept. On failure `*out` is
/// unchanged.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT` (field `alert` or `out`); `CRMT_INVALID_ARGUMENT` for a `kind` that is no
/// `crmt_alert_kind` value (field `alert.kind`), a `months_left` below -1 (field
/// `alert.months_left`), or an `alert` not aligned for its type (field `alert`).
///
/// # Safety
/// `alert` is NULL or points to a readable `crmt_alert`; `out` is NULL or writable.
/// Thread-safe: `*alert` is only read.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_alert_severity(alert: *const crmt_alert, out: *mut crmt_severity) -> crmt_result {
    guard(|| {
        if alert.is_null() {
            return Err(Failure::null("alert"));
        }
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        if !alert.is_aligned() {
            return Err(Failure::new(
                crmt_result::CRMT_INVALID_ARGUMENT,
                format!("`alert` ({alert:p}) is not aligned for a crmt_alert"),
            )
            .field("alert"));
        }
        // The kind is read as the `int` it is in C, never as a Rust enum: a value that is no
        // variant must be refused, not read. SAFETY: non-NULL, aligned and readable per the
        // contract; `crmt_alert_kind` has the size of a `c_int` (asserted above).
        let (kind_value, left_value) =
            unsafe { ((&raw const (*alert).kind).cast::<c_int>().read(), (*alert).months_left) };
        let kind = kind_of(kind_value).ok_or_else(|| {
            Failure::new(
                crmt_result::CRMT_INVALID_ARGUMENT,
                format!("`alert.kind` is {kind_value}: not a crmt_alert_kind value"),
            )
            .field("alert.kind")
        })?;
        let months_left = months_left_of(left_value)?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe { crate::args::put(out, severity(core_severity(kind, months_left)), "out") }
    })
}

/// The stable code of a severity: `"high"`, `"medium"` or `"low"`; `""` for an unknown value.
/// Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_severity_code(severity_value: c_int) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    text_table(&T, Severity::ALL, |s| severity(s) as usize, Severity::as_str, severity_value)
}

/// The Chinese name of a severity: `"高"`, `"中"` or `"低"`; `""` for an unknown value. Static,
/// never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_severity_name_zh(severity_value: c_int) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    text_table(&T, Severity::ALL, |s| severity(s) as usize, Severity::name_zh, severity_value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: *const c_char) -> String {
        // SAFETY: the functions return static NUL-terminated strings.
        unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap_or_default().to_string()
    }

    /// An alert as C would fill it, kept as bytes: a `kind` that is no variant must never be
    /// a Rust `crmt_alert` value, so the tests only pass its address.
    fn c_alert(kind: c_int, months_left: i32) -> std::mem::MaybeUninit<crmt_alert> {
        let mut a = std::mem::MaybeUninit::<crmt_alert>::zeroed();
        let p = a.as_mut_ptr();
        // SAFETY: `p` points to the zeroed alert; the kind field is int-sized (asserted in the
        // module) and written as an int.
        unsafe {
            (&raw mut (*p).kind).cast::<c_int>().write(kind);
            (&raw mut (*p).months_left).write(months_left);
        }
        a
    }

    fn of(a: &std::mem::MaybeUninit<crmt_alert>) -> Result<crmt_severity, crmt_result> {
        let mut out = crmt_severity::CRMT_SEVERITY_LOW;
        // SAFETY: both pointers are valid.
        match unsafe { crmt_alert_severity(a.as_ptr(), &mut out) } {
            crmt_result::CRMT_OK => Ok(out),
            code => Err(code),
        }
    }

    #[test]
    fn c_values_are_the_core_ranks_and_texts_the_core_texts() {
        for s in Severity::ALL {
            assert_eq!(severity(*s) as c_int, c_int::from(s.rank()));
            assert_eq!(text(crmt_severity_code(severity(*s) as c_int)), s.as_str());
            assert_eq!(text(crmt_severity_name_zh(severity(*s) as c_int)), s.name_zh());
        }
        assert_eq!(text(crmt_severity_code(3)), "");
        assert_eq!(text(crmt_severity_name_zh(-1)), "");
    }

    #[test]
    fn every_kind_and_count_has_the_core_severity() {
        for k in AlertKind::ALL {
            for left in [-1, 0, 1, 2, 7, i32::MAX] {
                let want = core_severity(*k, u32::try_from(left).ok());
                assert_eq!(of(&c_alert(alert_kind(*k) as c_int, left)), Ok(severity(want)), "{k} {left}");
            }
        }
        // The rule's boundary, through the C struct.
        let watch = alert_kind(AlertKind::WatchActive) as c_int;
        assert_eq!(of(&c_alert(watch, 1)), Ok(crmt_severity::CRMT_SEVERITY_HIGH));
        assert_eq!(of(&c_alert(watch, 2)), Ok(crmt_severity::CRMT_SEVERITY_MEDIUM));
    }

    #[test]
    fn a_bad_alert_is_an_error_naming_its_field() {
        let field = || crate::details::with_last(|l| l.and_then(|f| f.field.clone())).unwrap_or_default();
        for bad in [-1, 14, 2201, c_int::MAX, c_int::MIN] {
            assert_eq!(of(&c_alert(bad, -1)), Err(crmt_result::CRMT_INVALID_ARGUMENT), "{bad}");
            assert_eq!(field(), "alert.kind");
        }
        assert_eq!(of(&c_alert(0, -2)), Err(crmt_result::CRMT_INVALID_ARGUMENT));
        assert_eq!(field(), "alert.months_left");
        let mut out = crmt_severity::CRMT_SEVERITY_LOW;
        // SAFETY: NULL is the case under test; `out` is valid.
        assert_eq!(unsafe { crmt_alert_severity(std::ptr::null(), &mut out) }, crmt_result::CRMT_NULL_ARGUMENT);
        assert_eq!(field(), "alert");
        let a = c_alert(0, 1);
        // SAFETY: the alert is valid; NULL is the case under test.
        assert_eq!(unsafe { crmt_alert_severity(a.as_ptr(), std::ptr::null_mut()) }, crmt_result::CRMT_NULL_ARGUMENT);
        assert_eq!(field(), "out");
    }
}
