//! `export --format parquet` of stored loan months (SPEC §21.11): the demo's loan book, eight
//! months classified into its store by `loans --store`, exported as CSV and as Parquet from
//! the same store; every Parquet table has the CSV file's columns, and its rows, read back
//! cell by cell, are the CSV file's rows (months, codes, day counts, flags, the expected loss
//! exactly). The core's types: months `date32`, codes dictionaries, the ratio a decimal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

mod common;

use std::path::Path;
use std::str::FromStr;

use arrow_array::{Array, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::DataType;
use common::{cli, code, err, out, p};
use crm_tiering::Decimal;

/// A decimal cell as its normalized text (`0.10` and `0.1000` alike are `0.1`).
fn normal(cell: &str) -> String {
    if cell.is_empty() { String::new() } else { Decimal::from_str(cell).unwrap().normalize().to_string() }
}

/// A Parquet file's header and rows as the CSV export writes them: months `YYYY-MM`, flags 1
/// or 0, decimals normalized, nulls empty.
fn parquet_rows(path: &Path) -> (String, Vec<String>, Vec<DataType>) {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
    let batches: Vec<RecordBatch> = reader.build().unwrap().map(Result::unwrap).collect();
    let schema = reader_schema(path);
    let header = schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(",");
    let types = schema.fields().iter().map(|f| f.data_type().clone()).collect();
    let mut rows = Vec::new();
    let options = FormatOptions::default();
    for b in &batches {
        let formatters: Vec<_> =
            b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap()).collect();
        for i in 0..b.num_rows() {
            let cells: Vec<String> = b
                .columns()
                .iter()
                .zip(&formatters)
                .map(|(c, f)| {
                    if c.is_null(i) {
                        return String::new();
                    }
                    let text = f.value(i).to_string();
                    match c.data_type() {
                        DataType::Date32 => text.get(..7).unwrap().to_string(),
                        DataType::Boolean => if text == "true" { "1" } else { "0" }.to_string(),
                        DataType::Decimal128(..) => normal(&text),
                        _ => text,
                    }
                })
                .collect();
            rows.push(cells.join(","));
        }
    }
    (header, rows, types)
}

fn reader_schema(path: &Path) -> arrow_schema::SchemaRef {
    let f = std::fs::File::open(path).unwrap();
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap().schema().clone()
}

/// A CSV file's header and rows, the `expected_loss` column normalized.
fn csv_rows(path: &Path) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let loss = header.split(',').position(|c| c == "expected_loss");
    let rows = lines
        .map(|l| {
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            if let Some(cell) = loss.and_then(|k| cells.get_mut(k)) {
                *cell = normal(cell);
            }
            cells.join(",")
        })
        .collect();
    (header, rows)
}

#[test]
fn the_demos_loan_months_export_as_parquet_with_the_csv_files_rows() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let o = cli(&["demo", "--out", p(&demo), "--customers", "1000", "--months", "8"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let store = demo.join("crm-tiering.db");
    let rules = demo.join("input/rules.toml");
    let months: Vec<String> = (1..=8).map(|m| format!("2023-{m:02}")).collect();
    for m in &months {
        let records = demo.join(format!("input/loans/{m}.csv"));
        let o = cli(&["loans", "--month", m, "--loans", p(&records), "--rules", p(&rules), "--store", p(&store)]);
        assert_eq!(code(&o), 0, "{m}: {}", err(&o));
    }
    let range = "2023-01..2023-08";
    let (csv, pq) = (dir.path().join("csv"), dir.path().join("parquet"));
    for (format, to) in [("csv", &csv), ("parquet", &pq)] {
        let o = cli(&["export", "--month", range, "--format", format, "--store", p(&store), "--out", p(to)]);
        assert_eq!(code(&o), 0, "{format}: {}", err(&o));
        assert!(!err(&o).contains("not in the Parquet files"), "{}", err(&o));
        if format == "parquet" {
            assert!(out(&o).contains("loan_signals.parquet: "), "{}", out(&o));
        }
    }
    let mut kinds = std::collections::BTreeSet::new();
    for table in ["loan_customers", "loan_results", "loan_signals"] {
        let (csv_header, csv) = csv_rows(&csv.join(format!("{table}.csv")));
        let (header, rows, types) = parquet_rows(&pq.join(format!("{table}.parquet")));
        assert_eq!(header, csv_header, "{table}: the CSV file's columns");
        assert!(csv.len() > 20, "{table}: the demo's months give rows ({})", csv.len());
        assert_eq!(rows, csv, "{table}: the CSV file's rows");
        assert_eq!(types.first(), Some(&DataType::Date32), "{table}: months are date32");
        assert!(types.iter().all(|t| !matches!(t, DataType::Float32 | DataType::Float64)), "{table}: {types:?}");
        if table == "loan_signals" {
            kinds.extend(rows.iter().filter_map(|r| r.split(',').nth(4).map(str::to_string)));
        }
    }
    // The demo's eight months reach past the overdue signal, so the tables are not one kind.
    assert!(kinds.len() >= 3, "{kinds:?}");
    let loss = reader_schema(&pq.join("loan_results.parquet"));
    assert_eq!(loss.field_with_name("expected_loss").unwrap().data_type(), &DataType::Decimal128(38, 28));
    // The months of the range only: a range of one month gives that month's rows.
    let one = dir.path().join("one");
    let o = cli(&["export", "--month", "2023-08", "--format", "parquet", "--store", p(&store), "--out", p(&one)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let (_, rows, _) = parquet_rows(&one.join("loan_customers.parquet"));
    let (_, all) = csv_rows(&csv.join("loan_customers.csv"));
    let august: Vec<String> = all.into_iter().filter(|r| r.starts_with("2023-08,")).collect();
    assert!(!august.is_empty());
    assert_eq!(rows, august);
}
