//! The one reader of input tables: an Arrow table (anything with the Arrow PyCapsule
//! interface: pyarrow, polars, pandas >= 2.2) is resolved with the core's
//! [`Columns::resolve`] (so component columns, Chinese names and every column rule are the
//! core's) and each row is pushed into the core's [`Extract`], as row `k` (0-based) of a named
//! table.
//!
//! AUM tables whose amounts are `decimal128`/`decimal256` or integers are pushed as typed
//! values ([`Extract::push_aum`]); every other table goes through the core's text reader
//! ([`Extract::push_cells`]) cell by cell, exactly as the CLI reads a CSV extract.

use std::borrow::Cow;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type};
use arrow_array::{Array, ArrayRef, PrimitiveArray, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType};
use chrono::NaiveDate;
use crm_tiering::portfolio::{ColumnRole, Columns, Extract, TableKind};
use crm_tiering::{AumInput, ComponentAmount, CustomerKind, Decimal, Month, RuleBook, TieringError, parse_amount};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3_arrow::input::AnyRecordBatch;

use crate::errors::tiering_error;

/// An input table, collected while the GIL is held (Arrow data is not copied).
pub(crate) struct InputTable {
    /// The name records are reported under (`aum`, `designations`, or the caller's).
    pub(crate) name: String,
    pub(crate) kind: TableKind,
    pub(crate) batches: Vec<RecordBatch>,
    /// Or text cells under a header, as `csv.reader` gives them (rows may be malformed).
    pub(crate) cells: Option<(Vec<String>, Vec<Vec<String>>)>,
}

impl InputTable {
    /// Collects the batches of a table-like object. Needs the GIL.
    pub(crate) fn collect(table: AnyRecordBatch, kind: TableKind, name: &str) -> PyResult<Self> {
        let reader = table.into_reader()?;
        let batches = reader
            .collect::<Result<Vec<_>, ArrowError>>()
            .map_err(|e| PyRuntimeError::new_err(format!("arrow: {e}")))?;
        Ok(InputTable { name: name.to_string(), kind, batches, cells: None })
    }

    /// A table given from Python: an object with the Arrow PyCapsule interface, or a
    /// `(header, rows)` pair of text cells (a list of column names and an iterable of rows,
    /// each a sequence of `str`, as `csv.reader` gives them; a `[header, rows]` list too).
    pub(crate) fn from_py(obj: &Bound<'_, PyAny>, kind: TableKind, name: &str) -> PyResult<Self> {
        let pair = match (obj.cast::<pyo3::types::PyTuple>(), obj.cast::<pyo3::types::PyList>()) {
            (Ok(t), _) if t.len() == 2 => Some((t.get_item(0)?, t.get_item(1)?)),
            (Ok(_), _) => return Err(PyTypeError::new_err("a table of text cells is a (header, rows) pair")),
            // A list [header, rows], as json.load gives the pair.
            (_, Ok(l)) if l.len() == 2 && l.get_item(0)?.is_instance_of::<pyo3::types::PyList>() => {
                Some((l.get_item(0)?, l.get_item(1)?))
            }
            _ => None,
        };
        if let Some((header, body)) = pair {
            let header: Vec<String> = header.extract()?;
            let mut rows = Vec::new();
            for row in body.try_iter()? {
                let row = row?;
                if row.is_instance_of::<pyo3::types::PyString>() {
                    return Err(PyTypeError::new_err("each row of a table of text cells is a sequence of str"));
                }
                let cells: Vec<String> = row.extract().map_err(|_| {
                    PyTypeError::new_err("each cell of a table of text cells is a str (amounts as text, never floats)")
                })?;
                rows.push(cells);
            }
            return Ok(InputTable { name: name.to_string(), kind, batches: Vec::new(), cells: Some((header, rows)) });
        }
        Self::collect(obj.extract::<AnyRecordBatch>()?, kind, name)
    }

    /// The number of rows.
    pub(crate) fn rows(&self) -> usize {
        match &self.cells {
            Some((_, rows)) => rows.len(),
            None => self.batches.iter().map(RecordBatch::num_rows).sum(),
        }
    }
}

/// A table that cannot be read at all, raised once the GIL is held again.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// A column whose type cannot hold what it should (a float amount, a timezone-aware
    /// timestamp): `TypeError`.
    Type(String),
    /// The header does not resolve (unknown, repeated or missing column): the core's error.
    Columns(TieringError),
    /// Arrow failed.
    Arrow(String),
}

impl From<ArrowError> for ReadError {
    fn from(e: ArrowError) -> Self {
        ReadError::Arrow(e.to_string())
    }
}

impl ReadError {
    pub(crate) fn into_py(self) -> PyErr {
        match self {
            ReadError::Type(m) => PyTypeError::new_err(m),
            ReadError::Columns(e) => tiering_error(&e),
            ReadError::Arrow(m) => PyRuntimeError::new_err(format!("arrow: {m}")),
        }
    }
}

/// A column's values, in one of the forms the reader handles.
enum Values {
    Text(StringArray),
    Decimal(PrimitiveArray<Decimal128Type>, u32),
    Date(PrimitiveArray<Date32Type>),
}

fn is_amount(role: Option<&ColumnRole>) -> bool {
    matches!(role, Some(ColumnRole::Aum | ColumnRole::ComponentAverage(_) | ColumnRole::Balance))
}

const USE_DECIMAL: &str = "money is exact in crm_tiering, use decimal128 or strings \
     (pyarrow: pa.decimal128(20, 2); polars: pl.Decimal(20, 2); pandas: Decimal objects or str)";

impl Values {
    fn of(col: &ArrayRef, name: &str, role: Option<&ColumnRole>, fen: bool) -> Result<Self, ReadError> {
        let text = |c: &ArrayRef| -> Result<Values, ReadError> {
            Ok(Values::Text(arrow_cast::cast(c, &DataType::Utf8)?.as_string::<i32>().clone()))
        };
        Ok(match col.data_type() {
            DataType::Utf8 => Values::Text(col.as_string::<i32>().clone()),
            DataType::Null => Values::Text(StringArray::new_null(col.len())),
            DataType::Float16 | DataType::Float32 | DataType::Float64 => {
                return Err(ReadError::Type(if is_amount(role) {
                    format!("{} ({USE_DECIMAL})", Columns::float_amount_message(name))
                } else {
                    format!("column `{name}` is {}: use strings", col.data_type())
                }));
            }
            DataType::Timestamp(_, Some(tz)) => {
                return Err(ReadError::Type(format!(
                    "column `{name}` holds timezone-aware timestamps ({tz}): a month depends on the zone; \
                     convert to the bank's zone and give dates or \"YYYY-MM\" strings"
                )));
            }
            DataType::Decimal128(_, s) if is_amount(role) && (0..=28).contains(s) => {
                Values::Decimal(col.as_primitive::<Decimal128Type>().clone(), *s as u32)
            }
            DataType::Decimal128(p, s) if is_amount(role) && *s < 0 => {
                let c = arrow_cast::cast(col, &DataType::Decimal128((*p).max(1), 0))?;
                Values::Decimal(c.as_primitive::<Decimal128Type>().clone(), 0)
            }
            DataType::Decimal256(_, s) if is_amount(role) && (0..=28).contains(s) => {
                let c = arrow_cast::cast(col, &DataType::Decimal128(38, *s))?;
                Values::Decimal(c.as_primitive::<Decimal128Type>().clone(), *s as u32)
            }
            DataType::Decimal128(..) | DataType::Decimal256(..) if is_amount(role) => {
                return Err(ReadError::Type(format!("column `{name}` is {}: at most 28 decimals", col.data_type())));
            }
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
                if is_amount(role) =>
            {
                // Integer amounts only in a `<name>_fen` column, as fen: the core's rule.
                if !fen {
                    return Err(ReadError::Type(Columns::integer_amount_message(name)));
                }
                let c = arrow_cast::cast(col, &DataType::Int64)?;
                let c = arrow_cast::cast(&c, &DataType::Decimal128(20, 0))?;
                let fen: arrow_array::Decimal128Array =
                    c.as_primitive::<Decimal128Type>().clone().with_precision_and_scale(20, 2)?;
                Values::Decimal(fen, 2)
            }
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, None)
                if matches!(role, Some(ColumnRole::Month | ColumnRole::Date)) =>
            {
                Values::Date(arrow_cast::cast(col, &DataType::Date32)?.as_primitive::<Date32Type>().clone())
            }
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, None) => {
                return Err(ReadError::Type(format!("column `{name}` holds dates: use strings")));
            }
            _ => text(col)
                .map_err(|_| ReadError::Type(format!("column `{name}` is {}: use strings", col.data_type())))?,
        })
    }

    fn is_typed_amount(&self) -> bool {
        matches!(self, Values::Decimal(..))
    }

    /// The text of a cell (empty when null), as a CSV extract would hold it.
    fn text(&self, i: usize, role: Option<&ColumnRole>) -> Cow<'_, str> {
        match self {
            Values::Text(a) => Cow::Borrowed(if a.is_null(i) { "" } else { a.value(i) }),
            _ if self.is_null(i) => Cow::Borrowed(""),
            Values::Decimal(a, s) => Cow::Owned(
                Decimal::try_from_i128_with_scale(a.value(i), *s)
                    .map_or_else(|_| format!("{}e-{s}", a.value(i)), |d| d.to_string()),
            ),
            Values::Date(a) => Cow::Owned(match (day(a.value(i)), role) {
                (Some(d), Some(ColumnRole::Month)) => {
                    Month::from_date(d).map_or_else(|_| d.to_string(), |m| m.to_string())
                }
                (Some(d), _) => d.format("%Y-%m-%d").to_string(),
                (None, _) => format!("day {}", a.value(i)),
            }),
        }
    }

    fn is_null(&self, i: usize) -> bool {
        match self {
            Values::Text(a) => a.is_null(i),
            Values::Decimal(a, _) => a.is_null(i),
            Values::Date(a) => a.is_null(i),
        }
    }

    /// A typed amount: none when null; an error message when it does not fit.
    fn amount(&self, i: usize) -> Option<Result<Decimal, String>> {
        match self {
            _ if self.is_null(i) => None,
            Values::Decimal(a, s) => Some(
                Decimal::try_from_i128_with_scale(a.value(i), *s)
                    .map_err(|_| format!("the amount {}e-{s} does not fit in 28 significant digits", a.value(i))),
            ),
            Values::Text(a) => Some(parse_amount(a.value(i).trim()).map_err(|e| e.to_string())),
            Values::Date(_) => None,
        }
    }
}

fn day(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163)?)
}

/// Reads a table into `extract`. Bad cells become the core's record errors (the customer is
/// held back, or the run cannot go on when the customer cannot be identified); only a table
/// that cannot be read at all is an error here.
pub(crate) fn read_table(book: &RuleBook, table: &InputTable, extract: &mut Extract) -> Result<(), ReadError> {
    if let Some((header, rows)) = &table.cells {
        let headers: Vec<&str> = header.iter().map(String::as_str).collect();
        let cols = Columns::resolve(book, table.kind, &headers).map_err(ReadError::Columns)?;
        for (k, row) in rows.iter().enumerate() {
            let refs: Vec<&str> = row.iter().map(String::as_str).collect();
            extract.push_cells(&table.name, &cols, k as u64, &refs);
        }
        return Ok(());
    }
    let Some(first) = table.batches.first() else { return Ok(()) };
    let schema = first.schema();
    let headers: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let cols = Columns::resolve(book, table.kind, &headers).map_err(ReadError::Columns)?;
    let roles = roles_of(book, &cols);
    let mut row = 0u64;
    for batch in &table.batches {
        if batch.schema().fields().len() != headers.len()
            || batch.schema().fields().iter().zip(&headers).any(|(f, h)| f.name() != h)
        {
            return Err(ReadError::Arrow("the table's batches have different columns".into()));
        }
        let values: Vec<Values> = batch
            .columns()
            .iter()
            .enumerate()
            .map(|(i, c)| Values::of(c, headers[i], roles[i].as_ref(), cols.is_fen(i)))
            .collect::<Result<_, _>>()?;
        let typed = table.kind == TableKind::Aum
            && values.iter().zip(&roles).any(|(v, r)| is_amount(r.as_ref()) && v.is_typed_amount());
        if typed {
            push_typed(&table.name, &cols, &roles, &values, batch.num_rows(), row, extract);
        } else {
            let mut cells: Vec<Cow<'_, str>> = Vec::with_capacity(values.len());
            for i in 0..batch.num_rows() {
                cells.clear();
                cells.extend(values.iter().zip(&roles).map(|(v, r)| v.text(i, r.as_ref())));
                let refs: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
                extract.push_cells(&table.name, &cols, row + i as u64, &refs);
            }
        }
        row += batch.num_rows() as u64;
    }
    Ok(())
}

/// The role of each column, through the core's [`Columns::column`] (component columns by the
/// rule book's component codes).
fn roles_of(book: &RuleBook, cols: &Columns) -> Vec<Option<ColumnRole>> {
    let mut roles: Vec<Option<ColumnRole>> = vec![None; cols.width()];
    let fixed = [
        ColumnRole::Month,
        ColumnRole::CustomerId,
        ColumnRole::LegalEntity,
        ColumnRole::LegalEntityName,
        ColumnRole::CustomerKind,
        ColumnRole::Aum,
        ColumnRole::Date,
        ColumnRole::Component,
        ColumnRole::Balance,
        ColumnRole::Action,
        ColumnRole::Tier,
        ColumnRole::Months,
    ];
    let components = book
        .rule_sets()
        .iter()
        .flat_map(|set| set.versions.iter())
        .flat_map(|v| v.aum.components().iter())
        .map(|c| ColumnRole::ComponentAverage(c.code.clone()));
    for role in fixed.into_iter().chain(components) {
        if let Some(i) = cols.column(&role) {
            roles[i] = Some(role);
        }
    }
    roles
}

/// An AUM table with typed amounts: the same order of checks and the same fields as the core's
/// text reader, with amounts taken as they are.
fn push_typed(
    table: &str,
    cols: &Columns,
    roles: &[Option<ColumnRole>],
    values: &[Values],
    n: usize,
    first_row: u64,
    extract: &mut Extract,
) {
    let col = |role: &ColumnRole| cols.column(role).map(|i| &values[i]);
    let (id_col, entity_col, kind_col, month_col, aum_col) = (
        col(&ColumnRole::CustomerId),
        col(&ColumnRole::LegalEntity),
        col(&ColumnRole::CustomerKind),
        col(&ColumnRole::Month),
        col(&ColumnRole::Aum),
    );
    // Each component's code allocated once for the table, shared by its records.
    let components: Vec<(&Values, std::sync::Arc<str>)> = roles
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r {
            Some(ColumnRole::ComponentAverage(code)) => Some((&values[i], std::sync::Arc::from(code.as_str()))),
            _ => None,
        })
        .collect();
    for i in 0..n {
        let row = first_row + i as u64;
        let id = id_col.map(|c| c.text(i, None)).unwrap_or_default();
        let id = id.as_ref();
        let kind = match kind_col.map(|c| c.text(i, None)).filter(|k| !k.trim().is_empty()) {
            None => None,
            Some(k) => match k.parse::<CustomerKind>() {
                Ok(k) => Some(k),
                Err(e) => {
                    extract.reject(table, row, Some(id), None, "customer_kind", e);
                    continue;
                }
            },
        };
        let entity = entity_col.map(|c| c.text(i, None));
        let entity = entity.as_deref().map(str::trim);
        let month = match month_col {
            None => None,
            Some(c) => match c {
                Values::Date(a) if !a.is_null(i) => match day(a.value(i)).map(Month::from_date) {
                    Some(Ok(m)) => Some(m),
                    Some(Err(e)) => {
                        extract.reject(table, row, Some(id), None, "month", e.to_string());
                        continue;
                    }
                    None => {
                        extract.reject(
                            table,
                            row,
                            Some(id),
                            None,
                            "month",
                            format!("day {} is out of range", a.value(i)),
                        );
                        continue;
                    }
                },
                _ => match c.text(i, Some(&ColumnRole::Month)).parse::<Month>() {
                    Ok(m) => Some(m),
                    Err(e) => {
                        extract.reject(table, row, Some(id), None, "month", e.to_string());
                        continue;
                    }
                },
            },
        };
        let aum = if components.is_empty() {
            match aum_col.and_then(|c| c.amount(i)) {
                Some(Ok(a)) => AumInput::Total(a),
                Some(Err(_)) if aum_col.is_some_and(|c| c.text(i, None).trim().is_empty()) => {
                    extract.reject(table, row, Some(id), month, "aum", "the AUM is empty");
                    continue;
                }
                Some(Err(e)) => {
                    extract.reject(table, row, Some(id), month, "aum", e);
                    continue;
                }
                None => {
                    extract.reject(table, row, Some(id), month, "aum", "the AUM is empty");
                    continue;
                }
            }
        } else {
            let mut list = Vec::with_capacity(components.len());
            let mut bad = None;
            for (c, code) in &components {
                if matches!(c, Values::Text(_)) && c.text(i, None).trim().is_empty() {
                    continue;
                }
                match c.amount(i) {
                    None => {}
                    Some(Ok(amount)) => list.push(ComponentAmount { component: code.clone(), amount }),
                    Some(Err(e)) => {
                        bad = Some((code.clone(), e));
                        break;
                    }
                }
            }
            if let Some((code, e)) = bad {
                extract.reject(table, row, Some(id), month, &code, e);
                continue;
            }
            AumInput::Averages(list)
        };
        extract.push_aum(table, row, id, entity, kind, month, aum);
    }
}
