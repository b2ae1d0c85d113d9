//! Loan classification errors (SPEC §21.6): lowercase messages naming the record (customer,
//! loan, month) and the field.

use crate::error::RuleError;
use crate::month::Month;

/// An error of the loan classification: invalid settings, an invalid loan record, two records
/// of one loan in a month, or a month out of order for the customer's loan state. After an
/// error nothing is evaluated and the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoanError {
    /// The loan settings are invalid (category `rules`).
    #[error("invalid loan settings: {}", rule_message(.0))]
    Rules(RuleError),
    /// A loan record is invalid (category `input`).
    #[error("invalid loan record for customer `{customer}`, loan `{loan}`, month {month}, field `{field}`: {message}")]
    Input {
        /// The customer id.
        customer: String,
        /// The loan id.
        loan: String,
        /// The evaluated month.
        month: Month,
        /// The field: `principal_overdue_days`, `interest_overdue_days`, `bank_class`,
        /// `expected_loss`, `loan_id`, `customer_id` or `month`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A loan has two records in one month (category `input`, field `loan_id`).
    #[error(
        "invalid loan record for customer `{customer}`, loan `{loan}`, month {month}, field `loan_id`: the loan has two records for the month (a loan has one record a month)"
    )]
    Duplicate {
        /// The customer id.
        customer: String,
        /// The loan id.
        loan: String,
        /// The evaluated month.
        month: Month,
    },
    /// The month is not after the loan state's last month (category `sequence`).
    #[error(
        "customer `{customer}`: loan month {got} was given after {last} had been evaluated (a month's loans are evaluated once, in order)"
    )]
    Behind {
        /// The customer id.
        customer: String,
        /// The loan state's last month.
        last: Month,
        /// The month given.
        got: Month,
    },
    /// Months are missing between the loan state's last month and the month given, and the
    /// state has loans whose clean window they would break (category `sequence`).
    #[error(
        "customer `{customer}`: loan month {got} follows {last} but {expected} is missing (the clean window counts consecutive months)"
    )]
    Gap {
        /// The customer id.
        customer: String,
        /// The loan state's last month.
        last: Month,
        /// The month expected next.
        expected: Month,
        /// The month given.
        got: Month,
    },
}

fn rule_message(e: &RuleError) -> String {
    let mut s = String::new();
    if !e.field.is_empty() {
        s.push_str(&e.field);
        s.push_str(": ");
    }
    s.push_str(&e.message);
    if let (Some(line), Some(column)) = (e.line, e.column) {
        s.push_str(&format!(" (line {line}, column {column})"));
    }
    s
}

impl From<RuleError> for LoanError {
    fn from(e: RuleError) -> Self {
        LoanError::Rules(e)
    }
}

impl LoanError {
    /// An input error naming the record and the field.
    pub(crate) fn input(customer: &str, loan: &str, month: Month, field: &str, message: String) -> Self {
        LoanError::Input {
            customer: customer.to_string(),
            loan: loan.to_string(),
            month,
            field: field.to_string(),
            message,
        }
    }

    /// The stable category code, as SPEC §14's: `rules`, `input` or `sequence`.
    pub fn category(&self) -> &'static str {
        match self {
            LoanError::Rules(_) => "rules",
            LoanError::Input { .. } | LoanError::Duplicate { .. } => "input",
            LoanError::Behind { .. } | LoanError::Gap { .. } => "sequence",
        }
    }

    /// The customer the error is about, when it is about one.
    pub fn customer(&self) -> Option<&str> {
        match self {
            LoanError::Rules(_) => None,
            LoanError::Input { customer, .. }
            | LoanError::Duplicate { customer, .. }
            | LoanError::Behind { customer, .. }
            | LoanError::Gap { customer, .. } => Some(customer),
        }
    }

    /// The loan the error is about, when it is about one.
    pub fn loan(&self) -> Option<&str> {
        match self {
            LoanError::Input { loan, .. } | LoanError::Duplicate { loan, .. } => Some(loan),
            _ => None,
        }
    }

    /// The month the error is about, when it is about one.
    pub fn month(&self) -> Option<Month> {
        match self {
            LoanError::Rules(_) => None,
            LoanError::Input { month, .. } | LoanError::Duplicate { month, .. } => Some(*month),
            LoanError::Behind { got, .. } | LoanError::Gap { got, .. } => Some(*got),
        }
    }

    /// The field the error is about: the settings field, the record's field, or `month` for
    /// sequence errors.
    pub fn field(&self) -> Option<&str> {
        match self {
            LoanError::Rules(e) => Some(e.field.as_str()).filter(|f| !f.is_empty()),
            LoanError::Input { field, .. } => Some(field),
            LoanError::Duplicate { .. } => Some("loan_id"),
            LoanError::Behind { .. } | LoanError::Gap { .. } => Some("month"),
        }
    }
}
