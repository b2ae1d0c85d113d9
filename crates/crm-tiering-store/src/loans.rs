//! The loan month (贷款五级分类信号, SPEC §21.9) beside the tiering month: each customer's
//! summary (worst class, trend, non-performing), each loan's classes and overdue days, the
//! signals, and the customers' loan states after the month, written in one transaction under
//! the store's write lock (all of it or nothing; the latest month stored is replaced only when
//! asked), on every backend through the shared statements.
//!
//! Loan months are written in order, each from the states of the latest one before it
//! ([`Store::loan_states_before`]); they are not part of the tiering months' chain: a loan
//! month can be written before, after or without its tiering month.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use crm_tiering::{
    Decimal, LoanClass, LoanOutcome, LoanResult, LoanSettings, LoanSignal, LoanSignalKind, LoanState, Month, Trend,
    Upgrade,
};

use crate::driver::{Row, Value, need};
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
}

/// The loan states a month reads: the states after the latest stored loan month before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLoanStates {
    /// The stored month the states are after.
    pub month: Month,
    /// Each customer's state, by customer id.
    pub states: BTreeMap<String, LoanState>,
}

fn class_of(t: &str) -> Result<LoanClass, StoreError> {
    LoanClass::ALL
        .into_iter()
        .find(|c| c.as_str() == t)
        .ok_or_else(|| StoreError::Corrupt(format!("a stored loan class `{t}` is not a class")))
}

fn trend_of(t: &str) -> Result<Trend, StoreError> {
    [Trend::Worse, Trend::Same, Trend::Better, Trend::New]
        .into_iter()
        .find(|c| c.as_str() == t)
        .ok_or_else(|| StoreError::Corrupt(format!("a stored loan trend `{t}` is not a trend")))
}

fn upgrade_of(t: &str) -> Result<Upgrade, StoreError> {
    [Upgrade::None, Upgrade::Allowed, Upgrade::Held]
        .into_iter()
        .find(|c| c.as_str() == t)
        .ok_or_else(|| StoreError::Corrupt(format!("a stored loan upgrade `{t}` is not an upgrade status")))
}

/// A stored day count or counter (0 to `u32::MAX`).
fn days(r: &dyn Row, i: usize) -> Result<Option<u32>, StoreError> {
    r.int(i)?
        .map(|v| {
            u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("a stored loan day count ({v}) is out of range")))
        })
        .transpose()
}

fn text_of(r: &dyn Row, i: usize) -> Result<&str, StoreError> {
    need(r.text(i)?, i)
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
    /// Creates the loan tables (a new store, or the migration to schema 6).
    pub(crate) fn create_loan_tables(&mut self, what: &str) -> Result<(), StoreError> {
        let dialect = self.d.dialect();
        for t in TABLES {
            for s in t.create_sql(dialect) {
                self.exec(what, &s, &[])?;
            }
        }
        Ok(())
    }

    fn write_loans(&mut self, month: Month, outcomes: &[LoanOutcome], meta: &LoanMeta) -> Result<(), StoreError> {
        let what = format!("writing the loan month {month}");
        let sorted = checked(month, outcomes)?;
        let settings = serde_json::to_string(&meta.settings)
            .map_err(|e| StoreError::Input(format!("the loan settings cannot be written: {e}")))?;
        self.lock(&what)?;
        let r = (|| {
            self.d.begin()?;
            let m = month.yyyymm();
            let latest = self.rows(&what, "SELECT max(month) FROM loan_months", &[], |r| r.int(0))?;
            match latest.first().copied().flatten() {
                Some(l) if l > m => {
                    return Err(StoreError::Sequence(format!(
                        "the loan month {month} is before {}, the latest stored in {}: loan months are written in order, each from the states of the one before (a later month was classified from this month's states); nothing was written",
                        month_of(l)?,
                        self.location()
                    )));
                }
                Some(l) if l == m && !meta.rerun => {
                    return Err(StoreError::AlreadyCommitted(format!(
                        "the loan month {month} is in {} already: give --rerun to replace it; nothing was written",
                        self.location()
                    )));
                }
                Some(l) if l == m => {
                    for t in TABLES {
                        self.exec(&what, &format!("DELETE FROM {} WHERE month = ?1", t.name), &[m.into()])?;
                    }
                }
                _ => {}
            }
            self.insert_loans(&what, m, &sorted, &meta.tool_version, &settings)?;
            self.d.commit()
        })();
        if r.is_err() {
            self.d.rollback();
        }
        self.d.unlock();
        if r.is_ok() {
            self.d.after_commit();
        }
        r.map_err(self.ctx(&what))
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

    /// The states after the latest stored loan month before `month`.
    fn loan_states_before(&mut self, month: Month) -> Result<Option<StoredLoanStates>, StoreError> {
        let what = format!("reading the loan states before {month}");
        let latest =
            self.rows(&what, "SELECT max(month) FROM loan_months WHERE month < ?1", &[month.yyyymm().into()], |r| {
                r.int(0)
            })?;
        let Some(m) = latest.first().copied().flatten() else { return Ok(None) };
        let stored = month_of(m)?;
        let mut states = BTreeMap::new();
        self.each(&what, "SELECT customer_id, state FROM loan_states WHERE month = ?1", &[m.into()], &mut |r| {
            let id = text_of(r, 0)?;
            states.insert(id.to_string(), state_of(text_of(r, 1)?, id, stored)?);
            Ok(())
        })?;
        Ok(Some(StoredLoanStates { month: stored, states }))
    }

    /// The outcomes of the rows `filter` selects (on `month` and `customer_id`), by month and
    /// customer.
    fn loan_outcomes(
        &mut self,
        what: &str,
        filter: &str,
        params: &[Value<'_>],
    ) -> Result<Vec<LoanOutcome>, StoreError> {
        type Key = (i64, String);
        let key = |r: &dyn Row| -> Result<Key, StoreError> { Ok((need(r.int(0)?, 0)?, text_of(r, 1)?.to_string())) };
        let mut loans: HashMap<Key, Vec<LoanResult>> = HashMap::new();
        self.each(
            what,
            &format!("SELECT {RESULT_COLUMNS} FROM loan_results WHERE {filter} ORDER BY month, customer_id, loan_id"),
            params,
            &mut |r| {
                loans.entry(key(r)?).or_default().push(result_of(r)?);
                Ok(())
            },
        )?;
        let mut signals: HashMap<Key, Vec<LoanSignal>> = HashMap::new();
        self.each(
            what,
            &format!("SELECT {SIGNAL_COLUMNS} FROM loan_signals WHERE {filter} ORDER BY month, customer_id, seq"),
            params,
            &mut |r| {
                signals.entry(key(r)?).or_default().push(signal_of(r)?);
                Ok(())
            },
        )?;
        let mut states: HashMap<Key, LoanState> = HashMap::new();
        self.each(
            what,
            &format!("SELECT month, customer_id, state FROM loan_states WHERE {filter}"),
            params,
            &mut |r| {
                let (m, id) = key(r)?;
                let state = state_of(text_of(r, 2)?, &id, month_of(m)?)?;
                states.insert((m, id), state);
                Ok(())
            },
        )?;
        let mut out = Vec::new();
        self.each(
            what,
            &format!(
                "SELECT month, customer_id, worst, trend, non_performing FROM loan_customers WHERE {filter} \
                 ORDER BY month, customer_id"
            ),
            params,
            &mut |r| {
                let k = key(r)?;
                let month = month_of(k.0)?;
                let state = states.remove(&k).ok_or_else(|| {
                    StoreError::Corrupt(format!("customer {}'s loan month {month} has no stored loan state", k.1))
                })?;
                out.push(LoanOutcome {
                    month,
                    loans: loans.remove(&k).unwrap_or_default(),
                    worst: r.text(2)?.map(class_of).transpose()?,
                    trend: r.text(3)?.map(trend_of).transpose()?,
                    has_non_performing: need(r.int(4)?, 4)? != 0,
                    signals: signals.remove(&k).unwrap_or_default(),
                    state,
                    customer_id: k.1,
                });
                Ok(())
            },
        )?;
        Ok(out)
    }
}

/// The columns of a loan's result as [`result_of`] reads them.
const RESULT_COLUMNS: &str = "month, customer_id, loan_id, principal_overdue_days, interest_overdue_days, \
     overdue_days, floor, bank, effective, bank_kinder_than_floor, upgrade, clean_months, clean_periods, expected_loss";

/// The columns of a signal as [`signal_of`] reads them.
const SIGNAL_COLUMNS: &str = "month, customer_id, loan_id, kind, overdue_days, boundary, floor, bank, effective, \
     clean_months, clean_periods";

fn result_of(r: &dyn Row) -> Result<LoanResult, StoreError> {
    let day = |i: usize| -> Result<u32, StoreError> { need(days(r, i)?, i) };
    let expected_loss = r
        .text(13)?
        .map(|t| {
            Decimal::from_str(t)
                .map_err(|_| StoreError::Corrupt(format!("a stored expected-loss ratio `{t}` is not a decimal")))
        })
        .transpose()?;
    Ok(LoanResult {
        loan_id: text_of(r, 2)?.to_string(),
        principal_overdue_days: day(3)?,
        interest_overdue_days: day(4)?,
        overdue_days: day(5)?,
        floor: class_of(text_of(r, 6)?)?,
        bank: class_of(text_of(r, 7)?)?,
        effective: class_of(text_of(r, 8)?)?,
        bank_kinder_than_floor: need(r.int(9)?, 9)? != 0,
        upgrade: upgrade_of(text_of(r, 10)?)?,
        clean_months: day(11)?,
        clean_periods: day(12)?,
        expected_loss,
    })
}

fn signal_of(r: &dyn Row) -> Result<LoanSignal, StoreError> {
    let kind = text_of(r, 3)?;
    Ok(LoanSignal {
        customer_id: text_of(r, 1)?.to_string(),
        month: month_of(need(r.int(0)?, 0)?)?,
        loan_id: text_of(r, 2)?.to_string(),
        kind: LoanSignalKind::from_code(kind)
            .ok_or_else(|| StoreError::Corrupt(format!("a stored loan signal `{kind}` is not a signal")))?,
        overdue_days: need(days(r, 4)?, 4)?,
        boundary: days(r, 5)?,
        floor: class_of(text_of(r, 6)?)?,
        bank: class_of(text_of(r, 7)?)?,
        effective: class_of(text_of(r, 8)?)?,
        clean_months: days(r, 9)?,
        clean_periods: days(r, 10)?,
    })
}

/// A stored loan state, which must be of the month it is stored under.
fn state_of(json: &str, customer: &str, month: Month) -> Result<LoanState, StoreError> {
    let state: LoanState = serde_json::from_str(json).map_err(|e| {
        StoreError::Corrupt(format!("customer {customer}'s stored loan state after {month} does not read: {e}"))
    })?;
    if state.month != Some(month) {
        return Err(StoreError::Corrupt(format!(
            "customer {customer}'s stored loan state after {month} is of month {}",
            state.month.map_or_else(|| "none".to_string(), |m| m.to_string())
        )));
    }
    Ok(state)
}

impl Store {
    /// Writes a loan month (SPEC §21.9) beside the tiering months: each customer's summary,
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

    /// The loan months stored, in order.
    ///
    /// # Errors
    /// [`crate::StoreErrorKind::Database`], [`crate::StoreErrorKind::Corrupt`].
    pub fn loan_months(&mut self) -> Result<Vec<Month>, StoreError> {
        self.db.snapshot(|db| {
            db.rows("reading the loan months", "SELECT month FROM loan_months ORDER BY month", &[], |r| {
                month_of(need(r.int(0)?, 0)?)
            })
        })
    }

    /// The customers' loan states after the latest stored loan month before `month` (none
    /// when no loan month before it is stored): what `month` is classified from.
    ///
    /// # Errors
    /// [`crate::StoreErrorKind::Database`]; [`crate::StoreErrorKind::Corrupt`] for a stored
    /// state that does not read or is not of its month.
    pub fn loan_states_before(&mut self, month: Month) -> Result<Option<StoredLoanStates>, StoreError> {
        self.db.snapshot(|db| db.loan_states_before(month))
    }

    /// A customer's stored loan months, in order: each month's summary, loans, signals and
    /// state after it, as [`crm_tiering::evaluate_loans`] gave them.
    ///
    /// # Errors
    /// [`crate::StoreErrorKind::Database`], [`crate::StoreErrorKind::Corrupt`] for a stored
    /// value that cannot be read back.
    pub fn customer_loans(&mut self, customer: &str) -> Result<Vec<LoanOutcome>, StoreError> {
        let what = format!("reading customer {customer}'s loan months");
        self.db.snapshot(|db| db.loan_outcomes(&what, "customer_id = ?1", &[customer.into()]))
    }

    /// The stored loan months `first..=last` (those stored among them), every customer's
    /// outcome by month and customer, from one snapshot.
    ///
    /// # Errors
    /// [`crate::StoreErrorKind::Database`], [`crate::StoreErrorKind::Corrupt`] for a stored
    /// value that cannot be read back.
    pub fn loan_range(&mut self, first: Month, last: Month) -> Result<Vec<LoanOutcome>, StoreError> {
        let what = format!("reading the loan months {first}..{last}");
        let range = [Value::Int(first.yyyymm()), Value::Int(last.yyyymm())];
        self.db.snapshot(|db| db.loan_outcomes(&what, "month BETWEEN ?1 AND ?2", &range))
    }
}
