//! The tier state machine and its three entry points: one month, a history, a batch.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::aum::AumInput;
use crate::code::TierCode;
use crate::error::{InputError, SequenceError, StateError, TieringError};
use crate::event::{Alert, AlertKind, Event, EventKind, Evidence, Reason};
use crate::month::Month;
use crate::rules::{CustomerKind, DowngradeTarget, RuleBook, RuleSetId, RuleVersion};
use crate::state::{BelowEntryRun, CustomerState, SpecialVip, Status, Watch};

/// Who a customer is, for rule selection and error messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Customer {
    /// The customer id (客户号).
    pub id: String,
    /// The legal entity (法人机构号), for rule selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_entity: Option<String>,
    /// Personal or corporate.
    #[serde(default)]
    pub kind: CustomerKind,
}

impl Customer {
    /// A personal customer of no particular legal entity.
    pub fn personal(id: impl Into<String>) -> Self {
        Customer { id: id.into(), legal_entity: None, kind: CustomerKind::Personal }
    }
}

/// A change to a customer's special VIP designation, applied with a month's evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum SpecialChange {
    /// Designate the customer a special VIP from the month after the evaluated one.
    Grant {
        /// The tier; the rule version's `special_vip_default_tier` when none.
        #[serde(default)]
        tier: Option<TierCode>,
        /// Months of validity; the rule version's `special_vip_months` when none.
        #[serde(default)]
        months: Option<u32>,
    },
    /// Revoke the active designation from the month after the evaluated one.
    Revoke,
}

/// A customer's input for one month.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MonthInput {
    /// The AUM figures.
    pub aum: AumInput,
    /// A special VIP designation change, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special: Option<SpecialChange>,
}

impl MonthInput {
    /// An input with the month's AUM already computed and no designation change.
    pub fn total(aum: Decimal) -> Self {
        MonthInput { aum: AumInput::Total(aum), special: None }
    }
}

/// What to do when a customer's months skip one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingMonths {
    /// A gap is an error (default).
    #[default]
    Error,
    /// Each missing month is evaluated with zero AUM and no designation change.
    TreatAsZero,
}

/// Engine options that are about the input data rather than the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EngineOptions {
    /// Gaps in a customer's months.
    #[serde(default)]
    pub missing_months: MissingMonths,
}

/// The result of evaluating one customer for one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthOutcome {
    /// The evaluated month.
    pub month: Month,
    /// The month's AUM, as computed from the input and rounded to the fen.
    pub aum: Decimal,
    /// The new state, effective for the next month.
    pub state: CustomerState,
    /// What changed (including those of gap months filled with zero AUM).
    pub events: Vec<Event>,
    /// Notices for the account manager.
    pub alerts: Vec<Alert>,
}

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

/// Receives what a step produces.
trait Sink {
    fn event(&mut self, e: Event);
    fn alert(&mut self, a: Alert);
}

struct VecSink<'a> {
    events: &'a mut Vec<Event>,
    alerts: &'a mut Vec<Alert>,
}

impl Sink for VecSink<'_> {
    fn event(&mut self, e: Event) {
        self.events.push(e);
    }
    fn alert(&mut self, a: Alert) {
        self.alerts.push(a);
    }
}

/// Feeds a step's output to a [`BatchSink`] with the customer's index.
struct Indexed<'a, S: BatchSink + ?Sized> {
    index: u32,
    sink: &'a mut S,
}

impl<S: BatchSink + ?Sized> Sink for Indexed<'_, S> {
    fn event(&mut self, e: Event) {
        self.sink.event(self.index, &e);
    }
    fn alert(&mut self, a: Alert) {
        self.sink.alert(self.index, &a);
    }
}

fn check_lengths(month: Month, customers: usize, inputs: Option<usize>, states: usize) -> Result<(), TieringError> {
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

/// A customer's identity as a batch reads it: an owned [`Customer`] or a borrowed
/// [`CustomerRef`] (so that callers holding ids in their own buffers need not copy them).
pub trait CustomerIdentity {
    /// The customer id.
    fn id(&self) -> &str;
    /// The legal entity, for rule selection.
    fn legal_entity(&self) -> Option<&str>;
    /// Personal or corporate.
    fn kind(&self) -> CustomerKind;
}

impl CustomerIdentity for Customer {
    fn id(&self) -> &str {
        &self.id
    }
    fn legal_entity(&self) -> Option<&str> {
        self.legal_entity.as_deref()
    }
    fn kind(&self) -> CustomerKind {
        self.kind
    }
}

/// A borrowed customer identity, for batches over ids the caller already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomerRef<'a> {
    /// The customer id (客户号).
    pub id: &'a str,
    /// The legal entity (法人机构号), for rule selection.
    pub legal_entity: Option<&'a str>,
    /// Personal or corporate.
    pub kind: CustomerKind,
}

impl CustomerIdentity for CustomerRef<'_> {
    fn id(&self) -> &str {
        self.id
    }
    fn legal_entity(&self) -> Option<&str> {
        self.legal_entity
    }
    fn kind(&self) -> CustomerKind {
        self.kind
    }
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
}

impl BatchOutcome {
    /// An empty outcome with room for `customers` AUMs.
    pub fn with_capacity(customers: usize) -> Self {
        BatchOutcome { aums: Vec::with_capacity(customers), ..BatchOutcome::default() }
    }
}

impl BatchSink for BatchOutcome {
    fn event(&mut self, index: u32, event: &Event) {
        self.events.push(BatchEvent { index, event: *event });
    }
    fn alert(&mut self, index: u32, alert: &Alert) {
        self.alerts.push(BatchAlert { index, alert: *alert });
    }
    fn evaluated(&mut self, _index: u32, aum: Decimal, _state: &CustomerState) {
        self.aums.push(aum);
    }
    fn error(&mut self, index: u32, error: TieringError) {
        self.errors.push(BatchError { index, error });
        self.aums.push(Decimal::ZERO);
    }
}

/// The rules engine: a validated rule book and options. Immutable, `Send + Sync`.
///
/// Every method is a pure function of its arguments: no clock, no I/O, no shared state.
///
/// ```
/// use crm_tiering::{Engine, RuleBook, Customer, CustomerState, MonthInput, Status, parse_amount};
/// let engine = Engine::new(RuleBook::default_book()?);
/// let c = Customer::personal("6221000001");
/// let jan = engine.evaluate(&c, &CustomerState::default(), "2024-01".parse()?,
///                           &MonthInput::total(parse_amount("250000")?))?;
/// assert_eq!(jan.state.status, Status::Rated);
/// assert_eq!(jan.state.tier.unwrap().as_str(), "gold");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Engine {
    book: RuleBook,
    options: EngineOptions,
}

impl Engine {
    /// An engine with default options.
    pub fn new(book: RuleBook) -> Self {
        Engine { book, options: EngineOptions::default() }
    }

    /// An engine with the given options.
    pub fn with_options(book: RuleBook, options: EngineOptions) -> Self {
        Engine { book, options }
    }

    /// The rule book.
    pub fn rule_book(&self) -> &RuleBook {
        &self.book
    }

    /// The options.
    pub fn options(&self) -> EngineOptions {
        self.options
    }

    /// Evaluates one customer for one month: the new state is effective for the next month.
    ///
    /// # Errors
    /// - [`TieringError::Sequence`] when `month` is not the month after the state's last one
    ///   (unless [`MissingMonths::TreatAsZero`] fills a gap);
    /// - [`TieringError::Input`] for invalid AUM figures or designation changes;
    /// - [`TieringError::State`] when the state names a tier the rules in force lack;
    /// - [`TieringError::Rules`] when no rule set applies to the customer.
    pub fn evaluate(
        &self,
        customer: &Customer,
        prior: &CustomerState,
        month: Month,
        input: &MonthInput,
    ) -> Result<MonthOutcome, TieringError> {
        let set = self.book.select(customer.legal_entity.as_deref(), customer.kind)?;
        let mut state = *prior;
        let mut events = Vec::new();
        let mut alerts = Vec::new();
        let version = self.book.version_for(set, month, &customer.id)?;
        let aum = self.evaluate_into(
            set,
            version,
            &customer.id,
            &mut state,
            month,
            input,
            &mut VecSink { events: &mut events, alerts: &mut alerts },
        )?;
        Ok(MonthOutcome { month, aum, state, events, alerts })
    }

    /// Replays a customer's history from a starting state, month by month.
    ///
    /// The result has one outcome per month of `history`, each equal to what
    /// [`Engine::evaluate`] gives for that month from the previous outcome's state.
    ///
    /// # Errors
    /// The first month's error, as [`Engine::evaluate`] reports it.
    pub fn replay(
        &self,
        customer: &Customer,
        initial: &CustomerState,
        history: &[(Month, MonthInput)],
    ) -> Result<Vec<MonthOutcome>, TieringError> {
        let mut state = *initial;
        let mut out = Vec::with_capacity(history.len());
        for (month, input) in history {
            let o = self.evaluate(customer, &state, *month, input)?;
            state = o.state;
            out.push(o);
        }
        Ok(out)
    }

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
        self.evaluate_batch_with(month, customers, states, |i| Ok(&inputs[i]), &mut out)?;
        Ok(out)
    }

    /// The batch at its most general: customers of any [`CustomerIdentity`] (owned
    /// [`Customer`]s or borrowed [`CustomerRef`]s), each input made on demand by `input(index)`
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
        check_lengths(month, customers.len(), None, states.len())?;
        self.batch_chunk(month, customers, states, 0, &mut input, sink);
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
        let parts = self.evaluate_batch_parallel_with(
            month,
            customers,
            states,
            |i| Ok(&inputs[i]),
            threads,
            BatchOutcome::default,
        )?;
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
            self.batch_chunk(month, customers, states, 0, &mut |i| input(i), &mut sink);
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
                        self.batch_chunk(month, c, s, n * chunk, &mut |i| input(i), &mut sink);
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

    /// Evaluates one consecutive chunk of a batch; `base` is the index of its first customer.
    fn batch_chunk<C, I, F, S>(
        &self,
        month: Month,
        customers: &[C],
        states: &mut [CustomerState],
        base: usize,
        input: &mut F,
        sink: &mut S,
    ) where
        C: CustomerIdentity,
        I: std::borrow::Borrow<MonthInput>,
        F: FnMut(usize) -> Result<I, TieringError>,
        S: BatchSink + ?Sized,
    {
        // Consecutive customers usually share a legal entity and kind: remember the last
        // selection. The legal entity is compared only when some rule set selects by it.
        let by_entity = self.book.selects_by_legal_entity();
        let mut last: Option<(Option<&str>, CustomerKind, RuleSetId, &RuleVersion)> = None;
        for (offset, (customer, state)) in customers.iter().zip(states.iter_mut()).enumerate() {
            let i = base + offset;
            let index = i as u32;
            let (entity, kind) = (customer.legal_entity(), customer.kind());
            let selected = match last {
                Some((e, k, id, v)) if k == kind && (!by_entity || e == entity) => Ok((id, v)),
                _ => self.book.select(entity, kind).and_then(|id| {
                    let v = self.book.version_for(id, month, customer.id())?;
                    last = Some((entity, kind, id, v));
                    Ok((id, v))
                }),
            };
            let result = selected.and_then(|(set, version)| {
                let input = input(i)?;
                // On error `evaluate_into` leaves the state untouched and emits nothing.
                self.evaluate_into(
                    set,
                    version,
                    customer.id(),
                    state,
                    month,
                    input.borrow(),
                    &mut Indexed { index, sink: &mut *sink },
                )
            });
            match result {
                Ok(aum) => sink.evaluated(index, aum, state),
                Err(error) => sink.error(index, error),
            }
        }
    }

    /// Checks the sequence, fills gaps when allowed, computes the AUM and steps the state.
    /// On error the state is unchanged and the sink has received nothing.
    #[allow(clippy::too_many_arguments)]
    fn evaluate_into(
        &self,
        set: RuleSetId,
        version: &RuleVersion,
        customer: &str,
        state: &mut CustomerState,
        month: Month,
        input: &MonthInput,
        sink: &mut dyn Sink,
    ) -> Result<Decimal, TieringError> {
        if month == Month::LAST {
            return Err(InputError::new(
                customer,
                Some(month),
                "month",
                "the last month there is cannot be evaluated: its outcome would have no month to be effective in",
            )
            .into());
        }
        let mut fill_from = None;
        if let Some(last) = state.last_month {
            let expected = last.next();
            if month < expected {
                return Err(SequenceError::Repeated { customer: customer.to_string(), last, got: month }.into());
            }
            if month > expected {
                if self.options.missing_months == MissingMonths::Error {
                    return Err(
                        SequenceError::Gap { customer: customer.to_string(), last, expected, got: month }.into()
                    );
                }
                fill_from = Some(expected);
            }
        }
        let aum = version.aum.compute(&input.aum, month, customer)?;
        let Some(from) = fill_from else {
            let plan = plan(version, customer, state, month, input.special.as_ref())?;
            step(version, state, month, aum, plan, sink);
            return Ok(aum);
        };
        // Gap months with zero AUM: run on a copy, and buffer their output, so that an error
        // in any month leaves the state and the sink untouched.
        let mut copy = *state;
        let mut events = Vec::new();
        let mut alerts = Vec::new();
        let mut buffer = VecSink { events: &mut events, alerts: &mut alerts };
        let mut m = from;
        while m < month {
            let v = self.book.version_for(set, m, customer)?;
            let p = plan(v, customer, &copy, m, None)?;
            step(v, &mut copy, m, crate::money::from_fen(0), p, &mut buffer);
            m = m.next();
        }
        let p = plan(version, customer, &copy, month, input.special.as_ref())?;
        step(version, &mut copy, month, aum, p, &mut buffer);
        *state = copy;
        for e in events {
            sink.event(e);
        }
        for a in alerts {
            sink.alert(a);
        }
        Ok(aum)
    }
}

/// What a step needs, resolved and validated before anything changes.
struct Plan {
    /// The earned tier's rank in the version.
    earned: Option<usize>,
    /// The watch's best tier's rank.
    watch_best: Option<usize>,
    /// The special designation after expiry and the month's change, with its tier's rank.
    special: SpecialPlan,
}

enum SpecialPlan {
    Keep(Option<(SpecialVip, usize)>),
    Expire(SpecialVip, Option<(SpecialVip, usize)>),
    Grant { expired: Option<SpecialVip>, replaced: bool, new: (SpecialVip, usize) },
    Revoke(SpecialVip),
}

fn unknown_tier(customer: &str, tier: TierCode, month: Month) -> TieringError {
    StateError::UnknownTier { customer: customer.to_string(), tier: tier.to_string(), month }.into()
}

fn resolve(
    v: &RuleVersion,
    customer: &str,
    tier: Option<TierCode>,
    month: Month,
) -> Result<Option<usize>, TieringError> {
    match tier {
        None => Ok(None),
        Some(t) => v.resolve(t).map(Some).ok_or_else(|| unknown_tier(customer, t, month)),
    }
}

#[inline(always)]
fn plan(
    v: &RuleVersion,
    customer: &str,
    state: &CustomerState,
    month: Month,
    change: Option<&SpecialChange>,
) -> Result<Plan, TieringError> {
    let inconsistent = |message: &str| -> TieringError {
        StateError::Inconsistent { customer: customer.to_string(), message: message.to_string() }.into()
    };
    // A state with a standing remembers the month it was evaluated in (SPEC §4): without it
    // the sequence check could not stop a month from being evaluated twice.
    if state.last_month.is_none() && *state != CustomerState::default() {
        return Err(inconsistent("a state with a standing has no last month"));
    }
    let earned = resolve(v, customer, state.tier, month)?;
    match state.status {
        Status::Rated if earned.is_none() => return Err(inconsistent("status rated without a tier")),
        Status::Retained if earned.is_none() || state.retention_months_left == 0 => {
            return Err(inconsistent("status retained without a last tier or retention months"));
        }
        Status::NotEnrolled if earned.is_some() => return Err(inconsistent("status not_enrolled with a tier")),
        _ => {}
    }
    let watch_best = match state.watch {
        Some(w) => resolve(v, customer, w.best_tier, month)?,
        None => None,
    };
    if state.special.is_none() && change.is_none() {
        // Most customers of a portfolio: no designation, nothing to change.
        return Ok(Plan { earned, watch_best, special: SpecialPlan::Keep(None) });
    }
    let next = month.next();
    // The designation's tier, rewritten through the tier map like the earned tier.
    let current = match state.special {
        Some(sp) => {
            let rank = resolve(v, customer, Some(sp.tier), month)?.unwrap_or(0);
            Some((SpecialVip { tier: v.tiers[rank].code, ..sp }, rank))
        }
        None => None,
    };
    let (kept, expired) = match current {
        Some((sp, _)) if next > sp.last_month => (None, Some(sp)),
        other => (other, None),
    };
    let special = match change {
        None => match expired {
            Some(sp) => SpecialPlan::Expire(sp, None),
            None => SpecialPlan::Keep(kept),
        },
        Some(SpecialChange::Revoke) => match (kept, expired) {
            // A designation in its last month is still active in the evaluated month: the
            // bank's revocation is what gets recorded.
            (Some((sp, _)), _) | (None, Some(sp)) => SpecialPlan::Revoke(sp),
            (None, None) => {
                return Err(InputError::new(
                    customer,
                    Some(month),
                    "special",
                    "there is no active special VIP designation to revoke",
                )
                .into());
            }
        },
        Some(SpecialChange::Grant { tier, months }) => {
            let tier = tier.unwrap_or(v.settings.special_vip_default_tier);
            let rank = v.rank_of(tier).ok_or_else(|| {
                InputError::new(
                    customer,
                    Some(month),
                    "special.tier",
                    format!("tier `{tier}` is not in the rules in force for {month}"),
                )
            })?;
            let months = months.unwrap_or(v.settings.special_vip_months);
            if months == 0 || months > 120 {
                return Err(InputError::new(
                    customer,
                    Some(month),
                    "special.months",
                    format!("a designation lasts 1 to 120 months, got {months}"),
                )
                .into());
            }
            let new = SpecialVip { tier, first_month: next, last_month: next.plus(months as i32 - 1) };
            SpecialPlan::Grant { expired, replaced: kept.is_some(), new: (new, rank) }
        }
    };
    Ok(Plan { earned, watch_best, special })
}

/// Applies the rules to a validated plan. Infallible: every check happened in [`plan`].
#[inline(always)]
fn step(v: &RuleVersion, s: &mut CustomerState, month: Month, aum: Decimal, plan: Plan, sink: &mut dyn Sink) {
    let next = month.next();
    let code = |r: usize| v.tiers[r].code;
    let min = |r: usize| v.tiers[r].min_aum;
    let entry = v.entry_threshold();
    let key = v.key(aum);
    let q = v.qualifying_rank_key(key);
    let event = |kind, from: Option<usize>, to: Option<usize>, reason, evidence| Event {
        month,
        effective_from: next,
        kind,
        from_tier: from.map(code),
        to_tier: to.map(code),
        reason,
        evidence,
    };
    let mut earned = plan.earned;
    let mut watch_best = plan.watch_best;

    match s.status {
        Status::NotEnrolled => {
            if let Some(r) = q {
                sink.event(event(
                    EventKind::Entered,
                    None,
                    Some(r),
                    Reason::MetTierMinimum,
                    Evidence::aum(aum, Some(min(r))),
                ));
                s.status = Status::Rated;
                earned = Some(r);
            }
        }
        Status::Retained => {
            if let Some(r) = q {
                sink.event(event(
                    EventKind::ReEntered,
                    earned,
                    Some(r),
                    Reason::MetTierMinimum,
                    Evidence::aum(aum, Some(min(r))),
                ));
                s.status = Status::Rated;
                s.retention_months_left = 0;
                earned = Some(r);
            } else {
                s.retention_months_left = s.retention_months_left.saturating_sub(1);
                if s.retention_months_left == 0 {
                    sink.event(event(
                        EventKind::FullyExited,
                        earned,
                        None,
                        Reason::RetentionEnded,
                        Evidence::aum(aum, Some(entry)),
                    ));
                    s.status = Status::NotEnrolled;
                    earned = None;
                }
            }
        }
        Status::Rated => {
            let t = earned.unwrap_or(0);
            // The exit counter runs independently of the watch.
            s.below_entry = match (q, s.below_entry) {
                (Some(_), _) => None,
                (None, Some(run)) => {
                    Some(BelowEntryRun { months: run.months + 1, peak_aum: run.peak_aum.max(aum), ..run })
                }
                (None, None) => Some(BelowEntryRun { since: month, months: 1, peak_aum: aum }),
            };
            match s.below_entry {
                Some(run) if run.months >= v.settings.exit_after_months => {
                    // Exit wins over a downgrade due the same month.
                    sink.event(event(
                        EventKind::ExitedToRetention,
                        Some(t),
                        None,
                        Reason::BelowEntryRun,
                        Evidence::aum(aum, Some(entry)).window(run.since, run.months, Some(run.peak_aum)),
                    ));
                    s.status = Status::Retained;
                    s.retention_months_left = v.settings.retention_months;
                    s.below_entry = None;
                    s.watch = None;
                    watch_best = None;
                }
                _ if q.is_some_and(|r| r >= t) => {
                    let r = q.unwrap_or(t);
                    if let Some(w) = s.watch.take() {
                        sink.event(event(
                            EventKind::WatchCleared,
                            Some(t),
                            Some(t),
                            Reason::MetTierMinimum,
                            Evidence::aum(aum, Some(min(t))).window(w.since, w.short_months, Some(w.peak_aum)),
                        ));
                        watch_best = None;
                    }
                    if r > t {
                        sink.event(event(
                            EventKind::Upgraded,
                            Some(t),
                            Some(r),
                            Reason::MetTierMinimum,
                            Evidence::aum(aum, Some(min(r))),
                        ));
                        earned = Some(r);
                    }
                }
                _ if t > 0 => {
                    // Short of the current tier, which has a tier below it: the watch (关注).
                    let w = match s.watch {
                        Some(w) => Watch { short_months: w.short_months + 1, peak_aum: w.peak_aum.max(aum), ..w },
                        None => {
                            sink.event(event(
                                EventKind::WatchStarted,
                                Some(t),
                                None,
                                Reason::ShortOfTier,
                                Evidence::aum(aum, Some(min(t))),
                            ));
                            Watch { since: month, short_months: 1, best_tier: None, peak_aum: aum }
                        }
                    };
                    watch_best = watch_best.max(q);
                    if w.short_months >= v.tiers[t].watch_months {
                        let (target, reason) = match v.settings.downgrade_target {
                            DowngradeTarget::HighestInWindow => (watch_best, Reason::HighestInWindow),
                            DowngradeTarget::LastMonth => (q, Reason::LastMonth),
                            DowngradeTarget::OneDown => (Some(t - 1), Reason::OneDown),
                        };
                        let (target, reason) = match target {
                            Some(r) => (r.min(t - 1), reason),
                            None => (0, Reason::LowestTierFloor),
                        };
                        sink.event(event(
                            EventKind::Downgraded,
                            Some(t),
                            Some(target),
                            reason,
                            Evidence::aum(aum, Some(min(t))).window(w.since, w.short_months, Some(w.peak_aum)),
                        ));
                        earned = Some(target);
                        s.watch = None;
                        watch_best = None;
                    } else {
                        s.watch = Some(w);
                    }
                }
                _ => {
                    // Short of the lowest tier: only the exit counter runs. A watch carried
                    // over from a version in which this tier had a tier below it ends here.
                    if let Some(w) = s.watch.take() {
                        sink.event(event(
                            EventKind::WatchCleared,
                            Some(t),
                            Some(t),
                            Reason::NoLowerTier,
                            Evidence::aum(aum, Some(min(t))).window(w.since, w.short_months, Some(w.peak_aum)),
                        ));
                        watch_best = None;
                    }
                }
            }
        }
    }
    if s.status != Status::Rated {
        s.watch = None;
        s.below_entry = None;
    }
    if let Some(w) = s.watch.as_mut() {
        w.best_tier = watch_best.map(code);
    }
    s.tier = earned.map(code);

    // The special VIP overlay.
    let expiry_event = |old: SpecialVip| {
        special_event(month, EventKind::SpecialExpired, Some(old.tier), None, Reason::ValidityEnded, aum, old)
    };
    let special = match plan.special {
        SpecialPlan::Keep(k) => k,
        SpecialPlan::Expire(old, k) => {
            sink.event(expiry_event(old));
            k
        }
        SpecialPlan::Revoke(old) => {
            sink.event(special_event(
                month,
                EventKind::SpecialRevoked,
                Some(old.tier),
                None,
                Reason::Revoked,
                aum,
                old,
            ));
            None
        }
        SpecialPlan::Grant { expired, replaced, new } => {
            if let Some(old) = expired {
                sink.event(expiry_event(old));
            }
            let from = if replaced { s.special.map(|o| o.tier) } else { None };
            sink.event(special_event(
                month,
                EventKind::SpecialGranted,
                from,
                Some(new.0.tier),
                Reason::Designated,
                aum,
                new.0,
            ));
            Some(new)
        }
    };
    s.special = special.map(|(sp, _)| sp);
    let earned_rated = if s.status == Status::Rated { earned } else { None };
    s.effective_tier = earned_rated.max(special.map(|(_, r)| r)).map(code);
    s.last_month = Some(month);

    alerts(v, s, month, aum, key, earned_rated, sink);
}

#[allow(clippy::too_many_arguments)]
fn special_event(
    month: Month,
    kind: EventKind,
    from: Option<TierCode>,
    to: Option<TierCode>,
    reason: Reason,
    aum: Decimal,
    sp: SpecialVip,
) -> Event {
    let months = (sp.last_month.months_since(sp.first_month) + 1).max(0) as u32;
    Event {
        month,
        effective_from: month.next(),
        kind,
        from_tier: from,
        to_tier: to,
        reason,
        evidence: Evidence::aum(aum, None).window(sp.first_month, months, None),
    }
}

#[inline(always)]
fn alerts(
    v: &RuleVersion,
    s: &CustomerState,
    month: Month,
    aum: Decimal,
    key: i128,
    rated: Option<usize>,
    sink: &mut dyn Sink,
) {
    let alert = |kind, tier: Option<TierCode>| Alert {
        month,
        kind,
        tier,
        months_counted: None,
        months_left: None,
        aum,
        threshold: None,
        gap: None,
    };
    if let (Some(w), Some(t)) = (s.watch, rated) {
        sink.alert(Alert {
            months_counted: Some(w.short_months),
            months_left: Some(v.tiers[t].watch_months.saturating_sub(w.short_months)),
            threshold: Some(v.tiers[t].min_aum),
            ..alert(AlertKind::WatchActive, s.tier)
        });
    }
    if let (Some(run), Some(_)) = (s.below_entry, rated) {
        sink.alert(Alert {
            months_counted: Some(run.months),
            months_left: Some(v.settings.exit_after_months.saturating_sub(run.months)),
            threshold: Some(v.entry_threshold()),
            ..alert(AlertKind::ExitRisk, s.tier)
        });
    }
    if s.status == Status::Retained {
        sink.alert(Alert {
            months_left: Some(s.retention_months_left),
            threshold: Some(v.entry_threshold()),
            ..alert(AlertKind::InRetention, s.tier)
        });
    }
    if let Some(sp) = s.special {
        let left = (sp.last_month.months_since(month.next()) + 1).max(0) as u32;
        if left <= v.settings.special_vip_notice_months {
            sink.alert(Alert { months_left: Some(left), ..alert(AlertKind::SpecialExpiring, Some(sp.tier)) });
        }
    }
    // Near-threshold (临界) bands.
    match rated {
        Some(t) => {
            if let Some(n) = v.tiers.get(t + 1)
                && key >= n.band_below_key
                && !v.meets_key(key, n)
            {
                sink.alert(Alert {
                    threshold: Some(n.min_aum),
                    gap: Some(n.min_aum - aum),
                    ..alert(AlertKind::UpgradeOpportunity, Some(n.code))
                });
            }
            let cur = &v.tiers[t];
            if v.meets_key(key, cur) && key < cur.band_above_key {
                sink.alert(Alert {
                    threshold: Some(cur.min_aum),
                    gap: Some(aum - cur.min_aum),
                    ..alert(AlertKind::DowngradeRisk, Some(cur.code))
                });
            }
        }
        None => {
            if let Some(e) = v.tiers.first()
                && key >= e.band_below_key
                && !v.meets_key(key, e)
            {
                sink.alert(Alert {
                    threshold: Some(e.min_aum),
                    gap: Some(e.min_aum - aum),
                    ..alert(AlertKind::PotentialVip, Some(e.code))
                });
            }
        }
    }
}
