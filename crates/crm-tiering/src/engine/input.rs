//! A customer's input for a month, the engine's options, and one month's outcome.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::aum::AumInput;
use crate::code::{MeasureCode, TierCode};
use crate::event::{Alert, Event};
use crate::month::Month;
use crate::state::CustomerState;

/// A change to a customer's special VIP designation, applied with a month's evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum SpecialChange {
    /// Designate the customer a special VIP from the month after the evaluated one.
    Grant {
        /// The tier; the rule version's `special_vip_default_tier` when none.
        #[serde(default)]
        tier: Option<TierCode>,
        /// Months of validity; the rule version's `special_vip_months` when none.
        #[serde(default)]
        months: Option<u32>,
    },
    /// Revoke the active designation from the month after the evaluated one.
    Revoke,
}

/// A customer's input for one month.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MonthInput {
    /// The AUM figures.
    pub aum: AumInput,
    /// A special VIP designation change, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special: Option<SpecialChange>,
    /// The values of the measures the rules declare besides `aum` (SPEC §19.1), by measure
    /// code, such as `{"loan_balance": "6500000"}`. A measure not given follows its `absent`;
    /// a code the rules in force do not declare is an input error.
    #[serde(default, skip_serializing_if = "Measures::is_empty")]
    pub measures: Measures,
}

/// The values of a month's measures besides AUM, by measure code (SPEC §19.1): a small map
/// that takes one pointer in a [`MonthInput`] when empty (the default book's every input), so
/// that adding measures did not widen the batch's inputs, and whose codes are interned
/// [`MeasureCode`]s, so that the batch finds a value without comparing text.
///
/// ```
/// use crm_tiering::{MeasureCode, Measures, parse_amount};
/// let loans: MeasureCode = "loan_balance".parse()?;
/// let mut m = Measures::default();
/// assert!(m.is_empty());
/// m.insert(loans, parse_amount("6500000")?);
/// assert_eq!(m.get(loans).map(|v| v.to_string()).as_deref(), Some("6500000"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Measures(Option<Box<[(MeasureCode, Decimal)]>>);

impl Measures {
    /// No measure has a value.
    pub const EMPTY: Measures = Measures(None);

    /// Whether no measure has a value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|m| m.is_empty())
    }

    /// The number of measures with a value.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |m| m.len())
    }

    /// Sets a measure's value, returning the one it replaces.
    pub fn insert(&mut self, code: MeasureCode, value: Decimal) -> Option<Decimal> {
        if let Some((_, v)) = self.0.as_deref_mut().and_then(|m| m.iter_mut().find(|(c, _)| *c == code)) {
            return Some(std::mem::replace(v, value));
        }
        // Kept in the order of the codes' text: equal maps compare equal and serialize alike
        // whatever order their values were set in. The new list is allocated at its exact
        // length, once: growing a vector and shrinking it into a box would leave a fragment of
        // freed memory per input, which the allocator later walks at the batch's next large
        // allocation (a measured batch's inputs are a million such lists).
        let old = self.0.as_deref().unwrap_or(&[]);
        let at = old.iter().position(|(c, _)| c.as_str() > code.as_str()).unwrap_or(old.len());
        let (before, after) = old.split_at_checked(at).unwrap_or((old, &[]));
        let mut list = Vec::with_capacity(old.len() + 1);
        list.extend_from_slice(before);
        list.push((code, value));
        list.extend_from_slice(after);
        self.0 = Some(list.into_boxed_slice());
        None
    }

    /// A measure's value.
    #[inline]
    pub fn get(&self, code: MeasureCode) -> Option<&Decimal> {
        self.0.as_ref()?.iter().find(|(c, _)| *c == code).map(|(_, v)| v)
    }

    /// The values by code text, as the JSON form shows them.
    pub fn to_map(&self) -> BTreeMap<String, Decimal> {
        self.iter().map(|(c, v)| (c.as_str().to_string(), *v)).collect()
    }

    /// The measures with a value, in the order of their codes' text.
    pub fn iter(&self) -> impl Iterator<Item = (MeasureCode, &Decimal)> {
        self.0.iter().flat_map(|m| m.iter()).map(|(c, v)| (*c, v))
    }
}

impl FromIterator<(MeasureCode, Decimal)> for Measures {
    fn from_iter<T: IntoIterator<Item = (MeasureCode, Decimal)>>(iter: T) -> Self {
        let mut m = Measures::EMPTY;
        for (c, v) in iter {
            m.insert(c, v);
        }
        m
    }
}

impl Serialize for Measures {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::money::serde_amount::map::serialize(&self.to_map(), s)
    }
}

impl<'de> Deserialize<'de> for Measures {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = crate::money::serde_amount::map::deserialize(d)?;
        let mut out = Measures::EMPTY;
        for (code, v) in map {
            out.insert(MeasureCode::new(&code).map_err(serde::de::Error::custom)?, v);
        }
        Ok(out)
    }
}

impl MonthInput {
    /// An input with the month's AUM already computed and no designation change.
    pub fn total(aum: Decimal) -> Self {
        MonthInput { aum: AumInput::Total(aum), special: None, measures: Default::default() }
    }
}

/// What to do when a customer's months skip one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingMonths {
    /// A gap is an error (default).
    #[default]
    Error,
    /// Each missing month is evaluated with zero AUM and no designation change.
    TreatAsZero,
}

/// Engine options that are about the input data rather than the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EngineOptions {
    /// Gaps in a customer's months.
    #[serde(default)]
    pub missing_months: MissingMonths,
}

/// The result of evaluating one customer for one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthOutcome {
    /// The evaluated month.
    pub month: Month,
    /// The month's AUM, as computed from the input and rounded to the fen.
    pub aum: Decimal,
    /// The new state, effective for the next month.
    pub state: CustomerState,
    /// The customer's history after this month, for the next month's evaluation with
    /// [`Engine::evaluate_with_history`](crate::Engine::evaluate_with_history): empty under a
    /// rule book without windows (SPEC §19.5).
    pub history: crate::History,
    /// What changed (including those of gap months filled with zero AUM).
    pub events: Vec<Event>,
    /// Notices for the account manager.
    pub alerts: Vec<Alert>,
}

impl MonthOutcome {
    /// The outcome as JSON, `{"aum", "state", "events", "alerts"}` and `"history"` when not
    /// empty: exactly the values of the conformance vectors' `expected`, as every binding
    /// shows them.
    pub fn to_json_value(&self) -> serde_json::Value {
        let mut value = serde_json::json!({
            "aum": self.aum.to_string(),
            "state": self.state,
            "events": self.events,
            "alerts": self.alerts,
        });
        if let (Some(map), false) = (value.as_object_mut(), self.history.is_empty()) {
            map.insert("history".into(), serde_json::to_value(self.history.to_map()).unwrap_or_default());
        }
        value
    }
}
