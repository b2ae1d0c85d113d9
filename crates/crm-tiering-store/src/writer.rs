//! The writers that hold a store's lock: [`MonthWriter`] writes a month (or a range, month
//! by month) and commits it whole; [`AmendmentWriter`] writes a catch-up and amends the latest
//! committed month with it.

use std::fmt;

use crm_tiering::portfolio::{PortfolioStates, RecordError};
use crm_tiering::{Alert, CustomerIdentity, CustomerState, Decimal, Event, History, Month};

#[cfg(doc)]
use crate::StoreErrorKind;
use crate::codec::{self, STATE_BYTES};
use crate::data::MonthData;
use crate::protocol::{self, Db, Head};
use crate::{ChainHead, LatestStates, MonthResults, RejectRow, RunMeta, RunRecord, Store, StoreError};

/// A month being written, holding the store's lock. See [`Store::begin_month`].
pub struct MonthWriter<'a> {
    pub(crate) store: Option<&'a mut Store>,
    pub(crate) month: Month,
    pub(crate) run_id: i64,
    pub(crate) meta: RunMeta,
    pub(crate) head: Head,
    pub(crate) data: MonthData,
}

impl fmt::Debug for MonthWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MonthWriter(run {}, month {})", self.run_id, self.month)
    }
}

/// The encoded rows of a portfolio's customers after a month: each with the month's AUM when
/// it was evaluated, and its history (SPEC §19.5) when it has one.
fn push_states(
    data: &mut MonthData,
    states: &PortfolioStates,
    results: &MonthResults,
    mut keep: impl FnMut(&str, &mut [u8; STATE_BYTES]),
) -> Result<(), StoreError> {
    let mut aum: Vec<Option<(Decimal, bool)>> = vec![None; states.len()];
    for e in &results.evaluated {
        if let Some(slot) = aum.get_mut(e.index as usize) {
            *slot = Some((e.aum, e.has_record));
        }
    }
    data.states.reserve(states.len());
    for (i, ((c, s), a)) in states.iter().zip(aum).enumerate() {
        let history = states.history(i);
        let history = (!history.is_empty()).then(|| history.to_json());
        let mut row = data.dicts.encode(c, s, a, history.is_some())?;
        if a.is_none() {
            keep(c.id, &mut row);
        }
        data.states.push(c.id, row, history)?;
    }
    Ok(())
}

/// The events, alerts and held records of `results`, by the ids of `states`.
fn push_rows(data: &mut MonthData, run_id: i64, states: &PortfolioStates, results: &MonthResults, month: Month) {
    let id = |i: usize| states.customer(i).map_or("", |c| c.id);
    for (i, e) in &results.events {
        data.push_event(id(*i), e);
    }
    for (i, a) in &results.alerts {
        data.push_alert(id(*i), a);
    }
    for e in &results.held {
        let seq = data.rejects.len() as i64;
        data.rejects.push(RejectRow::from_error(month, run_id, seq, e));
    }
}

impl<'a> MonthWriter<'a> {
    /// The run's id in the audit.
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// The month being written.
    pub fn month(&self) -> Month {
        self.month
    }

    fn db(&mut self) -> Result<&mut Db, StoreError> {
        match self.store.as_mut() {
            Some(s) => Ok(&mut s.db),
            None => Err(StoreError::Input("the month was committed already".into())),
        }
    }

    /// The states to evaluate this month from: those of the latest committed month before it
    /// (for a rerun, the month before the replaced one), read under the lock.
    ///
    /// # Errors
    /// As [`Store::latest_states`].
    pub fn previous_states(&mut self) -> Result<Option<LatestStates>, StoreError> {
        let month = self.month;
        self.db()?.states_before(Some(month))
    }

    /// [`MonthWriter::previous_states`], given what another connection read before the lock
    /// was taken (by [`Store::states_before`] this writer's month, for example while the month's
    /// input was being read): it is returned when the latest committed month before this one
    /// is still the one it was read from (the same month with the same digest), and read
    /// again otherwise. A run overlaps reading the stored states with reading its input this
    /// way, and still evaluates from what the store holds under its lock.
    ///
    /// # Errors
    /// As [`Store::latest_states`].
    pub fn previous_states_read_before(
        &mut self,
        read_before: Option<LatestStates>,
    ) -> Result<Option<LatestStates>, StoreError> {
        let month = self.month;
        let now = self.db()?.snapshot(Db::chain)?.before(month).map(|r| (r.month, r.digest.clone()));
        match read_before {
            Some(read) if now.as_ref() == Some(&(read.month, read.digest.clone())) => Ok(Some(read)),
            None if now.is_none() => Ok(None),
            _ => self.previous_states(),
        }
    }

    /// A customer's state after the month. `evaluated` is the month's AUM and whether the
    /// customer had a record, for a customer that was evaluated; none for one held back. The
    /// customer has no history: see [`MonthWriter::state_with_history`].
    ///
    /// # Errors
    /// [`StoreErrorKind::Input`] for an amount that is not whole fen (a customer given twice
    /// is refused at the commit).
    pub fn state(
        &mut self,
        customer: impl CustomerIdentity,
        state: &CustomerState,
        evaluated: Option<(Decimal, bool)>,
    ) -> Result<(), StoreError> {
        self.state_with_history(customer, state, evaluated, &History::new())
    }

    /// [`MonthWriter::state`] with the customer's history after the month (SPEC §19.5: what
    /// the windows of the book that evaluated it read next month; empty for a book without
    /// windows), stored beside the state.
    ///
    /// # Errors
    /// As [`MonthWriter::state`].
    pub fn state_with_history(
        &mut self,
        customer: impl CustomerIdentity,
        state: &CustomerState,
        evaluated: Option<(Decimal, bool)>,
        history: &History,
    ) -> Result<(), StoreError> {
        let history = (!history.is_empty()).then(|| history.to_json());
        let row = self.data.dicts.encode(&customer, state, evaluated, history.is_some())?;
        self.data.states.push(customer.id(), row, history)
    }

    fn check_month(&mut self, month: Month, what: &str) {
        if month != self.month && self.data.misplaced.is_none() {
            self.data.misplaced =
                Some(format!("an {what} of {month} was given to the run writing {}; nothing was written", self.month));
        }
    }

    /// An event of the month (an event of another month makes the commit fail).
    pub fn event(&mut self, customer_id: &str, event: &Event) {
        self.check_month(event.month, "event");
        self.data.push_event(customer_id, event);
    }

    /// An alert of the month.
    pub fn alert(&mut self, customer_id: &str, alert: &Alert) {
        self.check_month(alert.month, "alert");
        self.data.push_alert(customer_id, alert);
    }

    /// A held customer or refused record.
    pub fn reject(&mut self, error: &RecordError) {
        let seq = self.data.rejects.len() as i64;
        self.data.rejects.push(RejectRow::from_error(self.month, self.run_id, seq, error));
    }

    /// Everything of a portfolio month: every customer's state from `states` (after the
    /// evaluation), with the AUM of those evaluated, and the month's events, alerts and held
    /// records from `results`.
    ///
    /// # Errors
    /// As [`MonthWriter::state`]; [`StoreErrorKind::Input`] when `results` are of another
    /// month.
    pub fn write_results(&mut self, states: &PortfolioStates, results: &MonthResults) -> Result<(), StoreError> {
        if let Some(m) = results.month
            && m != self.month
        {
            return Err(StoreError::Input(format!(
                "the results are of month {m} but the run writes month {}",
                self.month
            )));
        }
        push_states(&mut self.data, states, results, |_, _| {})?;
        let (run_id, month) = (self.run_id, self.month);
        push_rows(&mut self.data, run_id, states, results, month);
        Ok(())
    }

    /// Writes a portfolio month and commits it: [`MonthWriter::write_results`], then
    /// [`MonthWriter::commit`]. The single call a batch makes after evaluating a month.
    ///
    /// # Errors
    /// As [`MonthWriter::write_results`] and [`MonthWriter::commit`]; the run is then aborted.
    pub fn commit_portfolio_month(
        mut self,
        states: &PortfolioStates,
        results: &MonthResults,
    ) -> Result<RunRecord, StoreError> {
        if let Err(e) = self.write_results(states, results) {
            let _ = self.abort_in_place(&e.to_string());
            return Err(e);
        }
        self.commit()
    }

    /// Commits this month and begins the next one (a range), without letting another run in
    /// between: on PostgreSQL the lock is kept; on SQLite, whose lock is the write transaction
    /// the commit ends, the next month's begin checks under the lock that the store's head is
    /// still the month just committed, and fails otherwise.
    ///
    /// Returns the committed run and the next month's writer, or why the next month could not
    /// begin (this month is committed either way).
    ///
    /// # Errors
    /// As [`MonthWriter::commit_portfolio_month`] (nothing of this month is then written); the
    /// next month's begin fails as [`Store::begin_month_after`].
    #[allow(clippy::type_complexity)]
    pub fn commit_and_continue(
        mut self,
        states: &PortfolioStates,
        results: &MonthResults,
        next_meta: RunMeta,
    ) -> Result<(RunRecord, Result<MonthWriter<'a>, StoreError>), StoreError> {
        if let Err(e) = self.write_results(states, results) {
            let _ = self.abort_in_place(&e.to_string());
            return Err(e);
        }
        let (run, head) = self.commit_keeping_lock()?;
        let Some(store) = self.store.take() else {
            return Err(StoreError::Input("the month was committed already".into()));
        };
        let after = ChainHead { month: self.month, digest: head.digest };
        // A failed begin releases the lock itself.
        let next = store.begin_month_after(self.month.next(), next_meta, &after);
        Ok((run, next))
    }

    fn commit_keeping_lock(&mut self) -> Result<(RunRecord, Head), StoreError> {
        let data = std::mem::take(&mut self.data);
        let (run_id, month, head) = (self.run_id, self.month, self.head.clone());
        let meta = self.meta.clone();
        let db = self.db()?;
        match db.commit_month(run_id, month, &meta, data, &head) {
            Ok(x) => Ok(x),
            Err(e) => {
                let _ = db.abort(run_id, &e.to_string());
                self.store = None;
                Err(e)
            }
        }
    }

    /// Makes the whole month visible in one transaction (replacing the committed month for a
    /// rerun, whose runs stay in the audit as `replaced`), records it in the chain, records the
    /// run as `committed` with its counts, and releases the lock.
    ///
    /// # Errors
    /// [`StoreErrorKind::Input`] for a customer given twice or an event of another month;
    /// [`StoreErrorKind::Sequence`] when the store changed under the run;
    /// [`StoreErrorKind::Database`] (disk full, ...): the store then holds what it held before
    /// and the run is recorded as `aborted`.
    pub fn commit(mut self) -> Result<RunRecord, StoreError> {
        let (run, _) = self.commit_keeping_lock()?;
        if let Some(store) = self.store.take() {
            store.db.d.unlock();
        }
        Ok(run)
    }

    fn abort_in_place(&mut self, why: &str) -> Result<(), StoreError> {
        let run_id = self.run_id;
        match self.store.take() {
            Some(s) => s.db.abort(run_id, why),
            None => Ok(()),
        }
    }

    /// Gives the month up: nothing of it is written, the run is recorded as `aborted`.
    ///
    /// # Errors
    /// [`StoreErrorKind::Database`] when the audit cannot be updated (the month is still not
    /// written).
    pub fn abort(mut self, why: &str) -> Result<(), StoreError> {
        self.abort_in_place(why)
    }
}

impl Drop for MonthWriter<'_> {
    fn drop(&mut self) {
        let _ = self.abort_in_place("the run ended without committing");
    }
}

/// A catch-up amending the latest committed month, holding the store's lock. See
/// [`Store::begin_amendment`].
pub struct AmendmentWriter<'a> {
    pub(crate) store: Option<&'a mut Store>,
    pub(crate) run_id: i64,
    pub(crate) latest: Month,
    pub(crate) first: Month,
    pub(crate) last: Month,
    pub(crate) head: Head,
    pub(crate) data: MonthData,
}

impl fmt::Debug for AmendmentWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AmendmentWriter(run {}, {}..{} amending {})", self.run_id, self.first, self.last, self.latest)
    }
}

/// Whether two encoded states are the same but for the month's AUM.
fn same_but_aum(a: &[u8; STATE_BYTES], b: &[u8; STATE_BYTES]) -> bool {
    let aum_flags = codec::F_EVALUATED | codec::F_HAS_RECORD;
    a[..3] == b[..3] && a[3] & !aum_flags == b[3] & !aum_flags && a[4..16] == b[4..16] && a[24..] == b[24..]
}

impl AmendmentWriter<'_> {
    /// The run's id in the audit.
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// The month it amends: the latest committed month.
    pub fn amends(&self) -> Month {
        self.latest
    }

    /// The months it evaluates.
    pub fn months(&self) -> (Month, Month) {
        (self.first, self.last)
    }

    fn db(&mut self) -> Result<&mut Db, StoreError> {
        match self.store.as_mut() {
            Some(s) => Ok(&mut s.db),
            None => Err(StoreError::Input("the amendment was committed already".into())),
        }
    }

    /// The states of the amended month, read under the lock: the catch-up evaluates its held
    /// customers from these.
    ///
    /// # Errors
    /// As [`Store::latest_states`].
    pub fn latest_states(&mut self) -> Result<LatestStates, StoreError> {
        let latest = self.latest;
        self.db()?
            .states_before(Some(latest.next()))?
            .ok_or_else(|| StoreError::Sequence(format!("month {latest} is no longer committed; nothing was written")))
    }

    /// An event of one of the catch-up's months.
    pub fn event(&mut self, customer_id: &str, event: &Event) {
        self.data.push_event(customer_id, event);
    }

    /// An alert of one of the catch-up's months.
    pub fn alert(&mut self, customer_id: &str, alert: &Alert) {
        self.data.push_alert(customer_id, alert);
    }

    /// A held customer or refused record of `month`.
    pub fn reject(&mut self, month: Month, error: &RecordError) {
        let seq = self.data.rejects.len() as i64;
        self.data.rejects.push(RejectRow::from_error(month, self.run_id, seq, error));
    }

    /// The events, alerts and held records of one of the catch-up's months (`results.month`),
    /// by the customer ids of `states`.
    ///
    /// # Errors
    /// [`StoreErrorKind::Input`] for results without a month.
    pub fn write_results(&mut self, states: &PortfolioStates, results: &MonthResults) -> Result<(), StoreError> {
        let Some(month) = results.month else {
            return Err(StoreError::Input("the catch-up's results name no month".into()));
        };
        let run_id = self.run_id;
        push_rows(&mut self.data, run_id, states, results, month);
        Ok(())
    }

    /// Replaces the amended month's states by `states` (every customer of the month, after
    /// the catch-up) and commits, in one transaction: the catch-up's events, alerts and
    /// rejects (given with [`AmendmentWriter::write_results`] and the row calls), the month's
    /// record recomputed (states checksum, rows digests, digest) and the head moved to it.
    /// `latest_results` are the catch-up's results of the amended month itself, when it
    /// evaluated it: those customers' AUM is kept with their states. A customer whose state
    /// the catch-up did not change keeps its stored row; one it changed without evaluating the
    /// amended month has no AUM for it.
    ///
    /// # Errors
    /// [`StoreErrorKind::Input`] when `states` lacks a customer of the month, a customer
    /// already has events in a month the catch-up writes, or rows lie outside its months;
    /// [`StoreErrorKind::Sequence`] when the store changed under it; the run is then aborted.
    pub fn commit_portfolio_amendment(
        mut self,
        states: &PortfolioStates,
        latest_results: Option<&MonthResults>,
    ) -> Result<RunRecord, StoreError> {
        let r = self.commit_inner(states, latest_results);
        if let Err(e) = &r {
            let run_id = self.run_id;
            if let Some(s) = self.store.take() {
                let _ = s.db.abort(run_id, &e.to_string());
            }
        }
        r
    }

    fn commit_inner(
        &mut self,
        states: &PortfolioStates,
        latest_results: Option<&MonthResults>,
    ) -> Result<RunRecord, StoreError> {
        let (latest, first, last, run_id, head) = (self.latest, self.first, self.last, self.run_id, self.head.clone());
        let stored = {
            let db = self.db()?;
            let chain = db.snapshot(Db::chain)?;
            let record = chain.record(latest).cloned().ok_or_else(|| protocol::changed(&head, &chain.head))?;
            db.snapshot(|db| protocol::month_rows(db, &record))?
        };
        let empty = MonthResults::default();
        let results = latest_results.unwrap_or(&empty);
        if let Some(m) = results.month
            && m != latest
        {
            return Err(StoreError::Input(format!(
                "the results given as the amended month's are of {m}, not {latest}; nothing was written"
            )));
        }
        let mut seen = 0usize;
        push_states(&mut self.data, states, results, |id, row| {
            if let Some(old) = stored.get(id)
                && same_but_aum(old, row)
            {
                *row = *old;
            }
        })?;
        for c in states.customers() {
            seen += usize::from(stored.contains_key(c.id));
        }
        if seen != stored.len() {
            let missing = stored.keys().find(|id| states.get(id).is_none()).cloned().unwrap_or_default();
            return Err(StoreError::Input(format!(
                "the amended states of {latest} lack customer {missing} (and {} other(s)) of the month: an amendment gives every customer; nothing was written",
                stored.len() - seen - 1
            )));
        }
        if let Some(r) = latest_results {
            push_rows(&mut self.data, run_id, states, r, latest);
        }
        let data = std::mem::take(&mut self.data);
        let db = self.db()?;
        let (run, _) = db.commit_amendment(run_id, latest, first, last, data, &head)?;
        if let Some(s) = self.store.take() {
            s.db.d.unlock();
        }
        Ok(run)
    }

    /// Gives the catch-up up: nothing is written, the run is recorded as `aborted`.
    ///
    /// # Errors
    /// [`StoreErrorKind::Database`] when the audit cannot be updated.
    pub fn abort(mut self, why: &str) -> Result<(), StoreError> {
        let run_id = self.run_id;
        match self.store.take() {
            Some(s) => s.db.abort(run_id, why),
            None => Ok(()),
        }
    }
}

impl Drop for AmendmentWriter<'_> {
    fn drop(&mut self) {
        let run_id = self.run_id;
        if let Some(s) = self.store.take() {
            let _ = s.db.abort(run_id, "the catch-up ended without committing");
        }
    }
}
