//! Values that could not be parsed: months, amounts, codes, customer ids. Kept apart from
//! `error` so that the value types (`Month`, `TierCode`, amounts) depend on nothing above them.

/// A value that could not be parsed: a month, an amount or a tier code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not a month in `YYYY-MM` form (or `year * 100 + month`).
    #[error("`{0}` is not a month: expected YYYY-MM with a year from 1900 to 9999")]
    Month(String),
    /// Not a decimal amount.
    #[error("`{0}` is not a decimal amount")]
    Amount(String),
    /// Not a valid tier or component code.
    #[error("`{0}` is not a valid code: expected 1 to 16 characters of a-z, 0-9, `_` or `-`")]
    Code(String),
    /// Not a valid measure code.
    #[error("`{0}` is not a valid measure code: expected 1 to 40 characters of a-z, 0-9 or `_`")]
    MeasureCode(String),
    /// A valid tier code that could not be kept: the process already holds the most distinct
    /// tier codes it can ([`TierCode::MAX_DISTINCT`](crate::TierCode::MAX_DISTINCT)).
    #[error("tier code `{0}` cannot be kept: this process already holds 65535 distinct tier codes")]
    TooManyTierCodes(String),
    /// A tier code read from input (a state, a designation) that no rule book of the process
    /// knows, after input already added the most such codes it may
    /// ([`TierCode::MAX_FROM_INPUT`](crate::TierCode::MAX_FROM_INPUT)): the table is kept for
    /// rule books.
    #[error(
        "tier code `{0}` is not a tier of any rule book loaded in this process, and input has already named 16384 such codes"
    )]
    TooManyInputTierCodes(String),
    /// Not a usable customer id.
    #[error("{0:?} is not a customer id: {1}")]
    CustomerId(String, &'static str),
}
