//! The way back for a held customer (SPEC §15.7) through the CLI and the store: held in
//! January by a bad record, held again in February (a month behind, without --skip-bad-rows,
//! its tier frozen, a held_back alert and the command that catches it up), caught up for
//! January and February from corrected records as an amendment of February, then March is a
//! regular month for everybody; the catch-up is in the audit and a rollback of February takes
//! it away with the month.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::Path;

use common::{cli, code, err, month_file, out, p};
use serde_json::Value;

/// The states of the store's latest month, by id.
fn states(store: &str, month: &str, dir: &Path) -> Vec<Value> {
    let x = dir.join(format!("x-{month}"));
    let o = cli(&["export", "--month", month, "--format", "jsonl", "--store", store, "--out", p(&x)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let text = std::fs::read_to_string(x.join(format!("states-{month}.jsonl"))).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    lines[1..lines.len() - 1].iter().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn state<'a>(states: &'a [Value], id: &str) -> &'a Value {
    &states.iter().find(|s| s["customer_id"] == id).unwrap()["state"]
}

#[test]
fn a_held_customer_is_caught_up_and_the_portfolio_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("store.db");
    let store = p(&db);
    let jan = month_file(d, "jan.csv", &[("2024-01", "c1", "300000"), ("2024-01", "c2", "300000")]);
    let o = cli(&["run", "--month", "2024-01", "--aum", &jan, "--store", store, "--create-store"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    // February: c2's amount is unreadable; held back with --skip-bad-rows.
    let feb = month_file(d, "feb.csv", &[("2024-02", "c1", "300000"), ("2024-02", "c2", "60O000")]);
    let o = cli(&["run", "--month", "2024-02", "--aum", &feb, "--store", store, "--skip-bad-rows"]);
    assert_eq!(code(&o), 6, "{}", err(&o));
    // March: c2 is behind, held again without --skip-bad-rows; the command is named.
    let mar = month_file(d, "mar.csv", &[("2024-03", "c1", "300000"), ("2024-03", "c2", "700000")]);
    let o = cli(&["run", "--month", "2024-03", "--aum", &mar, "--store", store]);
    assert_eq!(code(&o), 6, "{}", err(&o));
    assert!(err(&o).contains("customer `c2`: held back since 2024-02"), "{}", err(&o));
    assert!(err(&o).contains("crm-tiering run --catch-up --month 2024-02..2024-03"), "{}", err(&o));
    let after_mar = states(store, "2024-03", d);
    assert_eq!(state(&after_mar, "c2")["last_month"], "2024-01", "c2's standing is frozen");
    assert_eq!(state(&after_mar, "c2")["tier"], "gold");
    // A catch-up that goes past the latest month is refused as a whole.
    let o = cli(&["run", "--catch-up", "--month", "2024-02..2024-04", "--aum", &feb, "--store", store]);
    assert_ne!(code(&o), 0, "{}", err(&o));
    // The catch-up of February and March with the corrected records (whole files, c1's rows
    // included: they are left alone).
    let fixed = month_file(
        d,
        "fixed.csv",
        &[
            ("2024-02", "c1", "999999999"),
            ("2024-02", "c2", "600000"),
            ("2024-03", "c1", "999999999"),
            ("2024-03", "c2", "700000"),
        ],
    );
    let o = cli(&["run", "--catch-up", "--month", "2024-02..2024-03", "--aum", &fixed, "--store", store]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).contains("caught up 2024-02: 1 customer(s) evaluated"), "{}", out(&o));
    assert!(out(&o).contains("amending 2024-03"), "{}", out(&o));
    let caught = states(store, "2024-03", d);
    assert_eq!(state(&caught, "c2")["tier"], "platinum");
    assert_eq!(state(&caught, "c2")["last_month"], "2024-03");
    assert_eq!(state(&caught, "c1"), state(&after_mar, "c1"), "c1 was left alone");
    // The story of c2 has its catch-up upgrade in February.
    let o = cli(&["explain", "--customer", "c2", "--store", store]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).contains("upgraded from gold to platinum"), "{}", out(&o));
    let o = cli(&["history", "--store", store]);
    assert!(out(&o).contains("catch-up of 2024-02..2024-03 amending 2024-03"), "{}", out(&o));
    // April: a regular month for everybody.
    let apr = month_file(d, "apr.csv", &[("2024-04", "c1", "300000"), ("2024-04", "c2", "700000")]);
    let o = cli(&["run", "--month", "2024-04", "--aum", &apr, "--store", store]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    // Rolling back April, then March, takes the catch-up away with March.
    for m in ["2024-04", "2024-03"] {
        let o = cli(&["rollback", "--month", m, "--store", store]);
        assert_eq!(code(&o), 0, "{}", err(&o));
    }
    let back = states(store, "2024-02", d);
    assert_eq!(state(&back, "c2")["last_month"], "2024-01", "the catch-up went with March");
}
