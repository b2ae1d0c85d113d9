//! Portfolios as Arrow tables: columns are read in Rust (no Python object per row) and the
//! results are built as Arrow arrays with `decimal128(38, 2)` amounts.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Decimal128Builder, StringBuilder, UInt32Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use crm_tiering::{
    Alert, Customer, CustomerKind, CustomerState, Decimal, Engine, Event, Month, MonthInput, SpecialChange, TierCode,
    TieringError, parse_amount,
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

const MISSING_AUM: &str = "the AUM is missing (null)";

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
    pub(crate) index: HashMap<String, u32>,
    pub(crate) customers: Vec<Customer>,
    pub(crate) states: Vec<CustomerState>,
}

impl Book {
    pub(crate) fn new(engine: Arc<Engine>) -> Self {
        Book { engine, index: HashMap::new(), customers: Vec::new(), states: Vec::new() }
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
            let mut errors = out.errors.iter().peekable();
            for (i, c) in self.customers.iter().enumerate() {
                let err = match errors.peek() {
                    Some(e) if e.index as usize == i => errors.next().map(|e| &e.error),
                    _ => None,
                };
                match err {
                    Some(e) => sink.row(month, c, &self.states[i], None, Some(describe(e))),
                    None => sink.row(month, c, &self.states[i], out.aums.get(i).copied(), None),
                }
            }
            for e in &out.events {
                sink.event(&self.customers[e.index as usize], &e.event);
            }
            for a in &out.alerts {
                sink.alert(&self.customers[a.index as usize], &a.alert);
            }
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
        let mut seen: HashMap<u32, ()> = HashMap::with_capacity(sel.len());
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
                None => {
                    let i = self.customers.len() as u32;
                    self.index.insert(c.id.clone(), i);
                    self.customers.push(c.clone());
                    self.states.push(CustomerState::default());
                    i
                }
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
            if seen.insert(idx, ()).is_some() {
                let e =
                    ("input", "customer_id", format!("customer `{}` appears more than once for month {month}", c.id));
                sink.row(month, c, &self.states[idx as usize], None, Some(e));
                continue;
            }
            batch_rows.push(r);
            batch_idx.push(idx);
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

fn describe(e: &TieringError) -> (&'static str, &str, String) {
    (category(e), error_field(e).unwrap_or(""), e.to_string())
}

/// Fen mantissa of an amount (amounts are at fen scale); `None` when it has more decimals.
fn fen(d: Decimal) -> Option<i128> {
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

/// The result tables of a portfolio month or history.
pub(crate) struct TablesSink {
    month: Option<Month>,
    month_text: String,
    explain: bool,
    // states
    s_customer: StringBuilder,
    s_month: StringBuilder,
    s_aum: Decimal128Builder,
    s_status: StringBuilder,
    s_status_zh: StringBuilder,
    s_tier: StringBuilder,
    s_effective: StringBuilder,
    s_vip: BooleanBuilder,
    s_watch: UInt32Builder,
    s_below: UInt32Builder,
    s_retention: UInt32Builder,
    s_special_tier: StringBuilder,
    s_special_until: StringBuilder,
    s_error: StringBuilder,
    // events
    e_customer: StringBuilder,
    e_month: StringBuilder,
    e_effective: StringBuilder,
    e_kind: StringBuilder,
    e_kind_zh: StringBuilder,
    e_from: StringBuilder,
    e_to: StringBuilder,
    e_reason: StringBuilder,
    e_reason_zh: StringBuilder,
    e_aum: Decimal128Builder,
    e_threshold: Decimal128Builder,
    e_window_from: StringBuilder,
    e_window_months: UInt32Builder,
    e_peak: Decimal128Builder,
    e_explain: StringBuilder,
    // alerts
    a_customer: StringBuilder,
    a_month: StringBuilder,
    a_kind: StringBuilder,
    a_kind_zh: StringBuilder,
    a_tier: StringBuilder,
    a_counted: UInt32Builder,
    a_left: UInt32Builder,
    a_aum: Decimal128Builder,
    a_threshold: Decimal128Builder,
    a_gap: Decimal128Builder,
    // errors
    x_customer: StringBuilder,
    x_month: StringBuilder,
    x_category: StringBuilder,
    x_field: StringBuilder,
    x_message: StringBuilder,
}

fn opt_tier(b: &mut StringBuilder, t: Option<TierCode>) {
    match t {
        Some(t) => b.append_value(t.as_str()),
        None => b.append_null(),
    }
}

impl TablesSink {
    pub(crate) fn new(rows: usize, explain: bool) -> Self {
        let ev = rows / 8 + 16;
        TablesSink {
            month: None,
            month_text: String::new(),
            explain,
            s_customer: strs(rows),
            s_month: strs(rows),
            s_aum: dec_builder(rows),
            s_status: strs(rows),
            s_status_zh: StringBuilder::with_capacity(rows, rows * 10),
            s_tier: strs(rows),
            s_effective: strs(rows),
            s_vip: BooleanBuilder::with_capacity(rows),
            s_watch: UInt32Builder::with_capacity(rows),
            s_below: UInt32Builder::with_capacity(rows),
            s_retention: UInt32Builder::with_capacity(rows),
            s_special_tier: strs(rows),
            s_special_until: strs(rows),
            s_error: strs(rows),
            e_customer: strs(ev),
            e_month: strs(ev),
            e_effective: strs(ev),
            e_kind: strs(ev),
            e_kind_zh: strs(ev),
            e_from: strs(ev),
            e_to: strs(ev),
            e_reason: strs(ev),
            e_reason_zh: strs(ev),
            e_aum: dec_builder(ev),
            e_threshold: dec_builder(ev),
            e_window_from: strs(ev),
            e_window_months: UInt32Builder::with_capacity(ev),
            e_peak: dec_builder(ev),
            e_explain: StringBuilder::with_capacity(ev, ev * 80),
            a_customer: strs(ev),
            a_month: strs(ev),
            a_kind: strs(ev),
            a_kind_zh: strs(ev),
            a_tier: strs(ev),
            a_counted: UInt32Builder::with_capacity(ev),
            a_left: UInt32Builder::with_capacity(ev),
            a_aum: dec_builder(ev),
            a_threshold: dec_builder(ev),
            a_gap: dec_builder(ev),
            x_customer: strs(16),
            x_month: strs(16),
            x_category: strs(16),
            x_field: strs(16),
            x_message: strs(16),
        }
    }

    fn set_month(&mut self, m: Month) {
        if self.month != Some(m) {
            self.month = Some(m);
            self.month_text = m.to_string();
        }
    }

    /// The four tables: states, events, alerts, errors.
    pub(crate) fn finish(mut self) -> TResult<[PyTable; 4]> {
        fn table(columns: Vec<(&str, ArrayRef)>) -> TResult<PyTable> {
            let fields: Vec<Field> = columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
            let schema = Arc::new(Schema::new(fields));
            let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|(_, a)| a).collect())?;
            PyTable::try_new(vec![batch], schema).map_err(|e| TableError::Arrow(e.to_string()))
        }
        fn a<T: arrow_array::builder::ArrayBuilder>(b: &mut T) -> ArrayRef {
            b.finish()
        }
        let states = table(vec![
            ("customer_id", a(&mut self.s_customer)),
            ("month", a(&mut self.s_month)),
            ("aum", a(&mut self.s_aum)),
            ("status", a(&mut self.s_status)),
            ("status_zh", a(&mut self.s_status_zh)),
            ("tier", a(&mut self.s_tier)),
            ("effective_tier", a(&mut self.s_effective)),
            ("is_vip", a(&mut self.s_vip)),
            ("watch_months", a(&mut self.s_watch)),
            ("below_entry_months", a(&mut self.s_below)),
            ("retention_months_left", a(&mut self.s_retention)),
            ("special_tier", a(&mut self.s_special_tier)),
            ("special_until", a(&mut self.s_special_until)),
            ("error", a(&mut self.s_error)),
        ])?;
        let events = table(vec![
            ("customer_id", a(&mut self.e_customer)),
            ("month", a(&mut self.e_month)),
            ("effective_from", a(&mut self.e_effective)),
            ("kind", a(&mut self.e_kind)),
            ("kind_zh", a(&mut self.e_kind_zh)),
            ("from_tier", a(&mut self.e_from)),
            ("to_tier", a(&mut self.e_to)),
            ("reason", a(&mut self.e_reason)),
            ("reason_zh", a(&mut self.e_reason_zh)),
            ("aum", a(&mut self.e_aum)),
            ("threshold", a(&mut self.e_threshold)),
            ("window_from", a(&mut self.e_window_from)),
            ("window_months", a(&mut self.e_window_months)),
            ("peak_aum", a(&mut self.e_peak)),
            ("explain", a(&mut self.e_explain)),
        ])?;
        let alerts = table(vec![
            ("customer_id", a(&mut self.a_customer)),
            ("month", a(&mut self.a_month)),
            ("kind", a(&mut self.a_kind)),
            ("kind_zh", a(&mut self.a_kind_zh)),
            ("tier", a(&mut self.a_tier)),
            ("months_counted", a(&mut self.a_counted)),
            ("months_left", a(&mut self.a_left)),
            ("aum", a(&mut self.a_aum)),
            ("threshold", a(&mut self.a_threshold)),
            ("gap", a(&mut self.a_gap)),
        ])?;
        let errors = table(vec![
            ("customer_id", a(&mut self.x_customer)),
            ("month", a(&mut self.x_month)),
            ("category", a(&mut self.x_category)),
            ("field", a(&mut self.x_field)),
            ("message", a(&mut self.x_message)),
        ])?;
        Ok([states, events, alerts, errors])
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
        self.set_month(month);
        let m = &self.month_text;
        self.s_customer.append_value(&c.id);
        self.s_month.append_value(m);
        append_dec(&mut self.s_aum, aum);
        self.s_status.append_value(s.status.as_str());
        self.s_status_zh.append_value(s.status.name_zh());
        opt_tier(&mut self.s_tier, s.tier);
        opt_tier(&mut self.s_effective, s.effective_tier);
        self.s_vip.append_value(s.is_vip());
        self.s_watch.append_value(s.watch.map_or(0, |w| w.short_months));
        self.s_below.append_value(s.below_entry.map_or(0, |r| r.months));
        self.s_retention.append_value(s.retention_months_left);
        opt_tier(&mut self.s_special_tier, s.special.map(|x| x.tier));
        match s.special {
            Some(x) => self.s_special_until.append_value(x.last_month.to_string()),
            None => self.s_special_until.append_null(),
        }
        match error {
            Some((cat, field, message)) => {
                self.s_error.append_value(&message);
                self.x_customer.append_value(&c.id);
                self.x_month.append_value(m);
                self.x_category.append_value(cat);
                self.x_field.append_value(field);
                self.x_message.append_value(&message);
            }
            None => self.s_error.append_null(),
        }
    }

    fn event(&mut self, c: &Customer, e: &Event) {
        self.set_month(e.month);
        let m = &self.month_text;
        self.e_customer.append_value(&c.id);
        self.e_month.append_value(m);
        self.e_effective.append_value(e.effective_from.to_string());
        self.e_kind.append_value(e.kind.as_str());
        self.e_kind_zh.append_value(e.kind.name_zh());
        opt_tier(&mut self.e_from, e.from_tier);
        opt_tier(&mut self.e_to, e.to_tier);
        self.e_reason.append_value(e.reason.as_str());
        self.e_reason_zh.append_value(e.reason.name_zh());
        append_dec(&mut self.e_aum, Some(e.evidence.aum));
        append_dec(&mut self.e_threshold, e.evidence.threshold);
        match e.evidence.window_from {
            Some(w) => self.e_window_from.append_value(w.to_string()),
            None => self.e_window_from.append_null(),
        }
        self.e_window_months.append_option(e.evidence.window_months);
        append_dec(&mut self.e_peak, e.evidence.peak_aum);
        if self.explain {
            self.e_explain.append_value(e.explain());
        } else {
            self.e_explain.append_null();
        }
    }

    fn alert(&mut self, c: &Customer, a: &Alert) {
        self.set_month(a.month);
        let m = &self.month_text;
        self.a_customer.append_value(&c.id);
        self.a_month.append_value(m);
        self.a_kind.append_value(a.kind.as_str());
        self.a_kind_zh.append_value(a.kind.name_zh());
        opt_tier(&mut self.a_tier, a.tier);
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
            opt_tier(&mut tier_b, t);
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
            opt_tier(&mut c_ta, ta);
            opt_tier(&mut c_tb, tb);
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
