//! `crm-tiering worklist`: the account managers' work-list of a committed month, end to end over
//! a small store made here (SPEC §11.1).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::{Path, PathBuf};

use common::{cli, code, err, out, p};

/// The default book with a `drop_pct` warning (30% against last month, open 2 months) that goes
/// to the managers, and to the branch in legal entity `le2`.
fn rules(dir: &Path) -> PathBuf {
    let default =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/default-rules.toml")).unwrap();
    let warning = "\n[[rule_sets.versions.warnings]]\nkind = \"drop_pct\"\nwindow = \"prev_1\"\npercent = \"30\"\n\
                   lifetime_months = 2\nlegal_entities = { \"le2\" = { role = \"branch\" } }\n";
    let path = dir.join("rules.toml");
    std::fs::write(&path, default + warning).unwrap();
    path
}

/// AUM by customer (legal entity) for 2024-01..2024-03:
/// - c1 (le1): platinum, falls to 300,000 in February (a drop, a watch) and stays there (the
///   watch's last month in March);
/// - c2 (le2): platinum, falls to 300,000 in March (a drop for the branch, a watch);
/// - c3 (le1): 190,000, a potential VIP every month, with no manager;
/// - c4 (le1): 480,000, gold near platinum every month, with a lead and an assisting manager;
/// - c5 (le1): 300,000, gold, no alert.
const AUM: [(&str, &str, [&str; 3]); 5] = [
    ("c1", "le1", ["600000", "300000", "300000"]),
    ("c2", "le2", ["600000", "600000", "300000"]),
    ("c3", "le1", ["190000", "190000", "190000"]),
    ("c4", "le1", ["480000", "480000", "480000"]),
    ("c5", "le1", ["300000", "300000", "300000"]),
];

/// A store with 2024-01..2024-03 committed under [`rules`].
fn store(dir: &Path) -> PathBuf {
    let mut text = String::from("month,customer_id,legal_entity,aum\n");
    for (k, month) in ["2024-01", "2024-02", "2024-03"].iter().enumerate() {
        for (id, entity, aum) in AUM {
            text.push_str(&format!("{month},{id},{entity},{}\n", aum[k]));
        }
    }
    let aum = dir.join("aum.csv");
    std::fs::write(&aum, text).unwrap();
    let store = dir.join("store.db");
    let rules = rules(dir);
    let o = cli(&[
        "run",
        "--create-store",
        "--store",
        p(&store),
        "--rules",
        p(&rules),
        "--month",
        "2024-01..2024-03",
        "--aum",
        p(&aum),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    store
}

const ASSIGNMENTS: &str = "customer,manager,role,share\nc1,m2,主办,100\nc2,m1,lead,100\nc4,m1,主办,60\nc4,m2,协办,40\n\
                           c5,m3,主办,100\nc9,m3,主办,100\n";

fn assignments(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("assignments.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// The cells of a CSV line (quoted cells with `""` inside).
fn cells(line: &str) -> Vec<String> {
    let (mut out, mut cell, mut quoted, mut chars) = (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    out.push(cell);
    out
}

/// Runs `worklist` for `month`; gives the output, the stderr and the rows as column -> cell maps.
fn worklist(
    store: &Path,
    month: &str,
    assignments: &Path,
    file: &Path,
) -> (String, String, Vec<Vec<(String, String)>>) {
    let o =
        cli(&["worklist", "--month", month, "--store", p(store), "--assignments", p(assignments), "--out", p(file)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines = text.lines();
    let head = cells(lines.next().unwrap());
    let rows = lines.map(|l| head.iter().cloned().zip(cells(l)).collect()).collect();
    (out(&o), err(&o), rows)
}

fn get<'a>(row: &'a [(String, String)], column: &str) -> &'a str {
    row.iter().find(|(c, _)| c == column).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no column {column}"))
}

/// Each row's manager, role, customer, kind, severity, alert month and months left.
fn summary(rows: &[Vec<(String, String)>]) -> Vec<String> {
    let cols = ["manager_id", "role", "customer_id", "kind", "severity", "alert_month", "months_left"];
    rows.iter().map(|r| cols.map(|c| get(r, c)).join(" ")).collect()
}

#[test]
fn rows_by_manager_severity_and_customer_with_open_warnings_branches_and_the_unassigned() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let file = dir.path().join("lists").join("worklist-2024-03.csv");
    let (stdout, stderr, rows) = worklist(&store, "2024-03", &assignments(dir.path(), ASSIGNMENTS), &file);
    assert_eq!(
        summary(&rows),
        [
            " branch c2 drop_pct medium 2024-03 2",
            " unassigned c3 potential_vip low 2024-03 ",
            "m1 lead c2 watch_active medium 2024-03 2",
            "m1 lead c4 upgrade_opportunity low 2024-03 ",
            // The watch's last month first; February's drop is still open (2 months).
            "m2 lead c1 watch_active high 2024-03 1",
            "m2 lead c1 drop_pct medium 2024-02 2",
            "m2 assisting c4 upgrade_opportunity low 2024-03 ",
        ]
    );
    let branch = &rows[0];
    assert_eq!(
        ["role_zh", "legal_entity", "kind_zh", "severity_zh", "open_until", "measure", "measure_window"]
            .map(|c| get(branch, c)),
        ["网点", "le2", "大幅下降", "中", "2024-04", "aum", "prev_1"]
    );
    // 600,000 × 70% = 420,000 against 300,000.
    assert_eq!(["measure_value", "threshold", "gap"].map(|c| get(branch, c)), ["300000.00", "420000.00", "120000.00"]);
    // The tier an upgrade opportunity is about is the next one.
    assert_eq!(["role_zh", "tier"].map(|c| get(&rows[6], c)), ["协办", "platinum"]);
    assert_eq!(get(&rows[5], "open_until"), "2024-03");
    assert!(rows.iter().all(|r| get(r, "month") == "2024-03"));
    assert!(stderr.contains("1 customer(s) with open alerts have no manager") && stderr.contains("`c3`"), "{stderr}");
    assert!(stderr.contains("1 customer(s) of ") && stderr.contains("not in the states of 2024-03"), "{stderr}");
    assert!(
        stdout.contains("7 row(s) for 2 manager(s), 4 customer(s) with open alerts (1 high, 3 medium, 3 low)"),
        "{stdout}"
    );
    // Each row's explanation is the line `explain` prints for the alert.
    for customer in ["c1", "c2", "c3", "c4"] {
        let o = cli(&["explain", "--customer", customer, "--store", p(&store)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        for r in rows.iter().filter(|r| get(r, "customer_id") == customer) {
            let line = format!("  {}\n", get(r, "explanation"));
            assert!(out(&o).contains(&line), "{line:?} not in\n{}", out(&o));
        }
    }
    assert!(get(&rows[4], "explanation").contains("tier 白金卡 platinum, 1 month(s) left"), "{:?}", rows[4]);
    // The same store gives the same bytes; no temporary file is left.
    let again = dir.path().join("again.csv");
    worklist(&store, "2024-03", &dir.path().join("assignments.csv"), &again);
    assert_eq!(std::fs::read(&file).unwrap(), std::fs::read(&again).unwrap());
    assert_eq!(std::fs::read_dir(file.parent().unwrap()).unwrap().count(), 1);
}

#[test]
fn an_earlier_month_lists_its_own_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let file = dir.path().join("w.csv");
    let (_, _, rows) = worklist(&store, "2024-02", &assignments(dir.path(), ASSIGNMENTS), &file);
    assert_eq!(
        summary(&rows),
        [
            " unassigned c3 potential_vip low 2024-02 ",
            "m1 lead c4 upgrade_opportunity low 2024-02 ",
            "m2 lead c1 watch_active medium 2024-02 2",
            "m2 lead c1 drop_pct medium 2024-02 2",
            "m2 assisting c4 upgrade_opportunity low 2024-02 ",
        ]
    );
}

#[test]
fn a_bad_assignments_file_is_refused_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let file = dir.path().join("w.csv");
    let run = |text: &str| {
        let a = assignments(dir.path(), text);
        let o =
            cli(&["worklist", "--month", "2024-03", "--store", p(&store), "--assignments", p(&a), "--out", p(&file)]);
        assert_eq!(code(&o), 4, "{}", err(&o));
        assert!(!file.exists(), "a work-list was written");
        err(&o)
    };
    let e = run("customer,manager,role,share\nc1,m2,主办,100\nc4,m1,boss,100\n");
    assert!(e.contains("assignments.csv line 3, column role:"), "{e}");
    let e = run("customer,manager,role,share\nc1,m2,主办,100\nc4,m1,主办,60\nc4,m2,协办,30\n");
    assert!(e.contains("assignments.csv lines 3, 4: customer c4: manager shares sum to 90%, not 100%"), "{e}");
    let e = run("customer,manager,role\nc1,m2,主办\n");
    assert!(e.contains("line 1, column share: a required column is missing"), "{e}");
}

#[test]
fn a_month_the_store_has_not_committed_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let file = dir.path().join("w.csv");
    let a = assignments(dir.path(), ASSIGNMENTS);
    let o = cli(&["worklist", "--month", "2024-04", "--store", p(&store), "--assignments", p(&a), "--out", p(&file)]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(
        err(&o).contains("month 2024-04 is not committed")
            && err(&o).contains("2024-01..2024-03")
            && err(&o).contains("no work-list was written"),
        "{}",
        err(&o)
    );
    assert!(!file.exists());
}
