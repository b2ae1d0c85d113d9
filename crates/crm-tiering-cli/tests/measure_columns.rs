//! Measure columns (SPEC §19.1) through the CLI's inputs, CSV and Parquet: a `loan_balance`
//! column of a book that declares the measure is read (a null or empty cell is no value, the
//! measure's `absent` applies), a bad cell holds its customer naming the column, a float column
//! is refused as a float component column is, and an undeclared column stops the table naming
//! it. The portfolio's results are `Engine::evaluate`'s on the same inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Decimal128Array, Float64Array, Int64Array, RecordBatch, StringArray};
use common::{cli, code, err, p};
use crm_tiering::portfolio::arrow::{TableError, read_parquet};
use crm_tiering::portfolio::{Extract, PortfolioOptions, PortfolioStates, TableKind};
use crm_tiering::{AumInput, Customer, CustomerState, Decimal, Engine, MonthInput, RuleBook, parse_amount};
use serde_json::Value;

/// A book whose top tier, `private`, is entered on AUM or on the loan balance.
const RULES: &str = r#"
format_version = 1
name = "measures"

[[rule_sets]]
name = "default"

[[rule_sets.versions]]
effective_from = "2000-01"

[[rule_sets.versions.measures]]
code = "loan_balance"

[[rule_sets.versions.tiers]]
code = "gold"
name_zh = "金卡"
name_en = "Gold"
min_aum = "200000"

[[rule_sets.versions.tiers]]
code = "private"
name_zh = "私行级"
name_en = "Private banking"
qualify = { any_of = [{ measure = "aum", min = "6000000" }, { measure = "loan_balance", min = "6000000" }] }

[rule_sets.versions.aum]

[[rule_sets.versions.aum.components]]
code = "demand_deposit"
name_zh = "活期存款"
group = "deposits"
"#;

fn amount(text: &str) -> Decimal {
    parse_amount(text).unwrap()
}

fn decimals(values: &[Option<i128>]) -> ArrayRef {
    Arc::new(Decimal128Array::from(values.to_vec()).with_precision_and_scale(20, 2).unwrap())
}

fn strings(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// A month with the loan balance as text, as the CSV holds it: c1 AUM 1,000,000 and a loan
/// balance of 6,500,000; c2 AUM 1,000,000 and no loan balance (null); c3 AUM 250,000 and a loan
/// balance of exactly 6,000,000; c4 a loan balance of `abc`.
fn month_parquet(path: &Path) {
    parquet(
        path,
        vec![
            ("month", strings(&[Some("2024-03"); 4])),
            ("customer_id", strings(&[Some("c1"), Some("c2"), Some("c3"), Some("c4")])),
            ("aum", decimals(&[Some(100_000_000), Some(100_000_000), Some(25_000_000), Some(25_000_000)])),
            ("loan_balance", strings(&[Some("6500000.00"), None, Some("6000000"), Some("abc")])),
        ],
    );
}

/// The reference: `Engine::evaluate` for a new personal customer.
fn reference(engine: &Engine, id: &str, aum: &str, loan: Option<&str>) -> crm_tiering::MonthOutcome {
    let measures: BTreeMap<String, Decimal> =
        loan.map(|l| ("loan_balance".to_string(), amount(l))).into_iter().collect();
    let input = MonthInput {
        aum: AumInput::Total(amount(aum)),
        special: None,
        measures: measures.iter().map(|(c, v)| (c.parse().unwrap(), *v)).collect(),
    };
    engine.evaluate(&Customer::personal(id), &CustomerState::default(), "2024-03".parse().unwrap(), &input).unwrap()
}

#[test]
fn a_parquet_extract_reads_measures_as_evaluate_does() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("aum.parquet");
    month_parquet(&file);
    let book = RuleBook::from_toml_str(RULES).unwrap();
    let engine = Engine::new(book.clone());
    let mut extract = Extract::new(&book);
    let bytes = bytes::Bytes::from(std::fs::read(&file).unwrap());
    let rows = read_parquet(&book, TableKind::Aum, "aum.parquet", bytes, 1, &mut extract, |_, _| {}).unwrap();
    assert_eq!(rows, 4);
    let bad: Vec<_> = extract.rejected().collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(
        (bad[0].customer(), bad[0].field(), bad[0].record.as_ref().map(|r| (r.table.as_str(), r.row))),
        (Some("c4"), Some("loan_balance"), Some(("aum.parquet", 4)))
    );
    let mut states = PortfolioStates::new();
    let out = engine
        .evaluate_portfolio(&mut states, "2024-03".parse().unwrap(), &extract, &PortfolioOptions::default())
        .unwrap();
    let month = &out.months[0];
    for (id, aum, loan, tier) in [
        ("c1", "1000000", Some("6500000"), "private"),
        ("c2", "1000000", None, "gold"),
        ("c3", "250000", Some("6000000"), "private"),
    ] {
        let want = reference(&engine, id, aum, loan);
        let i = states.index_of(id).unwrap();
        let got = month.evaluated.iter().find(|e| e.index == i).unwrap();
        assert_eq!((got.aum, got.state), (want.aum, want.state), "{id}");
        let events: Vec<_> = month.events.iter().filter(|(k, _)| *k == i).map(|(_, e)| *e).collect();
        assert_eq!(events, want.events, "{id}");
        assert_eq!(got.state.tier.unwrap().as_str(), tier, "{id}");
    }
    let held: Vec<_> = month.held.iter().map(|(_, e)| (e.customer(), e.field())).collect();
    assert_eq!(held, [(Some("c4"), Some("loan_balance"))]);
}

#[test]
fn measure_columns_take_the_type_policy_of_amounts() {
    let dir = tempfile::tempdir().unwrap();
    let book = RuleBook::from_toml_str(RULES).unwrap();
    let read = |columns: Vec<(&str, ArrayRef)>| {
        let file = dir.path().join("t.parquet");
        parquet(&file, columns);
        let mut extract = Extract::new(&book);
        let bytes = bytes::Bytes::from(std::fs::read(&file).unwrap());
        let result = read_parquet(&book, TableKind::Aum, "t.parquet", bytes, 1, &mut extract, |_, _| {});
        (result, extract)
    };
    let ids = || strings(&[Some("c1"), Some("c2")]);
    let aum = || decimals(&[Some(100), Some(100)]);
    // Decimals, with a null: the value, and no value.
    let (result, x) =
        read(vec![("customer_id", ids()), ("aum", aum()), ("loan_balance", decimals(&[Some(650), None]))]);
    assert_eq!(result.unwrap(), 2);
    let measures: Vec<BTreeMap<String, Decimal>> = x.rows().iter().map(|r| r.measures().to_map()).collect();
    assert_eq!(measures, [BTreeMap::from([("loan_balance".to_string(), amount("6.50"))]), BTreeMap::new()]);
    // Integer fen in a `_fen` column.
    let fen: ArrayRef = Arc::new(Int64Array::from(vec![Some(650), None]));
    let (result, x) = read(vec![("customer_id", ids()), ("aum", aum()), ("loan_balance_fen", fen)]);
    assert_eq!(result.unwrap(), 2);
    assert_eq!(x.rows().get(0).unwrap().measures().to_map()["loan_balance"], amount("6.50"));
    // Floats and integers without `_fen` are refused, naming the column.
    let floats: ArrayRef = Arc::new(Float64Array::from(vec![6.5, 1.0]));
    let (result, _) = read(vec![("customer_id", ids()), ("aum", aum()), ("loan_balance", floats)]);
    match result {
        Err(e @ TableError::Type { .. }) => {
            assert_eq!(e.column(), Some("loan_balance"));
            assert!(e.message().contains("binary floating-point"), "{}", e.message());
        }
        other => panic!("{other:?}"),
    }
    let ints: ArrayRef = Arc::new(Int64Array::from(vec![6, 1]));
    let (result, _) = read(vec![("customer_id", ids()), ("aum", aum()), ("loan_balance", ints)]);
    assert!(matches!(&result, Err(e @ TableError::Type { .. }) if e.column() == Some("loan_balance")), "{result:?}");
    // An undeclared column stops the table, naming it.
    let (result, _) = read(vec![("customer_id", ids()), ("aum", aum()), ("loan_balanse", decimals(&[Some(1), None]))]);
    match result {
        Err(TableError::Columns { error, .. }) => assert_eq!(error.field(), Some("loan_balanse")),
        other => panic!("{other:?}"),
    }
}

/// The CLI's `run`, then its states exported: CSV and Parquet give the same tiers.
#[test]
fn the_cli_runs_a_measured_book_from_csv_and_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rules = d.join("rules.toml");
    std::fs::write(&rules, RULES).unwrap();
    let csv = d.join("aum.csv");
    std::fs::write(
        &csv,
        "month,customer_id,aum,loan_balance\n2024-03,c1,1000000,6500000.00\n2024-03,c2,1000000,\n2024-03,c3,250000,6000000\n2024-03,c4,250000,abc\n",
    )
    .unwrap();
    let pq = d.join("aum.parquet");
    month_parquet(&pq);
    for (name, input) in [("csv", &csv), ("parquet", &pq)] {
        let store = d.join(format!("{name}.db"));
        let args = ["run", "--month", "2024-03", "--rules", p(&rules), "--aum", p(input), "--store", p(&store)];
        let o = cli(&[&args[..], &["--create-store", "--skip-bad-rows"]].concat());
        assert_eq!(code(&o), 6, "{name}: {}", err(&o));
        let out = d.join(format!("out-{name}"));
        let e = cli(&["export", "--month", "2024-03", "--format", "jsonl", "--store", p(&store), "--out", p(&out)]);
        assert_eq!(code(&e), 0, "{name}: {}", err(&e));
        let text = std::fs::read_to_string(out.join("states-2024-03.jsonl")).unwrap();
        let tiers: BTreeMap<String, Value> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter_map(|v| Some((v["customer_id"].as_str()?.to_string(), v["state"]["tier"].clone())))
            .collect();
        let want: BTreeMap<String, Value> =
            [("c1", "private"), ("c2", "gold"), ("c3", "private")].map(|(c, t)| (c.to_string(), t.into())).into();
        assert_eq!(tiers, want, "{name}");
        let rejects = cli(&["export", "--month", "2024-03", "--format", "csv", "--store", p(&store), "--out", p(&out)]);
        assert_eq!(code(&rejects), 0, "{name}: {}", err(&rejects));
        let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
        assert!(
            rejects.contains(",c4,input,loan_balance,") && rejects.contains(&format!("{}:", p(input))),
            "{rejects}"
        );
    }
    // An undeclared column stops the run, naming the column.
    std::fs::write(&csv, "month,customer_id,aum,loan_balanse\n2024-03,c1,1000000,6500000\n").unwrap();
    let store = d.join("typo.db");
    let o = cli(&[
        "run",
        "--month",
        "2024-03",
        "--rules",
        p(&rules),
        "--aum",
        p(&csv),
        "--store",
        p(&store),
        "--create-store",
    ]);
    assert_ne!(code(&o), 0);
    assert!(err(&o).contains("loan_balanse") && err(&o).contains("unknown column"), "{}", err(&o));
}
