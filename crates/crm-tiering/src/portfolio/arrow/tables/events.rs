//! The events table's builder ([`EventsTable`]).

use std::sync::Arc;

use arrow_array::builder::{StringBuilder, StringDictionaryBuilder};
use arrow_array::types::{Date32Type, Int32Type, Int64Type};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::ArrowError;

use super::codes::{TierCodes, coded, position, tiers, values};
use super::columns::{Amounts, Col, array, month_days};
use super::ids::Ids;
use crate::event::{Event, EventKind, Reason};

/// The events table ([`events_schema`](super::events_schema)) filled row by row: one row per
/// event, in the order given.
///
/// ```
/// use crm_tiering::portfolio::arrow::tables::{EventsTable, TierCodes, events_schema};
/// let table = EventsTable::new(0, true);
/// let batch = table.finish(&TierCodes::default(), None)?;
/// assert_eq!((batch.schema(), batch.num_rows()), (events_schema(), 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EventsTable {
    ids: Ids,
    /// The explanation of each event, when asked for (else the column is all null).
    explanation: Option<StringBuilder>,
    month: Col<Date32Type>,
    effective: Col<Date32Type>,
    kind: Col<Int32Type>,
    tier: Col<Int32Type>,
    from: Col<Int32Type>,
    to: Col<Int32Type>,
    reason: Col<Int32Type>,
    aum: Amounts,
    threshold: Amounts,
    window_from: Col<Date32Type>,
    window_months: Col<Int64Type>,
    peak: Amounts,
    /// The measure that decided (SPEC §19.3) and its value.
    measure: StringDictionaryBuilder<Int32Type>,
    measure_value: Amounts,
    /// The window it was read over, when not the month alone (SPEC §19.2).
    measure_window: StringDictionaryBuilder<Int32Type>,
}

impl EventsTable {
    /// A table of about `rows` events, given with their customers' ids ([`EventsTable::push`]);
    /// `explain`: whether the `explanation` column is filled (else it is all null).
    pub fn new(rows: usize, explain: bool) -> Self {
        Self::with_ids(Ids::new(rows, false), rows, explain)
    }

    /// A table of about `rows` events, given with their customers' indices in a portfolio's
    /// states ([`EventsTable::push_indexed`]).
    pub fn indexed(rows: usize, explain: bool) -> Self {
        Self::with_ids(Ids::new(rows, true), rows, explain)
    }

    fn with_ids(ids: Ids, n: usize, explain: bool) -> Self {
        EventsTable {
            ids,
            explanation: explain.then(StringBuilder::new),
            month: Col::with_capacity(n),
            effective: Col::with_capacity(n),
            kind: Col::with_capacity(n),
            tier: Col::with_capacity(n),
            from: Col::with_capacity(n),
            to: Col::with_capacity(n),
            reason: Col::with_capacity(n),
            aum: Amounts::with_capacity(n),
            threshold: Amounts::with_capacity(n),
            window_from: Col::with_capacity(n),
            window_months: Col::with_capacity(n),
            peak: Amounts::with_capacity(n),
            measure: StringDictionaryBuilder::new(),
            measure_value: Amounts::with_capacity(n),
            measure_window: StringDictionaryBuilder::new(),
        }
    }

    /// An event of the customer `customer_id`.
    pub fn push(&mut self, codes: &mut TierCodes, customer_id: &str, e: &Event) {
        self.ids.named(customer_id);
        self.row(codes, e);
    }

    /// An event of the customer at `index` in a portfolio's states, whose id is `customer_id`
    /// (a table made by [`EventsTable::indexed`]).
    pub fn push_indexed(&mut self, codes: &mut TierCodes, (index, customer_id): (usize, &str), e: &Event) {
        self.ids.indexed(index, customer_id);
        self.row(codes, e);
    }

    fn row(&mut self, codes: &mut TierCodes, e: &Event) {
        self.month.push(month_days(e.month));
        self.effective.push(month_days(e.effective_from()));
        self.kind.push(position(EventKind::ALL, e.kind));
        self.tier.push_opt(codes.opt_key(e.to_tier.or(e.from_tier)));
        self.from.push_opt(codes.opt_key(e.from_tier));
        self.to.push_opt(codes.opt_key(e.to_tier));
        self.reason.push(position(Reason::ALL, e.reason));
        self.aum.push_fen(Some(e.evidence.aum_fen()));
        self.threshold.push_fen(e.evidence.threshold_fen());
        self.window_from.push_opt(e.evidence.window_from.map(month_days));
        self.window_months.push_opt(e.evidence.window_months.map(i64::from));
        self.peak.push_fen(e.evidence.peak_aum_fen());
        self.measure.append_option(e.evidence.measure.map(|m| m.as_str()));
        self.measure_value.push_fen(e.evidence.measure_value_fen());
        self.measure_window.append_option(e.evidence.measure_window.map(|w| w.as_str()));
        if let Some(text) = &mut self.explanation {
            text.append_value(e.explain());
        }
    }

    /// Whether [`EventsTable::finish`] needs the column of every customer's id (rows were
    /// given by index).
    pub fn needs_ids(&self) -> bool {
        self.ids.needs_all()
    }

    /// The table, its tier columns over `codes`; rows given by index take their ids from
    /// `ids`, the portfolio's [`IdColumn`](super::IdColumn).
    ///
    /// # Errors
    ///
    /// Rows given by index without `ids`, or with an index beyond it.
    pub fn finish(mut self, codes: &TierCodes, ids: Option<&StringArray>) -> Result<RecordBatch, ArrowError> {
        let tier_values = codes.values();
        let rows = self.month.values.len();
        let explanation = match &mut self.explanation {
            Some(b) => b.finish(),
            None => StringArray::new_null(rows),
        };
        let (kind, kind_zh) = coded(
            self.kind,
            values(EventKind::ALL.iter().map(|k| k.as_str())),
            values(EventKind::ALL.iter().map(|k| k.name_zh())),
        )?;
        let (reason, reason_zh) = coded(
            self.reason,
            values(Reason::ALL.iter().map(|k| k.as_str())),
            values(Reason::ALL.iter().map(|k| k.name_zh())),
        )?;
        let columns: Vec<ArrayRef> = vec![
            array(self.month)?,
            Arc::new(self.ids.finish(ids)?),
            array(self.effective)?,
            kind,
            kind_zh,
            tiers(self.tier, &tier_values)?,
            tiers(self.from, &tier_values)?,
            tiers(self.to, &tier_values)?,
            reason,
            reason_zh,
            self.aum.finish()?,
            self.threshold.finish()?,
            array(self.window_from)?,
            array(self.window_months)?,
            self.peak.finish()?,
            Arc::new(explanation),
            Arc::new(self.measure.finish()),
            self.measure_value.finish()?,
            Arc::new(self.measure_window.finish()),
        ];
        RecordBatch::try_new(super::events_schema(), columns)
    }
}
