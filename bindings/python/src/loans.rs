//! Loan classification (SPEC §21) for Python: a month's loans in the core's JSON forms, so that
//! `crm_tiering.loans` only converts rows and builds tables; the grouping by customer and every
//! rule and check are the core's `evaluate_loan_month`.

use std::collections::BTreeMap;

use crm_tiering::{LoanError, LoanMonth, LoanState, evaluate_loan_month};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;

use crate::convert::extract_months;
use crate::errors::make;
use crate::store_tables::loan_tables;
use crate::types::PyRuleBook;

/// Classifies a month's loans (SPEC §21.9: `loans` a JSON list of loan-month records, `states`
/// a JSON object of the customers' states after the month before by id, none: no customer has
/// one) under `rules`' `[loans]` settings; returns the outcomes in customer-id order as a JSON
/// list (classes, trend, signals and the next state) and the core's loan tables of them
/// (customers, results, signals: SPEC §21.11, the tables `Store.loans` and the CLI's Parquet
/// export give). The GIL is released while the core works.
///
/// # Errors
/// A month with errors returns nothing: the first refused customer's error (in id order) is
/// raised (`InputError`, `SequenceError`, `RuleFileError`) with its customer, month, field and
/// loan; `RuleFileError` (field `loans` or `state`) for JSON that is not records or states.
#[pyfunction]
#[pyo3(signature = (rules, month, loans, states=None))]
pub(crate) fn loans_evaluate_month(
    py: Python<'_>,
    rules: &PyRuleBook,
    month: &Bound<'_, PyAny>,
    loans: &str,
    states: Option<&str>,
) -> PyResult<(String, PyTable, PyTable, PyTable)> {
    let months = extract_months(month)?;
    let month = months.first();
    let bad = |field: &str, e: String| loan_error(py, &LoanError::Rules(crm_tiering::RuleError::new(field, e)));
    let records: Vec<LoanMonth> = serde_json::from_str(loans).map_err(|e| bad("loans", e.to_string()))?;
    let states: BTreeMap<String, LoanState> = match states {
        Some(s) => serde_json::from_str(s).map_err(|e| bad("state", e.to_string()))?,
        None => BTreeMap::new(),
    };
    let settings = rules.book.loan_settings();
    let outcomes = py.detach(|| evaluate_loan_month(&settings, month, &records, &states));
    let outcomes = outcomes.map_err(|errors| match errors.0.first() {
        Some(first) => loan_error(py, &first.error),
        None => bad("loans", errors.to_string()),
    })?;
    let text = serde_json::to_string(&outcomes).map_err(|e| bad("outcome", e.to_string()))?;
    let (customers, results, signals) = loan_tables(&outcomes).map_err(|e| bad("outcome", e.to_string()))?;
    Ok((text, customers, results, signals))
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
