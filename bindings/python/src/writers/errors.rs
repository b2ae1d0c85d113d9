//! The writer of the errors table.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_array::builder::{Date32Builder, StringBuilder, UInt64Builder};
use arrow_schema::ArrowError;
use crm_tiering::Month;
use crm_tiering::portfolio::RecordError;

use super::columns::{batch, month};

/// The errors table: one row per held customer or refused record, with exactly the core's
/// error parts (the same as the exceptions' attributes).
#[derive(Default)]
pub(crate) struct ErrorsWriter {
    customer: StringBuilder,
    month: Date32Builder,
    reported_in: Date32Builder,
    category: StringBuilder,
    field: StringBuilder,
    message: StringBuilder,
    record_table: StringBuilder,
    record_row: UInt64Builder,
    other_table: StringBuilder,
    other_row: UInt64Builder,
}

impl ErrorsWriter {
    pub(crate) fn row(&mut self, reported_in: Option<Month>, e: &RecordError) {
        self.customer.append_option(e.customer());
        month(&mut self.month, e.month());
        month(&mut self.reported_in, reported_in);
        self.category.append_value(e.category());
        self.field.append_option(e.field());
        self.message.append_value(e.error.to_string());
        self.record_table.append_option(e.record.as_ref().map(|r| r.table.as_str()));
        self.record_row.append_option(e.record.as_ref().map(|r| r.row));
        self.other_table.append_option(e.other_record.as_ref().map(|r| r.table.as_str()));
        self.other_row.append_option(e.other_record.as_ref().map(|r| r.row));
    }

    pub(super) fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        batch(vec![
            ("customer_id", Arc::new(self.customer.finish())),
            ("month", Arc::new(self.month.finish())),
            ("reported_in", Arc::new(self.reported_in.finish())),
            ("category", Arc::new(self.category.finish())),
            ("field", Arc::new(self.field.finish())),
            ("message", Arc::new(self.message.finish())),
            ("record_table", Arc::new(self.record_table.finish())),
            ("record_row", Arc::new(self.record_row.finish())),
            ("other_record_table", Arc::new(self.other_table.finish())),
            ("other_record_row", Arc::new(self.other_row.finish())),
        ])
    }
}
