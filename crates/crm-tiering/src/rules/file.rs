//! The rule file format: what serde reads from TOML or JSON. Unknown fields are errors;
//! amounts are decimal strings or integers, never floats (RULES.md).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::measure::{MeasureFile, QualifyFile};
use super::warning::WarningFile;
use super::{CustomerKind, DowngradeTarget, ThresholdComparison, UpgradeTiming};
use crate::aum::{AumFile, ComponentFile, Divisor, MissingDay, Rounding, RoundingLevel};
use crate::money::serde_amount as amount;
use crate::month::Month;

/// A rule book as written in a file. [`RuleBook`](crate::RuleBook) is its validated, compiled form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleBookFile {
    /// Must be 1.
    #[serde(deserialize_with = "whole::deserialize_u32")]
    pub format_version: u32,
    /// A name for the book, shown by tools.
    #[serde(default)]
    pub name: String,
    /// The customer kinds the book tiers (SPEC §9); a customer of another kind is refused
    /// (an input error on field `customer_kind`), never tiered by the wrong rules. When absent:
    /// `personal`, and any kind a rule set selects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_kinds: Option<Vec<CustomerKind>>,
    /// The rule sets: exactly one without selectors (the default), and overrides.
    pub rule_sets: Vec<RuleSetFile>,
    /// The loan classification settings (`[loans]`, SPEC §21.2: the floor's day boundaries, the
    /// approaching and clean windows); absent: the 2023 rules' defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loans: Option<crate::loans::LoanSettings>,
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

/// The settings of a version that its file form leaves out when they are not set (so that a book
/// without them keeps its fingerprint): settings all the same, for edits such as
/// [`RuleBook::with_setting`](crate::RuleBook::with_setting).
pub(crate) const SETTINGS_LEFT_OUT_WHEN_UNSET: &[&str] = &[
    "special_vip_default_tier",
    "tier_map",
    "label_after",
    "assessment_months",
    "assess_upgrades",
    "upgrade_timing",
    "pause_upgrades_while",
];

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
    /// Short months after which a watch is labelled 关注 (a two-stage watch, SPEC §19.4), below
    /// the watch length; none (default): the watch has one stage. Tiers may override.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::deserialize_option")]
    pub label_after: Option<i64>,
    /// `highest_in_window` (default), `last_month`, `one_down` or `highest_over`.
    #[serde(default)]
    pub downgrade_target: DowngradeTarget,
    /// With `highest_over`: the months (2-24) whose highest qualified tier a downgrade lands
    /// on, the evaluated month and those before it (SPEC §19.4).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::deserialize_option")]
    pub downgrade_window: Option<i64>,
    /// Months of the year (1-12) in which downgrades and exits take effect (SPEC §19.4); none
    /// (default): every month.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::deserialize_list")]
    pub assessment_months: Option<Vec<i64>>,
    /// When entries, re-entries and upgrades take effect: `next_month` (default) or
    /// `same_month` (SPEC §19.4).
    #[serde(default, skip_serializing_if = "UpgradeTiming::is_next_month")]
    pub upgrade_timing: UpgradeTiming,
    /// Whether entries, re-entries and upgrades wait for the assessment months too (default
    /// false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub assess_upgrades: bool,
    /// A measure of this version (such as a non-performing loan balance): in a month where its
    /// value is above zero, entries, re-entries and upgrades are held (SPEC §21.8); none
    /// (default): never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_upgrades_while: Option<String>,
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
    /// Measures besides `aum` that tiers may qualify by (SPEC §19.1); none by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measures: Vec<MeasureFile>,
    /// Warnings about abnormal changes of a measure (SPEC §22); none by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningFile>,
    /// Lifecycle stages (SPEC §23); none by default, the standard stages when the table is
    /// given without `stages`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<super::lifecycle::LifecycleFile>,
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
    /// Minimum monthly daily-average AUM (CNY), as a decimal string; 0 (left out) when the
    /// tier qualifies by `qualify` instead.
    #[serde(default, with = "amount", skip_serializing_if = "Decimal::is_zero")]
    pub min_aum: Decimal,
    /// Criteria the tier qualifies by instead of `min_aum` (SPEC §19.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualify: Option<QualifyFile>,
    /// Watch length for this tier when it differs from the version's.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::deserialize_option")]
    pub watch_months: Option<i64>,
    /// Short months after which a watch of this tier is labelled 关注, when it differs from the
    /// version's `label_after`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::deserialize_option")]
    pub label_after: Option<i64>,
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

/// Serde for whole numbers (months, versions, days) in rule files, loan settings and records,
/// with messages that name no type.
pub(crate) mod whole {
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

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(V)
    }

    pub(super) fn deserialize_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_any(V).map(Some)
    }

    pub(super) fn deserialize_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
        struct L;
        impl<'de> Visitor<'de> for L {
            type Value = Vec<i64>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of whole numbers")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<i64>, A::Error> {
                struct One(i64);
                impl<'de> serde::Deserialize<'de> for One {
                    fn deserialize<D2: Deserializer<'de>>(d: D2) -> Result<Self, D2::Error> {
                        d.deserialize_any(V).map(One)
                    }
                }
                let mut out = Vec::new();
                while let Some(One(v)) = seq.next_element()? {
                    out.push(v);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(L).map(Some)
    }

    pub(crate) fn deserialize_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let v = d.deserialize_any(V)?;
        u32::try_from(v).map_err(|_| de::Error::custom(format!("expected a whole number from 0, got {v}")))
    }
}
