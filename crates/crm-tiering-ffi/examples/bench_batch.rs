//! The Rust side of `bindings/c/bench.sh`: the engine's batch on the data the C benchmark
//! (`bindings/c/bench/bench_batch.c`) generates, so the two figures compare like with like.
//!
//! `cargo run --release -p crm-tiering-ffi --example bench_batch -- [customers] [threads]`
//!
//! It also times the ABI entry point called from Rust (`crmt_evaluate_batch` through the
//! rlib), to split the ABI's own cost from the C caller's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

use std::time::Instant;

use crm_tiering::{crmt_batch, crmt_batch_aum, crmt_batch_customers, crmt_result, crmt_states};
use engine::{Customer, CustomerState, Engine, Month, MonthInput, RuleBook, from_fen};

/// The generator shared with the C benchmark: customer `i`'s AUM in fen for month `m` (0-based).
fn aum_fen(i: u64, m: u64) -> i64 {
    let x = (i.wrapping_mul(2_654_435_761) ^ m.wrapping_mul(40_503)) % 1_000_003;
    // 0 to about 4 million yuan, most customers below entry, a tail of VIPs.
    ((x * x) / 250_000) as i64 * 100 + (i % 100) as i64
}

const MONTHS: [i32; 3] = [202401, 202402, 202403];
const ROUNDS: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(1_000_000, |s| s.parse().unwrap());
    let threads: usize = args.get(2).map_or(1, |s| s.parse().unwrap());
    let engine = Engine::new(RuleBook::default_book().unwrap());

    // Rust API: customers built once, the month's inputs built outside the timing (reported
    // apart). Timed: the batch call and dropping its outcome, as a caller consumes and drops it.
    // ROUNDS runs of the three months from new states; the best time of each month counts.
    let customers: Vec<Customer> =
        (0..n).map(|i| Customer::personal(format!("{:010}", 6_221_000_000u64 + i as u64))).collect();
    let mut best = [f64::MAX; 3];
    let mut best_inputs = [f64::MAX; 3];
    let mut rust_events = 0;
    for _ in 0..ROUNDS {
        let mut states = vec![CustomerState::default(); n];
        rust_events = 0;
        for (m, month) in MONTHS.iter().enumerate() {
            let t = Instant::now();
            let inputs: Vec<MonthInput> =
                (0..n).map(|i| MonthInput::total(from_fen(aum_fen(i as u64, m as u64)))).collect();
            best_inputs[m] = best_inputs[m].min(t.elapsed().as_secs_f64());
            let month = Month::from_yyyymm(i64::from(*month)).unwrap();
            let t = Instant::now();
            let out = if threads > 1 {
                engine.evaluate_batch_parallel(month, &customers, &inputs, &mut states, threads).unwrap()
            } else {
                engine.evaluate_batch(month, &customers, &inputs, &mut states).unwrap()
            };
            rust_events += out.events.len();
            assert!(out.errors.is_empty());
            drop(out);
            best[m] = best[m].min(t.elapsed().as_secs_f64());
        }
    }
    eprintln!("  rust best months: {:.3} {:.3} {:.3} s", best[0], best[1], best[2]);
    let rust_secs: f64 = best.iter().sum();
    let inputs_secs: f64 = best_inputs.iter().sum();
    let cm = (n * MONTHS.len()) as f64;
    println!(
        "rust  evaluate_batch      : {n} customers x {} months in {rust_secs:.3} s = {:.0} customer-months/s ({rust_events} events)",
        MONTHS.len(),
        cm / rust_secs
    );
    println!(
        "rust  (building the month's Vec<MonthInput> adds {inputs_secs:.3} s: {:.0} customer-months/s with it)",
        cm / (rust_secs + inputs_secs)
    );

    // The ABI entry point, called from Rust with the C benchmark's columns.
    let mut ids = Vec::with_capacity(n * 10);
    let mut offsets = vec![0usize];
    for c in &customers {
        ids.extend_from_slice(c.id.as_bytes());
        offsets.push(ids.len());
    }
    let cols = crmt_batch_customers {
        count: n,
        ids: ids.as_ptr().cast(),
        id_offsets: offsets.as_ptr(),
        legal_entities: std::ptr::null(),
        legal_entity_offsets: std::ptr::null(),
        kinds: std::ptr::null(),
    };
    let mut book = std::ptr::null_mut();
    let mut st: *mut crmt_states = std::ptr::null_mut();
    let mut errors = vec![crmt_result::CRMT_OK; n];
    let mut abi_best = [f64::MAX; 3];
    let mut abi_events = 0;
    // SAFETY: every pointer is valid for the calls; handles are freed once.
    unsafe {
        assert_eq!(crm_tiering::crmt_rulebook_default(&mut book), crmt_result::CRMT_OK);
        let mut batch: *mut crmt_batch = std::ptr::null_mut();
        assert_eq!(crm_tiering::crmt_batch_new(&mut batch), crmt_result::CRMT_OK);
        for _ in 0..ROUNDS {
            crm_tiering::crmt_states_free(st);
            assert_eq!(crm_tiering::crmt_states_new(n, &mut st), crmt_result::CRMT_OK);
            abi_events = 0;
            for (m, month) in MONTHS.iter().enumerate() {
                let amounts: Vec<i64> = (0..n).map(|i| aum_fen(i as u64, m as u64)).collect();
                let aum =
                    crmt_batch_aum { component_count: 0, components: std::ptr::null(), amounts_fen: amounts.as_ptr() };
                let t = Instant::now();
                let rc = crm_tiering::crmt_evaluate_batch_into(
                    book,
                    *month,
                    &cols,
                    &aum,
                    st,
                    threads,
                    errors.as_mut_ptr(),
                    batch,
                );
                abi_best[m] = abi_best[m].min(t.elapsed().as_secs_f64());
                assert_eq!(rc, crmt_result::CRMT_OK);
                let mut count = 0;
                crm_tiering::crmt_batch_events(batch, &mut count);
                abi_events += count;
            }
        }
        crm_tiering::crmt_batch_free(batch);
        crm_tiering::crmt_states_free(st);
        crm_tiering::crmt_rulebook_free(book);
    }
    let abi_secs: f64 = abi_best.iter().sum();
    assert_eq!(abi_events, rust_events, "the ABI and the Rust API disagree");
    println!(
        "rust→abi crmt_evaluate_batch: {n} customers x {} months in {abi_secs:.3} s = {:.0} customer-months/s ({abi_events} events)",
        MONTHS.len(),
        cm / abi_secs
    );
}
