//! The writers of the output tables: one per table (states, events, alerts, errors), fed by
//! the core's portfolio month through [`PortfolioSink`], and the simulation's counts.
//!
//! Code columns (status, tiers, event and alert kinds, reasons) are dictionary columns over the
//! rule book's codes, months are `date32` (the month's first day: `datetime.date` in Python),
//! amounts `decimal128(38, 2)`.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Int8Builder, Int16Builder, Int64Builder, StringBuilder,
    UInt32Builder, UInt64Builder,
};
use arrow_array::types::{Int8Type, Int16Type};
use arrow_array::{ArrayRef, DictionaryArray, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use crm_tiering::portfolio::{PortfolioSink, RecordError, Simulation};
use crm_tiering::{
    Alert, AlertKind, Customer, CustomerState, Decimal, Event, EventKind, Month, Reason, RuleBook, Status, TierCode,
    to_fen,
};
use pyo3_arrow::PyTable;

/// The tier codes of rule books, in the order their rule sets list them (the dictionaries of
/// every tier column; a code from elsewhere, a state set from another book, is appended).
#[derive(Clone, Debug, Default)]
pub(crate) struct Codes {
    tiers: Vec<TierCode>,
}

impl Codes {
    pub(crate) fn of(books: &[&RuleBook]) -> Self {
        let mut tiers: Vec<TierCode> = Vec::new();
        for t in books.iter().flat_map(|b| b.tier_codes()) {
            if !tiers.contains(&t) {
                tiers.push(t);
            }
        }
        Codes { tiers }
    }

    fn key(&mut self, t: TierCode) -> i16 {
        match self.tiers.iter().position(|x| *x == t) {
            Some(i) => i as i16,
            None => {
                self.tiers.push(t);
                (self.tiers.len() - 1) as i16
            }
        }
    }

    fn values(&self) -> ArrayRef {
        Arc::new(StringArray::from_iter_values(self.tiers.iter().map(TierCode::as_str)))
    }
}

const STATUSES: [Status; 3] = Status::ALL;

fn position<T: PartialEq + Copy>(all: &[T], v: T) -> i8 {
    all.iter().position(|x| *x == v).unwrap_or(0) as i8
}

fn values(codes: impl Iterator<Item = &'static str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(codes))
}

/// A code column and its Chinese names, sharing the keys.
fn coded(keys: &mut Int8Builder, codes: ArrayRef, names_zh: ArrayRef) -> Result<(ArrayRef, ArrayRef), ArrowError> {
    let k = keys.finish();
    Ok((
        Arc::new(DictionaryArray::<Int8Type>::try_new(k.clone(), codes)?),
        Arc::new(DictionaryArray::<Int8Type>::try_new(k, names_zh)?),
    ))
}

fn tiers(keys: &mut Int16Builder, values: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(DictionaryArray::<Int16Type>::try_new(keys.finish(), values.clone())?))
}

fn dec_builder(cap: usize) -> Decimal128Builder {
    Decimal128Builder::with_capacity(cap).with_data_type(DataType::Decimal128(38, 2))
}

/// Appends an amount at fen scale (the core's conversion; amounts out of the engine always are).
fn append_dec(b: &mut Decimal128Builder, d: Option<Decimal>) {
    b.append_option(d.and_then(to_fen).map(i128::from));
}

fn opt_tier(codes: &mut Codes, b: &mut Int16Builder, t: Option<TierCode>) {
    match t {
        Some(t) => b.append_value(codes.key(t)),
        None => b.append_null(),
    }
}

/// Days from 1970-01-01 to the first day of a month (the proleptic Gregorian calendar), as
/// Arrow's `date32` counts them.
pub(crate) fn month_days(m: Month) -> i32 {
    let (y, mo) = (i64::from(m.year()), i64::from(m.month()));
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

fn month(b: &mut Date32Builder, m: Option<Month>) {
    b.append_option(m.map(month_days));
}

pub(crate) fn batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch, ArrowError> {
    let fields: Vec<Field> = columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns.into_iter().map(|(_, a)| a).collect())
}

pub(crate) fn table(b: RecordBatch) -> Result<PyTable, ArrowError> {
    let schema = b.schema();
    PyTable::try_new(vec![b], schema).map_err(|e| ArrowError::ExternalError(Box::new(e)))
}

/// The states table: one row per customer evaluated in a month.
struct StatesWriter {
    customer: StringBuilder,
    month: Date32Builder,
    aum: Decimal128Builder,
    has_record: BooleanBuilder,
    status: Int8Builder,
    tier: Int16Builder,
    effective: Int16Builder,
    vip: BooleanBuilder,
    watch: UInt32Builder,
    below: UInt32Builder,
    retention: UInt32Builder,
    special_tier: Int16Builder,
    special_until: Date32Builder,
}

impl StatesWriter {
    fn new(n: usize) -> Self {
        StatesWriter {
            customer: StringBuilder::with_capacity(n, n * 12),
            month: Date32Builder::with_capacity(n),
            aum: dec_builder(n),
            has_record: BooleanBuilder::with_capacity(n),
            status: Int8Builder::with_capacity(n),
            tier: Int16Builder::with_capacity(n),
            effective: Int16Builder::with_capacity(n),
            vip: BooleanBuilder::with_capacity(n),
            watch: UInt32Builder::with_capacity(n),
            below: UInt32Builder::with_capacity(n),
            retention: UInt32Builder::with_capacity(n),
            special_tier: Int16Builder::with_capacity(n),
            special_until: Date32Builder::with_capacity(n),
        }
    }

    /// `evaluated` is the month's AUM and whether the customer had a record; none for a
    /// customer held back (read from a store: `aum` and `has_record` are then null).
    fn row(
        &mut self,
        codes: &mut Codes,
        m: Month,
        c: &Customer,
        evaluated: Option<(Decimal, bool)>,
        s: &CustomerState,
    ) {
        self.customer.append_value(&c.id);
        self.month.append_value(month_days(m));
        append_dec(&mut self.aum, evaluated.map(|e| e.0));
        self.has_record.append_option(evaluated.map(|e| e.1));
        self.status.append_value(position(&STATUSES, s.status));
        opt_tier(codes, &mut self.tier, s.tier);
        opt_tier(codes, &mut self.effective, s.effective_tier);
        self.vip.append_value(s.is_vip());
        self.watch.append_value(s.watch_months());
        self.below.append_value(s.below_entry_months());
        self.retention.append_value(s.retention_months_left);
        opt_tier(codes, &mut self.special_tier, s.special.map(|x| x.tier));
        month(&mut self.special_until, s.special.map(|x| x.last_month));
    }

    fn finish(mut self, tier_values: &ArrayRef) -> Result<RecordBatch, ArrowError> {
        let (status, status_zh) = coded(
            &mut self.status,
            values(STATUSES.iter().map(|s| s.as_str())),
            values(STATUSES.iter().map(|s| s.name_zh())),
        )?;
        batch(vec![
            ("customer_id", Arc::new(self.customer.finish())),
            ("month", Arc::new(self.month.finish())),
            ("aum", Arc::new(self.aum.finish())),
            ("has_record", Arc::new(self.has_record.finish())),
            ("status", status),
            ("status_zh", status_zh),
            ("tier", tiers(&mut self.tier, tier_values)?),
            ("effective_tier", tiers(&mut self.effective, tier_values)?),
            ("is_vip", Arc::new(self.vip.finish())),
            ("watch_months", Arc::new(self.watch.finish())),
            ("below_entry_months", Arc::new(self.below.finish())),
            ("retention_months_left", Arc::new(self.retention.finish())),
            ("special_tier", tiers(&mut self.special_tier, tier_values)?),
            ("special_until", Arc::new(self.special_until.finish())),
        ])
    }
}

/// The events table.
struct EventsWriter {
    explain: bool,
    customer: StringBuilder,
    month: Date32Builder,
    effective: Date32Builder,
    kind: Int8Builder,
    tier: Int16Builder,
    from: Int16Builder,
    to: Int16Builder,
    reason: Int8Builder,
    aum: Decimal128Builder,
    threshold: Decimal128Builder,
    window_from: Date32Builder,
    window_months: UInt32Builder,
    peak: Decimal128Builder,
    text: StringBuilder,
}

impl EventsWriter {
    fn new(n: usize, explain: bool) -> Self {
        EventsWriter {
            explain,
            customer: StringBuilder::with_capacity(n, n * 10),
            month: Date32Builder::with_capacity(n),
            effective: Date32Builder::with_capacity(n),
            kind: Int8Builder::with_capacity(n),
            tier: Int16Builder::with_capacity(n),
            from: Int16Builder::with_capacity(n),
            to: Int16Builder::with_capacity(n),
            reason: Int8Builder::with_capacity(n),
            aum: dec_builder(n),
            threshold: dec_builder(n),
            window_from: Date32Builder::with_capacity(n),
            window_months: UInt32Builder::with_capacity(n),
            peak: dec_builder(n),
            text: StringBuilder::new(),
        }
    }

    fn row(&mut self, codes: &mut Codes, customer_id: &str, e: &Event) {
        self.customer.append_value(customer_id);
        self.month.append_value(month_days(e.month));
        self.effective.append_value(month_days(e.effective_from));
        self.kind.append_value(position(EventKind::ALL, e.kind));
        opt_tier(codes, &mut self.tier, e.to_tier.or(e.from_tier));
        opt_tier(codes, &mut self.from, e.from_tier);
        opt_tier(codes, &mut self.to, e.to_tier);
        self.reason.append_value(position(Reason::ALL, e.reason));
        append_dec(&mut self.aum, Some(e.evidence.aum));
        append_dec(&mut self.threshold, e.evidence.threshold);
        month(&mut self.window_from, e.evidence.window_from);
        self.window_months.append_option(e.evidence.window_months);
        append_dec(&mut self.peak, e.evidence.peak_aum);
        if self.explain {
            self.text.append_value(e.explain());
        } else {
            self.text.append_null();
        }
    }

    fn finish(mut self, tier_values: &ArrayRef) -> Result<RecordBatch, ArrowError> {
        let (kind, kind_zh) = coded(
            &mut self.kind,
            values(EventKind::ALL.iter().map(|k| k.as_str())),
            values(EventKind::ALL.iter().map(|k| k.name_zh())),
        )?;
        let (reason, reason_zh) = coded(
            &mut self.reason,
            values(Reason::ALL.iter().map(|k| k.as_str())),
            values(Reason::ALL.iter().map(|k| k.name_zh())),
        )?;
        batch(vec![
            ("customer_id", Arc::new(self.customer.finish())),
            ("month", Arc::new(self.month.finish())),
            ("effective_from", Arc::new(self.effective.finish())),
            ("kind", kind),
            ("kind_zh", kind_zh),
            ("tier", tiers(&mut self.tier, tier_values)?),
            ("from_tier", tiers(&mut self.from, tier_values)?),
            ("to_tier", tiers(&mut self.to, tier_values)?),
            ("reason", reason),
            ("reason_zh", reason_zh),
            ("aum", Arc::new(self.aum.finish())),
            ("threshold", Arc::new(self.threshold.finish())),
            ("window_from", Arc::new(self.window_from.finish())),
            ("window_months", Arc::new(self.window_months.finish())),
            ("peak_aum", Arc::new(self.peak.finish())),
            ("explain", Arc::new(self.text.finish())),
        ])
    }
}

/// The alerts table.
struct AlertsWriter {
    customer: StringBuilder,
    month: Date32Builder,
    kind: Int8Builder,
    tier: Int16Builder,
    counted: UInt32Builder,
    left: UInt32Builder,
    aum: Decimal128Builder,
    threshold: Decimal128Builder,
    gap: Decimal128Builder,
}

impl AlertsWriter {
    fn new(n: usize) -> Self {
        AlertsWriter {
            customer: StringBuilder::with_capacity(n, n * 10),
            month: Date32Builder::with_capacity(n),
            kind: Int8Builder::with_capacity(n),
            tier: Int16Builder::with_capacity(n),
            counted: UInt32Builder::with_capacity(n),
            left: UInt32Builder::with_capacity(n),
            aum: dec_builder(n),
            threshold: dec_builder(n),
            gap: dec_builder(n),
        }
    }

    fn row(&mut self, codes: &mut Codes, customer_id: &str, a: &Alert) {
        self.customer.append_value(customer_id);
        self.month.append_value(month_days(a.month));
        self.kind.append_value(position(AlertKind::ALL, a.kind));
        opt_tier(codes, &mut self.tier, a.tier);
        self.counted.append_option(a.months_counted);
        self.left.append_option(a.months_left);
        append_dec(&mut self.aum, Some(a.aum));
        append_dec(&mut self.threshold, a.threshold);
        append_dec(&mut self.gap, a.gap);
    }

    fn finish(mut self, tier_values: &ArrayRef) -> Result<RecordBatch, ArrowError> {
        let (kind, kind_zh) = coded(
            &mut self.kind,
            values(AlertKind::ALL.iter().map(|k| k.as_str())),
            values(AlertKind::ALL.iter().map(|k| k.name_zh())),
        )?;
        batch(vec![
            ("customer_id", Arc::new(self.customer.finish())),
            ("month", Arc::new(self.month.finish())),
            ("kind", kind),
            ("kind_zh", kind_zh),
            ("tier", tiers(&mut self.tier, tier_values)?),
            ("months_counted", Arc::new(self.counted.finish())),
            ("months_left", Arc::new(self.left.finish())),
            ("aum", Arc::new(self.aum.finish())),
            ("threshold", Arc::new(self.threshold.finish())),
            ("gap", Arc::new(self.gap.finish())),
        ])
    }
}

/// The errors table: one row per held customer or refused record, with exactly the core's
/// error parts (the same as the exceptions' attributes).
#[derive(Default)]
pub(crate) struct ErrorsWriter {
    customer: StringBuilder,
    month: Date32Builder,
    reported_in: Date32Builder,
    category: StringBuilder,
    field: StringBuilder,
    message: StringBuilder,
    record_table: StringBuilder,
    record_row: UInt64Builder,
    other_table: StringBuilder,
    other_row: UInt64Builder,
}

impl ErrorsWriter {
    pub(crate) fn row(&mut self, reported_in: Option<Month>, e: &RecordError) {
        self.customer.append_option(e.customer());
        month(&mut self.month, e.month());
        month(&mut self.reported_in, reported_in);
        self.category.append_value(e.category());
        self.field.append_option(e.field());
        self.message.append_value(e.error.to_string());
        self.record_table.append_option(e.record.as_ref().map(|r| r.table.as_str()));
        self.record_row.append_option(e.record.as_ref().map(|r| r.row));
        self.other_table.append_option(e.other_record.as_ref().map(|r| r.table.as_str()));
        self.other_row.append_option(e.other_record.as_ref().map(|r| r.row));
    }

    fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        batch(vec![
            ("customer_id", Arc::new(self.customer.finish())),
            ("month", Arc::new(self.month.finish())),
            ("reported_in", Arc::new(self.reported_in.finish())),
            ("category", Arc::new(self.category.finish())),
            ("field", Arc::new(self.field.finish())),
            ("message", Arc::new(self.message.finish())),
            ("record_table", Arc::new(self.record_table.finish())),
            ("record_row", Arc::new(self.record_row.finish())),
            ("other_record_table", Arc::new(self.other_table.finish())),
            ("other_record_row", Arc::new(self.other_row.finish())),
        ])
    }
}

/// The four result tables of a portfolio run: states, events, alerts, errors.
pub(crate) struct TablesSink {
    codes: Codes,
    states: StatesWriter,
    events: EventsWriter,
    alerts: AlertsWriter,
    errors: ErrorsWriter,
}

impl TablesSink {
    /// A sink for about `rows` customer-months.
    pub(crate) fn new(rows: usize, explain: bool, codes: Codes) -> Self {
        let ev = rows / 8 + 16;
        TablesSink {
            codes,
            states: StatesWriter::new(rows),
            events: EventsWriter::new(ev, explain),
            alerts: AlertsWriter::new(ev),
            errors: ErrorsWriter::default(),
        }
    }

    /// The four tables.
    pub(crate) fn finish(self) -> Result<[PyTable; 4], ArrowError> {
        let tier_values = self.codes.values();
        Ok([
            table(self.states.finish(&tier_values)?)?,
            table(self.events.finish(&tier_values)?)?,
            table(self.alerts.finish(&tier_values)?)?,
            table(self.errors.finish()?)?,
        ])
    }
}

impl PortfolioSink for TablesSink {
    fn event(&mut self, _month: Month, _index: usize, customer: &Customer, event: &Event) {
        self.events.row(&mut self.codes, &customer.id, event);
    }
    fn alert(&mut self, _month: Month, _index: usize, customer: &Customer, alert: &Alert) {
        self.alerts.row(&mut self.codes, &customer.id, alert);
    }
    fn evaluated(&mut self, m: Month, _index: usize, c: &Customer, aum: Decimal, has_record: bool, s: &CustomerState) {
        self.states.row(&mut self.codes, m, c, Some((aum, has_record)), s);
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
            states: StatesWriter::new(states),
            events: EventsWriter::new(events, explain),
            alerts: AlertsWriter::new(alerts),
        }
    }

    /// A customer's state after month `m`; `evaluated` none for a customer held back.
    pub(crate) fn state(&mut self, m: Month, c: &Customer, evaluated: Option<(Decimal, bool)>, s: &CustomerState) {
        self.states.row(&mut self.codes, m, c, evaluated, s);
    }

    pub(crate) fn event(&mut self, customer_id: &str, e: &Event) {
        self.events.row(&mut self.codes, customer_id, e);
    }

    pub(crate) fn alert(&mut self, customer_id: &str, a: &Alert) {
        self.alerts.row(&mut self.codes, customer_id, a);
    }

    /// The states, events and alerts tables.
    pub(crate) fn finish(self) -> Result<[PyTable; 3], ArrowError> {
        let tier_values = self.codes.values();
        Ok([
            table(self.states.finish(&tier_values)?)?,
            table(self.events.finish(&tier_values)?)?,
            table(self.alerts.finish(&tier_values)?)?,
        ])
    }
}

/// The `counts` and `changes` tables of a simulation (the core's [`Simulation`]).
pub(crate) fn simulation_tables(sim: &Simulation) -> Result<[PyTable; 2], ArrowError> {
    let n = sim.counts.len();
    let (mut month_b, mut tier_b) = (Date32Builder::with_capacity(n), StringBuilder::new());
    let (mut ca, mut cb, mut delta) =
        (Int64Builder::with_capacity(n), Int64Builder::with_capacity(n), Int64Builder::with_capacity(n));
    for c in &sim.counts {
        month_b.append_value(month_days(c.month));
        tier_b.append_option(c.tier.as_ref().map(TierCode::as_str));
        ca.append_value(c.count_a as i64);
        cb.append_value(c.count_b as i64);
        delta.append_value(c.delta());
    }
    let counts = batch(vec![
        ("month", Arc::new(month_b.finish())),
        ("tier", Arc::new(tier_b.finish())),
        ("count_a", Arc::new(ca.finish())),
        ("count_b", Arc::new(cb.finish())),
        ("delta", Arc::new(delta.finish())),
    ])?;
    let k = sim.changes.len();
    let s = || StringBuilder::with_capacity(k, k * 8);
    let (mut c_id, mut c_ta, mut c_tb, mut c_sa, mut c_sb) = (s(), s(), s(), s(), s());
    let mut c_month = Date32Builder::with_capacity(k);
    let mut c_aum = dec_builder(k);
    for c in &sim.changes {
        c_id.append_value(&c.customer_id);
        c_month.append_value(month_days(c.month));
        append_dec(&mut c_aum, Some(c.aum));
        c_ta.append_option(c.tier_a.as_ref().map(TierCode::as_str));
        c_tb.append_option(c.tier_b.as_ref().map(TierCode::as_str));
        c_sa.append_value(c.status_a.as_str());
        c_sb.append_value(c.status_b.as_str());
    }
    let changes = batch(vec![
        ("customer_id", Arc::new(c_id.finish())),
        ("month", Arc::new(c_month.finish())),
        ("aum", Arc::new(c_aum.finish())),
        ("tier_a", Arc::new(c_ta.finish())),
        ("tier_b", Arc::new(c_tb.finish())),
        ("status_a", Arc::new(c_sa.finish())),
        ("status_b", Arc::new(c_sb.finish())),
    ])?;
    Ok([table(counts)?, table(changes)?])
}
