//! Amendments: a catch-up run evaluates customers held back in earlier months from corrected
//! records and amends the latest committed month with the results. The latest month is the
//! head, so nothing chains on it: its states are replaced and its record (states checksum,
//! rows digests, digest) recomputed, in one transaction under the lock.

use std::collections::HashMap;

use crm_tiering::Month;

use crate::StoreError;
use crate::data::MonthData;
use crate::driver::Value;
use crate::protocol::{Db, Head};
use crate::types::{MonthRecord, RunKind, RunMeta, RunRecord};

impl Db {
    /// Records a `catch_up` run of `first..=last` amending the latest committed month, under
    /// the lock. Returns the run id, the latest month and the head.
    pub(crate) fn begin_amendment(
        &mut self,
        meta: &RunMeta,
        first: Month,
        last: Month,
    ) -> Result<(i64, Month, Head), StoreError> {
        let fp = meta.rule_book_fingerprint.clone();
        self.begin_run(meta, RunKind::CatchUp, Some((first, last)), &|chain| {
            let (Some(oldest), Some(latest)) = (chain.months.first(), chain.latest()) else {
                return Err(StoreError::Sequence(
                    "a catch-up amends the latest committed month, and the store has none; nothing was written".into(),
                ));
            };
            if first > last || last > latest.month || first < oldest.month {
                return Err(StoreError::Sequence(format!(
                    "a catch-up of {first}..{last} cannot amend the store: its months must lie within the committed months {}..{}; nothing was written",
                    oldest.month, latest.month
                )));
            }
            if latest.rule_book_fingerprint != fp {
                return Err(StoreError::Input(format!(
                    "the catch-up runs under rule book {fp}, but {} was committed under {}: a catch-up amends a month under the rule book that committed it; nothing was written",
                    latest.month, latest.rule_book_fingerprint
                )));
            }
            Ok(latest.month)
        })
    }

    /// Commits an amendment of `latest` by run `run_id`: `data` holds the new states of the
    /// latest month (every customer) and the catch-up's events, alerts and rejects, each of
    /// its own month in `first..=last`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn commit_amendment(
        &mut self,
        run_id: i64,
        latest: Month,
        first: Month,
        last: Month,
        mut data: MonthData,
        head: &Head,
    ) -> Result<(RunRecord, Head), StoreError> {
        let what = "committing the amendment";
        let (counts, chain) = self.begin_commit(&mut data, head, what)?;
        let Some(record) = chain.record(latest).cloned() else {
            return Err(crate::protocol::changed(head, &chain.head));
        };
        // A customer-month has its events from one evaluation: a customer the month already
        // has events or alerts of was not held back in it. Its `held_back` alerts (the month it
        // was held, SPEC §15.7) stay beside the catch-up's rows, which are numbered after them.
        for (table, rows) in [("events", &mut data.events), ("alerts", &mut data.alerts)] {
            let mut next_seq: HashMap<(i64, String), i32> = HashMap::new();
            for r in rows.iter_mut() {
                if r.month < first.yyyymm() || r.month > last.yyyymm() {
                    return Err(StoreError::Input(format!(
                        "the catch-up of {first}..{last} was given {table} of {} (customer {}); nothing was written",
                        crate::types::month_text(r.month),
                        r.customer_id
                    )));
                }
                let key = (r.month, r.customer_id.clone());
                if let Some(offset) = next_seq.get(&key) {
                    r.seq += offset;
                    continue;
                }
                let params = [Value::Int(r.month), r.customer_id.as_str().into()];
                let sql = format!(
                    "SELECT count(*), coalesce(max(seq) + 1, 0), coalesce(sum(CASE WHEN kind = 'held_back' THEN 1 ELSE 0 END), 0) FROM {table} WHERE month = ?1 AND customer_id = ?2"
                );
                let found = self.rows(what, &sql, &params, |x| {
                    Ok((x.int(0)?.unwrap_or(0), x.int(1)?.unwrap_or(0), x.int(2)?.unwrap_or(0)))
                })?;
                let (n, after, held_back) = found.first().copied().unwrap_or((0, 0, 0));
                if n > held_back {
                    return Err(StoreError::Input(format!(
                        "customer {} already has {table} in {}: a catch-up writes only customers held back in the months it evaluates; nothing was written",
                        r.customer_id,
                        crate::types::month_text(r.month)
                    )));
                }
                let offset = i32::try_from(after).unwrap_or(i32::MAX);
                r.seq += offset;
                next_seq.insert(key, offset);
            }
        }
        let layout = self.d.layout();
        let c = self.ctx(what);
        layout.delete(&mut *self.d, latest.yyyymm()).map_err(c)?;
        let (states, _) = self.write_data(latest, run_id, &data)?;
        self.finish_run(run_id, &counts, Some(&format!("amends {latest} (catch-up of {first}..{last})")))?;
        let writers = self.writers(&record)?;
        let [events, alerts, rejects] = self.row_tallies(&writers)?;
        let record =
            self.put_record(&chain, MonthRecord { states, events, alerts, rejects, digest: String::new(), ..record })?;
        self.d.commit().map_err(self.ctx(what))?;
        self.d.after_commit();
        let run = self.run(run_id)?;
        Ok((run, Head { month: Some(latest), digest: record.digest }))
    }
}
