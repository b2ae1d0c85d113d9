//! The contribution month (客户贡献度, SPEC §20) beside the tiering month: each customer's
//! figures, the account managers' roll-up and the lineage, written in one transaction under
//! the store's write lock (all of it or nothing; a month stored already is replaced only when
//! asked), on every backend through the shared statements. Amounts are integer fen, rates and
//! driver quantities exact decimal text.
//!
//! The branches' and legal entities' roll-ups are not stored: they are sums of the lineage by
//! the accounts' branches and the customers' home branches, recomputed from the inputs.
//! Contribution months are not part of the tiering months' chain: a contribution month can be
//! written before, after or without its tiering month, and replacing it leaves the chain as it
//! is.

use std::str::FromStr;

use crm_tiering::{Decimal, Month, from_fen, to_fen};
use crm_tiering_contribution::{Contribution, Figures, LineKind, LineageLine, ManagerFigures};

use crate::driver::{Row, Value, need};
use crate::protocol::{Db, month_of};
use crate::schema::{Column, Table, Type};
use crate::types::now_utc;
use crate::{Store, StoreError};

mod write;

pub use write::{LineageSink, StreamedContribution};

const fn col(name: &'static str, ty: Type) -> Column {
    Column { name, ty, null: false, default: None, references: None, since: 5 }
}

const fn opt(name: &'static str, ty: Type) -> Column {
    Column { name, ty, null: true, default: None, references: None, since: 5 }
}

/// The figure columns (fen), in [`Figures`] order.
const FIGURES: [&str; 8] = Figures::NAMES;

/// The contribution months stored: when, by which tool and rule book, and their counts.
pub(crate) const MONTHS: Table = Table {
    name: "contribution_months",
    columns: &[
        col("month", Type::Int),
        col("written_at", Type::Text),
        col("tool_version", Type::Text),
        col("rule_book_text", Type::Text),
        col("customers", Type::BigInt),
        col("lineage_lines", Type::BigInt),
        col("net_contribution", Type::BigInt),
    ],
    key: &["month"],
    unique: &[],
    indexes: &[],
    clustered: false,
};

/// Each customer's figures of a month, in fen.
pub(crate) const CUSTOMERS: Table = Table {
    name: "contribution_customers",
    columns: &[
        col("month", Type::Int),
        col("customer_id", Type::Key),
        col("interest_asset", Type::BigInt),
        col("interest_liability", Type::BigInt),
        col("fees", Type::BigInt),
        col("allocated_costs", Type::BigInt),
        col("direct_costs", Type::BigInt),
        col("risk_cost", Type::BigInt),
        col("capital_charge", Type::BigInt),
        col("net_contribution", Type::BigInt),
    ],
    key: &["month", "customer_id"],
    unique: &[],
    indexes: &[("contribution_customers_by_customer", &["customer_id", "month"], 5)],
    clustered: true,
};

/// Each account manager's roll-up of a month (the customers without one: manager `''`).
pub(crate) const MANAGERS: Table = Table {
    name: "contribution_managers",
    columns: &[
        col("month", Type::Int),
        col("manager", Type::Key),
        col("customers", Type::BigInt),
        col("interest_asset", Type::BigInt),
        col("interest_liability", Type::BigInt),
        col("fees", Type::BigInt),
        col("allocated_costs", Type::BigInt),
        col("direct_costs", Type::BigInt),
        col("risk_cost", Type::BigInt),
        col("capital_charge", Type::BigInt),
        col("net_contribution", Type::BigInt),
    ],
    key: &["month", "manager"],
    unique: &[],
    indexes: &[],
    clustered: true,
};

/// The lineage: every line of each customer's net contribution, in order (`seq`).
pub(crate) const LINEAGE: Table = Table {
    name: "contribution_lineage",
    columns: &[
        col("month", Type::Int),
        col("customer_id", Type::Key),
        col("seq", Type::Int),
        col("kind", Type::Text),
        opt("account", Type::Text),
        opt("pool", Type::Text),
        opt("stage", Type::Int),
        opt("product", Type::Text),
        opt("item", Type::Text),
        opt("balance", Type::BigInt),
        opt("ftp_rate", Type::Text),
        opt("customer_rate", Type::Text),
        opt("rate", Type::Text),
        opt("risk_weight", Type::Text),
        opt("days", Type::Int),
        opt("driver_quantity", Type::Text),
        opt("driver_total", Type::Text),
        col("amount", Type::BigInt),
    ],
    key: &["month", "customer_id", "seq"],
    unique: &[],
    indexes: &[("contribution_lineage_by_customer", &["customer_id", "month"], 5)],
    clustered: true,
};

/// The contribution tables (schema version 5).
pub(crate) const TABLES: &[&Table] = &[&MONTHS, &CUSTOMERS, &MANAGERS, &LINEAGE];

/// What a contribution month is written with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContributionMeta {
    /// The tool and its version.
    pub tool_version: String,
    /// The contribution rule book's text, as read.
    pub rule_book_text: String,
    /// Replace the month when it is stored already (without it, a stored month is refused).
    pub rerun: bool,
    /// How many customers have no account manager (the managers' roll-up keeps their
    /// figures as manager `''`).
    pub unassigned_customers: u64,
}

/// A customer's figures of a stored contribution month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCustomer {
    /// The month.
    pub month: Month,
    /// The customer.
    pub customer: String,
    /// Its figures.
    pub figures: Figures,
}

/// An account manager's roll-up of a stored contribution month; manager `""` holds the
/// customers without a manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredManager {
    /// The month.
    pub month: Month,
    /// The manager (`""`: the customers without one).
    pub manager: String,
    /// The customers the manager has a share of.
    pub customers: u64,
    /// The figures.
    pub figures: Figures,
}

/// A customer's stored contribution of one month: its figures and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContribution {
    /// The month.
    pub month: Month,
    /// The customer's figures.
    pub figures: Figures,
    /// The lines of its net contribution, in order.
    pub lines: Vec<LineageLine>,
}

/// An amount in fen; `what` names it in the error, made only when there is one (the lineage
/// stores millions of lines a month).
fn fen(d: Decimal, what: impl FnOnce() -> String) -> Result<i64, StoreError> {
    to_fen(d).ok_or_else(|| StoreError::Input(format!("{}: {d} is not a whole number of fen", what())))
}

fn figure_fen(f: &Figures, who: impl Fn() -> String) -> Result<[i64; 8], StoreError> {
    let mut out = [0i64; 8];
    for ((o, d), name) in out.iter_mut().zip(f.values()).zip(FIGURES) {
        *o = fen(d, || format!("{}: {name}", who()))?;
    }
    Ok(out)
}

fn figures_of(r: &dyn Row, first: usize) -> Result<Figures, StoreError> {
    let mut values = [Decimal::ZERO; 8];
    for (i, v) in values.iter_mut().enumerate() {
        *v = from_fen(need(r.int(first + i)?, first + i)?);
    }
    Ok(Figures::from_values(values))
}

fn decimal(r: &dyn Row, i: usize) -> Result<Option<Decimal>, StoreError> {
    r.text(i)?
        .map(|t| Decimal::from_str(t).map_err(|_| StoreError::Corrupt(format!("a stored rate `{t}` is not a decimal"))))
        .transpose()
}

impl Db {
    /// The month's figure rows (the months row with `lines`, the customers, the managers),
    /// after its lineage.
    fn insert_figures(
        &mut self,
        what: &str,
        c: &Contribution,
        meta: &ContributionMeta,
        unassigned: u64,
        lines: i64,
    ) -> Result<(), StoreError> {
        let m = c.month.yyyymm();
        let mut net = 0i64;
        let mut customers = Vec::with_capacity(c.customers.len());
        for cm in &c.customers {
            let f = figure_fen(&cm.figures, || format!("customer {}", cm.customer))?;
            net += f[7];
            customers.push((cm.customer.as_str(), f));
        }
        let (count, written) = (i64::try_from(customers.len()).unwrap_or(i64::MAX), now_utc());
        let head = [m.into(), Value::Text(&written), (&meta.tool_version).into(), (&meta.rule_book_text).into()];
        let tail = [count.into(), lines.into(), net.into()];
        self.load(what, &MONTHS, &mut |put| put(&[head.as_slice(), tail.as_slice()].concat()))?;
        self.load(what, &CUSTOMERS, &mut |put| {
            for (id, f) in &customers {
                let mut row = vec![Value::Int(m), Value::Text(id)];
                row.extend(f.iter().map(|v| Value::Int(*v)));
                put(&row)?;
            }
            Ok(())
        })?;
        let managers = manager_rows(c, unassigned)?;
        self.load(what, &MANAGERS, &mut |put| {
            for (manager, n, f) in &managers {
                let mut row = vec![Value::Int(m), Value::Text(manager), Value::Int(*n)];
                row.extend(f.iter().map(|v| Value::Int(*v)));
                put(&row)?;
            }
            Ok(())
        })
    }

    fn customer_contribution(&mut self, customer: &str) -> Result<Vec<StoredContribution>, StoreError> {
        let what = format!("reading customer {customer}'s contribution");
        let figures = self.rows(
            &what,
            &format!(
                "SELECT month, {} FROM contribution_customers WHERE customer_id = ?1 ORDER BY month",
                FIGURES.join(", ")
            ),
            &[customer.into()],
            |r| Ok((month_of(need(r.int(0)?, 0)?)?, figures_of(r, 1)?)),
        )?;
        let lines = self.rows(
            &what,
            &format!("SELECT {LINE_COLUMNS} FROM contribution_lineage WHERE customer_id = ?1 ORDER BY month, seq"),
            &[customer.into()],
            |r| Ok((month_of(need(r.int(0)?, 0)?)?, line_of(r, customer)?)),
        )?;
        Ok(figures
            .into_iter()
            .map(|(month, figures)| StoredContribution {
                month,
                figures,
                lines: lines.iter().filter(|(m, _)| *m == month).map(|(_, l)| l.clone()).collect(),
            })
            .collect())
    }
}

/// The columns of a lineage line as [`line_of`] reads them.
const LINE_COLUMNS: &str = "month, kind, account, pool, stage, product, item, balance, ftp_rate, customer_rate, rate, \
     risk_weight, days, driver_quantity, driver_total, amount, customer_id";

impl Db {
    fn contribution_range(&mut self, first: Month, last: Month) -> Result<ContributionRange, StoreError> {
        let what = format!("reading the contribution months {first}..{last}");
        let range = [Value::Int(first.yyyymm()), Value::Int(last.yyyymm())];
        let customers = self.rows(
            &what,
            &format!(
                "SELECT month, {}, customer_id FROM contribution_customers WHERE month BETWEEN ?1 AND ?2 \
                 ORDER BY month, customer_id",
                FIGURES.join(", ")
            ),
            &range,
            |r| {
                let month = month_of(need(r.int(0)?, 0)?)?;
                Ok(StoredCustomer { month, customer: need(r.text(9)?, 9)?.to_string(), figures: figures_of(r, 1)? })
            },
        )?;
        let managers = self.rows(
            &what,
            &format!(
                "SELECT month, {}, manager, customers FROM contribution_managers WHERE month BETWEEN ?1 AND ?2 \
                 ORDER BY month, CASE WHEN manager = '' THEN 1 ELSE 0 END, manager",
                FIGURES.join(", ")
            ),
            &range,
            |r| {
                let month = month_of(need(r.int(0)?, 0)?)?;
                let customers = u64::try_from(need(r.int(10)?, 10)?)
                    .map_err(|_| StoreError::Corrupt("a stored manager's customer count is negative".into()))?;
                let manager = need(r.text(9)?, 9)?.to_string();
                Ok(StoredManager { month, manager, customers, figures: figures_of(r, 1)? })
            },
        )?;
        let lineage = self.rows(
            &what,
            &format!(
                "SELECT {LINE_COLUMNS} FROM contribution_lineage WHERE month BETWEEN ?1 AND ?2 \
                 ORDER BY month, customer_id, seq"
            ),
            &range,
            |r| {
                let customer = need(r.text(16)?, 16)?.to_string();
                Ok((month_of(need(r.int(0)?, 0)?)?, line_of(r, &customer)?))
            },
        )?;
        Ok(ContributionRange { customers, managers, lineage })
    }
}

/// The stored contribution of a range of months, in key order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContributionRange {
    /// Each customer-month's figures, by month and customer.
    pub customers: Vec<StoredCustomer>,
    /// Each manager-month's roll-up, by month and manager (the customers without one last).
    pub managers: Vec<StoredManager>,
    /// Each lineage line with its month, by month, customer and line.
    pub lineage: Vec<(Month, LineageLine)>,
}

/// The managers' rows in fen, and the customers without a manager as manager `''` when there
/// are any.
fn manager_rows(c: &Contribution, unassigned: u64) -> Result<Vec<(String, i64, [i64; 8])>, StoreError> {
    let mut out = Vec::with_capacity(c.managers.len() + 1);
    for ManagerFigures { manager, customers, figures } in &c.managers {
        let n = i64::try_from(*customers).unwrap_or(i64::MAX);
        out.push((manager.clone(), n, figure_fen(figures, || format!("manager {manager}"))?));
    }
    if unassigned > 0 {
        let n = i64::try_from(unassigned).unwrap_or(i64::MAX);
        out.push((String::new(), n, figure_fen(&c.unassigned, || "customers without a manager".to_string())?));
    }
    Ok(out)
}

fn line_of(r: &dyn Row, customer: &str) -> Result<LineageLine, StoreError> {
    let text = |i: usize| -> Result<Option<String>, StoreError> { Ok(r.text(i)?.map(str::to_string)) };
    let kind = need(r.text(1)?, 1)?;
    let kind = LineKind::parse(kind)
        .ok_or_else(|| StoreError::Corrupt(format!("a stored contribution line's kind `{kind}` is not a kind")))?;
    Ok(LineageLine {
        customer: customer.to_string(),
        kind,
        account: text(2)?,
        pool: text(3)?,
        stage: r.int(4)?.and_then(|s| usize::try_from(s).ok()),
        product: text(5)?,
        item: text(6)?,
        balance: r.int(7)?.map(from_fen),
        ftp_rate: decimal(r, 8)?,
        customer_rate: decimal(r, 9)?,
        rate: decimal(r, 10)?,
        risk_weight: decimal(r, 11)?,
        days: r.int(12)?.and_then(|d| u32::try_from(d).ok()),
        driver_quantity: decimal(r, 13)?,
        driver_total: decimal(r, 14)?,
        amount: from_fen(need(r.int(15)?, 15)?),
    })
}

impl Store {
    /// Writes a contribution month (SPEC §20) beside the tiering months: every customer's
    /// figures, the managers' roll-up and the lineage, in one transaction under the write lock.
    /// A month stored already is replaced when `meta.rerun` is set, and refused otherwise.
    /// The lineage goes through the same insert as [`Store::write_contribution_streaming`]'s.
    ///
    /// # Errors
    /// [`crate::StoreErrorKind::AlreadyCommitted`] for a month stored already without
    /// `rerun`; [`crate::StoreErrorKind::Locked`] when another run holds the lock;
    /// [`crate::StoreErrorKind::ReadOnly`]; [`crate::StoreErrorKind::Input`] for an amount that
    /// is not a whole number of fen; [`crate::StoreErrorKind::Database`]. Nothing is written on
    /// any error.
    pub fn write_contribution(
        &mut self,
        contribution: &Contribution,
        meta: &ContributionMeta,
    ) -> Result<(), StoreError> {
        self.write_contribution_streaming(contribution.month, meta, |sink| {
            for l in &contribution.lineage {
                sink.push(l);
            }
            Ok::<_, StoreError>(StreamedContribution { contribution, unassigned_customers: meta.unassigned_customers })
        })
        .map(|_| ())
    }

    /// The contribution months stored, in order.
    ///
    /// # Errors
    /// [`crate::StoreErrorKind::Database`], [`crate::StoreErrorKind::Corrupt`].
    pub fn contribution_months(&mut self) -> Result<Vec<Month>, StoreError> {
        self.db.snapshot(|db| {
            db.rows(
                "reading the contribution months",
                "SELECT month FROM contribution_months ORDER BY month",
                &[],
                |r| month_of(need(r.int(0)?, 0)?),
            )
        })
    }

    /// The stored contribution of the months `first..=last` (those stored among them): the
    /// customers' figures, the managers' roll-ups and the lineage, from one snapshot.
    ///
    /// # Errors
    /// [`crate::StoreErrorKind::Database`], [`crate::StoreErrorKind::Corrupt`] for a stored
    /// value that cannot be read back.
    pub fn contribution_range(&mut self, first: Month, last: Month) -> Result<ContributionRange, StoreError> {
        self.db.snapshot(|db| db.contribution_range(first, last))
    }

    /// A customer's stored contribution, month by month: figures and lines.
    ///
    /// # Errors
    /// [`crate::StoreErrorKind::Database`], [`crate::StoreErrorKind::Corrupt`] for a stored
    /// value that cannot be read back.
    pub fn customer_contribution(&mut self, customer: &str) -> Result<Vec<StoredContribution>, StoreError> {
        self.db.snapshot(|db| db.customer_contribution(customer))
    }
}
