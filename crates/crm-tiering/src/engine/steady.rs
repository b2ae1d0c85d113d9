//! The batch's fast path for a steady customer: a month with no event, that changes nothing
//! but the month.
//!
//! Most customers of a portfolio month are either outside VIP management and below entry, or
//! rated and within their tier. For them the full evaluation (SPEC §6) checks the sequence,
//! computes the AUM, plans and steps only to conclude: no event, the state as it was with this
//! month as its last, and at most the near-threshold alerts. [`steady`] recognizes exactly
//! those months with the same primitives the full path uses, and otherwise leaves everything
//! to it.
//!
//! Why the result is the same as the full path's, for a month it accepts:
//! - checks (SPEC §6.1): the month is not [`Month::LAST`]; it follows the last month (or the
//!   state is the initial one), so there is no sequence error and no gap to fill; the AUM is a
//!   `Total` at the fen scale, not negative (nor a negative zero), within `MAX_AMOUNT`, which
//!   `Composition::compute` returns unchanged whatever the rounding; the state has no watch, no
//!   designation and no designation change, and its tier is none (not enrolled) or a code of
//!   the version itself (rated), so `plan` resolves it to the same rank and finds the state
//!   consistent;
//! - step (SPEC §6.2): not enrolled with no qualifying tier, nothing changes (§5.1, §5.9) but
//!   the exit counter, which ends with any status but rated; rated at t with the month
//!   qualifying for exactly t, the exit counter resets (§5.6) and the month meets the tier with
//!   no watch to clear and no tier above to upgrade to (§5.9). The tier code is rewritten to
//!   itself, the designation stays none, the effective tier becomes the earned tier (none when
//!   not enrolled), and the last month becomes this month;
//! - alerts (SPEC §11): the same function as the full path's, on the same new state, AUM, key
//!   and rated tier.

use rust_decimal::Decimal;

use super::alerts::alerts;
use super::batch::Sink;
use super::input::MonthInput;
use crate::aum::AumInput;
use crate::money::plain_fen;
use crate::month::Month;
use crate::rules::RuleVersion;
use crate::state::{CustomerState, Status};

/// Evaluates a steady month in place, sends its alerts to `sink` and returns its AUM; or
/// returns `None` having changed and sent nothing, when the month needs the full evaluation
/// (anything that could emit an event, fail or change more than the month).
#[inline(always)]
pub(super) fn steady<S: Sink + ?Sized>(
    v: &RuleVersion,
    s: &mut CustomerState,
    month: Month,
    input: &MonthInput,
    sink: &mut S,
) -> Option<Decimal> {
    let AumInput::Total(aum) = &input.aum else { return None };
    if input.special.is_some() || s.special.is_some() || s.watch.is_some() || month == Month::LAST {
        return None;
    }
    let follows = match s.last_month {
        Some(last) => last.next() == month,
        None => *s == CustomerState::default(),
    };
    if !follows {
        return None;
    }
    // A negative zero is left to the full path, which gives it back as it came.
    let (fen, aum) = plain_fen(aum)?;
    let key = v.fen_key(fen);
    let q = v.qualifying_rank_key(key);
    let rated = match s.status {
        Status::NotEnrolled => {
            if s.tier.is_some() || q.is_some() {
                return None;
            }
            None
        }
        Status::Rated => {
            let t = v.rank_of(s.tier?)?;
            if q != Some(t) {
                return None;
            }
            Some(t)
        }
        Status::Retained => return None,
    };
    s.below_entry = None;
    s.effective_tier = s.tier;
    s.last_month = Some(month);
    alerts(v, s, month, aum, key, rated, sink);
    Some(aum)
}
