//! The loan tables (SPEC §21.11): a classified or stored loan month as three record batches,
//! one row per customer ([`loan_customers_table`]), per loan ([`loan_results_table`]) and per
//! signal ([`loan_signals_table`]), from the core's [`LoanOutcome`]s. The CLI's Parquet export
//! and Python's `Store.loans` build them here, so each table has one set of columns everywhere:
//! the names of the CLI's loan CSV files, the types of the portfolio's output tables (months
//! `date32`, codes and their Chinese names `dictionary<int32, utf8>`, day counts and counters
//! `int64`, flags `bool`), and the expected-loss ratio `decimal128(38, 28)`, exact for every
//! ratio the core takes (never a float).

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::types::{Date32Type, Decimal128Type, Int32Type, Int64Type};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, SchemaRef};
use rust_decimal::Decimal;

use super::Type::{Code, Count, Flag, Month, Ratio, Text};
use super::codes::{code, coded, position, values};
use super::columns::{Bools, Col, Days, array};
use super::{Column, RATIO_SCALE, RATIO_SCALE_ARROW, schema};
use crate::loans::{LoanClass, LoanOutcome, LoanSignalKind, Trend, Upgrade};

/// Every trend, in the order of the trend columns' dictionary.
const TRENDS: [Trend; 4] = [Trend::Worse, Trend::Same, Trend::Better, Trend::New];
/// Every upgrade status, in the order of the upgrade column's dictionary.
const UPGRADES: [Upgrade; 3] = [Upgrade::None, Upgrade::Allowed, Upgrade::Held];

const CUSTOMERS: &[Column] = &[
    ("month", Month, false),
    ("customer_id", Text, false),
    ("loans", Count, false),
    ("worst", Code, true),
    ("worst_zh", Code, true),
    ("trend", Code, true),
    ("non_performing", Flag, false),
];

const RESULTS: &[Column] = &[
    ("month", Month, false),
    ("customer_id", Text, false),
    ("loan_id", Text, false),
    ("principal_overdue_days", Count, false),
    ("interest_overdue_days", Count, false),
    ("overdue_days", Count, false),
    ("floor", Code, false),
    ("floor_zh", Code, false),
    ("bank", Code, false),
    ("effective", Code, false),
    ("effective_zh", Code, false),
    ("bank_kinder_than_floor", Flag, false),
    ("upgrade", Code, false),
    ("clean_months", Count, false),
    ("clean_periods", Count, false),
    ("expected_loss", Ratio, true),
];

const SIGNALS: &[Column] = &[
    ("month", Month, false),
    ("customer_id", Text, false),
    ("loan_id", Text, false),
    ("number", Count, false),
    ("signal", Code, false),
    ("signal_zh", Code, false),
    ("overdue_days", Count, false),
    ("boundary", Count, true),
    ("floor", Code, false),
    ("bank", Code, false),
    ("effective", Code, false),
    ("clean_months", Count, true),
    ("clean_periods", Count, true),
];

/// The loan customers table: one row per customer and month (SPEC §21.4), the columns of the
/// CLI's `customers.csv` ([`loan_customers_table`]).
///
/// ```
/// use arrow_schema::DataType;
/// use crm_tiering::portfolio::arrow::tables::loan_customers_schema;
/// let s = loan_customers_schema();
/// assert_eq!(s.field_with_name("month")?.data_type(), &DataType::Date32);
/// assert_eq!(s.field_with_name("non_performing")?.data_type(), &DataType::Boolean);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn loan_customers_schema() -> SchemaRef {
    schema(CUSTOMERS)
}

/// The loan results table: one row per loan and month, its classes and clean counters (SPEC
/// §21.2–§21.3; [`loan_results_table`]).
pub fn loan_results_schema() -> SchemaRef {
    schema(RESULTS)
}

/// The loan signals table: one row per signal (SPEC §21.5), the columns of the CLI's
/// `signals.csv` ([`loan_signals_table`]).
pub fn loan_signals_schema() -> SchemaRef {
    schema(SIGNALS)
}

fn class_codes() -> ArrayRef {
    values(LoanClass::ALL.into_iter().map(LoanClass::as_str))
}

fn class_names() -> ArrayRef {
    values(LoanClass::ALL.into_iter().map(LoanClass::name_zh))
}

fn class_key(c: LoanClass) -> i32 {
    position(&LoanClass::ALL, c)
}

/// A count as `int64` (a `usize` beyond it cannot be a count of loans).
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn finish(schema: SchemaRef, columns: Vec<ArrayRef>) -> Result<RecordBatch, ArrowError> {
    RecordBatch::try_new(schema, columns)
}

/// The customers of `outcomes`, in the order given ([`loan_customers_schema`]): `month`,
/// `customer_id`, `loans` (the month's loans), `worst` and `worst_zh` (the worst effective
/// class; null without loans), `trend` (null without loans), `non_performing` (§21.4's
/// `has_non_performing`).
///
/// ```
/// use crm_tiering::portfolio::arrow::tables::loan_customers_table;
/// use crm_tiering::{LoanMonth, LoanSettings, LoanState, evaluate_loans};
/// let record = LoanMonth {
///     customer_id: "c1".into(), loan_id: "L1".into(), month: "2024-03".parse()?,
///     principal_overdue_days: 91, interest_overdue_days: 0, bank_class: "关注".into(),
///     expected_loss: None, repayment_due: true,
/// };
/// let month = "2024-03".parse()?;
/// let outcome = evaluate_loans(&LoanSettings::default(), "c1", month, &LoanState::default(), &[record])?;
/// let batch = loan_customers_table(&[outcome])?;
/// assert_eq!(batch.num_rows(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// None in practice: the columns are built to the schema (Arrow's own check of a batch).
pub fn loan_customers_table(outcomes: &[LoanOutcome]) -> Result<RecordBatch, ArrowError> {
    let n = outcomes.len();
    let mut days = Days::default();
    let mut month = Col::<Date32Type>::with_capacity(n);
    let mut id = StringBuilder::with_capacity(n, n * 12);
    let mut loans = Col::<Int64Type>::with_capacity(n);
    let mut worst = Col::<Int32Type>::with_capacity(n);
    let mut trend = Col::<Int32Type>::with_capacity(n);
    let mut npl = Bools::with_capacity(n);
    for o in outcomes {
        month.push(days.of(o.month));
        id.append_value(&o.customer_id);
        loans.push(count(o.loans.len()));
        worst.push_opt(o.worst.map(class_key));
        trend.push_opt(o.trend.map(|t| position(&TRENDS, t)));
        npl.push(o.has_non_performing);
    }
    let (worst, worst_zh) = coded(worst, class_codes(), class_names())?;
    let trend = code(trend, values(TRENDS.into_iter().map(Trend::as_str)))?;
    let columns = vec![array(month)?, Arc::new(id.finish()), array(loans)?, worst, worst_zh, trend, npl.finish()?];
    finish(loan_customers_schema(), columns)
}

/// The unscaled value of an expected-loss ratio at [`RATIO_SCALE`], when it is exact there
/// and within 38 digits (every ratio from 0 to 1 is).
fn ratio(d: Decimal) -> Option<i128> {
    let d = if d.scale() > RATIO_SCALE { d.normalize() } else { d };
    let v = d.mantissa().checked_mul(10i128.checked_pow(RATIO_SCALE.checked_sub(d.scale())?)?)?;
    (v.unsigned_abs() < 10u128.pow(38)).then_some(v)
}

/// The loans of `outcomes`, customer by customer in the order given and each customer's by
/// loan id ([`loan_results_schema`]): `month`, `customer_id`, `loan_id`, the overdue days
/// (`principal_overdue_days`, `interest_overdue_days`, `overdue_days`: the larger), the
/// classes (`floor`, `floor_zh`, `bank`, `effective`, `effective_zh`),
/// `bank_kinder_than_floor`, `upgrade` (`none`, `allowed`, `held`), `clean_months`,
/// `clean_periods` and `expected_loss` (null when not given).
///
/// # Errors
/// An expected-loss ratio that does not fit `decimal128(38, 28)` exactly (never one from
/// 0 to 1, which is all the core takes), naming the customer, loan and month.
pub fn loan_results_table(outcomes: &[LoanOutcome]) -> Result<RecordBatch, ArrowError> {
    let n: usize = outcomes.iter().map(|o| o.loans.len()).sum();
    let mut days = Days::default();
    let mut month = Col::<Date32Type>::with_capacity(n);
    let (mut id, mut loan) = (StringBuilder::with_capacity(n, n * 12), StringBuilder::with_capacity(n, n * 12));
    let mut principal = Col::<Int64Type>::with_capacity(n);
    let mut interest = Col::<Int64Type>::with_capacity(n);
    let mut overdue = Col::<Int64Type>::with_capacity(n);
    let (mut floor, mut bank, mut effective) =
        (Col::<Int32Type>::with_capacity(n), Col::<Int32Type>::with_capacity(n), Col::<Int32Type>::with_capacity(n));
    let mut kinder = Bools::with_capacity(n);
    let mut upgrade = Col::<Int32Type>::with_capacity(n);
    let (mut clean_months, mut clean_periods) =
        (Col::<Int64Type>::with_capacity(n), Col::<Int64Type>::with_capacity(n));
    let mut loss = Col::<Decimal128Type>::with_capacity(n);
    for o in outcomes {
        for l in &o.loans {
            month.push(days.of(o.month));
            id.append_value(&o.customer_id);
            loan.append_value(&l.loan_id);
            principal.push(i64::from(l.principal_overdue_days));
            interest.push(i64::from(l.interest_overdue_days));
            overdue.push(i64::from(l.overdue_days));
            floor.push(class_key(l.floor));
            bank.push(class_key(l.bank));
            effective.push(class_key(l.effective));
            kinder.push(l.bank_kinder_than_floor);
            upgrade.push(position(&UPGRADES, l.upgrade));
            clean_months.push(i64::from(l.clean_months));
            clean_periods.push(i64::from(l.clean_periods));
            let exact = l.expected_loss.map(|d| (d, ratio(d)));
            if let Some((d, None)) = exact {
                return Err(ArrowError::InvalidArgumentError(format!(
                    "table `loan_results`: customer `{}`, loan `{}`, month {}, column `expected_loss`: {d} does not fit decimal128(38, {RATIO_SCALE}) exactly",
                    o.customer_id, l.loan_id, o.month
                )));
            }
            loss.push_opt(exact.and_then(|e| e.1));
        }
    }
    let (floor, floor_zh) = coded(floor, class_codes(), class_names())?;
    let (effective, effective_zh) = coded(effective, class_codes(), class_names())?;
    let loss = Arc::new(loss.finish()?.with_precision_and_scale(38, RATIO_SCALE_ARROW)?);
    let columns = vec![
        array(month)?,
        Arc::new(id.finish()),
        Arc::new(loan.finish()),
        array(principal)?,
        array(interest)?,
        array(overdue)?,
        floor,
        floor_zh,
        code(bank, class_codes())?,
        effective,
        effective_zh,
        kinder.finish()?,
        code(upgrade, values(UPGRADES.into_iter().map(Upgrade::as_str)))?,
        array(clean_months)?,
        array(clean_periods)?,
        loss,
    ];
    finish(loan_results_schema(), columns)
}

/// The signals of `outcomes`, customer by customer in the order given and each customer's in
/// its order (by loan id, then number) ([`loan_signals_schema`]): `month`, `customer_id`,
/// `loan_id`, `number` (2201–2205), `signal` and `signal_zh` (its code and Chinese name),
/// `overdue_days`, `boundary` (null when the signal has none), `floor`, `bank`, `effective`,
/// and `clean_months`, `clean_periods` (an `upgrade_held_by_clean_window` signal's, else null).
///
/// # Errors
/// None in practice: the columns are built to the schema (Arrow's own check of a batch).
pub fn loan_signals_table(outcomes: &[LoanOutcome]) -> Result<RecordBatch, ArrowError> {
    let n: usize = outcomes.iter().map(|o| o.signals.len()).sum();
    let mut days = Days::default();
    let mut month = Col::<Date32Type>::with_capacity(n);
    let (mut id, mut loan) = (StringBuilder::with_capacity(n, n * 12), StringBuilder::with_capacity(n, n * 12));
    let (mut number, mut kind) = (Col::<Int64Type>::with_capacity(n), Col::<Int32Type>::with_capacity(n));
    let (mut overdue, mut boundary) = (Col::<Int64Type>::with_capacity(n), Col::<Int64Type>::with_capacity(n));
    let (mut floor, mut bank, mut effective) =
        (Col::<Int32Type>::with_capacity(n), Col::<Int32Type>::with_capacity(n), Col::<Int32Type>::with_capacity(n));
    let (mut clean_months, mut clean_periods) =
        (Col::<Int64Type>::with_capacity(n), Col::<Int64Type>::with_capacity(n));
    for s in outcomes.iter().flat_map(|o| &o.signals) {
        month.push(days.of(s.month));
        id.append_value(&s.customer_id);
        loan.append_value(&s.loan_id);
        number.push(i64::from(s.kind.number()));
        kind.push(position(&LoanSignalKind::ALL, s.kind));
        overdue.push(i64::from(s.overdue_days));
        boundary.push_opt(s.boundary.map(i64::from));
        floor.push(class_key(s.floor));
        bank.push(class_key(s.bank));
        effective.push(class_key(s.effective));
        clean_months.push_opt(s.clean_months.map(i64::from));
        clean_periods.push_opt(s.clean_periods.map(i64::from));
    }
    let kinds = values(LoanSignalKind::ALL.into_iter().map(LoanSignalKind::as_str));
    let (kind, kind_zh) = coded(kind, kinds, values(LoanSignalKind::ALL.into_iter().map(LoanSignalKind::name_zh)))?;
    let columns = vec![
        array(month)?,
        Arc::new(id.finish()),
        Arc::new(loan.finish()),
        array(number)?,
        kind,
        kind_zh,
        array(overdue)?,
        array(boundary)?,
        code(floor, class_codes())?,
        code(bank, class_codes())?,
        code(effective, class_codes())?,
        array(clean_months)?,
        array(clean_periods)?,
    ];
    finish(loan_signals_schema(), columns)
}

#[cfg(test)]
#[path = "loans_tests.rs"]
mod tests;
