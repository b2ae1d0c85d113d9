//! The monthly-average AUM is summed in integer fen when every amount allows it (the usual
//! extract); that path must give exactly what the general decimal computation gives, errors
//! included. An extra `0.000` entry (three decimals) forces the general computation without
//! changing the sum, so the two are compared on the same lists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use crm_tiering::{AumInput, ComponentAmount, Customer, CustomerState, Decimal, Engine, MonthInput, RuleBook};
use proptest::prelude::*;

const CODES: [&str; 9] = [
    "demand_deposit",
    "time_deposit",
    "cert_treasury",
    "wealth_product",
    "securities_fund",
    "treasury_bond",
    "gold",
    "cts_margin",
    "not_a_component",
];

fn amount() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        8 => (0i64..1_000_000_000).prop_map(|f| Decimal::new(f, 2)),
        2 => (0i64..=99_999_999_999_999_999).prop_map(|f| Decimal::new(f, 2)),
        1 => (99_999_999_999_999_990i64..=100_000_000_000_000_010).prop_map(|f| Decimal::new(f, 2)),
        1 => (-1_000i64..=0).prop_map(|f| Decimal::new(f, 2)),
        1 => (0i64..1_000_000).prop_map(|f| Decimal::new(f, 0)),
        1 => (0i64..1_000_000).prop_map(|f| Decimal::new(f, 3)),
    ]
}

fn entries() -> impl Strategy<Value = Vec<(usize, Decimal)>> {
    prop::collection::vec((prop_oneof![20 => 0usize..8, 1 => Just(8usize)], amount()), 0..10)
}

fn input(list: &[(usize, Decimal)], force_general: bool) -> MonthInput {
    let mut amounts: Vec<ComponentAmount> =
        list.iter().map(|(c, a)| ComponentAmount { component: Arc::from(CODES[*c]), amount: *a }).collect();
    if force_general {
        amounts.push(ComponentAmount { component: Arc::from(CODES[0]), amount: Decimal::new(0, 3) });
    }
    MonthInput { aum: AumInput::Averages(amounts), special: None }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
    #[test]
    fn summing_in_fen_gives_what_the_decimal_computation_gives(list in entries()) {
        let engine = Engine::new(RuleBook::default_book().unwrap());
        let customer = Customer::personal("c1");
        let month = "2024-03".parse().unwrap();
        let prior = CustomerState::default();
        let fen = engine.evaluate(&customer, &prior, month, &input(&list, false));
        let general = engine.evaluate(&customer, &prior, month, &input(&list, true));
        match (fen, general) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(a.aum, b.aum);
                prop_assert_eq!(a.aum.scale(), b.aum.scale());
                prop_assert_eq!(a.state, b.state);
                prop_assert_eq!(a.events, b.events);
                prop_assert_eq!(a.alerts, b.alerts);
            }
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            (a, b) => prop_assert!(false, "fen path {:?}, general {:?}", a.map(|o| o.aum), b.map(|o| o.aum)),
        }
    }
}
