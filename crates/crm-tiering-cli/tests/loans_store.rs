//! `crm-tiering loans --store` end to end (SPEC §21.10), on SQLite and on PostgreSQL when
//! `CRMT_TEST_POSTGRES_URL` is set: two months chained through the store give the files a
//! states-file chain gives, `explain` shows the loan months after the tiering story, `export`
//! writes them in the command's columns (and as Parquet), a stored month is refused without `--rerun`, and a bad
//! record leaves nothing written anywhere. The classes expected come from SPEC §21.2–§21.3.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

mod common;

use std::path::Path;

use common::{cli, code, err, out, p};

const HEADER: &str =
    "customer_id,loan_id,month,principal_overdue_days,interest_overdue_days,bank_class,repayment_due,expected_loss\n";

/// March: c1's L1 120 days overdue kept at 关注 by the bank (次级 by the floor), L2 clean; c2's
/// L3 70 days overdue (approaching 次级).
const MARCH: &str = "c1,L1,2024-03,120,0,关注,true,0.35\nc1,L2,2024-03,0,0,normal,true,\nc2,L3,2024-03,70,0,2,true,\n";

/// April: c1's L1 repaid (held at 次级 by the clean window), L2 closed; c2's L3 past 90 days.
const APRIL: &str = "c1,L1,2024-04,0,0,关注,true,\nc2,L3,2024-04,100,0,关注,true,\n";

fn write(dir: &Path, name: &str, rows: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{HEADER}{rows}")).unwrap();
    p(&path).to_string()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// One integer from SQL on a store's database.
fn sql_int(loc: &str, query: &str) -> i64 {
    if loc.starts_with("postgres") {
        let mut c = postgres::Client::connect(loc, postgres::NoTls).unwrap();
        let r = c.query_one(query, &[]).unwrap();
        r.try_get::<_, i64>(0).or_else(|_| r.try_get::<_, i32>(0).map(i64::from)).unwrap()
    } else {
        let c = rusqlite::Connection::open(loc).unwrap();
        c.query_row(query, [], |r| r.get(0)).unwrap()
    }
}

/// `loans` for `month` from `records`, with more arguments.
fn loans(month: &str, records: &str, more: &[&str]) -> std::process::Output {
    let mut args = vec!["loans", "--month", month, "--loans", records];
    args.extend_from_slice(more);
    cli(&args)
}

/// A file's lines after its header.
fn body(text: &str) -> String {
    text.lines().skip(1).map(|l| format!("{l}\n")).collect()
}

#[test]
fn two_months_chain_through_the_store_and_explain_and_export_show_them() {
    let s = common::stores("crmt_loans", "chain");
    let d = s.dir.path();
    let (march, april) = (write(d, "march.csv", MARCH), write(d, "april.csv", APRIL));
    // The chain through files: what the store's chain must give.
    let (f3, f4) = (d.join("f3"), d.join("f4"));
    assert_eq!(code(&loans("2024-03", &march, &["--out", p(&f3)])), 0);
    let states = d.join("f3/loan-states.jsonl");
    assert_eq!(code(&loans("2024-04", &april, &["--states", p(&states), "--out", p(&f4)])), 0);
    let aum = common::month_file(
        d,
        "aum.csv",
        &[("2024-03", "c1", "600000.00"), ("2024-04", "c1", "600000.00"), ("2024-03", "c9", "1000.00")],
    );
    for (k, loc) in s.locations.iter().enumerate() {
        let dir = |name: &str| d.join(format!("{name}-{k}"));
        // No store yet: never made here; an error naming `init`, and no files.
        let o = loans("2024-03", &march, &["--store", loc, "--out", p(&dir("none"))]);
        assert_eq!(code(&o), 2, "{}", err(&o));
        assert!(err(&o).contains("crm-tiering init --store"), "{}", err(&o));
        assert_eq!(files_in(&dir("none")), 0, "no files written");
        assert_eq!(code(&cli(&["init", "--store", loc])), 0);
        let o = cli(&["run", "--month", "2024-03..2024-04", "--aum", &aum, "--store", loc, "--quiet"]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let before = out(&cli(&["explain", "--customer", "c1", "--store", loc]));

        let o = loans("2024-03", &march, &["--store", loc, "--out", p(&dir("o3"))]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(out(&o).contains("stored the loan month 2024-03 in"), "{}", out(&o));
        // April reads March's states from the store: no --states.
        let o = loans("2024-04", &april, &["--store", loc, "--out", p(&dir("o4"))]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        for name in ["customers.csv", "signals.csv", "loan-states.jsonl"] {
            assert_eq!(read(&dir("o4"), name), read(&f4, name), "{name}");
        }
        assert!(read(&f4, "customers.csv").contains("2024-04,c1,1,substandard,次级,same,1\n"));
        // --store alone writes the store and no files; a states file beside a store that
        // holds the month before is refused.
        let o = loans("2024-04", &april, &["--store", loc, "--states", p(&states), "--rerun"]);
        assert_eq!(code(&o), 2, "{}", err(&o));
        assert!(err(&o).contains("holds the loan month 2024-03 before 2024-04"), "{}", err(&o));

        let o = cli(&["explain", "--customer", "c1", "--store", loc]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let story = out(&o);
        assert!(story.starts_with(&before), "{before}\n---\n{story}");
        let rest = &story[before.len()..];
        assert!(rest.contains("Loan classification 贷款五级分类 (2 stored month(s))"), "{rest}");
        assert!(rest.contains("2024-04      1  次级 substandard   持平 same"), "{rest}");
        assert!(rest.contains("2024-03: loan L1: 120 day(s) overdue"), "{rest}");
        assert!(rest.contains("bank 银行分类 关注 special_mention, effective 认定分类 次级 substandard"), "{rest}");
        assert!(
            rest.contains("signal 分类宽于监管底线 bank_class_kinder_than_floor (2204), boundary 90 day(s)"),
            "{rest}"
        );
        assert!(rest.contains("upgrade out of non-performing held (1 clean month(s), 1 clean period(s))"), "{rest}");
        assert!(rest.contains("signal 不良上调观察期未满 upgrade_held_by_clean_window (2205)"), "{rest}");
        // c2 has no tiering month: its loan months alone.
        let o = cli(&["explain", "--customer", "c2", "--store", loc]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(out(&o).starts_with("Loan classification 贷款五级分类 (2 stored month(s))"), "{}", out(&o));
        assert!(
            out(&o).contains("signal 临近不良 approaching_non_performing (2202), boundary 90 day(s)"),
            "{}",
            out(&o)
        );

        // `export`: the stored months in the command's columns, and the states files.
        let x = dir("export");
        let o = cli(&["export", "--month", "2024-03..2024-04", "--format", "csv", "--store", loc, "--out", p(&x)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let both = |name: &str| format!("{}{}", read(&dir("o3"), name), body(&read(&dir("o4"), name)));
        assert_eq!(read(&x, "loan_customers.csv"), both("customers.csv"));
        assert_eq!(read(&x, "loan_signals.csv"), both("signals.csv"));
        let results = read(&x, "loan_results.csv");
        assert!(
            results.contains(
                "\n2024-03,c1,L1,120,0,120,substandard,次级,special_mention,substandard,次级,1,none,0,0,0.35\n"
            ),
            "{results}"
        );
        assert!(results.contains("\n2024-04,c1,L1,0,0,0,normal,正常,special_mention,substandard,次级,0,held,1,1,\n"));
        assert_eq!(results.lines().count(), 1 + 3 + 2);
        assert!(out(&o).contains("loan_signals.csv: "), "{}", out(&o));
        let j = dir("jsonl");
        let o = cli(&["export", "--month", "2024-04", "--format", "jsonl", "--store", loc, "--out", p(&j)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert_eq!(read(&j, "loan-states-2024-04.jsonl"), read(&f4, "loan-states.jsonl"));
        assert!(!j.join("loan-states-2024-03.jsonl").exists(), "only the months of the range");
        let q = dir("parquet");
        let o = cli(&["export", "--month", "2024-03", "--format", "parquet", "--store", loc, "--out", p(&q)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(q.join("loan_results.parquet").exists() && q.join("loan_signals.parquet").exists());
        assert!(out(&o).contains("loan_customers.parquet: 2 row(s)"), "{}", out(&o));
    }
}

#[test]
fn a_stored_month_is_refused_without_rerun_and_a_bad_record_writes_nothing() {
    let s = common::stores("crmt_loans", "refused");
    let d = s.dir.path();
    let (march, april) = (write(d, "march.csv", MARCH), write(d, "april.csv", APRIL));
    let fixed = write(d, "fixed.csv", "c1,L1,2024-04,0,0,关注,true,\nc2,L3,2024-04,10,0,关注,true,\n");
    let bad = write(d, "bad.csv", "c1,L1,2024-04,0,0,关注,true,\nc2,L3,2024-04,100,0,pass,true,\n");
    for (k, loc) in s.locations.iter().enumerate() {
        let dir = |name: &str| d.join(format!("{name}-{k}"));
        assert_eq!(code(&cli(&["init", "--store", loc])), 0);
        // A bad record in the first month: no loan month, no files.
        let o = loans("2024-03", &bad, &["--store", loc, "--out", p(&dir("bad3"))]);
        assert_eq!(code(&o), 4, "{}", err(&o));
        assert_eq!(sql_int(loc, "SELECT count(*) FROM loan_months"), 0);
        assert_eq!(files_in(&dir("bad3")), 0);
        assert_eq!(code(&loans("2024-03", &march, &["--store", loc])), 0);
        // A bad record in April: listed with its line and field; March stays the latest.
        let o = loans("2024-04", &bad, &["--store", loc, "--out", p(&dir("bad4"))]);
        assert_eq!(code(&o), 4, "{}", err(&o));
        assert!(err(&o).contains("bad.csv line 3: invalid loan record for customer `c2`, loan `L3`"), "{}", err(&o));
        assert!(err(&o).contains("field `bank_class`"), "{}", err(&o));
        assert_eq!(sql_int(loc, "SELECT count(*) FROM loan_months"), 1);
        assert_eq!(sql_int(loc, "SELECT count(*) FROM loan_states"), 2);
        assert_eq!(files_in(&dir("bad4")), 0);

        assert_eq!(code(&loans("2024-04", &april, &["--store", loc])), 0);
        let worst =
            "SELECT count(*) FROM loan_customers WHERE month = 202404 AND customer_id = 'c2' AND worst = 'substandard'";
        assert_eq!(sql_int(loc, worst), 1);
        // Again without --rerun: refused (exit 8), the stored month and the files untouched.
        let o = loans("2024-04", &fixed, &["--store", loc, "--out", p(&dir("again"))]);
        assert_eq!(code(&o), 8, "{}", err(&o));
        assert!(err(&o).contains("the loan month 2024-04 is in"), "{}", err(&o));
        assert!(err(&o).contains("give --rerun to replace it"), "{}", err(&o));
        assert_eq!(files_in(&dir("again")), 0);
        assert_eq!(sql_int(loc, worst), 1);
        // With --rerun: replaced, from March's states still (10 days: 关注).
        let o = loans("2024-04", &fixed, &["--store", loc, "--rerun", "--out", p(&dir("again"))]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(read(&dir("again"), "customers.csv").contains("2024-04,c2,1,special_mention,关注,same,0\n"));
        assert_eq!(sql_int(loc, worst), 0);
        assert_eq!(sql_int(loc, "SELECT count(*) FROM loan_customers WHERE month = 202404"), 2);
        // March, read by April, is not written again; a gap is the core's sequence error.
        let o = loans("2024-03", &march, &["--store", loc, "--rerun"]);
        assert_eq!(code(&o), 8, "{}", err(&o));
        assert!(err(&o).contains("is before 2024-04, the latest stored"), "{}", err(&o));
        let june = write(d, "june.csv", "c1,L1,2024-06,0,0,关注,true,\n");
        let o = loans("2024-06", &june, &["--store", loc]);
        assert_eq!(code(&o), 4, "{}", err(&o));
        assert!(err(&o).contains("loan month 2024-06 follows 2024-04 but 2024-05 is missing"), "{}", err(&o));
        assert_eq!(sql_int(loc, "SELECT count(*) FROM loan_months"), 2);
    }
}
