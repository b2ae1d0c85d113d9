//! Reading a portfolio's inputs: prior states, monthly AUM, daily balances and special VIP
//! designations.
//!
//! The CLI only decodes text and splits lines into cells ([`crate::text`]); headers are
//! resolved by the core's [`Columns`] and every row goes through [`Extract::push_cells`], with
//! the file path as the table and the 1-based file line as the row. Nothing is dropped: a bad
//! row holds its customer back, a row whose customer cannot be identified stops the run.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crm_tiering::RuleBook;
use crm_tiering::portfolio::{ColumnRole, Columns, Extract, PortfolioStates, RecordError, TableKind};

use crate::Encoding;
use crate::exit::{Exit, Failure};
use crate::text::{self, TextFile};

/// The input files of a run.
pub(crate) struct InputFiles<'a> {
    pub(crate) states: Option<&'a Path>,
    pub(crate) aum: &'a [PathBuf],
    pub(crate) daily: &'a [PathBuf],
    pub(crate) designations: &'a [PathBuf],
    pub(crate) encoding: Encoding,
    pub(crate) delimiter: char,
}

/// Everything a run evaluates.
pub(crate) struct Inputs {
    /// The prior states (empty without `--states`).
    pub(crate) states: PortfolioStates,
    /// The records of the declared month(s).
    pub(crate) extract: Extract,
    /// Display names of legal entities, from `legal_entity_name` columns.
    pub(crate) entity_names: BTreeMap<String, String>,
    /// Errors that make a whole file unusable (an empty file, a header that cannot be
    /// resolved): the run cannot go on while there are any.
    pub(crate) file_errors: Vec<RecordError>,
    /// The input files read, for the audit: (role, path, data rows).
    pub(crate) files: Vec<(String, PathBuf, u64)>,
}

/// Reads the prior states with their integrity checks.
///
/// # Errors
/// A usage failure when the file cannot be read; a bad-input failure naming `file:line` when
/// it is not an intact states file (cut short, altered, a line that is not a state, a
/// duplicate customer).
pub(crate) fn read_states(path: &Path) -> Result<PortfolioStates, Failure> {
    let text = text::read_utf8(path)?;
    PortfolioStates::from_jsonl(&text, &path.display().to_string()).map_err(|e| {
        Failure::new(
            Exit::BadInput,
            format!("{e} [category {}, field {}]; nothing was written", e.category(), e.field().unwrap_or("-")),
        )
    })
}

/// Reads every input file.
///
/// # Errors
/// A usage failure for a file that cannot be read, a bad-input failure for a states file that
/// is not intact. Bad headers and rows are collected, not failures.
pub(crate) fn load(book: &RuleBook, files: &InputFiles<'_>) -> Result<Inputs, Failure> {
    let states = match files.states {
        Some(path) => read_states(path)?,
        None => PortfolioStates::new(),
    };
    let mut inputs = Inputs {
        states,
        extract: Extract::new(book),
        entity_names: BTreeMap::new(),
        file_errors: Vec::new(),
        files: Vec::new(),
    };
    if let Some(path) = files.states {
        inputs.files.push(("states".to_string(), path.to_path_buf(), inputs.states.len() as u64));
    }
    let tables = [
        (files.aum, TableKind::Aum, "aum"),
        (files.daily, TableKind::Daily, "daily"),
        (files.designations, TableKind::Designations, "designations"),
    ];
    for (paths, kind, role) in tables {
        for path in paths {
            let rows = if crate::parquet_in::is_parquet(path) {
                crate::parquet_in::read_table(&mut inputs, book, path, kind)?
            } else {
                let f = text::read_text(path, files.encoding)?;
                inputs.read_table(book, &f, kind, files)
            };
            inputs.files.push((role.to_string(), path.clone(), rows));
        }
    }
    Ok(inputs)
}

/// A file-level error (no customer can be identified from the file).
pub(crate) fn file_error(file: &str, line: u64, field: &str, message: impl Into<String>) -> RecordError {
    let error = crm_tiering::InputError::new("", None, field, message);
    RecordError::at(error, Some(crm_tiering::portfolio::RecordRef::new(file, line)))
}

impl Inputs {
    /// Reads a delimited table; returns the number of data lines.
    fn read_table(&mut self, book: &RuleBook, f: &TextFile, kind: TableKind, files: &InputFiles<'_>) -> u64 {
        let mut lines = text::lines(&f.text);
        let Some((line, h)) = lines.next() else {
            self.file_errors.push(file_error(&f.name, 1, "header", "the file is empty: expected a header line"));
            return 0;
        };
        let line = u64::from(line);
        if let Some(msg) = text::undecodable(h, files.encoding) {
            self.file_errors.push(file_error(&f.name, line, "header", msg));
            return 0;
        }
        let mut cells: Vec<Cow<'_, str>> = Vec::new();
        if let Err(e) = text::split(h, files.delimiter, &mut cells) {
            self.file_errors.push(file_error(&f.name, line, "header", e));
            return 0;
        }
        if cells.len() == 1 && files.delimiter != ',' && h.contains(',') {
            let msg = "the header has one column: is --delimiter right?";
            self.file_errors.push(file_error(&f.name, line, "header", msg));
            return 0;
        }
        let headers: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
        let cols = match Columns::resolve(book, kind, &headers) {
            Ok(c) => c,
            Err(e) => {
                let located = RecordError::at(e, Some(crm_tiering::portfolio::RecordRef::new(&f.name, line)));
                self.file_errors.push(located);
                return 0;
            }
        };
        let id_col = cols.column(&ColumnRole::CustomerId);
        let entity_col = cols.column(&ColumnRole::LegalEntity);
        let name_col = cols.column(&ColumnRole::LegalEntityName);
        let mut rows = 0u64;
        for (line, l) in lines {
            rows += 1;
            let line = u64::from(line);
            if let Some(msg) = text::undecodable(l, files.encoding) {
                // Which bytes were lost is unknown (a lost byte can be a delimiter), so the
                // customer cannot be identified with confidence: the run stops.
                self.extract.reject(&f.name, line, None, None, "record", msg);
                continue;
            }
            if let Err(e) = text::split(l, files.delimiter, &mut cells) {
                // The cells before the broken one are intact: the customer is held back when its
                // id is among them.
                let id = id_col.and_then(|i| cells.get(i)).map(|c| c.as_ref());
                self.extract.reject(&f.name, line, id, None, "record", e);
                continue;
            }
            let refs: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
            if let (Some(e), Some(n)) = (entity_col, name_col)
                && refs.len() == cols.width()
            {
                let (code, name) = (refs[e].trim(), refs[n].trim());
                if !code.is_empty() && !name.is_empty() && !self.entity_names.contains_key(code) {
                    self.entity_names.insert(code.to_string(), name.to_string());
                }
            }
            self.extract.push_cells(&f.name, &cols, line, &refs);
        }
        rows
    }
}
