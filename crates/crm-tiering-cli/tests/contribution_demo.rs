//! `crm-tiering demo --contribution`: the demo's contribution month is computed from the
//! dataset it writes, every allocation stage conserves its pool, the same seed gives the same
//! files, and the commands it prints work.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

mod common;

use std::path::Path;

use common::{cli, code, err, out, p};

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

/// Sums a column of amounts (two decimals) as fen.
fn fen_sum(csv: &str, column: &str) -> i64 {
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = head.iter().position(|c| *c == column).unwrap();
    lines
        .map(|l| {
            let cell = l.split(',').nth(i).unwrap();
            let (whole, frac) = cell.split_once('.').unwrap();
            let sign = if whole.starts_with('-') { -1 } else { 1 };
            whole.parse::<i64>().unwrap() * 100 + sign * frac.parse::<i64>().unwrap()
        })
        .sum()
}

#[test]
fn the_demo_contribution_month_conserves_every_stage_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let o = cli(&["demo", "--out", p(&demo), "--customers", "600", "--months", "3", "--contribution"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let printed = out(&o);
    assert!(printed.contains("contribution 2023-03: "), "{printed}");
    assert!(printed.contains("5/5 stages conserved"), "{printed}");

    let results = demo.join("contribution");
    let stages = read(&results, "stages.csv");
    let rows: Vec<&str> = stages.lines().skip(1).collect();
    assert_eq!(rows.len(), 5, "{stages}");
    for (row, (pool, driver)) in rows.iter().zip([
        ("head_office", "cost_centres"),
        ("branch_ops", "quantity"),
        ("channel", "coefficients"),
        ("risk_mgmt", "balances"),
        ("account_service", "accounts"),
    ]) {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!((cells[2], cells[3]), (pool, driver), "{row}");
        assert_eq!(cells[4], cells[7], "allocated = amount: {row}");
        assert_eq!(cells.last(), Some(&"true"), "{row}");
        assert_ne!(cells[4], "0.00", "every pool has an amount: {row}");
    }
    // The roll-ups add up to the customers, and the lineage to their net.
    let customers = read(&results, "customers.csv");
    let net = fen_sum(&customers, "net_contribution");
    assert_eq!(fen_sum(&read(&results, "legal_entities.csv"), "net_contribution"), net);
    assert_eq!(fen_sum(&read(&results, "managers.csv"), "net_contribution"), net);
    assert_eq!(fen_sum(&read(&results, "lineage.csv"), "amount"), net);
    let entities = read(&results, "legal_entities.csv");
    assert!(entities.lines().count() > 4, "county-level legal entities: {entities}");

    // The inputs: loans with classes, split managers, a repriced FTP rate used in the month.
    let inputs = demo.join("input").join("contribution");
    let ftp = read(&inputs, "contribution-demo-ftp.csv");
    assert!(ftp.contains("demand,none,2023-01,0.0185\ndemand,none,2023-03,0.0170"), "{ftp}");
    let accounts = read(&inputs, "accounts.csv");
    assert!(accounts.contains(",asset,") && accounts.contains(",正常,"), "loans with classes");
    assert!(read(&inputs, "assignments.csv").contains(",协办,"), "主办/协办 splits");
    let lineage = read(&results, "lineage.csv");
    assert!(
        lineage
            .lines()
            .any(|l| l.contains(",interest_liability,") && l.contains(",demand,,") && l.contains(",0.0170,"))
    );
    assert!(lineage.contains(",risk_cost,") && lineage.contains(",capital_charge,"), "risk cost and capital");

    // The same seed gives the same inputs and figures.
    let again = dir.path().join("again");
    let o = cli(&["demo", "--out", p(&again), "--customers", "600", "--months", "3", "--contribution"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    for name in ["accounts.csv", "fees.csv", "activities.csv", "cost-pools.csv", "direct-costs.csv", "assignments.csv"]
    {
        assert_eq!(read(&inputs, name), read(&again.join("input").join("contribution"), name), "{name}");
    }
    assert_eq!(customers, read(&again.join("contribution"), "customers.csv"));

    // The printed explain command shows the customer's contribution from the demo's store.
    let line = printed.lines().skip_while(|l| !l.starts_with("one customer's contribution")).nth(1).unwrap();
    let id = line.split_whitespace().skip_while(|w| *w != "--customer").nth(1).unwrap();
    let o = cli(&["explain", "--customer", id, "--store", p(&demo.join("crm-tiering.db"))]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let story = out(&o);
    assert!(story.contains("Contribution 贡献度 (1 stored month(s))"), "{story}");
    assert!(story.contains("资本占用 capital_charge") && story.contains("分摊费用 allocated_cost"), "{story}");
}
