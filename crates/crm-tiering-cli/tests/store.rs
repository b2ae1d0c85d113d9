//! End-to-end tests of `run`, `demo`, `explain`, `history`, `export` and `import-states` over
//! the month-end store: real SQLite files, and PostgreSQL when `CRMT_TEST_POSTGRES_URL` is set
//! (`scripts/postgres-test-cluster.sh` starts a server).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Stores, bin, cli, code, err, month_csv, out, p};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{Array, ArrayRef, Decimal128Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use crm_tiering::portfolio::arrow::tables;

fn stores(name: &str) -> Stores {
    common::stores("crmt_cli", name)
}

/// The committed states of a month, as the checked states text.
fn states_text(store: &str, month: &str, dir: &Path) -> String {
    let o = cli(&["export", "--month", month, "--format", "jsonl", "--store", store, "--out", p(dir)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    std::fs::read_to_string(dir.join(format!("states-{month}.jsonl"))).unwrap()
}

#[test]
fn demo_into_a_store_then_explain_shows_the_history_across_months() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let o = cli(&["demo", "--out", p(&demo), "--customers", "3000", "--months", "8"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let db = demo.join("crm-tiering.db");
    // A customer whose watch started before the last month: its story must show that
    // month's event, committed by an earlier month's run.
    let x = dir.path().join("x");
    let o = cli(&["export", "--month", "2023-01..2023-08", "--format", "jsonl", "--store", p(&db), "--out", p(&x)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let events = std::fs::read_to_string(x.join("events.jsonl")).unwrap();
    let watch: serde_json::Value = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["kind"] == "watch_started" && e["month"].as_str() < Some("2023-06"))
        .expect("a watch started in the first months");
    let id = watch["customer_id"].as_str().unwrap();
    let month = watch["month"].as_str().unwrap();
    let o = cli(&["explain", "--customer", id, "--store", p(&db)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let story = out(&o);
    assert!(story.contains("8 committed month(s), 2023-01 to 2023-08"), "{story}");
    assert!(story.contains(&format!("{month}: watch started")), "{story}");
    assert!(story.contains("进入关注"), "{story}");
    let o = cli(&["history", "--store", p(&db), "--json"]);
    let runs: Vec<serde_json::Value> = out(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(runs.len(), 8);
    for r in &runs {
        assert_eq!(r["status"], "committed");
        assert_eq!(r["tool_version"], format!("crm-tiering {}", env!("CARGO_PKG_VERSION")));
        assert_eq!(r["inputs"][0]["role"], "aum");
        assert_eq!(r["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
        assert!(r["inputs"][0]["rows"].as_u64().unwrap() > 10_000);
        assert!(r["counts"]["states"].as_u64().unwrap() > 2000);
    }
}

#[test]
fn rerun_is_refused_without_the_flag_and_replaces_the_month_with_it() {
    let s = stores("rerun");
    let d = s.dir.path();
    month_csv(&d.join("jan.csv"), "2024-01", 300, 1);
    month_csv(&d.join("feb.csv"), "2024-02", 300, 2);
    month_csv(&d.join("feb2.csv"), "2024-02", 300, 3);
    for store in &s.locations {
        let run = |file: &str, month: &str, extra: &[&str]| {
            let mut a = vec!["run", "--month", month, "--aum", file, "--store", store.as_str(), "--quiet"];
            a.extend(extra);
            cli(&a)
        };
        // No store yet: `run` makes none without being asked.
        let o = run(p(&d.join("jan.csv")), "2024-01", &[]);
        assert_eq!(code(&o), 2, "{}", err(&o));
        assert!(err(&o).contains("crm-tiering init --store"), "{}", err(&o));
        assert!(err(&o).contains("--create-store"), "{}", err(&o));
        let o = run(p(&d.join("jan.csv")), "2024-01", &["--create-store"]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(err(&o).contains("created the store"), "{}", err(&o));
        let o = run(p(&d.join("feb.csv")), "2024-02", &[]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let before = states_text(store, "2024-02", &d.join("b"));
        let o = run(p(&d.join("feb2.csv")), "2024-02", &[]);
        assert_eq!(code(&o), 8, "{}", err(&o));
        assert!(err(&o).contains("month 2024-02 is already committed"), "{}", err(&o));
        assert!(err(&o).contains("--rerun"), "{}", err(&o));
        assert_eq!(states_text(store, "2024-02", &d.join("c")), before, "unchanged");
        // A month before the latest committed one: out of order, exit 8.
        let o = run(p(&d.join("jan.csv")), "2024-01", &["--rerun"]);
        assert_eq!(code(&o), 8, "{}", err(&o));
        let o = run(p(&d.join("feb2.csv")), "2024-02", &["--rerun"]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let after = states_text(store, "2024-02", &d.join("e"));
        assert_ne!(after, before, "replaced");
        let o = cli(&["history", "--store", store]);
        let h = out(&o);
        assert!(h.contains("run 2 month 2024-02 replaced"), "{h}");
        assert!(h.contains("month 2024-02 committed (rerun)"), "{h}");
        assert!(h.contains(&format!("input aum {} (300 rows", p(&d.join("feb2.csv")))), "{h}");
        for sub in ["b", "c", "e"] {
            let _ = std::fs::remove_dir_all(d.join(sub));
        }
        // A new store for the next backend: the SQLite file stays where it is.
    }
}

#[test]
fn two_concurrent_runs_one_commits_the_other_exits_7() {
    let s = stores("lock");
    let d = s.dir.path();
    month_csv(&d.join("big.csv"), "2024-01", 300_000, 1);
    month_csv(&d.join("small.csv"), "2024-01", 3, 1);
    for store in &s.locations {
        let a = bin()
            .args([
                "run",
                "--create-store",
                "--month",
                "2024-01",
                "--aum",
                p(&d.join("big.csv")),
                "--store",
                store,
                "--quiet",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until A holds the lock (its audit row is `running`).
        let start = Instant::now();
        loop {
            let o = cli(&["history", "--store", store, "--json"]);
            if out(&o).contains("\"status\":\"running\"") {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(120), "A never took the lock: {}", err(&o));
            std::thread::sleep(Duration::from_millis(20));
        }
        let b = cli(&["run", "--month", "2024-01", "--aum", p(&d.join("small.csv")), "--store", store]);
        let a = a.wait_with_output().unwrap();
        assert_eq!(code(&a), 0, "{}", err(&a));
        assert_eq!(code(&b), 7, "{}", err(&b));
        assert!(err(&b).contains("another run holds the store lock since"), "{}", err(&b));
        assert!(err(&b).contains("nothing was written"), "{}", err(&b));
        let o = cli(&["history", "--store", store, "--json"]);
        let h = out(&o);
        assert_eq!(h.lines().count(), 1, "the refused run leaves no row: {h}");
        assert!(h.contains("\"states\":300000"), "{h}");
    }
}

#[test]
fn a_read_only_store_is_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    month_csv(&d.join("jan.csv"), "2024-01", 50, 1);
    month_csv(&d.join("feb.csv"), "2024-02", 50, 2);
    let db = d.join("ro.db");
    let o = cli(&["run", "--create-store", "--month", "2024-01", "--aum", p(&d.join("jan.csv")), "--store", p(&db)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let before = std::fs::read(&db).unwrap();
    let mut perm = std::fs::metadata(&db).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(&db, perm).unwrap();
    let o = cli(&["run", "--month", "2024-02", "--aum", p(&d.join("feb.csv")), "--store", p(&db)]);
    assert_eq!(code(&o), 9, "{}", err(&o));
    assert!(err(&o).contains("read-only"), "{}", err(&o));
    assert_eq!(std::fs::read(&db).unwrap(), before, "unchanged");
}

/// Mounts a small tmpfs (CI runs as root); none when not permitted.
fn small_tmpfs(dir: &Path) -> Option<PathBuf> {
    let m = dir.join("small");
    std::fs::create_dir_all(&m).ok()?;
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs", p(&m)])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(m)
}

#[test]
fn a_full_disk_fails_cleanly_and_keeps_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some(small) = small_tmpfs(d) else {
        println!("notice: cannot mount a tmpfs here (not root?): the full-disk test is skipped");
        return;
    };
    month_csv(&d.join("jan.csv"), "2024-01", 100, 1);
    month_csv(&d.join("feb.csv"), "2024-02", 80_000, 2);
    let db = small.join("crm-tiering.db");
    let o = cli(&["run", "--create-store", "--month", "2024-01", "--aum", p(&d.join("jan.csv")), "--store", p(&db)]);
    let result = std::panic::catch_unwind(|| {
        assert_eq!(code(&o), 0, "{}", err(&o));
        let before = states_text(p(&db), "2024-01", &d.join("a"));
        let o = cli(&["run", "--month", "2024-02", "--aum", p(&d.join("feb.csv")), "--store", p(&db)]);
        assert_eq!(code(&o), 1, "{}", err(&o));
        let e = err(&o).to_lowercase();
        assert!(e.contains("full") || e.contains("space"), "{e}");
        assert_eq!(states_text(p(&db), "2024-01", &d.join("b")), before, "the store holds what it held");
        let o = cli(&["history", "--store", p(&db)]);
        assert!(!out(&o).contains("month 2024-02 committed"), "{}", out(&o));
    });
    let _ = Command::new("umount").arg(&small).status();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn a_killed_run_leaves_the_previous_or_the_complete_month() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let n = 30_000;
    // A month for each round and the final run, should every kill come after its commit.
    for k in 1..=8u32 {
        let m = format!("2024-{k:02}");
        month_csv(&d.join(format!("{m}.csv")), &m, n, k);
    }
    let db = d.join("kill.db");
    let clock = Instant::now();
    let o =
        cli(&["run", "--create-store", "--month", "2024-01", "--aum", p(&d.join("2024-01.csv")), "--store", p(&db)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    // Kills spread over a whole run (reading, evaluating, writing, committing) and a little past.
    let run_ms = clock.elapsed().as_millis() as u64;
    let mut next = 2u32;
    let mut seed = 0x5eed_u64;
    for round in 0..6 {
        let month = format!("2024-{next:02}");
        let mut child = bin()
            .args(["run", "--month", &month, "--aum", p(&d.join(format!("{month}.csv"))), "--store", p(&db), "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let wait = (seed >> 33) % (run_ms * 6 / 5 + 1);
        std::thread::sleep(Duration::from_millis(wait));
        let _ = Command::new("kill").args(["-9", &child.id().to_string()]).status();
        let status = child.wait().unwrap();
        let o = cli(&["history", "--store", p(&db), "--json"]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let runs: Vec<serde_json::Value> = out(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let committed: Vec<&serde_json::Value> = runs.iter().filter(|r| r["status"] == "committed").collect();
        let last = committed.last().unwrap();
        let latest = last["month"].as_str().unwrap().to_string();
        println!("round {round}: killed after {wait} ms ({status}); latest committed {latest}");
        assert!(latest == month || latest == format!("2024-{:02}", next - 1), "{latest}");
        assert_eq!(last["counts"]["states"], n, "the month is complete");
        let text = states_text(p(&db), &latest, &d.join(format!("x{round}")));
        assert!(text.lines().count() == n as usize + 2, "complete states");
        // Nothing but the store (and SQLite's own WAL files) beside it.
        for e in std::fs::read_dir(d).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                name.ends_with(".csv") || name.starts_with("kill.db") || name.starts_with('x'),
                "left behind: {name}"
            );
        }
        if latest == month {
            next += 1;
        }
    }
    // The next run succeeds.
    let month = format!("2024-{next:02}");
    let o = cli(&["run", "--month", &month, "--aum", p(&d.join(format!("{month}.csv"))), "--store", p(&db)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
}

fn parquet_file(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let fields: Vec<Field> = columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.1).collect()).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn parquet_input_decimal_text_and_fen_columns_and_floats_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let months = || -> ArrayRef { Arc::new(StringArray::from(vec!["2024-03", "2024-03", "2024-03"])) };
    let ids = || -> ArrayRef { Arc::new(StringArray::from(vec!["c1", "c2", "c3"])) };
    let csv = d.join("aum.csv");
    std::fs::write(&csv, "month,customer_id,aum\n2024-03,c1,250000.50\n2024-03,c2,1200000\n2024-03,c3,199999.99\n")
        .unwrap();
    let dec =
        Decimal128Array::from(vec![25_000_050i128, 120_000_000, 19_999_999]).with_precision_and_scale(20, 2).unwrap();
    parquet_file(&d.join("dec.parquet"), vec![("month", months()), ("customer_id", ids()), ("aum", Arc::new(dec))]);
    parquet_file(
        &d.join("fen.parquet"),
        vec![
            ("month", months()),
            ("customer_id", ids()),
            ("aum_fen", Arc::new(Int64Array::from(vec![25_000_050i64, 120_000_000, 19_999_999]))),
        ],
    );
    let text: ArrayRef = Arc::new(StringArray::from(vec!["250000.50", "1200000", "199999.99"]));
    parquet_file(&d.join("text.parquet"), vec![("month", months()), ("customer_id", ids()), ("aum", text)]);
    let mut expected = None;
    for file in ["aum.csv", "dec.parquet", "fen.parquet", "text.parquet"] {
        let db = d.join(format!("{file}.db"));
        let o = cli(&[
            "run",
            "--create-store",
            "--month",
            "2024-03",
            "--aum",
            p(&d.join(file)),
            "--store",
            p(&db),
            "--quiet",
        ]);
        assert_eq!(code(&o), 0, "{file}: {}", err(&o));
        let x = d.join(format!("{file}.x"));
        let states = states_text(p(&db), "2024-03", &x);
        let events = std::fs::read_to_string(x.join("events.jsonl")).unwrap();
        match &expected {
            None => expected = Some((states, events)),
            Some(e) => assert_eq!(e, &(states, events), "{file} gives what the CSV gives"),
        }
        let o = cli(&["history", "--store", p(&db), "--json"]);
        assert!(out(&o).contains("\"rows\":3"), "{}", out(&o));
    }
    // Floats refused, with the message of the rest of the tool; integers without `_fen` too.
    parquet_file(
        &d.join("float.parquet"),
        vec![("month", months()), ("customer_id", ids()), ("aum", Arc::new(Float64Array::from(vec![1.5, 2.0, 3.0])))],
    );
    let o = cli(&[
        "run",
        "--create-store",
        "--month",
        "2024-03",
        "--aum",
        p(&d.join("float.parquet")),
        "--store",
        p(&d.join("f.db")),
    ]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    assert!(err(&o).contains("binary floating-point") && err(&o).contains("write it as a decimal"), "{}", err(&o));
    assert!(err(&o).contains("nothing was written"), "{}", err(&o));
    parquet_file(
        &d.join("int.parquet"),
        vec![("month", months()), ("customer_id", ids()), ("aum", Arc::new(Int64Array::from(vec![1, 2, 3])))],
    );
    let o = cli(&[
        "run",
        "--create-store",
        "--month",
        "2024-03",
        "--aum",
        p(&d.join("int.parquet")),
        "--store",
        p(&d.join("i.db")),
    ]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    assert!(err(&o).contains("aum_fen"), "{}", err(&o));
}

#[test]
fn export_parquet_and_csv_equal_the_store_and_import_states_round_trips() {
    let s = stores("export");
    let d = s.dir.path();
    let aum = d.join("aum.csv");
    let mut text = String::from("month,customer_id,legal_entity,aum\n");
    for m in ["2024-01", "2024-02", "2024-03"] {
        for i in 0..200u32 {
            let a = 100_000 + (i * 2_731 + m.len() as u32 * 17) % 900_000;
            let _ = writeln!(text, "{m},=c{i:04},兰州{i},{a}.{:02}", i % 100);
        }
    }
    std::fs::write(&aum, text).unwrap();
    for store in &s.locations {
        let o = cli(&[
            "run",
            "--create-store",
            "--month",
            "2024-01..2024-03",
            "--aum",
            p(&aum),
            "--store",
            store,
            "--quiet",
        ]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let px = d.join("px");
        let cx = d.join("cx");
        let o =
            cli(&["export", "--month", "2024-01..2024-03", "--format", "parquet", "--store", store, "--out", p(&px)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let o = cli(&[
            "export",
            "--month",
            "2024-01..2024-03",
            "--format",
            "csv",
            "--bom",
            "--store",
            store,
            "--out",
            p(&cx),
        ]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let csv = std::fs::read_to_string(cx.join("states.csv")).unwrap();
        assert!(csv.starts_with("\u{feff}month,customer_id,"), "BOM then the header");
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(rows.len(), 600);
        assert!(rows[0].starts_with("2024-01,'=c0000,兰州0,personal,true,true,"), "{}", rows[0]);
        // The Parquet tables: the core's schemas, and row for row the CSV's values.
        assert_eq!(parquet_equals_csv(&px, &cx), 600);
        let (header, _) = parquet_table(&px.join("states.parquet"));
        assert_eq!(header.field_with_name("month").unwrap().data_type(), &DataType::Date32);
        assert!(csv.lines().skip(1).all(|l| l.ends_with(",")), "no history kept: the last cell is empty");
        // The checked states text round-trips through import-states into a new store.
        let jx = d.join("jx");
        let states = states_text(store, "2024-03", &jx);
        let other = d.join("imported.db");
        let o = cli(&["import-states", p(&jx.join("states-2024-03.jsonl")), "--store", p(&other), "--create-store"]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(out(&o).contains("as the states after 2024-03 (run 1)"), "{}", out(&o));
        assert_eq!(states_text(p(&other), "2024-03", &d.join("jy")), states);
        let o = cli(&["history", "--store", p(&other)]);
        assert!(out(&o).contains("input states"), "{}", out(&o));
        for sub in ["px", "cx", "jx", "jy", "imported.db"] {
            let _ = std::fs::remove_dir_all(d.join(sub));
            let _ = std::fs::remove_file(d.join(sub));
        }
    }
}

/// Asserts that each Parquet table of `px` has the core's schema and, row for row, the values
/// of the CSV table of `cx`; returns the states' rows.
fn parquet_equals_csv(px: &Path, cx: &Path) -> usize {
    let mut states = 0;
    for (t, schema, extra) in [
        ("states", tables::states_schema(), &["status_zh", "is_vip"][..]),
        ("events", tables::events_schema(), &["tier"][..]),
        ("alerts", tables::alerts_schema(), &[][..]),
        ("rejects", tables::rejects_schema(), &[][..]),
    ] {
        let csv = std::fs::read_to_string(cx.join(format!("{t}.csv"))).unwrap();
        let csv = csv.trim_start_matches('\u{feff}');
        let (header, batches) = parquet_table(&px.join(format!("{t}.parquet")));
        assert_eq!(header.fields(), schema.fields(), "{t}: the core's schema");
        let as_csv = parquet_as_csv(&batches, csv.lines().next().unwrap(), extra);
        assert_eq!(as_csv.len(), csv.lines().count() - 1, "{t}: rows");
        for (got, want) in as_csv.iter().zip(csv.lines().skip(1)) {
            assert_eq!(got, want, "{t}");
        }
        if t == "states" {
            states = as_csv.len();
        }
    }
    states
}

const CITIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/gallery/citic-private.toml");

/// A book with windows (the 中信 gallery book: 私人银行 by `prev_quarter`, SPEC §19.2) over four
/// months: the `history` cell of each exported state, in CSV and in Parquet, is the `history`
/// member of the customer's line of the checked states text (SPEC §15.10, §19.5).
#[test]
fn export_of_a_book_with_windows_carries_each_history_in_csv_and_parquet() {
    let s = stores("export_windows");
    let d = s.dir.path();
    let aum = d.join("aum.csv");
    let mut text = String::from("month,customer_id,aum\n");
    for (k, m) in ["2024-01", "2024-02", "2024-03", "2024-04"].iter().enumerate() {
        for i in 0..40u32 {
            // Every seventh customer lacks February; the amounts straddle 私人银行's 6,000,000.
            if k == 1 && i % 7 == 0 {
                continue;
            }
            let a = 4_000_000 + (i * 104_729 + k as u32 * 7_919) % 4_000_000;
            let _ = writeln!(text, "{m},w{i:03},{a}.{:02}", (i + k as u32) % 100);
        }
    }
    std::fs::write(&aum, text).unwrap();
    for store in &s.locations {
        let range = "2024-01..2024-04";
        let o = cli(&["run", "--rules", CITIC, "--create-store", "--month", range, "--aum", p(&aum), "--store", store]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let (px, cx) = (d.join("wpx"), d.join("wcx"));
        for (format, dir) in [("parquet", &px), ("csv", &cx)] {
            let o =
                cli(&["export", "--month", "2024-03..2024-04", "--format", format, "--store", store, "--out", p(dir)]);
            assert_eq!(code(&o), 0, "{}", err(&o));
        }
        assert_eq!(parquet_equals_csv(&px, &cx), 80);
        let (_, batches) = parquet_table(&px.join("states.parquet"));
        let csv = std::fs::read_to_string(cx.join("states.csv")).unwrap();
        let mut lines = csv.lines().skip(1);
        // Each month's states text, by customer.
        let mut texts = std::collections::HashMap::new();
        for m in ["2024-03", "2024-04"] {
            let text = states_text(store, m, &d.join(format!("wj-{m}")));
            for l in text.lines() {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                if let Some(id) = v["customer_id"].as_str() {
                    texts.insert((m.to_string(), id.to_string()), v);
                }
            }
        }
        let mut kept = 0;
        for b in &batches {
            let ids = b.column_by_name("customer_id").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
            let history = b.column_by_name("history").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
            let months = b.column_by_name("month").unwrap();
            let months = arrow_cast::display::ArrayFormatter::try_new(months.as_ref(), &Default::default()).unwrap();
            for row in 0..b.num_rows() {
                let (id, month) = (ids.value(row), months.value(row).to_string());
                let month = month.strip_suffix("-01").unwrap();
                let member = &texts[&(month.to_string(), id.to_string())]["history"];
                assert!(!member.is_null(), "{month} {id}: a customer of a book with windows keeps a history");
                assert!(!history.is_null(row), "{month} {id}: the history cell");
                assert_eq!(history.value(row), member.to_string(), "{month} {id}: the states text's history");
                let csv_line = lines.next().unwrap();
                assert!(csv_line.ends_with(&format!(",{}", csv_field(history.value(row)))), "{csv_line}");
                kept += 1;
            }
        }
        assert_eq!(kept, 80);
        for sub in ["wpx", "wcx", "wj-2024-03", "wj-2024-04"] {
            let _ = std::fs::remove_dir_all(d.join(sub));
        }
    }
}

/// A Parquet file's Arrow schema (as stored with it) and batches.
fn parquet_table(path: &Path) -> (arrow_schema::SchemaRef, Vec<RecordBatch>) {
    let f = std::fs::File::open(path).unwrap();
    let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
    let schema = b.schema().clone();
    (schema, b.build().unwrap().map(|b| b.unwrap()).collect())
}

/// The CSV export's quoting of a text cell (`text::csv_field`): formulas neutralised.
fn csv_field(value: &str) -> String {
    let formula = value.starts_with(['=', '+', '-', '@']);
    let mark = if formula { "'" } else { "" };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{mark}{}\"", value.replace('"', "\"\""))
    } else {
        format!("{mark}{value}")
    }
}

/// Parquet rows written as the CSV export writes them, column by column of the CSV `header`:
/// months (`date32`) as `YYYY-MM`, everything else as Arrow displays it. The Parquet columns
/// the CSV does not have must be exactly `extra`.
fn parquet_as_csv(batches: &[RecordBatch], header: &str, extra: &[&str]) -> Vec<String> {
    use arrow_cast::display::{ArrayFormatter, FormatOptions};
    let names: Vec<&str> = header.split(',').collect();
    let mut lines = Vec::new();
    for b in batches {
        let schema = b.schema();
        let others: Vec<&str> =
            schema.fields().iter().map(|f| f.name().as_str()).filter(|n| !names.contains(n)).collect();
        assert_eq!(others, extra);
        let options = FormatOptions::default();
        let cols: Vec<(bool, ArrayFormatter)> = names
            .iter()
            .map(|n| {
                let a = b.column_by_name(n).unwrap_or_else(|| panic!("no column {n} in the Parquet file"));
                (a.data_type() == &DataType::Date32, ArrayFormatter::try_new(a.as_ref(), &options).unwrap())
            })
            .collect();
        for row in 0..b.num_rows() {
            let cells: Vec<String> = cols
                .iter()
                .zip(&names)
                .map(|((month, f), n)| {
                    let text = f.value(row).to_string();
                    if *month && !text.is_empty() {
                        let m = text.strip_suffix("-01").unwrap_or_else(|| panic!("{n}: {text} is not a first day"));
                        m.to_string()
                    } else if text.is_empty() {
                        text
                    } else {
                        csv_field(&text)
                    }
                })
                .collect();
            lines.push(cells.join(","));
        }
    }
    lines
}

/// The libpq environment, given to the binary only (the test process's own is left alone):
/// PGPASSWORD, PGPASSFILE and `~/.pgpass` for a role that must give a password, PGSSLMODE and
/// PGSSLROOTCERT for TLS; a failed connection exits 1 as before, no password shown.
#[test]
fn the_libpq_environment_gives_the_password_and_the_tls_checks() {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(admin), Some(ca), Some(other), Some(group)) = (
        var("CRMT_TEST_POSTGRES_URL"),
        var("CRMT_TEST_POSTGRES_CA"),
        var("CRMT_TEST_POSTGRES_OTHER_CA"),
        var("CRMT_TEST_POSTGRES_PASSWORD_GROUP"),
    ) else {
        println!(
            "notice: CRMT_TEST_POSTGRES_URL, _CA, _OTHER_CA or _PASSWORD_GROUP is not set: the libpq environment \
             test is skipped (scripts/postgres-test-cluster.sh sets them)"
        );
        return;
    };
    let s = stores("libpq_env");
    let (url, db) = (s.locations[1].clone(), s.pg.as_ref().unwrap().1.clone());
    let (secret, wrong) = ("Cli-Env-S3cret", "Wr0ng-Cli-Passw0rd");
    let role = format!("crmt_pw_cli_{}", std::process::id());
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD '{secret}' IN ROLE {group}; \
         ALTER DATABASE {db} OWNER TO {role}"
    ))
    .unwrap();
    let user = url.split_once("://").unwrap().1.split_once('@').unwrap().0.to_string();
    let as_role = url.replacen(&format!("{user}@"), &format!("{role}@"), 1);
    let home = s.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = bin();
        for k in ["PGPASSWORD", "PGPASSFILE", "PGSSLMODE", "PGSSLROOTCERT", "PGUSER"] {
            cmd.env_remove(k);
        }
        // No ~/.pgpass nor ~/.postgresql of the machine's.
        cmd.env("HOME", &home).envs(env.iter().copied()).args(args).output().unwrap()
    };
    let pgpass = |path: &Path, text: &str, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let history = ["history", "--store", as_role.as_str()];
    let refused = |o: &std::process::Output, reason: &str| {
        assert_eq!(code(o), 1, "{}", err(o));
        assert!(err(o).contains(reason), "`{reason}` not in: {}", err(o));
        for text in [err(o), out(o)] {
            assert!(!text.contains(secret) && !text.contains(wrong), "a password in: {text}");
        }
    };

    // PGPASSWORD.
    let o = run(&["init", "--store", &as_role], &[("PGPASSWORD", secret)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    refused(&run(&history, &[]), "password");
    // PGPASSFILE, then ~/.pgpass; PGPASSWORD comes first.
    let file = s.dir.path().join("pgpass");
    pgpass(&file, &format!("127.0.0.1:*:{db}:{role}:{secret}\n"), 0o600);
    let o = run(&history, &[("PGPASSFILE", p(&file))]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    refused(&run(&history, &[("PGPASSFILE", p(&file)), ("PGPASSWORD", wrong)]), "password authentication failed");
    pgpass(&home.join(".pgpass"), &format!("*:*:*:{role}:{secret}\n"), 0o600);
    let o = run(&history, &[]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    // A password file the group or others may read is ignored, and the error says so.
    pgpass(&home.join(".pgpass"), &format!("*:*:*:{role}:{secret}\n"), 0o644);
    refused(&run(&history, &[]), "chmod 0600");
    pgpass(&home.join(".pgpass"), &format!("*:*:*:{role}:{secret}\n"), 0o600);

    // PGSSLMODE and PGSSLROOTCERT; the location's sslmode comes first.
    let (ca, other) = (ca.as_str(), other.as_str());
    let o = run(&history, &tls("verify-full", ca));
    assert_eq!(code(&o), 0, "{}", err(&o));
    refused(&run(&history, &tls("verify-full", other)), "certificate verify failed");
    refused(&run(&history, &tls("verify-ca", "/nonexistent/ca.pem")), "/nonexistent/ca.pem does not exist");
    let o = run(&["history", "--store", &format!("{as_role}?sslmode=disable")], &tls("verify-full", other));
    assert_eq!(code(&o), 0, "{}", err(&o));
    let o = run(&history, &[("PGSSLMODE", "require")]);
    assert_eq!(code(&o), 0, "{}", err(&o));

    drop(s);
    let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {role}"));
}

/// PGSSLMODE and PGSSLROOTCERT.
fn tls<'a>(mode: &'a str, root: &'a str) -> [(&'a str, &'a str); 2] {
    [("PGSSLMODE", mode), ("PGSSLROOTCERT", root)]
}
