//! Benchmark of the batch evaluation: one month for N generated customers, then a replay.
//!
//! ```text
//! cargo run --release -p crm-tiering --example batch_bench -- [customers] [months] [threads]
//! ```
//! Prints customer-months per second; defaults: 1,000,000 customers, 12 months, 1 thread.
//! `MEASURES=1`: the default book with two measures besides AUM (SPEC §19), `loan_balance` and
//! `points`, 私行级 qualifying by AUM or loans and 钻石卡 by AUM and points together, every input
//! carrying both values (built before the timing, as the AUMs are): the cost of a measured book
//! per customer-month beside the default book's. `WINDOW=1` (with `MEASURES=1`): 钻石卡's AUM
//! criterion reads the 6-month average (`avg_6`, SPEC §19.2), so each state keeps 5 months of
//! AUM beside it and the batch carries the histories (`evaluate_batch_with_history`, 1 thread).
//! `WARNINGS=1` (alone): the default book with every warning kind of SPEC §22 enabled
//! (`drop_pct` against last month, `below_for` 3 months, `large_flow`, `dormant`,
//! `reactivated`, `maturity_not_reinvested`, with the `days_inactive` and
//! `matured_not_reinvested` measures every input carries); `LIFECYCLE=1` adds the standard
//! lifecycle stages (SPEC §23) to either book. Both keep histories, 1 thread.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

use std::time::Instant;

use crm_tiering::{Customer, CustomerState, Engine, Month, MonthInput, RuleBook, from_fen};

/// splitmix64: a small deterministic generator.
fn next(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().unwrap()).collect();
    let n = args.first().copied().unwrap_or(1_000_000);
    let months = args.get(1).copied().unwrap_or(12);
    let threads = args.get(2).copied().unwrap_or(1);
    let measured = std::env::var_os("MEASURES").is_some();
    let window = std::env::var_os("WINDOW").is_some();
    assert!(!window || (measured && threads == 1), "WINDOW=1 needs MEASURES=1 and 1 thread");
    let warned = std::env::var_os("WARNINGS").is_some();
    let staged = std::env::var_os("LIFECYCLE").is_some();
    assert!(!(warned && measured), "WARNINGS=1 is the default book with warnings: leave MEASURES out");
    assert!(!(warned || staged) || threads == 1, "WARNINGS=1 and LIFECYCLE=1 keep histories: 1 thread");
    let lifecycle = if staged { "\n[rule_sets.versions.lifecycle]\n" } else { "" };
    let book = if warned {
        RuleBook::from_toml_str(&format!("{}{WARNINGS_BOOK}{lifecycle}", crm_tiering::DEFAULT_RULES_TOML)).unwrap()
    } else if staged && !measured {
        RuleBook::from_toml_str(&format!("{}{lifecycle}", crm_tiering::DEFAULT_RULES_TOML)).unwrap()
    } else if measured {
        let text = crm_tiering::DEFAULT_RULES_TOML
            .replace(
                "min_aum = \"3000000\"",
                "qualify = { any_of = [{ min = \"3000000\" }, { measure = \"loan_balance\", min = \"3000000\" }] }",
            )
            .replace(
                "min_aum = \"1000000\"",
                if window {
                    "qualify = { all_of = [{ window = \"avg_6\", min = \"1000000\" }, { measure = \"points\", min = \"100\" }] }"
                } else {
                    "qualify = { all_of = [{ min = \"1000000\" }, { measure = \"points\", min = \"100\" }] }"
                },
            )
            .replace(
                "[[rule_sets.versions.tiers]]\ncode = \"gold\"",
                "[[rule_sets.versions.measures]]\ncode = \"loan_balance\"\n\n[[rule_sets.versions.measures]]\ncode = \"points\"\n\n[[rule_sets.versions.tiers]]\ncode = \"gold\"",
            );
        RuleBook::from_toml_str(&(text + lifecycle)).unwrap()
    } else {
        RuleBook::default_book().unwrap()
    };
    assert_eq!(book.measure_codes().len(), if measured || warned { 2 } else { 0 });
    let window = window || warned || staged;
    let engine = Engine::new(book);
    let customers: Vec<Customer> = (0..n).map(|i| Customer::personal(format!("{i:010}"))).collect();
    let mut states = vec![CustomerState::default(); n];
    let mut histories = crm_tiering::Histories::new();
    let mut seed = 42u64;
    // A base wealth per customer (log-uniform from 1,000 to 10,000,000 CNY, in fen), and a
    // monthly drift of up to +-30%.
    let base: Vec<i64> = (0..n)
        .map(|_| {
            let decades = next(&mut seed) % 4000; // 0..4 decades, in thousandths
            let mut v: i64 = 100_000; // 1,000.00 CNY
            for _ in 0..decades / 1000 {
                v *= 10;
            }
            v + v * 9 * (decades % 1000) as i64 / 1000
        })
        .collect();
    // STEADY=1: every customer keeps its AUM, so after the first month few events fire.
    let steady = std::env::var_os("STEADY").is_some();
    let start_month: Month = "2024-01".parse().unwrap();
    let mut total = std::time::Duration::ZERO;
    let (mut events, mut alerts, mut errors) = (0usize, 0usize, 0usize);
    for m in 0..months {
        let inputs: Vec<MonthInput> = base
            .iter()
            .map(|b| {
                let drift = if steady { 0 } else { (next(&mut seed) % 61) as i64 - 30 };
                let mut input = MonthInput::total(from_fen(b + b * drift / 100));
                if measured {
                    input
                        .measures
                        .insert("loan_balance".parse().unwrap(), from_fen(b * 2 * (next(&mut seed) % 2) as i64));
                    input.measures.insert("points".parse().unwrap(), from_fen((next(&mut seed) % 300) as i64 * 100));
                }
                if warned {
                    // Days without activity: mostly recent, some past the dormancy line.
                    let days = if next(&mut seed).is_multiple_of(20) { 200 } else { (next(&mut seed) % 60) as i64 };
                    input.measures.insert("days_inactive".parse().unwrap(), from_fen(days * 100));
                    let matured = if next(&mut seed).is_multiple_of(50) { b / 2 } else { 0 };
                    input.measures.insert("matured_not_reinvested".parse().unwrap(), from_fen(matured));
                }
                input
            })
            .collect();
        let t = Instant::now();
        let month = start_month.plus(m as i32);
        let out = if window {
            let mut out = crm_tiering::BatchOutcome::with_capacity(n);
            let input = |i: usize| Ok::<_, crm_tiering::TieringError>(&inputs[i]);
            engine
                .evaluate_batch_with_history(month, &customers, (&mut states, &mut histories), input, &mut out)
                .unwrap();
            out
        } else {
            engine.evaluate_batch_parallel(month, &customers, &inputs, &mut states, threads).unwrap()
        };
        let dt = t.elapsed();
        total += dt;
        events += out.events.len();
        alerts += out.alerts.len();
        errors += out.errors.len();
        if m == 0 {
            println!(
                "first month: {n} customers in {:.3} s = {:.1} M customer-months/s",
                dt.as_secs_f64(),
                n as f64 / dt.as_secs_f64() / 1e6
            );
        }
    }
    let cm = (n * months) as f64;
    println!(
        "{months} months x {n} customers, {threads} thread(s): {:.3} s = {:.1} M customer-months/s ({events} events, {alerts} alerts, {errors} errors)",
        total.as_secs_f64(),
        cm / total.as_secs_f64() / 1e6
    );
}

/// The warnings of `WARNINGS=1`, every kind (SPEC §22), appended to the default book's version.
const WARNINGS_BOOK: &str = r#"
[[rule_sets.versions.measures]]
code = "days_inactive"

[[rule_sets.versions.measures]]
code = "matured_not_reinvested"

[[rule_sets.versions.warnings]]
kind = "drop_pct"
window = "prev_1"
percent = "30"

[[rule_sets.versions.warnings]]
kind = "below_for"
amount = "200000"
months = 3
min_tier = "gold"

[[rule_sets.versions.warnings]]
kind = "large_flow"
amount = "500000"

[[rule_sets.versions.warnings]]
kind = "dormant"
measure = "days_inactive"
days = 180
amount = "100"

[[rule_sets.versions.warnings]]
kind = "reactivated"
measure = "days_inactive"
days = 180
amount = "50000"

[[rule_sets.versions.warnings]]
kind = "maturity_not_reinvested"
measure = "matured_not_reinvested"
amount = "50000"
"#;
