//! Warnings (SPEC §22): rule-book rules that tell an account manager about an abnormal change of
//! a customer's measure this month, as they are written and as they are compiled.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::file::whole;
use super::measure::{Measure, measure_index};
use super::window::{MAX_WINDOW_MONTHS, Window, WindowSlot, slot_of};
use super::{RuleBook, RuleVersion, Tier};
use crate::code::{MeasureCode, TierCode};
use crate::engine::Customer;
use crate::error::{RuleError, TieringError};
use crate::event::{Alert, AlertKind};
use crate::money::serde_amount as amount;
use crate::money::{MAX_AMOUNT, to_fen};

/// What a warning watches for (SPEC §22.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The month's value fell more than `percent` below the window's (大幅下降).
    DropPct,
    /// Each of the last `months` months was below `amount` (持续低于).
    BelowFor,
    /// A day's total balance moved by more than `amount` from the day before, read from the
    /// month's daily balances (大额变动, SPEC §22.5).
    LargeFlow,
    /// No customer-initiated activity for at least `days` days, with AUM at most `amount`
    /// (睡眠, SPEC §22.6).
    Dormant,
    /// Dormant last month, active this month with AUM at least `amount` (重新激活, SPEC §22.6).
    Reactivated,
    /// A declared measure of principal matured and not reinvested in the month at least
    /// `amount` (到期未续存, SPEC §22.7).
    MaturityNotReinvested,
}

/// Who acts on a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningRole {
    /// The customer's account manager (客户经理), the default.
    #[default]
    Manager,
    /// The branch (网点 / 支行).
    Branch,
}

/// A warning as written in a rule file (`[[rule_sets.versions.warnings]]`, SPEC §22.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarningFile {
    /// `drop_pct` or `below_for`.
    pub kind: WarningKind,
    /// Chinese display name, such as 资产大幅下降.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name_zh: String,
    /// The measure it reads: `aum` (the default) or one the version declares.
    #[serde(default = "aum", skip_serializing_if = "is_aum")]
    pub measure: String,
    /// `drop_pct`: the window the month is compared against (not `month`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// `drop_pct`: the fall in percent, above 0 and below 100, at most 2 decimals.
    #[serde(default, with = "amount", skip_serializing_if = "Decimal::is_zero")]
    pub percent: Decimal,
    /// `below_for`: the amount each month is below (above 0, whole fen).
    #[serde(default, with = "amount", skip_serializing_if = "Decimal::is_zero")]
    pub amount: Decimal,
    /// `below_for`: the months (2 to 24).
    #[serde(default, skip_serializing_if = "is_zero", deserialize_with = "whole::deserialize")]
    pub months: i64,
    /// `dormant`, `reactivated`: the days without customer-initiated activity (1 to 3,660).
    #[serde(default, skip_serializing_if = "is_zero", deserialize_with = "whole::deserialize")]
    pub days: i64,
    /// Only customers whose tier is at or above this one; every customer when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tier: Option<String>,
    /// Who acts: `manager` (default) or `branch`.
    #[serde(default, skip_serializing_if = "is_manager")]
    pub role: WarningRole,
    /// Months the alert stays open (its `months_left`), 1 to 12, default 1.
    #[serde(default = "one", skip_serializing_if = "is_one", deserialize_with = "whole::deserialize")]
    pub lifetime_months: i64,
    /// Per legal entity (法人机构号), the settings that differ there (SPEC §22.4).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub legal_entities: BTreeMap<String, WarningOverride>,
}

/// What a legal entity changes of a warning (SPEC §22.4): each setting given replaces the
/// warning's there; `off` turns the warning off there.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarningOverride {
    /// `drop_pct`: the fall in percent there.
    #[serde(default, with = "amount", skip_serializing_if = "Decimal::is_zero")]
    pub percent: Decimal,
    /// `below_for`: the amount there.
    #[serde(default, with = "amount", skip_serializing_if = "Decimal::is_zero")]
    pub amount: Decimal,
    /// `below_for`: the months there.
    #[serde(default, skip_serializing_if = "is_zero", deserialize_with = "whole::deserialize")]
    pub months: i64,
    /// The lowest tier it applies to there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tier: Option<String>,
    /// Who acts there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<WarningRole>,
    /// Months the alert stays open there.
    #[serde(default, skip_serializing_if = "is_zero", deserialize_with = "whole::deserialize")]
    pub lifetime_months: i64,
    /// `dormant`, `reactivated`: the days there.
    #[serde(default, skip_serializing_if = "is_zero", deserialize_with = "whole::deserialize")]
    pub days: i64,
    /// The warning does not apply there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub off: bool,
}

impl WarningFile {
    /// The warning as it applies in legal entity `entity`: its override's settings in place of
    /// its own, none when the override turns it off; without overrides either way.
    pub(crate) fn in_entity(&self, entity: &str) -> Option<WarningFile> {
        let mut w = WarningFile { legal_entities: BTreeMap::new(), ..self.clone() };
        let Some(o) = self.legal_entities.get(entity) else { return Some(w) };
        if o.off {
            return None;
        }
        if !o.percent.is_zero() {
            w.percent = o.percent;
        }
        if !o.amount.is_zero() {
            w.amount = o.amount;
        }
        if o.months != 0 {
            w.months = o.months;
        }
        if o.lifetime_months != 0 {
            w.lifetime_months = o.lifetime_months;
        }
        if o.days != 0 {
            w.days = o.days;
        }
        w.min_tier = o.min_tier.clone().or(w.min_tier);
        w.role = o.role.unwrap_or(w.role);
        Some(w)
    }
}

impl WarningKind {
    /// The kind of the alert a warning of this kind gives (SPEC §22.3).
    pub fn alert_kind(self) -> AlertKind {
        match self {
            WarningKind::DropPct => AlertKind::DropPct,
            WarningKind::BelowFor => AlertKind::BelowFor,
            WarningKind::LargeFlow => AlertKind::LargeFlow,
            WarningKind::Dormant => AlertKind::Dormant,
            WarningKind::Reactivated => AlertKind::Reactivated,
            WarningKind::MaturityNotReinvested => AlertKind::MaturityNotReinvested,
        }
    }
}

impl WarningRole {
    /// The code as the rule book writes it: `manager` or `branch`.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningRole::Manager => "manager",
            WarningRole::Branch => "branch",
        }
    }

    /// The Chinese name: 客户经理 or 网点.
    pub fn name_zh(self) -> &'static str {
        match self {
            WarningRole::Manager => "客户经理",
            WarningRole::Branch => "网点",
        }
    }
}

impl Warning {
    /// The most months a warning's alert stays open (`lifetime_months`, SPEC §22.1).
    pub const MAX_LIFETIME_MONTHS: u32 = 12;
}

impl RuleVersion {
    /// The warning of this version that gave `alert` (SPEC §22.3): the one of the alert's kind,
    /// measure and window, which a version holds at most once (decision 38); none for an alert
    /// that is not a warning's, or that no warning of the version gives.
    pub fn warning_of(&self, alert: &Alert) -> Option<&Warning> {
        if !alert.kind.is_warning() {
            return None;
        }
        self.warnings.iter().find(|w| {
            w.kind.alert_kind() == alert.kind
                && alert.measure == Some(w.measure)
                && alert.measure_window == Some(w.window).filter(|w| !w.is_month())
        })
    }
}

impl RuleBook {
    /// The warning that gave `alert` to `customer` (SPEC §22.3): the customer's rule set
    /// (§9, a legal entity's overrides of §22.4 included), its version in force in the
    /// alert's month, and that version's warning of the alert's kind, measure and window.
    /// None for an alert that is not a warning's (SPEC §11) or that no such warning gives.
    ///
    /// # Errors
    /// [`TieringError::Rules`] when no rule set applies to the customer, and
    /// [`TieringError::Input`] when none of its versions is in force in the alert's month.
    pub fn warning_of(&self, customer: &Customer, alert: &Alert) -> Result<Option<&Warning>, TieringError> {
        if !alert.kind.is_warning() {
            return Ok(None);
        }
        let set = self.select(customer.legal_entity.as_deref(), customer.kind)?;
        Ok(self.version_for(set, alert.month, &customer.id)?.warning_of(alert))
    }
}

fn aum() -> String {
    "aum".into()
}
fn is_aum(s: &str) -> bool {
    s == "aum"
}
fn is_zero(n: &i64) -> bool {
    *n == 0
}
fn one() -> i64 {
    1
}
fn is_one(n: &i64) -> bool {
    *n == 1
}
fn is_manager(r: &WarningRole) -> bool {
    *r == WarningRole::Manager
}

/// A compiled warning of a version (SPEC §22).
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// What it watches for.
    pub kind: WarningKind,
    /// Its display name.
    pub name_zh: String,
    /// The measure it reads.
    pub measure: MeasureCode,
    /// `drop_pct`: the window compared against; `below_for`: `max_k` over its months.
    pub window: Window,
    /// `drop_pct`: the fall in percent; zero for `below_for`.
    pub percent: Decimal,
    /// `below_for`: the amount in fen; zero for `drop_pct`.
    pub amount_fen: i64,
    /// `below_for`: the months; zero otherwise.
    pub months: u32,
    /// `dormant`, `reactivated`: the days without customer-initiated activity; zero otherwise.
    pub days: u32,
    /// The lowest tier it applies to, when limited.
    pub min_tier: Option<TierCode>,
    /// Who acts.
    pub role: WarningRole,
    /// Months the alert stays open.
    pub lifetime_months: u32,
    /// The measure's index among the month's measured values (0 is AUM).
    pub(crate) value: usize,
    /// The index of the window's value among the month's values.
    pub(crate) windowed: usize,
    /// `drop_pct`: 10,000 − 100 × percent, the share of the window's value kept, in basis
    /// points of a percent (exact: the percent has at most 2 decimals).
    pub(crate) kept: i64,
    /// The rank of `min_tier` in the version's tiers.
    pub(crate) min_rank: Option<usize>,
}

/// Compiles a version's warnings at field path `at` (the version), adding the windows they read
/// to `slots` (whose values follow the `values` measured values).
pub(super) fn compile_warnings(
    files: &[WarningFile],
    measures: &[Measure],
    tiers: &[Tier],
    slots: &mut Vec<WindowSlot>,
    (values, at): (usize, &str),
) -> Result<Vec<Warning>, RuleError> {
    let mut warnings: Vec<Warning> = Vec::with_capacity(files.len());
    for (k, f) in files.iter().enumerate() {
        let wat = format!("{at}.warnings[{k}]");
        let w = compile_warning(f, measures, tiers, slots, (values, &wat))?;
        // Each legal entity's form is checked here, naming its own fields (its windows are the
        // legal entity's rule set's, SPEC §22.4).
        for entity in f.legal_entities.keys() {
            let eat = format!("{wat}.legal_entities.{entity}");
            if entity.trim().is_empty() {
                return Err(RuleError::new(eat, "legal entity is empty"));
            }
            if let Some(there) = f.in_entity(entity) {
                compile_warning(&there, measures, tiers, &mut slots.clone(), (values, &eat))?;
            }
        }
        if warnings.iter().any(|o| o.kind == w.kind && o.measure == w.measure && o.window == w.window) {
            return Err(RuleError::new(
                wat,
                format!(
                    "a version holds one `{}` warning per measure and window; `{}` over `{}` is listed twice",
                    kind_code(w.kind),
                    w.measure,
                    w.window
                ),
            ));
        }
        warnings.push(w);
    }
    Ok(warnings)
}

/// An amount above 0, at most `MAX_AMOUNT`, in whole fen, in fen.
pub(super) fn positive_fen(a: Decimal, field: &str) -> Result<i64, RuleError> {
    if a <= Decimal::ZERO || a > MAX_AMOUNT || a != a.round_dp(2) {
        return Err(RuleError::new(
            field,
            format!("amount must be above 0, at most {MAX_AMOUNT}, in whole fen, got {a}"),
        ));
    }
    Ok(to_fen(a).unwrap_or(0))
}

fn kind_code(kind: WarningKind) -> &'static str {
    match kind {
        WarningKind::DropPct => "drop_pct",
        WarningKind::BelowFor => "below_for",
        WarningKind::LargeFlow => "large_flow",
        WarningKind::Dormant => "dormant",
        WarningKind::Reactivated => "reactivated",
        WarningKind::MaturityNotReinvested => "maturity_not_reinvested",
    }
}

fn compile_warning(
    f: &WarningFile,
    measures: &[Measure],
    tiers: &[Tier],
    slots: &mut Vec<WindowSlot>,
    (values, wat): (usize, &str),
) -> Result<Warning, RuleError> {
    let field = |name: &str| format!("{wat}.{name}");
    let mut value = measure_index(&f.measure, measures, &field("measure"))?;
    let measure = MeasureCode::register(&f.measure).map_err(|e| RuleError::new(field("measure"), e.to_string()))?;
    let (window, kept, amount_fen, months) = kind_settings(f, measures, &mut value, wat)?;
    let (days, months) = match f.kind {
        WarningKind::Dormant | WarningKind::Reactivated => (months, 0),
        _ => (0, months),
    };
    let complete = f.kind == WarningKind::BelowFor;
    let windowed = match f.kind {
        WarningKind::LargeFlow | WarningKind::Dormant | WarningKind::MaturityNotReinvested => value,
        _ => values + slot_of(slots, WindowSlot { code: measure, measure: value, window, complete }),
    };
    let (min_tier, min_rank) = match &f.min_tier {
        None => (None, None),
        Some(code) => {
            let at = tiers.iter().position(|t| t.code.as_str() == code.as_str());
            let rank = at.ok_or_else(|| {
                RuleError::new(field("min_tier"), format!("tier `{code}` is not in this version's tiers"))
            })?;
            (tiers.get(rank).map(|t| t.code), Some(rank))
        }
    };
    let lifetime_months = u32::try_from(f.lifetime_months)
        .ok()
        .filter(|n| (1..=Warning::MAX_LIFETIME_MONTHS).contains(n))
        .ok_or_else(|| {
            RuleError::new(
                field("lifetime_months"),
                format!("lifetime_months must be from 1 to 12, got {}", f.lifetime_months),
            )
        })?;
    Ok(Warning {
        kind: f.kind,
        name_zh: f.name_zh.clone(),
        measure,
        window,
        percent: f.percent,
        amount_fen,
        months,
        days,
        min_tier,
        role: f.role,
        lifetime_months,
        value,
        windowed,
        kept,
        min_rank,
    })
}

/// What a warning's kind reads (at field path `wat`): its window, the share `drop_pct` keeps,
/// the amount in fen and the months; `value` becomes the index of what it reads when that is
/// not a measure (the largest daily change of `large_flow`).
/// Refuses, naming the first, the settings among `names` that `f`'s kind does not read.
fn takes_none(f: &WarningFile, wat: &str, names: &[&str]) -> Result<(), RuleError> {
    for &name in names {
        let given = match name {
            "window" => f.window.is_some(),
            "percent" => !f.percent.is_zero(),
            "amount" => !f.amount.is_zero(),
            "months" => f.months != 0,
            "days" => f.days != 0,
            _ => false,
        };
        if given {
            let message = format!("a `{}` warning takes no `{name}`", kind_code(f.kind));
            return Err(RuleError::new(format!("{wat}.{name}"), message));
        }
    }
    Ok(())
}

fn kind_settings(
    f: &WarningFile,
    measures: &[Measure],
    value: &mut usize,
    wat: &str,
) -> Result<(Window, i64, i64, u32), RuleError> {
    let field = |name: &str| format!("{wat}.{name}");
    let unused = |names: &[&str]| takes_none(f, wat, names);
    Ok(match f.kind {
        WarningKind::DropPct => {
            unused(&["amount", "months", "days"])?;
            let window = match f.window {
                Some(w) if !w.is_month() => w,
                _ => {
                    return Err(RuleError::new(
                        field("window"),
                        "a `drop_pct` warning needs the window it compares against, such as `prev_1` (not `month`)",
                    ));
                }
            };
            let p = f.percent;
            if p <= Decimal::ZERO || p >= Decimal::ONE_HUNDRED || p != p.round_dp(2) {
                return Err(RuleError::new(
                    field("percent"),
                    format!("percent must be above 0 and below 100, with at most 2 decimals, got {p}"),
                ));
            }
            // 10,000 − 100·p in basis points: whole, as p has at most 2 decimals.
            let kept = to_fen(Decimal::ONE_HUNDRED - p).unwrap_or(0);
            (window, kept, 0, 0)
        }
        WarningKind::BelowFor => {
            unused(&["window", "percent", "days"])?;
            let months =
                u8::try_from(f.months).ok().filter(|k| (2..=MAX_WINDOW_MONTHS).contains(k)).ok_or_else(|| {
                    RuleError::new(
                        field("months"),
                        format!("months must be from 2 to {MAX_WINDOW_MONTHS}, got {}", f.months),
                    )
                })?;
            (Window::Max(months), 0, positive_fen(f.amount, &field("amount"))?, u32::from(months))
        }
        WarningKind::LargeFlow => {
            unused(&["window", "percent", "months", "days"])?;
            if *value != 0 {
                return Err(RuleError::new(
                    field("measure"),
                    "a `large_flow` warning reads the daily balances of the AUM composition: its measure is `aum`",
                ));
            }
            // The month's largest daily change follows the measured values (SPEC §22.5).
            *value = measures.len() + 1;
            (Window::Month, 0, positive_fen(f.amount, &field("amount"))?, 0)
        }
        WarningKind::MaturityNotReinvested => {
            unused(&["window", "percent", "months", "days"])?;
            if *value == 0 {
                return Err(RuleError::new(
                    field("measure"),
                    "a `maturity_not_reinvested` warning reads a declared measure of principal matured and not reinvested (such as `matured_not_reinvested`), not `aum`",
                ));
            }
            (Window::Month, 0, positive_fen(f.amount, &field("amount"))?, 0)
        }
        WarningKind::Dormant | WarningKind::Reactivated => {
            unused(&["window", "percent", "months"])?;
            if *value == 0 {
                return Err(RuleError::new(
                    field("measure"),
                    format!(
                        "a `{}` warning reads a declared measure of days without customer-initiated activity (such as `days_inactive`), not `aum`",
                        kind_code(f.kind)
                    ),
                ));
            }
            let days = u32::try_from(f.days)
                .ok()
                .filter(|d| (1..=3660).contains(d))
                .ok_or_else(|| RuleError::new(field("days"), format!("days must be from 1 to 3660, got {}", f.days)))?;
            let window = if f.kind == WarningKind::Reactivated { Window::Prev(1) } else { Window::Month };
            (window, 0, positive_fen(f.amount, &field("amount"))?, days)
        }
    })
}
