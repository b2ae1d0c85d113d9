//! The month-end store of crm-tiering: every committed month of a portfolio kept in a real
//! database, all or nothing, chained and checked on every read, with an audit of the runs
//! that wrote it.
//!
//! Two backends behind one [`Store`]: SQLite (one file, WAL, the embedded default) and
//! PostgreSQL (`postgres://` or `postgresql://` URLs, or `postgres:` and a key=value
//! connection string; loaded with `COPY ... FROM STDIN BINARY`). The month protocol is written
//! once over a small driver; a backend is one file.
//!
//! ```no_run
//! use crm_tiering_store::{MonthResults, RunMeta, Store};
//! # fn demo(engine: &crm_tiering::Engine, rule_text: &str,
//! #         extract: &crm_tiering::portfolio::Extract) -> Result<(), Box<dyn std::error::Error>> {
//! let mut store = Store::open("crm-tiering.db")?; // never creates: Store::create does
//! let month: crm_tiering::Month = "2024-03".parse()?;
//! let meta = RunMeta::new(env!("CARGO_PKG_VERSION"), engine.rule_book().fingerprint(), rule_text);
//! let mut writer = store.begin_month(month, meta)?; // the lock: a second run fails here at once
//! let mut states = writer.previous_states()?.map(|l| l.states).unwrap_or_default();
//! let mut results = MonthResults::new(month);
//! let range = crm_tiering::portfolio::MonthRange::single(month)?;
//! engine.evaluate_portfolio_with(&mut states, range, extract, &Default::default(), &mut results)?;
//! let run = writer.commit_portfolio_month(&states, &results)?; // the whole month, or nothing
//! # let _ = run; Ok(()) }
//! ```

mod amend;
mod blocks;
mod chain;
mod codec;
mod data;
mod dialect;
mod driver;
#[doc(hidden)]
pub mod fuzzing;
mod layout;
mod migrate;
mod pg;
mod protocol;
mod read;
mod replay;
mod results;
mod schema;
mod sqlite;
#[doc(hidden)]
pub mod synthetic;
mod types;

use std::fmt;

use crm_tiering::portfolio::{MonthRange, PortfolioStates, RecordError};
use crm_tiering::{Alert, CustomerIdentity, CustomerState, Decimal, Event, Month, RuleBook};

pub use codec::{STATE_BYTES, STATE_ENCODING};
pub use driver::OpenMode;
pub use replay::StoredRange;
pub use results::{EvaluatedAum, MonthResults};
pub use types::{
    AlertRow, CustomerHistory, EventRow, InputFile, LatestStates, MonthRecord, RejectRow, RunCounts, RunKind, RunMeta,
    RunRecord, RunStatus, StateRow, Tally,
};

use data::MonthData;
use protocol::{Db, Head};

/// The schema version this library writes and reads (older ones are migrated).
pub const SCHEMA_VERSION: i64 = 3;

/// Everything that can go wrong with a store. [`StoreError::kind`] groups them for exit codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// There is no store where one was given (a missing file, an empty database).
    #[error("{0}")]
    Missing(String),
    /// A store (or a file) is where a new store was to be made.
    #[error("{0}")]
    Exists(String),
    /// Another run holds the store's write lock.
    #[error("{0}")]
    Locked(String),
    /// The month is already committed and no rerun was asked for.
    #[error("{0}")]
    AlreadyCommitted(String),
    /// The month cannot be written in the store's current sequence of months.
    #[error("{0}")]
    Sequence(String),
    /// The store's schema is newer than this library, older and not migratable, or the
    /// database is not a crm-tiering store.
    #[error("{0}")]
    Schema(String),
    /// The store cannot be written (a read-only file, connection or open).
    #[error("{0}")]
    ReadOnly(String),
    /// Stored data that does not decode or does not match the chain: the store was altered or
    /// damaged (a deleted or edited month, state or head; a file cut short).
    #[error("the store is damaged: {0}")]
    Corrupt(String),
    /// Data given to the store that it cannot keep (an amount that is not whole fen, ...).
    #[error("{0}")]
    Input(String),
    /// The database failed (disk full, connection lost, ...).
    #[error("{context}: {message}")]
    Database {
        /// What the store was doing.
        context: String,
        /// The database's message.
        message: String,
    },
}

/// The kind of a [`StoreError`], for exit codes and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreErrorKind {
    /// No store there: give the right location, or create one.
    Missing,
    /// A store or file is there already.
    Exists,
    /// Another run holds the lock: retry later.
    Locked,
    /// The month is committed already: pass `rerun` to replace it.
    AlreadyCommitted,
    /// The month is out of sequence with the committed months.
    Sequence,
    /// Schema version or not a store.
    Schema,
    /// Read-only store.
    ReadOnly,
    /// Damaged data.
    Corrupt,
    /// Data the store cannot keep.
    Input,
    /// The database failed.
    Database,
}

impl StoreError {
    /// The kind of the error.
    pub fn kind(&self) -> StoreErrorKind {
        match self {
            StoreError::Missing(_) => StoreErrorKind::Missing,
            StoreError::Exists(_) => StoreErrorKind::Exists,
            StoreError::Locked(_) => StoreErrorKind::Locked,
            StoreError::AlreadyCommitted(_) => StoreErrorKind::AlreadyCommitted,
            StoreError::Sequence(_) => StoreErrorKind::Sequence,
            StoreError::Schema(_) => StoreErrorKind::Schema,
            StoreError::ReadOnly(_) => StoreErrorKind::ReadOnly,
            StoreError::Corrupt(_) => StoreErrorKind::Corrupt,
            StoreError::Input(_) => StoreErrorKind::Input,
            StoreError::Database { .. } => StoreErrorKind::Database,
        }
    }

    pub(crate) fn db(context: impl Into<String>, e: impl fmt::Display) -> Self {
        StoreError::Database { context: context.into(), message: e.to_string() }
    }
}

/// Where a store is, resolved to its backend by the location's scheme: `postgres://...`,
/// `postgresql://...` or `postgres:` with a key=value string (PostgreSQL); a path without a
/// `scheme://` (SQLite). Shown without any password.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreLocation {
    backend: &'static str,
    location: String,
    shown: String,
}

impl StoreLocation {
    /// Resolves a location to its backend.
    ///
    /// # Errors
    /// [`StoreErrorKind::Input`] for a `scheme://` no backend takes.
    pub fn parse(location: &str) -> Result<Self, StoreError> {
        let b = driver::backend_of(location)?;
        Ok(StoreLocation { backend: b.name, location: location.to_string(), shown: (b.display)(location) })
    }

    /// The backend's name (`SQLite`, `PostgreSQL`).
    pub fn backend(&self) -> &'static str {
        self.backend
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreLocation({} {})", self.backend, self.shown)
    }
}

/// The head of a store's chain: its latest committed month and that month's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The latest committed month.
    pub month: Month,
    /// Its digest.
    pub digest: String,
}

/// What `rollback` undid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    /// The month rolled back.
    pub month: Month,
    /// The runs that had written it, now `rolled_back`.
    pub runs: Vec<i64>,
    /// The latest committed month now.
    pub head: Option<Month>,
}

/// A store: committed months of states, events, alerts and rejects, chained, and the runs
/// audit.
pub struct Store {
    db: Db,
    location: StoreLocation,
    mode: OpenMode,
    portfolio: String,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Store({}, portfolio {})", self.location, self.portfolio)
    }
}

fn read_only_error(location: &StoreLocation) -> StoreError {
    StoreError::ReadOnly(format!("the store {location} was opened read-only; nothing was written"))
}

impl Store {
    /// Opens the existing store at `location` for reading and writing (migrating an older
    /// schema) and checks its chain. Never creates one: see [`Store::create`].
    ///
    /// # Errors
    /// [`StoreErrorKind::Missing`] when there is no store (a missing file, a database without
    /// one); [`StoreErrorKind::Corrupt`] for an empty or cut file, or a chain that does not
    /// hold; [`StoreErrorKind::Schema`] for a newer schema or a database that is not a store;
    /// [`StoreErrorKind::ReadOnly`] for a file that cannot be written;
    /// [`StoreErrorKind::Database`] when the database cannot be reached.
    pub fn open(location: &str) -> Result<Self, StoreError> {
        Self::open_with(location, OpenMode::ReadWrite)
    }

    /// Opens the existing store at `location` read-only: nothing is ever written (no schema,
    /// no migration, no lock), so a store the user cannot write opens too.
    ///
    /// # Errors
    /// As [`Store::open`]; [`StoreErrorKind::Schema`] for an older schema, which a read-only
    /// open cannot migrate.
    pub fn open_read_only(location: &str) -> Result<Self, StoreError> {
        Self::open_with(location, OpenMode::ReadOnly)
    }

    /// Makes a new, empty store at `location` with a new portfolio id.
    ///
    /// # Errors
    /// [`StoreErrorKind::Exists`] when a file (SQLite) or a store (PostgreSQL) is there
    /// already; [`StoreErrorKind::Database`] when it cannot be made (nothing is left behind).
    pub fn create(location: &str) -> Result<Self, StoreError> {
        Self::open_with(location, OpenMode::Create)
    }

    /// Opens a store in the given mode.
    ///
    /// # Errors
    /// As [`Store::open`], [`Store::open_read_only`] and [`Store::create`].
    pub fn open_with(location: &str, mode: OpenMode) -> Result<Self, StoreError> {
        let parsed = StoreLocation::parse(location)?;
        let backend = driver::backend_of(location)?;
        let mut db = Db { d: (backend.open)(location, mode)? };
        let portfolio = match mode {
            OpenMode::Create => db.create().inspect_err(|_| db.d.discard_created())?,
            _ => db.open(mode)?,
        };
        Ok(Store { db, location: parsed, mode, portfolio })
    }

    /// Where the store is (a PostgreSQL location is shown without its password).
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// The store's portfolio id: random, made when the store was created.
    pub fn portfolio_id(&self) -> &str {
        &self.portfolio
    }

    /// Whether the store was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.mode == OpenMode::ReadOnly
    }

    fn writable(&self) -> Result<(), StoreError> {
        if self.is_read_only() { Err(read_only_error(&self.location)) } else { Ok(()) }
    }

    /// The head of the chain: the latest committed month and its digest, none for an empty
    /// store.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`] when the chain does not hold; [`StoreErrorKind::Database`].
    pub fn head(&mut self) -> Result<Option<ChainHead>, StoreError> {
        let h = self.db.snapshot(Db::chain)?.head;
        Ok(h.month.map(|month| ChainHead { month, digest: h.digest }))
    }

    /// Starts writing `month`: takes the store's write lock (failing at once when another run
    /// holds it), checks the chain, records the run as `running` in the audit, and checks that
    /// the month may be written (committed already and `meta.rerun` not set: refused; before
    /// the latest committed month: refused).
    ///
    /// Nothing of the month is visible until it is committed; dropping the writer without
    /// committing leaves the store as it was and marks the run `aborted`.
    ///
    /// # Errors
    /// [`StoreErrorKind::Locked`], [`StoreErrorKind::AlreadyCommitted`],
    /// [`StoreErrorKind::Sequence`], [`StoreErrorKind::ReadOnly`], [`StoreErrorKind::Corrupt`],
    /// [`StoreErrorKind::Database`].
    pub fn begin_month(&mut self, month: Month, meta: RunMeta) -> Result<MonthWriter<'_>, StoreError> {
        self.begin(month, meta, RunKind::Month, None)
    }

    /// [`Store::begin_month`] for a run that goes on from `after`, a head it read or committed
    /// itself: refused ([`StoreErrorKind::Sequence`]) when the store's head is no longer that
    /// month with that digest (another run committed, reran, amended or rolled back a month
    /// in between).
    ///
    /// # Errors
    /// As [`Store::begin_month`].
    pub fn begin_month_after(
        &mut self,
        month: Month,
        meta: RunMeta,
        after: &ChainHead,
    ) -> Result<MonthWriter<'_>, StoreError> {
        let head = Head { month: Some(after.month), digest: after.digest.clone() };
        self.begin(month, meta, RunKind::Month, Some(head))
    }

    /// [`Store::begin_month`] for a states file committed as `month`'s states
    /// (`import-states`): audited as an `import` run.
    ///
    /// # Errors
    /// As [`Store::begin_month`].
    pub fn begin_import(&mut self, month: Month, meta: RunMeta) -> Result<MonthWriter<'_>, StoreError> {
        self.begin(month, meta, RunKind::Import, None)
    }

    fn begin(
        &mut self,
        month: Month,
        meta: RunMeta,
        kind: RunKind,
        after: Option<Head>,
    ) -> Result<MonthWriter<'_>, StoreError> {
        self.writable()?;
        let rerun = meta.rerun;
        let (run_id, _, head) = self.db.begin_run(&meta, kind, None, &|chain| {
            if let Some(h) = &after
                && chain.head != *h
            {
                return Err(protocol::changed(h, &chain.head));
            }
            let committed = chain.record(month).map(|r| (r.run_id, r.committed_at.clone()));
            data::check_sequence(month, rerun, committed, chain.latest().map(|r| r.month))?;
            Ok(month)
        })?;
        let dicts = match self.db.dictionaries() {
            Ok(d) => d,
            Err(e) => {
                let _ = self.db.abort(run_id, &e.to_string());
                return Err(e);
            }
        };
        Ok(MonthWriter {
            store: Some(self),
            month,
            run_id,
            meta,
            head,
            data: MonthData { dicts, ..MonthData::default() },
        })
    }

    /// Starts a catch-up of `months` (M..K, within the committed months) that amends the
    /// latest committed month L: takes the lock, records the run as `catch_up` of M..K
    /// amending L, and gives L's states to evaluate from ([`AmendmentWriter::latest_states`]).
    /// The catch-up must run under the rule book that committed L.
    ///
    /// # Errors
    /// [`StoreErrorKind::Sequence`] when the store has no committed month or `months` does
    /// not lie within them; [`StoreErrorKind::Input`] for another rule book; as
    /// [`Store::begin_month`].
    pub fn begin_amendment(&mut self, months: MonthRange, meta: RunMeta) -> Result<AmendmentWriter<'_>, StoreError> {
        self.writable()?;
        let (first, last) = (months.first(), months.last());
        let (run_id, latest, head) = self.db.begin_amendment(&meta, first, last)?;
        let dicts = match self.db.dictionaries() {
            Ok(d) => d,
            Err(e) => {
                let _ = self.db.abort(run_id, &e.to_string());
                return Err(e);
            }
        };
        Ok(AmendmentWriter {
            store: Some(self),
            run_id,
            latest,
            first,
            last,
            head,
            data: MonthData { dicts, ..MonthData::default() },
        })
    }

    /// Undoes the latest committed month, which `month` must be: its runs (the committing run
    /// and any catch-up that amended it) become `rolled_back` with `who` and the time in
    /// their note, its states, events, alerts and rejects leave the tables, and the head
    /// moves back to the month before.
    ///
    /// # Errors
    /// [`StoreErrorKind::Sequence`] when `month` is not the latest committed month (the
    /// message names it); [`StoreErrorKind::Locked`]; [`StoreErrorKind::Corrupt`];
    /// [`StoreErrorKind::ReadOnly`]; [`StoreErrorKind::Database`].
    pub fn rollback_month(&mut self, month: Month, who: &str) -> Result<Rollback, StoreError> {
        self.writable()?;
        let runs = self.db.rollback(month, who)?;
        let head = self.head()?.map(|h| h.month);
        Ok(Rollback { month, runs, head })
    }

    /// The committed months, in order.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`] when the chain does not hold; [`StoreErrorKind::Database`].
    pub fn committed_months(&mut self) -> Result<Vec<Month>, StoreError> {
        Ok(self.months()?.into_iter().map(|r| r.month).collect())
    }

    /// The committed months with their records in the chain, checked.
    ///
    /// # Errors
    /// As [`Store::committed_months`].
    pub fn months(&mut self) -> Result<Vec<MonthRecord>, StoreError> {
        Ok(self.db.snapshot(Db::chain)?.months)
    }

    /// Checks every committed month whole: the chain, and each month's states, events,
    /// alerts and rejects against its record. Returns the records.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`] naming the first month that does not match.
    pub fn verify(&mut self) -> Result<Vec<MonthRecord>, StoreError> {
        self.db.snapshot(|db| {
            let chain = db.chain()?;
            for r in &chain.months {
                db.month_states(r, &mut |_, _| Ok(()))?;
                db.verify_rows(r)?;
            }
            Ok(chain.months)
        })
    }

    /// The states of the latest committed month (effective for the month after it), with the
    /// rule book that wrote them; none for an empty store.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`] when the chain does not hold, a stored row does not decode,
    /// the states do not match their count and checksum, or the stored rule book text does not
    /// give its recorded fingerprint.
    pub fn latest_states(&mut self) -> Result<Option<LatestStates>, StoreError> {
        self.db.states_before(None)
    }

    /// The states of the latest committed month before `month`.
    ///
    /// # Errors
    /// As [`Store::latest_states`].
    pub fn states_before(&mut self, month: Month) -> Result<Option<LatestStates>, StoreError> {
        self.db.states_before(Some(month))
    }

    /// One customer's full history across every committed month: states, events, alerts.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`] (a block that does not decode, a month missing from the
    /// customer's states); [`StoreErrorKind::Database`].
    pub fn customer_history(&mut self, customer_id: &str) -> Result<CustomerHistory, StoreError> {
        self.db.customer_history(customer_id)
    }

    /// Every run, oldest first, with its audit data (not the rule book text: see
    /// [`Store::run_rule_book`]).
    ///
    /// # Errors
    /// [`StoreErrorKind::Database`].
    pub fn runs(&mut self) -> Result<Vec<RunRecord>, StoreError> {
        self.db.runs()
    }

    /// The full rule book text a run used.
    ///
    /// # Errors
    /// [`StoreErrorKind::Database`].
    pub fn run_rule_book(&mut self, run_id: i64) -> Result<Option<String>, StoreError> {
        self.db.run_rule_book(run_id)
    }

    /// The committed states of the months `first..=last`, month by month, customers in id
    /// order, streamed to `f`; each month is checked against its count and checksum.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`], [`StoreErrorKind::Database`], or `f`'s error.
    pub fn for_each_state(
        &mut self,
        first: Month,
        last: Month,
        f: &mut dyn FnMut(StateRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.db.for_each_state(first, last, f)
    }

    /// The events of the committed months `first..=last`, by month and customer (the months'
    /// events are checked against their records first).
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`], [`StoreErrorKind::Database`].
    pub fn events(&mut self, first: Month, last: Month) -> Result<Vec<EventRow>, StoreError> {
        let rows = self.db.json_rows("event", first, last)?;
        rows.into_iter().map(|(c, t)| Ok(EventRow { customer_id: c, event: data::parse_json("event", &t)? })).collect()
    }

    /// The alerts of the committed months `first..=last`, by month and customer.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`], [`StoreErrorKind::Database`].
    pub fn alerts(&mut self, first: Month, last: Month) -> Result<Vec<AlertRow>, StoreError> {
        let rows = self.db.json_rows("alert", first, last)?;
        rows.into_iter().map(|(c, t)| Ok(AlertRow { customer_id: c, alert: data::parse_json("alert", &t)? })).collect()
    }

    /// The rejects (held customers, refused records) of the committed runs for the months
    /// `first..=last`.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`], [`StoreErrorKind::Database`].
    pub fn rejects(&mut self, first: Month, last: Month) -> Result<Vec<RejectRow>, StoreError> {
        self.db.rejects(first, last)
    }
}

/// A month being written, holding the store's lock. See [`Store::begin_month`].
pub struct MonthWriter<'a> {
    store: Option<&'a mut Store>,
    month: Month,
    run_id: i64,
    meta: RunMeta,
    head: Head,
    data: MonthData,
}

impl fmt::Debug for MonthWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MonthWriter(run {}, month {})", self.run_id, self.month)
    }
}

/// The encoded rows of a portfolio's customers after a month: each with the month's AUM when
/// it was evaluated.
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
    for ((c, s), a) in states.iter().zip(aum) {
        let mut row = data.dicts.encode(c, s, a)?;
        if a.is_none() {
            keep(c.id, &mut row);
        }
        data.states.push(c.id, row)?;
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
    /// customer had a record, for a customer that was evaluated; none for one held back.
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
        let row = self.data.dicts.encode(&customer, state, evaluated)?;
        self.data.states.push(customer.id(), row)
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
    store: Option<&'a mut Store>,
    run_id: i64,
    latest: Month,
    first: Month,
    last: Month,
    head: Head,
    data: MonthData,
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

/// Stamps states read back from a store with the rule book whose text was stored with them.
pub(crate) fn stamp(states: &mut PortfolioStates, fingerprint: &str, text: &str) -> Result<(), StoreError> {
    let book = RuleBook::from_str_auto(text)
        .map_err(|e| StoreError::Corrupt(format!("the rule book stored with the states does not load: {e}")))?;
    if book.fingerprint() != fingerprint {
        return Err(StoreError::Corrupt(format!(
            "the rule book text stored with the states gives fingerprint {} but the run recorded {fingerprint}",
            book.fingerprint()
        )));
    }
    states.set_rule_book(&book);
    Ok(())
}
