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
mod contribution;
mod data;
mod dialect;
mod driver;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod layout;
mod loans;
mod location;
mod migrate;
mod pg;
mod pg_connect;
mod pgpass;
mod protocol;
mod read;
mod replay;
mod results;
mod schema;
mod sqlite;
#[doc(hidden)]
pub mod synthetic;
mod types;
mod writer;

use std::fmt;

use crm_tiering::portfolio::{MonthRange, PortfolioStates};
use crm_tiering::{Month, RuleBook};

pub use codec::{STATE_BYTES, STATE_ENCODING};
pub use contribution::{
    ContributionMeta, ContributionRange, LineageSink, StoredContribution, StoredCustomer, StoredManager,
    StreamedContribution,
};
pub use driver::OpenMode;
pub use error::{StoreError, StoreErrorKind};
pub use loans::{LoanMeta, StoredLoanStates};
pub use location::StoreLocation;
pub use replay::StoredRange;
pub use results::{EvaluatedAum, MonthResults};
pub use types::{
    AlertRow, CustomerHistory, EventRow, InputFile, LatestStates, MonthRecord, RejectRow, RunCounts, RunKind, RunMeta,
    RunRecord, RunStatus, StateRow, Tally,
};
pub use writer::{AmendmentWriter, MonthWriter};

use data::MonthData;
use protocol::{Db, Head};

/// The schema version this library writes and reads (older ones are migrated).
pub const SCHEMA_VERSION: i64 = 6;

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
                db.month_states(r, &mut |_, _, _| Ok(()))?;
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
