//! `export --format jsonl` of stored contribution months (SPEC §20): the demo's contribution
//! month, exported as JSON Lines and as CSV from the same store, gives one JSON object per
//! customer-month (`contribution-YYYY-MM.jsonl`), its figures decimal strings equal to the CSV
//! file's cells and adding up to the month's net.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

mod common;

use common::{cli, code, err, out, p};
use crm_tiering::Decimal;

const FIGURES: [&str; 8] = [
    "interest_asset",
    "interest_liability",
    "fees",
    "allocated_costs",
    "direct_costs",
    "risk_cost",
    "capital_charge",
    "net_contribution",
];

#[test]
fn the_demos_contribution_month_exports_one_json_object_per_customer() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let o = cli(&["demo", "--out", p(&demo), "--customers", "600", "--months", "3", "--contribution"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let store = demo.join("crm-tiering.db");
    let (j, c) = (dir.path().join("jsonl"), dir.path().join("csv"));
    for (format, to) in [("jsonl", &j), ("csv", &c)] {
        let o =
            cli(&["export", "--month", "2023-01..2023-03", "--format", format, "--store", p(&store), "--out", p(to)]);
        assert_eq!(code(&o), 0, "{format}: {}", err(&o));
    }
    // The demo stores its last month's contribution only: that month's file, no other.
    assert!(!j.join("contribution-2023-02.jsonl").exists());
    let text = std::fs::read_to_string(j.join("contribution-2023-03.jsonl")).unwrap();
    let csv = std::fs::read_to_string(c.join("contribution_customers.csv")).unwrap();
    let mut csv_lines = csv.lines();
    let header: Vec<&str> = csv_lines.next().unwrap().split(',').collect();
    assert_eq!(header[2..], FIGURES);
    let rows: Vec<Vec<&str>> = csv_lines.map(|l| l.split(',').collect()).collect();
    let lines: Vec<&str> = text.lines().collect();
    assert!(rows.len() > 100, "{}", rows.len());
    assert_eq!(lines.len(), rows.len());
    let printed = format!("contribution-2023-03.jsonl: {} row(s)", lines.len());
    let o = cli(&["export", "--month", "2023-03", "--format", "jsonl", "--store", p(&store), "--out", p(&j)]);
    assert!(out(&o).contains(&printed), "{}", out(&o));
    let mut net = Decimal::ZERO;
    for (line, row) in lines.iter().zip(&rows) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let object = v.as_object().unwrap();
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 10, "{line}");
        assert_eq!((object["month"].as_str(), object["customer"].as_str()), (Some(row[0]), Some(row[1])), "{line}");
        for (k, name) in FIGURES.iter().enumerate() {
            // Decimal strings, never JSON numbers (binary floats in most readers).
            assert_eq!(object[*name].as_str(), Some(row[k + 2]), "{name}: {line}");
        }
        net += object["net_contribution"].as_str().unwrap().parse::<Decimal>().unwrap();
        assert!(line.starts_with("{\"month\":\"2023-03\",\"customer\":"), "the CSV file's order: {line}");
    }
    let total: Decimal = rows.iter().map(|r| r[9].parse::<Decimal>().unwrap()).sum();
    assert_eq!(net, total);
    assert_ne!(net, Decimal::ZERO);
}
