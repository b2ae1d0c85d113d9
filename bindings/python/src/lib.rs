//! The native module `crm_tiering._native` of the Python binding.
//!
//! The Python package `crm_tiering` wraps it; see `bindings/python/README.md`. Money crosses
//! as `decimal.Decimal` (or decimal strings, or Arrow `decimal128`), never as a float; months
//! as `datetime.date` or `"YYYY-MM"`. Portfolio tables cross through the Arrow PyCapsule
//! interface and are read in Rust, with the GIL released while the engine works.
//!
//! This crate has no `unsafe` code: the Arrow C Data Interface is handled by `pyo3-arrow`.

mod convert;
mod errors;
mod options;
mod portfolio;
mod reader;
mod store;
mod store_tables;
mod types;
mod writers;

use std::sync::Arc;
use std::time::Instant;

use crm_tiering::portfolio::PortfolioFailure;
use crm_tiering::portfolio::{PortfolioOptions, TableKind};
use crm_tiering::{Customer, CustomerRef, CustomerState, Engine, Month, MonthInput, MonthOutcome};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;
use pyo3_arrow::input::AnyRecordBatch;

use crate::convert::{extract_month, extract_months, to_py_decimal};
use crate::portfolio::{PyPortfolio, RunError, Tables4, read_all, simulate_tables};
use crate::reader::InputTable;
use crate::types::{PyAlert, PyCustomerState, PyEngine, PyEvent, PyMonthOutcome, PyRuleBook, options};
use crate::writers::month_days;

/// Replays a history table (`customer_id`, `month`, `aum`, ...) from empty states, over
/// `months` (by default the table's first to last month), with the portfolio options
/// `options` (the core's keys).
#[pyfunction]
#[pyo3(signature = (rules, history, *, months=None, designations=None, missing_months="error", explain=false, **options))]
#[allow(clippy::too_many_arguments)]
fn replay_table(
    py: Python<'_>,
    rules: &PyRuleBook,
    history: &Bound<'_, PyAny>,
    months: Option<&Bound<'_, PyAny>>,
    designations: Option<&Bound<'_, PyAny>>,
    missing_months: &str,
    explain: bool,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Tables4> {
    let mut p = PyPortfolio::new(py, rules, missing_months, None)?;
    p.evaluate_history(py, history, months, designations, explain, "aum", "designations", options)
}

/// The same history under two rule books (the core's `portfolio::simulate`): per month and
/// effective tier the counts under each, and the customer-months whose effective tier differs.
/// From `states` (a `Portfolio`'s states; new customers when none), over `months` (by default
/// the table's first to last month), with the portfolio options `options` (the core's keys).
#[pyfunction]
#[pyo3(signature = (
    rules_a, rules_b, history, *, months=None, designations=None, daily=None, states=None,
    missing_months="error", **options
))]
#[allow(clippy::too_many_arguments)]
fn simulate(
    py: Python<'_>,
    rules_a: &PyRuleBook,
    rules_b: &PyRuleBook,
    history: &Bound<'_, PyAny>,
    months: Option<&Bound<'_, PyAny>>,
    designations: Option<&Bound<'_, PyAny>>,
    daily: Option<&Bound<'_, PyAny>>,
    states: Option<PyRef<'_, PyPortfolio>>,
    missing_months: &str,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<(PyTable, PyTable)> {
    let opts = crate::types::options(py, missing_months)?;
    let months = months.map(extract_months).transpose()?;
    let mut tables = vec![InputTable::from_py(history, TableKind::Aum, "aum")?];
    if let Some(d) = daily.filter(|d| !d.is_none()) {
        tables.push(InputTable::from_py(d, TableKind::Daily, "daily")?);
    }
    if let Some(d) = designations.filter(|d| !d.is_none()) {
        tables.push(InputTable::from_py(d, TableKind::Designations, "designations")?);
    }
    let a = Engine::with_options((*rules_a.book).clone(), opts);
    let b = Engine::with_options((*rules_b.book).clone(), opts);
    let states = states.map(|p| p.states.clone()).unwrap_or_default();
    let mut portfolio_options = PortfolioOptions::default();
    crate::options::apply(py, &mut portfolio_options, options)?;
    let result = py.detach(move || simulate_tables(&a, &b, &tables, months, &states, &portfolio_options));
    result.map(|[c, d]| (c, d)).map_err(|e| e.into_py(py))
}

/// The month-by-month story of one customer's outcomes, as a table.
#[pyfunction]
fn explain_outcomes(outcomes: Vec<PyRef<'_, PyMonthOutcome>>) -> PyResult<PyTable> {
    let list: Vec<&MonthOutcome> = outcomes.iter().map(|o| &o.outcome).collect();
    story_table(&list)
}

/// One customer's story from a long table (any number of customers, read by the one reader:
/// `aum` or component columns, English or Chinese headers): the rows of `customer` (which may
/// be left out when the table holds one customer only), in month order, replayed from
/// `initial`.
#[pyfunction]
#[pyo3(signature = (rules, table, *, customer=None, initial=None, missing_months="error"))]
fn explain_table(
    py: Python<'_>,
    rules: &PyRuleBook,
    table: &Bound<'_, PyAny>,
    customer: Option<&str>,
    initial: Option<&PyCustomerState>,
    missing_months: &str,
) -> PyResult<PyTable> {
    let engine = Engine::with_options((*rules.book).clone(), options(py, missing_months)?);
    let tables = [InputTable::from_py(table, TableKind::Aum, "history")?];
    let extract = read_all(&engine, &tables, &mut reader::check_signals).map_err(|e| RunError::from(e).into_py(py))?;
    if !extract.fatal().is_empty() {
        return Err(errors::failure(py, &PortfolioFailure { errors: extract.fatal().to_vec() }));
    }
    let mut ids: Vec<&str> = Vec::new();
    for r in extract.rows() {
        if !ids.contains(&r.customer_id()) {
            ids.push(r.customer_id());
        }
    }
    let id = match (customer, ids.as_slice()) {
        (Some(c), _) => c,
        (None, [one]) => one,
        (None, []) => return Err(errors::input_error(py, None, None, "customer", "the table has no usable row")),
        (None, many) => {
            let shown: Vec<&str> = many.iter().take(5).copied().collect();
            let message = format!(
                "the table holds {} customers ({}{}): name one with customer=...",
                many.len(),
                shown.join(", "),
                if many.len() > 5 { ", ..." } else { "" }
            );
            return Err(errors::input_error(py, None, None, "customer", &message));
        }
    };
    if let Some(e) = extract.rejected().find(|e| e.customer() == Some(id)) {
        return Err(errors::record_error(py, e));
    }
    let mut rows: Vec<crm_tiering::portfolio::AumRow<'_>> =
        extract.rows().iter().filter(|r| r.customer_id() == id).collect();
    if rows.is_empty() {
        return Err(errors::input_error(py, Some(id), None, "customer", "the customer has no row in the table"));
    }
    if rows.iter().any(|r| r.month().is_none()) {
        return Err(errors::input_error(py, Some(id), None, "month", "the table has no month column"));
    }
    rows.sort_by_key(|r| r.month());
    let last = rows[rows.len() - 1];
    let who = Customer {
        id: id.to_string(),
        legal_entity: last.legal_entity().map(str::to_string),
        kind: last.kind().unwrap_or_default(),
    };
    let mut state = initial.map(|s| s.state).unwrap_or_default();
    let mut outcomes = Vec::with_capacity(rows.len());
    for r in rows {
        let input = MonthInput { aum: r.aum().into_owned(), special: None };
        let month = r.month().unwrap_or(Month::LAST);
        let o = engine.evaluate(&who, &state, month, &input).map_err(errors::py_err)?;
        state = o.state;
        outcomes.push(o);
    }
    let list: Vec<&MonthOutcome> = outcomes.iter().collect();
    story_table(&list)
}

fn story_table(outcomes: &[&MonthOutcome]) -> PyResult<PyTable> {
    use arrow_array::builder::{Date32Builder, Decimal128Builder, StringBuilder, UInt32Builder};
    use arrow_array::{ArrayRef, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};
    let n = outcomes.len();
    let s = || StringBuilder::with_capacity(n, n * 16);
    let mut month = Date32Builder::with_capacity(n);
    let (mut status, mut status_zh, mut tier, mut effective) = (s(), s(), s(), s());
    let (mut events, mut events_zh, mut reasons, mut story, mut alerts) = (s(), s(), s(), s(), s());
    let mut aum = Decimal128Builder::with_capacity(n).with_data_type(DataType::Decimal128(38, 2));
    let (mut watch, mut below, mut retention) =
        (UInt32Builder::with_capacity(n), UInt32Builder::with_capacity(n), UInt32Builder::with_capacity(n));
    for o in outcomes {
        month.append_value(month_days(o.month));
        let mut a = o.aum;
        a.rescale(2);
        aum.append_value(a.mantissa());
        status.append_value(o.state.status.as_str());
        status_zh.append_value(o.state.status.name_zh());
        tier.append_option(o.state.tier.map(|t| t.to_string()));
        effective.append_option(o.state.effective_tier.map(|t| t.to_string()));
        watch.append_value(o.state.watch_months());
        below.append_value(o.state.below_entry_months());
        retention.append_value(u32::from(o.state.retention_months_left));
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
    let t1 = vec![InputTable::collect(table1, TableKind::Aum, "aum")?];
    let t2 = vec![InputTable::collect(table2, TableKind::Aum, "aum")?];
    let engine = Engine::new((*rules.book).clone());
    let result = py.detach(move || -> Result<(f64, usize, usize, usize), RunError> {
        let vectors = |tables: &[InputTable]| -> Result<(Vec<Customer>, Vec<MonthInput>), RunError> {
            let extract = read_all(&engine, tables, &mut || Ok(()))?;
            Ok(extract
                .rows()
                .iter()
                .map(|r| {
                    let c = Customer {
                        id: r.customer_id().to_string(),
                        legal_entity: r.legal_entity().map(str::to_string),
                        kind: r.kind().unwrap_or_default(),
                    };
                    (c, MonthInput { aum: r.aum().into_owned(), special: None })
                })
                .unzip())
        };
        let (c1, i1) = vectors(&t1)?;
        let (c2, i2) = vectors(&t2)?;
        let mut states = vec![CustomerState::default(); c1.len()];
        let fail = |e: crm_tiering::TieringError| RunError::NoMonths(e.to_string());
        engine.evaluate_batch(m1, &c1, &i1, &mut states).map_err(fail)?;
        let start = Instant::now();
        let out = if threads > 1 {
            engine.evaluate_batch_parallel(m2, &c2, &i2, &mut states, threads).map_err(fail)?
        } else {
            engine.evaluate_batch(m2, &c2, &i2, &mut states).map_err(fail)?
        };
        let seconds = start.elapsed().as_secs_f64();
        Ok((seconds, c2.len(), out.events.len(), out.alerts.len()))
    });
    let (seconds, customers, events, alerts) = result.map_err(|e| e.into_py(py))?;
    let d = PyDict::new(py);
    d.set_item("seconds", seconds)?;
    d.set_item("customers", customers)?;
    d.set_item("events", events)?;
    d.set_item("alerts", alerts)?;
    Ok(d)
}

/// Benchmark helper: where a later portfolio month's time goes on the Python path, 1 thread.
/// `table1` sets up the states (timed as `first`: the reader and the core's portfolio month,
/// no tables); then, for `month2`/`table2`: `read` (the one reader: Arrow columns into the
/// core's `Extract`), `month` (the core's portfolio month with a sink that builds nothing),
/// `tables` (the portfolio month, from other states equal to the first, with the four table
/// writers, tables finished) and `writers` (the four writers alone, fed the month's results
/// as the core collected them).
#[pyfunction]
fn _bench_phases<'py>(
    py: Python<'py>,
    rules: &PyRuleBook,
    month1: &Bound<'py, PyAny>,
    table1: AnyRecordBatch,
    month2: &Bound<'py, PyAny>,
    table2: AnyRecordBatch,
) -> PyResult<Bound<'py, PyDict>> {
    use crm_tiering::portfolio::{MonthRange, PortfolioSink, PortfolioStates, RecordError};
    struct Null;
    impl PortfolioSink for Null {
        fn event(&mut self, _: Month, _: usize, _: CustomerRef<'_>, _: &crm_tiering::Event) {}
        fn alert(&mut self, _: Month, _: usize, _: CustomerRef<'_>, _: &crm_tiering::Alert) {}
        fn evaluated(
            &mut self,
            _: Month,
            _: usize,
            _: CustomerRef<'_>,
            _: crm_tiering::Decimal,
            _: bool,
            _: &CustomerState,
        ) {
        }
        fn held(&mut self, _: Month, _: Option<usize>, _: &RecordError) {}
    }
    let (m1, m2) = (extract_month(month1)?, extract_month(month2)?);
    let t1 = vec![InputTable::collect(table1, TableKind::Aum, "aum")?];
    let t2 = vec![InputTable::collect(table2, TableKind::Aum, "aum")?];
    let engine = Engine::new((*rules.book).clone());
    let codes = writers::Codes::of(&[engine.rule_book()]);
    let result = py.detach(move || -> Result<[f64; 5], RunError> {
        let options = PortfolioOptions::default();
        let range = |m| MonthRange::single(m).map_err(RunError::NoMonths);
        let start = Instant::now();
        let x1 = read_all(&engine, &t1, &mut || Ok(()))?;
        let mut states = PortfolioStates::new();
        engine.evaluate_portfolio_with(&mut states, range(m1)?, &x1, &options, &mut Null)?;
        let first = start.elapsed().as_secs_f64();
        // Three portfolios after the first month, each built by its own first month as a
        // portfolio's states are: one for each way of running the second month.
        let mut with_tables = PortfolioStates::new();
        engine.evaluate_portfolio_with(&mut with_tables, range(m1)?, &x1, &options, &mut Null)?;
        let mut collected = PortfolioStates::new();
        engine.evaluate_portfolio_with(&mut collected, range(m1)?, &x1, &options, &mut Null)?;
        drop(x1);
        // The ids column a portfolio keeps after its first month's states table.
        let mut ids = writers::IdColumn::default();
        ids.of(&with_tables);
        let start = Instant::now();
        let x2 = read_all(&engine, &t2, &mut || Ok(()))?;
        let read = start.elapsed().as_secs_f64();
        let start = Instant::now();
        engine.evaluate_portfolio_with(&mut states, range(m2)?, &x2, &options, &mut Null)?;
        let month = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let mut sink = writers::TablesSink::new(with_tables.len(), 0, false, codes.clone());
        engine.evaluate_portfolio_with(&mut with_tables, range(m2)?, &x2, &options, &mut sink)?;
        let tables = sink.finish(&mut ids, &with_tables)?;
        let tables_time = start.elapsed().as_secs_f64();
        drop(tables);
        // The writers alone: the month's results, collected by the core, fed to the sink.
        let outcome = engine.evaluate_portfolio(&mut collected, range(m2)?, &x2, &options)?;
        let customers = &collected;
        let mut replay_ids = writers::IdColumn::default();
        replay_ids.of(customers);
        let start = Instant::now();
        let mut sink = writers::TablesSink::new(collected.len(), 0, false, codes);
        for m in &outcome.months {
            let Some(month) = m.month else { continue };
            for (i, e) in &m.events {
                if let Some(c) = customers.customer(*i) {
                    sink.event(month, *i, c, e);
                }
            }
            for (i, a) in &m.alerts {
                if let Some(c) = customers.customer(*i) {
                    sink.alert(month, *i, c, a);
                }
            }
            for e in &m.evaluated {
                if let Some(c) = customers.customer(e.index) {
                    sink.evaluated(month, e.index, c, e.aum, e.has_record, &e.state);
                }
            }
        }
        let replayed = sink.finish(&mut replay_ids, customers)?;
        let writers = start.elapsed().as_secs_f64();
        drop(replayed);
        let tables = tables_time;
        Ok([first, read, month, tables, writers])
    });
    let [first, read, month, tables, writers] = result.map_err(|e| e.into_py(py))?;
    let d = PyDict::new(py);
    d.set_item("first", first)?;
    d.set_item("read", read)?;
    d.set_item("month", month)?;
    d.set_item("tables", tables)?;
    d.set_item("writers", writers)?;
    Ok(d)
}

/// The role of each column of a table's header, as the core resolves it (`month`,
/// `customer_id`, `legal_entity`, ..., a component's code): the Spark driver finds the columns
/// of its whole-portfolio checks with it. Raises the core's error for a header that does not
/// resolve.
#[pyfunction]
fn _column_roles(py: Python<'_>, rules: &PyRuleBook, kind: &str, headers: Vec<String>) -> PyResult<Vec<String>> {
    use crm_tiering::portfolio::Columns;
    let kind = match kind {
        "aum" => TableKind::Aum,
        "daily" => TableKind::Daily,
        "designations" => TableKind::Designations,
        other => return Err(errors::input_error(py, None, None, "kind", &format!("`{other}` is not a table kind"))),
    };
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let cols = Columns::resolve(&rules.book, kind, &refs).map_err(|e| errors::tiering_error(&e))?;
    Ok((0..cols.width()).map(|i| cols.role(i).map_or("", |r| r.name()).to_string()).collect())
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
    m.add_class::<store::PyStore>()?;
    m.add_function(wrap_pyfunction!(replay_table, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(explain_outcomes, m)?)?;
    m.add_function(wrap_pyfunction!(explain_table, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_rust_batch, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_phases, m)?)?;
    m.add_function(wrap_pyfunction!(parse_amount, m)?)?;
    m.add_function(wrap_pyfunction!(_column_roles, m)?)?;
    m.add("STATE_SCHEMA_VERSION", crm_tiering::STATE_SCHEMA_VERSION)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
