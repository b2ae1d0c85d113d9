//! `crmt_result`: the stable result codes, their names and descriptions.
//!
//! The bottom of the crate's modules: it uses none of them.

use std::ffi::c_int;

/// The result of a call. The values are stable: new codes may be added, none renumbered.
///
/// 1 to 9 are argument errors found at the boundary; 10 to 13 are the engine's error
/// categories (rules, input, sequence, state); 20 and up are about buffers and indexes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_result {
    /// Success.
    CRMT_OK = 0,
    /// A required pointer argument was NULL.
    CRMT_NULL_ARGUMENT = 1,
    /// A string or byte argument was not valid UTF-8.
    CRMT_INVALID_UTF8 = 2,
    /// An amount was not a plain decimal number.
    CRMT_INVALID_AMOUNT = 3,
    /// A month was not a valid `year * 100 + month`.
    CRMT_INVALID_MONTH = 4,
    /// Another argument was out of its documented range (a kind, a length, an offset, a count
    /// or length whose size in bytes no object can have), or a handle argument was not a live
    /// handle of its kind (freed, freed twice, another kind of handle, a pointer the library
    /// never returned). The field of the details names the parameter.
    CRMT_INVALID_ARGUMENT = 5,
    /// The rule book is invalid, or no rule set applies to the customer.
    CRMT_RULES_ERROR = 10,
    /// A customer's input for the month is invalid.
    CRMT_INPUT_ERROR = 11,
    /// A month was evaluated out of order for the customer (repeated, earlier or skipped).
    CRMT_SEQUENCE_ERROR = 12,
    /// A stored state is malformed, of another schema version, or unusable with the rules.
    CRMT_STATE_ERROR = 13,
    /// A portfolio run was refused as a whole (nothing evaluated, states unchanged): every
    /// reason is in the result handle (`crmt_portfolio_result_errors`), the first in the
    /// thread's error details.
    CRMT_PORTFOLIO_REFUSED = 14,
    /// The caller's buffer is too small; the needed length was written.
    CRMT_BUFFER_TOO_SMALL = 20,
    /// An index was past the end.
    CRMT_INDEX_OUT_OF_RANGE = 21,
    /// A customer id was looked up that the portfolio does not hold.
    CRMT_NOT_FOUND = 22,
    /// An internal error: a Rust panic was caught at the boundary. Its message and source
    /// location are in the thread's error details (`crmt_last_error_message`); nothing is
    /// printed on the host's stderr (the library's panic hook passes on to the hook it found
    /// only panics outside the library's calls). Please report it. The handles passed to the
    /// failed call are still valid and may be freed; a state or batch it was updating may be
    /// half-updated.
    CRMT_PANIC = 99,
}

impl crmt_result {
    pub(crate) const ALL: [crmt_result; 15] = [
        crmt_result::CRMT_OK,
        crmt_result::CRMT_NULL_ARGUMENT,
        crmt_result::CRMT_INVALID_UTF8,
        crmt_result::CRMT_INVALID_AMOUNT,
        crmt_result::CRMT_INVALID_MONTH,
        crmt_result::CRMT_INVALID_ARGUMENT,
        crmt_result::CRMT_RULES_ERROR,
        crmt_result::CRMT_INPUT_ERROR,
        crmt_result::CRMT_SEQUENCE_ERROR,
        crmt_result::CRMT_STATE_ERROR,
        crmt_result::CRMT_PORTFOLIO_REFUSED,
        crmt_result::CRMT_BUFFER_TOO_SMALL,
        crmt_result::CRMT_INDEX_OUT_OF_RANGE,
        crmt_result::CRMT_NOT_FOUND,
        crmt_result::CRMT_PANIC,
    ];

    pub(crate) fn from_int(value: c_int) -> Option<Self> {
        Self::ALL.into_iter().find(|r| *r as c_int == value)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            crmt_result::CRMT_OK => "CRMT_OK\0",
            crmt_result::CRMT_NULL_ARGUMENT => "CRMT_NULL_ARGUMENT\0",
            crmt_result::CRMT_INVALID_UTF8 => "CRMT_INVALID_UTF8\0",
            crmt_result::CRMT_INVALID_AMOUNT => "CRMT_INVALID_AMOUNT\0",
            crmt_result::CRMT_INVALID_MONTH => "CRMT_INVALID_MONTH\0",
            crmt_result::CRMT_INVALID_ARGUMENT => "CRMT_INVALID_ARGUMENT\0",
            crmt_result::CRMT_RULES_ERROR => "CRMT_RULES_ERROR\0",
            crmt_result::CRMT_INPUT_ERROR => "CRMT_INPUT_ERROR\0",
            crmt_result::CRMT_SEQUENCE_ERROR => "CRMT_SEQUENCE_ERROR\0",
            crmt_result::CRMT_STATE_ERROR => "CRMT_STATE_ERROR\0",
            crmt_result::CRMT_PORTFOLIO_REFUSED => "CRMT_PORTFOLIO_REFUSED\0",
            crmt_result::CRMT_NOT_FOUND => "CRMT_NOT_FOUND\0",
            crmt_result::CRMT_BUFFER_TOO_SMALL => "CRMT_BUFFER_TOO_SMALL\0",
            crmt_result::CRMT_INDEX_OUT_OF_RANGE => "CRMT_INDEX_OUT_OF_RANGE\0",
            crmt_result::CRMT_PANIC => "CRMT_PANIC\0",
        }
    }

    pub(crate) fn description(self) -> &'static str {
        match self {
            crmt_result::CRMT_OK => "success",
            crmt_result::CRMT_NULL_ARGUMENT => "a required argument was null",
            crmt_result::CRMT_INVALID_UTF8 => "a text argument was not valid utf-8",
            crmt_result::CRMT_INVALID_AMOUNT => "an amount was not a plain decimal number",
            crmt_result::CRMT_INVALID_MONTH => "a month was not a valid year * 100 + month",
            crmt_result::CRMT_INVALID_ARGUMENT => "an argument was out of its documented range",
            crmt_result::CRMT_RULES_ERROR => "the rule book is invalid or has no rule set for the customer",
            crmt_result::CRMT_INPUT_ERROR => "a customer's input for the month is invalid",
            crmt_result::CRMT_SEQUENCE_ERROR => "a month was evaluated out of order for a customer",
            crmt_result::CRMT_STATE_ERROR => "a stored state cannot be used",
            crmt_result::CRMT_PORTFOLIO_REFUSED => "the portfolio run was refused as a whole",
            crmt_result::CRMT_NOT_FOUND => "no such customer",
            crmt_result::CRMT_BUFFER_TOO_SMALL => "the buffer is too small",
            crmt_result::CRMT_INDEX_OUT_OF_RANGE => "an index was past the end",
            crmt_result::CRMT_PANIC => "internal error (a panic was caught at the library boundary)",
        }
    }
}
