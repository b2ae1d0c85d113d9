//! Benchmark helpers, compiled only with the `bench` feature (`maturin build --features bench`),
//! so the shipped module carries none: `_bench_rust_batch` (the Rust batch on a portfolio
//! month's data) and `_bench_phases` (where a later month's time goes on the Python path), as
//! `bindings/python/bench.py` uses them.

use std::time::Instant;

use crm_tiering::portfolio::{PortfolioOptions, TableKind};
use crm_tiering::{Customer, CustomerRef, CustomerState, Engine, Month, MonthInput};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::input::AnyRecordBatch;

use crate::convert::extract_month;
use crate::portfolio::{RunError, read_all};
use crate::reader::InputTable;
use crate::types::PyRuleBook;

/// Adds the benchmark helpers to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_bench_rust_batch, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_phases, m)?)?;
    Ok(())
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
                    (c, MonthInput { aum: r.aum().into_owned(), special: None, measures: Default::default() })
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
    let codes = crate::writers::Codes::of(&[engine.rule_book()]);
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
        let mut ids = crate::writers::IdColumn::default();
        ids.of(&with_tables);
        let start = Instant::now();
        let x2 = read_all(&engine, &t2, &mut || Ok(()))?;
        let read = start.elapsed().as_secs_f64();
        let start = Instant::now();
        engine.evaluate_portfolio_with(&mut states, range(m2)?, &x2, &options, &mut Null)?;
        let month = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let mut sink = crate::writers::TablesSink::new(with_tables.len(), 0, false, codes.clone());
        engine.evaluate_portfolio_with(&mut with_tables, range(m2)?, &x2, &options, &mut sink)?;
        let tables = sink.finish(&mut ids, &with_tables)?;
        let tables_time = start.elapsed().as_secs_f64();
        drop(tables);
        // The writers alone: the month's results, collected by the core, fed to the sink.
        let outcome = engine.evaluate_portfolio(&mut collected, range(m2)?, &x2, &options)?;
        let customers = &collected;
        let mut replay_ids = crate::writers::IdColumn::default();
        replay_ids.of(customers);
        let start = Instant::now();
        let mut sink = crate::writers::TablesSink::new(collected.len(), 0, false, codes);
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
