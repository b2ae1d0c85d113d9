//! Rule books: tier tables, settings and AUM composition, loaded from TOML or JSON and validated.
//!
//! A [`RuleBook`] holds one or more [`RuleSet`]s (the default one, and overrides per legal entity
//! and customer kind); each rule set holds [`RuleVersion`]s with an `effective_from` month.
//! The file format is documented in `rules-spec/RULES.md`; `rules-spec/default-rules.toml` is the
//! default book, also available as [`RuleBook::default_book`].

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::aum::{Composition, Divisor, MissingDay, Rounding, RoundingLevel};
use crate::code::TierCode;
use crate::error::{InputError, RuleError, TieringError};
use crate::month::Month;

/// The rule file format version this library reads.
pub const RULE_FORMAT_VERSION: u32 = 1;

/// The default rule book shipped in `rules-spec/default-rules.toml`.
pub const DEFAULT_RULES_TOML: &str = include_str!("../../../rules-spec/default-rules.toml");

/// Personal or corporate customer: rule sets can be selected by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    /// 个人客户, a personal customer.
    #[default]
    Personal,
    /// 对公客户, a corporate customer.
    Corporate,
}

impl CustomerKind {
    /// The code used in files: `personal` or `corporate`.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerKind::Personal => "personal",
            CustomerKind::Corporate => "corporate",
        }
    }
}

impl std::str::FromStr for CustomerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "personal" | "p" | "个人" => Ok(CustomerKind::Personal),
            "corporate" | "c" | "对公" => Ok(CustomerKind::Corporate),
            other => Err(format!("`{other}` is not a customer kind: expected personal or corporate")),
        }
    }
}

impl fmt::Display for CustomerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a month's AUM is compared with a tier's minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdComparison {
    /// AUM >= minimum qualifies (含, the default).
    #[default]
    AtLeast,
    /// AUM > minimum qualifies (the source text's literal "大于").
    GreaterThan,
}

/// Which tier a downgrade lands on after a full watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DowngradeTarget {
    /// The highest tier qualified in the watch window (the requirement's rule, default).
    #[default]
    HighestInWindow,
    /// The tier qualified by the window's last month.
    LastMonth,
    /// One tier below the current one.
    OneDown,
}

impl DowngradeTarget {
    /// The code used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            DowngradeTarget::HighestInWindow => "highest_in_window",
            DowngradeTarget::LastMonth => "last_month",
            DowngradeTarget::OneDown => "one_down",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The file format (what serde reads). Unknown fields are errors.

/// A rule book as written in a file. [`RuleBook`] is its validated, compiled form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleBookFile {
    /// Must be 1.
    #[serde(deserialize_with = "whole::deserialize_u32")]
    pub format_version: u32,
    /// A name for the book, shown by tools.
    #[serde(default)]
    pub name: String,
    /// The rule sets: exactly one without selectors (the default), and overrides.
    pub rule_sets: Vec<RuleSetFile>,
}

/// A rule set as written in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetFile {
    /// A name for the rule set.
    pub name: String,
    /// Applies only to this legal entity (法人机构号) when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_entity: Option<String>,
    /// Applies only to this customer kind when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_kind: Option<CustomerKind>,
    /// The effective-dated versions.
    pub versions: Vec<RuleVersionFile>,
}

/// A rule version as written in a file; missing settings take their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleVersionFile {
    /// First month this version is in force (`YYYY-MM`).
    pub effective_from: Month,
    /// `at_least` (default) or `greater_than`.
    #[serde(default)]
    pub threshold_comparison: ThresholdComparison,
    /// Consecutive months below entry that end a rating (default 6).
    #[serde(default = "defaults::exit_after_months", deserialize_with = "whole::deserialize")]
    pub exit_after_months: i64,
    /// Months of 已退未评级 retention after an exit (default 2).
    #[serde(default = "defaults::retention_months", deserialize_with = "whole::deserialize")]
    pub retention_months: i64,
    /// Consecutive short months of a downgrade watch (default 3; tiers may override).
    #[serde(default = "defaults::watch_months", deserialize_with = "whole::deserialize")]
    pub watch_months: i64,
    /// `highest_in_window` (default), `last_month` or `one_down`.
    #[serde(default)]
    pub downgrade_target: DowngradeTarget,
    /// Months a special VIP designation lasts (default 12).
    #[serde(default = "defaults::special_vip_months", deserialize_with = "whole::deserialize")]
    pub special_vip_months: i64,
    /// Tier of a special VIP designation that names none (default: the lowest tier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_vip_default_tier: Option<String>,
    /// Months before a special VIP designation ends that the expiry alert starts (default 2).
    #[serde(default = "defaults::special_vip_notice_months", deserialize_with = "whole::deserialize")]
    pub special_vip_notice_months: i64,
    /// Near-threshold (临界) band as a fraction of a tier's minimum (default 0.10).
    #[serde(default = "defaults::near_threshold_band", with = "amount")]
    pub near_threshold_band: Decimal,
    /// Tier codes of earlier versions mapped to codes of this one.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tier_map: std::collections::BTreeMap<String, String>,
    /// The tier table, lowest first.
    pub tiers: Vec<TierFile>,
    /// AUM composition; the default personal composition when omitted.
    #[serde(default = "defaults::aum")]
    pub aum: AumFile,
}

/// A tier as written in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierFile {
    /// Tier code, such as `gold`.
    pub code: String,
    /// Chinese display name, such as 金卡.
    #[serde(default)]
    pub name_zh: String,
    /// English display name, such as Gold.
    #[serde(default)]
    pub name_en: String,
    /// Minimum monthly daily-average AUM (CNY), as a decimal string.
    #[serde(with = "amount")]
    pub min_aum: Decimal,
    /// Watch length for this tier when it differs from the version's.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::deserialize_option")]
    pub watch_months: Option<i64>,
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
    #[serde(default = "defaults::yes")]
    pub included: bool,
    /// Weight from 0 to 10 (default 1).
    #[serde(default = "defaults::one", with = "amount")]
    pub weight: Decimal,
}

mod defaults {
    use super::*;
    pub(super) fn exit_after_months() -> i64 {
        6
    }
    pub(super) fn retention_months() -> i64 {
        2
    }
    pub(super) fn watch_months() -> i64 {
        3
    }
    pub(super) fn special_vip_months() -> i64 {
        12
    }
    pub(super) fn special_vip_notice_months() -> i64 {
        2
    }
    pub(super) fn near_threshold_band() -> Decimal {
        Decimal::new(10, 2)
    }
    pub(super) fn yes() -> bool {
        true
    }
    pub(super) fn one() -> Decimal {
        Decimal::ONE
    }
    pub(super) fn aum() -> AumFile {
        let c = |code: &str, zh: &str, en: &str, group: &str| ComponentFile {
            code: code.into(),
            name_zh: zh.into(),
            name_en: en.into(),
            group: group.into(),
            included: true,
            weight: Decimal::ONE,
        };
        AumFile {
            divisor: Divisor::default(),
            missing_day: MissingDay::default(),
            rounding: Rounding::default(),
            rounding_level: RoundingLevel::default(),
            components: vec![
                c("demand_deposit", "活期存款", "Demand deposits", "deposits"),
                c("time_deposit", "定期存款", "Time deposits", "deposits"),
                c("cert_treasury", "凭证式国债", "Certificate treasury bonds", "investment_wealth"),
                c("wealth_product", "理财产品", "Wealth-management products", "investment_wealth"),
                c("securities_fund", "证券基金", "Securities funds", "investment_wealth"),
                c("treasury_bond", "国债", "Treasury bonds", "investment_wealth"),
                c("gold", "黄金", "Gold", "investment_wealth"),
                c("cts_margin", "第三方存管保证金", "Third-party custody (CTS) margin", "custody_margin"),
            ],
        }
    }
}

/// Serde for whole numbers (months, versions) in rule files, with messages that name no type.
mod whole {
    use std::fmt;

    use serde::Deserializer;
    use serde::de::{self, Visitor};

    struct V;

    impl Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom(format!("{v} is too large")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            Err(E::custom(format!("expected a whole number, got {v}")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            Err(E::custom(format!("expected a whole number, got the text \"{v}\"")))
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(V)
    }

    pub(super) fn deserialize_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_any(V).map(Some)
    }

    pub(super) fn deserialize_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let v = d.deserialize_any(V)?;
        u32::try_from(v).map_err(|_| de::Error::custom(format!("expected a whole number from 0, got {v}")))
    }
}

/// Serde for amounts in rule files: decimal strings or integers, never floats.
pub(crate) mod amount {
    use std::fmt;

    use rust_decimal::Decimal;
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal amount written as a string, such as \"200000.00\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                crate::money::parse_amount(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
                Ok(Decimal::from(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
                Ok(Decimal::from(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
                Err(E::custom(format!(
                    "amount {v} is written as a binary floating-point number: write it as a string, such as \"{v}\", so that it stays exact"
                )))
            }
        }
        d.deserialize_any(V)
    }

    /// A list of optional amounts (daily balances), each a string or an integer, or null.
    pub(crate) mod option_list {
        use rust_decimal::Decimal;
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        #[derive(Deserialize)]
        struct One(#[serde(deserialize_with = "super::deserialize")] Decimal);

        #[derive(Serialize)]
        struct Out(#[serde(serialize_with = "super::serialize")] Decimal);

        pub(crate) fn serialize<S: Serializer>(v: &[Option<Decimal>], s: S) -> Result<S::Ok, S::Error> {
            let out: Vec<Option<Out>> = v.iter().map(|d| d.map(Out)).collect();
            out.serialize(s)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Option<Decimal>>, D::Error> {
            let v: Vec<Option<One>> = Vec::deserialize(d)?;
            Ok(v.into_iter().map(|o| o.map(|One(x)| x)).collect())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The compiled form.

/// A tier of a rule version's table.
#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    /// Tier code.
    pub code: TierCode,
    /// Chinese display name (金卡).
    pub name_zh: String,
    /// English display name (Gold).
    pub name_en: String,
    /// Minimum AUM, at fen scale.
    pub min_aum: Decimal,
    /// Consecutive short months before a downgrade from this tier.
    pub watch_months: u32,
    /// The smallest comparison key that qualifies: `min_aum` as an integer at the version's
    /// comparison scale, plus one when the comparison is strict (keys are exact integers, so
    /// `key > min` is `key >= min + 1`).
    pub(crate) qualify_key: i128,
    /// Lower edge of the near-threshold band, `min_aum * (1 - band)`, as a comparison key.
    pub(crate) band_below_key: i128,
    /// Upper edge of the near-threshold band, `min_aum * (1 + band)`, as a comparison key.
    pub(crate) band_above_key: i128,
}

/// The settings of a rule version (all the numbers of the rules).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Inclusive (default) or strict threshold comparison.
    pub threshold_comparison: ThresholdComparison,
    /// Consecutive months below entry that end a rating.
    pub exit_after_months: u32,
    /// Months of 已退未评级 retention.
    pub retention_months: u32,
    /// Default watch length.
    pub watch_months: u32,
    /// Where a downgrade lands.
    pub downgrade_target: DowngradeTarget,
    /// Months a special VIP designation lasts.
    pub special_vip_months: u32,
    /// Tier of a designation that names none.
    pub special_vip_default_tier: TierCode,
    /// Months of notice before a designation ends.
    pub special_vip_notice_months: u32,
    /// Near-threshold band, a fraction such as 0.10.
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
    key_scale: u32,
    /// `10^(key_scale - 2)`: turns an amount in fen into a comparison key.
    fen_key_factor: i128,
}

impl RuleVersion {
    /// An AUM as a comparison key: an integer at the version's comparison scale.
    ///
    /// AUMs reach the engine rounded to the fen, so the key is exact.
    #[inline]
    pub(crate) fn key(&self, aum: Decimal) -> i128 {
        if aum.scale() == 2 {
            // |mantissa| < 2^96 and the factor is at most 10^4: the product cannot overflow.
            aum.mantissa() * self.fen_key_factor
        } else {
            decimal_key(aum, self.key_scale)
        }
    }

    /// Whether a comparison key meets a tier's minimum.
    #[inline]
    pub(crate) fn meets_key(&self, key: i128, tier: &Tier) -> bool {
        key >= tier.qualify_key
    }

    /// The qualifying tier of a month's AUM key.
    #[inline]
    pub(crate) fn qualifying_rank_key(&self, key: i128) -> Option<usize> {
        self.tiers.iter().rposition(|t| key >= t.qualify_key)
    }

    /// The tier with this code, as an index into [`RuleVersion::tiers`].
    pub fn rank_of(&self, code: TierCode) -> Option<usize> {
        self.tiers.iter().position(|t| t.code == code)
    }

    /// Like [`RuleVersion::rank_of`], but follows the tier map for codes of earlier versions.
    pub fn resolve(&self, code: TierCode) -> Option<usize> {
        self.rank_of(code)
            .or_else(|| self.tier_map.iter().find(|(from, _)| *from == code).and_then(|(_, to)| self.rank_of(*to)))
    }

    /// The entry threshold: the lowest tier's minimum.
    pub fn entry_threshold(&self) -> Decimal {
        self.tiers.first().map(|t| t.min_aum).unwrap_or_default()
    }

    /// Whether an AUM qualifies for a tier's minimum under this version's comparison.
    #[inline]
    pub fn meets(&self, aum: Decimal, min: Decimal) -> bool {
        match self.settings.threshold_comparison {
            ThresholdComparison::AtLeast => aum >= min,
            ThresholdComparison::GreaterThan => aum > min,
        }
    }

    /// The qualifying tier of a month: the highest tier whose minimum the AUM meets.
    pub fn qualifying_rank(&self, aum: Decimal) -> Option<usize> {
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

/// Index of a rule set in a [`RuleBook`], as returned by [`RuleBook::select`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleSetId(pub(crate) u32);

impl RuleSetId {
    /// The index as a number.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A validated rule book. Immutable, `Send + Sync`, cheap to share behind an `Arc`.
///
/// ```
/// use crm_tiering::{RuleBook, CustomerKind, Month};
/// let book = RuleBook::default_book()?;
/// let set = book.rule_set(book.select(None, CustomerKind::Personal)?);
/// let v = set.version_for("2024-01".parse()?).unwrap();
/// let names: Vec<&str> = v.tiers.iter().map(|t| t.name_zh.as_str()).collect();
/// assert_eq!(names, ["金卡", "白金卡", "钻石卡", "私行级"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RuleBook {
    name: String,
    rule_sets: Vec<RuleSet>,
    source: RuleBookFile,
    fingerprint: String,
}

impl RuleBook {
    /// The default rule book of `rules-spec/default-rules.toml`.
    ///
    /// # Errors
    /// Never in a released build (a test checks the shipped file); the `Result` keeps the
    /// library free of panics.
    pub fn default_book() -> Result<Self, TieringError> {
        Self::from_toml_str(DEFAULT_RULES_TOML)
    }

    /// Parses and validates a TOML rule book.
    ///
    /// # Errors
    /// [`TieringError::Rules`] naming the field (and line and column for syntax errors and
    /// unknown fields).
    pub fn from_toml_str(text: &str) -> Result<Self, TieringError> {
        let file: RuleBookFile = serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
            let (line, column) = match e.inner().span() {
                Some(span) => line_col(text, span.start),
                None => (None, None),
            };
            RuleError { field: field_path(e.path()), message: toml_message(e.inner()), line, column }
        })?;
        Self::from_file(file)
    }

    /// Parses and validates a JSON rule book.
    ///
    /// # Errors
    /// [`TieringError::Rules`] naming the field, line and column.
    pub fn from_json_str(text: &str) -> Result<Self, TieringError> {
        let json_error = |field: String, e: &serde_json::Error| RuleError {
            field,
            message: strip_json_position(&e.to_string()),
            line: Some(e.line()),
            column: Some(e.column()),
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let file: RuleBookFile =
            serde_path_to_error::deserialize(&mut de).map_err(|e| json_error(field_path(e.path()), e.inner()))?;
        de.end().map_err(|e| json_error(String::new(), &e))?;
        Self::from_file(file)
    }

    /// Parses a rule book from text, JSON when it starts with `{`, TOML otherwise.
    ///
    /// # Errors
    /// As [`RuleBook::from_toml_str`] and [`RuleBook::from_json_str`].
    pub fn from_str_auto(text: &str) -> Result<Self, TieringError> {
        if text.trim_start().starts_with('{') { Self::from_json_str(text) } else { Self::from_toml_str(text) }
    }

    /// Reads a rule book file (`.json` is JSON, anything else TOML).
    ///
    /// # Errors
    /// When the file cannot be read, or as [`RuleBook::from_toml_str`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, TieringError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| RuleError::new(path.display().to_string(), format!("cannot read the rule file: {e}")))?;
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            Self::from_json_str(&text)
        } else {
            Self::from_str_auto(&text)
        }
    }

    /// Validates a parsed file and compiles it.
    ///
    /// # Errors
    /// [`TieringError::Rules`] naming the first invalid field.
    pub fn from_file(file: RuleBookFile) -> Result<Self, TieringError> {
        let rule_sets = compile(&file)?;
        let fingerprint = crate::digest::sha256_hex(serde_json::to_string(&file).unwrap_or_default().as_bytes());
        Ok(RuleBook { name: file.name.clone(), rule_sets, source: file, fingerprint })
    }

    /// The book's fingerprint: the SHA-256 of its canonical JSON (every setting, defaults
    /// filled in), as 64 lowercase hex digits. Two books with the same rules have the same
    /// fingerprint whatever their file format or layout; stored states carry the fingerprint of
    /// the book that wrote them, so that states are never silently evaluated under other rules.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The book's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether any rule set selects by legal entity (when none does, selection ignores it).
    pub fn selects_by_legal_entity(&self) -> bool {
        self.rule_sets.iter().any(|s| s.legal_entity.is_some())
    }

    /// The rule sets.
    pub fn rule_sets(&self) -> &[RuleSet] {
        &self.rule_sets
    }

    /// A rule set by id.
    pub fn rule_set(&self, id: RuleSetId) -> &RuleSet {
        // Ids are only made by `select` on this book.
        &self.rule_sets[id.index().min(self.rule_sets.len().saturating_sub(1))]
    }

    /// The book as written (with defaults filled in), for tools and bindings.
    pub fn source(&self) -> &RuleBookFile {
        &self.source
    }

    /// The book as JSON text (defaults filled in). Loading it again gives an equal book.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.source).unwrap_or_default()
    }

    /// Selects the rule set for a customer: the most specific match, legal entity and kind
    /// first, then legal entity, then kind, then the default.
    ///
    /// # Errors
    /// [`TieringError::Rules`] when no rule set applies (a book without a default set).
    pub fn select(&self, legal_entity: Option<&str>, kind: CustomerKind) -> Result<RuleSetId, TieringError> {
        let mut best: Option<(u8, usize)> = None;
        for (i, s) in self.rule_sets.iter().enumerate() {
            let mut score = 0u8;
            if let Some(e) = &s.legal_entity {
                if Some(e.as_str()) != legal_entity {
                    continue;
                }
                score += 2;
            }
            if let Some(k) = s.customer_kind {
                if k != kind {
                    continue;
                }
                score += 1;
            }
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, i));
            }
        }
        match best {
            Some((_, i)) => Ok(RuleSetId(i as u32)),
            None => Err(RuleError::new(
                "rule_sets",
                format!(
                    "no rule set applies to legal entity `{}`, customer kind {kind} (add a rule set without selectors as the default)",
                    legal_entity.unwrap_or("")
                ),
            )
            .into()),
        }
    }

    /// The version of a rule set in force for a month.
    ///
    /// # Errors
    /// [`TieringError::Input`] naming the customer and month when no version is in force yet.
    pub fn version_for(&self, id: RuleSetId, month: Month, customer: &str) -> Result<&RuleVersion, TieringError> {
        let set = self.rule_set(id);
        set.version_for(month).ok_or_else(|| {
            InputError::new(
                customer,
                Some(month),
                "month",
                format!(
                    "no version of rule set `{}` is in force (its first version starts {})",
                    set.name,
                    set.versions.first().map(|v| v.effective_from.to_string()).unwrap_or_default()
                ),
            )
            .into()
        })
    }
}

/// An amount with at most `scale` decimals as an integer at that scale (saturating: amounts
/// are bounded far below the limits by validation and by `Decimal`'s 96-bit mantissa).
fn decimal_key(amount: Decimal, scale: u32) -> i128 {
    let m = amount.mantissa();
    let s = amount.scale();
    if s <= scale { m.saturating_mul(10i128.pow(scale - s)) } else { m / 10i128.pow(s - scale) }
}

/// The path of a field as `rule_sets[0].versions[1].tiers[2].min_aum` (empty at the top).
fn field_path(path: &serde_path_to_error::Path) -> String {
    let p = path.to_string();
    if p == "." { String::new() } else { p }
}

fn line_col(text: &str, offset: usize) -> (Option<usize>, Option<usize>) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (Some(line), Some(column))
}

fn toml_message(e: &toml::de::Error) -> String {
    e.message().trim().to_string()
}

fn strip_json_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn compile(file: &RuleBookFile) -> Result<Vec<RuleSet>, RuleError> {
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
        if s.versions.is_empty() {
            return Err(RuleError::new(format!("{at}.versions"), "a rule set needs at least one version"));
        }
        let mut versions = Vec::with_capacity(s.versions.len());
        for (j, v) in s.versions.iter().enumerate() {
            versions.push(compile_version(v, &format!("{at}.versions[{j}]"))?);
        }
        let mut order: Vec<usize> = (0..versions.len()).collect();
        order.sort_by_key(|&j| versions[j].effective_from);
        for w in order.windows(2) {
            if versions[w[0]].effective_from == versions[w[1]].effective_from {
                return Err(RuleError::new(
                    format!("{at}.versions[{}].effective_from", w[1]),
                    format!(
                        "versions {} and {} overlap: both take effect in {}",
                        w[0], w[1], versions[w[1]].effective_from
                    ),
                ));
            }
        }
        versions.sort_by_key(|v| v.effective_from);
        sets.push(RuleSet {
            name: s.name.clone(),
            legal_entity: s.legal_entity.clone(),
            customer_kind: s.customer_kind,
            versions,
        });
    }
    if !sets.iter().any(|s| s.legal_entity.is_none() && s.customer_kind.is_none()) {
        return Err(RuleError::new(
            "rule_sets",
            "a rule book needs a default rule set, one without `legal_entity` and `customer_kind`",
        ));
    }
    Ok(sets)
}

fn months(value: i64, field: String, max: i64) -> Result<u32, RuleError> {
    if value <= 0 {
        return Err(RuleError::new(field, format!("duration must be at least 1 month, got {value}")));
    }
    if value > max {
        return Err(RuleError::new(field, format!("duration must be at most {max} months, got {value}")));
    }
    Ok(value as u32)
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
    let mut tiers: Vec<Tier> = Vec::with_capacity(v.tiers.len());
    for (k, t) in v.tiers.iter().enumerate() {
        let tat = format!("{at}.tiers[{k}]");
        let code = TierCode::new(&t.code).map_err(|e| RuleError::new(format!("{tat}.code"), e.to_string()))?;
        if tiers.iter().any(|p| p.code == code) {
            return Err(RuleError::new(format!("{tat}.code"), format!("duplicate tier code `{code}`")));
        }
        if t.min_aum <= Decimal::ZERO {
            return Err(RuleError::new(
                format!("{tat}.min_aum"),
                format!("minimum AUM must be above 0, got {}", t.min_aum),
            ));
        }
        if t.min_aum > crate::money::MAX_AMOUNT {
            return Err(RuleError::new(
                format!("{tat}.min_aum"),
                format!("minimum AUM {} is above the maximum amount {}", t.min_aum, crate::money::MAX_AMOUNT),
            ));
        }
        if t.min_aum.scale() > 2 && t.min_aum != t.min_aum.round_dp(2) {
            return Err(RuleError::new(
                format!("{tat}.min_aum"),
                format!("minimum AUM {} has more decimals than fen", t.min_aum),
            ));
        }
        if let Some(prev) = tiers.last()
            && t.min_aum <= prev.min_aum
        {
            return Err(RuleError::new(
                format!("{tat}.min_aum"),
                format!(
                    "tier thresholds must ascend: `{code}` minimum {} is not above `{}` minimum {}",
                    t.min_aum, prev.code, prev.min_aum
                ),
            ));
        }
        let watch = match t.watch_months {
            Some(w) => months(w, format!("{tat}.watch_months"), 120)?,
            None => watch_default,
        };
        let min = crate::money::to_fen_scale(t.min_aum);
        tiers.push(Tier {
            code,
            name_zh: t.name_zh.clone(),
            name_en: t.name_en.clone(),
            min_aum: min,
            watch_months: watch,
            qualify_key: decimal_key(min, key_scale)
                + i128::from(v.threshold_comparison == ThresholdComparison::GreaterThan),
            band_below_key: decimal_key(min * (Decimal::ONE - band), key_scale),
            band_above_key: decimal_key(min * (Decimal::ONE + band), key_scale),
        });
    }
    let special_vip_default_tier = match &v.special_vip_default_tier {
        Some(c) => {
            let field = format!("{at}.special_vip_default_tier");
            let code = TierCode::new(c).map_err(|e| RuleError::new(&field, e.to_string()))?;
            if !tiers.iter().any(|t| t.code == code) {
                return Err(RuleError::new(field, format!("tier `{code}` is not in this version's tiers")));
            }
            code
        }
        None => tiers[0].code,
    };
    let mut tier_map = Vec::with_capacity(v.tier_map.len());
    for (from, to) in &v.tier_map {
        let field = format!("{at}.tier_map.{from}");
        let f = TierCode::new(from).map_err(|e| RuleError::new(&field, e.to_string()))?;
        let t = TierCode::new(to).map_err(|e| RuleError::new(&field, e.to_string()))?;
        if !tiers.iter().any(|x| x.code == t) {
            return Err(RuleError::new(field, format!("maps to tier `{t}`, which is not in this version's tiers")));
        }
        if tiers.iter().any(|x| x.code == f) {
            return Err(RuleError::new(field, format!("tier `{f}` is in this version's tiers and cannot be mapped")));
        }
        tier_map.push((f, t));
    }
    let settings = Settings {
        threshold_comparison: v.threshold_comparison,
        exit_after_months: months(v.exit_after_months, format!("{at}.exit_after_months"), 120)?,
        retention_months: months(v.retention_months, format!("{at}.retention_months"), 120)?,
        watch_months: watch_default,
        downgrade_target: v.downgrade_target,
        special_vip_months: months(v.special_vip_months, format!("{at}.special_vip_months"), 120)?,
        special_vip_default_tier,
        special_vip_notice_months: months(v.special_vip_notice_months, format!("{at}.special_vip_notice_months"), 120)?,
        near_threshold_band: band,
    };
    let aum = Composition::compile(&v.aum, &format!("{at}.aum"))?;
    Ok(RuleVersion {
        effective_from: v.effective_from,
        tiers,
        settings,
        tier_map,
        aum,
        key_scale,
        fen_key_factor: 10i128.pow(key_scale - 2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let v = book.rule_sets()[0].version_for("2030-01".parse().unwrap()).unwrap();
        assert_eq!(v.tiers.len(), 4);
        assert_eq!(v.entry_threshold(), Decimal::new(20_000_000, 2));
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
