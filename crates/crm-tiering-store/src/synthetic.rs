//! A synthetic portfolio month, for the store's tests, the kill test's child process and the
//! benchmark. Not part of the interface.

use crm_tiering::portfolio::PortfolioStates;
use crm_tiering::{Customer, CustomerState, Engine, Month, MonthInput, RuleBook, from_fen};

use crate::{MonthWriter, RunMeta, StoreError};

/// The default rule book's text, as shipped.
pub const DEFAULT_RULES: &str = crm_tiering::DEFAULT_RULES_TOML;

/// A run's audit data for the default rule book.
///
/// # Errors
/// When the default rule book does not load.
pub fn default_meta(rerun: bool) -> Result<(Engine, RunMeta), StoreError> {
    let book = RuleBook::from_str_auto(DEFAULT_RULES).map_err(|e| StoreError::Input(e.to_string()))?;
    let mut meta =
        RunMeta::new(concat!("crm-tiering-store ", env!("CARGO_PKG_VERSION")), book.fingerprint(), DEFAULT_RULES);
    meta.rerun = rerun;
    Ok((Engine::new(book), meta))
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Customer `i`'s AUM in fen for a month: about 5% of customers above the 200,000 entry
/// threshold, 3% just below it (near-threshold alerts), the rest well below.
pub fn aum_fen(i: usize, month: Month) -> i64 {
    let h = mix((i as u64) << 20 ^ month.yyyymm() as u64);
    let band = mix(i as u64) % 100;
    let wobble = (h % 40) as i64 - 20; // -20%..+20%
    let base: i64 = match band {
        0..=4 => 20_000_000 + (mix(i as u64 + 7) % 2_800_000) as i64 * 100,
        5..=7 => 18_500_000,
        _ => (mix(i as u64 + 3) % 100_000) as i64 * 100,
    };
    (base + base * wobble / 100).max(0)
}

/// The customer id of customer `i`.
pub fn customer_id(i: usize) -> String {
    format!("62210{i:09}")
}

/// Evaluates a month of `n` customers from `prev` and writes states, events and alerts into
/// `writer`. Returns the new states.
///
/// # Errors
/// The engine's or the writer's.
pub fn write_month(
    writer: &mut MonthWriter<'_>,
    engine: &Engine,
    prev: Option<&PortfolioStates>,
    n: usize,
) -> Result<PortfolioStates, StoreError> {
    let month = writer.month();
    let mut next = PortfolioStates::new();
    for i in 0..n {
        let id = customer_id(i);
        let (customer, state) = match prev.and_then(|p| p.get(&id)) {
            Some((c, s)) => (Customer::from(c), *s),
            None => {
                let mut c = Customer::personal(id.as_str());
                c.legal_entity = Some(format!("le{:02}", i % 7));
                (c, CustomerState::default())
            }
        };
        let input = MonthInput::total(from_fen(aum_fen(i, month)));
        let out = engine.evaluate(&customer, &state, month, &input).map_err(|e| StoreError::Input(e.to_string()))?;
        for e in &out.events {
            writer.event(&customer.id, e);
        }
        for a in &out.alerts {
            writer.alert(&customer.id, a);
        }
        writer.state(&customer, &out.state, Some((out.aum, true)))?;
        next.insert(customer, out.state).map_err(|e| StoreError::Input(e.to_string()))?;
    }
    Ok(next)
}
