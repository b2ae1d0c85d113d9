//! The portfolio's states keep every customer's identity end to end (ids in one buffer, legal
//! entities once): what goes in comes back, by index and by id, through the text form too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering::portfolio::PortfolioStates;
use crm_tiering::{Customer, CustomerKind, CustomerRef, CustomerState, RuleBook, StateError, TieringError};

fn corporate(id: &str, entity: Option<&str>) -> Customer {
    Customer { id: id.into(), legal_entity: entity.map(str::to_string), kind: CustomerKind::Corporate }
}

#[test]
fn identities_come_back_by_index_and_by_id() {
    let mut states = PortfolioStates::new();
    let given = [
        corporate("c1", Some("le01")),
        Customer::personal("c2"),
        corporate("客户\"3\"", Some("le02")),
        corporate("c4", Some("le01")),
    ];
    for (k, c) in given.iter().enumerate() {
        // Owned, borrowed and by reference: the same customer goes in.
        let i = match k % 3 {
            0 => states.insert(c.clone(), CustomerState::default()),
            1 => states.insert(c.borrowed(), CustomerState::default()),
            _ => states.insert(c, CustomerState::default()),
        }
        .unwrap();
        assert_eq!(i, k);
    }
    assert_eq!(states.len(), 4);
    assert_eq!(states.customers().len(), 4);
    for (k, c) in given.iter().enumerate() {
        assert_eq!(states.customer(k), Some(c.borrowed()));
        assert_eq!(states.index_of(&c.id), Some(k));
        assert_eq!(states.get(&c.id).map(|(r, _)| Customer::from(r)), Some(c.clone()));
    }
    assert_eq!(states.customer(4), None);
    assert_eq!(states.index_of("c"), None);
    assert_eq!(states.customers().map(|c| c.id).collect::<Vec<_>>(), ["c1", "c2", "客户\"3\"", "c4"]);
    match states
        .insert(CustomerRef { id: "c4", legal_entity: None, kind: CustomerKind::Personal }, CustomerState::default())
    {
        Err(TieringError::State(e)) => assert_eq!(*e, StateError::Duplicate { customer: "c4".into() }),
        other => panic!("{other:?}"),
    }
    assert!(states.insert(Customer::personal(" c5"), CustomerState::default()).is_err());
    assert_eq!(states.len(), 4, "refused customers leave nothing behind");
}

#[test]
fn equality_is_by_content_whatever_order_entities_were_first_seen() {
    let mut a = PortfolioStates::new();
    a.insert(corporate("x", Some("le02")), CustomerState::default()).unwrap();
    a.insert(corporate("y", Some("le01")), CustomerState::default()).unwrap();
    let mut b = PortfolioStates::new();
    // The same customers, after an unrelated customer taught `b` the entities in the other order.
    let mut c = PortfolioStates::new();
    c.insert(corporate("z", Some("le01")), CustomerState::default()).unwrap();
    c.insert(corporate("x", Some("le02")), CustomerState::default()).unwrap();
    c.insert(corporate("y", Some("le01")), CustomerState::default()).unwrap();
    for (cust, s) in c.iter().skip(1) {
        b.insert(cust, *s).unwrap();
    }
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn the_text_form_round_trips_identities_with_escapes() {
    let book = RuleBook::default_book().unwrap();
    let mut states = PortfolioStates::new();
    states.insert(corporate("a\\b", Some("法人\"01\"")), CustomerState::default()).unwrap();
    states.insert(Customer::personal("c2"), CustomerState::default()).unwrap();
    let back = PortfolioStates::from_jsonl(&states.to_jsonl(&book), "states.jsonl").unwrap();
    assert_eq!(back.customers().collect::<Vec<_>>(), states.customers().collect::<Vec<_>>());
    assert_eq!(back.customer(0).unwrap().legal_entity, Some("法人\"01\""));
}

#[test]
fn a_record_replaces_the_stored_entity_and_kind_and_a_missing_one_keeps_them() {
    use crm_tiering::portfolio::{Extract, MonthRange, PortfolioOptions};
    use crm_tiering::{AumInput, Engine, Month, parse_amount};
    // The demo rule book tiers corporate customers too (the default book is personal only).
    let engine = Engine::new(RuleBook::from_toml_str(include_str!("../../../rules-spec/demo-rules.toml")).unwrap());
    let mut states = PortfolioStates::new();
    let month = |s: &str| s.parse::<Month>().unwrap();
    let run = |states: &mut PortfolioStates, m: &str, rows: &[(&str, Option<&str>, Option<CustomerKind>)]| {
        let mut x = Extract::new(engine.rule_book());
        for (k, (id, entity, kind)) in rows.iter().enumerate() {
            let aum = AumInput::Total(parse_amount("250000").unwrap());
            x.push_aum("aum", k as u64 + 2, id, *entity, *kind, Some(month(m)), aum);
        }
        let range = MonthRange::single(month(m)).unwrap();
        engine.evaluate_portfolio(states, range, &x, &PortfolioOptions::default()).unwrap();
    };
    run(&mut states, "2024-01", &[("a", Some("le01"), None), ("b", Some("le01"), Some(CustomerKind::Corporate))]);
    // A first month: every customer is found by id (the index is the plan's table of new ids).
    assert_eq!((states.index_of("a"), states.index_of("b"), states.index_of("c")), (Some(0), Some(1), None));
    assert!(states.insert(Customer::personal("b"), CustomerState::default()).is_err());
    run(&mut states, "2024-02", &[("a", Some("le02"), None), ("b", None, None)]);
    assert_eq!(
        states.customer(0),
        Some(CustomerRef { id: "a", legal_entity: Some("le02"), kind: CustomerKind::Personal })
    );
    assert_eq!(
        states.customer(1),
        Some(CustomerRef { id: "b", legal_entity: Some("le01"), kind: CustomerKind::Corporate })
    );
    run(&mut states, "2024-03", &[("a", Some("le01"), Some(CustomerKind::Corporate)), ("b", Some("le02"), None)]);
    assert_eq!(
        states.customer(0),
        Some(CustomerRef { id: "a", legal_entity: Some("le01"), kind: CustomerKind::Corporate })
    );
    assert_eq!(
        states.customer(1),
        Some(CustomerRef { id: "b", legal_entity: Some("le02"), kind: CustomerKind::Corporate })
    );
}

#[test]
fn a_first_month_indexes_every_joining_customer_whatever_the_record_order() {
    use crm_tiering::portfolio::{Extract, MonthRange, PortfolioOptions};
    use crm_tiering::{AumInput, Engine, Month, parse_amount};
    // The demo rule book tiers corporate customers too (the default book is personal only).
    let engine = Engine::new(RuleBook::from_toml_str(include_str!("../../../rules-spec/demo-rules.toml")).unwrap());
    let m: Month = "2024-01".parse().unwrap();
    for (rows, hold) in [(vec![3u64, 4, 5, 6], false), (vec![3, 4, 5, 6], true), (vec![6, 3, 5, 4], false)] {
        let mut states = PortfolioStates::new();
        let mut x = Extract::new(engine.rule_book());
        for (k, row) in rows.iter().enumerate() {
            let aum = AumInput::Total(parse_amount("250000").unwrap());
            x.push_aum("aum", *row, &format!("c{k}"), None, None, Some(m), aum);
        }
        if hold {
            // A second record of c1 holds c1 back: it never joins.
            x.push_aum("aum", 9, "c1", None, None, Some(m), AumInput::Total(parse_amount("1").unwrap()));
        }
        engine
            .evaluate_portfolio(&mut states, MonthRange::single(m).unwrap(), &x, &PortfolioOptions::default())
            .unwrap();
        assert_eq!(states.len(), if hold { 3 } else { 4 }, "{rows:?}");
        for (i, c) in states.customers().enumerate() {
            assert_eq!(states.index_of(c.id), Some(i), "{rows:?}");
        }
        assert_eq!(states.index_of("c1").is_none(), hold);
        assert_eq!(states.index_of("c9"), None);
        // Joined in the order of their first record (table, row).
        let mut by_row: Vec<(u64, String)> =
            rows.iter().enumerate().filter(|(k, _)| !hold || *k != 1).map(|(k, r)| (*r, format!("c{k}"))).collect();
        by_row.sort();
        assert_eq!(
            states.customers().map(|c| c.id.to_string()).collect::<Vec<_>>(),
            by_row.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
        );
    }
}
