//! The engine's events and alerts as plain C values: the stable enums, the `crmt_event` and
//! `crmt_alert` structs (amounts in fen, NUL-terminated codes), and their codes and zh names.

use std::ffi::{CString, c_char, c_int};
use std::sync::OnceLock;

use crm_tiering::{Alert, AlertKind, Event, EventKind, Month, Reason};

use crate::convert::{code_field, measure_field, window_field};
use crate::{CRMT_CODE_SIZE, CRMT_MEASURE_CODE_SIZE, CRMT_NO_AMOUNT, CRMT_WINDOW_CODE_SIZE};

/// What happened to a customer's standing (codes: `crmt_event_kind_code`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_event_kind {
    /// entered (纳入).
    CRMT_EVENT_ENTERED = 0,
    /// upgraded (升级).
    CRMT_EVENT_UPGRADED = 1,
    /// watch_started (进入关注).
    CRMT_EVENT_WATCH_STARTED = 2,
    /// watch_cleared (解除关注).
    CRMT_EVENT_WATCH_CLEARED = 3,
    /// downgraded (降级).
    CRMT_EVENT_DOWNGRADED = 4,
    /// exited_to_retention (退出, 已退未评级).
    CRMT_EVENT_EXITED_TO_RETENTION = 5,
    /// re_entered (重新评级).
    CRMT_EVENT_RE_ENTERED = 6,
    /// fully_exited (完全退出).
    CRMT_EVENT_FULLY_EXITED = 7,
    /// special_granted (特殊VIP认定).
    CRMT_EVENT_SPECIAL_GRANTED = 8,
    /// special_expired (特殊VIP到期).
    CRMT_EVENT_SPECIAL_EXPIRED = 9,
    /// special_revoked (特殊VIP撤销).
    CRMT_EVENT_SPECIAL_REVOKED = 10,
    /// watch_labelled (关注): a two-stage watch reached the rule book's `label_after`.
    CRMT_EVENT_WATCH_LABELLED = 11,
    /// upgrade_paused (暂停升级): an entry, re-entry or upgrade held by the rule book's
    /// `pause_upgrades_while` measure (SPEC §21.8).
    CRMT_EVENT_UPGRADE_PAUSED = 12,
    /// stage_changed (生命周期阶段变化): the lifecycle stage changed (SPEC §23.2); the event's
    /// `from_tier` and `to_tier` hold the stage codes.
    CRMT_EVENT_STAGE_CHANGED = 13,
}

/// Why an event happened (codes: `crmt_reason_code`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_reason {
    /// met_tier_minimum.
    CRMT_REASON_MET_TIER_MINIMUM = 0,
    /// short_of_tier.
    CRMT_REASON_SHORT_OF_TIER = 1,
    /// highest_in_window.
    CRMT_REASON_HIGHEST_IN_WINDOW = 2,
    /// last_month.
    CRMT_REASON_LAST_MONTH = 3,
    /// one_down.
    CRMT_REASON_ONE_DOWN = 4,
    /// lowest_tier_floor.
    CRMT_REASON_LOWEST_TIER_FLOOR = 5,
    /// below_entry_run.
    CRMT_REASON_BELOW_ENTRY_RUN = 6,
    /// retention_ended.
    CRMT_REASON_RETENTION_ENDED = 7,
    /// designated.
    CRMT_REASON_DESIGNATED = 8,
    /// validity_ended.
    CRMT_REASON_VALIDITY_ENDED = 9,
    /// revoked.
    CRMT_REASON_REVOKED = 10,
    /// no_lower_tier.
    CRMT_REASON_NO_LOWER_TIER = 11,
    /// highest_over.
    CRMT_REASON_HIGHEST_OVER = 12,
    /// paused_by_measure (SPEC §21.8).
    CRMT_REASON_PAUSED_BY_MEASURE = 13,
    /// stage_rule (SPEC §23.2).
    CRMT_REASON_STAGE_RULE = 14,
}

/// What an account manager is told about (codes: `crmt_alert_kind_code`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_alert_kind {
    /// watch_active (关注中).
    CRMT_ALERT_WATCH_ACTIVE = 0,
    /// exit_risk (退出风险).
    CRMT_ALERT_EXIT_RISK = 1,
    /// in_retention (已退未评级).
    CRMT_ALERT_IN_RETENTION = 2,
    /// special_expiring (特殊VIP即将到期).
    CRMT_ALERT_SPECIAL_EXPIRING = 3,
    /// upgrade_opportunity (临界升级).
    CRMT_ALERT_UPGRADE_OPPORTUNITY = 4,
    /// potential_vip (潜在VIP).
    CRMT_ALERT_POTENTIAL_VIP = 5,
    /// downgrade_risk (临界降级).
    CRMT_ALERT_DOWNGRADE_RISK = 6,
    /// held_back (暂停评级): the portfolio month did not evaluate the customer; its standing is
    /// frozen at `tier`; `aum_fen` is `CRMT_NO_AMOUNT`.
    CRMT_ALERT_HELD_BACK = 7,
    /// drop_pct (大幅下降): a warning (SPEC §22); `measure_value` fell below `threshold`, the
    /// share the rule keeps of the measure's value over `measure_window`.
    CRMT_ALERT_DROP_PCT = 8,
    /// below_for (持续低于): a warning (SPEC §22); the measure's highest over `measure_window`
    /// (`max_k`, k = `months_counted`) is below `threshold`.
    CRMT_ALERT_BELOW_FOR = 9,
    /// large_flow (大额变动): a warning (SPEC §22.5); a day's total balance moved by
    /// `measure_value`, more than `threshold`, from the day before.
    CRMT_ALERT_LARGE_FLOW = 10,
    /// dormant (睡眠): a warning (SPEC §22.6); `measure_value` days without customer-initiated
    /// activity, at least `threshold`.
    CRMT_ALERT_DORMANT = 11,
    /// reactivated (重新激活): a warning (SPEC §22.6); last month's `measure_value` days without
    /// activity were at least `threshold`, this month there was activity.
    CRMT_ALERT_REACTIVATED = 12,
    /// maturity_not_reinvested (到期未续存): a warning (SPEC §22.7); `measure_value` of principal
    /// matured and not reinvested, at least `threshold`.
    CRMT_ALERT_MATURITY_NOT_REINVESTED = 13,
}

/// An event as a plain struct. Codes are NUL-terminated (empty when none), months are
/// `year * 100 + month` (0 when none), amounts are fen (`CRMT_NO_AMOUNT` when none).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_event {
    /// Index of the customer in the batch (0 for a single evaluation).
    pub customer_index: u32,
    /// What happened.
    pub kind: crmt_event_kind,
    /// The rule that decided it.
    pub reason: crmt_reason,
    /// The evaluated month.
    pub month: i32,
    /// The month it takes effect.
    pub effective_from: i32,
    /// The tier before.
    pub from_tier: [c_char; CRMT_CODE_SIZE],
    /// The tier after.
    pub to_tier: [c_char; CRMT_CODE_SIZE],
    /// The month's AUM.
    pub aum_fen: i64,
    /// The threshold compared with.
    pub threshold_fen: i64,
    /// First month of the deciding window (watch, run below entry, designation).
    pub window_from: i32,
    /// Months in that window, 0 when none.
    pub window_months: u32,
    /// Highest AUM in that window.
    pub peak_aum_fen: i64,
    /// The value of the measure that decided (`measure`), `CRMT_NO_AMOUNT` when none.
    pub measure_value_fen: i64,
    /// The measure of the criterion that decided, in a rule book that qualifies by criteria
    /// (SPEC §19.3), empty otherwise; `threshold_fen` is then that criterion's minimum.
    pub measure: [c_char; CRMT_MEASURE_CODE_SIZE],
    /// The window that measure was read over (`avg_6`, `prev_quarter`, ...; SPEC §19.2), empty
    /// for the evaluated month alone.
    pub measure_window: [c_char; CRMT_WINDOW_CODE_SIZE],
}

/// An alert as a plain struct; conventions as `crmt_event`; counts are -1 when none.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_alert {
    /// Index of the customer in the batch (0 for a single evaluation).
    pub customer_index: u32,
    /// What it is about.
    pub kind: crmt_alert_kind,
    /// The evaluated month.
    pub month: i32,
    /// The tier concerned.
    pub tier: [c_char; CRMT_CODE_SIZE],
    /// Months counted so far (watch months, months below entry), -1 when none.
    pub months_counted: i32,
    /// Months left before the watch, exit, retention or designation ends, -1 when none.
    pub months_left: i32,
    /// The month's AUM.
    pub aum_fen: i64,
    /// The threshold concerned.
    pub threshold_fen: i64,
    /// Distance to the threshold.
    pub gap_fen: i64,
    /// The value of the measure the alert is about (`measure`), `CRMT_NO_AMOUNT` when none.
    pub measure_value_fen: i64,
    /// The measure of the criterion the alert is about, in a rule book that qualifies by
    /// criteria (SPEC §19.3), empty otherwise; `threshold_fen` and `gap_fen` are then in its units.
    pub measure: [c_char; CRMT_MEASURE_CODE_SIZE],
    /// The window that measure was read over (SPEC §19.2), empty for the evaluated month alone.
    pub measure_window: [c_char; CRMT_WINDOW_CODE_SIZE],
}

#[inline]
fn month_int(m: Month) -> i32 {
    i32::try_from(m.yyyymm()).unwrap_or(0)
}

#[inline]
fn count(n: Option<u32>) -> i32 {
    n.map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX))
}

#[inline]
fn event_kind(k: EventKind) -> crmt_event_kind {
    use crmt_event_kind::*;
    match k {
        EventKind::Entered => CRMT_EVENT_ENTERED,
        EventKind::Upgraded => CRMT_EVENT_UPGRADED,
        EventKind::WatchStarted => CRMT_EVENT_WATCH_STARTED,
        EventKind::WatchCleared => CRMT_EVENT_WATCH_CLEARED,
        EventKind::Downgraded => CRMT_EVENT_DOWNGRADED,
        EventKind::ExitedToRetention => CRMT_EVENT_EXITED_TO_RETENTION,
        EventKind::ReEntered => CRMT_EVENT_RE_ENTERED,
        EventKind::FullyExited => CRMT_EVENT_FULLY_EXITED,
        EventKind::SpecialGranted => CRMT_EVENT_SPECIAL_GRANTED,
        EventKind::SpecialExpired => CRMT_EVENT_SPECIAL_EXPIRED,
        EventKind::SpecialRevoked => CRMT_EVENT_SPECIAL_REVOKED,
        EventKind::WatchLabelled => CRMT_EVENT_WATCH_LABELLED,
        EventKind::UpgradePaused => CRMT_EVENT_UPGRADE_PAUSED,
        EventKind::StageChanged => CRMT_EVENT_STAGE_CHANGED,
    }
}

#[inline]
fn reason(r: Reason) -> crmt_reason {
    use crmt_reason::*;
    match r {
        Reason::MetTierMinimum => CRMT_REASON_MET_TIER_MINIMUM,
        Reason::ShortOfTier => CRMT_REASON_SHORT_OF_TIER,
        Reason::HighestInWindow => CRMT_REASON_HIGHEST_IN_WINDOW,
        Reason::LastMonth => CRMT_REASON_LAST_MONTH,
        Reason::OneDown => CRMT_REASON_ONE_DOWN,
        Reason::LowestTierFloor => CRMT_REASON_LOWEST_TIER_FLOOR,
        Reason::BelowEntryRun => CRMT_REASON_BELOW_ENTRY_RUN,
        Reason::RetentionEnded => CRMT_REASON_RETENTION_ENDED,
        Reason::Designated => CRMT_REASON_DESIGNATED,
        Reason::ValidityEnded => CRMT_REASON_VALIDITY_ENDED,
        Reason::Revoked => CRMT_REASON_REVOKED,
        Reason::NoLowerTier => CRMT_REASON_NO_LOWER_TIER,
        Reason::HighestOver => CRMT_REASON_HIGHEST_OVER,
        Reason::PausedByMeasure => CRMT_REASON_PAUSED_BY_MEASURE,
        Reason::StageRule => CRMT_REASON_STAGE_RULE,
    }
}

#[inline]
pub(crate) fn alert_kind(k: AlertKind) -> crmt_alert_kind {
    use crmt_alert_kind::*;
    match k {
        AlertKind::WatchActive => CRMT_ALERT_WATCH_ACTIVE,
        AlertKind::ExitRisk => CRMT_ALERT_EXIT_RISK,
        AlertKind::InRetention => CRMT_ALERT_IN_RETENTION,
        AlertKind::SpecialExpiring => CRMT_ALERT_SPECIAL_EXPIRING,
        AlertKind::UpgradeOpportunity => CRMT_ALERT_UPGRADE_OPPORTUNITY,
        AlertKind::PotentialVip => CRMT_ALERT_POTENTIAL_VIP,
        AlertKind::DowngradeRisk => CRMT_ALERT_DOWNGRADE_RISK,
        AlertKind::HeldBack => CRMT_ALERT_HELD_BACK,
        AlertKind::DropPct => CRMT_ALERT_DROP_PCT,
        AlertKind::BelowFor => CRMT_ALERT_BELOW_FOR,
        AlertKind::LargeFlow => CRMT_ALERT_LARGE_FLOW,
        AlertKind::Dormant => CRMT_ALERT_DORMANT,
        AlertKind::Reactivated => CRMT_ALERT_REACTIVATED,
        AlertKind::MaturityNotReinvested => CRMT_ALERT_MATURITY_NOT_REINVESTED,
    }
}

#[inline]
pub(crate) fn event_struct(index: u32, e: &Event) -> crmt_event {
    crmt_event {
        customer_index: index,
        kind: event_kind(e.kind),
        reason: reason(e.reason),
        month: month_int(e.month),
        effective_from: month_int(e.effective_from()),
        from_tier: code_field(e.from_tier),
        to_tier: code_field(e.to_tier),
        aum_fen: e.evidence.aum_fen(),
        threshold_fen: e.evidence.threshold_fen().unwrap_or(CRMT_NO_AMOUNT),
        window_from: e.evidence.window_from.map_or(0, month_int),
        window_months: e.evidence.window_months.unwrap_or(0),
        peak_aum_fen: e.evidence.peak_aum_fen().unwrap_or(CRMT_NO_AMOUNT),
        measure_value_fen: e.evidence.measure_value_fen().unwrap_or(CRMT_NO_AMOUNT),
        measure: measure_field(e.evidence.measure),
        measure_window: window_field(e.evidence.measure_window),
    }
}

#[inline]
pub(crate) fn alert_struct(index: u32, a: &Alert) -> crmt_alert {
    crmt_alert {
        customer_index: index,
        kind: alert_kind(a.kind),
        month: month_int(a.month),
        tier: code_field(a.tier),
        months_counted: count(a.months_counted),
        months_left: count(a.months_left),
        aum_fen: a.aum_fen().unwrap_or(CRMT_NO_AMOUNT),
        threshold_fen: a.threshold_fen().unwrap_or(CRMT_NO_AMOUNT),
        gap_fen: a.gap_fen().unwrap_or(CRMT_NO_AMOUNT),
        measure_value_fen: a.measure_value_fen().unwrap_or(CRMT_NO_AMOUNT),
        measure: measure_field(a.measure),
        measure_window: window_field(a.measure_window),
    }
}

/// NUL-terminated copies of an enum's codes or names, made once and indexed by the C value.
/// The C values are the ABI's own (stable whatever order the core declares its variants in).
pub(crate) fn text_table<T: Copy>(
    table: &'static OnceLock<Vec<CString>>,
    all: &[T],
    c_value: impl Fn(T) -> usize,
    text: impl Fn(T) -> &'static str,
    value: c_int,
) -> *const c_char {
    crate::boundary::guard_details(c"".as_ptr(), || {
        let table = table.get_or_init(|| {
            let mut t = vec![CString::default(); all.iter().map(|v| c_value(*v) + 1).max().unwrap_or(0)];
            for v in all {
                t[c_value(*v)] = CString::new(text(*v)).unwrap_or_default();
            }
            t
        });
        usize::try_from(value).ok().and_then(|i| table.get(i)).map_or(c"".as_ptr(), |c| c.as_ptr())
    })
}

/// The stable code of an event kind, such as `"watch_started"`; `""` for an unknown value.
/// Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_event_kind_code(kind: c_int) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    text_table(&T, EventKind::ALL, |k| event_kind(k) as usize, EventKind::as_str, kind)
}

/// The Chinese display name of an event kind, such as `"进入关注"`; `""` for an unknown value.
/// Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_event_kind_name_zh(kind: c_int) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    text_table(&T, EventKind::ALL, |k| event_kind(k) as usize, EventKind::name_zh, kind)
}

/// The stable code of a reason, such as `"highest_in_window"`; `""` for an unknown value.
/// Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_reason_code(reason_value: c_int) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    text_table(&T, Reason::ALL, |r| reason(r) as usize, Reason::as_str, reason_value)
}

/// The stable code of an alert kind, such as `"exit_risk"`; `""` for an unknown value.
/// Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_alert_kind_code(kind: c_int) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    text_table(&T, AlertKind::ALL, |k| alert_kind(k) as usize, AlertKind::as_str, kind)
}

/// The Chinese display name of an alert kind, such as `"临界升级"`; `""` for an unknown value.
/// Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_alert_kind_name_zh(kind: c_int) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    text_table(&T, AlertKind::ALL, |k| alert_kind(k) as usize, AlertKind::name_zh, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_a_distinct_c_value_and_code() {
        let mut seen = std::collections::HashSet::new();
        for k in EventKind::ALL {
            assert!(seen.insert(event_kind(*k) as usize), "{k}");
            // SAFETY: the functions return static NUL-terminated strings.
            let code = unsafe { std::ffi::CStr::from_ptr(crmt_event_kind_code(event_kind(*k) as c_int)) };
            assert_eq!(code.to_str().unwrap(), k.as_str());
        }
        seen.clear();
        for r in Reason::ALL {
            assert!(seen.insert(reason(*r) as usize), "{r}");
            // SAFETY: the functions return static NUL-terminated strings.
            let code = unsafe { std::ffi::CStr::from_ptr(crmt_reason_code(reason(*r) as c_int)) };
            assert_eq!(code.to_str().unwrap(), r.as_str());
        }
        seen.clear();
        for k in AlertKind::ALL {
            assert!(seen.insert(alert_kind(*k) as usize), "{k}");
            // SAFETY: the functions return static NUL-terminated strings.
            let code = unsafe { std::ffi::CStr::from_ptr(crmt_alert_kind_code(alert_kind(*k) as c_int)) };
            assert_eq!(code.to_str().unwrap(), k.as_str());
        }
    }
}
