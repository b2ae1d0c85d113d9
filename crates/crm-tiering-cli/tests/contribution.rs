//! `crm-tiering contribution` end to end on a small hand-made month whose figures are computed
//! by hand below (not copied from output): the CSV files, `--explain`, a bad record, and the
//! month-end store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

mod common;

use std::path::{Path, PathBuf};

use common::{cli, code, err, out, p};

/// Basis 360, half_up; every account runs 30 days, so each annual amount is a twelfth.
const BOOK: &str = r#"
basis = 360
[ftp]
rates = [
  { product = "demand", term = "none", effective = "2024-01", rate = "0.0200" },
  { product = "demand", term = "none", effective = "2024-04", rate = "0.0180" },
  { product = "loan", term = "1y", effective = "2024-01", rate = "0.0400" },
]
[[stages]]
pool = "counter"
driver = "accounts"
[[stages]]
pool = "ops"
driver = "balances"
side = "liability"
[provision]
normal = "0.01"
special_mention = "0.03"
substandard = "0.25"
doubtful = "0.5"
loss = "1"
"#;

// c1: a1 120,000.00 × (2.00% − 0.50%) / 12 = 150.00 (liability);
//     l1 240,000.00 × (5.50% − 4.00%) / 12 = 300.00 (asset), risk 240,000.00 × 1% / 12 = 200.00.
// c2: a2 60,000.00 × (2.00% − 0.30%) / 12 = 85.00.   c3: a3 36,000.00 × 1.80% / 12 = 54.00.
// (The 2024-04 demand rate is not yet in force in 2024-03.)
const ACCOUNTS: &str = "\
month,customer,account,product,term,side,average_balance,customer_rate,days,branch,legal_entity,loan_class
2024-03,c1,a1,demand,,liability,120000.00,0.0050,30,b1,le1,
2024-03,c1,l1,loan,1y,asset,240000.00,0.0550,30,b1,le1,正常
2024-03,c2,a2,demand,,liability,60000.00,0.0030,30,b2,le1,
2024-03,c3,a3,demand,,liability,36000.00,0.0020,30,b2,le1,
";

const FEES: &str = "month,customer,amount\n2024-03,c1,50.00\n2024-03,c2,10.00\n";

// counter 100.00 by accounts 2:1:1 → c1 50.00, c2 25.00, c3 25.00.
// ops 10.00 by liability balances 120,000 : 60,000 : 36,000 (of 216,000) → floors 5.55, 2.77,
// 1.66 (remainders .555, .777, .666 of a fen): the 2 fen left go to c2 and c3 → 5.55, 2.78, 1.67.
const POOLS: &str = "month,cost_centre,amount\n2024-03,counter,100.00\n2024-03,ops,10.00\n";

const DIRECT: &str = "month,customer,item,amount\n2024-03,c3,gift,12.00\n";

const ASSIGNMENTS: &str = "customer,manager,role,share\nc1,m1,主办,60\nc1,m2,协办,40\nc2,m1,主办,100\n";

struct Month {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Month {
    fn new(accounts: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        for (name, text) in [
            ("book.toml", BOOK),
            ("accounts.csv", accounts),
            ("fees.csv", FEES),
            ("pools.csv", POOLS),
            ("direct.csv", DIRECT),
            ("managers.csv", ASSIGNMENTS),
        ] {
            std::fs::write(root.join(name), text).unwrap();
        }
        Month { _dir: dir, root }
    }

    fn path(&self, name: &str) -> String {
        p(&self.root.join(name)).to_string()
    }

    fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = ["contribution", "--month", "2024-03"].iter().map(|s| (*s).to_string()).collect();
        for (flag, file) in [
            ("--rules", "book.toml"),
            ("--accounts", "accounts.csv"),
            ("--fees", "fees.csv"),
            ("--cost-pools", "pools.csv"),
            ("--direct-costs", "direct.csv"),
            ("--assignments", "managers.csv"),
        ] {
            a.push(flag.to_string());
            a.push(self.path(file));
        }
        a.extend(extra.iter().map(|s| (*s).to_string()));
        a
    }

    fn run(&self, extra: &[&str]) -> std::process::Output {
        let a = self.args(extra);
        cli(&a.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn writes_the_hand_computed_figures() {
    let m = Month::new(ACCOUNTS);
    let out_dir = m.root.join("out");
    let o = m.run(&["--out", p(&out_dir)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    // c1: 300.00 + 150.00 + 50.00 − (50.00 + 5.55) − 200.00 = 244.45
    // c2: 85.00 + 10.00 − (25.00 + 2.78) = 67.22;  c3: 54.00 − (25.00 + 1.67) − 12.00 = 15.33
    assert_eq!(
        read(&out_dir, "customers.csv"),
        "month,customer,interest_asset,interest_liability,fees,allocated_costs,direct_costs,risk_cost,\
         capital_charge,net_contribution,allocated_counter,allocated_ops\n\
         2024-03,c1,300.00,150.00,50.00,55.55,0.00,200.00,0.00,244.45,50.00,5.55\n\
         2024-03,c2,0.00,85.00,10.00,27.78,0.00,0.00,0.00,67.22,25.00,2.78\n\
         2024-03,c3,0.00,54.00,0.00,26.67,12.00,0.00,0.00,15.33,25.00,1.67\n"
    );
    // m1: 60% of c1 (180.00, 90.00, 30.00, 33.33, 120.00: net 146.67) and all of c2 (67.22);
    // m2: 40% of c1 (120.00, 60.00, 20.00, 22.22, 80.00: net 97.78); c3 has no manager.
    assert_eq!(
        read(&out_dir, "managers.csv"),
        "month,manager,customers,interest_asset,interest_liability,fees,allocated_costs,direct_costs,\
         risk_cost,capital_charge,net_contribution\n\
         2024-03,m1,2,180.00,175.00,40.00,61.11,0.00,120.00,0.00,213.89\n\
         2024-03,m2,1,120.00,60.00,20.00,22.22,0.00,80.00,0.00,97.78\n\
         2024-03,,1,0.00,54.00,0.00,26.67,12.00,0.00,0.00,15.33\n"
    );
    let branches = read(&out_dir, "branches.csv");
    assert!(branches.contains("2024-03,le1,b1,300.00,150.00,50.00,55.55,0.00,200.00,0.00,244.45\n"), "{branches}");
    assert!(branches.contains("2024-03,le1,b2,0.00,139.00,10.00,54.45,12.00,0.00,0.00,82.55\n"), "{branches}");
    let entities = read(&out_dir, "legal_entities.csv");
    assert!(entities.ends_with("2024-03,le1,300.00,289.00,60.00,110.00,12.00,200.00,0.00,327.00\n"), "{entities}");
    let stages = read(&out_dir, "stages.csv");
    assert!(stages.contains("2024-03,1,counter,accounts,100.00,4,3,100.00,,true\n"), "{stages}");
    assert!(stages.contains("2024-03,2,ops,balances,10.00,216000.00,3,10.00,,true\n"), "{stages}");
    let lineage = read(&out_dir, "lineage.csv");
    let c1: Vec<&str> = lineage.lines().filter(|l| l.starts_with("2024-03,c1,")).collect();
    assert_eq!(c1.len(), 6, "{lineage}");
    assert_eq!(c1[0], "2024-03,c1,interest_asset,l1,,,loan,,240000.00,0.0400,0.0550,,,30,,,300.00");
    assert!(c1[4].starts_with("2024-03,c1,allocated_cost,,ops,2,"), "{}", c1[4]);
    assert!(c1[4].ends_with(",-5.55"), "{}", c1[4]);
    assert_eq!(lineage.lines().count(), 1 + 6 + 4 + 4, "{lineage}");
    let summary = out(&o);
    assert!(
        summary.contains(
            "contribution 2024-03: 3 customers, 4 account-months, net contribution 327.00, 2/2 stages conserved"
        ),
        "{summary}"
    );
}

#[test]
fn explains_a_customer() {
    let m = Month::new(ACCOUNTS);
    let o = m.run(&["--explain", "c1"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let text = out(&o);
    for expected in [
        "customer c1: 6 contribution line(s)",
        "资产利息贡献 interest_asset",
        "account l1",
        "ftp 4.00%, customer 5.50%",
        "pool ops (stage 2)",
        "120000 / 216000",
        "55.5556%",
        "-200.00",
        "rate 1.00%",
    ] {
        assert!(text.contains(expected), "`{expected}` in:\n{text}");
    }
    let net = text.lines().find(|l| l.starts_with("net contribution")).unwrap();
    assert!(net.ends_with("244.45"), "{net}");
    let none = m.root.join("none");
    let o = m.run(&["--explain", "nobody", "--out", p(&none)]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("customer `nobody` has no account-month in 2024-03"), "{}", err(&o));
    assert!(!none.exists(), "nothing written, not even the directory");
}

#[test]
fn a_negative_balance_is_named_by_file_line_and_field_and_nothing_is_written() {
    let m = Month::new(&ACCOUNTS.replace("60000.00,0.0030", "-60000.00,0.0030"));
    let out_dir = m.root.join("out");
    let o = m.run(&["--out", p(&out_dir)]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains(&format!("{} line 4: account a2: average_balance: -60000.00 is negative", m.path("accounts.csv"))),
        "{e}"
    );
    assert!(e.contains("nothing was written"), "{e}");
    let left: Vec<_> = std::fs::read_dir(&out_dir).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(left.is_empty(), "no output files: {left:?}");
}

#[test]
fn an_accounts_line_not_utf8_is_named_and_a_missing_file_is_usage() {
    // The account-months are read line by line: a line that is not UTF-8 is bad input, named
    // by file and line; the lines before it are not computed.
    let m = Month::new(ACCOUNTS);
    let mut bytes = ACCOUNTS.as_bytes().to_vec();
    bytes.extend_from_slice(b"2024-03,c\xff,a9,demand,,liability,1.00,0.0030,30,b1,le1,\n");
    std::fs::write(m.root.join("accounts.csv"), bytes).unwrap();
    let out_dir = m.root.join("out");
    let o = m.run(&["--out", p(&out_dir)]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    let line = ACCOUNTS.lines().count() + 1;
    assert!(err(&o).contains(&format!("{} line {line}: not UTF-8 text", m.path("accounts.csv"))), "{}", err(&o));
    assert!(!out_dir.exists() || std::fs::read_dir(&out_dir).unwrap().next().is_none());
    std::fs::remove_file(m.root.join("accounts.csv")).unwrap();
    let o = m.run(&[]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains(&format!("{}: cannot read", m.path("accounts.csv"))), "{}", err(&o));
}

#[test]
fn every_bad_cell_and_share_is_listed() {
    let m = Month::new(&ACCOUNTS.replace("c2,a2,demand,,liability", "c2,a2,demand,,deposit"));
    let o = m.run(&[]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    assert!(err(&o).contains("accounts.csv line 4, column side: `deposit` is not asset or liability"), "{}", err(&o));
    let m = Month::new(ACCOUNTS);
    std::fs::write(m.root.join("managers.csv"), "customer,manager,role,share\nc1,m1,主办,60\nc1,m2,协办,30\n").unwrap();
    let o = m.run(&[]);
    assert_eq!(code(&o), 4, "{}", err(&o));
    assert!(
        err(&o).contains("managers.csv lines 2, 3: customer c1: manager shares sum to 90%, not 100%"),
        "{}",
        err(&o)
    );
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

#[test]
fn the_store_keeps_the_month_explain_shows_it_after_the_tiering_story_and_a_rerun_replaces_it() {
    let s = common::stores("crmt_contrib", "explain");
    let m = Month::new(ACCOUNTS);
    for loc in &s.locations {
        // No store yet: never made here; an error naming `init`, and no files.
        let none = m.root.join(format!("none-{}", loc.len()));
        let o = m.run(&["--store", loc, "--out", p(&none)]);
        assert_eq!(code(&o), 2, "{}", err(&o));
        assert!(err(&o).contains("crm-tiering init --store"), "{}", err(&o));
        assert!(std::fs::read_dir(&none).map(|d| d.count()).unwrap_or(0) == 0, "no files written");
        let o = cli(&["init", "--store", loc]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let aum =
            common::month_file(&m.root, "aum.csv", &[("2024-03", "c1", "600000.00"), ("2024-03", "c2", "1000.00")]);
        let o = cli(&["run", "--month", "2024-03", "--aum", &aum, "--store", loc, "--quiet"]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let before = out(&cli(&["explain", "--customer", "c1", "--store", loc]));

        let o = m.run(&["--store", loc]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(out(&o).contains("stored the contribution month 2024-03"), "{}", out(&o));
        let o = cli(&["explain", "--customer", "c1", "--store", loc]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let story = out(&o);
        // The tiering story is as it was; the contribution follows it.
        assert!(story.starts_with(&before), "{before}\n---\n{story}");
        let rest = &story[before.len()..];
        assert!(rest.contains("Contribution 贡献度 (1 stored month(s))"), "{rest}");
        assert!(rest.contains("2024-03: net contribution 244.45"), "{rest}");
        assert!(rest.contains("pool ops (stage 2)"), "{rest}");
        assert!(rest.contains("120000 / 216000"), "{rest}");
        // c3 has no tiering month: its contribution alone.
        let o = cli(&["explain", "--customer", "c3", "--store", loc]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(out(&o).contains("2024-03: net contribution 15.33"), "{}", out(&o));

        // A second run of the month is refused without --rerun: nothing written, no files.
        std::fs::write(m.root.join("fees.csv"), "month,customer,amount\n2024-03,c1,80.00\n2024-03,c2,10.00\n").unwrap();
        let out_dir = m.root.join(format!("out-{}", loc.len()));
        let o = m.run(&["--store", loc, "--out", p(&out_dir)]);
        assert_eq!(code(&o), 8, "{}", err(&o));
        assert!(err(&o).contains("give --rerun to replace it"), "{}", err(&o));
        assert!(std::fs::read_dir(&out_dir).map(|d| d.count()).unwrap_or(0) == 0, "no files written");
        let o = m.run(&["--store", loc, "--rerun", "--out", p(&out_dir)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(out_dir.join("customers.csv").is_file());
        // Without a store the lineage goes to its file as it is made: the same six files.
        let streamed = m.root.join(format!("streamed-{}", loc.len()));
        let o = m.run(&["--out", p(&streamed)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        for f in ["customers.csv", "managers.csv", "branches.csv", "legal_entities.csv", "lineage.csv", "stages.csv"] {
            assert_eq!(read(&streamed, f), read(&out_dir, f), "{f}");
        }
        // A rerun that fails once its lineage is inserted (the explained customer is found
        // missing after the computation) leaves the stored month as it was, and no files.
        let lines = sql_int(loc, "SELECT count(*) FROM contribution_lineage");
        let fees = std::fs::read_to_string(m.root.join("fees.csv")).unwrap();
        std::fs::write(m.root.join("fees.csv"), "month,customer,amount\n2024-03,c1,999.00\n2024-03,c2,10.00\n")
            .unwrap();
        let failed = m.root.join(format!("failed-{}", loc.len()));
        let o = m.run(&["--store", loc, "--rerun", "--explain", "nobody", "--out", p(&failed)]);
        assert_eq!(code(&o), 2, "{}", err(&o));
        assert!(err(&o).contains("customer `nobody` has no account-month"), "{}", err(&o));
        assert!(!failed.exists());
        std::fs::write(m.root.join("fees.csv"), fees).unwrap();
        assert_eq!(sql_int(loc, "SELECT count(*) FROM contribution_lineage"), lines);
        let story = out(&cli(&["explain", "--customer", "c1", "--store", loc]));
        // c1's fee 50.00 → 80.00: 244.45 + 30.00.
        assert!(story.contains("2024-03: net contribution 274.45"), "{story}");
        assert!(!story.contains("244.45"), "{story}");
        assert_eq!(sql_int(loc, "SELECT count(*) FROM contribution_lineage"), 14);
        assert_eq!(sql_int(loc, "SELECT count(*) FROM contribution_customers"), 3);
        assert_eq!(sql_int(loc, "SELECT net_contribution FROM contribution_customers WHERE customer_id = 'c1'"), 27445);
        // `export --format csv` writes the stored month as the command wrote its files.
        let x = m.root.join(format!("export-{}", loc.len()));
        let o = cli(&["export", "--month", "2024-03", "--format", "csv", "--store", loc, "--out", p(&x)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert_eq!(read(&x, "contribution_lineage.csv"), read(&out_dir, "lineage.csv"));
        assert_eq!(read(&x, "contribution_managers.csv"), read(&out_dir, "managers.csv"));
        let customers = read(&x, "contribution_customers.csv");
        assert!(customers.contains("\n2024-03,c1,300.00,150.00,80.00,55.55,0.00,200.00,0.00,274.45\n"), "{customers}");
        assert!(out(&o).contains("contribution_customers.csv: 3 row(s)"), "{}", out(&o));
        // `export --format parquet` writes the same three tables, in the crate's Arrow columns.
        let q = m.root.join(format!("export-parquet-{}", loc.len()));
        let o = cli(&["export", "--month", "2024-03", "--format", "parquet", "--store", loc, "--out", p(&q)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let rows = |name: &str| {
            let f = std::fs::File::open(q.join(name)).unwrap();
            let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
            reader.build().unwrap().map(Result::unwrap).collect::<Vec<_>>()
        };
        let count = |name: &str| rows(name).iter().map(arrow_array::RecordBatch::num_rows).sum::<usize>();
        assert_eq!(count("contribution_customers.parquet"), 3);
        let mut c1 = Vec::new();
        for b in rows("contribution_customers.parquet") {
            let ids = b
                .column_by_name("customer")
                .unwrap()
                .as_any()
                .downcast_ref::<arrow_array::StringArray>()
                .unwrap()
                .clone();
            let net = b.column_by_name("net_contribution").unwrap();
            let net = net.as_any().downcast_ref::<arrow_array::Decimal128Array>().unwrap();
            c1.extend((0..b.num_rows()).filter(|&i| ids.value(i) == "c1").map(|i| (net.value(i), net.scale())));
        }
        assert_eq!(c1, [(27445, 2)], "the stored 274.45, exactly");
        assert_eq!(count("contribution_lineage.parquet"), 14);
        assert_eq!(count("contribution_managers.parquet"), read(&x, "contribution_managers.csv").lines().count() - 1);
        std::fs::write(m.root.join("fees.csv"), FEES).unwrap();
    }
}

#[test]
fn a_bad_rule_book_is_exit_3_and_a_missing_file_exit_2() {
    let m = Month::new(ACCOUNTS);
    std::fs::write(m.root.join("book.toml"), BOOK.replace("basis = 360", "basis = 300")).unwrap();
    let o = m.run(&[]);
    assert_eq!(code(&o), 3, "{}", err(&o));
    let book = m.path("book.toml");
    assert!(err(&o).contains(&format!("{book}: rule book: basis: 300 is not a day-count basis")), "{}", err(&o));
    std::fs::write(m.root.join("book.toml"), BOOK).unwrap();
    std::fs::remove_file(m.root.join("fees.csv")).unwrap();
    let o = m.run(&[]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("fees.csv: cannot read"), "{}", err(&o));
}

/// The tiering book of `rules-spec/contribution-tiering.toml` (金卡 by AUM **or** a month's net
/// contribution of 200.00, SPEC §20.11); without `measure`, the default book, which has no
/// such measure.
fn tiering_book(measure: bool) -> String {
    let name = if measure { "contribution-tiering.toml" } else { "default-rules.toml" };
    format!("{}/../../rules-spec/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The contribution month's files under the names `run --contribution-inputs` reads.
fn inputs_dir(m: &Month) -> String {
    let dir = m.root.join("inputs");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in [
        ("accounts.csv", ACCOUNTS),
        ("fees.csv", FEES),
        ("cost-pools.csv", POOLS),
        ("direct-costs.csv", DIRECT),
        ("assignments.csv", ASSIGNMENTS),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    p(&dir).to_string()
}

#[test]
fn run_tiers_by_the_contribution_computed_in_the_same_run() {
    let s = common::stores("crmt_contrib", "run");
    let m = Month::new(ACCOUNTS);
    let book = tiering_book(true);
    let inputs = inputs_dir(&m);
    // c1 (AUM 100,000.00, net contribution 244.45) reaches 金卡 by contribution; c2 (67.22) does
    // not; c4 has no accounts (no value: absent is zero) and reaches 金卡 by AUM; c3 has a
    // contribution but no tiering record.
    let aum = common::month_file(
        &m.root,
        "aum.csv",
        &[("2024-03", "c1", "100000.00"), ("2024-03", "c2", "100000.00"), ("2024-03", "c4", "300000.00")],
    );
    let contribution = ["--contribution-rules", &m.path("book.toml"), "--contribution-inputs", &inputs];
    for loc in &s.locations {
        let run = |month: &str, rules: &str, aum: &str, extra: &[&str]| {
            let mut a = vec!["run", "--month", month, "--aum", aum, "--rules", rules, "--store", loc.as_str()];
            a.extend_from_slice(&contribution);
            a.extend_from_slice(extra);
            cli(&a)
        };
        // Refused before anything is written: a range, a book without the measure, a record
        // giving the measure itself, a bad contribution record.
        let o = run("2024-03..2024-04", &book, &aum, &["--create-store"]);
        assert_eq!(code(&o), 2, "{}", err(&o));
        assert!(err(&o).contains("a contribution month needs a single --month"), "{}", err(&o));
        let o = run("2024-03", &tiering_book(false), &aum, &["--create-store"]);
        assert_eq!(code(&o), 3, "{}", err(&o));
        assert!(err(&o).contains("declares no measure `contribution`"), "{}", err(&o));
        let both = m.root.join("both.csv");
        std::fs::write(&both, "month,customer_id,aum,contribution\n2024-03,c1,100000.00,5.00\n").unwrap();
        let o = run("2024-03", &book, p(&both), &["--create-store"]);
        assert_eq!(code(&o), 4, "{}", err(&o));
        assert!(err(&o).contains("customer `c1`") && err(&o).contains("measures.contribution"), "{}", err(&o));
        std::fs::write(m.root.join("inputs/accounts.csv"), ACCOUNTS.replace("36000.00", "-36000.00")).unwrap();
        let o = run("2024-03", &book, &aum, &["--create-store"]);
        assert_eq!(code(&o), 4, "{}", err(&o));
        assert!(err(&o).contains("accounts.csv") && err(&o).contains("line 5"), "{}", err(&o));
        std::fs::write(m.root.join("inputs/accounts.csv"), ACCOUNTS).unwrap();
        let o = cli(&["explain", "--customer", "c1", "--store", loc]);
        assert_ne!(code(&o), 0, "nothing was stored: {}", out(&o));

        let o = run("2024-03", &book, &aum, &["--create-store"]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let text = out(&o);
        assert!(text.contains("measure `contribution` given to 2 tiering record(s)"), "{text}");
        assert!(text.contains("1 contribution customer(s) without a tiering record"), "{text}");
        assert!(text.contains("stored the contribution month 2024-03"), "{text}");
        let story = out(&cli(&["explain", "--customer", "c1", "--store", loc]));
        assert!(story.contains("contribution 244.45 (AUM 100000.00) met the minimum 200.00"), "{story}");
        assert!(story.contains("2024-03: net contribution 244.45"), "{story}");
        let x = m.root.join(format!("run-export-{}", loc.len()));
        let o = cli(&["export", "--month", "2024-03", "--format", "csv", "--store", loc, "--out", p(&x)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let events = read(&x, "events.csv");
        let entered: Vec<&str> = events.lines().filter(|l| l.contains("entered")).collect();
        assert_eq!(entered.len(), 2, "{events}");
        assert!(entered.iter().any(|l| l.contains(",c1,") && l.contains("contribution")), "{events}");
        assert!(entered.iter().any(|l| l.contains(",c4,")), "{events}");
        assert_eq!(sql_int(loc, "SELECT net_contribution FROM contribution_customers WHERE customer_id = 'c1'"), 24445);

        // The month again: the stored contribution month refuses it without --rerun, before the
        // tiering month; with --rerun both are replaced.
        let o = run("2024-03", &book, &aum, &[]);
        assert_eq!(code(&o), 8, "{}", err(&o));
        assert!(err(&o).contains("contribution month 2024-03 already"), "{}", err(&o));
        let o = run("2024-03", &book, &aum, &["--rerun"]);
        assert_eq!(code(&o), 0, "{}", err(&o));
    }
}
