//! The checks before anything changes (SPEC §6.1): the tiers of the state resolved through the
//! version's `tier_map` (§8), the state's consistency, and the month's designation change (§7).

use crate::code::TierCode;
use crate::engine::SpecialChange;
use crate::error::{InputError, StateError, TieringError};
use crate::month::Month;
use crate::rules::RuleVersion;
use crate::state::{CustomerState, SpecialVip, Status};

/// What a step needs, resolved and validated before anything changes.
pub(super) struct Plan {
    /// The earned tier's rank in the version.
    pub(super) earned: Option<usize>,
    /// The watch's best tier's rank.
    pub(super) watch_best: Option<usize>,
    /// With `highest_over` (SPEC §19.4): the highest rank qualified in the months before this
    /// one that the downgrade window reads (set from the history, never by [`plan`]).
    pub(super) over_best: Option<usize>,
    /// The special designation after expiry and the month's change, with its tier's rank.
    pub(super) special: SpecialPlan,
}

pub(super) enum SpecialPlan {
    Keep(Option<(SpecialVip, usize)>),
    Expire(SpecialVip, Option<(SpecialVip, usize)>),
    /// A grant: the designation that expired this month, the active one it replaces (its tier
    /// already written with the version's code, SPEC §8.3), and the new one with its rank.
    Grant {
        expired: Option<SpecialVip>,
        replaced: Option<SpecialVip>,
        new: (SpecialVip, usize),
    },
    Revoke(SpecialVip),
}

#[cold]
fn unknown_tier(customer: &str, tier: TierCode, month: Month) -> TieringError {
    StateError::UnknownTier { customer: customer.to_string(), tier: tier.to_string(), month }.into()
}

#[inline]
fn resolve(
    v: &RuleVersion,
    customer: &str,
    tier: Option<TierCode>,
    month: Month,
) -> Result<Option<usize>, TieringError> {
    match tier {
        None => Ok(None),
        Some(t) => v.resolve(t).map(Some).ok_or_else(|| unknown_tier(customer, t, month)),
    }
}

/// The highest rank of `tiers` (the months a downgrade window reads, SPEC §19.4) in `v`,
/// through its tier map.
///
/// # Errors
/// A state error for a tier the version neither has nor maps.
pub(super) fn highest_of(
    v: &RuleVersion,
    customer: &str,
    tiers: impl Iterator<Item = TierCode>,
    month: Month,
) -> Result<Option<usize>, TieringError> {
    let mut best = None;
    for t in tiers {
        best = best.max(resolve(v, customer, Some(t), month)?);
    }
    Ok(best)
}

#[inline(always)]
pub(super) fn plan(
    v: &RuleVersion,
    customer: &str,
    state: &CustomerState,
    month: Month,
    change: Option<&SpecialChange>,
) -> Result<Plan, TieringError> {
    let inconsistent = |message: &str| -> TieringError {
        StateError::Inconsistent { customer: customer.to_string(), message: message.to_string() }.into()
    };
    // A state with a standing remembers the month it was evaluated in (SPEC §4): without it
    // the sequence check could not stop a month from being evaluated twice.
    if state.last_month.is_none() && *state != CustomerState::default() {
        return Err(inconsistent("a state with a standing has no last month"));
    }
    let earned = resolve(v, customer, state.tier, month)?;
    match state.status {
        Status::Rated if earned.is_none() => return Err(inconsistent("status rated without a tier")),
        Status::Retained if earned.is_none() || state.retention_months_left == 0 => {
            return Err(inconsistent("status retained without a last tier or retention months"));
        }
        Status::NotEnrolled if earned.is_some() => return Err(inconsistent("status not_enrolled with a tier")),
        _ => {}
    }
    let watch_best = match state.watch {
        Some(w) => resolve(v, customer, w.best_tier, month)?,
        None => None,
    };
    if state.special.is_none() && change.is_none() {
        // Most customers of a portfolio: no designation, nothing to change.
        return Ok(Plan { earned, watch_best, over_best: None, special: SpecialPlan::Keep(None) });
    }
    let special = special_plan(v, customer, state, month, change)?;
    Ok(Plan { earned, watch_best, over_best: None, special })
}

/// SPEC §7: the designation after expiry and the month's change (grant or revoke), checked.
#[inline]
fn special_plan(
    v: &RuleVersion,
    customer: &str,
    state: &CustomerState,
    month: Month,
    change: Option<&SpecialChange>,
) -> Result<SpecialPlan, TieringError> {
    let next = month.next();
    // The designation's tier, rewritten through the tier map like the earned tier.
    let current = match state.special {
        Some(sp) => {
            let rank = resolve(v, customer, Some(sp.tier), month)?.unwrap_or(0);
            #[expect(
                clippy::indexing_slicing,
                reason = "resolve gives a rank of v.tiers (Some for Some), so the 0 is never used"
            )]
            let tier = v.tiers[rank].code;
            Some((SpecialVip { tier, ..sp }, rank))
        }
        None => None,
    };
    let (kept, expired) = match current {
        Some((sp, _)) if next > sp.last_month => (None, Some(sp)),
        other => (other, None),
    };
    let special = match change {
        None => match expired {
            Some(sp) => SpecialPlan::Expire(sp, None),
            None => SpecialPlan::Keep(kept),
        },
        Some(SpecialChange::Revoke) => match (kept, expired) {
            // A designation in its last month is still active in the evaluated month: the
            // bank's revocation is what gets recorded.
            (Some((sp, _)), _) | (None, Some(sp)) => SpecialPlan::Revoke(sp),
            (None, None) => {
                return Err(InputError::new(
                    customer,
                    Some(month),
                    "special",
                    "there is no active special VIP designation to revoke",
                )
                .into());
            }
        },
        Some(SpecialChange::Grant { tier, months }) => {
            let tier = tier.unwrap_or(v.settings.special_vip_default_tier);
            let rank = v.rank_of(tier).ok_or_else(|| {
                InputError::new(
                    customer,
                    Some(month),
                    "special.tier",
                    format!("tier `{tier}` is not in the rules in force for {month}"),
                )
            })?;
            let months = months.unwrap_or(v.settings.special_vip_months);
            let Some(span) = i32::try_from(months).ok().filter(|m| (1..=120).contains(m)) else {
                return Err(InputError::new(
                    customer,
                    Some(month),
                    "special.months",
                    format!("a designation lasts 1 to 120 months, got {months}"),
                )
                .into());
            };
            // A designation never runs past 9999-12, the last month there is: one that would
            // is refused rather than cut short (SPEC §7.2).
            if Month::LAST.months_since(next) < span - 1 {
                return Err(InputError::new(
                    customer,
                    Some(month),
                    "special.months",
                    format!("a designation of {months} months from {next} would run past {}", Month::LAST),
                )
                .into());
            }
            let new = SpecialVip { tier, first_month: next, last_month: next.plus(span - 1) };
            SpecialPlan::Grant { expired, replaced: kept.map(|(sp, _)| sp), new: (new, rank) }
        }
    };
    Ok(special)
}
