//! Parquet input (`run --aum x.parquet`, `--daily`, `--designations`), chosen by the file's
//! extension (`.parquet` or `.parq`).
//!
//! The columns are named as in the delimited files and resolved by the core's
//! [`Columns::resolve`]; every row goes through `Extract::push_values`: amounts typed (a
//! decimal is its exact value, integer fen converted), strings borrowed from the batch,
//! integers and dates as the text a CSV extract would hold, so parsing, identity and amount
//! rules are the same as for text.
//! A record is `file.parquet:N`, N the 1-based row in the file (0 names the schema).
//!
//! Column types:
//! - amounts (`aum`, component columns, `balance`): DECIMAL (any scale up to 28), or strings
//!   read as decimal text, or integers **only in a column whose name ends in `_fen`**, read as
//!   fen (`aum_fen` = 25000000 is 250000.00). An integer amount column without the suffix is
//!   refused: whether it holds yuan or fen is never guessed. Floating-point columns are
//!   refused.
//! - `month`: strings (`YYYY-MM`, `YYYYMM`), integers (`202403`) or dates (the date's month);
//!   `date`: strings, integers (`20240301`) or dates; `months`: integers or strings.
//! - ids, codes and names: strings only (an integer id would lose its leading zeros).
//!   Nulls are empty cells.

use std::fmt::Write;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Decimal256Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use crm_tiering::portfolio::{Cell, ColumnRole, Columns, RecordError, RecordRef, TableKind};
use crm_tiering::{Decimal, RuleBook, from_fen};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::exit::{Exit, Failure, io_error};
use crate::input::{EntityNames, Inputs, file_error};

/// Whether a path names a Parquet file (by its extension).
pub(crate) fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("parq"))
}

/// How a column's values become text cells.
#[derive(Debug, Clone, Copy, PartialEq)]
enum How {
    Text,
    Decimal,
    Fen,
    Integer,
    Date,
    MonthOfDate,
}

fn is_amount(role: Option<&ColumnRole>) -> bool {
    matches!(role, Some(ColumnRole::Aum | ColumnRole::ComponentAverage(_) | ColumnRole::Balance))
}

fn is_integer(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
    )
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null)
        || matches!(t, DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8))
}

/// How a column is read, or why it cannot be.
fn how(name: &str, fen: bool, role: Option<&ColumnRole>, t: &DataType) -> Result<How, String> {
    let amount = is_amount(role);
    if matches!(t, DataType::Float16 | DataType::Float32 | DataType::Float64) {
        return Err(if amount {
            Columns::float_amount_message(name)
        } else {
            format!("column `{name}` is written as binary floating-point numbers ({t}): write it as a string")
        });
    }
    if fen {
        if !amount {
            return Err(format!(
                "column `{name}_fen`: only amount columns (aum, the components, balance) are read as integer fen"
            ));
        }
        return if is_integer(t) {
            Ok(How::Fen)
        } else {
            Err(format!("column `{name}_fen` is {t}: a `_fen` column holds integer fen (分)"))
        };
    }
    if is_text(t) {
        return Ok(How::Text);
    }
    match role {
        _ if amount => match t {
            DataType::Decimal128(_, s) | DataType::Decimal256(_, s) if (0..=28).contains(s) => Ok(How::Decimal),
            DataType::Decimal128(..) | DataType::Decimal256(..) => {
                Err(format!("column `{name}` is {t}: an amount has 0 to 28 decimals"))
            }
            t if is_integer(t) => Err(Columns::integer_amount_message(name)),
            _ => Err(format!("column `{name}` is {t}: write amounts as decimals or strings")),
        },
        Some(ColumnRole::Month) if is_integer(t) => Ok(How::Integer),
        Some(ColumnRole::Month) if matches!(t, DataType::Date32 | DataType::Date64) => Ok(How::MonthOfDate),
        Some(ColumnRole::Date) if is_integer(t) => Ok(How::Integer),
        Some(ColumnRole::Date) if matches!(t, DataType::Date32 | DataType::Date64) => Ok(How::Date),
        Some(ColumnRole::Months) if is_integer(t) => Ok(How::Integer),
        Some(ColumnRole::CustomerId | ColumnRole::LegalEntity) if is_integer(t) => Err(format!(
            "column `{name}` holds integers ({t}): write ids and codes as strings (an integer loses leading zeros)"
        )),
        _ => Err(format!("column `{name}` is {t}: write it as a string")),
    }
}

/// The civil date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The cells of one column of a batch, row by row.
enum Column<'b> {
    /// Strings, borrowed from the batch (nulls are empty cells).
    Utf8(&'b arrow_array::StringArray),
    LargeUtf8(&'b arrow_array::LargeStringArray),
    View(&'b arrow_array::StringViewArray),
    /// No values: every cell is empty.
    Empty,
    /// Amounts, typed.
    Amounts(&'b [Amount]),
    /// Decimals, read as each row is: `beyond` holds the text of the values no amount can
    /// hold, by row.
    Decimal128 {
        array: &'b arrow_array::Decimal128Array,
        scale: u32,
        beyond: &'b [(usize, String)],
    },
    /// Values written as text (integers, dates): the text of row `k` ends at `ends[k]`.
    Rendered {
        text: &'b str,
        ends: &'b [usize],
    },
}

impl<'b> Column<'b> {
    /// Writes the column's cells into `out`, the batch's cells row by row (`width` a row): one
    /// loop a column, each knowing its column's type.
    fn fill(&self, out: &mut [Cell<'b>], column: usize, width: usize) {
        let rows = out.chunks_exact_mut(width).enumerate();
        match self {
            Column::Utf8(a) => {
                rows.for_each(|(k, r)| r[column] = Cell::Text(if a.is_null(k) { "" } else { a.value(k) }));
            }
            Column::Decimal128 { array, scale, beyond } => {
                let nulls = array.nulls();
                for ((k, r), v) in rows.zip(array.values().iter()) {
                    r[column] = if nulls.is_some_and(|n| n.is_null(k)) {
                        Cell::Text("")
                    } else {
                        match decimal(*v, *scale) {
                            Some(d) => Cell::Amount(d),
                            None => Cell::Text(
                                beyond.binary_search_by_key(&k, |(i, _)| *i).map_or("", |i| beyond[i].1.as_str()),
                            ),
                        }
                    };
                }
            }
            _ => rows.for_each(|(k, r)| r[column] = self.cell_at(k)),
        }
    }

    #[inline]
    fn cell_at(&self, k: usize) -> Cell<'b> {
        match self {
            Column::Utf8(a) => Cell::Text(if a.is_null(k) { "" } else { a.value(k) }),
            Column::LargeUtf8(a) => Cell::Text(if a.is_null(k) { "" } else { a.value(k) }),
            Column::View(a) => Cell::Text(if a.is_null(k) { "" } else { a.value(k) }),
            Column::Empty => Cell::Text(""),
            Column::Amounts(v) => match &v[k] {
                Amount::Null => Cell::Text(""),
                Amount::Value(d) => Cell::Amount(*d),
                Amount::Text(t) => Cell::Text(t),
            },
            Column::Decimal128 { array, scale, beyond } => {
                if array.is_null(k) {
                    return Cell::Text("");
                }
                match decimal(array.value(k), *scale) {
                    Some(d) => Cell::Amount(d),
                    None => {
                        Cell::Text(beyond.binary_search_by_key(&k, |(i, _)| *i).map_or("", |i| beyond[i].1.as_str()))
                    }
                }
            }
            Column::Rendered { text, ends } => {
                let start = if k == 0 { 0 } else { ends[k - 1] };
                Cell::Text(text.get(start..ends[k]).unwrap_or_default())
            }
        }
    }
}

/// An amount cell of a typed column.
enum Amount {
    /// A null: an empty cell.
    Null,
    /// The amount, exactly.
    Value(Decimal),
    /// A value no amount can hold (beyond the decimal's 96 bits, or integer fen beyond an
    /// `i64`), as text: the core refuses it, naming it.
    Text(String),
}

/// What a column of a batch is read into, reused from batch to batch.
#[derive(Default)]
struct Buffers {
    /// A string column of another type, as `Utf8`.
    cast: Option<ArrayRef>,
    amounts: Vec<Amount>,
    text: String,
    ends: Vec<usize>,
    /// Values no amount can hold, as text, by row.
    beyond: Vec<(usize, String)>,
}

/// The decimal of an unscaled value at a scale (0 to 28), when one can hold it.
#[inline]
fn decimal(value: i128, scale: u32) -> Option<Decimal> {
    let magnitude = value.unsigned_abs();
    if magnitude >> 64 == 0 && scale <= 28 {
        // The usual amount, built from its parts (as `Decimal::try_new` would, in registers).
        let (lo, mid) = (magnitude as u32, (magnitude >> 32) as u32);
        return Some(Decimal::from_parts(lo, mid, 0, value < 0, scale));
    }
    wide_decimal(value, scale)
}

/// [`decimal`] of a value beyond 64 bits (rare: amounts are bounded far below).
#[cold]
#[inline(never)]
fn wide_decimal(value: i128, scale: u32) -> Option<Decimal> {
    Decimal::try_from_i128_with_scale(value, scale).ok()
}

/// An exact decimal amount from an unscaled value and a scale, or the text `{value}e-{scale}`
/// (refused by the core) when no amount can hold it.
fn decimal_amount(value: i128, scale: u32) -> Amount {
    match decimal(value, scale) {
        Some(d) => Amount::Value(d),
        None => Amount::Text(format!("{value}e-{scale}")),
    }
}

/// An empty vector of cells with the allocation of another one, whatever the borrow.
fn recycle<'b>(mut v: Vec<Cell<'_>>) -> Vec<Cell<'b>> {
    v.clear();
    v.into_iter().map(|_| Cell::Text("")).collect()
}

/// Prepares a column of a batch in `buf` (amounts and rendered text); [`column`] then reads it.
fn prepare(col: &ArrayRef, how: How, buf: &mut Buffers) -> Result<(), String> {
    let n = col.len();
    macro_rules! ints {
        ($($dt:ident => $ty:ty),*) => {
            match col.data_type() {
                $(DataType::$dt => {
                    let a = col.as_primitive::<$ty>();
                    (0..n).map(|i| (!a.is_null(i)).then(|| i128::from(a.value(i)))).collect::<Vec<_>>()
                })*
                t => return Err(format!("unexpected integer type {t}")),
            }
        };
    }
    buf.cast = None;
    buf.amounts.clear();
    buf.text.clear();
    buf.ends.clear();
    buf.beyond.clear();
    match how {
        How::Text => {
            if !matches!(col.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null) {
                buf.cast = Some(arrow_cast::cast(col, &DataType::Utf8).map_err(|e| e.to_string())?);
            }
        }
        How::Fen => {
            let v = ints!(Int8 => Int8Type, Int16 => Int16Type, Int32 => Int32Type, Int64 => Int64Type,
                UInt8 => UInt8Type, UInt16 => UInt16Type, UInt32 => UInt32Type, UInt64 => UInt64Type);
            // Integer fen as the core reads the digits of a `_fen` column.
            buf.amounts.extend(v.into_iter().map(|x| match x {
                None => Amount::Null,
                Some(x) => match i64::try_from(x) {
                    Ok(fen) => Amount::Value(from_fen(fen)),
                    Err(_) => Amount::Text(x.to_string()),
                },
            }));
        }
        How::Integer => {
            let v = ints!(Int8 => Int8Type, Int16 => Int16Type, Int32 => Int32Type, Int64 => Int64Type,
                UInt8 => UInt8Type, UInt16 => UInt16Type, UInt32 => UInt32Type, UInt64 => UInt64Type);
            for x in v {
                if let Some(x) = x {
                    let _ = write!(buf.text, "{x}");
                }
                buf.ends.push(buf.text.len());
            }
        }
        How::Decimal => match col.data_type() {
            DataType::Decimal128(_, s) => {
                let a = col.as_primitive::<Decimal128Type>();
                let s = *s as u32;
                for i in 0..n {
                    if !a.is_null(i) && decimal(a.value(i), s).is_none() {
                        buf.beyond.push((i, format!("{}e-{s}", a.value(i))));
                    }
                }
            }
            DataType::Decimal256(_, s) => {
                let a = col.as_primitive::<Decimal256Type>();
                let s = *s as u32;
                buf.amounts.extend((0..n).map(|i| {
                    if a.is_null(i) {
                        return Amount::Null;
                    }
                    let v = a.value(i);
                    match v.to_i128() {
                        Some(v) => decimal_amount(v, s),
                        None => Amount::Text(format!("{v}e-{s}")),
                    }
                }));
            }
            t => return Err(format!("unexpected decimal type {t}")),
        },
        How::Date | How::MonthOfDate => {
            let d = arrow_cast::cast(col, &DataType::Date32).map_err(|e| e.to_string())?;
            let d = d.as_primitive::<Date32Type>();
            for i in 0..n {
                if !d.is_null(i) {
                    let (y, m, day) = civil(i64::from(d.value(i)));
                    let _ = if how == How::Date {
                        write!(buf.text, "{y:04}-{m:02}-{day:02}")
                    } else {
                        write!(buf.text, "{y:04}-{m:02}")
                    };
                }
                buf.ends.push(buf.text.len());
            }
        }
    }
    Ok(())
}

/// A column of a batch, prepared in `buf`, as cells.
fn column<'b>(col: &'b ArrayRef, how: How, buf: &'b Buffers) -> Column<'b> {
    match how {
        How::Text => {
            let col = buf.cast.as_ref().unwrap_or(col);
            match col.data_type() {
                DataType::Utf8 => Column::Utf8(col.as_string::<i32>()),
                DataType::LargeUtf8 => Column::LargeUtf8(col.as_string::<i64>()),
                DataType::Utf8View => Column::View(col.as_string_view()),
                _ => Column::Empty,
            }
        }
        How::Decimal if matches!(col.data_type(), DataType::Decimal128(..)) => {
            let scale = match col.data_type() {
                DataType::Decimal128(_, s) => *s as u32,
                _ => 0,
            };
            Column::Decimal128 { array: col.as_primitive::<Decimal128Type>(), scale, beyond: &buf.beyond }
        }
        How::Fen | How::Decimal => Column::Amounts(&buf.amounts),
        How::Integer | How::Date | How::MonthOfDate => Column::Rendered { text: &buf.text, ends: &buf.ends },
    }
}

/// Reads a Parquet table into the inputs; returns the number of rows.
///
/// Amounts are read typed ([`Extract::push_values`](crm_tiering::portfolio::Extract::push_values)),
/// strings are borrowed from the batches: a record is read with no copy of its cells.
///
/// # Errors
/// A usage failure when the file cannot be opened or is not Parquet. Columns that cannot be
/// read (a float amount, an integer amount without `_fen`, ...) are file errors: they stop the
/// run with the file and column named.
pub(crate) fn read_table(inputs: &mut Inputs, book: &RuleBook, path: &Path, kind: TableKind) -> Result<u64, Failure> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| io_error(Exit::Usage, path, "read the input file", &e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Failure::new(Exit::Usage, format!("{name}: not a readable Parquet file: {e}")))?;
    let schema = builder.schema().clone();
    // The core resolves the names, a `_fen` suffix included (an amount in integer fen).
    let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let cols = match Columns::resolve(book, kind, &refs) {
        Ok(c) => c,
        Err(e) => {
            inputs.file_errors.push(RecordError::at(e, Some(RecordRef::new(&name, 0))));
            return Ok(0);
        }
    };
    let mut hows = Vec::with_capacity(headers.len());
    for (i, f) in schema.fields().iter().enumerate() {
        let base = headers[i].strip_suffix("_fen").filter(|_| cols.is_fen(i)).unwrap_or(&headers[i]);
        match how(base, cols.is_fen(i), cols.role(i), f.data_type()) {
            Ok(h) => hows.push(h),
            Err(message) => {
                inputs.file_errors.push(file_error(&name, 0, &headers[i], message));
            }
        }
    }
    if hows.len() != headers.len() {
        return Ok(0);
    }
    if kind == TableKind::Aum {
        let rows = builder.metadata().file_metadata().num_rows();
        inputs.extract.reserve(usize::try_from(rows).unwrap_or(0));
    }
    let entity_col = cols.column(&ColumnRole::LegalEntity);
    let name_col = cols.column(&ColumnRole::LegalEntityName);
    let reader = builder
        .with_batch_size(1024)
        .build()
        .map_err(|e| Failure::new(Exit::Usage, format!("{name}: cannot read the Parquet file: {e}")))?;
    let mut names = EntityNames::default();
    let mut buffers: Vec<Buffers> = hows.iter().map(|_| Buffers::default()).collect();
    // The cells of a batch, row by row: one allocation for every batch.
    let mut cells_buffer: Vec<Cell<'static>> = Vec::new();
    let mut row = 0u64;
    for batch in reader {
        let batch =
            batch.map_err(|e| Failure::new(Exit::Usage, format!("{name}: cannot read the Parquet file: {e}")))?;
        for (i, (h, buf)) in hows.iter().zip(&mut buffers).enumerate() {
            prepare(batch.column(i), *h, buf)
                .map_err(|e| Failure::new(Exit::Usage, format!("{name}: column `{}`: {e}", headers[i])))?;
        }
        let columns: Vec<Column<'_>> =
            hows.iter().zip(&buffers).enumerate().map(|(i, (h, buf))| column(batch.column(i), *h, buf)).collect();
        let width = columns.len();
        let mut all = recycle(std::mem::take(&mut cells_buffer));
        all.resize(batch.num_rows() * width, Cell::Text(""));
        for (i, c) in columns.iter().enumerate() {
            c.fill(&mut all, i, width);
        }
        for cells in all.chunks_exact(width) {
            row += 1;
            if let (Some(e), Some(n)) = (entity_col, name_col)
                && let (Cell::Text(code), Cell::Text(entity_name)) = (cells[e], cells[n])
            {
                names.note(&mut inputs.entity_names, code, entity_name);
            }
            inputs.extract.push_values(&name, &cols, row, cells);
        }
        cells_buffer = recycle(all);
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_783), (2024, 3, 1));
        assert_eq!(civil(19_782), (2024, 2, 29));
    }
}
