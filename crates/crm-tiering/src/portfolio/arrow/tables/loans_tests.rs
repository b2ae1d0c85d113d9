//! The loan tables: every cell read back equals the outcome it came from, nulls where the
//! outcome has none, the expected loss exact.

use std::collections::BTreeMap;
use std::str::FromStr;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use rust_decimal::Decimal;

use super::*;
use crate::loans::{LoanMonth, LoanSettings, evaluate_loan_month};
use crate::month::Month;
use crate::portfolio::arrow::tables::month_days;

fn m(s: &str) -> Month {
    s.parse().unwrap()
}

fn rec(customer: &str, loan: &str, month: &str, days: i64, bank: &str, loss: Option<&str>) -> LoanMonth {
    LoanMonth {
        customer_id: customer.into(),
        loan_id: loan.into(),
        month: m(month),
        principal_overdue_days: days,
        interest_overdue_days: 0,
        bank_class: bank.into(),
        expected_loss: loss.map(|l| Decimal::from_str(l).unwrap()),
        repayment_due: true,
    }
}

/// Two months: in April `a`'s loan is held by the clean window, `b`'s loan has closed (a
/// customer without loans), `c` is new with a loan 61 days overdue and an expected loss.
fn outcomes() -> Vec<crate::loans::LoanOutcome> {
    let s = LoanSettings::default();
    let march = vec![
        rec("a", "L1", "2024-03", 120, "关注", Some("0.25")),
        rec("a", "L2", "2024-03", 0, "正常", None),
        rec("b", "L9", "2024-03", 5, "关注", None),
    ];
    let out = evaluate_loan_month(&s, m("2024-03"), &march, &BTreeMap::new()).unwrap();
    let states: BTreeMap<String, _> = out.iter().map(|o| (o.customer_id.clone(), o.state.clone())).collect();
    let april = vec![
        rec("a", "L1", "2024-04", 0, "关注", Some("0.0000000000000000000000000001")),
        rec("c", "K1", "2024-04", 61, "关注", Some("1")),
    ];
    let mut all = out;
    all.extend(evaluate_loan_month(&s, m("2024-04"), &april, &states).unwrap());
    all
}

fn text(b: &RecordBatch, name: &str, row: usize) -> String {
    b.column_by_name(name).unwrap().as_string::<i32>().value(row).to_string()
}

fn code(b: &RecordBatch, name: &str, row: usize) -> Option<String> {
    let d = b.column_by_name(name).unwrap().as_dictionary::<Int32Type>();
    if d.is_null(row) {
        return None;
    }
    let key = usize::try_from(d.keys().value(row)).unwrap();
    Some(d.values().as_string::<i32>().value(key).to_string())
}

fn count(b: &RecordBatch, name: &str, row: usize) -> Option<i64> {
    let a = b.column_by_name(name).unwrap().as_primitive::<Int64Type>();
    (!a.is_null(row)).then(|| a.value(row))
}

fn flag(b: &RecordBatch, name: &str, row: usize) -> bool {
    b.column_by_name(name).unwrap().as_boolean().value(row)
}

fn days(b: &RecordBatch, row: usize) -> i32 {
    b.column_by_name("month").unwrap().as_primitive::<Date32Type>().value(row)
}

#[test]
fn customers_read_back() {
    let out = outcomes();
    let b = loan_customers_table(&out).unwrap();
    assert_eq!((b.schema(), b.num_rows()), (loan_customers_schema(), out.len()));
    assert!(out.iter().any(|o| o.loans.is_empty()), "a customer without loans is in the sample");
    for (i, o) in out.iter().enumerate() {
        assert_eq!(days(&b, i), month_days(o.month));
        assert_eq!(text(&b, "customer_id", i), o.customer_id);
        assert_eq!(count(&b, "loans", i), Some(i64::try_from(o.loans.len()).unwrap()));
        assert_eq!(code(&b, "worst", i).as_deref(), o.worst.map(|c| c.as_str()));
        assert_eq!(code(&b, "worst_zh", i).as_deref(), o.worst.map(|c| c.name_zh()));
        assert_eq!(code(&b, "trend", i).as_deref(), o.trend.map(|t| t.as_str()));
        assert_eq!(flag(&b, "non_performing", i), o.has_non_performing);
    }
}

#[test]
fn results_read_back_with_exact_ratios() {
    let out = outcomes();
    let b = loan_results_table(&out).unwrap();
    let loans: Vec<_> = out.iter().flat_map(|o| o.loans.iter().map(move |l| (o, l))).collect();
    assert_eq!((b.schema(), b.num_rows()), (loan_results_schema(), loans.len()));
    assert_eq!(b.schema().field_with_name("expected_loss").unwrap().data_type(), &DataType::Decimal128(38, 28));
    let loss = b.column_by_name("expected_loss").unwrap().as_primitive::<Decimal128Type>();
    assert!(loans.iter().any(|(_, l)| l.upgrade == Upgrade::Held), "a held upgrade is in the sample");
    for (i, (o, l)) in loans.iter().enumerate() {
        assert_eq!(days(&b, i), month_days(o.month));
        assert_eq!((text(&b, "customer_id", i), text(&b, "loan_id", i)), (o.customer_id.clone(), l.loan_id.clone()));
        assert_eq!(count(&b, "principal_overdue_days", i), Some(i64::from(l.principal_overdue_days)));
        assert_eq!(count(&b, "interest_overdue_days", i), Some(i64::from(l.interest_overdue_days)));
        assert_eq!(count(&b, "overdue_days", i), Some(i64::from(l.overdue_days)));
        assert_eq!(code(&b, "floor", i).as_deref(), Some(l.floor.as_str()));
        assert_eq!(code(&b, "floor_zh", i).as_deref(), Some(l.floor.name_zh()));
        assert_eq!(code(&b, "bank", i).as_deref(), Some(l.bank.as_str()));
        assert_eq!(code(&b, "effective", i).as_deref(), Some(l.effective.as_str()));
        assert_eq!(code(&b, "effective_zh", i).as_deref(), Some(l.effective.name_zh()));
        assert_eq!(flag(&b, "bank_kinder_than_floor", i), l.bank_kinder_than_floor);
        assert_eq!(code(&b, "upgrade", i).as_deref(), Some(l.upgrade.as_str()));
        assert_eq!(count(&b, "clean_months", i), Some(i64::from(l.clean_months)));
        assert_eq!(count(&b, "clean_periods", i), Some(i64::from(l.clean_periods)));
        let read = (!loss.is_null(i)).then(|| Decimal::from_i128_with_scale(loss.value(i), 28).normalize());
        assert_eq!(read, l.expected_loss.map(|d| d.normalize()), "row {i}");
    }
    assert_eq!(loss.null_count(), 2);
    // A ratio that does not fit the column stops the table, naming the record.
    let mut bad = out;
    bad.first_mut().unwrap().loans.first_mut().unwrap().expected_loss = Some(Decimal::MAX);
    let err = loan_results_table(&bad).unwrap_err().to_string();
    assert!(err.contains("customer `a`, loan `L1`, month 2024-03, column `expected_loss`"), "{err}");
}

#[test]
fn signals_read_back() {
    let out = outcomes();
    let b = loan_signals_table(&out).unwrap();
    let signals: Vec<_> = out.iter().flat_map(|o| &o.signals).collect();
    assert_eq!((b.schema(), b.num_rows()), (loan_signals_schema(), signals.len()));
    assert!(signals.iter().any(|s| s.clean_months.is_some()) && signals.iter().any(|s| s.boundary.is_none()));
    for (i, s) in signals.iter().enumerate() {
        assert_eq!(days(&b, i), month_days(s.month));
        assert_eq!((text(&b, "customer_id", i), text(&b, "loan_id", i)), (s.customer_id.clone(), s.loan_id.clone()));
        assert_eq!(count(&b, "number", i), Some(i64::from(s.kind.number())));
        assert_eq!(code(&b, "signal", i).as_deref(), Some(s.kind.as_str()));
        assert_eq!(code(&b, "signal_zh", i).as_deref(), Some(s.kind.name_zh()));
        assert_eq!(count(&b, "overdue_days", i), Some(i64::from(s.overdue_days)));
        assert_eq!(count(&b, "boundary", i), s.boundary.map(i64::from));
        assert_eq!(code(&b, "floor", i).as_deref(), Some(s.floor.as_str()));
        assert_eq!(code(&b, "bank", i).as_deref(), Some(s.bank.as_str()));
        assert_eq!(code(&b, "effective", i).as_deref(), Some(s.effective.as_str()));
        assert_eq!(count(&b, "clean_months", i), s.clean_months.map(i64::from));
        assert_eq!(count(&b, "clean_periods", i), s.clean_periods.map(i64::from));
    }
    // No outcome: three empty tables of their schemas.
    for (t, s) in [
        (loan_customers_table(&[]), loan_customers_schema()),
        (loan_results_table(&[]), loan_results_schema()),
        (loan_signals_table(&[]), loan_signals_schema()),
    ] {
        let t = t.unwrap();
        assert_eq!((t.schema(), t.num_rows()), (s, 0));
    }
}
