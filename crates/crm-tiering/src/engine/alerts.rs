//! Alerts (SPEC §11): notices about the standing for next month.

use rust_decimal::Decimal;

use super::batch::Sink;
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
    aum: Decimal,
    key: i128,
    rated: Option<usize>,
    sink: &mut S,
) {
    let alert = |kind, tier: Option<TierCode>| Alert {
        month,
        kind,
        tier,
        months_counted: None,
        months_left: None,
        aum,
        threshold: None,
        gap: None,
    };
    if let (Some(w), Some(t)) = (s.watch, rated) {
        sink.alert(Alert {
            months_counted: Some(u32::from(w.short_months)),
            months_left: Some(v.tiers[t].watch_months.saturating_sub(u32::from(w.short_months))),
            threshold: Some(v.tiers[t].min_aum),
            ..alert(AlertKind::WatchActive, s.tier)
        });
    }
    if let (Some(run), Some(_)) = (s.below_entry, rated) {
        sink.alert(Alert {
            months_counted: Some(u32::from(run.months)),
            months_left: Some(v.settings.exit_after_months.saturating_sub(u32::from(run.months))),
            threshold: Some(v.entry_threshold()),
            ..alert(AlertKind::ExitRisk, s.tier)
        });
    }
    if s.status == Status::Retained {
        sink.alert(Alert {
            months_left: Some(u32::from(s.retention_months_left)),
            threshold: Some(v.entry_threshold()),
            ..alert(AlertKind::InRetention, s.tier)
        });
    }
    if let Some(sp) = s.special {
        let left = (sp.last_month.months_since(month.next()) + 1).max(0) as u32;
        if left <= v.settings.special_vip_notice_months {
            sink.alert(Alert { months_left: Some(left), ..alert(AlertKind::SpecialExpiring, Some(sp.tier)) });
        }
    }
    // Near-threshold (临界) bands.
    match rated {
        Some(t) => {
            if let Some(n) = v.tiers.get(t + 1)
                && key >= n.band_below_key
                && !v.meets_key(key, n)
            {
                sink.alert(Alert {
                    threshold: Some(n.min_aum),
                    gap: Some(n.min_aum - aum),
                    ..alert(AlertKind::UpgradeOpportunity, Some(n.code))
                });
            }
            let cur = &v.tiers[t];
            if v.meets_key(key, cur) && key < cur.band_above_key {
                sink.alert(Alert {
                    threshold: Some(cur.min_aum),
                    gap: Some(aum - cur.min_aum),
                    ..alert(AlertKind::DowngradeRisk, Some(cur.code))
                });
            }
        }
        None => {
            if let Some(e) = v.tiers.first()
                && key >= e.band_below_key
                && !v.meets_key(key, e)
            {
                sink.alert(Alert {
                    threshold: Some(e.min_aum),
                    gap: Some(e.min_aum - aum),
                    ..alert(AlertKind::PotentialVip, Some(e.code))
                });
            }
        }
    }
}
