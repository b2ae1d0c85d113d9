//! The portfolio month when the table holds exactly the portfolio's customers, in order (every
//! month after the first, as a bank's month-end extract does): the ids are checked in one
//! comparison, the AUM is read straight from the Arrow column as the engine asks for it, each
//! customer's states row is written from its new state as the engine produces it (one pass, see
//! [`BatchSink::evaluated`]), and the states table reuses the input's own `customer_id` column
//! (and `aum` at fen scale: Arrow arrays are shared, not copied).

use std::sync::Arc;

use arrow_array::builder::Decimal128Builder;
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int8Type, Int16Type, Int64Type, UInt32Type};
use arrow_array::{Array, ArrayRef, BooleanArray, DictionaryArray, PrimitiveArray, RecordBatch, StringArray};
use arrow_buffer::{BooleanBuffer, NullBuffer, ScalarBuffer};
use arrow_schema::DataType;
use crm_tiering::{
    Alert, BatchSink, Customer, CustomerState, Decimal, Engine, Event, InputError, Month, MonthInput, TierCode,
    TieringError,
};

use crate::table::{
    Batches4, Book, MonthColumn, StatesArrays, TableError, TablesSink, describe, fen, month_runs, status_key,
};

/// Columns that need the general path (they change a customer's selection or add a
/// special-VIP action).
const GENERAL_COLUMNS: [&str; 5] = ["legal_entity", "kind", "special", "special_tier", "special_months"];

/// An AUM column the fast path reads directly.
enum AumColumn {
    Decimal(PrimitiveArray<Decimal128Type>, u32),
    Integer(PrimitiveArray<Int64Type>),
}

impl AumColumn {
    fn of(col: &ArrayRef) -> Result<Option<Self>, TableError> {
        Ok(match col.data_type() {
            DataType::Decimal128(_, s) if (0..=28).contains(s) => {
                Some(AumColumn::Decimal(col.as_primitive::<Decimal128Type>().clone(), *s as u32))
            }
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => {
                let c = arrow_cast::cast(col, &DataType::Int64)?;
                Some(AumColumn::Integer(c.as_primitive::<Int64Type>().clone()))
            }
            _ => None,
        })
    }

    /// The month input of row `i` (same messages as the general path).
    fn input(&self, i: usize, customer: &str, month: Month) -> Result<MonthInput, TieringError> {
        let error = |message: String| {
            TieringError::Input(Box::new(InputError {
                customer: customer.to_string(),
                month: Some(month),
                field: "aum".into(),
                message,
            }))
        };
        match self {
            AumColumn::Decimal(a, scale) => {
                if a.is_null(i) {
                    return Err(error(crate::table::MISSING_AUM.to_string()));
                }
                let m = a.value(i);
                Decimal::try_from_i128_with_scale(m, *scale)
                    .map(MonthInput::total)
                    .map_err(|_| error(format!("the amount {m}e-{scale} does not fit in 28 significant digits")))
            }
            AumColumn::Integer(a) => {
                if a.is_null(i) {
                    return Err(error(crate::table::MISSING_AUM.to_string()));
                }
                Ok(MonthInput::total(Decimal::from(a.value(i))))
            }
        }
    }
}

/// Whether two `Utf8` columns hold the same strings, compared as whole buffers.
fn same_strings(a: &StringArray, b: &StringArray) -> bool {
    if a.len() != b.len() || a.null_count() != 0 || b.null_count() != 0 {
        return false;
    }
    let (oa, ob) = (a.value_offsets(), b.value_offsets());
    let (a0, b0) = (oa[0] as usize, ob[0] as usize);
    let (a1, b1) = (oa[oa.len() - 1] as usize, ob[ob.len() - 1] as usize);
    if a.value_data()[a0..a1] != b.value_data()[b0..b1] {
        return false;
    }
    if oa[0] == ob[0] {
        return oa == ob;
    }
    oa.iter().zip(ob).all(|(x, y)| x - oa[0] == y - ob[0])
}

/// The `customer_id` columns of `batches` as `Utf8`, when every batch has one without nulls.
fn id_columns(batches: &[RecordBatch]) -> Result<Option<Vec<ArrayRef>>, Fail> {
    let mut ids = Vec::with_capacity(batches.len());
    for batch in batches {
        let Ok(i) = batch.schema_ref().index_of("customer_id") else {
            return Ok(None);
        };
        let id = batch.column(i);
        let id = match id.data_type() {
            DataType::Utf8 => id.clone(),
            DataType::LargeUtf8 | DataType::Utf8View => arrow_cast::cast(id, &DataType::Utf8)?,
            _ => return Ok(None),
        };
        if id.null_count() != 0 {
            return Ok(None);
        }
        ids.push(id);
    }
    Ok(Some(ids))
}

/// After a month on the general path: when the portfolio's customers are now exactly the
/// table's ids in order (a first month without duplicates), remembers the id columns so that
/// the next month's ids are compared as buffers.
pub(crate) fn remember_ids(book: &mut Book, batches: &[RecordBatch]) -> Result<(), Fail> {
    let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if n == 0 || n != book.customers.len() || !book.ids.is_empty() {
        return Ok(());
    }
    if let Some(ids) = id_columns(batches)? {
        let mut customers = book.customers.iter();
        let same = ids
            .iter()
            .all(|c| c.as_string::<i32>().iter().flatten().all(|id| customers.next().is_some_and(|c| c.id == id)));
        if same {
            book.ids = ids;
        }
    }
    Ok(())
}

/// Whether `ids` (one `Utf8` column per batch) are exactly the portfolio's customers, in order.
fn ids_are_the_portfolio(book: &Book, ids: &[ArrayRef]) -> bool {
    let same_columns = book.ids.len() == ids.len()
        && book.ids.iter().zip(ids).all(|(a, b)| same_strings(a.as_string::<i32>(), b.as_string::<i32>()));
    if same_columns {
        return true;
    }
    let mut customers = book.customers.iter();
    for col in ids {
        let col = col.as_string::<i32>();
        if col.null_count() != 0 {
            return false;
        }
        for id in col.iter().flatten() {
            if customers.next().is_none_or(|c| c.id != id) {
                return false;
            }
        }
    }
    customers.next().is_none()
}

/// One customer's states row, as its code columns' keys (`-1` for a null tier).
#[derive(Clone, Copy)]
struct RowValues {
    status: i8,
    tier: i16,
    effective: i16,
    watch: u32,
    below: u32,
    retention: u32,
    special: Option<(i16, Month)>,
}

/// A segment's output, written in one pass as the engine produces it: each customer's states
/// row from its new state ([`BatchSink::evaluated`]), its events and alerts into the tables
/// sink. The states columns are plain vectors (a tier key of `-1` is a null), turned into
/// Arrow arrays once at the end.
struct SegmentSink<'a> {
    customers: &'a [Customer],
    month: Month,
    tables: TablesSink,
    /// The input's AUM values (decimal128 at scale 2, no nulls): the states' `aum` column is
    /// that array as long as every computed AUM equals it (`aum` stays `None`).
    aum_source: Option<&'a [i128]>,
    aum: Option<Decimal128Builder>,
    status: Vec<i8>,
    tier: Vec<i16>,
    effective: Vec<i16>,
    watch: Vec<u32>,
    below: Vec<u32>,
    retention: Vec<u32>,
    /// Special VIP tier key and last month, made at the first row that has one.
    special: Option<Vec<Option<(i16, Month)>>>,
    /// Error messages, made at the first error; and the rows in error.
    error: Option<Vec<Option<String>>>,
    error_rows: Vec<u32>,
}

impl<'a> SegmentSink<'a> {
    fn new(customers: &'a [Customer], month: Month, tables: TablesSink, aum_source: Option<&'a [i128]>) -> Self {
        let n = customers.len();
        SegmentSink {
            customers,
            month,
            tables,
            aum_source,
            aum: if aum_source.is_some() { None } else { Some(fen_builder(n)) },
            status: Vec::with_capacity(n),
            tier: Vec::with_capacity(n),
            effective: Vec::with_capacity(n),
            watch: Vec::with_capacity(n),
            below: Vec::with_capacity(n),
            retention: Vec::with_capacity(n),
            special: None,
            error: None,
            error_rows: Vec::new(),
        }
    }

    fn values(&mut self, s: &CustomerState) -> RowValues {
        let mut key = |t: Option<TierCode>| t.map_or(-1, |t| self.tables.tier_key(t));
        let tier = key(s.tier);
        // Without a special VIP designation the effective tier is usually the earned one.
        let effective = if s.effective_tier == s.tier { tier } else { key(s.effective_tier) };
        RowValues {
            status: status_key(s.status),
            tier,
            effective,
            watch: s.watch.map_or(0, |w| w.short_months),
            below: s.below_entry.map_or(0, |r| r.months),
            retention: s.retention_months_left,
            special: s.special.map(|x| (self.tables.tier_key(x.tier), x.last_month)),
        }
    }

    fn push(&mut self, v: RowValues) {
        let row = self.status.len();
        self.status.push(v.status);
        self.tier.push(v.tier);
        self.effective.push(v.effective);
        self.watch.push(v.watch);
        self.below.push(v.below);
        self.retention.push(v.retention);
        match (&mut self.special, v.special) {
            (Some(col), x) => col.push(x),
            (None, None) => {}
            (None, Some(x)) => {
                let mut col = vec![None; row];
                col.push(Some(x));
                self.special = Some(col);
            }
        }
        if let Some(e) = self.error.as_mut() {
            e.push(None);
        }
    }

    /// Overwrites row `i` (a row in error, pushed before its state was known).
    fn set(&mut self, i: usize, v: RowValues) {
        self.status[i] = v.status;
        self.tier[i] = v.tier;
        self.effective[i] = v.effective;
        self.watch[i] = v.watch;
        self.below[i] = v.below;
        self.retention[i] = v.retention;
        if self.special.is_none() && v.special.is_some() {
            self.special = Some(vec![None; self.status.len()]);
        }
        if let Some(col) = self.special.as_mut() {
            col[i] = v.special;
        }
    }

    /// The AUM of the next row: `None` for a row in error.
    fn push_aum(&mut self, fen: Option<i128>) {
        let row = self.status.len();
        if let Some(src) = self.aum_source {
            if fen.is_some_and(|f| src.get(row) == Some(&f)) {
                return;
            }
            // First row that differs from the input column: write the column from here on.
            let mut b = fen_builder(self.customers.len());
            b.append_slice(&src[..row]);
            self.aum = Some(b);
            self.aum_source = None;
        }
        if let Some(b) = self.aum.as_mut() {
            b.append_option(fen);
        }
    }

    /// Writes the rows in error from their (unchanged) states.
    fn fill_errors(&mut self, states: &[CustomerState]) {
        for k in 0..self.error_rows.len() {
            let i = self.error_rows[k] as usize;
            let v = self.values(&states[i]);
            self.set(i, v);
        }
    }

    /// The four batches; `ids` is the segment's `customer_id` column (the input's own).
    fn finish(self, ids: ArrayRef, source: Option<ArrayRef>) -> Result<Batches4, TableError> {
        let n = self.status.len();
        let tiers = self.tables.tier_values();
        let aum = match (self.aum, source) {
            (Some(mut b), _) => Arc::new(b.finish()) as ArrayRef,
            (None, Some(src)) => src,
            (None, None) => Arc::new(fen_builder(0).finish()) as ArrayRef,
        };
        let vip = BooleanBuffer::collect_bool(n, |i| self.effective[i] >= 0);
        let (special_tier, special_until) = match self.special {
            Some(col) => {
                let keys: Vec<i16> = col.iter().map(|x| x.map_or(-1, |(k, _)| k)).collect();
                let mut until = MonthColumn::with_capacity(n);
                for x in &col {
                    until.push(x.map(|(_, m)| m));
                }
                (tier_keys(keys, &tiers)?, until.finish()?)
            }
            None => (
                Arc::new(DictionaryArray::<Int16Type>::try_new(PrimitiveArray::new_null(n), tiers.clone())?)
                    as ArrayRef,
                Arc::new(StringArray::new_null(n)) as ArrayRef,
            ),
        };
        let error: ArrayRef = match self.error {
            Some(e) => Arc::new(StringArray::from(e)),
            None => Arc::new(StringArray::new_null(n)),
        };
        let columns = StatesArrays {
            customer_id: ids,
            month: month_runs(&[(self.month, n)], n)?,
            aum,
            status: PrimitiveArray::<Int8Type>::new(ScalarBuffer::from(self.status), None),
            tier: tier_keys(self.tier, &tiers)?,
            effective_tier: tier_keys(self.effective, &tiers)?,
            is_vip: Arc::new(BooleanArray::new(vip, None)),
            watch_months: Arc::new(PrimitiveArray::<UInt32Type>::new(ScalarBuffer::from(self.watch), None)),
            below_entry_months: Arc::new(PrimitiveArray::<UInt32Type>::new(ScalarBuffer::from(self.below), None)),
            retention_months_left: Arc::new(PrimitiveArray::<UInt32Type>::new(
                ScalarBuffer::from(self.retention),
                None,
            )),
            special_tier,
            special_until,
            error,
        };
        self.tables.finish_with_states(columns)
    }
}

impl BatchSink for SegmentSink<'_> {
    fn event(&mut self, index: u32, event: &Event) {
        self.tables.event_at(index as usize, event);
    }
    fn alert(&mut self, index: u32, alert: &Alert) {
        self.tables.alert_at(index as usize, alert);
    }
    fn evaluated(&mut self, _index: u32, aum: Decimal, state: &CustomerState) {
        self.push_aum(fen(aum));
        let v = self.values(state);
        self.push(v);
    }
    fn error(&mut self, index: u32, error: TieringError) {
        self.push_aum(None);
        let row = self.status.len();
        // Placeholder values: `fill_errors` writes the unchanged state once the engine is done.
        self.push(RowValues { status: 0, tier: -1, effective: -1, watch: 0, below: 0, retention: 0, special: None });
        self.error_rows.push(index);
        let (cat, field, message) = describe(&error);
        let id = self.customers.get(index as usize).map_or("", |c| c.id.as_str());
        self.tables.push_error(id, self.month, (cat, field, &message));
        self.error.get_or_insert_with(|| vec![None; row + 1])[row] = Some(message);
    }
}

/// A Decimal128 builder of `decimal128(38, 2)` (amounts in fen).
fn fen_builder(rows: usize) -> Decimal128Builder {
    Decimal128Builder::with_capacity(rows).with_data_type(DataType::Decimal128(38, 2))
}

/// A dictionary column over the tier codes from keys where `-1` is a null.
fn tier_keys(mut keys: Vec<i16>, tiers: &ArrayRef) -> Result<ArrayRef, TableError> {
    let valid = BooleanBuffer::collect_bool(keys.len(), |i| keys[i] >= 0);
    for k in &mut keys {
        *k = (*k).max(0);
    }
    let nulls = NullBuffer::new(valid);
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    let keys = PrimitiveArray::<Int16Type>::new(ScalarBuffer::from(keys), nulls);
    Ok(Arc::new(DictionaryArray::<Int16Type>::try_new(keys, tiers.clone())?))
}

/// One consecutive run of rows inside one input batch, evaluated by one thread.
struct Segment {
    /// Index of the first row in the portfolio (and in the whole table).
    start: usize,
    len: usize,
    batch: usize,
    /// Index of the first row inside its batch.
    local: usize,
}

/// Evaluates `segment` in one pass (each states row written from the new state as the engine
/// produces it) and returns its result batches.
#[allow(clippy::too_many_arguments)]
fn run_segment(
    engine: &Engine,
    month: Month,
    customers: &[Customer],
    states: &mut [CustomerState],
    aum: &AumColumn,
    ids: &ArrayRef,
    segment: &Segment,
    tables: TablesSink,
) -> Result<Batches4, Fail> {
    // The input's AUM column is the states' when it is at fen scale without nulls (a null is
    // a row in error, whose states AUM is null too, but the values under it are arbitrary).
    let source = match aum {
        AumColumn::Decimal(a, 2) if a.null_count() == 0 => Some(a.slice(segment.local, segment.len)),
        _ => None,
    };
    let source_column = source
        .as_ref()
        .map(|a| a.clone().with_precision_and_scale(38, 2).map(|a| Arc::new(a) as ArrayRef))
        .transpose()?;
    let mut sink = SegmentSink::new(customers, month, tables, source.as_ref().map(|a| &a.values()[..]));
    let local = segment.local;
    engine.evaluate_batch_with(
        month,
        customers,
        states,
        |i| aum.input(local + i, &customers[i].id, month),
        &mut sink,
    )?;
    sink.fill_errors(states);
    Ok(sink.finish(ids.slice(segment.local, segment.len), source_column)?)
}

/// What can go wrong in the fast path.
pub(crate) enum Fail {
    Table(TableError),
    Engine(TieringError),
}

impl From<TableError> for Fail {
    fn from(e: TableError) -> Self {
        Fail::Table(e)
    }
}

impl From<TieringError> for Fail {
    fn from(e: TieringError) -> Self {
        Fail::Engine(e)
    }
}

impl From<arrow_schema::ArrowError> for Fail {
    fn from(e: arrow_schema::ArrowError) -> Self {
        Fail::Table(e.into())
    }
}

/// Evaluates a month whose table holds exactly the portfolio's customers in order, on
/// `threads` threads; `None` when the table needs the general path (other customers, selector
/// or special-VIP columns, string amounts).
pub(crate) fn aligned_month(
    book: &mut Book,
    month: Month,
    batches: &[RecordBatch],
    threads: usize,
    explain: bool,
) -> Result<Option<Vec<Batches4>>, Fail> {
    let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if n == 0 || n != book.customers.len() {
        return Ok(None);
    }
    let mut aums: Vec<AumColumn> = Vec::with_capacity(batches.len());
    for batch in batches {
        let schema = batch.schema_ref();
        if GENERAL_COLUMNS.iter().any(|c| schema.index_of(c).is_ok()) {
            return Ok(None);
        }
        let Ok(aum) = schema.index_of("aum") else {
            return Ok(None);
        };
        let Some(aum) = AumColumn::of(batch.column(aum))? else {
            return Ok(None);
        };
        aums.push(aum);
    }
    let Some(ids) = id_columns(batches)? else {
        return Ok(None);
    };
    if !ids_are_the_portfolio(book, &ids) {
        return Ok(None);
    }
    book.ids = ids.clone();

    // Cut the rows into `threads` consecutive ranges, and those at batch boundaries.
    let threads = threads.clamp(1, 64).min(n);
    let mut plan: Vec<Vec<Segment>> = Vec::with_capacity(threads);
    let mut starts = Vec::with_capacity(batches.len());
    let mut s = 0usize;
    for b in batches {
        starts.push(s);
        s += b.num_rows();
    }
    for t in 0..threads {
        let (from, to) = (n * t / threads, n * (t + 1) / threads);
        let mut segs = Vec::new();
        for (k, b) in batches.iter().enumerate() {
            let (bs, be) = (starts[k], starts[k] + b.num_rows());
            let (x, y) = (from.max(bs), to.min(be));
            if x < y {
                segs.push(Segment { start: x, len: y - x, batch: k, local: x - bs });
            }
        }
        plan.push(segs);
    }

    let engine = &*book.engine;
    let customers = &book.customers[..];
    let codes = &book.codes;
    let (ids, aums) = (&ids, &aums);
    let run_thread = |segs: &[Segment], mut states: &mut [CustomerState]| -> Result<Vec<Batches4>, Fail> {
        let mut out = Vec::with_capacity(segs.len());
        for seg in segs {
            let (mine, rest) = std::mem::take(&mut states).split_at_mut(seg.len);
            states = rest;
            let sink = TablesSink::for_events(seg.len, explain, codes.clone());
            let cs = &customers[seg.start..seg.start + seg.len];
            out.push(run_segment(engine, month, cs, mine, &aums[seg.batch], &ids[seg.batch], seg, sink)?);
        }
        Ok(out)
    };
    let mut state_parts: Vec<&mut [CustomerState]> = Vec::with_capacity(threads);
    let mut rest = &mut book.states[..];
    for segs in &plan {
        let len: usize = segs.iter().map(|s| s.len).sum();
        let (mine, r) = rest.split_at_mut(len);
        state_parts.push(mine);
        rest = r;
    }
    let run_thread = &run_thread;
    let results: Vec<Result<Vec<Batches4>, Fail>> = if threads == 1 {
        plan.iter().zip(state_parts).map(|(segs, st)| run_thread(segs, st)).collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> =
                plan.iter().zip(state_parts).map(|(segs, st)| scope.spawn(move || run_thread(segs, st))).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| Err(Fail::Table(TableError::Arrow("a worker thread failed".into()))))
                })
                .collect()
        })
    };
    let mut parts = Vec::new();
    for r in results {
        parts.extend(r?);
    }
    Ok(Some(parts))
}
