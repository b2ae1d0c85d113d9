//! The portfolio path reads measure columns (SPEC §19.1): a column named by a measure the book
//! declares is read into the record's `MonthInput::measures`, an empty cell is no value (the
//! measure's `absent` applies), a bad cell holds its customer naming the column, an undeclared
//! column stops the table naming it; and every customer's result is the one
//! `Engine::evaluate` gives on the same input (the per-customer path is the reference).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;

use crm_tiering::portfolio::{Columns, Extract, PortfolioOptions, PortfolioStates, TableKind};
use crm_tiering::{AumInput, Customer, CustomerState, Engine, MonthInput, RuleBook, SpecialChange, parse_amount};

/// A book whose top tier, `private`, is entered on AUM or on the loan balance.
const RULES: &str = r#"
format_version = 1
name = "measures"

[[rule_sets]]
name = "default"

[[rule_sets.versions]]
effective_from = "2000-01"

[[rule_sets.versions.measures]]
code = "loan_balance"
name_zh = "个贷资产"
name_en = "Personal loan balance"

[[rule_sets.versions.tiers]]
code = "gold"
name_zh = "金卡"
name_en = "Gold"
min_aum = "200000"

[[rule_sets.versions.tiers]]
code = "private"
name_zh = "私行级"
name_en = "Private banking"
qualify = { any_of = [{ measure = "aum", min = "6000000" }, { measure = "loan_balance", min = "6000000" }] }

[rule_sets.versions.aum]

[[rule_sets.versions.aum.components]]
code = "demand_deposit"
name_zh = "活期存款"
group = "deposits"

[[rule_sets.versions.aum.components]]
code = "time_deposit"
name_zh = "定期存款"
group = "deposits"
"#;

fn book() -> RuleBook {
    RuleBook::from_toml_str(RULES).unwrap()
}

/// Reads a CSV text (header, then one record a line; line numbers as a file's) into `extract`.
fn read_csv(book: &RuleBook, extract: &mut Extract, table: &str, csv: &str) {
    let mut lines = csv.trim().lines();
    let headers: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cols = Columns::resolve(book, TableKind::Aum, &headers).unwrap();
    for (k, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        extract.push_cells(table, &cols, k as u64 + 2, &cells);
    }
    extract.end_table(table, &cols);
}

fn amount(text: &str) -> rust_decimal::Decimal {
    parse_amount(text).unwrap()
}

/// The reference: `Engine::evaluate` for a new personal customer on `input`.
fn reference(engine: &Engine, id: &str, input: &MonthInput) -> crm_tiering::MonthOutcome {
    let month = "2024-03".parse().unwrap();
    engine.evaluate(&Customer::personal(id), &CustomerState::default(), month, input).unwrap()
}

fn input(aum: AumInput, measures: &[(&str, &str)]) -> MonthInput {
    let measures: BTreeMap<String, _> = measures.iter().map(|(c, v)| (c.to_string(), amount(v))).collect();
    MonthInput { aum, special: None, measures: measures.iter().map(|(c, v)| (c.parse().unwrap(), *v)).collect() }
}

fn total(v: &str) -> AumInput {
    AumInput::Total(amount(v))
}

#[test]
fn a_loan_balance_column_qualifies_through_the_portfolio_as_through_evaluate() {
    let book = book();
    let engine = Engine::new(book.clone());
    let mut extract = Extract::new(&book);
    // A total, a total whose loan balance cell is empty, one of three decimals (kept as
    // given), and loan balances in fen.
    read_csv(
        &book,
        &mut extract,
        "aum.csv",
        "month,customer_id,aum,loan_balance\n\
         2024-03,c1,1000000,6500000\n\
         2024-03,c2,1000000,\n\
         2024-03,c3,6000000.005,0\n\
         2024-03,c4,250000.00,5999999.99\n",
    );
    // Component averages (kept in fen), one with a designation.
    read_csv(
        &book,
        &mut extract,
        "components.csv",
        "month,customer_id,demand_deposit,定期存款,loan_balance_fen\n\
         2024-03,c5,500000,500000,650000000\n\
         2024-03,c6,100000,,\n\
         2024-03,c7,100000.123,,600000000\n",
    );
    let rows: Vec<BTreeMap<String, _>> = extract.rows().iter().map(|r| r.measures().to_map()).collect();
    assert_eq!(rows[0], BTreeMap::from([("loan_balance".to_string(), amount("6500000"))]));
    assert!(rows[1].is_empty(), "an empty cell is no value");
    assert_eq!(rows[4], BTreeMap::from([("loan_balance".to_string(), amount("6500000.00"))]));
    assert_eq!(extract.rejected().count(), 0);

    let mut designations = Extract::new(&book);
    let cols = Columns::resolve(&book, TableKind::Designations, &["customer_id", "month", "action", "tier"]).unwrap();
    designations.push_cells("special.csv", &cols, 2, &["c7", "2024-03", "grant", "gold"]);
    for d in designations.designations() {
        extract.push_designation("special.csv", d.row, &d.customer_id, d.month, d.change);
    }

    let mut states = PortfolioStates::new();
    let out = engine
        .evaluate_portfolio(&mut states, "2024-03".parse().unwrap(), &extract, &PortfolioOptions::default())
        .unwrap();
    let month = &out.months[0];
    assert!(month.held.is_empty(), "{:?}", month.held);
    let grant = Some(SpecialChange::Grant { tier: Some("gold".parse().unwrap()), months: None });
    let comps = |d: &str, t: Option<&str>| {
        let mut list = vec![crm_tiering::ComponentAmount { component: "demand_deposit".into(), amount: amount(d) }];
        if let Some(t) = t {
            list.push(crm_tiering::ComponentAmount { component: "time_deposit".into(), amount: amount(t) });
        }
        AumInput::Averages(list)
    };
    let expected: Vec<(&str, MonthInput, &str)> = vec![
        ("c1", input(total("1000000"), &[("loan_balance", "6500000")]), "private"),
        ("c2", input(total("1000000"), &[]), "gold"),
        ("c3", input(total("6000000.005"), &[("loan_balance", "0")]), "private"),
        ("c4", input(total("250000.00"), &[("loan_balance", "5999999.99")]), "gold"),
        ("c5", input(comps("500000", Some("500000")), &[("loan_balance", "6500000")]), "private"),
        ("c6", input(comps("100000", None), &[]), "none"),
        (
            "c7",
            MonthInput { special: grant, ..input(comps("100000.123", None), &[("loan_balance", "6000000")]) },
            "private",
        ),
    ];
    for (id, input, tier) in &expected {
        let want = reference(&engine, id, input);
        let i = states.index_of(id).unwrap();
        let got = month.evaluated.iter().find(|e| e.index == i).unwrap();
        assert_eq!((got.aum, got.state), (want.aum, want.state), "{id}");
        let events: Vec<_> = month.events.iter().filter(|(k, _)| *k == i).map(|(_, e)| *e).collect();
        assert_eq!(events, want.events, "{id}");
        let alerts: Vec<_> = month.alerts.iter().filter(|(k, _)| *k == i).map(|(_, a)| *a).collect();
        assert_eq!(alerts, want.alerts, "{id}");
        let shown = got.state.tier.map_or("none".to_string(), |t| t.to_string());
        assert_eq!(&shown, tier, "{id}");
    }
}

#[test]
fn an_empty_loan_balance_is_zero_and_a_bad_one_holds_the_customer_naming_the_column() {
    let book = book();
    let engine = Engine::new(book.clone());
    let mut extract = Extract::new(&book);
    read_csv(
        &book,
        &mut extract,
        "aum.csv",
        "month,customer_id,aum,loan_balance\n\
         2024-03,c1,7000000,\n\
         2024-03,c2,300000,abc\n\
         2024-03,c3,300000,-1\n",
    );
    let rejected: Vec<_> = extract.rejected().collect();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let bad = rejected[0];
    assert_eq!(
        (bad.customer(), bad.field(), bad.record.as_ref().map(|r| r.row)),
        (Some("c2"), Some("loan_balance"), Some(3))
    );
    assert_eq!(bad.record.as_ref().unwrap().table, "aum.csv");

    // A record rejected after its measures were read leaves none to the next record.
    let mut other = Extract::new(&book);
    read_csv(&book, &mut other, "t.csv", "customer_id,aum,loan_balance\nc8,,6500000\n");
    other.push_aum("t", 3, "c9", None, None, None, total("1"));
    assert_eq!(other.rejected().map(|e| e.customer()).collect::<Vec<_>>(), [Some("c8")]);
    assert!(other.rows().get(0).unwrap().measures().is_empty());

    let mut states = PortfolioStates::new();
    let out = engine
        .evaluate_portfolio(&mut states, "2024-03".parse().unwrap(), &extract, &PortfolioOptions::default())
        .unwrap();
    let month = &out.months[0];
    // c1: no loan balance, entered on AUM alone, as `evaluate` with no measure given.
    let want = reference(&engine, "c1", &input(total("7000000"), &[]));
    let c1 = month.evaluated.iter().find(|e| Some(e.index) == states.index_of("c1")).unwrap();
    assert_eq!((c1.aum, c1.state), (want.aum, want.state));
    assert_eq!(c1.state.tier.unwrap().as_str(), "private");
    // c2 is held on the bad cell; c3's negative loan balance is the engine's input error, as
    // `evaluate` refuses it.
    let held: Vec<(Option<&str>, Option<&str>)> = month.held.iter().map(|(_, e)| (e.customer(), e.field())).collect();
    assert_eq!(held, [(Some("c2"), Some("loan_balance")), (Some("c3"), Some("measures.loan_balance"))]);
    let refused = engine.evaluate(
        &Customer::personal("c3"),
        &CustomerState::default(),
        "2024-03".parse().unwrap(),
        &input(total("300000"), &[("loan_balance", "-1")]),
    );
    assert!(refused.is_err());
}

#[test]
fn an_undeclared_column_is_refused_naming_it() {
    let book = book();
    let err = Columns::resolve(&book, TableKind::Aum, &["month", "customer_id", "aum", "loan_balanse"]).unwrap_err();
    assert_eq!(err.field(), Some("loan_balanse"));
    assert!(err.to_string().contains("measure codes (loan_balance)"), "{err}");
    // The default book declares no measure: its tables refuse the column.
    let default = RuleBook::default_book().unwrap();
    let err = Columns::resolve(&default, TableKind::Aum, &["customer_id", "aum", "loan_balance"]).unwrap_err();
    assert_eq!(err.field(), Some("loan_balance"));
    // A measure column belongs in an AUM table only.
    let err =
        Columns::resolve(&book, TableKind::Daily, &["date", "customer_id", "component", "balance", "loan_balance"])
            .unwrap_err();
    assert_eq!(err.field(), Some("loan_balance"));
    // Named once.
    let err = Columns::resolve(&book, TableKind::Aum, &["customer_id", "aum", "loan_balance", "loan_balance_fen"])
        .unwrap_err();
    assert_eq!(err.field(), Some("loan_balance"));
}

/// A book whose lower tier qualifies on a weighted AUM composed from the components (SPEC
/// §19.1, 兴业's 日均综合金融资产).
const WEIGHTED: &str = r#"
format_version = 1
[[rule_sets]]
name = "default"
[[rule_sets.versions]]
effective_from = "2000-01"
[[rule_sets.versions.measures]]
code = "weighted_aum"
components = [{ code = "demand_deposit", weight = "0.5" }, { code = "time_deposit", weight = "1.5" }]
[[rule_sets.versions.tiers]]
code = "gold"
qualify = { any_of = [{ measure = "weighted_aum", min = "200000" }] }
[[rule_sets.versions.tiers]]
code = "diamond"
min_aum = "1000000"
[rule_sets.versions.aum]
[[rule_sets.versions.aum.components]]
code = "demand_deposit"
group = "deposits"
[[rule_sets.versions.aum.components]]
code = "time_deposit"
group = "deposits"
"#;

#[test]
fn a_composed_measure_is_weighed_from_the_components_through_the_portfolio() {
    let book = RuleBook::from_toml_str(WEIGHTED).unwrap();
    let engine = Engine::new(book.clone());
    let mut extract = Extract::new(&book);
    // Components (which the extract would otherwise sum in fen into the AUM), a total with the
    // measure's own total, and a total without it (held: the measure cannot be weighed).
    read_csv(
        &book,
        &mut extract,
        "components.csv",
        "month,customer_id,demand_deposit,time_deposit\n\
         2024-03,c1,300000,40000\n\
         2024-03,c2,100000,100000\n",
    );
    read_csv(
        &book,
        &mut extract,
        "totals.csv",
        "month,customer_id,aum,weighted_aum\n2024-03,c3,10,250000\n2024-03,c4,10,\n",
    );
    let mut states = PortfolioStates::new();
    let out = engine
        .evaluate_portfolio(&mut states, "2024-03".parse().unwrap(), &extract, &PortfolioOptions::default())
        .unwrap();
    let month = &out.months[0];
    let comps = |d: &str, t: &str| {
        AumInput::Averages(vec![
            crm_tiering::ComponentAmount { component: "demand_deposit".into(), amount: amount(d) },
            crm_tiering::ComponentAmount { component: "time_deposit".into(), amount: amount(t) },
        ])
    };
    // c1: AUM 340,000, weighted 150,000 + 60,000 = 210,000: gold. c2: weighted 200,000: gold.
    for (id, input, tier) in [
        ("c1", input(comps("300000", "40000"), &[]), "gold"),
        ("c2", input(comps("100000", "100000"), &[]), "gold"),
        ("c3", input(total("10"), &[("weighted_aum", "250000")]), "gold"),
    ] {
        let want = reference(&engine, id, &input);
        let i = states.index_of(id).unwrap();
        let got = month.evaluated.iter().find(|e| e.index == i).unwrap();
        assert_eq!((got.aum, got.state), (want.aum, want.state), "{id}");
        assert_eq!(got.state.tier.unwrap().as_str(), tier, "{id}");
        let events: Vec<_> = month.events.iter().filter(|(k, _)| *k == i).map(|(_, e)| *e).collect();
        assert_eq!(events, want.events, "{id}");
    }
    let held: Vec<String> = month.held.iter().map(|h| format!("{h:?}")).collect();
    assert_eq!(held.len(), 1, "{held:?}");
    assert!(held[0].contains("c4") && held[0].contains("measures.weighted_aum"), "{held:?}");
}

/// SPEC §20.11: values computed beside the extract (a contribution month) are given to the
/// records of their month as a measure, and the portfolio evaluates them as it evaluates the
/// same values read from a column; the records of other months keep theirs; a rule set in force
/// that does not declare the measure, and a record that gives it itself, are refused with
/// nothing changed.
#[test]
fn supplied_values_are_evaluated_as_a_column_of_the_month() {
    let book = book();
    let engine = Engine::new(book.clone());
    let csv = "month,customer_id,aum\n2024-03,c1,1000000\n2024-03,c2,1000000\n2024-03,c3,250000\n";
    let march = "2024-03".parse().unwrap();
    let loans =
        std::collections::HashMap::from([("c1", amount("6500000")), ("c3", amount("5999999.99")), ("c9", amount("1"))]);
    let mut extract = Extract::new(&book);
    read_csv(&book, &mut extract, "aum.csv", csv);
    read_csv(&book, &mut extract, "april.csv", "month,customer_id,aum,loan_balance\n2024-04,c1,1000000,7000000\n");
    let given = extract.supply_measure(&book, "loan_balance", march, &loans).unwrap();
    assert_eq!(given, 2, "c1 and c3 have records; c9 has none");
    let measures: Vec<BTreeMap<String, _>> = extract.rows().iter().map(|r| r.measures().to_map()).collect();
    assert_eq!(measures[0], BTreeMap::from([("loan_balance".to_string(), amount("6500000"))]));
    assert!(measures[1].is_empty(), "no value for c2: its absent applies");
    assert_eq!(measures[3], BTreeMap::from([("loan_balance".to_string(), amount("7000000"))]), "April's own");

    let mut extract = Extract::new(&book);
    read_csv(&book, &mut extract, "aum.csv", csv);
    extract.supply_measure(&book, "loan_balance", march, &loans).unwrap();
    // The same values as a column give the same month.
    let mut column = Extract::new(&book);
    let with = "month,customer_id,aum,loan_balance\n2024-03,c1,1000000,6500000\n2024-03,c2,1000000,\n2024-03,c3,250000,5999999.99\n";
    read_csv(&book, &mut column, "aum.csv", with);
    let month = |x: &Extract| {
        let mut states = PortfolioStates::new();
        let range = "2024-03".parse().unwrap();
        let out = engine.evaluate_portfolio(&mut states, range, x, &PortfolioOptions::default()).unwrap();
        let m = &out.months[0];
        let tiers: Vec<_> = m.evaluated.iter().map(|e| e.state.tier.map(|t| t.to_string())).collect();
        (tiers, m.events.iter().map(|(_, e)| *e).collect::<Vec<_>>())
    };
    let (tiers, events) = month(&extract);
    assert_eq!(tiers, [Some("private".to_string()), Some("gold".to_string()), Some("gold".to_string())]);
    assert_eq!((tiers, events), month(&column));

    // A record that gives the measure itself: two sources, refused naming the customer.
    let e = column.supply_measure(&book, "loan_balance", march, &loans).unwrap_err();
    assert_eq!((e.customer(), e.field()), (Some("c1"), Some("measures.loan_balance")));
    // A book whose corporate set does not declare it: refused naming that set.
    let two = RULES.to_string()
        + "\n[[rule_sets]]\nname = \"corporate\"\ncustomer_kind = \"corporate\"\n\n[[rule_sets.versions]]\neffective_from = \"2000-01\"\n\n[[rule_sets.versions.tiers]]\ncode = \"corp_gold\"\nmin_aum = \"1000000\"\n";
    let two = RuleBook::from_toml_str(&two).unwrap();
    let mut x = Extract::new(&two);
    read_csv(&two, &mut x, "aum.csv", csv);
    let e = x.supply_measure(&two, "loan_balance", march, &loans).unwrap_err();
    assert_eq!((e.category(), e.field()), ("rules", Some("rule_sets[1].measures")));
    assert!(e.to_string().contains("rule set `corporate`"), "{e}");
    let e = x.supply_measure(&two, "points", march, &loans).unwrap_err();
    assert_eq!((e.category(), e.field()), ("rules", Some("measures")));
    // Values none of whose customers has a record (ids written otherwise): refused, never every
    // record at its absent value.
    let mut only_c2 = Extract::new(&book);
    read_csv(&book, &mut only_c2, "aum.csv", "month,customer_id,aum\n2024-03,c2,1000000\n");
    let e = only_c2.supply_measure(&book, "loan_balance", march, &loans).unwrap_err();
    assert_eq!((e.category(), e.field()), ("input", Some("measures.loan_balance")));
    assert!(e.to_string().contains("none of the 3 customers"), "{e}");
    let nothing = std::collections::HashMap::<&str, rust_decimal::Decimal>::new();
    assert_eq!(only_c2.supply_measure(&book, "loan_balance", march, &nothing).unwrap(), 0);
}
