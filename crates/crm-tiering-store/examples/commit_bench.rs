//! Commits synthetic 1M-customer months into SQLite (and PostgreSQL when
//! `CRMT_TEST_POSTGRES_URL` is set) and reads one customer's history back.
//!
//! `cargo run --release -p crm-tiering-store --example commit_bench -- [CUSTOMERS] [MONTHS]`
//! (defaults 1000000 and 24). The SQLite file goes to `CRMT_BENCH_DIR` (default: the system
//! temp dir) and is removed at the end; PostgreSQL gets a fresh database `crmt_bench`, dropped
//! at the end.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crm_tiering::Month;
use crm_tiering_store::{Store, synthetic};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().map(|a| a.parse()).transpose()?.unwrap_or(1_000_000);
    let months: usize = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(24);
    let dir = std::env::var("CRMT_BENCH_DIR").map(std::path::PathBuf::from).unwrap_or_else(|_| std::env::temp_dir());
    let path = dir.join(format!("crmt-bench-{}.db", std::process::id()));
    let mut targets = vec![("sqlite", path.display().to_string(), 2.0)];
    let pg_admin = std::env::var("CRMT_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty());
    if let Some(url) = &pg_admin {
        let mut c = postgres::Client::connect(url, postgres::NoTls)?;
        c.batch_execute("DROP DATABASE IF EXISTS crmt_bench WITH (FORCE)")?;
        c.batch_execute("CREATE DATABASE crmt_bench")?;
        let base = url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or_default();
        targets.push(("postgres", format!("{base}/crmt_bench"), 4.0));
    } else {
        println!("notice: CRMT_TEST_POSTGRES_URL is not set: SQLite only");
    }
    for (name, loc, target) in &targets {
        let result = run(name, loc, n, months, *target);
        if *name == "sqlite" {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{loc}{suffix}"));
            }
        }
        result?;
    }
    if let Some(url) = &pg_admin {
        let mut c = postgres::Client::connect(url, postgres::NoTls)?;
        c.batch_execute("DROP DATABASE IF EXISTS crmt_bench WITH (FORCE)")?;
    }
    Ok(())
}

fn run(name: &str, loc: &str, n: usize, months: usize, target: f64) -> Result<(), Box<dyn std::error::Error>> {
    println!("== {name}: {n} customers x {months} months");
    let mut store = Store::create(loc)?;
    let (engine, meta) = synthetic::default_meta(false)?;
    let mut prev = None;
    let mut month: Month = "2023-01".parse()?;
    let mut commits = Vec::new();
    for k in 0..months {
        let t0 = Instant::now();
        let mut w = store.begin_month(month, meta.clone())?;
        let next = synthetic::write_month(&mut w, &engine, prev.as_ref(), n)?;
        let prepare = t0.elapsed();
        let t1 = Instant::now();
        let run = w.commit()?;
        let commit = t1.elapsed();
        let c = run.counts.unwrap_or_default();
        if k == 0 || k + 1 == months || k % 6 == 5 {
            println!(
                "  {month}: evaluate+encode {:.2} s, commit {:.3} s ({} states, {} events, {} alerts)",
                prepare.as_secs_f64(),
                commit.as_secs_f64(),
                c.states,
                c.events,
                c.alerts
            );
        }
        commits.push(commit);
        prev = Some(next);
        month = month.next();
    }
    let worst = commits.iter().max().copied().unwrap_or_default();
    let mut sorted = commits.clone();
    sorted.sort();
    println!(
        "  commit of a {n}-customer month: median {:.3} s, worst {:.3} s (target {target} s)",
        sorted[sorted.len() / 2].as_secs_f64(),
        worst.as_secs_f64()
    );
    let t = Instant::now();
    let latest = store.latest_states()?.map(|l| l.states.len()).unwrap_or(0);
    println!("  latest states read back: {latest} customers in {:.3} s", t.elapsed().as_secs_f64());
    let mut times: Vec<Duration> = Vec::new();
    let mut events = 0;
    for k in 0..200usize {
        let i = (k * 7919 + 13) % n;
        let id = synthetic::customer_id(i);
        let t = Instant::now();
        let h = store.customer_history(&id)?;
        times.push(t.elapsed());
        assert_eq!(h.states.len(), months);
        events += h.events.len();
    }
    // Customers with events: the 5% above the entry threshold.
    let first: Month = "2023-01".parse()?;
    let rich = (0..n).find(|&i| synthetic::aum_fen(i, first) > 100_000_000).unwrap_or(0);
    let t = Instant::now();
    let h = store.customer_history(&synthetic::customer_id(rich))?;
    let rich_time = t.elapsed();
    times.sort();
    println!(
        "  one customer's {months}-month history (states, events, alerts): median {:.2} ms, worst {:.2} ms over 200 customers ({events} events); a VIP with {} events, {} alerts: {:.2} ms (target < 50 ms)",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        h.events.len(),
        h.alerts.len(),
        rich_time.as_secs_f64() * 1e3
    );
    Ok(())
}
