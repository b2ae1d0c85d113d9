//! The batch's fast path for a steady customer: a month with no event, that changes nothing
//! but the month and the counters that run without an event.
//!
//! Most customers of a portfolio month are either outside VIP management and below entry, or
//! rated and within their tier; some are rated with a downgrade watch or an exit counter that
//! runs one more month. For them the full evaluation (SPEC §6) checks the sequence, computes
//! the AUM, plans and steps only to conclude: no event, the state as it was with this month as
//! its last and its counters one month on, and at most the alerts. [`steady`] recognizes
//! exactly those months with the same primitives the full path uses, and otherwise leaves
//! everything to it. [`plain`] takes most of the rest, months with events but no gap and no
//! designation, through `plan` and the step alone (its doc says why that is the same).
//!
//! Why the result is the same as the full path's, for a month it accepts:
//! - checks (SPEC §6.1): the month is not [`Month::LAST`]; it follows the last month (or the
//!   state is the initial one), so there is no sequence error and no gap to fill; the AUM is a
//!   `Total` at the fen scale, not negative (nor a negative zero), within `MAX_AMOUNT`, which
//!   `Composition::compute` returns unchanged whatever the rounding; the state has no
//!   designation and no designation change; its tier is none (not enrolled, with no watch) or
//!   a code of the version itself (rated), and so is the best tier of a rated state's watch
//!   (or none), so `plan` resolves them to the same ranks and finds the state consistent, and
//!   the step writes back the same codes (a version's codes are distinct);
//! - the qualifying rank q comes from `RuleVersion::qualifying_rank_key`, as in the step;
//! - step (SPEC §6.2), not enrolled: with no qualifying tier nothing changes (§5.1, §5.9) but
//!   the exit counter, which ends with any status but rated;
//! - step, rated at t with qualifying rank q ([`running`] unless q = t with no watch): the exit
//!   counter resets when q is some, else starts at `{m, 1, A}` or adds a month: the step's own
//!   `below_entry_after` counts it;
//!   reaching `exit_after_months` would be an exit, so it is left to the full path. Then
//!   q ≥ t is steady only when q = t with no watch (a watch would be cleared, a higher q
//!   upgrades: events); q < t (or none) with t the lowest tier is steady only with no watch
//!   (a carried-over watch ends with `watch_cleared`), and only the counter moves; with t
//!   above the lowest tier a watch must already run (starting one is `watch_started`): the
//!   step's own `watch_extended` adds a short month and keeps the larger peak, and
//!   `watch_best_after` the higher best tier; the short months must stay below t's
//!   `watch_months` (else a downgrade) and must not reach its `label_after` (the 关注 label).
//!   The status stays rated, the tier code is rewritten to itself, the designation stays none,
//!   the effective tier becomes the earned tier (none when not enrolled), and the last month
//!   becomes this month;
//! - alerts (SPEC §11): the same function as the full path's, on the same new state (watch and
//!   exit counter included, for `watch_active` and `exit_risk`), AUM, key and rated tier.

use rust_decimal::Decimal;

use super::alerts::alerts;
use super::input::MonthInput;
use super::plan::{Plan, plan};
use super::sink::Sink;
use super::step::{below_entry_after, watch_best_after, watch_extended};
use crate::aum::AumInput;
use crate::money::plain_fen;
use crate::month::Month;
use crate::rules::{FAST_VALUES, RuleVersion};
use crate::state::{BelowEntryRun, CustomerState, Status, Watch};

/// Evaluates a steady month in place, sends its alerts to `sink` and returns its AUM; or
/// returns `None` having changed and sent nothing, when the month needs the full evaluation
/// (anything that could emit an event, fail or change more than the month).
#[inline(always)]
pub(super) fn steady<S: Sink + ?Sized>(
    v: &RuleVersion,
    s: &mut CustomerState,
    month: Month,
    input: &MonthInput,
    buf: &mut [i64; FAST_VALUES],
    sink: &mut S,
) -> Option<Decimal> {
    let (fen, aum) = plain_month(s, month, input)?;
    #[expect(clippy::cast_possible_truncation, reason = "0 <= fen <= MAX_FEN < i64::MAX, checked by plain_fen")]
    let values = v.fast_values(fen as i64, &input.measures, buf)?;
    steady_month(v, s, month, (fen, aum), values, sink).map(|(aum, _)| aum)
}

/// [`steady`] once the month's checks are made and its values known (`values`: the measured
/// values, then the windows' for a book with windows).
#[inline(always)]
fn steady_month<S: Sink + ?Sized>(
    v: &RuleVersion,
    s: &mut CustomerState,
    month: Month,
    (fen, aum): (i128, Decimal),
    values: &[i64],
    sink: &mut S,
) -> Option<(Decimal, Option<usize>)> {
    let key = v.fen_key(fen);
    let q = if v.by_criteria { v.qualifying_rank_by(values) } else { v.qualifying_rank_key(key) };
    let rated = match s.status {
        Status::NotEnrolled => {
            if s.tier.is_some() || s.watch.is_some() || q.is_some() {
                return None;
            }
            s.below_entry = None;
            None
        }
        Status::Rated => {
            let t = v.rank_of(s.tier?)?;
            if q == Some(t) && s.watch.is_none() {
                s.below_entry = None;
            } else {
                let (watch, below_entry) = running(v, s, month, fen, q, t)?;
                s.watch = watch;
                s.below_entry = below_entry;
            }
            Some(t)
        }
        Status::Retained => return None,
    };
    s.effective_tier = s.tier;
    s.last_month = Some(month);
    #[expect(clippy::cast_possible_truncation, reason = "0 <= fen <= MAX_FEN < i64::MAX, checked by plain_fen")]
    let fen = fen as i64;
    alerts(v, s, month, fen, key, rated, values, sink);
    Some((aum, q))
}

/// A rated month at tier `t` (a rank of `v`) with qualifying rank `q`, as the step takes it
/// (SPEC §6.2): the watch and the exit counter after the month, or `None` when the month
/// emits an event (exit, watch cleared, upgrade, watch started, downgrade) or the watch's best
/// tier is not a code of `v` itself.
#[inline]
fn running(
    v: &RuleVersion,
    s: &CustomerState,
    month: Month,
    fen: i128,
    q: Option<usize>,
    t: usize,
) -> Option<(Option<Watch>, Option<BelowEntryRun>)> {
    let aum_fen = i64::try_from(fen).ok()?;
    // §5.6: the exit counter resets, starts or adds a month; reaching its length is an exit.
    let below_entry = below_entry_after(month, aum_fen, q, s.below_entry);
    if below_entry.is_some_and(|run| u32::from(run.months) >= v.settings.exit_after_months) {
        return None;
    }
    // §5.2, §5.4, §5.9: meeting the tier is steady only at the tier and with no watch to clear.
    if q.is_some_and(|r| r >= t) {
        return (q == Some(t) && s.watch.is_none()).then_some((None, below_entry));
    }
    // §5.3: short of the lowest tier, only the counter runs; a watch carried over would end.
    if t == 0 {
        return s.watch.is_none().then_some((None, below_entry));
    }
    // §5.3, §5.5: short of a tier with a tier below it; a watch must already run (starting one
    // is an event) and stay short of the tier's watch length (reaching it is a downgrade).
    let w = s.watch?;
    let best = match w.best_tier {
        Some(code) => Some(v.rank_of(code)?),
        None => None,
    };
    let extended = watch_extended(w, aum_fen);
    let tier = v.tiers.get(t)?;
    // Reaching the watch length is a downgrade, reaching `label_after` the 关注 label: events.
    let short = u32::from(extended.short_months);
    if short >= tier.watch_months || tier.label_after == Some(short) {
        return None;
    }
    let best_tier = match watch_best_after(best, q) {
        Some(r) => Some(v.tiers.get(r)?.code),
        None => None,
    };
    Some((Some(Watch { best_tier, ..extended }), below_entry))
}

/// The batch's path for a month that emits events but needs none of the full evaluation's
/// general machinery: the same checks as [`steady`] ([`plain_month`]), then `plan` itself (no
/// designation change). For such a month `evaluate_into` finds no sequence error and no gap and
/// `Composition::compute` returns the AUM unchanged, so the step given this AUM and this plan
/// does what the full path does. `None` (`plan`'s errors included, which the full path then
/// reports) leaves the month to the full path, having changed nothing.
#[inline(always)]
pub(super) fn plain<'b>(
    v: &RuleVersion,
    customer: &str,
    s: &CustomerState,
    month: Month,
    input: &MonthInput,
    buf: &'b mut [i64; FAST_VALUES],
) -> Option<(Decimal, Plan, &'b [i64])> {
    let (fen, aum) = plain_month(s, month, input)?;
    #[expect(clippy::cast_possible_truncation, reason = "0 <= fen <= MAX_FEN < i64::MAX, checked by plain_fen")]
    let values = v.fast_values(fen as i64, &input.measures, buf)?;
    Some((aum, plan(v, customer, s, month, None).ok()?, values))
}

/// [`steady`], else [`plain`], for a book whose criteria read windows (SPEC §19.2, §19.5): the
/// month's measured values and then its windows' values in `buf`, the downgrade window's best tier
/// (`highest_over`) in the plan, the step, and the month recorded in the customer's history
/// `past` (`step_recorded`, as the full path); `windows` are `v`'s for `month`. `None` (too many values for
/// `buf`, a tier of the history the version does not resolve, or any of `plain`'s reasons)
/// leaves the month to the full path, having changed nothing.
#[expect(
    clippy::too_many_arguments,
    reason = "the batch's per-customer values and the version's windows for the month, each one the batch holds apart"
)]
#[inline]
pub(super) fn plain_with_history(
    windows: &crate::history::MonthWindows<'_>,
    v: &RuleVersion,
    customer: &str,
    (s, past): (&mut CustomerState, &mut [i64]),
    month: Month,
    input: &MonthInput,
    buf: &mut [i64; FAST_VALUES],
    sink: &mut dyn Sink,
) -> Option<Decimal> {
    let (fen, aum) = plain_month(s, month, input)?;
    let aum_fen = i64::try_from(fen).ok()?;
    let measured = v.fast_values(aum_fen, &input.measures, buf)?.len();
    let values = buf.get_mut(..measured + windows.len())?;
    windows.values_into(past, values, measured);
    // A steady month (no event) changes no tier: `highest_over` is not asked.
    if let Some((aum, q)) = steady_month(v, s, month, (fen, aum), values, sink) {
        let q = q.and_then(|r| v.tiers.get(r)).map(|t| t.code);
        super::record_month(windows, v, past, (month, aum_fen, q), values, sink);
        return Some(aum);
    }
    let plan = plan(v, customer, s, month, None).ok()?;
    super::step_recorded(windows, v, customer, (s, past), (month, aum), plan, values, sink).ok()?;
    Some(aum)
}

/// The checks both short paths make (SPEC §6.1): a `Total` at the fen scale, not negative
/// (nor a negative zero, which the full path gives back as it came) and within `MAX_AMOUNT`; no
/// designation and no designation change; not [`Month::LAST`]; the month after the last, or
/// the initial state. The AUM as its fen and as a decimal, or `None`. (The measures, SPEC
/// §19.1, are [`RuleVersion::fast_values`]'.)
#[inline(always)]
fn plain_month(s: &CustomerState, month: Month, input: &MonthInput) -> Option<(i128, Decimal)> {
    let AumInput::Total(aum) = &input.aum else { return None };
    if input.special.is_some() || s.special.is_some() || month == Month::LAST {
        return None;
    }
    let follows = match s.last_month {
        Some(last) => last.next() == month,
        None => *s == CustomerState::default(),
    };
    if !follows {
        return None;
    }
    plain_fen(aum)
}
