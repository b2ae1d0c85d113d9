//! Errors. Every message is lowercase and names the user's input: the rule file field, or the
//! customer, month and field of a record.

use std::fmt;

use crate::month::Month;

/// Any error the engine reports.
///
/// The variants are stable categories that the C ABI and the Python binding map one to one
/// (result codes and exception classes). Details are boxed so that results stay small on the
/// batch hot path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TieringError {
    /// The rule book is invalid.
    #[error(transparent)]
    Rules(Box<RuleError>),
    /// A customer's input for a month is invalid.
    #[error(transparent)]
    Input(Box<InputError>),
    /// A customer's months are not evaluated strictly in order.
    #[error(transparent)]
    Sequence(Box<SequenceError>),
    /// A stored state cannot be used.
    #[error(transparent)]
    State(Box<StateError>),
}

impl From<RuleError> for TieringError {
    fn from(e: RuleError) -> Self {
        TieringError::Rules(Box::new(e))
    }
}

impl From<InputError> for TieringError {
    fn from(e: InputError) -> Self {
        TieringError::Input(Box::new(e))
    }
}

impl From<SequenceError> for TieringError {
    fn from(e: SequenceError) -> Self {
        TieringError::Sequence(Box::new(e))
    }
}

impl From<StateError> for TieringError {
    fn from(e: StateError) -> Self {
        TieringError::State(Box::new(e))
    }
}

impl TieringError {
    /// The stable category code: `rules`, `input`, `sequence` or `state` (SPEC §14). The C
    /// ABI's result codes and the Python exception classes map these one to one.
    pub fn category(&self) -> &'static str {
        match self {
            TieringError::Rules(_) => "rules",
            TieringError::Input(_) => "input",
            TieringError::Sequence(_) => "sequence",
            TieringError::State(_) => "state",
        }
    }

    /// The month the error is about, when it is about one.
    pub fn month(&self) -> Option<Month> {
        match self {
            TieringError::Rules(_) => None,
            TieringError::Input(e) => e.month,
            TieringError::Sequence(e) => Some(match **e {
                SequenceError::Gap { got, .. }
                | SequenceError::Repeated { got, .. }
                | SequenceError::Behind { got, .. }
                | SequenceError::Portfolio { got, .. } => got,
            }),
            TieringError::State(e) => match **e {
                StateError::UnknownTier { month, .. } => Some(month),
                _ => None,
            },
        }
    }

    /// The field the error is about: the rule file's field path, or the input's field
    /// (`aum`, a component code, `special`, `month` ...); `month` for sequence errors and
    /// `tier` for a state's unknown tier.
    pub fn field(&self) -> Option<&str> {
        match self {
            TieringError::Rules(e) => Some(e.field.as_str()).filter(|f| !f.is_empty()),
            TieringError::Input(e) => Some(&e.field),
            TieringError::Sequence(_) => Some("month"),
            TieringError::State(e) => e.field(),
        }
    }

    /// The customer the error is about, when it is about one.
    pub fn customer(&self) -> Option<&str> {
        match self {
            TieringError::Rules(_) => None,
            TieringError::Input(e) => Some(&e.customer),
            TieringError::Sequence(e) => Some(e.customer()),
            TieringError::State(e) => e.customer(),
        }
    }
}

/// An invalid rule book, naming the field (and the line and column where the parser gives them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// Path of the offending field, such as `rule_sets[0].versions[1].tiers[2].min_aum`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
    /// 1-based line in the rule file, when known.
    pub line: Option<usize>,
    /// 1-based column in the rule file, when known.
    pub column: Option<usize>,
}

impl RuleError {
    /// A rule error naming the field, without line and column.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        RuleError { field: field.into(), message: message.into(), line: None, column: None }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid rule book: ")?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        write!(f, "{}", self.message)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, " (line {line}, column {column})")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleError {}

/// An invalid input record: which customer, which month, which field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The customer id.
    pub customer: String,
    /// The month being evaluated, when known.
    pub month: Option<Month>,
    /// The field, such as a component code, `aum` or `special`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl InputError {
    /// An input error naming the customer, the month (when known) and the field.
    pub fn new(customer: &str, month: Option<Month>, field: impl Into<String>, message: impl Into<String>) -> Self {
        InputError { customer: customer.to_string(), month, field: field.into(), message: message.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An error about a table or an argument names no customer.
        if self.customer.is_empty() {
            write!(f, "invalid input")?;
        } else {
            write!(f, "invalid input for customer `{}`", self.customer)?;
        }
        if let Some(m) = self.month {
            write!(f, ", month {m}")?;
        }
        write!(f, ", field `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for InputError {}

/// A month evaluated out of order for a customer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SequenceError {
    /// A month was skipped.
    #[error(
        "customer `{customer}`: month {got} follows {last} but {expected} is missing (months are evaluated strictly in order)"
    )]
    Gap {
        /// The customer id.
        customer: String,
        /// The last month evaluated.
        last: Month,
        /// The month expected next.
        expected: Month,
        /// The month given.
        got: Month,
    },
    /// A month was given again, or an earlier month after a later one.
    #[error(
        "customer `{customer}`: month {got} was given after {last} had been evaluated (a month is evaluated once, in order)"
    )]
    Repeated {
        /// The customer id.
        customer: String,
        /// The last month evaluated.
        last: Month,
        /// The month given.
        got: Month,
    },
    /// A customer of a portfolio was held back in an earlier month and has not been caught up
    /// (SPEC §15.7): it keeps its standing, frozen, until its missing months are evaluated.
    #[error(
        "customer `{customer}`: held back since {missing} (its last evaluated month is {last}), so {got} cannot be evaluated; its standing stays as it was until a catch-up run evaluates {missing} for it"
    )]
    Behind {
        /// The customer id.
        customer: String,
        /// The last month evaluated.
        last: Month,
        /// The first month it misses.
        missing: Month,
        /// The month being evaluated.
        got: Month,
    },
    /// A portfolio's declared month is not the month after its states' latest month (SPEC
    /// §15.1): months are missing before it, or it was evaluated already.
    #[error("{}", portfolio_sequence(*.last, *.got))]
    Portfolio {
        /// The latest month any stored customer was evaluated in.
        last: Month,
        /// The first declared month.
        got: Month,
    },
}

/// The message of [`SequenceError::Portfolio`].
fn portfolio_sequence(last: Month, got: Month) -> String {
    if got <= last {
        format!(
            "the portfolio's stored states are after {last}: month {got} was evaluated already (a month is evaluated once; to replace it, roll back or rerun the latest month)"
        )
    } else {
        let next = last.next();
        let missing = if next == got.plus(-1) { next.to_string() } else { format!("{next}..{}", got.plus(-1)) };
        format!(
            "the portfolio's stored states are after {last}: {missing} must be evaluated before {got} (months are evaluated in order; nothing was evaluated)"
        )
    }
}

impl SequenceError {
    /// The customer id.
    pub fn customer(&self) -> &str {
        match self {
            SequenceError::Gap { customer, .. }
            | SequenceError::Repeated { customer, .. }
            | SequenceError::Behind { customer, .. } => customer,
            SequenceError::Portfolio { .. } => "",
        }
    }
}

/// A stored state that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The state was written by an unknown schema version.
    #[error("state schema version {found} is not supported (this library reads version {supported})")]
    SchemaVersion {
        /// The version found.
        found: u32,
        /// The version this library reads.
        supported: u32,
    },
    /// The state is not valid state JSON.
    #[error("state is malformed: {0}")]
    Malformed(String),
    /// A tier in the state is not in the rules in force and no tier map maps it.
    #[error(
        "customer `{customer}`: tier `{tier}` in the state is not in the rules in force for {month} and the rules do not map it (add it to `tier_map`)"
    )]
    UnknownTier {
        /// The customer id.
        customer: String,
        /// The tier code.
        tier: String,
        /// The month being evaluated.
        month: Month,
    },
    /// Two stored states for one customer.
    #[error("customer `{customer}`: the stored states hold two states for the customer")]
    Duplicate {
        /// The customer id.
        customer: String,
    },
    /// The stored states were written under another rule book.
    #[error(
        "the stored states were written under rule book {found}, not the rule book in force ({expected}): evaluate them with the rule book that wrote them, or accept the change explicitly (mapping retired tiers with `tier_map`)"
    )]
    RuleBookChanged {
        /// Fingerprint of the book that wrote the states.
        found: String,
        /// Fingerprint of the book in force.
        expected: String,
    },
    /// A states file is cut short or altered.
    #[error("the stored states are damaged: {0}")]
    Integrity(String),
    /// The state is inconsistent (for example a rated state without a tier).
    #[error("customer `{customer}`: state is inconsistent: {message}")]
    Inconsistent {
        /// The customer id.
        customer: String,
        /// What is inconsistent.
        message: String,
    },
}

impl StateError {
    /// The customer the error is about, when it is about one.
    pub fn customer(&self) -> Option<&str> {
        match self {
            StateError::UnknownTier { customer, .. }
            | StateError::Inconsistent { customer, .. }
            | StateError::Duplicate { customer } => Some(customer),
            _ => None,
        }
    }

    /// The field of the stored states the error is about.
    pub fn field(&self) -> Option<&str> {
        Some(match self {
            StateError::UnknownTier { .. } => "tier",
            StateError::Duplicate { .. } => "customer_id",
            StateError::RuleBookChanged { .. } => "rule_book",
            StateError::Integrity(_) => "states",
            StateError::Inconsistent { .. } | StateError::Malformed(_) | StateError::SchemaVersion { .. } => "state",
        })
    }
}
