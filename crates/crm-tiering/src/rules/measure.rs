//! Measures and criteria (SPEC §19.1, §19.3): the figures besides AUM a version declares, and
//! the qualifications of its tiers over them, in their file and compiled forms.

use rust_decimal::Decimal;

use super::ThresholdComparison;
use super::compile::decimal_key;
pub use super::measure_file::{Absent, CriterionFile, MeasureComponentFile, MeasureFile, QualifyFile};
use super::window::Window;
use crate::aum::{AumInput, Composition, Rounding};
use crate::code::MeasureCode;
use crate::engine::MonthInput;
use crate::error::{InputError, RuleError};
use crate::money::{MAX_AMOUNT, round_fen, to_fen};
use crate::month::Month;

/// A measure a version declares besides `aum`.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// Its code and input column.
    pub code: MeasureCode,
    /// Chinese display name.
    pub name_zh: String,
    /// English display name.
    pub name_en: String,
    /// What a record without a value means.
    pub absent: Absent,
    /// How a value with more decimals than fen is rounded.
    pub rounding: Rounding,
    /// Whether a value may be below zero.
    pub signed: bool,
    /// For a composed measure, the AUM composition with the measure's weights; none: read from
    /// its column.
    pub composition: Option<Composition>,
}

/// One criterion of a tier's qualification, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    /// The measure it reads.
    pub measure: MeasureCode,
    /// The measure's index: 0 is `aum`, `i` the version's `measures[i - 1]`.
    pub(crate) index: usize,
    /// The window it reads the measure over.
    pub window: Window,
    /// The minimum, at fen scale.
    pub min: Decimal,
    /// The minimum in fen.
    pub(crate) min_fen: i64,
    /// The smallest comparison key that meets it (as a tier's `qualify_key`).
    pub(crate) qualify_key: i128,
    /// Lower edge of its near-threshold band, as a comparison key.
    pub(crate) band_below_key: i128,
    /// Upper edge of its near-threshold band, as a comparison key.
    pub(crate) band_above_key: i128,
}

/// A tier's qualification by criteria (SPEC §19.3).
#[derive(Debug, Clone, PartialEq)]
pub struct Qualify {
    /// `true`: every criterion must be met (`all_of`); `false`: any one (`any_of`).
    pub all: bool,
    /// The criteria, in the book's order (never empty).
    pub criteria: Vec<Criterion>,
}

/// Compiles a version's measures (at field path `at`): codes valid, not `aum`, unique, and no
/// component of the AUM composition (every input column belongs to one figure).
pub(super) fn compile_measures(files: &[MeasureFile], aum: &Composition, at: &str) -> Result<Vec<Measure>, RuleError> {
    let mut out: Vec<Measure> = Vec::with_capacity(files.len());
    for (i, m) in files.iter().enumerate() {
        let field = format!("{at}.measures[{i}].code");
        let code = MeasureCode::register(&m.code).map_err(|e| RuleError::new(&field, e.to_string()))?;
        if m.code == "aum" {
            return Err(RuleError::new(field, "`aum` is measure 0 of every version: declare only the others"));
        }
        if m.code == crate::history::TIERS_KEY {
            return Err(RuleError::new(
                field,
                "`tier` is reserved: a customer's history keeps its qualified tiers under it",
            ));
        }
        if m.code == crate::history::STAGE_KEY {
            return Err(RuleError::new(
                field,
                "`stage` is reserved: a customer's history keeps its lifecycle stage under it",
            ));
        }
        if out.iter().any(|o| o.code == code) {
            return Err(RuleError::new(field, format!("duplicate measure code `{code}`")));
        }
        if aum.component(&m.code).is_some() {
            return Err(RuleError::new(
                field,
                format!("`{code}` is a component of the AUM composition: a column belongs to one figure"),
            ));
        }
        let composition = composed(m, aum, &format!("{at}.measures[{i}].components"))?;
        if m.signed && composition.is_some() {
            return Err(RuleError::new(
                format!("{at}.measures[{i}].signed"),
                "a composed measure is never below zero: `signed` is for a measure read from its column",
            ));
        }
        out.push(Measure {
            code,
            name_zh: m.name_zh.clone(),
            name_en: m.name_en.clone(),
            absent: m.absent,
            rounding: m.rounding,
            signed: m.signed,
            composition,
        });
    }
    Ok(out)
}

/// A composed measure's composition (at field path `at`): its components are components of the
/// AUM composition, each once, weights from 0 to 10, at least one included.
fn composed(m: &MeasureFile, aum: &Composition, at: &str) -> Result<Option<Composition>, RuleError> {
    if m.components.is_empty() {
        return Ok(None);
    }
    let mut listed: Vec<(String, bool, Decimal)> = Vec::with_capacity(m.components.len());
    for (k, c) in m.components.iter().enumerate() {
        let field = format!("{at}[{k}]");
        if aum.component(&c.code).is_none() {
            return Err(RuleError::new(
                format!("{field}.code"),
                format!("`{}` is not a component of the version's AUM composition", c.code),
            ));
        }
        if listed.iter().any(|(code, ..)| *code == c.code) {
            return Err(RuleError::new(format!("{field}.code"), format!("component `{}` is listed twice", c.code)));
        }
        if c.weight < Decimal::ZERO || c.weight > Decimal::TEN {
            return Err(RuleError::new(
                format!("{field}.weight"),
                format!("weight must be from 0 to 10, got {}", c.weight),
            ));
        }
        listed.push((c.code.clone(), c.included, c.weight));
    }
    if !listed.iter().any(|(_, included, _)| *included) {
        return Err(RuleError::new(at, "at least one component must be included"));
    }
    Ok(Some(aum.reweighted(&listed, m.rounding)))
}

/// What a criterion's keys are computed with: the version's comparison, band and key scale.
pub(super) struct KeyRules {
    pub(super) comparison: ThresholdComparison,
    pub(super) band: Decimal,
    pub(super) key_scale: u32,
}

/// Compiles a tier's qualification (at field path `qat`, the tier's `qualify`).
pub(super) fn compile_qualify(
    q: &QualifyFile,
    measures: &[Measure],
    keys: &KeyRules,
    qat: &str,
) -> Result<Qualify, RuleError> {
    let (all, files, list_at) = match (q.any_of.is_empty(), q.all_of.is_empty()) {
        (false, true) => (false, &q.any_of, format!("{qat}.any_of")),
        (true, false) => (true, &q.all_of, format!("{qat}.all_of")),
        (true, true) => return Err(RuleError::new(qat, "a qualification needs criteria in `any_of` or `all_of`")),
        (false, false) => return Err(RuleError::new(qat, "a qualification has `any_of` or `all_of`, not both")),
    };
    let mut criteria = Vec::with_capacity(files.len());
    for (k, c) in files.iter().enumerate() {
        criteria.push(compile_criterion(c, measures, keys, &format!("{list_at}[{k}]"))?);
    }
    Ok(Qualify { all, criteria })
}

/// The index of measure `code` among a month's measured values: 0 for `aum`, `i + 1` for the
/// version's declared measure `i`.
///
/// # Errors
/// A rule error at `field` for a measure the version does not declare.
pub(super) fn measure_index(code: &str, measures: &[Measure], field: &str) -> Result<usize, RuleError> {
    if code == "aum" {
        return Ok(0);
    }
    match measures.iter().position(|m| m.code.as_str() == code) {
        Some(i) => Ok(i + 1),
        None => Err(RuleError::new(
            field,
            format!("measure `{code}` is not `aum` nor one this version declares in `measures`"),
        )),
    }
}

fn compile_criterion(
    c: &CriterionFile,
    measures: &[Measure],
    keys: &KeyRules,
    cat: &str,
) -> Result<Criterion, RuleError> {
    let index = measure_index(&c.measure, measures, &format!("{cat}.measure"))?;
    let measure =
        MeasureCode::register(&c.measure).map_err(|e| RuleError::new(format!("{cat}.measure"), e.to_string()))?;
    let min = c.min;
    let min_error = |message: String| RuleError::new(format!("{cat}.min"), message);
    if min <= Decimal::ZERO {
        return Err(min_error(format!("a criterion's minimum must be above 0, got {min}")));
    }
    if min > crate::money::MAX_AMOUNT {
        return Err(min_error(format!("minimum {min} is above the maximum amount {}", crate::money::MAX_AMOUNT)));
    }
    if min != min.round_dp(2) {
        return Err(min_error(format!("minimum {min} has more decimals than fen")));
    }
    let min = crate::money::to_fen_scale(min);
    let min_fen = crate::money::to_fen(min).ok_or_else(|| min_error(format!("minimum {min} is not whole fen")))?;
    let strict = i128::from(keys.comparison == ThresholdComparison::GreaterThan);
    Ok(Criterion {
        measure,
        index,
        window: c.window,
        min,
        min_fen,
        qualify_key: decimal_key(min, keys.key_scale) + strict,
        band_below_key: decimal_key(min * (Decimal::ONE - keys.band), keys.key_scale),
        band_above_key: decimal_key(min * (Decimal::ONE + keys.band), keys.key_scale),
    })
}

impl Criterion {
    /// The criterion's value among a month's measured values in fen (`values[0]` is AUM, and
    /// `values[i]` measure `i`; a value not given is 0).
    #[inline]
    pub(crate) fn value(&self, values: &[i64]) -> i64 {
        values.get(self.index).copied().unwrap_or(0)
    }

    /// Whether the value's comparison key meets the minimum.
    #[inline]
    pub(crate) fn met(&self, key: i128) -> bool {
        key >= self.qualify_key
    }

    /// Its distance from its minimum relative to the minimum, as a fraction `(|v - min|, min)`.
    fn distance(&self, values: &[i64]) -> (i128, i128) {
        let v = i128::from(self.value(values));
        let min = i128::from(self.min_fen);
        ((v - min).abs(), min)
    }
}

impl Qualify {
    /// Whether the qualification is met, given each value's comparison key.
    #[inline]
    pub(crate) fn met(&self, key: impl Fn(i64) -> i128, values: &[i64]) -> bool {
        let met = |c: &Criterion| c.met(key(c.value(values)));
        if self.all { self.criteria.iter().all(met) } else { self.criteria.iter().any(met) }
    }

    /// The criterion that decided a met qualification (SPEC §19.3): under `any_of` the first
    /// met criterion, under `all_of` the one nearest its minimum (the first on a tie).
    pub(crate) fn deciding_met(&self, key: impl Fn(i64) -> i128, values: &[i64]) -> Option<&Criterion> {
        let mut met = self.criteria.iter().filter(|c| c.met(key(c.value(values))));
        if self.all { nearest(met, values) } else { met.next() }
    }

    /// The criterion that decided an unmet qualification: the unmet criterion nearest its
    /// minimum (the first on a tie).
    pub(crate) fn deciding_unmet(&self, key: impl Fn(i64) -> i128, values: &[i64]) -> Option<&Criterion> {
        nearest(self.criteria.iter().filter(|c| !c.met(key(c.value(values)))), values)
    }
}

/// The criterion whose value is nearest its minimum relative to the minimum (the first on a
/// tie): the one a customer is closest to losing or to gaining.
pub(crate) fn nearest<'a>(criteria: impl Iterator<Item = &'a Criterion>, values: &[i64]) -> Option<&'a Criterion> {
    let mut best: Option<(&Criterion, (i128, i128))> = None;
    for c in criteria {
        let (gap, min) = c.distance(values);
        // gap / min < best_gap / best_min, with positive minimums: cross-multiplied exactly
        // (fen below 2^63, so the products stay below 2^126).
        if best.is_none_or(|(_, (bg, bm))| gap * bm < bg * min) {
            best = Some((c, (gap, min)));
        }
    }
    best.map(|(c, _)| c)
}

impl Qualify {
    /// The `min_aum` of a tier as a qualification of one criterion, AUM over this month, for a
    /// version in which other tiers qualify by criteria: every tier of it then has criteria.
    pub(super) fn of_min_aum(aum: MeasureCode, min: Decimal, min_fen: i64, keys: (i128, i128, i128)) -> Self {
        let (qualify_key, band_below_key, band_above_key) = keys;
        let criterion = Criterion {
            measure: aum,
            index: 0,
            window: Window::Month,
            min,
            min_fen,
            qualify_key,
            band_below_key,
            band_above_key,
        };
        Qualify { all: false, criteria: vec![criterion] }
    }

    /// The criterion an upgrade-opportunity (or potential-VIP) alert names for a qualification
    /// the values do not meet (SPEC §19.3): under `any_of` when some unmet criterion is within
    /// its band below, under `all_of` when every unmet one is; the nearest of them.
    pub(crate) fn within_band_below(&self, key: impl Fn(i64) -> i128, values: &[i64]) -> Option<&Criterion> {
        let unmet = || self.criteria.iter().filter(|c| !c.met(key(c.value(values))));
        let near = |c: &&Criterion| key(c.value(values)) >= c.band_below_key;
        if self.all && !unmet().all(|c| near(&c)) {
            return None;
        }
        nearest(unmet().filter(near), values)
    }

    /// The criterion a downgrade-risk alert names for a met qualification: under `any_of` when
    /// every met criterion is within its band above, under `all_of` when any criterion is; the
    /// nearest of them.
    pub(crate) fn within_band_above(&self, key: impl Fn(i64) -> i128, values: &[i64]) -> Option<&Criterion> {
        let met = || self.criteria.iter().filter(|c| c.met(key(c.value(values))));
        let near = |c: &&Criterion| key(c.value(values)) < c.band_above_key;
        if !self.all && !met().all(|c| near(&c)) {
            return None;
        }
        nearest(met().filter(near), values)
    }
}

impl super::RuleVersion {
    /// A month's measured values in fen for the step (SPEC §19.1): AUM first, then each
    /// declared measure's value from `given` (rounded to the fen by the measure's rounding), or
    /// its absent value. Empty for a version that reads AUM alone.
    ///
    /// # Errors
    /// An [`InputError`] on field `measures.<code>` for a code the version does not declare, a
    /// negative value or one above [`MAX_AMOUNT`], and a missing value of a measure whose
    /// `absent` is `error`.
    pub(crate) fn measure_values(
        &self,
        aum: Decimal,
        input: &MonthInput,
        customer: &str,
        month: Month,
    ) -> Result<Vec<i64>, InputError> {
        let given = &input.measures;
        let err =
            |code: &str, message: String| InputError::new(customer, Some(month), format!("measures.{code}"), message);
        if let Some((code, _)) = given.iter().find(|(k, _)| !self.measures.iter().any(|m| m.code == *k)) {
            let code = code.as_str();
            let declared: Vec<&str> = self.measures.iter().map(|m| m.code.as_str()).collect();
            let declared = if declared.is_empty() { "none".to_string() } else { declared.join(", ") };
            return Err(err(
                code,
                format!("measure `{code}` is not declared by the rules in force (declared: {declared})"),
            ));
        }
        if !self.measured() {
            return Ok(Vec::new());
        }
        let mut values = Vec::with_capacity(self.measures.len() + 1);
        values.push(to_fen(aum).ok_or_else(|| err("aum", format!("AUM {aum} is not whole fen")))?);
        for m in &self.measures {
            let code = m.code.as_str();
            if let Some(c) = &m.composition {
                values.push(composed_value(c, m, given.get(m.code), input, customer, month)?);
                continue;
            }
            let fen = match given.get(m.code) {
                Some(v) if v.is_sign_negative() && !v.is_zero() && !m.signed => {
                    return Err(err(
                        code,
                        format!("amount {v} is negative (a measure below zero is declared `signed`)"),
                    ));
                }
                Some(v) => {
                    let rounded = round_fen(*v, m.rounding.strategy());
                    match to_fen(rounded).filter(|_| rounded.abs() <= MAX_AMOUNT) {
                        Some(fen) => fen,
                        None => return Err(err(code, format!("amount {v} is beyond the maximum amount {MAX_AMOUNT}"))),
                    }
                }
                None if m.absent == Absent::Error => {
                    return Err(err(
                        code,
                        format!("no value for measure `{code}`, whose rules say `absent = \"error\"`"),
                    ));
                }
                None => 0,
            };
            values.push(fen);
        }
        if self.daily_change {
            values.push(self.aum.largest_daily_change(&input.aum).unwrap_or(super::NO_VALUE));
        }
        Ok(values)
    }
}

/// The most measured values (AUM and the declared measures) the batch's short paths hold.
pub(crate) const FAST_VALUES: usize = 16;

/// An amount of at most two decimals, not negative (unless `signed`), within [`MAX_AMOUNT`] of
/// zero, in fen: what needs no rounding and no check. (In 64 bits: a mantissa beyond them is
/// beyond the maximum too.)
#[inline]
fn whole_fen(v: &Decimal, signed: bool) -> Option<i64> {
    if v.is_sign_negative() && !signed {
        return None;
    }
    let mantissa = i64::try_from(v.mantissa()).ok()?;
    let fen = match v.scale() {
        0 => mantissa.checked_mul(100)?,
        1 => mantissa.checked_mul(10)?,
        2 => mantissa,
        _ => return None,
    };
    (fen.checked_abs()? <= crate::money::MAX_FEN).then_some(fen)
}

/// A composed measure's value in fen (SPEC §19.1): its own total when the record gives one,
/// else computed from the record's AUM components with the measure's weights. A record with
/// neither (AUM given as a total), or with both, is an input error: a composed measure is never
/// taken as absent, since its components were simply not given.
fn composed_value(
    c: &Composition,
    m: &Measure,
    total: Option<&Decimal>,
    input: &MonthInput,
    customer: &str,
    month: Month,
) -> Result<i64, InputError> {
    let code = m.code.as_str();
    let field = format!("measures.{code}");
    let err = |message: String| InputError::new(customer, Some(month), field.clone(), message);
    let by_components = !matches!(input.aum, AumInput::Total(_));
    let value = match (total, by_components) {
        (Some(_), true) => {
            return Err(err(format!(
                "the record gives both `{code}`'s total and the components it is composed of: give one or the other"
            )));
        }
        (Some(t), false) => c.compute(&AumInput::Total(*t), month, customer),
        (None, true) => c.compute(&input.aum, month, customer),
        (None, false) => {
            return Err(err(format!(
                "`{code}` is composed from the AUM components, but the record gives AUM as a total: give `{code}`'s own total or the components"
            )));
        }
    };
    let value = value.map_err(|mut e| {
        if e.field == "aum" {
            e.field = field.clone();
        }
        e
    })?;
    to_fen(value).ok_or_else(|| err(format!("{code} {value} is not whole fen")))
}

impl super::RuleVersion {
    /// [`RuleVersion::measure_values`](super::RuleVersion) for the batch's short paths, with no
    /// allocation: the values in `buf` when every given value is whole fen within the bounds and
    /// declared, every measure read from a column (not composed) and none of `absent = "error"`
    /// missing, and the version has at most [`FAST_VALUES`] − 1 measures; otherwise `None`, and
    /// the full path computes them (and reports what is wrong). Empty for a version that reads
    /// AUM alone and an input that gives no measure.
    #[inline(always)]
    pub(crate) fn fast_values<'b>(
        &self,
        aum_fen: i64,
        given: &crate::engine::Measures,
        buf: &'b mut [i64; FAST_VALUES],
    ) -> Option<&'b [i64]> {
        if !self.measured() {
            return if given.is_empty() { Some(&buf[..0]) } else { None };
        }
        self.fill_fast_values(aum_fen, given, buf)
    }

    #[inline(never)]
    fn fill_fast_values<'b>(
        &self,
        aum_fen: i64,
        given: &crate::engine::Measures,
        buf: &'b mut [i64; FAST_VALUES],
    ) -> Option<&'b [i64]> {
        // The short paths take only a month given as a total (`plain_month`), which has no
        // daily change (SPEC §22.5): its value after the measures is none, as the full path's.
        let n = self.measures.len() + 1 + usize::from(self.daily_change);
        let (first, rest) = buf.get_mut(..n)?.split_first_mut()?;
        if let (true, Some(last)) = (self.daily_change, rest.last_mut()) {
            *last = super::NO_VALUE;
        }
        *first = aum_fen;
        let mut found = 0;
        for (m, slot) in self.measures.iter().zip(rest.iter_mut()) {
            if m.composition.is_some() {
                return None;
            }
            *slot = match given.get(m.code) {
                Some(v) => {
                    found += 1;
                    whole_fen(v, m.signed)?
                }
                None if m.absent == Absent::Error => return None,
                None => 0,
            };
        }
        if found != given.len() {
            return None;
        }
        buf.get(..n)
    }

    /// The measured values of a month filled under `treat_as_zero` (SPEC §2.4): every measure
    /// at 0, AUM included.
    pub(crate) fn zero_values(&self) -> Vec<i64> {
        if !self.measured() {
            return Vec::new();
        }
        let mut values = vec![0; self.measures.len() + 1];
        if self.daily_change {
            // A filled month has no days: no daily change.
            values.push(super::NO_VALUE);
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use super::whole_fen;
    use rust_decimal::Decimal;

    #[test]
    fn whole_fen_keeps_the_sign_only_of_a_signed_measure() {
        let d = |m: i64, s: u32| Decimal::new(m, s);
        assert_eq!(whole_fen(&d(-12_345, 2), true), Some(-12_345));
        assert_eq!(whole_fen(&d(-12_345, 2), false), None, "the full path reports it");
        assert_eq!(whole_fen(&d(-7, 0), true), Some(-700));
        assert_eq!(whole_fen(&d(-7, 1), true), Some(-70));
        assert_eq!(whole_fen(&d(-1, 3), true), None, "more than fen: the full path rounds");
        let beyond = -(crate::money::MAX_FEN + 1);
        assert_eq!(whole_fen(&d(beyond, 2), true), None, "below -MAX_AMOUNT");
        assert_eq!(whole_fen(&d(-crate::money::MAX_FEN, 2), true), Some(-crate::money::MAX_FEN));
    }
}
