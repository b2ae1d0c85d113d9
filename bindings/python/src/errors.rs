//! The one mapping from the core's errors to the exceptions of `crm_tiering.errors`.
//!
//! Every attribute comes from the core's accessors (category, customer, month, field, record):
//! nothing is rebuilt and no message is parsed. A whole-run failure raises the class of its
//! first error with every error attached as `.errors`.

use crm_tiering::portfolio::{PortfolioFailure, RecordError, RecordRef};
use crm_tiering::{SequenceError, TieringError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

/// The exception class of a category.
pub(crate) fn class_of(category: &str) -> &'static str {
    match category {
        "rules" => "RuleFileError",
        "input" => "InputError",
        "sequence" => "SequenceError",
        _ => "StateError",
    }
}

/// Builds an instance of one of `crm_tiering.errors`' classes.
pub(crate) fn make<'py>(
    py: Python<'py>,
    class: &str,
    message: &str,
    attrs: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    let cls = py.import("crm_tiering.errors")?.getattr(class)?;
    cls.call((message,), Some(attrs))
}

fn record<'py>(py: Python<'py>, r: Option<&RecordRef>) -> PyResult<Option<Bound<'py, PyTuple>>> {
    r.map(|r| PyTuple::new(py, [r.table.clone().into_pyobject(py)?.into_any(), r.row.into_pyobject(py)?.into_any()]))
        .transpose()
}

/// The attributes of an error: customer, month, field, and the class-specific ones.
fn attrs<'py>(
    py: Python<'py>,
    e: &TieringError,
    at: Option<&RecordRef>,
    other: Option<&RecordRef>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("customer", e.customer().filter(|c| !c.is_empty()))?;
    d.set_item("month", e.month().map(|m| m.to_string()))?;
    d.set_item("field", e.field())?;
    d.set_item("record", record(py, at)?)?;
    d.set_item("other_record", record(py, other)?)?;
    match e {
        TieringError::Rules(r) => {
            d.set_item("line", r.line)?;
            d.set_item("column", r.column)?;
        }
        TieringError::Sequence(s) => {
            let (last, expected) = match &**s {
                SequenceError::Gap { last, expected, .. } => (*last, Some(*expected)),
                SequenceError::Repeated { last, .. } | SequenceError::Portfolio { last, .. } => (*last, None),
                SequenceError::Behind { last, missing, .. } => (*last, Some(*missing)),
            };
            d.set_item("last_month", last.to_string())?;
            d.set_item("expected_month", expected.map(|m| m.to_string()))?;
        }
        _ => {}
    }
    Ok(d)
}

fn exception<'py>(py: Python<'py>, e: &RecordError) -> PyResult<Bound<'py, PyAny>> {
    let d = attrs(py, &e.error, e.record.as_ref(), e.other_record.as_ref())?;
    make(py, class_of(e.category()), &e.to_string(), &d)
}

/// The message of an error: the core's, except that an input error about no customer (a
/// table's columns, an argument) does not name an empty customer.
fn message(e: &TieringError) -> String {
    match e {
        TieringError::Input(i) if i.customer.is_empty() => format!("invalid `{}`: {}", i.field, i.message),
        _ => e.to_string(),
    }
}

/// The exception of an engine error.
pub(crate) fn tiering_error(e: &TieringError) -> PyErr {
    Python::attach(|py| {
        let build = || -> PyResult<PyErr> {
            let d = attrs(py, e, None, None)?;
            Ok(PyErr::from_value(make(py, class_of(e.category()), &message(e), &d)?))
        };
        build().unwrap_or_else(|err| err)
    })
}

/// `map_err` helper.
pub(crate) fn py_err(e: TieringError) -> PyErr {
    tiering_error(&e)
}

/// The exception of an error about a record (a states line, an input row).
pub(crate) fn record_error(py: Python<'_>, e: &RecordError) -> PyErr {
    exception(py, e).map(PyErr::from_value).unwrap_or_else(|err| err)
}

/// The exception of a whole-run failure: the first error's class, every error in `.errors`.
pub(crate) fn failure(py: Python<'_>, f: &PortfolioFailure) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let Some(first) = f.errors.first() else {
            return Ok(PyErr::from_value(make(py, "TieringError", &f.to_string(), &PyDict::new(py))?));
        };
        let all = PyList::empty(py);
        for e in &f.errors {
            all.append(exception(py, e)?)?;
        }
        let d = attrs(py, &first.error, first.record.as_ref(), first.other_record.as_ref())?;
        d.set_item("errors", all)?;
        Ok(PyErr::from_value(make(py, class_of(first.category()), &f.to_string(), &d)?))
    };
    build().unwrap_or_else(|err| err)
}

/// An `InputError` about a value given from Python (an argument, not a record): a core input
/// error, so it has the same attributes as every other.
pub(crate) fn input_error(
    _py: Python<'_>,
    customer: Option<&str>,
    month: Option<crm_tiering::Month>,
    field: &str,
    message: &str,
) -> PyErr {
    tiering_error(&crm_tiering::InputError::new(customer.unwrap_or(""), month, field, message).into())
}

/// The `InputError` of a portfolio option the core's parser refuses (an unknown key, a value
/// the key does not take): the core's message, the key as the field.
pub(crate) fn option_error(py: Python<'_>, e: &crm_tiering::portfolio::OptionError) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let d = PyDict::new(py);
        d.set_item("customer", None::<String>)?;
        d.set_item("month", None::<String>)?;
        d.set_item("field", &e.key)?;
        d.set_item("record", None::<String>)?;
        d.set_item("other_record", None::<String>)?;
        Ok(PyErr::from_value(make(py, "InputError", &e.to_string(), &d)?))
    };
    build().unwrap_or_else(|err| err)
}

/// The parts of a contribution error, as `ContributionError`'s attributes.
#[derive(Default)]
struct Parts<'a> {
    kind: &'static str,
    table: Option<&'a str>,
    row: Option<usize>,
    line: Option<usize>,
    subject: Option<String>,
    field: Option<&'a str>,
    customer: Option<&'a str>,
    month: Option<String>,
}

fn parts(e: &crm_tiering_contribution::ContributionError) -> Parts<'_> {
    use crm_tiering_contribution::ContributionError as E;
    let of = |kind, subject: String| Parts { kind, subject: Some(subject), ..Parts::default() };
    let p = match e {
        E::Rules { .. } => Parts { kind: "rules", ..Parts::default() },
        E::Table { table, line, .. } => {
            Parts { kind: "table", table: Some(table), line: Some(*line), ..Parts::default() }
        }
        E::Arrow { table, row, .. } => Parts { kind: "table", table: Some(table), row: *row, ..Parts::default() },
        E::Record { record, .. } => of("record", record.clone()),
        E::RateGap { account, month, .. } => {
            Parts { month: Some(month.to_string()), ..of("rate_gap", format!("account {account}")) }
        }
        E::UnknownProduct { account, .. } => of("unknown_product", format!("account {account}")),
        E::DuplicateAccountMonth { account, month } => {
            Parts { month: Some(month.to_string()), ..of("duplicate", format!("account {account}")) }
        }
        E::Shares { customer, .. } => of("shares", format!("customer {customer}")),
        E::ZeroDriver { pool, .. } => of("zero_driver", format!("pool {pool}")),
        E::Conservation { what, .. } => of("conservation", what.clone()),
        E::TooLarge { what } => of("too_large", what.clone()),
    };
    // The field and customer are the crate's (one mapping for every binding).
    Parts { field: e.field(), customer: e.customer(), ..p }
}

/// The attributes of one contribution error: `kind`, `table`, `row` (0-based, an Arrow
/// table's), `line` (a CSV table's), `subject` (the record: `account a1`, `customer c1`,
/// `pool counter`), `field`, `customer`, `month`, and `record` as `(table, row)` for a row of
/// an input table.
fn contribution_attrs<'py>(
    py: Python<'py>,
    e: &crm_tiering_contribution::ContributionError,
) -> PyResult<Bound<'py, PyDict>> {
    let p = parts(e);
    let d = PyDict::new(py);
    d.set_item("kind", p.kind)?;
    d.set_item("table", p.table)?;
    d.set_item("row", p.row)?;
    d.set_item("line", p.line)?;
    d.set_item("subject", p.subject)?;
    d.set_item("field", p.field)?;
    d.set_item("customer", p.customer)?;
    d.set_item("month", p.month)?;
    let record = match (p.table, p.row) {
        (Some(t), Some(r)) => {
            Some(PyTuple::new(py, [t.into_pyobject(py)?.into_any(), r.into_pyobject(py)?.into_any()])?)
        }
        _ => None,
    };
    d.set_item("record", record)?;
    d.set_item("other_record", None::<String>)?;
    Ok(d)
}

/// The exception of a contribution run or rule book that failed: a `ContributionError` with
/// the first error's attributes and every error, each a `ContributionError`, in `.errors`.
pub(crate) fn contribution_error(py: Python<'_>, e: &crm_tiering_contribution::ContributionErrors) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let all = PyList::empty(py);
        for one in e.errors() {
            all.append(make(py, "ContributionError", &one.to_string(), &contribution_attrs(py, one)?)?)?;
        }
        let d = match e.errors().first() {
            Some(first) => contribution_attrs(py, first)?,
            None => PyDict::new(py),
        };
        d.set_item("errors", all)?;
        Ok(PyErr::from_value(make(py, "ContributionError", &e.to_string(), &d)?))
    };
    build().unwrap_or_else(|err| err)
}
