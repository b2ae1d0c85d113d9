//! A column of a batch made ready to be read as cells: typed amounts (exact decimals, or the
//! text of values no amount can hold), integers, dates and periods rendered as the text a CSV
//! extract would hold, and a dictionary's keys.

use std::fmt::Write;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Decimal256Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use rust_decimal::Decimal;

use super::policy::{How, Plan};
use crate::money::from_fen;

/// The civil date of a day count since 1970-01-01 (H. Hinnant's algorithm).
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "0 <= doy <= 365 and 0 <= mp <= 11 by the algorithm: the day is 1 to 31, the month 1 to 12"
)]
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
pub(super) enum Amount {
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
#[expect(
    clippy::cast_possible_truncation,
    reason = "magnitude >> 64 == 0 is checked: the two low words are the magnitude"
)]
pub(super) fn decimal(value: i128, scale: u32) -> Option<Decimal> {
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
pub(super) struct Buffers {
    pub(super) amounts: Vec<Amount>,
    pub(super) text: String,
    pub(super) ends: Vec<usize>,
    /// Decimals no amount can hold, as text, by row (the `decimal128` fast path).
    pub(super) beyond: Vec<(usize, String)>,
    /// A dictionary's keys, each an index into its values (none for a null).
    pub(super) keys: Vec<Option<usize>>,
}

/// The values a column's cells come from: the column, or a dictionary's values.
pub(super) fn values_of(col: &ArrayRef, plan: Plan) -> ArrayRef {
    match (plan.dictionary, col.as_any_dictionary_opt()) {
        (true, Some(d)) => d.values().clone(),
        _ => col.clone(),
    }
}

/// Prepares a column of a batch in `buf`: a dictionary's keys; amounts and rendered text.
pub(super) fn prepare(col: &ArrayRef, values: &ArrayRef, plan: Plan, buf: &mut Buffers) -> Result<(), String> {
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
    match plan.how {
        How::Text => {}
        How::Fen => {
            // Integer fen as the core reads the digits of a `_fen` column.
            buf.amounts.extend(integers(values)?.into_iter().map(|x| match x {
                None => Amount::Null,
                Some(x) => match i64::try_from(x) {
                    Ok(fen) => Amount::Value(from_fen(fen)),
                    Err(_) => Amount::Text(x.to_string()),
                },
            }));
        }
        How::Integer => {
            for x in integers(values)? {
                if let Some(x) = x {
                    let _ = write!(buf.text, "{x}");
                }
                buf.ends.push(buf.text.len());
            }
        }
        How::Decimal(s) => prepare_decimals(values, s, plan.dictionary, buf)?,
        How::Days { per_day, month } => {
            for d in days(values, per_day)? {
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
            for x in integers(values)? {
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

/// The values of an integer column, widened (none for a null).
fn integers(values: &ArrayRef) -> Result<Vec<Option<i128>>, String> {
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
    Ok(ints!(Int8 => Int8Type, Int16 => Int16Type, Int32 => Int32Type, Int64 => Int64Type,
        UInt8 => UInt8Type, UInt16 => UInt16Type, UInt32 => UInt32Type, UInt64 => UInt64Type))
}

/// Prepares a decimal column at Arrow scale `s`: a `decimal128` column at a scale not
/// negative, not through a dictionary, is read row by row later (only the text of values no
/// amount can hold is kept); any other becomes amounts here.
fn prepare_decimals(values: &ArrayRef, s: i8, dictionary: bool, buf: &mut Buffers) -> Result<(), String> {
    let n = values.len();
    match values.data_type() {
        DataType::Decimal128(..) if s >= 0 && !dictionary => {
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
    }
    Ok(())
}

/// The days since 1970-01-01 of a date or zone-less timestamp column (`per_day`: its units
/// in a day), none for a null.
fn days(values: &ArrayRef, per_day: i64) -> Result<Vec<Option<i64>>, String> {
    let n = values.len();
    Ok(match values.data_type() {
        DataType::Date32 => {
            let a = values.as_primitive::<arrow_array::types::Date32Type>();
            (0..n).map(|i| (!a.is_null(i)).then(|| i64::from(a.value(i)))).collect()
        }
        DataType::Date64 => {
            let a = values.as_primitive::<arrow_array::types::Date64Type>();
            (0..n).map(|i| (!a.is_null(i)).then(|| a.value(i).div_euclid(per_day))).collect()
        }
        DataType::Timestamp(unit, _) => {
            timestamps(values, *unit).into_iter().map(|v| v.map(|v| v.div_euclid(per_day))).collect()
        }
        t => return Err(format!("unexpected date type {t}")),
    })
}

/// The raw values of a timestamp column in `unit` (none for a null).
fn timestamps(values: &ArrayRef, unit: TimeUnit) -> Vec<Option<i64>> {
    let n = values.len();
    match unit {
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
    }
}

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
