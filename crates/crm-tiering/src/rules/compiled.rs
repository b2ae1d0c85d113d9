//! The compiled form of a rule book: tier tables with integer comparison keys, settings, and
//! effective-dated versions, as the engine reads them.

use rust_decimal::Decimal;

use super::compile::decimal_key;
use super::measure::{Criterion, Measure, Qualify};
use super::window::Window;
use super::{CustomerKind, DowngradeTarget, ThresholdComparison, UpgradeTiming};
use crate::aum::Composition;
use crate::code::MeasureCode;
use crate::code::TierCode;
use crate::month::Month;

/// A tier of a rule version's table.
#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    /// Tier code.
    pub code: TierCode,
    /// Chinese display name (金卡).
    pub name_zh: String,
    /// English display name (Gold).
    pub name_en: String,
    /// Minimum AUM, at fen scale; 0 for a tier that qualifies by [`Tier::qualify`].
    pub min_aum: Decimal,
    /// `min_aum` in fen.
    pub(crate) min_fen: i64,
    /// Consecutive short months before a downgrade from this tier.
    pub watch_months: u32,
    /// Short months after which a watch of this tier is labelled 关注 (SPEC §19.4), always below
    /// `watch_months`; none: a one-stage watch.
    pub label_after: Option<u32>,
    /// The criteria the tier qualifies by instead of `min_aum` (SPEC §19.3).
    pub qualify: Option<Qualify>,
    /// The smallest comparison key that qualifies: `min_aum` as an integer at the version's
    /// comparison scale, plus one when the comparison is strict (keys are exact integers, so
    /// `key > min` is `key >= min + 1`).
    pub(crate) qualify_key: i128,
    /// Lower edge of the near-threshold band, `min_aum * (1 - band)`, as a comparison key.
    pub(crate) band_below_key: i128,
    /// Upper edge of the near-threshold band, `min_aum * (1 + band)`, as a comparison key.
    pub(crate) band_above_key: i128,
}

impl Tier {
    /// The tier's one criterion, when it qualifies by one: `min_aum` (AUM over this month), or a
    /// `qualify` of a single criterion. Minimums must ascend among tiers with the same one.
    pub(super) fn single_criterion(&self) -> Option<((usize, Window), Decimal)> {
        match &self.qualify {
            None => Some(((0, Window::Month), self.min_aum)),
            Some(Qualify { criteria, .. }) => match criteria.as_slice() {
                [c] => Some(((c.index, c.window), c.min)),
                _ => None,
            },
        }
    }
}

/// The settings of a rule version (all the numbers of the rules). Serialized with the field
/// names of the rule file, so that every surface shows them as one object instead of listing
/// them key by key.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Settings {
    /// Inclusive (default) or strict threshold comparison.
    pub threshold_comparison: ThresholdComparison,
    /// Consecutive months below entry that end a rating.
    pub exit_after_months: u32,
    /// Months of 已退未评级 retention.
    pub retention_months: u32,
    /// Default watch length.
    pub watch_months: u32,
    /// Default short months after which a watch is labelled 关注; none: one-stage watches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_after: Option<u32>,
    /// Where a downgrade lands.
    pub downgrade_target: DowngradeTarget,
    /// With `highest_over`, the months whose highest qualified tier a downgrade lands on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downgrade_window: Option<u32>,
    /// The months of the year in which downgrades and exits take effect, ascending; none:
    /// every month.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment_months: Option<Vec<u32>>,
    /// Whether entries, re-entries and upgrades wait for the assessment months too.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub assess_upgrades: bool,
    /// When entries, re-entries and upgrades take effect.
    #[serde(skip_serializing_if = "UpgradeTiming::is_next_month")]
    pub upgrade_timing: UpgradeTiming,
    /// Months a special VIP designation lasts.
    pub special_vip_months: u32,
    /// Tier of a designation that names none.
    pub special_vip_default_tier: TierCode,
    /// Months of notice before a designation ends.
    pub special_vip_notice_months: u32,
    /// Near-threshold band, a fraction such as 0.10.
    #[serde(with = "rust_decimal::serde::str")]
    pub near_threshold_band: Decimal,
}

/// One effective-dated version of a rule set.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleVersion {
    /// First month in force.
    pub effective_from: Month,
    /// The tier table, lowest first, minimums strictly ascending.
    pub tiers: Vec<Tier>,
    /// The settings.
    pub settings: Settings,
    /// Codes of earlier versions mapped to codes of this one.
    pub tier_map: Vec<(TierCode, TierCode)>,
    /// AUM composition.
    pub aum: Composition,
    /// Thresholds and band edges are compared as integers at this scale (2 plus the band's
    /// decimals), so the hot path never rescales decimals.
    pub(super) key_scale: u32,
    /// `10^(key_scale - 2)`, at most 10^4: turns an amount in fen into a comparison key. In 64
    /// bits, so that a key of a fen value in 64 bits is one multiplication.
    pub(super) fen_key_factor: i64,
    /// The assessment months as bits (bit m for month m of the year); 0: every month.
    pub(super) assessment_mask: u16,
    /// The measures declared besides `aum` (SPEC §19.1); measure `i` of a criterion is
    /// `measures[i - 1]`, and 0 is `aum`.
    pub measures: Vec<Measure>,
    /// Whether some tier qualifies by criteria: the step then asks [`RuleVersion::qualifying_rank_by`]
    /// rather than comparing one key.
    pub(crate) by_criteria: bool,
    /// The code `aum`, named by the evidence of a version that qualifies by criteria.
    pub(crate) aum_code: MeasureCode,
    /// The measures over windows other than `month` its criteria read (SPEC §19.2): their
    /// values follow the measured values, `values[measures.len() + 1 + i]` for slot `i`.
    pub(crate) windows: Vec<super::WindowSlot>,
    /// The warnings (SPEC §22), in the order listed.
    pub warnings: Vec<super::Warning>,
    /// The lifecycle stages (SPEC §23), when the version has them.
    pub lifecycle: Option<super::Lifecycle>,
    /// The measure whose value above zero holds entries, re-entries and upgrades (SPEC §21.8),
    /// with its index among the month's measured values.
    pub(crate) pause: Option<(MeasureCode, usize)>,
    /// Whether a `large_flow` warning reads the month's largest daily change (SPEC §22.5): the
    /// value after the measured ones.
    pub(crate) daily_change: bool,
}

impl RuleVersion {
    /// An AUM as a comparison key: an integer at the version's comparison scale.
    ///
    /// AUMs reach the engine rounded to the fen, so the key is exact.
    #[inline]
    pub(crate) fn key(&self, aum: Decimal) -> i128 {
        if aum.scale() == 2 { self.fen_key(aum.mantissa()) } else { decimal_key(aum, self.key_scale) }
    }

    /// An amount in fen (a decimal's mantissa at the fen scale) as a comparison key.
    #[inline]
    pub(crate) fn fen_key(&self, fen: i128) -> i128 {
        // |fen| < 2^96 (a decimal's mantissa) and the factor is at most 10^4: the product
        // cannot overflow.
        fen * i128::from(self.fen_key_factor)
    }

    /// Whether a comparison key meets a tier's minimum.
    #[inline]
    pub(crate) fn meets_key(&self, key: i128, tier: &Tier) -> bool {
        key >= tier.qualify_key
    }

    /// The qualifying tier of a month's AUM key (SPEC §3.3): the highest tier whose minimum the
    /// key meets. The minimums, and so their keys, are strictly ascending (checked when the book
    /// is compiled), so the tiers a key meets are the lowest ones and their count is the highest
    /// one's rank plus one: counted without a branch per tier, where a search mispredicts on a
    /// portfolio whose AUMs fall on every side of the thresholds.
    #[inline(always)]
    pub(crate) fn qualifying_rank_key(&self, key: i128) -> Option<usize> {
        self.tiers.iter().map(|t| usize::from(key >= t.qualify_key)).sum::<usize>().checked_sub(1)
    }

    /// Whether tier `t` is met by a month's measured values in fen (`values[0]` is AUM).
    #[inline]
    pub(crate) fn tier_met(&self, t: &Tier, values: &[i64]) -> bool {
        match &t.qualify {
            None => self.fen_key(i128::from(values.first().copied().unwrap_or(0))) >= t.qualify_key,
            Some(q) => q.met(|fen| self.fen_key(i128::from(fen)), values),
        }
    }

    /// The measure whose value above zero holds entries, re-entries and upgrades (SPEC §21.8),
    /// when the version sets `pause_upgrades_while`.
    pub fn pause_upgrades_while(&self) -> Option<MeasureCode> {
        self.pause.map(|(code, _)| code)
    }

    /// Whether the version reads measures besides one AUM minimum per tier (it declares
    /// measures or qualifies tiers by criteria): the batch's short paths leave it to the step.
    #[inline]
    pub(crate) fn measured(&self) -> bool {
        self.by_criteria || !self.measures.is_empty() || !self.warnings.is_empty() || self.lifecycle.is_some()
    }

    /// The criterion that decided whether tier `t` is met (SPEC §19.3): when `met`, the
    /// deciding met criterion; otherwise the unmet criterion nearest its minimum (or, when the
    /// values meet the tier, the nearest of all). None for a tier without criteria.
    pub(crate) fn deciding_criterion<'t>(&self, t: &'t Tier, values: &[i64], met: bool) -> Option<&'t Criterion> {
        let q = t.qualify.as_ref()?;
        let key = |fen: i64| self.fen_key(i128::from(fen));
        let decided = if met { q.deciding_met(key, values) } else { q.deciding_unmet(key, values) };
        decided.or_else(|| super::measure::nearest(q.criteria.iter(), values))
    }

    /// The qualifying tier of a month by criteria (SPEC §19.3): the highest tier whose
    /// qualification its measured values meet.
    pub(crate) fn qualifying_rank_by(&self, values: &[i64]) -> Option<usize> {
        self.tiers.iter().rposition(|t| self.tier_met(t, values))
    }

    /// Whether downgrades and exits take effect in `month` (SPEC §19.4): every month, unless
    /// the version lists assessment months.
    #[inline]
    pub fn assesses(&self, month: Month) -> bool {
        self.assessment_mask == 0 || self.assessment_mask & (1 << month.month()) != 0
    }

    /// Whether entries, re-entries and upgrades take effect in `month`: every month, unless the
    /// version has `assess_upgrades` and `month` is not an assessment month.
    #[inline]
    pub fn upgrades_in(&self, month: Month) -> bool {
        !self.settings.assess_upgrades || self.assesses(month)
    }

    /// The tier with this code, as an index into [`RuleVersion::tiers`].
    #[inline]
    pub fn rank_of(&self, code: TierCode) -> Option<usize> {
        self.tiers.iter().position(|t| t.code == code)
    }

    /// Like [`RuleVersion::rank_of`], but follows the tier map for codes of earlier versions.
    #[inline]
    pub fn resolve(&self, code: TierCode) -> Option<usize> {
        self.rank_of(code)
            .or_else(|| self.tier_map.iter().find(|(from, _)| *from == code).and_then(|(_, to)| self.rank_of(*to)))
    }

    /// The entry threshold: the lowest tier's minimum AUM over the month; none when the lowest
    /// tier qualifies by other criteria (SPEC §19.3: its qualification is then the entry).
    pub fn entry_threshold(&self) -> Option<Decimal> {
        let lowest = self.tiers.first()?;
        match lowest.single_criterion() {
            Some(((0, Window::Month), min)) => Some(min),
            _ => None,
        }
    }

    /// Whether an AUM qualifies for a tier's minimum under this version's comparison.
    #[inline]
    pub fn meets(&self, aum: Decimal, min: Decimal) -> bool {
        match self.settings.threshold_comparison {
            ThresholdComparison::AtLeast => aum >= min,
            ThresholdComparison::GreaterThan => aum > min,
        }
    }

    /// The qualifying tier of a month: the highest tier whose minimum the AUM meets. In a
    /// version whose tiers qualify by criteria (SPEC §19.3), the highest tier whose criteria the
    /// AUM meets with every other measure at 0 (a tier that needs another measure is not met).
    pub fn qualifying_rank(&self, aum: Decimal) -> Option<usize> {
        if self.by_criteria {
            let fen = crate::money::to_fen(crate::money::round_fen(aum, self.aum.rounding.strategy()));
            return fen.and_then(|fen| self.qualifying_rank_by(&[fen]));
        }
        self.tiers.iter().rposition(|t| self.meets(aum, t.min_aum))
    }
}

/// A rule set: the default one, or an override for a legal entity and/or customer kind.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    /// Its name.
    pub name: String,
    /// Legal entity selector.
    pub legal_entity: Option<String>,
    /// Customer kind selector.
    pub customer_kind: Option<CustomerKind>,
    /// Versions, in order of `effective_from`.
    pub versions: Vec<RuleVersion>,
}

impl RuleSet {
    /// The version in force for a month, if any.
    pub fn version_for(&self, month: Month) -> Option<&RuleVersion> {
        self.versions.iter().rev().find(|v| v.effective_from <= month)
    }
}

/// Index of a rule set in a [`RuleBook`](crate::RuleBook), as returned by
/// [`RuleBook::select`](crate::RuleBook::select).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleSetId(pub(crate) u32);

impl RuleSetId {
    /// The index as a number.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[cfg(test)]
mod tests {
    use crate::RuleBook;
    use crate::rules::CustomerKind;

    #[test]
    fn the_counted_rank_is_the_highest_tier_met() {
        let book = RuleBook::default_book().unwrap();
        let set = book.select(None, CustomerKind::Personal).unwrap();
        let v = book.version_for(set, "2024-01".parse().unwrap(), "c").unwrap();
        let keys: Vec<i128> = v.tiers.iter().map(|t| t.qualify_key).collect();
        let mut probes = vec![i128::MIN, -1, 0, i128::MAX];
        for k in &keys {
            probes.extend([k - 1, *k, k + 1]);
        }
        for key in probes {
            let searched = v.tiers.iter().rposition(|t| key >= t.qualify_key);
            assert_eq!(v.qualifying_rank_key(key), searched, "key {key}");
        }
    }
}
