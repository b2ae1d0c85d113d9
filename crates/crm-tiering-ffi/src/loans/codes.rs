//! The loan classification's stable C enums (classes, trends, upgrades, signal kinds) and their
//! codes and Chinese names, which are the core's (`as_str`, `name_zh`), never restated here.

use std::ffi::{CString, c_char, c_int};
use std::sync::OnceLock;

use crm_tiering::{LoanClass, LoanSignalKind, Trend, Upgrade};

/// A loan class (五级分类, SPEC §21.1), valued by its stable number, kindest first (codes:
/// `crmt_loan_class_code`). A class is non-performing (不良) from `CRMT_LOAN_CLASS_SUBSTANDARD`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_loan_class {
    /// No class: a customer without loans this month has no worst class.
    CRMT_LOAN_CLASS_NONE = 0,
    /// normal (正常).
    CRMT_LOAN_CLASS_NORMAL = 1,
    /// special_mention (关注).
    CRMT_LOAN_CLASS_SPECIAL_MENTION = 2,
    /// substandard (次级), non-performing.
    CRMT_LOAN_CLASS_SUBSTANDARD = 3,
    /// doubtful (可疑), non-performing.
    CRMT_LOAN_CLASS_DOUBTFUL = 4,
    /// loss (损失), non-performing.
    CRMT_LOAN_CLASS_LOSS = 5,
}

/// A customer's worst class against last month's (SPEC §21.4; codes: `crmt_loan_trend_code`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_loan_trend {
    /// No trend: the customer has no loan this month.
    CRMT_LOAN_TREND_NONE = 0,
    /// worse (恶化).
    CRMT_LOAN_TREND_WORSE = 1,
    /// same (持平).
    CRMT_LOAN_TREND_SAME = 2,
    /// better (好转).
    CRMT_LOAN_TREND_BETTER = 3,
    /// new (新增): the customer had no loan last month.
    CRMT_LOAN_TREND_NEW = 4,
}

/// Whether a loan leaves non-performing this month (SPEC §21.3; codes:
/// `crmt_loan_upgrade_code`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_loan_upgrade {
    /// none: no upgrade out of non-performing is at stake.
    CRMT_LOAN_UPGRADE_NONE = 0,
    /// allowed: the clean window is met, the loan leaves non-performing.
    CRMT_LOAN_UPGRADE_ALLOWED = 1,
    /// held: the clean window is not met, the effective class is held at 次级.
    CRMT_LOAN_UPGRADE_HELD = 2,
}

/// The kind of a loan signal, valued by its stable number (SPEC §21.5; codes:
/// `crmt_loan_signal_kind_code`). New kinds are appended with the next number; none is
/// renumbered.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_loan_signal_kind {
    /// overdue (逾期): principal or interest is overdue.
    CRMT_LOAN_SIGNAL_OVERDUE = 2201,
    /// approaching_non_performing (临近不良): the overdue days are in the approaching window.
    CRMT_LOAN_SIGNAL_APPROACHING_NON_PERFORMING = 2202,
    /// non_performing (不良贷款): the effective class is non-performing.
    CRMT_LOAN_SIGNAL_NON_PERFORMING = 2203,
    /// bank_class_kinder_than_floor (分类宽于监管底线): the bank's class is kinder than the floor.
    CRMT_LOAN_SIGNAL_BANK_CLASS_KINDER_THAN_FLOOR = 2204,
    /// upgrade_held_by_clean_window (不良上调观察期未满): an upgrade out of non-performing waits for
    /// the clean window.
    CRMT_LOAN_SIGNAL_UPGRADE_HELD_BY_CLEAN_WINDOW = 2205,
}

pub(crate) fn class(c: LoanClass) -> crmt_loan_class {
    match c {
        LoanClass::Normal => crmt_loan_class::CRMT_LOAN_CLASS_NORMAL,
        LoanClass::SpecialMention => crmt_loan_class::CRMT_LOAN_CLASS_SPECIAL_MENTION,
        LoanClass::Substandard => crmt_loan_class::CRMT_LOAN_CLASS_SUBSTANDARD,
        LoanClass::Doubtful => crmt_loan_class::CRMT_LOAN_CLASS_DOUBTFUL,
        LoanClass::Loss => crmt_loan_class::CRMT_LOAN_CLASS_LOSS,
    }
}

pub(crate) fn class_or_none(c: Option<LoanClass>) -> crmt_loan_class {
    c.map_or(crmt_loan_class::CRMT_LOAN_CLASS_NONE, class)
}

const TRENDS: [Trend; 4] = [Trend::Worse, Trend::Same, Trend::Better, Trend::New];
const UPGRADES: [Upgrade; 3] = [Upgrade::None, Upgrade::Allowed, Upgrade::Held];

pub(crate) fn trend(t: Option<Trend>) -> crmt_loan_trend {
    match t {
        None => crmt_loan_trend::CRMT_LOAN_TREND_NONE,
        Some(Trend::Worse) => crmt_loan_trend::CRMT_LOAN_TREND_WORSE,
        Some(Trend::Same) => crmt_loan_trend::CRMT_LOAN_TREND_SAME,
        Some(Trend::Better) => crmt_loan_trend::CRMT_LOAN_TREND_BETTER,
        Some(Trend::New) => crmt_loan_trend::CRMT_LOAN_TREND_NEW,
    }
}

pub(crate) fn upgrade(u: Upgrade) -> crmt_loan_upgrade {
    match u {
        Upgrade::None => crmt_loan_upgrade::CRMT_LOAN_UPGRADE_NONE,
        Upgrade::Allowed => crmt_loan_upgrade::CRMT_LOAN_UPGRADE_ALLOWED,
        Upgrade::Held => crmt_loan_upgrade::CRMT_LOAN_UPGRADE_HELD,
    }
}

pub(crate) fn signal_kind(k: LoanSignalKind) -> crmt_loan_signal_kind {
    match k {
        LoanSignalKind::Overdue => crmt_loan_signal_kind::CRMT_LOAN_SIGNAL_OVERDUE,
        LoanSignalKind::ApproachingNonPerforming => crmt_loan_signal_kind::CRMT_LOAN_SIGNAL_APPROACHING_NON_PERFORMING,
        LoanSignalKind::NonPerforming => crmt_loan_signal_kind::CRMT_LOAN_SIGNAL_NON_PERFORMING,
        LoanSignalKind::BankClassKinderThanFloor => {
            crmt_loan_signal_kind::CRMT_LOAN_SIGNAL_BANK_CLASS_KINDER_THAN_FLOOR
        }
        LoanSignalKind::UpgradeHeldByCleanWindow => {
            crmt_loan_signal_kind::CRMT_LOAN_SIGNAL_UPGRADE_HELD_BY_CLEAN_WINDOW
        }
    }
}

/// NUL-terminated copies of an enum's texts by C value, made once; `""` for a value that is no
/// variant of it.
fn text_of<T: Copy>(
    table: &'static OnceLock<Vec<(c_int, CString)>>,
    all: &[T],
    c_value: impl Fn(T) -> c_int,
    text: impl Fn(T) -> &'static str,
    value: c_int,
) -> *const c_char {
    crate::boundary::guard_details(c"".as_ptr(), || {
        let table = table
            .get_or_init(|| all.iter().map(|v| (c_value(*v), CString::new(text(*v)).unwrap_or_default())).collect());
        table.iter().find(|(v, _)| *v == value).map_or(c"".as_ptr(), |(_, t)| t.as_ptr())
    })
}

/// The stable code of a loan class, such as `"substandard"`; `""` for `CRMT_LOAN_CLASS_NONE` or
/// an unknown value. Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_loan_class_code(class_value: c_int) -> *const c_char {
    static T: OnceLock<Vec<(c_int, CString)>> = OnceLock::new();
    text_of(&T, &LoanClass::ALL, |c| class(c) as c_int, LoanClass::as_str, class_value)
}

/// The Chinese name of a loan class, such as `"次级"`; `""` for `CRMT_LOAN_CLASS_NONE` or an
/// unknown value. Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_loan_class_name_zh(class_value: c_int) -> *const c_char {
    static T: OnceLock<Vec<(c_int, CString)>> = OnceLock::new();
    text_of(&T, &LoanClass::ALL, |c| class(c) as c_int, LoanClass::name_zh, class_value)
}

/// The stable code of a trend, such as `"worse"`; `""` for `CRMT_LOAN_TREND_NONE` or an unknown
/// value. Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_loan_trend_code(trend_value: c_int) -> *const c_char {
    static T: OnceLock<Vec<(c_int, CString)>> = OnceLock::new();
    text_of(&T, &TRENDS, |t| trend(Some(t)) as c_int, Trend::as_str, trend_value)
}

/// The Chinese name of a trend, such as `"恶化"`; `""` for `CRMT_LOAN_TREND_NONE` or an unknown
/// value. Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_loan_trend_name_zh(trend_value: c_int) -> *const c_char {
    static T: OnceLock<Vec<(c_int, CString)>> = OnceLock::new();
    text_of(&T, &TRENDS, |t| trend(Some(t)) as c_int, Trend::name_zh, trend_value)
}

/// The stable code of an upgrade status: `"none"`, `"allowed"` or `"held"`; `""` for an unknown
/// value. Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_loan_upgrade_code(upgrade_value: c_int) -> *const c_char {
    static T: OnceLock<Vec<(c_int, CString)>> = OnceLock::new();
    text_of(&T, &UPGRADES, |u| upgrade(u) as c_int, Upgrade::as_str, upgrade_value)
}

/// The stable code of a loan signal kind, such as `"non_performing"` for 2203; `""` for an
/// unknown value. Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_loan_signal_kind_code(kind: c_int) -> *const c_char {
    static T: OnceLock<Vec<(c_int, CString)>> = OnceLock::new();
    text_of(&T, &LoanSignalKind::ALL, |k| signal_kind(k) as c_int, LoanSignalKind::as_str, kind)
}

/// The Chinese name of a loan signal kind, such as `"不良贷款"` for 2203; `""` for an unknown
/// value. Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_loan_signal_kind_name_zh(kind: c_int) -> *const c_char {
    static T: OnceLock<Vec<(c_int, CString)>> = OnceLock::new();
    text_of(&T, &LoanSignalKind::ALL, |k| signal_kind(k) as c_int, LoanSignalKind::name_zh, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: *const c_char) -> String {
        // SAFETY: the functions return static NUL-terminated strings.
        unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap_or_default().to_string()
    }

    #[test]
    fn c_values_are_the_core_numbers_and_codes_the_core_codes() {
        for c in LoanClass::ALL {
            assert_eq!(class(c) as c_int, c_int::from(c.number()));
            assert_eq!(text(crmt_loan_class_code(class(c) as c_int)), c.as_str());
            assert_eq!(text(crmt_loan_class_name_zh(class(c) as c_int)), c.name_zh());
        }
        for k in LoanSignalKind::ALL {
            assert_eq!(signal_kind(k) as c_int, c_int::from(k.number()));
            assert_eq!(text(crmt_loan_signal_kind_code(signal_kind(k) as c_int)), k.as_str());
            assert_eq!(text(crmt_loan_signal_kind_name_zh(signal_kind(k) as c_int)), k.name_zh());
        }
        for t in TRENDS {
            assert_eq!(text(crmt_loan_trend_code(trend(Some(t)) as c_int)), t.as_str());
        }
        for u in UPGRADES {
            assert_eq!(text(crmt_loan_upgrade_code(upgrade(u) as c_int)), u.as_str());
        }
        assert_eq!(text(crmt_loan_class_code(0)), "");
        assert_eq!(text(crmt_loan_trend_code(0)), "");
        assert_eq!(text(crmt_loan_signal_kind_code(2206)), "");
    }
}
