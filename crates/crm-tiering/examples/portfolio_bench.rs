//! The portfolio month over N customers (default 1,000,000), second month, 1 thread: time to
//! build the extract from typed records, and to evaluate it against the stored states, beside
//! the bare batch (`evaluate_batch_with` over borrowed ids) on the same data.
//!
//! `cargo run --release -p crm-tiering --example portfolio_bench -- 1000000`
//!
//! `RULES=rules-spec/gallery/citic-private.toml` (any rule book file) runs it under that book:
//! a book with windows keeps every customer's history beside its state (SPEC §19.5), and the
//! bare batch then carries the histories too (`evaluate_batch_with_history`).
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::Instant;

use crm_tiering::portfolio::{Extract, PortfolioOptions, PortfolioStates};
use crm_tiering::{AumInput, BatchOutcome, CustomerRef, Engine, Histories, MonthInput, RuleBook, from_fen};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let book = match std::env::var("RULES") {
        Ok(path) => RuleBook::from_path(path).unwrap(),
        Err(_) => RuleBook::default_book().unwrap(),
    };
    let engine = Engine::new(book);
    let ids: Vec<String> = (0..n).map(|i| format!("62{i:010}")).collect();
    // A realistic spread: most customers far below entry, a few percent VIPs.
    let fen = |i: usize, month: u64| -> i64 {
        let x = (i as u64).wrapping_mul(2654435761).wrapping_add(month * 97) % 1000;
        let base = if x < 960 { x as i64 * 10_000 } else { (x as i64 - 950) * 8_000_000 };
        base + (i as i64 % 100)
    };
    let months: Vec<crm_tiering::Month> = vec!["2024-01".parse().unwrap(), "2024-02".parse().unwrap()];
    let mut states = PortfolioStates::new();
    let mut times = Vec::new();
    for (k, &m) in months.iter().enumerate() {
        let t0 = Instant::now();
        let mut extract = Extract::new(engine.rule_book());
        for (i, id) in ids.iter().enumerate() {
            extract.push_aum("aum", i as u64, id, None, None, None, AumInput::Total(from_fen(fen(i, k as u64))));
        }
        let t1 = Instant::now();
        engine
            .evaluate_portfolio_with(
                &mut states,
                m.into_range(),
                &extract,
                &PortfolioOptions::default(),
                &mut Count::default(),
            )
            .unwrap();
        let t2 = Instant::now();
        times.push((t1 - t0, t2 - t1));
    }
    // The bare batch on the same second month.
    let refs: Vec<CustomerRef<'_>> =
        ids.iter().map(|id| CustomerRef { id, legal_entity: None, kind: Default::default() }).collect();
    let mut bare: Vec<_> = states.states().to_vec();
    for s in &mut bare {
        s.last_month = Some(months[0]);
    }
    let mut first = vec![crm_tiering::CustomerState::default(); n];
    let mut histories = Histories::new();
    let mut sink = BatchOutcome::default();
    let input = |k: u64| move |i: usize| Ok::<_, crm_tiering::TieringError>(MonthInput::total(from_fen(fen(i, k))));
    engine.evaluate_batch_with_history(months[0], &refs, (&mut first, &mut histories), input(0), &mut sink).unwrap();
    let t = Instant::now();
    let mut sink = BatchOutcome::default();
    engine.evaluate_batch_with_history(months[1], &refs, (&mut first, &mut histories), input(1), &mut sink).unwrap();
    let batch = t.elapsed();
    assert!(sink.errors.is_empty(), "{:?}", sink.errors.first());
    let (build, eval) = times[1];
    println!("{n} customers, 1 thread, rule book \"{}\"", engine.rule_book().name());
    println!("  first month (every customer joins): {:>8.3} s", times[0].1.as_secs_f64());
    println!("  first / second month:         {:>8.2}x", times[0].1.as_secs_f64() / eval.as_secs_f64());
    println!("second month:");
    println!("  extract from typed records:   {:>8.3} s", build.as_secs_f64());
    println!("  portfolio month (evaluate):   {:>8.3} s", eval.as_secs_f64());
    println!("  bare batch (evaluate_batch_with): {:>8.3} s", batch.as_secs_f64());
    println!("  portfolio / bare batch:       {:>8.2}x", eval.as_secs_f64() / batch.as_secs_f64());
}

trait IntoRange {
    fn into_range(self) -> crm_tiering::portfolio::MonthRange;
}

impl IntoRange for crm_tiering::Month {
    fn into_range(self) -> crm_tiering::portfolio::MonthRange {
        crm_tiering::portfolio::MonthRange::single(self).unwrap()
    }
}

/// Counts what a month produces, as a sink that keeps nothing.
#[derive(Default)]
struct Count {
    events: usize,
}

impl crm_tiering::portfolio::PortfolioSink for Count {
    fn event(&mut self, _: crm_tiering::Month, _: usize, _: crm_tiering::CustomerRef<'_>, _: &crm_tiering::Event) {
        self.events += 1;
    }
    fn alert(&mut self, _: crm_tiering::Month, _: usize, _: crm_tiering::CustomerRef<'_>, _: &crm_tiering::Alert) {}
    fn evaluated(
        &mut self,
        _: crm_tiering::Month,
        _: usize,
        _: crm_tiering::CustomerRef<'_>,
        _: crm_tiering::Decimal,
        _: bool,
        _: &crm_tiering::CustomerState,
    ) {
    }
    fn held(&mut self, _: crm_tiering::Month, _: Option<usize>, _: &crm_tiering::portfolio::RecordError) {}
}
