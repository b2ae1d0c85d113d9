//! The loan months (SPEC §21.10) of an export: when the store holds loan months in the range,
//! `export --format csv` also writes loan_customers.csv and loan_signals.csv, in the columns of
//! the `loans` command's customers.csv and signals.csv, and loan_results.csv, each loan's
//! classes; `export --format jsonl` writes each loan month's states as
//! `loan-states-YYYY-MM.jsonl`, the `loans --states` file of the month after; `export --format
//! parquet` writes loan_customers.parquet, loan_results.parquet and loan_signals.parquet, the
//! core's loan tables (the same columns as the CSV files; Python's `Store.loans` too).

use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use crm_tiering::LoanOutcome;
use crm_tiering::portfolio::MonthRange;
use crm_tiering::portfolio::arrow::tables::{loan_customers_table, loan_results_table, loan_signals_table};
use crm_tiering_store::Store;

use crate::exit::Failure;
use crate::loans::files;
use crate::output::Staging;
use crate::store::failure;

/// The stored loan months in `months`, every customer's outcome (none when the range holds
/// no loan month).
fn stored(store: &mut Store, months: MonthRange) -> Result<Option<Vec<LoanOutcome>>, Failure> {
    let stored = store.loan_months().map_err(failure)?;
    if !stored.iter().any(|m| months.contains(*m)) {
        return Ok(None);
    }
    store.loan_range(months.first(), months.last()).map(Some).map_err(failure)
}

fn write(staging: &mut Staging, name: &str, head: &str, bom: bool, lines: &[String]) -> Result<(String, u64), Failure> {
    let mut f = staging.create(name)?;
    f.line(&format!("{}{head}", if bom { "\u{feff}" } else { "" }))?;
    for l in lines {
        f.line(l)?;
    }
    f.finish()?;
    Ok((name.to_string(), lines.len() as u64))
}

/// Writes the three CSV files when the store holds a loan month in `months`; returns each
/// file written with its rows (none otherwise).
pub(super) fn export_loans_csv(
    store: &mut Store,
    months: MonthRange,
    bom: bool,
    staging: &mut Staging,
) -> Result<Vec<(String, u64)>, Failure> {
    let Some(outcomes) = stored(store, months)? else { return Ok(Vec::new()) };
    let customers: Vec<String> = outcomes.iter().map(files::customer_line).collect();
    let results: Vec<String> =
        outcomes.iter().flat_map(|o| o.loans.iter().map(|l| files::result_line(o.month, &o.customer_id, l))).collect();
    let signals: Vec<String> = outcomes.iter().flat_map(|o| o.signals.iter().map(files::signal_line)).collect();
    Ok(vec![
        write(staging, "loan_customers.csv", files::CUSTOMERS, bom, &customers)?,
        write(staging, "loan_results.csv", files::RESULTS, bom, &results)?,
        write(staging, "loan_signals.csv", files::SIGNALS, bom, &signals)?,
    ])
}

/// Writes `loan-states-YYYY-MM.jsonl` for each stored loan month in `months`; returns each
/// file written with its rows.
pub(super) fn export_loan_states(
    store: &mut Store,
    months: MonthRange,
    staging: &mut Staging,
) -> Result<Vec<(String, u64)>, Failure> {
    let Some(outcomes) = stored(store, months)? else { return Ok(Vec::new()) };
    let mut written = Vec::new();
    let mut rest = outcomes.as_slice();
    while let Some(first) = rest.first() {
        let n = rest.iter().take_while(|o| o.month == first.month).count();
        let (month, tail) = rest.split_at(n);
        let text = crm_tiering::write_loan_states(month.iter().map(|o| (o.customer_id.as_str(), &o.state)));
        let name = format!("loan-states-{}.jsonl", first.month);
        staging.write(&name, &text)?;
        written.push((name, n as u64));
        rest = tail;
    }
    Ok(written)
}

/// The three loan tables of the stored loan months in `months` as the core builds them
/// ([`crm_tiering::portfolio::arrow::tables`]), by file name, for the Parquet export (none when
/// the store holds no loan month in `months`).
pub(super) fn loan_batches(store: &mut Store, months: MonthRange) -> Result<Vec<(&'static str, RecordBatch)>, Failure> {
    let Some(outcomes) = stored(store, months)? else { return Ok(Vec::new()) };
    let table =
        |name: &str, t: Result<RecordBatch, ArrowError>| t.map_err(|e| Failure::internal(format!("{name}: {e}")));
    Ok(vec![
        ("loan_customers.parquet", table("loan_customers", loan_customers_table(&outcomes))?),
        ("loan_results.parquet", table("loan_results", loan_results_table(&outcomes))?),
        ("loan_signals.parquet", table("loan_signals", loan_signals_table(&outcomes))?),
    ])
}
