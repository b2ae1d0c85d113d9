//! The store's audit tables for Python: the runs, the rejects, a simulation's baseline
//! differences (`Store.simulate`) and the stored loan months (`Store.loans`), as Arrow tables.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Int64Builder, StringBuilder, TimestampSecondBuilder, UInt64Builder,
};
use arrow_schema::ArrowError;
use crm_tiering::portfolio::BaselineDifference;
use crm_tiering::portfolio::arrow::tables::RejectsTable;
use crm_tiering::portfolio::arrow::tables::{loan_customers_table, loan_results_table, loan_signals_table};
use crm_tiering::{LoanOutcome, Month, TierCode};
use pyo3_arrow::PyTable;

use crate::writers::month_days;

fn columns(cols: Vec<(&str, ArrayRef)>) -> Result<PyTable, ArrowError> {
    crate::writers::table(crate::writers::batch(cols)?)
}

/// Seconds since 1970 of a store timestamp (UTC, RFC 3339).
fn timestamp(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp())
}

/// The runs table: one row per run with its audit data.
pub(crate) fn runs_table(runs: &[crm_tiering_store::RunRecord]) -> Result<PyTable, ArrowError> {
    let n = runs.len();
    let s = || StringBuilder::with_capacity(n, n * 16);
    let u = || UInt64Builder::with_capacity(n);
    let ts = || TimestampSecondBuilder::with_capacity(n).with_timezone("UTC");
    let (mut run_id, mut pid) = (Int64Builder::with_capacity(n), Int64Builder::with_capacity(n));
    let mut month = Date32Builder::with_capacity(n);
    let (mut status, mut host, mut tool, mut fp, mut inputs, mut note) = (s(), s(), s(), s(), s(), s());
    let (mut started, mut finished) = (ts(), ts());
    let (mut states, mut evaluated, mut events, mut alerts, mut rejects) = (u(), u(), u(), u(), u());
    let mut rerun = BooleanBuilder::with_capacity(n);
    for r in runs {
        run_id.append_value(r.run_id);
        month.append_value(month_days(r.month));
        status.append_value(r.status.as_str());
        rerun.append_value(r.rerun);
        started.append_option(timestamp(&r.started_at));
        finished.append_option(r.finished_at.as_deref().and_then(timestamp));
        pid.append_value(r.pid);
        host.append_value(&r.host);
        tool.append_value(&r.tool_version);
        fp.append_value(&r.rule_book_fingerprint);
        inputs.append_value(serde_json::to_string(&r.inputs).map_err(|e| ArrowError::ExternalError(Box::new(e)))?);
        states.append_option(r.counts.map(|c| c.states));
        evaluated.append_option(r.counts.map(|c| c.evaluated));
        events.append_option(r.counts.map(|c| c.events));
        alerts.append_option(r.counts.map(|c| c.alerts));
        rejects.append_option(r.counts.map(|c| c.rejects));
        note.append_option(r.note.as_deref());
    }
    columns(vec![
        ("run_id", Arc::new(run_id.finish())),
        ("month", Arc::new(month.finish())),
        ("status", Arc::new(status.finish())),
        ("rerun", Arc::new(rerun.finish())),
        ("started_at", Arc::new(started.finish())),
        ("finished_at", Arc::new(finished.finish())),
        ("pid", Arc::new(pid.finish())),
        ("host", Arc::new(host.finish())),
        ("tool_version", Arc::new(tool.finish())),
        ("rule_book_fingerprint", Arc::new(fp.finish())),
        ("inputs", Arc::new(inputs.finish())),
        ("states", Arc::new(states.finish())),
        ("evaluated", Arc::new(evaluated.finish())),
        ("events", Arc::new(events.finish())),
        ("alerts", Arc::new(alerts.finish())),
        ("rejects", Arc::new(rejects.finish())),
        ("note", Arc::new(note.finish())),
    ])
}

/// The rejects table: one row per customer held back or record refused by a committing run
/// (the core's, the CLI's `rejects.parquet` too).
pub(crate) fn rejects_table(rows: &[crm_tiering_store::RejectRow]) -> Result<PyTable, ArrowError> {
    let mut t = RejectsTable::default();
    for r in rows {
        t.push(&r.as_reject());
    }
    crate::writers::table(t.finish()?)
}

/// The baseline differences of a simulation from a store: `month`, `tier`, `committed`,
/// `replayed` (the columns of the CLI's baseline.csv).
pub(crate) fn baseline_table(rows: &[BaselineDifference]) -> Result<PyTable, ArrowError> {
    let n = rows.len();
    let mut month = Date32Builder::with_capacity(n);
    let mut tier = StringBuilder::with_capacity(n, n * 8);
    let (mut committed, mut replayed) = (Int64Builder::with_capacity(n), Int64Builder::with_capacity(n));
    for d in rows {
        month.append_value(month_days(d.month));
        tier.append_option(d.tier.as_ref().map(TierCode::as_str));
        committed.append_value(i64::try_from(d.committed).unwrap_or(i64::MAX));
        replayed.append_value(i64::try_from(d.replayed).unwrap_or(i64::MAX));
    }
    columns(vec![
        ("month", Arc::new(month.finish()) as ArrayRef),
        ("tier", Arc::new(tier.finish())),
        ("committed", Arc::new(committed.finish())),
        ("replayed", Arc::new(replayed.finish())),
    ])
}

/// The loan months' customers, results and signals tables: the core's loan tables (the CLI's
/// `loan_*.parquet` too).
pub(crate) fn loan_tables(outcomes: &[LoanOutcome]) -> Result<(PyTable, PyTable, PyTable), ArrowError> {
    let t = crate::writers::table;
    Ok((t(loan_customers_table(outcomes)?)?, t(loan_results_table(outcomes)?)?, t(loan_signals_table(outcomes)?)?))
}

/// Why a single loan month cannot be read: it is not stored.
pub(crate) fn loan_month_missing(month: Month, stored: &[Month]) -> String {
    let held = match stored {
        [] => "the store has no loan month".to_string(),
        [one] => format!("the store holds the loan month {one} only"),
        [first, .., last] => format!("the store holds {} loan months, {first}..{last}", stored.len()),
    };
    format!("loan month {month} is not stored in the store ({held})")
}
