//! Measures and criteria (SPEC §19.1, §19.3): `all_of` with the criterion that decided, the
//! absent policies, the batch agreeing with single evaluations, and the rule book's checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering::{Customer, CustomerState, Engine, MonthInput, RuleBook, TieringError, parse_amount};

const BOOK: &str = r#"
format_version = 1
[[rule_sets]]
name = "personal"
[[rule_sets.versions]]
effective_from = "2024-01"
[[rule_sets.versions.measures]]
code = "points"
absent = "error"
[[rule_sets.versions.tiers]]
code = "gold"
min_aum = "200000"
[[rule_sets.versions.tiers]]
code = "core"
qualify = { all_of = [{ measure = "aum", min = "500000" }, { measure = "points", min = "1000" }] }
"#;

fn input(aum: &str, points: Option<&str>) -> MonthInput {
    let mut i = MonthInput::total(parse_amount(aum).unwrap());
    if let Some(p) = points {
        i.measures.insert("points".parse().unwrap(), parse_amount(p).unwrap());
    }
    i
}

fn engine() -> Engine {
    Engine::new(RuleBook::from_toml_str(BOOK).unwrap())
}

#[test]
fn all_of_needs_every_criterion_and_names_the_one_that_decided() {
    let e = engine();
    let c = Customer::personal("c1");
    let s = CustomerState::default();
    let m = "2024-01".parse().unwrap();
    // Points short: gold only; nothing names points, since gold is AUM alone.
    let out = e.evaluate(&c, &s, m, &input("900000", Some("999"))).unwrap();
    assert_eq!(out.state.tier.unwrap().as_str(), "gold");
    assert_eq!(out.events[0].evidence.measure.unwrap().as_str(), "aum");
    // Both met: core; the met criterion nearest its minimum decided (points 1,050 is 5% above
    // 1,000, AUM 900,000 is 80% above 500,000).
    let out = e.evaluate(&c, &s, m, &input("900000", Some("1050"))).unwrap();
    assert_eq!(out.state.tier.unwrap().as_str(), "core");
    let ev = out.events[0].evidence;
    assert_eq!((ev.measure.unwrap().as_str(), ev.measure_value().unwrap().to_string()), ("points", "1050.00".into()));
    assert_eq!(ev.threshold().unwrap().to_string(), "1000.00");
    // A core customer whose points fall: the watch names the unmet criterion, points.
    let next = e.evaluate(&c, &out.state, m.next(), &input("900000", Some("10"))).unwrap();
    let started = next.events.iter().find(|e| e.kind.as_str() == "watch_started").unwrap();
    assert_eq!(started.evidence.measure.unwrap().as_str(), "points");
}

#[test]
fn an_absent_measure_follows_its_policy() {
    let e = engine();
    let err =
        e.evaluate(&Customer::personal("c1"), &CustomerState::default(), "2024-01".parse().unwrap(), &input("1", None));
    match err {
        Err(TieringError::Input(i)) => {
            assert_eq!(i.field, "measures.points");
            assert_eq!(i.customer, "c1");
        }
        other => panic!("{other:?}"),
    }
    let zero = RuleBook::from_toml_str(&BOOK.replace("absent = \"error\"\n", "")).unwrap();
    let out = Engine::new(zero)
        .evaluate(
            &Customer::personal("c1"),
            &CustomerState::default(),
            "2024-01".parse().unwrap(),
            &input("900000", None),
        )
        .unwrap();
    assert_eq!(out.state.tier.unwrap().as_str(), "gold");
}

#[test]
fn the_batch_agrees_with_single_evaluations() {
    let e = engine();
    let customers: Vec<Customer> = (0..6).map(|i| Customer::personal(format!("c{i}"))).collect();
    let months = [
        [
            ("900000", Some("1500")),
            ("100", Some("0")),
            ("600000", Some("1000")),
            ("600000", None),
            ("250000", Some("5")),
            ("0", Some("0")),
        ],
        [
            ("900000", Some("10")),
            ("600000", Some("2000")),
            ("600000", Some("1000")),
            ("600000", Some("1")),
            ("250000", Some("5")),
            ("0", Some("0")),
        ],
    ];
    let mut batch_states = vec![CustomerState::default(); 6];
    let mut single_states = vec![CustomerState::default(); 6];
    let mut month = "2024-01".parse().unwrap();
    for row in months {
        let inputs: Vec<MonthInput> = row.iter().map(|(a, p)| input(a, *p)).collect();
        let out = e.evaluate_batch(month, &customers, &inputs, &mut batch_states).unwrap();
        let mut events = Vec::new();
        let mut errors = 0;
        for (k, c) in customers.iter().enumerate() {
            match e.evaluate(c, &single_states[k], month, &inputs[k]) {
                Ok(o) => {
                    single_states[k] = o.state;
                    events.extend(o.events);
                }
                Err(_) => errors += 1,
            }
        }
        assert_eq!(batch_states, single_states, "{month}");
        assert_eq!(out.events.iter().map(|b| b.event).collect::<Vec<_>>(), events, "{month}");
        assert_eq!(out.errors.len(), errors, "{month}");
        month = month.next();
    }
}

#[test]
fn the_rule_book_checks_measures_and_criteria() {
    let cases: [(&str, &str, &str); 7] = [
        ("qualify = { all_of", "min_aum = \"600000\"\nqualify = { all_of", "tiers[1].min_aum"),
        ("code = \"points\"", "code = \"aum\"", "measures[0].code"),
        ("code = \"points\"", "code = \"time_deposit\"", "measures[0].code"),
        ("{ measure = \"points\", min = \"1000\" }", "{ measure = \"pionts\", min = \"1000\" }", "all_of[1].measure"),
        ("{ measure = \"points\", min = \"1000\" }", "{ measure = \"points\", min = \"0\" }", "all_of[1].min"),
        ("qualify = { all_of = [", "qualify = { any_of = [{ min = \"1\" }], all_of = [", "tiers[1].qualify"),
        (
            "qualify = { all_of = [{ measure = \"aum\", min = \"500000\" }, { measure = \"points\", min = \"1000\" }] }",
            "qualify = { all_of = [{ min = \"100000\" }] }",
            "tiers[1].qualify",
        ),
    ];
    for (from, to, field) in cases {
        let text = BOOK.replace(from, to);
        assert_ne!(text, BOOK, "{from}");
        match RuleBook::from_toml_str(&text) {
            Err(TieringError::Rules(e)) => assert!(e.field.ends_with(field), "{to}: {e}"),
            other => panic!("{to}: {other:?}"),
        }
    }
    // A measure given to a book that does not declare it is an input error naming it.
    let mut i = MonthInput::total(parse_amount("1").unwrap());
    i.measures.insert("loan_balance".parse().unwrap(), parse_amount("1").unwrap());
    let e = Engine::new(RuleBook::default_book().unwrap());
    match e.evaluate(&Customer::personal("c1"), &CustomerState::default(), "2024-01".parse().unwrap(), &i) {
        Err(TieringError::Input(err)) => assert_eq!(err.field, "measures.loan_balance"),
        other => panic!("{other:?}"),
    }
}

const WEIGHTED: &str = r#"
format_version = 1
[[rule_sets]]
name = "personal"
[[rule_sets.versions]]
effective_from = "2024-01"
[[rule_sets.versions.measures]]
code = "weighted_aum"
components = [{ code = "time_deposit", weight = "1" }, { code = "wealth_product", weight = "0.5" }]
[[rule_sets.versions.tiers]]
code = "gold"
qualify = { any_of = [{ measure = "weighted_aum", min = "200000" }] }
[[rule_sets.versions.tiers]]
code = "diamond"
min_aum = "1000000"
"#;

fn averages(items: &[(&str, &str)]) -> MonthInput {
    let list = items
        .iter()
        .map(|(c, a)| crm_tiering::ComponentAmount { component: (*c).into(), amount: parse_amount(a).unwrap() })
        .collect();
    MonthInput { aum: crm_tiering::AumInput::Averages(list), special: None, measures: Default::default() }
}

#[test]
fn a_composed_measure_weighs_the_aum_components() {
    let e = Engine::new(RuleBook::from_toml_str(WEIGHTED).unwrap());
    let (c, s, m) = (Customer::personal("c1"), CustomerState::default(), "2024-01".parse().unwrap());
    // AUM 300,000 (unweighted); weighted 100,000 + 200,000 x 0.5 = 200,000: gold.
    let out = e.evaluate(&c, &s, m, &averages(&[("time_deposit", "100000"), ("wealth_product", "200000")])).unwrap();
    assert_eq!(out.aum.to_string(), "300000.00");
    assert_eq!(out.state.tier.unwrap().as_str(), "gold");
    let ev = out.events[0].evidence;
    assert_eq!(
        (ev.measure.unwrap().as_str(), ev.measure_value().unwrap().to_string()),
        ("weighted_aum", "200000.00".into())
    );
    // A component it leaves out (demand deposits) counts toward AUM only: weighted 199,999.99.
    let out = e
        .evaluate(
            &c,
            &s,
            m,
            &averages(&[("time_deposit", "99999.99"), ("wealth_product", "200000"), ("demand_deposit", "900000")]),
        )
        .unwrap();
    assert_eq!(out.state.tier.unwrap().as_str(), "diamond");
    let out = e.evaluate(&c, &s, m, &averages(&[("time_deposit", "99999.99"), ("wealth_product", "200000")])).unwrap();
    assert_eq!(out.state.tier, None);
    // Its own total is taken as given; AUM as a total without it, or both forms, are errors.
    let mut total = MonthInput::total(parse_amount("10").unwrap());
    total.measures.insert("weighted_aum".parse().unwrap(), parse_amount("250000").unwrap());
    assert_eq!(e.evaluate(&c, &s, m, &total).unwrap().state.tier.unwrap().as_str(), "gold");
    for input in [MonthInput::total(parse_amount("10").unwrap()), {
        let mut both = averages(&[("time_deposit", "1")]);
        both.measures.insert("weighted_aum".parse().unwrap(), parse_amount("1").unwrap());
        both
    }] {
        match e.evaluate(&c, &s, m, &input) {
            Err(TieringError::Input(err)) => assert_eq!(err.field, "measures.weighted_aum", "{err}"),
            other => panic!("{other:?}"),
        }
    }
    // Its components must be the AUM composition's.
    let bad = WEIGHTED.replace("code = \"wealth_product\"", "code = \"bitcoin\"");
    match RuleBook::from_toml_str(&bad) {
        Err(TieringError::Rules(err)) => assert!(err.field.ends_with("measures[0].components[1].code"), "{err}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_explanation_names_the_measure_that_decided() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/gallery/cebbank-private.toml"))
            .unwrap();
    let e = Engine::new(RuleBook::from_toml_str(&text).unwrap());
    let mut i = MonthInput::total(parse_amount("1000000").unwrap());
    i.measures.insert("loan_balance".parse().unwrap(), parse_amount("6500000").unwrap());
    let out = e.evaluate(&Customer::personal("c1"), &CustomerState::default(), "2024-01".parse().unwrap(), &i).unwrap();
    let text = out.events[0].explain();
    assert!(
        text.contains("loan_balance 6500000.00 (AUM 1000000.00) met the minimum 6000000.00"),
        "an entry by loans must not read as one by AUM: {text}"
    );
    // A book without measures explains as before.
    let d = Engine::new(RuleBook::default_book().unwrap());
    let out = d
        .evaluate(
            &Customer::personal("c1"),
            &CustomerState::default(),
            "2024-01".parse().unwrap(),
            &MonthInput::total(parse_amount("250000").unwrap()),
        )
        .unwrap();
    assert!(
        out.events[0].explain().ends_with(": AUM 250000.00 met the minimum 200000.00"),
        "{}",
        out.events[0].explain()
    );
}

#[test]
fn the_qualifying_rank_of_an_aum_reads_the_criteria() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/gallery/cebbank-private.toml"))
            .unwrap();
    let book = RuleBook::from_toml_str(&text).unwrap();
    let v = &book.rule_sets()[0].versions[0];
    // 私人银行 qualifies by criteria (its min_aum is 0): an AUM of 1,000,000 alone is platinum,
    // 6,000,000 private, 100 nothing.
    let rank = |a: &str| v.qualifying_rank(parse_amount(a).unwrap()).map(|r| v.tiers[r].code.as_str());
    assert_eq!(rank("1000000"), Some("platinum"));
    assert_eq!(rank("6000000"), Some("private"));
    assert_eq!(rank("100"), None);
}
