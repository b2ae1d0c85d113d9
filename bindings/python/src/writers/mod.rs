//! The writers of the output tables: one per table (states, events, alerts, errors), fed by
//! the core's portfolio month through [`PortfolioSink`], and the simulation's counts.
//!
//! Code columns (status, tiers, event and alert kinds, reasons) are dictionary columns over the
//! rule book's codes, months are `date32` (the month's first day: `datetime.date` in Python),
//! amounts `decimal128(38, 2)`.
//!
//! Columns are filled into plain vectors with room for the expected rows, and each becomes an
//! Arrow array without a copy; a validity bitmap is only built once a column meets a null. The
//! states table's `customer_id` is the portfolio's [`IdColumn`] (every customer's id, kept
//! between months) or a selection of it: a month that evaluates every customer shares it
//! without copying an id.
//!
//! One module per table written ([`states`], [`events`], [`alerts`], [`errors`], and the
//! simulation's in [`simulation`]); the column builders they share are in [`columns`], the
//! dictionaries of the code columns in [`codes`], the `customer_id` columns in [`ids`]. This
//! module puts the writers together: [`TablesSink`] (a portfolio run) and [`RowTables`] (rows
//! read back from a store).

mod alerts;
mod codes;
mod columns;
mod errors;
mod events;
mod ids;
mod simulation;
mod states;

use arrow_schema::ArrowError;
use crm_tiering::portfolio::{PortfolioSink, PortfolioStates, RecordError};
use crm_tiering::{Alert, Customer, CustomerRef, CustomerState, Decimal, Event, Month};
use pyo3_arrow::PyTable;

use self::alerts::AlertsWriter;
pub(crate) use self::codes::Codes;
pub(crate) use self::columns::{batch, month_days, table};
use self::errors::ErrorsWriter;
use self::events::EventsWriter;
pub(crate) use self::ids::IdColumn;
pub(crate) use self::simulation::simulation_tables;
use self::states::StatesWriter;

/// The four result tables of a portfolio run: states, events, alerts, errors.
pub(crate) struct TablesSink {
    codes: Codes,
    states: StatesWriter,
    events: EventsWriter,
    alerts: AlertsWriter,
    errors: ErrorsWriter,
}

impl TablesSink {
    /// A sink for about `rows` customer-months, `joining` of them new customers (each new
    /// customer's first month usually has an event).
    pub(crate) fn new(rows: usize, joining: usize, explain: bool, codes: Codes) -> Self {
        TablesSink {
            codes,
            states: StatesWriter::new(rows, true),
            events: EventsWriter::new(rows / 4 + joining + 16, explain, true),
            alerts: AlertsWriter::new(rows / 4 + 16, true),
            errors: ErrorsWriter::default(),
        }
    }

    /// The four tables; the customers' ids are taken from `ids`, the column of the ids of
    /// `customers` (the portfolio's states after the run).
    pub(crate) fn finish(self, ids: &mut IdColumn, customers: &PortfolioStates) -> Result<[PyTable; 4], ArrowError> {
        let tier_values = self.codes.values();
        let needed =
            self.states.ids.needs_all() || self.events.customer.needs_all() || self.alerts.customer.needs_all();
        let all = if needed { Some(ids.of(customers)) } else { None };
        Ok([
            table(self.states.finish(&tier_values, all)?)?,
            table(self.events.finish(&tier_values, all)?)?,
            table(self.alerts.finish(&tier_values, all)?)?,
            table(self.errors.finish()?)?,
        ])
    }
}

impl PortfolioSink for TablesSink {
    fn event(&mut self, _month: Month, index: usize, customer: CustomerRef<'_>, event: &Event) {
        self.events.customer.indexed(index, customer.id);
        self.events.row(&mut self.codes, event);
    }
    fn alert(&mut self, _month: Month, index: usize, customer: CustomerRef<'_>, alert: &Alert) {
        self.alerts.customer.indexed(index, customer.id);
        self.alerts.row(&mut self.codes, alert);
    }
    fn evaluated(
        &mut self,
        m: Month,
        index: usize,
        c: CustomerRef<'_>,
        aum: Decimal,
        has_record: bool,
        s: &CustomerState,
    ) {
        self.states.indexed(&mut self.codes, m, (index, c), aum, has_record, s);
    }
    fn held(&mut self, m: Month, _index: Option<usize>, error: &RecordError) {
        self.errors.row(Some(m), error);
    }
}

/// The states, events and alerts tables of rows read back from a store (`store.rs`): the same
/// columns as [`TablesSink`]'s.
pub(crate) struct RowTables {
    codes: Codes,
    states: StatesWriter,
    events: EventsWriter,
    alerts: AlertsWriter,
}

impl RowTables {
    /// Tables for about `states`, `events` and `alerts` rows.
    pub(crate) fn new(states: usize, events: usize, alerts: usize, explain: bool, codes: Codes) -> Self {
        RowTables {
            codes,
            states: StatesWriter::new(states, false),
            events: EventsWriter::new(events, explain, false),
            alerts: AlertsWriter::new(alerts, false),
        }
    }

    /// A customer's state after month `m`; `evaluated` none for a customer held back.
    pub(crate) fn state(&mut self, m: Month, c: &Customer, evaluated: Option<(Decimal, bool)>, s: &CustomerState) {
        self.states.named(&mut self.codes, m, c, evaluated, s);
    }

    pub(crate) fn event(&mut self, customer_id: &str, e: &Event) {
        self.events.customer.named(customer_id);
        self.events.row(&mut self.codes, e);
    }

    pub(crate) fn alert(&mut self, customer_id: &str, a: &Alert) {
        self.alerts.customer.named(customer_id);
        self.alerts.row(&mut self.codes, a);
    }

    /// The states, events and alerts tables.
    pub(crate) fn finish(self) -> Result<[PyTable; 3], ArrowError> {
        let tier_values = self.codes.values();
        Ok([
            table(self.states.finish(&tier_values, None)?)?,
            table(self.events.finish(&tier_values, None)?)?,
            table(self.alerts.finish(&tier_values, None)?)?,
        ])
    }
}
