//! The native module `crm_tiering._native` of the Python binding.
//!
//! The Python package `crm_tiering` wraps it; see `bindings/python/README.md`. Money crosses
//! as `decimal.Decimal` (or decimal strings, or Arrow `decimal128`), never as a float; months
//! as `datetime.date` or `"YYYY-MM"`. Portfolio tables cross through the Arrow PyCapsule
//! interface and are read in Rust, with the GIL released while the engine works.
//!
//! This crate has no `unsafe` code: the Arrow C Data Interface is handled by `pyo3-arrow`.

mod convert;
mod fast;
mod table;
mod types;

use std::sync::Arc;
use std::time::Instant;

use crm_tiering::{Customer, CustomerKind, CustomerState, Engine, TierCode};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;
use pyo3_arrow::input::AnyRecordBatch;

use crate::convert::{extract_month, py_err, to_py_decimal};
use crate::fast::{Fail, aligned_month, remember_ids};
use crate::table::{Book, SimulationSink, TablesSink, collect_batches, read_rows, tables};
use crate::types::{PyAlert, PyCustomerState, PyEngine, PyEvent, PyMonthOutcome, PyRuleBook, options};

impl Fail {
    fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            Fail::Table(e) => e.into_py(py),
            Fail::Engine(e) => py_err(e),
        }
    }
}

type Tables4 = (PyTable, PyTable, PyTable, PyTable);

fn four([a, b, c, d]: [PyTable; 4]) -> Tables4 {
    (a, b, c, d)
}

/// A portfolio of customers whose states are kept between months.
#[pyclass(module = "crm_tiering._native", name = "Portfolio")]
struct PyPortfolio {
    book: Book,
}

#[pymethods]
impl PyPortfolio {
    #[new]
    #[pyo3(signature = (rules, missing_months="error"))]
    fn new(py: Python<'_>, rules: &PyRuleBook, missing_months: &str) -> PyResult<Self> {
        let engine = Engine::with_options((*rules.book).clone(), options(py, missing_months)?);
        Ok(PyPortfolio { book: Book::new(Arc::new(engine)) })
    }

    /// Evaluates one month for every row of `table` (`customer_id`, `aum`, optional
    /// `legal_entity`, `kind`, `special`, `special_tier`, `special_months`). Returns the
    /// states, events, alerts and errors tables. The GIL is released while the engine works;
    /// `threads` > 1 splits a month of the portfolio's own customers over that many threads.
    #[pyo3(signature = (month, table, explain=false, threads=1))]
    fn evaluate_month(
        &mut self,
        py: Python<'_>,
        month: &Bound<'_, PyAny>,
        table: AnyRecordBatch,
        explain: bool,
        threads: usize,
    ) -> PyResult<Tables4> {
        let month = extract_month(month)?;
        let batches = collect_batches(table)?;
        let book = &mut self.book;
        let result = py.detach(move || -> Result<[PyTable; 4], Fail> {
            if let Some(parts) = aligned_month(book, month, &batches, threads, explain)? {
                return Ok(tables(parts)?);
            }
            let rows = read_rows(&batches, false, Some(&book.customers))?;
            let mut sink = TablesSink::new(rows.inputs.len(), explain, book.codes.clone());
            book.run_month(month, &rows, None, &mut sink)?;
            remember_ids(book, &batches)?;
            Ok(sink.finish()?)
        });
        result.map(four).map_err(|e| e.into_py(py))
    }

    /// Evaluates a history table (with a `month` column), month by month.
    #[pyo3(signature = (history, explain=false))]
    fn evaluate_history(&mut self, py: Python<'_>, history: AnyRecordBatch, explain: bool) -> PyResult<Tables4> {
        let batches = collect_batches(history)?;
        let book = &mut self.book;
        let result = py.detach(move || -> Result<[PyTable; 4], Fail> {
            let rows = read_rows(&batches, true, None)?;
            let mut sink = TablesSink::new(rows.inputs.len(), explain, book.codes.clone());
            book.run_history(&rows, &mut sink)?;
            Ok(sink.finish()?)
        });
        result.map(four).map_err(|e| e.into_py(py))
    }

    /// A customer's current state, if the portfolio knows the customer.
    fn state(&self, customer_id: &str) -> Option<PyCustomerState> {
        self.book.index.get(customer_id).map(|&i| PyCustomerState { state: self.book.states[i as usize] })
    }

    /// Sets a customer's state (for instance one stored by the bank's core system).
    #[pyo3(signature = (customer_id, state, legal_entity=None, kind="personal"))]
    fn set_state(
        &mut self,
        py: Python<'_>,
        customer_id: &str,
        state: &PyCustomerState,
        legal_entity: Option<String>,
        kind: &str,
    ) -> PyResult<()> {
        let kind: CustomerKind =
            kind.parse().map_err(|e: String| convert::input_error(py, Some(customer_id), None, "kind", &e))?;
        let customer = Customer { id: customer_id.to_string(), legal_entity, kind };
        let b = &mut self.book;
        match b.index.get(customer_id) {
            Some(&i) => {
                b.customers[i as usize] = customer;
                b.states[i as usize] = state.state;
            }
            None => {
                b.add(customer, state.state);
            }
        }
        Ok(())
    }

    /// The customer ids, in the order the portfolio first saw them.
    fn customer_ids(&self) -> Vec<String> {
        self.book.customers.iter().map(|c| c.id.clone()).collect()
    }

    fn __len__(&self) -> usize {
        self.book.customers.len()
    }

    fn __repr__(&self) -> String {
        format!("Portfolio(customers={}, rules={:?})", self.book.customers.len(), self.book.engine.rule_book().name())
    }
}

/// Replays a history table (`customer_id`, `month`, `aum`, ...) from empty states.
#[pyfunction]
#[pyo3(signature = (rules, history, missing_months="error", explain=false))]
fn replay_table(
    py: Python<'_>,
    rules: &PyRuleBook,
    history: AnyRecordBatch,
    missing_months: &str,
    explain: bool,
) -> PyResult<Tables4> {
    let mut p = PyPortfolio::new(py, rules, missing_months)?;
    p.evaluate_history(py, history, explain)
}

fn tier_order(books: &[&PyRuleBook]) -> Vec<TierCode> {
    let mut out: Vec<TierCode> = Vec::new();
    for b in books {
        for set in b.book.rule_sets() {
            for v in &set.versions {
                for t in &v.tiers {
                    if !out.contains(&t.code) {
                        out.push(t.code);
                    }
                }
            }
        }
    }
    out
}

/// Replays one history under two rule books: per month and tier the counts under each, and
/// the customers whose effective tier differs.
#[pyfunction]
#[pyo3(signature = (history, rules_a, rules_b, missing_months="error"))]
fn simulate(
    py: Python<'_>,
    history: AnyRecordBatch,
    rules_a: &PyRuleBook,
    rules_b: &PyRuleBook,
    missing_months: &str,
) -> PyResult<(PyTable, PyTable)> {
    let opts = options(py, missing_months)?;
    let batches = collect_batches(history)?;
    let a = Arc::new(Engine::with_options((*rules_a.book).clone(), opts));
    let b = Arc::new(Engine::with_options((*rules_b.book).clone(), opts));
    let order = tier_order(&[rules_a, rules_b]);
    let result = py.detach(move || -> Result<[PyTable; 2], Fail> {
        let rows = read_rows(&batches, true, None)?;
        let mut sink = SimulationSink {
            first: std::collections::HashMap::with_capacity(rows.customers.len()),
            counts: Default::default(),
            second_pass: false,
            changes: Vec::new(),
        };
        Book::new(a).run_history(&rows, &mut sink)?;
        sink.second_pass = true;
        Book::new(b).run_history(&rows, &mut sink)?;
        Ok(sink.finish(&order)?)
    });
    result.map(|[c, d]| (c, d)).map_err(|e| e.into_py(py))
}

/// The month-by-month story of one customer's outcomes, as a table.
#[pyfunction]
fn explain_outcomes(outcomes: Vec<PyRef<'_, PyMonthOutcome>>) -> PyResult<PyTable> {
    use arrow_array::builder::{Decimal128Builder, StringBuilder, UInt32Builder};
    use arrow_array::{ArrayRef, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};
    let n = outcomes.len();
    let s = || StringBuilder::with_capacity(n, n * 16);
    let (mut month, mut status, mut status_zh, mut tier, mut effective) = (s(), s(), s(), s(), s());
    let (mut events, mut events_zh, mut reasons, mut story, mut alerts) = (s(), s(), s(), s(), s());
    let mut aum = Decimal128Builder::with_capacity(n).with_data_type(DataType::Decimal128(38, 2));
    let (mut watch, mut below, mut retention) =
        (UInt32Builder::with_capacity(n), UInt32Builder::with_capacity(n), UInt32Builder::with_capacity(n));
    for o in &outcomes {
        let o = &o.outcome;
        month.append_value(o.month.to_string());
        let mut a = o.aum;
        a.rescale(2);
        aum.append_value(a.mantissa());
        status.append_value(o.state.status.as_str());
        status_zh.append_value(o.state.status.name_zh());
        tier.append_option(o.state.tier.map(|t| t.to_string()));
        effective.append_option(o.state.effective_tier.map(|t| t.to_string()));
        watch.append_value(o.state.watch.map_or(0, |w| w.short_months));
        below.append_value(o.state.below_entry.map_or(0, |r| r.months));
        retention.append_value(o.state.retention_months_left);
        let join = |f: &dyn Fn(&crm_tiering::Event) -> String| o.events.iter().map(f).collect::<Vec<_>>().join("; ");
        events.append_value(join(&|e| e.kind.as_str().to_string()));
        events_zh.append_value(join(&|e| e.kind.name_zh().to_string()));
        reasons.append_value(join(&|e| e.reason.name_zh().to_string()));
        story.append_value(join(&|e| e.explain()));
        alerts.append_value(o.alerts.iter().map(|a| a.kind.as_str()).collect::<Vec<_>>().join("; "));
    }
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("month", Arc::new(month.finish())),
        ("aum", Arc::new(aum.finish())),
        ("status", Arc::new(status.finish())),
        ("status_zh", Arc::new(status_zh.finish())),
        ("tier", Arc::new(tier.finish())),
        ("effective_tier", Arc::new(effective.finish())),
        ("watch_months", Arc::new(watch.finish())),
        ("below_entry_months", Arc::new(below.finish())),
        ("retention_months_left", Arc::new(retention.finish())),
        ("events", Arc::new(events.finish())),
        ("events_zh", Arc::new(events_zh.finish())),
        ("reasons_zh", Arc::new(reasons.finish())),
        ("story", Arc::new(story.finish())),
        ("alerts", Arc::new(alerts.finish())),
    ];
    let schema = Arc::new(Schema::new(
        cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, a)| a).collect())
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("arrow: {e}")))?;
    PyTable::try_new(vec![batch], schema)
}

/// Benchmark helper: the Rust batch (`Engine::evaluate_batch`, or `evaluate_batch_parallel`
/// with `threads` > 1) on the same data as a portfolio month, customers, inputs and states
/// already in Rust vectors. `table1` sets up the states (untimed); `month2`/`table2` is timed.
#[pyfunction]
#[pyo3(signature = (rules, month1, table1, month2, table2, threads=1))]
fn _bench_rust_batch<'py>(
    py: Python<'py>,
    rules: &PyRuleBook,
    month1: &Bound<'py, PyAny>,
    table1: AnyRecordBatch,
    month2: &Bound<'py, PyAny>,
    table2: AnyRecordBatch,
    threads: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let (m1, m2) = (extract_month(month1)?, extract_month(month2)?);
    let (b1, b2) = (collect_batches(table1)?, collect_batches(table2)?);
    let engine = Engine::new((*rules.book).clone());
    let result = py.detach(move || -> Result<(f64, usize, usize, usize), Fail> {
        let r1 = read_rows(&b1, false, None)?;
        let r2 = read_rows(&b2, false, None)?;
        let mut states = vec![CustomerState::default(); r1.customers.len()];
        engine.evaluate_batch(m1, &r1.customers, &r1.inputs, &mut states)?;
        let start = Instant::now();
        let out = if threads > 1 {
            engine.evaluate_batch_parallel(m2, &r2.customers, &r2.inputs, &mut states, threads)?
        } else {
            engine.evaluate_batch(m2, &r2.customers, &r2.inputs, &mut states)?
        };
        let seconds = start.elapsed().as_secs_f64();
        Ok((seconds, r2.customers.len(), out.events.len(), out.alerts.len()))
    });
    let (seconds, customers, events, alerts) = result.map_err(|e| e.into_py(py))?;
    let d = PyDict::new(py);
    d.set_item("seconds", seconds)?;
    d.set_item("customers", customers)?;
    d.set_item("events", events)?;
    d.set_item("alerts", alerts)?;
    Ok(d)
}

/// Parses an amount exactly (for tests and helpers): returns a `decimal.Decimal`.
#[pyfunction]
fn parse_amount<'py>(py: Python<'py>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    to_py_decimal(py, convert::extract_amount(value, "amount")?)
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRuleBook>()?;
    m.add_class::<PyCustomerState>()?;
    m.add_class::<PyEvent>()?;
    m.add_class::<PyAlert>()?;
    m.add_class::<PyMonthOutcome>()?;
    m.add_class::<PyEngine>()?;
    m.add_class::<PyPortfolio>()?;
    m.add_function(wrap_pyfunction!(replay_table, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(explain_outcomes, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_rust_batch, m)?)?;
    m.add_function(wrap_pyfunction!(parse_amount, m)?)?;
    m.add("STATE_SCHEMA_VERSION", crm_tiering::STATE_SCHEMA_VERSION)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
