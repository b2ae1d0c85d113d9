//! The months of a portfolio evaluation (SPEC §15.3 to §15.7): each month's records meet the
//! customers, who are evaluated, held back (with a `held_back` alert every month they are
//! not evaluated) or, in a catch-up run, left alone.

use std::borrow::Cow;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use super::extract::Extract;
use super::feed::{FenSums, NO_CUSTOMER, NOTHING_HELD, evaluate_active};
use super::options::{Absent, MonthRange, PortfolioOptions};
use super::placement::{NONE, Placement};
use super::record::{PortfolioFailure, RecordError};
use super::sink::PortfolioSink;
use super::states::{Identities, PortfolioStates};
use crate::aum::AumInput;
use crate::engine::{BatchOutcome, BatchSink, CustomerRef, Engine, MissingMonths, MonthInput};
use crate::error::{InputError, SequenceError, TieringError};
use crate::event::{Alert, Event};
use crate::month::Month;
use crate::rules::CustomerKind;
use crate::state::CustomerState;

/// Where a stored customer stands in a month of a catch-up run (SPEC §15.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CatchUp {
    /// Its next month is this one: it is evaluated.
    Due,
    /// It misses an earlier month too: still held back.
    Behind,
    /// It was evaluated for this month already, or never evaluated: left alone.
    NotDue,
}

fn catch_up_standing(state: &CustomerState, m: Month) -> CatchUp {
    match state.last_month {
        Some(l) if l.next() == m => CatchUp::Due,
        Some(l) if l.next() < m => CatchUp::Behind,
        _ => CatchUp::NotDue,
    }
}

/// A portfolio evaluation under way: the records' placement, and who is held back from when.
pub(super) struct Run<'r> {
    engine: &'r Engine,
    states: &'r mut PortfolioStates,
    months: MonthRange,
    extract: &'r Extract,
    options: &'r PortfolioOptions,
    month_rows: Vec<Vec<u32>>,
    month_designations: Vec<Vec<u32>>,
    row_customer: Vec<u32>,
    designation_customer: Vec<u32>,
    /// Held customers that never join the portfolio: (from, why).
    unjoined: Vec<(Month, RecordError)>,
    /// Customer state: the month each joins, holds, this month's records.
    who: Who,
}

/// What the run knows of each customer, by index.
struct Who {
    /// The month each customer joins (the first declared month for stored customers).
    joins: Vec<Month>,
    /// The month from which each customer is held back in this run.
    held_from: Vec<Option<Month>>,
    /// Why, until it is reported.
    hold_error: FxHashMap<usize, RecordError>,
    /// Whether the hold was reported.
    reported: Vec<bool>,
    /// This month's AUM record and designation of each customer (`NONE`: none).
    row_of: Vec<u32>,
    designation_of: Vec<u32>,
}

impl<'r> Run<'r> {
    /// Adds the joining customers to the states and sets the placement's holds.
    pub(super) fn start(
        engine: &'r Engine,
        states: &'r mut PortfolioStates,
        months: MonthRange,
        extract: &'r Extract,
        options: &'r PortfolioOptions,
        placement: Placement<'_>,
    ) -> Result<Self, PortfolioFailure> {
        let Placement {
            month_rows,
            month_designations,
            row_customer,
            designation_customer,
            joining,
            joining_index,
            holds,
        } = placement;
        let known = states.len();
        states.reserve(joining.len());
        match joining_index {
            // A first month: the placement's table of the new ids is the states' index.
            Some(index) if known == 0 => states.push_indexed(joining.iter().map(|(id, _)| *id), index),
            _ => {
                for (id, _) in &joining {
                    // Beyond 4 billion customers only, which the placement's `u32` indices exclude.
                    states
                        .push_new(id, CustomerKind::default(), CustomerState::default())
                        .map_err(|e| RecordError::at(e, None))?;
                }
            }
        }
        let n = states.len();
        let mut who = Who {
            joins: vec![months.first(); n],
            held_from: vec![None; n],
            hold_error: FxHashMap::default(),
            reported: vec![false; n],
            row_of: vec![NONE; n],
            designation_of: vec![NONE; n],
        };
        for (joins, (_, m)) in who.joins.iter_mut().skip(known).zip(&joining) {
            *joins = *m;
        }
        let mut unjoined = Vec::new();
        for (c, from, error) in holds {
            match c {
                // A final index, below `n`.
                Some(i) => {
                    if let Some(held_from) = who.held_from.get_mut(i) {
                        *held_from = Some(from);
                    }
                    who.hold_error.insert(i, error);
                }
                None => unjoined.push((from, error)),
            }
        }
        Ok(Run {
            engine,
            states,
            months,
            extract,
            options,
            month_rows,
            month_designations,
            row_customer,
            designation_customer,
            unjoined,
            who,
        })
    }

    /// Evaluates one month of the run, streaming its results to `sink`.
    ///
    /// # Errors
    /// Beyond 4 billion distinct legal entities only.
    pub(super) fn month(&mut self, m: Month, sink: &mut dyn PortfolioSink) -> Result<(), PortfolioFailure> {
        sink.begin_month(m);
        if !self.options.catch_up {
            for (_, error) in self.unjoined.iter().filter(|(from, _)| *from == m) {
                sink.held(m, None, error);
            }
        }
        self.begin_records(m)?;
        let active = self.select(m, sink);
        self.evaluate(m, &active, sink);
        self.end_records(m);
        sink.after_month(m, self.states);
        sink.end_month(m);
        Ok(())
    }

    /// Notes this month's records by customer; identity cells given replace the stored ones,
    /// missing ones keep them (SPEC §15.5). A catch-up run keeps the stored identities: its
    /// records are older than them.
    fn begin_records(&mut self, m: Month) -> Result<(), PortfolioFailure> {
        // The placement's lists: records of the extract, each of a customer of the states.
        let offset = self.months.offset(m);
        for &k in offset.and_then(|o| self.month_rows.get(o)).into_iter().flatten() {
            let (Some(&i), Some(r)) = (self.row_customer.get(k as usize), self.extract.records.get(k as usize)) else {
                continue;
            };
            let i = i as usize;
            if let Some(row) = self.who.row_of.get_mut(i) {
                *row = k;
            }
            if self.options.catch_up {
                continue;
            }
            let ids = &mut self.states.identities;
            // Usually the same entity as stored: nothing to change then.
            if let Some(e) = self.extract.entity_of(r)
                && ids.get(i).is_some_and(|c| c.legal_entity != Some(e))
            {
                // Beyond 4 billion distinct legal entities only.
                ids.set_legal_entity(i, e).map_err(|e| RecordError::at(e, None))?;
            }
            if let Some(kind) = r.kind {
                ids.set_kind(i, kind);
            }
        }
        note(
            &mut self.who.designation_of,
            offset.and_then(|o| self.month_designations.get(o)),
            &self.designation_customer,
            |k| k,
        );
        Ok(())
    }

    fn end_records(&mut self, m: Month) {
        let offset = self.months.offset(m);
        note(&mut self.who.row_of, offset.and_then(|o| self.month_rows.get(o)), &self.row_customer, |_| NONE);
        note(
            &mut self.who.designation_of,
            offset.and_then(|o| self.month_designations.get(o)),
            &self.designation_customer,
            |_| NONE,
        );
    }

    /// The customers evaluated this month, in order; every other customer of the month is
    /// reported held back (once) and gets its `held_back` alert, or is left alone (a catch-up
    /// run's customers that are not due).
    #[expect(
        clippy::indexing_slicing,
        reason = "i < n = states.len(), and who's vectors have one entry per customer of the states (Run::new)"
    )]
    fn select(&mut self, m: Month, sink: &mut dyn PortfolioSink) -> Vec<u32> {
        let uncovered = self.uncovered_entities(m);
        let gaps_filled = self.engine.options().missing_months == MissingMonths::TreatAsZero;
        let n = self.states.len();
        let mut active = Vec::with_capacity(n);
        for i in 0..n {
            if self.who.joins[i] > m {
                continue;
            }
            let state = self.states.states[i];
            if self.options.catch_up && catch_up_standing(&state, m) == CatchUp::NotDue {
                continue;
            }
            // Not held yet (or only from a later month of the range): held from now on?
            if self.who.held_from[i].is_none_or(|from| from > m)
                && let Some(error) = self.hold_reason(i, &state, m, gaps_filled, &uncovered)
            {
                self.who.held_from[i] = Some(m);
                match error {
                    Some(error) => {
                        self.who.hold_error.insert(i, error);
                    }
                    // Held by the absent policy `hold`: not an error.
                    None => self.who.reported[i] = true,
                }
            }
            if self.who.held_from[i].is_some_and(|from| from <= m) {
                self.report_held(m, i, &state, sink);
                continue;
            }
            // Customer indices are below u32::MAX (the placement's, checked by Placement::new).
            active.push(u32::try_from(i).unwrap_or(NONE));
        }
        active
    }

    /// Why customer `i`, not held yet, is held back this month: `Some(Some(error))` for an
    /// error, `Some(None)` for the absent policy `hold`, none when it is evaluated.
    fn hold_reason(
        &self,
        i: usize,
        state: &CustomerState,
        m: Month,
        gaps_filled: bool,
        uncovered: &Uncovered,
    ) -> Option<Option<RecordError>> {
        let id = self.states.identities.id(i);
        let record = match self.who.row_of.get(i) {
            Some(&k) if k != NONE => self.extract.records.get(k as usize).map(|r| self.extract.record(r.table, r.row)),
            _ => None,
        };
        if !gaps_filled
            && let Some(last) = state.last_month
            && last.next() < m
        {
            let error = SequenceError::Behind { customer: id.to_string(), last, missing: last.next(), got: m };
            return Some(Some(RecordError::at(error, record)));
        }
        if self.who.row_of.get(i).is_some_and(|&k| k != NONE) {
            return None;
        }
        let absent = |message: String| Some(Some(RecordError::at(InputError::new(id, Some(m), "aum", message), None)));
        match self.options.absent {
            Absent::Hold => Some(None),
            Absent::Error => {
                absent("the customer has no AUM record in the month's extract (absent customers are errors)".into())
            }
            Absent::Zero => {
                let slot = self.states.identities.entity_slot_at(i);
                uncovered.count(slot)?;
                let entity = self.states.identities.entity_name(slot).unwrap_or_default();
                // No count of the held customers in the text: a partitioned run (Spark) sees its
                // own share of them, and must give every customer the same error.
                let message = format!(
                    "the month's extract has no AUM record of legal entity `{entity}`: its customers without a record are held back rather than evaluated at zero (is its file missing? if none of them held anything, declare the entity in empty_entities)"
                );
                Some(Some(RecordError::at(InputError::new(id, Some(m), "legal_entity", message), None)))
            }
        }
    }

    /// Under the absent policy `zero` in a regular run: the legal entities none of whose
    /// customers has an AUM record this month (nor a bad record held from it), and that were
    /// not declared empty, with the number of their customers without a record (SPEC §15.6).
    fn uncovered_entities(&self, m: Month) -> Uncovered {
        let ids = &self.states.identities;
        if self.options.absent != Absent::Zero || self.options.catch_up || ids.entity_slots() <= 1 {
            return Uncovered(Vec::new());
        }
        let mut covered = vec![false; ids.entity_slots()];
        let mut counts = vec![0u32; ids.entity_slots()];
        let who = &self.who;
        // One entry per customer in each (Run::new).
        let customers = who.row_of.iter().zip(&who.held_from).zip(&who.joins).take(self.states.len());
        for (i, ((&row, &held_from), &joins)) in customers.enumerate() {
            // Slots of entities of the identities, below entity_slots().
            let slot = ids.entity_slot_at(i) as usize;
            if row != NONE || held_from == Some(m) {
                if let Some(c) = covered.get_mut(slot) {
                    *c = true;
                }
            } else if joins <= m
                && held_from.is_none()
                && let Some(n) = counts.get_mut(slot)
            {
                *n += 1;
            }
        }
        if counts.iter().zip(&covered).any(|(&n, &c)| n > 0 && !c) {
            self.covered_by_other_records(m, &mut covered);
        }
        for ((slot, count), &covered) in (0..=u32::MAX).zip(counts.iter_mut()).zip(&covered) {
            let declared = ids
                .entity_name(slot)
                .is_none_or(|e| self.options.declared_empty(e) || self.options.covered_elsewhere(m, e));
            if covered || declared {
                *count = 0;
            }
        }
        Uncovered(counts)
    }

    /// Marks the legal entities of this month's other AUM records: those of customers that do
    /// not join (held in their first month) and the bad records of stored customers. Only read
    /// when the evaluated customers' records leave an entity uncovered.
    fn covered_by_other_records(&self, m: Month, covered: &mut [bool]) {
        let (ids, extract) = (&self.states.identities, self.extract);
        let single = (self.months.first() == self.months.last()).then_some(m);
        let mut mark = |entity: Option<&str>, id: &str| {
            let slot = match entity {
                Some(e) => ids.slot_of(e),
                None => self.states.index_of(id).map(|i| ids.entity_slot_at(i)),
            };
            if let Some(c) = slot.and_then(|s| covered.get_mut(s as usize)) {
                *c = true;
            }
        };
        for r in extract.records.iter().filter(|r| r.month.or(single) == Some(m)) {
            mark(extract.entity_of(r), extract.id_of(r));
        }
        for r in extract.rejects.iter().filter(|r| r.aum && r.month.or(single).is_none_or(|x| x == m)) {
            mark(None, &r.customer_id);
        }
    }

    /// Reports a held customer: its hold, the first time, then this month's `held_back` alert.
    fn report_held(&mut self, m: Month, i: usize, state: &CustomerState, sink: &mut dyn PortfolioSink) {
        let customer = self.states.identities.get(i).unwrap_or(NO_CUSTOMER);
        if let Some(reported) = self.who.reported.get_mut(i)
            && !*reported
        {
            *reported = true;
            if let Some(e) = self.who.hold_error.get(&i) {
                sink.held(m, Some(i), e);
            }
        }
        sink.alert(m, i, customer, &Alert::held_back(m, state.effective_tier, state.last_month));
    }

    /// Runs the batch over the month's active customers, streaming results to `sink`.
    fn evaluate(&mut self, m: Month, active: &[u32], sink: &mut dyn PortfolioSink) {
        let (engine, extract, book) = (self.engine, self.extract, self.engine.rule_book());
        let states = &mut *self.states;
        let who = &mut self.who;
        let sums = FenSums::new(book, m, extract.fen_codes());
        let (row_of, designation_of) = (&who.row_of, &who.designation_of);
        let input = |i: usize, c: &CustomerRef<'_>| {
            // `i` is a customer of the states, with its entry in both (Run::new).
            let special = match designation_of.get(i).copied().unwrap_or(NONE) {
                NONE => None,
                d => extract.designations.get(d as usize).map(|d| d.change),
            };
            match (row_of.get(i).copied().unwrap_or(NONE), special) {
                (NONE, None) => Cow::Borrowed(&NOTHING_HELD),
                (NONE, Some(_)) => Cow::Owned(MonthInput {
                    aum: AumInput::Total(Decimal::ZERO),
                    special,
                    measures: Default::default(),
                }),
                (k, special) => extract.input_of(k as usize, sums.slots(book, c), special),
            }
        };
        let mut forward = Forward {
            month: m,
            active,
            identities: &states.identities,
            extract,
            row_of,
            held_from: &mut who.held_from,
            reported: &mut who.reported,
            sink,
        };
        let customers = states.states.len();
        let history = states.history.conformed(book, customers);
        if self.options.threads <= 1 && active.len() == customers {
            // The whole portfolio on one thread (the usual month): in place, each result
            // streamed to the sink as it is made, no vector of customers or results.
            let identities = &states.identities;
            let customer = |k: usize| identities.get(k).unwrap_or(NO_CUSTOMER);
            let made = |k: usize| Ok::<_, TieringError>(input(k, &customer(k)));
            if let Err(error) =
                engine.evaluate_batch_by(m, customer, (&mut states.states, &mut *history), made, &mut forward)
            {
                // Beyond 4 billion customers only: every customer is held back.
                for (k, _) in (0..=u32::MAX).zip(active) {
                    forward.error(k, error.clone());
                }
            }
        } else {
            let threads = self.options.threads;
            let outcome =
                evaluate_active(engine, (&mut states.states, history), forward.identities, m, active, input, threads);
            forward.replay(&outcome, &states.states);
        }
    }
}

/// The legal entity slots whose customers without a record are held back, with their counts
/// (zero: not held).
struct Uncovered(Vec<u32>);

impl Uncovered {
    fn count(&self, slot: u32) -> Option<u32> {
        self.0.get(slot as usize).copied().filter(|&c| c > 0)
    }
}

/// Passes a month's batch results to the portfolio's sink as they come, by customer (the
/// batch's indices are indices into `active`): events, alerts, then the evaluated customer; a
/// customer the engine rejects is held back with its record named, and its `held_back` alert.
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
        // The batch's indices are u32 (it refuses more customers).
        for (k32, (k, &i)) in (0..=u32::MAX).zip(self.active.iter().enumerate()) {
            while let Some(event) = out.events.get(e)
                && event.index == k32
            {
                self.event(k32, &event.event);
                e += 1;
            }
            while let Some(alert) = out.alerts.get(a)
                && alert.index == k32
            {
                self.alert(k32, &alert.alert);
                a += 1;
            }
            if let Some(failed) = out.errors.get(x)
                && failed.index == k32
            {
                let error = failed.error.clone();
                match states.get(i as usize) {
                    Some(state) => self.error_with_state(k32, error, state),
                    None => self.error(k32, error),
                }
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

    fn error_with_state(&mut self, k: u32, error: TieringError, state: &CustomerState) {
        self.error(k, error);
        if let Some((i, customer)) = self.customer(k) {
            let alert = Alert::held_back(self.month, state.effective_tier, state.last_month);
            self.sink.alert(self.month, i, customer, &alert);
        }
    }
}

/// Notes `value(k)` for the customer of each record `k` of a month's list in `of` (records and
/// customers are the placement's, all in range).
fn note(of: &mut [u32], list: Option<&Vec<u32>>, owner: &[u32], value: impl Fn(u32) -> u32) {
    for &k in list.into_iter().flatten() {
        if let Some(slot) = owner.get(k as usize).and_then(|&i| of.get_mut(i as usize)) {
            *slot = value(k);
        }
    }
}
