//! Reading loan months back: the states a month is classified from (checked against their
//! digest), and customers' or months' outcomes as [`crm_tiering::evaluate_loans`] gave them.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use crm_tiering::{
    Decimal, LoanClass, LoanOutcome, LoanResult, LoanSignal, LoanSignalKind, LoanState, Month, Trend, Upgrade,
};

use super::{StoredLoanStates, states_digest};
use crate::driver::{Row, Value, need};
use crate::protocol::{Db, month_of};
use crate::{Store, StoreError};

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

impl Db {
    /// The states after the latest stored loan month before `month`.
    fn loan_states_before(&mut self, month: Month) -> Result<Option<StoredLoanStates>, StoreError> {
        let what = format!("reading the loan states before {month}");
        let latest = self.rows(
            &what,
            "SELECT month, states_sha256 FROM loan_months WHERE month < ?1 ORDER BY month DESC LIMIT 1",
            &[month.yyyymm().into()],
            |r| Ok((need(r.int(0)?, 0)?, text_of(r, 1)?.to_string())),
        )?;
        let Some((m, digest)) = latest.into_iter().next() else { return Ok(None) };
        let stored = month_of(m)?;
        let mut states = BTreeMap::new();
        self.each(&what, "SELECT customer_id, state FROM loan_states WHERE month = ?1", &[m.into()], &mut |r| {
            let id = text_of(r, 0)?;
            states.insert(id.to_string(), state_of(text_of(r, 1)?, id, stored)?);
            Ok(())
        })?;
        let read = states_digest(states.iter().map(|(id, s)| (id.as_str(), s)))?;
        if read != digest {
            return Err(StoreError::Corrupt(format!(
                "the loan states after {stored} ({} customer(s)) do not match their checksum: a state was edited, added or deleted",
                states.len()
            )));
        }
        Ok(Some(StoredLoanStates { month: stored, states, digest }))
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
