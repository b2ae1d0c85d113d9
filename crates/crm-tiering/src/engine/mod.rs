//! The tier state machine and its three entry points: one month ([`Engine::evaluate`]), a
//! history ([`Engine::replay`]) and a batch ([`Engine::evaluate_batch_with`] and friends).
//!
//! Each month runs in two phases (DESIGN.md): [`plan`](plan::plan) does everything that can fail
//! (SPEC §6.1) and [`step`](step::step) applies the rules and cannot fail (SPEC §6.2); alerts
//! follow (SPEC §11).

mod alerts;
mod batch;
mod customer;
mod input;
mod lifecycle;
mod plan;
mod sink;
mod steady;
mod step;

use rust_decimal::Decimal;

pub use batch::{BatchAlert, BatchError, BatchEvent, BatchOutcome, BatchSink};
pub use customer::{Customer, CustomerIdentity, CustomerRef};
pub use input::{EngineOptions, Measures, MissingMonths, MonthInput, MonthOutcome, SpecialChange};
use plan::plan;
use sink::{Sink, VecSink};
use step::step;

use crate::error::{InputError, SequenceError, TieringError};
use crate::history::History;
use crate::month::Month;
use crate::rules::{RuleBook, RuleSetId, RuleVersion};
use crate::state::CustomerState;

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
        if !self.book.history_layout().is_empty() && prior.last_month.is_some() {
            return Err(history_needed(&customer.id, month));
        }
        self.evaluate_with_history(customer, prior, &History::new(), month, input)
    }

    /// [`Engine::evaluate`] for a rule book whose criteria read windows (SPEC §19.2): the
    /// customer's history comes in beside its state, and the outcome's
    /// [`history`](MonthOutcome::history) goes with its state to the next month. For a book
    /// without windows the history stays empty and this is [`Engine::evaluate`].
    ///
    /// ```
    /// use crm_tiering::{Customer, CustomerState, Engine, History, MonthInput, RuleBook, parse_amount};
    /// let mut text = crm_tiering::DEFAULT_RULES_TOML.replace("min_aum = \"200000\"", "qualify = { any_of = [{ window = \"avg_3\", min = \"200000\" }] }");
    /// # assert!(text.contains("avg_3"));
    /// let engine = Engine::new(RuleBook::from_toml_str(&text)?);
    /// let c = Customer::personal("6221000001");
    /// let (mut state, mut history) = (CustomerState::default(), History::new());
    /// for (month, aum) in [("2024-01", "300000"), ("2024-02", "50000")] {
    ///     let o = engine.evaluate_with_history(&c, &state, &history, month.parse()?, &MonthInput::total(parse_amount(aum)?))?;
    ///     (state, history) = (o.state, o.history);
    /// }
    /// // February's two-month average, (300,000 x 31 + 50,000 x 29) / 60 = 179,166.67: short.
    /// assert_eq!(state.below_entry_months(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Engine::evaluate`].
    pub fn evaluate_with_history(
        &self,
        customer: &Customer,
        prior: &CustomerState,
        history: &History,
        month: Month,
        input: &MonthInput,
    ) -> Result<MonthOutcome, TieringError> {
        if !self.book.tiers_kind(customer.kind) {
            return Err(self.book.kind_not_tiered(&customer.id, customer.kind, Some(month)));
        }
        let set = self.book.select(customer.legal_entity.as_deref(), customer.kind)?;
        let mut state = *prior;
        let layout = self.book.history_layout();
        let mut past = layout.fresh();
        layout.fill(history, &mut past);
        let mut events = Vec::new();
        let mut alerts = Vec::new();
        let version = self.book.version_for(set, month, &customer.id)?;
        let aum = self.evaluate_into(
            set,
            version,
            &customer.id,
            (&mut state, &mut past),
            month,
            input,
            &mut VecSink { events: &mut events, alerts: &mut alerts },
        )?;
        let history = layout.to_history(&past);
        Ok(MonthOutcome { month, aum, state, history, events, alerts })
    }

    /// Checks a customer's stored state as evaluating `next` (the month after the state's) would:
    /// its kind is one the book tiers, a rule set and version are in force, its tier codes are
    /// the version's (or mapped by its `tier_map`) and it is consistent (SPEC §6.1). What an
    /// import of states refuses, so that a store never starts from states a run would refuse.
    ///
    /// # Errors
    /// The error the evaluation of `next` would report for the state.
    pub fn check_state(
        &self,
        customer: CustomerRef<'_>,
        state: &CustomerState,
        next: Month,
    ) -> Result<(), TieringError> {
        if !self.book.tiers_kind(customer.kind) {
            return Err(self.book.kind_not_tiered(customer.id, customer.kind, Some(next)));
        }
        let set = self.book.select(customer.legal_entity, customer.kind)?;
        let version = self.book.version_for(set, next, customer.id)?;
        plan(version, customer.id, state, next, None).map(|_| ())
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
        let mut past = History::new();
        let mut out = Vec::with_capacity(history.len());
        for (month, input) in history {
            let o = self.evaluate_with_history(customer, &state, &past, *month, input)?;
            state = o.state;
            past.clone_from(&o.history);
            out.push(o);
        }
        Ok(out)
    }

    /// Checks the sequence, fills gaps when allowed, computes the AUM and steps the state.
    /// On error the state is unchanged and the sink has received nothing.
    #[expect(
        clippy::too_many_arguments,
        reason = "the batch's and the single evaluation's common core: each argument is one they hold apart"
    )]
    fn evaluate_into(
        &self,
        set: RuleSetId,
        version: &RuleVersion,
        customer: &str,
        (state, history): (&mut CustomerState, &mut [i64]),
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
        let mut values = version.measure_values(aum, input, customer, month)?;
        let Some(from) = fill_from else {
            let plan = plan(version, customer, state, month, input.special.as_ref())?;
            self.step_with_history(version, customer, (state, history), (month, aum), plan, &mut values, sink)?;
            return Ok(aum);
        };
        // Gap months with zero AUM: run on a copy, and buffer their output, so that an error
        // in any month leaves the state, the history and the sink untouched.
        let mut copy = *state;
        let mut past = history.to_vec();
        let mut events = Vec::new();
        let mut alerts = Vec::new();
        let mut buffer = VecSink { events: &mut events, alerts: &mut alerts };
        let mut m = from;
        while m < month {
            let v = self.book.version_for(set, m, customer)?;
            let p = plan(v, customer, &copy, m, None)?;
            let zero = crate::money::from_fen(0);
            self.step_with_history(
                v,
                customer,
                (&mut copy, &mut past),
                (m, zero),
                p,
                &mut v.zero_values(),
                &mut buffer,
            )?;
            m = m.next();
        }
        let p = plan(version, customer, &copy, month, input.special.as_ref())?;
        self.step_with_history(version, customer, (&mut copy, &mut past), (month, aum), p, &mut values, &mut buffer)?;
        *state = copy;
        history.copy_from_slice(&past);
        for e in events {
            sink.event(e);
        }
        for a in alerts {
            sink.alert(a);
        }
        Ok(aum)
    }

    /// One month's step that reads and records the customer's history (SPEC §19.5): the
    /// windows' values after the month's measured `values`, then [`step_recorded`]. Without a
    /// history (a book without windows) only the step.
    ///
    /// # Errors
    /// A state error for a tier of the history the version neither has nor maps, before
    /// anything changed.
    #[expect(
        clippy::too_many_arguments,
        reason = "the step's arguments and the customer's history, each one the callers hold apart"
    )]
    fn step_with_history(
        &self,
        v: &RuleVersion,
        customer: &str,
        (state, history): (&mut CustomerState, &mut [i64]),
        (month, aum): (Month, Decimal),
        plan: plan::Plan,
        values: &mut Vec<i64>,
        sink: &mut dyn Sink,
    ) -> Result<(), TieringError> {
        let layout = self.book.history_layout();
        if layout.is_empty() {
            let _ = step(v, state, month, aum, plan, values, sink);
            return Ok(());
        }
        let windows = layout.month_windows(v, month);
        windows.values(history, values);
        step_recorded(&windows, v, customer, (state, history), (month, aum), plan, values, sink)
    }
}

/// The step of a month whose window values follow its measured `values`, recorded in the
/// customer's `history` (SPEC §19.5): the downgrade window's best tier (`highest_over`) in the
/// plan, the step, then the month's values and qualified tier recorded. The full path and the
/// batch's short path both end here.
///
/// # Errors
/// A state error for a tier of the history the version neither has nor maps, before anything
/// changed.
#[expect(
    clippy::too_many_arguments,
    reason = "the step's arguments and the customer's history, each one the callers hold apart"
)]
fn step_recorded(
    windows: &crate::history::MonthWindows<'_>,
    v: &RuleVersion,
    customer: &str,
    (state, history): (&mut CustomerState, &mut [i64]),
    (month, aum): (Month, Decimal),
    mut plan: plan::Plan,
    values: &[i64],
    sink: &mut dyn Sink,
) -> Result<(), TieringError> {
    if let Some(k) = v.settings.downgrade_window {
        plan.over_best = plan::highest_of(v, customer, windows.recent_tiers(history, k as usize - 1), month)?;
    }
    let q = step(v, state, month, aum, plan, values, sink).and_then(|r| v.tiers.get(r)).map(|t| t.code);
    record_month(windows, v, history, (month, crate::money::to_fen(aum).unwrap_or(0), q), values, sink);
    Ok(())
}

/// After a month's step, full or steady: the lifecycle stage of the month (SPEC §23.2), then the
/// month's values and qualified tier `q` recorded in the customer's `history` (SPEC §19.5).
#[inline]
fn record_month(
    windows: &crate::history::MonthWindows<'_>,
    v: &RuleVersion,
    history: &mut [i64],
    (month, aum_fen, q): (Month, i64, Option<crate::code::TierCode>),
    values: &[i64],
    sink: &mut dyn Sink,
) {
    if let Some(lifecycle) = &v.lifecycle {
        lifecycle::advance(lifecycle, windows.layout(), history, (month, aum_fen), values, sink);
    }
    windows.push(history, (aum_fen, q), values);
}

/// The error of a customer with earlier months evaluated without its history under a rule
/// book whose windows read them (SPEC §19.5): its tier would be judged on this month alone.
#[cold]
pub(crate) fn history_needed(customer: &str, month: Month) -> TieringError {
    InputError::new(
        customer,
        Some(month),
        "history",
        "the rules' windows read the customer's earlier months, but no history came with its state: evaluate it with the history its last evaluation gave",
    )
    .into()
}
