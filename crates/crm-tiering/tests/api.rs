//! API-level guarantees: thread safety, state schema versions, batch accounting, error texts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering::{
    AumInput, ComponentAmount, Customer, CustomerState, Engine, Month, MonthInput, RuleBook, SpecialChange, StateError,
    TieringError, parse_amount,
};

fn engine() -> Engine {
    Engine::new(RuleBook::default_book().unwrap())
}

fn m(s: &str) -> Month {
    s.parse().unwrap()
}

#[test]
fn engine_and_rules_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<RuleBook>();
    assert_send_sync::<CustomerState>();
    assert_send_sync::<TieringError>();
}

#[test]
fn unknown_state_schema_version_is_an_error() {
    let json = CustomerState::default().to_json().replace("\"schema_version\":1", "\"schema_version\":2");
    match CustomerState::from_json(&json) {
        Err(TieringError::State(e)) => {
            assert_eq!(*e, StateError::SchemaVersion { found: 2, supported: 1 });
            assert_eq!(e.to_string(), "state schema version 2 is not supported (this library reads version 1)");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(CustomerState::from_json("{}"), Err(TieringError::State(_))));
    assert!(matches!(CustomerState::from_json("not json"), Err(TieringError::State(_))));
    // Through plain serde too.
    assert!(serde_json::from_str::<CustomerState>(&json).is_err());
}

#[test]
fn batch_accounts_for_every_customer() {
    let e = engine();
    let customers: Vec<Customer> = (0..5).map(|i| Customer::personal(format!("c{i}"))).collect();
    let inputs = vec![
        MonthInput::total(parse_amount("250000").unwrap()),
        MonthInput::total(parse_amount("-1").unwrap()),
        MonthInput {
            aum: AumInput::Averages(vec![ComponentAmount {
                component: "bitcoin".into(),
                amount: parse_amount("1").unwrap(),
            }]),
            special: None,
            measures: Default::default(),
        },
        MonthInput {
            aum: AumInput::Total(parse_amount("10").unwrap()),
            special: Some(SpecialChange::Revoke),
            measures: Default::default(),
        },
        MonthInput::total(parse_amount("3000000").unwrap()),
    ];
    let mut states = vec![CustomerState::default(); 5];
    let out = e.evaluate_batch(m("2024-01"), &customers, &inputs, &mut states).unwrap();
    let bad: Vec<u32> = out.errors.iter().map(|e| e.index).collect();
    assert_eq!(out.errors[1].error.field(), Some("bitcoin"));
    assert_eq!(out.errors[1].error.month(), Some(m("2024-01")));
    assert_eq!(bad, [1, 2, 3]);
    assert_eq!(out.aums.len(), 5);
    assert_eq!(states[0].tier.unwrap().as_str(), "gold");
    assert_eq!(states[4].tier.unwrap().as_str(), "private");
    for i in [1, 2, 3] {
        assert_eq!(states[i], CustomerState::default(), "a customer in error keeps its state");
    }
    let messages: Vec<String> = out.errors.iter().map(|e| e.error.to_string()).collect();
    assert_eq!(messages[0], "invalid input for customer `c1`, month 2024-01, field `aum`: amount -1 is negative");
    assert_eq!(
        messages[1],
        "invalid input for customer `c2`, month 2024-01, field `bitcoin`: `bitcoin` is not a component of the rule book's AUM catalogue"
    );
    assert!(messages[2].contains("no active special VIP designation to revoke"), "{}", messages[2]);
    // Slices of different lengths are refused as a whole.
    assert!(e.evaluate_batch(m("2024-02"), &customers, &inputs[..4], &mut states).is_err());
}

#[test]
fn sequence_errors_name_the_customer_and_months() {
    let e = engine();
    let c = Customer::personal("6221");
    let jan = e
        .evaluate(&c, &CustomerState::default(), m("2024-01"), &MonthInput::total(parse_amount("1").unwrap()))
        .unwrap();
    let gap = e.evaluate(&c, &jan.state, m("2024-03"), &MonthInput::default()).unwrap_err();
    assert_eq!(
        gap.to_string(),
        "customer `6221`: month 2024-03 follows 2024-01 but 2024-02 is missing (months are evaluated strictly in order)"
    );
    assert_eq!((gap.customer(), gap.month(), gap.field()), (Some("6221"), Some(m("2024-03")), Some("month")));
    let again = e.evaluate(&c, &jan.state, m("2024-01"), &MonthInput::default()).unwrap_err();
    assert!(matches!(again, TieringError::Sequence(_)));
}

#[test]
fn error_messages_are_lowercase_and_name_no_types() {
    let e = engine();
    let c = Customer::personal("c");
    let mut errors: Vec<TieringError> = vec![
        RuleBook::from_toml_str("format_version = 1\nrule_sets = 3").unwrap_err(),
        RuleBook::from_json_str("{\"format_version\": \"x\"}").unwrap_err(),
        RuleBook::from_toml_str(&crm_tiering::DEFAULT_RULES_TOML.replace("min_aum = \"200000\"", "min_aum = 200000.5"))
            .unwrap_err(),
        CustomerState::from_json("[]").unwrap_err(),
    ];
    errors.push(e.evaluate(&c, &CustomerState::default(), m("1999-12"), &MonthInput::default()).unwrap_err());
    for err in errors {
        let text = err.to_string();
        assert!(text.chars().next().unwrap().is_lowercase(), "{text}");
        for word in ["i64", "u32", "f64", "Decimal", "String", "crm_tiering::", "Option<"] {
            assert!(!text.contains(word), "{text}");
        }
    }
}

#[test]
fn borrowed_customers_lazy_inputs_and_sinks_match_the_owned_batch() {
    use crm_tiering::{BatchOutcome, CustomerKind, CustomerRef, from_fen};
    let e = engine();
    let n = 1000;
    let ids: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let fen: Vec<i64> = (0..n).map(|i| (i as i64 * 7919 % 400_000) * 1000 - 1_000_000).collect();
    let owned: Vec<Customer> = ids.iter().map(Customer::personal).collect();
    let inputs: Vec<MonthInput> = fen.iter().map(|f| MonthInput::total(from_fen(*f))).collect();
    let borrowed: Vec<CustomerRef> =
        ids.iter().map(|id| CustomerRef { id, legal_entity: None, kind: CustomerKind::Personal }).collect();
    let mut a = vec![CustomerState::default(); n];
    let mut b = a.clone();
    let mut c = a.clone();
    let expected = e.evaluate_batch(m("2024-01"), &owned, &inputs, &mut a).unwrap();
    let mut got = BatchOutcome::default();
    e.evaluate_batch_with(m("2024-01"), &borrowed, &mut b, |i| Ok(MonthInput::total(from_fen(fen[i]))), &mut got)
        .unwrap();
    assert_eq!(got, expected);
    assert_eq!(a, b);
    assert!(!expected.errors.is_empty() && !expected.events.is_empty());
    let parts = e
        .evaluate_batch_parallel_with(
            m("2024-01"),
            &borrowed,
            &mut c,
            |i| Ok(MonthInput::total(from_fen(fen[i]))),
            3,
            BatchOutcome::default,
        )
        .unwrap();
    assert_eq!(parts.len(), 3);
    let events: Vec<_> = parts.iter().flat_map(|p| p.events.clone()).collect();
    let errors: Vec<_> = parts.iter().flat_map(|p| p.errors.clone()).collect();
    assert_eq!(events, expected.events);
    assert_eq!(errors, expected.errors);
    assert_eq!(a, c);
}

#[test]
fn helpers_the_bindings_share() {
    use crm_tiering::{CustomerState, RuleBook, Status};
    let book = RuleBook::default_book().unwrap();
    let codes: Vec<String> = book.tier_codes().iter().map(|c| c.to_string()).collect();
    assert_eq!(codes, ["gold", "platinum", "diamond", "private"]);
    assert_eq!(Status::ALL.map(Status::as_str), ["not_enrolled", "rated", "retained"]);
    let s = CustomerState::default();
    assert_eq!((s.watch_months(), s.below_entry_months()), (0, 0));
    assert_eq!(book.fingerprint().len(), 64);
    assert_eq!(RuleBook::from_json_str(&book.to_json()).unwrap().fingerprint(), book.fingerprint());
}

#[test]
fn a_customer_twice_in_stored_states_names_both_lines() {
    use crm_tiering::portfolio::PortfolioStates;
    use crm_tiering::{Customer, CustomerState, RuleBook};
    let book = RuleBook::default_book().unwrap();
    let mut states = PortfolioStates::new();
    for id in ["c1", "c2", "c3"] {
        states.insert(Customer::personal(id), CustomerState::default()).unwrap();
    }
    // Rewrite c3's line as c1's and recompute nothing: the checksum catches the edit first.
    let text = states.to_jsonl(&book).replace("\"customer_id\":\"c3\"", "\"customer_id\":\"c1\"");
    let err = PortfolioStates::from_jsonl(&text, "states.jsonl").unwrap_err();
    assert_eq!(err.field(), Some("states"));
    // A file written with the duplicate (by another tool) has a valid checksum: the duplicate
    // is named with both lines.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.pop();
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let sum = {
        use sha2::Digest as _;
        use std::fmt::Write as _;
        sha2::Sha256::digest(body.as_bytes()).iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    let text = format!("{body}{{\"end_of_states\":{{\"customers\":3,\"sha256\":\"{sum}\"}}}}\n");
    let err = PortfolioStates::from_jsonl(&text, "states.jsonl").unwrap_err();
    assert_eq!((err.category(), err.field(), err.customer()), ("state", Some("customer_id"), Some("c1")));
    assert_eq!(err.record.as_ref().map(|r| r.row), Some(4));
    assert_eq!(err.other_record.as_ref().map(|r| r.row), Some(2));
}
