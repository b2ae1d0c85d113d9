//! The chain of committed months: every month record read and checked against its digest and
//! the one before it, the head against the last; and a new record put at the head.

use crm_tiering::Month;

use super::{Chain, Db, Head, MONTH_COLUMNS, count, month_of, short};
use crate::StoreError;
use crate::chain::{genesis, month_digest};
use crate::driver::{Value, need};
use crate::types::{MonthRecord, Tally};

impl Db {
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
}
