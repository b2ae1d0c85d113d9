//! `simulate --store`: sizing a rule change over the store's committed months (SPEC §15.9)
//! gives what sizing it over the files the months were committed from gives, checks its
//! baseline against the committed counts, and refuses months the store does not have.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{cli, code, err, month_csv, out, p};

const MONTHS: [&str; 3] = ["2024-01", "2024-02", "2024-03"];

/// Rule book B: the default book with gold from 260,000 instead of 200,000.
fn rules_b(dir: &Path) -> String {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/default-rules.toml")).unwrap();
    assert!(text.contains("min_aum = \"200000\""), "the default book's gold minimum moved");
    let path = dir.join("rules-b.toml");
    std::fs::write(&path, text.replacen("min_aum = \"200000\"", "min_aum = \"260000\"", 1)).unwrap();
    p(&path).to_string()
}

/// Three months of 400 customers and a designation file, committed to a new store.
fn committed_store(dir: &Path) -> (String, Vec<String>, String) {
    let store = p(&dir.join("crm-tiering.db")).to_string();
    let designations = dir.join("designations.csv");
    std::fs::write(&designations, "customer_id,month,action,tier,months\nc0000007,2024-02,grant,platinum,6\n").unwrap();
    let mut files = Vec::new();
    for (i, m) in MONTHS.iter().enumerate() {
        let file = dir.join(format!("{m}.csv"));
        month_csv(&file, m, 400, i as u32 + 1);
        files.push(p(&file).to_string());
        let mut args = vec!["run", "--month", m, "--aum", &files[i], "--store", &store, "--quiet"];
        if i == 0 {
            args.push("--create-store");
        }
        if *m == "2024-02" {
            args.extend(["--designations", p(&designations)]);
        }
        let o = cli(&args);
        assert_eq!(code(&o), 0, "{m}: {}", err(&o));
    }
    (store, files, p(&designations).to_string())
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn simulating_from_the_store_gives_what_simulating_from_its_files_gives() {
    let d = tempfile::tempdir().unwrap();
    let (store, files, designations) = committed_store(d.path());
    let b = rules_b(d.path());
    let from_store = d.path().join("from-store");
    let o =
        cli(&["simulate", "--store", &store, "--rules-b", &b, "--month", "2024-01..2024-03", "--out", p(&from_store)]);
    assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("counts.csv, changes.csv and baseline.csv written"), "{}", out(&o));
    // The baseline is what was committed: the file has its header only.
    assert_eq!(read(&from_store, "baseline.csv"), "month,tier,committed,replayed\n");

    let from_files = d.path().join("from-files");
    let rules_a = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/default-rules.toml");
    let mut args = vec!["simulate", "--rules-a", rules_a, "--rules-b", &b, "--month", "2024-01..2024-03"];
    args.extend(["--out", p(&from_files), "--designations", &designations, "--aum"]);
    args.extend(files.iter().map(String::as_str));
    let o = cli(&args);
    assert_eq!(code(&o), 0, "{}", err(&o));
    for name in ["counts.csv", "changes.csv"] {
        assert_eq!(read(&from_store, name), read(&from_files, name), "{name}");
    }
    assert!(read(&from_store, "changes.csv").lines().count() > 1, "rule book B moves someone");
    // c0000007's designation was replayed: platinum from March under both books.
    assert!(read(&from_store, "counts.csv").contains("2024-02,platinum,"), "{}", read(&from_store, "counts.csv"));
}

#[test]
fn a_baseline_that_is_not_what_was_committed_is_reported_with_exit_6() {
    let d = tempfile::tempdir().unwrap();
    let (store, _, _) = committed_store(d.path());
    let b = rules_b(d.path());
    let out_dir = d.path().join("sim");
    // Rules A is not the book the months were committed under: its replay of February and
    // March (from January's committed states) does not give the committed counts.
    let o = cli(&[
        "simulate",
        "--store",
        &store,
        "--rules-a",
        &b,
        "--rules-b",
        &b,
        "--month",
        "2024-02..2024-03",
        "--accept-rule-change",
        "--out",
        p(&out_dir),
    ]);
    assert_eq!(code(&o), 6, "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("note: 2024-02 was committed under another rule book"), "{}", err(&o));
    assert!(err(&o).contains("the baseline is not what was committed"), "{}", err(&o));
    let baseline = read(&out_dir, "baseline.csv");
    let rows: Vec<&str> = baseline.lines().skip(1).collect();
    assert!(!rows.is_empty(), "{baseline}");
    for row in rows {
        let f: Vec<&str> = row.split(',').collect();
        assert!(f[0] == "2024-02" || f[0] == "2024-03", "{row}");
        assert_ne!(f[2], f[3], "{row}");
    }
}

#[test]
fn months_the_store_does_not_have_are_refused_and_files_cannot_be_mixed_in() {
    let d = tempfile::tempdir().unwrap();
    let (store, files, _) = committed_store(d.path());
    let b = rules_b(d.path());
    let out_dir = d.path().join("sim");
    let o = cli(&["simulate", "--store", &store, "--rules-b", &b, "--month", "2024-03..2024-05", "--out", p(&out_dir)]);
    assert_eq!(code(&o), 2);
    assert!(err(&o).contains("2 of 2024-03..2024-05 are not committed in the store (2024-04, 2024-05)"), "{}", err(&o));
    assert!(!out_dir.exists(), "nothing is written");
    let o = cli(&[
        "simulate",
        "--store",
        &store,
        "--rules-b",
        &b,
        "--month",
        "2024-03",
        "--aum",
        &files[2],
        "--out",
        p(&out_dir),
    ]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("cannot be used with"), "{}", err(&o));
}
