//! Where a record came from, and the error contract every surface reports.

use std::fmt;

use crate::error::TieringError;
use crate::month::Month;
use crate::parse::ParseError;

/// A record of an input table: the table's name (a file path, or `aum`, `daily`,
/// `designations`, `states` for in-memory tables) and the record's row, as the caller numbers
/// it (the CLI gives file line numbers; the bindings give 0-based row indices).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordRef {
    /// The table or file.
    pub table: String,
    /// The row (or line) in it.
    pub row: u64,
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.table, self.row)
    }
}

/// An error about a customer or a record of a portfolio month: the engine's error (category,
/// customer, month, field, message) and the record(s) it is about.
///
/// Every surface reports exactly these parts: the CLI in `rejects`, the C ABI through
/// `crmt_last_error_*` and its batch error slots, Python as exception attributes and the
/// `errors` table.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    /// The error.
    pub error: TieringError,
    /// The record it is about, when it is about one.
    pub record: Option<RecordRef>,
    /// The other record, for a duplicate (the first one seen).
    pub other_record: Option<RecordRef>,
}

impl RecordError {
    /// An error about a record.
    pub fn at(error: impl Into<TieringError>, record: Option<RecordRef>) -> Self {
        RecordError { error: error.into(), record, other_record: None }
    }

    /// The category code: `rules`, `input`, `sequence` or `state`.
    pub fn category(&self) -> &'static str {
        self.error.category()
    }

    /// The customer, when known.
    pub fn customer(&self) -> Option<&str> {
        self.error.customer().filter(|c| !c.is_empty())
    }

    /// The month, when known.
    pub fn month(&self) -> Option<Month> {
        self.error.month()
    }

    /// The field, when known.
    pub fn field(&self) -> Option<&str> {
        self.error.field()
    }

    /// For a customer held back because an earlier month was not caught up (SPEC §15.7): the
    /// first month it misses, which a catch-up run must evaluate for it.
    pub fn behind_since(&self) -> Option<Month> {
        match &self.error {
            TieringError::Sequence(s) => match **s {
                crate::error::SequenceError::Behind { missing, .. } => Some(missing),
                _ => None,
            },
            _ => None,
        }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.record {
            write!(f, "{r}: ")?;
        }
        write!(f, "{}", self.error)?;
        if let Some(o) = &self.other_record {
            write!(f, " (first at {o})")?;
        }
        Ok(())
    }
}

impl std::error::Error for RecordError {}

/// A portfolio month that cannot run at all: nothing was evaluated and the states are
/// unchanged. Every error is listed (for example every record whose customer cannot be
/// identified, since nobody can be held back blindly).
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioFailure {
    /// The errors, in record order.
    pub errors: Vec<RecordError>,
}

impl fmt::Display for PortfolioFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.as_slice() {
            [] => write!(f, "the portfolio month cannot run"),
            [one] => write!(f, "{one}"),
            [first, rest @ ..] => write!(f, "{first} (and {} more)", rest.len()),
        }
    }
}

impl std::error::Error for PortfolioFailure {}

impl From<RecordError> for PortfolioFailure {
    fn from(e: RecordError) -> Self {
        PortfolioFailure { errors: vec![e] }
    }
}

/// The longest customer id accepted, in bytes.
pub const MAX_CUSTOMER_ID_BYTES: usize = 64;

/// Checks a customer id: 1 to 64 bytes, no control characters, no leading or trailing
/// whitespace. Every surface applies this same rule.
///
/// ```
/// use crm_tiering::portfolio::validate_customer_id;
/// assert!(validate_customer_id("6221000001").is_ok());
/// assert!(validate_customer_id(" 6221000001").is_err());
/// assert!(validate_customer_id("").is_err());
/// ```
///
/// # Errors
/// [`ParseError::CustomerId`] saying what is wrong.
pub fn validate_customer_id(id: &str) -> Result<(), ParseError> {
    // The usual id, printable ASCII without spaces, passes every check below at once.
    if !id.is_empty() && id.len() <= MAX_CUSTOMER_ID_BYTES && id.bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(());
    }
    let why = if id.is_empty() {
        "it is empty"
    } else if id.len() > MAX_CUSTOMER_ID_BYTES {
        "it is longer than 64 bytes"
    } else if id.chars().any(char::is_control) {
        "it holds a control character"
    } else if id.starts_with(char::is_whitespace) || id.ends_with(char::is_whitespace) {
        "it has leading or trailing spaces"
    } else {
        return Ok(());
    };
    Err(ParseError::CustomerId(id.to_string(), why))
}
