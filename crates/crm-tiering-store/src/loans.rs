//! The loan month (贷款五级分类信号, SPEC §21.10) beside the tiering month: each customer's
//! summary (worst class, trend, non-performing), each loan's classes and overdue days, the
//! signals, and the customers' loan states after the month, written in one transaction under
//! the store's write lock (all of it or nothing; the latest month stored is replaced only when
//! asked), on every backend through the shared statements.
//!
//! Loan months are written in order, each from the states of the latest one before it
//! ([`Store::loan_states_before`]); they are not part of the tiering months' chain: a loan
//! month can be written before, after or without its tiering month.

mod read;

use std::collections::BTreeMap;

use crm_tiering::{LoanClass, LoanOutcome, LoanSettings, LoanState, Month, Trend};
use sha2::{Digest, Sha256};

use crate::chain::hex;
use crate::driver::{Value, need};
use crate::protocol::{Db, month_of};
use crate::schema::{Column, Table, Type};
use crate::types::now_utc;
use crate::{Store, StoreError};

const fn col(name: &'static str, ty: Type) -> Column {
    Column { name, ty, null: false, default: None, references: None, since: 6 }
}

const fn opt(name: &'static str, ty: Type) -> Column {
    Column { name, ty, null: true, default: None, references: None, since: 6 }
}

/// The loan months stored: when, by which tool and settings, and their counts.
pub(crate) const MONTHS: Table = Table {
    name: "loan_months",
    columns: &[
        col("month", Type::Int),
        col("written_at", Type::Text),
        col("tool_version", Type::Text),
        col("settings", Type::Json),
        col("customers", Type::BigInt),
        col("loans", Type::BigInt),
        col("signals", Type::BigInt),
        col("non_performing_customers", Type::BigInt),
        col("states_sha256", Type::Text),
    ],
    key: &["month"],
    unique: &[],
    indexes: &[],
    clustered: false,
};

/// Each customer's summary of a month (SPEC §21.4).
pub(crate) const CUSTOMERS: Table = Table {
    name: "loan_customers",
    columns: &[
        col("month", Type::Int),
        col("customer_id", Type::Key),
        col("loans", Type::BigInt),
        opt("worst", Type::Text),
        opt("trend", Type::Text),
        col("non_performing", Type::Bool),
    ],
    key: &["month", "customer_id"],
    unique: &[],
    indexes: &[("loan_customers_by_customer", &["customer_id", "month"], 6)],
    clustered: true,
};

/// Each loan's classification of a month (SPEC §21.2–§21.3).
pub(crate) const RESULTS: Table = Table {
    name: "loan_results",
    columns: &[
        col("month", Type::Int),
        col("customer_id", Type::Key),
        col("loan_id", Type::Key),
        col("principal_overdue_days", Type::BigInt),
        col("interest_overdue_days", Type::BigInt),
        col("overdue_days", Type::BigInt),
        col("floor", Type::Text),
        col("bank", Type::Text),
        col("effective", Type::Text),
        col("bank_kinder_than_floor", Type::Bool),
        col("upgrade", Type::Text),
        col("clean_months", Type::BigInt),
        col("clean_periods", Type::BigInt),
        opt("expected_loss", Type::Text),
    ],
    key: &["month", "customer_id", "loan_id"],
    unique: &[],
    indexes: &[("loan_results_by_customer", &["customer_id", "month"], 6)],
    clustered: true,
};

/// The signals of a month, in each customer's order (`seq`; SPEC §21.5).
pub(crate) const SIGNALS: Table = Table {
    name: "loan_signals",
    columns: &[
        col("month", Type::Int),
        col("customer_id", Type::Key),
        col("seq", Type::Int),
        col("loan_id", Type::Key),
        col("number", Type::Int),
        col("kind", Type::Text),
        col("overdue_days", Type::BigInt),
        opt("boundary", Type::BigInt),
        col("floor", Type::Text),
        col("bank", Type::Text),
        col("effective", Type::Text),
        opt("clean_months", Type::BigInt),
        opt("clean_periods", Type::BigInt),
    ],
    key: &["month", "customer_id", "seq"],
    unique: &[],
    indexes: &[("loan_signals_by_customer", &["customer_id", "month"], 6)],
    clustered: true,
};

/// Each customer's loan state after the month (SPEC §21.1's JSON), what the next month reads.
pub(crate) const STATES: Table = Table {
    name: "loan_states",
    columns: &[col("month", Type::Int), col("customer_id", Type::Key), col("state", Type::Json)],
    key: &["month", "customer_id"],
    unique: &[],
    indexes: &[("loan_states_by_customer", &["customer_id", "month"], 6)],
    clustered: true,
};

/// The loan tables (schema version 6).
pub(crate) const TABLES: &[&Table] = &[&MONTHS, &CUSTOMERS, &RESULTS, &SIGNALS, &STATES];

/// What a loan month is written with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanMeta {
    /// The tool and its version.
    pub tool_version: String,
    /// The settings the month was classified under (kept as JSON with the month).
    pub settings: LoanSettings,
    /// Replace the month when it is the latest stored (without it, a stored month is refused).
    pub rerun: bool,
    /// The stored states the month was classified from: [`StoredLoanStates::month`] and
    /// [`StoredLoanStates::digest`] of [`Store::loan_states_before`], none when the store gave
    /// none. The write checks, under the lock, that they are still the states before the month.
    pub read_from: Option<(Month, String)>,
}

/// The loan states a month reads: the states after the latest stored loan month before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLoanStates {
    /// The stored month the states are after.
    pub month: Month,
    /// Each customer's state, by customer id.
    pub states: BTreeMap<String, LoanState>,
    /// The SHA-256 of the states (hex), as stored with the month and checked on this read.
    pub digest: String,
}

/// The SHA-256 (hex) of a month's loan states in customer order: each customer's id and its
/// state's JSON, a line each. The JSON is the core's, made again from the state read, so the
/// digest does not depend on how the database keeps JSON (PostgreSQL's `jsonb` rewrites it).
fn states_digest<'a>(states: impl Iterator<Item = (&'a str, &'a LoanState)>) -> Result<String, StoreError> {
    let mut h = Sha256::new();
    for (id, state) in states {
        let json = serde_json::to_string(state)
            .map_err(|e| StoreError::Input(format!("customer {id}'s loan state cannot be written: {e}")))?;
        h.update(id.as_bytes());
        h.update(b"\n");
        h.update(json.as_bytes());
        h.update(b"\n");
    }
    Ok(hex(&h.finalize()))
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The month's outcomes in customer order, checked: each of `month`, each customer once.
fn checked(month: Month, outcomes: &[LoanOutcome]) -> Result<Vec<&LoanOutcome>, StoreError> {
    let mut sorted: Vec<&LoanOutcome> = outcomes.iter().collect();
    sorted.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
    if let Some(o) = sorted.iter().find(|o| o.month != month || o.state.month != Some(month)) {
        let of = if o.month == month { "its state after the month" } else { "its outcome" };
        let when = if o.month == month { o.state.month.map(|m| m.to_string()) } else { Some(o.month.to_string()) };
        return Err(StoreError::Input(format!(
            "customer {}'s loan month: {of} is of month {}, not {month}; nothing was written",
            o.customer_id,
            when.as_deref().unwrap_or("none")
        )));
    }
    if let Some(w) = sorted.windows(2).find(|w| w.first().map(|o| &o.customer_id) == w.get(1).map(|o| &o.customer_id)) {
        let id = w.first().map(|o| o.customer_id.as_str()).unwrap_or_default();
        return Err(StoreError::Input(format!("customer {id} has two loan outcomes for {month}; nothing was written")));
    }
    Ok(sorted)
}

impl Db {
    fn write_loans(&mut self, month: Month, outcomes: &[LoanOutcome], meta: &LoanMeta) -> Result<(), StoreError> {
        let what = format!("writing the loan month {month}");
        let sorted = checked(month, outcomes)?;
        let settings = serde_json::to_string(&meta.settings)
            .map_err(|e| StoreError::Input(format!("the loan settings cannot be written: {e}")))?;
        self.locked_transaction(&what, |db| {
            let m = month.yyyymm();
            let latest = db.rows(&what, "SELECT max(month) FROM loan_months", &[], |r| r.int(0))?;
            match latest.first().copied().flatten() {
                Some(l) if l > m => {
                    return Err(StoreError::Sequence(format!(
                        "the loan month {month} is before {}, the latest stored in {}: loan months are written in order, each from the states of the one before (a later month was classified from this month's states); nothing was written",
                        month_of(l)?,
                        db.location()
                    )));
                }
                Some(l) if l == m && !meta.rerun => {
                    return Err(StoreError::AlreadyCommitted(format!(
                        "the loan month {month} is in {} already: give --rerun to replace it; nothing was written",
                        db.location()
                    )));
                }
                Some(l) if l == m => {
                    db.delete_month(&what, TABLES, m)?;
                }
                _ => {}
            }
            let before = db.rows(
                &what,
                "SELECT month, states_sha256 FROM loan_months WHERE month < ?1 ORDER BY month DESC LIMIT 1",
                &[m.into()],
                |r| Ok((month_of(need(r.int(0)?, 0)?)?, need(r.text(1)?, 1)?.to_string())),
            )?;
            if before.first() != meta.read_from.as_ref() {
                let name = |b: Option<&(Month, String)>| {
                    b.map_or_else(
                        || "no loan month".to_string(),
                        |(m, d)| format!("{m} (states {})", d.get(..12).unwrap_or(d)),
                    )
                };
                return Err(StoreError::Sequence(format!(
                    "the loan month {month} was classified from {} but the store now holds {} before it (another run wrote or replaced a loan month in between); nothing was written: run it again",
                    name(meta.read_from.as_ref()),
                    name(before.first())
                )));
            }
            db.insert_loans(&what, m, &sorted, &meta.tool_version, &settings)
        })
    }

    fn insert_loans(
        &mut self,
        what: &str,
        m: i64,
        sorted: &[&LoanOutcome],
        tool: &str,
        settings: &str,
    ) -> Result<(), StoreError> {
        let loans: usize = sorted.iter().map(|o| o.loans.len()).sum();
        let signals: usize = sorted.iter().map(|o| o.signals.len()).sum();
        let npl = sorted.iter().filter(|o| o.has_non_performing).count();
        let written = now_utc();
        let digest = states_digest(sorted.iter().map(|o| (o.customer_id.as_str(), &o.state)))?;
        self.load(what, &MONTHS, &mut |put| {
            put(&[
                Value::Int(m),
                Value::Text(&written),
                Value::Text(tool),
                Value::Text(settings),
                Value::Int(count(sorted.len())),
                Value::Int(count(loans)),
                Value::Int(count(signals)),
                Value::Int(count(npl)),
                Value::Text(&digest),
            ])
        })?;
        self.load(what, &CUSTOMERS, &mut |put| {
            for o in sorted {
                put(&[
                    Value::Int(m),
                    Value::Text(&o.customer_id),
                    Value::Int(count(o.loans.len())),
                    o.worst.map(LoanClass::as_str).into(),
                    o.trend.map(Trend::as_str).into(),
                    Value::Int(i64::from(o.has_non_performing)),
                ])?;
            }
            Ok(())
        })?;
        self.load(what, &RESULTS, &mut |put| {
            for o in sorted {
                for l in &o.loans {
                    let loss = l.expected_loss.map(|d| d.to_string());
                    put(&[
                        Value::Int(m),
                        Value::Text(&o.customer_id),
                        Value::Text(&l.loan_id),
                        Value::Int(i64::from(l.principal_overdue_days)),
                        Value::Int(i64::from(l.interest_overdue_days)),
                        Value::Int(i64::from(l.overdue_days)),
                        Value::Text(l.floor.as_str()),
                        Value::Text(l.bank.as_str()),
                        Value::Text(l.effective.as_str()),
                        Value::Int(i64::from(l.bank_kinder_than_floor)),
                        Value::Text(l.upgrade.as_str()),
                        Value::Int(i64::from(l.clean_months)),
                        Value::Int(i64::from(l.clean_periods)),
                        loss.as_deref().into(),
                    ])?;
                }
            }
            Ok(())
        })?;
        self.load(what, &SIGNALS, &mut |put| {
            for o in sorted {
                for (seq, s) in (1i64..).zip(&o.signals) {
                    put(&[
                        Value::Int(m),
                        Value::Text(&o.customer_id),
                        Value::Int(seq),
                        Value::Text(&s.loan_id),
                        Value::Int(i64::from(s.kind.number())),
                        Value::Text(s.kind.as_str()),
                        Value::Int(i64::from(s.overdue_days)),
                        s.boundary.map(i64::from).into(),
                        Value::Text(s.floor.as_str()),
                        Value::Text(s.bank.as_str()),
                        Value::Text(s.effective.as_str()),
                        s.clean_months.map(i64::from).into(),
                        s.clean_periods.map(i64::from).into(),
                    ])?;
                }
            }
            Ok(())
        })?;
        let states = sorted
            .iter()
            .map(|o| serde_json::to_string(&o.state).map(|j| (o.customer_id.as_str(), j)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Input(format!("a loan state cannot be written: {e}")))?;
        self.load(what, &STATES, &mut |put| {
            for (id, json) in &states {
                put(&[Value::Int(m), Value::Text(id), Value::Text(json)])?;
            }
            Ok(())
        })
    }
}

impl Store {
    /// Writes a loan month (SPEC §21.10) beside the tiering months: each customer's summary,
    /// each loan's classes, the signals and the customers' loan states after the month, in one
    /// transaction under the write lock. Loan months are written in order: `month` must be
    /// after the latest stored loan month, or be it with `meta.rerun` (which replaces it).
    ///
    /// # Errors
    /// [`crate::StoreErrorKind::Input`] for an outcome of another month or a customer given
    /// twice; [`crate::StoreErrorKind::AlreadyCommitted`] for the latest month without
    /// `rerun`; [`crate::StoreErrorKind::Sequence`] for a month before the latest;
    /// [`crate::StoreErrorKind::Locked`] when another run holds the lock;
    /// [`crate::StoreErrorKind::ReadOnly`]; [`crate::StoreErrorKind::Database`]. Nothing is
    /// written on any error.
    pub fn write_loan_month(
        &mut self,
        month: Month,
        outcomes: &[LoanOutcome],
        meta: &LoanMeta,
    ) -> Result<(), StoreError> {
        self.writable()?;
        self.db.write_loans(month, outcomes, meta)
    }
}
