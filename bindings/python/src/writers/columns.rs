//! The column builders shared by the writers: primitive and boolean columns filled row by row
//! into plain vectors (each becomes an Arrow array without a copy; a validity bitmap is only
//! built once a column meets a null), amounts at fen scale, months as `date32`, and the record
//! batch and Python table of finished columns.

use std::sync::Arc;

use arrow_array::builder::Date32Builder;
use arrow_array::types::{ArrowPrimitiveType, Decimal128Type};
use arrow_array::{Array, ArrayRef, BooleanArray, PrimitiveArray, RecordBatch};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use crm_tiering::{Decimal, Month, to_fen};
use pyo3_arrow::PyTable;

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
pub(super) struct Col<T: ArrowPrimitiveType> {
    pub(super) values: Vec<T::Native>,
    nulls: Validity,
}

impl<T: ArrowPrimitiveType> Col<T> {
    pub(super) fn with_capacity(n: usize) -> Self {
        Col { values: Vec::with_capacity(n), nulls: Validity::default() }
    }

    #[inline]
    pub(super) fn push(&mut self, v: T::Native) {
        self.values.push(v);
        self.nulls.push(true);
    }

    #[inline]
    pub(super) fn push_opt(&mut self, v: Option<T::Native>) {
        self.nulls.push(v.is_some());
        self.values.push(v.unwrap_or_default());
    }

    pub(super) fn finish(mut self) -> Result<PrimitiveArray<T>, ArrowError> {
        self.values.shrink_to_fit();
        PrimitiveArray::try_new(ScalarBuffer::from(self.values), self.nulls.finish())
    }
}

/// A boolean column filled row by row.
pub(super) struct Bools {
    values: Bits,
    nulls: Validity,
}

impl Bools {
    pub(super) fn with_capacity(n: usize) -> Self {
        Bools { values: Bits::with_capacity(n), nulls: Validity::default() }
    }

    #[inline]
    pub(super) fn push(&mut self, v: bool) {
        self.values.push(v);
        self.nulls.push(true);
    }

    #[inline]
    pub(super) fn push_opt(&mut self, v: Option<bool>) {
        self.nulls.push(v.is_some());
        self.values.push(v.unwrap_or_default());
    }

    pub(super) fn finish(self) -> Result<ArrayRef, ArrowError> {
        let values = self.values.finish();
        let nulls = self.nulls.finish();
        if nulls.as_ref().is_some_and(|n| n.len() != values.len()) {
            return Err(ArrowError::InvalidArgumentError("a boolean column's validity has another length".into()));
        }
        Ok(Arc::new(BooleanArray::new(values, nulls)))
    }
}

pub(super) fn array<T: ArrowPrimitiveType>(col: Col<T>) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(col.finish()?))
}

/// An amount column: `decimal128(38, 2)`, fen.
pub(super) fn amounts(col: Col<Decimal128Type>) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(col.finish()?.with_precision_and_scale(38, 2)?))
}

/// An amount at fen scale (the core's conversion; amounts out of the engine always are).
#[inline]
pub(super) fn fen(d: Decimal) -> Option<i128> {
    to_fen(d).map(i128::from)
}

pub(super) fn dec_builder(cap: usize) -> arrow_array::builder::Decimal128Builder {
    arrow_array::builder::Decimal128Builder::with_capacity(cap).with_data_type(DataType::Decimal128(38, 2))
}

/// Appends an amount at fen scale (the core's conversion; amounts out of the engine always are).
pub(super) fn append_dec(b: &mut arrow_array::builder::Decimal128Builder, d: Option<Decimal>) {
    b.append_option(d.and_then(fen));
}

/// Days from 1970-01-01 to the first day of a month (the proleptic Gregorian calendar), as
/// Arrow's `date32` counts them.
pub(crate) fn month_days(m: Month) -> i32 {
    let (y, mo) = (i64::from(m.year()), i64::from(m.month()));
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

pub(super) fn month(b: &mut Date32Builder, m: Option<Month>) {
    b.append_option(m.map(month_days));
}

/// A month's `date32` value, computed once for the rows of one month.
#[derive(Default)]
pub(super) struct Days(Option<(Month, i32)>);

impl Days {
    #[inline]
    pub(super) fn of(&mut self, m: Month) -> i32 {
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

pub(crate) fn batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch, ArrowError> {
    let fields: Vec<Field> = columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns.into_iter().map(|(_, a)| a).collect())
}

pub(crate) fn table(b: RecordBatch) -> Result<PyTable, ArrowError> {
    let schema = b.schema();
    PyTable::try_new(vec![b], schema).map_err(|e| ArrowError::ExternalError(Box::new(e)))
}
