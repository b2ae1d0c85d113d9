//! The engine's batch against a minimal step kernel on the same customers, month by month,
//! alternating, one thread (issue 12's second target).
//!
//! The kernel applies the same entry, upgrade, watch (3 months, highest tier in the window),
//! exit (6 months below entry) and retention (2 months) rules to a 32-byte state over
//! `rust_decimal`, with no alerts, no evidence, no special VIPs, no rule sets or versions and no
//! error checks: the floor a full engine cannot go below. Two portfolios:
//! - `churn`: 3 in 16 customers change wealth each month (many events);
//! - `realistic`: about 4% VIPs, small monthly drift (the CLI demo's mix).
//!
//! `cargo run --release -p crm-tiering --example kernel_bench -- [customers] [months] [churn|realistic]`
//! (both portfolios when the third argument is left out)
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::time::{Duration, Instant};

use crm_tiering::{
    BatchOutcome, CustomerKind, CustomerRef, CustomerState, Decimal, Engine, Month, MonthInput, RuleBook, from_fen,
};

/// The minimal state: ranks and counters only.
#[derive(Clone, Copy, Default)]
struct KState {
    rated: bool,
    tier: u8,
    watch: u8,
    watch_best: u8,
    below: u8,
    retained: u8,
    events: u32,
}

/// One month of the minimal rules.
#[inline(always)]
fn kernel_step(s: &mut KState, aum: Decimal, mins: &[Decimal; 4]) {
    let q = mins.iter().rposition(|m| aum >= *m);
    if s.retained > 0 {
        match q {
            Some(r) => {
                *s = KState { rated: true, tier: r as u8, events: s.events + 1, ..KState::default() };
            }
            None => {
                s.retained -= 1;
                if s.retained == 0 {
                    s.events += 1;
                }
            }
        }
        return;
    }
    if !s.rated {
        if let Some(r) = q {
            *s = KState { rated: true, tier: r as u8, events: s.events + 1, ..KState::default() };
        }
        return;
    }
    s.below = if q.is_none() { s.below + 1 } else { 0 };
    if s.below >= 6 {
        *s = KState { retained: 2, tier: s.tier, events: s.events + 1, ..KState::default() };
        return;
    }
    let t = s.tier;
    match q {
        Some(r) if r as u8 >= t => {
            if s.watch > 0 {
                s.watch = 0;
                s.events += 1;
            }
            if r as u8 > t {
                s.tier = r as u8;
                s.events += 1;
            }
        }
        _ if t > 0 => {
            s.watch += 1;
            s.watch_best = s.watch_best.max(q.map_or(0, |r| r as u8));
            if s.watch >= 3 {
                s.tier = s.watch_best.min(t - 1);
                s.watch = 0;
                s.watch_best = 0;
                s.events += 1;
            }
        }
        _ => {}
    }
}

fn splitmix(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn run(name: &str, n: usize, months: usize, aum_of: &dyn Fn(usize, usize, &mut u64) -> i64) {
    let engine = Engine::new(RuleBook::default_book().unwrap());
    let mins = [200_000, 500_000, 1_000_000, 3_000_000].map(|y| Decimal::from(y as i64));
    let ids: Vec<String> = (0..n).map(|i| format!("{i:010}")).collect();
    let refs: Vec<CustomerRef<'_>> =
        ids.iter().map(|id| CustomerRef { id, legal_entity: None, kind: CustomerKind::Personal }).collect();
    let mut states = vec![CustomerState::default(); n];
    let mut kstates = vec![KState::default(); n];
    let (mut engine_time, mut kernel_time) = (Duration::ZERO, Duration::ZERO);
    let mut seed = 7u64;
    let start: Month = "2024-01".parse().unwrap();
    let mut events = 0usize;
    // The outcome's buffers are reused month after month, as a batch loop does
    // (`BatchOutcome::clear`); `CRMT_BENCH_FRESH_OUTCOME=1` allocates a new one each month.
    let fresh = std::env::var_os("CRMT_BENCH_FRESH_OUTCOME").is_some();
    let mut out = BatchOutcome::with_capacity(n);
    for m in 0..months {
        let fen: Vec<i64> = (0..n).map(|i| aum_of(i, m, &mut seed)).collect();
        let month = start.plus(m as i32);
        let t = Instant::now();
        if fresh {
            out = BatchOutcome::with_capacity(n);
        } else {
            out.clear();
        }
        engine
            .evaluate_batch_with(month, &refs, &mut states, |i| Ok(MonthInput::total(from_fen(fen[i]))), &mut out)
            .unwrap();
        engine_time += t.elapsed();
        events += out.events.len();
        let t = Instant::now();
        for (s, f) in kstates.iter_mut().zip(&fen) {
            kernel_step(s, from_fen(*f), &mins);
        }
        kernel_time += t.elapsed();
    }
    let kernel_events: u64 = kstates.iter().map(|s| u64::from(s.events)).sum();
    let rate = |d: Duration| (n * months) as f64 / d.as_secs_f64() / 1e6;
    println!(
        "{name:<10} {n} customers x {months} months: engine {:.3} s ({:.1}M/s, {events} events), kernel {:.3} s ({:.1}M/s, {kernel_events} events): {:.2}x",
        engine_time.as_secs_f64(),
        rate(engine_time),
        kernel_time.as_secs_f64(),
        rate(kernel_time),
        engine_time.as_secs_f64() / kernel_time.as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args.first().map_or(1_000_000, |a| a.parse().unwrap());
    let months = args.get(1).map_or(12, |a| a.parse().unwrap());
    let only = args.get(2).map(String::as_str);
    let mut seed = 11u64;
    // Churn: a base wealth around the thresholds; 3 in 16 customers jump each month.
    let base: Vec<i64> = (0..n).map(|_| 5_000_000 + (splitmix(&mut seed) % 400_000_000) as i64).collect();
    if only.is_none_or(|o| o == "churn") {
        run("churn", n, months, &|i, _, s| {
            if splitmix(s) % 16 < 3 { (splitmix(s) % 400_000_000) as i64 } else { base[i] }
        });
    }
    // Realistic: 96% far below entry, 4% VIPs, +-3% drift.
    let wealth: Vec<i64> = (0..n)
        .map(|_| {
            let x = splitmix(&mut seed) % 1000;
            if x < 960 { (x as i64) * 10_000 } else { (x as i64 - 950) * 8_000_000 }
        })
        .collect();
    if only.is_none_or(|o| o == "realistic") {
        run("realistic", n, months, &|i, _, s| wealth[i] + wealth[i] * ((splitmix(s) % 7) as i64 - 3) / 100);
    }
}
