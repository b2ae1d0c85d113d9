//! One typed table read into records: its columns resolved by name, each read as cells by the
//! core's [`ColumnReader`] (the core's type policy), each row checked as the CSV readers check
//! a line.

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema};
use crm_tiering::portfolio::arrow::{ColumnReader, TableError};
use crm_tiering::portfolio::{Cell, ColumnRole};
use crm_tiering::{Decimal, from_fen, parse_amount};

use crate::error::{ContributionError, ContributionErrors};
use crate::records::Fields;

/// What a column holds, and so which role's type policy it is read under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Ids and codes: strings (integers refused: an id loses its leading zeros).
    Text,
    /// Money: decimals or strings; whole fen as integers or digits in a column `<name>_fen`.
    Money,
    /// Rates, shares, weights, quantities: decimals, strings or integers (a whole number is
    /// never yuan-or-fen ambiguous here).
    Number,
    /// A month: strings, integers (`202403`), dates, zone-less timestamps, `Period[M]`.
    Month,
    /// A count of days: strings or integers.
    Count,
}

/// A column of a table: its name, kind and whether it is required.
pub(super) type Spec = (&'static str, Kind, bool);

/// A column of the table as found: the spec it answers, its name in the table, whether it
/// holds whole fen, its reader.
struct Found {
    spec: usize,
    index: usize,
    name: String,
    fen: bool,
    reader: ColumnReader,
}

fn error(table: &str, row: Option<usize>, column: Option<&str>, message: String) -> ContributionError {
    ContributionError::Arrow { table: table.to_string(), row, column: column.map(str::to_string), message }
}

fn table_error(table: &str, e: TableError, kind: Kind) -> ContributionError {
    let column = e.column().map(str::to_string);
    let message = match (&e, kind) {
        (TableError::Type { float_amount: true, column, .. }, Kind::Number) => format!(
            "column `{column}` is written as binary floating-point numbers: write it as a decimal or a string so that it stays exact"
        ),
        _ => e.message(),
    };
    ContributionError::Arrow { table: table.to_string(), row: None, column, message }
}

/// The integer types, whose values a number column reads as whole numbers.
fn is_integer(field: &Field) -> bool {
    let t = match field.data_type() {
        DataType::Dictionary(_, v) => &**v,
        t => t,
    };
    t.is_integer()
}

/// The role whose policy a column of `kind` is read under.
fn role(kind: Kind, field: &Field) -> ColumnRole {
    match kind {
        Kind::Text => ColumnRole::CustomerId,
        Kind::Money => ColumnRole::Balance,
        // Integers become their digits (as a count's are), then are read as a decimal.
        Kind::Number if is_integer(field) => ColumnRole::Months,
        Kind::Number => ColumnRole::Balance,
        Kind::Month => ColumnRole::Month,
        Kind::Count => ColumnRole::Months,
    }
}

/// Resolves the table's columns against the specs: every unknown, repeated or missing column
/// and every column of a refused type, all at once.
fn resolve(table: &str, schema: &Schema, specs: &[Spec]) -> Result<Vec<Found>, ContributionErrors> {
    let mut found: Vec<Found> = Vec::new();
    let mut errors = Vec::new();
    for (index, field) in schema.fields().iter().enumerate() {
        let name = field.name().trim();
        let fen_base = name.strip_suffix("_fen");
        let spec = specs.iter().position(|(n, k, _)| *n == name || (*k == Kind::Money && fen_base == Some(*n)));
        let Some(spec) = spec else {
            errors.push(error(table, None, Some(name), format!("column `{name}` is not a column of this table")));
            continue;
        };
        if found.iter().any(|f| f.spec == spec) {
            let message = format!("column `{name}` appears twice (or as itself and in fen)");
            errors.push(error(table, None, Some(name), message));
            continue;
        }
        let kind = specs.get(spec).map_or(Kind::Text, |s| s.1);
        match ColumnReader::new(table, field, &role(kind, field)) {
            Ok(reader) => {
                let fen = kind == Kind::Money && fen_base.is_some();
                found.push(Found { spec, index, name: name.to_string(), fen, reader });
            }
            Err(e) => errors.push(table_error(table, e, kind)),
        }
    }
    for (i, (name, _, required)) in specs.iter().enumerate() {
        if *required && !found.iter().any(|f| f.spec == i) && !errors.iter().any(|e| mentions(e, name)) {
            errors.push(error(table, None, Some(name), format!("column `{name}` is required and missing")));
        }
    }
    if errors.is_empty() { Ok(found) } else { Err(ContributionErrors(errors)) }
}

/// Whether an error is about column `name` (a refused type: not also reported missing).
fn mentions(e: &ContributionError, name: &str) -> bool {
    matches!(e, ContributionError::Arrow { column: Some(c), .. } if c == name || c.strip_suffix("_fen") == Some(name))
}

/// Reads every row of a table with `read`, collecting every row's errors; rows are numbered
/// from 0 over the batches, in order.
pub(super) fn read_table<T>(
    table: &str,
    schema: &Schema,
    batches: &[RecordBatch],
    specs: &[Spec],
    read: impl Fn(&mut Row<'_, '_>) -> Option<T>,
) -> Result<Vec<T>, ContributionErrors> {
    let mut out = Vec::new();
    read_table_with(table, schema, batches, specs, read, |v| {
        out.push(v);
        Ok(())
    })?;
    Ok(out)
}

/// Reads every row of a table as [`read_table`] does, handing each record to `each` in order
/// instead of keeping them (none after the first error; an error of `each` is the row's).
pub(super) fn read_table_with<T>(
    table: &str,
    schema: &Schema,
    batches: &[RecordBatch],
    specs: &[Spec],
    read: impl Fn(&mut Row<'_, '_>) -> Option<T>,
    mut each: impl FnMut(T) -> Result<(), ContributionError>,
) -> Result<(), ContributionErrors> {
    let mut found = resolve(table, schema, specs)?;
    let mut errors = Vec::new();
    let mut first = 0;
    for batch in batches {
        let same = batch.schema().fields().len() == schema.fields().len()
            && batch
                .schema()
                .fields()
                .iter()
                .zip(schema.fields())
                .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
        if !same {
            let message = "the table's batches have different columns or types".to_string();
            return Err(error(table, None, None, message).into());
        }
        let mut columns: Vec<Option<Column<'_>>> = specs.iter().map(|_| None).collect();
        for f in &mut found {
            let array = batch.column(f.index);
            let cells = f.reader.cells(table, array).map_err(|e| table_error(table, e, Kind::Text))?;
            if let Some(slot) = columns.get_mut(f.spec) {
                *slot = Some(Column { name: &f.name, fen: f.fen, cells });
            }
        }
        for k in 0..batch.num_rows() {
            let mut row = Row { table, specs, row: first + k, k, columns: &columns, errors: Vec::new() };
            match read(&mut row) {
                Some(v) if row.errors.is_empty() => {
                    if errors.is_empty() {
                        each(v).unwrap_or_else(|e| errors.push(e));
                    }
                }
                _ => errors.append(&mut row.errors),
            }
        }
        first += batch.num_rows();
    }
    if errors.is_empty() { Ok(()) } else { Err(ContributionErrors(errors)) }
}

/// A column's cells in one batch.
pub(super) struct Column<'b> {
    name: &'b str,
    fen: bool,
    cells: Vec<Cell<'b>>,
}

/// One row being read: its cells by column, and the errors found so far.
pub(super) struct Row<'r, 'b> {
    table: &'r str,
    specs: &'r [Spec],
    row: usize,
    k: usize,
    columns: &'r [Option<Column<'b>>],
    errors: Vec<ContributionError>,
}

impl<'b> Row<'_, 'b> {
    /// The column of a spec's name and the row's cell in it (`None`: the table has no such
    /// column).
    fn cell(&self, column: &str) -> Option<(&Column<'b>, Cell<'b>)> {
        let i = self.specs.iter().position(|(n, ..)| *n == column)?;
        let c = self.columns.get(i)?.as_ref()?;
        Some((c, c.cells.get(self.k).copied().unwrap_or(Cell::Text(""))))
    }

    fn fail(&mut self, column: &str, message: String) {
        self.errors.push(error(self.table, Some(self.row), Some(column), message));
    }
}

impl Fields for Row<'_, '_> {
    /// A required text.
    fn text(&mut self, column: &str) -> String {
        match self.cell(column) {
            Some((_, Cell::Text(t))) if !t.is_empty() => t.to_string(),
            Some((c, _)) => {
                let name = c.name.to_string();
                self.fail(&name, "null or empty: a value is required".into());
                String::new()
            }
            None => String::new(),
        }
    }

    /// An optional text: `None` when null or empty (or the table has no such column).
    fn optional(&self, column: &str) -> Option<String> {
        match self.cell(column) {
            Some((_, Cell::Text(t))) if !t.is_empty() => Some(t.to_string()),
            _ => None,
        }
    }

    /// An optional text cell parsed by `parse`: `None` when null or empty, an error naming
    /// what was expected when unreadable.
    fn parsed_optional<T>(
        &mut self,
        column: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<Option<T>> {
        let text = match self.cell(column) {
            Some((c, Cell::Text(t))) if !t.is_empty() => (c.name.to_string(), t),
            _ => return Some(None),
        };
        let value = parse(text.1);
        if value.is_none() {
            self.fail(&text.0, format!("`{}` is not {expected}", text.1));
        }
        value.map(Some)
    }

    /// A required text cell parsed by `parse`.
    fn parsed<T>(&mut self, column: &str, expected: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        match self.parsed_optional(column, expected, parse) {
            Some(Some(v)) => Some(v),
            Some(None) => {
                let name = self.cell(column).map_or_else(|| column.to_string(), |(c, _)| c.name.to_string());
                self.fail(&name, format!("null or empty: expected {expected}"));
                None
            }
            None => None,
        }
    }

    /// An optional decimal: typed (trailing zeros beyond the fen dropped: a column's scale is
    /// its type's, not the writer's), a string, or whole fen in a `_fen` column.
    fn decimal_optional(&mut self, column: &str) -> Option<Option<Decimal>> {
        let (name, fen, cell) = match self.cell(column) {
            Some((c, cell)) => (c.name.to_string(), c.fen, cell),
            None => return Some(None),
        };
        match cell {
            Cell::Amount(d) => Some(Some(if d.scale() > 2 { d.normalize() } else { d })),
            Cell::Text("") => Some(None),
            Cell::Text(t) if fen => match t.parse::<i64>() {
                Ok(v) => Some(Some(from_fen(v))),
                Err(_) => {
                    self.fail(&name, format!("`{t}` is not a whole number of fen"));
                    None
                }
            },
            Cell::Text(t) => match parse_amount(t) {
                Ok(d) => Some(Some(d)),
                Err(_) => {
                    self.fail(&name, format!("`{t}` is not a decimal number"));
                    None
                }
            },
        }
    }

    /// A required decimal.
    fn decimal(&mut self, column: &str) -> Option<Decimal> {
        match self.decimal_optional(column) {
            Some(Some(d)) => Some(d),
            Some(None) => {
                let name = self.cell(column).map_or_else(|| column.to_string(), |(c, _)| c.name.to_string());
                self.fail(&name, "null or empty: a value is required".into());
                None
            }
            None => None,
        }
    }
}
