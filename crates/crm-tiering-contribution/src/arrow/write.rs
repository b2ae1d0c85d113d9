//! The outputs as record batches, one schema each (the module's documentation gives the types).

use std::sync::Arc;

use arrow_array::{
    ArrayRef, Date32Array, Decimal128Array, Int64Array, ListArray, RecordBatch, StringArray, StructArray,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, Schema};
use crm_tiering::portfolio::arrow::tables::month_days;
use crm_tiering::{Decimal, Month};

use crate::error::ContributionError;
use crate::lineage::{Contribution, Figures, LineageLine};

/// The scale of money columns.
const MONEY: u32 = 2;
/// The scale of rate and risk weight columns: the crate's most decimals.
const RATE: u32 = 10;
/// The scale of driver quantities and totals: a quantity's ten decimals times a coefficient's.
const DRIVER: u32 = 20;

/// A table being built: its name, rows and columns (name, values, nullable).
struct Batch {
    table: &'static str,
    rows: usize,
    columns: Vec<(&'static str, ArrayRef, bool)>,
}

/// The unscaled value of `d` at `scale`, when it is exact there and within 38 digits.
fn unscaled(d: Decimal, scale: u32) -> Option<i128> {
    let d = if d.scale() > scale { d.normalize() } else { d };
    let v = d.mantissa().checked_mul(10i128.checked_pow(scale.checked_sub(d.scale())?)?)?;
    (v.unsigned_abs() < 10u128.pow(38)).then_some(v)
}

impl Batch {
    fn new(table: &'static str, rows: usize, month: Month) -> Self {
        Self::of_months(table, std::iter::repeat_n(month, rows))
    }

    /// A table whose row `i` is of the `i`-th month (several months: a store's range).
    fn of_months(table: &'static str, months: impl Iterator<Item = Month>) -> Self {
        let months: Date32Array = months.map(month_days).collect::<Vec<_>>().into();
        Batch { table, rows: months.len(), columns: vec![("month", Arc::new(months), false)] }
    }

    fn text<'a>(&mut self, name: &'static str, values: impl Iterator<Item = Option<&'a str>>, nullable: bool) {
        self.columns.push((name, Arc::new(values.collect::<StringArray>()), nullable));
    }

    fn count(&mut self, name: &'static str, values: impl Iterator<Item = Option<usize>>, nullable: bool) {
        let values: Int64Array = values.map(|v| v.map(|v| i64::try_from(v).unwrap_or(i64::MAX))).collect();
        self.columns.push((name, Arc::new(values), nullable));
    }

    fn decimal(
        &mut self,
        name: &'static str,
        scale: u32,
        values: impl Iterator<Item = Option<Decimal>>,
        nullable: bool,
    ) -> Result<(), ContributionError> {
        let mut out = Vec::with_capacity(self.rows);
        for (row, v) in values.enumerate() {
            match v {
                None => out.push(None),
                Some(d) => out.push(Some(unscaled(d, scale).ok_or_else(|| ContributionError::Arrow {
                    table: self.table.to_string(),
                    row: Some(row),
                    column: Some(name.to_string()),
                    message: format!("{d} does not fit decimal128(38, {scale}) exactly"),
                })?)),
            }
        }
        let array = Decimal128Array::from(out).with_precision_and_scale(38, i8::try_from(scale).unwrap_or(38));
        self.push_array(name, array.map(|a| Arc::new(a) as ArrayRef), nullable)
    }

    fn push_array(
        &mut self,
        name: &'static str,
        array: Result<ArrayRef, arrow_schema::ArrowError>,
        nullable: bool,
    ) -> Result<(), ContributionError> {
        let array = array.map_err(|e| self.arrow(&e))?;
        self.columns.push((name, array, nullable));
        Ok(())
    }

    /// The eight figures' columns.
    fn figures<'a>(&mut self, figures: impl Iterator<Item = &'a Figures> + Clone) -> Result<(), ContributionError> {
        for (k, name) in Figures::NAMES.into_iter().enumerate() {
            self.decimal(name, MONEY, figures.clone().map(|f| f.values().get(k).copied()), false)?;
        }
        Ok(())
    }

    fn arrow(&self, e: &arrow_schema::ArrowError) -> ContributionError {
        ContributionError::Arrow { table: self.table.to_string(), row: None, column: None, message: e.to_string() }
    }

    fn finish(self) -> Result<RecordBatch, ContributionError> {
        let fields: Vec<Field> =
            self.columns.iter().map(|(n, a, nullable)| Field::new(*n, a.data_type().clone(), *nullable)).collect();
        let arrays = self.columns.iter().map(|(_, a, _)| a.clone()).collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| self.arrow(&e))
    }
}

/// The customers' figures: `month`, `customer`, then `interest_asset`,
/// `interest_liability`, `fees`, `allocated_costs`, `direct_costs`, `risk_cost`,
/// `capital_charge`, `net_contribution` (costs positive; the net is income less costs), one
/// row per customer by id. A customer's costs by pool are its `allocated_cost` lineage lines.
///
/// # Errors
/// A value that does not fit its column exactly (never expected: figures are whole fen).
pub fn customers_table(c: &Contribution) -> Result<RecordBatch, ContributionError> {
    customer_rows_table(c.customers.iter().map(|x| (c.month, x.customer.as_str(), &x.figures)))
}

/// [`customers_table`]'s columns for rows of any months, `(month, customer, figures)` in the
/// order given: the customers of a store's range of months (`export --format parquet`).
///
/// # Errors
/// A value that does not fit its column exactly (never expected: figures are whole fen).
pub fn customer_rows_table<'a>(
    rows: impl Iterator<Item = (Month, &'a str, &'a Figures)> + Clone,
) -> Result<RecordBatch, ContributionError> {
    let mut b = Batch::of_months("customers", rows.clone().map(|r| r.0));
    b.text("customer", rows.clone().map(|r| Some(r.1)), false);
    b.figures(rows.map(|r| r.2))?;
    b.finish()
}

/// The account managers' roll-up: `month`, `manager`, `customers` (how many the manager has a
/// share of), then the figures as [`customers_table`]'s, one row per manager by id. Customers
/// without a manager are not in it ([`Contribution::unassigned`]).
///
/// # Errors
/// A value that does not fit its column exactly (never expected).
pub fn managers_table(c: &Contribution) -> Result<RecordBatch, ContributionError> {
    manager_rows_table(c.managers.iter().map(|x| (c.month, x.manager.as_str(), x.customers, &x.figures)))
}

/// [`managers_table`]'s columns for rows of any months, `(month, manager, customers, figures)`
/// in the order given (a store's range keeps the customers without a manager as manager `""`).
///
/// # Errors
/// A value that does not fit its column exactly (never expected).
pub fn manager_rows_table<'a>(
    rows: impl Iterator<Item = (Month, &'a str, usize, &'a Figures)> + Clone,
) -> Result<RecordBatch, ContributionError> {
    let mut b = Batch::of_months("managers", rows.clone().map(|r| r.0));
    b.text("manager", rows.clone().map(|r| Some(r.1)), false);
    b.count("customers", rows.clone().map(|r| Some(r.2)), false);
    b.figures(rows.map(|r| r.3))?;
    b.finish()
}

/// The branches' roll-up: `month`, `legal_entity`, `branch`, then the figures, by legal
/// entity and branch.
///
/// # Errors
/// A value that does not fit its column exactly (never expected).
pub fn branches_table(c: &Contribution) -> Result<RecordBatch, ContributionError> {
    let mut b = Batch::new("branches", c.branches.len(), c.month);
    b.text("legal_entity", c.branches.iter().map(|x| Some(x.legal_entity.as_str())), false);
    b.text("branch", c.branches.iter().map(|x| Some(x.branch.as_str())), false);
    b.figures(c.branches.iter().map(|x| &x.figures))?;
    b.finish()
}

/// The legal entities' roll-up: `month`, `legal_entity`, then the figures, by legal entity.
///
/// # Errors
/// A value that does not fit its column exactly (never expected).
pub fn legal_entities_table(c: &Contribution) -> Result<RecordBatch, ContributionError> {
    let mut b = Batch::new("legal_entities", c.legal_entities.len(), c.month);
    b.text("legal_entity", c.legal_entities.iter().map(|x| Some(x.legal_entity.as_str())), false);
    b.figures(c.legal_entities.iter().map(|x| &x.figures))?;
    b.finish()
}

/// The lineage, one row per line in [`Contribution::lineage`]'s order: `month`, `customer`,
/// `kind` (`interest_asset`, ..., `capital_charge`), `account`, `pool`, `stage`, `product`,
/// `item`, `balance`, `ftp_rate`, `customer_rate`, `rate`, `risk_weight`, `days`,
/// `driver_quantity`, `driver_total`, `amount` (as it enters the net: costs negative, so a
/// customer's lines sum to its `net_contribution`). What a line was not computed from is null.
///
/// # Errors
/// A driver quantity or total beyond `decimal128(38, 20)` (never expected).
pub fn lineage_table(c: &Contribution) -> Result<RecordBatch, ContributionError> {
    lineage_rows_table(c.lineage.iter().map(|l| (c.month, l)))
}

/// [`lineage_table`]'s columns for lines of any months, `(month, line)` in the order given: the
/// lineage of a store's range of months.
///
/// # Errors
/// A driver quantity or total beyond `decimal128(38, 20)` (never expected).
pub fn lineage_rows_table<'a>(
    rows: impl Iterator<Item = (Month, &'a LineageLine)> + Clone,
) -> Result<RecordBatch, ContributionError> {
    let mut b = Batch::of_months("lineage", rows.clone().map(|r| r.0));
    let l = rows.map(|r| r.1);
    b.text("customer", l.clone().map(|x| Some(x.customer.as_str())), false);
    b.text("kind", l.clone().map(|x| Some(x.kind.as_str())), false);
    b.text("account", l.clone().map(|x| x.account.as_deref()), true);
    b.text("pool", l.clone().map(|x| x.pool.as_deref()), true);
    b.count("stage", l.clone().map(|x| x.stage), true);
    b.text("product", l.clone().map(|x| x.product.as_deref()), true);
    b.text("item", l.clone().map(|x| x.item.as_deref()), true);
    b.decimal("balance", MONEY, l.clone().map(|x| x.balance), true)?;
    b.decimal("ftp_rate", RATE, l.clone().map(|x| x.ftp_rate), true)?;
    b.decimal("customer_rate", RATE, l.clone().map(|x| x.customer_rate), true)?;
    b.decimal("rate", RATE, l.clone().map(|x| x.rate), true)?;
    b.decimal("risk_weight", RATE, l.clone().map(|x| x.risk_weight), true)?;
    b.count("days", l.clone().map(|x| x.days.and_then(|d| usize::try_from(d).ok())), true);
    b.decimal("driver_quantity", DRIVER, l.clone().map(|x| x.driver_quantity), true)?;
    b.decimal("driver_total", DRIVER, l.clone().map(|x| x.driver_total), true)?;
    b.decimal("amount", MONEY, l.map(|x| Some(x.amount)), false)?;
    b.finish()
}

/// What each allocation stage did, in stage order: `month`, `stage`, `pool`, `amount` (the
/// pool's own and what earlier stages moved to it), `driver_total`, `targets` (how many
/// received a share), `to_pools` (for a pool-to-pool stage, what each pool received: a list
/// of `{pool, amount}`; empty otherwise).
///
/// # Errors
/// A value that does not fit its column exactly (never expected).
pub fn stages_table(c: &Contribution) -> Result<RecordBatch, ContributionError> {
    let s = &c.stages;
    let mut b = Batch::new("stages", s.len(), c.month);
    b.count("stage", s.iter().map(|x| Some(x.stage)), false);
    b.text("pool", s.iter().map(|x| Some(x.pool.as_str())), false);
    b.decimal("amount", MONEY, s.iter().map(|x| Some(x.amount)), false)?;
    b.decimal("driver_total", DRIVER, s.iter().map(|x| Some(x.driver_total)), false)?;
    b.count("targets", s.iter().map(|x| Some(x.targets)), false);
    let moved: Vec<_> = s.iter().flat_map(|x| &x.to_pools).collect();
    let mut inner = Batch { table: "stages", rows: moved.len(), columns: Vec::new() };
    inner.text("pool", moved.iter().map(|p| Some(p.pool.as_str())), false);
    inner.decimal("amount", MONEY, moved.iter().map(|p| Some(p.amount)), false)?;
    let fields: Fields =
        inner.columns.iter().map(|(n, a, nullable)| Field::new(*n, a.data_type().clone(), *nullable)).collect();
    let arrays = inner.columns.into_iter().map(|(_, a, _)| a).collect();
    let entries = StructArray::try_new(fields.clone(), arrays, None).map_err(|e| b.arrow(&e))?;
    let item = Arc::new(Field::new("item", DataType::Struct(fields), false));
    let offsets = OffsetBuffer::from_lengths(s.iter().map(|x| x.to_pools.len()));
    let list = ListArray::try_new(item, offsets, Arc::new(entries), None);
    b.push_array("to_pools", list.map(|a| Arc::new(a) as ArrayRef), false)?;
    b.finish()
}
