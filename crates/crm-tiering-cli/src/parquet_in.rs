//! Parquet input (`run --aum x.parquet`, `--daily`, `--designations`), chosen by the file's
//! extension (`.parquet` or `.parq`).
//!
//! The file is read by the core's typed-table reader
//! ([`crm_tiering::portfolio::arrow::read_parquet`]): the columns are named as in the
//! delimited files and resolved by the core, each column's type is checked against the core's
//! one type policy (SPEC §15, "Reading typed tables": the same as Python's and Spark's), every
//! size the file claims is checked against its bytes, and every row goes through the core's
//! record checks. A record is `file.parquet:N`, N the 1-based row in the file (0 names the
//! schema).

use std::fs::File;
use std::path::Path;

use crm_tiering::RuleBook;
use crm_tiering::portfolio::arrow::{TableError, read_parquet};
use crm_tiering::portfolio::{Cell, ColumnRole, RecordError, RecordRef, TableKind};

use crate::exit::{Exit, Failure, io_error};
use crate::input::{EntityNames, Inputs, file_error};

/// Whether a path names a Parquet file (by its extension).
pub(crate) fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("parq"))
}

/// Reads a Parquet table into the inputs; returns the number of rows.
///
/// # Errors
/// A usage failure naming the file when it cannot be opened, is not Parquet or is damaged.
/// Columns that cannot be read (a float amount, an integer amount without `_fen`, ...) are
/// file errors: they stop the run with the file and column named.
pub(crate) fn read_table(inputs: &mut Inputs, book: &RuleBook, path: &Path, kind: TableKind) -> Result<u64, Failure> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| io_error(Exit::Usage, path, "read the input file", &e))?;
    // Legal entities' display names, noted from each row's cells.
    let mut names = EntityNames::default();
    let Inputs { extract, entity_names, .. } = inputs;
    let result = read_parquet(book, kind, &name, file, 1, extract, |cols, cells| {
        let at = |role: &ColumnRole| cols.column(role).and_then(|i| cells.get(i));
        if let (Some(Cell::Text(code)), Some(Cell::Text(entity_name))) =
            (at(&ColumnRole::LegalEntity), at(&ColumnRole::LegalEntityName))
        {
            names.note(entity_names, code, entity_name);
        }
    });
    match result {
        Ok(rows) => Ok(rows),
        Err(TableError::Data { message, .. }) => Err(Failure::new(Exit::Usage, format!("{name}: {message}"))),
        Err(TableError::Columns { error, .. }) => {
            inputs.file_errors.push(RecordError::at(error, Some(RecordRef::new(&name, 0))));
            Ok(0)
        }
        Err(e @ TableError::Type { .. }) => {
            let column = e.column().unwrap_or_default().to_string();
            inputs.file_errors.push(file_error(&name, 0, &column, e.message()));
            Ok(0)
        }
    }
}
