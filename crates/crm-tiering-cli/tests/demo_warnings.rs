//! `crm-tiering demo` generates the inputs of the early warnings (SPEC §22: days without
//! activity, maturities not reinvested, 嘉峪关's daily balances) and a loan book classified month
//! by month as `crm-tiering loans` does (SPEC §21), which feeds the upgrade pause (§21.8); every
//! warning kind and every loan signal appears; the same seed gives the same files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{cli, code, err, out, p};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Counts of a CSV column's values over files.
fn count_column(texts: &[String], column: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for text in texts {
        let mut lines = text.lines();
        let head: Vec<&str> = lines.next().unwrap().split(',').collect();
        let i = head.iter().position(|c| *c == column).unwrap_or_else(|| panic!("no {column} in {head:?}"));
        for l in lines {
            *counts.entry(l.split(',').nth(i).unwrap().to_string()).or_default() += 1;
        }
    }
    counts
}

fn months(n: u32) -> Vec<String> {
    (1..=n).map(|m| format!("2023-{m:02}")).collect()
}

#[test]
fn the_demo_shows_every_warning_kind_and_loan_signal_from_inputs_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let o = cli(&["demo", "--out", p(&demo), "--customers", "3000", "--months", "12"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let printed = out(&o);

    // The inputs: the measure columns beside the AUM, 嘉峪关's daily balances in the last month
    // (and no monthly row of it there), a loans file per month.
    let input = demo.join("input");
    let aum = read(&input.join("aum-monthly.csv"));
    let header = aum.lines().next().unwrap();
    assert!(header.ends_with(",days_inactive,matured_not_reinvested,non_performing"), "{header}");
    let daily = read(&input.join("daily-balances.csv"));
    let daily_months: BTreeSet<&str> = daily.lines().skip(1).map(|l| l.get(..7).unwrap()).collect();
    assert_eq!(daily_months.into_iter().collect::<Vec<_>>(), ["2023-12"]);
    assert!(daily.lines().skip(1).all(|l| l.split(',').nth(2) == Some("620201")));
    assert!(!aum.lines().any(|l| l.starts_with("2023-12,") && l.split(',').nth(2) == Some("620201")));
    for m in months(12) {
        assert!(input.join("loans").join(format!("{m}.csv")).is_file(), "{m}");
        for f in ["customers.csv", "signals.csv", "loan-states.jsonl"] {
            assert!(demo.join("loans").join(&m).join(f).is_file(), "{m} {f}");
        }
    }

    // Every warning kind fires over the months, each a few percent of customers at most.
    let export = dir.path().join("export");
    let e = cli(&["export", "--month", "2023-01..2023-12", "--format", "csv", "--store"]
        .into_iter()
        .chain([p(&demo.join("crm-tiering.db")), "--out", p(&export)])
        .collect::<Vec<_>>());
    assert_eq!(code(&e), 0, "{}", err(&e));
    let alerts = count_column(&[read(&export.join("alerts.csv"))], "kind");
    for kind in ["drop_pct", "below_for", "large_flow", "dormant", "reactivated", "maturity_not_reinvested"] {
        let n = alerts.get(kind).copied().unwrap_or(0);
        assert!(n > 0 && n < 3000 * 12 / 20, "{kind}: {n} in {alerts:?}");
    }
    // The personal customers move through the lifecycle stages (SPEC §23): several stages are
    // reached over the year, and the states table says where each customer stands.
    let events = read(&export.join("events.csv"));
    let header: Vec<&str> = events.lines().next().unwrap().split(',').collect();
    let (kind, to) =
        (header.iter().position(|c| *c == "kind").unwrap(), header.iter().position(|c| *c == "to_tier").unwrap());
    let stages: std::collections::BTreeSet<&str> = events
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c.get(kind) == Some(&"stage_changed"))
        .filter_map(|c| c.get(to).copied())
        .collect();
    for stage in ["new", "mature", "declining", "churn_warning"] {
        assert!(stages.contains(stage), "{stage}: {stages:?}");
    }
    let states = count_column(&[read(&export.join("states.csv"))], "stage");
    assert!(states.get("mature").copied().unwrap_or(0) > 0, "{states:?}");
    // Every loan signal appears, from the loans the generator wrote.
    let signals: Vec<String> =
        months(12).iter().map(|m| read(&demo.join("loans").join(m).join("signals.csv"))).collect();
    let by_kind = count_column(&signals, "signal");
    for kind in [
        "overdue",
        "approaching_non_performing",
        "non_performing",
        "bank_class_kinder_than_floor",
        "upgrade_held_by_clean_window",
    ] {
        assert!(by_kind.get(kind).copied().unwrap_or(0) > 0, "{kind}: {by_kind:?}");
    }
    let floors = count_column(&signals, "floor");
    for floor in ["special_mention", "substandard", "doubtful"] {
        assert!(floors.get(floor).copied().unwrap_or(0) > 0, "{floor}: {floors:?}");
    }

    // The printed summary: the last month's warnings and loan signals by kind.
    let warnings = printed.lines().find(|l| l.starts_with("warnings 2023-12: ")).unwrap_or_else(|| panic!("{printed}"));
    assert!(warnings.contains("dormant ") && warnings.contains("large_flow "), "{warnings}");
    assert!(printed.lines().any(|l| l.starts_with("loans 2023-12: ") && l.contains("overdue ")), "{printed}");
    assert!(printed.contains("upgrades paused by a non-performing loan 2023-12: "), "{printed}");
    assert!(printed.contains("lifecycle stage changes 2023-12 (stage_changed, SPEC §23): "), "{printed}");

    // Each month's non_performing column is the customers.csv of the month's loans.
    for m in months(12) {
        let customers = read(&demo.join("loans").join(&m).join("customers.csv"));
        let from_loans: BTreeMap<&str, &str> = customers
            .lines()
            .skip(1)
            .filter(|l| l.split(',').nth(2) != Some("0"))
            .map(|l| (l.split(',').nth(1).unwrap(), l.rsplit(',').next().unwrap()))
            .collect();
        for l in aum.lines().filter(|l| l.starts_with(&format!("{m},"))) {
            let id = l.split(',').nth(1).unwrap();
            let cell = l.rsplit(',').next().unwrap();
            assert_eq!(from_loans.get(id).copied().unwrap_or(""), cell, "{m} {id}");
        }
    }

    // A loan month by hand, as printed, from the month before's states, gives the demo's files.
    let by_hand = dir.path().join("by-hand");
    let o = cli(&["loans", "--month", "2023-07", "--loans", p(&input.join("loans/2023-07.csv"))]
        .into_iter()
        .chain(["--states", p(&demo.join("loans/2023-06/loan-states.jsonl"))])
        .chain(["--rules", p(&input.join("rules.toml")), "--out", p(&by_hand)])
        .collect::<Vec<_>>());
    assert_eq!(code(&o), 0, "{}", err(&o));
    for f in ["customers.csv", "signals.csv", "loan-states.jsonl"] {
        assert_eq!(read(&by_hand.join(f)), read(&demo.join("loans/2023-07").join(f)), "{f}");
    }
    assert!(printed.contains(" loans --month 2023-02 --loans "), "{printed}");
}

#[test]
fn the_same_seed_gives_the_same_warning_and_loan_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: &str| {
        let demo = dir.path().join(name);
        let o = cli(&["demo", "--out", p(&demo), "--customers", "1500", "--months", "5", "--seed", seed]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let mut files = vec![read(&demo.join("input/aum-monthly.csv")), read(&demo.join("input/daily-balances.csv"))];
        for m in months(4) {
            files.push(read(&demo.join("input/loans").join(format!("{m}.csv"))));
            files.push(read(&demo.join("loans").join(&m).join("signals.csv")));
        }
        files
    };
    let a = run("a", "7");
    assert_eq!(a, run("b", "7"));
    let c = run("c", "8");
    assert_ne!(a[0], c[0]);
    assert_ne!(a[2], c[2]);
}
