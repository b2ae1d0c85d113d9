#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int32Type};
use arrow_array::{
    Array, ArrayRef, Date32Array, Decimal128Array, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray,
};

use super::*;
use crate::{ContributionError, Inputs, RuleBook, compute};

fn text(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn dec(v: &[Option<i128>], scale: i8) -> ArrayRef {
    Arc::new(Decimal128Array::from(v.to_vec()).with_precision_and_scale(38, scale).unwrap())
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

/// Two account-months: months as an integer and a date, a dictionary-encoded side, a balance
/// in whole fen, rates at scale 10, an integer day count.
fn accounts() -> RecordBatch {
    let sides = DictionaryArray::<Int32Type>::try_new(
        arrow_array::Int32Array::from(vec![0, 1]),
        Arc::new(StringArray::from(vec!["liability", "资产"])),
    )
    .unwrap();
    batch(vec![
        ("month", Arc::new(Int64Array::from(vec![202_403, 202_403])) as ArrayRef),
        ("customer", text(&[Some("c1"), Some("c1")])),
        ("account", text(&[Some("a1"), Some("a2")])),
        ("product", text(&[Some("demand"), Some("loan")])),
        ("side", Arc::new(sides)),
        ("average_balance_fen", Arc::new(Int64Array::from(vec![36_000_000, 7_200_000])) as ArrayRef),
        ("customer_rate", dec(&[Some(20_000_000), Some(500_000_000)], 10)),
        ("days", Arc::new(Int64Array::from(vec![Some(31), None])) as ArrayRef),
        ("branch", text(&[Some("b1"), Some("b2")])),
        ("legal_entity", text(&[Some("le1"), Some("le1")])),
        ("loan_class", text(&[None, Some("关注")])),
    ])
}

const CSV: &str = "\
month,customer,account,product,side,average_balance,customer_rate,days,branch,legal_entity,loan_class
2024-03,c1,a1,demand,liability,360000.00,0.0020,31,b1,le1,
2024-03,c1,a2,loan,资产,72000.00,0.05,,b2,le1,关注
";

#[test]
fn typed_tables_read_as_the_csv_tables_do_and_the_outputs_hold_the_figures() {
    let b = accounts();
    let typed = read_account_months("account_months", &b.schema(), std::slice::from_ref(&b)).unwrap();
    assert_eq!(typed, crate::read_account_months("account_months", CSV).unwrap());
    let months: ArrayRef = Arc::new(Date32Array::from(vec![19_783]));
    let pools =
        batch(vec![("month", months), ("cost_centre", text(&[Some("counter")])), ("amount", dec(&[Some(1_000)], 2))]);
    let shares: ArrayRef = Arc::new(Int64Array::from(vec![60, 40]));
    let managers = batch(vec![
        ("customer", text(&[Some("c1"), Some("c1")])),
        ("manager", text(&[Some("m1"), Some("m2")])),
        ("role", text(&[Some("主办"), Some("协办")])),
        ("share", shares),
    ]);
    let book = RuleBook::from_toml_str(
        r#"
        basis = 360
        [ftp]
        rates = [
          { product = "demand", term = "none", effective = "2024-01", rate = "0.0200" },
          { product = "loan", term = "none", effective = "2024-01", rate = "0.0300" },
        ]
        [[stages]]
        pool = "counter"
        driver = "accounts"
        "#,
    )
    .unwrap();
    let inputs = Inputs {
        account_months: typed,
        cost_pools: read_cost_pools("cost_pools", &pools.schema(), std::slice::from_ref(&pools)).unwrap(),
        assignments: read_assignments("assignments", &managers.schema(), std::slice::from_ref(&managers)).unwrap(),
        ..Inputs::default()
    };
    let result = compute(&book, "2024-03".parse().unwrap(), &inputs).unwrap();
    // a1: 360,000.00 × (2.00% − 0.20%) × 31 / 360 = 558.00; a2: 72,000.00 × (5% − 3%) × 31 /
    // 360 = 124.00; the counter pool's 10.00 is c1's: 558.00 + 124.00 − 10.00 = 672.00.
    let customers = customers_table(&result).unwrap();
    let money = |t: &RecordBatch, c: &str, i: usize| {
        t.column_by_name(c).unwrap().as_primitive::<Decimal128Type>().value_as_string(i)
    };
    assert_eq!(money(&customers, "interest_liability", 0), "558.00");
    assert_eq!(money(&customers, "interest_asset", 0), "124.00");
    assert_eq!(money(&customers, "net_contribution", 0), "672.00");
    assert_eq!(
        customers.column_by_name("month").unwrap().as_primitive::<arrow_array::types::Date32Type>().value(0),
        19_783
    );
    let m = managers_table(&result).unwrap();
    // 60% of 672.00 is 403.20; 40% 268.80.
    assert_eq!(
        (money(&m, "net_contribution", 0), money(&m, "net_contribution", 1)),
        ("403.20".into(), "268.80".into())
    );
    let lineage = lineage_table(&result).unwrap();
    assert_eq!(lineage.num_rows(), 3);
    let amounts: Vec<String> = (0..3).map(|i| money(&lineage, "amount", i)).collect();
    assert_eq!(amounts, ["124.00", "558.00", "-10.00"]);
    assert_eq!(
        lineage.schema().field_with_name("ftp_rate").unwrap().data_type(),
        &arrow_schema::DataType::Decimal128(38, 10)
    );
    assert!(lineage.column_by_name("pool").unwrap().is_null(0));
    let stages = stages_table(&result).unwrap();
    assert_eq!(money(&stages, "amount", 0), "10.00");
    for t in [branches_table(&result).unwrap(), legal_entities_table(&result).unwrap()] {
        assert!(t.num_rows() >= 1);
    }
}

#[test]
fn a_float_column_is_refused_naming_the_table_and_the_column() {
    for column in ["average_balance", "customer_rate"] {
        let b = accounts();
        let schema = b.schema();
        let mut columns: Vec<(&str, ArrayRef)> = schema
            .fields()
            .iter()
            .zip(b.columns())
            .filter(|(f, _)| f.name() != "average_balance_fen" && f.name() != "customer_rate")
            .map(|(f, c)| (f.name().as_str(), c.clone()))
            .collect();
        let other = if column == "customer_rate" { "average_balance" } else { "customer_rate" };
        columns.push((column, Arc::new(Float64Array::from(vec![1.5, 2.5])) as ArrayRef));
        columns.push((other, Arc::new(StringArray::from(vec!["1", "2"])) as ArrayRef));
        let b = batch(columns.iter().map(|(n, c)| (*n, c.clone())).collect());
        let err = read_account_months("account_months", &b.schema(), std::slice::from_ref(&b)).unwrap_err();
        let [ContributionError::Arrow { table, row: None, column: Some(c), message }] = err.errors() else {
            panic!("{err:?}")
        };
        assert_eq!((table.as_str(), c.as_str()), ("account_months", column));
        assert!(message.contains("binary floating-point"), "{message}");
        assert!(err.to_string().starts_with(&format!("account_months: column `{column}`")), "{err}");
    }
}

#[test]
fn a_null_in_a_required_column_is_refused_naming_the_row_and_the_column() {
    let first = batch(vec![
        ("month", text(&[Some("2024-03")])),
        ("customer", text(&[Some("c1")])),
        ("amount", dec(&[Some(100)], 2)),
    ]);
    let second = batch(vec![
        ("month", text(&[Some("2024-03"), Some("2024-03")])),
        ("customer", text(&[Some("c2"), None])),
        ("amount", dec(&[None, Some(5)], 2)),
    ]);
    let err = read_fees("fees", &first.schema(), &[first.clone(), second]).unwrap_err();
    let got: Vec<String> = err.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "fees row 1, column amount: null or empty: a value is required",
            "fees row 2, column customer: null or empty: a value is required"
        ]
    );
}

#[test]
fn columns_unknown_missing_and_integer_ids() {
    let b = batch(vec![
        ("month", text(&[Some("2024-03")])),
        ("customer", Arc::new(Int64Array::from(vec![7])) as ArrayRef),
        ("amount", dec(&[Some(100)], 2)),
        ("colour", text(&[Some("red")])),
    ]);
    let err = read_direct_costs("direct_costs", &b.schema(), std::slice::from_ref(&b)).unwrap_err();
    let got: Vec<String> = err.errors().iter().map(ToString::to_string).collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got[0].starts_with("direct_costs: column `customer` holds integers"), "{got:?}");
    assert_eq!(got[1], "direct_costs: column `colour` is not a column of this table");
    assert_eq!(got[2], "direct_costs: column `item` is required and missing");
}

#[test]
fn the_account_month_table_holds_the_records_or_the_errors_of_the_list() {
    let b = accounts();
    let list = read_account_months("account_months", &b.schema(), &[b.clone(), b.clone()]).unwrap();
    let table = read_account_month_table("account_months", &b.schema(), &[b.clone(), b.clone()]).unwrap();
    assert_eq!(table.len(), 4);
    assert_eq!((0..table.len()).map(|i| table.get(i).unwrap()).collect::<Vec<_>>(), list);
    assert_eq!(table.account(1), Some("a2"));
    assert!(table.account(4).is_none());
    // A bad cell in the second batch: the same errors, and no table.
    let schema = b.schema();
    let columns: Vec<(&str, ArrayRef)> = schema
        .fields()
        .iter()
        .zip(b.columns())
        .map(|(f, c)| {
            let c = if f.name() == "customer" { text(&[Some("c1"), None]) } else { c.clone() };
            (f.name().as_str(), c)
        })
        .collect();
    let bad = batch(columns);
    let batches = [b.clone(), bad];
    let list = read_account_months("account_months", &schema, &batches).unwrap_err();
    assert_eq!(list.to_string(), "account_months row 3, column customer: null or empty: a value is required");
    assert_eq!(read_account_month_table("account_months", &schema, &batches).unwrap_err(), list);
}
