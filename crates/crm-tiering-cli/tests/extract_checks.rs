//! A month's files are checked as a whole before anything is evaluated (SPEC §15.6): the core
//! system's control totals (flags or a trailer file) and a month far smaller than the store's
//! last (`--min-coverage`). A refused month writes nothing; the same files then go through.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{cli, code, err, month_file, out, p};

fn run(store: &str, month: &str, aum: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "--month", month, "--aum", aum, "--store", store, "--quiet"];
    args.extend_from_slice(extra);
    cli(&args)
}

/// Whether the store has committed `month`.
fn committed(store: &str, month: &str) -> bool {
    out(&cli(&["history", "--store", store])).contains(&format!("month {month} committed"))
}

#[test]
fn control_totals_refuse_files_that_do_not_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = d.join("s.db");
    let store = p(&store);
    let jan = month_file(d, "jan.csv", &[("2024-01", "c1", "300000"), ("2024-01", "c2", "150000.50")]);
    let o = cli(&["init", "--store", store]);
    assert_eq!(code(&o), 0, "{}", err(&o));

    let o = run(store, "2024-01", &jan, &["--control-rows", "3"]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    assert!(err(&o).contains("2 AUM record(s), the control total says 3"), "{}", err(&o));
    let o = run(store, "2024-01", &jan, &["--control-aum", "450000.51"]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    assert!(err(&o).contains("add up to 450000.50, the control total says 450000.51"), "{}", err(&o));
    assert!(!committed(store, "2024-01"), "a refused month writes nothing");

    // A trailer file the core system writes, with a line that is not a total: refused, naming it.
    let trailer = d.join("jan.ctl");
    std::fs::write(&trailer, "# written by the core system\nrows=2\ncount=2\n").unwrap();
    let o = run(store, "2024-01", &jan, &["--control", p(&trailer)]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    assert!(err(&o).contains("jan.ctl:3: `count` is not a control total"), "{}", err(&o));
    std::fs::write(&trailer, "rows=2\naum=450000.5\n").unwrap();
    let o = run(store, "2024-01", &jan, &["--control", p(&trailer), "--control-rows", "2"]);
    assert_eq!(code(&o), 2, "a trailer and the flags at once: {}", err(&o));
    let o = run(store, "2024-01", &jan, &["--control", p(&trailer)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(committed(store, "2024-01"));
}

#[test]
fn a_month_far_smaller_than_the_last_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = d.join("s.db");
    let store = p(&store);
    let ids: Vec<String> = (1..=10).map(|i| format!("c{i}")).collect();
    let rows = |month: &'static str, n: usize| -> Vec<(&'static str, &str, &'static str)> {
        ids.iter().take(n).map(|id| (month, id.as_str(), "250000")).collect()
    };
    let jan = month_file(d, "jan.csv", &rows("2024-01", 10));
    let o = cli(&["run", "--create-store", "--month", "2024-01", "--aum", &jan, "--store", store, "--quiet"]);
    assert_eq!(code(&o), 0, "{}", err(&o));

    // 7 of January's 10 customers: below the default 0.8, refused naming both numbers.
    let feb = month_file(d, "feb.csv", &rows("2024-02", 7));
    let o = run(store, "2024-02", &feb, &[]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    assert!(err(&o).contains("7 customer(s) for 2024-02, fewer than the 8 expected"), "{}", err(&o));
    assert!(!committed(store, "2024-02"));
    // A lower share lets it through (the 3 without a record at zero AUM).
    let o = run(store, "2024-02", &feb, &["--min-coverage", "0.7"]);
    assert_eq!(code(&o), 0, "{}", err(&o));

    // March is measured against February's 7 customers with a record; a share above 1 is usage.
    let mar = month_file(d, "mar.csv", &rows("2024-03", 6));
    let o = run(store, "2024-03", &mar, &["--min-coverage", "1.5"]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    let o = run(store, "2024-03", &mar, &[]);
    assert_eq!(code(&o), 0, "6 of 7 is above 0.8 of 7 rounded down (5): {}", err(&o));
}
