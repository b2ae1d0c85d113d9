//! The inputs: a loan's month (the warehouse's record) and a customer's loan state between
//! months (SPEC §21.1, §21.3).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::class::LoanClass;
use crate::month::Month;
use crate::rules::whole;

/// One loan's record for one month, as the warehouse gives it. Checked by
/// [`evaluate_loans`](crate::evaluate_loans): days must be 0 or more, the class a known class
/// text, the ratio between 0 and 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoanMonth {
    /// The customer id (the borrower).
    pub customer_id: String,
    /// The loan id, unique for the customer (compared as text).
    pub loan_id: String,
    /// The month the record is about (its month-end).
    pub month: Month,
    /// Days the principal is overdue at month-end (0 when none is).
    #[serde(deserialize_with = "whole::deserialize")]
    pub principal_overdue_days: i64,
    /// Days interest is overdue at month-end (0 when none is).
    #[serde(deserialize_with = "whole::deserialize")]
    pub interest_overdue_days: i64,
    /// The bank's own class: a code (`special_mention`), a Chinese name (`关注`) or a number
    /// (1 正常 to 5 损失), exactly as written.
    pub bank_class: String,
    /// The expected-loss ratio (0 to 1), when the bank gives one: carried into the result as
    /// evidence; it does not move the floor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_loss: Option<Decimal>,
    /// Whether a scheduled repayment (an instalment of principal or interest) fell due in the
    /// month: such a month, when clean, is a clean repayment period (default false).
    #[serde(default)]
    pub repayment_due: bool,
}

/// What the state keeps of one loan from its last evaluated month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoanMemory {
    /// The regulatory floor last month.
    pub floor: LoanClass,
    /// The bank's class last month.
    pub bank: LoanClass,
    /// The effective class last month.
    pub effective: LoanClass,
    /// Consecutive clean months up to last month (a clean month has zero principal and
    /// interest overdue days).
    #[serde(deserialize_with = "whole::deserialize_u32")]
    pub clean_months: u32,
    /// Consecutive clean repayment periods up to last month (clean months with a repayment
    /// due), reset by any month that is not clean.
    #[serde(deserialize_with = "whole::deserialize_u32")]
    pub clean_periods: u32,
}

/// A customer's loan classification state between months: the last evaluated month and each
/// loan of that month, by loan id. Serialised to JSON as
/// `{"month": "2024-05", "loans": {"L1": {"floor": ..., "clean_months": 2, ...}}}`.
/// The default is a customer never evaluated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoanState {
    /// The last evaluated month (none before the first).
    #[serde(default)]
    pub month: Option<Month>,
    /// The loans of that month, by loan id. A loan without a record in a month is closed: it
    /// leaves the state.
    #[serde(default)]
    pub loans: BTreeMap<String, LoanMemory>,
}

impl LoanState {
    /// The worst effective class of the state's loans (none when it has none).
    pub fn worst(&self) -> Option<LoanClass> {
        self.loans.values().map(|l| l.effective).max()
    }
}
