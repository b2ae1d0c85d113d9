//! The single-customer engine: one month, a history.

use std::sync::Arc;

use crm_tiering::{Engine, MissingMonths};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use super::input::{extract_input, in_month, options};
use super::rulebook::PyRuleBook;
use super::values::{PyCustomerState, PyMonthOutcome};
use crate::convert::{extract_customer, extract_month};
use crate::errors::py_err;

/// The rules engine: a rule book and options.
#[pyclass(module = "crm_tiering._native", name = "Engine", frozen)]
pub(crate) struct PyEngine {
    pub(crate) engine: Arc<Engine>,
}

#[pymethods]
impl PyEngine {
    #[new]
    #[pyo3(signature = (rules, missing_months="error"))]
    fn new(py: Python<'_>, rules: &PyRuleBook, missing_months: &str) -> PyResult<Self> {
        Ok(PyEngine { engine: Arc::new(Engine::with_options((*rules.book).clone(), options(py, missing_months)?)) })
    }

    /// The rule book.
    #[getter]
    fn rules(&self) -> PyRuleBook {
        PyRuleBook { book: Arc::new(self.engine.rule_book().clone()) }
    }

    /// `"error"` or `"treat_as_zero"`.
    #[getter]
    fn missing_months(&self) -> &'static str {
        match self.engine.options().missing_months {
            MissingMonths::Error => "error",
            MissingMonths::TreatAsZero => "treat_as_zero",
        }
    }

    /// Evaluates one customer for one month.
    #[pyo3(signature = (customer, month, input, *, state=None))]
    fn evaluate(
        &self,
        customer: &Bound<'_, PyAny>,
        month: &Bound<'_, PyAny>,
        input: &Bound<'_, PyAny>,
        state: Option<&PyCustomerState>,
    ) -> PyResult<PyMonthOutcome> {
        let customer = extract_customer(customer)?;
        let month = extract_month(month)?;
        let input = extract_input(input)?;
        let (prior, history) = state.map(|s| (s.state, s.history.clone())).unwrap_or_default();
        let outcome = self.engine.evaluate_with_history(&customer, &prior, &history, month, &input).map_err(py_err)?;
        Ok(PyMonthOutcome { outcome })
    }

    /// Replays a history: an iterable of `(month, input)` pairs (tuples or lists, as
    /// `json.load` gives them), or a mapping month -> input. A month that cannot be evaluated
    /// raises its error naming the customer and the month, with the outcomes of the months
    /// before it as `.outcomes` (nothing evaluated is lost).
    #[pyo3(signature = (customer, history, *, initial=None))]
    fn replay(
        &self,
        py: Python<'_>,
        customer: &Bound<'_, PyAny>,
        history: &Bound<'_, PyAny>,
        initial: Option<&PyCustomerState>,
    ) -> PyResult<Vec<PyMonthOutcome>> {
        let customer = extract_customer(customer)?;
        let items = match history.cast::<PyDict>() {
            Ok(d) => d.items().into_any(),
            Err(_) if history.hasattr("items")? && !history.is_instance_of::<PyList>() => {
                history.call_method0("items")?
            }
            Err(_) => history.clone(),
        };
        let (mut state, mut past) = initial.map(|s| (s.state, s.history.clone())).unwrap_or_default();
        let mut out: Vec<PyMonthOutcome> = Vec::new();
        let fail = |err: PyErr, out: Vec<PyMonthOutcome>| -> PyErr {
            let value = err.value(py);
            let done = PyList::empty(py);
            for o in out {
                if let Ok(o) = Py::new(py, o) {
                    let _ = done.append(o);
                }
            }
            let _ = value.setattr("outcomes", done);
            err
        };
        for item in items.try_iter()? {
            let item = item?;
            let pair: Vec<Bound<'_, PyAny>> = match (item.cast::<PyTuple>(), item.cast::<PyList>()) {
                (Ok(t), _) => t.iter().collect(),
                (_, Ok(l)) => l.iter().collect(),
                _ => {
                    let e = PyTypeError::new_err("a history is a mapping month -> input or (month, input) pairs");
                    return Err(fail(e, out));
                }
            };
            let [month, input] = pair.as_slice() else {
                return Err(fail(PyTypeError::new_err("a history item is a (month, input) pair"), out));
            };
            let month = match extract_month(month) {
                Ok(m) => m,
                Err(e) => {
                    let e = in_month(py, e, &customer.id, None);
                    return Err(fail(e, out));
                }
            };
            let input = match extract_input(input) {
                Ok(i) => i,
                Err(e) => return Err(fail(in_month(py, e, &customer.id, Some(month)), out)),
            };
            match self.engine.evaluate_with_history(&customer, &state, &past, month, &input) {
                Ok(outcome) => {
                    state = outcome.state;
                    past.clone_from(&outcome.history);
                    out.push(PyMonthOutcome { outcome });
                }
                Err(e) => return Err(fail(py_err(e), out)),
            }
        }
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!("Engine(rules={:?}, missing_months={:?})", self.engine.rule_book().name(), self.missing_months())
    }
}
