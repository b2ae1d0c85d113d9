//! The input tables of the binding: an Arrow table (anything with the Arrow PyCapsule
//! interface: pyarrow, polars, pandas >= 2.2) is read by the core's typed-table reader
//! ([`TableReader`]: the core's one type policy and record checks, the same as the CLI's
//! Parquet input), as row `k` (0-based) of a named table; a `(header, rows)` pair of text cells
//! goes through the core's text reader ([`Extract::push_cells`]), exactly as the CLI reads a
//! CSV extract. Nothing about a cell is decided here.
//!
//! Reading checks for an interrupt (Ctrl-C) every [`SLICE`] rows.

use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use crm_tiering::RuleBook;
use crm_tiering::TieringError;
use crm_tiering::portfolio::arrow::{TableError, TableReader};
use crm_tiering::portfolio::{Columns, Extract, TableKind};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3_arrow::input::AnyRecordBatch;

use crate::errors::tiering_error;

/// Rows read between two checks for an interrupt.
pub(crate) const SLICE: usize = 65_536;

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
    /// The core's reader refused the table: a column whose type cannot hold what it should
    /// (`TypeError`), a header that does not resolve (the core's `InputError`), data that
    /// cannot be read.
    Table(TableError),
    /// The header of a table of text cells does not resolve: the core's error.
    Columns(TieringError),
    /// Arrow failed.
    Arrow(String),
    /// Ctrl-C while reading: nothing was evaluated.
    Interrupted(PyErr),
}

impl From<ArrowError> for ReadError {
    fn from(e: ArrowError) -> Self {
        ReadError::Arrow(e.to_string())
    }
}

/// How to write amounts exactly, in the terms of the Python libraries.
const USE_DECIMAL: &str = "money is exact in crm_tiering, use decimal128 or strings \
     (pyarrow: pa.decimal128(20, 2); polars: pl.Decimal(20, 2); pandas: Decimal objects or str)";

impl ReadError {
    pub(crate) fn into_py(self) -> PyErr {
        match self {
            ReadError::Table(TableError::Columns { error, .. }) | ReadError::Columns(error) => tiering_error(&error),
            ReadError::Table(e @ TableError::Type { float_amount: true, .. }) => {
                PyTypeError::new_err(format!("{e} ({USE_DECIMAL})"))
            }
            ReadError::Table(e @ TableError::Type { .. }) => PyTypeError::new_err(e.to_string()),
            ReadError::Table(e @ TableError::Data { .. }) => PyRuntimeError::new_err(e.to_string()),
            ReadError::Arrow(m) => PyRuntimeError::new_err(format!("arrow: {m}")),
            ReadError::Interrupted(e) => e,
        }
    }
}

/// A check for an interrupt between slices of rows (the GIL is released while reading): the
/// signal handlers' error (`KeyboardInterrupt`) when one was raised.
pub(crate) fn check_signals() -> PyResult<()> {
    Python::attach(|py| py.check_signals())
}

/// Reads a table into `extract`. Bad cells become the core's record errors (the customer is
/// held back, or the run cannot go on when the customer cannot be identified); only a table
/// that cannot be read at all is an error here. `interrupt` is called every [`SLICE`] rows.
pub(crate) fn read_table(
    book: &RuleBook,
    table: &InputTable,
    extract: &mut Extract,
    interrupt: &mut dyn FnMut() -> PyResult<()>,
) -> Result<(), ReadError> {
    if let Some((header, rows)) = &table.cells {
        let headers: Vec<&str> = header.iter().map(String::as_str).collect();
        let cols = Columns::resolve(book, table.kind, &headers).map_err(ReadError::Columns)?;
        for (k, row) in rows.iter().enumerate() {
            if k % SLICE == SLICE - 1 {
                interrupt().map_err(ReadError::Interrupted)?;
            }
            let refs: Vec<&str> = row.iter().map(String::as_str).collect();
            extract.push_cells(&table.name, &cols, k as u64, &refs);
        }
        extract.end_table(&table.name, &cols);
        return Ok(());
    }
    let Some(first) = table.batches.first() else { return Ok(()) };
    let mut reader = TableReader::new(book, table.kind, &table.name, &first.schema(), 0).map_err(ReadError::Table)?;
    for batch in &table.batches {
        let mut at = 0;
        while at < batch.num_rows() {
            let len = SLICE.min(batch.num_rows() - at);
            let slice: RecordBatch =
                if at == 0 && len == batch.num_rows() { batch.clone() } else { batch.slice(at, len) };
            reader.push_batch(extract, &slice).map_err(ReadError::Table)?;
            at += len;
            if at < batch.num_rows() || len == SLICE {
                interrupt().map_err(ReadError::Interrupted)?;
            }
        }
    }
    reader.finish(extract);
    Ok(())
}
