//! Customer contribution (贡献度, `crm-tiering-contribution`): a rule book, Arrow tables in, the
//! figures, roll-ups and lineage out as Arrow tables. Tables are read and written by the
//! crate's `arrow` feature (the core's type policy), with the GIL released while the crate
//! works; errors are mapped once, in [`crate::errors::contribution_error`].

use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, Schema, SchemaRef};
use crm_tiering::Decimal;
use crm_tiering_contribution::arrow as tables;
use crm_tiering_contribution::{
    AccountMonthTable, Contribution, ContributionError, ContributionErrors, Figures, FtpRate, FtpTable, Inputs,
    LineageLine, RuleBook, compute_table,
};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;
use pyo3_arrow::input::AnyRecordBatch;

use crate::convert::{extract_amount, extract_month, to_py_decimal, to_py_decimal_opt};
use crate::errors::contribution_error;

/// A contribution rule book (SPEC §20.2): basis, rounding, FTP rates, allocation stages,
/// provision rates, capital charge. Immutable: the `with_*` methods return a new book.
#[pyclass(module = "crm_tiering._native", name = "ContributionRules", frozen)]
#[derive(Clone)]
pub(crate) struct PyContributionRules {
    pub(crate) book: Arc<RuleBook>,
}

/// An input table collected while the GIL is held: its name, schema and batches.
struct Table {
    name: &'static str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

fn arrow_err(e: &ArrowError) -> PyErr {
    PyRuntimeError::new_err(format!("arrow: {e}"))
}

impl Table {
    fn collect(obj: &Bound<'_, PyAny>, name: &'static str) -> PyResult<Self> {
        let reader = obj.extract::<AnyRecordBatch>()?.into_reader()?;
        let schema = reader.schema();
        let batches = reader.collect::<Result<Vec<_>, ArrowError>>().map_err(|e| arrow_err(&e))?;
        Ok(Table { name, schema, batches })
    }

    fn optional(obj: Option<&Bound<'_, PyAny>>, name: &'static str) -> PyResult<Option<Self>> {
        obj.filter(|o| !o.is_none()).map(|o| Table::collect(o, name)).transpose()
    }
}

#[pymethods]
impl PyContributionRules {
    /// Reads a rule book from a TOML file (an `[ftp] file` is found beside it).
    #[staticmethod]
    fn from_path(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        let book = RuleBook::from_path(&path).map_err(|e| contribution_error(py, &e))?;
        Ok(PyContributionRules { book: Arc::new(book) })
    }

    /// Reads a rule book from TOML text.
    #[staticmethod]
    fn from_toml(py: Python<'_>, text: &str) -> PyResult<Self> {
        let book = RuleBook::from_toml_str(text).map_err(|e| contribution_error(py, &e))?;
        Ok(PyContributionRules { book: Arc::new(book) })
    }

    /// The day-count basis, 360 or 365.
    #[getter]
    fn basis(&self) -> u32 {
        self.book.basis()
    }

    /// The FTP rate table, one dict a rate (`product`, `term`, `effective` as `"YYYY-MM"`,
    /// `rate` as a `Decimal`), by product, term and month.
    fn ftp_rates<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.book
            .ftp()
            .rates()
            .map(|r| {
                let d = PyDict::new(py);
                d.set_item("product", &r.product)?;
                d.set_item("term", &r.term)?;
                d.set_item("effective", r.effective.to_string())?;
                d.set_item("rate", to_py_decimal(py, r.rate)?)?;
                Ok(d)
            })
            .collect()
    }

    /// The same book with the FTP rate table `table` (columns `product`, `term`, `effective`,
    /// `rate`) in place of its own.
    fn with_ftp_rates(&self, py: Python<'_>, table: &Bound<'_, PyAny>) -> PyResult<Self> {
        let t = Table::collect(table, "ftp_rates")?;
        let read = || -> Result<FtpTable, ContributionErrors> {
            FtpTable::new(&tables::read_ftp_rates(t.name, &t.schema, &t.batches)?)
        };
        let ftp = read().map_err(|e| contribution_error(py, &e))?;
        Ok(PyContributionRules { book: Arc::new(self.book.with_ftp(ftp)) })
    }

    /// The same book with every FTP rate moved by `shift` (a `Decimal` or str fraction:
    /// `Decimal("0.001")` is 0.1 percentage point).
    fn with_ftp_shift(&self, py: Python<'_>, shift: &Bound<'_, PyAny>) -> PyResult<Self> {
        let shift = extract_amount(shift, "ftp_shift")?;
        let rates: Vec<FtpRate> = self.book.ftp().rates().map(|r| FtpRate { rate: r.rate + shift, ..r }).collect();
        let ftp = FtpTable::new(&rates).map_err(|e| contribution_error(py, &e))?;
        Ok(PyContributionRules { book: Arc::new(self.book.with_ftp(ftp)) })
    }

    fn __repr__(&self) -> String {
        format!(
            "ContributionRules(basis={}, ftp_rates={}, stages={})",
            self.book.basis(),
            self.book.ftp().len(),
            self.book.stages().len()
        )
    }
}

/// A computed contribution month: the output tables (built once) and the figures behind them.
#[pyclass(module = "crm_tiering._native", name = "ContributionResult", frozen)]
pub(crate) struct PyContributionResult {
    result: Contribution,
    /// customers, managers, branches, legal entities, lineage, stages.
    tables: [RecordBatch; 6],
}

fn py_table(b: &RecordBatch) -> PyResult<PyTable> {
    PyTable::try_new(vec![b.clone()], b.schema())
}

fn figures<'py>(py: Python<'py>, f: &Figures) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, value) in Figures::NAMES.into_iter().zip(f.values()) {
        d.set_item(name, to_py_decimal(py, value)?)?;
    }
    Ok(d)
}

fn line<'py>(py: Python<'py>, l: &LineageLine) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let dec = |v: Option<Decimal>| to_py_decimal_opt(py, v);
    d.set_item("customer", &l.customer)?;
    d.set_item("kind", l.kind.as_str())?;
    d.set_item("account", &l.account)?;
    d.set_item("pool", &l.pool)?;
    d.set_item("stage", l.stage)?;
    d.set_item("product", &l.product)?;
    d.set_item("item", &l.item)?;
    d.set_item("balance", dec(l.balance)?)?;
    d.set_item("ftp_rate", dec(l.ftp_rate)?)?;
    d.set_item("customer_rate", dec(l.customer_rate)?)?;
    d.set_item("rate", dec(l.rate)?)?;
    d.set_item("risk_weight", dec(l.risk_weight)?)?;
    d.set_item("days", l.days)?;
    d.set_item("driver_quantity", dec(l.driver_quantity)?)?;
    d.set_item("driver_total", dec(l.driver_total)?)?;
    d.set_item("amount", to_py_decimal(py, l.amount)?)?;
    Ok(d)
}

impl PyContributionResult {
    fn table(&self, i: usize) -> PyResult<PyTable> {
        self.tables.get(i).map_or_else(|| Err(PyRuntimeError::new_err("no such table")), py_table)
    }
}

#[pymethods]
impl PyContributionResult {
    /// The month, `"YYYY-MM"`.
    #[getter]
    fn month(&self) -> String {
        self.result.month.to_string()
    }
    /// The customers' figures.
    #[getter]
    fn customers(&self) -> PyResult<PyTable> {
        self.table(0)
    }
    /// The account managers' roll-up.
    #[getter]
    fn managers(&self) -> PyResult<PyTable> {
        self.table(1)
    }
    /// The branches' roll-up.
    #[getter]
    fn branches(&self) -> PyResult<PyTable> {
        self.table(2)
    }
    /// The legal entities' roll-up.
    #[getter]
    fn legal_entities(&self) -> PyResult<PyTable> {
        self.table(3)
    }
    /// The lineage.
    #[getter]
    fn lineage(&self) -> PyResult<PyTable> {
        self.table(4)
    }
    /// What each allocation stage did.
    #[getter]
    fn stages(&self) -> PyResult<PyTable> {
        self.table(5)
    }
    /// The figures of the customers without an account manager, as a dict of `Decimal`s.
    #[getter]
    fn unassigned<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        figures(py, &self.result.unassigned)
    }
    /// A customer's figures as a dict of `Decimal`s, or `None` when the customer has none.
    fn customer<'py>(&self, py: Python<'py>, customer: &str) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.result.customer(customer).map(|c| figures(py, &c.figures)).transpose()
    }
    /// A customer's lineage lines, in order: a list of dicts whose amounts are `Decimal`s
    /// (`amount` as it enters the net contribution: the lines sum to it).
    fn explain<'py>(&self, py: Python<'py>, customer: &str) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.result.explain(customer).map(|l| line(py, l)).collect()
    }
}

/// A reader of one input table (the crate's `arrow` module).
type Reader<T> = fn(&str, &Schema, &[RecordBatch]) -> Result<Vec<T>, ContributionErrors>;

/// The records of a table (none when it is not given); its errors are added to `errors`.
fn read<T>(t: Option<&Table>, reader: Reader<T>, errors: &mut Vec<ContributionError>) -> Vec<T> {
    match t.map(|t| reader(t.name, &t.schema, &t.batches)) {
        None => Vec::new(),
        Some(Ok(records)) => records,
        Some(Err(e)) => {
            errors.extend(e.0);
            Vec::new()
        }
    }
}

/// Computes a contribution month from Arrow tables (anything with the Arrow PyCapsule
/// interface): reading, computing and writing the output tables with the GIL released. The
/// account-months are read row by row into the crate's compact table (not a list of records)
/// and computed from it, as the CLI does.
#[pyfunction]
#[pyo3(signature = (rules, month, accounts, *, fees=None, cost_pools=None, activities=None, direct_costs=None, assignments=None))]
#[allow(clippy::too_many_arguments, reason = "one argument a table, as the Python API has them")]
pub(crate) fn contribution_compute(
    py: Python<'_>,
    rules: &PyContributionRules,
    month: &Bound<'_, PyAny>,
    accounts: &Bound<'_, PyAny>,
    fees: Option<&Bound<'_, PyAny>>,
    cost_pools: Option<&Bound<'_, PyAny>>,
    activities: Option<&Bound<'_, PyAny>>,
    direct_costs: Option<&Bound<'_, PyAny>>,
    assignments: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyContributionResult> {
    let month = extract_month(month)?;
    let accounts = Table::collect(accounts, "account_months")?;
    let fees = Table::optional(fees, "fees")?;
    let pools = Table::optional(cost_pools, "cost_pools")?;
    let activities = Table::optional(activities, "activities")?;
    let direct = Table::optional(direct_costs, "direct_costs")?;
    let assignments = Table::optional(assignments, "assignments")?;
    let book = rules.book.clone();
    let run = move || -> Result<PyContributionResult, ContributionErrors> {
        let mut errors = Vec::new();
        let table = tables::read_account_month_table(accounts.name, &accounts.schema, &accounts.batches)
            .unwrap_or_else(|e| {
                errors.extend(e.0);
                AccountMonthTable::new()
            });
        drop(accounts);
        let inputs = Inputs {
            account_months: Vec::new(),
            fees: read(fees.as_ref(), tables::read_fees, &mut errors),
            cost_pools: read(pools.as_ref(), tables::read_cost_pools, &mut errors),
            activities: read(activities.as_ref(), tables::read_activities, &mut errors),
            direct_costs: read(direct.as_ref(), tables::read_direct_costs, &mut errors),
            assignments: read(assignments.as_ref(), tables::read_assignments, &mut errors),
        };
        if !errors.is_empty() {
            return Err(ContributionErrors(errors));
        }
        let result = compute_table(&book, month, &table, &inputs)?;
        drop(table);
        let one = ContributionErrors::from;
        let tables = [
            tables::customers_table(&result).map_err(one)?,
            tables::managers_table(&result).map_err(one)?,
            tables::branches_table(&result).map_err(one)?,
            tables::legal_entities_table(&result).map_err(one)?,
            tables::lineage_table(&result).map_err(one)?,
            tables::stages_table(&result).map_err(one)?,
        ];
        Ok(PyContributionResult { result, tables })
    };
    py.detach(run).map_err(|e| contribution_error(py, &e))
}
