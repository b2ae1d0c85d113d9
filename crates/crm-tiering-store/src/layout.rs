//! Where a month's states are kept: a strategy a backend chooses. [`BLOCKS`] (SQLite: about
//! 850 customers per row, [`crate::blocks`]) and [`ROWS`] (PostgreSQL: one row per customer,
//! loaded with `COPY`). Both give the same `states` relation (`month`, `customer_id`,
//! `state`) to SQL, a table or a view, and the same rows, in customer id order, to the store.
//!
//! Each customer-month's history (SPEC §19.5, `History::to_json`) is kept beside its state,
//! in the same row: a `histories` column of the blocks, a `history` column of the rows, null
//! where there is none (a book without windows keeps none, so its months store nothing more).

use crate::StoreError;
use crate::blocks::{BLOCK_CUSTOMERS, StoredBlock, for_each_block};
use crate::codec::STATE_BYTES;
use crate::dialect::Dialect;
use crate::driver::{Driver, StateFn, Value, need};

/// Called with a month (yyyymm) and a customer's encoded state and history that month.
pub(crate) type MonthStateFn<'a> = dyn FnMut(i64, &[u8], Option<&str>) -> Result<(), StoreError> + 'a;
use crate::schema::{Column, Table, Type, added};

/// A month's encoded states to write, in customer id order, each with its history (JSON,
/// none when empty).
pub(crate) type StateRowsIter<'a, 'r> = dyn Iterator<Item = (&'r str, &'r [u8; STATE_BYTES], Option<&'r str>)> + 'a;

/// How a month's states are kept.
pub(crate) trait StateLayout: Sync {
    /// The statements that create its tables and the `states` relation.
    fn create_sql(&self, dialect: &Dialect) -> Vec<String>;
    /// The statements that bring its tables from schema version `from` to the current one
    /// (the columns added since), run before a migration's steps read or write the states.
    fn upgrade_sql(&self, dialect: &Dialect, from: i64) -> Vec<String>;
    /// Writes a month's encoded states and histories, given in customer id order.
    fn write(&self, d: &mut dyn Driver, month: i64, rows: &mut StateRowsIter<'_, '_>) -> Result<(), StoreError>;
    /// Reads a month's states in customer id order, each id after the one before. With `fast`,
    /// a layout may read in the order the rows lie and stop at the first row out of id order,
    /// returning false: the caller then reads again without `fast`.
    fn read(&self, d: &mut dyn Driver, month: i64, fast: bool, f: &mut StateFn<'_>) -> Result<bool, StoreError>;
    /// Removes a month's states.
    fn delete(&self, d: &mut dyn Driver, month: i64) -> Result<(), StoreError>;
    /// At most how many customers the month's stored rows can hold (what reading may reserve),
    /// when the layout can tell cheaply.
    fn capacity(&self, d: &mut dyn Driver, month: i64) -> Result<Option<u64>, StoreError>;
    /// One customer's stored row in each committed month that has one, in month order.
    fn customer(&self, d: &mut dyn Driver, customer_id: &str, f: &mut MonthStateFn<'_>) -> Result<(), StoreError>;
}

const fn col(name: &'static str, ty: Type) -> Column {
    Column { name, ty, null: false, default: None, references: None, since: 2 }
}

/// SQLite's blocks ([`crate::blocks`]).
pub(crate) const STATE_BLOCKS: Table = Table {
    name: "state_blocks",
    columns: &[
        col("month", Type::Int),
        col("block", Type::Int),
        col("first_customer", Type::Key),
        col("customers", Type::Int),
        col("id_ends", Type::Bytes),
        col("ids", Type::Bytes),
        col("states", Type::Bytes),
        added("histories", Type::Bytes, 4),
    ],
    key: &["month", "block"],
    unique: &[&["month", "first_customer"]],
    indexes: &[],
    clustered: false,
};

/// One row per customer-month.
pub(crate) const STATES: Table = Table {
    name: "states",
    columns: &[
        col("month", Type::Int),
        col("customer_id", Type::Key),
        col("state", Type::Bytes),
        added("history", Type::Text, 4),
    ],
    key: &["month", "customer_id"],
    unique: &[],
    indexes: &[],
    clustered: false,
};

/// Blocks of customers, one row each.
pub(crate) struct Blocks;
/// One row per customer.
pub(crate) struct Rows;

pub(crate) static BLOCKS: Blocks = Blocks;
pub(crate) static ROWS: Rows = Rows;

/// The slots that number a block's customers, for the `states` view over the blocks.
pub(crate) const STATE_SLOTS: [&str; 2] = [
    "CREATE TABLE state_slots (slot INTEGER PRIMARY KEY)",
    "WITH RECURSIVE n(slot) AS (SELECT 0 UNION ALL SELECT slot + 1 FROM n WHERE slot + 1 < 1024) \
     INSERT INTO state_slots (slot) SELECT slot FROM n",
];

/// The `states` view over the blocks (SQLite): `month`, `customer_id`, `state`.
pub(crate) fn states_view_sql() -> String {
    let start = format!("CASE WHEN k.slot = 0 THEN 0 ELSE {} END", crate::blocks::sql_u16("b.id_ends", "k.slot - 1"));
    let end = crate::blocks::sql_u16("b.id_ends", "k.slot");
    format!(
        "CREATE VIEW states AS SELECT b.month AS month, \
         CAST(substr(b.ids, ({start}) + 1, ({end}) - ({start})) AS TEXT) AS customer_id, \
         substr(b.states, k.slot * {STATE_BYTES} + 1, {STATE_BYTES}) AS state \
         FROM state_blocks b CROSS JOIN state_slots k ON k.slot < b.customers",
    )
}

fn corrupt_block(month: i64, block: i64, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("block {block} of the states of {}: {why}", crate::types::month_text(month)))
}

/// A block from a row (`block`, `first_customer`, `customers`, `id_ends`, `ids`, `states`,
/// `histories` from column `at`), checked whole, its first id against its key.
fn stored_block<'r>(r: &'r dyn crate::driver::Row, month: i64, at: usize) -> Result<StoredBlock<'r>, StoreError> {
    let block = need(r.int(at)?, at)?;
    let named = |e: StoreError| match e {
        StoreError::Corrupt(m) => corrupt_block(month, block, m),
        other => other,
    };
    let first = r.text(at + 1).and_then(|v| need(v, at + 1)).map_err(named)?;
    let customers = r.int(at + 2).and_then(|v| need(v, at + 2)).map_err(named)?;
    let blob =
        |k: usize| -> Result<&'r [u8], StoreError> { r.bytes(at + k).and_then(|v| need(v, at + k)).map_err(named) };
    let histories = r.bytes(at + 6)?;
    let stored = StoredBlock::new(month, block, customers, blob(3)?, blob(4)?, blob(5)?)?.with_histories(histories)?;
    if stored.id(0) != first {
        return Err(corrupt_block(
            month,
            block,
            format!("its first customer is {} but its key says {first}", stored.id(0)),
        ));
    }
    Ok(stored)
}

impl StateLayout for Blocks {
    fn create_sql(&self, dialect: &Dialect) -> Vec<String> {
        let mut out = STATE_BLOCKS.create_sql(dialect);
        out.extend(STATE_SLOTS.map(str::to_string));
        out.push(states_view_sql());
        out
    }

    fn upgrade_sql(&self, dialect: &Dialect, from: i64) -> Vec<String> {
        // Schema 1 had no blocks: its migration makes them as they are now.
        if from < 2 { Vec::new() } else { STATE_BLOCKS.upgrade_sql(dialect, from) }
    }

    fn write(&self, d: &mut dyn Driver, month: i64, rows: &mut StateRowsIter<'_, '_>) -> Result<(), StoreError> {
        d.load(&STATE_BLOCKS, &mut |push| {
            for_each_block(&mut *rows, |k, b| {
                push(&[
                    Value::Int(month),
                    Value::Int(k),
                    Value::Text(&b.first_customer),
                    Value::Int(b.customers as i64),
                    Value::Bytes(&b.id_ends),
                    Value::Bytes(&b.ids),
                    Value::Bytes(&b.states),
                    if b.histories.is_empty() { Value::Null } else { Value::Bytes(&b.histories) },
                ])
            })
        })
    }

    fn read(&self, d: &mut dyn Driver, month: i64, _fast: bool, f: &mut StateFn<'_>) -> Result<bool, StoreError> {
        let mut expected = 0i64;
        let mut last: Option<String> = None;
        d.query(
            "SELECT block, first_customer, customers, id_ends, ids, states, histories FROM state_blocks WHERE month = ?1 ORDER BY block",
            &[Value::Int(month)],
            &mut |r| {
                let block = stored_block(r, month, 0)?;
                let number = need(r.int(0)?, 0)?;
                if number != expected {
                    return Err(StoreError::Corrupt(format!(
                        "the states of {}: block {number} where block {expected} was expected",
                        crate::types::month_text(month)
                    )));
                }
                block.check_order(last.as_deref())?;
                for k in 0..block.len() {
                    f(block.id(k), block.state(k), block.history(k))?;
                }
                expected += 1;
                last = Some(block.id(block.len() - 1).to_string());
                Ok(())
            },
        )?;
        Ok(true)
    }

    fn delete(&self, d: &mut dyn Driver, month: i64) -> Result<(), StoreError> {
        d.execute("DELETE FROM state_blocks WHERE month = ?1", &[Value::Int(month)]).map(|_| ())
    }

    fn capacity(&self, d: &mut dyn Driver, month: i64) -> Result<Option<u64>, StoreError> {
        // The blocks' keys only (an index of a few thousand entries): at most 1024 customers each.
        let mut n = 0i64;
        d.query("SELECT count(*) FROM state_blocks WHERE month = ?1", &[Value::Int(month)], &mut |r| {
            n = r.int(0)?.unwrap_or(0);
            Ok(())
        })?;
        Ok(Some(u64::try_from(n).unwrap_or(0).saturating_mul(BLOCK_CUSTOMERS as u64)))
    }

    fn customer(&self, d: &mut dyn Driver, customer_id: &str, f: &mut MonthStateFn<'_>) -> Result<(), StoreError> {
        // CROSS JOIN keeps `months` the outer loop: per month, the one block whose first
        // customer is the last at or before the id (the `UNIQUE (month, first_customer)` index).
        d.query(
            "SELECT m.month, b.block, b.first_customer, b.customers, b.id_ends, b.ids, b.states, b.histories FROM months m CROSS JOIN state_blocks b \
             ON b.month = m.month AND b.first_customer = \
             (SELECT max(first_customer) FROM state_blocks x WHERE x.month = m.month AND x.first_customer <= ?1) \
             ORDER BY m.month",
            &[Value::Text(customer_id)],
            &mut |r| {
                let month = need(r.int(0)?, 0)?;
                let block = stored_block(r, month, 1)?;
                match block.find(customer_id) {
                    Some(k) => f(month, block.state(k), block.history(k)),
                    None => Ok(()),
                }
            },
        )
    }
}

impl StateLayout for Rows {
    fn create_sql(&self, dialect: &Dialect) -> Vec<String> {
        STATES.create_sql(dialect)
    }

    fn upgrade_sql(&self, dialect: &Dialect, from: i64) -> Vec<String> {
        // Schema 1's table had the columns of schema 2.
        STATES.upgrade_sql(dialect, from.max(2))
    }

    fn write(&self, d: &mut dyn Driver, month: i64, rows: &mut StateRowsIter<'_, '_>) -> Result<(), StoreError> {
        d.load(&STATES, &mut |push| {
            for (id, row, history) in &mut *rows {
                push(&[Value::Int(month), Value::Text(id), Value::Bytes(row), history.into()])?;
            }
            Ok(())
        })
    }

    fn read(&self, d: &mut dyn Driver, month: i64, fast: bool, f: &mut StateFn<'_>) -> Result<bool, StoreError> {
        let mut last = String::new();
        let mut first = true;
        let mut in_order = true;
        if fast {
            // A month is loaded in id order, and a scan gives its rows as they lie: in that
            // order unless the table's space was reused (after a rerun or a rollback).
            d.query(
                "SELECT customer_id, state, history FROM states WHERE month = ?1",
                &[Value::Int(month)],
                &mut |r| {
                    let id = need(r.text(0)?, 0)?;
                    if !in_order || (!first && last.as_bytes() >= id.as_bytes()) {
                        in_order = false;
                        return Ok(());
                    }
                    first = false;
                    last.clear();
                    last.push_str(id);
                    f(id, need(r.bytes(1)?, 1)?, r.text(2)?)
                },
            )?;
            return Ok(in_order);
        }
        let key_order = d.dialect().key_order;
        if let Some((before, _)) = key_order {
            d.execute(before, &[])?;
        }
        let read = d.query(
            "SELECT customer_id, state, history FROM states WHERE month = ?1 ORDER BY customer_id",
            &[Value::Int(month)],
            &mut |r| {
                let id = need(r.text(0)?, 0)?;
                if !first && last.as_bytes() >= id.as_bytes() {
                    return Err(StoreError::Corrupt(format!(
                        "the states of {}: customer {id} comes after {last}",
                        crate::types::month_text(month)
                    )));
                }
                first = false;
                last.clear();
                last.push_str(id);
                f(id, need(r.bytes(1)?, 1)?, r.text(2)?)
            },
        );
        if let Some((_, after)) = key_order {
            let _ = d.execute(after, &[]);
        }
        read.map(|_| true)
    }

    fn delete(&self, d: &mut dyn Driver, month: i64) -> Result<(), StoreError> {
        d.execute("DELETE FROM states WHERE month = ?1", &[Value::Int(month)]).map(|_| ())
    }

    fn capacity(&self, _: &mut dyn Driver, _: i64) -> Result<Option<u64>, StoreError> {
        // Counting a million rows costs PostgreSQL as much as reading them.
        Ok(None)
    }

    fn customer(&self, d: &mut dyn Driver, customer_id: &str, f: &mut MonthStateFn<'_>) -> Result<(), StoreError> {
        d.query(
            "SELECT m.month, s.state, s.history FROM months m JOIN states s ON s.month = m.month AND s.customer_id = ?1 ORDER BY m.month",
            &[Value::Text(customer_id)],
            &mut |r| f(need(r.int(0)?, 0)?, need(r.bytes(1)?, 1)?, r.text(2)?),
        )
    }
}
