//! A portfolio's month in one call: columns in, flat arrays out, one error slot per customer.

use std::ffi::c_char;

use engine::{AumInput, ComponentAmount, Customer, MonthInput, from_fen};

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
    errors: Vec<(u32, Failure)>,
}

/// The customer columns of a call, borrowed.
struct CustomersKey<'a> {
    ids: &'a [u8],
    id_offsets: &'a [usize],
    entities: Option<(&'a [u8], &'a [usize])>,
    kinds: Option<&'a [u8]>,
}

/// Buffers kept on a `crmt_states` between monthly batches: the customers built from the last
/// call's columns (reused as they are when the next call's columns are byte for byte the same,
/// as they are month after month for a portfolio) and the inputs' storage.
#[derive(Default)]
pub(crate) struct Scratch {
    ids: Vec<u8>,
    id_offsets: Vec<usize>,
    entities: Option<(Vec<u8>, Vec<usize>)>,
    kinds: Option<Vec<u8>>,
    customers: Vec<Customer>,
    rejected: Vec<(u32, Failure)>,
    inputs: Vec<MonthInput>,
}

impl Scratch {
    fn matches(&self, key: &CustomersKey<'_>) -> bool {
        self.customers.len() + 1 == key.id_offsets.len()
            && self.ids == key.ids
            && self.id_offsets == key.id_offsets
            && self.entities.as_ref().map(|(d, o)| (d.as_slice(), o.as_slice())) == key.entities
            && self.kinds.as_deref() == key.kinds
    }

    /// Builds the customers, noting the records that cannot be evaluated.
    fn build(&mut self, key: &CustomersKey<'_>) {
        let n = key.id_offsets.len() - 1;
        self.ids = key.ids.to_vec();
        self.id_offsets = key.id_offsets.to_vec();
        self.entities = key.entities.map(|(d, o)| (d.to_vec(), o.to_vec()));
        self.kinds = key.kinds.map(<[u8]>::to_vec);
        self.customers.clear();
        self.rejected.clear();
        let rejected = &mut self.rejected;
        for i in 0..n {
            let raw = text_at(key.ids, key.id_offsets, i);
            let id = match std::str::from_utf8(raw) {
                Ok(id) => id.to_string(),
                Err(_) => {
                    let lossy = String::from_utf8_lossy(raw).into_owned();
                    rejected.push((
                        i as u32,
                        Failure::new(
                            crmt_result::CRMT_INVALID_UTF8,
                            format!("customer {i}: the id is not valid UTF-8"),
                        )
                        .customer(lossy.clone())
                        .field("id"),
                    ));
                    lossy
                }
            };
            let legal_entity = match key.entities {
                Some((data, o)) => match std::str::from_utf8(text_at(data, o, i)) {
                    Ok("") => None,
                    Ok(e) => Some(e.to_string()),
                    Err(_) => {
                        rejected.push((
                            i as u32,
                            Failure::new(
                                crmt_result::CRMT_INVALID_UTF8,
                                format!("customer `{id}`: the legal entity is not valid UTF-8"),
                            )
                            .customer(id.clone())
                            .field("legal_entity"),
                        ));
                        None
                    }
                },
                None => None,
            };
            let kind = match customer_kind(key.kinds.map_or(0, |k| u32::from(k[i])), &id) {
                Ok(k) => k,
                Err(f) => {
                    rejected.push((i as u32, f));
                    Default::default()
                }
            };
            self.customers.push(Customer { id, legal_entity, kind });
        }
        // A record rejected twice (id and kind) is reported once, with its first failure.
        rejected.dedup_by_key(|(i, _)| *i);
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
/// hold `customers->count` states) and, on success, its new state there. A customer that
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
    out.events.clear();
    out.alerts.clear();
    out.aums.clear();
    out.errors.clear();
    {
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
        let id_off = offsets(c.id_offsets, n, "customers.id_offsets")?;
        // SAFETY: `ids` is readable up to the last offset per the contract.
        let ids = unsafe { bytes(c.ids.cast(), id_off[n], "customers.ids") }?;
        let entities = if c.legal_entities.is_null() {
            None
        } else {
            let o = offsets(c.legal_entity_offsets, n, "customers.legal_entity_offsets")?;
            // SAFETY: readable up to the last offset per the contract.
            Some((unsafe { bytes(c.legal_entities.cast(), o[n], "customers.legal_entities") }?, o))
        };
        // SAFETY: `count` entries when not NULL, per the contract.
        let kinds = if c.kinds.is_null() { None } else { Some(unsafe { slice(c.kinds, n, "customers.kinds") }?) };

        let scratch = &mut st.scratch;
        let key = CustomersKey { ids, id_offsets: id_off, entities, kinds };
        if !scratch.matches(&key) {
            scratch.build(&key);
        }
        // The inputs, in the buffer of the last month.
        let mut inputs = std::mem::take(&mut scratch.inputs);
        inputs.clear();
        if a.component_count == 0 {
            // SAFETY: `count` entries per the contract.
            let amounts = unsafe { slice(a.amounts_fen, n, "aum.amounts_fen") }?;
            inputs.extend(amounts.iter().map(|f| MonthInput::total(from_fen(*f))));
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
            inputs.extend(amounts.chunks_exact(k).map(|row| {
                let items = row
                    .iter()
                    .zip(&codes)
                    .filter(|(f, _)| **f != crate::CRMT_NO_AMOUNT)
                    .map(|(f, code)| ComponentAmount { component: code.clone(), amount: from_fen(*f) })
                    .collect();
                MonthInput { aum: AumInput::Averages(items), special: None }
            }));
        }
        let rejected = scratch.rejected.clone();
        let list = std::mem::take(&mut scratch.customers);

        let saved: Vec<_> = rejected.iter().map(|(i, _)| st.states[*i as usize]).collect();
        let threads = threads.min(crate::CRMT_MAX_THREADS);
        let outcome = if threads > 1 {
            book.engine.evaluate_batch_parallel(month, &list, &inputs, &mut st.states, threads)
        } else {
            book.engine.evaluate_batch(month, &list, &inputs, &mut st.states)
        };
        st.scratch.customers = list;
        st.scratch.inputs = inputs;
        let outcome = outcome?;
        let crmt_batch { events, alerts, aums, errors } = out;
        aums.extend(outcome.aums.iter().map(|d| fen(*d)));
        errors.extend(outcome.errors.into_iter().map(|e| (e.index, Failure::from(e.error))));
        events.extend(outcome.events.iter().map(|e| event_struct(e.index, &e.event)));
        alerts.extend(outcome.alerts.iter().map(|a| alert_struct(a.index, &a.alert)));
        if !rejected.is_empty() {
            // Rejected records were evaluated with a placeholder: undo what they produced.
            let is_rejected = |i: u32| rejected.binary_search_by_key(&i, |(r, _)| *r).is_ok();
            for ((i, _), s) in rejected.iter().zip(&saved) {
                st.states[*i as usize] = *s;
                aums[*i as usize] = 0;
            }
            events.retain(|e| !is_rejected(e.customer_index));
            alerts.retain(|a| !is_rejected(a.customer_index));
            errors.retain(|(i, _)| !is_rejected(*i));
            errors.extend(rejected);
            errors.sort_by_key(|(i, _)| *i);
        }
        if !errors_out.is_null() {
            // SAFETY: `count` writable entries per the contract.
            let slots = unsafe { std::slice::from_raw_parts_mut(errors_out, n) };
            slots.fill(crmt_result::CRMT_OK);
            for (i, f) in errors.iter() {
                slots[*i as usize] = f.code;
            }
        }
        Ok(())
    }
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
