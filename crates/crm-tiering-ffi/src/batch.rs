//! A portfolio's month in one call: columns in, flat arrays out, one error slot per customer.

use std::borrow::{Borrow, BorrowMut};
use std::ffi::c_char;
use std::ops::Range;
use std::sync::Mutex;

use crm_tiering::{
    Alert, AumInput, BatchSink, ComponentAmount, CustomerKind, CustomerRef, CustomerState, Decimal, Engine, Event,
    InputError, Month, MonthInput, TieringError, from_fen,
};

use crate::error::{Failure, crmt_result};
use crate::evaluate::{alert_struct, crmt_alert, crmt_event, customer_kind, event_struct, parse_month};
use crate::ffi::{arg, arg_mut, bytes, c_str, fen, free_box, guard, guard_keep, put_box, slice, write_str};
use crate::rulebook::crmt_rulebook;
use crate::state::crmt_states;

/// The customers of a batch, as columns (the layout of an extract, and cheap to fill from Java).
///
/// Customer `i`'s id is the UTF-8 bytes `ids[id_offsets[i] .. id_offsets[i + 1]]` (no NUL
/// needed); `id_offsets` has `count + 1` non-decreasing entries. Legal entities likewise, an
/// empty one meaning none; `legal_entities` NULL means none for every customer. `kinds` holds
/// `CRMT_KIND_PERSONAL` or `CRMT_KIND_CORPORATE` per customer; NULL means all personal.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_batch_customers {
    /// The number of customers.
    pub count: usize,
    /// The ids, concatenated.
    pub ids: *const c_char,
    /// `count + 1` offsets into `ids`.
    pub id_offsets: *const usize,
    /// The legal entities, concatenated; NULL when none.
    pub legal_entities: *const c_char,
    /// `count + 1` offsets into `legal_entities`; NULL when `legal_entities` is NULL.
    pub legal_entity_offsets: *const usize,
    /// One kind per customer; NULL for all personal.
    pub kinds: *const u8,
}

/// The AUM of a batch, in fen.
///
/// With `component_count` 0, `amounts_fen` has one entry per customer: the month's AUM. With
/// `component_count` k > 0, `components` names k components of the rule book's catalogue and
/// `amounts_fen` is a row-major `count x k` matrix of monthly daily averages (customer `i`'s
/// amount of component `j` at `i * k + j`); `CRMT_NO_AMOUNT` leaves a component out.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_batch_aum {
    /// 0 for totals, or the number of component columns.
    pub component_count: usize,
    /// `component_count` NUL-terminated component codes; NULL for totals.
    pub components: *const *const c_char,
    /// The amounts in fen.
    pub amounts_fen: *const i64,
}

/// The result of a batch: events, alerts and AUMs as flat arrays, and the customers in error.
/// Not synchronized; released with `crmt_batch_free`.
#[derive(Default)]
pub struct crmt_batch {
    events: Vec<crmt_event>,
    alerts: Vec<crmt_alert>,
    aums: Vec<i64>,
    /// The customers in error, in customer order.
    errors: Vec<(u32, Failure)>,
    /// Emptied per-thread results of the last parallel batch, whose memory the next one reuses.
    spare: Vec<crmt_batch>,
}

impl crmt_batch {
    fn clear(&mut self) {
        self.events.clear();
        self.alerts.clear();
        self.aums.clear();
        self.errors.clear();
    }

    /// Moves a part's results to the end of this one's, keeping the part's memory for reuse.
    fn append(&mut self, mut part: crmt_batch) {
        self.events.extend_from_slice(&part.events);
        self.alerts.extend_from_slice(&part.alerts);
        self.aums.extend_from_slice(&part.aums);
        self.errors.append(&mut part.errors);
        part.clear();
        self.spare.push(part);
    }
}

/// Receives the engine's results for the customers of a batch and writes them, already in
/// their C layout, into a result's arrays (the caller's handle, or one thread's part of it).
///
/// The engine reports indices relative to the slice it was given: `base` makes them the
/// batch's. A customer whose record could not be read (`rejected`) reaches the engine as a
/// placeholder whose input fails; its error is replaced by the record's own failure.
struct Collect<'r, B> {
    out: B,
    base: u32,
    rejected: &'r [(u32, Failure)],
}

impl<B: BorrowMut<crmt_batch>> BatchSink for Collect<'_, B> {
    #[inline]
    fn event(&mut self, index: u32, event: &Event) {
        self.out.borrow_mut().events.push(event_struct(self.base + index, event));
    }

    #[inline]
    fn alert(&mut self, index: u32, alert: &Alert) {
        self.out.borrow_mut().alerts.push(alert_struct(self.base + index, alert));
    }

    #[inline]
    fn evaluated(&mut self, _index: u32, aum: Decimal, _state: &crm_tiering::CustomerState) {
        self.out.borrow_mut().aums.push(fen(aum));
    }

    fn error(&mut self, index: u32, error: TieringError) {
        let index = self.base + index;
        let failure = match self.rejected.binary_search_by_key(&index, |(i, _)| *i) {
            Ok(k) => self.rejected[k].1.clone(),
            Err(_) => Failure::from(error),
        };
        let out = self.out.borrow_mut();
        out.aums.push(0);
        out.errors.push((index, failure));
    }
}

/// The customer columns of a call, borrowed from the caller and checked for length.
struct Columns<'a> {
    ids: &'a [u8],
    id_offsets: &'a [usize],
    entities: Option<(&'a [u8], &'a [usize])>,
    kinds: Option<&'a [u8]>,
}

/// What a record that cannot be read is evaluated as: its input fails before any rule runs.
const PLACEHOLDER: CustomerRef<'static> = CustomerRef { id: "", legal_entity: None, kind: CustomerKind::Personal };

impl<'a> Columns<'a> {
    /// Appends the customers of `range` to `refs` as identities borrowed from the columns (the
    /// text is checked, not copied). A record that cannot be read gets a placeholder, and its
    /// failure goes to `rejected`.
    fn read(&self, range: Range<usize>, refs: &mut Vec<CustomerRef<'a>>, rejected: &mut Vec<(u32, Failure)>) {
        // The ids of the range are checked as one text (one pass of the validator instead of
        // one call per short id); each id is then a slice of it, when it starts and ends on
        // character boundaries. A range with invalid text is checked id by id.
        let (o, start) = (self.id_offsets, self.id_offsets[range.start]);
        let ids = std::str::from_utf8(&self.ids[start..o[range.end]]).ok();
        if let (Some(text), None, None) = (ids, self.entities, self.kinds) {
            // Personal customers of no legal entity: only the ids to cut out.
            let ends = &o[range.start..=range.end];
            for (i, w) in range.zip(ends.windows(2)) {
                match text.get(w[0] - start..w[1] - start) {
                    Some(id) => refs.push(CustomerRef { id, legal_entity: None, kind: CustomerKind::Personal }),
                    None => self.reject(i, refs, rejected),
                }
            }
            return;
        }
        for i in range {
            let id = ids.and_then(|text| text.get(o[i] - start..o[i + 1] - start));
            match self.customer(i, id) {
                Ok(c) => refs.push(c),
                Err(f) => {
                    refs.push(PLACEHOLDER);
                    rejected.push((i as u32, f));
                }
            }
        }
    }

    /// Adds the placeholder of customer `i`, whose id is not text, and its failure.
    #[cold]
    fn reject(&self, i: usize, refs: &mut Vec<CustomerRef<'a>>, rejected: &mut Vec<(u32, Failure)>) {
        let failure = self.customer(i, None).err().unwrap_or_else(|| {
            Failure::new(crmt_result::CRMT_INVALID_UTF8, format!("customer {i}: the id is not valid UTF-8")).field("id")
        });
        refs.push(PLACEHOLDER);
        rejected.push((i as u32, failure));
    }

    /// Customer `i`, whose id is `id` when already checked.
    #[inline]
    fn customer(&self, i: usize, id: Option<&'a str>) -> Result<CustomerRef<'a>, Failure> {
        let id = match id {
            Some(id) => id,
            None => {
                let raw = text_at(self.ids, self.id_offsets, i);
                std::str::from_utf8(raw).map_err(|_| {
                    Failure::new(crmt_result::CRMT_INVALID_UTF8, format!("customer {i}: the id is not valid UTF-8"))
                        .customer(String::from_utf8_lossy(raw))
                        .field("id")
                })?
            }
        };
        let legal_entity = match self.entities {
            Some((data, o)) => match std::str::from_utf8(text_at(data, o, i)) {
                Ok("") => None,
                Ok(e) => Some(e),
                Err(_) => {
                    return Err(Failure::new(
                        crmt_result::CRMT_INVALID_UTF8,
                        format!("customer `{id}`: the legal entity is not valid UTF-8"),
                    )
                    .customer(id)
                    .field("legal_entity"));
                }
            },
            None => None,
        };
        let kind = customer_kind(self.kinds.map_or(0, |k| u32::from(k[i])), id)?;
        Ok(CustomerRef { id, legal_entity, kind })
    }
}

/// The failing input of a record that could not be read (the failure reported is the record's).
fn unreadable(i: usize) -> TieringError {
    InputError::new("", None, "id", format!("record {i} is unreadable")).into()
}

/// Customers per call of the engine on the calling thread: their borrowed identities are
/// built a chunk at a time, in a buffer that stays in cache.
const CHUNK: usize = 4096;

/// A vector's memory for another lifetime of the same type: emptied, then collected in place
/// (the standard library reuses the allocation when the element layout is the same).
fn recycle<'b>(mut v: Vec<CustomerRef<'_>>) -> Vec<CustomerRef<'b>> {
    v.clear();
    v.into_iter().map(|c| CustomerRef { id: "", legal_entity: None, kind: c.kind }).collect()
}

/// Buffers kept on a `crmt_states` between monthly batches.
#[derive(Default)]
pub(crate) struct Scratch {
    /// The borrowed identities of the last batch, emptied: memory for the next.
    refs: Vec<CustomerRef<'static>>,
}

/// Runs the engine over the customers, each input made by `input(i)`, into `out`.
#[allow(clippy::too_many_arguments)]
fn evaluate<I, F>(
    engine: &Engine,
    month: Month,
    columns: &Columns<'_>,
    states: &mut [CustomerState],
    scratch: &mut Scratch,
    threads: usize,
    input: F,
    out: &mut crmt_batch,
) -> Result<(), Failure>
where
    I: Borrow<MonthInput>,
    F: Fn(usize) -> Result<I, TieringError> + Sync,
{
    let n = states.len();
    let mut rejected = Vec::new();
    let mut refs = recycle(std::mem::take(&mut scratch.refs));
    if threads > 1 {
        columns.read(0..n, &mut refs, &mut rejected);
        let rejected = rejected.as_slice();
        let checked = |i: usize| match rejected.binary_search_by_key(&(i as u32), |(r, _)| *r) {
            Ok(_) => Err(unreadable(i)),
            Err(_) => input(i),
        };
        let pool = Mutex::new(std::mem::take(&mut out.spare));
        let parts = engine.evaluate_batch_parallel_with(month, &refs, states, checked, threads, || Collect {
            out: pool.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default(),
            base: 0,
            rejected,
        })?;
        out.spare = pool.into_inner().unwrap_or_default();
        for part in parts {
            out.append(part.out);
        }
    } else {
        for (c, chunk) in states.chunks_mut(CHUNK).enumerate() {
            let base = c * CHUNK;
            refs.clear();
            let known = rejected.len();
            columns.read(base..base + chunk.len(), &mut refs, &mut rejected);
            let fresh = &rejected[known..];
            let checked = |i: usize| {
                let i = base + i;
                if fresh.is_empty() || fresh.binary_search_by_key(&(i as u32), |(r, _)| *r).is_err() {
                    input(i)
                } else {
                    Err(unreadable(i))
                }
            };
            let mut sink = Collect { out: &mut *out, base: base as u32, rejected: fresh };
            engine.evaluate_batch_with(month, &refs, chunk, checked, &mut sink)?;
        }
    }
    scratch.refs = recycle(refs);
    Ok(())
}

/// A component's monthly daily averages, one row of the `count x k` matrix per customer.
struct Averages<'a> {
    codes: Vec<String>,
    amounts: &'a [i64],
}

impl Averages<'_> {
    fn input(&self, i: usize) -> MonthInput {
        let k = self.codes.len();
        let row = &self.amounts[i * k..(i + 1) * k];
        let items = row
            .iter()
            .zip(&self.codes)
            .filter(|(f, _)| **f != crate::CRMT_NO_AMOUNT)
            .map(|(f, code)| ComponentAmount { component: code.clone(), amount: from_fen(*f) })
            .collect();
        MonthInput { aum: AumInput::Averages(items), special: None }
    }
}

fn offsets<'a>(p: *const usize, count: usize, name: &str) -> Result<&'a [usize], Failure> {
    // SAFETY: the exported function's contract: `count + 1` readable entries.
    let o = unsafe { slice(p, count + 1, name) }?;
    if let Some(i) = o.windows(2).position(|w| w[0] > w[1]) {
        return Err(Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!("`{name}` must not decrease, but entry {} is below entry {i}", i + 1),
        )
        .field(name));
    }
    Ok(o)
}

fn text_at<'a>(data: &'a [u8], o: &[usize], i: usize) -> &'a [u8] {
    data.get(o[i]..o[i + 1]).unwrap_or(&[])
}

/// Evaluates a portfolio for one month (`year * 100 + month`), updating `states` in place.
///
/// Customer `i` has its AUM in `aum`, its prior state at index `i` of `states` (which must
/// hold `customers->count` states) and, on success, its new state there. `states` are bound to
/// the ids of the first batch they are used with: a batch whose ids differ from those in any
/// position is refused (`CRMT_INVALID_ARGUMENT`, field `states`), so a reordered or changed
/// customer list never meets another customer's state. This is the in-memory fast path (a
/// replay from new states, a benchmark); a month-end run over stored states uses
/// `crmt_evaluate_portfolio`, which matches by id, takes designations and checks the month. A customer that
/// cannot be evaluated keeps its prior state: `errors_out[i]` (when `errors_out` is not NULL;
/// `count` entries) receives its code, `CRMT_OK` for the others, and the batch handle has its
/// details (`crmt_batch_error_message`). Events and alerts come in customer order, each with
/// its customer's index. Nothing is allocated per customer on the caller's side.
///
/// `threads` 0 or 1 evaluates on the calling thread; n > 1 splits the customers over n
/// threads (at most `CRMT_MAX_THREADS`) with the same result in the same order.
///
/// On success `*out` (when not NULL) receives a batch handle released with `crmt_batch_free`.
///
/// # Errors
/// Only for the batch as a whole: `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_MONTH`,
/// `CRMT_INVALID_UTF8` (a component code), `CRMT_INVALID_ARGUMENT` (decreasing offsets, or a
/// number of states other than `count`). Per-customer failures (invalid UTF-8 in an id, an
/// unknown kind, the engine's input, sequence, state and rule errors) are in `errors_out`.
/// `CRMT_INVALID_ARGUMENT` with field `states` when the ids are not those `states` are bound to.
///
/// # Safety
/// `book` is a live rule book; `customers` and `aum` point to valid descriptions whose arrays
/// have the documented lengths; `states` is live and used by no other thread; `errors_out` is
/// NULL or writable for `count` entries; `out` is NULL or writable.
/// Thread rules: `book` may be shared by concurrent batches; `states` may not.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_evaluate_batch(
    book: *const crmt_rulebook,
    month: i32,
    customers: *const crmt_batch_customers,
    aum: *const crmt_batch_aum,
    states: *mut crmt_states,
    threads: usize,
    errors_out: *mut crmt_result,
    out: *mut *mut crmt_batch,
) -> crmt_result {
    guard(|| {
        let mut batch = crmt_batch::default();
        // SAFETY: forwarded contract.
        unsafe { run_batch(book, month, customers, aum, states, threads, errors_out, &mut batch) }?;
        if !out.is_null() {
            // SAFETY: writable per the contract.
            unsafe { put_box(out, batch, "out") }?;
        }
        Ok(())
    })
}

/// An empty batch result, to pass to `crmt_evaluate_batch_into` month after month. Released
/// with `crmt_batch_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_new(out: *mut *mut crmt_batch) -> crmt_result {
    // SAFETY: per the contract.
    guard(|| unsafe { put_box(out, crmt_batch::default(), "out") })
}

/// As `crmt_evaluate_batch`, writing the result into an existing batch handle (from
/// `crmt_batch_new` or an earlier call), whose memory is reused: a monthly job that keeps one
/// handle allocates nothing for events, alerts and AUMs after the first month. Arrays read from
/// the handle before the call are invalid after it. On failure the handle is left empty.
///
/// # Errors
/// As `crmt_evaluate_batch`, and `CRMT_NULL_ARGUMENT` when `batch` is NULL.
///
/// # Safety
/// As `crmt_evaluate_batch`; `batch` is a live batch used by no other thread.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_evaluate_batch_into(
    book: *const crmt_rulebook,
    month: i32,
    customers: *const crmt_batch_customers,
    aum: *const crmt_batch_aum,
    states: *mut crmt_states,
    threads: usize,
    errors_out: *mut crmt_result,
    batch: *mut crmt_batch,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let batch = unsafe { arg_mut(batch, "batch") }?;
        // SAFETY: forwarded contract.
        unsafe { run_batch(book, month, customers, aum, states, threads, errors_out, batch) }
    })
}

/// Binds `states` to the ordered ids of its first batch, or checks that this batch's ids are
/// those, position by position: states are never matched to other customers by position.
fn bind(st: &mut crmt_states, ids: &[u8], o: &[usize]) -> Result<(), Failure> {
    let n = o.len() - 1;
    let text = ids.get(o[0]..o[n]).unwrap_or(&[]);
    match &st.bound {
        None => {
            let ends = o[1..].iter().map(|e| e - o[0]).collect();
            st.bound = Some((text.to_vec(), ends));
            Ok(())
        }
        Some((bound, ends)) => {
            let same_ends = ends.len() == n && ends.iter().zip(&o[1..]).all(|(a, b)| *a == b - o[0]);
            if same_ends && bound.as_slice() == text {
                return Ok(());
            }
            // The first customer whose id differs.
            let bound_id = |i: usize| {
                let start = if i == 0 { 0 } else { ends[i - 1] };
                bound.get(start..ends[i]).unwrap_or(&[])
            };
            let first =
                (0..n.min(ends.len())).find(|&i| bound_id(i) != text_at(ids, o, i)).unwrap_or(n.min(ends.len()));
            Err(Failure::new(
                crmt_result::CRMT_INVALID_ARGUMENT,
                format!(
                    "`states` belong to the {} customers of their first batch, in that order; this batch has {n} and differs at customer {first}: states are matched to customers by id in a crmt_portfolio (crmt_evaluate_portfolio), never by position",
                    ends.len()
                ),
            )
            .field("states"))
        }
    }
}

/// The batch evaluation behind both entry points.
///
/// # Safety
/// As `crmt_evaluate_batch`.
#[allow(clippy::too_many_arguments)]
unsafe fn run_batch(
    book: *const crmt_rulebook,
    month: i32,
    customers: *const crmt_batch_customers,
    aum: *const crmt_batch_aum,
    states: *mut crmt_states,
    threads: usize,
    errors_out: *mut crmt_result,
    out: &mut crmt_batch,
) -> Result<(), Failure> {
    out.clear();
    // SAFETY: per the contract.
    let (book, c, a, st) =
        unsafe { (arg(book, "book")?, arg(customers, "customers")?, arg(aum, "aum")?, arg_mut(states, "states")?) };
    let month = parse_month(month)?;
    let n = c.count;
    if st.states.len() != n {
        return Err(Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!("`states` holds {} states for {n} customers", st.states.len()),
        )
        .field("states"));
    }
    let id_offsets = offsets(c.id_offsets, n, "customers.id_offsets")?;
    // SAFETY: `ids` is readable up to the last offset per the contract.
    let ids = unsafe { bytes(c.ids.cast(), id_offsets[n], "customers.ids") }?;
    let entities = if c.legal_entities.is_null() {
        None
    } else {
        let o = offsets(c.legal_entity_offsets, n, "customers.legal_entity_offsets")?;
        // SAFETY: readable up to the last offset per the contract.
        Some((unsafe { bytes(c.legal_entities.cast(), o[n], "customers.legal_entities") }?, o))
    };
    // SAFETY: `count` entries when not NULL, per the contract.
    let kinds = if c.kinds.is_null() { None } else { Some(unsafe { slice(c.kinds, n, "customers.kinds") }?) };
    bind(st, ids, id_offsets)?;
    let columns = Columns { ids, id_offsets, entities, kinds };

    let threads = threads.min(crate::CRMT_MAX_THREADS);
    let (engine, states, scratch) = (&book.engine, &mut st.states, &mut st.scratch);
    let result = if a.component_count == 0 {
        // SAFETY: `count` entries per the contract.
        let totals = unsafe { slice(a.amounts_fen, n, "aum.amounts_fen") }?;
        let input = |i: usize| Ok(MonthInput::total(from_fen(totals[i])));
        evaluate(engine, month, &columns, states, scratch, threads, input, out)
    } else {
        let k = a.component_count;
        // SAFETY: `component_count` entries per the contract.
        let codes = unsafe { slice(a.components, k, "aum.components") }?;
        let codes = codes
            .iter()
            .enumerate()
            // SAFETY: NUL-terminated strings per the contract.
            .map(|(j, p)| unsafe { c_str(*p, &format!("aum.components[{j}]")) }.map(str::to_string))
            .collect::<Result<Vec<_>, _>>()?;
        let total =
            n.checked_mul(k).ok_or_else(|| Failure::new(crmt_result::CRMT_INVALID_ARGUMENT, "too many amounts"))?;
        // SAFETY: `count * component_count` entries per the contract.
        let amounts = unsafe { slice(a.amounts_fen, total, "aum.amounts_fen") }?;
        let averages = Averages { codes, amounts };
        let input = |i: usize| Ok(averages.input(i));
        evaluate(engine, month, &columns, states, scratch, threads, input, out)
    };
    if let Err(e) = result {
        out.clear();
        return Err(e);
    }
    if !errors_out.is_null() {
        // SAFETY: `count` writable entries per the contract.
        let slots = unsafe { std::slice::from_raw_parts_mut(errors_out, n) };
        slots.fill(crmt_result::CRMT_OK);
        for (i, f) in &out.errors {
            slots[*i as usize] = f.code;
        }
    }
    Ok(())
}

/// The batch's events, `*count` plain structs in customer order, owned by the batch (valid
/// until `crmt_batch_free`); NULL and 0 when `batch` is NULL.
///
/// # Safety
/// `batch` is NULL or live; `count` is NULL or writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_events(batch: *const crmt_batch, count: *mut usize) -> *const crmt_event {
    // SAFETY: per the contract.
    let b = unsafe { batch.as_ref() };
    // SAFETY: per the contract.
    unsafe { array(b.map(|b| b.events.as_slice()), count) }
}

/// The batch's alerts, `*count` plain structs in customer order, owned by the batch.
///
/// # Safety
/// `batch` is NULL or live; `count` is NULL or writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_alerts(batch: *const crmt_batch, count: *mut usize) -> *const crmt_alert {
    // SAFETY: per the contract.
    let b = unsafe { batch.as_ref() };
    // SAFETY: per the contract.
    unsafe { array(b.map(|b| b.alerts.as_slice()), count) }
}

/// The month's AUM of each customer in fen (0 for customers in error), `*count` entries owned
/// by the batch.
///
/// # Safety
/// `batch` is NULL or live; `count` is NULL or writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_aums_fen(batch: *const crmt_batch, count: *mut usize) -> *const i64 {
    // SAFETY: per the contract.
    let b = unsafe { batch.as_ref() };
    // SAFETY: per the contract.
    unsafe { array(b.map(|b| b.aums.as_slice()), count) }
}

/// # Safety
/// `count` is NULL or writable.
unsafe fn array<T>(items: Option<&[T]>, count: *mut usize) -> *const T {
    let (p, n) = items.map_or((std::ptr::null(), 0), |s| (s.as_ptr(), s.len()));
    if !count.is_null() {
        // SAFETY: per the contract.
        unsafe { count.write(n) };
    }
    p
}

/// The number of customers in error; 0 when `batch` is NULL.
///
/// # Safety
/// `batch` is NULL or live. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_error_count(batch: *const crmt_batch) -> usize {
    // SAFETY: per the contract.
    unsafe { batch.as_ref() }.map_or(0, |b| b.errors.len())
}

/// The `k`-th customer in error (in customer order): its index in the batch and its code.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE` when `k >= crmt_batch_error_count`.
///
/// # Safety
/// `batch` is live; `customer_index` and `code` are writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_error_at(
    batch: *const crmt_batch,
    k: usize,
    customer_index: *mut u32,
    code: *mut crmt_result,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let b = unsafe { arg(batch, "batch") }?;
        let (i, f) = b.errors.get(k).ok_or_else(|| {
            Failure::new(
                crmt_result::CRMT_INDEX_OUT_OF_RANGE,
                format!("error {k} is past the end ({} errors)", b.errors.len()),
            )
            .field("k")
        })?;
        // SAFETY: per the contract.
        unsafe {
            crate::ffi::put(customer_index, *i, "customer_index")?;
            crate::ffi::put(code, f.code, "code")
        }
    })
}

fn error_of<'a>(batch: *const crmt_batch, customer_index: u32) -> Option<&'a Failure> {
    // SAFETY: the exported callers' contract: `batch` is NULL or live for the call; the
    // reference does not outlive the call.
    let b = unsafe { batch.as_ref() }?;
    b.errors.binary_search_by_key(&customer_index, |(i, _)| *i).ok().map(|k| &b.errors[k].1)
}

fn write_error(
    batch: *const crmt_batch,
    customer_index: u32,
    pick: impl FnOnce(&Failure) -> Option<&str>,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    if batch.is_null() {
        return crmt_result::CRMT_NULL_ARGUMENT;
    }
    guard_keep(|| {
        let text = error_of(batch, customer_index).and_then(pick).unwrap_or("");
        // SAFETY: the exported callers' contract.
        match unsafe { write_str(text, buf, len, written) } {
            crmt_result::CRMT_OK => Ok(()),
            code => Err(code),
        }
    })
}

/// Writes the error message of customer `customer_index` (naming the customer, month and
/// field); empty when that customer has no error. Buffer rules as `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `batch` is live; `buf` is NULL or writable for `len` bytes; `written` NULL or writable.
/// Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_error_message(
    batch: *const crmt_batch,
    customer_index: u32,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    write_error(batch, customer_index, |f| Some(&f.message), buf, len, written)
}

/// Writes the field the error of customer `customer_index` is about (a component code, `aum`,
/// `month`, `state`, `id`, `kind` ...); empty when none. Buffer rules as `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `crmt_batch_error_message`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_error_field(
    batch: *const crmt_batch,
    customer_index: u32,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    write_error(batch, customer_index, |f| f.field.as_deref(), buf, len, written)
}

/// The month (`year * 100 + month`) the error of customer `customer_index` is about; 0 when
/// none.
///
/// # Safety
/// `batch` is NULL or live. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_error_month(batch: *const crmt_batch, customer_index: u32) -> i32 {
    crate::ffi::guard_value(0, || error_of(batch, customer_index).map_or(0, |f| f.month))
}

/// Frees a batch result. NULL is ignored.
///
/// # Safety
/// `batch` is NULL or a batch from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_batch_free(batch: *mut crmt_batch) {
    let _ = guard(|| {
        // SAFETY: per the contract.
        unsafe { free_box(batch) };
        Ok(())
    });
}
