//! A committed range read back for a replay (SPEC §15.9): simulating from the store gives what
//! simulating from the extracts the months were committed from gives, and the baseline under
//! the committing rule book is the committed counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ByMonth, create, engine, fresh, month};
use crm_tiering::portfolio::{Columns, Extract, MonthRange, PortfolioOptions, PortfolioStates, TableKind, simulate};
use crm_tiering::{Engine, RuleBook};
use crm_tiering_store::{Store, StoreErrorKind};

/// Four months: new customers (c6 in February, gold under A only), a grant, revocations (c7's shows: it is not a VIP otherwise), a designation that ends, a customer
/// absent in a month, and one held back by a bad record from March on.
fn history(book: &RuleBook, months: &str) -> Extract {
    let months: MonthRange = months.parse().unwrap();
    let within = |m: &str| months.contains(m.parse().unwrap());
    let aum = Columns::resolve(book, TableKind::Aum, &["month", "customer_id", "legal_entity", "aum"]).unwrap();
    let mut x = Extract::new(book);
    let mut line = 1;
    for (m, rows) in [
        (
            "2024-01",
            vec![
                ("c1", "250000"),
                ("c2", "90000"),
                ("c3", "1200000"),
                ("c4", "300000"),
                ("c5", "600000"),
                ("c7", "50000"),
            ],
        ),
        (
            "2024-02",
            vec![
                ("c1", "260000"),
                ("c2", "95000"),
                ("c3", "150000"),
                ("c4", "310000"),
                ("c5", "610000"),
                ("c6", "250000"),
                ("c7", "50000"),
            ],
        ),
        (
            "2024-03",
            vec![
                ("c1", "180000"),
                ("c2", "99000"),
                ("c3", "140000"),
                ("c4", "12,000"),
                ("c5", "620000"),
                ("c6", "255000"),
                ("c7", "50000"),
            ],
        ),
        (
            "2024-04",
            vec![
                ("c1", "170000"),
                ("c3", "2100000"),
                ("c4", "320000"),
                ("c5", "630000"),
                ("c6", "256000"),
                ("c7", "50000"),
            ],
        ),
    ] {
        for (id, amount) in rows {
            line += 1;
            if !within(m) {
                continue;
            }
            x.push_cells("aum.csv", &aum, line, &[m, id, "880001", amount]);
        }
    }
    x.end_table("aum.csv", &aum);
    let des =
        Columns::resolve(book, TableKind::Designations, &["customer_id", "month", "action", "tier", "months"]).unwrap();
    for (i, row) in [
        ["c2", "2024-01", "grant", "platinum", "2"],
        ["c3", "2024-02", "grant", "gold", "12"],
        ["c3", "2024-03", "revoke", "", ""],
        ["c7", "2024-02", "grant", "gold", "12"],
        ["c7", "2024-03", "revoke", "", ""],
        ["c5", "2024-02", "grant", "diamond", "6"],
    ]
    .iter()
    .enumerate()
    .filter(|(_, row)| within(row[1]))
    {
        x.push_cells("designations.csv", &des, i as u64 + 2, row);
    }
    x.end_table("designations.csv", &des);
    x
}

/// Commits the history month by month, skipping bad rows, as `run --skip-bad-rows` does.
fn commit_history(store: &mut Store) {
    let (engine, meta) = engine();
    for m in ["2024-01", "2024-02", "2024-03", "2024-04"] {
        let x = &history(engine.rule_book(), m);
        let mut w = store.begin_month(month(m), meta.clone()).unwrap();
        let mut states = w.previous_states().unwrap().map(|l| l.states).unwrap_or_default();
        let mut sink = ByMonth::default();
        engine
            .evaluate_portfolio_with(&mut states, m.parse().unwrap(), x, &PortfolioOptions::default(), &mut sink)
            .unwrap();
        w.commit_portfolio_month(&states, &sink.0[0]).unwrap();
    }
}

/// Rule book B: gold from 300,000 instead of 200,000.
fn book_b(a: &RuleBook) -> Engine {
    let mut file = a.source().clone();
    file.rule_sets[0].versions[0].tiers[0].min_aum = "300000".parse().unwrap();
    Engine::new(RuleBook::from_file(file).unwrap())
}

#[test]
fn a_stored_range_replays_as_its_extracts_do_and_its_baseline_is_what_was_committed() {
    let f = fresh("replay_range");
    for loc in &f.locations {
        let mut store = create(loc);
        let (a, _) = engine();
        commit_history(&mut store);
        let x = history(a.rule_book(), "2024-02..2024-04");
        let b = book_b(a.rule_book());

        // From the store: the months after January, from January's states.
        let range: MonthRange = "2024-02..2024-04".parse().unwrap();
        let stored = store.stored_range(range).unwrap();
        let start = stored.start.as_ref().map(|s| s.states.clone()).unwrap();
        assert_eq!(stored.start.as_ref().unwrap().month, month("2024-01"));
        assert_eq!(RuleBook::from_str_auto(&stored.rule_book).unwrap().fingerprint(), a.rule_book().fingerprint());
        assert_eq!(stored.rule_books.len(), 3);
        let options = PortfolioOptions::default();
        let from_store = simulate((&a, &stored.extract), (&b, &stored.extract), &start, range, &options).unwrap();

        // From the extracts, over the same months from the same states.
        let xb = history(b.rule_book(), "2024-02..2024-04");
        let from_files = simulate((&a, &x), (&b, &xb), &start, range, &options).unwrap();
        assert_eq!(from_store.counts, from_files.counts, "{loc}");
        assert_eq!(from_store.changes, from_files.changes, "{loc}");
        assert!(!from_store.changes.is_empty(), "book B moves someone: {:?}", from_store.counts);
        // c4's bad March record holds it in March and April, in the store and the replay.
        let held: Vec<_> =
            from_store.held_a.iter().map(|(m, e)| (m.to_string(), e.customer().map(str::to_string))).collect();
        assert!(held.contains(&("2024-03".into(), Some("c4".into()))), "{held:?}");
        // Replayed under the book that committed them, the months give their committed counts.
        assert_eq!(from_store.baseline_differences(&stored.committed), vec![], "{loc}");
        // And a count that is not what was committed is named.
        let mut wrong = stored.committed.clone();
        wrong[0].count += 1;
        let d = from_store.baseline_differences(&wrong);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].month, d[0].committed, d[0].replayed), (month("2024-02"), wrong[0].count, wrong[0].count - 1));
    }
}

#[test]
fn a_range_with_a_month_not_committed_is_refused_naming_it() {
    let f = fresh("replay_missing");
    for loc in &f.locations {
        let mut store = create(loc);
        let (a, _) = engine();
        commit_history(&mut store);
        let e = store.stored_range("2024-03..2024-06".parse().unwrap()).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Input);
        assert!(
            e.to_string().contains("2 of 2024-03..2024-06 are not committed in the store (2024-05, 2024-06)"),
            "{e}"
        );
        // From the first committed month, the replay starts from new customers.
        let stored = store.stored_range("2024-01..2024-02".parse().unwrap()).unwrap();
        assert!(stored.start.is_none());
        let options = PortfolioOptions::default();
        let sim =
            simulate((&a, &stored.extract), (&a, &stored.extract), &PortfolioStates::new(), stored.months, &options)
                .unwrap();
        assert!(sim.changes.is_empty());
        assert_eq!(sim.baseline_differences(&stored.committed), vec![]);
    }
}
