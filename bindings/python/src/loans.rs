//! Loan classification (SPEC §21) for Python: one customer's month in the core's JSON forms, so
//! that `crm_tiering.loans` only groups rows and builds tables; every rule and check is the
//! core's `evaluate_loans`.

use crm_tiering::{LoanError, LoanMonth, LoanState, evaluate_loans};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::extract_months;
use crate::errors::make;
use crate::types::PyRuleBook;

/// Classifies `customer`'s loans of `month` (a JSON list of loan-month records) from its state
/// after the month before (JSON, none: a customer without loans), under `rules`' `[loans]`
/// settings; returns the outcome as JSON (classes, trend, signals and the next state). The GIL
/// is released while the core works.
#[pyfunction]
#[pyo3(signature = (rules, customer, month, loans, state=None))]
pub(crate) fn loans_evaluate(
    py: Python<'_>,
    rules: &PyRuleBook,
    customer: &str,
    month: &Bound<'_, PyAny>,
    loans: &str,
    state: Option<&str>,
) -> PyResult<String> {
    let months = extract_months(month)?;
    let month = months.first();
    let bad = |field: &str, e: String| loan_error(py, &LoanError::Rules(crm_tiering::RuleError::new(field, e)));
    let records: Vec<LoanMonth> = serde_json::from_str(loans).map_err(|e| bad("loans", e.to_string()))?;
    let state: LoanState = match state {
        Some(s) => serde_json::from_str(s).map_err(|e| bad("state", e.to_string()))?,
        None => LoanState::default(),
    };
    let settings = rules.book.loan_settings();
    let outcome = py.detach(|| evaluate_loans(&settings, customer, month, &state, &records));
    let outcome = outcome.map_err(|e| loan_error(py, &e))?;
    serde_json::to_string(&outcome).map_err(|e| bad("outcome", e.to_string()))
}

/// The exception of a loan error: the class of its category (`InputError`, `SequenceError`,
/// `RuleFileError`) with the customer, month, field and loan.
fn loan_error(py: Python<'_>, e: &LoanError) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let d = PyDict::new(py);
        d.set_item("customer", e.customer())?;
        d.set_item("month", e.month().map(|m| m.to_string()))?;
        d.set_item("field", e.field())?;
        d.set_item("loan", e.loan())?;
        let class = crate::errors::class_of(e.category());
        Ok(PyErr::from_value(make(py, class, &e.to_string(), &d)?))
    };
    build().unwrap_or_else(|err| err)
}
