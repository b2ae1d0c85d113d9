//! The evaluation's side of a run: the sink that collects each evaluated month (its results,
//! the summary's tallies, the held customers) and sends it to the writing thread, and the sink
//! of the dry pass over a range, which keeps only the held customers.

use std::sync::mpsc::SyncSender;

use crm_tiering::portfolio::{PortfolioSink, PortfolioStates, RecordError};
use crm_tiering::{Alert, Customer, CustomerRef, CustomerState, Decimal, Event, History, Month, TierCode};
use crm_tiering_store::{EvaluatedAum, MonthResults};

use crate::progress::Progress;
use crate::summary::{Entities, MonthSummary, MonthTally};

/// One evaluated month, sent from the evaluation thread to the writing thread.
pub(super) struct MonthOut {
    pub(super) month: Month,
    pub(super) results: MonthResults,
    /// Every customer's identity and state after the month, by index; none for the range's
    /// last month, whose states are the evaluation's final states.
    pub(super) snapshot: Option<Vec<Option<(Customer, CustomerState)>>>,
    /// The histories after the month (SPEC §19.5) of the snapshot's customers that keep one,
    /// by index (a book with windows; none for the range's last month, as the snapshot).
    pub(super) histories: Vec<(usize, History)>,
}

/// Collects each month for the writer, and the summary.
pub(super) struct StreamSink {
    pub(super) tx: Option<SyncSender<MonthOut>>,
    pub(super) last: Month,
    pub(super) current: Option<MonthOut>,
    /// Each customer's identity and latest state, by index (ranges of several months only).
    pub(super) shadow: Option<Vec<Option<(Customer, CustomerState)>>>,
    pub(super) entities: Entities,
    pub(super) tally: Option<MonthTally>,
    pub(super) months: Vec<MonthSummary>,
    /// Each customer's effective tier before the month being evaluated, by index.
    pub(super) before: Vec<Option<TierCode>>,
    /// Every held customer or refused record: (month, error).
    pub(super) held: Vec<(Month, RecordError)>,
    pub(super) progress: Progress,
    pub(super) done: usize,
}

impl PortfolioSink for StreamSink {
    fn begin_month(&mut self, month: Month) {
        self.progress.set(self.done, &month.to_string());
        self.tally = Some(MonthTally::new(month));
        let mut results = MonthResults::new(month);
        results.evaluated.reserve(self.before.len());
        self.current = Some(MonthOut { month, results, snapshot: None, histories: Vec::new() });
    }

    fn event(&mut self, _month: Month, index: usize, _c: CustomerRef<'_>, ev: &Event) {
        if let Some(t) = &mut self.tally {
            t.event(ev.kind);
        }
        if let Some(m) = &mut self.current {
            m.results.events.push((index, *ev));
        }
    }

    fn alert(&mut self, _month: Month, index: usize, _c: CustomerRef<'_>, al: &Alert) {
        if let Some(t) = &mut self.tally {
            t.alert(al.kind);
        }
        if let Some(m) = &mut self.current {
            m.results.alerts.push((index, *al));
        }
    }

    fn evaluated(
        &mut self,
        _month: Month,
        index: usize,
        c: CustomerRef<'_>,
        aum: Decimal,
        has_record: bool,
        s: &CustomerState,
    ) {
        if index >= self.before.len() {
            self.before.resize(index + 1, None);
        }
        let before = std::mem::replace(&mut self.before[index], s.effective_tier);
        if let Some(t) = &mut self.tally {
            t.evaluated(&mut self.entities, c, before, s, has_record);
        }
        if let Some(m) = &mut self.current {
            m.results.evaluated.push(EvaluatedAum { index: index as u32, aum, has_record });
        }
        if let Some(shadow) = &mut self.shadow {
            if index >= shadow.len() {
                shadow.resize(index + 1, None);
            }
            shadow[index] = Some((Customer::from(c), *s));
        }
    }

    fn held(&mut self, month: Month, _index: Option<usize>, error: &RecordError) {
        if let Some(t) = &mut self.tally {
            t.held();
        }
        if let Some(m) = &mut self.current {
            m.results.held.push(error.clone());
        }
        self.held.push((month, error.clone()));
    }

    fn after_month(&mut self, month: Month, states: &PortfolioStates) {
        let (Some(shadow), Some(current)) = (&self.shadow, &mut self.current) else { return };
        if month == self.last {
            return;
        }
        current.histories = shadow
            .iter()
            .enumerate()
            .filter(|(_, entry)| entry.is_some())
            .map(|(i, _)| (i, states.history(i)))
            .filter(|(_, h)| !h.is_empty())
            .collect();
    }

    fn end_month(&mut self, month: Month) {
        if let Some(t) = self.tally.take() {
            self.months.push(t.finish(&self.entities));
        }
        self.done += 1;
        if let Some(mut results) = self.current.take() {
            if month != self.last {
                results.snapshot = self.shadow.clone();
            }
            // The writer gone (it failed): the evaluation finishes without sending.
            if let Some(tx) = &self.tx
                && tx.send(results).is_err()
            {
                self.tx = None;
            }
        }
    }
}

/// Only the held customers (the dry pass over a range).
#[derive(Default)]
pub(super) struct HeldOnly(pub(super) Vec<RecordError>);

impl PortfolioSink for HeldOnly {
    fn event(&mut self, _: Month, _: usize, _: CustomerRef<'_>, _: &Event) {}
    fn alert(&mut self, _: Month, _: usize, _: CustomerRef<'_>, _: &Alert) {}
    fn evaluated(&mut self, _: Month, _: usize, _: CustomerRef<'_>, _: Decimal, _: bool, _: &CustomerState) {}
    fn held(&mut self, _: Month, _: Option<usize>, error: &RecordError) {
        self.0.push(error.clone());
    }
}
