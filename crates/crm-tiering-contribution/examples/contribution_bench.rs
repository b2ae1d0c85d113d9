//! Benchmark of a whole contribution run over files (issue 21, "Performance"): read the rule
//! book and the CSV tables, compute (every stage checked to conserve its pool to the fen),
//! check that the lineage sums to the customers' net contribution, and write the customers,
//! managers, branches and lineage as CSV files.
//!
//! ```text
//! cargo run --release -p crm-tiering-contribution --example contribution_data -- 1000000 10 /tmp/cd
//! cargo run --release -p crm-tiering-contribution --example contribution_bench -- /tmp/cd /tmp/cd-out
//! ```
//! The account-months are read line by line into an [`AccountMonthTable`]; with a third
//! argument `list`, into a list of `AccountMonth`s from the whole file's text, as `compute`
//! takes them (the same outputs).
//! Prints each phase's seconds and the peak resident memory (`VmHWM`) to standard error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use crm_tiering::Decimal;
use crm_tiering_contribution::{
    AccountMonthTable, Contribution, ContributionErrors, Figures, Inputs, LineageLine, RuleBook, compute_streaming,
    compute_table_streaming, read_account_months, read_activities, read_assignments, read_cost_pools,
    read_direct_costs, read_fees,
};

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

fn ok<T>(what: &str, r: Result<Vec<T>, ContributionErrors>) -> Vec<T> {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// The inputs besides the account-months (read with them when `list`).
fn inputs(dir: &Path, list: bool) -> Inputs {
    let account_months =
        if list { ok("accounts", read_account_months("accounts.csv", &read(dir, "accounts.csv"))) } else { Vec::new() };
    Inputs {
        account_months,
        fees: ok("fees", read_fees("fees.csv", &read(dir, "fees.csv"))),
        cost_pools: ok("pools", read_cost_pools("pools.csv", &read(dir, "pools.csv"))),
        activities: ok("activities", read_activities("activities.csv", &read(dir, "activities.csv"))),
        direct_costs: ok("direct costs", read_direct_costs("direct_costs.csv", &read(dir, "direct_costs.csv"))),
        assignments: ok("assignments", read_assignments("assignments.csv", &read(dir, "assignments.csv"))),
    }
}

const FIGURES: &str = "interest_asset,interest_liability,fees,allocated_costs,direct_costs,risk_cost,\
                       capital_charge,net_contribution";

fn figures(w: &mut impl Write, f: &Figures) -> std::io::Result<()> {
    writeln!(
        w,
        "{},{},{},{},{},{},{},{}",
        f.interest_asset,
        f.interest_liability,
        f.fees,
        f.allocated_costs,
        f.direct_costs,
        f.risk_cost,
        f.capital_charge,
        f.net_contribution
    )
}

fn create(dir: &Path, name: &str) -> BufWriter<File> {
    BufWriter::with_capacity(1 << 20, File::create(dir.join(name)).expect("create an output file"))
}

/// A comma, then the value if there is one.
fn cell(w: &mut impl Write, v: Option<impl std::fmt::Display>) -> std::io::Result<()> {
    match v {
        Some(v) => write!(w, ",{v}"),
        None => w.write_all(b","),
    }
}

fn write(out: &Path, result: &Contribution) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut w = create(out, "customers.csv");
    writeln!(w, "customer,{FIGURES}")?;
    for c in &result.customers {
        write!(w, "{},", c.customer)?;
        figures(&mut w, &c.figures)?;
    }
    w.flush()?;
    let mut w = create(out, "managers.csv");
    writeln!(w, "manager,customers,{FIGURES}")?;
    for m in &result.managers {
        write!(w, "{},{},", m.manager, m.customers)?;
        figures(&mut w, &m.figures)?;
    }
    w.flush()?;
    let mut w = create(out, "branches.csv");
    writeln!(w, "legal_entity,branch,{FIGURES}")?;
    for b in &result.branches {
        write!(w, "{},{},", b.legal_entity, b.branch)?;
        figures(&mut w, &b.figures)?;
    }
    w.flush()?;
    Ok(())
}

/// Writes lineage lines to `lineage.csv` as they come, and sums each customer's lines.
struct LineageWriter {
    w: BufWriter<File>,
    /// Each customer's id and the sum of its lines, in the order they came.
    sums: Vec<(String, Decimal)>,
    error: Option<std::io::Error>,
}

impl LineageWriter {
    fn new(out: &Path) -> Self {
        std::fs::create_dir_all(out).expect("create the out dir");
        let mut w = create(out, "lineage.csv");
        writeln!(
            w,
            "customer,kind,account,pool,stage,product,item,balance,ftp_rate,customer_rate,rate,risk_weight,days,\
             driver_quantity,driver_total,amount"
        )
        .expect("write the lineage header");
        LineageWriter { w, sums: Vec::new(), error: None }
    }

    fn line(&mut self, l: &LineageLine) {
        match self.sums.last_mut() {
            Some((c, sum)) if *c == l.customer => *sum += l.amount,
            _ => self.sums.push((l.customer.clone(), l.amount)),
        }
        if self.error.is_none()
            && let Err(e) = write_line(&mut self.w, l)
        {
            self.error = Some(e);
        }
    }
}

fn write_line(w: &mut impl Write, l: &LineageLine) -> std::io::Result<()> {
    write!(w, "{},{}", l.customer, l.kind.as_str())?;
    cell(w, l.account.as_ref())?;
    cell(w, l.pool.as_ref())?;
    cell(w, l.stage)?;
    cell(w, l.product.as_ref())?;
    cell(w, l.item.as_ref())?;
    for v in [l.balance, l.ftp_rate, l.customer_rate, l.rate, l.risk_weight] {
        cell(w, v)?;
    }
    cell(w, l.days)?;
    cell(w, l.driver_quantity)?;
    cell(w, l.driver_total)?;
    writeln!(w, ",{}", l.amount)
}

/// The lineage sums to each customer's net contribution, customer by customer.
fn check_lineage(result: &Contribution, sums: &[(String, Decimal)]) {
    assert_eq!(sums.len(), result.customers.len(), "customers with lineage");
    for (c, (id, sum)) in result.customers.iter().zip(sums) {
        assert_eq!(&c.customer, id, "the lineage's order");
        assert_eq!(*sum, c.figures.net_contribution, "customer {}'s lineage", c.customer);
    }
}

/// A figure of `/proc/self/status` (`VmHWM`: the peak resident memory; `VmRSS`: the current).
fn status(key: &str) -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with(key)).unwrap_or("? ?");
    line.split_whitespace().skip(1).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = Path::new(args.first().map_or("contribution-data", String::as_str)).to_path_buf();
    let out = Path::new(args.get(1).map_or("contribution-out", String::as_str)).to_path_buf();
    let start = Instant::now();
    let book = RuleBook::from_path(&dir.join("book.toml")).unwrap_or_else(|e| panic!("book: {e}"));
    let list = args.get(2).is_some_and(|a| a == "list");
    let table = if list {
        AccountMonthTable::new()
    } else {
        let file = File::open(dir.join("accounts.csv")).expect("open accounts.csv");
        let reader = std::io::BufReader::with_capacity(1 << 20, file);
        AccountMonthTable::read_csv("accounts.csv", reader).unwrap_or_else(|e| panic!("accounts: {e}"))
    };
    let inputs = inputs(&dir, list);
    let read_s = start.elapsed().as_secs_f64();
    let read_rss = status("VmRSS");
    let t = Instant::now();
    let mut lineage = LineageWriter::new(&out);
    let month = "2024-03".parse().expect("month");
    let result = if list {
        compute_streaming(&book, month, &inputs, |l| lineage.line(&l))
    } else {
        compute_table_streaming(&book, month, &table, &inputs, |l| lineage.line(&l))
    };
    let result = result.unwrap_or_else(|e| panic!("compute: {e}"));
    if let Some(e) = lineage.error.take() {
        panic!("write the lineage: {e}");
    }
    lineage.w.flush().expect("write the lineage");
    let compute_s = t.elapsed().as_secs_f64();
    drop(inputs);
    drop(table);
    let t = Instant::now();
    check_lineage(&result, &lineage.sums);
    write(&out, &result).expect("write the outputs");
    let write_s = t.elapsed().as_secs_f64();
    let lines = lineage.sums.len();
    eprintln!(
        "{} customers with lineage: read {read_s:.2}s (resident {read_rss}), compute and write the lineage {compute_s:.2}s, \
         check and write the rest {write_s:.2}s, total {:.2}s, peak RSS {}",
        lines,
        start.elapsed().as_secs_f64(),
        status("VmHWM")
    );
}
