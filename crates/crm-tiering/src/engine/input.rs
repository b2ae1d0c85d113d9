//! A customer's input for a month, the engine's options, and one month's outcome.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::aum::AumInput;
use crate::code::TierCode;
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
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", with = "crate::money::serde_amount::map")]
    pub measures: BTreeMap<String, Decimal>,
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
    /// What changed (including those of gap months filled with zero AUM).
    pub events: Vec<Event>,
    /// Notices for the account manager.
    pub alerts: Vec<Alert>,
}
