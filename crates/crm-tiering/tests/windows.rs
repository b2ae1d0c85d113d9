//! Windows over a customer's history (SPEC §19.2, §19.5) on every path: the portfolio month
//! (one thread and several, all customers or some held) gives each customer what the
//! single-customer path gives from its own history; the states text and a customer's JSON carry
//! the history; a history kept under another layout is carried over by measure; and a caller
//! that brings no history for a customer with earlier months is refused, never answered on this
//! month alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering::portfolio::{Columns, Extract, PortfolioOptions, PortfolioStates, RuleBookChange, TableKind};
use crm_tiering::{
    AlertKind, BatchOutcome, Customer, CustomerKind, CustomerRef, CustomerState, Engine, EventKind, Histories, History,
    MonthInput, RuleBook, TieringError, parse_amount,
};

/// 中信's book (the previous quarter for 私人银行) with a gold tier on the 3-month maximum, and
/// two warnings (SPEC §22): a 30% fall against last month, and 3 months below 200,000 for
/// customers rated 钻石 or above; and the standard lifecycle stages (SPEC §23).
fn book() -> RuleBook {
    let warnings = "\n[[rule_sets.versions.warnings]]\nkind = \"drop_pct\"\nwindow = \"prev_1\"\npercent = \"30\"\n\
                    [[rule_sets.versions.warnings]]\nkind = \"below_for\"\namount = \"200000\"\nmonths = 3\n\
                    min_tier = \"diamond\"\nlifetime_months = 2\n[rule_sets.versions.lifecycle]\n";
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/gallery/citic-private.toml"))
            .unwrap()
            .replace(
                "min_aum = \"200000\"",
                "qualify = { any_of = [{ measure = \"aum\", window = \"max_3\", min = \"200000\" }] }",
            );
    RuleBook::from_toml_str(&(text + warnings)).unwrap()
}

/// A deterministic AUM in yuan for customer `c` in month `k`: around every threshold, with
/// months of nothing.
fn aum(c: usize, k: usize) -> String {
    let x = (c * 7919 + k * 104_729 + c * k * 31) % 97;
    let yuan = match x % 6 {
        0 => 0,
        1 => 150_000 + x * 1000,
        2 => 900_000 + x * 3000,
        3 => 2_900_000 + x * 5000,
        4 => 5_900_000 + x * 4000,
        _ => 6_500_000 + x * 1000,
    };
    yuan.to_string()
}

const MONTHS: [&str; 14] = [
    "2023-11", "2023-12", "2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07", "2024-08",
    "2024-09", "2024-10", "2024-11", "2024-12",
];

/// Whether customer `c` has a record in month `k` (some skip months: absent, zero AUM).
fn present(c: usize, k: usize) -> bool {
    (c + k) % 11 != 3
}

fn extract_of(book: &RuleBook, customers: usize, k: usize) -> Extract {
    let mut extract = Extract::new(book);
    let cols = Columns::resolve(book, TableKind::Aum, &["customer_id", "month", "aum"]).unwrap();
    for c in (0..customers).filter(|&c| present(c, k)) {
        let id = format!("c{c:03}");
        extract.push_cells("aum.csv", &cols, c as u64 + 2, &[&id, MONTHS[k], &aum(c, k)]);
    }
    extract.end_table("aum.csv", &cols);
    extract
}

#[test]
fn the_portfolio_month_gives_what_each_customers_own_history_gives() {
    let book = book();
    assert_eq!(
        book.history_layout().stride(),
        7,
        "prev_quarter reads 5 months back, max_3 2, prev_1 1, avg_3 2; the stage and its first month 2"
    );
    let engine = Engine::new(book.clone());
    let customers = 60;
    for threads in [1, 3] {
        let options = PortfolioOptions { threads, ..PortfolioOptions::default() };
        let mut states = PortfolioStates::new();
        let mut reference: Vec<(CustomerState, History)> = vec![Default::default(); customers];
        let mut warned = std::collections::HashSet::new();
        let mut staged = std::collections::HashSet::new();
        for (k, month) in MONTHS.iter().enumerate() {
            let extract = extract_of(&book, customers, k);
            let out = engine.evaluate_portfolio(&mut states, month.parse().unwrap(), &extract, &options).unwrap();
            let m = &out.months[0];
            for (c, kept) in reference.iter_mut().enumerate() {
                let id = format!("c{c:03}");
                let Some(i) = states.index_of(&id) else { continue };
                let (prior, past) = &*kept;
                if prior.last_month.is_none() && !present(c, k) {
                    continue;
                }
                let input = if present(c, k) {
                    MonthInput::total(parse_amount(&aum(c, k)).unwrap())
                } else {
                    MonthInput::total(parse_amount("0").unwrap())
                };
                let want = engine
                    .evaluate_with_history(&Customer::personal(&id), prior, past, month.parse().unwrap(), &input)
                    .unwrap();
                assert_eq!(states.states()[i], want.state, "{id} {month} threads {threads}");
                assert_eq!(states.history(i), want.history, "{id} {month} threads {threads}");
                let events: Vec<_> = m.events.iter().filter(|(x, _)| *x == i).map(|(_, e)| *e).collect();
                assert_eq!(events, want.events, "{id} {month}");
                let alerts: Vec<_> = m.alerts.iter().filter(|(x, _)| *x == i).map(|(_, a)| *a).collect();
                assert_eq!(alerts, want.alerts, "{id} {month}");
                warned.extend(want.alerts.iter().map(|a| a.kind));
                staged
                    .extend(want.events.iter().filter(|e| e.kind == EventKind::StageChanged).filter_map(|e| e.to_tier));
                *kept = (want.state, want.history);
            }
        }
        // Both warnings fired somewhere, so the portfolio month's warnings were compared.
        for kind in [AlertKind::DropPct, AlertKind::BelowFor] {
            assert!(warned.contains(&kind), "no {kind} warning");
        }
        // Customers went through several lifecycle stages, so the stages were compared too.
        assert!(staged.len() >= 4, "stages reached: {staged:?}");
        // Some customer became private on a quarter, so the windows were exercised.
        let private = states.states().iter().filter(|s| s.tier.is_some_and(|t| t.as_str() == "private")).count();
        assert!(private > 0, "no customer is private");
    }
}

#[test]
fn the_states_text_carries_the_history_and_the_next_month_reads_it() {
    let book = book();
    let engine = Engine::new(book.clone());
    let options = PortfolioOptions::default();
    let (mut straight, mut resumed) = (PortfolioStates::new(), PortfolioStates::new());
    for (k, month) in MONTHS.iter().enumerate().take(8) {
        let extract = extract_of(&book, 30, k);
        engine.evaluate_portfolio(&mut straight, month.parse().unwrap(), &extract, &options).unwrap();
        engine.evaluate_portfolio(&mut resumed, month.parse().unwrap(), &extract, &options).unwrap();
        // Stored and read back between every month, as the CLI's states file is.
        let text = resumed.to_jsonl(&book);
        assert!(text.contains("\"history\":{\"aum\":["), "{}", &text[..300.min(text.len())]);
        resumed = PortfolioStates::from_jsonl(&text, "states.jsonl").unwrap();
    }
    assert_eq!(straight, resumed);
    let i = straight.index_of("c001").unwrap();
    assert!(!straight.history(i).is_empty());
}

#[test]
fn a_customer_json_carries_its_history() {
    let engine = Engine::new(book());
    let c = Customer::personal("c1");
    let (mut state, mut history) = (CustomerState::default(), History::new());
    for (k, month) in MONTHS.iter().enumerate().take(5) {
        let input = MonthInput::total(parse_amount(&aum(4, k)).unwrap());
        let o = engine.evaluate_with_history(&c, &state, &history, month.parse().unwrap(), &input).unwrap();
        (state, history) = (o.state, o.history);
    }
    let text = state.to_json_with_history(&history);
    let (back, back_history) = CustomerState::from_json_with_history(&text).unwrap();
    assert_eq!((back, &back_history), (state, &history));
    // A plain state reads with an empty history; a state text with a history is not a plain
    // state (the history would be lost).
    assert_eq!(CustomerState::from_json_with_history(&state.to_json()).unwrap().1, History::new());
    assert!(CustomerState::from_json(&text).is_err());
    // A damaged history is refused, naming it.
    let bad = text.replace("\"aum\":[\"", "\"aum\":[\"x");
    let e = CustomerState::from_json_with_history(&bad).unwrap_err().to_string();
    assert!(e.contains("history"), "{e}");
}

#[test]
fn without_its_history_a_customer_with_earlier_months_is_refused() {
    let engine = Engine::new(book());
    let c = Customer::personal("c1");
    let jan = "2024-01".parse().unwrap();
    let input = MonthInput::total(parse_amount("7000000").unwrap());
    let first = engine.evaluate(&c, &CustomerState::default(), jan, &input).unwrap();
    let e = engine.evaluate(&c, &first.state, jan.next(), &input).unwrap_err();
    match e {
        TieringError::Input(e) => assert_eq!(e.field, "history"),
        other => panic!("{other}"),
    }
    // The public batch alike: a new customer is evaluated, one with earlier months held back,
    // unless its histories come with the states.
    let ids = ["new", "old"];
    let customers: Vec<CustomerRef<'_>> =
        ids.iter().map(|id| CustomerRef { id, legal_entity: None, kind: CustomerKind::Personal }).collect();
    let mut states = vec![CustomerState::default(), first.state];
    let mut out = BatchOutcome::default();
    engine.evaluate_batch_with(jan.next(), &customers, &mut states, |_| Ok(input.clone()), &mut out).unwrap();
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].index, 1);
    let mut states = vec![CustomerState::default(), first.state];
    let mut histories = Histories::new();
    histories.set(1, 2, &first.history);
    let mut out = BatchOutcome::default();
    engine
        .evaluate_batch_with_history(
            jan.next(),
            &customers,
            (&mut states, &mut histories),
            |_| Ok(input.clone()),
            &mut out,
        )
        .unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let want = engine.evaluate_with_history(&c, &first.state, &first.history, jan.next(), &input).unwrap();
    assert_eq!((states[1], histories.get(1)), (want.state, want.history));
}

#[test]
fn a_history_kept_under_another_layout_is_carried_over_by_measure() {
    // Months kept under a book whose window reads further back: the book in force reads the
    // months its own windows need, by measure code, and drops the rest.
    let long = RuleBook::from_toml_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/gallery/citic-private.toml"))
            .unwrap()
            .replace("prev_quarter", "prev_half"),
    )
    .unwrap();
    let short = book();
    assert_eq!(long.history_layout().stride(), 11);
    let mut states = PortfolioStates::new();
    let options = PortfolioOptions::default();
    for (k, month) in MONTHS.iter().enumerate().take(9) {
        Engine::new(long.clone())
            .evaluate_portfolio(&mut states, month.parse().unwrap(), &extract_of(&long, 10, k), &options)
            .unwrap();
    }
    let i = states.index_of("c002").unwrap();
    let kept = states.history(i);
    let aum: crm_tiering::MeasureCode = "aum".parse().unwrap();
    assert_eq!(kept.months(aum).len(), 9);
    let month = MONTHS[9].parse().unwrap();
    let extract = extract_of(&short, 10, 9);
    let change = PortfolioOptions { rule_book_change: RuleBookChange::Accept, ..options };
    Engine::new(short.clone()).evaluate_portfolio(&mut states, month, &extract, &change).unwrap();
    let now = states.history(i).months(aum);
    assert_eq!(now.len(), 5, "the short book keeps 5 months");
    assert_eq!(&now[1..], &kept.months(aum)[..4], "the newest kept months carried over");
}
