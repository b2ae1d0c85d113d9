//! Committing a month: its rows written (states, events, alerts, rejects), tallied and checked
//! against its record, a replaced month's rows removed, and the month put in the chain.

use crm_tiering::Month;

use super::{Db, Head, Writer, changed, short};
use crate::StoreError;
use crate::chain::{RowsHasher, StatesHasher};
use crate::data::{MonthData, check_sequence, parse_json};
use crate::driver::{Value, need};
use crate::schema;
use crate::types::{MonthRecord, RunMeta, RunRecord, Tally, now_utc};

impl Db {
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
                &mut data.states.sorted().inspect(|(id, row, history)| states.add(id, &row[..], *history)),
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

    /// What every commit does first: prepares the rows (refusing any given for another month),
    /// begins the transaction and checks that the head is still the one the run began from.
    /// Returns the run's counts and the chain as it stands.
    pub(crate) fn begin_commit(
        &mut self,
        data: &mut MonthData,
        head: &Head,
        what: &str,
    ) -> Result<(crate::types::RunCounts, super::Chain), StoreError> {
        let counts = data.prepare()?;
        if let Some(m) = &data.misplaced {
            return Err(StoreError::Input(m.clone()));
        }
        self.d.begin().map_err(self.ctx(what))?;
        let chain = self.chain()?;
        if chain.head != *head {
            return Err(changed(head, &chain.head));
        }
        Ok((counts, chain))
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
        let what = "committing the month";
        let (counts, chain) = self.begin_commit(&mut data, head, what)?;
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
}
