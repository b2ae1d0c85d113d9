//! The SQLite backend: one file in WAL mode; the write lock is SQLite's own write lock, held
//! by an open `BEGIN IMMEDIATE` transaction from `begin_month` to `commit` (released by the
//! operating system when the process dies), taken with `busy_timeout` 0 so that a second
//! writer fails at once.

use std::path::{Path, PathBuf};

use crm_tiering::Month;
use crm_tiering::portfolio::PortfolioStates;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};

use crate::backend::{
    Backend, Begun, Committed, Holder, MonthData, check_meta, check_sequence, parse_counts, parse_inputs, parse_json,
};
use crate::blocks::StoredBlock;
use crate::codec::{Dialect, Dictionaries, STATE_BYTES};
use crate::types::{
    AlertRow, CustomerHistory, EventRow, LatestStates, RejectRow, RunMeta, RunRecord, RunStatus, StateRow, host_name,
    lock_message, now_utc,
};
use crate::{SCHEMA_VERSION, StoreError, stamp};

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY,
    month INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    rule_book_fingerprint TEXT NOT NULL,
    rule_book_text TEXT NOT NULL,
    inputs TEXT NOT NULL,
    counts TEXT,
    rerun INTEGER NOT NULL,
    note TEXT
);
CREATE TABLE months (
    month INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (run_id),
    committed_at TEXT NOT NULL
);
CREATE TABLE tier_codes (idx INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
CREATE TABLE legal_entities (idx INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
CREATE TABLE events (
    month INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (month, customer_id, seq)
) WITHOUT ROWID;
CREATE INDEX events_by_customer ON events (customer_id, month);
CREATE TABLE alerts (
    month INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    alert TEXT NOT NULL,
    PRIMARY KEY (month, customer_id, seq)
) WITHOUT ROWID;
CREATE INDEX alerts_by_customer ON alerts (customer_id, month);
CREATE TABLE rejects (
    run_id INTEGER NOT NULL REFERENCES runs (run_id),
    seq INTEGER NOT NULL,
    month INTEGER NOT NULL,
    customer_id TEXT,
    category TEXT NOT NULL,
    field TEXT,
    record TEXT,
    other_record TEXT,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
";

/// The states of schema version 2: blocks of customers ([`crate::blocks`]), the slots that
/// number the customers of a block, and the `states` view (one row per customer-month).
const STATE_BLOCKS: &str = "
CREATE TABLE state_blocks (
    month INTEGER NOT NULL,
    block INTEGER NOT NULL,
    first_customer TEXT NOT NULL,
    customers INTEGER NOT NULL,
    id_ends BLOB NOT NULL,
    ids BLOB NOT NULL,
    states BLOB NOT NULL,
    PRIMARY KEY (month, block),
    UNIQUE (month, first_customer)
);
CREATE TABLE state_slots (slot INTEGER PRIMARY KEY);
WITH RECURSIVE n(slot) AS (SELECT 0 UNION ALL SELECT slot + 1 FROM n WHERE slot + 1 < 1024)
INSERT INTO state_slots (slot) SELECT slot FROM n;
";

const INSERT_BLOCK: &str = "INSERT INTO state_blocks (month, block, first_customer, customers, id_ends, ids, states) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// The `states` view over the blocks: `month`, `customer_id`, `state` (the 64-byte row), as
/// the PostgreSQL backend's `states` table.
fn states_view_sql() -> String {
    let start = format!("CASE WHEN k.slot = 0 THEN 0 ELSE {} END", crate::blocks::sql_u16("b.id_ends", "k.slot - 1"));
    let end = crate::blocks::sql_u16("b.id_ends", "k.slot");
    format!(
        "CREATE VIEW states AS SELECT b.month AS month, \
         CAST(substr(b.ids, ({start}) + 1, ({end}) - ({start})) AS TEXT) AS customer_id, \
         substr(b.states, k.slot * {bytes} + 1, {bytes}) AS state \
         FROM state_blocks b CROSS JOIN state_slots k ON k.slot < b.customers",
        bytes = crate::codec::STATE_BYTES,
    )
}

struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn byte(&self, o: usize) -> String {
        format!(
            "(instr('0123456789ABCDEF', substr(hex(s.state), {}, 1)) * 16 + instr('0123456789ABCDEF', substr(hex(s.state), {}, 1)) - 17)",
            2 * o + 1,
            2 * o + 2
        )
    }
    fn month_text(&self, e: &str) -> String {
        format!("printf('%04d-%02d', ({e}) / 100, ({e}) % 100)")
    }
    fn amount_text(&self, e: &str) -> String {
        format!(
            "(CASE WHEN ({e}) < 0 THEN '-' ELSE '' END || (abs({e}) / 100) || '.' || substr('0' || (abs({e}) % 100), -2))"
        )
    }
    fn object(&self, pairs: &[(&str, String, bool)]) -> String {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v, json)| if *json { format!("'{k}', json({v})") } else { format!("'{k}', {v}") })
            .collect();
        format!("json_object({})", body.join(", "))
    }
    fn when(&self, flag: u8, object: String) -> String {
        format!("CASE WHEN {} THEN {object} END", self.flag(flag))
    }
    fn tier(&self, e: &str) -> String {
        format!("(SELECT code FROM tier_codes WHERE idx = ({e}))")
    }
    fn entity(&self, e: &str) -> String {
        format!("(SELECT code FROM legal_entities WHERE idx = ({e}))")
    }
}

pub(crate) struct Sqlite {
    conn: Connection,
    path: PathBuf,
    /// Whether this connection holds the write transaction (the lock).
    in_tx: bool,
}

fn err(path: &Path, context: &str, e: rusqlite::Error) -> StoreError {
    let code = e.sqlite_error_code();
    match code {
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly(format!(
            "the store {} is read-only ({e}); nothing was written: give a writable store",
            path.display()
        )),
        Some(ErrorCode::DiskFull) => StoreError::db(
            format!("{context} in {}", path.display()),
            format!("{e}: the disk is full; nothing of this run was written"),
        ),
        Some(ErrorCode::NotADatabase) => {
            StoreError::Schema(format!("{} is not a crm-tiering store: {e}", path.display()))
        }
        _ => StoreError::db(format!("{context} in {}", path.display()), e),
    }
}

/// A row's block from column `at` on (`block`, `first_customer`, `customers`, `id_ends`, `ids`,
/// `states`), checked whole, its first id included (the key one customer's block is found by).
fn stored_block<'r>(r: &'r rusqlite::Row<'_>, month: i64, at: usize) -> Result<StoredBlock<'r>, BlockError> {
    let block: i64 = r.get(at)?;
    let corrupt =
        |why: String| BlockError::Store(StoreError::Corrupt(format!("block {block} of the states of {month}: {why}")));
    let first = r.get_ref(at + 1)?.as_str().map_err(|x| corrupt(x.to_string()))?;
    let customers: i64 = r.get(at + 2)?;
    let blob =
        |k: usize| -> Result<&'r [u8], BlockError> { r.get_ref(at + k)?.as_blob().map_err(|x| corrupt(x.to_string())) };
    let stored = StoredBlock::new(month, block, customers, blob(3)?, blob(4)?, blob(5)?)?;
    if stored.id(0) != first {
        return Err(corrupt(format!("its first customer is {} but its key says {first}", stored.id(0))));
    }
    Ok(stored)
}

/// Reading a block fails in the database or in the data.
enum BlockError {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for BlockError {
    fn from(e: rusqlite::Error) -> Self {
        BlockError::Sql(e)
    }
}

impl From<StoreError> for BlockError {
    fn from(e: StoreError) -> Self {
        BlockError::Store(e)
    }
}

impl BlockError {
    fn into_store(self, e: &impl Fn(rusqlite::Error) -> StoreError) -> StoreError {
        match self {
            BlockError::Sql(x) => e(x),
            BlockError::Store(x) => x,
        }
    }
}

impl Sqlite {
    /// Calls `f` with each block of states of the months `first ..= last` (yyyymm), in month
    /// and customer order, after checking the block and the order of its ids.
    fn blocks(
        &self,
        first: i64,
        last: i64,
        f: &mut dyn FnMut(i64, &StoredBlock<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let e = self.e("reading the states");
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT month, block, first_customer, customers, id_ends, ids, states FROM state_blocks \
                 WHERE month BETWEEN ?1 AND ?2 ORDER BY month, block",
            )
            .map_err(&e)?;
        let mut rows = st.query([first, last]).map_err(&e)?;
        let mut previous: Option<(i64, i64, String)> = None;
        while let Some(r) = rows.next().map_err(&e)? {
            let m: i64 = r.get(0).map_err(&e)?;
            let block = stored_block(r, m, 1).map_err(|x| x.into_store(&e))?;
            let number: i64 = r.get(1).map_err(&e)?;
            let (last_id, expected) = match &previous {
                Some((pm, pb, id)) if *pm == m => (Some(id.as_str()), pb + 1),
                _ => (None, 0),
            };
            if number != expected {
                return Err(StoreError::Corrupt(format!(
                    "the states of {m}: block {number} where block {expected} was expected"
                )));
            }
            block.check_order(last_id)?;
            f(m, &block)?;
            previous = Some((m, number, block.id(block.len() - 1).to_string()));
        }
        Ok(())
    }

    /// The (customer, JSON) rows of `events` or `alerts` (`what` is `event` or `alert`) in
    /// `first ..= last`, in month, customer and emission order.
    fn json_rows(
        &mut self,
        what: &'static str,
        first: Month,
        last: Month,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let e = self.e(if what == "event" { "reading the events" } else { "reading the alerts" });
        let sql = format!(
            "SELECT customer_id, {what} FROM {what}s WHERE month BETWEEN ?1 AND ?2 ORDER BY month, customer_id, seq"
        );
        let mut st = self.conn.prepare_cached(&sql).map_err(&e)?;
        st.query_map([first.yyyymm(), last.yyyymm()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(&e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&e)
    }

    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        if let Ok(md) = std::fs::metadata(path)
            && md.permissions().readonly()
        {
            return Err(StoreError::ReadOnly(format!(
                "the store file {} is read-only; nothing was written: make it writable or give another store",
                path.display()
            )));
        }
        let e = |c: &str| {
            let c = c.to_string();
            move |x| err(path, &c, x)
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(e("opening the store"))?;
        conn.busy_timeout(std::time::Duration::ZERO).map_err(e("setting the busy timeout"))?;
        // A new store gets 64 KiB pages, the size of a block of states (no-op on an existing one).
        conn.execute_batch("PRAGMA page_size = 65536").map_err(e("setting the page size"))?;
        let mode: String =
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(e("switching to WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::db(
                format!("opening {}", path.display()),
                format!("the journal mode is {mode}, not WAL"),
            ));
        }
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 0; \
             PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF;",
        )
        .map_err(e("setting pragmas"))?;
        let mut s = Sqlite { conn, path: path.to_path_buf(), in_tx: false };
        s.schema()?;
        Ok(s)
    }

    fn e(&self, context: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        let c = context.to_string();
        move |x| err(&self.path, &c, x)
    }

    fn schema(&mut self) -> Result<(), StoreError> {
        let has_meta: bool = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(self.e("reading the schema"))?
            > 0;
        if !has_meta {
            let tables: i64 = self
                .conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(self.e("reading the schema"))?;
            if tables > 0 {
                return Err(StoreError::Schema(format!(
                    "{} is a SQLite database but not a crm-tiering store (it has no `meta` table); nothing was written",
                    self.path.display()
                )));
            }
            self.lock("creating the schema", None)?;
            let r = (|| {
                self.conn.execute_batch(SCHEMA)?;
                self.conn.execute_batch(STATE_BLOCKS)?;
                self.conn.execute_batch(&states_view_sql())?;
                self.conn.execute_batch(&SqliteDialect.view_sql())?;
                self.conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('store', 'crm-tiering'), ('schema_version', ?1), ('created_at', ?2)",
                    params![SCHEMA_VERSION.to_string(), now_utc()],
                )?;
                self.conn.execute_batch("COMMIT")
            })();
            self.in_tx = false;
            if let Err(x) = r {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(err(&self.path, "creating the schema", x));
            }
            return Ok(());
        }
        let version: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
            .optional()
            .map_err(self.e("reading the schema version"))?;
        let version: i64 = version.and_then(|v| v.parse().ok()).ok_or_else(|| {
            StoreError::Schema(format!(
                "{} has no readable schema version: it is not a crm-tiering store",
                self.path.display()
            ))
        })?;
        if version == 1 {
            return self.migrate_from_1();
        }
        schema_version_ok(&self.path.display().to_string(), version)
    }

    /// Schema 1 kept one `states` row per customer-month; schema 2 keeps blocks of them
    /// ([`crate::blocks`]). The migration rewrites every committed month's states into blocks
    /// in one transaction (all of it or nothing), under the store's write lock.
    fn migrate_from_1(&mut self) -> Result<(), StoreError> {
        self.lock("migrating the store from schema version 1", None)?;
        let path = self.path.clone();
        let e = |x| err(&path, "migrating the store from schema version 1", x);
        let r = (|| -> Result<(), StoreError> {
            let c = &self.conn;
            c.execute_batch(STATE_BLOCKS).map_err(e)?;
            let months: Vec<i64> = c
                .prepare("SELECT DISTINCT month FROM states ORDER BY month")
                .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
                .map_err(e)?;
            let mut insert = c.prepare(INSERT_BLOCK).map_err(e)?;
            for m in months {
                let rows: Vec<(String, Vec<u8>)> = c
                    .prepare_cached("SELECT customer_id, state FROM states WHERE month = ?1 ORDER BY customer_id")
                    .and_then(|mut st| st.query_map([m], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
                    .map_err(e)?;
                // A row of another size cannot be carried into a block (it would be read back as
                // a plausible state): the migration stops and changes nothing.
                let mut fixed = Vec::with_capacity(rows.len());
                for (id, blob) in rows {
                    let row = <[u8; STATE_BYTES]>::try_from(blob.as_slice()).map_err(|_| {
                        StoreError::Corrupt(format!(
                            "the stored state of customer {id} for {m} is {} bytes instead of {STATE_BYTES}; the store was not migrated from schema version 1 (nothing was changed)",
                            blob.len()
                        ))
                    })?;
                    fixed.push((id, row));
                }
                crate::blocks::for_each_block(fixed.iter().map(|(id, row)| (id.as_str(), row)), |k, b| {
                    insert
                        .execute(params![m, k, b.first_customer, b.customers as i64, b.id_ends, b.ids, b.states])
                        .map(|_| ())
                })
                .map_err(e)?;
            }
            c.execute_batch("DROP VIEW states_json; DROP TABLE states;").map_err(e)?;
            c.execute_batch(&states_view_sql()).map_err(e)?;
            c.execute_batch(&SqliteDialect.view_sql()).map_err(e)?;
            c.execute("UPDATE meta SET value = ?1 WHERE key = 'schema_version'", [SCHEMA_VERSION.to_string()])
                .map_err(e)?;
            c.execute_batch("COMMIT").map_err(e)
        })();
        self.in_tx = false;
        if let Err(x) = r {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(x);
        }
        Ok(())
    }

    /// Takes the write lock (`BEGIN IMMEDIATE`, failing at once when another run holds it).
    fn lock(&mut self, context: &str, _month: Option<Month>) -> Result<(), StoreError> {
        match self.conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {
                self.in_tx = true;
                Ok(())
            }
            Err(x) if matches!(x.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)) => {
                let holder = self.holder().ok().flatten();
                Err(StoreError::Locked(lock_message(&self.path.display().to_string(), holder)))
            }
            Err(x) => Err(err(&self.path, context, x)),
        }
    }

    fn holder(&self) -> rusqlite::Result<Option<Holder>> {
        self.conn
            .query_row(
                "SELECT run_id, month, started_at, pid, host FROM runs WHERE status = 'running' ORDER BY run_id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
    }

    fn rollback(&mut self) {
        if self.in_tx {
            let _ = self.conn.execute_batch("ROLLBACK");
            self.in_tx = false;
        }
    }

    fn dictionaries(&self) -> Result<Dictionaries, StoreError> {
        let read = |sql: &str| -> Result<Vec<(i64, String)>, StoreError> {
            let mut st = self.conn.prepare_cached(sql).map_err(self.e("reading dictionaries"))?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(self.e("reading dictionaries"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(self.e("reading dictionaries"))?;
            Ok(rows)
        };
        Dictionaries::load(
            read("SELECT idx, code FROM tier_codes ORDER BY idx")?,
            read("SELECT idx, code FROM legal_entities ORDER BY idx")?,
        )
    }

    fn committed(&self, month: Month) -> Result<Committed, StoreError> {
        let committed: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT m.run_id, coalesce(r.finished_at, m.committed_at) FROM months m JOIN runs r ON r.run_id = m.run_id WHERE m.month = ?1",
                [month.yyyymm()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.e("reading the committed months"))?;
        let latest: Option<i64> = self
            .conn
            .query_row("SELECT max(month) FROM months", [], |r| r.get(0))
            .map_err(self.e("reading the committed months"))?;
        Ok((committed, latest))
    }

    fn run(&self, run_id: i64) -> Result<Option<RunRecord>, StoreError> {
        Ok(self.read_runs(Some(run_id))?.pop())
    }

    fn read_runs(&self, only: Option<i64>) -> Result<Vec<RunRecord>, StoreError> {
        let e = self.e("reading the runs");
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT run_id, month, status, started_at, finished_at, pid, host, tool_version, rule_book_fingerprint, \
                 inputs, counts, rerun, note FROM runs WHERE ?1 IS NULL OR run_id = ?1 ORDER BY run_id",
            )
            .map_err(&e)?;
        let raw = st
            .query_map([only], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, Option<String>>(10)?,
                    r.get::<_, bool>(11)?,
                    r.get::<_, Option<String>>(12)?,
                ))
            })
            .map_err(&e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&e)?;
        raw.into_iter()
            .map(
                |(
                    run_id,
                    month,
                    status,
                    started_at,
                    finished_at,
                    pid,
                    host,
                    tool_version,
                    fp,
                    inputs,
                    counts,
                    rerun,
                    note,
                )| {
                    Ok(RunRecord {
                        run_id,
                        month: month_of(month)?,
                        status: RunStatus::parse(&status)?,
                        started_at,
                        finished_at,
                        pid,
                        host,
                        tool_version,
                        rule_book_fingerprint: fp,
                        inputs: parse_inputs(&inputs)?,
                        counts: parse_counts(counts)?,
                        rerun,
                        note,
                    })
                },
            )
            .collect()
    }
}

pub(crate) fn month_of(m: i64) -> Result<Month, StoreError> {
    Month::from_yyyymm(m).map_err(|_| StoreError::Corrupt(format!("stored month {m} is not a month")))
}

/// Refuses a schema this library cannot use.
pub(crate) fn schema_version_ok(location: &str, version: i64) -> Result<(), StoreError> {
    if version > SCHEMA_VERSION {
        return Err(StoreError::Schema(format!(
            "the store {location} has schema version {version}, newer than this tool's {SCHEMA_VERSION}: it was written by a newer crm-tiering; use that version (nothing was changed)"
        )));
    }
    if version < SCHEMA_VERSION {
        // Migrations from released versions are done by each backend when it opens a store
        // (version 1 to 2: `Sqlite::migrate_from_1`). Version 1 is the first released schema, so
        // anything older is a pre-release store.
        return Err(StoreError::Schema(format!(
            "the store {location} has schema version {version}, older than this tool's {SCHEMA_VERSION}, and no migration exists from it (it predates the first released schema); nothing was changed: export its states with the tool that wrote it and import them into a new store"
        )));
    }
    Ok(())
}

impl Backend for Sqlite {
    fn begin(&mut self, month: Month, meta: &RunMeta) -> Result<Begun, StoreError> {
        check_meta(meta)?;
        self.lock("taking the store lock", Some(month))?;
        let r = (|| -> Result<i64, StoreError> {
            let (committed, latest) = self.committed(month)?;
            check_sequence(month, meta.rerun, committed, latest)?;
            let e = self.e("recording the run");
            self.conn
                .execute(
                    "UPDATE runs SET status = 'abandoned', finished_at = ?1, note = 'its process ended without committing (found by a later run)' WHERE status = 'running'",
                    [now_utc()],
                )
                .map_err(&e)?;
            let inputs = serde_json::to_string(&meta.inputs).unwrap_or_else(|_| "[]".into());
            self.conn
                .execute(
                    "INSERT INTO runs (month, status, started_at, pid, host, tool_version, rule_book_fingerprint, rule_book_text, inputs, rerun) \
                     VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        month.yyyymm(),
                        now_utc(),
                        i64::from(std::process::id()),
                        host_name(),
                        meta.tool_version,
                        meta.rule_book_fingerprint,
                        meta.rule_book_text,
                        inputs,
                        meta.rerun
                    ],
                )
                .map_err(&e)?;
            let id = self.conn.last_insert_rowid();
            self.conn.execute_batch("COMMIT").map_err(&e)?;
            Ok(id)
        })();
        let run_id = match r {
            Ok(id) => {
                self.in_tx = false;
                id
            }
            Err(x) => {
                self.rollback();
                return Err(x);
            }
        };
        // The run is visible as `running` to anyone who finds the lock taken; now hold the lock
        // until the commit.
        self.lock("taking the store lock", Some(month))?;
        match self.dictionaries() {
            Ok(dicts) => Ok(Begun { run_id, dicts }),
            Err(x) => {
                let _ = self.abort(run_id, &x.to_string());
                Err(x)
            }
        }
    }

    fn write_month(
        &mut self,
        run_id: i64,
        month: Month,
        meta: &RunMeta,
        mut data: MonthData,
    ) -> Result<RunRecord, StoreError> {
        let counts = data.prepare()?;
        let (committed, latest) = self.committed(month)?;
        check_sequence(month, meta.rerun, committed.clone(), latest)?;
        let m = month.yyyymm();
        let c = &self.conn;
        let e = |x| err(&self.path, "committing the month", x);
        if let Some((old, _)) = committed {
            c.execute("DELETE FROM state_blocks WHERE month = ?1", [m]).map_err(e)?;
            c.execute("DELETE FROM events WHERE month = ?1", [m]).map_err(e)?;
            c.execute("DELETE FROM alerts WHERE month = ?1", [m]).map_err(e)?;
            c.execute(
                "UPDATE runs SET status = 'replaced', note = ?2 WHERE run_id = ?1",
                params![old, format!("replaced by run {run_id}")],
            )
            .map_err(e)?;
        }
        {
            let mut st = c.prepare("INSERT INTO tier_codes (idx, code) VALUES (?1, ?2)").map_err(e)?;
            for (i, code) in &data.dicts.new_tiers {
                st.execute(params![i, code]).map_err(e)?;
            }
            let mut st = c.prepare("INSERT INTO legal_entities (idx, code) VALUES (?1, ?2)").map_err(e)?;
            for (i, code) in &data.dicts.new_entities {
                st.execute(params![i, code]).map_err(e)?;
            }
            let mut st = c.prepare(INSERT_BLOCK).map_err(e)?;
            crate::blocks::for_each_block(data.states.sorted(), |k, b| {
                st.execute(params![m, k, b.first_customer, b.customers as i64, b.id_ends, b.ids, b.states]).map(|_| ())
            })
            .map_err(e)?;
            for (table, rows) in [
                ("events (month, customer_id, seq, kind, event)", &data.events),
                ("alerts (month, customer_id, seq, kind, alert)", &data.alerts),
            ] {
                let mut st = c.prepare(&format!("INSERT INTO {table} VALUES (?1, ?2, ?3, ?4, ?5)")).map_err(e)?;
                for r in rows {
                    st.execute(params![m, r.customer_id, r.seq, r.kind, r.json]).map_err(e)?;
                }
            }
            let mut st = c
                .prepare(
                    "INSERT INTO rejects (run_id, seq, month, customer_id, category, field, record, other_record, message) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(e)?;
            for r in &data.rejects {
                st.execute(params![
                    run_id,
                    r.seq,
                    m,
                    r.customer_id,
                    r.category,
                    r.field,
                    r.record,
                    r.other_record,
                    r.message
                ])
                .map_err(e)?;
            }
        }
        let now = now_utc();
        c.execute(
            "INSERT OR REPLACE INTO months (month, run_id, committed_at) VALUES (?1, ?2, ?3)",
            params![m, run_id, now],
        )
        .map_err(e)?;
        let counts_json = serde_json::to_string(&counts).unwrap_or_default();
        c.execute(
            "UPDATE runs SET status = 'committed', finished_at = ?2, counts = ?3 WHERE run_id = ?1",
            params![run_id, now, counts_json],
        )
        .map_err(e)?;
        c.execute_batch("COMMIT").map_err(e)?;
        self.in_tx = false;
        // Fold the WAL back into the file and truncate it, so that nothing of the run is left
        // beside the store (readers may keep it from completing; the next commit retries).
        let _ = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        self.run(run_id)?.ok_or_else(|| StoreError::Corrupt(format!("run {run_id} vanished after its commit")))
    }

    fn abort(&mut self, run_id: i64, why: &str) -> Result<(), StoreError> {
        self.rollback();
        self.conn
            .execute(
                "UPDATE runs SET status = 'aborted', finished_at = ?2, note = ?3 WHERE run_id = ?1 AND status = 'running'",
                params![run_id, now_utc(), why],
            )
            .map_err(self.e("recording the aborted run"))?;
        Ok(())
    }

    fn committed_months(&mut self) -> Result<Vec<Month>, StoreError> {
        let e = self.e("reading the committed months");
        let mut st = self.conn.prepare_cached("SELECT month FROM months ORDER BY month").map_err(&e)?;
        let ms = st.query_map([], |r| r.get::<_, i64>(0)).map_err(&e)?.collect::<Result<Vec<_>, _>>().map_err(&e)?;
        ms.into_iter().map(month_of).collect()
    }

    fn month_before(&mut self, month: Month) -> Result<Option<(Month, i64)>, StoreError> {
        let found: Option<(i64, i64)> = self
            .conn
            .query_row(
                "SELECT month, run_id FROM months WHERE month < ?1 ORDER BY month DESC LIMIT 1",
                [month.yyyymm()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.e("reading the committed months"))?;
        found.map(|(m, run)| Ok((month_of(m)?, run))).transpose()
    }

    fn states_before(&mut self, month: Option<Month>) -> Result<Option<LatestStates>, StoreError> {
        let e = self.e("reading the states");
        let before = month.map_or(i64::MAX, Month::yyyymm);
        let found: Option<(i64, i64, String, String)> = self
            .conn
            .query_row(
                "SELECT m.month, m.run_id, r.rule_book_fingerprint, r.rule_book_text FROM months m JOIN runs r ON r.run_id = m.run_id \
                 WHERE m.month < ?1 ORDER BY m.month DESC LIMIT 1",
                [before],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(&e)?;
        let Some((m, run_id, fingerprint, text)) = found else { return Ok(None) };
        let dicts = self.dictionaries()?;
        let mut states = PortfolioStates::new();
        let customers: i64 = self
            .conn
            .query_row("SELECT coalesce(sum(customers), 0) FROM state_blocks WHERE month = ?1", [m], |r| r.get(0))
            .map_err(&e)?;
        // Room for the month's new customers too (a few percent a month), so that adding them
        // does not rehash every stored id.
        let customers = usize::try_from(customers).unwrap_or(0);
        states.reserve(customers + customers / 8);
        self.blocks(m, m, &mut |_, block| {
            for k in 0..block.len() {
                let d = dicts.decode(block.id(k), block.state(k))?;
                states.insert(d.customer, d.state).map_err(|x| StoreError::Corrupt(x.to_string()))?;
            }
            Ok(())
        })?;
        stamp(&mut states, &fingerprint, &text)?;
        Ok(Some(LatestStates { month: month_of(m)?, run_id, rule_book_fingerprint: fingerprint, states }))
    }

    fn customer_history(&mut self, customer_id: &str) -> Result<CustomerHistory, StoreError> {
        let e = self.e("reading the customer's history");
        let dicts = self.dictionaries()?;
        let mut h = CustomerHistory::default();
        // CROSS JOIN keeps `months` the outer loop (one key lookup per month): with a bound
        // parameter and no statistics, SQLite's planner would otherwise scan every state.
        // CROSS JOIN keeps `months` the outer loop: per month, the one block whose first
        // customer is the last at or before the id (the `UNIQUE (month, first_customer)` index).
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT m.month, b.block, b.first_customer, b.customers, b.id_ends, b.ids, b.states FROM months m CROSS JOIN state_blocks b \
                 ON b.month = m.month AND b.first_customer = \
                 (SELECT max(first_customer) FROM state_blocks x WHERE x.month = m.month AND x.first_customer <= ?1) \
                 ORDER BY m.month",
            )
            .map_err(&e)?;
        let mut rows = st.query([customer_id]).map_err(&e)?;
        while let Some(r) = rows.next().map_err(&e)? {
            let m: i64 = r.get(0).map_err(&e)?;
            let block = stored_block(r, m, 1).map_err(|x| x.into_store(&e))?;
            if let Some(k) = block.find(customer_id) {
                let d = dicts.decode(customer_id, block.state(k))?;
                h.states.push(StateRow {
                    month: month_of(m)?,
                    customer: d.customer.into(),
                    state: d.state,
                    evaluated: d.evaluated,
                });
            }
        }
        drop(rows);
        for (sql, is_event) in [
            ("SELECT event FROM events WHERE customer_id = ?1 ORDER BY month, seq", true),
            ("SELECT alert FROM alerts WHERE customer_id = ?1 ORDER BY month, seq", false),
        ] {
            let mut st = self.conn.prepare_cached(sql).map_err(&e)?;
            let texts = st
                .query_map([customer_id], |r| r.get::<_, String>(0))
                .map_err(&e)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(&e)?;
            for t in texts {
                if is_event {
                    h.events.push(parse_json("event", &t)?);
                } else {
                    h.alerts.push(parse_json("alert", &t)?);
                }
            }
        }
        Ok(h)
    }

    fn runs(&mut self) -> Result<Vec<RunRecord>, StoreError> {
        self.read_runs(None)
    }

    fn run_rule_book(&mut self, run_id: i64) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT rule_book_text FROM runs WHERE run_id = ?1", [run_id], |r| r.get(0))
            .optional()
            .map_err(self.e("reading the run's rule book"))
    }

    fn for_each_state(
        &mut self,
        first: Month,
        last: Month,
        f: &mut dyn FnMut(StateRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let dicts = self.dictionaries()?;
        self.blocks(first.yyyymm(), last.yyyymm(), &mut |m, block| {
            let month = month_of(m)?;
            for k in 0..block.len() {
                let d = dicts.decode(block.id(k), block.state(k))?;
                f(StateRow { month, customer: d.customer.into(), state: d.state, evaluated: d.evaluated })?;
            }
            Ok(())
        })
    }

    fn events(&mut self, first: Month, last: Month, _customer: Option<&str>) -> Result<Vec<EventRow>, StoreError> {
        let rows = self.json_rows("event", first, last)?;
        rows.into_iter().map(|(c, t)| Ok(EventRow { customer_id: c, event: parse_json("event", &t)? })).collect()
    }

    fn alerts(&mut self, first: Month, last: Month, _customer: Option<&str>) -> Result<Vec<AlertRow>, StoreError> {
        let rows = self.json_rows("alert", first, last)?;
        rows.into_iter().map(|(c, t)| Ok(AlertRow { customer_id: c, alert: parse_json("alert", &t)? })).collect()
    }

    fn rejects(&mut self, first: Month, last: Month) -> Result<Vec<RejectRow>, StoreError> {
        let e = self.e("reading the rejects");
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT r.run_id, r.month, r.seq, r.customer_id, r.category, r.field, r.record, r.other_record, r.message \
                 FROM rejects r JOIN months m ON m.run_id = r.run_id WHERE m.month BETWEEN ?1 AND ?2 ORDER BY r.month, r.seq",
            )
            .map_err(&e)?;
        let rows = st
            .query_map([first.yyyymm(), last.yyyymm()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })
            .map_err(&e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&e)?;
        rows.into_iter()
            .map(|(run_id, month, seq, customer_id, category, field, record, other_record, message)| {
                Ok(RejectRow {
                    run_id,
                    month: month_of(month)?,
                    seq,
                    customer_id,
                    category,
                    field,
                    record,
                    other_record,
                    message,
                })
            })
            .collect()
    }
}
