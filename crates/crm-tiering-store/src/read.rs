//! The store's reads beyond the latest states: one customer's history, a range of months'
//! states, events, alerts and rejects. Each reads in one snapshot and checks what it reads
//! against the chain.

use std::collections::HashSet;

use crm_tiering::Month;

use crate::StoreError;
use crate::data::parse_json;
use crate::driver::{Value, need};
use crate::protocol::{Chain, Db};
use crate::types::{CustomerHistory, RejectRow, StateRow};

impl Db {
    /// One customer's states, events and alerts across the committed months. A customer
    /// with a state in a month has one in every later month (the portfolio keeps everyone) but
    /// a month written by `import-states`: a month without it is damage, never a shorter story.
    pub(crate) fn customer_history(&mut self, customer_id: &str) -> Result<CustomerHistory, StoreError> {
        self.snapshot(|db| {
            let chain = db.chain()?;
            let dicts = db.dictionaries()?;
            let mut h = CustomerHistory::default();
            let layout = db.d.layout();
            let c = db.ctx("reading the customer's history");
            let mut found: Vec<i64> = Vec::new();
            layout
                .customer(&mut *db.d, customer_id, &mut |m, row, history| {
                    let d = dicts.decode(customer_id, row, history)?;
                    found.push(m);
                    h.states.push(StateRow {
                        month: crate::protocol::month_of(m)?,
                        customer: d.customer.into(),
                        state: d.state,
                        evaluated: d.evaluated,
                        history: d.history,
                    });
                    Ok(())
                })
                .map_err(c)?;
            let imports: HashSet<i64> = db
                .rows("reading the audit", "SELECT run_id FROM runs WHERE kind = 'import'", &[], |r| need(r.int(0)?, 0))?
                .into_iter()
                .collect();
            if let Some(&first) = found.first() {
                let mut seen = first;
                for r in chain.months.iter().filter(|r| r.month.yyyymm() > first) {
                    let m = r.month.yyyymm();
                    if found.contains(&m) || imports.contains(&r.run_id) {
                        seen = m;
                        continue;
                    }
                    return Err(StoreError::Corrupt(format!(
                        "customer {customer_id} has a state in {} but none in {}, which the portfolio would have kept: states of {} were deleted; nothing was read: restore the store from a backup",
                        crate::types::month_text(seen),
                        r.month,
                        r.month
                    )));
                }
            }
            for what in ["event", "alert"] {
                let sql = format!("SELECT {what} FROM {what}s WHERE customer_id = ?1 ORDER BY month, seq");
                let texts = db.rows(&format!("reading the {what}s"), &sql, &[Value::Text(customer_id)], |r| {
                    Ok(need(r.text(0)?, 0)?.to_string())
                })?;
                for t in texts {
                    if what == "event" {
                        h.events.push(parse_json("event", &t)?);
                    } else {
                        h.alerts.push(parse_json("alert", &t)?);
                    }
                }
            }
            Ok(h)
        })
    }

    /// The committed states of `first..=last`, month by month in customer id order, each
    /// month checked against its record.
    pub(crate) fn for_each_state(
        &mut self,
        first: Month,
        last: Month,
        f: &mut dyn FnMut(StateRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.snapshot(|db| {
            let chain = db.chain()?;
            let dicts = db.dictionaries()?;
            for r in chain.months.iter().filter(|r| r.month >= first && r.month <= last) {
                let month = r.month;
                db.month_states(r, &mut |id, row, history| {
                    let d = dicts.decode(id, row, history)?;
                    f(StateRow {
                        month,
                        customer: d.customer.into(),
                        state: d.state,
                        evaluated: d.evaluated,
                        history: d.history,
                    })
                })?;
            }
            Ok(())
        })
    }

    /// The (customer, JSON) rows of `events` or `alerts` (`what` is `event` or `alert`) of
    /// `first..=last`, by month, customer and order, after checking the months' rows.
    pub(crate) fn json_rows(
        &mut self,
        what: &'static str,
        first: Month,
        last: Month,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.snapshot(|db| {
            let chain: Chain = db.chain()?;
            db.verify_rows_in(&chain, first, last)?;
            let sql = format!(
                "SELECT customer_id, {what} FROM {what}s WHERE month >= ?1 AND month <= ?2 ORDER BY month, customer_id, seq"
            );
            db.rows(&format!("reading the {what}s"), &sql, &[Value::Int(first.yyyymm()), Value::Int(last.yyyymm())], |r| {
                Ok((need(r.text(0)?, 0)?.to_string(), need(r.text(1)?, 1)?.to_string()))
            })
        })
    }

    /// The rejects of the committed runs for `first..=last`, by month, run and order.
    pub(crate) fn rejects(&mut self, first: Month, last: Month) -> Result<Vec<RejectRow>, StoreError> {
        self.snapshot(|db| {
            let chain = db.chain()?;
            db.verify_rows_in(&chain, first, last)?;
            db.reject_rows(
                "JOIN runs u ON u.run_id = r.run_id WHERE u.status = 'committed' AND r.month >= ?1 AND r.month <= ?2 \
                 ORDER BY r.month, r.run_id, r.seq",
                &[Value::Int(first.yyyymm()), Value::Int(last.yyyymm())],
            )
        })
    }
}
