//! `crm-tiering demo`: a seeded, realistic portfolio of a provincial rural credit union
//! (农信社) system, written as the input files a bank would export, then run like `run` does.
//!
//! Money is integer fen throughout the generator; amounts are written with
//! [`crm_tiering::from_fen`]. The generator is a small splitmix64, so the same seed gives the
//! same files on every machine.

use std::path::{Path, PathBuf};

use crm_tiering::{Month, RuleBook};

use crate::exit::{Exit, Failure};
use crm_tiering::portfolio::{MonthRange, PortfolioOptions};

use crate::demo_contribution::Holding;
use crate::demo_inputs::{Activity, CustomerMonth, DAILY_ENTITY, MonthFiles, PROFILES, matured_not_reinvested};
use crate::demo_loans::{Borrower, Borrowing, LoanBook};
use crate::input::{self, InputFiles};
use crate::output::Staging;
use crate::run::{RunConfig, display_dir, execute, print_committed};
use crate::{Encoding, load_rules, thread_count};

/// The size and seed of a demo portfolio.
pub(crate) struct DemoSpec {
    pub(crate) customers: u32,
    pub(crate) months: u32,
    pub(crate) start: String,
    pub(crate) seed: u64,
    /// Also generate and compute a contribution month (`--contribution`).
    pub(crate) contribution: bool,
}

/// splitmix64: a tiny, well-mixed, deterministic generator.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// True with a probability of `per_mille` / 1000.
    pub(crate) fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// A uniform integer in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}

/// County- and city-level rural commercial banks and credit unions (法人机构) of one province,
/// with their share of customers.
const ENTITIES: &[(&str, &str, u64)] = &[
    ("620101", "兰州", 30),
    ("620201", "嘉峪关", 6),
    ("620301", "金昌", 7),
    ("620401", "白银", 11),
    ("620501", "天水", 16),
    ("620621", "民勤", 7),
    ("620722", "民乐", 7),
    ("620802", "崆峒", 16),
];

struct Customer {
    entity: usize,
    corporate: bool,
    /// The customer's underlying wealth with the bank, in fen.
    wealth: i64,
    profile: usize,
    /// Monthly trend in per mille while `m < drift_until`, then `trend`.
    drift: i64,
    drift_from: u32,
    drift_until: u32,
    trend: i64,
    salaried: bool,
    joins: u32,
    away_from: u32,
    away_until: u32,
    leaves_at: u32,
}

fn pick_entity(rng: &mut Rng) -> usize {
    let total: u64 = ENTITIES.iter().map(|e| e.2).sum();
    let mut r = rng.below(total);
    for (i, e) in ENTITIES.iter().enumerate() {
        if r < e.2 {
            return i;
        }
        r -= e.2;
    }
    0
}

fn new_customer(rng: &mut Rng, months: u32) -> Customer {
    // A Pareto-like tail: each doubling of wealth is half as likely (integer draws only).
    let mut doublings = 0u32;
    while doublings < 14 && rng.below(1000) < 500 {
        doublings += 1;
    }
    let base_fen: i64 = 600_000; // 6,000 CNY
    let wealth = (base_fen << doublings) * (1000 + rng.below(1000) as i64) / 1000;
    let profile = match rng.below(100) {
        0..70 => 0,
        70..92 => 1,
        _ => 2,
    };
    let drifting = rng.chance(120);
    let drift_from = rng.below(u64::from(months)) as u32;
    let away = rng.chance(40);
    let away_from = if away { 1 + rng.below(u64::from(months.max(2) - 1)) as u32 } else { u32::MAX };
    Customer {
        entity: pick_entity(rng),
        corporate: rng.chance(30),
        wealth,
        profile,
        drift: if drifting { rng.range(-70, -20) } else { 0 },
        drift_from,
        drift_until: if drifting { drift_from + rng.range(4, 12) as u32 } else { 0 },
        trend: rng.range(-6, 14),
        salaried: rng.chance(550),
        joins: if rng.chance(100) { 1 + rng.below(u64::from(months.max(2) - 1)) as u32 } else { 0 },
        away_from,
        away_until: away_from.saturating_add(rng.range(3, 9) as u32),
        leaves_at: if rng.chance(20) { 1 + rng.below(u64::from(months.max(2) - 1)) as u32 } else { u32::MAX },
    }
}

/// Seasonal flows in per mille of a customer's wealth, by calendar month: year-end bonuses
/// (年终奖) in December and January, Spring Festival (春节) inflows and the spending after.
fn seasonal(month: u32, salaried: bool) -> i64 {
    match (month, salaried) {
        (12, true) => 120,
        (1, true) => 150,
        (1, false) => 60,
        (2, _) => 40,
        (3, _) => -50,
        (6, _) | (9, _) => 15,
        _ => 0,
    }
}

/// What `generate` wrote besides the AUM and designations.
pub(crate) struct Generated {
    /// The customers present in the last month, for the contribution month.
    pub(crate) holdings: Vec<Holding>,
    /// The daily balances file, when the book warns of large flows.
    pub(crate) daily: Option<PathBuf>,
    /// The loan book, classified month by month.
    pub(crate) loans: LoanBook,
}

/// Writes the demo inputs: aum-monthly.csv (with the measure columns the book declares),
/// designations.csv, daily-balances.csv (嘉峪关's last month, when the book warns of large
/// flows) and the loan book month by month (`input/loans/<month>.csv`, classified into
/// `loans/<month>/`, each customer's `non_performing` going into its AUM row).
fn generate(dir: &Path, out: &Path, spec: &DemoSpec, start: Month, book: &RuleBook) -> Result<Generated, Failure> {
    let mut rng = Rng::new(spec.seed);
    let mut people: Vec<Customer> = (0..spec.customers).map(|_| new_customer(&mut rng, spec.months)).collect();
    remove_earlier(dir, out)?;
    let mut staging = Staging::new(dir)?;
    // The warning inputs draw from streams of their own: the balances are drawn as before.
    let mut life = Rng::new(spec.seed ^ 0x4143_5449_5649_5459);
    let mut activity: Vec<Activity> =
        people.iter().map(|c| Activity::new(&mut life, spec.months, c.corporate)).collect();
    let mut files = MonthFiles::new(&mut staging, book, spec)?;
    let large_flows = files.daily();
    let borrowers: Vec<Borrowing> = people
        .iter()
        .map(|c| Borrowing {
            outside: ENTITIES[c.entity].0 == DAILY_ENTITY && large_flows,
            corporate: c.corporate,
            wealthy: c.wealth >= 15_000_000,
        })
        .collect();
    let mut loans = LoanBook::new(spec.seed, &borrowers, spec.months, book.loan_settings());
    // The tiers a designation may name: those of the customer's own rule set (personal and
    // corporate customers are tiered by different sets of the demo book).
    let tiers_of = |kind: crm_tiering::CustomerKind| -> Vec<String> {
        book.select(None, kind)
            .ok()
            .and_then(|id| book.rule_set(id).versions.last())
            .map(|v| v.tiers.iter().map(|t| t.code.to_string()).collect())
            .unwrap_or_default()
    };
    let personal_tiers = tiers_of(crm_tiering::CustomerKind::Personal);
    let corporate_tiers = tiers_of(crm_tiering::CustomerKind::Corporate);

    let mut designations = staging.create("designations.csv")?;
    designations.line("customer_id,month,action,tier,months")?;
    let mut holdings = Vec::new();
    for m in 0..spec.months {
        let month = start.plus(m as i32);
        let standing = loans.month(m, month, &dir.join("loans"), &out.join("loans"), people.len())?;
        for (k, (c, act)) in people.iter_mut().zip(activity.iter_mut()).enumerate() {
            let id = k as u64 + 1;
            let drift = if (c.drift_from..c.drift_until).contains(&m) { c.drift } else { c.trend };
            let noise = rng.range(-30, 30);
            c.wealth = (c.wealth * (1000 + drift + noise) / 1000).max(0);
            let asleep = act.month(&mut life, m, i64::from(month.days()), &mut c.wealth, c.salaried);
            // Someone who drifted to almost nothing sometimes rebuilds (a new job, a sale).
            if !asleep && c.wealth < 100_000 && rng.chance(8) {
                c.wealth = 5_000_000 + rng.below(30_000_000) as i64;
            }
            let present = m >= c.joins && !(c.away_from..c.away_until).contains(&m) && m < c.leaves_at;
            if !present {
                continue;
            }
            let total = if asleep { c.wealth } else { c.wealth * (1000 + seasonal(month.month(), c.salaried)) / 1000 };
            let matured = if asleep { 0 } else { matured_not_reinvested(&mut life, total, &PROFILES[c.profile]) };
            c.wealth = (c.wealth - matured).max(0);
            let (code, name) = (ENTITIES[c.entity].0, ENTITIES[c.entity].1);
            if m + 1 == spec.months {
                let deposits = (PROFILES[c.profile][0], PROFILES[c.profile][1]);
                holdings.push(Holding {
                    id: format!("62{id:08}"),
                    entity: code,
                    corporate: c.corporate,
                    total,
                    deposits,
                });
            }
            let kind = if c.corporate { "corporate" } else { "personal" };
            let customer = CustomerMonth { month, id, entity: (code, name), kind, total, shares: &PROFILES[c.profile] };
            let borrower = standing.get(k).copied().unwrap_or(Borrower::None);
            files.write(m, &customer, act.days(), matured, borrower)?;
            // A few special VIPs (特殊VIP): designated by the branch, some revoked later.
            let tiers = if c.corporate { &corporate_tiers } else { &personal_tiers };
            if m + 2 < spec.months && rng.chance(1) && !tiers.is_empty() {
                let tier = if rng.chance(300) { tiers.get(1).cloned().unwrap_or_default() } else { String::new() };
                let months = if rng.chance(500) { 6 } else { 12 };
                designations.line(&format!("62{id:08},{month},grant,{tier},{months}"))?;
                if rng.chance(250) {
                    let revoke = m + 1 + rng.below(4) as u32;
                    let stays =
                        revoke < spec.months && revoke < c.leaves_at && !(c.away_from..c.away_until).contains(&revoke);
                    if stays {
                        designations.line(&format!("62{id:08},{},revoke,,", start.plus(revoke as i32)))?;
                    }
                }
            }
        }
    }
    files.finish()?;
    designations.finish()?;
    staging.commit()?;
    Ok(Generated { holdings, daily: large_flows.then(|| dir.join("daily-balances.csv")), loans })
}

/// Removes an earlier demo's loan months and daily balances (`out` is the demo's own), so that
/// none of a longer or other demo is left beside this one's.
fn remove_earlier(dir: &Path, out: &Path) -> Result<(), Failure> {
    for loans in [dir.join("loans"), out.join("loans")] {
        if loans.is_dir() {
            std::fs::remove_dir_all(&loans)
                .map_err(|e| crate::exit::io_error(Exit::Internal, &loans, "remove the earlier demo's loans", &e))?;
        }
    }
    let daily = dir.join("daily-balances.csv");
    if daily.is_file() {
        std::fs::remove_file(&daily)
            .map_err(|e| crate::exit::io_error(Exit::Internal, &daily, "remove the earlier demo's file", &e))?;
    }
    Ok(())
}

/// The demo rule book: `rules-spec/demo-rules.toml`.
const DEMO_RULES_TOML: &str = include_str!("../../../rules-spec/demo-rules.toml");

pub(crate) fn demo_command(
    out: &Path,
    spec: DemoSpec,
    rules: Option<&Path>,
    threads: Option<usize>,
    store: Option<&str>,
) -> Result<Exit, Failure> {
    let start: Month = spec.start.parse().map_err(|e| Failure::new(Exit::Usage, format!("--start: {e}")))?;
    if spec.customers == 0 || spec.months == 0 || spec.months > 600 {
        return Err(Failure::new(Exit::Usage, "--customers must be at least 1 and --months from 1 to 600"));
    }
    let last = start.plus(spec.months as i32 - 1);
    let months =
        MonthRange::new(start, last).map_err(|e| Failure::new(Exit::Usage, format!("--start, --months: {e}")))?;
    let clock = std::time::Instant::now();
    let input_dir = out.join("input");
    // The output directory is the demo's own (new, empty, or marked by an earlier demo): a
    // directory of anything else is refused before anything in it is touched.
    claim_out_dir(out)?;
    // The demo portfolio has personal and corporate customers: without --rules it is tiered by
    // the demo rule book (the default personal rules and a corporate rule set), written beside
    // its inputs so that the run by hand uses the same book.
    let rules = rules_file(rules, &input_dir)?;
    let (book, source) = load_rules(Some(&rules))?;
    // The demo's own store is made anew with its inputs; a store given with --store is used as
    // it is (made when missing; its months must not be committed yet).
    let (location, create_store) = demo_store(store, out)?;
    let generated = generate(&input_dir, out, &spec, start, &book)?;
    let generated_in = clock.elapsed();
    let aum = vec![input_dir.join("aum-monthly.csv")];
    let designations = vec![input_dir.join("designations.csv")];
    let daily: Vec<PathBuf> = generated.daily.iter().cloned().collect();
    let files = InputFiles {
        states: None,
        aum: &aum,
        daily: &daily,
        designations: &designations,
        encoding: Encoding::Utf8,
        delimiter: crate::Delimiter(Some(',')),
    };
    let inputs = input::load(&book, &files)?;
    let config = RunConfig {
        store: &location,
        months,
        skip_bad_rows: false,
        options: PortfolioOptions { threads: thread_count(threads), ..PortfolioOptions::default() },
        min_coverage: crm_tiering::Decimal::new(8, 1),
        rerun: false,
        create_store,
    };
    let report = execute(&book, &source, inputs, None, &config)?;
    print!("{}", report.summary.render());
    print_warnings(&report, &generated.loans);
    println!(
        "\ndemo: {} customers x {} months generated in {:.1}s, run and committed in {:.1}s (seed {})",
        spec.customers,
        spec.months,
        generated_in.as_secs_f64(),
        (clock.elapsed() - generated_in).as_secs_f64(),
        spec.seed
    );
    let daily_name = if daily.is_empty() { "" } else { ", daily-balances.csv" };
    println!("inputs:  {}  (aum-monthly.csv, designations.csv{daily_name}, loans/)", display_dir(&input_dir));
    println!(
        "loans:   {}  (each month's customers.csv, signals.csv, loan-states.jsonl)",
        display_dir(&out.join("loans"))
    );
    print_committed(&report, &location);
    let by_hand = ByHand { months, rules: &rules, aum: &aum[0], daily: daily.first(), designations: &designations[0] };
    print_by_hand(&by_hand, &location, out);
    crate::demo_loans::print_by_hand(
        &crate::invocation::program(),
        months.first(),
        months.last(),
        &rules,
        &input_dir.join("loans"),
        &out.join("loans"),
    );
    if spec.contribution {
        let exit = crate::demo_contribution::run(out, spec.seed, start, last, &generated.holdings, &location)?;
        if report.exit == Exit::Ok {
            return Ok(exit);
        }
    }
    Ok(report.exit)
}

/// The last month's warnings by kind (SPEC §22), its paused upgrades and its loan signals by
/// kind (SPEC §21.5).
fn print_warnings(report: &crate::run::RunReport, loans: &LoanBook) {
    let Some(last) = report.summary.months.last() else { return };
    let kinds = ["drop_pct", "below_for", "large_flow", "dormant", "reactivated", "maturity_not_reinvested"];
    let counts: Vec<String> =
        kinds.iter().map(|k| format!("{k} {}", last.alerts.get(*k).copied().unwrap_or(0))).collect();
    println!("\nwarnings {}: {}", last.month, counts.join(", "));
    let paused = last.events.get("upgrade_paused").copied().unwrap_or(0);
    println!("upgrades paused by a non-performing loan {}: {paused}", last.month);
    let staged = last.events.get("stage_changed").copied().unwrap_or(0);
    println!("lifecycle stage changes {} (stage_changed, SPEC §23): {staged}", last.month);
    if let Some(line) = loans.summary() {
        println!("{line}");
    }
}

/// The demo's rule book file: the one given, or the demo rule book written beside its inputs
/// (so that the run by hand uses the same book).
fn rules_file(rules: Option<&Path>, input_dir: &Path) -> Result<PathBuf, Failure> {
    let demo_rules = input_dir.join("rules.toml");
    Ok(match rules {
        Some(r) => r.to_path_buf(),
        None => {
            std::fs::create_dir_all(input_dir)
                .map_err(|e| crate::exit::io_error(Exit::Internal, input_dir, "create the input directory", &e))?;
            std::fs::write(&demo_rules, DEMO_RULES_TOML)
                .map_err(|e| crate::exit::io_error(Exit::Internal, &demo_rules, "write the demo rule book", &e))?;
            demo_rules
        }
    })
}

/// The demo's store and whether the run is to create it: the one given with --store (made
/// when missing), or the demo's own in `out`, made anew.
fn demo_store(store: Option<&str>, out: &Path) -> Result<(String, bool), Failure> {
    let default_store = out.join("crm-tiering.db");
    Ok(match store {
        Some(s) => (s.to_string(), true),
        None => {
            for suffix in ["", "-wal", "-shm"] {
                let p = std::path::PathBuf::from(format!("{}{suffix}", default_store.display()));
                if p.exists() {
                    std::fs::remove_file(&p)
                        .map_err(|e| crate::exit::io_error(Exit::Internal, &p, "remove the previous demo store", &e))?;
                }
            }
            let location = default_store.display().to_string();
            crm_tiering_store::Store::create(&location).map_err(crate::store::failure)?;
            (location, false)
        }
    })
}

/// The files of the run by hand.
struct ByHand<'a> {
    months: MonthRange,
    rules: &'a Path,
    aum: &'a Path,
    daily: Option<&'a PathBuf>,
    designations: &'a Path,
}

/// "The same run by hand" and the commands that read the demo's store, as a person can paste
/// them: `crm-tiering` when that is this binary on PATH, otherwise the binary's full path; every
/// path quoted for the shell when it needs to be.
fn print_by_hand(files: &ByHand<'_>, location: &str, out: &Path) {
    let program = crate::invocation::program();
    let store_arg = crate::invocation::shell_word(location);
    let path = crate::invocation::shell_path;
    let months = files.months;
    let daily = files.daily.map(|d| format!(" --daily {}", path(d))).unwrap_or_default();
    println!(
        "\nthe same run by hand (into a new store; aum-monthly.csv's non_performing is each month's loans/<month>/customers.csv):"
    );
    println!(
        "  {program} run --month {months} --rules {} --aum {}{daily} --designations {} --store NEW.db --create-store",
        path(files.rules),
        path(files.aum),
        path(files.designations),
    );
    println!("the runs and their audit data:\n  {program} history --store {store_arg}");
    println!(
        "every output as files:\n  {program} export --month {months} --format csv --store {store_arg} --out {}",
        path(&out.join("export"))
    );
    if let Some(id) = storied_customer(location, months) {
        println!(
            "one customer's story:\n  {program} explain --customer {} --store {store_arg}",
            crate::invocation::shell_word(&id)
        );
    }
}

/// The file that marks a directory as a demo's output, so that a later demo may replace it.
pub(crate) const DEMO_MARKER: &str = ".crm-tiering-demo";

/// Makes `out` the demo's directory: a new or empty one gets the marker; one with the marker
/// (an earlier demo's) is the demo's to replace; any other non-empty directory (or a file) is
/// refused, nothing in it touched.
fn claim_out_dir(out: &Path) -> Result<(), Failure> {
    let marker = out.join(DEMO_MARKER);
    match std::fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() && !marker.is_file() {
                return Err(Failure::new(
                    Exit::Usage,
                    format!(
                        "--out {}: the directory is not empty and no demo made it (it has no {DEMO_MARKER}); nothing was written or removed: give a new or empty directory",
                        out.display()
                    ),
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(out)
                .map_err(|e| crate::exit::io_error(Exit::Internal, out, "create the output directory", &e))?;
        }
        Err(e) => {
            return Err(crate::exit::io_error(Exit::Usage, out, "use it as the demo's output directory", &e));
        }
    }
    std::fs::write(&marker, "made by `crm-tiering demo`: a later demo may replace this directory's inputs and store\n")
        .map_err(|e| crate::exit::io_error(Exit::Internal, &marker, "write", &e))
}

/// A customer whose events show the most kinds (entry, watch, downgrade, exit, ...).
fn storied_customer(location: &str, months: MonthRange) -> Option<String> {
    // The demo's own store, opened writable so that SQLite folds and removes its WAL files on
    // closing (a read-only open would leave them beside it).
    let mut store = crm_tiering_store::Store::open(location).ok()?;
    let events = store.events(months.first(), months.last()).ok()?;
    let mut best: Option<(usize, String)> = None;
    let mut per_customer: std::collections::HashMap<String, Vec<crm_tiering::EventKind>> =
        std::collections::HashMap::new();
    for e in events {
        let kinds = per_customer.entry(e.customer_id).or_default();
        if !kinds.contains(&e.event.kind) {
            kinds.push(e.event.kind);
        }
    }
    for (id, kinds) in per_customer {
        let better = match &best {
            None => true,
            Some((n, b)) => kinds.len() > *n || (kinds.len() == *n && id < *b),
        };
        if better {
            best = Some((kinds.len(), id));
        }
    }
    best.map(|(_, id)| id)
}
