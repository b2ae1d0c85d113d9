//! Lifecycle stages (SPEC §23): a second state machine beside the tier, its stages and their
//! rules in the rule book, as they are written and as they are compiled.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Tier;
use super::file::whole;
use super::measure::{Measure, measure_index};
use super::warning::positive_fen;
use super::window::{Window, WindowSlot, slot_of};
use crate::code::{MeasureCode, TierCode};
use crate::error::RuleError;
use crate::money::serde_amount as amount;
use crate::money::to_fen;

/// The standard stages (SPEC §23.4): what `[rule_sets.versions.lifecycle]` without `stages`
/// means, in the rule file's own form.
pub const STANDARD_LIFECYCLE_TOML: &str = r#"
[[stages]]
code = "churned"
name_zh = "流失"
after = ["churn_warning", "churned"]
when = [{ below = "1000" }]

[[stages]]
code = "recovered"
name_zh = "挽回"
after = ["churn_warning", "churned"]
when = [{ min = "10000" }, { against = "prev_1", rise_pct = "30" }]

[[stages]]
code = "churn_warning"
name_zh = "流失预警"
when = [{ against = "avg_3", fall_pct = "50" }]

[[stages]]
code = "declining"
name_zh = "衰退"
when = [{ against = "avg_3", fall_pct = "20" }]

[[stages]]
code = "potential"
name_zh = "潜在"
after = ["start", "potential"]
when = [{ below = "0.01" }]

[[stages]]
code = "new"
name_zh = "新客户"
after = ["start", "potential", "new"]
max_months = 6
when = [{ min = "0.01" }]

[[stages]]
code = "growing"
name_zh = "成长"
when = [{ against = "avg_3", rise_pct = "10" }]

[[stages]]
code = "mature"
name_zh = "成熟"
"#;

/// The word of `after` for a customer with no stage yet.
const START: &str = "start";

/// A version's lifecycle as written (`[rule_sets.versions.lifecycle]`, SPEC §23.1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleFile {
    /// The stages, first match wins; the standard stages (§23.4) when left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageFile>,
}

/// A stage as written (`…lifecycle.stages[s]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageFile {
    /// Stage code, such as `mature`.
    pub code: String,
    /// Chinese display name, such as 成熟.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name_zh: String,
    /// Only from these stages (`start`: a customer with no stage yet); from any when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Vec<String>>,
    /// Held at most this many months in a row (1 to 120); no limit when left out.
    #[serde(default, skip_serializing_if = "is_zero", deserialize_with = "whole::deserialize")]
    pub max_months: i64,
    /// The tests that must all hold; none: the stage always applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<StageTestFile>,
}

/// A test of a stage as written (`…stages[s].when[t]`): a measure and exactly one of `min`,
/// `below`, `fall_pct` and `rise_pct`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageTestFile {
    /// The measure read: `aum` (the default) or one the version declares.
    #[serde(default = "aum", skip_serializing_if = "is_aum")]
    pub measure: String,
    /// `min`, `below`: the window the measure is read over (default `month`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// `fall_pct`, `rise_pct`: the window the month is compared against (not `month`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub against: Option<Window>,
    /// Holds when the value is at least this amount.
    #[serde(default, with = "amount", skip_serializing_if = "Decimal::is_zero")]
    pub min: Decimal,
    /// Holds when the value is below this amount.
    #[serde(default, with = "amount", skip_serializing_if = "Decimal::is_zero")]
    pub below: Decimal,
    /// Holds when the month fell this many percent below `against`.
    #[serde(default, with = "amount", skip_serializing_if = "Decimal::is_zero")]
    pub fall_pct: Decimal,
    /// Holds when the month rose this many percent above `against`.
    #[serde(default, with = "amount", skip_serializing_if = "Decimal::is_zero")]
    pub rise_pct: Decimal,
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

/// A compiled lifecycle (SPEC §23): the stages in order, first match wins, the last always.
#[derive(Debug, Clone, PartialEq)]
pub struct Lifecycle {
    /// The stages, in the order they are tried.
    pub stages: Vec<Stage>,
}

/// A compiled stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// Its code (carried in the `stage_changed` event's tier fields, SPEC §23.2).
    pub code: TierCode,
    /// Its Chinese display name.
    pub name_zh: String,
    /// The stages it may follow (`None` in the list: no stage yet); from any when none.
    pub after: Option<Vec<Option<TierCode>>>,
    /// The most months it is held in a row.
    pub max_months: Option<u32>,
    /// The tests that must all hold.
    pub tests: Vec<StageTest>,
}

/// What a stage's test compares (amounts and shares in fen and basis points).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageRule {
    /// The value is at least this amount, in fen.
    Min(i64),
    /// The value is below this amount, in fen.
    Below(i64),
    /// The month is below this share of the window, in basis points (10,000 − 100·P).
    Fall(i64),
    /// The month is above this share of the window, in basis points (10,000 + 100·P).
    Rise(i64),
}

/// A compiled test of a stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageTest {
    /// The measure read.
    pub measure: MeasureCode,
    /// `min`/`below`: the window read; `fall_pct`/`rise_pct`: the window compared against.
    pub window: Window,
    /// The comparison.
    pub rule: StageRule,
    /// The index among the month's values of the value compared: the window's (`min`,
    /// `below`) or the month's (`fall_pct`, `rise_pct`).
    pub(crate) value: usize,
    /// `fall_pct`, `rise_pct`: the index of the window's value.
    pub(crate) against: usize,
}

impl Lifecycle {
    /// The stage of code `code`, when the lifecycle has it.
    pub fn stage(&self, code: TierCode) -> Option<&Stage> {
        self.stages.iter().find(|s| s.code == code)
    }
}

/// Compiles a version's lifecycle at field path `at` (the version), adding the windows its tests
/// read to `slots` (whose values follow the `values` measured values).
pub(super) fn compile_lifecycle(
    file: &LifecycleFile,
    measures: &[Measure],
    tiers: &[Tier],
    slots: &mut Vec<WindowSlot>,
    (values, at): (usize, &str),
) -> Result<Lifecycle, RuleError> {
    let at = format!("{at}.lifecycle");
    let standard;
    let files = if file.stages.is_empty() {
        standard = toml::from_str::<LifecycleFile>(STANDARD_LIFECYCLE_TOML)
            .map_err(|e| RuleError::new(&at, format!("the standard stages: {e}")))?;
        &standard.stages
    } else {
        &file.stages
    };
    let mut stages: Vec<Stage> = Vec::with_capacity(files.len());
    for (s, f) in files.iter().enumerate() {
        let sat = format!("{at}.stages[{s}]");
        let code = TierCode::register(&f.code).map_err(|e| RuleError::new(format!("{sat}.code"), e.to_string()))?;
        if stages.iter().any(|o| o.code == code) {
            return Err(RuleError::new(format!("{sat}.code"), format!("stage `{code}` is listed twice")));
        }
        if tiers.iter().any(|t| t.code == code) {
            return Err(RuleError::new(
                format!("{sat}.code"),
                format!("`{code}` is a tier of this version: a stage needs a code of its own"),
            ));
        }
        let max_months = match f.max_months {
            0 => None,
            n => Some(u32::try_from(n).ok().filter(|n| (1..=120).contains(n)).ok_or_else(|| {
                RuleError::new(format!("{sat}.max_months"), format!("max_months must be from 1 to 120, got {n}"))
            })?),
        };
        let mut tests = Vec::with_capacity(f.when.len());
        for (t, test) in f.when.iter().enumerate() {
            tests.push(compile_test(test, measures, slots, (values, &format!("{sat}.when[{t}]")))?);
        }
        let after = f.after.as_ref().map(|list| {
            list.iter().map(|c| if c == START { None } else { TierCode::register(c).ok() }).collect::<Vec<_>>()
        });
        stages.push(Stage { code, name_zh: f.name_zh.clone(), after, max_months, tests });
    }
    check_after(files, &stages, &at)?;
    match stages.last() {
        Some(last) if last.tests.is_empty() && last.after.is_none() && last.max_months.is_none() => {
            Ok(Lifecycle { stages })
        }
        _ => Err(RuleError::new(
            format!("{at}.stages[{}]", files.len().saturating_sub(1)),
            "the last stage must always apply (no `when`, `after` nor `max_months`), so that every customer has a stage",
        )),
    }
}

/// Refuses an `after` that names no stage of the list nor `start`.
fn check_after(files: &[StageFile], stages: &[Stage], at: &str) -> Result<(), RuleError> {
    for (s, f) in files.iter().enumerate() {
        for (k, c) in f.after.iter().flatten().enumerate() {
            if c != START && !stages.iter().any(|st| st.code.as_str() == c.as_str()) {
                return Err(RuleError::new(
                    format!("{at}.stages[{s}].after[{k}]"),
                    format!("`{c}` is not a stage of this lifecycle (nor `start`, for no stage yet)"),
                ));
            }
        }
    }
    Ok(())
}

/// Compiles one test at field path `tat`.
fn compile_test(
    f: &StageTestFile,
    measures: &[Measure],
    slots: &mut Vec<WindowSlot>,
    (values, tat): (usize, &str),
) -> Result<StageTest, RuleError> {
    let field = |name: &str| format!("{tat}.{name}");
    let value = measure_index(&f.measure, measures, &field("measure"))?;
    let measure = MeasureCode::register(&f.measure).map_err(|e| RuleError::new(field("measure"), e.to_string()))?;
    let given: Vec<&str> = [("min", f.min), ("below", f.below), ("fall_pct", f.fall_pct), ("rise_pct", f.rise_pct)]
        .iter()
        .filter(|(_, v)| !v.is_zero())
        .map(|(n, _)| *n)
        .collect();
    let [name] = given.as_slice() else {
        let message = "a test takes exactly one of `min`, `below`, `fall_pct` and `rise_pct`";
        return Err(RuleError::new(given.get(1).map_or_else(|| tat.to_string(), |n| field(n)), message));
    };
    let mut slot = |window: Window| match window {
        Window::Month => value,
        window => values + slot_of(slots, WindowSlot { code: measure, measure: value, window, complete: false }),
    };
    let test = |window, rule, value, against| StageTest { measure, window, rule, value, against };
    match *name {
        "min" | "below" => {
            if f.against.is_some() {
                return Err(RuleError::new(field("against"), format!("a `{name}` test reads `window`, not `against`")));
            }
            let window = f.window.unwrap_or_default();
            let amount = if *name == "min" { f.min } else { f.below };
            let fen = positive_fen(amount, &field(name))?;
            let rule = if *name == "min" { StageRule::Min(fen) } else { StageRule::Below(fen) };
            Ok(test(window, rule, slot(window), 0))
        }
        _ => {
            if f.window.is_some() {
                return Err(RuleError::new(
                    field("window"),
                    format!("a `{name}` test compares the month against `against`, and takes no `window`"),
                ));
            }
            let against = match f.against {
                Some(w) if !w.is_month() => w,
                _ => {
                    return Err(RuleError::new(
                        field("against"),
                        format!(
                            "a `{name}` test needs the window the month is compared against, such as `avg_3` (not `month`)"
                        ),
                    ));
                }
            };
            let fall = *name == "fall_pct";
            let p = if fall { f.fall_pct } else { f.rise_pct };
            let top = if fall { Decimal::ONE_HUNDRED } else { Decimal::ONE_THOUSAND };
            if p <= Decimal::ZERO || p >= top || p != p.round_dp(2) {
                return Err(RuleError::new(
                    field(name),
                    format!("{name} must be above 0 and below {top}, with at most 2 decimals, got {p}"),
                ));
            }
            // 10,000 ∓ 100·P in basis points: whole, as P has at most 2 decimals.
            let share = to_fen(if fall { Decimal::ONE_HUNDRED - p } else { Decimal::ONE_HUNDRED + p }).unwrap_or(0);
            let rule = if fall { StageRule::Fall(share) } else { StageRule::Rise(share) };
            Ok(test(against, rule, value, slot(against)))
        }
    }
}
