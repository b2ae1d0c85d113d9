//! The native module `crm_tiering._native` of the Python binding.
//!
//! The Python package `crm_tiering` wraps it; see `bindings/python/README.md`. Money crosses
//! as `decimal.Decimal` (or decimal strings, or Arrow `decimal128`), never as a float; months
//! as `datetime.date` or `"YYYY-MM"`. Portfolio tables cross through the Arrow PyCapsule
//! interface and are read in Rust, with the GIL released while the engine works.
//!
//! This crate has no `unsafe` code: the Arrow C Data Interface is handled by `pyo3-arrow`.

#[cfg(feature = "bench")]
mod bench;
mod contribution;
mod convert;
mod errors;
mod loans;
mod options;
mod portfolio;
mod reader;
mod store;
mod store_tables;
mod types;
mod writers;

use std::sync::Arc;

use crm_tiering::portfolio::PortfolioFailure;
use crm_tiering::portfolio::{PortfolioOptions, TableKind};
use crm_tiering::{Customer, Engine, Month, MonthInput, MonthOutcome};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;

use crate::convert::{extract_months, to_py_decimal};
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
    // The distinct customers in table order, only when none is named (one pass, hashed: a
    // table of millions of rows is read once).
    let mut ids: Vec<&str> = Vec::new();
    if customer.is_none() {
        let mut seen = std::collections::HashSet::new();
        for r in extract.rows() {
            if seen.insert(r.customer_id()) {
                ids.push(r.customer_id());
            }
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
    let (mut state, mut past) = initial.map(|s| (s.state, s.history.clone())).unwrap_or_default();
    let mut outcomes = Vec::with_capacity(rows.len());
    for r in rows {
        let input = MonthInput { aum: r.aum().into_owned(), special: None, measures: Default::default() };
        let month = r.month().unwrap_or(Month::LAST);
        let o = engine.evaluate_with_history(&who, &state, &past, month, &input).map_err(errors::py_err)?;
        state = o.state;
        past.clone_from(&o.history);
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

/// A month's text as the core reads a record's month cell (SPEC §16: `YYYY-MM` or `YYYYMM`),
/// written `YYYY-MM`; none for a text that is not a month. The Spark driver keeps with it the
/// (month, legal entity) pairs of a range whose month the core can read.
#[pyfunction]
fn _month_text(text: &str) -> Option<String> {
    text.parse::<crm_tiering::Month>().ok().map(|m| m.to_string())
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
    m.add_class::<contribution::PyContributionRules>()?;
    m.add_class::<contribution::PyContributionResult>()?;
    m.add_function(wrap_pyfunction!(contribution::contribution_compute, m)?)?;
    m.add_function(wrap_pyfunction!(loans::loans_evaluate_month, m)?)?;
    m.add("CONTRIBUTION_FIGURES", crm_tiering_contribution::Figures::NAMES.to_vec())?;
    m.add_function(wrap_pyfunction!(replay_table, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(explain_outcomes, m)?)?;
    m.add_function(wrap_pyfunction!(explain_table, m)?)?;
    #[cfg(feature = "bench")]
    bench::register(m)?;
    m.add_function(wrap_pyfunction!(parse_amount, m)?)?;
    m.add_function(wrap_pyfunction!(_column_roles, m)?)?;
    m.add_function(wrap_pyfunction!(_month_text, m)?)?;
    m.add("STATE_SCHEMA_VERSION", crm_tiering::STATE_SCHEMA_VERSION)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
