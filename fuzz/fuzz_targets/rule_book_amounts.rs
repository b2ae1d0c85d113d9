//! Tier minimums, bands and AUM inputs anywhere in the range of a decimal, including its
//! extremes (the random text of `rule_book` rarely reaches them): the book loads or fails with a
//! rules error, and evaluation never panics.
#![no_main]

use crm_tiering::{Customer, CustomerState, Decimal, Engine, MonthInput, RuleBook};
use libfuzzer_sys::fuzz_target;

fn decimal(b: &[u8]) -> Decimal {
    let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    Decimal::from_parts(word(0), word(4), word(8), b[12] & 1 == 1, u32::from(b[13] % 29))
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 42 {
        return;
    }
    let (min, band, aum) = (decimal(&data[0..14]), decimal(&data[14..28]), decimal(&data[28..42]));
    let Ok(mut file) = RuleBook::default_book().map(|b| b.source().clone()) else { return };
    let version = &mut file.rule_sets[0].versions[0];
    version.tiers[3].min_aum = min;
    version.near_threshold_band = band;
    let Ok(book) = RuleBook::from_file(file) else { return };
    let engine = Engine::new(book);
    let Ok(month) = "2024-01".parse() else { return };
    let _ = engine.evaluate(&Customer::personal("c1"), &CustomerState::default(), month, &MonthInput::total(aum));
});
