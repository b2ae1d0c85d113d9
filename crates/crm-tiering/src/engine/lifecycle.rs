//! Lifecycle stages (SPEC §23): after the month's step, the first stage whose rules hold, and a
//! `stage_changed` event when it is another than last month's.

use super::alerts::{above_share, below_share, share_of};
use super::sink::Sink;
use crate::code::TierCode;
use crate::event::{Event, EventKind, Evidence, Reason};
use crate::history::HistoryLayout;
use crate::month::Month;
use crate::rules::{Lifecycle, NO_VALUE, Stage, StageRule, StageTest};

/// Decides the month's stage of a customer whose history slice is `history` (its stage is last
/// month's), keeps it there and emits `stage_changed` when it changed (SPEC §23.2). `values` are
/// the month's values, the windows' after the measured ones.
pub(super) fn advance<S: Sink + ?Sized>(
    lifecycle: &Lifecycle,
    layout: &HistoryLayout,
    history: &mut [i64],
    (month, aum_fen): (Month, i64),
    values: &[i64],
    sink: &mut S,
) {
    // A stage the lifecycle does not have (a renamed stage, decision 49) is no stage.
    let before = layout.stage_of(history).filter(|(code, _)| lifecycle.stage(*code).is_some());
    let held = |stage: &Stage| match (before, stage.max_months) {
        (Some((code, since)), Some(max)) if code == stage.code => {
            u32::try_from(month.months_since(since)).unwrap_or(0) >= max
        }
        _ => false,
    };
    let Some(stage) = lifecycle.stages.iter().find(|stage| {
        let after = stage.after.as_ref().is_none_or(|list| list.contains(&before.map(|(code, _)| code)));
        after && !held(stage) && stage.tests.iter().all(|t| holds(t, values))
    }) else {
        return;
    };
    if before.is_some_and(|(code, _)| code == stage.code) {
        return;
    }
    layout.set_stage(history, Some((stage.code, month)));
    sink.event(changed(stage, before, (month, aum_fen), values));
}

/// Whether a test holds on the month's values (SPEC §23.1).
fn holds(t: &StageTest, values: &[i64]) -> bool {
    let value = values.get(t.value).copied().unwrap_or(NO_VALUE);
    if value == NO_VALUE {
        return false;
    }
    let window = || values.get(t.against).copied().unwrap_or(0);
    match t.rule {
        StageRule::Min(a) => value >= a,
        StageRule::Below(a) => value < a,
        StageRule::Fall(share) => below_share(value, window(), share),
        StageRule::Rise(share) => above_share(value, window(), share),
    }
}

/// The `stage_changed` event into `stage` from `before` (SPEC §23.2), its evidence the stage's
/// first test.
#[cold]
fn changed(stage: &Stage, before: Option<(TierCode, Month)>, (month, aum_fen): (Month, i64), values: &[i64]) -> Event {
    let mut evidence = match stage.tests.first() {
        None => Evidence::fen(aum_fen, None),
        Some(t) => {
            let value = values.get(t.value).copied().unwrap_or(0);
            let threshold = match t.rule {
                StageRule::Min(a) | StageRule::Below(a) => a,
                StageRule::Fall(share) | StageRule::Rise(share) => {
                    share_of(values.get(t.against).copied().unwrap_or(0), share)
                }
            };
            Evidence::fen(aum_fen, Some(threshold)).measured(t.measure, t.window, value)
        }
    };
    if let Some((_, since)) = before {
        evidence = evidence.window(since, u32::try_from(month.months_since(since)).unwrap_or(0), None);
    }
    Event {
        month,
        kind: EventKind::StageChanged,
        from_tier: before.map(|(code, _)| code),
        to_tier: Some(stage.code),
        reason: Reason::StageRule,
        evidence,
        same_month: false,
    }
}
