//! Alerts (SPEC §11): notices about the standing for next month.

use super::sink::Sink;
use crate::code::TierCode;
use crate::event::{Alert, AlertKind};
use crate::month::Month;
use crate::rules::RuleVersion;
use crate::state::{CustomerState, Status};

/// The alerts of a customer after its step (SPEC §11).
#[inline(always)]
pub(super) fn alerts<S: Sink + ?Sized>(
    v: &RuleVersion,
    s: &CustomerState,
    month: Month,
    aum_fen: i64,
    key: i128,
    rated: Option<usize>,
    sink: &mut S,
) {
    let alert = |kind, tier: Option<TierCode>| Alert::new(month, kind, tier, aum_fen);
    if let (Some(w), Some(t)) = (s.watch, rated.and_then(|t| v.tiers.get(t))) {
        let counted = u32::from(w.short_months);
        sink.alert(
            alert(AlertKind::WatchActive, s.tier)
                .with_months(Some(counted), t.watch_months.saturating_sub(counted))
                .with_threshold(t.min_fen),
        );
    }
    if let (Some(run), Some(_)) = (s.below_entry, rated) {
        let counted = u32::from(run.months);
        sink.alert(
            alert(AlertKind::ExitRisk, s.tier)
                .with_months(Some(counted), v.settings.exit_after_months.saturating_sub(counted))
                .with_threshold(v.entry_threshold_fen()),
        );
    }
    if s.status == Status::Retained {
        sink.alert(
            alert(AlertKind::InRetention, s.tier)
                .with_months(None, u32::from(s.retention_months_left))
                .with_threshold(v.entry_threshold_fen()),
        );
    }
    if let Some(sp) = s.special {
        // Months left, 0 once past the last month.
        let left = u32::try_from(sp.last_month.months_since(month.next()) + 1).unwrap_or(0);
        if left <= v.settings.special_vip_notice_months {
            sink.alert(alert(AlertKind::SpecialExpiring, Some(sp.tier)).with_months(None, left));
        }
    }
    // Near-threshold (临界) bands.
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
