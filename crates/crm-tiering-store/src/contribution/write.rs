//! A contribution month written as it is computed: the lineage lines inserted one by one as
//! the computation hands them over, inside the month's one transaction, and the customers',
//! managers' and month's rows at the end from the result (a month's lineage is never held).
//! The whole-result write ([`Store::write_contribution`]) goes through the same code.

use std::borrow::Borrow;

use crm_tiering::{Decimal, Month};
use crm_tiering_contribution::{Contribution, LineageLine};

use super::{ContributionMeta, LINEAGE, TABLES, fen};
use crate::driver::Value;
use crate::protocol::Db;
use crate::{Store, StoreError};

/// What the computation of a streamed contribution month ends with: the month's result (its
/// lineage already handed to the [`LineageSink`], so it may be empty) and the number of its
/// customers without an account manager (the managers' roll-up keeps their figures as manager
/// `''`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamedContribution<C> {
    /// The month's result, owned or borrowed.
    pub contribution: C,
    /// How many customers have no account manager (this, not
    /// [`ContributionMeta::unassigned_customers`], is what a streamed write stores).
    pub unassigned_customers: u64,
}

/// Where a streamed month's lineage lines go, in the order of the lineage (by customer, each
/// customer's lines in order): each is inserted at once, in the month's open transaction.
/// A line that cannot be stored (an amount that is not a whole number of fen, a database
/// failure) is remembered and the lines after it are let go: the write then fails with that
/// error and nothing of the month is written.
pub struct LineageSink<'a> {
    month: i64,
    put: &'a mut dyn FnMut(&[Value<'_>]) -> Result<(), StoreError>,
    /// The customer of the last line and its line number (`seq`).
    last: String,
    seq: i64,
    lines: i64,
    failed: Option<StoreError>,
}

impl LineageSink<'_> {
    /// Inserts the next lineage line (once a line has failed, lines are let go; the write
    /// fails with the first failure).
    pub fn push(&mut self, l: &LineageLine) {
        if self.failed.is_none()
            && let Err(e) = self.insert(l)
        {
            self.failed = Some(e);
        }
    }

    /// Whether a line could not be stored: the write will fail, whatever the computation
    /// returns.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.failed.is_some()
    }

    /// The lines inserted so far.
    #[must_use]
    pub fn lines(&self) -> u64 {
        u64::try_from(self.lines).unwrap_or(0)
    }

    fn insert(&mut self, l: &LineageLine) -> Result<(), StoreError> {
        if self.lines > 0 && self.last == l.customer {
            self.seq += 1;
        } else {
            self.seq = 1;
            l.customer.clone_into(&mut self.last);
        }
        let text = |d: Option<Decimal>| d.map(|d| d.to_string());
        let (ftp, rate_c, rate, weight) = (text(l.ftp_rate), text(l.customer_rate), text(l.rate), text(l.risk_weight));
        let (quantity, total) = (text(l.driver_quantity), text(l.driver_total));
        let balance = l.balance.map(|b| fen(b, || format!("customer {}: balance", l.customer))).transpose()?;
        let amount = fen(l.amount, || format!("customer {}: amount", l.customer))?;
        (self.put)(&[
            Value::Int(self.month),
            Value::Text(&l.customer),
            Value::Int(self.seq),
            Value::Text(l.kind.as_str()),
            l.account.as_deref().into(),
            l.pool.as_deref().into(),
            l.stage.and_then(|s| i64::try_from(s).ok()).into(),
            l.product.as_deref().into(),
            l.item.as_deref().into(),
            balance.into(),
            ftp.as_deref().into(),
            rate_c.as_deref().into(),
            rate.as_deref().into(),
            weight.as_deref().into(),
            l.days.map(i64::from).into(),
            quantity.as_deref().into(),
            total.as_deref().into(),
            Value::Int(amount),
        ])?;
        self.lines += 1;
        Ok(())
    }
}

/// The error that rolls the transaction back when the computation failed (its own error is
/// returned instead).
fn computation_failed() -> StoreError {
    StoreError::Input("the contribution month's computation failed".into())
}

impl Db {
    fn write_contribution_streaming<C: Borrow<Contribution>, E: From<StoreError>>(
        &mut self,
        month: Month,
        meta: &ContributionMeta,
        make: impl FnOnce(&mut LineageSink<'_>) -> Result<StreamedContribution<C>, E>,
    ) -> Result<C, E> {
        let what = format!("writing the contribution month {month}");
        let mut make = Some(make);
        let mut made: Option<Result<StreamedContribution<C>, E>> = None;
        let r = self.locked_transaction(&what, |db| {
            let m = month.yyyymm();
            let stored =
                db.rows(&what, "SELECT count(*) FROM contribution_months WHERE month = ?1", &[m.into()], |r| {
                    Ok(r.int(0)?.unwrap_or(0))
                })?;
            if stored.first().is_some_and(|n| *n > 0) {
                if !meta.rerun {
                    return Err(StoreError::AlreadyCommitted(format!(
                        "the contribution month {month} is in {} already: give --rerun to replace it; nothing was written",
                        db.location()
                    )));
                }
                db.delete_month(&what, TABLES, m)?;
            }
            let mut lines = 0i64;
            db.load(&what, &LINEAGE, &mut |put| {
                let Some(make) = make.take() else { return Ok(()) };
                let mut sink = LineageSink { month: m, put, last: String::new(), seq: 0, lines: 0, failed: None };
                let outcome = make(&mut sink);
                let failed = outcome.is_err();
                made = Some(outcome);
                lines = sink.lines;
                match sink.failed {
                    Some(e) => Err(e),
                    None if failed => Err(computation_failed()),
                    None => Ok(()),
                }
            })?;
            let Some(Ok(s)) = &made else { return Err(computation_failed()) };
            let c: &Contribution = s.contribution.borrow();
            if c.month != month {
                return Err(StoreError::Input(format!(
                    "the month computed is {} and the month being written {month}; nothing was written",
                    c.month
                )));
            }
            db.insert_figures(&what, c, meta, s.unassigned_customers, lines)
        });
        match (r, made) {
            // The computation's own error comes first: the store's only followed from it.
            (_, Some(Err(e))) => Err(e),
            (Err(e), _) => Err(E::from(e)),
            (Ok(()), Some(Ok(s))) => Ok(s.contribution),
            (Ok(()), None) => Err(E::from(computation_failed())),
        }
    }
}

impl Store {
    /// Writes a contribution month (SPEC §20) as it is computed, in one transaction under the
    /// write lock: `make` computes the month and hands each lineage line to the sink (which
    /// inserts it at once, so the month's lineage is never held), then returns the result;
    /// the customers' figures, the managers' roll-up and the month's row are written from it,
    /// and the month committed. A month stored already is refused before `make` runs (or
    /// deleted first, in the same transaction, when `meta.rerun` is set).
    ///
    /// All of it or nothing: when `make` fails, when a line cannot be stored, or when any
    /// later write fails, the transaction is rolled back and nothing of the month is written.
    /// The write lock is held while `make` runs. Returns `make`'s result.
    ///
    /// # Errors
    /// `make`'s error, as it returned it; otherwise the store's, converted:
    /// [`crate::StoreErrorKind::AlreadyCommitted`] for a month stored already without
    /// `rerun`; [`crate::StoreErrorKind::Locked`] when another run holds the lock;
    /// [`crate::StoreErrorKind::ReadOnly`]; [`crate::StoreErrorKind::Input`] for an amount that
    /// is not a whole number of fen or a result of another month than `month`;
    /// [`crate::StoreErrorKind::Database`]. Nothing is written on any error.
    pub fn write_contribution_streaming<C: Borrow<Contribution>, E: From<StoreError>>(
        &mut self,
        month: Month,
        meta: &ContributionMeta,
        make: impl FnOnce(&mut LineageSink<'_>) -> Result<StreamedContribution<C>, E>,
    ) -> Result<C, E> {
        self.writable()?;
        self.db.write_contribution_streaming(month, meta, make)
    }
}
