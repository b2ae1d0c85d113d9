//! The output tables as Arrow record batches, one schema each (SPEC §15, "Output tables"):
//! states, events, alerts and rejects, and a loan month's customers, loans and signals
//! ([`loan_customers_table`] ..., SPEC §21.11). The CLI's Parquet export and the Python binding's tables
//! are built here, so a table has the same columns, names and types on every surface.
//!
//! The column names are those of the CLI's CSV export (the states table adds `status_zh` and
//! `is_vip`, the events table `tier`); the types:
//!
//! | values | Arrow type |
//! |---|---|
//! | months (`month`, `effective_from`, `*_since`, `special_*_month`, ...) | `date32`, the month's first day |
//! | amounts | `decimal128(38, 2)`: exact fen |
//! | codes (status, tiers, kinds, reasons, their Chinese names, `legal_entity`) | `dictionary<int32, utf8>` |
//! | `customer_id`, texts | `utf8` |
//! | counts of months | `int64` |
//! | flags | `bool` |
//! | ratios (the loans' `expected_loss`) | `decimal128(38, 28)` |
//!
//! A column that always has a value is not nullable. The states table holds every part of a
//! customer's state (the watch, the run below entry, the special designation) and, last, its
//! `history` (SPEC §19.5) as the JSON text the state's JSON carries
//! ([`History::to_cell`](crate::History::to_cell); null when the state keeps none), so a state
//! can be read back from its row.

mod alerts;
mod codes;
mod columns;
mod events;
mod ids;
mod loans;
mod rejects;
mod states;

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};

pub use self::alerts::AlertsTable;
pub use self::codes::TierCodes;
pub use self::columns::month_days;
pub use self::events::EventsTable;
pub use self::ids::IdColumn;
pub use self::loans::{
    loan_customers_schema, loan_customers_table, loan_results_schema, loan_results_table, loan_signals_schema,
    loan_signals_table,
};
pub use self::rejects::{Reject, RejectsTable};
pub use self::states::StatesTable;

/// The kinds of values of the output columns, each one Arrow type.
#[derive(Clone, Copy)]
enum Type {
    /// `date32`: the month's first day.
    Month,
    /// `utf8`.
    Text,
    /// `dictionary<int32, utf8>`.
    Code,
    /// `decimal128(38, 2)`.
    Amount,
    /// `int64`.
    Count,
    /// `bool`.
    Flag,
    /// `decimal128(38, 28)`: a ratio (the loans' expected loss), exact for every ratio from 0
    /// to 1 the core takes (28 decimals at most).
    Ratio,
}

/// The scale of ratio columns ([`Type::Ratio`]): `rust_decimal`'s most decimals.
const RATIO_SCALE: u32 = 28;
/// [`RATIO_SCALE`] as Arrow writes a decimal's scale.
const RATIO_SCALE_ARROW: i8 = 28;

use Type::{Amount, Code, Count, Flag, Month, Ratio, Text};

/// A column: its name, its type, and whether it may be null.
type Column = (&'static str, Type, bool);

const STATES: &[Column] = &[
    ("month", Month, false),
    ("customer_id", Text, false),
    ("legal_entity", Code, true),
    ("customer_kind", Code, false),
    ("evaluated", Flag, false),
    ("has_record", Flag, true),
    ("aum", Amount, true),
    ("status", Code, false),
    ("status_zh", Code, false),
    ("tier", Code, true),
    ("effective_tier", Code, true),
    ("is_vip", Flag, false),
    ("watch_since", Month, true),
    ("watch_short_months", Count, true),
    ("watch_best_tier", Code, true),
    ("watch_peak_aum", Amount, true),
    ("below_entry_since", Month, true),
    ("below_entry_months", Count, true),
    ("below_entry_peak_aum", Amount, true),
    ("retention_months_left", Count, false),
    ("special_tier", Code, true),
    ("special_first_month", Month, true),
    ("special_last_month", Month, true),
    ("last_month", Month, true),
    ("stage", Code, true),
    ("stage_since", Month, true),
    ("history", Text, true),
];

const EVENTS: &[Column] = &[
    ("month", Month, false),
    ("customer_id", Text, false),
    ("effective_from", Month, false),
    ("kind", Code, false),
    ("kind_zh", Code, false),
    ("tier", Code, true),
    ("from_tier", Code, true),
    ("to_tier", Code, true),
    ("reason", Code, false),
    ("reason_zh", Code, false),
    ("aum", Amount, false),
    ("threshold", Amount, true),
    ("window_from", Month, true),
    ("window_months", Count, true),
    ("peak_aum", Amount, true),
    ("explanation", Text, true),
    ("measure", Code, true),
    ("measure_value", Amount, true),
    ("measure_window", Code, true),
];

const ALERTS: &[Column] = &[
    ("month", Month, false),
    ("customer_id", Text, false),
    ("kind", Code, false),
    ("kind_zh", Code, false),
    ("tier", Code, true),
    ("months_counted", Count, true),
    ("months_left", Count, true),
    ("aum", Amount, true),
    ("threshold", Amount, true),
    ("gap", Amount, true),
    ("measure", Code, true),
    ("measure_value", Amount, true),
    ("measure_window", Code, true),
    ("severity", Code, false),
    ("severity_zh", Code, false),
];

const REJECTS: &[Column] = &[
    ("month", Month, false),
    ("run_id", Count, false),
    ("seq", Count, false),
    ("customer_id", Text, true),
    ("category", Text, false),
    ("field", Text, true),
    ("record", Text, true),
    ("other_record", Text, true),
    ("message", Text, false),
];

fn data_type(t: Type) -> DataType {
    match t {
        Month => DataType::Date32,
        Text => DataType::Utf8,
        Code => DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        Amount => DataType::Decimal128(38, 2),
        Count => DataType::Int64,
        Flag => DataType::Boolean,
        Ratio => DataType::Decimal128(38, RATIO_SCALE_ARROW),
    }
}

fn schema(columns: &[Column]) -> SchemaRef {
    Arc::new(Schema::new(
        columns.iter().map(|&(name, t, nullable)| Field::new(name, data_type(t), nullable)).collect::<Vec<_>>(),
    ))
}

/// The states table: one row per customer and month, the state after the month
/// ([`StatesTable`]).
///
/// ```
/// use arrow_schema::DataType;
/// use crm_tiering::portfolio::arrow::tables::states_schema;
/// let s = states_schema();
/// assert_eq!(s.field_with_name("month")?.data_type(), &DataType::Date32);
/// assert_eq!(s.field_with_name("aum")?.data_type(), &DataType::Decimal128(38, 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn states_schema() -> SchemaRef {
    schema(STATES)
}

/// The events table: one row per event ([`EventsTable`]).
pub fn events_schema() -> SchemaRef {
    schema(EVENTS)
}

/// The alerts table: one row per alert ([`AlertsTable`]).
pub fn alerts_schema() -> SchemaRef {
    schema(ALERTS)
}

/// The rejects table of a store: one row per customer held back or record refused by a
/// committing run ([`RejectsTable`]).
pub fn rejects_schema() -> SchemaRef {
    schema(REJECTS)
}

#[cfg(test)]
#[path = "tables/tests.rs"]
mod tests;
