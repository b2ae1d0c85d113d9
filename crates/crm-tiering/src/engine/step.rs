//! The step (SPEC §6.2): the rules applied to a validated plan. Infallible: every check
//! happened in [`plan`](super::plan::plan). Each function below is one section of SPEC §5 or §7.

use rust_decimal::Decimal;

use super::alerts::alerts;
use super::plan::{Plan, SpecialPlan};
use super::sink::Sink;
use crate::code::TierCode;
use crate::event::{Event, EventKind, Evidence, Reason, may_take_effect_same_month};
use crate::money::to_fen;
use crate::month::Month;
use crate::rules::{DowngradeTarget, RuleVersion, Tier, UpgradeTiming};
use crate::state::{BelowEntryRun, CustomerState, SpecialVip, Status, Watch};

/// What every rule of a month's step reads: the version, the month and its AUM, and the
/// highest tier the AUM qualifies for.
struct MonthContext<'a> {
    v: &'a RuleVersion,
    month: Month,
    /// The AUM in fen, for the evidence, the peaks of the watch and the exit counter.
    aum_fen: i64,
    /// The rank of the highest tier the month qualifies for (SPEC §3, §19.3).
    qualifies: Option<usize>,
    /// The month's measured values in fen, AUM first, for a version that qualifies tiers by
    /// criteria (SPEC §19.3); empty otherwise.
    values: &'a [i64],
}

/// The tiers a step changes: the earned tier and the best tier of the watch's months, as ranks.
struct Ranks {
    earned: Option<usize>,
    watch_best: Option<usize>,
    /// The best rank of the downgrade window's earlier months (`highest_over`).
    over_best: Option<usize>,
}

impl MonthContext<'_> {
    /// The tier at `rank`.
    #[expect(
        clippy::indexing_slicing,
        reason = "every rank a step handles is a rank of self.v: resolved by plan, qualifying (qualifying_rank_key), or below one of those and at least 0"
    )]
    fn tier(&self, rank: usize) -> &Tier {
        &self.v.tiers[rank]
    }

    fn code(&self, rank: usize) -> TierCode {
        self.tier(rank).code
    }

    /// The evidence of a month that met tier `rank`: its AUM and the tier's minimum, or, by
    /// criteria, the criterion that decided (SPEC §19.3).
    #[inline(always)]
    fn met_evidence(&self, rank: usize) -> Evidence {
        if self.v.by_criteria { self.criterion_evidence(rank, true) } else { self.min_evidence(rank) }
    }

    /// The evidence of a month short of tier `rank`: its AUM and the tier's minimum, or, by
    /// criteria, the unmet criterion nearest its minimum.
    #[inline(always)]
    fn short_evidence(&self, rank: usize) -> Evidence {
        if self.v.by_criteria { self.criterion_evidence(rank, false) } else { self.min_evidence(rank) }
    }

    #[inline(always)]
    fn min_evidence(&self, rank: usize) -> Evidence {
        Evidence::fen(self.aum_fen, Some(self.tier(rank).min_fen))
    }

    /// The evidence of a version that qualifies by criteria (out of the default book's line).
    #[inline(never)]
    fn criterion_evidence(&self, rank: usize, met: bool) -> Evidence {
        let t = self.tier(rank);
        match self.v.deciding_criterion(t, self.values, met) {
            Some(c) => Evidence::fen(self.aum_fen, Some(c.min_fen)).measured(c.measure, c.window, c.value(self.values)),
            None => Evidence::fen(self.aum_fen, Some(t.min_fen)).measured(
                self.v.aum_code,
                crate::rules::Window::Month,
                self.aum_fen,
            ),
        }
    }

    /// SPEC §21.8: whether the version's pause measure holds a change from `from` to tier `to`
    /// this month (its value is above zero); emits `upgrade_paused` when it does.
    #[inline]
    fn paused(&self, from: Option<usize>, to: usize, sink: &mut dyn Sink) -> bool {
        let Some((code, i)) = self.v.pause else { return false };
        let value = self.values.get(i).copied().unwrap_or(0);
        if value <= 0 {
            return false;
        }
        let threshold = self.met_evidence(to).threshold_fen();
        let evidence = Evidence::fen(self.aum_fen, threshold).measured(code, crate::rules::Window::Month, value);
        sink.event(self.event(EventKind::UpgradePaused, from, Some(to), Reason::PausedByMeasure, evidence));
        true
    }

    fn event(
        &self,
        kind: EventKind,
        from: Option<usize>,
        to: Option<usize>,
        reason: Reason,
        evidence: Evidence,
    ) -> Event {
        // §19.4: under `same_month`, an entry, re-entry or upgrade takes effect in its month.
        let same_month = self.v.settings.upgrade_timing == UpgradeTiming::SameMonth && may_take_effect_same_month(kind);
        Event {
            month: self.month,
            same_month,
            kind,
            from_tier: from.map(|r| self.code(r)),
            to_tier: to.map(|r| self.code(r)),
            reason,
            evidence,
        }
    }
}

/// One month of one customer (SPEC §6.2): the status's transitions, the special VIP overlay,
/// then the alerts. Returns the month's qualifying rank (what a history records, SPEC §19.5).
#[inline(always)]
pub(super) fn step(
    v: &RuleVersion,
    s: &mut CustomerState,
    month: Month,
    aum: Decimal,
    plan: Plan,
    values: &[i64],
    sink: &mut dyn Sink,
) -> Option<usize> {
    // AUMs reach the step rounded to the fen and within `MAX_AMOUNT` (SPEC §16), so the
    // conversion is exact; the saturation is never reached. At the fen scale the key and the
    // fen come from one read of the mantissa.
    let saturated = if aum.is_sign_negative() { i64::MIN } else { i64::MAX };
    let (key, aum_fen) = if aum.scale() == 2 {
        let fen = aum.mantissa();
        (v.fen_key(fen), i64::try_from(fen).unwrap_or(saturated))
    } else {
        (v.key(aum), to_fen(aum).unwrap_or(saturated))
    };
    let qualifies = if v.by_criteria { v.qualifying_rank_by(values) } else { v.qualifying_rank_key(key) };
    let m = MonthContext { v, month, aum_fen, qualifies, values };
    let mut ranks = Ranks { earned: plan.earned, watch_best: plan.watch_best, over_best: plan.over_best };
    match s.status {
        Status::NotEnrolled => entry(&m, s, &mut ranks, sink),
        Status::Retained => retention(&m, s, &mut ranks, sink),
        Status::Rated => rated(&m, s, &mut ranks, sink),
    }
    if s.status != Status::Rated {
        s.watch = None;
        s.below_entry = None;
    }
    if let Some(w) = s.watch.as_mut() {
        w.best_tier = ranks.watch_best.map(|r| m.code(r));
    }
    s.tier = ranks.earned.map(|r| m.code(r));
    let special = special_overlay(&m, s, plan.special, sink);
    let earned_rated = if s.status == Status::Rated { ranks.earned } else { None };
    s.effective_tier = earned_rated.max(special).map(|r| m.code(r));
    s.last_month = Some(month);
    alerts(v, s, month, aum_fen, key, earned_rated, values, sink);
    qualifies
}

/// SPEC §5.1 Entry (纳入): a month at or above the entry threshold rates the customer at the
/// highest tier it qualifies for, from the next month.
fn entry(m: &MonthContext<'_>, s: &mut CustomerState, ranks: &mut Ranks, sink: &mut dyn Sink) {
    // §19.4: with `assess_upgrades`, an entry waits for an assessment month; §21.8: the pause
    // holds it.
    if let Some(r) = m.qualifies.filter(|&r| m.v.upgrades_in(m.month) && !m.paused(None, r, sink)) {
        let evidence = m.met_evidence(r);
        sink.event(m.event(EventKind::Entered, None, Some(r), Reason::MetTierMinimum, evidence));
        s.status = Status::Rated;
        ranks.earned = Some(r);
    }
}

/// SPEC §5.7 Retention (已退未评级) and re-entry, and §5.8 the full exit when retention runs out.
fn retention(m: &MonthContext<'_>, s: &mut CustomerState, ranks: &mut Ranks, sink: &mut dyn Sink) {
    // §19.4: with `assess_upgrades`, a re-entry waits for an assessment month (the retention
    // runs out meanwhile as usual); §21.8: the pause holds it.
    if let Some(r) = m.qualifies.filter(|&r| m.v.upgrades_in(m.month) && !m.paused(ranks.earned, r, sink)) {
        let evidence = m.met_evidence(r);
        sink.event(m.event(EventKind::ReEntered, ranks.earned, Some(r), Reason::MetTierMinimum, evidence));
        s.status = Status::Rated;
        s.retention_months_left = 0;
        ranks.earned = Some(r);
        return;
    }
    s.retention_months_left = s.retention_months_left.saturating_sub(1);
    if s.retention_months_left == 0 {
        let evidence = m.short_evidence(0);
        sink.event(m.event(EventKind::FullyExited, ranks.earned, None, Reason::RetentionEnded, evidence));
        s.status = Status::NotEnrolled;
        ranks.earned = None;
    }
}

/// A rated customer's month: the exit counter (§5.6) runs independently of the watch, and an
/// exit wins over a downgrade due the same month (§6.3); otherwise the month meets the tier
/// (§5.2, §5.4), falls short of a tier with a tier below it (§5.3, §5.5), or falls short of the
/// lowest tier (§5.3, decision 15).
fn rated(m: &MonthContext<'_>, s: &mut CustomerState, ranks: &mut Ranks, sink: &mut dyn Sink) {
    let t = ranks.earned.unwrap_or(0);
    s.below_entry = count_below_entry(m, s.below_entry);
    match s.below_entry {
        // §19.4: an exit takes effect in an assessment month; until then the counter runs on.
        Some(run) if u32::from(run.months) >= m.v.settings.exit_after_months && m.v.assesses(m.month) => {
            exit_to_retention(m, s, ranks, t, run, sink)
        }
        _ if m.qualifies.is_some_and(|r| r >= t) => met_tier(m, s, ranks, t, sink),
        _ if t > 0 => short_of_tier(m, s, ranks, t, sink),
        _ => short_of_lowest_tier(m, s, ranks, t, sink),
    }
}

/// SPEC §5.6 The exit counter: consecutive months below entry while rated.
fn count_below_entry(m: &MonthContext<'_>, run: Option<BelowEntryRun>) -> Option<BelowEntryRun> {
    below_entry_after(m.month, m.aum_fen, m.qualifies, run)
}

/// SPEC §5.6 The exit counter after month `month` (AUM `aum_fen`, qualifying rank
/// `qualifies`): a month qualifying for a tier resets it; otherwise it starts at this month or
/// counts one month more, its peak the larger AUM. The step and the batch's steady path both
/// count with it.
#[inline(always)]
pub(super) fn below_entry_after(
    month: Month,
    aum_fen: i64,
    qualifies: Option<usize>,
    run: Option<BelowEntryRun>,
) -> Option<BelowEntryRun> {
    match (qualifies, run) {
        (Some(_), _) => None,
        (None, Some(run)) => Some(BelowEntryRun {
            months: run.months.saturating_add(1),
            peak_aum_fen: run.peak_aum_fen.max(aum_fen),
            ..run
        }),
        (None, None) => Some(BelowEntryRun { since: month, months: 1, peak_aum_fen: aum_fen }),
    }
}

/// SPEC §5.3 A running watch one short month on: one more short month, the peak the larger
/// AUM. The step and the batch's steady path both extend watches with it.
#[inline(always)]
pub(super) fn watch_extended(w: Watch, aum_fen: i64) -> Watch {
    Watch { short_months: w.short_months.saturating_add(1), peak_aum_fen: w.peak_aum_fen.max(aum_fen), ..w }
}

/// SPEC §5.3 The watch's best tier after a short month qualifying for `qualifies`: the higher
/// of the two, none ranking below every tier (decision).
#[inline(always)]
pub(super) fn watch_best_after(best: Option<usize>, qualifies: Option<usize>) -> Option<usize> {
    best.max(qualifies)
}

/// SPEC §5.6 Exit (退出): the counter reached `exit_after_months`; retention starts.
fn exit_to_retention(
    m: &MonthContext<'_>,
    s: &mut CustomerState,
    ranks: &mut Ranks,
    t: usize,
    run: BelowEntryRun,
    sink: &mut dyn Sink,
) {
    let evidence = m.short_evidence(0).window(run.since, u32::from(run.months), Some(run.peak_aum_fen));
    sink.event(m.event(EventKind::ExitedToRetention, Some(t), None, Reason::BelowEntryRun, evidence));
    s.status = Status::Retained;
    // Rule books allow at most 120 months.
    s.retention_months_left = u16::try_from(m.v.settings.retention_months).unwrap_or(u16::MAX);
    s.below_entry = None;
    s.watch = None;
    ranks.watch_best = None;
}

/// SPEC §5.4 Watch cleared by a month meeting the current tier, and §5.2 Upgrade (升级) when
/// the month qualifies for a higher one, from the next month.
fn met_tier(m: &MonthContext<'_>, s: &mut CustomerState, ranks: &mut Ranks, t: usize, sink: &mut dyn Sink) {
    let r = m.qualifies.unwrap_or(t);
    if let Some(w) = s.watch.take() {
        let evidence = m.met_evidence(t).window(w.since, u32::from(w.short_months), Some(w.peak_aum_fen));
        sink.event(m.event(EventKind::WatchCleared, Some(t), Some(t), Reason::MetTierMinimum, evidence));
        ranks.watch_best = None;
    }
    // §19.4: with `assess_upgrades`, an upgrade waits for an assessment month; §21.8: the
    // pause holds it.
    if r > t && m.v.upgrades_in(m.month) && !m.paused(Some(t), r, sink) {
        let evidence = m.met_evidence(r);
        sink.event(m.event(EventKind::Upgraded, Some(t), Some(r), Reason::MetTierMinimum, evidence));
        ranks.earned = Some(r);
    }
}

/// SPEC §5.3 Watch (关注): a month short of the current tier, which has a tier below it, starts
/// or extends the watch; §5.5 Downgrade (降级) when the watch reaches the tier's watch months.
fn short_of_tier(m: &MonthContext<'_>, s: &mut CustomerState, ranks: &mut Ranks, t: usize, sink: &mut dyn Sink) {
    let w = match s.watch {
        Some(w) => watch_extended(w, m.aum_fen),
        None => {
            let evidence = m.short_evidence(t);
            sink.event(m.event(EventKind::WatchStarted, Some(t), None, Reason::ShortOfTier, evidence));
            Watch { since: m.month, short_months: 1, best_tier: None, peak_aum_fen: m.aum_fen }
        }
    };
    ranks.watch_best = watch_best_after(ranks.watch_best, m.qualifies);
    // §19.4: a downgrade takes effect in an assessment month; until then the watch runs on.
    if u32::from(w.short_months) < m.tier(t).watch_months || !m.v.assesses(m.month) {
        // §19.4: a two-stage watch is labelled 关注 when its short months reach `label_after`
        // (below the watch length: the label comes before the downgrade).
        if m.tier(t).label_after == Some(u32::from(w.short_months)) {
            let evidence = m.short_evidence(t).window(w.since, u32::from(w.short_months), Some(w.peak_aum_fen));
            sink.event(m.event(EventKind::WatchLabelled, Some(t), None, Reason::ShortOfTier, evidence));
        }
        s.watch = Some(w);
        return;
    }
    let (target, reason) = downgrade_target(m, ranks, t);
    let evidence = m.short_evidence(t).window(w.since, u32::from(w.short_months), Some(w.peak_aum_fen));
    sink.event(m.event(EventKind::Downgraded, Some(t), Some(target), reason, evidence));
    ranks.earned = Some(target);
    s.watch = None;
    ranks.watch_best = None;
}

/// SPEC §5.5 The downgrade target: by `downgrade_target`, at most one tier below the current
/// one, and the lowest tier when the rule gives none (decision 3).
fn downgrade_target(m: &MonthContext<'_>, ranks: &Ranks, t: usize) -> (usize, Reason) {
    let (target, reason) = match m.v.settings.downgrade_target {
        DowngradeTarget::HighestInWindow => (ranks.watch_best, Reason::HighestInWindow),
        // §19.4: the highest of this month and the window's earlier months.
        DowngradeTarget::HighestOver => (ranks.over_best.max(m.qualifies), Reason::HighestOver),
        DowngradeTarget::LastMonth => (m.qualifies, Reason::LastMonth),
        DowngradeTarget::OneDown => (Some(t - 1), Reason::OneDown),
    };
    match target {
        Some(r) => (r.min(t - 1), reason),
        None => (0, Reason::LowestTierFloor),
    }
}

/// SPEC §5.3 Short of the lowest tier: only the exit counter runs. A watch carried over from a
/// version in which this tier had a tier below it ends here (decision 15).
fn short_of_lowest_tier(m: &MonthContext<'_>, s: &mut CustomerState, ranks: &mut Ranks, t: usize, sink: &mut dyn Sink) {
    if let Some(w) = s.watch.take() {
        let evidence = m.short_evidence(t).window(w.since, u32::from(w.short_months), Some(w.peak_aum_fen));
        sink.event(m.event(EventKind::WatchCleared, Some(t), Some(t), Reason::NoLowerTier, evidence));
        ranks.watch_best = None;
    }
}

/// SPEC §7 The special VIP overlay (特殊VIP): expiry, revocation and grants as planned. Returns
/// the rank of the designation in force next month.
fn special_overlay(
    m: &MonthContext<'_>,
    s: &mut CustomerState,
    plan: SpecialPlan,
    sink: &mut dyn Sink,
) -> Option<usize> {
    let expired =
        |old: SpecialVip| special_event(m, EventKind::SpecialExpired, Some(old.tier), None, Reason::ValidityEnded, old);
    let special = match plan {
        SpecialPlan::Keep(k) => k,
        SpecialPlan::Expire(old, k) => {
            sink.event(expired(old));
            k
        }
        SpecialPlan::Revoke(old) => {
            sink.event(special_event(m, EventKind::SpecialRevoked, Some(old.tier), None, Reason::Revoked, old));
            None
        }
        SpecialPlan::Grant { expired: old, replaced, new } => {
            if let Some(old) = old {
                sink.event(expired(old));
            }
            // The replaced designation's tier as the version in force names it (SPEC §8.3).
            let from = replaced.map(|o| o.tier);
            sink.event(special_event(m, EventKind::SpecialGranted, from, Some(new.0.tier), Reason::Designated, new.0));
            Some(new)
        }
    };
    s.special = special.map(|(sp, _)| sp);
    special.map(|(_, rank)| rank)
}

/// An event about a designation, with its validity as the window (SPEC §12).
fn special_event(
    m: &MonthContext<'_>,
    kind: EventKind,
    from: Option<TierCode>,
    to: Option<TierCode>,
    reason: Reason,
    sp: SpecialVip,
) -> Event {
    // A designation's length, 0 if its months were ever reversed.
    let months = u32::try_from(sp.last_month.months_since(sp.first_month) + 1).unwrap_or(0);
    Event {
        same_month: false,
        month: m.month,
        kind,
        from_tier: from,
        to_tier: to,
        reason,
        evidence: Evidence::fen(m.aum_fen, None).window(sp.first_month, months, None),
    }
}
