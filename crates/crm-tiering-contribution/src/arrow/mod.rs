//! Arrow tables in and out (feature `arrow`): each input table read from record batches into
//! the crate's records, each output written as a record batch (SPEC §20.7).
//!
//! **Reading** takes the CSV tables' columns (SPEC §20.7), each read under the tiering core's
//! type policy (SPEC §15.8, [`ColumnReader`](crm_tiering::portfolio::arrow::ColumnReader)):
//!
//! | columns | read | refused |
//! |---|---|---|
//! | ids and codes (`customer`, `account`, `product`, `side`, `branch`, ...) | strings, dictionary-encoded strings | integers (an id loses its leading zeros), floats, anything else |
//! | money (`average_balance`, `amount`) | `decimal128`/`decimal256`, strings; whole fen as integers or digit strings in a column `<name>_fen` (`amount_fen`) | floats, integers in a column not named `_fen` |
//! | numbers (`customer_rate`, `risk_weight`, `rate`, `share`, `value`) | `decimal128`/`decimal256`, strings, integers (a whole number) | floats |
//! | months (`month`, `effective`) | strings (`YYYY-MM`, `YYYYMM`), integers (`202403`), dates, zone-less timestamps, pandas `Period[M]` | timezone-aware timestamps, floats |
//! | `days` | strings, integers | anything else |
//!
//! A null is an empty cell: an error in a required column, nothing in an optional one. A
//! typed decimal's trailing zeros are dropped (its scale is its column's, not the writer's:
//! `0.0030000000` in a `decimal128(38, 10)` column is the rate `0.003`). Rows are numbered
//! from 0 over the table's batches. A column the table does not have, a repeated or missing
//! column, or a refused type stops the table (every such column reported); otherwise every bad
//! cell is reported ([`ContributionError::Arrow`](crate::ContributionError::Arrow): table, row,
//! column) and the table gives no records.
//!
//! **Writing**: [`customers_table`], [`managers_table`], [`branches_table`],
//! [`legal_entities_table`], [`lineage_table`], [`stages_table`]. Money is
//! `decimal128(38, 2)`, rates and risk weights `decimal128(38, 10)` (the crate's ten decimals),
//! driver quantities and totals `decimal128(38, 20)` (a quantity of ten decimals times a
//! coefficient of ten), months `date32` (the month's first day, as the tiering tables), ids
//! and codes `utf8`, counts `int64`. A column that always has a value is not nullable.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Decimal128Array, RecordBatch, StringArray};
//! use crm_tiering_contribution::arrow::{customers_table, read_account_months};
//! use crm_tiering_contribution::{compute, Inputs, RuleBook};
//!
//! let text = |v: &[&str]| -> ArrayRef { Arc::new(StringArray::from(v.to_vec())) };
//! let balance: ArrayRef = Arc::new(Decimal128Array::from(vec![36_000_000]).with_precision_and_scale(20, 2)?);
//! let rate: ArrayRef = Arc::new(Decimal128Array::from(vec![20]).with_precision_and_scale(10, 4)?);
//! let batch = RecordBatch::try_from_iter([
//!     ("month", text(&["2024-03"])), ("customer", text(&["c1"])), ("account", text(&["a1"])),
//!     ("product", text(&["demand"])), ("side", text(&["liability"])), ("average_balance", balance),
//!     ("customer_rate", rate), ("branch", text(&["b1"])), ("legal_entity", text(&["le1"])),
//! ])?;
//! let accounts = read_account_months("account_months", &batch.schema(), &[batch])?;
//! let book = RuleBook::from_toml_str(r#"
//!     basis = 360
//!     [ftp]
//!     rates = [{ product = "demand", term = "none", effective = "2024-01", rate = "0.0200" }]
//! "#)?;
//! let result = compute(&book, "2024-03".parse()?, &Inputs { account_months: accounts, ..Inputs::default() })?;
//! let customers = customers_table(&result)?;
//! // 360,000.00 × (2.00% − 0.20%) × 31 / 360 = 558.00
//! let net = customers.column_by_name("net_contribution").unwrap();
//! assert_eq!(net.as_any().downcast_ref::<Decimal128Array>().unwrap().value_as_string(0), "558.00");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod read;
mod write;

use self::read::Kind::{Count, Money, Month as M, Number, Text};
use self::read::{Spec, read_table, read_table_with};
use crate::error::ContributionErrors;
use crate::ftp::FtpRate;
use crate::inputs::{AccountMonth, Activity, Assignment, CostPool, DirectCost, Fee};
use crate::records;
use crate::table::AccountMonthTable;
use arrow_array::RecordBatch;
use arrow_schema::Schema;
pub use write::{
    branches_table, customer_rows_table, customers_table, legal_entities_table, lineage_rows_table, lineage_table,
    manager_rows_table, managers_table, stages_table,
};

const ACCOUNT_MONTHS: &[Spec] = &[
    ("month", M, true),
    ("customer", Text, true),
    ("account", Text, true),
    ("product", Text, true),
    ("term", Text, false),
    ("side", Text, true),
    ("average_balance", Money, true),
    ("customer_rate", Number, true),
    ("days", Count, false),
    ("branch", Text, true),
    ("legal_entity", Text, true),
    ("loan_class", Text, false),
    ("risk_weight", Number, false),
];

/// Reads account-months (the columns of [`read_account_months`](crate::read_account_months)):
/// `month`, `customer`, `account`, `product`, `side`, `average_balance`, `customer_rate`,
/// `branch`, `legal_entity`; optional `term` (null: `none`), `days` (null: the month's days),
/// `loan_class`, `risk_weight`.
///
/// # Errors
/// Every column that cannot be read, or every cell that cannot, by row and column.
pub fn read_account_months(
    table: &str,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<AccountMonth>, ContributionErrors> {
    read_table(table, schema, batches, ACCOUNT_MONTHS, |r| records::account_month(r))
}

/// Reads account-months as [`read_account_months`] does (the same columns, checks and
/// errors), into an [`AccountMonthTable`] row by row instead of a list: about 80 bytes an
/// account-month where an [`AccountMonth`] takes about 400, for large months
/// ([`compute_table`](crate::compute_table) computes from it).
///
/// # Errors
/// As [`read_account_months`]; [`ContributionError::TooLarge`](crate::ContributionError::TooLarge)
/// when the ids pass 4 GiB of text.
pub fn read_account_month_table(
    table: &str,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<AccountMonthTable, ContributionErrors> {
    let mut out = AccountMonthTable::new();
    read_table_with(table, schema, batches, ACCOUNT_MONTHS, |r| records::account_month(r), |a| out.push(&a))?;
    Ok(out)
}

/// Reads FTP rates: `product`, `term`, `effective` (a month), `rate` (a fraction).
///
/// # Errors
/// Every column that cannot be read, or every cell that cannot, by row and column.
pub fn read_ftp_rates(
    table: &str,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<FtpRate>, ContributionErrors> {
    let specs = [("product", Text, true), ("term", Text, true), ("effective", M, true), ("rate", Number, true)];
    read_table(table, schema, batches, &specs, |r| records::ftp_rate(r))
}

/// Reads fees: `month`, `customer`, `amount`; optional `product`.
///
/// # Errors
/// Every column that cannot be read, or every cell that cannot, by row and column.
pub fn read_fees(table: &str, schema: &Schema, batches: &[RecordBatch]) -> Result<Vec<Fee>, ContributionErrors> {
    let specs = [("month", M, true), ("customer", Text, true), ("product", Text, false), ("amount", Money, true)];
    read_table(table, schema, batches, &specs, |r| records::fee(r))
}

/// Reads cost pools: `month`, `cost_centre`, `amount`.
///
/// # Errors
/// Every column that cannot be read, or every cell that cannot, by row and column.
pub fn read_cost_pools(
    table: &str,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<CostPool>, ContributionErrors> {
    let specs = [("month", M, true), ("cost_centre", Text, true), ("amount", Money, true)];
    read_table(table, schema, batches, &specs, |r| records::cost_pool(r))
}

/// Reads activity quantities: `month`, `customer`, `quantity`, `value`; optional `product`,
/// `channel`, `branch`.
///
/// # Errors
/// Every column that cannot be read, or every cell that cannot, by row and column.
pub fn read_activities(
    table: &str,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<Activity>, ContributionErrors> {
    let specs = [
        ("month", M, true),
        ("customer", Text, true),
        ("quantity", Text, true),
        ("value", Number, true),
        ("product", Text, false),
        ("channel", Text, false),
        ("branch", Text, false),
    ];
    read_table(table, schema, batches, &specs, |r| records::activity(r))
}

/// Reads direct costs: `month`, `customer`, `item`, `amount`.
///
/// # Errors
/// Every column that cannot be read, or every cell that cannot, by row and column.
pub fn read_direct_costs(
    table: &str,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<DirectCost>, ContributionErrors> {
    let specs = [("month", M, true), ("customer", Text, true), ("item", Text, true), ("amount", Money, true)];
    read_table(table, schema, batches, &specs, |r| records::direct_cost(r))
}

/// Reads account manager assignments: `customer`, `manager`, `role` (`lead` / 主办,
/// `assisting` / 协办), `share` (percent).
///
/// # Errors
/// Every column that cannot be read, or every cell that cannot, by row and column.
pub fn read_assignments(
    table: &str,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<Assignment>, ContributionErrors> {
    let specs = [("customer", Text, true), ("manager", Text, true), ("role", Text, true), ("share", Number, true)];
    read_table(table, schema, batches, &specs, |r| records::assignment(r))
}

#[cfg(test)]
mod tests;
