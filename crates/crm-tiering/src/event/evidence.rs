//! The evidence of an event: the figures that decided it.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::fen::{PackedFen, fen_field, fen_field_opt};
use crate::code::MeasureCode;
use crate::money::from_fen;
use crate::month::Month;
use crate::rules::Window;

/// The figures that decided an event. Amounts are whole fen (SPEC §16); they are read as
/// decimals ([`Evidence::aum`]) or as fen ([`Evidence::aum_fen`]).
///
/// ```
/// use crm_tiering::{Customer, CustomerState, Engine, MonthInput, RuleBook, parse_amount};
/// let engine = Engine::new(RuleBook::default_book()?);
/// let out = engine.evaluate(&Customer::personal("c1"), &CustomerState::default(),
///     "2024-01".parse()?, &MonthInput::total(parse_amount("523400.5")?))?;
/// let evidence = out.events[0].evidence;
/// assert_eq!(evidence.aum().to_string(), "523400.50");
/// assert_eq!(evidence.aum_fen(), 52_340_050);
/// assert_eq!(evidence.threshold_fen(), Some(50_000_000)); // platinum's minimum
/// assert_eq!(evidence.peak_aum(), None); // no window decided an entry
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "EvidenceJson", try_from = "EvidenceJson")]
pub struct Evidence {
    aum: PackedFen,
    threshold: PackedFen,
    peak_aum: PackedFen,
    /// First month of the window that decided it (watch, below-entry run, designation).
    pub window_from: Option<Month>,
    /// Months in that window.
    pub window_months: Option<u32>,
    /// The measure of the criterion that decided, in a rule book that qualifies tiers by
    /// criteria (SPEC §19.3); `threshold` is then that criterion's minimum.
    pub measure: Option<MeasureCode>,
    /// The window the measure was read over, when not the evaluated month alone (SPEC §19.2).
    pub measure_window: Option<Window>,
    measure_value: PackedFen,
}

impl Evidence {
    pub(crate) fn fen(aum_fen: i64, threshold_fen: Option<i64>) -> Self {
        Evidence {
            aum: PackedFen::new(aum_fen),
            threshold: PackedFen::opt(threshold_fen),
            peak_aum: PackedFen::NONE,
            window_from: None,
            window_months: None,
            measure: None,
            measure_window: None,
            measure_value: PackedFen::NONE,
        }
    }

    /// With the criterion that decided: its measure and window, and the value it had (in fen).
    pub(crate) fn measured(mut self, measure: MeasureCode, window: Window, value_fen: i64) -> Self {
        self.measure = Some(measure);
        self.measure_window = Some(window).filter(|w| !w.is_month());
        self.measure_value = PackedFen::new(value_fen);
        self
    }

    /// The value of the measure that decided ([`Evidence::measure`]), when there is one.
    pub fn measure_value(&self) -> Option<Decimal> {
        self.measure_value.get_opt().map(from_fen)
    }

    /// [`Evidence::measure_value`] in fen.
    pub fn measure_value_fen(&self) -> Option<i64> {
        self.measure_value.get_opt()
    }

    pub(crate) fn window(mut self, from: Month, months: u32, peak_fen: Option<i64>) -> Self {
        self.window_from = Some(from);
        self.window_months = Some(months);
        self.peak_aum = PackedFen::opt(peak_fen);
        self
    }

    /// The evaluated month's AUM.
    pub fn aum(&self) -> Decimal {
        from_fen(self.aum.get())
    }

    /// The evaluated month's AUM in fen.
    pub fn aum_fen(&self) -> i64 {
        self.aum.get()
    }

    /// The threshold the AUM was compared with.
    pub fn threshold(&self) -> Option<Decimal> {
        self.threshold.get_opt().map(from_fen)
    }

    /// The threshold in fen.
    pub fn threshold_fen(&self) -> Option<i64> {
        self.threshold.get_opt()
    }

    /// Highest AUM in the window.
    pub fn peak_aum(&self) -> Option<Decimal> {
        self.peak_aum.get_opt().map(from_fen)
    }

    /// Highest AUM in the window, in fen.
    pub fn peak_aum_fen(&self) -> Option<i64> {
        self.peak_aum.get_opt()
    }
}

impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evidence")
            .field("aum", &self.aum())
            .field("threshold", &self.threshold())
            .field("window_from", &self.window_from)
            .field("window_months", &self.window_months)
            .field("peak_aum", &self.peak_aum())
            .field("measure", &self.measure)
            .field("measure_window", &self.measure_window)
            .field("measure_value", &self.measure_value())
            .finish()
    }
}

/// The JSON form of [`Evidence`] (SPEC §14): amounts as decimal strings.
#[derive(Serialize, Deserialize)]
struct EvidenceJson {
    #[serde(with = "rust_decimal::serde::str")]
    aum: Decimal,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    threshold: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window_from: Option<Month>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window_months: Option<u32>,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    peak_aum: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    measure: Option<MeasureCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    measure_window: Option<Window>,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    measure_value: Option<Decimal>,
}

impl From<Evidence> for EvidenceJson {
    fn from(e: Evidence) -> Self {
        EvidenceJson {
            aum: e.aum(),
            threshold: e.threshold(),
            window_from: e.window_from,
            window_months: e.window_months,
            peak_aum: e.peak_aum(),
            measure: e.measure,
            measure_window: e.measure_window,
            measure_value: e.measure_value(),
        }
    }
}

impl TryFrom<EvidenceJson> for Evidence {
    type Error = String;

    fn try_from(e: EvidenceJson) -> Result<Self, String> {
        Ok(Evidence {
            aum: PackedFen::new(fen_field("evidence aum", e.aum)?),
            threshold: PackedFen::opt(fen_field_opt("evidence threshold", e.threshold)?),
            peak_aum: PackedFen::opt(fen_field_opt("evidence peak_aum", e.peak_aum)?),
            window_from: e.window_from,
            window_months: e.window_months,
            measure: e.measure,
            measure_window: e.measure_window.filter(|w| !w.is_month()),
            measure_value: PackedFen::opt(fen_field_opt("evidence measure_value", e.measure_value)?),
        })
    }
}
