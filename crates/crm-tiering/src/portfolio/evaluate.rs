//! Evaluating a portfolio over a declared month or range of months (SPEC §15).

use std::borrow::Cow;
use std::sync::Arc;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use super::extract::Extract;
use super::options::{Absent, MonthRange, PortfolioOptions, RuleBookChange};
use super::plan::{NONE, Plan};
use super::record::{PortfolioFailure, RecordError, RecordRef};
use super::sink::{PortfolioOutcome, PortfolioSink};
use super::states::{Identities, PortfolioStates};
use crate::aum::{AumInput, FenSlot};
use crate::engine::{BatchOutcome, BatchSink, CustomerRef, Engine, MonthInput};
use crate::error::{InputError, StateError, TieringError};
use crate::event::{Alert, Event};
use crate::month::Month;
use crate::rules::{CustomerKind, RuleBook};
use crate::state::CustomerState;

/// The input of a customer with a designation but no AUM record, or of an absent one under
/// [`Absent::Zero`]: nothing held.
static NOTHING_HELD: MonthInput = MonthInput { aum: AumInput::Total(Decimal::ZERO), special: None };

impl Engine {
    /// Evaluates a portfolio over a declared month (or range of months) and collects the
    /// results; see [`Engine::evaluate_portfolio_with`].
    ///
    /// ```
    /// use crm_tiering::{Engine, RuleBook};
    /// use crm_tiering::portfolio::{Columns, Extract, PortfolioOptions, PortfolioStates, TableKind};
    /// let engine = Engine::new(RuleBook::default_book()?);
    /// let book = engine.rule_book();
    /// let cols = Columns::resolve(book, TableKind::Aum, &["month", "customer_id", "aum"])?;
    /// let mut extract = Extract::new(book);
    /// extract.push_cells("aum.csv", &cols, 2, &["2024-03", "c1", "250000"]);
    /// extract.push_cells("aum.csv", &cols, 3, &["2024-04", "c2", "900000"]); // not March
    /// let mut states = PortfolioStates::new();
    /// let out = engine.evaluate_portfolio(&mut states, "2024-03".parse()?, &extract, &PortfolioOptions::default())?;
    /// assert_eq!(states.get("c1").unwrap().1.tier.unwrap().as_str(), "gold");
    /// let (_, held) = &out.months[0].held[0];
    /// assert_eq!((held.customer(), held.field()), (Some("c2"), Some("month")));
    /// assert!(states.get("c2").is_none()); // never evaluated, April never touched
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Engine::evaluate_portfolio_with`].
    pub fn evaluate_portfolio(
        &self,
        states: &mut PortfolioStates,
        months: MonthRange,
        extract: &Extract,
        options: &PortfolioOptions,
    ) -> Result<PortfolioOutcome, PortfolioFailure> {
        let mut out = PortfolioOutcome::default();
        self.evaluate_portfolio_with(states, months, extract, options, &mut out)?;
        Ok(out)
    }

    /// Evaluates a portfolio over a declared month or range of months, streaming the results to
    /// `sink` (SPEC §15):
    ///
    /// - records are matched to states by customer id; new ids join the portfolio with their
    ///   record's identity, and identity cells left empty keep the stored values;
    /// - a record dated outside `months`, a second record of a customer-month (both are named),
    ///   a rejected record of the extract, and a customer the engine rejects are held back:
    ///   state kept, nothing emitted, reported once with [`PortfolioSink::held`], and not
    ///   evaluated in the range's later months;
    /// - a known customer without a record follows `options.absent`;
    /// - the states are stamped with the rule book's fingerprint.
    ///
    /// # Errors
    /// [`PortfolioFailure`], with nothing evaluated and `states` unchanged, when the extract has
    /// records whose customer cannot be identified, when the states were written under another
    /// rule book (unless [`RuleBookChange::Accept`]), or when a table without a month column
    /// meets a range of several months.
    pub fn evaluate_portfolio_with(
        &self,
        states: &mut PortfolioStates,
        months: MonthRange,
        extract: &Extract,
        options: &PortfolioOptions,
        sink: &mut dyn PortfolioSink,
    ) -> Result<(), PortfolioFailure> {
        if !extract.fatal.is_empty() {
            return Err(PortfolioFailure { errors: extract.fatal.clone() });
        }
        let book = self.rule_book();
        if let Some(found) = states.rule_book()
            && found != book.fingerprint()
            && options.rule_book_change == RuleBookChange::Refuse
        {
            let error = StateError::RuleBookChanged { found: found.to_string(), expected: book.fingerprint().into() };
            return Err(RecordError::at(error, None).into());
        }
        let plan = Plan::new(states, months, extract)?;
        // From here on the evaluation cannot fail as a whole.
        let Plan { month_rows, month_designations, row_customer, designation_customer, joining, joining_index, holds } =
            plan;
        let known = states.len();
        states.reserve(joining.len());
        match joining_index {
            // A first month: the plan's table of the new ids is the states' index.
            Some(index) if known == 0 => states.push_indexed(joining.iter().map(|(id, _)| *id), index),
            _ => {
                for (id, _) in &joining {
                    // Beyond 4 billion customers only, which the plan's `u32` indices exclude.
                    states
                        .push_new(id, CustomerKind::default(), CustomerState::default())
                        .map_err(|e| RecordError::at(e, None))?;
                }
            }
        }
        let n = states.len();
        let mut joins: Vec<Month> = vec![months.first(); n];
        for (j, (_, m)) in joining.iter().enumerate() {
            joins[known + j] = *m;
        }
        // Held customers by index; those that never join are reported without one.
        let mut held_from: Vec<Option<Month>> = vec![None; n];
        let mut hold_error: FxHashMap<usize, &RecordError> = FxHashMap::default();
        for (c, from, error) in &holds {
            if let Some(i) = *c {
                held_from[i] = Some(*from);
                hold_error.insert(i, error);
            }
        }
        let mut reported = vec![false; n];
        let mut row_of = vec![NONE; n];
        let mut designation_of = vec![NONE; n];
        for m in months.months() {
            sink.begin_month(m);
            let offset = months.offset(m);
            for (_, _, error) in holds.iter().filter(|(c, from, _)| c.is_none() && *from == m) {
                sink.held(m, None, error);
            }
            // This month's records by customer; identity cells given replace, missing ones keep.
            for &k in &month_rows[offset] {
                let i = row_customer[k as usize] as usize;
                row_of[i] = k;
                let r = &extract.records[k as usize];
                // Usually the same entity as stored: nothing to change then.
                if let Some(e) = extract.entity_of(r)
                    && states.identities.get(i).is_some_and(|c| c.legal_entity != Some(e))
                {
                    // Beyond 4 billion distinct legal entities only.
                    states.identities.set_legal_entity(i, e).map_err(|e| RecordError::at(e, None))?;
                }
                if let Some(kind) = r.kind {
                    states.identities.set_kind(i, kind);
                }
            }
            for &k in &month_designations[offset] {
                designation_of[designation_customer[k as usize] as usize] = k;
            }
            let mut active: Vec<u32> = Vec::with_capacity(n);
            let mut newly_held: Vec<(usize, RecordError)> = Vec::new();
            for (i, &joined) in joins.iter().enumerate() {
                if joined > m {
                    continue;
                }
                if held_from[i].is_some_and(|from| from <= m) {
                    if !reported[i] {
                        reported[i] = true;
                        if let Some(e) = hold_error.get(&i) {
                            newly_held.push((i, (*e).clone()));
                        }
                    }
                    continue;
                }
                if row_of[i] == NONE && designation_of[i] == NONE {
                    match options.absent {
                        Absent::Zero => {}
                        Absent::Hold => continue,
                        Absent::Error => {
                            let id = states.identities.id(i);
                            let message =
                                "the customer has no record in the month's extract (absent customers are errors)";
                            let error = RecordError::at(InputError::new(id, Some(m), "aum", message), None);
                            held_from[i] = Some(m);
                            reported[i] = true;
                            newly_held.push((i, error));
                            continue;
                        }
                    }
                }
                active.push(i as u32);
            }
            for (i, e) in &newly_held {
                sink.held(m, Some(*i), e);
            }
            let sums = FenSums::new(book, m, extract.fen_codes());
            let input = |i: usize, who: &CustomerRef<'_>| {
                let special = match designation_of[i] {
                    NONE => None,
                    d => extract.designations.get(d as usize).map(|d| d.change),
                };
                match (row_of[i], special) {
                    (NONE, None) => Cow::Borrowed(&NOTHING_HELD),
                    (NONE, Some(_)) => Cow::Owned(MonthInput { aum: AumInput::Total(Decimal::ZERO), special }),
                    (k, special) => extract.input_of(k as usize, sums.slots(book, who), special),
                }
            };
            let mut forward = Forward {
                month: m,
                active: &active,
                identities: &states.identities,
                extract,
                row_of: &row_of,
                held_from: &mut held_from,
                reported: &mut reported,
                sink: &mut *sink,
            };
            if options.threads <= 1 && active.len() == states.states.len() {
                // The whole portfolio on one thread (the usual month): in place, each result
                // streamed to the sink as it is made, no vector of customers or results.
                let identities = &states.identities;
                let customer = |k: usize| identities.get(k).unwrap_or(NO_CUSTOMER);
                let made = |k: usize| Ok::<_, TieringError>(input(k, &customer(k)));
                if let Err(error) = self.evaluate_batch_by(m, customer, &mut states.states, made, &mut forward) {
                    // Beyond 4 billion customers only: every customer is held back.
                    for k in 0..active.len() {
                        forward.error(k as u32, error.clone());
                    }
                }
            } else {
                let outcomes =
                    self.evaluate_active(&mut states.states, forward.identities, m, &active, input, options.threads);
                forward.replay(&outcomes, &states.states);
            }
            for &k in &month_rows[offset] {
                row_of[row_customer[k as usize] as usize] = NONE;
            }
            for &k in &month_designations[offset] {
                designation_of[designation_customer[k as usize] as usize] = NONE;
            }
            sink.end_month(m);
        }
        states.set_rule_book(book);
        Ok(())
    }

    /// Runs the batch over the active customers (indices into the states) on `threads`
    /// threads, or over a part of the portfolio, and collects the results; the states are
    /// updated in place.
    fn evaluate_active<'e>(
        &self,
        states: &mut [CustomerState],
        identities: &Identities,
        month: Month,
        active: &[u32],
        input: impl Fn(usize, &CustomerRef<'_>) -> Cow<'e, MonthInput> + Sync,
        threads: usize,
    ) -> BatchOutcome {
        let customers: Vec<CustomerRef<'_>> =
            active.iter().map(|&i| identities.get(i as usize).unwrap_or(NO_CUSTOMER)).collect();
        let mut subset: Vec<CustomerState> = active.iter().map(|&i| states[i as usize]).collect();
        let parts = self.evaluate_batch_parallel_with(
            month,
            &customers,
            &mut subset,
            |k| Ok::<_, TieringError>(input(active[k] as usize, &customers[k])),
            threads,
            BatchOutcome::default,
        );
        drop(customers);
        let mut out = BatchOutcome::with_capacity(active.len());
        match parts {
            Ok(parts) => {
                for p in parts {
                    out.events.extend(p.events);
                    out.alerts.extend(p.alerts);
                    out.errors.extend(p.errors);
                    out.aums.extend(p.aums);
                }
            }
            Err(error) => {
                // Only a failed worker thread gets here: every customer is held back.
                out.aums = vec![Decimal::ZERO; active.len()];
                out.errors = (0..active.len() as u32)
                    .map(|index| crate::engine::BatchError { index, error: error.clone() })
                    .collect();
                return out;
            }
        }
        for (k, &i) in active.iter().enumerate() {
            states[i as usize] = subset[k];
        }
        out
    }
}

/// A customer index without an identity: never met, as every index of a portfolio has one.
const NO_CUSTOMER: CustomerRef<'static> = CustomerRef { id: "", legal_entity: None, kind: CustomerKind::Personal };

/// Passes a month's batch results to the portfolio's sink as they come, by customer (the
/// batch's indices are indices into `active`): events, alerts, then the evaluated customer; a
/// customer the engine rejects is held back with its record named.
struct Forward<'a> {
    month: Month,
    active: &'a [u32],
    identities: &'a Identities,
    extract: &'a Extract,
    row_of: &'a [u32],
    held_from: &'a mut [Option<Month>],
    reported: &'a mut [bool],
    sink: &'a mut dyn PortfolioSink,
}

impl<'a> Forward<'a> {
    /// The customer of a batch index, with its index in the portfolio.
    #[inline]
    fn customer(&self, k: u32) -> Option<(usize, CustomerRef<'a>)> {
        let (active, identities): (&'a [u32], &'a Identities) = (self.active, self.identities);
        let i = *active.get(k as usize)? as usize;
        Some((i, identities.get(i)?))
    }

    /// Feeds collected results, in customer order, as the batch would have streamed them.
    fn replay(&mut self, out: &BatchOutcome, states: &[CustomerState]) {
        let (mut e, mut a, mut x) = (0, 0, 0);
        for (k, &i) in self.active.iter().enumerate() {
            let k32 = k as u32;
            while e < out.events.len() && out.events[e].index == k32 {
                self.event(k32, &out.events[e].event);
                e += 1;
            }
            while a < out.alerts.len() && out.alerts[a].index == k32 {
                self.alert(k32, &out.alerts[a].alert);
                a += 1;
            }
            if x < out.errors.len() && out.errors[x].index == k32 {
                self.error(k32, out.errors[x].error.clone());
                x += 1;
                continue;
            }
            if let (Some(aum), Some(state)) = (out.aums.get(k), states.get(i as usize)) {
                self.evaluated(k32, *aum, state);
            }
        }
    }
}

impl BatchSink for Forward<'_> {
    #[inline]
    fn event(&mut self, k: u32, event: &Event) {
        if let Some((i, customer)) = self.customer(k) {
            self.sink.event(self.month, i, customer, event);
        }
    }

    #[inline]
    fn alert(&mut self, k: u32, alert: &Alert) {
        if let Some((i, customer)) = self.customer(k) {
            self.sink.alert(self.month, i, customer, alert);
        }
    }

    #[inline]
    fn evaluated(&mut self, k: u32, aum: Decimal, state: &CustomerState) {
        if let Some((i, customer)) = self.customer(k) {
            let has_record = self.row_of.get(i).is_some_and(|&r| r != NONE);
            self.sink.evaluated(self.month, i, customer, aum, has_record, state);
        }
    }

    fn error(&mut self, k: u32, error: TieringError) {
        let Some(&i) = self.active.get(k as usize) else { return };
        let i = i as usize;
        let record = match self.row_of.get(i) {
            Some(&row) if row != NONE => {
                self.extract.records.get(row as usize).map(|r| self.extract.record(r.table, r.row))
            }
            _ => None,
        };
        let error = RecordError::at(error, record);
        if let Some(held) = self.held_from.get_mut(i) {
            *held = Some(self.month);
        }
        if let Some(reported) = self.reported.get_mut(i) {
            *reported = true;
        }
        self.sink.held(self.month, Some(i), &error);
    }
}

/// How the rule sets in force in a month sum the extract's component codes in integer fen:
/// the [`FenSlot`] of each code under each rule set's composition, and one table for all when
/// they agree (the usual book), so that a customer's rule set is looked up only otherwise.
struct FenSums {
    /// The table every rule set in force has, when they agree.
    uniform: Option<Vec<FenSlot>>,
    /// Each rule set's table, by index; none when no version is in force.
    by_set: Vec<Option<Vec<FenSlot>>>,
}

impl FenSums {
    fn new(book: &RuleBook, month: Month, codes: &[Arc<str>]) -> Self {
        let by_set: Vec<Option<Vec<FenSlot>>> = book
            .rule_sets()
            .iter()
            .map(|set| set.version_for(month).map(|v| codes.iter().map(|c| v.aum.fen_slot(c)).collect()))
            .collect();
        let mut tables = by_set.iter().flatten();
        let uniform = match tables.next() {
            Some(first) if tables.all(|t| t == first) => Some(first.clone()),
            _ => None,
        };
        FenSums { uniform, by_set }
    }

    /// The table of a customer's composition, as the batch selects its rule set; none when
    /// no rule set or version applies (the batch then fails the customer before its input).
    fn slots(&self, book: &RuleBook, who: &CustomerRef<'_>) -> Option<&[FenSlot]> {
        if let Some(t) = &self.uniform {
            return Some(t);
        }
        let set = book.select(who.legal_entity, who.kind).ok()?;
        self.by_set.get(set.index())?.as_deref()
    }
}

impl RecordRef {
    /// A record reference.
    pub fn new(table: impl Into<String>, row: u64) -> Self {
        RecordRef { table: table.into(), row }
    }
}
