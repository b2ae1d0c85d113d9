//! The monthly-average AUM is summed in integer fen when every amount allows it (the usual
//! extract); that path must give exactly what the general decimal computation gives, errors
//! included. An extra `0.000` entry (three decimals) forces the general computation without
//! changing the sum, so the two are compared on the same lists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::{Arc, LazyLock};

use crm_tiering::{
    AumInput, ComponentAmount, Customer, CustomerKind, CustomerState, Decimal, Engine, MonthInput, RuleBook,
};
use proptest::prelude::*;

/// The default book's component codes, then one that is in no catalogue (the last).
static CODES: LazyLock<Vec<Arc<str>>> = LazyLock::new(|| {
    let book = RuleBook::default_book().unwrap();
    let set = book.select(None, CustomerKind::Personal).unwrap();
    let v = book.version_for(set, "2024-03".parse().unwrap(), "c1").unwrap();
    let mut codes: Vec<Arc<str>> = v.aum.components().iter().map(|c| Arc::from(c.code.as_str())).collect();
    codes.push(Arc::from("not_a_component"));
    codes
});

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
    prop::collection::vec((prop_oneof![20 => 0usize..CODES.len() - 1, 1 => Just(CODES.len() - 1)], amount()), 0..10)
}

fn input(list: &[(usize, Decimal)], force_general: bool) -> MonthInput {
    let mut amounts: Vec<ComponentAmount> =
        list.iter().map(|(c, a)| ComponentAmount { component: CODES[*c].clone(), amount: *a }).collect();
    if force_general {
        amounts.push(ComponentAmount { component: CODES[0].clone(), amount: Decimal::new(0, 3) });
    }
    MonthInput { aum: AumInput::Averages(amounts), special: None, measures: Default::default() }
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

/// The default rule book, with its composition changed: `gold` weighted 0.5 and `cts_margin`
/// not counted (so some codes are skipped, and some need the general computation).
fn reweighted(text: &str) -> String {
    let t = text.replace(
        "name_en = \"Gold\"\ngroup = \"investment_wealth\"",
        "name_en = \"Gold\"\ngroup = \"investment_wealth\"\nweight = \"0.5\"",
    );
    let t = t.replace("weight = \"1\"", "weight = \"1\"\nincluded = false");
    assert_ne!(t, text);
    t
}

/// The rule books the extract is evaluated under: the default (every code of weight 1), one
/// reweighted composition for everybody, and the default for personal customers beside the
/// reweighted one for corporate customers (the composition then depends on the customer).
fn books() -> Vec<RuleBook> {
    let default = include_str!("../../../rules-spec/default-rules.toml");
    let at = default.find("[[rule_sets]]").unwrap();
    let corporate =
        reweighted(&default[at..]).replace("name = \"default\"", "name = \"corporate\"\ncustomer_kind = \"corporate\"");
    let two = format!("{default}\n{corporate}");
    [default.to_string(), reweighted(default), two].iter().map(|t| RuleBook::from_toml_str(t).unwrap()).collect()
}

/// A customer of the extract: corporate or not, and its component averages of two months.
type Case = (bool, Vec<(usize, Decimal)>, Vec<(usize, Decimal)>);

/// Amounts with their scale, so that an amount given back with another scale is a difference.
fn shown(aum: &AumInput) -> String {
    format!("{aum:?}")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    /// The extract keeps the usual averages in integer fen and the evaluation sums them with
    /// the customer's composition: every customer's AUM, state, events, alerts and errors are
    /// exactly those of the engine on the averages as given, and the extract gives the averages
    /// back as they were.
    #[test]
    fn the_extract_in_fen_evaluates_as_the_averages_given(
        customers in prop::collection::vec((any::<bool>(), entries(), entries()), 1..6),
        book in 0usize..3,
    ) {
        use crm_tiering::portfolio::{Extract, MonthRange, PortfolioOptions, PortfolioStates};
        use crm_tiering::{CustomerKind, Month};
        let book = books().swap_remove(book);
        let engine = Engine::new(book);
        let months: [Month; 2] = ["2024-02".parse().unwrap(), "2024-03".parse().unwrap()];
        let kind = |corporate: bool| if corporate { CustomerKind::Corporate } else { CustomerKind::Personal };
        let mut states = PortfolioStates::new();
        let mut prior: Vec<CustomerState> = vec![CustomerState::default(); customers.len()];
        for (n, &month) in months.iter().enumerate() {
            let mut extract = Extract::new(engine.rule_book());
            let list = |c: &Case| if n == 0 { c.1.clone() } else { c.2.clone() };
            for (i, c) in customers.iter().enumerate() {
                let given = input(&list(c), false).aum;
                extract.push_aum("aum", i as u64, &format!("c{i}"), None, Some(kind(c.0)), Some(month), given);
            }
            for (i, c) in customers.iter().enumerate() {
                let row = extract.rows().get(i).unwrap();
                let given = input(&list(c), false).aum;
                prop_assert_eq!(shown(&row.aum()), shown(&given));
                let usual = list(c).iter().all(|(_, a)| a.scale() == 2 && !a.is_sign_negative() && a.mantissa() <= 99_999_999_999_999_999);
                prop_assert_eq!(row.is_compact(), usual);
            }
            let out = engine
                .evaluate_portfolio(&mut states, MonthRange::single(month).unwrap(), &extract, &PortfolioOptions::default())
                .unwrap();
            let m = &out.months[0];
            for (i, c) in customers.iter().enumerate() {
                let id = format!("c{i}");
                let who = Customer { id: id.clone(), legal_entity: None, kind: kind(c.0) };
                let expected = engine.evaluate(&who, &prior[i], month, &input(&list(c), false));
                if !engine.rule_book().tiers_kind(kind(c.0)) {
                    // A kind the book does not tier: refused before it joins (SPEC §9).
                    prop_assert!(expected.is_err());
                    prop_assert!(states.index_of(&id).is_none());
                    let named = m.held.iter().any(|(h, e)| h.is_none() && e.customer() == Some(&id) && e.field() == Some("customer_kind"));
                    prop_assert!(named, "{:?}", m.held);
                    continue;
                }
                let index = states.index_of(&id).unwrap();
                let held: Vec<String> = m.held.iter().filter(|(h, _)| *h == Some(index)).map(|(_, e)| e.error.to_string()).collect();
                let evaluated = m.evaluated.iter().find(|e| e.index == index);
                match expected {
                    Ok(o) => {
                        prop_assert!(held.is_empty(), "{:?}", held);
                        let e = evaluated.unwrap();
                        prop_assert_eq!(e.aum, o.aum);
                        prop_assert_eq!(e.aum.to_string(), o.aum.to_string());
                        prop_assert_eq!(e.state, o.state);
                        let events: Vec<_> = m.events.iter().filter(|(k, _)| *k == index).map(|(_, e)| *e).collect();
                        let alerts: Vec<_> = m.alerts.iter().filter(|(k, _)| *k == index).map(|(_, a)| *a).collect();
                        prop_assert_eq!(events, o.events);
                        prop_assert_eq!(alerts, o.alerts);
                        prior[i] = o.state;
                    }
                    Err(error) => {
                        prop_assert!(evaluated.is_none());
                        prop_assert_eq!(held, vec![error.to_string()]);
                    }
                }
                prop_assert_eq!(states.states()[index], prior[i]);
            }
        }
    }
}
