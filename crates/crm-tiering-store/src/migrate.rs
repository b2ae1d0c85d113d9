//! Migrations from older schema versions, step by step, in one transaction under the write
//! lock (all of it or nothing). The states' tables of the layout get the columns added since
//! the store's version first ([`crate::layout::StateLayout::upgrade_sql`]), since every step
//! reads and writes the states as the layout keeps them now:
//!
//! - **1 to 2**: a SQLite store's one-row-per-customer `states` become blocks
//!   ([`crate::blocks`]); a PostgreSQL store only changes its number.
//! - **2 to 3**: the columns of schema 3 are added (the description in [`crate::schema`] says
//!   which); events and alerts get the run that wrote them (the committing run of their
//!   month); `import-states` runs are marked `import`; the store gets a portfolio id and each
//!   committed month its record in the chain ([`crate::chain`]), computed from what it holds;
//!   the head points at the latest month.
//! - **3 to 4**: each customer-month's history (SPEC §19.5) is kept beside its state: the
//!   blocks' `histories` column (SQLite), the rows' `history` column (PostgreSQL), added null.
//!   A store of schema 3 kept no history, so every customer's is empty: a book's windows start
//!   from the first month evaluated after the migration (SPEC §19.2's fewer months). Null
//!   histories leave the states' checksums, and so the chain, as they were.
//! - **4 to 5**: the contribution tables (SPEC §20, [`crate::contribution`]) are created,
//!   empty: `contribution_months`, `contribution_customers`, `contribution_managers`,
//!   `contribution_lineage`. Nothing else changes.
//! - **5 to 6**: the loan tables (SPEC §21.10, [`crate::loans`]) are created, empty:
//!   `loan_months`, `loan_customers`, `loan_results`, `loan_signals`, `loan_states`. Nothing
//!   else changes: the tiering months, their chain and the contribution months stay as they
//!   were.

use crm_tiering::Month;

use crate::codec::STATE_BYTES;
use crate::driver::{Value, need};
use crate::protocol::{Chain, Db, Head, month_of};
use crate::types::{MonthRecord, month_text, now_utc};
use crate::{SCHEMA_VERSION, StoreError, chain, layout, schema};

impl Db {
    /// Brings the store from schema version `from` to the current one.
    pub(crate) fn migrate(&mut self, from: i64) -> Result<(), StoreError> {
        let what = format!("upgrading the store from schema version {from}");
        self.lock(&what)?;
        let r = (|| {
            self.d.begin()?;
            // Another process may have upgraded it while this one waited for nothing.
            let now = self.rows(
                "reading the schema version",
                "SELECT value FROM meta WHERE key = 'schema_version'",
                &[],
                |r| Ok(need(r.text(0)?, 0)?.parse::<i64>().unwrap_or(from)),
            )?;
            let mut v = now.first().copied().unwrap_or(from);
            if v < SCHEMA_VERSION {
                let dialect = self.d.dialect();
                for s in self.d.layout().upgrade_sql(dialect, v) {
                    self.exec(&what, &s, &[])?;
                }
            }
            if v == 1 {
                self.upgrade_from_1()?;
                v = 2;
            }
            if v == 2 {
                self.upgrade_from_2()?;
                v = 3;
            }
            if v == 3 {
                // The histories' columns were added above, null: nothing else changes.
                v = 4;
            }
            if v == 4 {
                self.create_tables(&what, crate::contribution::TABLES)?;
                v = 5;
            }
            if v == 5 {
                self.create_tables(&what, crate::loans::TABLES)?;
                v = 6;
            }
            if v == SCHEMA_VERSION {
                self.exec(
                    &what,
                    "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                    &[v.to_string().as_str().into()],
                )?;
            }
            self.d.commit()
        })();
        if r.is_err() {
            self.d.rollback();
        }
        self.d.unlock();
        r.map_err(|e| match e {
            StoreError::Database { context, message } if context.is_empty() => {
                StoreError::Database { context: format!("{what} in {}", self.location()), message }
            }
            other => other,
        })
    }

    /// Schema 1 kept one `states` row per customer-month; SQLite's schema 2 keeps blocks.
    fn upgrade_from_1(&mut self) -> Result<(), StoreError> {
        let what = "upgrading the store from schema version 1";
        if !std::ptr::addr_eq(self.d.layout(), &layout::BLOCKS) {
            return Ok(());
        }
        let dialect = self.d.dialect();
        for s in layout::STATE_BLOCKS.create_sql(dialect) {
            self.exec(what, &s, &[])?;
        }
        for s in layout::STATE_SLOTS {
            self.exec(what, s, &[])?;
        }
        let months =
            self.rows(what, "SELECT DISTINCT month FROM states ORDER BY month", &[], |r| need(r.int(0)?, 0))?;
        for m in months {
            let rows = self.rows(what, "SELECT customer_id, state FROM states WHERE month = ?1 ORDER BY customer_id", &[Value::Int(m)], |r| {
                let id = need(r.text(0)?, 0)?.to_string();
                let blob = need(r.bytes(1)?, 1)?;
                // A row of another size cannot be carried into a block (it would be read back
                // as a plausible state): the migration stops and changes nothing.
                let row = <[u8; STATE_BYTES]>::try_from(blob).map_err(|_| {
                    StoreError::Corrupt(format!(
                        "the stored state of customer {id} for {} is {} bytes instead of {STATE_BYTES}; the store was not migrated from schema version 1 (nothing was changed)",
                        month_text(m),
                        blob.len()
                    ))
                })?;
                Ok((id, row))
            })?;
            let mut it = rows.iter().map(|(id, row)| (id.as_str(), row, None));
            let layout = self.d.layout();
            layout.write(&mut *self.d, m, &mut it)?;
        }
        self.exec(what, "DROP VIEW states_json", &[])?;
        self.exec(what, "DROP TABLE states", &[])?;
        self.exec(what, &layout::states_view_sql(), &[])?;
        let view = dialect.view.view_sql();
        self.exec(what, &view, &[])?;
        Ok(())
    }

    /// Schema 3: the chain, and the run of every row.
    fn upgrade_from_2(&mut self) -> Result<(), StoreError> {
        let what = "upgrading the store from schema version 2";
        let dialect = self.d.dialect();
        for t in schema::TABLES {
            for s in t.upgrade_sql(dialect, 2) {
                self.exec(what, &s, &[])?;
            }
        }
        for t in ["events", "alerts"] {
            self.exec(
                what,
                &format!("UPDATE {t} SET run_id = (SELECT m.run_id FROM months m WHERE m.month = {t}.month)"),
                &[],
            )?;
        }
        let runs = self.rows(what, "SELECT run_id, inputs FROM runs", &[], |r| {
            Ok((need(r.int(0)?, 0)?, need(r.text(1)?, 1)?.to_string()))
        })?;
        for (id, inputs) in runs {
            let files = crate::data::parse_inputs(&inputs)?;
            if !files.is_empty() && files.iter().all(|f| f.role == "states") {
                self.exec(what, "UPDATE runs SET kind = 'import' WHERE run_id = ?1", &[Value::Int(id)])?;
            }
        }
        let portfolio = chain::new_portfolio_id();
        let mut c = Chain {
            portfolio: portfolio.clone(),
            months: Vec::new(),
            head: Head { month: None, digest: chain::genesis(&portfolio) },
        };
        let months: Vec<(Month, i64, String, String)> = self.rows(
            what,
            "SELECT m.month, m.run_id, m.committed_at, r.rule_book_fingerprint FROM months m LEFT JOIN runs r ON r.run_id = m.run_id ORDER BY m.month",
            &[],
            |r| {
                let month = month_of(need(r.int(0)?, 0)?)?;
                let run = need(r.int(1)?, 1)?;
                let fp = r.text(3)?.map(str::to_string).ok_or_else(|| {
                    StoreError::Corrupt(format!("month {month} was committed by run {run}, which is not in the audit; the store was not upgraded (nothing was changed)"))
                })?;
                Ok((month, run, need(r.text(2)?, 2)?.to_string(), fp))
            },
        )?;
        for (month, run_id, committed_at, fp) in months {
            let mut h = chain::StatesHasher::default();
            let layout = self.d.layout();
            layout.read(&mut *self.d, month.yyyymm(), false, &mut |id, row, history| {
                h.add(id, row, history);
                Ok(())
            })?;
            let m = month.yyyymm();
            let [events, alerts, rejects] =
                self.row_tallies(&[crate::protocol::Writer { run_id, first: m, last: m }])?;
            let record = MonthRecord {
                month,
                run_id,
                committed_at,
                previous: c.previous_digest(month),
                states: h.finish(),
                events,
                alerts,
                rejects,
                digest: String::new(),
                rule_book_fingerprint: fp,
            };
            let record = self.put_record(&Chain { months: Vec::new(), ..c.clone() }, record)?;
            c.months.push(record);
        }
        if c.months.is_empty() {
            self.set_meta("head_month", "")?;
            self.set_meta("head_digest", &c.head.digest)?;
        }
        self.set_meta("portfolio_id", &portfolio)?;
        self.set_meta("migrated_at", &now_utc())?;
        Ok(())
    }
}
