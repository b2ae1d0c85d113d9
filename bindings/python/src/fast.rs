//! The portfolio month when the table holds exactly the portfolio's customers, in order (every
//! month after the first, as a bank's month-end extract does): the ids are checked in one
//! comparison, the AUM is read straight from the Arrow column as the engine asks for it, the
//! engine runs in chunks whose states are still in cache when their rows are written, and the
//! states table reuses the input's own `customer_id` column (Arrow arrays are shared, not copied).

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int64Type};
use arrow_array::{Array, ArrayRef, PrimitiveArray, RecordBatch, StringArray};
use arrow_schema::DataType;
use crm_tiering::{
    Alert, BatchAlert, BatchEvent, BatchSink, Customer, CustomerState, Decimal, Engine, Event, InputError, Month,
    MonthInput, TieringError,
};

use crate::table::{Batches4, Book, MonthSink, TableError, TablesSink, describe};

/// Customers evaluated per engine call: their states (about 140 bytes each) stay in cache
/// until their rows are written.
const CHUNK: usize = 2048;

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

/// A chunk's results from the engine, kept until its rows are written (reused chunk to chunk).
#[derive(Default)]
struct ChunkOutcome {
    events: Vec<BatchEvent>,
    alerts: Vec<BatchAlert>,
    errors: Vec<(u32, TieringError)>,
    aums: Vec<Option<Decimal>>,
}

impl BatchSink for ChunkOutcome {
    fn event(&mut self, index: u32, event: &Event) {
        self.events.push(BatchEvent { index, event: *event });
    }
    fn alert(&mut self, index: u32, alert: &Alert) {
        self.alerts.push(BatchAlert { index, alert: *alert });
    }
    fn evaluated(&mut self, _index: u32, aum: Decimal, _state: &CustomerState) {
        self.aums.push(Some(aum));
    }
    fn error(&mut self, index: u32, error: TieringError) {
        self.aums.push(None);
        self.errors.push((index, error));
    }
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

/// Evaluates `segment` chunk by chunk and returns its result batches.
#[allow(clippy::too_many_arguments)]
fn run_segment(
    engine: &Engine,
    month: Month,
    customers: &[Customer],
    states: &mut [CustomerState],
    aum: &AumColumn,
    ids: &ArrayRef,
    segment: &Segment,
    sink: TablesSink,
) -> Result<Batches4, Fail> {
    let mut sink = sink;
    if let AumColumn::Decimal(a, 2) = aum {
        sink.reuse_aum(&a.slice(segment.local, segment.len));
    }
    let mut chunk = ChunkOutcome::default();
    let mut a = 0usize;
    while a < customers.len() {
        let b = (a + CHUNK).min(customers.len());
        chunk.events.clear();
        chunk.alerts.clear();
        chunk.errors.clear();
        chunk.aums.clear();
        let (cs, ss) = (&customers[a..b], &mut states[a..b]);
        let local = segment.local + a;
        engine.evaluate_batch_with(month, cs, ss, |i| aum.input(local + i, &cs[i].id, month), &mut chunk)?;
        let mut errors = chunk.errors.iter().peekable();
        for (i, (c, s)) in cs.iter().zip(ss.iter()).enumerate() {
            let error = match errors.peek() {
                Some((k, e)) if *k as usize == i => {
                    errors.next();
                    Some(describe(e))
                }
                _ => None,
            };
            sink.row(month, c, s, chunk.aums.get(i).copied().flatten(), error);
        }
        for e in &chunk.events {
            sink.event_at(a + e.index as usize, &e.event);
        }
        for x in &chunk.alerts {
            sink.alert_at(a + x.index as usize, &x.alert);
        }
        a = b;
    }
    Ok(sink.finish_batches(Some(ids.slice(segment.local, segment.len)))?)
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
            let sink = TablesSink::with_ids(seg.len, explain, codes.clone(), true);
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
