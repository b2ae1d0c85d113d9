//! `Portfolio`: a core [`PortfolioStates`] (keyed by customer id, stamped with the rule book
//! that wrote it) evaluated month by month through the core's portfolio month, with the
//! tables read by the one reader and written by the writers.

use std::sync::Arc;

use arrow_schema::ArrowError;
use crm_tiering::portfolio::{
    Extract, MonthRange, PortfolioFailure, PortfolioOptions, PortfolioSink, PortfolioStates, RecordError,
    RuleBookChange, Simulation, TableKind, simulate,
};
use crm_tiering::{Alert, Customer, CustomerKind, CustomerRef, CustomerState, Decimal, Engine, Event, Month};
use crm_tiering::{StateError, TieringError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;

use crate::convert::{check_customer_id, extract_months};
use crate::errors::{failure, input_error, record_error, tiering_error};
use crate::reader::{InputTable, ReadError, check_signals, read_table};
use crate::types::{PyCustomerState, PyRuleBook, options};
use crate::writers::{Codes, IdColumn, TablesSink, simulation_tables};

pub(crate) type Tables4 = (PyTable, PyTable, PyTable, PyTable);

/// Why a run gives no tables.
pub(crate) enum RunError {
    Read(ReadError),
    Failure(PortfolioFailure),
    /// No declared months and none in the table.
    NoMonths(String),
    Arrow(String),
    /// Ctrl-C: while reading (nothing evaluated, no tables), or after whole months were
    /// applied (their tables, raised with the interrupt as its `result`).
    Interrupted(PyErr, Option<Box<[PyTable; 4]>>),
}

impl From<ReadError> for RunError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Interrupted(e) => RunError::Interrupted(e, None),
            e => RunError::Read(e),
        }
    }
}

impl From<PortfolioFailure> for RunError {
    fn from(e: PortfolioFailure) -> Self {
        RunError::Failure(e)
    }
}

impl From<ArrowError> for RunError {
    fn from(e: ArrowError) -> Self {
        RunError::Arrow(e.to_string())
    }
}

impl RunError {
    pub(crate) fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            RunError::Read(e) => e.into_py(),
            RunError::Failure(f) => failure(py, &f),
            RunError::NoMonths(m) => input_error(py, None, None, "month", &m),
            RunError::Arrow(m) => pyo3::exceptions::PyRuntimeError::new_err(format!("arrow: {m}")),
            RunError::Interrupted(e, None) => e,
            RunError::Interrupted(e, Some(tables)) => {
                let [a, b, c, d] = *tables;
                let attach = || -> PyResult<()> {
                    let result = (a, b, c, d).into_pyobject(py)?;
                    e.value(py).setattr("result", result)?;
                    Ok(())
                };
                match attach() {
                    Ok(()) => e,
                    Err(other) => other,
                }
            }
        }
    }
}

/// Reads the tables into one extract (the one reader), with room for one record per row of
/// the AUM tables.
/// `interrupt` is called between slices of rows (Ctrl-C).
pub(crate) fn read_all(
    engine: &Engine,
    tables: &[InputTable],
    interrupt: &mut dyn FnMut() -> PyResult<()>,
) -> Result<Extract, ReadError> {
    let book = engine.rule_book();
    let mut extract = Extract::new(book);
    extract.reserve(tables.iter().filter(|t| t.kind == TableKind::Aum).map(InputTable::rows).sum());
    for t in tables {
        read_table(book, t, &mut extract, interrupt)?;
    }
    Ok(extract)
}

/// A sink that passes everything to the tables and checks for an interrupt (Ctrl-C) before
/// each month after the first: an interrupt stops the run after the whole months applied.
struct Interruptible<'s> {
    tables: &'s mut TablesSink,
    interrupt: Option<PyErr>,
}

impl PortfolioSink for Interruptible<'_> {
    fn begin_month(&mut self, month: Month) {
        self.tables.begin_month(month);
    }
    fn event(&mut self, month: Month, index: usize, customer: CustomerRef<'_>, event: &Event) {
        self.tables.event(month, index, customer, event);
    }
    fn alert(&mut self, month: Month, index: usize, customer: CustomerRef<'_>, alert: &Alert) {
        self.tables.alert(month, index, customer, alert);
    }
    fn evaluated(
        &mut self,
        month: Month,
        index: usize,
        customer: CustomerRef<'_>,
        aum: Decimal,
        has_record: bool,
        state: &CustomerState,
    ) {
        self.tables.evaluated(month, index, customer, aum, has_record, state);
    }
    fn held(&mut self, month: Month, index: Option<usize>, error: &RecordError) {
        self.tables.held(month, index, error);
    }
    fn after_month(&mut self, month: Month, states: &PortfolioStates) {
        self.tables.after_month(month, states);
    }
    fn end_month(&mut self, month: Month) {
        self.tables.end_month(month);
    }
    fn proceed(&mut self, _next: Month) -> bool {
        match check_signals() {
            Ok(()) => true,
            Err(e) => {
                self.interrupt = Some(e);
                false
            }
        }
    }
}

/// The months a history covers when the caller declares none: its first to its last dated
/// record. `None` for an extract with no record at all.
pub(crate) fn months_of(extract: &Extract) -> Result<Option<MonthRange>, RunError> {
    let dated = extract.rows().iter().filter_map(|r| r.month()).chain(extract.designations().iter().map(|d| d.month));
    let (mut first, mut last): (Option<Month>, Option<Month>) = (None, None);
    for m in dated {
        first = Some(first.map_or(m, |f| f.min(m)));
        last = Some(last.map_or(m, |l| l.max(m)));
    }
    match (first, last) {
        (Some(f), Some(l)) => MonthRange::new(f, l).map(Some).map_err(RunError::NoMonths),
        _ if !extract.fatal().is_empty() => Err(PortfolioFailure { errors: extract.fatal().to_vec() }.into()),
        _ if extract.rows().is_empty() && extract.rejected().next().is_none() => Ok(None),
        _ => Err(RunError::NoMonths("the table has no usable month: give the months to evaluate".into())),
    }
}

/// A portfolio of customers whose states are kept between months, keyed by customer id.
#[pyclass(module = "crm_tiering._native", name = "Portfolio")]
pub(crate) struct PyPortfolio {
    engine: Arc<Engine>,
    pub(crate) states: PortfolioStates,
    /// The ids of `states`, in order, as one Arrow column shared by the states tables (cleared
    /// whenever `states` is replaced).
    ids: IdColumn,
    codes: Codes,
    /// The options of every run (the constructor's), which a run's own options override.
    defaults: PortfolioOptions,
    /// The caller accepted states written under another rule book (`from_states_text`).
    accept_rule_change: bool,
}

impl PyPortfolio {
    fn build(
        py: Python<'_>,
        rules: &PyRuleBook,
        missing_months: &str,
        defaults: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let engine = Engine::with_options((*rules.book).clone(), options(py, missing_months)?);
        let codes = Codes::of(&[engine.rule_book()]);
        let mut options = PortfolioOptions::default();
        crate::options::apply(py, &mut options, defaults)?;
        Ok(PyPortfolio {
            engine: Arc::new(engine),
            states: PortfolioStates::new(),
            ids: IdColumn::default(),
            codes,
            defaults: options,
            accept_rule_change: false,
        })
    }

    /// A portfolio over `states` (read from a states text or a store) with the portfolio
    /// options of every run, stamped with the rule book that wrote them: states of another
    /// rule book are refused (`StateError`, field `rule_book`) unless `accept_rule_change`.
    pub(crate) fn with_states_options(
        py: Python<'_>,
        rules: &PyRuleBook,
        missing_months: &str,
        defaults: Option<&Bound<'_, PyDict>>,
        states: PortfolioStates,
        accept_rule_change: bool,
    ) -> PyResult<Self> {
        let mut p = Self::build(py, rules, missing_months, defaults)?;
        p.states = states;
        p.ids.clear();
        let book = p.engine.rule_book();
        if let Some(found) = p.states.rule_book()
            && found != book.fingerprint()
        {
            if !accept_rule_change {
                let e: TieringError =
                    StateError::RuleBookChanged { found: found.to_string(), expected: book.fingerprint().into() }
                        .into();
                return Err(tiering_error(&e));
            }
            p.accept_rule_change = true;
        }
        Ok(p)
    }

    /// Runs the core's portfolio month over `tables` with the GIL released, with the
    /// portfolio's options and the run's own (`options`) over them.
    ///
    /// Ctrl-C is honoured between slices of rows while reading (nothing changes: the interrupt
    /// is raised) and between the months of a range (the months evaluated stay applied, and
    /// the interrupt is raised with their tables as its `result`); an interrupt during the
    /// month's evaluation is raised after it, with its tables.
    fn run(
        &mut self,
        py: Python<'_>,
        months: Option<MonthRange>,
        (tables, supplied): (Vec<InputTable>, Vec<Supplied>),
        explain: bool,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Tables4> {
        let mut opts = self.defaults.clone();
        crate::options::apply(py, &mut opts, options)?;
        if self.accept_rule_change {
            opts.rule_book_change = RuleBookChange::Accept;
        }
        let records: usize = tables.iter().map(InputTable::rows).sum();
        let (rows, joining) = (records.max(self.states.len()), records.saturating_sub(self.states.len()));
        let (engine, states, ids, codes) = (&self.engine, &mut self.states, &mut self.ids, self.codes.clone());
        let result = py.detach(move || -> Result<[PyTable; 4], RunError> {
            let mut extract = read_all(engine, &tables, &mut check_signals)?;
            let mut sink = TablesSink::new(rows, joining, explain, codes);
            let months = match months {
                Some(m) => Some(m),
                None => months_of(&extract)?,
            };
            supply(engine.rule_book(), &mut extract, months, &supplied)?;
            let mut interrupt = None;
            if let Some(months) = months {
                let mut guarded = Interruptible { tables: &mut sink, interrupt: None };
                engine.evaluate_portfolio_with(states, months, &extract, &opts, &mut guarded)?;
                interrupt = guarded.interrupt.or_else(|| check_signals().err());
            }
            drop(extract);
            let tables = sink.finish(ids, states)?;
            match interrupt {
                Some(e) => Err(RunError::Interrupted(e, Some(Box::new(tables)))),
                None => Ok(tables),
            }
        });
        match result {
            Ok([a, b, c, d]) => {
                self.accept_rule_change = false;
                Ok((a, b, c, d))
            }
            Err(e @ RunError::Interrupted(_, Some(_))) => {
                self.accept_rule_change = false;
                Err(e.into_py(py))
            }
            Err(e) => Err(e.into_py(py)),
        }
    }
}

/// Values of a measure computed beside the tables (SPEC §20.11): the code, and each
/// customer's value.
type Supplied = (String, std::collections::HashMap<String, Decimal>);

/// `measures={"contribution": {"c1": Decimal("244.45"), ...}}` as exact values (never floats).
fn supplied_measures(measures: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<Supplied>> {
    let mut out = Vec::new();
    for (code, values) in measures.into_iter().flat_map(|m| m.iter()) {
        let code: String = code.extract()?;
        let values = values.cast::<PyDict>().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(format!("measures[{code:?}] must be a dict of customer id to value"))
        })?;
        let mut map = std::collections::HashMap::with_capacity(values.len());
        for (id, value) in values.iter() {
            let id: String = id.extract()?;
            let what = format!("measures[{code:?}][{id:?}]");
            map.insert(id, crate::convert::extract_amount(&value, &what)?);
        }
        out.push((code, map));
    }
    Ok(out)
}

/// Gives the supplied values to the records of the run's one month through the core
/// (`Extract::supply_measure`: its refusals are the run's errors).
fn supply(
    book: &crm_tiering::RuleBook,
    extract: &mut Extract,
    months: Option<MonthRange>,
    supplied: &[Supplied],
) -> Result<(), RunError> {
    if supplied.is_empty() {
        return Ok(());
    }
    let month = match months {
        Some(m) if m.first() == m.last() => m.first(),
        _ => {
            let e = crm_tiering::InputError::new("", None, "measures", "values supplied for a measure need one month");
            return Err(PortfolioFailure::from(RecordError::at(e, None)).into());
        }
    };
    for (code, values) in supplied {
        extract
            .supply_measure(book, code, month, values)
            .map_err(|e| PortfolioFailure::from(RecordError::at(e, None)))?;
    }
    Ok(())
}

/// The input tables of a run: the AUM table, designations and daily balances, each named.
fn inputs<'py>(
    table: Option<&Bound<'py, PyAny>>,
    table_name: &str,
    designations: Option<&Bound<'py, PyAny>>,
    designations_name: &str,
    daily: Option<&Bound<'py, PyAny>>,
    daily_name: &str,
) -> PyResult<Vec<InputTable>> {
    let mut out = Vec::new();
    let given = |t: Option<&Bound<'py, PyAny>>| t.filter(|t| !t.is_none()).cloned();
    if let Some(t) = given(table) {
        out.push(InputTable::from_py(&t, TableKind::Aum, table_name)?);
    }
    if let Some(t) = given(daily) {
        out.push(InputTable::from_py(&t, TableKind::Daily, daily_name)?);
    }
    if let Some(t) = given(designations) {
        out.push(InputTable::from_py(&t, TableKind::Designations, designations_name)?);
    }
    Ok(out)
}

#[pymethods]
impl PyPortfolio {
    /// A portfolio over new customers; `options` are the portfolio options of every run (the
    /// core's keys, SPEC §15), which a run's own options override.
    #[new]
    #[pyo3(signature = (rules, *, missing_months="error", **options))]
    pub(crate) fn new(
        py: Python<'_>,
        rules: &PyRuleBook,
        missing_months: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        Self::build(py, rules, missing_months, options)
    }

    /// Evaluates a declared month (`"YYYY-MM"`, a date, or a range `"YYYY-MM..YYYY-MM"`) for
    /// the AUM `table`, the `designations` and the `daily` balances, with the portfolio
    /// options `options` (the core's keys, given to its parser as text), and `measures`: per
    /// measure code, each customer's value computed beside the tables (SPEC §20.11), given to
    /// the month's records by the core. Returns the states, events, alerts and errors tables.
    #[pyo3(signature = (
        month, table=None, *, designations=None, daily=None, explain=false, table_name="aum",
        designations_name="designations", daily_name="daily", measures=None, **options
    ))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate_month(
        &mut self,
        py: Python<'_>,
        month: &Bound<'_, PyAny>,
        table: Option<&Bound<'_, PyAny>>,
        designations: Option<&Bound<'_, PyAny>>,
        daily: Option<&Bound<'_, PyAny>>,
        explain: bool,
        table_name: &str,
        designations_name: &str,
        daily_name: &str,
        measures: Option<&Bound<'_, PyDict>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Tables4> {
        let months = extract_months(month)?;
        let tables = inputs(table, table_name, designations, designations_name, daily, daily_name)?;
        let supplied = supplied_measures(measures)?;
        self.run(py, Some(months), (tables, supplied), explain, options)
    }

    /// Evaluates a history table (with a `month` column) over `months`, by default its first
    /// to its last month.
    #[pyo3(signature = (
        history, *, months=None, designations=None, explain=false, table_name="aum",
        designations_name="designations", **options
    ))]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn evaluate_history(
        &mut self,
        py: Python<'_>,
        history: &Bound<'_, PyAny>,
        months: Option<&Bound<'_, PyAny>>,
        designations: Option<&Bound<'_, PyAny>>,
        explain: bool,
        table_name: &str,
        designations_name: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Tables4> {
        let months = months.map(extract_months).transpose()?;
        let tables = inputs(Some(history), table_name, designations, designations_name, None, "daily")?;
        self.run(py, months, (tables, Vec::new()), explain, options)
    }

    /// A customer's current state, if the portfolio knows the customer.
    fn state(&self, customer_id: &str) -> Option<PyCustomerState> {
        let i = self.states.index_of(customer_id)?;
        let state = *self.states.states().get(i)?;
        Some(PyCustomerState { state, history: self.states.history(i) })
    }

    /// Sets a customer's state (for instance one stored by the bank's core system).
    #[pyo3(signature = (customer_id, state, *, legal_entity=None, kind="personal"))]
    fn set_state(
        &mut self,
        py: Python<'_>,
        customer_id: &str,
        state: &PyCustomerState,
        legal_entity: Option<String>,
        kind: &str,
    ) -> PyResult<()> {
        check_customer_id(py, customer_id)?;
        let kind: CustomerKind =
            kind.parse().map_err(|e: String| input_error(py, Some(customer_id), None, "customer_kind", &e))?;
        let customer = Customer { id: customer_id.to_string(), legal_entity, kind };
        // Replacing a customer keeps its place: rebuild the states in order.
        if self.states.get(customer_id).is_some() {
            let mut next = PortfolioStates::new();
            for (i, (c, s)) in self.states.iter().enumerate() {
                let (c, s, h) = if c.id == customer_id {
                    (customer.borrowed(), state.state, state.history.clone())
                } else {
                    (c, *s, self.states.history(i))
                };
                let at = next.insert(c, s).map_err(|e| tiering_error(&e))?;
                if !h.is_empty() {
                    next.set_history(at, &h).map_err(|e| tiering_error(&e))?;
                }
            }
            if let Some(fp) = self.states.rule_book()
                && fp == self.engine.rule_book().fingerprint()
            {
                next.set_rule_book(self.engine.rule_book());
            }
            self.states = next;
            self.ids.clear();
            return Ok(());
        }
        let at = self.states.insert(customer, state.state).map_err(|e| tiering_error(&e))?;
        if !state.history.is_empty() {
            self.states.set_history(at, &state.history).map_err(|e| tiering_error(&e))?;
        }
        Ok(())
    }

    /// The customer ids, in the portfolio's order.
    fn customer_ids(&self) -> Vec<String> {
        self.states.customers().map(|c| c.id.to_string()).collect()
    }

    /// The fingerprint of the rule book that wrote the states (none before any evaluation).
    #[getter]
    fn states_rule_book(&self) -> Option<String> {
        self.states.rule_book().map(str::to_string)
    }

    /// The states in the core's checked text form (header, one line per customer, trailer with
    /// count and SHA-256), stamped with this portfolio's rule book.
    fn to_states_text(&self, py: Python<'_>) -> PyResult<String> {
        let book = self.engine.rule_book();
        if let Some(found) = self.states.rule_book()
            && found != book.fingerprint()
            && !self.accept_rule_change
        {
            let e = StateError::RuleBookChanged { found: found.to_string(), expected: book.fingerprint().into() };
            return Err(tiering_error(&e.into()));
        }
        let _ = py;
        Ok(self.states.to_jsonl(book))
    }

    /// Reads states written by `to_states_text` (or by the CLI, C or Java). States written
    /// under another rule book are refused unless `accept_rule_change`.
    #[staticmethod]
    #[pyo3(signature = (rules, text, *, missing_months="error", accept_rule_change=false, name="states", **options))]
    fn from_states_text(
        py: Python<'_>,
        rules: &PyRuleBook,
        text: &str,
        missing_months: &str,
        accept_rule_change: bool,
        name: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let states = PortfolioStates::from_jsonl(text, name).map_err(|e| record_error(py, &e))?;
        Self::with_states_options(py, rules, missing_months, options, states, accept_rule_change)
    }

    fn __len__(&self) -> usize {
        self.states.len()
    }

    fn __repr__(&self) -> String {
        format!("Portfolio(customers={}, rules={:?})", self.states.len(), self.engine.rule_book().name())
    }
}

/// Runs the core's simulation: the same tables read against each book, over `months` (by
/// default the first book's extract's first to last month), from `states` (new customers when
/// none).
pub(crate) fn simulate_tables(
    a: &Engine,
    b: &Engine,
    tables: &[InputTable],
    months: Option<MonthRange>,
    states: &PortfolioStates,
    options: &PortfolioOptions,
) -> Result<[PyTable; 2], RunError> {
    let (xa, xb) = (read_all(a, tables, &mut check_signals)?, read_all(b, tables, &mut check_signals)?);
    let months = match months {
        Some(m) => m,
        None => match months_of(&xa)? {
            Some(m) => m,
            None => return Ok(simulation_tables(&Simulation::default())?),
        },
    };
    let sim = simulate((a, &xa), (b, &xb), states, months, options)?;
    Ok(simulation_tables(&sim)?)
}
