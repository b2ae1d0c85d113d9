//! Parquet input (`run --aum x.parquet`, `--daily`, `--designations`), chosen by the file's
//! extension (`.parquet` or `.parq`).
//!
//! The columns are named as in the delimited files and resolved by the core's
//! [`Columns::resolve`]; every row is turned into the text cells a CSV extract would hold and
//! pushed through [`Extract::push_cells`], so parsing, identity and amount rules are the same.
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

use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Decimal256Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use crm_tiering::portfolio::{ColumnRole, Columns, RecordError, RecordRef, TableKind};
use crm_tiering::{Decimal, RuleBook};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::exit::{Exit, Failure, io_error};
use crate::input::{Inputs, file_error};

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

/// A column of a batch as text cells (empty for nulls).
fn cells(col: &ArrayRef, how: How) -> Result<Vec<String>, String> {
    let n = col.len();
    macro_rules! ints {
        ($($dt:ident => $ty:ty),*) => {
            match col.data_type() {
                $(DataType::$dt => col.as_primitive::<$ty>().iter().map(|v| v.map(i128::from)).collect::<Vec<_>>(),)*
                t => return Err(format!("unexpected integer type {t}")),
            }
        };
    }
    Ok(match how {
        How::Text => {
            let s = arrow_cast::cast(col, &DataType::Utf8).map_err(|e| e.to_string())?;
            let s = s.as_string::<i32>();
            (0..n).map(|i| if s.is_null(i) { String::new() } else { s.value(i).to_string() }).collect()
        }
        How::Integer | How::Fen => {
            let v = ints!(Int8 => Int8Type, Int16 => Int16Type, Int32 => Int32Type, Int64 => Int64Type,
                UInt8 => UInt8Type, UInt16 => UInt16Type, UInt32 => UInt32Type, UInt64 => UInt64Type);
            v.into_iter()
                // Integers as their digits; a `_fen` column's are read as fen by the core.
                .map(|x| x.map_or_else(String::new, |x| x.to_string()))
                .collect()
        }
        How::Decimal => match col.data_type() {
            DataType::Decimal128(_, s) => {
                let a = col.as_primitive::<Decimal128Type>();
                let s = *s as u32;
                (0..n)
                    .map(|i| {
                        if a.is_null(i) {
                            return String::new();
                        }
                        let v = a.value(i);
                        Decimal::try_from_i128_with_scale(v, s).map_or_else(|_| format!("{v}e-{s}"), |d| d.to_string())
                    })
                    .collect()
            }
            DataType::Decimal256(_, s) => {
                let a = col.as_primitive::<Decimal256Type>();
                let s = *s as u32;
                (0..n)
                    .map(|i| {
                        if a.is_null(i) {
                            return String::new();
                        }
                        let v = a.value(i);
                        v.to_i128()
                            .and_then(|v| Decimal::try_from_i128_with_scale(v, s).ok())
                            .map_or_else(|| format!("{v}e-{s}"), |d| d.to_string())
                    })
                    .collect()
            }
            t => return Err(format!("unexpected decimal type {t}")),
        },
        How::Date | How::MonthOfDate => {
            let d = arrow_cast::cast(col, &DataType::Date32).map_err(|e| e.to_string())?;
            let d = d.as_primitive::<Date32Type>();
            (0..n)
                .map(|i| {
                    if d.is_null(i) {
                        return String::new();
                    }
                    let (y, m, day) = civil(i64::from(d.value(i)));
                    if how == How::Date { format!("{y:04}-{m:02}-{day:02}") } else { format!("{y:04}-{m:02}") }
                })
                .collect()
        }
    })
}

/// Reads a Parquet table into the inputs; returns the number of rows.
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
    let entity_col = cols.column(&ColumnRole::LegalEntity);
    let name_col = cols.column(&ColumnRole::LegalEntityName);
    let reader = builder
        .with_batch_size(8192)
        .build()
        .map_err(|e| Failure::new(Exit::Usage, format!("{name}: cannot read the Parquet file: {e}")))?;
    let mut row = 0u64;
    for batch in reader {
        let batch =
            batch.map_err(|e| Failure::new(Exit::Usage, format!("{name}: cannot read the Parquet file: {e}")))?;
        let mut columns = Vec::with_capacity(hows.len());
        for (i, h) in hows.iter().enumerate() {
            let c = cells(batch.column(i), *h)
                .map_err(|e| Failure::new(Exit::Usage, format!("{name}: column `{}`: {e}", headers[i])))?;
            columns.push(c);
        }
        let mut refs: Vec<&str> = Vec::with_capacity(columns.len());
        for k in 0..batch.num_rows() {
            row += 1;
            refs.clear();
            refs.extend(columns.iter().map(|c| c[k].as_str()));
            if let (Some(e), Some(n)) = (entity_col, name_col) {
                let (code, entity_name) = (refs[e].trim(), refs[n].trim());
                if !code.is_empty() && !entity_name.is_empty() && !inputs.entity_names.contains_key(code) {
                    inputs.entity_names.insert(code.to_string(), entity_name.to_string());
                }
            }
            inputs.extract.push_cells(&name, &cols, row, &refs);
        }
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
