//! The Rust side of `bindings/c/bench.sh`: the engine's batch on the data the C benchmark
//! (`bindings/c/bench/bench_batch.c`) generates, so the figures compare like with like.
//!
//! `cargo run --release -p crm-tiering-ffi --example bench_batch -- [customers] [threads]`
//!
//! Two Rust callers, each for three months from new states, best of 3 rounds per month:
//! - `rust_batch`: [`Engine::evaluate_batch`] with owned customers and each month's
//!   `Vec<MonthInput>` built before the timing (the plain API; the reference);
//! - `rust_batch_with`: [`Engine::evaluate_batch_with`] over borrowed ids (`CustomerRef`s made
//!   once), inputs made on demand from the same fen array the C program passes, results into
//!   one reused [`BatchOutcome`] (the best a Rust caller can do).
//!
//! Output, one line per caller, read by `bench.sh`: `<name> <s month 1> <s month 2> <s month 3>
//! <events>`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

use std::time::Instant;

use crm_tiering::{
    BatchOutcome, Customer, CustomerKind, CustomerRef, CustomerState, Engine, Month, MonthInput, RuleBook, from_fen,
};

/// The generator shared with the C benchmark: customer `i`'s AUM in fen for month `m` (0-based).
fn aum_fen(i: u64, m: u64) -> i64 {
    let x = (i.wrapping_mul(2_654_435_761) ^ m.wrapping_mul(40_503)) % 1_000_003;
    // 0 to about 4 million yuan, most customers below entry, a tail of VIPs.
    ((x * x) / 250_000) as i64 * 100 + (i % 100) as i64
}

const MONTHS: [i32; 3] = [202401, 202402, 202403];
const ROUNDS: usize = 3;

/// Runs ROUNDS x the three months from new states; `month(m, fen, states)` evaluates month `m`
/// and returns its event count and the seconds its batch call took. Prints the best time of
/// each month.
fn bench(name: &str, n: usize, mut month: impl FnMut(usize, &[i64], &mut [CustomerState]) -> (usize, f64)) {
    let mut best = [f64::MAX; 3];
    let mut events = 0;
    for _ in 0..ROUNDS {
        let mut states = vec![CustomerState::default(); n];
        events = 0;
        for (m, b) in best.iter_mut().enumerate() {
            let fen: Vec<i64> = (0..n).map(|i| aum_fen(i as u64, m as u64)).collect();
            let (e, secs) = month(m, &fen, &mut states);
            events += e;
            *b = b.min(secs);
        }
    }
    println!("{name} {:.6} {:.6} {:.6} {events}", best[0], best[1], best[2]);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(1_000_000, |s| s.parse().unwrap());
    let threads: usize = args.get(2).map_or(1, |s| s.parse().unwrap());
    let engine = Engine::new(RuleBook::default_book().unwrap());
    let months: Vec<Month> = MONTHS.iter().map(|m| Month::from_yyyymm(i64::from(*m)).unwrap()).collect();
    let ids: Vec<String> = (0..n).map(|i| format!("{:010}", 6_221_000_000u64 + i as u64)).collect();

    // The plain API: owned customers made once, the month's inputs made before the timing;
    // timed: the call and dropping its outcome, as a caller consumes and drops it.
    let customers: Vec<Customer> = ids.iter().map(|id| Customer::personal(id.as_str())).collect();
    let mut inputs: Vec<MonthInput> = Vec::with_capacity(n);
    bench("rust_batch", n, |m, fen, states| {
        inputs.clear();
        inputs.extend(fen.iter().map(|f| MonthInput::total(from_fen(*f))));
        let t = Instant::now();
        let out = if threads > 1 {
            engine.evaluate_batch_parallel(months[m], &customers, &inputs, states, threads).unwrap()
        } else {
            engine.evaluate_batch(months[m], &customers, &inputs, states).unwrap()
        };
        assert!(out.errors.is_empty());
        let events = out.events.len();
        drop(out);
        (events, t.elapsed().as_secs_f64())
    });
    drop(customers);

    // The generic batch over borrowed ids, inputs made on demand from the fen array, results
    // into one reused outcome (per thread with threads > 1).
    let refs: Vec<CustomerRef> =
        ids.iter().map(|id| CustomerRef { id, legal_entity: None, kind: CustomerKind::Personal }).collect();
    let mut out = BatchOutcome::with_capacity(n);
    bench("rust_batch_with", n, |m, fen, states| {
        let input = |i: usize| Ok(MonthInput::total(from_fen(fen[i])));
        let t = Instant::now();
        let events = if threads > 1 {
            let parts = engine
                .evaluate_batch_parallel_with(months[m], &refs, states, input, threads, BatchOutcome::default)
                .unwrap();
            parts.iter().map(|p| p.events.len()).sum()
        } else {
            out.events.clear();
            out.alerts.clear();
            out.errors.clear();
            out.aums.clear();
            engine.evaluate_batch_with(months[m], &refs, states, input, &mut out).unwrap();
            assert!(out.errors.is_empty());
            out.events.len()
        };
        (events, t.elapsed().as_secs_f64())
    });
}
