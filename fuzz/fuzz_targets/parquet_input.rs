//! Any bytes as a Parquet AUM extract, read exactly as the CLI reads `--aum x.parquet` (the
//! core's `read_parquet`, every size the file claims checked against its bytes): read or
//! refused as a whole, never a panic nor an allocation of what a damaged footer claims; what
//! reads goes through the portfolio month, whose held customers' errors name a customer and a
//! field.
#![no_main]

use crm_tiering::portfolio::arrow::read_parquet;
use crm_tiering::portfolio::{Extract, PortfolioOptions, PortfolioStates, TableKind};
use crm_tiering::{Engine, RuleBook};
use libfuzzer_sys::fuzz_target;

/// Panics of the Parquet decoder itself, which `read_parquet` contains (a damaged file), are
/// not reported; any other panic is, as the default hook would (and the fuzzer aborts on it).
fn quiet_decoder_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let decoder = info.location().is_some_and(|l| l.file().contains("/parquet-") || l.file().contains("/arrow-"));
            if !decoder {
                report(info);
                std::process::abort();
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    quiet_decoder_panics();
    let Ok(book) = RuleBook::default_book() else { return };
    let engine = Engine::new(book);
    let mut extract = Extract::new(engine.rule_book());
    let file = bytes::Bytes::copy_from_slice(data);
    if read_parquet(engine.rule_book(), TableKind::Aum, "aum.parquet", file, 1, &mut extract, |_, _| {}).is_err() {
        return;
    }
    let mut states = PortfolioStates::new();
    let Ok(months) = "2024-03".parse() else { return };
    let options = PortfolioOptions { allow_empty_month: true, ..PortfolioOptions::default() };
    if let Ok(out) = engine.evaluate_portfolio(&mut states, months, &extract, &options) {
        for e in out.errors() {
            assert!(e.customer().is_some() && e.field().is_some(), "{e}");
        }
    }
});
