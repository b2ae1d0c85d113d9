//! Portfolios as Arrow tables: columns are read in Rust (no Python object per row) and the
//! results are built as Arrow arrays with `decimal128(38, 2)` amounts.

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Decimal128Builder, Int8Builder, Int16Builder, StringBuilder, UInt32Builder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int8Type, Int16Type, Int64Type};
use arrow_array::{Array, ArrayRef, DictionaryArray, PrimitiveArray, RecordBatch, StringArray};
use arrow_buffer::{Buffer, NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use crm_tiering::{
    Alert, AlertKind, BatchOutcome, Customer, CustomerKind, CustomerState, Decimal, Engine, Event, EventKind, Month,
    MonthInput, Reason, SpecialChange, Status, TierCode, TieringError, parse_amount,
};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use pyo3_arrow::input::AnyRecordBatch;

use crate::convert::{category, error_field, input_error};

/// A problem with an input table, raised once the GIL is held again.
#[derive(Debug)]
pub(crate) enum TableError {
    /// A column has a type that cannot hold what it should (a float amount, say): `TypeError`.
    Type(String),
    /// A column is missing or a value is unusable for the whole table: `InputError`.
    Input { field: String, message: String },
    /// Arrow failed.
    Arrow(String),
}

impl From<ArrowError> for TableError {
    fn from(e: ArrowError) -> Self {
        TableError::Arrow(e.to_string())
    }
}

impl TableError {
    pub(crate) fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            TableError::Type(m) => PyTypeError::new_err(m),
            TableError::Input { field, message } => input_error(py, None, None, &field, &message),
            TableError::Arrow(m) => PyRuntimeError::new_err(format!("arrow: {m}")),
        }
    }
}

type TResult<T> = Result<T, TableError>;

/// The rows of an input table.
pub(crate) struct Rows {
    pub(crate) customers: Vec<Customer>,
    pub(crate) inputs: Vec<MonthInput>,
    /// Per row, what is wrong with its values (field, message), if anything.
    pub(crate) problems: Vec<Option<(&'static str, String)>>,
    /// Per row, the month (history tables only; `None` when unusable).
    pub(crate) months: Vec<Option<Month>>,
    pub(crate) has_problems: bool,
    /// The ids are exactly the portfolio's customers, in order: `customers` is left empty.
    pub(crate) aligned: bool,
}

/// Collects the batches of a table-like object (anything with `__arrow_c_stream__` or
/// `__arrow_c_array__`). Needs the GIL; the data is not copied.
pub(crate) fn collect_batches(table: AnyRecordBatch) -> PyResult<Vec<RecordBatch>> {
    let reader = table.into_reader()?;
    reader.collect::<Result<Vec<_>, ArrowError>>().map_err(|e| PyRuntimeError::new_err(format!("arrow: {e}")))
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a ArrayRef> {
    batch.schema_ref().index_of(name).ok().map(|i| batch.column(i))
}

fn for_each_str(col: &ArrayRef, name: &str, mut f: impl FnMut(Option<&str>)) -> TResult<()> {
    match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().iter().for_each(&mut f),
        DataType::LargeUtf8 => col.as_string::<i64>().iter().for_each(&mut f),
        DataType::Utf8View => col.as_string_view().iter().for_each(&mut f),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            return Err(TableError::Type(format!("column `{name}` holds floats: use strings")));
        }
        _ => {
            let c = arrow_cast::cast(col, &DataType::Utf8)?;
            c.as_string::<i32>().iter().for_each(&mut f);
        }
    }
    Ok(())
}

pub(crate) const MISSING_AUM: &str = "the AUM is missing (null)";

fn read_amounts(col: &ArrayRef, name: &str, out: &mut Vec<Result<Decimal, String>>) -> TResult<()> {
    match col.data_type() {
        DataType::Decimal128(_, s) if *s >= 0 && *s <= 28 => {
            let scale = *s as u32;
            for v in col.as_primitive::<Decimal128Type>().iter() {
                out.push(match v {
                    Some(m) => Decimal::try_from_i128_with_scale(m, scale)
                        .map_err(|_| format!("the amount {m}e-{scale} does not fit in 28 significant digits")),
                    None => Err(MISSING_AUM.to_string()),
                });
            }
        }
        DataType::Decimal128(p, s) if *s < 0 => {
            let c = arrow_cast::cast(col, &DataType::Decimal128((*p).max(1), 0))?;
            return read_amounts(&c, name, out);
        }
        DataType::Decimal256(_, s) if *s >= 0 && *s <= 28 => {
            let c = arrow_cast::cast(col, &DataType::Decimal128(38, *s))?;
            return read_amounts(&c, name, out);
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            for_each_str(col, name, |v| {
                out.push(match v {
                    Some(t) => parse_amount(t).map_err(|e| e.to_string()),
                    None => Err(MISSING_AUM.to_string()),
                })
            })?;
        }
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => {
            let c = arrow_cast::cast(col, &DataType::Int64)?;
            for v in c.as_primitive::<Int64Type>().iter() {
                out.push(v.map(Decimal::from).ok_or_else(|| MISSING_AUM.to_string()));
            }
        }
        DataType::Null => out.extend((0..col.len()).map(|_| Err(MISSING_AUM.to_string()))),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            return Err(TableError::Type(format!(
                "column `{name}` is {}: money is exact in crm_tiering, use decimal128 or strings \
                 (pyarrow: pa.decimal128(20, 2); polars: pl.Decimal(20, 2); pandas: Decimal objects or str)",
                col.data_type()
            )));
        }
        DataType::Dictionary(_, _) => {
            let c = arrow_cast::cast(col, &DataType::Utf8)?;
            return read_amounts(&c, name, out);
        }
        other => {
            return Err(TableError::Type(format!("column `{name}` is {other}: use decimal128 or strings")));
        }
    }
    Ok(())
}

fn read_months(col: &ArrayRef, name: &str, out: &mut Vec<Result<Month, String>>) -> TResult<()> {
    match col.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _) => {
            for_each_str(col, name, |v| {
                out.push(match v {
                    Some(t) => t.parse::<Month>().map_err(|e| e.to_string()),
                    None => Err("the month is missing (null)".to_string()),
                })
            })?;
        }
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _) => {
            let c = arrow_cast::cast(col, &DataType::Date32)?;
            for v in c.as_primitive::<arrow_array::types::Date32Type>().iter() {
                out.push(match v {
                    Some(days) => chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
                        .ok_or_else(|| format!("date {days} is out of range"))
                        .and_then(|d| Month::from_date(d).map_err(|e| e.to_string())),
                    None => Err("the month is missing (null)".to_string()),
                });
            }
        }
        DataType::Int32 | DataType::Int64 | DataType::UInt32 => {
            let c = arrow_cast::cast(col, &DataType::Int64)?;
            for v in c.as_primitive::<Int64Type>().iter() {
                out.push(match v {
                    Some(n) => Month::from_yyyymm(n).map_err(|e| e.to_string()),
                    None => Err("the month is missing (null)".to_string()),
                });
            }
        }
        other => {
            return Err(TableError::Type(format!(
                "column `{name}` is {other}: use \"YYYY-MM\" strings, dates or YYYYMM integers"
            )));
        }
    }
    Ok(())
}

fn required<'a>(batch: &'a RecordBatch, name: &str) -> TResult<&'a ArrayRef> {
    column(batch, name).ok_or_else(|| TableError::Input {
        field: name.to_string(),
        message: format!(
            "the table has no `{name}` column (columns: {})",
            batch.schema_ref().fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", ")
        ),
    })
}

/// Reads the rows of a table: `customer_id`, `aum`, optional `legal_entity`, `kind`,
/// `special` (`grant`/`revoke`), `special_tier`, `special_months`, and `month` when `with_month`.
pub(crate) fn read_rows(batches: &[RecordBatch], with_month: bool, known: Option<&[Customer]>) -> TResult<Rows> {
    let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let aligned = match known {
        Some(k) if k.len() == n && n > 0 => ids_match(batches, k)?,
        _ => false,
    };
    let mut rows = Rows {
        customers: Vec::with_capacity(n),
        inputs: Vec::with_capacity(n),
        problems: Vec::with_capacity(n),
        months: Vec::with_capacity(if with_month { n } else { 0 }),
        has_problems: false,
        aligned,
    };
    let mut amounts = Vec::with_capacity(n);
    let mut months = Vec::new();
    let mut offset = 0usize;
    for batch in batches {
        let start = offset;
        let end = offset + batch.num_rows();
        offset = end;
        let mut missing_id = Vec::new();
        if !aligned {
            let mut i = start;
            for_each_str(required(batch, "customer_id")?, "customer_id", |v| {
                if v.is_none() {
                    missing_id.push(i);
                }
                rows.customers.push(Customer::personal(v.unwrap_or("")));
                i += 1;
            })?;
        }
        if let Some(col) = column(batch, "legal_entity").filter(|_| !aligned) {
            let mut i = start;
            for_each_str(col, "legal_entity", |v| {
                rows.customers[i].legal_entity = v.map(str::to_string);
                i += 1;
            })?;
        }
        let mut kind_problems = Vec::new();
        if let Some(col) = column(batch, "kind").filter(|_| !aligned) {
            let mut i = start;
            for_each_str(col, "kind", |v| {
                match v.map(str::parse::<CustomerKind>) {
                    Some(Ok(k)) => rows.customers[i].kind = k,
                    Some(Err(e)) => kind_problems.push((i, e)),
                    None => {}
                }
                i += 1;
            })?;
        }
        read_amounts(required(batch, "aum")?, "aum", &mut amounts)?;
        if with_month {
            read_months(required(batch, "month")?, "month", &mut months)?;
        }
        let mut special: Vec<Option<String>> = Vec::new();
        if let Some(col) = column(batch, "special") {
            for_each_str(col, "special", |v| special.push(v.map(str::to_string)))?;
        }
        let mut special_tier: Vec<Option<String>> = Vec::new();
        if let Some(col) = column(batch, "special_tier") {
            for_each_str(col, "special_tier", |v| special_tier.push(v.map(str::to_string)))?;
        }
        let mut special_months: Vec<Option<i64>> = Vec::new();
        if let Some(col) = column(batch, "special_months") {
            let c = arrow_cast::cast(col, &DataType::Int64)?;
            special_months.extend(c.as_primitive::<Int64Type>().iter());
        }
        for i in start..end {
            let mut problem: Option<(&'static str, String)> = None;
            let aum = match amounts.get(i) {
                Some(Ok(a)) => *a,
                Some(Err(e)) => {
                    problem = Some(("aum", e.clone()));
                    Decimal::ZERO
                }
                None => Decimal::ZERO,
            };
            let mut input = MonthInput::total(aum);
            let j = i - start;
            match special.get(j).and_then(|s| s.as_deref()) {
                None | Some("") => {}
                Some("revoke") => input.special = Some(SpecialChange::Revoke),
                Some("grant") => {
                    let tier = match special_tier.get(j).and_then(|t| t.as_deref()) {
                        Some(t) => match t.parse::<TierCode>() {
                            Ok(c) => Some(c),
                            Err(e) => {
                                problem = Some(("special_tier", e.to_string()));
                                None
                            }
                        },
                        None => None,
                    };
                    let months = match special_months.get(j).copied().flatten() {
                        Some(m) => match u32::try_from(m) {
                            Ok(m) => Some(m),
                            Err(_) => {
                                problem = Some(("special_months", format!("{m} is not a number of months")));
                                None
                            }
                        },
                        None => None,
                    };
                    input.special = Some(SpecialChange::Grant { tier, months });
                }
                Some(other) => {
                    problem =
                        Some(("special", format!("`{other}` is not a special VIP action: expected grant or revoke")));
                }
            }
            if with_month {
                match months.get(i) {
                    Some(Ok(m)) => rows.months.push(Some(*m)),
                    Some(Err(e)) => {
                        problem = Some(("month", e.clone()));
                        rows.months.push(None);
                    }
                    None => rows.months.push(None),
                }
            }
            rows.has_problems |= problem.is_some();
            rows.problems.push(problem);
            rows.inputs.push(input);
        }
        for i in missing_id {
            rows.problems[i] = Some(("customer_id", "the customer id is missing (null)".to_string()));
            rows.has_problems = true;
        }
        for (i, e) in kind_problems {
            rows.problems[i] = Some(("kind", e));
            rows.has_problems = true;
        }
    }
    Ok(rows)
}

/// Whether the tables' ids are exactly `known`'s, in order, with no selector columns.
fn ids_match(batches: &[RecordBatch], known: &[Customer]) -> TResult<bool> {
    let mut i = 0usize;
    let mut same = true;
    for batch in batches {
        if column(batch, "legal_entity").is_some() || column(batch, "kind").is_some() {
            return Ok(false);
        }
        for_each_str(required(batch, "customer_id")?, "customer_id", |v| {
            same = same && v.is_some_and(|v| known.get(i).is_some_and(|k| k.id == v));
            i += 1;
        })?;
        if !same {
            return Ok(false);
        }
    }
    Ok(same && i == known.len())
}

/// Receives what a month of a portfolio produces.
pub(crate) trait MonthSink {
    /// A row's result: its state after the month (unchanged on error), AUM and error.
    fn row(
        &mut self,
        month: Month,
        customer: &Customer,
        state: &CustomerState,
        aum: Option<Decimal>,
        error: Option<(&str, &str, String)>,
    );
    /// An event of the customer.
    fn event(&mut self, customer: &Customer, event: &Event);
    /// An alert of the customer.
    fn alert(&mut self, customer: &Customer, alert: &Alert);
}

/// A portfolio: customers and their states, kept between months.
pub(crate) struct Book {
    pub(crate) engine: Arc<Engine>,
    /// The dictionaries of the result tables' code columns.
    pub(crate) codes: Codes,
    pub(crate) index: FxHashMap<String, u32>,
    pub(crate) customers: Vec<Customer>,
    pub(crate) states: Vec<CustomerState>,
    /// The `customer_id` columns (as `Utf8`) of the last table whose ids were exactly
    /// `customers`, in order; empty when unknown. A table whose columns are byte-for-byte the
    /// same needs no row-by-row comparison. Cleared whenever a customer is added.
    pub(crate) ids: Vec<ArrayRef>,
}

impl Book {
    pub(crate) fn new(engine: Arc<Engine>) -> Self {
        let codes = Codes::of(engine.rule_book());
        Book { engine, codes, index: FxHashMap::default(), customers: Vec::new(), states: Vec::new(), ids: Vec::new() }
    }

    /// Adds a customer (with a new state) and returns its index.
    pub(crate) fn add(&mut self, customer: Customer, state: CustomerState) -> u32 {
        let i = self.customers.len() as u32;
        self.index.insert(customer.id.clone(), i);
        self.customers.push(customer);
        self.states.push(state);
        self.ids.clear();
        i
    }

    /// Evaluates a month for `rows` (all rows when `sel` is `None`), updating the states.
    pub(crate) fn run_month(
        &mut self,
        month: Month,
        rows: &Rows,
        sel: Option<&[u32]>,
        sink: &mut dyn MonthSink,
    ) -> Result<(), TieringError> {
        let n = rows.inputs.len();
        let aligned = sel.is_none()
            && !rows.has_problems
            && self.customers.len() == n
            && (rows.aligned || self.customers.iter().zip(&rows.customers).all(|(a, b)| a == b));
        if aligned {
            let out = self.engine.evaluate_batch(month, &self.customers, &rows.inputs, &mut self.states)?;
            emit(month, &self.customers, &self.states, &out, sink);
            return Ok(());
        }
        let all: Vec<u32>;
        let sel = match sel {
            Some(s) => s,
            None => {
                all = (0..n as u32).collect();
                &all
            }
        };
        let known;
        let source: &[Customer] = if rows.aligned {
            known = self.customers.clone();
            &known
        } else {
            &rows.customers
        };
        // Whether a customer (by index) already has a row this month.
        let mut seen: Vec<bool> = vec![false; self.customers.len() + sel.len()];
        let mut batch_rows = Vec::with_capacity(sel.len());
        let mut batch_idx = Vec::with_capacity(sel.len());
        for &r in sel {
            let r = r as usize;
            let c = &source[r];
            let idx = match self.index.get(&c.id) {
                Some(&i) => {
                    if self.customers[i as usize] != *c {
                        self.customers[i as usize] = c.clone();
                    }
                    i
                }
                None => self.add(c.clone(), CustomerState::default()),
            };
            if let Some((field, message)) = &rows.problems[r] {
                let e = (
                    "input",
                    *field,
                    format!("invalid input for customer `{}`, month {month}, field `{field}`: {message}", c.id),
                );
                sink.row(month, c, &self.states[idx as usize], None, Some(e));
                continue;
            }
            if std::mem::replace(&mut seen[idx as usize], true) {
                let e =
                    ("input", "customer_id", format!("customer `{}` appears more than once for month {month}", c.id));
                sink.row(month, c, &self.states[idx as usize], None, Some(e));
                continue;
            }
            batch_rows.push(r);
            batch_idx.push(idx);
        }
        // Every row in order onto consecutive customers (a first month): evaluate in place.
        let first = batch_idx.first().copied().unwrap_or(0) as usize;
        let in_place = batch_rows.len() == n
            && batch_rows.iter().enumerate().all(|(k, &r)| r == k)
            && batch_idx.iter().enumerate().all(|(k, &i)| i as usize == first + k);
        if in_place {
            let range = first..first + n;
            let customers = &self.customers[range.clone()];
            let states = &mut self.states[range];
            let out = self.engine.evaluate_batch(month, customers, &rows.inputs, states)?;
            emit(month, customers, states, &out, sink);
            return Ok(());
        }
        let customers: Vec<Customer> = batch_rows.iter().map(|&r| source[r].clone()).collect();
        let inputs: Vec<MonthInput> = batch_rows.iter().map(|&r| rows.inputs[r].clone()).collect();
        let mut states: Vec<CustomerState> = batch_idx.iter().map(|&i| self.states[i as usize]).collect();
        let out = self.engine.evaluate_batch(month, &customers, &inputs, &mut states)?;
        let mut errors = out.errors.iter().peekable();
        for (k, c) in customers.iter().enumerate() {
            self.states[batch_idx[k] as usize] = states[k];
            let err = match errors.peek() {
                Some(e) if e.index as usize == k => errors.next().map(|e| &e.error),
                _ => None,
            };
            match err {
                Some(e) => sink.row(month, c, &states[k], None, Some(describe(e))),
                None => sink.row(month, c, &states[k], out.aums.get(k).copied(), None),
            }
        }
        for e in &out.events {
            sink.event(&customers[e.index as usize], &e.event);
        }
        for a in &out.alerts {
            sink.alert(&customers[a.index as usize], &a.alert);
        }
        Ok(())
    }

    /// Replays a history table month by month (months ascending, rows in table order).
    pub(crate) fn run_history(&mut self, rows: &Rows, sink: &mut dyn MonthSink) -> Result<(), TieringError> {
        let groups = group_by_month(rows);
        // Rows without a usable month are reported under the first month.
        if let Some((first, _)) = groups.first() {
            for (r, m) in rows.months.iter().enumerate() {
                if m.is_none() {
                    let c = &rows.customers[r];
                    let (field, message) = rows.problems[r].clone().unwrap_or(("month", "the month is missing".into()));
                    let e =
                        ("input", field, format!("invalid input for customer `{}`, field `{field}`: {message}", c.id));
                    sink.row(*first, c, &CustomerState::default(), None, Some(e));
                }
            }
        }
        for (month, sel) in groups {
            self.run_month(month, rows, Some(&sel), sink)?;
        }
        Ok(())
    }
}

/// Row indices per month, months ascending.
pub(crate) fn group_by_month(rows: &Rows) -> Vec<(Month, Vec<u32>)> {
    let mut order: Vec<(Month, u32)> =
        rows.months.iter().enumerate().filter_map(|(r, m)| m.map(|m| (m, r as u32))).collect();
    order.sort_unstable();
    let mut out: Vec<(Month, Vec<u32>)> = Vec::new();
    for (m, r) in order {
        match out.last_mut() {
            Some((lm, v)) if *lm == m => v.push(r),
            _ => out.push((m, vec![r])),
        }
    }
    out
}

/// Sends a batch's rows (states after the month, or errors), events and alerts to `sink`.
pub(crate) fn emit(
    month: Month,
    customers: &[Customer],
    states: &[CustomerState],
    out: &BatchOutcome,
    sink: &mut dyn MonthSink,
) {
    let mut errors = out.errors.iter().peekable();
    for (i, (c, s)) in customers.iter().zip(states).enumerate() {
        let err = match errors.peek() {
            Some(e) if e.index as usize == i => errors.next().map(|e| &e.error),
            _ => None,
        };
        match err {
            Some(e) => sink.row(month, c, s, None, Some(describe(e))),
            None => sink.row(month, c, s, out.aums.get(i).copied(), None),
        }
    }
    for e in &out.events {
        sink.event(&customers[e.index as usize], &e.event);
    }
    for a in &out.alerts {
        sink.alert(&customers[a.index as usize], &a.alert);
    }
}

pub(crate) fn describe(e: &TieringError) -> (&'static str, &str, String) {
    (category(e), error_field(e).unwrap_or(""), e.to_string())
}

/// Fen mantissa of an amount (amounts are at fen scale); `None` when it has more decimals.
pub(crate) fn fen(d: Decimal) -> Option<i128> {
    if d.scale() == 2 {
        return Some(d.mantissa());
    }
    let mut x = d.normalize();
    if x.scale() > 2 {
        return None;
    }
    x.rescale(2);
    Some(x.mantissa())
}

fn dec_builder(cap: usize) -> Decimal128Builder {
    Decimal128Builder::with_capacity(cap).with_data_type(DataType::Decimal128(38, 2))
}

fn append_dec(b: &mut Decimal128Builder, d: Option<Decimal>) {
    b.append_option(d.and_then(fen));
}

fn strs(cap: usize) -> StringBuilder {
    StringBuilder::with_capacity(cap, cap * 8)
}

/// `"YYYY-MM"` without allocating (years are 1900..=9999, always four digits).
fn month_text(m: Month) -> [u8; 7] {
    let y = m.year().clamp(0, 9999) as u32;
    let mo = m.month();
    let d = |v: u32| b'0' + (v % 10) as u8;
    [d(y / 1000), d(y / 100), d(y / 10), d(y), b'-', d(mo / 10), d(mo)]
}

/// A nullable `"YYYY-MM"` string column, built without a per-row allocation.
pub(crate) struct MonthColumn {
    values: Vec<u8>,
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
}

impl MonthColumn {
    pub(crate) fn with_capacity(rows: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        MonthColumn { values: Vec::with_capacity(rows * 7), offsets, nulls: NullBufferBuilder::new(rows) }
    }

    pub(crate) fn push(&mut self, m: Option<Month>) {
        match m {
            Some(m) => {
                self.values.extend_from_slice(&month_text(m));
                self.nulls.append_non_null();
            }
            None => self.nulls.append_null(),
        }
        // Checked once in `finish`: if the total fits in an i32, every offset does.
        self.offsets.push(self.values.len() as i32);
    }

    pub(crate) fn finish(mut self) -> TResult<ArrayRef> {
        if i32::try_from(self.values.len()).is_err() {
            return Err(TableError::Arrow("a month column exceeds 2 GiB: split the table".into()));
        }
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        Ok(Arc::new(StringArray::try_new(offsets, Buffer::from_vec(self.values), self.nulls.finish())?))
    }
}

/// The dictionaries of the code columns: one per portfolio, so that every month's tables
/// share them (they concatenate and compare equal). Tiers are the rule book's codes in
/// order; a code from elsewhere (a state set from another book) is appended when first seen.
#[derive(Clone, Debug)]
pub(crate) struct Codes {
    tiers: Vec<TierCode>,
}

impl Codes {
    /// The tier codes of `book`, in the order its rule sets list them.
    pub(crate) fn of(book: &crm_tiering::RuleBook) -> Self {
        let mut tiers: Vec<TierCode> = Vec::new();
        for set in book.rule_sets() {
            for v in &set.versions {
                for t in &v.tiers {
                    if !tiers.contains(&t.code) {
                        tiers.push(t.code);
                    }
                }
            }
        }
        Codes { tiers }
    }

    pub(crate) fn tier(&mut self, t: TierCode) -> i16 {
        match self.tiers.iter().position(|x| *x == t) {
            Some(i) => i as i16,
            None => {
                self.tiers.push(t);
                (self.tiers.len() - 1) as i16
            }
        }
    }

    pub(crate) fn tier_values(&self) -> ArrayRef {
        Arc::new(StringArray::from_iter_values(self.tiers.iter().map(TierCode::as_str)))
    }
}

const STATUSES: [Status; 3] = [Status::NotEnrolled, Status::Rated, Status::Retained];

pub(crate) fn status_key(s: Status) -> i8 {
    match s {
        Status::NotEnrolled => 0,
        Status::Rated => 1,
        Status::Retained => 2,
    }
}

fn position<T: PartialEq + Copy>(all: &[T], v: T) -> i8 {
    all.iter().position(|x| *x == v).unwrap_or(0) as i8
}

fn values(codes: impl Iterator<Item = &'static str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(codes))
}

fn dict8(keys: &mut Int8Builder, values: ArrayRef) -> TResult<(ArrayRef, PrimitiveArray<Int8Type>)> {
    let k = keys.finish();
    Ok((Arc::new(DictionaryArray::<Int8Type>::try_new(k.clone(), values)?), k))
}

fn with_keys(keys: PrimitiveArray<Int8Type>, values: ArrayRef) -> TResult<ArrayRef> {
    Ok(Arc::new(DictionaryArray::<Int8Type>::try_new(keys, values)?))
}

fn dict16(keys: &mut Int16Builder, values: &ArrayRef) -> TResult<ArrayRef> {
    Ok(Arc::new(DictionaryArray::<Int16Type>::try_new(keys.finish(), values.clone())?))
}

/// The result tables of a portfolio month or history: codes (status, tiers, event kinds,
/// reasons) are dictionary columns over the rule book's codes, months are `"YYYY-MM"`
/// strings, amounts `decimal128(38, 2)`.
pub(crate) struct TablesSink {
    codes: Codes,
    explain: bool,
    /// The states' `customer_id` column is supplied by the caller (the input's own column).
    ids_given: bool,
    /// States rows so far.
    rows: usize,
    // states
    s_customer: StringBuilder,
    /// The month of the states rows, as runs (a portfolio month is one run).
    s_month: Vec<(Month, usize)>,
    s_aum: Decimal128Builder,
    s_status: Int8Builder,
    s_tier: Int16Builder,
    s_effective: Int16Builder,
    s_vip: BooleanBuilder,
    s_watch: UInt32Builder,
    s_below: UInt32Builder,
    s_retention: UInt32Builder,
    /// Written from the first row that has a value (nulls before), as most rows have none.
    s_special_tier: Option<Int16Builder>,
    s_special_until: Option<MonthColumn>,
    s_error: Option<StringBuilder>,
    // events (with `ids_given`, the row of each event's customer instead of its id)
    e_rows: Vec<u32>,
    e_customer: StringBuilder,
    /// Event months and effective months as runs (a month's events share them).
    e_month: Vec<(Month, usize)>,
    e_effective: Vec<(Month, usize)>,
    e_kind: Int8Builder,
    e_from: Int16Builder,
    e_to: Int16Builder,
    e_reason: Int8Builder,
    e_aum: Decimal128Builder,
    e_threshold: Decimal128Builder,
    e_window_from: MonthColumn,
    e_window_months: UInt32Builder,
    e_peak: Decimal128Builder,
    e_explain: StringBuilder,
    // alerts
    a_rows: Vec<u32>,
    a_customer: StringBuilder,
    a_month: Vec<(Month, usize)>,
    a_kind: Int8Builder,
    a_tier: Int16Builder,
    a_counted: UInt32Builder,
    a_left: UInt32Builder,
    a_aum: Decimal128Builder,
    a_threshold: Decimal128Builder,
    a_gap: Decimal128Builder,
    // errors
    x_customer: StringBuilder,
    x_month: MonthColumn,
    x_category: StringBuilder,
    x_field: StringBuilder,
    x_message: StringBuilder,
}

fn opt_tier(codes: &mut Codes, b: &mut Int16Builder, t: Option<TierCode>) {
    match t {
        Some(t) => b.append_value(codes.tier(t)),
        None => b.append_null(),
    }
}

/// The builder of a mostly-null column, made at its first value with `rows` nulls before it.
fn lazy<B>(b: &mut Option<B>, rows: usize, new: impl FnOnce() -> B, null: impl Fn(&mut B)) -> &mut B {
    b.get_or_insert_with(|| {
        let mut b = new();
        for _ in 0..rows {
            null(&mut b);
        }
        b
    })
}

/// Appends `month` to a column kept as runs of equal months.
fn push_run(runs: &mut Vec<(Month, usize)>, month: Month) {
    match runs.last_mut() {
        Some((m, k)) if *m == month => *k += 1,
        _ => runs.push((month, 1)),
    }
}

/// A `"YYYY-MM"` column of `n` rows from runs of equal months, filled by copying.
pub(crate) fn month_runs(runs: &[(Month, usize)], n: usize) -> TResult<ArrayRef> {
    if n.checked_mul(7).is_none_or(|b| b > i32::MAX as usize) {
        return Err(TableError::Arrow("a month column exceeds 2 GiB: split the table".into()));
    }
    let mut values: Vec<u8> = Vec::with_capacity(n * 7);
    for (m, k) in runs {
        let text = month_text(*m);
        let start = values.len();
        values.extend_from_slice(&text);
        // Double the copied run until it covers k months.
        while values.len() - start < k * 7 {
            let have = values.len() - start;
            let take = have.min(k * 7 - have);
            values.extend_from_within(start..start + take);
        }
        if *k == 0 {
            values.truncate(start);
        }
    }
    let offsets: Vec<i32> = (0..=n as i32).map(|i| i * 7).collect();
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    Ok(Arc::new(StringArray::try_new(offsets, Buffer::from_vec(values), None)?))
}

/// The strings of `ids` at `rows`, in that order.
fn take_strings(ids: &ArrayRef, rows: &[u32]) -> TResult<ArrayRef> {
    let ids = ids.as_string::<i32>();
    let offs = ids.value_offsets();
    let bytes: usize = rows.iter().map(|&r| (offs[r as usize + 1] - offs[r as usize]) as usize).sum();
    if i32::try_from(bytes).is_err() {
        return Err(TableError::Arrow("a customer_id column exceeds 2 GiB: split the table".into()));
    }
    let data = ids.value_data();
    let mut values: Vec<u8> = Vec::with_capacity(bytes);
    let mut offsets: Vec<i32> = Vec::with_capacity(rows.len() + 1);
    offsets.push(0);
    for &r in rows {
        let (a, b) = (offs[r as usize] as usize, offs[r as usize + 1] as usize);
        values.extend_from_slice(&data[a..b]);
        offsets.push(values.len() as i32);
    }
    let nulls = ids
        .nulls()
        .map(|n| arrow_buffer::NullBuffer::from(rows.iter().map(|&r| n.is_valid(r as usize)).collect::<Vec<bool>>()));
    Ok(Arc::new(StringArray::try_new(OffsetBuffer::new(ScalarBuffer::from(offsets)), Buffer::from_vec(values), nulls)?))
}

/// The four result batches of a sink: states, events, alerts, errors.
pub(crate) type Batches4 = [RecordBatch; 4];

/// The columns of a states batch, in table order (`status` as its dictionary keys).
pub(crate) struct StatesArrays {
    pub(crate) customer_id: ArrayRef,
    pub(crate) month: ArrayRef,
    pub(crate) aum: ArrayRef,
    pub(crate) status: PrimitiveArray<Int8Type>,
    pub(crate) tier: ArrayRef,
    pub(crate) effective_tier: ArrayRef,
    pub(crate) is_vip: ArrayRef,
    pub(crate) watch_months: ArrayRef,
    pub(crate) below_entry_months: ArrayRef,
    pub(crate) retention_months_left: ArrayRef,
    pub(crate) special_tier: ArrayRef,
    pub(crate) special_until: ArrayRef,
    pub(crate) error: ArrayRef,
}

/// The states batch (the same schema from the general and the fast path).
fn states_batch(c: StatesArrays) -> TResult<RecordBatch> {
    let status =
        Arc::new(DictionaryArray::<Int8Type>::try_new(c.status.clone(), values(STATUSES.iter().map(|s| s.as_str())))?);
    let status_zh = with_keys(c.status, values(STATUSES.iter().map(|s| s.name_zh())))?;
    batch(vec![
        ("customer_id", c.customer_id),
        ("month", c.month),
        ("aum", c.aum),
        ("status", status),
        ("status_zh", status_zh),
        ("tier", c.tier),
        ("effective_tier", c.effective_tier),
        ("is_vip", c.is_vip),
        ("watch_months", c.watch_months),
        ("below_entry_months", c.below_entry_months),
        ("retention_months_left", c.retention_months_left),
        ("special_tier", c.special_tier),
        ("special_until", c.special_until),
        ("error", c.error),
    ])
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> TResult<RecordBatch> {
    let fields: Vec<Field> = columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns.into_iter().map(|(_, a)| a).collect())?)
}

/// Tables from the batches of one or more sinks (in order; all have the same schemas).
pub(crate) fn tables(parts: Vec<Batches4>) -> TResult<[PyTable; 4]> {
    let mut cols: [Vec<RecordBatch>; 4] = Default::default();
    for part in parts {
        for (c, b) in cols.iter_mut().zip(part) {
            c.push(b);
        }
    }
    let mk = |bs: Vec<RecordBatch>| -> TResult<PyTable> {
        let schema = bs.first().map(|b| b.schema()).unwrap_or_else(|| Arc::new(Schema::empty()));
        PyTable::try_new(bs, schema).map_err(|e| TableError::Arrow(e.to_string()))
    };
    let [s, e, a, x] = cols;
    Ok([mk(s)?, mk(e)?, mk(a)?, mk(x)?])
}

impl TablesSink {
    pub(crate) fn new(rows: usize, explain: bool, codes: Codes) -> Self {
        Self::with_ids(rows, explain, codes, false)
    }

    /// A sink whose states' `customer_id` column will be given to `finish` (`ids_given`).
    pub(crate) fn with_ids(rows: usize, explain: bool, codes: Codes, ids_given: bool) -> Self {
        Self::sized(rows, rows / 8 + 16, explain, codes, ids_given)
    }

    /// A sink for the events, alerts and errors of `rows` customers whose states columns the
    /// caller writes (see [`TablesSink::finish_with_states`]); ids as with `with_ids`.
    pub(crate) fn for_events(rows: usize, explain: bool, codes: Codes) -> Self {
        Self::sized(0, rows / 8 + 16, explain, codes, true)
    }

    fn sized(rows: usize, ev: usize, explain: bool, codes: Codes, ids_given: bool) -> Self {
        let i16s = Int16Builder::with_capacity;
        TablesSink {
            codes,
            explain,
            ids_given,
            rows: 0,
            s_customer: strs(if ids_given { 0 } else { rows }),
            s_month: Vec::new(),
            s_aum: dec_builder(rows),
            s_status: Int8Builder::with_capacity(rows),
            s_tier: i16s(rows),
            s_effective: i16s(rows),
            s_vip: BooleanBuilder::with_capacity(rows),
            s_watch: UInt32Builder::with_capacity(rows),
            s_below: UInt32Builder::with_capacity(rows),
            s_retention: UInt32Builder::with_capacity(rows),
            s_special_tier: None,
            s_special_until: None,
            s_error: None,
            e_rows: Vec::new(),
            e_customer: strs(if ids_given { 0 } else { ev }),
            e_month: Vec::new(),
            e_effective: Vec::new(),
            e_kind: Int8Builder::with_capacity(ev),
            e_from: i16s(ev),
            e_to: i16s(ev),
            e_reason: Int8Builder::with_capacity(ev),
            e_aum: dec_builder(ev),
            e_threshold: dec_builder(ev),
            e_window_from: MonthColumn::with_capacity(ev),
            e_window_months: UInt32Builder::with_capacity(ev),
            e_peak: dec_builder(ev),
            e_explain: StringBuilder::with_capacity(if explain { ev } else { 0 }, if explain { ev * 80 } else { 0 }),
            a_rows: Vec::new(),
            a_customer: strs(if ids_given { 0 } else { ev }),
            a_month: Vec::new(),
            a_kind: Int8Builder::with_capacity(ev),
            a_tier: i16s(ev),
            a_counted: UInt32Builder::with_capacity(ev),
            a_left: UInt32Builder::with_capacity(ev),
            a_aum: dec_builder(ev),
            a_threshold: dec_builder(ev),
            a_gap: dec_builder(ev),
            x_customer: strs(16),
            x_month: MonthColumn::with_capacity(16),
            x_category: strs(16),
            x_field: strs(16),
            x_message: strs(16),
        }
    }

    fn push_aum(&mut self, aum: Option<Decimal>) {
        self.s_aum.append_option(aum.and_then(fen));
    }

    /// The four batches: states, events, alerts, errors. `ids` is the states' `customer_id`
    /// column when the sink was made `with_ids`.
    pub(crate) fn finish_batches(mut self, ids: Option<ArrayRef>) -> TResult<Batches4> {
        fn a<T: arrow_array::builder::ArrayBuilder>(b: &mut T) -> ArrayRef {
            b.finish()
        }
        let tiers = self.codes.tier_values();
        let n = self.rows;
        let aum = a(&mut self.s_aum);
        let special_tier = match self.s_special_tier.as_mut() {
            Some(b) => dict16(b, &tiers)?,
            None => Arc::new(DictionaryArray::<Int16Type>::try_new(PrimitiveArray::new_null(n), tiers.clone())?),
        };
        let special_until = match self.s_special_until.take() {
            Some(c) => c.finish()?,
            None => Arc::new(StringArray::new_null(n)),
        };
        let error = match self.s_error.as_mut() {
            Some(b) => a(b),
            None => Arc::new(StringArray::new_null(n)),
        };
        let ids = match (self.ids_given, ids) {
            (true, Some(ids)) => ids,
            _ => a(&mut self.s_customer),
        };
        let columns = StatesArrays {
            customer_id: ids,
            month: month_runs(&self.s_month, n)?,
            aum,
            status: self.s_status.finish(),
            tier: dict16(&mut self.s_tier, &tiers)?,
            effective_tier: dict16(&mut self.s_effective, &tiers)?,
            is_vip: a(&mut self.s_vip),
            watch_months: a(&mut self.s_watch),
            below_entry_months: a(&mut self.s_below),
            retention_months_left: a(&mut self.s_retention),
            special_tier,
            special_until,
            error,
        };
        let states_ids = columns.customer_id.clone();
        let states = states_batch(columns)?;
        let [events, alerts, errors] = self.finish_others(&states_ids)?;
        Ok([states, events, alerts, errors])
    }

    /// The four batches, with the states columns written by the caller (the fast month, which
    /// writes them as the engine produces each state): this sink holds the events, alerts and
    /// errors; event and alert ids are taken from `columns.customer_id` (a sink made `with_ids`).
    pub(crate) fn finish_with_states(mut self, columns: StatesArrays) -> TResult<Batches4> {
        let ids = columns.customer_id.clone();
        let states = states_batch(columns)?;
        let [events, alerts, errors] = self.finish_others(&ids)?;
        Ok([states, events, alerts, errors])
    }

    /// The events, alerts and errors batches; `ids` is the states' `customer_id` column (read
    /// when the sink was made `with_ids`).
    fn finish_others(&mut self, ids: &ArrayRef) -> TResult<[RecordBatch; 3]> {
        fn a<T: arrow_array::builder::ArrayBuilder>(b: &mut T) -> ArrayRef {
            b.finish()
        }
        let tiers = self.codes.tier_values();
        let (e_n, a_n) = (ArrayBuilder::len(&self.e_kind), ArrayBuilder::len(&self.a_kind));
        let (e_ids, a_ids) = if self.ids_given {
            (take_strings(ids, &self.e_rows)?, take_strings(ids, &self.a_rows)?)
        } else {
            (a(&mut self.e_customer), a(&mut self.a_customer))
        };
        let (kind, kind_keys) = dict8(&mut self.e_kind, values(EventKind::ALL.iter().map(|k| k.as_str())))?;
        let kind_zh = with_keys(kind_keys, values(EventKind::ALL.iter().map(|k| k.name_zh())))?;
        let (reason, reason_keys) = dict8(&mut self.e_reason, values(Reason::ALL.iter().map(|k| k.as_str())))?;
        let reason_zh = with_keys(reason_keys, values(Reason::ALL.iter().map(|k| k.name_zh())))?;
        let events = batch(vec![
            ("customer_id", e_ids),
            ("month", month_runs(&self.e_month, e_n)?),
            ("effective_from", month_runs(&self.e_effective, e_n)?),
            ("kind", kind),
            ("kind_zh", kind_zh),
            ("from_tier", dict16(&mut self.e_from, &tiers)?),
            ("to_tier", dict16(&mut self.e_to, &tiers)?),
            ("reason", reason),
            ("reason_zh", reason_zh),
            ("aum", a(&mut self.e_aum)),
            ("threshold", a(&mut self.e_threshold)),
            ("window_from", std::mem::replace(&mut self.e_window_from, MonthColumn::with_capacity(0)).finish()?),
            ("window_months", a(&mut self.e_window_months)),
            ("peak_aum", a(&mut self.e_peak)),
            ("explain", if self.explain { a(&mut self.e_explain) } else { Arc::new(StringArray::new_null(e_n)) }),
        ])?;
        let (akind, akind_keys) = dict8(&mut self.a_kind, values(AlertKind::ALL.iter().map(|k| k.as_str())))?;
        let akind_zh = with_keys(akind_keys, values(AlertKind::ALL.iter().map(|k| k.name_zh())))?;
        let alerts = batch(vec![
            ("customer_id", a_ids),
            ("month", month_runs(&self.a_month, a_n)?),
            ("kind", akind),
            ("kind_zh", akind_zh),
            ("tier", dict16(&mut self.a_tier, &tiers)?),
            ("months_counted", a(&mut self.a_counted)),
            ("months_left", a(&mut self.a_left)),
            ("aum", a(&mut self.a_aum)),
            ("threshold", a(&mut self.a_threshold)),
            ("gap", a(&mut self.a_gap)),
        ])?;
        let errors = batch(vec![
            ("customer_id", a(&mut self.x_customer)),
            ("month", std::mem::replace(&mut self.x_month, MonthColumn::with_capacity(0)).finish()?),
            ("category", a(&mut self.x_category)),
            ("field", a(&mut self.x_field)),
            ("message", a(&mut self.x_message)),
        ])?;
        Ok([events, alerts, errors])
    }

    /// The four tables: states, events, alerts, errors.
    pub(crate) fn finish(self) -> TResult<[PyTable; 4]> {
        tables(vec![self.finish_batches(None)?])
    }
}

impl MonthSink for TablesSink {
    fn row(
        &mut self,
        month: Month,
        c: &Customer,
        s: &CustomerState,
        aum: Option<Decimal>,
        error: Option<(&str, &str, String)>,
    ) {
        if !self.ids_given {
            self.s_customer.append_value(&c.id);
        }
        push_run(&mut self.s_month, month);
        self.push_aum(aum);
        self.s_status.append_value(status_key(s.status));
        opt_tier(&mut self.codes, &mut self.s_tier, s.tier);
        opt_tier(&mut self.codes, &mut self.s_effective, s.effective_tier);
        self.s_vip.append_value(s.is_vip());
        self.s_watch.append_value(s.watch.map_or(0, |w| w.short_months));
        self.s_below.append_value(s.below_entry.map_or(0, |r| r.months));
        self.s_retention.append_value(s.retention_months_left);
        let rows = self.rows;
        if let Some(x) = s.special {
            let key = self.codes.tier(x.tier);
            lazy(&mut self.s_special_tier, rows, Int16Builder::new, |b| b.append_null()).append_value(key);
            lazy(&mut self.s_special_until, rows, || MonthColumn::with_capacity(rows), |b| b.push(None))
                .push(Some(x.last_month));
        } else {
            if let Some(b) = self.s_special_tier.as_mut() {
                b.append_null();
            }
            if let Some(b) = self.s_special_until.as_mut() {
                b.push(None);
            }
        }
        match error {
            Some((cat, field, message)) => {
                lazy(&mut self.s_error, rows, StringBuilder::new, |b| b.append_null()).append_value(&message);
                self.push_error(&c.id, month, (cat, field, &message));
            }
            None => {
                if let Some(b) = self.s_error.as_mut() {
                    b.append_null();
                }
            }
        }
        self.rows += 1;
    }

    fn event(&mut self, c: &Customer, e: &Event) {
        self.e_customer.append_value(&c.id);
        self.event_fields(e);
    }

    fn alert(&mut self, c: &Customer, a: &Alert) {
        self.a_customer.append_value(&c.id);
        self.alert_fields(a);
    }
}

impl TablesSink {
    /// An event of the customer whose states row is `row` (a sink made `with_ids`: the id is
    /// taken from the given column, read in order, rather than from the customer's own string).
    pub(crate) fn event_at(&mut self, row: usize, e: &Event) {
        self.e_rows.push(row as u32);
        self.event_fields(e);
    }

    /// An alert of the customer whose states row is `row` (see [`TablesSink::event_at`]).
    pub(crate) fn alert_at(&mut self, row: usize, a: &Alert) {
        self.a_rows.push(row as u32);
        self.alert_fields(a);
    }

    /// A row of the errors table.
    pub(crate) fn push_error(&mut self, customer: &str, month: Month, (cat, field, message): (&str, &str, &str)) {
        self.x_customer.append_value(customer);
        self.x_month.push(Some(month));
        self.x_category.append_value(cat);
        self.x_field.append_value(field);
        self.x_message.append_value(message);
    }

    /// The key of `tier` in the tier dictionary (shared by every code column of the sink).
    pub(crate) fn tier_key(&mut self, tier: TierCode) -> i16 {
        self.codes.tier(tier)
    }

    /// The tier dictionary's values, as they stand.
    pub(crate) fn tier_values(&self) -> ArrayRef {
        self.codes.tier_values()
    }

    fn event_fields(&mut self, e: &Event) {
        push_run(&mut self.e_month, e.month);
        push_run(&mut self.e_effective, e.effective_from);
        self.e_kind.append_value(position(EventKind::ALL, e.kind));
        opt_tier(&mut self.codes, &mut self.e_from, e.from_tier);
        opt_tier(&mut self.codes, &mut self.e_to, e.to_tier);
        self.e_reason.append_value(position(Reason::ALL, e.reason));
        append_dec(&mut self.e_aum, Some(e.evidence.aum));
        append_dec(&mut self.e_threshold, e.evidence.threshold);
        self.e_window_from.push(e.evidence.window_from);
        self.e_window_months.append_option(e.evidence.window_months);
        append_dec(&mut self.e_peak, e.evidence.peak_aum);
        // Without `explain` the column is all nulls, made at the end.
        if self.explain {
            self.e_explain.append_value(e.explain());
        }
    }

    fn alert_fields(&mut self, a: &Alert) {
        push_run(&mut self.a_month, a.month);
        self.a_kind.append_value(position(AlertKind::ALL, a.kind));
        opt_tier(&mut self.codes, &mut self.a_tier, a.tier);
        self.a_counted.append_option(a.months_counted);
        self.a_left.append_option(a.months_left);
        append_dec(&mut self.a_aum, Some(a.aum));
        append_dec(&mut self.a_threshold, a.threshold);
        append_dec(&mut self.a_gap, a.gap);
    }
}

/// A customer-month whose effective tier differs: id, month, AUM, tiers and statuses under A and B.
pub(crate) type Change =
    (String, Month, Option<Decimal>, Option<TierCode>, Option<TierCode>, &'static str, &'static str);

/// Per month and tier, counts under two rule books; and the customers whose tier differs.
pub(crate) struct SimulationSink {
    /// Effective tiers per (month, row): filled by the first book, compared by the second.
    pub(crate) first: HashMap<(Month, String), (Option<TierCode>, &'static str)>,
    pub(crate) counts: std::collections::BTreeMap<(Month, Option<TierCode>), (u64, u64)>,
    pub(crate) second_pass: bool,
    pub(crate) changes: Vec<Change>,
}

impl MonthSink for SimulationSink {
    fn row(
        &mut self,
        month: Month,
        c: &Customer,
        s: &CustomerState,
        aum: Option<Decimal>,
        _error: Option<(&str, &str, String)>,
    ) {
        let entry = self.counts.entry((month, s.effective_tier)).or_insert((0, 0));
        if self.second_pass {
            entry.1 += 1;
            let (a_tier, a_status) = self.first.get(&(month, c.id.clone())).copied().unwrap_or((None, "not_enrolled"));
            if a_tier != s.effective_tier {
                self.changes.push((c.id.clone(), month, aum, a_tier, s.effective_tier, a_status, s.status.as_str()));
            }
        } else {
            entry.0 += 1;
            self.first.insert((month, c.id.clone()), (s.effective_tier, s.status.as_str()));
        }
    }
    fn event(&mut self, _c: &Customer, _e: &Event) {}
    fn alert(&mut self, _c: &Customer, _a: &Alert) {}
}

impl SimulationSink {
    /// The `counts` and `changes` tables.
    pub(crate) fn finish(self, tier_order: &[TierCode]) -> TResult<[PyTable; 2]> {
        let rank = |t: &Option<TierCode>| match t {
            None => 0usize,
            Some(t) => 1 + tier_order.iter().position(|x| x == t).unwrap_or(tier_order.len()),
        };
        let mut keys: Vec<_> = self.counts.into_iter().collect();
        keys.sort_by(|((ma, ta), _), ((mb, tb), _)| (ma, rank(ta), ta).cmp(&(mb, rank(tb), tb)));
        let n = keys.len();
        let mut month = strs(n);
        let mut tier_b = strs(n);
        let mut ca = arrow_array::builder::Int64Builder::with_capacity(n);
        let mut cb = arrow_array::builder::Int64Builder::with_capacity(n);
        let mut delta = arrow_array::builder::Int64Builder::with_capacity(n);
        for ((m, t), (a, b)) in keys {
            month.append_value(m.to_string());
            tier_b.append_option(t.as_ref().map(TierCode::as_str));
            let (a, b) = (a as i64, b as i64);
            ca.append_value(a);
            cb.append_value(b);
            delta.append_value(b - a);
        }
        let counts = vec![
            ("month", Arc::new(month.finish()) as ArrayRef),
            ("tier", Arc::new(tier_b.finish()) as ArrayRef),
            ("count_a", Arc::new(ca.finish()) as ArrayRef),
            ("count_b", Arc::new(cb.finish()) as ArrayRef),
            ("delta", Arc::new(delta.finish()) as ArrayRef),
        ];
        let k = self.changes.len();
        let (mut c_id, mut c_month, mut c_aum, mut c_ta, mut c_tb, mut c_sa, mut c_sb) =
            (strs(k), strs(k), dec_builder(k), strs(k), strs(k), strs(k), strs(k));
        for (id, m, aum, ta, tb, sa, sb) in self.changes {
            c_id.append_value(&id);
            c_month.append_value(m.to_string());
            append_dec(&mut c_aum, aum);
            c_ta.append_option(ta.as_ref().map(TierCode::as_str));
            c_tb.append_option(tb.as_ref().map(TierCode::as_str));
            c_sa.append_value(sa);
            c_sb.append_value(sb);
        }
        let changes = vec![
            ("customer_id", Arc::new(c_id.finish()) as ArrayRef),
            ("month", Arc::new(c_month.finish()) as ArrayRef),
            ("aum", Arc::new(c_aum.finish()) as ArrayRef),
            ("tier_a", Arc::new(c_ta.finish()) as ArrayRef),
            ("tier_b", Arc::new(c_tb.finish()) as ArrayRef),
            ("status_a", Arc::new(c_sa.finish()) as ArrayRef),
            ("status_b", Arc::new(c_sb.finish()) as ArrayRef),
        ];
        let mk = |cols: Vec<(&str, ArrayRef)>| -> TResult<PyTable> {
            let fields: Vec<Field> = cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
            let schema = Arc::new(Schema::new(fields));
            let batch = RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, a)| a).collect())?;
            PyTable::try_new(vec![batch], schema).map_err(|e| TableError::Arrow(e.to_string()))
        };
        Ok([mk(counts)?, mk(changes)?])
    }
}
