//! The type policy of typed tables: which Arrow types each column role takes, and how a
//! column's values become cells ([`Plan`]), decided once per column before any row is read.

use arrow_schema::{DataType, Field, TimeUnit};

use crate::portfolio::columns::{ColumnRole, Columns};

/// How a column's values become cells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum How {
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
pub(super) struct Plan {
    pub(super) how: How,
    pub(super) dictionary: bool,
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
pub(super) fn plan(cols: &Columns, i: usize, field: &Field) -> Result<Plan, (String, bool)> {
    plan_role(cols.name(i), cols.role(i), cols.is_fen(i), field)
}

/// [`plan`] of a column named `name` of `role` (`fen`: an amount column named `<name>_fen`).
pub(super) fn plan_role(
    name: &str,
    role: Option<&ColumnRole>,
    fen: bool,
    field: &Field,
) -> Result<Plan, (String, bool)> {
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
