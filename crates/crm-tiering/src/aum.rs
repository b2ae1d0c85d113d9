//! AUM composition: from component balances to a customer's monthly daily-average AUM (月日均).

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::error::{InputError, RuleError};
use crate::money::serde_amount as amount;
use crate::money::{MAX_AMOUNT, MAX_FEN, fen_of, round_fen, to_fen};
use crate::month::Month;

/// The divisor of a monthly daily average.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Divisor {
    /// The calendar days of the month, 28 to 31 (default).
    #[default]
    CalendarDays,
    /// A fixed 30, as some banks' rules define it.
    Thirty,
}

/// What a day with no balance in a daily extract counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MissingDay {
    /// Zero (default): the account held nothing that day.
    #[default]
    Zero,
    /// The previous day's balance (for extracts that skip non-business days); zero before the
    /// month's first balance.
    CarryForward,
}

/// How the average is rounded to the fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// 四舍五入, half away from zero (default).
    #[default]
    HalfUp,
    /// Banker's rounding, half to even.
    HalfEven,
}

impl Rounding {
    /// Whether this is the default, `half_up` (rule files leave it out).
    pub fn is_half_up(&self) -> bool {
        *self == Rounding::HalfUp
    }

    pub(crate) fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
        }
    }
}

/// Where rounding happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RoundingLevel {
    /// Once, on the customer's total (default).
    #[default]
    Customer,
    /// On each component entry's average, then on the weighted total.
    Component,
}

/// AUM composition as written in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AumFile {
    /// `calendar_days` (default) or `thirty`.
    #[serde(default)]
    pub divisor: Divisor,
    /// `zero` (default) or `carry_forward`.
    #[serde(default)]
    pub missing_day: MissingDay,
    /// `half_up` (default) or `half_even`.
    #[serde(default)]
    pub rounding: Rounding,
    /// `customer` (default) or `component`.
    #[serde(default)]
    pub rounding_level: RoundingLevel,
    /// The component catalogue.
    pub components: Vec<ComponentFile>,
}

/// An AUM component as written in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentFile {
    /// Component code, such as `time_deposit`.
    pub code: String,
    /// Chinese display name.
    #[serde(default)]
    pub name_zh: String,
    /// English display name.
    #[serde(default)]
    pub name_en: String,
    /// Group, such as `deposits`, `investment_wealth` or `custody_margin`.
    pub group: String,
    /// Whether the component counts toward AUM (default true).
    #[serde(default = "included_by_default")]
    pub included: bool,
    /// Weight from 0 to 10 (default 1).
    #[serde(default = "weight_one", with = "amount")]
    pub weight: Decimal,
}

fn included_by_default() -> bool {
    true
}

fn weight_one() -> Decimal {
    Decimal::ONE
}

/// A component of the AUM catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Code, such as `time_deposit`.
    pub code: String,
    /// Chinese display name.
    pub name_zh: String,
    /// English display name.
    pub name_en: String,
    /// Group, such as `deposits`.
    pub group: String,
    /// Whether it counts toward AUM.
    pub included: bool,
    /// Its weight.
    pub weight: Decimal,
}

/// The AUM composition of a rule version: the component catalogue and how averages are made.
#[derive(Debug, Clone, PartialEq)]
pub struct Composition {
    components: Vec<Component>,
    /// The divisor.
    pub divisor: Divisor,
    /// Missing days in daily extracts.
    pub missing_day: MissingDay,
    /// Rounding mode.
    pub rounding: Rounding,
    /// Rounding level.
    pub rounding_level: RoundingLevel,
}

/// An amount for one component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentAmount {
    /// The component code (shared, so that a reader's records reuse one allocation per code).
    pub component: std::sync::Arc<str>,
    /// The amount.
    #[serde(with = "amount")]
    pub amount: Decimal,
}

/// End-of-day balances for one component, one slot per calendar day (`None`: no balance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentDaily {
    /// The component code.
    pub component: String,
    /// One balance per day of the month.
    #[serde(with = "amount::option_list")]
    pub balances: Vec<Option<Decimal>>,
}

/// A customer's AUM input for one month, in one of the forms warehouses export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AumInput {
    /// The month's AUM, already computed (rounded to the fen by the engine).
    Total(#[serde(with = "amount")] Decimal),
    /// Monthly daily averages per component (what most warehouses hold).
    Averages(Vec<ComponentAmount>),
    /// Sums of daily balances (积数) per component.
    DaySums(Vec<ComponentAmount>),
    /// Daily end-of-day balances per component.
    Daily(Vec<ComponentDaily>),
}

impl Default for AumInput {
    fn default() -> Self {
        AumInput::Total(Decimal::ZERO)
    }
}

impl Composition {
    pub(crate) fn compile(file: &AumFile, at: &str) -> Result<Self, RuleError> {
        let mut components: Vec<Component> = Vec::with_capacity(file.components.len());
        let ten = Decimal::TEN;
        for (i, c) in file.components.iter().enumerate() {
            let cat = format!("{at}.components[{i}]");
            let valid = !c.code.is_empty()
                && c.code.len() <= 40
                && c.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
            if !valid {
                return Err(RuleError::new(
                    format!("{cat}.code"),
                    format!(
                        "`{}` is not a valid component code: expected 1 to 40 characters of a-z, 0-9, `_` or `-`",
                        c.code
                    ),
                ));
            }
            if components.iter().any(|p| p.code == c.code) {
                return Err(RuleError::new(format!("{cat}.code"), format!("duplicate component code `{}`", c.code)));
            }
            if c.weight < Decimal::ZERO || c.weight > ten {
                return Err(RuleError::new(
                    format!("{cat}.weight"),
                    format!("weight must be from 0 to 10, got {}", c.weight),
                ));
            }
            components.push(Component {
                code: c.code.clone(),
                name_zh: c.name_zh.clone(),
                name_en: c.name_en.clone(),
                group: c.group.clone(),
                included: c.included,
                weight: c.weight,
            });
        }
        if !components.iter().any(|c| c.included) {
            return Err(RuleError::new(format!("{at}.components"), "at least one component must be included"));
        }
        Ok(Composition {
            components,
            divisor: file.divisor,
            missing_day: file.missing_day,
            rounding: file.rounding,
            rounding_level: file.rounding_level,
        })
    }

    /// This composition with other weights (SPEC §19.1, a composed measure): each listed
    /// component `(code, included, weight)` takes the given inclusion and weight, and every other
    /// component is left out; averaging and missing days stay this composition's, the rounding
    /// is `rounding`.
    pub(crate) fn reweighted(&self, listed: &[(String, bool, Decimal)], rounding: Rounding) -> Self {
        let mut c = self.clone();
        for comp in &mut c.components {
            match listed.iter().find(|(code, ..)| *code == comp.code) {
                Some((_, included, weight)) => {
                    comp.included = *included;
                    comp.weight = *weight;
                }
                None => comp.included = false,
            }
        }
        c.rounding = rounding;
        c
    }

    /// The component catalogue.
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// The component with this code.
    pub fn component(&self, code: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.code == code)
    }

    /// The divisor for a month's daily average.
    pub fn days(&self, month: Month) -> u32 {
        match self.divisor {
            Divisor::CalendarDays => month.days(),
            Divisor::Thirty => 30,
        }
    }

    /// Computes a customer's AUM for a month, rounded to the fen.
    ///
    /// ```
    /// use crm_tiering::{AumInput, ComponentAmount, RuleBook, parse_amount};
    /// let book = RuleBook::default_book()?;
    /// let v = book.rule_sets()[0].version_for("2024-04".parse()?).unwrap();
    /// // 积数 (sums of daily balances) over April's 30 days.
    /// let input = AumInput::DaySums(vec![
    ///     ComponentAmount { component: "time_deposit".into(), amount: parse_amount("6000000")? },
    ///     ComponentAmount { component: "wealth_product".into(), amount: parse_amount("100.01")? },
    /// ]);
    /// let aum = v.aum.compute(&input, "2024-04".parse()?, "c1")?;
    /// assert_eq!(aum.to_string(), "200003.33"); // 6000100.01 / 30, half-up to the fen
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`InputError`] naming the customer, month and component for an unknown component, a
    /// negative amount, a daily series of the wrong length, or an amount too large.
    #[inline]
    pub fn compute(&self, input: &AumInput, month: Month, customer: &str) -> Result<Decimal, InputError> {
        // The hot path of a batch, small enough to inline: a total at the fen scale, not
        // negative and within the maximum, which `compute_general` would give back unchanged
        // (no rounding to do); everything else (errors included) is out of line.
        if let AumInput::Total(a) = input
            && let Some((_, aum)) = crate::money::plain_fen(a)
        {
            return Ok(aum);
        }
        self.compute_general(input, month, customer)
    }

    /// [`Composition::compute`] for any input.
    #[inline(never)]
    fn compute_general(&self, input: &AumInput, month: Month, customer: &str) -> Result<Decimal, InputError> {
        if let AumInput::Total(a) = input {
            // The hot path of a batch: the warehouse already computed the AUM.
            if a.is_sign_negative() && !a.is_zero() {
                return Err(InputError::new(customer, Some(month), "aum", format!("amount {a} is negative")));
            }
            if crate::money::above_max(*a) {
                return Err(InputError::new(customer, Some(month), "aum", above_max_message(*a)));
            }
            return Ok(round_fen(*a, self.rounding.strategy()));
        }
        let strategy = self.rounding.strategy();
        let days = Decimal::from(self.days(month));
        let err = |field: &str, msg: String| InputError::new(customer, Some(month), field, msg);
        let too_large = |field: &str| err(field, "amount is too large to compute".to_string());
        // A 积数 (sum of a month's daily balances) may reach the month's days times the bound.
        let limit_of = |is_sum: bool| if is_sum { MAX_AMOUNT * Decimal::from(31) } else { MAX_AMOUNT };
        let check_limit = |field: &str, a: Decimal, limit: Decimal| -> Result<(), InputError> {
            if a.is_sign_negative() && !a.is_zero() {
                Err(err(field, format!("amount {a} is negative")))
            } else if a > limit {
                Err(err(field, above_max_message(a)))
            } else {
                Ok(())
            }
        };
        let check = |field: &str, a: Decimal| check_limit(field, a, MAX_AMOUNT);
        let component_level = self.rounding_level == RoundingLevel::Component;
        // Sums `weight * value` over included entries; `divide` says whether each value is a
        // sum over days (divided once at the end, or per entry at component level).
        let weighted =
            |entries: &mut dyn Iterator<Item = (&str, Decimal)>, divide: bool| -> Result<Decimal, InputError> {
                let mut total = Decimal::ZERO;
                for (code, value) in entries {
                    check_limit(code, value, limit_of(divide))?;
                    let c = self.component(code).ok_or_else(|| {
                        err(code, format!("`{code}` is not a component of the rule book's AUM catalogue"))
                    })?;
                    if !c.included {
                        continue;
                    }
                    let mut v = value;
                    if component_level {
                        if divide {
                            v = v.checked_div(days).ok_or_else(|| too_large(code))?;
                        }
                        v = round_fen(v, strategy);
                    }
                    let w = v.checked_mul(c.weight).ok_or_else(|| too_large(code))?;
                    total = total.checked_add(w).ok_or_else(|| too_large(code))?;
                }
                if divide && !component_level {
                    total = total.checked_div(days).ok_or_else(|| too_large("aum"))?;
                }
                let aum = round_fen(total, strategy);
                if aum > MAX_AMOUNT {
                    return Err(err("aum", format!("the computed AUM {aum} is above the maximum amount {MAX_AMOUNT}")));
                }
                Ok(aum)
            };
        match input {
            AumInput::Total(a) => Ok(round_fen(*a, strategy)),
            AumInput::Averages(list) => match self.averages_in_fen(list) {
                Some(aum) => Ok(aum),
                None => weighted(&mut list.iter().map(|c| (&*c.component, c.amount)), false),
            },
            AumInput::DaySums(list) => weighted(&mut list.iter().map(|c| (&*c.component, c.amount)), true),
            AumInput::Daily(list) => {
                let mut sums = Vec::with_capacity(list.len());
                for series in list {
                    let code = series.component.as_str();
                    if series.balances.len() != month.days() as usize {
                        return Err(err(
                            code,
                            format!(
                                "daily series has {} balances, but {month} has {} days",
                                series.balances.len(),
                                month.days()
                            ),
                        ));
                    }
                    sums.push((code, self.day_sum(&series.balances, code, &check, &too_large)?));
                }
                weighted(&mut sums.into_iter(), true)
            }
        }
    }

    /// The usual month, summed in integer fen: every amount in fen (two decimals), not
    /// negative, within `MAX_AMOUNT`, of a known component of weight 1 or excluded, and the
    /// total within `MAX_AMOUNT`. Then every rounding is the identity and the weighted sum is
    /// the integer sum, so the result equals the general computation's; anything else (and
    /// every error) is left to it (`None`).
    fn averages_in_fen(&self, list: &[ComponentAmount]) -> Option<Decimal> {
        let mut total: i128 = 0;
        for c in list {
            let fen = fen_of(&c.amount)?;
            match self.fen_slot(&c.component) {
                FenSlot::Add => total += i128::from(fen),
                FenSlot::Skip => {}
                FenSlot::General => return None,
            }
        }
        fen_total(total)
    }

    /// What the sum in integer fen does with an amount of component `code` (see
    /// [`Composition::compute`]'s fast path): a component of weight 1 is added, an excluded
    /// one skipped, and an unknown one or one of another weight needs the general computation.
    pub(crate) fn fen_slot(&self, code: &str) -> FenSlot {
        match self.component(code) {
            None => FenSlot::General,
            Some(c) if !c.included => FenSlot::Skip,
            Some(c) if c.weight == Decimal::ONE => FenSlot::Add,
            Some(_) => FenSlot::General,
        }
    }

    /// The largest change of the total balance from one day to the next (SPEC §22.5), in fen:
    /// each day's total the included components' balances times their weights (a missing day
    /// as `missing_day` says), rounded half up at the end. None when the input is not daily
    /// balances, or has fewer than two days.
    pub(crate) fn largest_daily_change(&self, input: &AumInput) -> Option<i64> {
        let AumInput::Daily(list) = input else { return None };
        let days = list.iter().map(|s| s.balances.len()).max().filter(|&n| n >= 2)?;
        let mut totals = vec![Decimal::ZERO; days];
        for series in list {
            let Some(c) = self.component(&series.component).filter(|c| c.included) else { continue };
            let mut last = Decimal::ZERO;
            for (total, b) in totals.iter_mut().zip(&series.balances) {
                let day = match (b, self.missing_day) {
                    (Some(v), _) => {
                        last = *v;
                        *v
                    }
                    (None, MissingDay::Zero) => Decimal::ZERO,
                    (None, MissingDay::CarryForward) => last,
                };
                *total = total.checked_add(day.checked_mul(c.weight)?)?;
            }
        }
        let largest = totals.windows(2).filter_map(|w| w.get(1)?.checked_sub(*w.first()?)).map(|d| d.abs()).max()?;
        to_fen(round_fen(largest, RoundingStrategy::MidpointAwayFromZero))
    }

    fn day_sum(
        &self,
        balances: &[Option<Decimal>],
        code: &str,
        check: &dyn Fn(&str, Decimal) -> Result<(), InputError>,
        too_large: &dyn Fn(&str) -> InputError,
    ) -> Result<Decimal, InputError> {
        let mut sum = Decimal::ZERO;
        let mut last = Decimal::ZERO;
        for b in balances {
            let day = match (b, self.missing_day) {
                (Some(v), _) => {
                    check(code, *v)?;
                    last = *v;
                    *v
                }
                (None, MissingDay::Zero) => Decimal::ZERO,
                (None, MissingDay::CarryForward) => last,
            };
            sum = sum.checked_add(day).ok_or_else(|| too_large(code))?;
        }
        Ok(sum)
    }
}

/// What the sum in integer fen does with one component of a composition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FenSlot {
    /// A component of weight 1: its fen are added.
    Add,
    /// A component that does not count toward AUM: skipped.
    Skip,
    /// An unknown component, or one of another weight: the general computation decides.
    General,
}

/// The month's AUM from component averages kept in fen (each from [`fen_of`]), `entries`
/// being (slot, fen) with `slots` the composition's [`FenSlot`] of each: exactly what
/// [`Composition::compute`] gives for the same averages, or `None` when that computation must
/// decide (a component it does not sum in fen, or a total above [`MAX_AMOUNT`]).
#[inline]
pub(crate) fn sum_fen(slots: &[FenSlot], entries: impl Iterator<Item = (usize, i64)>) -> Option<Decimal> {
    let mut total: i128 = 0;
    for (slot, fen) in entries {
        match slots.get(slot)? {
            FenSlot::Add => total += i128::from(fen),
            FenSlot::Skip => {}
            FenSlot::General => return None,
        }
    }
    fen_total(total)
}

/// A total in fen as an amount of two decimals, when within [`MAX_AMOUNT`].
#[inline]
fn fen_total(total: i128) -> Option<Decimal> {
    if total > i128::from(MAX_FEN) {
        return None;
    }
    Decimal::try_from_i128_with_scale(total, 2).ok()
}

/// The message for an amount above [`MAX_AMOUNT`].
pub(crate) fn above_max_message(a: Decimal) -> String {
    format!("amount {a} is above the maximum amount {MAX_AMOUNT}")
}
