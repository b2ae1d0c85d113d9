//! Lifecycle stages end to end (SPEC §23): `run` under a book with the standard stages stores
//! each customer's stage with its month; `export` writes it in the states table's `stage` and
//! `stage_since` columns and the `stage_changed` events with their stages; `explain` tells them.
//! The stages expected are the worked example's (SPEC §23.3), not a run's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

mod common;

use common::{cli, code, err, out, p};

#[test]
fn run_stores_the_stages_and_export_and_explain_show_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let book = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/default-rules.toml"))
        .unwrap()
        + "\n[rule_sets.versions.lifecycle]\n";
    let rules = d.join("rules.toml");
    std::fs::write(&rules, book).unwrap();
    // c1 is the worked example's customer to July; c2 has nothing from its first month.
    let rows: Vec<(String, &str, &str)> = ["120000", "130000", "160000", "150000", "150000", "150000", "50000"]
        .iter()
        .enumerate()
        .flat_map(|(k, aum)| {
            let month = format!("2024-{:02}", k + 1);
            [(month.clone(), "c1", *aum), (month, "c2", "0")]
        })
        .collect();
    let rows: Vec<(&str, &str, &str)> = rows.iter().map(|(m, c, a)| (m.as_str(), *c, *a)).collect();
    let aum = common::month_file(d, "aum.csv", &rows);
    let store = d.join("s.db");
    let o = cli(&[
        "run",
        "--month",
        "2024-01..2024-07",
        "--aum",
        &aum,
        "--rules",
        p(&rules),
        "--store",
        p(&store),
        "--create-store",
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let x = d.join("x");
    let o = cli(&["export", "--month", "2024-07", "--format", "csv", "--store", p(&store), "--out", p(&x)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let states = std::fs::read_to_string(x.join("states.csv")).unwrap();
    let header: Vec<&str> = states.lines().next().unwrap().split(',').collect();
    let (stage, since) =
        (header.iter().position(|c| *c == "stage").unwrap(), header.iter().position(|c| *c == "stage_since").unwrap());
    let got: Vec<(String, String, String)> = states
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[1].to_string(), c[stage].to_string(), c[since].to_string())
        })
        .collect();
    let want = [("c1", "churn_warning", "2024-07"), ("c2", "potential", "2024-01")];
    let want: Vec<(String, String, String)> =
        want.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(got, want, "{states}");
    let events = std::fs::read_to_string(x.join("events.csv")).unwrap();
    assert!(
        events.lines().any(|l| l.contains("c1,") && l.contains("stage_changed") && l.contains("new,churn_warning")),
        "{events}"
    );
    let o = cli(&["explain", "--customer", "c1", "--store", p(&store)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).contains("lifecycle stage - to new from 2024-02"), "{}", out(&o));
    assert!(out(&o).contains("lifecycle stage new to churn_warning from 2024-08"), "{}", out(&o));
}
