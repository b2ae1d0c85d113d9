//! The rejects table's builder ([`RejectsTable`]).

use std::sync::Arc;

use arrow_array::builder::{Date32Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::ArrowError;

use super::columns::month_days;
use crate::month::Month;

/// A row of the rejects table: a customer held back or a record refused by a committing run,
/// as a store keeps it.
#[derive(Debug, Clone, Copy)]
pub struct Reject<'a> {
    /// The month of the run.
    pub month: Month,
    /// The run.
    pub run_id: i64,
    /// The reject's order in its run.
    pub seq: i64,
    /// The customer, when known.
    pub customer_id: Option<&'a str>,
    /// The error's category (`rules`, `input`, `sequence`, `state`).
    pub category: &'a str,
    /// The field, when known.
    pub field: Option<&'a str>,
    /// The record (`file:line`), when known.
    pub record: Option<&'a str>,
    /// The other record of a duplicate.
    pub other_record: Option<&'a str>,
    /// The full message.
    pub message: &'a str,
}

/// The rejects table ([`rejects_schema`](super::rejects_schema)) filled row by row.
///
/// ```
/// use crm_tiering::portfolio::arrow::tables::{Reject, RejectsTable, rejects_schema};
/// let mut table = RejectsTable::default();
/// let r = Reject {
///     month: "2024-03".parse()?, run_id: 1, seq: 1, customer_id: Some("c1"), category: "input",
///     field: Some("aum"), record: Some("aum.csv:2"), other_record: None, message: "not an amount",
/// };
/// table.push(&r);
/// let batch = table.finish()?;
/// assert_eq!((batch.schema(), batch.num_rows()), (rejects_schema(), 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct RejectsTable {
    month: Date32Builder,
    run_id: Int64Builder,
    seq: Int64Builder,
    customer: StringBuilder,
    category: StringBuilder,
    field: StringBuilder,
    record: StringBuilder,
    other: StringBuilder,
    message: StringBuilder,
}

impl RejectsTable {
    /// One row.
    pub fn push(&mut self, r: &Reject<'_>) {
        self.month.append_value(month_days(r.month));
        self.run_id.append_value(r.run_id);
        self.seq.append_value(r.seq);
        self.customer.append_option(r.customer_id);
        self.category.append_value(r.category);
        self.field.append_option(r.field);
        self.record.append_option(r.record);
        self.other.append_option(r.other_record);
        self.message.append_value(r.message);
    }

    /// The table.
    ///
    /// # Errors
    ///
    /// None in practice: the columns are built to the schema (Arrow's own check of a batch).
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.month.finish()),
            Arc::new(self.run_id.finish()),
            Arc::new(self.seq.finish()),
            Arc::new(self.customer.finish()),
            Arc::new(self.category.finish()),
            Arc::new(self.field.finish()),
            Arc::new(self.record.finish()),
            Arc::new(self.other.finish()),
            Arc::new(self.message.finish()),
        ];
        RecordBatch::try_new(super::rejects_schema(), columns)
    }
}
