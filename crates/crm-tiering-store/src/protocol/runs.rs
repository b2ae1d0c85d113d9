//! The run-status machine: a run begins (`running`, under the lock), is aborted, finishes
//! (`committed`), or has its month rolled back (`rolled_back`).

use crm_tiering::Month;

use super::{Chain, Db, Head, changed};
use crate::StoreError;
use crate::driver::{Value, need};
use crate::schema;
use crate::types::{RunCounts, RunKind, RunMeta, host_name, now_utc};

impl Db {
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

    pub(crate) fn finish_run(&mut self, run_id: i64, counts: &RunCounts, note: Option<&str>) -> Result<(), StoreError> {
        let counts_json = serde_json::to_string(counts).unwrap_or_default();
        self.exec(
            "recording the run",
            "UPDATE runs SET status = 'committed', finished_at = ?2, counts = ?3, note = ?4 WHERE run_id = ?1",
            &[Value::Int(run_id), now_utc().as_str().into(), counts_json.as_str().into(), note.into()],
        )?;
        Ok(())
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
}
