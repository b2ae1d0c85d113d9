//! Validation and compilation of a rule file into rule sets (RULES.md, "Validation").

use std::collections::HashSet;

use rust_decimal::Decimal;

use super::file::{RuleBookFile, RuleSetFile, RuleVersionFile, TierFile};
use super::lifecycle::compile_lifecycle;
use super::measure::{KeyRules, Measure, Qualify, compile_measures, compile_qualify};
use super::warning::compile_warnings;
use super::window::window_slots;
use super::{DowngradeTarget, RULE_FORMAT_VERSION, RuleSet, RuleVersion, Settings, ThresholdComparison, Tier};
use crate::aum::Composition;
use crate::code::MeasureCode;
use crate::code::TierCode;
use crate::error::RuleError;

/// An amount with at most `scale` decimals as an integer at that scale (saturating: amounts
/// are bounded far below the limits by validation and by `Decimal`'s 96-bit mantissa).
pub(super) fn decimal_key(amount: Decimal, scale: u32) -> i128 {
    let m = amount.mantissa();
    let s = amount.scale();
    if s <= scale { m.saturating_mul(10i128.pow(scale - s)) } else { m / 10i128.pow(s - scale) }
}

pub(super) fn compile(file: &RuleBookFile) -> Result<Vec<RuleSet>, RuleError> {
    if file.format_version != RULE_FORMAT_VERSION {
        return Err(RuleError::new(
            "format_version",
            format!("format version {} is not supported (expected {RULE_FORMAT_VERSION})", file.format_version),
        ));
    }
    if file.rule_sets.is_empty() {
        return Err(RuleError::new("rule_sets", "a rule book needs at least one rule set"));
    }
    let mut selectors = HashSet::new();
    let mut names = HashSet::new();
    let mut sets = Vec::with_capacity(file.rule_sets.len());
    for (i, s) in file.rule_sets.iter().enumerate() {
        let at = format!("rule_sets[{i}]");
        if !names.insert(s.name.as_str()) {
            return Err(RuleError::new(format!("{at}.name"), format!("duplicate rule set name `{}`", s.name)));
        }
        if let Some(e) = &s.legal_entity
            && e.trim().is_empty()
        {
            return Err(RuleError::new(format!("{at}.legal_entity"), "legal entity is empty"));
        }
        if !selectors.insert((s.legal_entity.clone(), s.customer_kind)) {
            return Err(RuleError::new(
                &at,
                format!("rule set `{}` has the same legal entity and customer kind as an earlier one", s.name),
            ));
        }
        sets.push(compile_set(s, &at)?);
    }
    if !sets.iter().any(|s| s.legal_entity.is_none() && s.customer_kind.is_none()) {
        return Err(RuleError::new(
            "rule_sets",
            "a rule book needs a default rule set, one without `legal_entity` and `customer_kind`",
        ));
    }
    sets.extend(entity_sets(file)?);
    Ok(sets)
}

/// Compiles a rule set's versions (at field path `at`): none may take effect in the same month.
fn compile_set(s: &RuleSetFile, at: &str) -> Result<RuleSet, RuleError> {
    if s.versions.is_empty() {
        return Err(RuleError::new(format!("{at}.versions"), "a rule set needs at least one version"));
    }
    let mut versions = Vec::with_capacity(s.versions.len());
    for (j, v) in s.versions.iter().enumerate() {
        versions.push(compile_version(v, &format!("{at}.versions[{j}]"))?);
    }
    let mut order: Vec<(usize, _)> = versions.iter().map(|v| v.effective_from).enumerate().collect();
    order.sort_by_key(|&(_, from)| from);
    for w in order.windows(2) {
        if let [(a, from_a), (b, from_b)] = *w
            && from_a == from_b
        {
            return Err(RuleError::new(
                format!("{at}.versions[{b}].effective_from"),
                format!("versions {a} and {b} overlap: both take effect in {from_b}"),
            ));
        }
    }
    versions.sort_by_key(|v| v.effective_from);
    Ok(RuleSet { name: s.name.clone(), legal_entity: s.legal_entity.clone(), customer_kind: s.customer_kind, versions })
}

/// SPEC §22.4: for each legal entity a warning of a set without `legal_entity` names, a copy of
/// every such set selecting that legal entity (so that selection among them is unchanged), its
/// warnings as they apply there. A legal entity with a rule set of its own takes no override:
/// its warnings are written there.
fn entity_sets(file: &RuleBookFile) -> Result<Vec<RuleSet>, RuleError> {
    let general: Vec<(usize, &RuleSetFile)> =
        file.rule_sets.iter().enumerate().filter(|(_, s)| s.legal_entity.is_none()).collect();
    let mut entities: std::collections::BTreeMap<&str, String> = std::collections::BTreeMap::new();
    for (i, s) in &general {
        for (j, v) in s.versions.iter().enumerate() {
            for (k, w) in v.warnings.iter().enumerate() {
                for e in w.legal_entities.keys() {
                    entities
                        .entry(e)
                        .or_insert_with(|| format!("rule_sets[{i}].versions[{j}].warnings[{k}].legal_entities.{e}"));
                }
            }
        }
    }
    for (i, s) in file.rule_sets.iter().enumerate().filter(|(_, s)| s.legal_entity.is_some()) {
        for (j, v) in s.versions.iter().enumerate() {
            if let Some(k) = v.warnings.iter().position(|w| !w.legal_entities.is_empty()) {
                return Err(RuleError::new(
                    format!("rule_sets[{i}].versions[{j}].warnings[{k}].legal_entities"),
                    "the rule set selects one legal entity: its warnings take no overrides by legal entity",
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (entity, at) in entities {
        if let Some(own) = file.rule_sets.iter().find(|s| s.legal_entity.as_deref() == Some(entity)) {
            return Err(RuleError::new(
                at,
                format!("legal entity `{entity}` has a rule set of its own (`{}`): write its warnings there", own.name),
            ));
        }
        for (i, s) in &general {
            let mut copy = RuleSetFile { legal_entity: Some(entity.to_string()), ..(*s).clone() };
            copy.name = format!("{} ({entity})", s.name);
            for v in &mut copy.versions {
                v.warnings = v.warnings.iter().filter_map(|w| w.in_entity(entity)).collect();
            }
            out.push(compile_set(&copy, &format!("rule_sets[{i}]"))?);
        }
    }
    Ok(out)
}

fn months(value: i64, field: String, max: i64) -> Result<u32, RuleError> {
    if value <= 0 {
        return Err(RuleError::new(field, format!("duration must be at least 1 month, got {value}")));
    }
    match u32::try_from(value) {
        Ok(months) if value <= max => Ok(months),
        _ => Err(RuleError::new(field, format!("duration must be at most {max} months, got {value}"))),
    }
}

/// A version's `downgrade_window` (SPEC §19.4): 2-24 months, given exactly when the target is
/// `highest_over`.
fn downgrade_window(v: &RuleVersionFile, at: &str) -> Result<Option<u32>, RuleError> {
    let field = format!("{at}.downgrade_window");
    match (v.downgrade_target, v.downgrade_window) {
        (DowngradeTarget::HighestOver, Some(k)) if (2..=i64::from(crate::rules::MAX_WINDOW_MONTHS)).contains(&k) => {
            Ok(u32::try_from(k).ok())
        }
        (DowngradeTarget::HighestOver, Some(k)) => {
            Err(RuleError::new(field, format!("downgrade_window must be from 2 to 24 months, got {k}")))
        }
        (DowngradeTarget::HighestOver, None) => Err(RuleError::new(
            field,
            "downgrade_target `highest_over` needs `downgrade_window`, the months it looks over (2 to 24)",
        )),
        (_, Some(_)) => {
            Err(RuleError::new(field, "downgrade_window is read only with downgrade_target `highest_over`"))
        }
        (_, None) => Ok(None),
    }
}

/// A version's `pause_upgrades_while` (SPEC §21.8): a measure it declares, not `aum`, with its
/// index among the month's measured values.
fn pause_measure(
    v: &RuleVersionFile,
    measures: &[Measure],
    at: &str,
) -> Result<Option<(MeasureCode, usize)>, RuleError> {
    let Some(code) = &v.pause_upgrades_while else { return Ok(None) };
    let field = format!("{at}.pause_upgrades_while");
    let index = super::measure::measure_index(code, measures, &field)?;
    match index.checked_sub(1).and_then(|i| measures.get(i)) {
        Some(m) => Ok(Some((m.code, index))),
        None => Err(RuleError::new(
            field,
            "the pause reads a measure the version declares (such as a non-performing loan balance), not `aum`",
        )),
    }
}

fn compile_version(v: &RuleVersionFile, at: &str) -> Result<RuleVersion, RuleError> {
    if v.tiers.is_empty() {
        return Err(RuleError::new(format!("{at}.tiers"), "a version needs at least one tier"));
    }
    let band = v.near_threshold_band;
    if band < Decimal::ZERO || band >= Decimal::ONE || band.normalize().scale() > 4 {
        return Err(RuleError::new(
            format!("{at}.near_threshold_band"),
            format!("band must be at least 0 and below 1, with at most 4 decimals, got {band}"),
        ));
    }
    let key_scale = 2 + band.normalize().scale();
    let watch_default = months(v.watch_months, format!("{at}.watch_months"), 120)?;
    let label_default = match v.label_after {
        Some(l) => Some(months(l, format!("{at}.label_after"), 120)?),
        None => None,
    };
    let aum = Composition::compile(&v.aum, &format!("{at}.aum"))?;
    let measures = compile_measures(&v.measures, &aum, at)?;
    let mut tiers: Vec<Tier> = Vec::with_capacity(v.tiers.len());
    for (k, t) in v.tiers.iter().enumerate() {
        let watch = WatchDefaults { months: watch_default, label_after: label_default, at };
        let keys = KeyRules { comparison: v.threshold_comparison, band, key_scale };
        let tier = compile_tier(t, &format!("{at}.tiers[{k}]"), &tiers, &watch, &keys, &measures)?;
        tiers.push(tier);
    }
    let by_criteria = tiers.iter().any(|t| t.qualify.is_some());
    let aum_code = MeasureCode::register("aum").map_err(|e| RuleError::new(at, e.to_string()))?;
    if by_criteria {
        for t in tiers.iter_mut().filter(|t| t.qualify.is_none()) {
            let keys = (t.qualify_key, t.band_below_key, t.band_above_key);
            t.qualify = Some(Qualify::of_min_aum(aum_code, t.min_aum, t.min_fen, keys));
        }
    }
    // A `large_flow` warning reads the month's largest daily change, a value after the measured
    // ones (SPEC §22.5); the windows' values follow.
    let daily_change = v.warnings.iter().any(|w| w.kind == super::WarningKind::LargeFlow);
    let values = measures.len() + 1 + usize::from(daily_change);
    let mut windows = window_slots(&mut tiers, values);
    let warnings = compile_warnings(&v.warnings, &measures, &tiers, &mut windows, (values, at))?;
    let lifecycle = match &v.lifecycle {
        Some(l) => Some(compile_lifecycle(l, &measures, &tiers, &mut windows, (values, at))?),
        None => None,
    };
    let special_vip_default_tier = match &v.special_vip_default_tier {
        Some(c) => {
            let field = format!("{at}.special_vip_default_tier");
            let code = TierCode::register(c).map_err(|e| RuleError::new(&field, e.to_string()))?;
            if !tiers.iter().any(|t| t.code == code) {
                return Err(RuleError::new(field, format!("tier `{code}` is not in this version's tiers")));
            }
            code
        }
        // `v.tiers` is not empty (checked above), nor is `tiers` then.
        None => tiers
            .first()
            .map(|t| t.code)
            .ok_or_else(|| RuleError::new(format!("{at}.tiers"), "a version needs at least one tier"))?,
    };
    let tier_map = compile_tier_map(v, at, &tiers)?;
    let (assessment_months, assessment_mask) = assessment_months(v, at)?;
    let settings = Settings {
        threshold_comparison: v.threshold_comparison,
        exit_after_months: months(v.exit_after_months, format!("{at}.exit_after_months"), 120)?,
        retention_months: months(v.retention_months, format!("{at}.retention_months"), 120)?,
        watch_months: watch_default,
        label_after: label_default,
        downgrade_target: v.downgrade_target,
        downgrade_window: downgrade_window(v, at)?,
        assessment_months,
        assess_upgrades: v.assess_upgrades,
        upgrade_timing: v.upgrade_timing,
        special_vip_months: months(v.special_vip_months, format!("{at}.special_vip_months"), 120)?,
        special_vip_default_tier,
        special_vip_notice_months: months(v.special_vip_notice_months, format!("{at}.special_vip_notice_months"), 120)?,
        near_threshold_band: band,
    };
    let pause = pause_measure(v, &measures, at)?;
    Ok(RuleVersion {
        effective_from: v.effective_from,
        tiers,
        settings,
        tier_map,
        aum,
        key_scale,
        fen_key_factor: 10i64.pow(key_scale - 2),
        assessment_mask,
        measures,
        by_criteria,
        aum_code,
        windows,
        warnings,
        lifecycle,
        pause,
        daily_change,
    })
}

/// A version's `assessment_months` (SPEC §19.4): months of the year, each once, at least one,
/// ascending as compiled, with their bit mask; `assess_upgrades` needs them.
fn assessment_months(v: &RuleVersionFile, at: &str) -> Result<(Option<Vec<u32>>, u16), RuleError> {
    let field = format!("{at}.assessment_months");
    let Some(list) = &v.assessment_months else {
        if v.assess_upgrades {
            return Err(RuleError::new(
                format!("{at}.assess_upgrades"),
                "assess_upgrades makes entries and upgrades wait for the assessment months: give assessment_months",
            ));
        }
        return Ok((None, 0));
    };
    if list.is_empty() {
        return Err(RuleError::new(field, "give at least one month of the year (1 to 12), or leave the field out"));
    }
    let mut mask = 0u16;
    for &m in list {
        let month = u32::try_from(m)
            .ok()
            .filter(|m| (1..=12).contains(m))
            .ok_or_else(|| RuleError::new(&field, format!("{m} is not a month of the year: expected 1 to 12")))?;
        if mask & (1 << month) != 0 {
            return Err(RuleError::new(&field, format!("month {month} is listed twice")));
        }
        mask |= 1 << month;
    }
    let months = (1..=12u32).filter(|m| mask & (1 << m) != 0).collect();
    Ok((Some(months), mask))
}

/// One tier of a version (at field path `tat`), checked against the tiers below it: its code
/// (not theirs), its minimum (above 0, within the maximum amount, whole fen, above the last
/// one's) or its criteria (SPEC §19.3), and its watch length, with the integer keys the hot
/// path compares (SPEC §3).
fn compile_tier(
    t: &TierFile,
    tat: &str,
    below: &[Tier],
    watch_default: &WatchDefaults<'_>,
    keys: &KeyRules,
    measures: &[Measure],
) -> Result<Tier, RuleError> {
    let code = TierCode::register(&t.code).map_err(|e| RuleError::new(format!("{tat}.code"), e.to_string()))?;
    if below.iter().any(|p| p.code == code) {
        return Err(RuleError::new(format!("{tat}.code"), format!("duplicate tier code `{code}`")));
    }
    let watch = match t.watch_months {
        Some(w) => months(w, format!("{tat}.watch_months"), 120)?,
        None => watch_default.months,
    };
    let label_after = label_after(t, tat, watch, watch_default)?;
    let mut tier = Tier {
        code,
        name_zh: t.name_zh.clone(),
        name_en: t.name_en.clone(),
        min_aum: Decimal::ZERO,
        min_fen: 0,
        watch_months: watch,
        label_after,
        qualify: None,
        qualify_key: i128::MAX,
        band_below_key: i128::MAX,
        band_above_key: i128::MAX,
    };
    match &t.qualify {
        Some(q) => {
            if !t.min_aum.is_zero() {
                return Err(RuleError::new(
                    format!("{tat}.min_aum"),
                    "a tier qualifies by `min_aum` or by `qualify`, not both: write the AUM minimum as a criterion",
                ));
            }
            tier.qualify = Some(compile_qualify(q, measures, keys, &format!("{tat}.qualify"))?);
        }
        None => set_min_aum(&mut tier, t.min_aum, &format!("{tat}.min_aum"), keys)?,
    }
    if let (Some(prev), Some((measure, mine))) = (below.last(), tier.single_criterion())
        && let Some((prev_measure, prev_min)) = prev.single_criterion()
        && measure == prev_measure
        && mine <= prev_min
    {
        let field = if tier.qualify.is_some() { format!("{tat}.qualify") } else { format!("{tat}.min_aum") };
        return Err(RuleError::new(
            field,
            format!(
                "tier thresholds must ascend: `{code}` minimum {mine} is not above `{}` minimum {prev_min}",
                prev.code
            ),
        ));
    }
    Ok(tier)
}

/// A tier's `min_aum` (at field path `field`): above 0, within the maximum amount, whole fen.
fn set_min_aum(tier: &mut Tier, min_aum: Decimal, field: &str, keys: &KeyRules) -> Result<(), RuleError> {
    let min_error = |message: String| RuleError::new(field, message);
    if min_aum <= Decimal::ZERO {
        return Err(min_error(format!(
            "minimum AUM must be above 0, got {min_aum} (a tier needs `min_aum` or `qualify`)"
        )));
    }
    if min_aum > crate::money::MAX_AMOUNT {
        return Err(min_error(format!(
            "minimum AUM {min_aum} is above the maximum amount {}",
            crate::money::MAX_AMOUNT
        )));
    }
    if min_aum.scale() > 2 && min_aum != min_aum.round_dp(2) {
        return Err(min_error(format!("minimum AUM {min_aum} has more decimals than fen")));
    }
    let min = crate::money::to_fen_scale(min_aum);
    tier.min_fen = crate::money::to_fen(min)
        .ok_or_else(|| min_error(format!("minimum AUM {min} is not a whole number of fen")))?;
    tier.min_aum = min;
    tier.qualify_key =
        decimal_key(min, keys.key_scale) + i128::from(keys.comparison == ThresholdComparison::GreaterThan);
    tier.band_below_key = decimal_key(min * (Decimal::ONE - keys.band), keys.key_scale);
    tier.band_above_key = decimal_key(min * (Decimal::ONE + keys.band), keys.key_scale);
    Ok(())
}

/// The version's watch settings a tier inherits, and the version's field path.
struct WatchDefaults<'a> {
    months: u32,
    label_after: Option<u32>,
    at: &'a str,
}

/// A tier's `label_after` (its own, else the version's): 1 to 120 and below the tier's watch
/// length, so that the label comes before the downgrade (SPEC §19.4); the error names the field
/// that set it.
fn label_after(t: &TierFile, tat: &str, watch: u32, defaults: &WatchDefaults<'_>) -> Result<Option<u32>, RuleError> {
    let (label, field) = match t.label_after {
        Some(l) => (months(l, format!("{tat}.label_after"), 120)?, format!("{tat}.label_after")),
        None => match defaults.label_after {
            Some(l) => (l, format!("{}.label_after", defaults.at)),
            None => return Ok(None),
        },
    };
    if label >= watch {
        return Err(RuleError::new(
            field,
            format!(
                "a watch is labelled 关注 after 1 short month or more and before its downgrade: label_after {label} is not below tier `{}`'s watch of {watch} months",
                t.code
            ),
        ));
    }
    Ok(Some(label))
}

/// A version's `tier_map`: each retired code to a tier of the version (SPEC §8.3).
fn compile_tier_map(v: &RuleVersionFile, at: &str, tiers: &[Tier]) -> Result<Vec<(TierCode, TierCode)>, RuleError> {
    let mut tier_map = Vec::with_capacity(v.tier_map.len());
    for (from, to) in &v.tier_map {
        let field = format!("{at}.tier_map.{from}");
        let f = TierCode::register(from).map_err(|e| RuleError::new(&field, e.to_string()))?;
        let t = TierCode::register(to).map_err(|e| RuleError::new(&field, e.to_string()))?;
        if !tiers.iter().any(|x| x.code == t) {
            return Err(RuleError::new(field, format!("maps to tier `{t}`, which is not in this version's tiers")));
        }
        if tiers.iter().any(|x| x.code == f) {
            return Err(RuleError::new(field, format!("tier `{f}` is in this version's tiers and cannot be mapped")));
        }
        tier_map.push((f, t));
    }
    Ok(tier_map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TieringError;
    use crate::rules::{DEFAULT_RULES_TOML, RuleBook};

    fn base() -> String {
        DEFAULT_RULES_TOML.to_string()
    }

    fn err(text: &str) -> RuleError {
        match RuleBook::from_toml_str(text) {
            Err(TieringError::Rules(e)) => *e,
            other => panic!("expected a rule error, got {other:?}"),
        }
    }

    #[test]
    fn default_book_loads() {
        let book = RuleBook::default_book().unwrap();
        let v = book.rule_sets().first().unwrap().version_for("2030-01".parse().unwrap()).unwrap();
        assert_eq!(v.tiers.len(), 4);
        assert_eq!(v.entry_threshold(), Some(Decimal::new(20_000_000, 2)));
        assert_eq!(v.settings.exit_after_months, 6);
        assert_eq!(v.aum.components().len(), 8);
        let again = RuleBook::from_json_str(&book.to_json()).unwrap();
        assert_eq!(again.rule_sets(), book.rule_sets());
    }

    #[test]
    fn unknown_field_names_line() {
        let e = err(&base().replace("retention_months = 2", "retention_months = 2\nretention_monthz = 2"));
        assert!(e.message.contains("retention_monthz"), "{e}");
        assert!(e.line.is_some());
    }

    #[test]
    fn thresholds_must_ascend() {
        let e = err(&base().replace("min_aum = \"500000\"", "min_aum = \"150000\""));
        assert_eq!(e.field, "rule_sets[0].versions[0].tiers[1].min_aum");
        assert!(e.to_string().contains("must ascend"), "{e}");
    }

    #[test]
    fn duplicate_codes_and_bad_durations() {
        let e = err(&base().replace("code = \"platinum\"", "code = \"gold\""));
        assert!(e.message.contains("duplicate tier code"), "{e}");
        let e = err(&base().replace("retention_months = 2", "retention_months = 0"));
        assert_eq!(e.field, "rule_sets[0].versions[0].retention_months");
        let e = err(&base().replace("exit_after_months = 6", "exit_after_months = -1"));
        assert!(e.message.contains("at least 1 month"), "{e}");
    }

    #[test]
    fn whole_numbers_name_no_types() {
        let e = err(&base().replace("exit_after_months = 6", "exit_after_months = 6.0"));
        assert!(e.message.contains("whole number"), "{e}");
        assert!(!e.message.contains("i64"), "{e}");
        let e = err(&base().replace("format_version = 1", "format_version = -1"));
        assert!(!e.message.contains("u32"), "{e}");
    }

    #[test]
    fn a_default_rule_set_is_required() {
        let e = err(&base().replace("name = \"default\"", "name = \"default\"\nlegal_entity = \"620101\""));
        assert_eq!(e.field, "rule_sets");
        assert!(e.message.contains("default rule set"), "{e}");
    }

    #[test]
    fn floats_are_refused() {
        let e = err(&base().replace("near_threshold_band = \"0.10\"", "near_threshold_band = 0.1"));
        assert!(e.message.contains("string"), "{e}");
        assert!(!e.to_string().contains("f64"), "{e}");
    }

    #[test]
    fn json_errors_name_line_and_column() {
        match RuleBook::from_json_str("{\n  \"format_version\": 1,\n  \"rule_sets\": [], \"bogus\": 1}") {
            Err(TieringError::Rules(e)) => {
                assert_eq!(e.line, Some(3));
                assert!(e.message.contains("bogus"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
}
