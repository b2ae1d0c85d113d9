//! Measures and criteria as written in a rule file (SPEC §19.1, §19.3; RULES.md §2.7): what
//! `measure.rs` compiles.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::window::Window;
use crate::aum::Rounding;
use crate::money::serde_amount as amount;

/// What a record that gives no value for a measure means (SPEC §19.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Absent {
    /// No value is a value of 0 (no loan is a loan balance of 0; the default).
    #[default]
    Zero,
    /// No value is an input error on the measure: the customer is held back.
    Error,
}

impl Absent {
    fn is_zero(&self) -> bool {
        *self == Absent::Zero
    }
}

/// A measure as written in a rule file (`versions[j].measures[]`, RULES.md §2.7): one amount
/// per customer-month read from the column named by its code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureFile {
    /// The code, also the input column's name, such as `loan_balance`.
    pub code: String,
    /// Chinese display name, such as 个贷资产.
    #[serde(default)]
    pub name_zh: String,
    /// English display name, such as Personal loan balance.
    #[serde(default)]
    pub name_en: String,
    /// What a record without a value means: `zero` (default) or `error`.
    #[serde(default, skip_serializing_if = "Absent::is_zero")]
    pub absent: Absent,
    /// How a value with more decimals than fen is rounded (default `half_up`).
    #[serde(default, skip_serializing_if = "Rounding::is_half_up")]
    pub rounding: Rounding,
    /// Whether a value may be below zero (default false: a negative value is an input error):
    /// a net figure such as a customer's net contribution (SPEC §20.11). Only for a measure
    /// read from its column.
    #[serde(default, skip_serializing_if = "is_false")]
    pub signed: bool,
    /// For a composed measure, the components of the version's AUM composition it sums with
    /// its own weights (a weighted AUM, 兴业's 综合金融资产); none: the measure is read from its
    /// column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<MeasureComponentFile>,
}

/// A component of a composed measure: a component code of the version's AUM composition, with
/// the measure's inclusion and weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureComponentFile {
    /// A component code of the version's `aum` composition.
    pub code: String,
    /// Whether it counts toward the measure (default true).
    #[serde(default = "yes")]
    pub included: bool,
    /// Its weight from 0 to 10 (default 1), such as a product coefficient.
    #[serde(default = "one", with = "amount")]
    pub weight: Decimal,
}

fn yes() -> bool {
    true
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn one() -> Decimal {
    Decimal::ONE
}

/// A criterion as written in a rule file: `{measure, window, min}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionFile {
    /// The measure's code: `aum` (default) or one the version declares.
    #[serde(default = "aum_code")]
    pub measure: String,
    /// The window (default `month`).
    #[serde(default, skip_serializing_if = "Window::is_month")]
    pub window: Window,
    /// The minimum, as a decimal string.
    #[serde(with = "amount")]
    pub min: Decimal,
}

fn aum_code() -> String {
    "aum".to_string()
}

/// A tier's qualification as written in a rule file: exactly one of `any_of` and `all_of`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualifyFile {
    /// Met when any of these criteria is met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<CriterionFile>,
    /// Met when every one of these criteria is met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all_of: Vec<CriterionFile>,
}
