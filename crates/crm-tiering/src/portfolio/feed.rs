//! What the batch is fed in a portfolio month: each customer's input made from the extract
//! (component sums in integer fen by the rule set in force), and the batch over the month's
//! active customers when they are not the whole portfolio, or run on several threads.

use std::borrow::Cow;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::states::Identities;
use crate::aum::{AumInput, FenSlot};
use crate::engine::{BatchOutcome, CustomerRef, Engine, MonthInput};
use crate::error::TieringError;
use crate::month::Month;
use crate::rules::{CustomerKind, RuleBook};
use crate::state::CustomerState;

/// A customer index without an identity: never met, as every index of a portfolio has one.
pub(super) const NO_CUSTOMER: CustomerRef<'static> =
    CustomerRef { id: "", legal_entity: None, kind: CustomerKind::Personal };

/// The input of a customer with a designation but no AUM record, or of an absent one under
/// `Absent::Zero`: nothing held.
pub(super) static NOTHING_HELD: MonthInput =
    MonthInput { aum: AumInput::Total(Decimal::ZERO), special: None, measures: crate::engine::Measures::EMPTY };

/// Runs the batch over the active customers (indices into the states) on `threads` threads,
/// or over a part of the portfolio, and collects the results; the states are updated in place.
pub(super) fn evaluate_active<'e>(
    engine: &Engine,
    (states, history): (&mut [CustomerState], &mut [i64]),
    identities: &Identities,
    month: Month,
    active: &[u32],
    input: impl Fn(usize, &CustomerRef<'_>) -> Cow<'e, MonthInput> + Sync,
    threads: usize,
) -> BatchOutcome {
    let customers: Vec<CustomerRef<'_>> =
        active.iter().map(|&i| identities.get(i as usize).unwrap_or(NO_CUSTOMER)).collect();
    #[expect(clippy::indexing_slicing, reason = "active holds indices of states (Run::select's, from 0..states.len())")]
    let mut subset: Vec<CustomerState> = active.iter().map(|&i| states[i as usize]).collect();
    // The batch asks for k < subset.len() = active.len() = customers.len().
    #[expect(clippy::indexing_slicing, reason = "k < subset.len(), which is active.len() and customers.len()")]
    let made = |k: usize| Ok::<_, TieringError>(input(active[k] as usize, &customers[k]));
    let stride = engine.rule_book().history_layout().stride();
    if stride > 0 {
        // A book with windows (SPEC §19.5): the active customers' histories go with their
        // states, on one thread.
        let mut past: Vec<i64> = Vec::with_capacity(active.len() * stride);
        for &i in active {
            past.extend_from_slice(history.get(i as usize * stride..(i as usize + 1) * stride).unwrap_or(&[]));
        }
        let mut out = BatchOutcome::with_capacity(active.len());
        #[expect(clippy::indexing_slicing, reason = "the batch asks for k < subset.len() = customers.len()")]
        let customer = |k: usize| customers[k];
        let result = engine.evaluate_batch_by(month, customer, (&mut subset, &mut past), made, &mut out);
        if let Err(error) = result {
            return all_held(active, &error);
        }
        for ((&i, state), p) in active.iter().zip(subset).zip(past.chunks_exact(stride)) {
            if let Some(stored) = states.get_mut(i as usize) {
                *stored = state;
            }
            if let Some(h) = history.get_mut(i as usize * stride..(i as usize + 1) * stride) {
                h.copy_from_slice(p);
            }
        }
        return out;
    }
    let parts =
        engine.evaluate_batch_parallel_with(month, &customers, &mut subset, made, threads, BatchOutcome::default);
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
        // Only a failed worker thread gets here: every customer is held back.
        Err(error) => return all_held(active, &error),
    }
    for (&i, state) in active.iter().zip(subset) {
        if let Some(stored) = states.get_mut(i as usize) {
            *stored = state;
        }
    }
    out
}

/// Every active customer held back with `error`.
fn all_held(active: &[u32], error: &TieringError) -> BatchOutcome {
    let mut out = BatchOutcome::with_capacity(active.len());
    out.aums = vec![Decimal::ZERO; active.len()];
    // The batch's indices are u32 (it refuses more customers).
    out.errors = (0..=u32::MAX)
        .zip(active)
        .map(|(index, _)| crate::engine::BatchError { index, error: error.clone() })
        .collect();
    out
}

/// How the rule sets in force in a month sum the extract's component codes in integer fen:
/// the [`FenSlot`] of each code under each rule set's composition, and one table for all when
/// they agree (the usual book), so that a customer's rule set is looked up only otherwise.
pub(super) struct FenSums {
    /// The table every rule set in force has, when they agree.
    uniform: Option<Vec<FenSlot>>,
    /// Each rule set's table, by index; none when no version is in force.
    by_set: Vec<Option<Vec<FenSlot>>>,
}

impl FenSums {
    pub(super) fn new(book: &RuleBook, month: Month, codes: &[Arc<str>]) -> Self {
        // A version with a measure composed from the AUM components (SPEC §19.1) needs the
        // components themselves, not the AUM's total: its customers get no table.
        let composes = |v: &crate::RuleVersion| v.measures.iter().any(|m| m.composition.is_some());
        let by_set: Vec<Option<Vec<FenSlot>>> = book
            .rule_sets()
            .iter()
            .map(|set| {
                set.version_for(month)
                    .filter(|v| !composes(v))
                    .map(|v| codes.iter().map(|c| v.aum.fen_slot(c)).collect())
            })
            .collect();
        let any_composes = book.rule_sets().iter().filter_map(|set| set.version_for(month)).any(composes);
        let mut tables = by_set.iter().flatten();
        let uniform = match tables.next() {
            Some(first) if !any_composes && tables.all(|t| t == first) => Some(first.clone()),
            _ => None,
        };
        FenSums { uniform, by_set }
    }

    /// The table of a customer's composition, as the batch selects its rule set; none when
    /// no rule set or version applies (the batch then fails the customer before its input).
    pub(super) fn slots(&self, book: &RuleBook, who: &CustomerRef<'_>) -> Option<&[FenSlot]> {
        if let Some(t) = &self.uniform {
            return Some(t);
        }
        let set = book.select(who.legal_entity, who.kind).ok()?;
        self.by_set.get(set.index())?.as_deref()
    }
}
