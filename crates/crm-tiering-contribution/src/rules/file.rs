//! The rule book as written (TOML, every table `deny_unknown_fields`): amounts and rates are
//! decimal strings or integers, never floating point.

use std::collections::BTreeMap;
use std::fmt;

use crm_tiering::{Decimal, Month, parse_amount};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::fen::Rounding;
use crate::inputs::Side;

/// A decimal as a rule book writes it: a string in plain decimal notation, or an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecimalValue(pub(crate) Decimal);

impl<'de> Deserialize<'de> for DecimalValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DecimalValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal as a string (\"0.0235\") or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DecimalValue, E> {
                parse_amount(v).map(DecimalValue).map_err(|e| E::custom(e.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DecimalValue, E> {
                Ok(DecimalValue(Decimal::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DecimalValue, E> {
                Ok(DecimalValue(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DecimalValue, E> {
                Err(E::custom(format!("{v} is a floating-point number: write the decimal in quotes")))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The day-count basis as written: an integer (checked to be 360 or 365 when compiled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Basis(pub(crate) i64);

impl<'de> Deserialize<'de> for Basis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Basis;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a day-count basis, the integer 360 or 365")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Basis, E> {
                Ok(Basis(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Basis, E> {
                Ok(Basis(i64::try_from(v).unwrap_or(i64::MAX)))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The whole book.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BookFile {
    pub(crate) basis: Basis,
    #[serde(default)]
    pub(crate) rounding: Rounding,
    pub(crate) ftp: FtpFile,
    #[serde(default)]
    pub(crate) stages: Vec<StageFile>,
    pub(crate) provision: Option<ProvisionFile>,
    pub(crate) capital: Option<CapitalFile>,
}

/// `[ftp]`: rates inline, or a CSV file beside the book, or both.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FtpFile {
    pub(crate) file: Option<String>,
    #[serde(default)]
    pub(crate) rates: Vec<FtpRateFile>,
}

/// `[[ftp.rates]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FtpRateFile {
    pub(crate) product: String,
    pub(crate) term: String,
    pub(crate) effective: Month,
    pub(crate) rate: DecimalValue,
}

/// The kinds of driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DriverKind {
    Accounts,
    Balances,
    Quantity,
    Coefficients,
    CostCentres,
}

/// A dimension of a coefficient table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The product.
    Product,
    /// The channel (activities only).
    Channel,
    /// The branch.
    Branch,
    /// The legal entity (account-months only).
    LegalEntity,
}

impl Dimension {
    /// The key's name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Product => "product",
            Dimension::Channel => "channel",
            Dimension::Branch => "branch",
            Dimension::LegalEntity => "legal_entity",
        }
    }
}

/// `[[stages]]`: one pass, a pool to its targets by a driver.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StageFile {
    pub(crate) pool: String,
    pub(crate) driver: DriverKind,
    pub(crate) side: Option<Side>,
    pub(crate) quantity: Option<String>,
    pub(crate) keys: Option<Vec<Dimension>>,
    pub(crate) coefficients: Option<Vec<CoefficientFile>>,
    pub(crate) weights: Option<BTreeMap<String, DecimalValue>>,
}

/// A row of a coefficient table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CoefficientFile {
    pub(crate) product: Option<String>,
    pub(crate) channel: Option<String>,
    pub(crate) branch: Option<String>,
    pub(crate) legal_entity: Option<String>,
    pub(crate) coefficient: DecimalValue,
}

impl CoefficientFile {
    pub(crate) fn key(&self, d: Dimension) -> Option<&String> {
        match d {
            Dimension::Product => self.product.as_ref(),
            Dimension::Channel => self.channel.as_ref(),
            Dimension::Branch => self.branch.as_ref(),
            Dimension::LegalEntity => self.legal_entity.as_ref(),
        }
    }
}

/// `[provision]`: the annual provision rate of each loan class.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProvisionFile {
    #[serde(alias = "正常")]
    pub(crate) normal: DecimalValue,
    #[serde(alias = "关注")]
    pub(crate) special_mention: DecimalValue,
    #[serde(alias = "次级")]
    pub(crate) substandard: DecimalValue,
    #[serde(alias = "可疑")]
    pub(crate) doubtful: DecimalValue,
    #[serde(alias = "损失")]
    pub(crate) loss: DecimalValue,
}

/// `[capital]`: the annual rate charged on risk-weighted balances.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CapitalFile {
    pub(crate) rate: DecimalValue,
}
