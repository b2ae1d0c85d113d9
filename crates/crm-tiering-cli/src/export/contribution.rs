//! The contribution months (SPEC §20) of an export: when the store holds contribution months
//! in the range, `export --format csv` also writes contribution_customers.csv,
//! contribution_managers.csv and contribution_lineage.csv, in the columns of the
//! `contribution` command's customers.csv (without the by-pool columns), managers.csv and
//! lineage.csv; `export --format parquet` writes the same three tables as Parquet, in the
//! columns of the contribution crate's Arrow tables (Python's `crm_tiering.contribution`);
//! `export --format jsonl` writes each month's customers as `contribution-YYYY-MM.jsonl`, one
//! JSON object per customer-month with its figures as decimal strings.

use arrow_array::RecordBatch;
use crm_tiering::portfolio::MonthRange;
use crm_tiering_contribution::Figures;
use crm_tiering_contribution::arrow::{customer_rows_table, lineage_rows_table, manager_rows_table};
use crm_tiering_store::{ContributionRange, Store, StoredCustomer};

use crate::contribution::files::{FIGURES, LINEAGE, figure_cells, lineage_cells};
use crate::exit::Failure;
use crate::output::Staging;
use crate::store::failure;
use crate::text::csv_field;

fn write(staging: &mut Staging, name: &str, head: &[&str], bom: bool, rows: Vec<Vec<String>>) -> Result<u64, Failure> {
    let mut f = staging.create(name)?;
    f.line(&format!("{}{}", if bom { "\u{feff}" } else { "" }, head.join(",")))?;
    for r in &rows {
        f.line(&r.join(","))?;
    }
    f.finish()?;
    Ok(rows.len() as u64)
}

/// Writes the three files when the store holds a contribution month in `months`; returns
/// each file written with its rows (none otherwise).
pub(super) fn export_contribution(
    store: &mut Store,
    months: MonthRange,
    bom: bool,
    staging: &mut Staging,
) -> Result<Vec<(String, u64)>, Failure> {
    let Some(range) = stored_range(store, months)? else { return Ok(Vec::new()) };
    let customers = range
        .customers
        .iter()
        .map(|c| {
            let mut row = vec![c.month.to_string(), csv_field(&c.customer).into_owned()];
            row.extend(figure_cells(&c.figures));
            row
        })
        .collect();
    let managers = range
        .managers
        .iter()
        .map(|m| {
            let mut row = vec![m.month.to_string(), csv_field(&m.manager).into_owned(), m.customers.to_string()];
            row.extend(figure_cells(&m.figures));
            row
        })
        .collect();
    let lineage = range
        .lineage
        .iter()
        .map(|(month, l)| {
            let mut row = vec![month.to_string()];
            row.extend(lineage_cells(l));
            row
        })
        .collect();
    let head = |first: &[&'static str]| -> Vec<&'static str> { first.iter().chain(FIGURES.iter()).copied().collect() };
    Ok(vec![
        (
            "contribution_customers.csv".into(),
            write(staging, "contribution_customers.csv", &head(&["month", "customer"]), bom, customers)?,
        ),
        (
            "contribution_managers.csv".into(),
            write(staging, "contribution_managers.csv", &head(&["month", "manager", "customers"]), bom, managers)?,
        ),
        ("contribution_lineage.csv".into(), write(staging, "contribution_lineage.csv", &LINEAGE, bom, lineage)?),
    ])
}

/// The stored contribution months in `months`, none when the range holds none.
fn stored_range(store: &mut Store, months: MonthRange) -> Result<Option<ContributionRange>, Failure> {
    let stored = store.contribution_months().map_err(failure)?;
    if !stored.iter().any(|m| months.contains(*m)) {
        return Ok(None);
    }
    store.contribution_range(months.first(), months.last()).map(Some).map_err(failure)
}

/// The three tables of [`export_contribution`] as record batches, by file name, for the
/// Parquet export (none when the store holds no contribution month in `months`).
pub(super) fn contribution_batches(
    store: &mut Store,
    months: MonthRange,
) -> Result<Vec<(&'static str, RecordBatch)>, Failure> {
    let Some(range) = stored_range(store, months)? else { return Ok(Vec::new()) };
    let table = |name: &str, t: Result<RecordBatch, crm_tiering_contribution::ContributionError>| {
        t.map_err(|e| Failure::internal(format!("{name}: {e}")))
    };
    let customers = range.customers.iter().map(|c| (c.month, c.customer.as_str(), &c.figures));
    let managers = range
        .managers
        .iter()
        .map(|m| (m.month, m.manager.as_str(), usize::try_from(m.customers).unwrap_or(usize::MAX), &m.figures));
    Ok(vec![
        ("contribution_customers.parquet", table("contribution_customers", customer_rows_table(customers))?),
        ("contribution_managers.parquet", table("contribution_managers", manager_rows_table(managers))?),
        (
            "contribution_lineage.parquet",
            table("contribution_lineage", lineage_rows_table(range.lineage.iter().map(|(m, l)| (*m, l))))?,
        ),
    ])
}

/// A customer-month as one JSON object: `month`, `customer`, then the eight figures in
/// [`Figures::NAMES`] order, each a decimal string with two places (the CSV file's text).
fn customer_json(c: &StoredCustomer) -> Result<String, Failure> {
    let quoted = |s: &str| serde_json::to_string(s).map_err(|e| Failure::internal(e.to_string()));
    let mut fields =
        vec![format!("\"month\":{}", quoted(&c.month.to_string())?), format!("\"customer\":{}", quoted(&c.customer)?)];
    for (name, cell) in Figures::NAMES.iter().zip(figure_cells(&c.figures)) {
        fields.push(format!("\"{name}\":{}", quoted(&cell)?));
    }
    Ok(format!("{{{}}}", fields.join(",")))
}

/// Writes `contribution-YYYY-MM.jsonl` for each stored contribution month in `months` (one
/// line per customer, by id); returns each file written with its rows.
pub(super) fn export_contribution_jsonl(
    store: &mut Store,
    months: MonthRange,
    staging: &mut Staging,
) -> Result<Vec<(String, u64)>, Failure> {
    let Some(range) = stored_range(store, months)? else { return Ok(Vec::new()) };
    let mut written = Vec::new();
    let mut rest = range.customers.as_slice();
    while let Some(first) = rest.first() {
        let n = rest.iter().take_while(|c| c.month == first.month).count();
        let (month, tail) = rest.split_at(n);
        let mut text = String::new();
        for c in month {
            text.push_str(&customer_json(c)?);
            text.push('\n');
        }
        let name = format!("contribution-{}.jsonl", first.month);
        staging.write(&name, &text)?;
        written.push((name, n as u64));
        rest = tail;
    }
    Ok(written)
}
