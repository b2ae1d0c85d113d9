//! `crm-tiering loans` end to end (SPEC §21): the regulatory floor at its boundary days (90 vs
//! 91, 270 vs 271, 360 vs 361), the signals, the states carried from one month to the next,
//! the settings of the rule book's `[loans]` table, and bad records listed with nothing written.
//! The expected classes come from SPEC §21.2's table, not from a run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

mod common;

use std::path::Path;

use common::{cli, code, err, out, p};

const HEADER: &str =
    "customer_id,loan_id,month,principal_overdue_days,interest_overdue_days,bank_class,repayment_due\n";

fn write(dir: &Path, name: &str, rows: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{HEADER}{rows}")).unwrap();
    p(&path).to_string()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The (customer, worst class) pairs of customers.csv.
fn worst(dir: &Path) -> Vec<(String, String)> {
    read(dir, "customers.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[1].to_string(), c[3].to_string())
        })
        .collect()
}

#[test]
fn floors_at_the_boundary_days_and_the_state_carries_over() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The larger of principal and interest overdue days decides (SPEC §21.2).
    let march = write(
        d,
        "march.csv",
        "b90,L1,2024-03,90,0,关注,true\nb91,L1,2024-03,0,91,关注,true\n\
         b270,L1,2024-03,270,0,次级,true\nb271,L1,2024-03,271,0,次级,true\n\
         b360,L1,2024-03,360,0,可疑,true\nb361,L1,2024-03,361,0,可疑,true\nok,L1,2024-03,0,0,1,true\n",
    );
    let o1 = d.join("o1");
    let o = cli(&["loans", "--month", "2024-03", "--loans", &march, "--out", p(&o1)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let want = [
        ("b270", "substandard"),
        ("b271", "doubtful"),
        ("b360", "doubtful"),
        ("b361", "loss"),
        ("b90", "special_mention"),
        ("b91", "substandard"),
        ("ok", "normal"),
    ];
    let want: Vec<(String, String)> = want.iter().map(|(a, b)| ((*a).to_string(), (*b).to_string())).collect();
    assert_eq!(worst(&o1), want);
    let signals = read(&o1, "signals.csv");
    assert!(signals.contains("2024-03,b90,L1,2202,approaching_non_performing,临近不良,90,90,"), "{signals}");
    assert!(
        signals.contains("2024-03,b91,L1,2203,non_performing,不良贷款,91,90,substandard,special_mention,substandard"),
        "{signals}"
    );
    assert!(signals.contains("2024-03,b91,L1,2204,bank_class_kinder_than_floor"), "{signals}");
    assert!(!signals.contains(",ok,"), "a clean loan gives no signal: {signals}");
    assert!(out(&o).contains("7 customers, 7 loans, 5 with a non-performing loan"), "{}", out(&o));

    // April from March's states: b91 is clean, but an upgrade out of non-performing waits for
    // the clean window (6 months and 2 periods by default): held at 次级, with its signal; a
    // customer with March loans and no April record closes them; a month that skips one is
    // refused for the customers whose state has loans.
    let april = write(d, "april.csv", "b91,L1,2024-04,0,0,关注,true\n");
    let o2 = d.join("o2");
    let states = o1.join("loan-states.jsonl");
    let o = cli(&["loans", "--month", "2024-04", "--loans", &april, "--states", p(&states), "--out", p(&o2)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let signals = read(&o2, "signals.csv");
    assert!(signals.contains("2024-04,b91,L1,2205,upgrade_held_by_clean_window,不良上调观察期未满,0,,normal,special_mention,substandard,1,1"), "{signals}");
    assert!(read(&o2, "customers.csv").contains("2024-04,b90,0,,,,0"), "{}", read(&o2, "customers.csv"));
    let may = write(d, "may.csv", "b91,L1,2024-05,0,0,关注,true\n");
    let o = cli(&["loans", "--month", "2024-05", "--loans", &may, "--states", p(&states), "--out", p(&d.join("o3"))]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    assert!(err(&o).contains("customer `b91`") && err(&o).contains("2024-03"), "{}", err(&o));
    assert!(!d.join("o3").exists(), "nothing written");
}

#[test]
fn the_rule_books_loans_table_sets_the_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rules = d.join("rules.toml");
    let book =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/default-rules.toml")).unwrap();
    std::fs::write(&rules, format!("{book}\n[loans]\nsubstandard_after_days = 60\napproaching_days = 10\n")).unwrap();
    let month = write(d, "m.csv", "a,L1,2024-03,60,0,关注,false\nb,L1,2024-03,61,0,关注,false\n");
    let o = cli(&["loans", "--month", "2024-03", "--loans", &month, "--rules", p(&rules), "--out", p(&d.join("o"))]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(
        worst(&d.join("o")),
        [("a".to_string(), "special_mention".to_string()), ("b".to_string(), "substandard".to_string())]
    );
}

#[test]
fn bad_records_are_listed_with_their_line_and_field_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let month = write(
        d,
        "m.csv",
        "c1,L1,2024-03,-1,0,关注,true\nc2,L1,2024-04,5,0,正常,true\nc3,L1,2024-03,5,0,好,true\nc4,L1,2024-03,5,0,正常,true\n",
    );
    let o = cli(&["loans", "--month", "2024-03", "--loans", &month, "--out", p(&d.join("o"))]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    let e = err(&o);
    assert!(e.contains("m.csv line 2") && e.contains("principal_overdue_days") && e.contains("negative"), "{e}");
    assert!(e.contains("m.csv line 3") && e.contains("field `month`"), "{e}");
    assert!(e.contains("m.csv line 4") && e.contains("bank_class") && e.contains("好"), "{e}");
    assert!(e.contains("3 customer(s) cannot be classified; nothing was written"), "{e}");
    assert!(!d.join("o").exists());
    let cells = write(d, "cells.csv", "c1,L1,2024-03,1.5,0,关注,true\nc2,L1,2024-03,0,0,正常,maybe\n");
    let o = cli(&["loans", "--month", "2024-03", "--loans", &cells, "--out", p(&d.join("o"))]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    assert!(err(&o).contains("cells.csv line 2: field `principal_overdue_days`: `1.5`"), "{}", err(&o));
    assert!(err(&o).contains("cells.csv line 3: field `repayment_due`: `maybe`"), "{}", err(&o));
}

/// SPEC §21.9, decision 52: a loan given twice is named by its first record's line, a bad
/// record of a loan given twice by its own line.
#[test]
fn a_loan_given_twice_names_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let month = write(
        d,
        "twice.csv",
        "c1,L1,2024-03,0,0,正常,true\nc1,L1,2024-03,0,0,正常,true\nc2,L2,2024-03,0,0,正常,true\nc2,L2,2024-03,-3,0,正常,true\n",
    );
    let o = cli(&["loans", "--month", "2024-03", "--loans", &month, "--out", p(&d.join("o"))]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains("twice.csv line 2: invalid loan record for customer `c1`, loan `L1`") && e.contains("two records"),
        "{e}"
    );
    assert!(
        e.contains("twice.csv line 5: invalid loan record for customer `c2`, loan `L2`") && e.contains("negative"),
        "{e}"
    );
    assert!(!d.join("o").exists());
}

/// SPEC §21.8 end to end: `loans` writes each customer's `non_performing` (1 or 0), `run
/// --measure non_performing=customers.csv` gives it to a book that pauses upgrades while it is
/// above zero: the customer with a non-performing loan is not enrolled, with `upgrade_paused`.
#[test]
fn a_non_performing_loan_pauses_the_entry_in_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let loans = write(d, "loans.csv", "c1,L1,2024-03,91,0,次级,false\nc2,L2,2024-03,0,0,正常,true\n");
    let o = cli(&["loans", "--month", "2024-03", "--loans", &loans, "--out", p(&d.join("l"))]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let flags = d.join("l").join("customers.csv");
    let book = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/default-rules.toml"))
        .unwrap()
        .replace(
            "[[rule_sets.versions.tiers]]\ncode = \"gold\"",
            "[[rule_sets.versions.measures]]\ncode = \"non_performing\"\n\n[[rule_sets.versions.tiers]]\ncode = \"gold\"",
        )
        .replace("near_threshold_band = \"0.10\"", "near_threshold_band = \"0.10\"\npause_upgrades_while = \"non_performing\"");
    let rules = d.join("rules.toml");
    std::fs::write(&rules, book).unwrap();
    let aum = common::month_file(
        d,
        "aum.csv",
        &[("2024-03", "c1", "300000"), ("2024-03", "c2", "300000"), ("2024-03", "c3", "300000")],
    );
    let store = d.join("s.db");
    let measure = format!("non_performing={}", p(&flags));
    let run = |month: &str, measure: &str| {
        cli(&[
            "run",
            "--month",
            month,
            "--aum",
            &aum,
            "--rules",
            p(&rules),
            "--store",
            p(&store),
            "--create-store",
            "--measure",
            measure,
        ])
    };
    let o = run("2024-03..2024-04", &measure);
    assert_eq!(code(&o), 2, "{}", err(&o));
    let o = run("2024-03", &format!("points={}", p(&flags)));
    assert_eq!(code(&o), 4, "the file has no `points` column: {}", err(&o));
    let other_ids = d.join("other.csv");
    std::fs::write(&other_ids, "customer_id,non_performing\nC000001,1\n").unwrap();
    let o = run("2024-03", &format!("non_performing={}", p(&other_ids)));
    assert_eq!(code(&o), 4, "ids that match no record: {}", err(&o));
    assert!(err(&o).contains("none of the 1 customers"), "{}", err(&o));
    let o = run("2024-03", &measure);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let x = d.join("x");
    let o = cli(&["export", "--month", "2024-03", "--format", "csv", "--store", p(&store), "--out", p(&x)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let events = read(&x, "events.csv");
    let kinds: Vec<(&str, &str)> = events
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[1], c[3])
        })
        .collect();
    assert_eq!(kinds, [("c1", "upgrade_paused"), ("c2", "entered"), ("c3", "entered")], "{events}");
}
