//! The column helpers of the binding's own tables (errors, simulation, the store's audit
//! tables): amounts at fen scale, months as `date32` (the core's [`month_days`]), and the record
//! batch and Python table of finished columns. The states, events, alerts and rejects tables
//! are the core's ([`crm_tiering::portfolio::arrow::tables`]).

use std::sync::Arc;

use arrow_array::builder::Date32Builder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema};
pub(crate) use crm_tiering::portfolio::arrow::tables::month_days;
use crm_tiering::{Decimal, Month, to_fen};
use pyo3_arrow::PyTable;

/// An amount at fen scale (the core's conversion; amounts out of the engine always are).
#[inline]
fn fen(d: Decimal) -> Option<i128> {
    to_fen(d).map(i128::from)
}

pub(super) fn dec_builder(cap: usize) -> arrow_array::builder::Decimal128Builder {
    arrow_array::builder::Decimal128Builder::with_capacity(cap).with_data_type(DataType::Decimal128(38, 2))
}

/// Appends an amount at fen scale (the core's conversion; amounts out of the engine always are).
pub(super) fn append_dec(b: &mut arrow_array::builder::Decimal128Builder, d: Option<Decimal>) {
    b.append_option(d.and_then(fen));
}

pub(super) fn month(b: &mut Date32Builder, m: Option<Month>) {
    b.append_option(m.map(month_days));
}

pub(crate) fn batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch, ArrowError> {
    let fields: Vec<Field> = columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns.into_iter().map(|(_, a)| a).collect())
}

pub(crate) fn table(b: RecordBatch) -> Result<PyTable, ArrowError> {
    let schema = b.schema();
    PyTable::try_new(vec![b], schema).map_err(|e| ArrowError::ExternalError(Box::new(e)))
}
