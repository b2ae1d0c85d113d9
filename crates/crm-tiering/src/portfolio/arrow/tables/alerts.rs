//! The alerts table's builder ([`AlertsTable`]).

use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::types::{Date32Type, Int32Type, Int64Type};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::ArrowError;

use super::codes::{TierCodes, coded, position, tiers, values};
use super::columns::{Amounts, Col, array, month_days};
use super::ids::Ids;
use crate::event::{Alert, AlertKind, Severity};

/// The alerts table ([`alerts_schema`](super::alerts_schema)) filled row by row: one row per
/// alert, in the order given.
///
/// ```
/// use crm_tiering::portfolio::arrow::tables::{AlertsTable, TierCodes, alerts_schema};
/// let batch = AlertsTable::new(0).finish(&TierCodes::default(), None)?;
/// assert_eq!((batch.schema(), batch.num_rows()), (alerts_schema(), 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AlertsTable {
    ids: Ids,
    month: Col<Date32Type>,
    kind: Col<Int32Type>,
    tier: Col<Int32Type>,
    counted: Col<Int64Type>,
    left: Col<Int64Type>,
    aum: Amounts,
    threshold: Amounts,
    gap: Amounts,
    /// The measure the alert is about (SPEC §19.3) and its value.
    measure: StringDictionaryBuilder<Int32Type>,
    measure_value: Amounts,
    /// The window it was read over, when not the month alone (SPEC §19.2).
    measure_window: StringDictionaryBuilder<Int32Type>,
    /// How soon to act (SPEC §11.1), `Alert::severity`.
    severity: Col<Int32Type>,
}

impl AlertsTable {
    /// A table of about `rows` alerts, given with their customers' ids ([`AlertsTable::push`]).
    pub fn new(rows: usize) -> Self {
        Self::with_ids(Ids::new(rows, false), rows)
    }

    /// A table of about `rows` alerts, given with their customers' indices in a portfolio's
    /// states ([`AlertsTable::push_indexed`]).
    pub fn indexed(rows: usize) -> Self {
        Self::with_ids(Ids::new(rows, true), rows)
    }

    fn with_ids(ids: Ids, n: usize) -> Self {
        AlertsTable {
            ids,
            month: Col::with_capacity(n),
            kind: Col::with_capacity(n),
            tier: Col::with_capacity(n),
            counted: Col::with_capacity(n),
            left: Col::with_capacity(n),
            aum: Amounts::with_capacity(n),
            threshold: Amounts::with_capacity(n),
            gap: Amounts::with_capacity(n),
            measure: StringDictionaryBuilder::new(),
            measure_value: Amounts::with_capacity(n),
            measure_window: StringDictionaryBuilder::new(),
            severity: Col::with_capacity(n),
        }
    }

    /// An alert of the customer `customer_id`.
    pub fn push(&mut self, codes: &mut TierCodes, customer_id: &str, a: &Alert) {
        self.ids.named(customer_id);
        self.row(codes, a);
    }

    /// An alert of the customer at `index` in a portfolio's states, whose id is `customer_id`
    /// (a table made by [`AlertsTable::indexed`]).
    pub fn push_indexed(&mut self, codes: &mut TierCodes, (index, customer_id): (usize, &str), a: &Alert) {
        self.ids.indexed(index, customer_id);
        self.row(codes, a);
    }

    fn row(&mut self, codes: &mut TierCodes, a: &Alert) {
        self.month.push(month_days(a.month));
        self.kind.push(position(AlertKind::ALL, a.kind));
        self.tier.push_opt(codes.opt_key(a.tier));
        self.counted.push_opt(a.months_counted.map(i64::from));
        self.left.push_opt(a.months_left.map(i64::from));
        self.aum.push_fen(a.aum_fen());
        self.threshold.push_fen(a.threshold_fen());
        self.gap.push_fen(a.gap_fen());
        self.measure.append_option(a.measure.map(|m| m.as_str()));
        self.measure_value.push_fen(a.measure_value_fen());
        self.measure_window.append_option(a.measure_window.map(|w| w.as_str()));
        self.severity.push(position(Severity::ALL, a.severity()));
    }

    /// Whether [`AlertsTable::finish`] needs the column of every customer's id (rows were
    /// given by index).
    pub fn needs_ids(&self) -> bool {
        self.ids.needs_all()
    }

    /// The table, its tier column over `codes`; rows given by index take their ids from
    /// `ids`, the portfolio's [`IdColumn`](super::IdColumn).
    ///
    /// # Errors
    ///
    /// Rows given by index without `ids`, or with an index beyond it.
    pub fn finish(mut self, codes: &TierCodes, ids: Option<&StringArray>) -> Result<RecordBatch, ArrowError> {
        let (kind, kind_zh) = coded(
            self.kind,
            values(AlertKind::ALL.iter().map(|k| k.as_str())),
            values(AlertKind::ALL.iter().map(|k| k.name_zh())),
        )?;
        let (severity, severity_zh) = coded(
            self.severity,
            values(Severity::ALL.iter().map(|s| s.as_str())),
            values(Severity::ALL.iter().map(|s| s.name_zh())),
        )?;
        let columns: Vec<ArrayRef> = vec![
            array(self.month)?,
            Arc::new(self.ids.finish(ids)?),
            kind,
            kind_zh,
            tiers(self.tier, &codes.values())?,
            array(self.counted)?,
            array(self.left)?,
            self.aum.finish()?,
            self.threshold.finish()?,
            self.gap.finish()?,
            Arc::new(self.measure.finish()),
            self.measure_value.finish()?,
            Arc::new(self.measure_window.finish()),
            severity,
            severity_zh,
        ];
        RecordBatch::try_new(super::alerts_schema(), columns)
    }
}
