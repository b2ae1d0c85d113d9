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

use crate::exit::{Exit, Failure};
use crate::text;
use crate::{Delimiter, Encoding};

/// The input files of a run.
pub(crate) struct InputFiles<'a> {
    pub(crate) states: Option<&'a Path>,
    pub(crate) aum: &'a [PathBuf],
    pub(crate) daily: &'a [PathBuf],
    pub(crate) designations: &'a [PathBuf],
    /// The encoding of every file, or `auto` (each file's own).
    pub(crate) encoding: Encoding,
    /// The delimiter of every file, or `auto` (each file's own, from its header).
    pub(crate) delimiter: Delimiter,
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
                inputs.read_table(book, path, kind, files)?
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
    ///
    /// # Errors
    /// A usage failure when the file cannot be read.
    fn read_table(
        &mut self,
        book: &RuleBook,
        path: &Path,
        kind: TableKind,
        files: &InputFiles<'_>,
    ) -> Result<u64, Failure> {
        let encoding = match files.encoding {
            Encoding::Auto => text::detect(path)?,
            e => e,
        };
        let mut table = Table {
            name: path.display().to_string(),
            kind,
            state: State::Header,
            rows: 0,
            names: EntityNames::default(),
            encoding,
            delimiter: files.delimiter.0.unwrap_or(','),
        };
        let mut cells: Vec<Cow<'static, str>> = Vec::new();
        let mut refs: Vec<&'static str> = Vec::new();
        text::for_each_line(path, encoding, |line| {
            // One buffer of cells and one of their texts serve every line.
            let mut c = recycle_cells(std::mem::take(&mut cells));
            let mut r = recycle(std::mem::take(&mut refs));
            table.line(self, book, files, &line, &mut c, &mut r);
            cells = recycle_cells(c);
            refs = recycle(r);
        })?;
        match &table.state {
            State::Header => {
                self.file_errors.push(file_error(
                    &table.name,
                    1,
                    "header",
                    "the file is empty: expected a header line",
                ));
            }
            // A month (date) column none of whose cells is one stops the run (the core's rule).
            State::Records(r) => self.extract.end_table(&table.name, &r.cols),
            State::Broken => {}
        }
        Ok(table.rows)
    }
}

/// A delimited table being read.
struct Table {
    /// The path, as the records' table.
    name: String,
    kind: TableKind,
    state: State,
    /// Data lines read.
    rows: u64,
    names: EntityNames,
    /// The file's encoding (never `auto`: detected when asked).
    encoding: Encoding,
    /// The file's delimiter (found in the header when asked).
    delimiter: char,
}

/// Where the reading of a table is.
enum State {
    /// Before the header line.
    Header,
    /// The header was resolved: the records follow.
    Records(Box<Resolved>),
    /// The header is unusable (a file error was recorded): the rest is not read.
    Broken,
}

/// A resolved header and the columns each record is read with.
struct Resolved {
    cols: Columns,
    id: Option<usize>,
    entity: Option<usize>,
    entity_name: Option<usize>,
}

impl Table {
    /// Reads one non-blank line: the header, then the records.
    fn line<'l>(
        &mut self,
        inputs: &mut Inputs,
        book: &RuleBook,
        files: &InputFiles<'_>,
        line: &text::Line<'l>,
        cells: &mut Vec<Cow<'l, str>>,
        refs: &mut Vec<&'l str>,
    ) {
        let (number, l) = (line.number, line.text);
        let resolved = match &self.state {
            State::Broken => return,
            State::Records(r) => r,
            State::Header => {
                self.state = match self.header(inputs, book, files, line, cells) {
                    Some(r) => State::Records(Box::new(r)),
                    None => State::Broken,
                };
                return;
            }
        };
        self.rows += 1;
        let name = self.name.as_str();
        if line.lossy
            && let Some(msg) = text::undecodable(l, self.encoding)
        {
            // Which bytes were lost is unknown (a lost byte can be a delimiter), so the
            // customer cannot be identified with confidence: the run stops.
            inputs.extract.reject(name, number, None, None, "record", msg);
            return;
        }
        // `cells` lives as long as the line, `refs` only as long as this call.
        let mut texts = recycle(std::mem::take(refs));
        if !text::split_unquoted(l, self.delimiter, &mut texts) {
            texts.clear();
            if let Err(e) = text::split(l, self.delimiter, cells) {
                // The cells before the broken one are intact: the customer is held back when
                // its id is among them.
                let id = resolved.id.and_then(|i| cells.get(i)).map(|c| c.as_ref());
                inputs.extract.reject(name, number, id, None, "record", e);
                *refs = recycle(texts);
                return;
            }
            texts.extend(cells.iter().map(|c| c.as_ref()));
        }
        let cols = &resolved.cols;
        if let (Some(e), Some(n)) = (resolved.entity, resolved.entity_name)
            && texts.len() == cols.width()
        {
            self.names.note(&mut inputs.entity_names, texts[e], texts[n]);
        }
        inputs.extract.push_cells(name, cols, number, &texts);
        *refs = recycle(texts);
    }

    /// Resolves the header line; none (with the file error recorded) when it is unusable.
    fn header<'l>(
        &mut self,
        inputs: &mut Inputs,
        book: &RuleBook,
        files: &InputFiles<'_>,
        line: &text::Line<'l>,
        cells: &mut Vec<Cow<'l, str>>,
    ) -> Option<Resolved> {
        let (number, h) = (line.number, line.text);
        if let Some(msg) = text::undecodable(h, self.encoding) {
            inputs.file_errors.push(file_error(&self.name, number, "header", msg));
            return None;
        }
        if files.delimiter.0.is_none() {
            match text::header_delimiter(h) {
                Ok(d) => self.delimiter = d,
                Err(e) => {
                    inputs.file_errors.push(file_error(&self.name, number, "header", e));
                    return None;
                }
            }
        }
        if files.encoding == Encoding::Auto || files.delimiter.0.is_none() {
            let shown = if self.delimiter == '\t' { "tab".to_string() } else { format!("`{}`", self.delimiter) };
            eprintln!("note: {}: read as {}, fields delimited by {shown}", self.name, self.encoding.name());
        }
        if let Err(e) = text::split(h, self.delimiter, cells) {
            inputs.file_errors.push(file_error(&self.name, number, "header", e));
            return None;
        }
        if cells.len() == 1 && self.delimiter != ',' && h.contains(',') {
            let msg = "the header has one column: is --delimiter right?";
            inputs.file_errors.push(file_error(&self.name, number, "header", msg));
            return None;
        }
        let headers: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
        let cols = match Columns::resolve(book, self.kind, &headers) {
            Ok(c) => c,
            Err(e) => {
                let located = RecordError::at(e, Some(crm_tiering::portfolio::RecordRef::new(&self.name, number)));
                inputs.file_errors.push(located);
                return None;
            }
        };
        Some(Resolved {
            id: cols.column(&ColumnRole::CustomerId),
            entity: cols.column(&ColumnRole::LegalEntity),
            entity_name: cols.column(&ColumnRole::LegalEntityName),
            cols,
        })
    }
}

/// An empty vector of cells with the allocation of another one, whatever the borrow.
fn recycle_cells<'b>(mut v: Vec<Cow<'_, str>>) -> Vec<Cow<'b, str>> {
    v.clear();
    v.into_iter().map(|_| Cow::Borrowed("")).collect()
}

/// An empty vector of `&str` with the allocation of another one, whatever the borrow: one
/// buffer of cells serves every line.
fn recycle<'b>(mut v: Vec<&str>) -> Vec<&'b str> {
    v.clear();
    v.into_iter().map(|_| "").collect()
}

/// The display names of legal entities, from each record's `legal_entity` and
/// `legal_entity_name` cells: the first non-empty name of a code is kept.
pub(crate) struct EntityNames {
    /// Codes whose name is known, by a hash of the code (a few dozen entities name millions of
    /// records: most records are answered here without the map).
    known: Vec<String>,
}

impl Default for EntityNames {
    fn default() -> Self {
        EntityNames { known: vec![String::new(); 256] }
    }
}

impl EntityNames {
    /// Notes a record's code and name.
    pub(crate) fn note(&mut self, names: &mut BTreeMap<String, String>, code: &str, name: &str) {
        let code = trim(code);
        if code.is_empty() {
            return;
        }
        let slot = code.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) as usize % 256;
        if self.known[slot] == code {
            return;
        }
        let name = trim(name);
        if name.is_empty() {
            return;
        }
        if !names.contains_key(code) {
            names.insert(code.to_string(), name.to_string());
        }
        let known = &mut self.known[slot];
        known.clear();
        known.push_str(code);
    }
}

/// `str::trim`, at once when the text neither starts nor ends with a space (the usual cell).
fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}
