//! Rule books: tier tables, settings and AUM composition, loaded from TOML or JSON and validated.
//!
//! A [`RuleBook`] holds one or more [`RuleSet`]s (the default one, and overrides per legal entity
//! and customer kind); each rule set holds [`RuleVersion`]s with an `effective_from` month.
//! The file format is documented in `rules-spec/RULES.md`; `rules-spec/default-rules.toml` is the
//! default book, also available as [`RuleBook::default_book`].

//!
//! The module is cut by what a reader looks for: [`file`](mod@file) is the file format serde reads,
//! [`compile`] validates it into the compiled form of [`compiled`], and [`book`] is the
//! [`RuleBook`] that holds it and selects rule sets and versions.

mod book;
mod compile;
mod compiled;
mod edit;
mod file;
mod lifecycle;
mod measure;
mod measure_file;
mod warning;
mod window;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use book::RuleBook;
pub use compiled::{RuleSet, RuleSetId, RuleVersion, Settings, Tier};
pub use edit::VersionSelection;
pub(crate) use file::whole;
pub use file::{RuleBookFile, RuleSetFile, RuleVersionFile, TierFile};
pub use lifecycle::{
    Lifecycle, LifecycleFile, STANDARD_LIFECYCLE_TOML, Stage, StageFile, StageRule, StageTest, StageTestFile,
};
pub(crate) use measure::FAST_VALUES;
pub use measure::{Absent, Criterion, CriterionFile, Measure, MeasureComponentFile, MeasureFile, Qualify, QualifyFile};
pub use warning::{Warning, WarningFile, WarningKind, WarningRole};
pub use window::{MAX_WINDOW_MONTHS, Window};
pub(crate) use window::{NO_VALUE, WindowMonth, WindowSlot};

/// The rule file format version this library reads.
pub const RULE_FORMAT_VERSION: u32 = 1;

/// The default rule book shipped in `rules-spec/default-rules.toml`.
pub const DEFAULT_RULES_TOML: &str = include_str!("../../../../rules-spec/default-rules.toml");

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
    /// Every kind, in order.
    pub const ALL: [CustomerKind; 2] = [CustomerKind::Personal, CustomerKind::Corporate];

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
        // One spelling rule on every entry point (SPEC §16): the code or the Chinese name,
        // exactly; no case folding, no spaces.
        match s {
            "personal" | "个人" => Ok(CustomerKind::Personal),
            "corporate" | "对公" => Ok(CustomerKind::Corporate),
            other => Err(format!("`{other}` is not a customer kind: expected personal (个人) or corporate (对公)")),
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
    /// The highest tier qualified in the evaluated month and the `downgrade_window` − 1 months
    /// before it (SPEC §19.4; CCB's OCRM).
    HighestOver,
}

/// When an entry, re-entry or upgrade takes effect (SPEC §19.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeTiming {
    /// From the month after the month that qualified (SPEC §5.1, §5.2; default).
    #[default]
    NextMonth,
    /// From the month that qualified itself (CCB's OCRM).
    SameMonth,
}

impl UpgradeTiming {
    /// Whether this is the default, `next_month` (rule files leave it out).
    pub fn is_next_month(&self) -> bool {
        *self == UpgradeTiming::NextMonth
    }
}

impl DowngradeTarget {
    /// The code used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            DowngradeTarget::HighestInWindow => "highest_in_window",
            DowngradeTarget::LastMonth => "last_month",
            DowngradeTarget::OneDown => "one_down",
            DowngradeTarget::HighestOver => "highest_over",
        }
    }
}
