//! Writes one synthetic month into a store: the child process of the store's kill tests.
//!
//! `crmt-store-fixture STORE MONTH CUSTOMERS [--rerun] [--hold-ms N]`: opens the store, takes
//! the lock, evaluates `CUSTOMERS` synthetic customers from the latest committed states, holds
//! the lock `N` milliseconds (for the concurrency test), commits, and prints `committed run R`.
//! Exits 3 with the message when the store refuses (locked: exit 4).
#![allow(clippy::print_stdout)]

use crm_tiering_store::{Store, StoreErrorKind, synthetic};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(store), Some(month), Some(n)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: crmt-store-fixture STORE MONTH CUSTOMERS [--rerun] [--hold-ms N]");
        std::process::exit(2);
    };
    let rerun = args.iter().any(|a| a == "--rerun");
    let hold_ms: u64 = args
        .iter()
        .position(|a| a == "--hold-ms")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let (Ok(month), Ok(n)) = (month.parse(), n.parse::<usize>()) else {
        eprintln!("bad month or count");
        std::process::exit(2);
    };
    let result = (|| {
        let (engine, meta) = synthetic::default_meta(rerun)?;
        let mut store = match Store::open(store) {
            Err(e) if e.kind() == StoreErrorKind::Missing => Store::create(store)?,
            other => other?,
        };
        let mut w = store.begin_month(month, meta)?;
        println!("locked run {}", w.run_id());
        let prev = w.previous_states()?;
        synthetic::write_month(&mut w, &engine, prev.as_ref().map(|p| &p.states), n)?;
        if hold_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(hold_ms));
        }
        w.commit()
    })();
    match result {
        Ok(run) => println!("committed run {}", run.run_id),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(if e.kind() == StoreErrorKind::Locked { 4 } else { 3 });
        }
    }
}
