//! `Store`: the month-end store (`crates/crm-tiering-store`: a SQLite file or a PostgreSQL
//! database the CLI's `run` commits into) read from Python, as Arrow tables with the same
//! columns as a `Portfolio`'s results, and a `Portfolio` continuing from its latest committed
//! states.
//!
//! Every read runs with the GIL released. Store errors are `crm_tiering.errors.StoreError`
//! (`.kind` is the store's error kind); a month or customer given from Python that the store
//! does not hold is an `InputError`.

use std::sync::{Arc, Mutex};

use arrow_schema::ArrowError;
use crm_tiering::portfolio::{MonthRange, PortfolioStates, simulate};
use crm_tiering::{Month, RuleBook};
use crm_tiering_store::{OpenMode, RunStatus, Store, StoreError, StoreErrorKind};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;

use crm_tiering::Engine;
use crm_tiering::portfolio::{Absent, PortfolioFailure, PortfolioOptions, RuleBookChange, TableKind};
use crm_tiering_store::{MonthResults, RunMeta};

use crate::convert::{check_customer_id, extract_month, extract_months};
use crate::errors::{failure, input_error, make};
use crate::portfolio::{PyPortfolio, Tables4, read_all};
use crate::reader::{InputTable, ReadError};
use crate::store_tables::{baseline_table, loan_month_missing, loan_tables, rejects_table, runs_table};
use crate::types::{PyRuleBook, options};
use crate::writers::{Codes, IdColumn, RowTables, TablesSink, Tee};

/// The `kind` attribute of a `StoreError`.
fn kind_name(k: StoreErrorKind) -> &'static str {
    match k {
        StoreErrorKind::Missing => "missing",
        StoreErrorKind::Exists => "exists",
        StoreErrorKind::Locked => "locked",
        StoreErrorKind::AlreadyCommitted => "already_committed",
        StoreErrorKind::Sequence => "sequence",
        StoreErrorKind::Schema => "schema",
        StoreErrorKind::ReadOnly => "read_only",
        StoreErrorKind::Corrupt => "corrupt",
        StoreErrorKind::Input => "input",
        StoreErrorKind::Database => "database",
    }
}

fn store_exception(py: Python<'_>, kind: &str, message: &str) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let d = PyDict::new(py);
        d.set_item("kind", kind)?;
        Ok(PyErr::from_value(make(py, "StoreError", message, &d)?))
    };
    build().unwrap_or_else(|e| e)
}

/// Why a read gives nothing.
enum Fail {
    Store(StoreError),
    Arrow(ArrowError),
    /// A month given from Python that is not committed.
    NotCommitted(Month, Vec<Month>),
    /// A customer the store has no row of.
    NoCustomer(String),
    /// A range of months the store does not hold whole.
    Range(String),
    Closed,
    /// An input table that cannot be read.
    Read(ReadError),
    /// A month that cannot run (with every error), or held customers without `skip_bad_rows`.
    Run(PortfolioFailure),
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

impl From<ArrowError> for Fail {
    fn from(e: ArrowError) -> Self {
        Fail::Arrow(e)
    }
}

fn committed_text(months: &[Month]) -> String {
    match months {
        [] => "the store has no committed month".into(),
        [one] => format!("the store holds {one} only"),
        [first, .., last] => format!("the store holds {} months, {first}..{last}", months.len()),
    }
}

impl Fail {
    fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            Fail::Store(e) => store_exception(py, kind_name(e.kind()), &e.to_string()),
            Fail::Arrow(e) => pyo3::exceptions::PyRuntimeError::new_err(format!("arrow: {e}")),
            Fail::NotCommitted(m, months) => input_error(
                py,
                None,
                Some(m),
                "month",
                &format!("month {m} is not committed in the store ({})", committed_text(&months)),
            ),
            Fail::NoCustomer(id) => input_error(
                py,
                Some(&id),
                None,
                "customer_id",
                "the store holds no state, event or alert of the customer",
            ),
            Fail::Range(why) => input_error(py, None, None, "months", &why),
            Fail::Closed => pyo3::exceptions::PyValueError::new_err("the store is closed"),
            Fail::Read(e) => e.into_py(),
            Fail::Run(f) => failure(py, &f),
        }
    }
}

/// The months a read covers: the latest committed month when none is given; a single month
/// must be committed, a range gives the committed months in it.
enum Months {
    Latest,
    Given(MonthRange),
}

impl Months {
    fn of(months: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(match months.filter(|m| !m.is_none()) {
            None => Months::Latest,
            Some(m) => Months::Given(extract_months(m)?),
        })
    }

    /// The range to read; none when the store has no committed month (empty tables).
    fn resolve(&self, store: &mut Store) -> Result<Option<MonthRange>, Fail> {
        let committed = store.committed_months()?;
        match self {
            Months::Latest => match committed.last() {
                Some(&m) => Ok(Some(MonthRange::single(m).map_err(StoreError::Input)?)),
                None => Ok(None),
            },
            Months::Given(r) if r.first() == r.last() && !committed.contains(&r.first()) => {
                Err(Fail::NotCommitted(r.first(), committed))
            }
            Months::Given(r) => Ok(Some(*r)),
        }
    }
}

/// The tier codes of the rule books of the runs that committed the months in `range` (every
/// committed month when none), in their books' order: the dictionaries of the tier columns.
fn codes_for(store: &mut Store, range: Option<MonthRange>) -> Result<Codes, Fail> {
    let mut seen: Vec<String> = Vec::new();
    let mut books: Vec<RuleBook> = Vec::new();
    for run in store.runs()? {
        if run.status != RunStatus::Committed
            || range.is_some_and(|r| !r.contains(run.month))
            || seen.contains(&run.rule_book_fingerprint)
        {
            continue;
        }
        seen.push(run.rule_book_fingerprint.clone());
        if let Some(text) = store.run_rule_book(run.run_id)? {
            let book = RuleBook::from_str_auto(&text)
                .map_err(|e| StoreError::Corrupt(format!("the rule book of run {} does not load: {e}", run.run_id)))?;
            books.push(book);
        }
    }
    let refs: Vec<&RuleBook> = books.iter().collect();
    Ok(Codes::of(&refs))
}

/// The input tables of a month, each named.
fn month_tables(
    table: Option<&Bound<'_, PyAny>>,
    table_name: &str,
    designations: Option<&Bound<'_, PyAny>>,
    designations_name: &str,
    daily: Option<&Bound<'_, PyAny>>,
    daily_name: &str,
) -> PyResult<Vec<InputTable>> {
    let mut out = Vec::new();
    for (t, kind, name) in [
        (table, TableKind::Aum, table_name),
        (daily, TableKind::Daily, daily_name),
        (designations, TableKind::Designations, designations_name),
    ] {
        if let Some(t) = t.filter(|t| !t.is_none()) {
            out.push(InputTable::from_py(t, kind, name)?);
        }
    }
    Ok(out)
}

/// The month-end store: committed months of states, events, alerts and rejects, and the audit
/// of the runs that wrote them.
#[pyclass(module = "crm_tiering._native", name = "Store")]
pub(crate) struct PyStore {
    store: Mutex<Option<Store>>,
    location: String,
}

impl PyStore {
    /// Runs `f` on the store with the GIL released.
    fn with<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&mut Store) -> Result<T, Fail> + Send) -> PyResult<T> {
        let store = &self.store;
        let result = py.detach(move || {
            let mut guard = store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match guard.as_mut() {
                Some(s) => f(s),
                None => Err(Fail::Closed),
            }
        });
        result.map_err(|e| e.into_py(py))
    }
}

#[pymethods]
impl PyStore {
    /// Opens the existing store at `location`: a SQLite file path or a `postgres://` URL
    /// (`read_only`: nothing is ever written, so a store the user cannot write opens too). A
    /// location without a store is refused (`StoreError`, kind `missing`), never made:
    /// `create` makes a new store and refuses one that exists (kind `exists`).
    #[new]
    #[pyo3(signature = (location, *, create=false, read_only=false))]
    fn new(py: Python<'_>, location: &str, create: bool, read_only: bool) -> PyResult<Self> {
        let mode = match (create, read_only) {
            (true, false) => OpenMode::Create,
            (true, true) => {
                return Err(pyo3::exceptions::PyValueError::new_err("create and read_only cannot go together"));
            }
            (false, true) => OpenMode::ReadOnly,
            (false, false) => OpenMode::ReadWrite,
        };
        let location = location.to_string();
        let store = py.detach(move || Store::open_with(&location, mode)).map_err(|e| Fail::Store(e).into_py(py))?;
        let location = store.location().to_string();
        Ok(PyStore { store: Mutex::new(Some(store)), location })
    }

    /// Where the store is (a PostgreSQL URL without its password).
    #[getter]
    fn location(&self) -> String {
        self.location.clone()
    }

    /// The store's portfolio id (random, made when the store was created).
    #[getter]
    fn portfolio_id(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |s| Ok(s.portfolio_id().to_string()))
    }

    /// Evaluates the declared `month` for the input tables from the store's latest committed
    /// states, read under the store's lock, and commits it: the same month protocol as the
    /// CLI's `run` (`commit_portfolio_month`). Held customers raise with every error and commit
    /// nothing, unless `skip_bad_rows` (then they are kept as the run's rejects). Returns the
    /// run id and the month's states, events, alerts and errors tables.
    #[pyo3(signature = (
        rules, month, table=None, *, designations=None, daily=None, rerun=false, missing_months="error",
        absent="zero", accept_rule_change=false, skip_bad_rows=false, threads=1, explain=false,
        table_name="aum", designations_name="designations", daily_name="daily"
    ))]
    #[allow(clippy::too_many_arguments)]
    fn commit_month(
        &self,
        py: Python<'_>,
        rules: &PyRuleBook,
        month: &Bound<'_, PyAny>,
        table: Option<&Bound<'_, PyAny>>,
        designations: Option<&Bound<'_, PyAny>>,
        daily: Option<&Bound<'_, PyAny>>,
        rerun: bool,
        missing_months: &str,
        absent: &str,
        accept_rule_change: bool,
        skip_bad_rows: bool,
        threads: usize,
        explain: bool,
        table_name: &str,
        designations_name: &str,
        daily_name: &str,
    ) -> PyResult<(i64, Tables4)> {
        let month = extract_month(month)?;
        let range = MonthRange::single(month).map_err(|e| input_error(py, None, Some(month), "month", &e))?;
        let tables = month_tables(table, table_name, designations, designations_name, daily, daily_name)?;
        let engine = Engine::with_options((*rules.book).clone(), options(py, missing_months)?);
        let absent: Absent = absent.parse().map_err(|e: String| input_error(py, None, None, "absent", &e))?;
        let book = engine.rule_book();
        let text = book.to_json();
        if RuleBook::from_str_auto(&text).map(|b| b.fingerprint() == book.fingerprint()) != Ok(true) {
            return Err(pyo3::exceptions::PyRuntimeError::new_err("the rule book's JSON does not reload to it"));
        }
        let mut meta =
            RunMeta::new(concat!("crm-tiering-python ", env!("CARGO_PKG_VERSION")), book.fingerprint(), &text);
        meta.rerun = rerun;
        let options = PortfolioOptions {
            absent,
            rule_book_change: if accept_rule_change { RuleBookChange::Accept } else { RuleBookChange::Refuse },
            threads: threads.max(1),
            ..PortfolioOptions::default()
        };
        let rows: usize = tables.iter().map(InputTable::rows).sum();
        self.with(py, move |s| {
            let mut w = s.begin_month(month, meta)?;
            let mut states = w.previous_states()?.map(|l| l.states).unwrap_or_default();
            let extract = match read_all(&engine, &tables, &mut crate::reader::check_signals) {
                Ok(x) => x,
                Err(e) => {
                    let _ = w.abort("an input table cannot be read");
                    return Err(Fail::Read(e));
                }
            };
            let joining = rows.saturating_sub(states.len());
            let mut sink = TablesSink::new(rows.max(states.len()), joining, explain, Codes::of(&[engine.rule_book()]));
            let mut results = MonthResults::new(month);
            if let Err(f) = engine.evaluate_portfolio_with(
                &mut states,
                range,
                &extract,
                &options,
                &mut Tee(&mut sink, &mut results),
            ) {
                let _ = w.abort(&f.to_string());
                return Err(Fail::Run(f));
            }
            drop(extract);
            if !results.held.is_empty() && !skip_bad_rows {
                let f = PortfolioFailure { errors: results.held.clone() };
                let _ = w.abort(&format!("{} customer(s) held back, and skip_bad_rows was not given", f.errors.len()));
                return Err(Fail::Run(f));
            }
            let run = w.commit_portfolio_month(&states, &results)?;
            let [a, b, c, d] = sink.finish(&mut IdColumn::default(), &states)?;
            Ok((run.run_id, (a, b, c, d)))
        })
    }

    /// Undoes the latest committed month (`month` must name it): its runs are audited as
    /// `rolled_back` with `who`, its rows leave the store. Returns the run ids rolled back.
    #[pyo3(signature = (month, *, who=None))]
    fn rollback(&self, py: Python<'_>, month: &Bound<'_, PyAny>, who: Option<String>) -> PyResult<Vec<i64>> {
        let month = extract_month(month)?;
        let who = who.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "a Python caller".to_string());
        self.with(py, move |s| Ok(s.rollback_month(month, &who)?.runs))
    }

    /// The committed months, in order, as `"YYYY-MM"`.
    fn months(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let months = self.with(py, |s| Ok(s.committed_months()?))?;
        Ok(months.iter().map(Month::to_string).collect())
    }

    /// Every run, oldest first, with its audit data.
    fn runs(&self, py: Python<'_>) -> PyResult<PyTable> {
        self.with(py, |s| Ok(runs_table(&s.runs()?)?))
    }

    /// The rule book a run used: by default the run that committed the latest month (none for
    /// an empty store).
    #[pyo3(signature = (run_id=None))]
    fn rule_book(&self, py: Python<'_>, run_id: Option<i64>) -> PyResult<Option<PyRuleBook>> {
        let text = self.with(py, move |s| {
            let run_id = match run_id {
                Some(id) => Some(id),
                None => {
                    let latest = s.committed_months()?.last().copied();
                    s.runs()?
                        .iter()
                        .rev()
                        .find(|r| Some(r.month) == latest && r.status == RunStatus::Committed)
                        .map(|r| r.run_id)
                }
            };
            match run_id {
                Some(id) => Ok(s.run_rule_book(id)?),
                None => Ok(None),
            }
        })?;
        text.map(|t| {
            RuleBook::from_str_auto(&t).map(|b| PyRuleBook { book: Arc::new(b) }).map_err(|e| {
                store_exception(py, "corrupt", &format!("the store is damaged: the rule book does not load: {e}"))
            })
        })
        .transpose()
    }

    /// The states after the committed `months` (a month or a range; by default the latest
    /// committed month): one row per customer and month, the columns of a `Portfolio`'s
    /// states table (`aum` and `has_record` null for a customer held back that month).
    #[pyo3(signature = (months=None))]
    fn states(&self, py: Python<'_>, months: Option<&Bound<'_, PyAny>>) -> PyResult<PyTable> {
        let months = Months::of(months)?;
        self.with(py, move |s| {
            let range = months.resolve(s)?;
            let codes = codes_for(s, range)?;
            // Room from the months' records in the chain (checked), not from the audit's counts.
            let rows: u64 = match range {
                Some(r) => s.months()?.iter().filter(|x| r.contains(x.month)).map(|x| x.states.count).sum(),
                None => 0,
            };
            let mut t = RowTables::new(usize::try_from(rows).unwrap_or(0).min(1 << 26), 0, 0, false, codes);
            if let Some(r) = range {
                s.for_each_state(r.first(), r.last(), &mut |row| {
                    t.state(row.month, &row.customer, row.evaluated, (&row.state, &row.history));
                    Ok(())
                })?;
            }
            let [states, _, _] = t.finish()?;
            Ok(states)
        })
    }

    /// The events of the committed `months` (by default the latest committed month).
    #[pyo3(signature = (months=None, *, explain=false))]
    fn events(&self, py: Python<'_>, months: Option<&Bound<'_, PyAny>>, explain: bool) -> PyResult<PyTable> {
        let months = Months::of(months)?;
        self.with(py, move |s| {
            let range = months.resolve(s)?;
            let codes = codes_for(s, range)?;
            let rows = match range {
                Some(r) => s.events(r.first(), r.last())?,
                None => Vec::new(),
            };
            let mut t = RowTables::new(0, rows.len(), 0, explain, codes);
            for r in &rows {
                t.event(&r.customer_id, &r.event);
            }
            let [_, events, _] = t.finish()?;
            Ok(events)
        })
    }

    /// The alerts of the committed `months` (by default the latest committed month).
    #[pyo3(signature = (months=None))]
    fn alerts(&self, py: Python<'_>, months: Option<&Bound<'_, PyAny>>) -> PyResult<PyTable> {
        let months = Months::of(months)?;
        self.with(py, move |s| {
            let range = months.resolve(s)?;
            let codes = codes_for(s, range)?;
            let rows = match range {
                Some(r) => s.alerts(r.first(), r.last())?,
                None => Vec::new(),
            };
            let mut t = RowTables::new(0, 0, rows.len(), false, codes);
            for r in &rows {
                t.alert(&r.customer_id, &r.alert);
            }
            let [_, _, alerts] = t.finish()?;
            Ok(alerts)
        })
    }

    /// The rejects (customers held back, records refused) of the runs that committed `months`
    /// (by default the latest committed month).
    #[pyo3(signature = (months=None))]
    fn rejects(&self, py: Python<'_>, months: Option<&Bound<'_, PyAny>>) -> PyResult<PyTable> {
        let months = Months::of(months)?;
        self.with(py, move |s| {
            let rows = match months.resolve(s)? {
                Some(r) => s.rejects(r.first(), r.last())?,
                None => Vec::new(),
            };
            Ok(rejects_table(&rows)?)
        })
    }

    /// The stored loan months (SPEC §21.10), in order, as `"YYYY-MM"`.
    fn loan_months(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        Ok(self.with(py, |s| Ok(s.loan_months()?))?.iter().map(Month::to_string).collect())
    }

    /// The customers, loans and signals tables (the core's loan tables, SPEC §21.11) of the
    /// stored loan `months` (by default the latest stored loan month; a single month must be
    /// stored, a range gives the stored loan months in it).
    #[pyo3(signature = (months=None))]
    fn loans(&self, py: Python<'_>, months: Option<&Bound<'_, PyAny>>) -> PyResult<(PyTable, PyTable, PyTable)> {
        let months = Months::of(months)?;
        self.with(py, move |s| {
            let stored = s.loan_months()?;
            let range = match months {
                Months::Latest => stored.last().map(|&m| (m, m)),
                Months::Given(r) if r.first() == r.last() && !stored.contains(&r.first()) => {
                    return Err(Fail::Range(loan_month_missing(r.first(), &stored)));
                }
                Months::Given(r) => Some((r.first(), r.last())),
            };
            let outcomes = match range {
                Some((first, last)) => s.loan_range(first, last)?,
                None => Vec::new(),
            };
            Ok(loan_tables(&outcomes)?)
        })
    }

    /// One customer's history across every committed month: its states, events and alerts
    /// tables. A customer the store does not hold is an `InputError`.
    fn history(&self, py: Python<'_>, customer_id: &str) -> PyResult<(PyTable, PyTable, PyTable)> {
        check_customer_id(py, customer_id)?;
        let id = customer_id.to_string();
        let [a, b, c] = self.with(py, move |s| {
            let h = s.customer_history(&id)?;
            if h.states.is_empty() && h.events.is_empty() && h.alerts.is_empty() {
                return Err(Fail::NoCustomer(id));
            }
            let codes = codes_for(s, None)?;
            let mut t = RowTables::new(h.states.len(), h.events.len(), h.alerts.len(), true, codes);
            for r in &h.states {
                t.state(r.month, &r.customer, r.evaluated, (&r.state, &r.history));
            }
            for e in &h.events {
                t.event(&id, e);
            }
            for a in &h.alerts {
                t.alert(&id, a);
            }
            Ok(t.finish()?)
        })?;
        Ok((a, b, c))
    }

    /// A `Portfolio` over the latest committed states (new customers for an empty store),
    /// evaluating the months after them under `rules`, with `options` (the portfolio options,
    /// as `Portfolio` takes them) for every run. States written under another rule book are
    /// refused (`StateError`, field `rule_book`) unless `accept_rule_change`.
    #[pyo3(signature = (rules, *, missing_months="error", accept_rule_change=false, **options))]
    fn portfolio(
        &self,
        py: Python<'_>,
        rules: &PyRuleBook,
        missing_months: &str,
        accept_rule_change: bool,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyPortfolio> {
        let latest = self.with(py, |s| Ok(s.latest_states()?))?;
        let states = latest.map(|l| l.states).unwrap_or_else(PortfolioStates::new);
        PyPortfolio::with_states_options(py, rules, missing_months, options, states, accept_rule_change)
    }

    /// Replays the committed `months` under rule book A (`rules_a`; by default the book that
    /// committed the last of them) and `rules_b`, from the states before them, with the AUM,
    /// designations and held customers the store holds (SPEC §15.9): the counts and changes
    /// tables of `simulate`, and the baseline differences (where A's replay is not what was
    /// committed). A month of the range that is not committed is an `InputError`.
    #[pyo3(signature = (rules_b, months, *, rules_a=None, missing_months="error", **options))]
    fn simulate(
        &self,
        py: Python<'_>,
        rules_b: &PyRuleBook,
        months: &Bound<'_, PyAny>,
        rules_a: Option<&PyRuleBook>,
        missing_months: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<(PyTable, PyTable, PyTable)> {
        let range = extract_months(months)?;
        let engine_options = crate::types::options(py, missing_months)?;
        let mut portfolio_options = PortfolioOptions::default();
        crate::options::apply(py, &mut portfolio_options, options)?;
        let stored = self.with(py, move |s| {
            s.stored_range(range).map_err(|e| match e.kind() {
                StoreErrorKind::Input => Fail::Range(e.to_string()),
                _ => Fail::Store(e),
            })
        })?;
        let book_a = match rules_a {
            Some(r) => (*r.book).clone(),
            None => RuleBook::from_str_auto(&stored.rule_book).map_err(crate::errors::py_err)?,
        };
        let a = Engine::with_options(book_a, engine_options);
        let b = Engine::with_options((*rules_b.book).clone(), engine_options);
        let result = py.detach(move || -> Result<(PyTable, PyTable, PyTable), Fail> {
            let mut stored = stored;
            let start = stored.start.take().map(|s| s.states).unwrap_or_default();
            let sim = simulate((&a, &stored.extract), (&b, &stored.extract), &start, range, &portfolio_options)
                .map_err(Fail::Run)?;
            let [counts, changes] = crate::writers::simulation_tables(&sim)?;
            let baseline = baseline_table(&sim.baseline_differences(&stored.committed))?;
            Ok((counts, changes, baseline))
        });
        result.map_err(|e| e.into_py(py))
    }

    /// Closes the connection; any later read raises `ValueError`.
    fn close(&self, py: Python<'_>) {
        let store = &self.store;
        py.detach(move || {
            let mut guard = store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            guard.take();
        });
    }

    fn __repr__(&self) -> String {
        format!("Store({:?})", self.location)
    }
}
