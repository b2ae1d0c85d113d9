//! The batch (SPEC §15): a portfolio's customers for one month, in place, in customer order,
//! optionally over scoped threads.

use rust_decimal::Decimal;

use super::Engine;
use super::customer::{Customer, CustomerIdentity};
use super::input::MonthInput;
use super::sink::Sink;
use super::steady::{plain, plain_with_history, steady};
use super::step::step;
use crate::error::{InputError, TieringError};
use crate::event::{Alert, Event};
use crate::history::{HistoryLayout, MonthWindows};
use crate::month::Month;
use crate::rules::{FAST_VALUES, RuleSetId, RuleVersion};
use crate::state::CustomerState;

/// An event of a batch, with the index of its customer in the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchEvent {
    /// Index of the customer in the batch's slices.
    pub index: u32,
    /// The event.
    pub event: Event,
}

/// An alert of a batch, with the index of its customer in the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchAlert {
    /// Index of the customer in the batch's slices.
    pub index: u32,
    /// The alert.
    pub alert: Alert,
}

/// A customer of a batch that could not be evaluated. Its state is left unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchError {
    /// Index of the customer in the batch's slices.
    pub index: u32,
    /// The error, naming the customer.
    pub error: TieringError,
}

/// The result of a batch: events, alerts and errors in customer order.
///
/// Every customer of the batch is accounted for: either its state was updated in place or it
/// has an entry in `errors`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchOutcome {
    /// Events, in customer order.
    pub events: Vec<BatchEvent>,
    /// Alerts, in customer order.
    pub alerts: Vec<BatchAlert>,
    /// Customers that could not be evaluated, in customer order.
    pub errors: Vec<BatchError>,
    /// The computed AUM of each customer (zero for customers in error).
    pub aums: Vec<Decimal>,
}

/// Feeds a step's output to a [`BatchSink`] with the customer's index.
struct Indexed<'a, S: BatchSink + ?Sized> {
    index: u32,
    sink: &'a mut S,
}

impl<S: BatchSink + ?Sized> Sink for Indexed<'_, S> {
    #[inline]
    fn event(&mut self, e: Event) {
        self.sink.event(self.index, &e);
    }
    #[inline]
    fn alert(&mut self, a: Alert) {
        self.sink.alert(self.index, &a);
    }
}

pub(super) fn check_lengths(
    month: Month,
    customers: usize,
    inputs: Option<usize>,
    states: usize,
) -> Result<(), TieringError> {
    if customers == states && inputs.is_none_or(|n| n == customers) && customers <= u32::MAX as usize {
        return Ok(());
    }
    Err(InputError::new(
        "",
        Some(month),
        "batch",
        format!(
            "customers, inputs and states must have the same length, at most 4294967295 (got {customers}, {} and {states})",
            inputs.map_or_else(|| "-".to_string(), |n| n.to_string())
        ),
    )
    .into())
}

/// Receives a batch's results as they are produced, in customer order. For each customer,
/// its events and alerts come first, then exactly one of [`BatchSink::evaluated`] or
/// [`BatchSink::error`].
pub trait BatchSink {
    /// An event of the customer at `index`.
    fn event(&mut self, index: u32, event: &Event);
    /// An alert of the customer at `index`.
    fn alert(&mut self, index: u32, alert: &Alert);
    /// The customer at `index` was evaluated: `aum` is its month's AUM and `state` its new
    /// state (already written to the batch's state slice), so a sink can write a customer's
    /// whole output row in one pass.
    fn evaluated(&mut self, index: u32, aum: Decimal, state: &CustomerState);
    /// The customer at `index` could not be evaluated; its state is unchanged.
    fn error(&mut self, index: u32, error: TieringError);
    /// [`BatchSink::error`] with the customer's state, unchanged (the batch calls this one; by
    /// default it forwards to `error`). The portfolio month uses the state to tell the
    /// customer's manager which standing stays frozen.
    fn error_with_state(&mut self, index: u32, error: TieringError, _state: &CustomerState) {
        self.error(index, error);
    }
}

impl BatchOutcome {
    /// An empty outcome with room for `customers` AUMs.
    pub fn with_capacity(customers: usize) -> Self {
        BatchOutcome { aums: Vec::with_capacity(customers), ..BatchOutcome::default() }
    }

    /// Empties the outcome and keeps its buffers, for the next month of a batch loop: a
    /// month's outcome then costs no fresh memory.
    ///
    /// ```
    /// # use crm_tiering::{BatchOutcome, Customer, CustomerState, Engine, MonthInput, RuleBook};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let engine = Engine::new(RuleBook::default_book()?);
    /// let customers = [Customer::personal("c1")];
    /// let mut states = [CustomerState::default()];
    /// let mut out = BatchOutcome::with_capacity(customers.len());
    /// for (month, aum) in [("2024-01", "250000"), ("2024-02", "600000")] {
    ///     out.clear();
    ///     let input = MonthInput::total(aum.parse()?);
    ///     engine.evaluate_batch_with(month.parse()?, &customers, &mut states, |_| Ok(&input), &mut out)?;
    ///     assert_eq!(out.events.len(), 1); // entered, then upgraded
    /// }
    /// # Ok(()) }
    /// ```
    pub fn clear(&mut self) {
        self.events.clear();
        self.alerts.clear();
        self.errors.clear();
        self.aums.clear();
    }
}

impl BatchSink for BatchOutcome {
    #[inline]
    fn event(&mut self, index: u32, event: &Event) {
        self.events.push(BatchEvent { index, event: *event });
    }
    #[inline]
    fn alert(&mut self, index: u32, alert: &Alert) {
        self.alerts.push(BatchAlert { index, alert: *alert });
    }
    #[inline]
    fn evaluated(&mut self, _index: u32, aum: Decimal, _state: &CustomerState) {
        self.aums.push(aum);
    }
    fn error(&mut self, index: u32, error: TieringError) {
        self.errors.push(BatchError { index, error });
        self.aums.push(Decimal::ZERO);
    }
}

impl Engine {
    /// Evaluates a whole portfolio for one month, updating `states` in place.
    ///
    /// `customers`, `inputs` and `states` are parallel slices. A customer in error keeps its
    /// prior state and is reported in [`BatchOutcome::errors`] with its index; nothing is
    /// dropped. Events and alerts come in customer order, so the result is deterministic.
    /// [`Engine::evaluate_batch_with`] is the same without owned customers or materialized
    /// inputs.
    ///
    /// # Errors
    /// [`TieringError::Input`] only when the slices differ in length or hold more than
    /// `u32::MAX` customers; per-customer errors are in the outcome.
    pub fn evaluate_batch(
        &self,
        month: Month,
        customers: &[Customer],
        inputs: &[MonthInput],
        states: &mut [CustomerState],
    ) -> Result<BatchOutcome, TieringError> {
        check_lengths(month, customers.len(), Some(inputs.len()), states.len())?;
        let mut out = BatchOutcome::with_capacity(customers.len());
        #[expect(
            clippy::indexing_slicing,
            reason = "check_lengths made inputs as long as states; the batch asks for i < states.len()"
        )]
        let input = |i: usize| -> Result<&MonthInput, TieringError> { Ok(&inputs[i]) };
        self.evaluate_batch_with(month, customers, states, input, &mut out)?;
        Ok(out)
    }

    /// The batch at its most general: customers of any [`CustomerIdentity`] (owned
    /// [`Customer`]s or borrowed [`CustomerRef`](super::CustomerRef)s), each input made on demand by `input(index)`
    /// (no vector of inputs needed; an `Err` is that customer's error), and results streamed to
    /// a [`BatchSink`] in customer order.
    ///
    /// ```
    /// use crm_tiering::{BatchOutcome, CustomerKind, CustomerRef, CustomerState, Engine, MonthInput, RuleBook, from_fen};
    /// let engine = Engine::new(RuleBook::default_book()?);
    /// let ids = ["c1", "c2"];
    /// let fen = [25_000_000i64, 100];
    /// let customers: Vec<CustomerRef> =
    ///     ids.iter().map(|id| CustomerRef { id, legal_entity: None, kind: CustomerKind::Personal }).collect();
    /// let mut states = vec![CustomerState::default(); 2];
    /// let mut out = BatchOutcome::default();
    /// engine.evaluate_batch_with("2024-01".parse()?, &customers, &mut states,
    ///     |i| Ok(MonthInput::total(from_fen(fen[i]))), &mut out)?;
    /// assert_eq!(states[0].tier.unwrap().as_str(), "gold");
    /// assert_eq!(out.events.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`TieringError::Input`] only when `customers` and `states` differ in length or hold more
    /// than `u32::MAX` customers; per-customer errors go to the sink.
    pub fn evaluate_batch_with<C, I, F, S>(
        &self,
        month: Month,
        customers: &[C],
        states: &mut [CustomerState],
        mut input: F,
        sink: &mut S,
    ) -> Result<(), TieringError>
    where
        C: CustomerIdentity,
        I: std::borrow::Borrow<MonthInput>,
        F: FnMut(usize) -> Result<I, TieringError>,
        S: BatchSink + ?Sized,
    {
        self.batch_over(month, customers, (states, &mut []), &mut input, sink)
    }

    /// [`Engine::evaluate_batch_with`] under a rule book whose criteria read windows (SPEC
    /// §19.2): `histories` holds the customers' histories beside `states` (index `i` is
    /// customer `i`'s) and is brought to the book's layout first. Under a book without windows
    /// it stays empty and this is [`Engine::evaluate_batch_with`]; a book with windows
    /// evaluated by [`Engine::evaluate_batch_with`] instead holds back every customer that has
    /// earlier months, on field `history`.
    ///
    /// # Errors
    /// As [`Engine::evaluate_batch_with`].
    pub fn evaluate_batch_with_history<C, I, F, S>(
        &self,
        month: Month,
        customers: &[C],
        (states, histories): (&mut [CustomerState], &mut crate::Histories),
        mut input: F,
        sink: &mut S,
    ) -> Result<(), TieringError>
    where
        C: CustomerIdentity,
        I: std::borrow::Borrow<MonthInput>,
        F: FnMut(usize) -> Result<I, TieringError>,
        S: BatchSink + ?Sized,
    {
        let history = histories.conformed(&self.book, states.len());
        self.batch_over(month, customers, (states, history), &mut input, sink)
    }

    /// The batch over a slice of customers with their states and histories (empty: none kept).
    fn batch_over<C, I, F, S>(
        &self,
        month: Month,
        customers: &[C],
        (states, history): (&mut [CustomerState], &mut [i64]),
        input: &mut F,
        sink: &mut S,
    ) -> Result<(), TieringError>
    where
        C: CustomerIdentity,
        I: std::borrow::Borrow<MonthInput>,
        F: FnMut(usize) -> Result<I, TieringError>,
        S: BatchSink + ?Sized,
    {
        check_lengths(month, customers.len(), None, states.len())?;
        #[expect(
            clippy::indexing_slicing,
            reason = "check_lengths made customers as long as states; batch_chunk asks for k < states.len()"
        )]
        let customer = |k: usize| &customers[k];
        self.batch_chunk(month, customer, (states, history), 0, input, sink);
        Ok(())
    }

    /// [`Engine::evaluate_batch_with`] over customers given by `customer(index)` instead of a
    /// slice: the portfolio month's, whose identities are stored apart from its states, so
    /// that no vector of them is made. `history` holds the customers' histories, one
    /// [`HistoryLayout::stride`](crate::HistoryLayout::stride) after another (empty for a book
    /// without windows).
    pub(crate) fn evaluate_batch_by<C, G, I, F, S>(
        &self,
        month: Month,
        customer: G,
        (states, history): (&mut [CustomerState], &mut [i64]),
        mut input: F,
        sink: &mut S,
    ) -> Result<(), TieringError>
    where
        C: CustomerIdentity + Copy,
        G: Fn(usize) -> C,
        I: std::borrow::Borrow<MonthInput>,
        F: FnMut(usize) -> Result<I, TieringError>,
        S: BatchSink + ?Sized,
    {
        check_lengths(month, states.len(), None, states.len())?;
        self.batch_chunk(month, customer, (states, history), 0, &mut input, sink);
        Ok(())
    }

    /// Like [`Engine::evaluate_batch`], split over `threads` threads. The outcome is identical
    /// to the single-threaded one (same order).
    ///
    /// # Errors
    /// As [`Engine::evaluate_batch`].
    pub fn evaluate_batch_parallel(
        &self,
        month: Month,
        customers: &[Customer],
        inputs: &[MonthInput],
        states: &mut [CustomerState],
        threads: usize,
    ) -> Result<BatchOutcome, TieringError> {
        check_lengths(month, customers.len(), Some(inputs.len()), states.len())?;
        #[expect(
            clippy::indexing_slicing,
            reason = "check_lengths made inputs as long as states; the batch asks for i < states.len()"
        )]
        let input = |i: usize| -> Result<&MonthInput, TieringError> { Ok(&inputs[i]) };
        let parts =
            self.evaluate_batch_parallel_with(month, customers, states, input, threads, BatchOutcome::default)?;
        let mut parts = parts.into_iter();
        let mut out = parts.next().unwrap_or_default();
        for part in parts {
            out.events.extend(part.events);
            out.alerts.extend(part.alerts);
            out.errors.extend(part.errors);
            out.aums.extend(part.aums);
        }
        Ok(out)
    }

    /// [`Engine::evaluate_batch_with`] split over `threads` scoped threads: the slices are cut
    /// into consecutive chunks, each chunk's results go to its own sink made by `new_sink`, and
    /// the sinks come back in chunk order (indices in them are indices of the whole batch), so
    /// concatenating them gives exactly the single-threaded results.
    ///
    /// # Errors
    /// As [`Engine::evaluate_batch_with`].
    pub fn evaluate_batch_parallel_with<C, I, F, S>(
        &self,
        month: Month,
        customers: &[C],
        states: &mut [CustomerState],
        input: F,
        threads: usize,
        new_sink: impl Fn() -> S + Sync,
    ) -> Result<Vec<S>, TieringError>
    where
        C: CustomerIdentity + Sync,
        I: std::borrow::Borrow<MonthInput>,
        F: Fn(usize) -> Result<I, TieringError> + Sync,
        S: BatchSink + Send,
    {
        check_lengths(month, customers.len(), None, states.len())?;
        let threads = threads.clamp(1, 1024);
        if threads == 1 || customers.len() < 2 * threads {
            let mut sink = new_sink();
            #[expect(
                clippy::indexing_slicing,
                reason = "check_lengths made customers as long as states; batch_chunk asks for k < states.len()"
            )]
            let customer = |k: usize| &customers[k];
            self.batch_chunk(month, customer, (states, &mut []), 0, &mut |i| input(i), &mut sink);
            return Ok(vec![sink]);
        }
        let chunk = customers.len().div_ceil(threads);
        let (input, new_sink) = (&input, &new_sink);
        std::thread::scope(|scope| {
            let handles: Vec<_> = customers
                .chunks(chunk)
                .zip(states.chunks_mut(chunk))
                .enumerate()
                .map(|(n, (c, s))| {
                    scope.spawn(move || {
                        let mut sink = new_sink();
                        #[expect(clippy::indexing_slicing, reason = "c and s are the same chunk of two slices of one length; batch_chunk asks for k < s.len()")]
                        let customer = |k: usize| &c[k];
                        self.batch_chunk(month, customer, (s, &mut []), n * chunk, &mut |i| input(i), &mut sink);
                        sink
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().map_err(|_| InputError::new("", Some(month), "batch", "a worker thread failed").into())
                })
                .collect()
        })
    }

    /// Evaluates one consecutive chunk of a batch; `customer(k)` is its `k`th customer and
    /// `base` the index of its first in the batch. `history` holds the chunk's histories, or is
    /// empty when the caller keeps none (the public batches: a book with windows then
    /// evaluates only new customers, and holds back the others, SPEC §19.5).
    fn batch_chunk<C, G, I, F, S>(
        &self,
        month: Month,
        customer: G,
        (states, history): (&mut [CustomerState], &mut [i64]),
        base: usize,
        input: &mut F,
        sink: &mut S,
    ) where
        C: CustomerIdentity + Copy,
        G: Fn(usize) -> C,
        I: std::borrow::Borrow<MonthInput>,
        F: FnMut(usize) -> Result<I, TieringError>,
        S: BatchSink + ?Sized,
    {
        // Consecutive customers usually share a legal entity and kind: remember the last
        // selection and the customer it was made for. The legal entity is compared only when
        // some rule set selects by it.
        let by_entity = self.book.selects_by_legal_entity();
        let mut last: Option<(C, RuleSetId, &RuleVersion)> = None;
        // The measured values of the short paths (SPEC §19.1), AUM first.
        let mut buf = [0i64; FAST_VALUES];
        // A book with windows: histories (a new customer's `fresh`), the last version's windows.
        let (stride, mut fresh) = (self.book.history_layout().stride(), self.book.history_layout().fresh());
        let mut windows: Option<(&RuleVersion, MonthWindows<'_>)> = None;
        for (offset, state) in states.iter_mut().enumerate() {
            let i = base + offset;
            #[expect(
                clippy::cast_possible_truncation,
                reason = "check_lengths allowed at most u32::MAX customers, and i < base + states.len() <= their number"
            )]
            let index = i as u32;
            let customer = customer(offset);
            let kind = customer.kind();
            let selected = match last {
                Some((prev, id, v))
                    if prev.kind() == kind && (!by_entity || prev.legal_entity() == customer.legal_entity()) =>
                {
                    Ok((id, v))
                }
                _ if !self.book.tiers_kind(kind) => Err(self.book.kind_not_tiered(customer.id(), kind, Some(month))),
                _ => self.book.select(customer.legal_entity(), kind).and_then(|id| {
                    let v = self.book.version_for(id, month, customer.id())?;
                    last = Some((customer, id, v));
                    Ok((id, v))
                }),
            };
            let (set, version) = match selected {
                Ok(selected) => selected,
                Err(error) => {
                    sink.error_with_state(index, error, state);
                    continue;
                }
            };
            // The input is read where the closure wrote it, not moved out of its `Result`
            // first: a move copies it in wider pieces than it was written in, and the reads
            // then wait for the writes (a store-forwarding stall per customer).
            let made = input(i);
            let input = match made {
                Ok(ref input) => input.borrow(),
                Err(error) => {
                    sink.error_with_state(index, error, state);
                    continue;
                }
            };
            if stride > 0 {
                let past = (history.get_mut(offset * stride..(offset + 1) * stride), &mut fresh[..], &mut buf);
                self.with_history((set, version, &mut windows), customer.id(), state, past, month, input, index, sink);
                continue;
            }
            // Most customers' months change nothing but the month: no plan, no step. Their
            // AUM goes to the sink straight from the fast path's registers.
            if let Some(aum) = steady(version, state, month, input, &mut buf, &mut Indexed { index, sink: &mut *sink })
            {
                sink.evaluated(index, aum, state);
                continue;
            }
            // Most of the others emit events but need no gap and no designation change: `plan`
            // and the step, without the full evaluation's general checks.
            if let Some((aum, plan, values)) = plain(version, customer.id(), state, month, input, &mut buf) {
                let _ = step(version, state, month, aum, plan, values, &mut Indexed { index, sink: &mut *sink });
                sink.evaluated(index, aum, state);
                continue;
            }
            // On error `evaluate_into` leaves the state untouched and emits nothing.
            let result = self.evaluate_into(
                set,
                version,
                customer.id(),
                (state, &mut []),
                month,
                input,
                &mut Indexed { index, sink: &mut *sink },
            );
            match result {
                Ok(aum) => sink.evaluated(index, aum, state),
                Err(error) => sink.error_with_state(index, error, state),
            }
        }
    }
}

impl Engine {
    /// One customer of a batch under a book with windows (SPEC §19.5): evaluated with its
    /// history `past`, or, without one, as a new customer with `fresh` (emptied here); a
    /// customer with earlier months and no history is held back. `windows` holds the windows of
    /// the last version the batch met for `month` ([`month_windows`]).
    #[expect(clippy::too_many_arguments, reason = "the batch loop's per-customer values, each one it holds apart")]
    fn with_history<'e, S: BatchSink + ?Sized>(
        &'e self,
        (set, version, windows): (RuleSetId, &'e RuleVersion, &mut Option<(&'e RuleVersion, MonthWindows<'e>)>),
        customer: &str,
        state: &mut CustomerState,
        (past, fresh, buf): (Option<&mut [i64]>, &mut [i64], &mut [i64; FAST_VALUES]),
        month: Month,
        input: &MonthInput,
        index: u32,
        sink: &mut S,
    ) {
        let past = match past {
            Some(past) => past,
            None if state.last_month.is_none() => {
                fresh.fill(crate::rules::NO_VALUE);
                fresh
            }
            None => return sink.error_with_state(index, super::history_needed(customer, month), state),
        };
        let mut indexed = Indexed { index, sink: &mut *sink };
        // Most months take the short path: no gap, no designation, values in whole fen.
        let windows = month_windows(windows, self.book.history_layout(), version, month);
        if let Some(aum) =
            plain_with_history(windows, version, customer, (state, past), month, input, buf, &mut indexed)
        {
            return sink.evaluated(index, aum, state);
        }
        let mut indexed = Indexed { index, sink: &mut *sink };
        match self.evaluate_into(set, version, customer, (state, past), month, input, &mut indexed) {
            Ok(aum) => sink.evaluated(index, aum, state),
            Err(error) => sink.error_with_state(index, error, state),
        }
    }
}

/// Version `v`'s windows for `month` in `layout`, from `cache` when they are the last version's,
/// else made and cached: a batch's customers mostly share one version.
#[inline]
fn month_windows<'c, 'v>(
    cache: &'c mut Option<(&'v RuleVersion, MonthWindows<'v>)>,
    layout: &'v HistoryLayout,
    v: &'v RuleVersion,
    month: Month,
) -> &'c MonthWindows<'v> {
    if cache.as_ref().is_some_and(|(cached, _)| !std::ptr::eq(*cached, v)) {
        *cache = None;
    }
    &cache.get_or_insert_with(|| (v, layout.month_windows(v, month))).1
}

// A batch holds one of these per event and per alert, in fresh memory the first month
// (issue 12): the amounts are whole fen in two 32-bit halves, so neither carries padding. The
// measure that decided (SPEC §19.3) added 12 bytes to each.
const _: () = assert!(std::mem::size_of::<BatchEvent>() <= 64);
const _: () = assert!(std::mem::size_of::<BatchAlert>() <= 64);
