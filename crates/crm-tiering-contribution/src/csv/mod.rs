//! CSV tables of the inputs (SPEC §20.7): a header of column names, then one record a line;
//! comma-separated, a cell may be double-quoted (`""` for a quote inside), cells read exactly
//! as written. Errors name the table, the line (the header is line 1) and the column.

mod readers;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::BufRead;

use crm_tiering::{Decimal, parse_amount};

use crate::error::{ContributionError, ContributionErrors};
use crate::records::Fields;
pub(crate) use readers::read_account_months_with;
pub use readers::{
    read_account_months, read_activities, read_assignments, read_cost_pools, read_direct_costs, read_fees,
    read_ftp_rates,
};

/// A table with a checked header: its columns, and the lines after the header, split into
/// cells one line at a time as the table is read (no line's cells are kept).
struct Table<'a> {
    name: &'a str,
    /// Each column's name and cell index (a few), found by a scan that
    /// compares lengths first (a map compares the bytes of every name on the way).
    columns: Vec<(String, usize)>,
    /// The text after the header line (the header is line 1).
    body: &'a str,
}

/// One row being read: its cells by column, and the errors found so far.
struct Row<'t> {
    table: &'t Table<'t>,
    line: usize,
    cells: &'t [Cow<'t, str>],
    errors: Vec<ContributionError>,
}

impl<'a> Table<'a> {
    /// Splits the text into a header and rows; checks the header against the table's
    /// required and optional columns (a bad header stops the table; a bad line is reported
    /// with the others when the table is read).
    fn parse(name: &'a str, text: &'a str, required: &[&str], optional: &[&str]) -> Result<Self, ContributionErrors> {
        let header = lines(text).next().unwrap_or("");
        let mut table = Table::header(name, header, required, optional)?;
        table.body = text.split_once('\n').map_or("", |(_, rest)| rest);
        Ok(table)
    }

    /// A table of the header line (its body empty), checked against the table's required and
    /// optional columns.
    fn header(name: &'a str, header: &str, required: &[&str], optional: &[&str]) -> Result<Self, ContributionErrors> {
        let header = header.strip_prefix('\u{feff}').unwrap_or(header);
        let error = |line: usize, column: Option<String>, message: String| ContributionError::Table {
            table: name.to_string(),
            line,
            column,
            message,
        };
        if header.is_empty() {
            return Err(error(1, None, "no header: expected the columns' names".into()).into());
        }
        let mut columns = BTreeMap::new();
        let mut errors = Vec::new();
        let mut names = Vec::new();
        if !split(header, &mut names) {
            return Err(error(1, None, "an unterminated quoted cell".into()).into());
        }
        for (i, c) in names.iter().map(|c| c.as_ref()).enumerate() {
            if !required.contains(&c) && !optional.contains(&c) {
                errors.push(error(1, Some(c.to_string()), "not a column of this table".into()));
            } else if columns.insert(c.to_string(), i).is_some() {
                errors.push(error(1, Some(c.to_string()), "the column appears twice".into()));
            }
        }
        for c in required {
            if !columns.contains_key(*c) {
                errors.push(error(1, Some((*c).to_string()), "a required column is missing".into()));
            }
        }
        let columns = columns.into_iter().collect();
        if errors.is_empty() { Ok(Table { name, columns, body: "" }) } else { Err(ContributionErrors(errors)) }
    }

    /// Reads every row with `read`, collecting every row's errors.
    fn read<T>(&self, read: impl Fn(&mut Row<'_>) -> Option<T>) -> Result<Vec<T>, ContributionErrors> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let mut cells = Vec::with_capacity(self.columns.len());
        for (i, l) in lines(self.body).enumerate() {
            match self.line(i + 2, l, &mut cells, &read) {
                Ok(Some(v)) if errors.is_empty() => out.push(v),
                Ok(_) => {}
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(ContributionErrors(errors)) }
    }

    /// The record of line `line` (its text `l`), `None` for an empty line, or the line's
    /// errors.
    fn line<'l, T>(
        &self,
        line: usize,
        l: &'l str,
        cells: &mut Vec<Cow<'l, str>>,
        read: &impl Fn(&mut Row<'_>) -> Option<T>,
    ) -> Result<Option<T>, Vec<ContributionError>> {
        if l.is_empty() {
            return Ok(None);
        }
        let problem = match split(l, cells) {
            true if cells.len() == self.columns.len() => None,
            true => Some(format!("{} cells, expected {}", cells.len(), self.columns.len())),
            false => Some("an unterminated quoted cell".into()),
        };
        if let Some(message) = problem {
            return Err(vec![ContributionError::Table { table: self.name.to_string(), line, column: None, message }]);
        }
        let mut row = Row { table: self, line, cells, errors: Vec::new() };
        let value = read(&mut row);
        match value {
            Some(v) if row.errors.is_empty() => Ok(Some(v)),
            _ => Err(row.errors),
        }
    }
}

/// Reads a table from `reader` one line at a time (a line `\n`- or `\r\n`-terminated, as
/// [`Table::parse`] splits a text), handing each record to `each`; every line's errors are
/// collected, and records after the first error are not handed over.
fn read_lines<T>(
    name: &str,
    mut reader: impl BufRead,
    (required, optional): (&[&str], &[&str]),
    read: impl Fn(&mut Row<'_>) -> Option<T>,
    mut each: impl FnMut(T) -> Result<(), ContributionError>,
) -> Result<(), ContributionErrors> {
    let mut buf = Vec::new();
    let table = match next_line(name, 1, &mut reader, &mut buf)? {
        Some(header) => Table::header(name, header, required, optional)?,
        None => Table::header(name, "", required, optional)?,
    };
    let mut errors = Vec::new();
    for line in 2.. {
        let l = match next_line(name, line, &mut reader, &mut buf) {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                // The rest of the file is not read past a line that cannot be.
                errors.push(e);
                break;
            }
        };
        let mut cells = Vec::with_capacity(table.columns.len());
        match table.line(line, l, &mut cells, &read) {
            Ok(Some(v)) if errors.is_empty() => each(v).unwrap_or_else(|e| errors.push(e)),
            Ok(_) => {}
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ContributionErrors(errors)) }
}

/// The next line of `reader` without its `\n` or `\r\n`, `None` at the end; an error names
/// the line that is not UTF-8 or cannot be read.
fn next_line<'b>(
    name: &str,
    line: usize,
    reader: &mut impl BufRead,
    buf: &'b mut Vec<u8>,
) -> Result<Option<&'b str>, ContributionError> {
    buf.clear();
    let error = |message: String| ContributionError::Table { table: name.to_string(), line, column: None, message };
    match reader.read_until(b'\n', buf) {
        Ok(0) => return Ok(None),
        Ok(_) => {}
        Err(e) => return Err(error(format!("cannot be read: {e}"))),
    }
    let text = std::str::from_utf8(buf).map_err(|_| error("not UTF-8 text".into()))?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    Ok(Some(text.strip_suffix('\r').unwrap_or(text)))
}

/// The lines of a text, each without its `\r\n` or `\n`.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l))
}

impl Row<'_> {
    /// The cell of a column (empty when the table has no such column).
    fn cell(&self, column: &str) -> &str {
        let index = self.table.columns.iter().find(|(name, _)| name == column).map(|(_, i)| *i);
        index.and_then(|i| self.cells.get(i)).map_or("", |c| c.as_ref())
    }

    fn fail(&mut self, column: &str, message: String) {
        self.errors.push(ContributionError::Table {
            table: self.table.name.to_string(),
            line: self.line,
            column: Some(column.to_string()),
            message,
        });
    }
}

impl Fields for Row<'_> {
    /// A required cell: a non-empty text.
    fn text(&mut self, column: &str) -> String {
        let t = self.cell(column).to_string();
        if t.is_empty() {
            self.fail(column, "empty: a value is required".into());
        }
        t
    }

    /// An optional cell: `None` when empty.
    fn optional(&self, column: &str) -> Option<String> {
        Some(self.cell(column).to_string()).filter(|t| !t.is_empty())
    }

    /// A cell parsed by `parse` (required), or an error naming what was expected.
    fn parsed<T>(&mut self, column: &str, expected: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let value = parse(self.cell(column));
        if value.is_none() {
            let t = self.cell(column).to_string();
            self.fail(column, format!("`{t}` is not {expected}"));
        }
        value
    }

    /// An optional cell parsed by `parse`: `None` when empty, an error when unreadable.
    fn parsed_optional<T>(
        &mut self,
        column: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<Option<T>> {
        if self.cell(column).is_empty() {
            return Some(None);
        }
        self.parsed(column, expected, parse).map(Some)
    }

    fn decimal_optional(&mut self, column: &str) -> Option<Option<Decimal>> {
        self.parsed_optional(column, "a decimal number", |t| parse_amount(t).ok())
    }

    fn decimal(&mut self, column: &str) -> Option<Decimal> {
        self.parsed(column, "a decimal number", |t| parse_amount(t).ok())
    }
}

/// Splits a line into `cells`: commas outside double quotes; `false` for an unterminated
/// quote. A line without quotes is split into borrowed cells.
fn split<'a>(line: &'a str, cells: &mut Vec<Cow<'a, str>>) -> bool {
    cells.clear();
    if !line.contains('"') {
        cells.extend(line.split(',').map(Cow::Borrowed));
        return true;
    }
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, ',') => cells.push(Cow::Owned(std::mem::take(&mut cell))),
            (false, '"') if cell.is_empty() => quoted = true,
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            _ => cell.push(c),
        }
    }
    if quoted {
        return false;
    }
    cells.push(Cow::Owned(cell));
    true
}

#[cfg(test)]
mod tests {
    use super::{Table, split};
    use crate::records::Fields;

    #[test]
    fn a_bom_crlf_and_quoted_header() {
        let text = "\u{feff}\"month\",customer,amount\r\n2024-03,\"c,1\",1.00\r\n\r\n";
        let t = Table::parse("fees", text, &["month", "customer", "amount"], &[]).unwrap();
        let rows = t.read(|r| Some((r.text("customer"), r.line))).unwrap();
        assert_eq!(rows, vec![("c,1".to_string(), 2)]);
    }

    fn cells(line: &str) -> Option<Vec<String>> {
        let mut cells = Vec::new();
        split(line, &mut cells).then(|| cells.into_iter().map(|c| c.into_owned()).collect())
    }

    #[test]
    fn quoted_cells() {
        assert_eq!(cells("a,\"b,c\",\"d\"\"e\"").unwrap(), vec!["a", "b,c", "d\"e"]);
        assert_eq!(cells("a,,").unwrap(), vec!["a", "", ""]);
        assert!(cells("a,\"b").is_none());
    }
}
