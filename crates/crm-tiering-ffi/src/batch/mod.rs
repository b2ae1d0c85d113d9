//! A portfolio's month in one call: columns in, flat arrays out, one error slot per customer.
//!
//! This is the positional, in-memory fast path (`crmt_evaluate_batch`): `columns` reads the
//! caller's customer and amount columns, `result` is the result handle and the sink that fills it.

mod columns;
mod measures;
mod result;

pub use columns::{crmt_batch_aum, crmt_batch_customers};
pub(crate) use columns::{offsets, text_at};
pub use measures::crmt_measure_columns;
pub(crate) use measures::{MeasureColumns, measure_columns};
pub use result::*;

use std::borrow::Borrow;
use std::sync::Mutex;

use crm_tiering::{CustomerRef, CustomerState, Engine, Histories, Month, MonthInput, TieringError, from_fen};

use crate::args::{arg, byte_size, bytes, slice, slice_mut, vec_for};
use crate::boundary::{WorkerPanic, enter_worker, guard, worker_failure};
use crate::code::crmt_result;
use crate::details::Failure;
use crate::evaluate::parse_month;
use crate::handle::{handle, handle_mut, put_handle};
use crate::rulebook::crmt_rulebook;
use crate::state::crmt_states;
use columns::{Averages, Columns, unreadable};
use result::Collect;

/// Customers per call of the engine on the calling thread: their borrowed identities are
/// built a chunk at a time, in a buffer that stays in cache.
const CHUNK: usize = 4096;

/// A vector's memory for another lifetime of the same type: emptied, then collected in place
/// (the standard library reuses the allocation when the element layout is the same).
fn recycle<'b>(mut v: Vec<CustomerRef<'_>>) -> Vec<CustomerRef<'b>> {
    v.clear();
    v.into_iter().map(|c| CustomerRef { id: "", legal_entity: None, kind: c.kind }).collect()
}

/// Runs the engine over the customers, each input made by `input(i)`, into `out`.
#[allow(clippy::too_many_arguments)]
fn evaluate<I, F>(
    engine: &Engine,
    month: Month,
    columns: &Columns<'_>,
    (states, histories): (&mut [CustomerState], &mut Histories),
    scratch: &mut Vec<CustomerRef<'static>>,
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
    let mut refs = recycle(std::mem::take(scratch));
    if !engine.rule_book().history_layout().is_empty() {
        // A book with windows (SPEC §19.5): the histories go with the states, on this thread.
        columns.read(0..n, &mut refs, &mut rejected);
        let rejected = rejected.as_slice();
        let checked = |i: usize| match rejected.binary_search_by_key(&(i as u32), |(r, _)| *r) {
            Ok(_) => Err(unreadable(i)),
            Err(_) => input(i),
        };
        let mut sink = Collect { out: &mut *out, base: 0, rejected };
        engine.evaluate_batch_with_history(month, &refs, (states, histories), checked, &mut sink)?;
    } else if threads > 1 {
        columns.read(0..n, &mut refs, &mut rejected);
        let rejected = rejected.as_slice();
        let checked = |i: usize| {
            #[cfg(test)]
            tests::panic_at(i);
            match rejected.binary_search_by_key(&(i as u32), |(r, _)| *r) {
                Ok(_) => Err(unreadable(i)),
                Err(_) => input(i),
            }
        };
        let pool = Mutex::new(std::mem::take(&mut out.spare));
        // The engine's worker threads are inside this call's boundary: a panic on one is this
        // call's `CRMT_PANIC` (the engine reports only that a worker failed), never printed.
        let (caller, panicked) = (std::thread::current().id(), WorkerPanic::default());
        let parts = engine
            .evaluate_batch_parallel_with(month, &refs, states, checked, threads, || {
                enter_worker(caller, &panicked);
                Collect { out: pool.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default(), base: 0, rejected }
            })
            .map_err(|e| worker_failure(&panicked).unwrap_or_else(|| Failure::from(e)))?;
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
    *scratch = recycle(refs);
    Ok(())
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
/// `CRMT_INVALID_ARGUMENT` with field `states` when the ids are not those `states` are bound to,
/// and with field `book` for a batch of totals under a rule book that declares measures besides
/// AUM (SPEC §19.1): `crmt_evaluate_batch_with_measures` gives their values beside the totals,
/// and a batch of components carries them as columns named by their codes (`CRMT_NO_AMOUNT`: no
/// value, the measure's `absent` applies).
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
        unsafe { run_batch(book, month, (customers, aum, std::ptr::null()), states, threads, errors_out, &mut batch) }?;
        if !out.is_null() {
            // SAFETY: writable per the contract.
            unsafe { put_handle(out, batch, "out") }?;
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
    guard(|| unsafe { put_handle(out, crmt_batch::default(), "out") })
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
        let batch = unsafe { handle_mut(batch, "batch") }?;
        // SAFETY: forwarded contract.
        unsafe { run_batch(book, month, (customers, aum, std::ptr::null()), states, threads, errors_out, batch) }
    })
}

/// As `crmt_evaluate_batch`, with the values of measures the rule book declares besides AUM
/// (SPEC §19.1, such as `loan_balance` or `points`) beside the amounts: customer `i`'s value of
/// measure `j` is `measures->values_fen[j * customers->count + i]`, `CRMT_NO_AMOUNT` for none.
/// A measure without a value, or not named, follows its `absent` (as in `crmt_evaluate_json`):
/// the call is the caller's statement that these are the measures it has. This is how a batch of
/// totals tiers under a book that declares measures; a batch of components may give measures
/// here too (or as its columns, not both). `measures` NULL is `crmt_evaluate_batch` exactly.
///
/// A value is the measure's as given: a negative value, or one above the maximum amount, is that
/// customer's input error (field `measures.<code>`), reported in `errors_out` as any other.
///
/// # Errors
/// As `crmt_evaluate_batch`, except that a batch of totals is not refused for the book's
/// measures when `measures` is given; and for the measure columns: `CRMT_INPUT_ERROR` with the
/// field naming the code for a code the book declares in no version (the core's error for an
/// unknown column), a code given twice, or one that names no measure; `CRMT_NULL_ARGUMENT`,
/// `CRMT_INVALID_UTF8` (a code); `CRMT_INVALID_ARGUMENT` for a count no array can hold, or (field
/// `measures.measures`) a measure given both as a component column and here. Nothing is
/// evaluated then and `states` are unchanged.
///
/// # Safety
/// As `crmt_evaluate_batch`; `measures` is NULL or a valid description whose `measures` holds
/// `measure_count` NUL-terminated strings and whose `values_fen` holds
/// `measure_count * customers->count` values.
/// Thread rules: as `crmt_evaluate_batch`; `measures` is only read during the call.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_evaluate_batch_with_measures(
    book: *const crmt_rulebook,
    month: i32,
    customers: *const crmt_batch_customers,
    aum: *const crmt_batch_aum,
    measures: *const crmt_measure_columns,
    states: *mut crmt_states,
    threads: usize,
    errors_out: *mut crmt_result,
    out: *mut *mut crmt_batch,
) -> crmt_result {
    guard(|| {
        let mut batch = crmt_batch::default();
        // SAFETY: forwarded contract.
        unsafe { run_batch(book, month, (customers, aum, measures), states, threads, errors_out, &mut batch) }?;
        if !out.is_null() {
            // SAFETY: writable per the contract.
            unsafe { put_handle(out, batch, "out") }?;
        }
        Ok(())
    })
}

/// As `crmt_evaluate_batch_with_measures`, writing the result into an existing batch handle as
/// `crmt_evaluate_batch_into` does (its memory reused; left empty on failure).
///
/// # Errors
/// As `crmt_evaluate_batch_with_measures`, and `CRMT_NULL_ARGUMENT` when `batch` is NULL.
///
/// # Safety
/// As `crmt_evaluate_batch_with_measures`; `batch` is a live batch used by no other thread.
/// Thread rules: as `crmt_evaluate_batch_into`.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_evaluate_batch_with_measures_into(
    book: *const crmt_rulebook,
    month: i32,
    customers: *const crmt_batch_customers,
    aum: *const crmt_batch_aum,
    measures: *const crmt_measure_columns,
    states: *mut crmt_states,
    threads: usize,
    errors_out: *mut crmt_result,
    batch: *mut crmt_batch,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let batch = unsafe { handle_mut(batch, "batch") }?;
        // SAFETY: forwarded contract.
        unsafe { run_batch(book, month, (customers, aum, measures), states, threads, errors_out, batch) }
    })
}

/// Binds `states` to the ordered ids of its first batch, or checks that this batch's ids are
/// those, position by position: states are never matched to other customers by position.
fn bind(st: &mut crmt_states, ids: &[u8], o: &[usize]) -> Result<(), Failure> {
    let n = o.len() - 1;
    let text = ids.get(o[0]..o[n]).unwrap_or(&[]);
    match &st.bound {
        None => {
            let mut ends = vec_for(n, "customers.id_offsets", "customers.count")?;
            ends.extend(o[1..].iter().map(|e| e - o[0]));
            let mut bound = vec_for(text.len(), "customers.ids", "customers.id_offsets")?;
            bound.extend_from_slice(text);
            st.bound = Some((bound, ends));
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

/// A batch of totals without measure values carries AUM alone: a book that also reads other
/// measures would see them all absent, a plausible wrong tier, so it is refused (SPEC §19.1);
/// `crmt_evaluate_batch_with_measures` gives their values beside the totals, and a batch of
/// components carries them as columns named by their codes.
fn refuse_measures(book: &crmt_rulebook) -> Result<(), Failure> {
    match book.engine.rule_book().measure_codes().first() {
        None => Ok(()),
        Some(code) => Err(Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!(
                "the rule book declares measure `{code}`, which this batch of totals does not carry: give the measures' values with crmt_evaluate_batch_with_measures, or the AUM as components with a column for each measure"
            ),
        )
        .field("book")),
    }
}

/// The component columns of a batch of components (`a.component_count` > 0) for `n`
/// customers: each named once by the core's one rule for columns, a column that names a
/// measure of the book carrying that measure (SPEC §19.1).
///
/// # Safety
/// As `crmt_evaluate_batch` for `a`.
unsafe fn component_averages<'a>(engine: &Engine, a: &crmt_batch_aum, n: usize) -> Result<Averages<'a>, Failure> {
    let k = a.component_count;
    // SAFETY: `component_count` NUL-terminated codes per the contract.
    let texts = unsafe { measures::column_codes(a.components, k, "aum.components", "aum.component_count") }?;
    let mut codes = vec_for(k, "aum.components", "aum.component_count")?;
    codes.extend(texts.into_iter().map(std::sync::Arc::<str>::from));
    // Each component named once, by the core's one rule for columns (a code given twice,
    // or a code and its Chinese name, is refused rather than summed).
    let mut headers: Vec<&str> = vec_for(k.saturating_add(1), "aum.components", "aum.component_count")?;
    headers.extend(std::iter::once("customer_id").chain(codes.iter().map(|c| &**c)));
    let resolved =
        crm_tiering::portfolio::Columns::resolve(engine.rule_book(), crm_tiering::portfolio::TableKind::Aum, &headers)?;
    // A column that names a measure the book declares carries that measure (SPEC §19.1).
    let measures: Vec<Option<crm_tiering::MeasureCode>> = (0..k)
        .map(|j| match resolved.role(j + 1) {
            Some(crm_tiering::portfolio::ColumnRole::Measure(code)) => crm_tiering::MeasureCode::new(code).ok(),
            _ => None,
        })
        .collect();
    let total = n.checked_mul(k).ok_or_else(|| {
        Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!("`aum.component_count` is {k}: {n} customers x {k} amounts are more than any array can hold"),
        )
        .field("aum.component_count")
    })?;
    // SAFETY: `count * component_count` entries per the contract.
    let amounts = unsafe { slice(a.amounts_fen, total, "aum.amounts_fen", "aum.component_count") }?;
    Ok(Averages { codes, measures, amounts })
}

/// The batch evaluation behind both entry points.
///
/// # Safety
/// As `crmt_evaluate_batch`.
#[allow(clippy::too_many_arguments)]
unsafe fn run_batch(
    book: *const crmt_rulebook,
    month: i32,
    (customers, aum, measures): (*const crmt_batch_customers, *const crmt_batch_aum, *const crmt_measure_columns),
    states: *mut crmt_states,
    threads: usize,
    errors_out: *mut crmt_result,
    out: &mut crmt_batch,
) -> Result<(), Failure> {
    out.clear();
    // SAFETY: per the contract.
    let (book, c, a, st) = unsafe {
        (handle(book, "book")?, arg(customers, "customers")?, arg(aum, "aum")?, handle_mut(states, "states")?)
    };
    let month = parse_month(month)?;
    if a.component_count == 0 && measures.is_null() {
        refuse_measures(book)?;
    }
    let n = c.count;
    // The count first: `count + 1` offsets must be an array (SIZE_MAX is refused here).
    byte_size::<usize>(n.saturating_add(1), "customers.id_offsets", "customers.count")?;
    if st.states.len() != n {
        return Err(Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!("`states` holds {} states for {n} customers", st.states.len()),
        )
        .field("states"));
    }
    let id_offsets = offsets(c.id_offsets, n, "customers.id_offsets", "customers.count")?;
    // SAFETY: `ids` is readable up to the last offset per the contract.
    let ids = unsafe { bytes(c.ids.cast(), id_offsets[n], "customers.ids", "customers.id_offsets") }?;
    let entities = if c.legal_entities.is_null() {
        None
    } else {
        let o = offsets(c.legal_entity_offsets, n, "customers.legal_entity_offsets", "customers.count")?;
        // SAFETY: readable up to the last offset per the contract.
        let data = unsafe {
            bytes(c.legal_entities.cast(), o[n], "customers.legal_entities", "customers.legal_entity_offsets")
        }?;
        Some((data, o))
    };
    let kinds = if c.kinds.is_null() {
        None
    } else {
        // SAFETY: `count` entries when not NULL, per the contract.
        Some(unsafe { slice(c.kinds, n, "customers.kinds", "customers.count") }?)
    };
    // SAFETY: NULL or `count` values a measure per the contract.
    let measured = unsafe { measure_columns(book.engine.rule_book(), measures, n, "customers.count") }?;
    bind(st, ids, id_offsets)?;
    let columns = Columns { ids, id_offsets, entities, kinds };

    let threads = threads.min(crate::CRMT_MAX_THREADS);
    let (engine, states, scratch) = (&book.engine, (&mut st.states[..], &mut st.histories), &mut st.scratch);
    let result = if a.component_count == 0 {
        // SAFETY: `count` entries per the contract.
        let totals = unsafe { slice(a.amounts_fen, n, "aum.amounts_fen", "customers.count") }?;
        match &measured {
            None => {
                let input = |i: usize| Ok(MonthInput::total(from_fen(totals[i])));
                evaluate(engine, month, &columns, states, scratch, threads, input, out)
            }
            Some(m) => {
                let input = |i: usize| Ok(MonthInput { measures: m.of(i), ..MonthInput::total(from_fen(totals[i])) });
                evaluate(engine, month, &columns, states, scratch, threads, input, out)
            }
        }
    } else {
        // SAFETY: per the contract.
        let averages = unsafe { component_averages(engine, a, n) }?;
        if let Some(m) = &measured {
            averages.refuse_repeated(m)?;
        }
        let input = |i: usize| {
            let mut input = averages.input(i);
            if let Some(m) = &measured {
                m.add(i, &mut input.measures);
            }
            Ok(input)
        };
        evaluate(engine, month, &columns, states, scratch, threads, input, out)
    };
    if let Err(e) = result {
        out.clear();
        return Err(e);
    }
    if !errors_out.is_null() {
        // SAFETY: `count` writable entries per the contract.
        let slots = unsafe { slice_mut(errors_out, n, "errors_out", "customers.count") }?;
        slots.fill(crmt_result::CRMT_OK);
        for (i, f) in &out.errors {
            slots[*i as usize] = f.code;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The customer whose input panics, for the test of a worker thread's panic.
    static PANIC_AT: AtomicUsize = AtomicUsize::new(usize::MAX);

    pub(super) fn panic_at(i: usize) {
        if PANIC_AT.load(Ordering::SeqCst) == i {
            panic!("test panic in the input of customer {i}")
        }
    }

    #[test]
    fn a_panic_on_a_worker_thread_is_the_calls_panic_and_is_not_printed() {
        let _serial = crate::boundary::tests::HOOK_TESTS.lock().unwrap_or_else(|e| e.into_inner());
        let mut book = std::ptr::null_mut();
        // SAFETY: a valid out-pointer.
        assert_eq!(unsafe { crate::crmt_rulebook_default(&mut book) }, crmt_result::CRMT_OK);
        let n = 16;
        let ids: Vec<u8> = (0..n).flat_map(|i| format!("c{i:02}").into_bytes()).collect();
        let offsets: Vec<usize> = (0..=n).map(|i| i * 3).collect();
        let customers = crmt_batch_customers {
            count: n,
            ids: ids.as_ptr().cast(),
            id_offsets: offsets.as_ptr(),
            legal_entities: std::ptr::null(),
            legal_entity_offsets: std::ptr::null(),
            kinds: std::ptr::null(),
        };
        let fen = vec![30_000_000_i64; n];
        let aum = crmt_batch_aum { component_count: 0, components: std::ptr::null(), amounts_fen: fen.as_ptr() };
        let mut states = std::ptr::null_mut();
        // SAFETY: a valid out-pointer.
        assert_eq!(unsafe { crate::crmt_states_new(n, &mut states) }, crmt_result::CRMT_OK);
        let forwarded = crate::boundary::FORWARDED.load(Ordering::SeqCst);
        PANIC_AT.store(12, Ordering::SeqCst);
        // SAFETY: valid handles and columns of `n` customers.
        let code = unsafe {
            crmt_evaluate_batch(book, 202401, &customers, &aum, states, 2, std::ptr::null_mut(), std::ptr::null_mut())
        };
        PANIC_AT.store(usize::MAX, Ordering::SeqCst);
        assert_eq!(code, crmt_result::CRMT_PANIC);
        assert_eq!(crate::boundary::FORWARDED.load(Ordering::SeqCst), forwarded, "the worker's panic was forwarded");
        let message = crate::details::with_last(|l| l.map(|f| f.message.clone())).unwrap_or_default();
        assert!(message.contains("worker thread") && message.contains("input of customer 12"), "{message}");
        assert!(message.contains("src/batch/mod.rs:"), "no location in {message}");
        // SAFETY: handles made above.
        unsafe {
            crate::crmt_states_free(states);
            crate::crmt_rulebook_free(book);
        }
    }
}
