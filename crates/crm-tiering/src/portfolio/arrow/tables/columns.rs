//! The column builders of the output tables: primitive and boolean columns filled row by row
//! into plain vectors (each becomes an Arrow array without a copy; a validity bitmap is only
//! built once a column meets a null), amounts at fen scale and months as `date32`.

use std::sync::Arc;

use arrow_array::types::{ArrowPrimitiveType, Decimal128Type};
use arrow_array::{ArrayRef, BooleanArray, PrimitiveArray};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, ScalarBuffer};
use arrow_schema::ArrowError;

use crate::money::to_fen;
use crate::month::Month;
use rust_decimal::Decimal;

/// Bits filled row by row, packed 64 at a time (Arrow's order: row `i` is bit `i % 8` of byte
/// `i / 8`), without a branch per row.
#[derive(Default)]
struct Bits {
    words: Vec<u64>,
    word: u64,
    len: usize,
}

impl Bits {
    fn with_capacity(n: usize) -> Self {
        Bits { words: Vec::with_capacity(n.div_ceil(64)), word: 0, len: 0 }
    }

    /// `n` bits set.
    fn ones(n: usize) -> Self {
        let mut words = Vec::with_capacity(n.div_ceil(64) * 2);
        words.resize(n / 64, u64::MAX);
        let rest = n % 64;
        Bits { words, word: if rest == 0 { 0 } else { u64::MAX >> (64 - rest) }, len: n }
    }

    #[inline]
    fn push(&mut self, bit: bool) {
        self.word |= u64::from(bit) << (self.len % 64);
        self.len += 1;
        if self.len.is_multiple_of(64) {
            self.words.push(self.word.to_le());
            self.word = 0;
        }
    }

    fn finish(mut self) -> BooleanBuffer {
        if !self.len.is_multiple_of(64) {
            self.words.push(self.word.to_le());
        }
        BooleanBuffer::new(Buffer::from_vec(self.words), 0, self.len)
    }
}

/// Validity filled row by row: nothing until the first null, then one bit per row.
#[derive(Default)]
struct Validity {
    rows: usize,
    bits: Option<Bits>,
}

impl Validity {
    #[inline]
    fn push(&mut self, valid: bool) {
        match &mut self.bits {
            Some(b) => b.push(valid),
            None if valid => {}
            None => self.first_null(),
        }
        self.rows += 1;
    }

    #[cold]
    fn first_null(&mut self) {
        let mut bits = Bits::ones(self.rows);
        bits.push(false);
        self.bits = Some(bits);
    }

    fn finish(self) -> Option<NullBuffer> {
        self.bits.map(|b| NullBuffer::new(b.finish()))
    }
}

/// A primitive column filled row by row: the values in a vector (taken by the array without a
/// copy), a validity bitmap only once a null is met.
pub(crate) struct Col<T: ArrowPrimitiveType> {
    pub(crate) values: Vec<T::Native>,
    nulls: Validity,
}

impl<T: ArrowPrimitiveType> Col<T> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Col { values: Vec::with_capacity(n), nulls: Validity::default() }
    }

    #[inline]
    pub(crate) fn push(&mut self, v: T::Native) {
        self.values.push(v);
        self.nulls.push(true);
    }

    #[inline]
    pub(crate) fn push_opt(&mut self, v: Option<T::Native>) {
        self.nulls.push(v.is_some());
        self.values.push(v.unwrap_or_default());
    }

    pub(crate) fn finish(mut self) -> Result<PrimitiveArray<T>, ArrowError> {
        self.values.shrink_to_fit();
        PrimitiveArray::try_new(ScalarBuffer::from(self.values), self.nulls.finish())
    }
}

/// A boolean column filled row by row.
pub(crate) struct Bools {
    values: Bits,
    nulls: Validity,
}

impl Bools {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Bools { values: Bits::with_capacity(n), nulls: Validity::default() }
    }

    #[inline]
    pub(crate) fn push(&mut self, v: bool) {
        self.values.push(v);
        self.nulls.push(true);
    }

    #[inline]
    pub(crate) fn push_opt(&mut self, v: Option<bool>) {
        self.nulls.push(v.is_some());
        self.values.push(v.unwrap_or_default());
    }

    pub(crate) fn finish(self) -> Result<ArrayRef, ArrowError> {
        let values = self.values.finish();
        let nulls = self.nulls.finish();
        if nulls.as_ref().is_some_and(|n| n.len() != values.len()) {
            return Err(ArrowError::InvalidArgumentError("a boolean column's validity has another length".into()));
        }
        Ok(Arc::new(BooleanArray::new(values, nulls)))
    }
}

pub(crate) fn array<T: ArrowPrimitiveType>(col: Col<T>) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(col.finish()?))
}

/// An amount column: `decimal128(38, 2)`, fen.
pub(crate) fn amounts(col: Col<Decimal128Type>) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(col.finish()?.with_precision_and_scale(38, 2)?))
}

/// An amount column filled row by row, which remembers an amount that is not whole fen (the
/// engine's never are): the table then refuses to finish rather than write it rounded or null.
pub(crate) struct Amounts {
    col: Col<Decimal128Type>,
    inexact: Option<Decimal>,
}

impl Amounts {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Amounts { col: Col::with_capacity(n), inexact: None }
    }

    /// An amount already in fen.
    #[inline]
    pub(crate) fn push_fen(&mut self, fen: Option<i64>) {
        self.col.push_opt(fen.map(i128::from));
    }

    #[inline]
    pub(crate) fn push(&mut self, d: Option<Decimal>) {
        let fen = d.map(|d| (d, to_fen(d)));
        if let Some((d, None)) = fen {
            self.inexact.get_or_insert(d);
        }
        self.col.push_opt(fen.and_then(|f| f.1).map(i128::from));
    }

    pub(crate) fn finish(self) -> Result<ArrayRef, ArrowError> {
        if let Some(d) = self.inexact {
            return Err(ArrowError::InvalidArgumentError(format!("amount {d} is not a whole number of fen")));
        }
        amounts(self.col)
    }
}

/// Days from 1970-01-01 to the first day of a month (the proleptic Gregorian calendar), as
/// Arrow's `date32` counts them: the month columns of the output tables.
///
/// ```
/// use crm_tiering::Month;
/// use crm_tiering::portfolio::arrow::tables::month_days;
/// assert_eq!(month_days("1970-02".parse::<Month>()?), 31);
/// assert_eq!(month_days("2024-03".parse::<Month>()?), 19_783);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn month_days(m: Month) -> i32 {
    let (y, mo) = (i64::from(m.year()), i64::from(m.month()));
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // Months are years 1900 to 9999: about ±3 million days, well within `i32`.
    i32::try_from(era * 146_097 + doe - 719_468).unwrap_or(i32::MAX)
}

/// A month's `date32` value, computed once for the rows of one month.
#[derive(Default)]
pub(crate) struct Days(Option<(Month, i32)>);

impl Days {
    #[inline]
    pub(crate) fn of(&mut self, m: Month) -> i32 {
        match self.0 {
            Some((last, d)) if last == m => d,
            _ => {
                let d = month_days(m);
                self.0 = Some((m, d));
                d
            }
        }
    }
}
