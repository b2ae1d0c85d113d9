//! Amounts and months at and beyond their bounds (SPEC §16): rule books load or fail with a
//! rules error, inputs are refused with an input error naming the field, nothing panics. The
//! fuzz targets `rule_book_amounts` and `portfolio_month` start from these cases
//! (`fuzz/seeds/`); this test keeps them in the ordinary test command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering::portfolio::{Columns, Extract, PortfolioOptions, PortfolioStates, TableKind};
use crm_tiering::{
    Customer, CustomerState, Decimal, Engine, MAX_AMOUNT, Month, MonthInput, RuleBook, TieringError, parse_amount,
};
use proptest::prelude::*;

fn book_with(min: Decimal, band: Decimal) -> Result<RuleBook, TieringError> {
    let mut file = RuleBook::default_book().unwrap().source().clone();
    let v = &mut file.rule_sets[0].versions[0];
    v.tiers[3].min_aum = min;
    v.near_threshold_band = band;
    RuleBook::from_file(file)
}

#[test]
fn tier_minimums_near_the_decimal_limit_are_rules_errors() {
    let ten_percent = parse_amount("0.10").unwrap();
    for min in ["79228162514264337593543950335", "72000000000000000000000000000", "1000000000000000"] {
        let err = book_with(parse_amount(min).unwrap(), ten_percent).unwrap_err();
        assert_eq!(err.category(), "rules");
        assert_eq!(err.field(), Some("rule_sets[0].versions[0].tiers[3].min_aum"), "{err}");
    }
    let book = book_with(MAX_AMOUNT, parse_amount("0.9999").unwrap()).unwrap();
    let engine = Engine::new(book);
    let month: Month = "2024-01".parse().unwrap();
    let out = engine
        .evaluate(&Customer::personal("c1"), &CustomerState::default(), month, &MonthInput::total(MAX_AMOUNT))
        .unwrap();
    assert_eq!(out.state.tier.unwrap().as_str(), "private");
}

#[test]
fn amounts_above_the_bound_are_input_errors() {
    let engine = Engine::new(RuleBook::default_book().unwrap());
    let month: Month = "2024-01".parse().unwrap();
    let above = MAX_AMOUNT + Decimal::new(1, 2);
    let err = engine
        .evaluate(&Customer::personal("c1"), &CustomerState::default(), month, &MonthInput::total(above))
        .unwrap_err();
    assert_eq!((err.category(), err.field()), ("input", Some("aum")));
    let err = engine
        .evaluate(&Customer::personal("c1"), &CustomerState::default(), month, &MonthInput::total(Decimal::MAX))
        .unwrap_err();
    assert_eq!(err.field(), Some("aum"));
}

#[test]
fn the_last_month_is_never_evaluated() {
    let engine = Engine::new(RuleBook::default_book().unwrap());
    let last: Month = "9999-12".parse().unwrap();
    assert_eq!(last, Month::LAST);
    let err = engine
        .evaluate(&Customer::personal("c1"), &CustomerState::default(), last, &MonthInput::total(Decimal::ONE))
        .unwrap_err();
    assert_eq!(err.field(), Some("month"));
    let before = last.plus(-1);
    let out = engine
        .evaluate(&Customer::personal("c1"), &CustomerState::default(), before, &MonthInput::total(MAX_AMOUNT))
        .unwrap();
    assert_eq!(out.state.effective_month(), Some(last));
    let err = engine.evaluate(&Customer::personal("c1"), &out.state, last, &MonthInput::total(Decimal::ONE));
    assert!(err.is_err());
}

fn any_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<bool>(), 0u32..=28)
            .prop_map(|(lo, mid, hi, neg, scale)| Decimal::from_parts(lo, mid, hi, neg, scale)),
        Just(Decimal::MAX),
        Just(MAX_AMOUNT),
        Just(MAX_AMOUNT + Decimal::new(1, 2)),
        (0i64..=i64::MAX).prop_map(|fen| Decimal::new(fen, 2)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any tier minimum, band and month total: loading and evaluating never panics, and a book
    /// that loads has every minimum within the bound.
    #[test]
    fn any_amounts_never_panic(min in any_decimal(), band in any_decimal(), aum in any_decimal()) {
        if let Ok(book) = book_with(min, band) {
            prop_assert!(min <= MAX_AMOUNT);
            let engine = Engine::new(book);
            let month: Month = "2024-01".parse().unwrap();
            let r = engine.evaluate(&Customer::personal("c1"), &CustomerState::default(), month, &MonthInput::total(aum));
            if let Err(e) = r {
                prop_assert_eq!(e.category(), "input");
            }
        }
    }

    /// Any cells under an AUM header and any states text: the portfolio month never panics, and
    /// a run that fails leaves the states unchanged.
    #[test]
    fn any_extract_never_panics(
        rows in proptest::collection::vec(
            (prop_oneof![Just("2024-01".to_string()), Just("2024-02".to_string()), Just("9999-12".to_string()), "[0-9+ -]{0,8}"],
             prop_oneof![Just("c1".to_string()), Just("c2".to_string()), Just(" c3".to_string()), Just(String::new()), "[a-z0-9]{1,4}"],
             prop_oneof![any_decimal().prop_map(|d| d.to_string()), "[0-9.,e-]{0,12}"]),
            0..12),
        states_text in prop_oneof![Just(String::new()), ".{0,200}"],
    ) {
        let engine = Engine::new(RuleBook::default_book().unwrap());
        let cols = Columns::resolve(engine.rule_book(), TableKind::Aum, &["month", "customer_id", "aum"]).unwrap();
        let mut extract = Extract::new(engine.rule_book());
        for (k, (m, id, a)) in rows.iter().enumerate() {
            extract.push_cells("aum", &cols, k as u64, &[m, id, a]);
        }
        let mut states = PortfolioStates::from_jsonl(&states_text, "states").unwrap_or_default();
        let before = states.clone();
        match engine.evaluate_portfolio(&mut states, "2024-01..2024-02".parse().unwrap(), &extract, &PortfolioOptions::default()) {
            Ok(out) => for e in out.errors() {
                prop_assert!(e.customer().is_some() && e.field().is_some(), "{}", e);
            },
            Err(_) => prop_assert_eq!(states, before),
        }
    }
}
