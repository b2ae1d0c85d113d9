//! Amendments: a catch-up run evaluates customers held back in earlier months from corrected
//! records and amends the latest committed month with the results. The latest month is the
//! head, so nothing chains on it: its states are replaced and its record (states checksum,
//! rows digests, digest) recomputed, in one transaction under the lock.

use std::collections::HashSet;

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
        let counts = data.prepare()?;
        if let Some(m) = &data.misplaced {
            return Err(StoreError::Input(m.clone()));
        }
        let what = "committing the amendment";
        self.d.begin().map_err(self.ctx(what))?;
        let chain = self.chain()?;
        if chain.head != *head {
            return Err(crate::protocol::changed(head, &chain.head));
        }
        let Some(record) = chain.record(latest).cloned() else {
            return Err(crate::protocol::changed(head, &chain.head));
        };
        // A customer-month has its events from one evaluation: a customer the month already
        // has events or alerts of was not held back in it.
        for (table, rows) in [("events", &data.events), ("alerts", &data.alerts)] {
            let mut seen = HashSet::new();
            for r in rows.iter() {
                if r.month < first.yyyymm() || r.month > last.yyyymm() {
                    return Err(StoreError::Input(format!(
                        "the catch-up of {first}..{last} was given {table} of {} (customer {}); nothing was written",
                        crate::types::month_text(r.month),
                        r.customer_id
                    )));
                }
                if !seen.insert((r.month, r.customer_id.as_str())) {
                    continue;
                }
                let sql = format!("SELECT count(*) FROM {table} WHERE month = ?1 AND customer_id = ?2");
                let n = self.rows(what, &sql, &[Value::Int(r.month), r.customer_id.as_str().into()], |x| {
                    Ok(x.int(0)?.unwrap_or(0))
                })?;
                if n.first().is_some_and(|n| *n > 0) {
                    return Err(StoreError::Input(format!(
                        "customer {} already has {table} in {}: a catch-up writes only customers held back in the months it evaluates; nothing was written",
                        r.customer_id,
                        crate::types::month_text(r.month)
                    )));
                }
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
