//! An event: a change of standing, with its reason and evidence (SPEC §12).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::codes::{EventKind, Reason};
use super::evidence::Evidence;
use crate::code::TierCode;
use crate::month::Month;

/// A change of standing, with its reason and evidence. It takes effect the month after its
/// month ([`Event::effective_from`]), or, for an entry, re-entry or upgrade under a rule book
/// with `upgrade_timing = "same_month"`, in its month itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "EventJson", try_from = "EventJson")]
pub struct Event {
    /// The evaluated month whose figures decided it.
    pub month: Month,
    /// What happened.
    pub kind: EventKind,
    /// The tier before, when there was one.
    pub from_tier: Option<TierCode>,
    /// The tier after, when there is one.
    pub to_tier: Option<TierCode>,
    /// The rule that decided it.
    pub reason: Reason,
    /// The figures.
    pub evidence: Evidence,
    /// Whether it takes effect in its month itself (an entry, re-entry or upgrade under
    /// `upgrade_timing = "same_month"`, SPEC §19.4) rather than the month after.
    pub same_month: bool,
}

/// The kinds that may take effect in their month (`upgrade_timing = "same_month"`).
pub(crate) fn may_take_effect_same_month(kind: EventKind) -> bool {
    matches!(kind, EventKind::Entered | EventKind::ReEntered | EventKind::Upgraded)
}

/// The JSON form of [`Event`] (SPEC §14), with its `effective_from`.
#[derive(Serialize, Deserialize)]
struct EventJson {
    month: Month,
    effective_from: Month,
    kind: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_tier: Option<TierCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_tier: Option<TierCode>,
    reason: Reason,
    evidence: Evidence,
}

impl From<Event> for EventJson {
    fn from(e: Event) -> Self {
        EventJson {
            month: e.month,
            effective_from: e.effective_from(),
            kind: e.kind,
            from_tier: e.from_tier,
            to_tier: e.to_tier,
            reason: e.reason,
            evidence: e.evidence,
        }
    }
}

impl TryFrom<EventJson> for Event {
    type Error = String;

    fn try_from(e: EventJson) -> Result<Self, String> {
        let same_month = e.effective_from == e.month && may_take_effect_same_month(e.kind);
        if !same_month && (e.month == Month::LAST || e.effective_from != e.month.next()) {
            return Err(format!(
                "event effective_from {} is not the month after its month {} (nor, for an entry, re-entry or upgrade, the month itself)",
                e.effective_from, e.month
            ));
        }
        Ok(Event {
            same_month,
            month: e.month,
            kind: e.kind,
            from_tier: e.from_tier,
            to_tier: e.to_tier,
            reason: e.reason,
            evidence: e.evidence,
        })
    }
}

impl Event {
    /// The month it takes effect: the month after [`Event::month`], or the month itself when
    /// [`Event::same_month`].
    pub fn effective_from(&self) -> Month {
        if self.same_month { self.month } else { self.month.next() }
    }

    /// One line explaining the event, in English.
    ///
    /// ```
    /// use crm_tiering::{Engine, RuleBook, CustomerState, MonthInput, Customer, parse_amount};
    /// let engine = Engine::new(RuleBook::default_book()?);
    /// let out = engine.evaluate(&Customer::personal("c1"), &CustomerState::default(),
    ///     "2024-01".parse()?, &MonthInput::total(parse_amount("523400")?))?;
    /// assert_eq!(out.events[0].explain(),
    ///     "2024-01: entered at platinum from 2024-02: AUM 523400.00 met the minimum 500000.00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn explain(&self) -> String {
        let mut s = format!("{}: ", self.month);
        let tier = |t: Option<TierCode>| t.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
        let _ = match self.kind {
            EventKind::Entered | EventKind::ReEntered => {
                write!(
                    s,
                    "{} at {} from {}",
                    self.kind.as_str().replace('_', "-"),
                    tier(self.to_tier),
                    self.effective_from()
                )
            }
            EventKind::Upgraded | EventKind::Downgraded => write!(
                s,
                "{} from {} to {} from {}",
                self.kind,
                tier(self.from_tier),
                tier(self.to_tier),
                self.effective_from()
            ),
            EventKind::SpecialGranted => {
                write!(s, "special VIP at {} from {}", tier(self.to_tier), self.effective_from())
            }
            EventKind::UpgradePaused => {
                write!(s, "upgrade paused ({} to {})", tier(self.from_tier), tier(self.to_tier))
            }
            EventKind::StageChanged => {
                write!(
                    s,
                    "lifecycle stage {} to {} from {}",
                    tier(self.from_tier),
                    tier(self.to_tier),
                    self.effective_from()
                )
            }
            _ => write!(s, "{} ({})", self.kind.as_str().replace('_', " "), tier(self.from_tier.or(self.to_tier))),
        };
        let e = &self.evidence;
        let threshold = e.threshold().map(|t| t.to_string()).unwrap_or_default();
        // The figure that decided: AUM, or the measure of the criterion that decided (SPEC
        // §19.3), whose threshold the evidence holds.
        // A measure read over a window names it: `aum over prev_quarter 6029670.33`.
        let measure = e.measure.filter(|m| m.as_str() != "aum" || e.measure_window.is_some());
        let (figure, of) = match (measure, e.measure_value()) {
            (Some(m), Some(v)) => {
                let over = e.measure_window.map(|w| format!(" over {w}")).unwrap_or_default();
                (format!("{m}{over} {v} (AUM {})", e.aum()), format!(" of {m}{over}"))
            }
            _ => (format!("AUM {}", e.aum()), String::new()),
        };
        let _ = match self.reason {
            Reason::MetTierMinimum => write!(s, ": {figure} met the minimum {threshold}"),
            Reason::ShortOfTier => write!(s, ": {figure} is short of the minimum {threshold}"),
            Reason::NoLowerTier => write!(s, ": the tier has no tier below it under the rules in force"),
            Reason::HighestInWindow
            | Reason::LastMonth
            | Reason::OneDown
            | Reason::HighestOver
            | Reason::LowestTierFloor => write!(
                s,
                ": {} consecutive months short of {threshold}{of} since {} (peak AUM {}), target rule {}",
                e.window_months.unwrap_or(0),
                e.window_from.map(|m| m.to_string()).unwrap_or_default(),
                e.peak_aum().unwrap_or_default(),
                self.reason
            ),
            Reason::BelowEntryRun => write!(
                s,
                ": {} consecutive months below the entry threshold {threshold}{of} since {} (peak AUM {})",
                e.window_months.unwrap_or(0),
                e.window_from.map(|m| m.to_string()).unwrap_or_default(),
                e.peak_aum().unwrap_or_default()
            ),
            Reason::RetentionEnded => write!(s, ": retention ended with {figure} below {threshold}"),
            Reason::Designated => write!(
                s,
                ": designated for {} months from {}",
                e.window_months.unwrap_or(0),
                e.window_from.map(|m| m.to_string()).unwrap_or_default()
            ),
            Reason::ValidityEnded => write!(s, ": validity ended"),
            Reason::Revoked => write!(s, ": revoked"),
            Reason::StageRule => match (e.measure, e.threshold()) {
                (Some(_), Some(t)) => write!(s, ": {figure} against {t}{}", held_for(e)),
                _ => write!(s, ": no other stage's rules held{}", held_for(e)),
            },
            Reason::PausedByMeasure => {
                write!(s, ": {figure} is above zero, which pauses upgrades (the minimum {threshold} was met)")
            }
        };
        s
    }
}

/// ", after N months in the stage since M" of a `stage_changed` event, when it had a stage.
fn held_for(e: &Evidence) -> String {
    match (e.window_from, e.window_months) {
        (Some(from), Some(n)) => format!(" (after {n} months in the stage since {from})"),
        _ => String::new(),
    }
}
