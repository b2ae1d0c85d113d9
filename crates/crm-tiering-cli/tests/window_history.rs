//! A book with windows through the store, end to end: `crm-tiering run` one month at a time
//! under the 中信 gallery book (私人银行 by `prev_quarter`, SPEC §19.2), the states kept in the
//! store between months, gives what one continuous run gives: each customer's history (SPEC
//! §19.5) survives the store. On a SQLite file, and on PostgreSQL when `CRMT_TEST_POSTGRES_URL`
//! is set (`scripts/postgres-test-cluster.sh` starts a server).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

mod common;

use std::path::Path;

use common::{cli, code, err, month_file, p};

const CITIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/gallery/citic-private.toml");
const MONTHS: [&str; 4] = ["2024-01", "2024-02", "2024-03", "2024-04"];

/// Each month's AUM: p001 is SPEC §19.6's customer (a first quarter of 6,029,670.33 on
/// average, an April of 5,900,000 alone), p002 lacks February, the others stay below.
fn month_rows(m: &str) -> Vec<(String, String, String)> {
    let k = MONTHS.iter().position(|x| *x == m).unwrap();
    let table: [(&str, [&str; 4]); 6] = [
        ("p001", ["5800000.00", "6200000.00", "6100000.00", "5900000.00"]),
        ("p002", ["6500000.00", "", "6400000.00", "5000000.00"]),
        ("p003", ["5000000.00", "5100000.00", "4900000.00", "5000000.00"]),
        ("p004", ["250000.00", "260000.00", "255000.00", "250000.00"]),
        ("p005", ["1200000.00", "1100000.00", "1150000.00", "1200000.00"]),
        ("p006", ["7000000.00", "7100000.00", "6900000.00", "6950000.00"]),
    ];
    table
        .iter()
        .filter(|(_, a)| !a[k].is_empty())
        .map(|(id, a)| (m.to_string(), id.to_string(), a[k].to_string()))
        .collect()
}

fn write_month(dir: &Path, m: &str) -> String {
    let rows = month_rows(m);
    let refs: Vec<(&str, &str, &str)> = rows.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    month_file(dir, &format!("{m}.csv"), &refs)
}

fn run(store: &str, months: &str, files: &[String], create: bool) {
    let mut args = vec!["run", "--rules", CITIC, "--month", months, "--store", store, "--quiet", "--aum"];
    args.extend(files.iter().map(String::as_str));
    if create {
        args.push("--create-store");
    }
    let o = cli(&args);
    assert_eq!(code(&o), 0, "{store} {months}: {}", err(&o));
}

/// The states text of a committed month.
fn states_text(store: &str, m: &str, out: &Path) -> String {
    let o = cli(&["export", "--month", m, "--format", "jsonl", "--store", store, "--out", p(out)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    std::fs::read_to_string(out.join(format!("states-{m}.jsonl"))).unwrap()
}

/// A customer's line of a states text, parsed.
fn customer(text: &str, id: &str) -> serde_json::Value {
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["customer_id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the states"))
}

#[test]
fn month_by_month_through_the_store_equals_one_continuous_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let files: Vec<String> = MONTHS.iter().map(|m| write_month(d, m)).collect();

    // One continuous run: the histories stay in memory from month to month.
    let whole = d.join("whole.db").display().to_string();
    run(&whole, "2024-01..2024-04", &files, true);
    let expected = states_text(&whole, "2024-04", &d.join("whole"));
    assert_eq!(customer(&expected, "p001")["state"]["effective_tier"], "private", "{expected}");

    let s = common::stores("crmt_cli", "windows");
    for (k, store) in s.locations.iter().enumerate() {
        for (i, m) in MONTHS.iter().enumerate() {
            run(store, m, &files[i..=i], i == 0);
        }
        let got = states_text(store, "2024-04", &d.join(format!("by-month-{k}")));
        // p001's April tier comes from its first quarter, read from the history the store kept.
        let p001 = customer(&got, "p001");
        assert_eq!(p001["state"]["effective_tier"], "private", "{store}: {got}");
        assert_eq!(p001["history"]["aum"][0], "5900000.00", "{store}: {got}");
        assert_eq!(customer(&got, "p003")["state"]["effective_tier"], "diamond", "{store}");
        assert_eq!(got, expected, "{store}: month by month through the store");

        // The states text carries the histories into another store: import-states, then April.
        let other = d.join(format!("imported-{k}.db")).display().to_string();
        let march = d.join(format!("march-{k}"));
        states_text(store, "2024-03", &march);
        let o = cli(&[
            "import-states",
            p(&march.join("states-2024-03.jsonl")),
            "--rules",
            CITIC,
            "--store",
            &other,
            "--create-store",
        ]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert_eq!(
            states_text(&other, "2024-03", &d.join(format!("imported-x-{k}"))),
            states_text(store, "2024-03", &march)
        );
        // A month inside the continuous run's range was stored with its histories too.
        let whole_march = states_text(&whole, "2024-03", &d.join(format!("whole-march-{k}")));
        assert!(customer(&whole_march, "p001")["history"]["aum"].is_array(), "{whole_march}");
        assert_eq!(whole_march, states_text(store, "2024-03", &march), "the range's March");
        run(&other, "2024-04", &files[3..], false);
        let imported = states_text(&other, "2024-04", &d.join(format!("imported-y-{k}")));
        assert_eq!(customer(&imported, "p001")["state"]["effective_tier"], "private", "{other}: {imported}");
        assert_eq!(customer(&imported, "p001")["history"], customer(&expected, "p001")["history"]);
    }
}
