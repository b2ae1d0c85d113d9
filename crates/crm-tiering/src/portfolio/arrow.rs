//! Reading typed tables — Arrow record batches, Parquet files — into an [`Extract`], with one
//! type policy for every surface (SPEC §15, "Reading typed tables"). The CLI's Parquet input,
//! the Python binding (pyarrow, pandas, polars, Spark) and the fuzz target all read through
//! [`TableReader`] (and [`read_parquet`], feature `parquet`), so a column means the same
//! everywhere.
//!
//! Which Arrow types each column role takes:
//!
//! | role | read | refused |
//! |---|---|---|
//! | ids and codes (`customer_id`, `legal_entity`, `legal_entity_name`, `customer_kind`, `component`, `action`, `tier`) | strings (`utf8`, `large_utf8`, `utf8_view`), dictionary-encoded strings, all-null | integers (an id loses its leading zeros), anything else |
//! | amounts (`aum`, component columns, `balance`) | strings (plain decimals, SPEC §16), `decimal128`/`decimal256` of any precision and scale (a negative scale too: `123` at scale −2 is 12300) | floats (a dictionary of floats too: pandas categoricals), booleans, integers — except in a column named `<name>_fen`, which holds whole fen as integers or digit strings |
//! | `month` | strings (`YYYY-MM`, `YYYYMM`), integers (`202403`), dates, zone-less timestamps (the month of their calendar date), pandas `Period[M]` (extension `pandas.period`, `freq` `M`) | timezone-aware timestamps (the month depends on the zone), periods of another frequency, floats, booleans |
//! | `date` (daily balances) | strings (`YYYY-MM-DD`, `YYYYMMDD`), integers (`20240301`), dates, zone-less timestamps | timezone-aware timestamps, floats, booleans |
//! | `months` (a designation's length) | strings, integers | anything else |
//!
//! A dictionary-encoded column is read as its values. A null is an empty cell. Values become
//! cells of [`Extract::push_values`] — strings borrowed, amounts typed, integers, dates and
//! periods as the text a CSV extract would hold — so every record check (ids, amounts, months,
//! kinds) is the core's, the same as for text. A refused type stops the table
//! ([`TableError::Type`], naming the table and the column) before any row is read.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Decimal128Array, RecordBatch, StringArray};
//! use crm_tiering::RuleBook;
//! use crm_tiering::portfolio::{Extract, TableKind};
//! use crm_tiering::portfolio::arrow::TableReader;
//! let book = RuleBook::default_book()?;
//! let ids: ArrayRef = Arc::new(StringArray::from(vec!["c1", "c2"]));
//! let aum: ArrayRef = Arc::new(Decimal128Array::from(vec![25_000_000, 1]).with_precision_and_scale(20, 2)?);
//! let batch = RecordBatch::try_from_iter([("customer_id", ids), ("aum", aum)])?;
//! let mut extract = Extract::new(&book);
//! let mut reader = TableReader::new(&book, TableKind::Aum, "aum", &batch.schema(), 0)?;
//! reader.push_batch(&mut extract, &batch)?;
//! reader.finish(&mut extract);
//! assert_eq!(extract.rows().len(), 2);
//! assert_eq!(extract.rows().get(1).unwrap().row(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Write;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Decimal256Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use rust_decimal::Decimal;

use super::columns::{ColumnRole, Columns, TableKind};
use super::extract::{Cell, Extract};
use crate::error::TieringError;
use crate::money::from_fen;
use crate::rules::RuleBook;

/// Rows turned into cells at a time (one buffer of cells serves a whole table).
const CHUNK: usize = 1024;

/// A table that cannot be read at all: the run cannot use it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    /// The header does not resolve (an unknown, repeated or missing column): the core's
    /// `input` error naming the column ([`Columns::resolve`]).
    #[error("table `{table}`: {error}")]
    Columns {
        /// The table.
        table: String,
        /// The error, naming the column as its field.
        error: TieringError,
    },
    /// A column whose Arrow type its role does not take (the type policy above).
    #[error("table `{table}`: {message}")]
    Type {
        /// The table.
        table: String,
        /// The column, as named in the table.
        column: String,
        /// Whether the column holds binary floating-point amounts (a binding may add how to
        /// write them exactly in its own terms).
        float_amount: bool,
        /// What is wrong, naming the column.
        message: String,
    },
    /// The data cannot be read: a damaged file, batches whose columns differ.
    #[error("table `{table}`: {message}")]
    Data {
        /// The table.
        table: String,
        /// What is wrong.
        message: String,
    },
}

impl TableError {
    /// The table the error is about.
    pub fn table(&self) -> &str {
        match self {
            TableError::Columns { table, .. } | TableError::Type { table, .. } | TableError::Data { table, .. } => {
                table
            }
        }
    }

    /// The column the error is about, when it is about one.
    pub fn column(&self) -> Option<&str> {
        match self {
            TableError::Columns { error, .. } => error.field(),
            TableError::Type { column, .. } => Some(column),
            TableError::Data { .. } => None,
        }
    }

    /// The message without the table's name.
    pub fn message(&self) -> String {
        match self {
            TableError::Columns { error, .. } => error.to_string(),
            TableError::Type { message, .. } | TableError::Data { message, .. } => message.clone(),
        }
    }
}

/// How a column's values become cells.
#[derive(Debug, Clone, Copy, PartialEq)]
enum How {
    /// Strings (or all nulls), borrowed.
    Text,
    /// Decimal amounts at a scale (negative: a power of ten above the unit).
    Decimal(i8),
    /// Integer fen, in a `_fen` column.
    Fen,
    /// Integers, as their digits (a month `202403`, a date `20240301`, a number of months).
    Integer,
    /// Days since 1970-01-01 (`date32`, or `date64`/timestamps divided down), as a date or a
    /// month.
    Days { per_day: i64, month: bool },
    /// A pandas period's ordinal: months since 1970-01.
    Period,
}

/// A column's plan: how its values (a dictionary's values) are read.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plan {
    how: How,
    dictionary: bool,
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

/// An Arrow type as the Arrow libraries write it in Python: `int64`, `double`,
/// `decimal128(20, 2)`, `timestamp[ns, tz=UTC]`.
fn type_name(t: &DataType) -> String {
    let unit = |u: &TimeUnit| match u {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    };
    match t {
        DataType::Float16 => "halffloat".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Utf8 => "string".into(),
        DataType::LargeUtf8 => "large_string".into(),
        DataType::Decimal128(p, s) => format!("decimal128({p}, {s})"),
        DataType::Decimal256(p, s) => format!("decimal256({p}, {s})"),
        DataType::Timestamp(u, None) => format!("timestamp[{}]", unit(u)),
        DataType::Timestamp(u, Some(tz)) => format!("timestamp[{}, tz={tz}]", unit(u)),
        DataType::Dictionary(k, v) => format!("dictionary<values={}, indices={}>", type_name(v), type_name(k)),
        t => t.to_string().to_lowercase(),
    }
}

fn per_day(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 86_400,
        TimeUnit::Millisecond => 86_400_000,
        TimeUnit::Microsecond => 86_400_000_000,
        TimeUnit::Nanosecond => 86_400_000_000_000,
    }
}

/// The frequency of a pandas period column (`ARROW:extension:name` = `pandas.period`), when
/// the column is one.
fn period_freq(field: &Field) -> Option<String> {
    let md = field.metadata();
    if md.get("ARROW:extension:name").map(String::as_str) != Some("pandas.period") {
        return None;
    }
    let freq = md
        .get("ARROW:extension:metadata")
        .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        .and_then(|v| v.get("freq").and_then(|f| f.as_str()).map(str::to_string));
    Some(freq.unwrap_or_default())
}

/// The type policy: how column `i` is read, or why it cannot be (the message, and whether the
/// column holds float amounts).
fn plan(cols: &Columns, i: usize, field: &Field) -> Result<Plan, (String, bool)> {
    let name = cols.name(i);
    let fen = cols.is_fen(i);
    let role = cols.role(i);
    let amount = role.is_some_and(ColumnRole::is_amount);
    // The amount's name without its `_fen`, for the messages that suggest one.
    let base = if fen { name.strip_suffix("_fen").unwrap_or(name) } else { name };
    let (t, dictionary) = match field.data_type() {
        DataType::Dictionary(_, v) => (&**v, true),
        t => (t, false),
    };
    let ok = |how| Ok(Plan { how, dictionary });
    let refuse = |message: String| Err((message, false));
    let shown = type_name(t);
    if let Some(freq) = period_freq(field) {
        return match role {
            Some(ColumnRole::Month) if freq == "M" && matches!(t, DataType::Int64 | DataType::Int32) => ok(How::Period),
            Some(ColumnRole::Month) if freq == "M" => {
                refuse(format!("column `{name}` holds periods stored as {shown}"))
            }
            Some(ColumnRole::Month) => refuse(format!(
                "column `{name}` holds periods of frequency `{freq}`: a month column takes monthly periods (Period[M]) only"
            )),
            _ => refuse(format!("column `{name}` holds periods: only a month column takes them (Period[M])")),
        };
    }
    match t {
        DataType::Float16 | DataType::Float32 | DataType::Float64 if amount => {
            Err((Columns::float_amount_message(base), true))
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => refuse(format!(
            "column `{name}` is written as binary floating-point numbers ({shown}): write it as a string"
        )),
        DataType::Boolean => refuse(format!("column `{name}` holds booleans: write it as a string")),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => ok(How::Text),
        t if fen && is_integer(t) => ok(How::Fen),
        _ if fen => refuse(format!(
            "column `{name}` is {shown}: a `_fen` column holds whole fen (分), as integers or strings of digits"
        )),
        DataType::Decimal128(_, s) | DataType::Decimal256(_, s) if amount => ok(How::Decimal(*s)),
        t if amount && is_integer(t) => refuse(Columns::integer_amount_message(name)),
        _ if amount => refuse(format!("column `{name}` is {shown}: write amounts as decimals or strings")),
        t if is_integer(t) && matches!(role, Some(ColumnRole::Month | ColumnRole::Date | ColumnRole::Months)) => {
            ok(How::Integer)
        }
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, None)
            if matches!(role, Some(ColumnRole::Month | ColumnRole::Date)) =>
        {
            let per_day = match t {
                DataType::Date64 => 86_400_000,
                DataType::Timestamp(unit, _) => per_day(*unit),
                _ => 1,
            };
            ok(How::Days { per_day, month: matches!(role, Some(ColumnRole::Month)) })
        }
        DataType::Timestamp(_, Some(tz)) if matches!(role, Some(ColumnRole::Month | ColumnRole::Date)) => {
            refuse(format!(
                "column `{name}` holds timezone-aware timestamps ({tz}): a month depends on the zone; convert them to the bank's zone and give dates, zone-less timestamps or YYYY-MM strings"
            ))
        }
        t if is_integer(t) && matches!(role, Some(ColumnRole::CustomerId | ColumnRole::LegalEntity)) => {
            refuse(format!(
                "column `{name}` holds integers ({shown}): write ids and codes as strings (an integer loses leading zeros)"
            ))
        }
        _ => refuse(format!("column `{name}` is {shown}: write it as a string")),
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

/// An amount cell of a typed column.
#[derive(Debug, Clone)]
enum Amount {
    /// A null: an empty cell.
    Null,
    /// The amount, exactly.
    Value(Decimal),
    /// A value no amount can hold (beyond the decimal's 96 bits or 28 decimals, or integer fen
    /// beyond an `i64`), as text: the core refuses it, naming it.
    Text(String),
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

/// [`decimal`] of a value beyond 64 bits or 28 decimals (rare: amounts are bounded far below):
/// trailing zeros beyond 28 decimals are dropped.
#[cold]
#[inline(never)]
fn wide_decimal(mut value: i128, mut scale: u32) -> Option<Decimal> {
    while scale > 28 && value % 10 == 0 {
        value /= 10;
        scale -= 1;
    }
    Decimal::try_from_i128_with_scale(value, scale).ok()
}

/// An amount from an unscaled value at an Arrow scale (negative: a power of ten above the
/// unit), or its text when no amount can hold it.
fn scaled(value: i128, scale: i8) -> Amount {
    let exact = if scale >= 0 {
        decimal(value, u32::from(scale.unsigned_abs()))
    } else {
        10i128
            .checked_pow(u32::from(scale.unsigned_abs()))
            .and_then(|p| value.checked_mul(p))
            .and_then(|v| decimal(v, 0))
    };
    match exact {
        Some(d) => Amount::Value(d),
        None if scale >= 0 => Amount::Text(format!("{value}e-{scale}")),
        None => Amount::Text(format!("{value}e{}", -i16::from(scale))),
    }
}

/// What a column of a batch is read into, reused from batch to batch.
#[derive(Default)]
struct Buffers {
    amounts: Vec<Amount>,
    text: String,
    ends: Vec<usize>,
    /// Decimals no amount can hold, as text, by row (the `decimal128` fast path).
    beyond: Vec<(usize, String)>,
    /// A dictionary's keys, each an index into its values (none for a null).
    keys: Vec<Option<usize>>,
}

/// The values a column's cells come from: the column, or a dictionary's values.
fn values_of(col: &ArrayRef, plan: Plan) -> ArrayRef {
    match (plan.dictionary, col.as_any_dictionary_opt()) {
        (true, Some(d)) => d.values().clone(),
        _ => col.clone(),
    }
}

/// Prepares a column of a batch in `buf`: a dictionary's keys; amounts and rendered text.
fn prepare(col: &ArrayRef, values: &ArrayRef, plan: Plan, buf: &mut Buffers) -> Result<(), String> {
    buf.amounts.clear();
    buf.text.clear();
    buf.ends.clear();
    buf.beyond.clear();
    buf.keys.clear();
    if plan.dictionary
        && let Some(d) = col.as_any_dictionary_opt()
    {
        let keys = d.normalized_keys();
        let n = values.len();
        for (k, key) in keys.into_iter().enumerate() {
            buf.keys.push((!d.keys().is_null(k) && key < n).then_some(key));
        }
    }
    let n = values.len();
    macro_rules! ints {
        ($($dt:ident => $ty:ty),*) => {
            match values.data_type() {
                $(DataType::$dt => {
                    let a = values.as_primitive::<$ty>();
                    (0..n).map(|i| (!a.is_null(i)).then(|| i128::from(a.value(i)))).collect::<Vec<_>>()
                })*
                t => return Err(format!("unexpected integer type {t}")),
            }
        };
    }
    let all_ints = || -> Result<Vec<Option<i128>>, String> {
        Ok(ints!(Int8 => Int8Type, Int16 => Int16Type, Int32 => Int32Type, Int64 => Int64Type,
            UInt8 => UInt8Type, UInt16 => UInt16Type, UInt32 => UInt32Type, UInt64 => UInt64Type))
    };
    match plan.how {
        How::Text => {}
        How::Fen => {
            // Integer fen as the core reads the digits of a `_fen` column.
            buf.amounts.extend(all_ints()?.into_iter().map(|x| match x {
                None => Amount::Null,
                Some(x) => match i64::try_from(x) {
                    Ok(fen) => Amount::Value(from_fen(fen)),
                    Err(_) => Amount::Text(x.to_string()),
                },
            }));
        }
        How::Integer => {
            for x in all_ints()? {
                if let Some(x) = x {
                    let _ = write!(buf.text, "{x}");
                }
                buf.ends.push(buf.text.len());
            }
        }
        How::Decimal(s) => match values.data_type() {
            DataType::Decimal128(..) if s >= 0 && !plan.dictionary => {
                let a = values.as_primitive::<Decimal128Type>();
                let scale = u32::from(s.unsigned_abs());
                // Only a value beyond 64 bits (or more than 28 decimals) may need its text: one
                // pass that does nothing else for the usual column.
                let wide = scale > 28 || a.values().iter().any(|v| v.unsigned_abs() >> 64 != 0);
                for i in (0..n).filter(|_| wide) {
                    if !a.is_null(i) && decimal(a.value(i), scale).is_none() {
                        buf.beyond.push((i, format!("{}e-{s}", a.value(i))));
                    }
                }
            }
            DataType::Decimal128(..) => {
                let a = values.as_primitive::<Decimal128Type>();
                buf.amounts.extend((0..n).map(|i| if a.is_null(i) { Amount::Null } else { scaled(a.value(i), s) }));
            }
            DataType::Decimal256(..) => {
                let a = values.as_primitive::<Decimal256Type>();
                buf.amounts.extend((0..n).map(|i| {
                    if a.is_null(i) {
                        return Amount::Null;
                    }
                    let v = a.value(i);
                    match v.to_i128() {
                        Some(v) => scaled(v, s),
                        None if s >= 0 => Amount::Text(format!("{v}e-{s}")),
                        None => Amount::Text(format!("{v}e{}", -i16::from(s))),
                    }
                }));
            }
            t => return Err(format!("unexpected decimal type {t}")),
        },
        How::Days { per_day, month } => {
            let days: Vec<Option<i64>> = match values.data_type() {
                DataType::Date32 => {
                    let a = values.as_primitive::<arrow_array::types::Date32Type>();
                    (0..n).map(|i| (!a.is_null(i)).then(|| i64::from(a.value(i)))).collect()
                }
                DataType::Date64 => {
                    let a = values.as_primitive::<arrow_array::types::Date64Type>();
                    (0..n).map(|i| (!a.is_null(i)).then(|| a.value(i).div_euclid(per_day))).collect()
                }
                DataType::Timestamp(unit, _) => {
                    let raw: Vec<Option<i64>> = match unit {
                        TimeUnit::Second => {
                            let a = values.as_primitive::<arrow_array::types::TimestampSecondType>();
                            (0..n).map(|i| (!a.is_null(i)).then(|| a.value(i))).collect()
                        }
                        TimeUnit::Millisecond => {
                            let a = values.as_primitive::<arrow_array::types::TimestampMillisecondType>();
                            (0..n).map(|i| (!a.is_null(i)).then(|| a.value(i))).collect()
                        }
                        TimeUnit::Microsecond => {
                            let a = values.as_primitive::<arrow_array::types::TimestampMicrosecondType>();
                            (0..n).map(|i| (!a.is_null(i)).then(|| a.value(i))).collect()
                        }
                        TimeUnit::Nanosecond => {
                            let a = values.as_primitive::<arrow_array::types::TimestampNanosecondType>();
                            (0..n).map(|i| (!a.is_null(i)).then(|| a.value(i))).collect()
                        }
                    };
                    raw.into_iter().map(|v| v.map(|v| v.div_euclid(per_day))).collect()
                }
                t => return Err(format!("unexpected date type {t}")),
            };
            for d in days {
                if let Some(d) = d {
                    let (y, m, day) = civil(d);
                    let _ = if month {
                        write!(buf.text, "{y:04}-{m:02}")
                    } else {
                        write!(buf.text, "{y:04}-{m:02}-{day:02}")
                    };
                }
                buf.ends.push(buf.text.len());
            }
        }
        How::Period => {
            for x in all_ints()? {
                if let Some(x) = x {
                    // Months since 1970-01.
                    let (y, m) = (1970 + x.div_euclid(12), x.rem_euclid(12) + 1);
                    let _ = write!(buf.text, "{y:04}-{m:02}");
                }
                buf.ends.push(buf.text.len());
            }
        }
    }
    Ok(())
}

/// The cells of one column of a batch (of a dictionary's values), row by row.
enum Column<'b> {
    /// Strings, borrowed from the batch (nulls are empty cells).
    Utf8(&'b arrow_array::StringArray),
    LargeUtf8(&'b arrow_array::LargeStringArray),
    View(&'b arrow_array::StringViewArray),
    /// No values: every cell is empty.
    Empty,
    /// Amounts, typed.
    Amounts(&'b [Amount]),
    /// Decimals read as each row is: `beyond` holds the text of the values no amount can hold.
    Decimal128 {
        array: &'b arrow_array::Decimal128Array,
        scale: u32,
        beyond: &'b [(usize, String)],
    },
    /// Values written as text: the text of row `k` ends at `ends[k]`.
    Rendered {
        text: &'b str,
        ends: &'b [usize],
    },
}

impl<'b> Column<'b> {
    fn of(values: &'b ArrayRef, plan: Plan, buf: &'b Buffers) -> Self {
        match plan.how {
            How::Text => match values.data_type() {
                DataType::Utf8 => Column::Utf8(values.as_string::<i32>()),
                DataType::LargeUtf8 => Column::LargeUtf8(values.as_string::<i64>()),
                DataType::Utf8View => Column::View(values.as_string_view()),
                _ => Column::Empty,
            },
            How::Decimal(s) if s >= 0 && !plan.dictionary && matches!(values.data_type(), DataType::Decimal128(..)) => {
                Column::Decimal128 {
                    array: values.as_primitive::<Decimal128Type>(),
                    scale: u32::from(s.unsigned_abs()),
                    beyond: &buf.beyond,
                }
            }
            How::Fen | How::Decimal(_) => Column::Amounts(&buf.amounts),
            How::Integer | How::Days { .. } | How::Period => Column::Rendered { text: &buf.text, ends: &buf.ends },
        }
    }

    #[inline]
    fn cell_at(&self, k: usize) -> Cell<'b> {
        match self {
            Column::Utf8(a) => Cell::Text(if a.is_null(k) { "" } else { a.value(k) }),
            Column::LargeUtf8(a) => Cell::Text(if a.is_null(k) { "" } else { a.value(k) }),
            Column::View(a) => Cell::Text(if a.is_null(k) { "" } else { a.value(k) }),
            Column::Empty => Cell::Text(""),
            Column::Amounts(v) => match v.get(k) {
                None | Some(Amount::Null) => Cell::Text(""),
                Some(Amount::Value(d)) => Cell::Amount(*d),
                Some(Amount::Text(t)) => Cell::Text(t),
            },
            Column::Decimal128 { array, scale, beyond } => {
                if array.is_null(k) {
                    return Cell::Text("");
                }
                match decimal(array.value(k), *scale) {
                    Some(d) => Cell::Amount(d),
                    None => Cell::Text(beyond_text(beyond, k)),
                }
            }
            Column::Rendered { text, ends } => {
                let start = if k == 0 { 0 } else { ends.get(k - 1).copied().unwrap_or(0) };
                Cell::Text(ends.get(k).and_then(|&end| text.get(start..end)).unwrap_or_default())
            }
        }
    }
}

fn beyond_text(beyond: &[(usize, String)], k: usize) -> &str {
    beyond.binary_search_by_key(&k, |(i, _)| *i).ok().and_then(|i| beyond.get(i)).map_or("", |(_, t)| t.as_str())
}

/// A column of a batch as cells: its values' column, through a dictionary's keys.
struct Cells<'b> {
    column: Column<'b>,
    keys: Option<&'b [Option<usize>]>,
}

impl<'b> Cells<'b> {
    /// Writes the cells of rows `start..` into `out` (rows of `width` cells), column `column`:
    /// one loop a column, each knowing its column's type.
    fn fill(&self, out: &mut [Cell<'b>], column: usize, width: usize, start: usize) {
        let rows = out.chunks_exact_mut(width).enumerate();
        match (self.keys, &self.column) {
            (Some(keys), c) => rows.for_each(|(j, r)| {
                r[column] = match keys.get(start + j).copied().flatten() {
                    Some(key) => c.cell_at(key),
                    None => Cell::Text(""),
                }
            }),
            (None, Column::Utf8(a)) => {
                rows.for_each(|(j, r)| {
                    let k = start + j;
                    r[column] = Cell::Text(if a.is_null(k) { "" } else { a.value(k) })
                });
            }
            (None, Column::Decimal128 { array, scale, beyond }) => {
                let nulls = array.nulls();
                let values = array.values().get(start..).unwrap_or_default();
                for ((j, r), v) in rows.zip(values.iter()) {
                    let k = start + j;
                    r[column] = if nulls.is_some_and(|n| n.is_null(k)) {
                        Cell::Text("")
                    } else {
                        match decimal(*v, *scale) {
                            Some(d) => Cell::Amount(d),
                            None => Cell::Text(beyond_text(beyond, k)),
                        }
                    };
                }
            }
            (None, c) => rows.for_each(|(j, r)| r[column] = c.cell_at(start + j)),
        }
    }
}

/// An empty vector of cells with the allocation of another one, whatever the borrow.
fn recycle<'b>(mut v: Vec<Cell<'_>>) -> Vec<Cell<'b>> {
    v.clear();
    v.into_iter().map(|_| Cell::Text("")).collect()
}

/// Reads one typed table (its batches, in order) into an [`Extract`]: the header resolved by
/// [`Columns::resolve`], each column's type checked against the policy once, then every row
/// pushed with [`Extract::push_values`] as row `first_row`, `first_row + 1`, ... of the table.
pub struct TableReader {
    name: String,
    cols: Columns,
    headers: Vec<String>,
    plans: Vec<Plan>,
    next_row: u64,
    buffers: Vec<Buffers>,
    cells: Vec<Cell<'static>>,
}

impl std::fmt::Debug for TableReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableReader").field("name", &self.name).field("next_row", &self.next_row).finish()
    }
}

impl TableReader {
    /// A reader of table `name` of `kind` with `schema`, whose first row is numbered
    /// `first_row` (the CLI numbers a Parquet file's rows from 1, the bindings from 0).
    ///
    /// # Errors
    /// [`TableError::Columns`] when the header does not resolve; [`TableError::Type`] for the
    /// first column whose type its role does not take.
    pub fn new(
        book: &RuleBook,
        kind: TableKind,
        name: &str,
        schema: &Schema,
        first_row: u64,
    ) -> Result<Self, TableError> {
        let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let cols = Columns::resolve(book, kind, &refs)
            .map_err(|error| TableError::Columns { table: name.to_string(), error })?;
        let mut plans = Vec::with_capacity(headers.len());
        for (i, field) in schema.fields().iter().enumerate() {
            match plan(&cols, i, field) {
                Ok(p) => plans.push(p),
                Err((message, float_amount)) => {
                    return Err(TableError::Type {
                        table: name.to_string(),
                        column: cols.name(i).to_string(),
                        float_amount,
                        message,
                    });
                }
            }
        }
        Ok(TableReader {
            name: name.to_string(),
            buffers: plans.iter().map(|_| Buffers::default()).collect(),
            cols,
            headers,
            plans,
            next_row: first_row,
            cells: Vec::new(),
        })
    }

    /// The resolved columns.
    pub fn columns(&self) -> &Columns {
        &self.cols
    }

    /// The number the next row gets.
    pub fn next_row(&self) -> u64 {
        self.next_row
    }

    /// Pushes a batch's rows.
    ///
    /// # Errors
    /// [`TableError::Data`] when the batch's columns are not the table's.
    pub fn push_batch(&mut self, extract: &mut Extract, batch: &RecordBatch) -> Result<(), TableError> {
        self.push_batch_with(extract, batch, |_, _| {})
    }

    /// [`TableReader::push_batch`], calling `each` with the columns and every row's cells
    /// before the row is pushed (the CLI notes legal entities' names there).
    ///
    /// # Errors
    /// As [`TableReader::push_batch`].
    pub fn push_batch_with(
        &mut self,
        extract: &mut Extract,
        batch: &RecordBatch,
        mut each: impl FnMut(&Columns, &[Cell<'_>]),
    ) -> Result<(), TableError> {
        let schema = batch.schema();
        let same =
            schema.fields().len() == self.headers.len()
                && schema.fields().iter().zip(&self.headers).zip(&self.plans).all(|((f, h), p)| {
                    f.name() == h && matches!(f.data_type(), DataType::Dictionary(..)) == p.dictionary
                });
        if !same {
            let message = "the table's batches have different columns".to_string();
            return Err(TableError::Data { table: self.name.clone(), message });
        }
        let values: Vec<ArrayRef> = batch.columns().iter().zip(&self.plans).map(|(c, p)| values_of(c, *p)).collect();
        for (i, buf) in self.buffers.iter_mut().enumerate() {
            if let Err(e) = prepare(batch.column(i), &values[i], self.plans[i], buf) {
                let message = format!("column `{}`: {e}", self.cols.name(i));
                return Err(TableError::Data { table: self.name.clone(), message });
            }
        }
        let columns: Vec<Cells<'_>> = values
            .iter()
            .zip(&self.plans)
            .zip(&self.buffers)
            .map(|((v, p), buf)| Cells {
                column: Column::of(v, *p, buf),
                keys: p.dictionary.then_some(buf.keys.as_slice()),
            })
            .collect();
        let width = columns.len();
        let n = batch.num_rows();
        let mut all = recycle(std::mem::take(&mut self.cells));
        let mut start = 0;
        while start < n {
            let rows = CHUNK.min(n - start);
            // Every cell is written by its column's fill: the buffer is only sized.
            if all.len() != rows * width {
                all.clear();
                all.resize(rows * width, Cell::Text(""));
            }
            for (i, c) in columns.iter().enumerate() {
                c.fill(&mut all, i, width, start);
            }
            for cells in all.chunks_exact(width) {
                each(&self.cols, cells);
                // Amounts are typed only in amount columns (the plans): no text to make.
                extract.push_typed(&self.name, &self.cols, self.next_row, cells);
                self.next_row += 1;
            }
            start += rows;
        }
        self.cells = recycle(all);
        Ok(())
    }

    /// Ends the table ([`Extract::end_table`]): a month (date) column none of whose cells is a
    /// month stops the run.
    pub fn finish(self, extract: &mut Extract) {
        extract.end_table(&self.name, &self.cols);
    }
}

#[cfg(feature = "parquet")]
mod parquet_file;
#[cfg(feature = "parquet")]
pub use parquet_file::{CheckedChunks, read_parquet};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_783), (2024, 3, 1));
        assert_eq!(civil(19_782), (2024, 2, 29));
        assert_eq!(civil(-1), (1969, 12, 31));
    }

    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow_array::types::Int32Type;
    use arrow_array::{
        BooleanArray, Date64Array, Decimal256Array, DictionaryArray, Float64Array, Int64Array, StringArray,
        TimestampMillisecondArray,
    };
    use arrow_schema::Field;

    use crate::portfolio::{Extract, TableKind};

    fn batch(columns: Vec<(Field, ArrayRef)>) -> RecordBatch {
        let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn field(name: &str, a: &ArrayRef) -> Field {
        Field::new(name, a.data_type().clone(), true)
    }

    /// Reads a batch as an AUM table: (customer id, month, aum) of each row read, and the
    /// (customer, field) of each rejected one.
    #[allow(clippy::type_complexity)]
    fn read(b: &RecordBatch) -> Result<(Vec<(String, Option<String>, String)>, Vec<(String, String)>), TableError> {
        let book = RuleBook::default_book().unwrap_or_else(|e| unreachable!("{e}"));
        let mut x = Extract::new(&book);
        let mut r = TableReader::new(&book, TableKind::Aum, "t", &b.schema(), 0)?;
        r.push_batch(&mut x, b)?;
        r.finish(&mut x);
        let rows = x
            .rows()
            .iter()
            .map(|r| (r.customer_id().to_string(), r.month().map(|m| m.to_string()), format!("{:?}", r.aum())))
            .collect();
        let held = x
            .rejected()
            .chain(x.fatal())
            .map(|e| (e.customer().unwrap_or_default().to_string(), e.field().unwrap_or_default().to_string()))
            .collect();
        Ok((rows, held))
    }

    fn ids() -> ArrayRef {
        Arc::new(StringArray::from(vec!["c1", "c2"]))
    }

    #[test]
    fn dictionaries_periods_and_wide_decimals() {
        let keys = arrow_array::Int32Array::from(vec![1, 0]);
        let dict: ArrayRef =
            Arc::new(DictionaryArray::<Int32Type>::try_new(keys, ids()).unwrap_or_else(|e| unreachable!("{e}")));
        let wide: ArrayRef = Arc::new(
            Decimal256Array::from(vec![arrow_buffer::i256::from_i128(25_000_000), arrow_buffer::i256::from_i128(1)])
                .with_precision_and_scale(40, 2)
                .unwrap_or_else(|e| unreachable!("{e}")),
        );
        let ordinals: ArrayRef = Arc::new(Int64Array::from(vec![648, 649]));
        let meta = HashMap::from([
            ("ARROW:extension:name".to_string(), "pandas.period".to_string()),
            ("ARROW:extension:metadata".to_string(), r#"{"freq":"M"}"#.to_string()),
        ]);
        let period = field("month", &ordinals).with_metadata(meta.clone());
        let b = batch(vec![
            (field("customer_id", &dict), dict),
            (period, ordinals.clone()),
            (field("aum", &wide), wide.clone()),
        ]);
        let (rows, held) = read(&b).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(held.is_empty(), "{held:?}");
        let got: Vec<(&str, Option<&str>)> = rows.iter().map(|(c, m, _)| (c.as_str(), m.as_deref())).collect();
        assert_eq!(got, [("c2", Some("2024-01")), ("c1", Some("2024-02"))]);
        assert!(rows[0].2.contains("250000.00"), "{rows:?}");
        // A daily period is refused, naming the frequency.
        let mut daily = meta;
        daily.insert("ARROW:extension:metadata".into(), r#"{"freq":"D"}"#.into());
        let b = batch(vec![
            (field("customer_id", &ids()), ids()),
            (field("month", &ordinals).with_metadata(daily), ordinals),
            (field("aum", &wide), wide),
        ]);
        let err = read(&b).unwrap_err();
        assert_eq!(err.column(), Some("month"));
        assert!(err.to_string().contains("frequency `D`"), "{err}");
    }

    #[test]
    fn refused_types_name_the_table_and_the_column() {
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0]));
        let keys = arrow_array::Int32Array::from(vec![0, 1]);
        let float_dict: ArrayRef = Arc::new(
            DictionaryArray::<Int32Type>::try_new(keys, floats.clone()).unwrap_or_else(|e| unreachable!("{e}")),
        );
        let bools: ArrayRef = Arc::new(BooleanArray::from(vec![true, false]));
        let zoned: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![0, 0]).with_timezone("Asia/Shanghai"));
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        let text: ArrayRef = Arc::new(StringArray::from(vec!["1", "2"]));
        let cases: Vec<(&str, ArrayRef, &str, bool)> = vec![
            ("aum", floats, "binary floating-point", true),
            ("aum", float_dict, "binary floating-point", true),
            ("aum", bools.clone(), "booleans", false),
            ("aum", ints.clone(), "aum_fen", false),
            ("customer_kind", bools, "booleans", false),
            ("month", zoned, "timezone-aware timestamps (Asia/Shanghai)", false),
            ("customer_id", ints, "holds integers (int64)", false),
        ];
        for (name, array, says, float) in cases {
            let mut columns = vec![(field("aum", &text), text.clone())];
            if name == "aum" {
                columns.clear();
            }
            if name != "customer_id" {
                columns.push((field("customer_id", &ids()), ids()));
            }
            columns.push((field(name, &array), array));
            let err = read(&batch(columns)).unwrap_err();
            let TableError::Type { table, column, float_amount, message } = &err else { unreachable!("{err:?}") };
            assert_eq!((table.as_str(), column.as_str(), *float_amount), ("t", name, float), "{err}");
            assert!(message.contains(says) && err.to_string().starts_with("table `t`: column"), "{err}");
        }
    }

    #[test]
    fn dates_timestamps_and_a_month_column_of_something_else() {
        let day = 86_400_000;
        let dates: ArrayRef = Arc::new(Date64Array::from(vec![19_783 * day, 19_782 * day]));
        let naive: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![19_783 * day + 1, -1]));
        let aum: ArrayRef = Arc::new(StringArray::from(vec!["1", "2"]));
        for months in [dates, naive] {
            let b = batch(vec![
                (field("customer_id", &ids()), ids()),
                (field("month", &months), months),
                (field("aum", &aum), aum.clone()),
            ]);
            let (rows, held) = read(&b).unwrap_or_else(|e| unreachable!("{e}"));
            assert!(held.is_empty());
            let got: Vec<Option<String>> = rows.into_iter().map(|r| r.1).collect();
            assert!(
                got == [Some("2024-03".into()), Some("2024-02".into())]
                    || got == [Some("2024-03".into()), Some("1969-12".into())],
                "{got:?}"
            );
        }
        // Integers that are not months, throughout: the run stops, naming the column.
        let ordinals: ArrayRef = Arc::new(Int64Array::from(vec![648, 649]));
        let b = batch(vec![
            (field("customer_id", &ids()), ids()),
            (field("month", &ordinals), ordinals),
            (field("aum", &aum), aum),
        ]);
        let (rows, held) = read(&b).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(rows.is_empty());
        assert_eq!(
            held,
            [("c1".into(), "month".into()), ("c2".into(), "month".into()), (String::new(), "month".into())]
        );
    }

    #[test]
    fn negative_scales_and_wide_values() {
        let text = |a: Amount| match a {
            Amount::Value(d) => d.to_string(),
            Amount::Text(t) => format!("text {t}"),
            Amount::Null => "null".into(),
        };
        assert_eq!(text(scaled(123, -2)), "12300");
        assert_eq!(text(scaled(12_345, 2)), "123.45");
        assert_eq!(text(scaled(1_000, 30)), "0.0000000000000000000000000010");
        assert_eq!(text(scaled(1, 30)), "text 1e-30");
        assert_eq!(text(scaled(i128::MAX, -2)), format!("text {}e2", i128::MAX));
    }
}
