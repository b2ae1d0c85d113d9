//! The month protocol, written once over a [`Driver`]: opening (schema, migration, the
//! chain's check), the run-status machine (`running` → `committed` | `aborted` | `abandoned`;
//! `committed` → `replaced` | `rolled_back`), committing a month, amending the latest one,
//! rolling it back, and every read.
//!
//! Here: the connection ([`Db`]) with its statement helpers, the chain's types and the
//! messages shared by the parts. The parts, each an `impl Db`: `opening` (open, create, the
//! lock), `chain` (the chain read and checked, a record put), `runs` (the run-status
//! machine), `commit` (a month's rows written, tallied and committed) and `read` (every read).
//! Amending the latest month is in `crate::amend`.

mod chain;
mod commit;
mod opening;
mod read;
mod runs;

use std::collections::HashMap;

use crm_tiering::Month;

use crate::StoreError;
use crate::chain::genesis;
use crate::codec::STATE_BYTES;
use crate::driver::{Driver, Row, RowSource, Value, need};
use crate::schema::Table;
use crate::types::{MonthRecord, month_text};

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

    /// Creates `tables` (a new store, or the migration that adds them).
    pub(crate) fn create_tables(&mut self, what: &str, tables: &[&Table]) -> Result<(), StoreError> {
        let dialect = self.d.dialect();
        for t in tables {
            for s in t.create_sql(dialect) {
                self.exec(what, &s, &[])?;
            }
        }
        Ok(())
    }

    /// Deletes month `m`'s (yyyymm) rows of `tables`, each keyed by its `month` column.
    pub(crate) fn delete_month(&mut self, what: &str, tables: &[&Table], m: i64) -> Result<(), StoreError> {
        for t in tables {
            self.exec(what, &format!("DELETE FROM {} WHERE month = ?1", t.name), &[m.into()])?;
        }
        Ok(())
    }

    /// Runs `body` in one transaction under the store's write lock: committed when it returns
    /// `Ok`, rolled back otherwise (all of it or nothing); the lock released either way. A
    /// database error is named as `what`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Locked`] when another writer holds the lock; `body`'s error; a database
    /// error of the transaction.
    pub(crate) fn locked_transaction(
        &mut self,
        what: &str,
        body: impl FnOnce(&mut Self) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.lock(what)?;
        let r = self.d.begin().and_then(|_| body(self)).and_then(|()| self.d.commit());
        if r.is_err() {
            self.d.rollback();
        }
        self.d.unlock();
        if r.is_ok() {
            self.d.after_commit();
        }
        r.map_err(self.ctx(what))
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
    db.month_states(r, &mut |id, row, _| {
        let row = <[u8; STATE_BYTES]>::try_from(row)
            .map_err(|_| StoreError::Corrupt(format!("the stored state of customer {id} is {} bytes", row.len())))?;
        out.insert(id.to_string(), row);
        Ok(())
    })?;
    Ok(out)
}
