//! The month protocol, written once over a [`Driver`]: opening (schema, migration, the
//! chain's check), the run-status machine (`running` → `committed` | `aborted` | `abandoned`;
//! `committed` → `replaced` | `rolled_back`), committing a month, amending the latest one,
//! rolling it back, and every read.

use std::collections::HashMap;

use crm_tiering::Month;
use crm_tiering::portfolio::PortfolioStates;

use crate::chain::{RowsHasher, StatesHasher, genesis, month_digest, new_portfolio_id};
use crate::codec::{Dictionaries, STATE_BYTES};
use crate::data::{MonthData, check_sequence, parse_counts, parse_inputs, parse_json};
use crate::driver::{Driver, OpenMode, Row, RowSource, Value, need};
use crate::schema::{self, Table};
use crate::types::{
    LatestStates, MonthRecord, RejectRow, RunCounts, RunKind, RunMeta, RunRecord, RunStatus, Tally, host_name,
    month_text, now_utc,
};
use crate::{SCHEMA_VERSION, StoreError, stamp};

/// A run whose rows a committed month holds, and the months (yyyymm) of its rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Writer {
    pub(crate) run_id: i64,
    pub(crate) first: i64,
    pub(crate) last: i64,
}

/// The store's head: the latest committed month (none for an empty store) and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) month: Option<Month>,
    pub(crate) digest: String,
}

/// The committed months, checked.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    pub(crate) portfolio: String,
    pub(crate) months: Vec<MonthRecord>,
    pub(crate) head: Head,
}

impl Chain {
    pub(crate) fn latest(&self) -> Option<&MonthRecord> {
        self.months.last()
    }

    pub(crate) fn record(&self, month: Month) -> Option<&MonthRecord> {
        self.months.iter().find(|r| r.month == month)
    }

    /// The latest committed month before `month`.
    pub(crate) fn before(&self, month: Month) -> Option<&MonthRecord> {
        self.months.iter().rev().find(|r| r.month < month)
    }

    /// The digest a new record for `month` chains on.
    pub(crate) fn previous_digest(&self, month: Month) -> String {
        self.before(month).map_or_else(|| genesis(&self.portfolio), |r| r.digest.clone())
    }
}

fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// A connection with the store's statements on it.
pub(crate) struct Db {
    pub(crate) d: Box<dyn Driver>,
}

const RUN_COLUMNS: &str = "run_id, month, status, started_at, finished_at, pid, host, tool_version, \
     rule_book_fingerprint, inputs, counts, rerun, note, kind, amends, first_month, last_month";

const MONTH_COLUMNS: &str = "m.month, m.run_id, m.committed_at, m.previous, m.states_count, m.states_sha256, \
     m.events_count, m.events_sha256, m.alerts_count, m.alerts_sha256, m.rejects_count, m.rejects_sha256, m.digest, \
     r.rule_book_fingerprint";

pub(crate) fn month_of(m: i64) -> Result<Month, StoreError> {
    Month::from_yyyymm(m).map_err(|_| StoreError::Corrupt(format!("stored month {m} is not a month")))
}

fn count(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("a stored count ({v}) is negative")))
}

impl Db {
    pub(crate) fn location(&self) -> String {
        self.d.location().to_string()
    }

    /// Names what the store was doing in a database error.
    pub(crate) fn ctx(&self, what: &str) -> impl Fn(StoreError) -> StoreError + use<> {
        let context = format!("{what} in {}", self.d.location());
        move |e| match e {
            StoreError::Database { context: c, message } if c.is_empty() => {
                StoreError::Database { context: context.clone(), message }
            }
            other => other,
        }
    }

    pub(crate) fn exec(&mut self, what: &str, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        let c = self.ctx(what);
        self.d.execute(sql, params).map_err(c)
    }

    pub(crate) fn each(
        &mut self,
        what: &str,
        sql: &str,
        params: &[Value<'_>],
        f: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let c = self.ctx(what);
        self.d.query(sql, params, f).map_err(c)
    }

    pub(crate) fn rows<T>(
        &mut self,
        what: &str,
        sql: &str,
        params: &[Value<'_>],
        mut f: impl FnMut(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        self.each(what, sql, params, &mut |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    pub(crate) fn load(&mut self, what: &str, table: &Table, rows: &mut RowSource<'_>) -> Result<(), StoreError> {
        let c = self.ctx(what);
        self.d.load(table, rows).map_err(c)
    }

    pub(crate) fn table_exists(&mut self, name: &str) -> Result<bool, StoreError> {
        let sql = self.d.dialect().table_exists;
        let n = self.rows("reading the schema", sql, &[Value::Text(name)], |r| Ok(r.int(0)?.unwrap_or(0)))?;
        Ok(n.first().is_some_and(|n| *n > 0))
    }

    pub(crate) fn meta(&mut self) -> Result<HashMap<String, String>, StoreError> {
        let rows = self.rows("reading the store's meta", "SELECT key, value FROM meta", &[], |r| {
            Ok((need(r.text(0)?, 0)?.to_string(), need(r.text(1)?, 1)?.to_string()))
        })?;
        Ok(rows.into_iter().collect())
    }

    pub(crate) fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.exec("writing the store's meta", "DELETE FROM meta WHERE key = ?1", &[Value::Text(key)])?;
        self.exec(
            "writing the store's meta",
            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
            &[key.into(), value.into()],
        )?;
        Ok(())
    }

    /// Runs `f` in a read snapshot (or in the transaction already open).
    pub(crate) fn snapshot<T>(&mut self, f: impl FnOnce(&mut Db) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let c = self.ctx("starting a read");
        let started = self.d.begin().map_err(c)?;
        let r = f(self);
        if started {
            self.d.rollback();
        }
        r
    }

    // --- Opening --------------------------------------------------------------------------

    /// Checks the store at the connection (and migrates an older schema when writable).
    /// Returns the portfolio id.
    pub(crate) fn open(&mut self, mode: OpenMode) -> Result<String, StoreError> {
        let loc = self.location();
        let version = self.snapshot(|db| {
            if !db.table_exists("meta")? {
                let sql = db.d.dialect().tables;
                let tables = db.rows("reading the schema", sql, &[], |r| Ok(r.int(0)?.unwrap_or(0)))?;
                if tables.first().is_some_and(|n| *n > 0) {
                    return Err(StoreError::Schema(format!(
                        "{loc} is a database but not a crm-tiering store (it has no `meta` table); nothing was written"
                    )));
                }
                return Err(StoreError::Missing(format!(
                    "no crm-tiering store in {loc}: `crm-tiering init --store {loc}` creates one (or `run --create-store` for the first run)"
                )));
            }
            let meta = db.meta()?;
            meta.get("schema_version").and_then(|v| v.parse::<i64>().ok()).ok_or_else(|| {
                StoreError::Schema(format!("{loc} has no readable schema version: it is not a crm-tiering store"))
            })
        })?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Schema(format!(
                "the store {loc} has schema version {version}, newer than this tool's {SCHEMA_VERSION}: it was written by a newer crm-tiering; use that version (nothing was changed)"
            )));
        }
        if version < 1 {
            return Err(StoreError::Schema(format!(
                "the store {loc} has schema version {version}, older than this tool's {SCHEMA_VERSION}, and no migration exists from it (it predates the first released schema); nothing was changed: export its states with the tool that wrote it and import them into a new store"
            )));
        }
        if version < SCHEMA_VERSION {
            if mode == OpenMode::ReadOnly {
                return Err(StoreError::Schema(format!(
                    "the store {loc} has schema version {version} and must be upgraded to version {SCHEMA_VERSION} before this tool reads it, which a read-only open never does; nothing was changed: open it once writable (`crm-tiering migrate --store {loc}`, or the next `run`)"
                )));
            }
            self.migrate(version)?;
        }
        let chain = self.snapshot(Db::chain)?;
        Ok(chain.portfolio)
    }

    /// Creates the store's tables where there are none. Returns the portfolio id.
    pub(crate) fn create(&mut self) -> Result<String, StoreError> {
        let loc = self.location();
        self.lock("creating the store")?;
        let r = (|| {
            self.d.begin()?;
            let mut names: Vec<&str> = schema::TABLES.iter().map(|t| t.name).collect();
            names.extend(["states", "state_blocks", "states_json"]);
            for n in names {
                if self.table_exists(n)? {
                    return Err(StoreError::Exists(format!(
                        "{loc} holds a crm-tiering store already (or tables named like one: `{n}`); nothing was written"
                    )));
                }
            }
            let dialect = self.d.dialect();
            let mut ddl: Vec<String> = schema::TABLES.iter().flat_map(|t| t.create_sql(dialect)).collect();
            ddl.extend(self.d.layout().create_sql(dialect));
            ddl.push(dialect.view.view_sql());
            for s in &ddl {
                self.exec("creating the store", s, &[])?;
            }
            let portfolio = new_portfolio_id();
            for (k, v) in [
                ("store", "crm-tiering".to_string()),
                ("schema_version", SCHEMA_VERSION.to_string()),
                ("created_at", now_utc()),
                ("portfolio_id", portfolio.clone()),
                ("head_month", String::new()),
                ("head_digest", genesis(&portfolio)),
            ] {
                self.set_meta(k, &v)?;
            }
            self.d.commit().map_err(self.ctx("creating the store"))?;
            Ok(portfolio)
        })();
        self.d.unlock();
        r
    }

    pub(crate) fn lock(&mut self, what: &str) -> Result<(), StoreError> {
        let c = self.ctx(what);
        if self.d.try_lock().map_err(c)? {
            return Ok(());
        }
        let holder = self.holder();
        Err(StoreError::Locked(lock_message(self.d.location(), holder)))
    }

    /// The run holding the lock, from the audit (best effort).
    fn holder(&mut self) -> Option<(i64, i64, String, i64, String)> {
        self.rows(
            "reading the audit",
            "SELECT run_id, month, started_at, pid, host FROM runs WHERE status = 'running' ORDER BY run_id DESC",
            &[],
            |r| {
                Ok((
                    need(r.int(0)?, 0)?,
                    need(r.int(1)?, 1)?,
                    need(r.text(2)?, 2)?.to_string(),
                    need(r.int(3)?, 3)?,
                    need(r.text(4)?, 4)?.to_string(),
                ))
            },
        )
        .ok()?
        .into_iter()
        .next()
    }

    // --- The chain ------------------------------------------------------------------------

    /// The committed months, each checked against its digest and the one before it, and the
    /// head against the last. Anything that does not match is [`StoreError::Corrupt`].
    pub(crate) fn chain(&mut self) -> Result<Chain, StoreError> {
        let meta = self.meta()?;
        let portfolio = meta
            .get("portfolio_id")
            .filter(|p| !p.is_empty())
            .cloned()
            .ok_or_else(|| StoreError::Corrupt("the store has no portfolio id (meta `portfolio_id`)".into()))?;
        let (Some(head_month), Some(head_digest)) = (meta.get("head_month"), meta.get("head_digest")) else {
            return Err(StoreError::Corrupt(
                "the store's head (meta `head_month`, `head_digest`) is missing: it cannot tell its latest month; nothing was read or written: restore the store from a backup".into(),
            ));
        };
        let head = Head {
            month: if head_month.is_empty() {
                None
            } else {
                Some(head_month.parse::<Month>().map_err(|_| {
                    StoreError::Corrupt(format!("the store's head names `{head_month}`, which is not a month"))
                })?)
            },
            digest: head_digest.clone(),
        };
        let months = self.records()?;
        let mut previous = genesis(&portfolio);
        let mut before: Option<Month> = None;
        for r in &months {
            if r.previous != previous {
                let what = before.map_or_else(|| "the start of the store".to_string(), |m| m.to_string());
                return Err(StoreError::Corrupt(format!(
                    "month {} does not chain on the month before it: it records {} as that month's digest, but {what} has {}: a committed month was deleted, edited or copied from elsewhere; nothing was read or written: restore the store from a backup",
                    r.month,
                    short(&r.previous),
                    short(&previous)
                )));
            }
            if month_digest(&portfolio, r) != r.digest {
                return Err(StoreError::Corrupt(format!(
                    "the record of month {} does not match its digest {}: its run, counts or checksums were edited; nothing was read or written: restore the store from a backup",
                    r.month,
                    short(&r.digest)
                )));
            }
            previous = r.digest.clone();
            before = Some(r.month);
        }
        if head.month != before || head.digest != previous {
            let said = head.month.map_or_else(|| "no month".to_string(), |m| m.to_string());
            let is = before
                .map_or_else(|| "no committed month".to_string(), |m| format!("{m} is the latest committed month"));
            return Err(StoreError::Corrupt(format!(
                "the store's head names {said} (digest {}) but {is} (digest {}): a committed month was deleted or the head edited; nothing was read or written: restore the store from a backup",
                short(&head.digest),
                short(&previous)
            )));
        }
        Ok(Chain { portfolio, months, head })
    }

    fn records(&mut self) -> Result<Vec<MonthRecord>, StoreError> {
        let sql =
            format!("SELECT {MONTH_COLUMNS} FROM months m LEFT JOIN runs r ON r.run_id = m.run_id ORDER BY m.month");
        self.rows("reading the committed months", &sql, &[], |r| {
            let month = month_of(need(r.int(0)?, 0)?)?;
            let incomplete =
                || StoreError::Corrupt(format!("the record of month {month} is incomplete (a value of it is missing)"));
            let run_id = need(r.int(1)?, 1)?;
            let text =
                |i: usize| -> Result<String, StoreError> { r.text(i)?.map(str::to_string).ok_or_else(incomplete) };
            let tally = |i: usize| -> Result<Tally, StoreError> {
                Ok(Tally { count: count(r.int(i)?.ok_or_else(incomplete)?)?, sha256: text(i + 1)? })
            };
            let fingerprint = r.text(13)?.map(str::to_string).ok_or_else(|| {
                StoreError::Corrupt(format!("month {month} was committed by run {run_id}, which is not in the audit"))
            })?;
            Ok(MonthRecord {
                month,
                run_id,
                committed_at: text(2)?,
                previous: text(3)?,
                states: tally(4)?,
                events: tally(6)?,
                alerts: tally(8)?,
                rejects: tally(10)?,
                digest: text(12)?,
                rule_book_fingerprint: fingerprint,
            })
        })
    }

    /// Writes a month's record with its digest, and moves the head to it when it is the
    /// latest.
    pub(crate) fn put_record(&mut self, chain: &Chain, mut r: MonthRecord) -> Result<MonthRecord, StoreError> {
        r.digest = month_digest(&chain.portfolio, &r);
        let what = "recording the month";
        self.exec(what, "DELETE FROM months WHERE month = ?1", &[Value::Int(r.month.yyyymm())])?;
        let t = |t: &Tally| (t.count as i64, t.sha256.clone());
        let (s, e, a, j) = (t(&r.states), t(&r.events), t(&r.alerts), t(&r.rejects));
        self.exec(
            what,
            "INSERT INTO months (month, run_id, committed_at, previous, states_count, states_sha256, events_count, events_sha256, \
             alerts_count, alerts_sha256, rejects_count, rejects_sha256, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            &[
                Value::Int(r.month.yyyymm()),
                Value::Int(r.run_id),
                (&r.committed_at).into(),
                (&r.previous).into(),
                Value::Int(s.0),
                (&s.1).into(),
                Value::Int(e.0),
                (&e.1).into(),
                Value::Int(a.0),
                (&a.1).into(),
                Value::Int(j.0),
                (&j.1).into(),
                (&r.digest).into(),
            ],
        )?;
        if chain.latest().is_none_or(|l| l.month <= r.month) {
            self.set_meta("head_month", &r.month.to_string())?;
            self.set_meta("head_digest", &r.digest)?;
        }
        Ok(r)
    }

    // --- Runs -----------------------------------------------------------------------------

    /// Takes the lock, asks `check` for the run's month given the chain (or why it may not
    /// run), records a `running` run (committed, so that a second run can name it) and takes
    /// the lock again for the run. Returns the run id, the month and the head it began from.
    pub(crate) fn begin_run(
        &mut self,
        meta: &RunMeta,
        kind: RunKind,
        span: Option<(Month, Month)>,
        check: &dyn Fn(&Chain) -> Result<Month, StoreError>,
    ) -> Result<(i64, Month, Head), StoreError> {
        crate::data::check_meta(meta)?;
        let what = "recording the run";
        self.lock("taking the store lock")?;
        let r = (|| -> Result<(i64, Month, Head), StoreError> {
            self.d.begin().map_err(self.ctx(what))?;
            let chain = self.chain()?;
            let month = check(&chain)?;
            self.exec(
                what,
                "UPDATE runs SET status = 'abandoned', finished_at = ?1, note = 'its process ended without committing (found by a later run)' WHERE status = 'running'",
                &[now_utc().as_str().into()],
            )?;
            let inputs = serde_json::to_string(&meta.inputs).unwrap_or_else(|_| "[]".into());
            let (started, host) = (now_utc(), host_name());
            let sql = format!("{} RETURNING run_id", schema::RUNS.insert_sql());
            let ids = self.rows(
                what,
                &sql,
                &[
                    Value::Int(month.yyyymm()),
                    "running".into(),
                    started.as_str().into(),
                    Value::Null,
                    Value::Int(i64::from(std::process::id())),
                    host.as_str().into(),
                    meta.tool_version.as_str().into(),
                    meta.rule_book_fingerprint.as_str().into(),
                    meta.rule_book_text.as_str().into(),
                    inputs.as_str().into(),
                    Value::Null,
                    Value::Int(i64::from(meta.rerun)),
                    Value::Null,
                    kind.as_str().into(),
                    (kind == RunKind::CatchUp).then_some(month.yyyymm()).into(),
                    span.map(|s| s.0.yyyymm()).into(),
                    span.map(|s| s.1.yyyymm()).into(),
                ],
                |r| need(r.int(0)?, 0),
            )?;
            let id = ids.first().copied().ok_or_else(|| StoreError::db(what, "the database gave no run id"))?;
            self.d.commit().map_err(self.ctx(what))?;
            Ok((id, month, chain.head))
        })();
        let (run_id, month, head) = match r {
            Ok(x) => x,
            Err(e) => {
                self.d.unlock();
                return Err(e);
            }
        };
        // The run is visible as `running` to anyone who finds the lock taken; hold the lock
        // until the commit (on SQLite the commit above released it: take it again, and check
        // that nobody committed in between).
        if let Err(e) = self.relock(&head) {
            let _ = self.abort(run_id, &e.to_string());
            return Err(e);
        }
        Ok((run_id, month, head))
    }

    /// Takes the lock again if the driver released it, and checks that the head is still
    /// `head`.
    pub(crate) fn relock(&mut self, head: &Head) -> Result<(), StoreError> {
        if !self.d.locked() {
            self.lock("taking the store lock")?;
        }
        let now = self.snapshot(Db::chain)?.head;
        if now != *head {
            return Err(changed(head, &now));
        }
        Ok(())
    }

    /// Gives a run up: nothing of it is written, it is recorded as `aborted` with the reason,
    /// and the lock is released.
    pub(crate) fn abort(&mut self, run_id: i64, why: &str) -> Result<(), StoreError> {
        self.d.rollback();
        let r = self.exec(
            "recording the aborted run",
            "UPDATE runs SET status = 'aborted', finished_at = ?2, note = ?3 WHERE run_id = ?1 AND status = 'running'",
            &[Value::Int(run_id), now_utc().as_str().into(), why.into()],
        );
        self.d.unlock();
        r.map(|_| ())
    }

    /// The runs whose rows a committed month holds, each with the months of its rows: the one
    /// that committed it (that month) and the catch-ups that amended it (their months).
    pub(crate) fn writers(&mut self, r: &MonthRecord) -> Result<Vec<Writer>, StoreError> {
        let m = r.month.yyyymm();
        let mut out = vec![Writer { run_id: r.run_id, first: m, last: m }];
        out.extend(self.rows(
            "reading the audit",
            "SELECT run_id, first_month, last_month FROM runs WHERE kind = 'catch_up' AND amends = ?1 AND status = 'committed' ORDER BY run_id",
            &[Value::Int(m)],
            |row| Ok(Writer { run_id: need(row.int(0)?, 0)?, first: need(row.int(1)?, 1)?, last: need(row.int(2)?, 2)? }),
        )?);
        out.sort_by_key(|w| w.run_id);
        out.dedup_by_key(|w| w.run_id);
        Ok(out)
    }

    /// The tallies of the events, alerts and rejects of `runs`, read back.
    pub(crate) fn row_tallies(&mut self, runs: &[Writer]) -> Result<[Tally; 3], StoreError> {
        let mut out: [Tally; 3] = Default::default();
        for (k, what) in ["event", "alert"].into_iter().enumerate() {
            let mut h = RowsHasher::default();
            // The months first, so that a month's rows are read by key.
            let sql = format!(
                "SELECT month, customer_id, seq, kind, {what} FROM {what}s WHERE month >= ?2 AND month <= ?3 AND run_id = ?1 \
                 ORDER BY month, customer_id, seq"
            );
            for w in runs {
                let run = w.run_id;
                let p = [Value::Int(run), Value::Int(w.first), Value::Int(w.last)];
                self.each(&format!("reading the {what}s"), &sql, &p, &mut |r| {
                    let text = need(r.text(4)?, 4)?;
                    // The JSON as the store writes it (PostgreSQL gives jsonb back reformatted).
                    let json = if what == "event" {
                        serde_json::to_string(&parse_json::<crm_tiering::Event>("event", text)?)
                    } else {
                        serde_json::to_string(&parse_json::<crm_tiering::Alert>("alert", text)?)
                    }
                    .map_err(|e| StoreError::Corrupt(format!("a stored {what} does not write back: {e}")))?;
                    h.json_row(
                        run,
                        need(r.int(0)?, 0)?,
                        need(r.text(1)?, 1)?,
                        need(r.int(2)?, 2)?,
                        need(r.text(3)?, 3)?,
                        &json,
                    );
                    Ok(())
                })?;
            }
            out[k] = h.finish();
        }
        let mut h = RowsHasher::default();
        for w in runs {
            for r in self.reject_rows("WHERE r.run_id = ?1 ORDER BY r.seq", &[Value::Int(w.run_id)])? {
                h.reject(w.run_id, &r);
            }
        }
        out[2] = h.finish();
        Ok(out)
    }

    /// Checks the rows of committed month `r` against its record.
    pub(crate) fn verify_rows(&mut self, r: &MonthRecord) -> Result<(), StoreError> {
        let writers = self.writers(r)?;
        let [e, a, j] = self.row_tallies(&writers)?;
        for (what, got, want) in [("events", e, &r.events), ("alerts", a, &r.alerts), ("rejects", j, &r.rejects)] {
            if got != *want {
                return Err(StoreError::Corrupt(format!(
                    "the {what} of month {}: {} row(s) with digest {} where the month records {} with digest {}: rows were deleted, added or edited; nothing was read: restore the store from a backup",
                    r.month,
                    got.count,
                    short(&got.sha256),
                    want.count,
                    short(&want.sha256)
                )));
            }
        }
        Ok(())
    }

    /// Writes a month's states, events, alerts and rejects for run `run_id` in the open
    /// transaction. Returns their tallies (states, and the rows this run wrote).
    pub(crate) fn write_data(
        &mut self,
        month: Month,
        run_id: i64,
        data: &MonthData,
    ) -> Result<(Tally, [Tally; 3]), StoreError> {
        let what = "committing the month";
        for (i, code) in &data.dicts.new_tiers {
            self.exec(what, "INSERT INTO tier_codes (idx, code) VALUES (?1, ?2)", &[Value::Int(*i), code.into()])?;
        }
        for (i, code) in &data.dicts.new_entities {
            self.exec(what, "INSERT INTO legal_entities (idx, code) VALUES (?1, ?2)", &[Value::Int(*i), code.into()])?;
        }
        let mut states = StatesHasher::default();
        let layout = self.d.layout();
        let c = self.ctx(what);
        layout
            .write(
                &mut *self.d,
                month.yyyymm(),
                &mut data.states.sorted().inspect(|(id, row)| states.add(id, &row[..])),
            )
            .map_err(c)?;
        let mut tallies: [Tally; 3] = Default::default();
        for (k, (table, rows)) in
            [(&schema::EVENTS, &data.events), (&schema::ALERTS, &data.alerts)].into_iter().enumerate()
        {
            let mut h = RowsHasher::default();
            self.load(what, table, &mut |push| {
                for r in rows {
                    h.json_row(run_id, r.month, &r.customer_id, i64::from(r.seq), r.kind, &r.json);
                    push(&[
                        Value::Int(r.month),
                        r.customer_id.as_str().into(),
                        Value::Int(i64::from(r.seq)),
                        r.kind.into(),
                        r.json.as_str().into(),
                        Value::Int(run_id),
                    ])?;
                }
                Ok(())
            })?;
            tallies[k] = h.finish();
        }
        let mut h = RowsHasher::default();
        self.load(what, &schema::REJECTS, &mut |push| {
            for r in &data.rejects {
                h.reject(run_id, r);
                push(&[
                    Value::Int(run_id),
                    Value::Int(r.seq),
                    Value::Int(r.month.yyyymm()),
                    r.customer_id.as_deref().into(),
                    r.category.as_str().into(),
                    r.field.as_deref().into(),
                    r.record.as_deref().into(),
                    r.other_record.as_deref().into(),
                    r.message.as_str().into(),
                ])?;
            }
            Ok(())
        })?;
        tallies[2] = h.finish();
        Ok((states.finish(), tallies))
    }

    /// Removes what the runs of a committed month wrote (its states, and the events, alerts
    /// and, unless `keep_rejects`, rejects of `writers`).
    pub(crate) fn remove_month(
        &mut self,
        month: Month,
        writers: &[Writer],
        keep_rejects: bool,
    ) -> Result<(), StoreError> {
        let what = "removing the month's rows";
        let layout = self.d.layout();
        let c = self.ctx(what);
        layout.delete(&mut *self.d, month.yyyymm()).map_err(c)?;
        for w in writers {
            let p = [Value::Int(w.run_id), Value::Int(w.first), Value::Int(w.last)];
            self.exec(what, "DELETE FROM events WHERE month >= ?2 AND month <= ?3 AND run_id = ?1", &p)?;
            self.exec(what, "DELETE FROM alerts WHERE month >= ?2 AND month <= ?3 AND run_id = ?1", &p)?;
            if !keep_rejects {
                self.exec(what, "DELETE FROM rejects WHERE run_id = ?1", &p[..1])?;
            }
        }
        Ok(())
    }

    pub(crate) fn finish_run(&mut self, run_id: i64, counts: &RunCounts, note: Option<&str>) -> Result<(), StoreError> {
        let counts_json = serde_json::to_string(counts).unwrap_or_default();
        self.exec(
            "recording the run",
            "UPDATE runs SET status = 'committed', finished_at = ?2, counts = ?3, note = ?4 WHERE run_id = ?1",
            &[Value::Int(run_id), now_utc().as_str().into(), counts_json.as_str().into(), note.into()],
        )?;
        Ok(())
    }

    /// Commits a month: in one transaction, under the lock, after checking that the head is
    /// still the one the run began from. `keep_lock` holds the lock for the next month of a
    /// range.
    pub(crate) fn commit_month(
        &mut self,
        run_id: i64,
        month: Month,
        meta: &RunMeta,
        mut data: MonthData,
        head: &Head,
    ) -> Result<(RunRecord, Head), StoreError> {
        let counts = data.prepare()?;
        if let Some(m) = &data.misplaced {
            return Err(StoreError::Input(m.clone()));
        }
        let what = "committing the month";
        self.d.begin().map_err(self.ctx(what))?;
        let chain = self.chain()?;
        if chain.head != *head {
            return Err(changed(head, &chain.head));
        }
        let committed = chain.record(month).cloned();
        check_sequence(
            month,
            meta.rerun,
            committed.as_ref().map(|r| (r.run_id, r.committed_at.clone())),
            chain.latest().map(|r| r.month),
        )?;
        if let Some(old) = &committed {
            let writers = self.writers(old)?;
            self.remove_month(month, &writers, true)?;
            for w in writers {
                self.exec(
                    what,
                    "UPDATE runs SET status = 'replaced', note = ?2 WHERE run_id = ?1",
                    &[Value::Int(w.run_id), format!("replaced by run {run_id}").as_str().into()],
                )?;
            }
        }
        let (states, [events, alerts, rejects]) = self.write_data(month, run_id, &data)?;
        let record = MonthRecord {
            month,
            run_id,
            committed_at: now_utc(),
            previous: chain.previous_digest(month),
            states,
            events,
            alerts,
            rejects,
            digest: String::new(),
            rule_book_fingerprint: meta.rule_book_fingerprint.clone(),
        };
        let record = self.put_record(&chain, record)?;
        self.finish_run(run_id, &counts, None)?;
        self.d.commit().map_err(self.ctx(what))?;
        self.d.after_commit();
        let run = self.run(run_id)?;
        Ok((run, Head { month: Some(month), digest: record.digest }))
    }

    /// Undoes the latest committed month: its runs become `rolled_back` (`who` and when in
    /// their note), its rows leave the tables, the head moves back. Returns the runs.
    pub(crate) fn rollback(&mut self, month: Month, who: &str) -> Result<Vec<i64>, StoreError> {
        let what = "rolling the month back";
        self.lock("taking the store lock")?;
        let r = (|| {
            self.d.begin().map_err(self.ctx(what))?;
            let chain = self.chain()?;
            let Some(latest) = chain.latest().cloned() else {
                return Err(StoreError::Sequence(format!(
                    "month {month} cannot be rolled back: the store has no committed month; nothing was changed"
                )));
            };
            if latest.month != month {
                return Err(StoreError::Sequence(format!(
                    "month {month} cannot be rolled back: only the latest committed month can, and that is {}; nothing was changed",
                    latest.month
                )));
            }
            let writers = self.writers(&latest)?;
            self.remove_month(month, &writers, false)?;
            self.exec(what, "DELETE FROM months WHERE month = ?1", &[Value::Int(month.yyyymm())])?;
            let note = format!("rolled back by {who} on {} at {}", host_name(), now_utc());
            for w in &writers {
                self.exec(
                    what,
                    "UPDATE runs SET status = 'rolled_back', note = ?2 WHERE run_id = ?1",
                    &[Value::Int(w.run_id), note.as_str().into()],
                )?;
            }
            let before = chain.before(month);
            self.set_meta("head_month", &before.map(|r| r.month.to_string()).unwrap_or_default())?;
            self.set_meta("head_digest", &chain.previous_digest(month))?;
            self.d.commit().map_err(self.ctx(what))?;
            self.d.after_commit();
            Ok(writers.iter().map(|w| w.run_id).collect())
        })();
        self.d.unlock();
        r
    }

    // --- Reads ----------------------------------------------------------------------------

    pub(crate) fn dictionaries(&mut self) -> Result<Dictionaries, StoreError> {
        let mut read = |sql: &str| {
            self.rows("reading the dictionaries", sql, &[], |r| {
                Ok((need(r.int(0)?, 0)?, need(r.text(1)?, 1)?.to_string()))
            })
        };
        let tiers = read("SELECT idx, code FROM tier_codes ORDER BY idx")?;
        let entities = read("SELECT idx, code FROM legal_entities ORDER BY idx")?;
        Dictionaries::load(tiers, entities)
    }

    /// Reads a committed month's encoded states in customer id order, checking their count
    /// and checksum against its record at the end.
    pub(crate) fn month_states(
        &mut self,
        r: &MonthRecord,
        f: &mut crate::driver::StateFn<'_>,
    ) -> Result<(), StoreError> {
        self.month_states_fast(r, &mut || {}, f, false)
    }

    /// [`Db::month_states`], letting the layout read the rows as they lie first when `fast`:
    /// should they not come in id order, `reset` is called and the month is read again in
    /// order.
    pub(crate) fn month_states_fast(
        &mut self,
        r: &MonthRecord,
        reset: &mut dyn FnMut(),
        f: &mut crate::driver::StateFn<'_>,
        mut fast: bool,
    ) -> Result<(), StoreError> {
        let layout = self.d.layout();
        loop {
            let mut h = StatesHasher::default();
            let c = self.ctx("reading the states");
            let whole = layout
                .read(&mut *self.d, r.month.yyyymm(), fast, &mut |id, row| {
                    if h.count() >= r.states.count {
                        return Err(StoreError::Corrupt(format!(
                            "the states of {}: more than the {} customers the month records",
                            r.month, r.states.count
                        )));
                    }
                    h.add(id, row);
                    f(id, row)
                })
                .map_err(c)?;
            if !whole {
                reset();
                fast = false;
                continue;
            }
            let got = h.finish();
            if got != r.states {
                return Err(StoreError::Corrupt(format!(
                    "the states of {}: {} customer(s) with checksum {} where the month records {} with checksum {}: states were deleted, added or edited; nothing was read or written: restore the store from a backup",
                    r.month,
                    got.count,
                    short(&got.sha256),
                    r.states.count,
                    short(&r.states.sha256)
                )));
            }
            return Ok(());
        }
    }

    /// The states of the latest committed month before `before` (any when none), stamped.
    pub(crate) fn states_before(&mut self, before: Option<Month>) -> Result<Option<LatestStates>, StoreError> {
        self.snapshot(|db| {
            let chain = db.chain()?;
            let found = match before {
                Some(m) => chain.before(m),
                None => chain.latest(),
            };
            let Some(r) = found.cloned() else { return Ok(None) };
            let dicts = db.dictionaries()?;
            let layout = db.d.layout();
            // What the chain records, but never more than the stored rows can hold (or, where
            // the layout cannot tell cheaply, than 4M customers: a larger month grows as read).
            let present = layout.capacity(&mut *db.d, r.month.yyyymm()).map_err(db.ctx("reading the states"))?;
            let reserve = usize::try_from(r.states.count.min(present.unwrap_or(1 << 22))).unwrap_or(0);
            let fresh = || {
                let mut states = PortfolioStates::new();
                // Room for the month's new customers too (a few percent a month), so that
                // adding them does not rehash every stored id.
                states.reserve(reserve + reserve / 8);
                states
            };
            let states = std::cell::RefCell::new(fresh());
            let with_record = std::cell::Cell::new(0_u64);
            db.month_states_fast(
                &r,
                &mut || {
                    *states.borrow_mut() = fresh();
                    with_record.set(0);
                },
                &mut |id, row| {
                    let d = dicts.decode(id, row)?;
                    if matches!(d.evaluated, Some((_, true))) {
                        with_record.set(with_record.get() + 1);
                    }
                    let insert = states.borrow_mut().insert(d.customer, d.state);
                    insert.map(|_| ()).map_err(|x| StoreError::Corrupt(x.to_string()))
                },
                true,
            )?;
            let mut states = states.into_inner();
            let text = db.run_rule_book(r.run_id)?.unwrap_or_default();
            stamp(&mut states, &r.rule_book_fingerprint, &text)?;
            Ok(Some(LatestStates {
                month: r.month,
                run_id: r.run_id,
                digest: r.digest.clone(),
                rule_book_fingerprint: r.rule_book_fingerprint.clone(),
                states,
                with_record: with_record.get(),
            }))
        })
    }

    pub(crate) fn run_rule_book(&mut self, run_id: i64) -> Result<Option<String>, StoreError> {
        let t = self.rows(
            "reading the run's rule book",
            "SELECT rule_book_text FROM runs WHERE run_id = ?1",
            &[Value::Int(run_id)],
            |r| Ok(need(r.text(0)?, 0)?.to_string()),
        )?;
        Ok(t.into_iter().next())
    }

    pub(crate) fn runs(&mut self) -> Result<Vec<RunRecord>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY run_id");
        self.rows("reading the runs", &sql, &[], |r| {
            let month = |i: usize| -> Result<Option<Month>, StoreError> { r.int(i)?.map(month_of).transpose() };
            let span = match (month(15)?, month(16)?) {
                (Some(a), Some(b)) => Some((a, b)),
                _ => None,
            };
            Ok(RunRecord {
                run_id: need(r.int(0)?, 0)?,
                month: month_of(need(r.int(1)?, 1)?)?,
                status: RunStatus::parse(need(r.text(2)?, 2)?)?,
                started_at: need(r.text(3)?, 3)?.to_string(),
                finished_at: r.text(4)?.map(str::to_string),
                pid: need(r.int(5)?, 5)?,
                host: need(r.text(6)?, 6)?.to_string(),
                tool_version: need(r.text(7)?, 7)?.to_string(),
                rule_book_fingerprint: need(r.text(8)?, 8)?.to_string(),
                inputs: parse_inputs(need(r.text(9)?, 9)?)?,
                counts: parse_counts(r.text(10)?.map(str::to_string))?,
                rerun: need(r.int(11)?, 11)? != 0,
                note: r.text(12)?.map(str::to_string),
                kind: RunKind::parse(r.text(13)?.unwrap_or("month"))?,
                amends: month(14)?,
                months: span,
            })
        })
    }

    pub(crate) fn run(&mut self, run_id: i64) -> Result<RunRecord, StoreError> {
        self.runs()?
            .into_iter()
            .find(|r| r.run_id == run_id)
            .ok_or_else(|| StoreError::Corrupt(format!("run {run_id} is not in the audit")))
    }

    /// Rejects read with a `WHERE`/`ORDER BY` clause over `rejects r`.
    pub(crate) fn reject_rows(&mut self, clause: &str, params: &[Value<'_>]) -> Result<Vec<RejectRow>, StoreError> {
        let sql = format!(
            "SELECT r.run_id, r.month, r.seq, r.customer_id, r.category, r.field, r.record, r.other_record, r.message FROM rejects r {clause}"
        );
        self.rows("reading the rejects", &sql, params, |r| {
            Ok(RejectRow {
                run_id: need(r.int(0)?, 0)?,
                month: month_of(need(r.int(1)?, 1)?)?,
                seq: need(r.int(2)?, 2)?,
                customer_id: r.text(3)?.map(str::to_string),
                category: need(r.text(4)?, 4)?.to_string(),
                field: r.text(5)?.map(str::to_string),
                record: r.text(6)?.map(str::to_string),
                other_record: r.text(7)?.map(str::to_string),
                message: need(r.text(8)?, 8)?.to_string(),
            })
        })
    }

    /// The committed months whose rows may lie in `first..=last`: those months, and later
    /// months amended by catch-ups that wrote rows that early. Each is checked against its
    /// record.
    pub(crate) fn verify_rows_in(&mut self, chain: &Chain, first: Month, last: Month) -> Result<(), StoreError> {
        let amended: Vec<i64> = self.rows(
            "reading the audit",
            "SELECT amends FROM runs WHERE kind = 'catch_up' AND status = 'committed' AND first_month <= ?1",
            &[Value::Int(last.yyyymm())],
            |r| need(r.int(0)?, 0),
        )?;
        for r in &chain.months {
            if (r.month >= first && r.month <= last) || (r.month > last && amended.contains(&r.month.yyyymm())) {
                self.verify_rows(r)?;
            }
        }
        Ok(())
    }
}

/// The head moved while a run held (or was taking) the lock.
pub(crate) fn changed(was: &Head, now: &Head) -> StoreError {
    let name = |h: &Head| match h.month {
        Some(m) => format!("{m} (digest {})", short(&h.digest)),
        None => "no committed month".to_string(),
    };
    StoreError::Sequence(format!(
        "the store changed while this run was going on: it began from {} and the store now holds {} (another run committed, reran or rolled back a month in between); nothing of this month was written",
        name(was),
        name(now)
    ))
}

/// The lock message, from the holder's audit row when it is known.
pub(crate) fn lock_message(location: &str, holder: Option<(i64, i64, String, i64, String)>) -> String {
    match holder {
        Some((run_id, month, started, pid, host)) => format!(
            "another run holds the store lock since {started} (pid {pid} on {host}, run {run_id} writing month {}) on {location}; nothing was written: wait for it to finish and run again",
            month_text(month)
        ),
        None => format!(
            "another run holds the store lock on {location}; nothing was written: wait for it to finish and run again"
        ),
    }
}

/// The encoded states of a month as a map from id, to merge an amendment into.
pub(crate) fn month_rows(db: &mut Db, r: &MonthRecord) -> Result<HashMap<String, [u8; STATE_BYTES]>, StoreError> {
    let mut out = HashMap::new();
    db.month_states(r, &mut |id, row| {
        let row = <[u8; STATE_BYTES]>::try_from(row)
            .map_err(|_| StoreError::Corrupt(format!("the stored state of customer {id} is {} bytes", row.len())))?;
        out.insert(id.to_string(), row);
        Ok(())
    })?;
    Ok(out)
}
