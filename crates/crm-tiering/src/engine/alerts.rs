//! Alerts (SPEC §11): notices about the standing for next month.

use super::sink::Sink;
use crate::code::TierCode;
use crate::event::{Alert, AlertKind};
use crate::month::Month;
use crate::rules::{Criterion, NO_VALUE, RuleVersion, Tier, WarningKind};
use crate::state::{CustomerState, Status};

/// The alerts of a customer after its step (SPEC §11).
#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "the month's figures as the step and the steady path hold them apart: AUM in fen, its key, and the measured values"
)]
pub(super) fn alerts<S: Sink + ?Sized>(
    v: &RuleVersion,
    s: &CustomerState,
    month: Month,
    aum_fen: i64,
    key: i128,
    rated: Option<usize>,
    values: &[i64],
    sink: &mut S,
) {
    let alert = |kind, tier: Option<TierCode>| Alert::new(month, kind, tier, aum_fen);
    // The threshold of tier `t` (by criteria: the criterion that decided, SPEC §19.3).
    let threshold = |a: Alert, t: &Tier, met: bool| {
        if v.by_criteria { criterion_threshold(v, a, t, values, met) } else { a.with_threshold(t.min_fen) }
    };
    let entry = v.tiers.first();
    if let (Some(w), Some(t)) = (s.watch, rated.and_then(|t| v.tiers.get(t))) {
        let counted = u32::from(w.short_months);
        let a =
            alert(AlertKind::WatchActive, s.tier).with_months(Some(counted), t.watch_months.saturating_sub(counted));
        sink.alert(threshold(a, t, false));
    }
    if let (Some(run), Some(_), Some(e)) = (s.below_entry, rated, entry) {
        let counted = u32::from(run.months);
        let a = alert(AlertKind::ExitRisk, s.tier)
            .with_months(Some(counted), v.settings.exit_after_months.saturating_sub(counted));
        sink.alert(threshold(a, e, false));
    }
    if let (Status::Retained, Some(e)) = (s.status, entry) {
        let a = alert(AlertKind::InRetention, s.tier).with_months(None, u32::from(s.retention_months_left));
        sink.alert(threshold(a, e, false));
    }
    if let Some(sp) = s.special {
        // Months left, 0 once past the last month.
        let left = u32::try_from(sp.last_month.months_since(month.next()) + 1).unwrap_or(0);
        if left <= v.settings.special_vip_notice_months {
            sink.alert(alert(AlertKind::SpecialExpiring, Some(sp.tier)).with_months(None, left));
        }
    }
    if v.by_criteria {
        criteria_bands(v, month, aum_fen, rated, values, sink);
    } else {
        bands(v, month, aum_fen, key, rated, sink);
    }
    if !v.warnings.is_empty() {
        warnings(v, s, month, aum_fen, values, sink);
    }
}

/// The alerts of the version's warnings that fire this month (SPEC §22.2, §22.3), in the order
/// the version lists them.
#[inline(never)]
fn warnings<S: Sink + ?Sized>(
    v: &RuleVersion,
    s: &CustomerState,
    month: Month,
    aum_fen: i64,
    values: &[i64],
    sink: &mut S,
) {
    let rank = s.effective_tier.and_then(|t| v.rank_of(t));
    for w in &v.warnings {
        if w.min_rank.is_some_and(|min| rank.is_none_or(|r| r < min)) {
            continue;
        }
        // Each kind reads what it compares: the month's value, the window's, or both.
        let value = || values.get(w.value).copied().unwrap_or(0);
        let windowed = || values.get(w.windowed).copied().unwrap_or(NO_VALUE);
        let alert = |kind| Alert::new(month, kind, s.effective_tier, aum_fen);
        let lifetime = w.lifetime_months;
        match w.kind {
            WarningKind::DropPct => {
                let (value, windowed) = (value(), windowed());
                if below_share(value, windowed, w.kept) {
                    let threshold = share_of(windowed, w.kept);
                    sink.alert(
                        alert(AlertKind::DropPct)
                            .with_threshold(threshold)
                            .with_gap(threshold.saturating_sub(value))
                            .measured(w.measure, w.window, value)
                            .with_months(None, lifetime),
                    );
                }
            }
            WarningKind::LargeFlow => {
                let value = value();
                if value != NO_VALUE && value > w.amount_fen {
                    sink.alert(
                        alert(AlertKind::LargeFlow)
                            .with_threshold(w.amount_fen)
                            .with_gap(value.saturating_sub(w.amount_fen))
                            .measured(w.measure, w.window, value)
                            .with_months(None, lifetime),
                    );
                }
            }
            WarningKind::MaturityNotReinvested => {
                let value = value();
                if value >= w.amount_fen {
                    let left = alert(AlertKind::MaturityNotReinvested)
                        .with_threshold(w.amount_fen)
                        .with_gap(value.saturating_sub(w.amount_fen));
                    sink.alert(left.measured(w.measure, w.window, value).with_months(None, lifetime));
                }
            }
            WarningKind::Dormant => {
                let (value, days) = (value(), i64::from(w.days) * 100);
                if value >= days && aum_fen <= w.amount_fen {
                    let dormant = alert(AlertKind::Dormant).with_threshold(days).with_gap(value.saturating_sub(days));
                    sink.alert(dormant.measured(w.measure, w.window, value).with_months(None, lifetime));
                }
            }
            WarningKind::Reactivated => {
                let (windowed, days) = (windowed(), i64::from(w.days) * 100);
                if windowed != NO_VALUE && windowed >= days && value() < days && aum_fen >= w.amount_fen {
                    let back =
                        alert(AlertKind::Reactivated).with_threshold(days).with_gap(windowed.saturating_sub(days));
                    sink.alert(back.measured(w.measure, w.window, windowed).with_months(None, lifetime));
                }
            }
            WarningKind::BelowFor => {
                let windowed = windowed();
                if windowed != NO_VALUE && windowed < w.amount_fen {
                    sink.alert(
                        alert(AlertKind::BelowFor)
                            .with_threshold(w.amount_fen)
                            .with_gap(w.amount_fen.saturating_sub(windowed))
                            .measured(w.measure, w.window, windowed)
                            .with_months(Some(w.months), lifetime),
                    );
                }
            }
        }
    }
}

/// Whether `value` is below `share` basis points of a positive `window` (SPEC §22.2, §23.1):
/// v < w × share / 10,000, exactly, as v × 10,000 < w × share.
pub(super) fn below_share(value: i64, window: i64, share: i64) -> bool {
    window > 0 && i128::from(value) * 10_000 < i128::from(window) * i128::from(share)
}

/// Whether `value` is above `share` basis points of a positive `window` (SPEC §23.1).
pub(super) fn above_share(value: i64, window: i64, share: i64) -> bool {
    window > 0 && i128::from(value) * 10_000 > i128::from(window) * i128::from(share)
}

/// `share` basis points of `window`, rounded half up to the fen: a percentage test's threshold.
pub(super) fn share_of(window: i64, share: i64) -> i64 {
    half_up(i128::from(window) * i128::from(share), 10_000)
}

/// `n / d` (d > 0) rounded half away from zero, in fen.
fn half_up(n: i128, d: i128) -> i64 {
    let q = (n.abs() + d / 2) / d;
    i64::try_from(if n < 0 { -q } else { q }).unwrap_or(0)
}

/// An alert's threshold in a version that qualifies by criteria: the criterion that decided
/// (out of the default book's line).
#[inline(never)]
fn criterion_threshold(v: &RuleVersion, a: Alert, t: &Tier, values: &[i64], met: bool) -> Alert {
    match v.deciding_criterion(t, values, met) {
        Some(c) => a.with_threshold(c.min_fen).measured(c.measure, c.window, c.value(values)),
        None => a.with_threshold(t.min_fen),
    }
}

/// The near-threshold (临界) bands of a version whose tiers qualify by one AUM minimum.
#[inline(always)]
fn bands<S: Sink + ?Sized>(v: &RuleVersion, month: Month, aum_fen: i64, key: i128, rated: Option<usize>, sink: &mut S) {
    let alert = |kind, tier: Option<TierCode>| Alert::new(month, kind, tier, aum_fen);
    match rated {
        Some(t) => {
            if let Some(n) = v.tiers.get(t + 1)
                && key >= n.band_below_key
                && !v.meets_key(key, n)
            {
                sink.alert(
                    alert(AlertKind::UpgradeOpportunity, Some(n.code))
                        .with_threshold(n.min_fen)
                        .with_gap(n.min_fen.saturating_sub(aum_fen)),
                );
            }
            if let Some(cur) = v.tiers.get(t)
                && v.meets_key(key, cur)
                && key < cur.band_above_key
            {
                sink.alert(
                    alert(AlertKind::DowngradeRisk, Some(cur.code))
                        .with_threshold(cur.min_fen)
                        .with_gap(aum_fen.saturating_sub(cur.min_fen)),
                );
            }
        }
        None => {
            if let Some(e) = v.tiers.first()
                && key >= e.band_below_key
                && !v.meets_key(key, e)
            {
                sink.alert(
                    alert(AlertKind::PotentialVip, Some(e.code))
                        .with_threshold(e.min_fen)
                        .with_gap(e.min_fen.saturating_sub(aum_fen)),
                );
            }
        }
    }
}

/// The near-threshold bands of a version whose tiers qualify by criteria (SPEC §19.3): each
/// alert names the criterion nearest its minimum, with the gap in that measure's units.
fn criteria_bands<S: Sink + ?Sized>(
    v: &RuleVersion,
    month: Month,
    aum_fen: i64,
    rated: Option<usize>,
    values: &[i64],
    sink: &mut S,
) {
    let key = |fen: i64| v.fen_key(i128::from(fen));
    let alert = |kind, t: &Tier, c: &Criterion, gap: i64| {
        Alert::new(month, kind, Some(t.code), aum_fen).with_threshold(c.min_fen).with_gap(gap).measured(
            c.measure,
            c.window,
            c.value(values),
        )
    };
    let below = |kind, t: &Tier| {
        let c = t.qualify.as_ref().filter(|_| !v.tier_met(t, values))?.within_band_below(key, values)?;
        Some(alert(kind, t, c, c.min_fen.saturating_sub(c.value(values))))
    };
    match rated {
        Some(r) => {
            if let Some(a) = v.tiers.get(r + 1).and_then(|n| below(AlertKind::UpgradeOpportunity, n)) {
                sink.alert(a);
            }
            if let Some(cur) = v.tiers.get(r)
                && let Some(q) = cur.qualify.as_ref().filter(|_| v.tier_met(cur, values))
                && let Some(c) = q.within_band_above(key, values)
            {
                sink.alert(alert(AlertKind::DowngradeRisk, cur, c, c.value(values).saturating_sub(c.min_fen)));
            }
        }
        None => {
            if let Some(a) = v.tiers.first().and_then(|e| below(AlertKind::PotentialVip, e)) {
                sink.alert(a);
            }
        }
    }
}
