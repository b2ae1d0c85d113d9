//! `crm-tiering bench`: throughput and peak memory of the engine on synthetic portfolios.
//!
//! Each measurement runs in a child process of its own (the same binary with `--scenario`), so
//! that its peak resident memory (VmHWM in /proc/self/status) is its own. Only the engine calls
//! are timed; generating the inputs is not.

use std::process::Command;
use std::time::{Duration, Instant};

use crm_tiering::{
    AumInput, BatchOutcome, ComponentDaily, Customer, CustomerKind, CustomerRef, CustomerState, Engine, Month,
    MonthInput, RuleBook, from_fen,
};
use serde::{Deserialize, Serialize};

use crate::demo::Rng;
use crate::exit::{Exit, Failure};
use crate::summary::Table;
use crate::thread_count;

/// Options of the benchmark.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct BenchArgs {
    /// Portfolio sizes for the one-month batch evaluation.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000_000u64, 10_000_000])]
    customers: Vec<u64>,
    /// Customers of the month-by-month replay.
    #[arg(long, default_value_t = 1_000_000)]
    replay_customers: u64,
    /// Months of the replay.
    #[arg(long, default_value_t = 24)]
    replay_months: u32,
    /// Customers of the daily-balance AUM computation (3 components each, 31 days).
    #[arg(long, default_value_t = 200_000)]
    daily_customers: u64,
    /// Threads for the all-cores measurements (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Runs one measurement in this process (used by the parent process).
    #[arg(long, hide = true)]
    scenario: Option<String>,
}

/// One measurement, as a child process reports it.
#[derive(Debug, Serialize, Deserialize)]
struct Measurement {
    scenario: String,
    customers: u64,
    threads: usize,
    /// Units of work: customer-months, or balance-days for the AUM computation.
    units: u64,
    seconds: f64,
    peak_rss_kib: u64,
}

const ENTITIES: &[&str] = &["620101", "620201", "620301", "620401", "620501", "620621", "620722", "620802"];

/// A portfolio sorted by legal entity, as extracts are.
fn customers(n: u64) -> Vec<Customer> {
    let per = n.div_ceil(ENTITIES.len() as u64).max(1);
    (0..n)
        .map(|i| Customer {
            id: format!("62{i:08}"),
            legal_entity: Some(ENTITIES[(i / per) as usize % ENTITIES.len()].to_string()),
            kind: CustomerKind::Personal,
        })
        .collect()
}

/// Per-customer wealth in fen: a Pareto-like tail, about 4% above the 200,000 entry.
fn wealth(rng: &mut Rng, n: u64) -> Vec<i64> {
    (0..n)
        .map(|_| {
            let mut d = 0u32;
            while d < 14 && rng.below(1000) < 500 {
                d += 1;
            }
            (600_000i64 << d) * (1000 + rng.below(1000) as i64) / 1000
        })
        .collect()
}

/// The month's inputs: each customer's wealth moved by up to +-6%.
fn month_inputs(rng: &mut Rng, wealth: &mut [i64]) -> Vec<MonthInput> {
    wealth
        .iter_mut()
        .map(|w| {
            *w = *w * (1000 + rng.range(-60, 60)) / 1000;
            MonthInput::total(from_fen(*w))
        })
        .collect()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn engine_error(e: crm_tiering::TieringError) -> Failure {
    Failure::internal(format!("benchmark batch failed: {e}"))
}

fn run_scenario(name: &str, args: &BenchArgs, customers_n: u64, threads: usize) -> Result<Measurement, Failure> {
    let engine = Engine::new(RuleBook::default_book().map_err(engine_error)?);
    let start: Month = Month::new(2024, 1).map_err(|e| Failure::internal(e.to_string()))?;
    let mut rng = Rng::new(42);
    let (units, elapsed) = match name {
        "month" => month_scenario(&engine, start, &mut rng, customers_n, threads)?,
        "month-lean" => month_lean_scenario(&engine, start, &mut rng, customers_n, threads)?,
        "replay" => replay_scenario(&engine, start, &mut rng, args, threads)?,
        "daily" => daily_scenario(&engine, start, &mut rng, args)?,
        other => return Err(Failure::new(Exit::Usage, format!("unknown benchmark scenario `{other}`"))),
    };
    Ok(Measurement {
        scenario: name.to_string(),
        customers: customers_n,
        threads,
        units,
        seconds: elapsed.as_secs_f64(),
        peak_rss_kib: peak_rss_kib(),
    })
}

/// The "month" scenario: a month of `n` customers through the parallel batch, after a warm-up
/// month.
fn month_scenario(
    engine: &Engine,
    start: Month,
    rng: &mut Rng,
    customers_n: u64,
    threads: usize,
) -> Result<(u64, Duration), Failure> {
    let cs = customers(customers_n);
    let mut w = wealth(rng, customers_n);
    let mut states = vec![CustomerState::default(); cs.len()];
    // A warm-up month so that states hold tiers, watches and exit counters.
    let inputs = month_inputs(rng, &mut w);
    let warm = engine.evaluate_batch_parallel(start, &cs, &inputs, &mut states, 2).map_err(engine_error)?;
    drop(warm);
    let inputs = month_inputs(rng, &mut w);
    drop(w);
    let clock = Instant::now();
    let out = engine.evaluate_batch_parallel(start.next(), &cs, &inputs, &mut states, threads).map_err(engine_error)?;
    let elapsed = clock.elapsed();
    if !out.errors.is_empty() {
        return Err(Failure::internal(format!("{} customers failed", out.errors.len())));
    }
    Ok((customers_n, elapsed))
}

/// The "month-lean" scenario: the same month, its customers borrowed and AUMs in fen.
fn month_lean_scenario(
    engine: &Engine,
    start: Month,
    rng: &mut Rng,
    customers_n: u64,
    threads: usize,
) -> Result<(u64, Duration), Failure> {
    // The same month as "month", held the way a memory-conscious core system holds it:
    // ids in one buffer borrowed as `CustomerRef`s, AUMs as fen, inputs made on demand.
    let per = customers_n.div_ceil(ENTITIES.len() as u64).max(1);
    let mut ids = String::with_capacity(customers_n as usize * 10);
    let mut ends = Vec::with_capacity(customers_n as usize);
    for i in 0..customers_n {
        ids.push_str(&format!("62{i:08}"));
        ends.push(ids.len());
    }
    let cs: Vec<CustomerRef> = (0..customers_n as usize)
        .map(|i| CustomerRef {
            id: &ids[if i == 0 { 0 } else { ends[i - 1] }..ends[i]],
            legal_entity: Some(ENTITIES[(i as u64 / per) as usize % ENTITIES.len()]),
            kind: CustomerKind::Personal,
        })
        .collect();
    drop(ends);
    let mut w = wealth(rng, customers_n);
    let mut states = vec![CustomerState::default(); cs.len()];
    let mut warm = BatchOutcome::default();
    engine
        .evaluate_batch_with(start, &cs, &mut states, |i| Ok(MonthInput::total(from_fen(w[i]))), &mut warm)
        .map_err(engine_error)?;
    drop(warm);
    for x in w.iter_mut() {
        *x = *x * (1000 + rng.range(-60, 60)) / 1000;
    }
    let input = |i: usize| Ok(MonthInput::total(from_fen(w[i])));
    let clock = Instant::now();
    let parts = engine
        .evaluate_batch_parallel_with(start.next(), &cs, &mut states, input, threads, BatchOutcome::default)
        .map_err(engine_error)?;
    let elapsed = clock.elapsed();
    let failed: usize = parts.iter().map(|p| p.errors.len()).sum();
    if failed > 0 {
        return Err(Failure::internal(format!("{failed} customers failed")));
    }
    Ok((customers_n, elapsed))
}

/// The "replay" scenario: months of customers evaluated one after another.
fn replay_scenario(
    engine: &Engine,
    start: Month,
    rng: &mut Rng,
    args: &BenchArgs,
    threads: usize,
) -> Result<(u64, Duration), Failure> {
    let n = args.replay_customers;
    let cs = customers(n);
    let mut w = wealth(rng, n);
    let mut states = vec![CustomerState::default(); cs.len()];
    let mut total = Duration::ZERO;
    for m in 0..args.replay_months {
        let inputs = month_inputs(rng, &mut w);
        let clock = Instant::now();
        let out = engine
            .evaluate_batch_parallel(start.plus(m as i32), &cs, &inputs, &mut states, threads)
            .map_err(engine_error)?;
        total += clock.elapsed();
        if !out.errors.is_empty() {
            return Err(Failure::internal(format!("{} customers failed", out.errors.len())));
        }
    }
    Ok((n * u64::from(args.replay_months), total))
}

/// The "daily" scenario: the AUM of daily balances computed.
fn daily_scenario(engine: &Engine, start: Month, rng: &mut Rng, args: &BenchArgs) -> Result<(u64, Duration), Failure> {
    let n = args.daily_customers;
    let book = engine.rule_book();
    let version = book
        .rule_sets()
        .first()
        .and_then(|s| s.version_for(start))
        .ok_or_else(|| Failure::internal("the default book has no version for 2024-01"))?;
    let days = start.days() as usize;
    let codes = ["demand_deposit", "time_deposit", "wealth_product"];
    let inputs: Vec<AumInput> = (0..n)
        .map(|_| {
            AumInput::Daily(
                codes
                    .iter()
                    .map(|c| ComponentDaily {
                        component: (*c).to_string(),
                        balances: (0..days)
                            .map(|_| (!rng.chance(30)).then(|| from_fen(rng.below(50_000_000) as i64)))
                            .collect(),
                    })
                    .collect(),
            )
        })
        .collect();
    let clock = Instant::now();
    let mut check = crm_tiering::Decimal::ZERO;
    for input in &inputs {
        check += version.aum.compute(input, start, "bench").map_err(|e| Failure::internal(e.to_string()))?;
    }
    let elapsed = clock.elapsed();
    if check.is_zero() {
        return Err(Failure::internal("the daily AUM benchmark computed nothing"));
    }
    Ok((n * codes.len() as u64 * days as u64, elapsed))
}

pub(crate) fn bench_command(args: &BenchArgs) -> Result<Exit, Failure> {
    let all = thread_count(args.threads);
    if let Some(s) = &args.scenario {
        let n = args.customers.first().copied().unwrap_or(1_000_000);
        let m = run_scenario(s, args, n, all)?;
        println!("{}", serde_json::to_string(&m).map_err(|e| Failure::internal(e.to_string()))?);
        return Ok(Exit::Ok);
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; measure with `cargo run --release -p crm-tiering-cli -- bench`");
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "crm-tiering bench: {} core(s) available, load average {} before the run",
        all,
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!(
        "sizes: Customer {} B, MonthInput {} B, CustomerState {} B, BatchEvent {} B (plus heap strings)\n",
        std::mem::size_of::<Customer>(),
        std::mem::size_of::<MonthInput>(),
        std::mem::size_of::<CustomerState>(),
        std::mem::size_of::<crm_tiering::BatchEvent>()
    );
    let mut plan: Vec<(&str, u64, usize)> = Vec::new();
    for &n in &args.customers {
        for scenario in ["month", "month-lean"] {
            plan.push((scenario, n, 1));
            if all > 1 {
                plan.push((scenario, n, all));
            }
        }
    }
    plan.push(("replay", args.replay_customers, all));
    plan.push(("daily", args.daily_customers, 1));
    let exe = std::env::current_exe().map_err(|e| Failure::internal(format!("cannot find the executable: {e}")))?;
    let mut t = Table::new(&["benchmark", "customers", "threads", "seconds", "rate", "per thread", "peak memory"]);
    for (scenario, n, threads) in plan {
        eprintln!("running {scenario} with {n} customers on {threads} thread(s)...");
        let out = Command::new(&exe)
            .args(["bench", "--scenario", scenario, "--customers", &n.to_string(), "--threads", &threads.to_string()])
            .args(["--replay-customers", &args.replay_customers.to_string()])
            .args(["--replay-months", &args.replay_months.to_string()])
            .args(["--daily-customers", &args.daily_customers.to_string()])
            .output()
            .map_err(|e| Failure::internal(format!("cannot start the benchmark process: {e}")))?;
        if !out.status.success() {
            return Err(Failure::internal(format!(
                "benchmark {scenario} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let m: Measurement = serde_json::from_slice(&out.stdout)
            .map_err(|e| Failure::internal(format!("benchmark {scenario} reported nothing readable: {e}")))?;
        let rate = m.units as f64 / m.seconds.max(1e-9);
        let (label, unit) = match scenario {
            "month" => ("one-month batch".to_string(), "customer-months/s"),
            "month-lean" => ("one-month batch, lean".to_string(), "customer-months/s"),
            "replay" => (format!("replay {} months", args.replay_months), "customer-months/s"),
            _ => ("AUM from daily balances".to_string(), "balance-days/s"),
        };
        t.row(vec![
            label,
            m.customers.to_string(),
            m.threads.to_string(),
            format!("{:.3}", m.seconds),
            format!("{:.1}M {unit}", rate / 1e6),
            format!("{:.1}M", rate / 1e6 / m.threads as f64),
            format!("{:.0} MiB", m.peak_rss_kib as f64 / 1024.0),
        ]);
    }
    print!("{}", t.render());
    println!("\n(peak memory is the VmHWM of each measurement's own process, inputs and outputs included;");
    println!(" \"lean\" borrows ids from one buffer as CustomerRef and makes each input from fen on demand)");
    Ok(Exit::Ok)
}
