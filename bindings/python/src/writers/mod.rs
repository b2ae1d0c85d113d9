//! The output tables of the binding, fed by the core's portfolio month through
//! [`PortfolioSink`] ([`TablesSink`]) or by rows read back from a store ([`RowTables`]).
//!
//! The states, events and alerts tables are the core's
//! ([`crm_tiering::portfolio::arrow::tables`], SPEC §15 "Output tables"): the same schema as the
//! CLI's Parquet export. Months are `date32` (the month's first day: `datetime.date` in
//! Python), amounts `decimal128(38, 2)`, codes dictionary strings over the rule book's codes.
//! The errors table ([`errors`]) and the simulation's ([`simulation`]) are the binding's own;
//! their column helpers are in [`columns`].

mod columns;
mod errors;
mod simulation;

use arrow_schema::ArrowError;
use crm_tiering::portfolio::arrow::tables::{AlertsTable, EventsTable, StatesTable};
use crm_tiering::portfolio::{PortfolioSink, PortfolioStates, RecordError};
use crm_tiering::{Alert, Customer, CustomerRef, CustomerState, Decimal, Event, History, Month};
use crm_tiering_store::MonthResults;
use pyo3_arrow::PyTable;

pub(crate) use self::columns::{batch, month_days, table};
use self::errors::ErrorsWriter;
pub(crate) use self::simulation::simulation_tables;
pub(crate) use crm_tiering::portfolio::arrow::tables::{IdColumn, TierCodes as Codes};

/// The four result tables of a portfolio run: states, events, alerts, errors.
pub(crate) struct TablesSink {
    codes: Codes,
    states: StatesTable,
    events: EventsTable,
    alerts: AlertsTable,
    errors: ErrorsWriter,
}

impl TablesSink {
    /// A sink for about `rows` customer-months, `joining` of them new customers (each new
    /// customer's first month usually has an event).
    pub(crate) fn new(rows: usize, joining: usize, explain: bool, codes: Codes) -> Self {
        TablesSink {
            codes,
            states: StatesTable::indexed(rows),
            events: EventsTable::indexed(rows / 4 + joining + 16, explain),
            alerts: AlertsTable::indexed(rows / 4 + 16),
            errors: ErrorsWriter::default(),
        }
    }

    /// The four tables; the customers' ids are taken from `ids`, the column of the ids of
    /// `customers` (the portfolio's states after the run).
    pub(crate) fn finish(self, ids: &mut IdColumn, customers: &PortfolioStates) -> Result<[PyTable; 4], ArrowError> {
        let needed = self.states.needs_ids() || self.events.needs_ids() || self.alerts.needs_ids();
        let all = if needed { Some(ids.of(customers)) } else { None };
        Ok([
            table(self.states.finish(&self.codes, all)?)?,
            table(self.events.finish(&self.codes, all)?)?,
            table(self.alerts.finish(&self.codes, all)?)?,
            table(self.errors.finish()?)?,
        ])
    }
}

impl PortfolioSink for TablesSink {
    fn event(&mut self, _month: Month, index: usize, customer: CustomerRef<'_>, event: &Event) {
        self.events.push_indexed(&mut self.codes, (index, customer.id), event);
    }
    fn alert(&mut self, _month: Month, index: usize, customer: CustomerRef<'_>, alert: &Alert) {
        self.alerts.push_indexed(&mut self.codes, (index, customer.id), alert);
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
        self.states.push_indexed(&mut self.codes, m, (index, c), (aum, has_record), s);
    }
    fn held(&mut self, m: Month, _index: Option<usize>, error: &RecordError) {
        self.errors.row(Some(m), error);
    }
    fn after_month(&mut self, _month: Month, states: &PortfolioStates) {
        self.states.histories(states);
    }
}

/// Forwards a portfolio month's results to the result tables and to what the store takes.
pub(crate) struct Tee<'a>(pub(crate) &'a mut TablesSink, pub(crate) &'a mut MonthResults);

impl PortfolioSink for Tee<'_> {
    fn begin_month(&mut self, m: Month) {
        self.0.begin_month(m);
        self.1.begin_month(m);
    }
    fn event(&mut self, m: Month, i: usize, c: CustomerRef<'_>, e: &Event) {
        self.0.event(m, i, c, e);
        self.1.event(m, i, c, e);
    }
    fn alert(&mut self, m: Month, i: usize, c: CustomerRef<'_>, a: &Alert) {
        self.0.alert(m, i, c, a);
        self.1.alert(m, i, c, a);
    }
    fn evaluated(&mut self, m: Month, i: usize, c: CustomerRef<'_>, aum: Decimal, has: bool, s: &CustomerState) {
        self.0.evaluated(m, i, c, aum, has, s);
        self.1.evaluated(m, i, c, aum, has, s);
    }
    fn held(&mut self, m: Month, i: Option<usize>, e: &RecordError) {
        self.0.held(m, i, e);
        self.1.held(m, i, e);
    }
    fn after_month(&mut self, m: Month, states: &PortfolioStates) {
        self.0.after_month(m, states);
        self.1.after_month(m, states);
    }
    fn end_month(&mut self, m: Month) {
        self.0.end_month(m);
        self.1.end_month(m);
    }
}

/// The states, events and alerts tables of rows read back from a store (`store.rs`): the same
/// columns as [`TablesSink`]'s.
pub(crate) struct RowTables {
    codes: Codes,
    states: StatesTable,
    events: EventsTable,
    alerts: AlertsTable,
}

impl RowTables {
    /// Tables for about `states`, `events` and `alerts` rows.
    pub(crate) fn new(states: usize, events: usize, alerts: usize, explain: bool, codes: Codes) -> Self {
        RowTables {
            codes,
            states: StatesTable::new(states),
            events: EventsTable::new(events, explain),
            alerts: AlertsTable::new(alerts),
        }
    }

    /// A customer's state and history after month `m`; `evaluated` none for a customer held
    /// back.
    pub(crate) fn state(
        &mut self,
        m: Month,
        c: &Customer,
        evaluated: Option<(Decimal, bool)>,
        state: (&CustomerState, &History),
    ) {
        self.states.push(&mut self.codes, m, c.borrowed(), evaluated, state);
    }

    pub(crate) fn event(&mut self, customer_id: &str, e: &Event) {
        self.events.push(&mut self.codes, customer_id, e);
    }

    pub(crate) fn alert(&mut self, customer_id: &str, a: &Alert) {
        self.alerts.push(&mut self.codes, customer_id, a);
    }

    /// The states, events and alerts tables.
    pub(crate) fn finish(self) -> Result<[PyTable; 3], ArrowError> {
        Ok([
            table(self.states.finish(&self.codes, None)?)?,
            table(self.events.finish(&self.codes, None)?)?,
            table(self.alerts.finish(&self.codes, None)?)?,
        ])
    }
}
