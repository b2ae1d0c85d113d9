//! An alert: what an account manager should see (SPEC §11).

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::codes::{AlertKind, Severity};
use super::fen::{PackedFen, fen_field_opt};
use crate::code::{MeasureCode, TierCode};
use crate::money::from_fen;
use crate::month::Month;
use crate::rules::Window;

/// A notice for the account manager, about the month the new state is effective for.
/// Amounts are whole fen (SPEC §16); they are read as decimals ([`Alert::aum`]) or as fen
/// ([`Alert::aum_fen`]).
///
/// ```
/// use crm_tiering::{AlertKind, Customer, CustomerState, Engine, MonthInput, RuleBook, parse_amount};
/// let engine = Engine::new(RuleBook::default_book()?);
/// let out = engine.evaluate(&Customer::personal("c1"), &CustomerState::default(),
///     "2024-01".parse()?, &MonthInput::total(parse_amount("190000")?))?;
/// let potential = out.alerts.iter().find(|a| a.kind == AlertKind::PotentialVip).unwrap();
/// assert_eq!(potential.gap().unwrap().to_string(), "10000.00"); // missing to 200,000
/// assert_eq!(potential.gap_fen(), Some(1_000_000));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "AlertJson", try_from = "AlertJson")]
pub struct Alert {
    /// The evaluated month.
    pub month: Month,
    /// What it is about.
    pub kind: AlertKind,
    /// The tier concerned: watched, current, next, entry, last or designated tier.
    pub tier: Option<TierCode>,
    /// Months counted so far (watch months, months below entry).
    pub months_counted: Option<u32>,
    /// Months left before the watch, exit, retention or designation ends.
    pub months_left: Option<u32>,
    aum: PackedFen,
    threshold: PackedFen,
    gap: PackedFen,
    /// The measure of the criterion the alert is about, in a rule book that qualifies tiers by
    /// criteria (SPEC §19.3); `threshold` and `gap` are then in that measure's units.
    pub measure: Option<MeasureCode>,
    /// The window the measure was read over, when not the evaluated month alone (SPEC §19.2).
    pub measure_window: Option<Window>,
    measure_value: PackedFen,
}

impl Alert {
    /// An alert with no counts, threshold or gap.
    pub(crate) fn new(month: Month, kind: AlertKind, tier: Option<TierCode>, aum_fen: i64) -> Self {
        Alert {
            month,
            kind,
            tier,
            months_counted: None,
            months_left: None,
            aum: PackedFen::new(aum_fen),
            threshold: PackedFen::NONE,
            gap: PackedFen::NONE,
            measure: None,
            measure_window: None,
            measure_value: PackedFen::NONE,
        }
    }

    /// With the months counted so far, if any, and the months left.
    pub(crate) fn with_months(mut self, counted: Option<u32>, left: u32) -> Self {
        self.months_counted = counted;
        self.months_left = Some(left);
        self
    }

    /// With its threshold, in fen.
    pub(crate) fn with_threshold(mut self, threshold_fen: i64) -> Self {
        self.threshold = PackedFen::new(threshold_fen);
        self
    }

    /// With its gap, in fen.
    pub(crate) fn with_gap(mut self, gap_fen: i64) -> Self {
        self.gap = PackedFen::new(gap_fen);
        self
    }

    /// With the criterion it is about: its measure and window, and the value it had (in fen).
    pub(crate) fn measured(mut self, measure: MeasureCode, window: Window, value_fen: i64) -> Self {
        self.measure = Some(measure);
        self.measure_window = Some(window).filter(|w| !w.is_month());
        self.measure_value = PackedFen::new(value_fen);
        self
    }

    /// The value of [`Alert::measure`] this month, when the alert names a measure.
    pub fn measure_value(&self) -> Option<Decimal> {
        self.measure_value.get_opt().map(from_fen)
    }

    /// [`Alert::measure_value`] in fen.
    pub fn measure_value_fen(&self) -> Option<i64> {
        self.measure_value.get_opt()
    }

    /// An alert that a customer was held back in `month`: its standing `tier` is frozen, and
    /// the months since `last_month` (this one included) were not evaluated.
    pub fn held_back(month: Month, tier: Option<TierCode>, last_month: Option<Month>) -> Self {
        let counted = last_month.map(|l| u32::try_from(month.months_since(l)).map_or(1, |n| n.max(1)));
        Alert {
            month,
            kind: AlertKind::HeldBack,
            tier,
            months_counted: counted,
            months_left: None,
            aum: PackedFen::NONE,
            threshold: PackedFen::NONE,
            gap: PackedFen::NONE,
            measure: None,
            measure_window: None,
            measure_value: PackedFen::NONE,
        }
    }

    /// The evaluated month's AUM; none for a `held_back` alert (the customer was not
    /// evaluated).
    pub fn aum(&self) -> Option<Decimal> {
        self.aum.get_opt().map(from_fen)
    }

    /// The evaluated month's AUM in fen; none for a `held_back` alert.
    pub fn aum_fen(&self) -> Option<i64> {
        self.aum.get_opt()
    }

    /// The threshold concerned.
    pub fn threshold(&self) -> Option<Decimal> {
        self.threshold.get_opt().map(from_fen)
    }

    /// The threshold in fen.
    pub fn threshold_fen(&self) -> Option<i64> {
        self.threshold.get_opt()
    }

    /// Distance to the threshold: how much is missing (opportunities) or how much cushion is
    /// left (downgrade risk).
    pub fn gap(&self) -> Option<Decimal> {
        self.gap.get_opt().map(from_fen)
    }

    /// The gap in fen.
    pub fn gap_fen(&self) -> Option<i64> {
        self.gap.get_opt()
    }
}

impl Alert {
    /// How soon the account manager must act (SPEC §11.1): the kind's severity
    /// ([`AlertKind::severity`]), except that a countdown (`watch_active`, `exit_risk`,
    /// `in_retention`) with at most one month left is `high`: the next month's evaluation can
    /// make the downgrade, the exit or the full exit.
    ///
    /// ```
    /// use crm_tiering::{AlertKind, Customer, CustomerState, Engine, MonthInput, RuleBook, Severity, parse_amount};
    /// let engine = Engine::new(RuleBook::default_book()?);
    /// let out = engine.evaluate(&Customer::personal("c1"), &CustomerState::default(),
    ///     "2024-01".parse()?, &MonthInput::total(parse_amount("190000")?))?;
    /// assert_eq!(out.alerts[0].kind, AlertKind::PotentialVip);
    /// assert_eq!(out.alerts[0].severity(), Severity::Low);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn severity(&self) -> Severity {
        if self.kind.is_countdown() && self.months_left.is_some_and(|n| n <= 1) {
            Severity::High
        } else {
            self.kind.severity()
        }
    }

    /// The last month the alert is open (SPEC §11.1): a warning (SPEC §22) stays open for its
    /// `months_left` (the rule's `lifetime_months`), from its month on; every other alert is
    /// about its own month only (it is given again each month its condition lasts).
    pub fn open_until(&self) -> Month {
        match self.months_left {
            Some(n) if self.kind.is_warning() && n > 1 => {
                // `plus` stops at the last month there is.
                self.month.plus(i32::try_from(n - 1).unwrap_or(i32::MAX))
            }
            _ => self.month,
        }
    }

    /// Whether the alert is open in `month`: from its month to [`Alert::open_until`].
    pub fn is_open_in(&self, month: Month) -> bool {
        self.month <= month && month <= self.open_until()
    }

    /// One line explaining the alert, tiers by code: see [`Alert::explain_with`].
    pub fn explain(&self) -> String {
        self.explain_with(|t| t.to_string())
    }

    /// One line explaining the alert, as `explain` prints it: the month, the kind and its
    /// Chinese name, the tier (as `tier` shows a code), the months left, the gap to the
    /// threshold, and the measure over its window with its value when the alert is about a
    /// measure other than the month's AUM.
    ///
    /// ```
    /// use crm_tiering::{Customer, CustomerState, Engine, MonthInput, RuleBook, parse_amount};
    /// let engine = Engine::new(RuleBook::default_book()?);
    /// let out = engine.evaluate(&Customer::personal("c1"), &CustomerState::default(),
    ///     "2024-01".parse()?, &MonthInput::total(parse_amount("190000")?))?;
    /// assert_eq!(out.alerts[0].explain_with(|t| format!("金卡 {t}")),
    ///     "2024-01: alert potential_vip [潜在VIP] tier 金卡 gold, gap 10000.00 to 200000.00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn explain_with(&self, tier: impl Fn(TierCode) -> String) -> String {
        use std::fmt::Write as _;
        let mut d = format!("{}: alert {} [{}]", self.month, self.kind, self.kind.name_zh());
        if let Some(t) = self.tier {
            let _ = write!(d, " tier {}", tier(t));
        }
        if let Some(n) = self.months_left {
            let _ = write!(d, ", {n} month(s) left");
        }
        if let Some(g) = self.gap() {
            let _ = write!(d, ", gap {g} to {}", self.threshold().map(|t| t.to_string()).unwrap_or_default());
        }
        // The measure the alert is about, in a book by criteria (SPEC §19.3) or a warning's.
        let measure = self.measure.filter(|m| m.as_str() != "aum" || self.measure_window.is_some());
        if let (Some(m), Some(v)) = (measure, self.measure_value()) {
            let over = self.measure_window.map(|w| format!(" over {w}")).unwrap_or_default();
            let _ = write!(d, " ({m}{over} {v})");
        }
        d
    }
}

impl fmt::Debug for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Alert")
            .field("month", &self.month)
            .field("kind", &self.kind)
            .field("tier", &self.tier)
            .field("months_counted", &self.months_counted)
            .field("months_left", &self.months_left)
            .field("aum", &self.aum())
            .field("threshold", &self.threshold())
            .field("gap", &self.gap())
            .field("measure", &self.measure)
            .field("measure_window", &self.measure_window)
            .field("measure_value", &self.measure_value())
            .finish()
    }
}

/// The JSON form of [`Alert`] (SPEC §14): amounts as decimal strings.
#[derive(Serialize, Deserialize)]
struct AlertJson {
    month: Month,
    kind: AlertKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tier: Option<TierCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    months_counted: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    months_left: Option<u32>,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    aum: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    threshold: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    gap: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    measure: Option<MeasureCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    measure_window: Option<Window>,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    measure_value: Option<Decimal>,
}

impl From<Alert> for AlertJson {
    fn from(a: Alert) -> Self {
        AlertJson {
            month: a.month,
            kind: a.kind,
            tier: a.tier,
            months_counted: a.months_counted,
            months_left: a.months_left,
            aum: a.aum(),
            threshold: a.threshold(),
            gap: a.gap(),
            measure: a.measure,
            measure_window: a.measure_window,
            measure_value: a.measure_value(),
        }
    }
}

impl TryFrom<AlertJson> for Alert {
    type Error = String;

    fn try_from(a: AlertJson) -> Result<Self, String> {
        Ok(Alert {
            month: a.month,
            kind: a.kind,
            tier: a.tier,
            months_counted: a.months_counted,
            months_left: a.months_left,
            aum: PackedFen::opt(fen_field_opt("alert aum", a.aum)?),
            threshold: PackedFen::opt(fen_field_opt("alert threshold", a.threshold)?),
            gap: PackedFen::opt(fen_field_opt("alert gap", a.gap)?),
            measure: a.measure,
            measure_window: a.measure_window.filter(|w| !w.is_month()),
            measure_value: PackedFen::opt(fen_field_opt("alert measure_value", a.measure_value)?),
        })
    }
}
