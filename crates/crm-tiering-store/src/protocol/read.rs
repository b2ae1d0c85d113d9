//! The protocol's reads: the dictionaries, a month's states (checked against its count and
//! checksum), the states before a month, the audit's runs and the rejects.

use crm_tiering::Month;
use crm_tiering::portfolio::PortfolioStates;

use super::{Chain, Db, RUN_COLUMNS, month_of, short};
use crate::chain::StatesHasher;
use crate::codec::{Dictionaries, check_history};
use crate::data::{parse_counts, parse_inputs};
use crate::driver::{Value, need};
use crate::types::{LatestStates, MonthRecord, RejectRow, RunKind, RunRecord, RunStatus};
use crate::{StoreError, stamp};

impl Db {
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
                .read(&mut *self.d, r.month.yyyymm(), fast, &mut |id, row, history| {
                    if h.count() >= r.states.count {
                        return Err(StoreError::Corrupt(format!(
                            "the states of {}: more than the {} customers the month records",
                            r.month, r.states.count
                        )));
                    }
                    check_history(id, row, history).map_err(|e| match e {
                        StoreError::Corrupt(m) => StoreError::Corrupt(format!("the states of {}: {m}", r.month)),
                        other => other,
                    })?;
                    h.add(id, row, history);
                    f(id, row, history)
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
                &mut |id, row, history| {
                    let d = dicts.decode(id, row, history)?;
                    if matches!(d.evaluated, Some((_, true))) {
                        with_record.set(with_record.get() + 1);
                    }
                    let mut states = states.borrow_mut();
                    let i = states.insert(d.customer, d.state).map_err(|x| StoreError::Corrupt(x.to_string()))?;
                    if !d.history.is_empty() {
                        states.set_history(i, &d.history).map_err(|x| StoreError::Corrupt(x.to_string()))?;
                    }
                    Ok(())
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
