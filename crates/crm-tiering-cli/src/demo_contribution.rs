//! `crm-tiering demo --contribution`: a contribution month (客户贡献度, SPEC §20) for the demo
//! portfolio's customers in its last month, for its county-level legal entities: deposit
//! accounts (liabilities) by the customers' AUM profiles, some loans (assets) with their loan
//! classes, an FTP rate table with a rate change in the month, fees, five cost pools (head
//! office, branch operations, channel, risk management, account servicing) with their drivers'
//! activities, direct costs and account manager assignments with 主办/协办 splits; then the
//! month is computed into `contribution/` and the demo's store.
//!
//! Seeded like the demo (its own stream of the same splitmix64): the same seed gives the same
//! files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crm_tiering::{Month, from_fen};

use crate::contribution::{ContributionArgs, contribution_command};
use crate::demo::Rng;
use crate::exit::{Exit, Failure};
use crate::output::{OutFile, Staging};

/// The contribution rule book of the demo: `rules-spec/contribution-demo.toml`.
const BOOK: &str = include_str!("../../../rules-spec/contribution-demo.toml");
/// The name of the FTP rate table the book reads beside it.
const FTP_FILE: &str = "contribution-demo-ftp.csv";

/// A demo customer in the contribution month: id, legal entity code, whether corporate, its
/// AUM in fen and its AUM profile's deposit shares (demand, time; per mille).
pub(crate) struct Holding {
    pub(crate) id: String,
    pub(crate) entity: &'static str,
    pub(crate) corporate: bool,
    pub(crate) total: i64,
    pub(crate) deposits: (i64, i64),
}

/// The input files written, and a customer worth explaining.
struct Dataset {
    dir: PathBuf,
    explain: Option<String>,
}

/// The FTP rate table: every product from the demo's first month, demand deposits and 1-year
/// loans repriced in its last (when the demo has more than one month).
fn ftp_table(first: Month, last: Month) -> String {
    let mut s = String::from("product,term,effective,rate\n");
    for (product, term, rate, repriced) in [
        ("demand", "none", "0.0185", Some("0.0170")),
        ("time", "1y", "0.0230", None),
        ("time", "3y", "0.0290", None),
        ("loan", "1y", "0.0330", Some("0.0310")),
        ("loan", "3y", "0.0370", None),
    ] {
        let _ = writeln!(s, "{product},{term},{first},{rate}");
        if let Some(r) = repriced.filter(|_| last > first) {
            let _ = writeln!(s, "{product},{term},{last},{r}");
        }
    }
    s
}

/// An annual rate from `base` to `base + spread` basis points, as a fraction (`435` is
/// `0.0435`).
fn rate(rng: &mut Rng, base: i64, spread: u64) -> String {
    let bp = base + rng.below(spread + 1) as i64;
    format!("0.{bp:04}")
}

/// The open files of the dataset.
struct Files {
    accounts: OutFile,
    fees: OutFile,
    activities: OutFile,
    direct: OutFile,
    assignments: OutFile,
}

/// One customer's accounts, fees, activities, direct costs and managers. Returns its number
/// of accounts and whether it has a loan and an assisting manager.
fn customer(
    f: &mut Files,
    rng: &mut Rng,
    month: Month,
    h: &Holding,
    first: bool,
) -> Result<(u64, bool, bool), Failure> {
    let id = &h.id;
    let branch = format!("{}{}", h.entity, if rng.chance(400) { "02" } else { "01" });
    let at = format!("{branch},{}", h.entity);
    let (demand, time) = (h.total * h.deposits.0 / 1000, h.total * h.deposits.1 / 1000);
    let demand_rate = rate(rng, 20, 15);
    f.accounts.line(&format!("{month},{id},{id}01,demand,none,liability,{},{demand_rate},{at},,", from_fen(demand)))?;
    let mut accounts = 1;
    if time > 0 {
        let (term, r) = if rng.chance(600) { ("1y", rate(rng, 150, 25)) } else { ("3y", rate(rng, 210, 50)) };
        f.accounts.line(&format!("{month},{id},{id}02,time,{term},liability,{},{r},{at},,", from_fen(time)))?;
        accounts += 1;
    }
    let loan = first || rng.chance(if h.corporate { 400 } else { 80 });
    if loan {
        // 50,000 to 500,000 CNY for a person, 100,000 to 3,000,000 for a company.
        let (least, most) = if h.corporate { (10_000_000, 290_000_000) } else { (5_000_000, 45_000_000) };
        let balance = least + rng.below(most) as i64;
        let class = match rng.below(1000) {
            0..960 => "正常",
            960..985 => "关注",
            985..993 => "次级",
            993..998 => "可疑",
            _ => "损失",
        };
        let (term, r) = if rng.chance(700) { ("1y", rate(rng, 435, 115)) } else { ("3y", rate(rng, 475, 125)) };
        let weight = if h.corporate { "1" } else { "0.75" };
        let line = format!("{month},{id},{id}03,loan,{term},asset,{},{r},{at},{class},{weight}", from_fen(balance));
        f.accounts.line(&line)?;
        accounts += 1;
    }
    if h.deposits.0 < 300 && rng.chance(500) {
        // A wealth-management or fund customer: 代销手续费, 0.5‰ to 2‰ of its AUM.
        let fee = h.total * (5 + rng.below(16) as i64) / 10_000;
        f.fees.line(&format!("{month},{id},wealth,{}", from_fen(fee)))?;
    }
    if rng.chance(200) {
        f.fees.line(&format!("{month},{id},card,10.00"))?;
    }
    activities(f, rng, month, id, &branch, loan, first)?;
    if h.total > 100_000_000 && rng.chance(300) {
        f.direct.line(&format!("{month},{id},礼品 gift,{}", from_fen(5_000 + rng.below(25_000) as i64)))?;
    }
    if rng.chance(100) {
        f.direct.line(&format!("{month},{id},短信 sms,2.00"))?;
    }
    let mut split = false;
    if first || rng.chance(900) {
        let lead = 1 + rng.below(6);
        if rng.chance(250) {
            let other = 1 + (lead + rng.below(5)) % 6;
            let share = if rng.chance(500) { 70 } else { 60 };
            f.assignments.line(&format!("{id},{}-M{lead:02},主办,{share}", h.entity))?;
            f.assignments.line(&format!("{id},{}-M{other:02},协办,{}", h.entity, 100 - share))?;
            split = true;
        } else {
            f.assignments.line(&format!("{id},{}-M{lead:02},主办,100", h.entity))?;
        }
    }
    Ok((accounts, loan, split))
}

/// A customer's counter minutes and transactions by product and channel.
fn activities(
    f: &mut Files,
    rng: &mut Rng,
    month: Month,
    id: &str,
    branch: &str,
    loan: bool,
    first: bool,
) -> Result<(), Failure> {
    let minutes = rng.below(600) + u64::from(first);
    if minutes > 0 {
        let line = format!("{month},{id},counter_minutes,,,{branch},{}.{}", minutes / 10, minutes % 10);
        f.activities.line(&line)?;
    }
    let mut counts =
        vec![("deposit", "counter", rng.below(9) + u64::from(first)), ("deposit", "mobile", rng.below(41))];
    if loan {
        counts.push(("loan", "counter", 1 + rng.below(3)));
        counts.push(("loan", "mobile", rng.below(6)));
    }
    for (product, channel, n) in counts.into_iter().filter(|c| c.2 > 0) {
        f.activities.line(&format!("{month},{id},transactions,{product},{channel},{branch},{n}"))?;
    }
    Ok(())
}

/// Writes the book, its FTP table and the month's input tables into `dir`.
fn write_dataset(dir: &Path, seed: u64, first: Month, month: Month, holdings: &[Holding]) -> Result<Dataset, Failure> {
    let mut rng = Rng::new(seed ^ 0x2121_2121_2121_2121);
    let mut staging = Staging::new(dir)?;
    staging.write("contribution-demo.toml", BOOK)?;
    staging.write(FTP_FILE, &ftp_table(first, month))?;
    let mut f = Files {
        accounts: staging.create("accounts.csv")?,
        fees: staging.create("fees.csv")?,
        activities: staging.create("activities.csv")?,
        direct: staging.create("direct-costs.csv")?,
        assignments: staging.create("assignments.csv")?,
    };
    f.accounts.line(
        "month,customer,account,product,term,side,average_balance,customer_rate,branch,legal_entity,loan_class,risk_weight",
    )?;
    f.fees.line("month,customer,product,amount")?;
    f.activities.line("month,customer,quantity,product,channel,branch,value")?;
    f.direct.line("month,customer,item,amount")?;
    f.assignments.line("customer,manager,role,share")?;
    let (mut accounts, mut loans, mut explain) = (0u64, 0u64, None);
    for (k, h) in holdings.iter().enumerate() {
        let (n, loan, split) = customer(&mut f, &mut rng, month, h, k == 0)?;
        accounts += n;
        loans += u64::from(loan);
        if explain.is_none() && loan && split {
            explain = Some(h.id.clone());
        }
    }
    let explain = explain.or_else(|| holdings.first().map(|h| h.id.clone()));
    let n = holdings.len() as i64;
    let mut pools = String::from("month,cost_centre,amount\n");
    for (pool, fen) in [
        ("head_office", n * 300 + 1_234_567),
        ("branch_ops", n * 600),
        ("channel", n * 200),
        ("risk_mgmt", loans as i64 * 4_000),
        ("account_service", accounts as i64 * 50),
    ] {
        let _ = writeln!(pools, "{month},{pool},{}", from_fen(fen));
    }
    staging.write("cost-pools.csv", &pools)?;
    for file in [f.accounts, f.fees, f.activities, f.direct, f.assignments] {
        file.finish()?;
    }
    staging.commit()?;
    Ok(Dataset { dir: dir.to_path_buf(), explain })
}

/// Writes the dataset into `out/input/contribution`, computes the month into
/// `out/contribution` and the store, and prints where everything is and how to explain a
/// customer.
pub(crate) fn run(
    out: &Path,
    seed: u64,
    first: Month,
    month: Month,
    holdings: &[Holding],
    store: &str,
) -> Result<Exit, Failure> {
    if holdings.is_empty() {
        println!("\ncontribution: no customer is present in {month}: nothing to compute");
        return Ok(Exit::Ok);
    }
    let data = write_dataset(&out.join("input").join("contribution"), seed, first, month, holdings)?;
    let file = |name: &str| data.dir.join(name);
    let args = ContributionArgs {
        rules: file("contribution-demo.toml"),
        month,
        accounts: file("accounts.csv"),
        fees: Some(file("fees.csv")),
        cost_pools: Some(file("cost-pools.csv")),
        activities: Some(file("activities.csv")),
        direct_costs: Some(file("direct-costs.csv")),
        assignments: Some(file("assignments.csv")),
        out: Some(out.join("contribution")),
        store: Some(store.to_string()),
        rerun: false,
        explain: None,
    };
    println!("\ncontribution (贡献度) of {month}:");
    let exit = contribution_command(&args)?;
    print_commands(&args, data.explain.as_deref(), store);
    Ok(exit)
}

/// The commands that compute the month again and explain a customer, as a person can paste
/// them.
fn print_commands(args: &ContributionArgs, customer: Option<&str>, store: &str) {
    let program = crate::invocation::program();
    let path = |p: &Path| crate::invocation::shell_path(p);
    let opt = |flag: &str, p: &Option<PathBuf>| p.as_ref().map(|p| format!(" {flag} {}", path(p))).unwrap_or_default();
    println!(
        "contribution inputs: {}",
        crate::run::display_dir(&args.rules.parent().map(Path::to_path_buf).unwrap_or_default())
    );
    println!("the contribution month by hand (files into --out):");
    println!(
        "  {program} contribution --month {} --rules {} --accounts {}{}{}{}{}{} --out {}",
        args.month,
        path(&args.rules),
        path(&args.accounts),
        opt("--fees", &args.fees),
        opt("--cost-pools", &args.cost_pools),
        opt("--activities", &args.activities),
        opt("--direct-costs", &args.direct_costs),
        opt("--assignments", &args.assignments),
        path(&args.out.clone().unwrap_or_default().with_file_name("contribution-by-hand")),
    );
    if let Some(id) = customer {
        let id = crate::invocation::shell_word(id);
        println!(
            "one customer's contribution, line by line (after its tiering story):\n  {program} explain --customer {id} --store {}",
            crate::invocation::shell_word(store)
        );
    }
}
