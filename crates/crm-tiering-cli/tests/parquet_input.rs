//! Parquet input through the core's one reader of typed tables: the seeds of the
//! `parquet_input` fuzz target (valid files, a footer claiming 2^40 rows, a column chunk
//! larger than the file, truncated files, and the inputs the fuzzer found) read or refused as
//! a whole, never a panic nor an allocation of what a footer claims; the CLI names a damaged or
//! missing file; the type policy the CLI shares with Python.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use arrow_array::{ArrayRef, Decimal128Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use crm_tiering::RuleBook;
use crm_tiering::portfolio::arrow::{TableError, read_parquet};
use crm_tiering::portfolio::{Extract, TableKind};

const SEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/parquet_input");

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crm-tiering")).args(args).output().expect("the binary runs")
}

fn seed(name: &str) -> PathBuf {
    Path::new(SEEDS).join(name)
}

fn read(bytes: Vec<u8>) -> (Result<u64, TableError>, Extract) {
    let book = RuleBook::default_book().unwrap();
    let mut extract = Extract::new(&book);
    let result =
        read_parquet(&book, TableKind::Aum, "aum.parquet", bytes::Bytes::from(bytes), 1, &mut extract, |_, _| {});
    (result, extract)
}

/// Every seed reads or is refused as a whole (the fuzz target's check, without the fuzzer).
#[test]
fn every_seed_reads_or_is_refused() {
    let mut names: Vec<String> =
        std::fs::read_dir(SEEDS).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    for name in &names {
        let (result, extract) = read(std::fs::read(seed(name)).unwrap());
        match (name.as_str(), result) {
            ("valid.parquet", Ok(rows)) => {
                assert_eq!((rows, extract.rows().len()), (3, 2));
                // Row 3's month `2024/03` holds its customer, named.
                let held = extract.rejected().next().unwrap();
                assert_eq!(
                    (held.customer(), held.field(), held.record.as_ref().unwrap().row),
                    (Some("c3"), Some("month"), 3)
                );
            }
            ("components.parquet" | "fen.parquet" | "crash-embedded-arrow-schema.parquet", Ok(_)) => {}
            (n, Err(TableError::Data { table, message })) if n != "valid.parquet" => {
                assert_eq!(table, "aum.parquet");
                assert!(
                    message.starts_with("not a readable Parquet file") || message.starts_with("cannot read"),
                    "{n}: {message}"
                );
            }
            (n, other) => panic!("{n}: {other:?}"),
        }
    }
    let (huge, _) = read(std::fs::read(seed("huge-rows.parquet")).unwrap());
    let message = huge.unwrap_err().to_string();
    assert!(message.contains("the footer claims 1099511627776 rows, the data holds 3"), "{message}");
    let (chunk, _) = read(std::fs::read(seed("huge-chunk.parquet")).unwrap());
    assert!(matches!(chunk, Err(TableError::Data { .. })), "{chunk:?}");
}

/// The files the CLI aborted on (a 52 TB allocation) or panicked on are refused naming them.
#[test]
fn the_cli_names_a_damaged_or_missing_file() {
    let d = tempfile::tempdir().unwrap();
    for name in ["huge-rows.parquet", "huge-chunk.parquet", "truncated-half.parquet", "crash-definition-levels.parquet"]
    {
        let file = d.path().join(name);
        std::fs::copy(seed(name), &file).unwrap();
        let store = d.path().join(format!("{name}.db"));
        let o =
            cli(&["run", "--month", "2024-03", "--aum", file.to_str().unwrap(), "--store", store.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(&format!("error: {}: not a readable Parquet file", file.display())), "{name}: {err}");
    }
    let missing = d.path().join("nowhere").join("aum.parquet");
    let store = d.path().join("m.db");
    let o = cli(&["run", "--month", "2024-03", "--aum", missing.to_str().unwrap(), "--store", store.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}: cannot read the input file", missing.display())), "{err}");
}

fn parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// The type policy the CLI shares with Python: zone-less timestamps read as months; integer ids refused naming the file and the column; a month column of
/// something else stops the run.
#[test]
fn the_cli_reads_with_the_cores_type_policy() {
    let d = tempfile::tempdir().unwrap();
    let ids: ArrayRef = Arc::new(StringArray::from(vec!["c1", "c2"]));
    // 2024-03-31 23:00 and 2024-03-01 00:00, no zone.
    let stamps: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![1_711_926_000_000, 1_709_251_200_000]));
    // (Parquet has no negative decimal scale: the core reads Arrow's, tested in Python.)
    let thousands: ArrayRef =
        Arc::new(Decimal128Array::from(vec![25_000_000, 60_000_000]).with_precision_and_scale(20, 2).unwrap());
    let ok = d.path().join("ok.parquet");
    parquet(&ok, vec![("month", stamps), ("customer_id", ids.clone()), ("aum", thousands.clone())]);
    let o = cli(&[
        "run",
        "--month",
        "2024-03",
        "--aum",
        ok.to_str().unwrap(),
        "--store",
        d.path().join("ok.db").to_str().unwrap(),
        "--create-store",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("rejected"), "{err}");
    let int_ids: ArrayRef = Arc::new(Int64Array::from(vec![1234, 5678]));
    let bad = d.path().join("int-ids.parquet");
    parquet(&bad, vec![("customer_id", int_ids), ("aum", thousands.clone())]);
    let o = cli(&[
        "run",
        "--month",
        "2024-03",
        "--aum",
        bad.to_str().unwrap(),
        "--store",
        d.path().join("b.db").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("column `customer_id` holds integers (int64)") && err.contains("int-ids.parquet"), "{err}");
    let slashes: ArrayRef = Arc::new(StringArray::from(vec!["2024/03", "2024/03"]));
    let months = d.path().join("slashes.parquet");
    parquet(&months, vec![("月份", slashes), ("customer_id", ids), ("aum", thousands)]);
    let o = cli(&[
        "run",
        "--month",
        "2024-03",
        "--aum",
        months.to_str().unwrap(),
        "--store",
        d.path().join("s.db").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("column `月份` of table") && err.contains("holds no month"), "{err}");
}
