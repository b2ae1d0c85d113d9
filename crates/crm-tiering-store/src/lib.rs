//! The month-end store of crm-tiering: every committed month of a portfolio kept in a real
//! database, all or nothing, with an audit of the runs that wrote it.
//!
//! Two backends behind one [`Store`]: SQLite (one file, WAL, the embedded default) and
//! PostgreSQL (`postgres://` or `postgresql://` URLs, loaded with `COPY ... FROM STDIN BINARY`).
//!
//! ```no_run
//! use crm_tiering_store::{RunMeta, Store};
//! # fn demo(book: &crm_tiering::RuleBook, rule_text: &str,
//! #         states: &crm_tiering::portfolio::PortfolioStates,
//! #         month_out: &crm_tiering::portfolio::PortfolioMonth) -> Result<(), crm_tiering_store::StoreError> {
//! let mut store = Store::open("crm-tiering.db")?; // or "postgres://user@host/db"
//! let month = "2024-03".parse().map_err(|e| crm_tiering_store::StoreError::Input(format!("{e}")))?;
//! let meta = RunMeta::new(env!("CARGO_PKG_VERSION"), book.fingerprint(), rule_text);
//! let mut writer = store.begin_month(month, meta)?; // the lock: a second run fails here at once
//! let previous = writer.previous_states()?;          // the states to evaluate from
//! // ... evaluate ...
//! writer.write_month(states, month_out)?;            // states, events, alerts, held records
//! let run = writer.commit()?;                        // the whole month, or nothing
//! # let _ = (previous, run); Ok(()) }
//! ```

mod backend;
mod blocks;
mod codec;
mod pg;
mod sqlite;
#[doc(hidden)]
pub mod synthetic;
mod types;

use std::fmt;

use crm_tiering::portfolio::{PortfolioMonth, PortfolioStates, RecordError};
use crm_tiering::{Alert, CustomerIdentity, CustomerState, Decimal, Event, Month, RuleBook};

pub use codec::{STATE_BYTES, STATE_ENCODING};
pub use types::{
    AlertRow, CustomerHistory, EventRow, InputFile, LatestStates, RejectRow, RunCounts, RunMeta, RunRecord, RunStatus,
    StateRow,
};

use backend::{Backend, MonthData};

/// The schema version this library writes and reads.
pub const SCHEMA_VERSION: i64 = 2;

/// Everything that can go wrong with a store. [`StoreError::kind`] groups them for exit codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
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
    /// The store cannot be written (a read-only file, a read-only connection).
    #[error("{0}")]
    ReadOnly(String),
    /// Stored data that does not decode: the store was altered or damaged.
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

/// Which database a store location names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file path.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL connection URL (or key=value connection string after `postgres:`).
    Postgres(String),
}

impl StoreLocation {
    /// `postgres://...` and `postgresql://...` are PostgreSQL; anything else is a SQLite path.
    pub fn parse(location: &str) -> Self {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            StoreLocation::Postgres(location.to_string())
        } else {
            StoreLocation::Sqlite(location.into())
        }
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite(p) => write!(f, "{}", p.display()),
            // Never print a password.
            StoreLocation::Postgres(url) => write!(f, "{}", types::redact_url(url)),
        }
    }
}

/// A store: committed months of states, events, alerts and rejects, and the runs audit.
pub struct Store {
    backend: Box<dyn Backend>,
    location: StoreLocation,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Store({})", self.location)
    }
}

impl Store {
    /// Opens (creating it and its schema when missing, migrating an older schema) the store at
    /// `location`: a `postgres://` URL or a SQLite file path.
    ///
    /// # Errors
    /// [`StoreErrorKind::Schema`] for a newer schema, an older one that cannot be migrated, or
    /// a database that is not a store; [`StoreErrorKind::ReadOnly`] for a SQLite file that
    /// cannot be written; [`StoreErrorKind::Database`] when the database cannot be reached.
    pub fn open(location: &str) -> Result<Self, StoreError> {
        Self::open_location(StoreLocation::parse(location))
    }

    /// [`Store::open`] with a parsed location.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_location(location: StoreLocation) -> Result<Self, StoreError> {
        let backend: Box<dyn Backend> = match &location {
            StoreLocation::Sqlite(path) => Box::new(sqlite::Sqlite::open(path)?),
            StoreLocation::Postgres(url) => Box::new(pg::Postgres::open(url)?),
        };
        Ok(Store { backend, location })
    }

    /// Where the store is (a PostgreSQL URL is shown without its password).
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// Starts writing `month`: takes the store's write lock (failing at once when another run
    /// holds it), records the run as `running` in the audit, and checks that the month may be
    /// written (committed already and `meta.rerun` not set: refused; before the latest
    /// committed month: refused).
    ///
    /// Nothing of the month is visible until [`MonthWriter::commit`]; dropping the writer
    /// without committing leaves the store as it was and marks the run `aborted`.
    ///
    /// # Errors
    /// [`StoreErrorKind::Locked`], [`StoreErrorKind::AlreadyCommitted`],
    /// [`StoreErrorKind::Sequence`], [`StoreErrorKind::ReadOnly`], [`StoreErrorKind::Database`].
    pub fn begin_month(&mut self, month: Month, meta: RunMeta) -> Result<MonthWriter<'_>, StoreError> {
        let begun = self.backend.begin(month, &meta)?;
        Ok(MonthWriter {
            store: self,
            month,
            run_id: begun.run_id,
            meta,
            data: MonthData { dicts: begun.dicts, ..MonthData::default() },
            finished: false,
        })
    }

    /// The committed months, in order.
    ///
    /// # Errors
    /// [`StoreErrorKind::Database`].
    pub fn committed_months(&mut self) -> Result<Vec<Month>, StoreError> {
        self.backend.committed_months()
    }

    /// The states of the latest committed month (effective for the month after it), with the
    /// rule book that wrote them; none for an empty store.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`] when a stored row does not decode or the stored rule book
    /// text does not give its recorded fingerprint.
    pub fn latest_states(&mut self) -> Result<Option<LatestStates>, StoreError> {
        self.backend.states_before(None)
    }

    /// The states of the latest committed month before `month`.
    ///
    /// # Errors
    /// As [`Store::latest_states`].
    pub fn states_before(&mut self, month: Month) -> Result<Option<LatestStates>, StoreError> {
        self.backend.states_before(Some(month))
    }

    /// One customer's full history across every committed month: states, events, alerts.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`], [`StoreErrorKind::Database`].
    pub fn customer_history(&mut self, customer_id: &str) -> Result<CustomerHistory, StoreError> {
        self.backend.customer_history(customer_id)
    }

    /// Every run, oldest first, with its audit data (not the rule book text: see
    /// [`Store::run_rule_book`]).
    ///
    /// # Errors
    /// [`StoreErrorKind::Database`].
    pub fn runs(&mut self) -> Result<Vec<RunRecord>, StoreError> {
        self.backend.runs()
    }

    /// The full rule book text a run used.
    ///
    /// # Errors
    /// [`StoreErrorKind::Database`].
    pub fn run_rule_book(&mut self, run_id: i64) -> Result<Option<String>, StoreError> {
        self.backend.run_rule_book(run_id)
    }

    /// The committed states of the months `first..=last`, month by month, customers in id
    /// order, streamed to `f`.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`], [`StoreErrorKind::Database`], or `f`'s error.
    pub fn for_each_state(
        &mut self,
        first: Month,
        last: Month,
        f: &mut dyn FnMut(StateRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.backend.for_each_state(first, last, f)
    }

    /// The events of the committed months `first..=last`, by month and customer.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`], [`StoreErrorKind::Database`].
    pub fn events(&mut self, first: Month, last: Month) -> Result<Vec<EventRow>, StoreError> {
        self.backend.events(first, last, None)
    }

    /// The alerts of the committed months `first..=last`, by month and customer.
    ///
    /// # Errors
    /// [`StoreErrorKind::Corrupt`], [`StoreErrorKind::Database`].
    pub fn alerts(&mut self, first: Month, last: Month) -> Result<Vec<AlertRow>, StoreError> {
        self.backend.alerts(first, last, None)
    }

    /// The rejects (held customers, refused records) of the runs that committed the months
    /// `first..=last`.
    ///
    /// # Errors
    /// [`StoreErrorKind::Database`].
    pub fn rejects(&mut self, first: Month, last: Month) -> Result<Vec<RejectRow>, StoreError> {
        self.backend.rejects(first, last)
    }
}

/// A month being written, holding the store's lock. See [`Store::begin_month`].
pub struct MonthWriter<'a> {
    store: &'a mut Store,
    month: Month,
    run_id: i64,
    meta: RunMeta,
    data: MonthData,
    finished: bool,
}

impl fmt::Debug for MonthWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MonthWriter(run {}, month {})", self.run_id, self.month)
    }
}

impl MonthWriter<'_> {
    /// The run's id in the audit.
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// The month being written.
    pub fn month(&self) -> Month {
        self.month
    }

    /// The states to evaluate this month from: those of the latest committed month before it
    /// (for a rerun, the month before the replaced one).
    ///
    /// # Errors
    /// As [`Store::latest_states`].
    pub fn previous_states(&mut self) -> Result<Option<LatestStates>, StoreError> {
        self.store.backend.states_before(Some(self.month))
    }

    /// [`MonthWriter::previous_states`], given what another connection read before the lock
    /// was taken (by [`Store::states_before`] this writer's month, for example while the month's
    /// input was being read): it is returned when the latest committed month before this one
    /// is still the one it was read from (the same month, committed by the same run), and read
    /// again otherwise. A run overlaps reading the stored states with reading its input this
    /// way, and still evaluates from what the store holds under its lock.
    ///
    /// # Errors
    /// As [`Store::latest_states`].
    pub fn previous_states_read_before(
        &mut self,
        read_before: Option<LatestStates>,
    ) -> Result<Option<LatestStates>, StoreError> {
        let now = self.store.backend.month_before(self.month)?;
        match read_before {
            Some(read) if now == Some((read.month, read.run_id)) => Ok(Some(read)),
            None if now.is_none() => Ok(None),
            _ => self.previous_states(),
        }
    }

    /// A customer's state after the month. `evaluated` is the month's AUM and whether the
    /// customer had a record, for a customer that was evaluated; none for one held back.
    ///
    /// # Errors
    /// [`StoreErrorKind::Input`] for a customer given twice or an amount that is not whole
    /// fen.
    pub fn state(
        &mut self,
        customer: impl CustomerIdentity,
        state: &CustomerState,
        evaluated: Option<(Decimal, bool)>,
    ) -> Result<(), StoreError> {
        let row = self.data.dicts.encode(&customer, state, evaluated)?;
        self.data.states.push(customer.id(), row)
    }

    /// An event of the month.
    pub fn event(&mut self, customer_id: &str, event: &Event) {
        self.data.push_event(customer_id, event);
    }

    /// An alert of the month.
    pub fn alert(&mut self, customer_id: &str, alert: &Alert) {
        self.data.push_alert(customer_id, alert);
    }

    /// A held customer or refused record.
    pub fn reject(&mut self, error: &RecordError) {
        self.data.rejects.push(RejectRow::from_error(self.month, self.run_id, self.data.rejects.len() as i64, error));
    }

    /// Everything of a portfolio month: every customer's state from `states` (after the
    /// evaluation), with the AUM of those evaluated, and the month's events, alerts and held
    /// records from `month` (as collected by `PortfolioOutcome`).
    ///
    /// # Errors
    /// As [`MonthWriter::state`]; [`StoreErrorKind::Input`] when `month` is another month.
    pub fn write_month(&mut self, states: &PortfolioStates, month: &PortfolioMonth) -> Result<(), StoreError> {
        if month.month.is_some_and(|m| m != self.month) {
            return Err(StoreError::Input(format!(
                "the results are of month {} but the run writes month {}",
                month.month.map(|m| m.to_string()).unwrap_or_default(),
                self.month
            )));
        }
        let mut aum: Vec<Option<(Decimal, bool)>> = vec![None; states.len()];
        for e in &month.evaluated {
            if let Some(slot) = aum.get_mut(e.index) {
                *slot = Some((e.aum, e.has_record));
            }
        }
        self.data.states.reserve(states.len());
        for ((c, s), a) in states.iter().zip(aum) {
            self.state(c, s, a)?;
        }
        let id = |i: usize| states.customer(i).map_or("", |c| c.id);
        for (i, e) in &month.events {
            self.data.push_event(id(*i), e);
        }
        for (i, a) in &month.alerts {
            self.data.push_alert(id(*i), a);
        }
        for (_, e) in &month.held {
            self.reject(e);
        }
        Ok(())
    }

    /// Makes the whole month visible in one transaction (replacing the committed month for a
    /// rerun, whose run stays in the audit as `replaced`), records the run as `committed` with
    /// its counts, and releases the lock.
    ///
    /// # Errors
    /// [`StoreErrorKind::Input`] for a customer given twice; [`StoreErrorKind::Database`]
    /// (disk full, ...): the store then holds what it held before.
    pub fn commit(mut self) -> Result<RunRecord, StoreError> {
        self.finished = true;
        let data = std::mem::take(&mut self.data);
        self.store.backend.commit(self.run_id, self.month, &self.meta, data)
    }

    /// Gives the month up: nothing of it is written, the run is recorded as `aborted`.
    ///
    /// # Errors
    /// [`StoreErrorKind::Database`] when the audit cannot be updated (the month is still not
    /// written).
    pub fn abort(mut self, why: &str) -> Result<(), StoreError> {
        self.finished = true;
        self.store.backend.abort(self.run_id, why)
    }
}

impl Drop for MonthWriter<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.store.backend.abort(self.run_id, "the run ended without committing");
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
