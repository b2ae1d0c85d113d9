//! Arbitrary histories (AUM, designation changes, month steps) under the default rules: every
//! month either evaluates or fails with an error naming the customer; the state never changes on
//! error, and every state survives a JSON round trip.
#![no_main]

use crm_tiering::{AumInput, Customer, CustomerState, Engine, Month, MonthInput, RuleBook, SpecialChange, from_fen};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(book) = RuleBook::default_book() else { return };
    let engine = Engine::new(book);
    let customer = Customer::personal("fuzz");
    let Ok(mut month) = Month::new(2024, 1) else { return };
    let mut state = CustomerState::default();
    for chunk in data.chunks(6) {
        let [a, b, c, d, e, f] = match chunk {
            [a, b, c, d, e, f] => [*a, *b, *c, *d, *e, *f],
            _ => return,
        };
        let fen = i64::from(i32::from_le_bytes([a, b, c, d])) * 997;
        let special = match e % 16 {
            0 => Some(SpecialChange::Grant { tier: None, months: Some(u32::from(f % 16)) }),
            1 => Some(SpecialChange::Revoke),
            2 => Some(SpecialChange::Grant { tier: "private".parse().ok(), months: None }),
            _ => None,
        };
        // Mostly the next month; sometimes a repeat or a gap.
        let step = match f % 8 {
            0 => 0,
            1 => 2,
            _ => 1,
        };
        let next = if state.last_month.is_some() { month.plus(step) } else { month };
        let input = MonthInput { aum: AumInput::Total(from_fen(fen)), special, measures: Default::default() };
        match engine.evaluate(&customer, &state, next, &input) {
            Ok(out) => {
                assert_eq!(CustomerState::from_json(&out.state.to_json()).ok(), Some(out.state));
                state = out.state;
                month = next;
            }
            Err(err) => assert_eq!(err.customer(), Some("fuzz")),
        }
    }
});
