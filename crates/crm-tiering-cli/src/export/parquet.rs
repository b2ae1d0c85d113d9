//! The Parquet export: the core's output tables ([`crm_tiering::portfolio::arrow::tables`]),
//! whose schemas the Python binding's tables share (SPEC §15, "Output tables"): months are
//! `date32` (the month's first day), amounts `decimal128(38, 2)`, codes dictionary strings.

use std::fs::File;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use crm_tiering::portfolio::MonthRange;
use crm_tiering::portfolio::arrow::tables::{
    AlertsTable, EventsTable, RejectsTable, StatesTable, TierCodes, alerts_schema, events_schema, rejects_schema,
    states_schema,
};
use crm_tiering_store::Store;
use parquet::arrow::ArrowWriter;

use crate::exit::Failure;
use crate::output::Staging;
use crate::store::failure;

/// Rows per record batch (and so at most per row group).
const BATCH: usize = 65_536;

/// A Parquet file being written, batch by batch.
struct ParquetFile {
    name: String,
    writer: ArrowWriter<File>,
    rows: u64,
}

impl ParquetFile {
    fn create(staging: &mut Staging, name: &str, schema: SchemaRef) -> Result<Self, Failure> {
        let file = staging.create(name)?.into_file()?;
        let writer = ArrowWriter::try_new(file, schema, None)
            .map_err(|e| Failure::internal(format!("{name}: cannot write Parquet: {e}")))?;
        Ok(ParquetFile { name: name.to_string(), writer, rows: 0 })
    }

    fn write(&mut self, batch: Result<RecordBatch, ArrowError>) -> Result<(), Failure> {
        let batch = batch.map_err(|e| Failure::internal(format!("{}: {e}", self.name)))?;
        self.rows += batch.num_rows() as u64;
        self.writer.write(&batch).map_err(|e| Failure::internal(format!("{}: cannot write Parquet: {e}", self.name)))
    }

    /// Closes the file; its name and rows.
    fn finish(self) -> Result<(String, u64), Failure> {
        self.writer.close().map_err(|e| Failure::internal(format!("{}: cannot write Parquet: {e}", self.name)))?;
        Ok((self.name, self.rows))
    }
}

/// The Parquet export of `months`: states, events, alerts and rejects, and the contribution
/// and loan months stored in the range. Returns each file written with its rows.
pub(super) fn export_parquet(
    store: &mut Store,
    months: MonthRange,
    staging: &mut Staging,
) -> Result<Vec<(String, u64)>, Failure> {
    let (first, last) = (months.first(), months.last());
    // One dictionary of tier codes for every table, in the order the codes are met.
    let mut codes = TierCodes::default();
    let mut written = vec![export_states(store, months, staging, &mut codes)?];

    let mut file = ParquetFile::create(staging, "events.parquet", events_schema())?;
    for chunk in store.events(first, last).map_err(failure)?.chunks(BATCH) {
        let mut table = EventsTable::new(chunk.len(), true);
        for e in chunk {
            table.push(&mut codes, &e.customer_id, &e.event);
        }
        file.write(table.finish(&codes, None))?;
    }
    written.push(file.finish()?);

    let mut file = ParquetFile::create(staging, "alerts.parquet", alerts_schema())?;
    for chunk in store.alerts(first, last).map_err(failure)?.chunks(BATCH) {
        let mut table = AlertsTable::new(chunk.len());
        for a in chunk {
            table.push(&mut codes, &a.customer_id, &a.alert);
        }
        file.write(table.finish(&codes, None))?;
    }
    written.push(file.finish()?);

    let mut file = ParquetFile::create(staging, "rejects.parquet", rejects_schema())?;
    for chunk in store.rejects(first, last).map_err(failure)?.chunks(BATCH) {
        let mut table = RejectsTable::default();
        for r in chunk {
            table.push(&r.as_reject());
        }
        file.write(table.finish())?;
    }
    written.push(file.finish()?);
    let mut batches = super::contribution::contribution_batches(store, months)?;
    batches.extend(super::loans::loan_batches(store, months)?);
    for (name, batch) in batches {
        let mut file = ParquetFile::create(staging, name, batch.schema())?;
        file.write(Ok(batch))?;
        written.push(file.finish()?);
    }
    Ok(written)
}

/// `states.parquet`, streamed from the store a batch at a time.
fn export_states(
    store: &mut Store,
    months: MonthRange,
    staging: &mut Staging,
    codes: &mut TierCodes,
) -> Result<(String, u64), Failure> {
    let mut file = ParquetFile::create(staging, "states.parquet", states_schema())?;
    let mut table = StatesTable::new(BATCH);
    let mut rows = 0usize;
    let mut error: Option<Failure> = None;
    let mut f = |r: crm_tiering_store::StateRow| {
        if error.is_some() {
            return Ok(());
        }
        table.push(codes, r.month, r.customer.borrowed(), r.evaluated, (&r.state, &r.history));
        rows += 1;
        if rows == BATCH {
            let full = std::mem::replace(&mut table, StatesTable::new(BATCH));
            rows = 0;
            if let Err(e) = file.write(full.finish(codes, None)) {
                error = Some(e);
            }
        }
        Ok(())
    };
    store.for_each_state(months.first(), months.last(), &mut f).map_err(failure)?;
    if let Some(e) = error {
        return Err(e);
    }
    if rows > 0 {
        file.write(table.finish(codes, None))?;
    }
    file.finish()
}
