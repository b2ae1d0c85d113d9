//! The process's table of tier codes is bounded, and input cannot exhaust it for rule books:
//! codes from input (states, designations) stop at `TierCode::MAX_FROM_INPUT`, after which a
//! rule book with new codes still loads (issue 18); once the whole table is full, a new code is
//! an error (never a panic) and the codes already held keep working. Its own test binary, so
//! the full table does not reach other tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering::{ParseError, RuleBook, TierCode};

/// A one-set book whose four tiers have codes `{prefix}0` .. `{prefix}3`.
fn book(prefix: &str) -> Result<RuleBook, crm_tiering::TieringError> {
    let default = RuleBook::default_book().unwrap();
    let mut text = default.to_json();
    for (i, code) in ["gold", "platinum", "diamond", "private"].iter().enumerate() {
        text = text.replace(&format!("\"code\": \"{code}\""), &format!("\"code\": \"{prefix}{i}\""));
        text = text.replace(
            &format!("\"special_vip_default_tier\": \"{code}\""),
            &format!("\"special_vip_default_tier\": \"{prefix}{i}\""),
        );
    }
    RuleBook::from_json_str(&text)
}

/// The default book with 1,000 retired codes `r{k}_{j}` mapped to `gold`.
fn retiring(k: usize) -> Result<RuleBook, crm_tiering::TieringError> {
    let mut v: serde_json::Value = serde_json::from_str(&RuleBook::default_book().unwrap().to_json()).unwrap();
    let map: serde_json::Map<String, serde_json::Value> =
        (0..1000).map(|j| (format!("r{k}_{j}"), serde_json::Value::from("gold"))).collect();
    v["rule_sets"][0]["versions"][0]["tier_map"] = serde_json::Value::Object(map);
    RuleBook::from_json_str(&v.to_string())
}

#[test]
fn input_cannot_keep_a_rule_book_from_loading_and_the_table_is_bounded() {
    // The default book's codes come from a rule book: they do not count as input.
    RuleBook::default_book().unwrap();
    let gold: TierCode = "gold".parse().unwrap();
    // Input fills its share of the table...
    let mut from_input = 0;
    let refused = loop {
        match TierCode::new(&format!("in{from_input}")) {
            Ok(_) => from_input += 1,
            Err(e) => break e,
        }
        assert!(from_input <= TierCode::MAX_FROM_INPUT, "input is bounded");
    };
    assert_eq!(from_input, TierCode::MAX_FROM_INPUT);
    assert_eq!(refused, ParseError::TooManyInputTierCodes(format!("in{from_input}")));
    // ... codes a rule book knows still parse from input ...
    assert_eq!("gold".parse::<TierCode>().unwrap(), gold);
    assert_eq!("in0".parse::<TierCode>().unwrap().as_str(), "in0");
    // ... and a rule book with new codes still loads.
    let fresh = book("fresh").expect("a rule book loads after input filled its share");
    assert!(fresh.tier_codes().iter().any(|c| c.as_str() == "fresh0"));
    assert_eq!("fresh1".parse::<TierCode>().unwrap().as_str(), "fresh1");
    // Rule books can fill the rest (each of these maps 1,000 retired codes through its
    // `tier_map`); then a new code is an error, never a panic.
    let mut k = 0;
    let full = loop {
        match retiring(k) {
            Ok(_) => k += 1,
            Err(e) => break e,
        }
        assert!(k < TierCode::MAX_DISTINCT, "the table is bounded");
    };
    assert!(full.to_string().contains("65535 distinct tier codes"), "{full}");
    // Codes already held still parse, compare and read back.
    assert_eq!("gold".parse::<TierCode>().unwrap(), gold);
    assert!(gold < "in0".parse::<TierCode>().unwrap());
}
