//! Histories (SPEC §19.5) in the store, on SQLite and on PostgreSQL when
//! `CRMT_TEST_POSTGRES_URL` is set: a book with windows (the 中信 gallery book, whose 私人银行
//! tier reads `prev_quarter`) keeps each customer's history beside its state, a month read
//! back is the month written, a damaged history is an error naming the customer, and a store of
//! schema 3 migrates with empty histories.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ByMonth, create, extract, fresh, is_pg, month, sql, sql_int};
use crm_tiering::portfolio::{MonthRange, PortfolioOptions, PortfolioStates};
use crm_tiering::{Engine, RuleBook};
use crm_tiering_store::{RunMeta, SCHEMA_VERSION, Store, StoreErrorKind};

const CITIC: &str = include_str!("../../../rules-spec/gallery/citic-private.toml");
const MONTHS: [&str; 6] = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"];

fn citic() -> (Engine, RunMeta) {
    let book = RuleBook::from_str_auto(CITIC).unwrap();
    let meta = RunMeta::new("crm-tiering-store tests", book.fingerprint(), CITIC);
    (Engine::new(book), meta)
}

/// The month's `(month, customer, aum)` rows: q0001 is SPEC §19.6's customer (its first
/// quarter averages 6,029,670.33, its April alone 5,900,000), q0002 lacks February, and 2,500
/// more customers fill several blocks.
fn rows(m: &str) -> Vec<(String, String, String)> {
    let k = MONTHS.iter().position(|x| *x == m).unwrap();
    let q0001 = ["5800000.00", "6200000.00", "6100000.00", "5900000.00", "5950000.00", "5900000.00"][k];
    let mut out = vec![(m.to_string(), "q0001".to_string(), q0001.to_string())];
    if m != "2024-02" {
        out.push((m.to_string(), "q0002".to_string(), "6500000.00".to_string()));
    }
    for i in 3..2500 {
        let aum = 150_000 + (i * 7919 + k * 104_729) % 7_000_000;
        out.push((m.to_string(), format!("q{i:04}"), format!("{aum}.{:02}", i % 100)));
    }
    out
}

/// Evaluates month `m` on `states`; returns its results.
fn evaluate(engine: &Engine, states: &mut PortfolioStates, m: &str) -> crm_tiering_store::MonthResults {
    let owned = rows(m);
    let refs: Vec<(&str, &str, &str)> = owned.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    let x = extract(engine.rule_book(), &refs);
    let mut sink = ByMonth::default();
    let range = MonthRange::single(month(m)).unwrap();
    engine.evaluate_portfolio_with(states, range, &x, &PortfolioOptions::default(), &mut sink).unwrap();
    sink.0.pop().unwrap()
}

fn effective(states: &PortfolioStates, id: &str) -> Option<String> {
    states.get(id).unwrap().1.effective_tier.map(|t| t.as_str().to_string())
}

/// Asserts that `a` equals `b` (histories included), naming the first customer that differs
/// rather than printing both portfolios.
fn same(a: &PortfolioStates, b: &PortfolioStates, what: &str) {
    if a == b {
        return;
    }
    assert_eq!(a.len(), b.len(), "{what}: customers");
    for (i, ((ca, sa), (cb, sb))) in a.iter().zip(b.iter()).enumerate() {
        assert_eq!((ca, sa), (cb, sb), "{what}: customer {i}");
        assert_eq!(a.history(i), b.history(i), "{what}: the history of {}", ca.id);
    }
    assert_eq!(a.rule_book(), b.rule_book(), "{what}: rule book");
    panic!("{what}: the states differ");
}

fn histories_stored(loc: &str) -> i64 {
    if is_pg(loc) {
        sql_int(loc, "SELECT count(*) FROM states WHERE history IS NOT NULL")
    } else {
        sql_int(loc, "SELECT count(*) FROM state_blocks WHERE histories IS NOT NULL")
    }
}

#[test]
fn a_month_of_a_book_with_windows_reads_back_with_every_history() {
    let f = fresh("histories");
    let (engine, meta) = citic();
    for loc in &f.locations {
        let mut store = create(loc);
        let mut memory = PortfolioStates::new();
        for m in MONTHS {
            let mut w = store.begin_month(month(m), meta.clone()).unwrap();
            let mut states = w.previous_states().unwrap().map(|l| l.states).unwrap_or_default();
            // What the store gives is what stayed in memory, histories included.
            same(&states, &memory, &format!("{loc}: the states before {m}"));
            let results = evaluate(&engine, &mut states, m);
            evaluate(&engine, &mut memory, m);
            w.commit_portfolio_month(&states, &results).unwrap();
        }
        let latest = store.latest_states().unwrap().unwrap();
        same(&latest.states, &memory, loc);
        let i = latest.states.index_of("q0001").unwrap();
        let h = latest.states.history(i);
        assert!(!h.is_empty(), "{loc}: q0001 has a history");
        assert_eq!(
            h.months("aum".parse().unwrap()).first().copied().flatten().map(|a| a.to_string()),
            Some("5900000.00".to_string()),
            "{loc}: newest first"
        );
        // April tiers q0001 private by its first quarter alone: only with the history kept.
        let april = store.states_before(month("2024-05")).unwrap().unwrap();
        assert_eq!(effective(&april.states, "q0001").as_deref(), Some("private"), "{loc}");
        // The same months evaluated at once, in memory, give the same states.
        let mut whole = PortfolioStates::new();
        for m in MONTHS {
            evaluate(&engine, &mut whole, m);
        }
        same(&latest.states, &whole, loc);
        // Every other read gives the histories too, and the months check whole.
        store.verify().unwrap();
        let story = store.customer_history("q0002").unwrap();
        assert_eq!(story.states.len(), MONTHS.len());
        let j = latest.states.index_of("q0002").unwrap();
        assert_eq!(story.states.last().unwrap().history, latest.states.history(j), "{loc}");
        let mut seen = 0;
        store
            .for_each_state(month("2024-06"), month("2024-06"), &mut |r| {
                let k = latest.states.index_of(&r.customer.id).unwrap();
                assert_eq!(r.history, latest.states.history(k));
                seen += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, latest.states.len());
        assert!(histories_stored(loc) > 0, "{loc}");
        drop(store);
        damaged_histories_are_errors_naming_the_customer(loc);
    }
}

/// Damages the stored history of q0001 in the latest month, then removes q0002's: reading
/// the month back fails naming the customer (never an empty history).
fn damaged_histories_are_errors_naming_the_customer(loc: &str) {
    if is_pg(loc) {
        sql(
            loc,
            "UPDATE states SET history = replace(history, '\"aum\"', '\"a!m\"') WHERE month = 202406 AND customer_id = 'q0001'",
        );
    } else {
        let c = rusqlite::Connection::open(loc).unwrap();
        let (block, mut blob): (i64, Vec<u8>) = c
            .query_row(
                "SELECT block, histories FROM state_blocks WHERE month = 202406 ORDER BY block LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        // q0001 is the first customer of the first block: its history is the first JSON.
        let at = blob.windows(5).position(|w| w == b"\"aum\"").unwrap();
        blob[at + 2] = b'!';
        c.execute("UPDATE state_blocks SET histories = ?1 WHERE month = 202406 AND block = ?2", (blob, block)).unwrap();
    }
    let mut store = Store::open(loc).unwrap();
    let e = store.latest_states().unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Corrupt, "{e}");
    assert!(e.to_string().contains("the stored history of customer q0001 does not read back"), "{loc}: {e}");
    assert_eq!(store.verify().unwrap_err().kind(), StoreErrorKind::Corrupt, "{loc}: the checksum holds it too");
    drop(store);

    if is_pg(loc) {
        sql(loc, "UPDATE states SET history = NULL WHERE month = 202406");
    } else {
        sql(loc, "UPDATE state_blocks SET histories = NULL WHERE month = 202406");
    }
    let mut store = Store::open(loc).unwrap();
    let e = store.latest_states().unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Corrupt, "{e}");
    // The first customer read (PostgreSQL reads the rows as they lie first).
    assert!(e.to_string().contains("the stored state of customer q0"), "{loc}: {e}");
    assert!(e.to_string().contains("has a history but none is stored with it"), "{loc}: {e}");
    let e = store.verify().unwrap_err();
    let says = "the states of 2024-06: the stored state of customer q0001 has a history but none is stored with it";
    assert!(e.to_string().contains(says), "{loc}: {e}");
}

#[test]
fn a_book_without_windows_stores_no_history() {
    let f = fresh("no_histories");
    for loc in &f.locations {
        let mut store = create(loc);
        for m in ["2024-01", "2024-02"] {
            common::commit_month(&mut store, m, 2000, false);
        }
        assert_eq!(histories_stored(loc), 0, "{loc}");
        let latest = store.latest_states().unwrap().unwrap().states;
        assert!((0..latest.len()).all(|i| latest.history(i).is_empty()));
    }
}

/// Evaluates `months` of `rows` on `states` with `options`; returns the results by month.
fn evaluate_rows(
    engine: &Engine,
    states: &mut PortfolioStates,
    months: &str,
    rows: &[(&str, &str, &str)],
    options: &PortfolioOptions,
) -> Vec<crm_tiering_store::MonthResults> {
    let x = extract(engine.rule_book(), rows);
    let mut sink = ByMonth::default();
    engine.evaluate_portfolio_with(states, months.parse().unwrap(), &x, options, &mut sink).unwrap();
    sink.0
}

fn commit_rows(store: &mut Store, m: &str, rows: &[(&str, &str, &str)]) -> PortfolioStates {
    let (engine, meta) = citic();
    let mut w = store.begin_month(month(m), meta).unwrap();
    let mut states = w.previous_states().unwrap().map(|l| l.states).unwrap_or_default();
    let results = evaluate_rows(&engine, &mut states, m, rows, &PortfolioOptions::default());
    w.commit_portfolio_month(&states, &results[0]).unwrap();
    states
}

#[test]
fn a_catch_up_stores_the_histories_of_the_months_it_evaluates() {
    let f = fresh("amend_histories");
    let (engine, meta) = citic();
    for loc in &f.locations {
        let mut store = create(loc);
        commit_rows(&mut store, "2024-01", &[("2024-01", "c1", "5800000"), ("2024-01", "c2", "5900000")]);
        // c2's February cannot be read: c2 is held back in February and March.
        commit_rows(&mut store, "2024-02", &[("2024-02", "c1", "6200000"), ("2024-02", "c2", "6x")]);
        commit_rows(&mut store, "2024-03", &[("2024-03", "c1", "6100000"), ("2024-03", "c2", "6200000")]);
        let c1_before = store.customer_history("c1").unwrap();

        let hold = PortfolioOptions { catch_up: true, ..PortfolioOptions::default() };
        let catch_up = [("2024-02", "c2", "6300000"), ("2024-03", "c2", "6200000")];
        let mut w = store.begin_amendment("2024-02..2024-03".parse().unwrap(), meta.clone()).unwrap();
        let mut states = w.latest_states().unwrap().states;
        let results = evaluate_rows(&engine, &mut states, "2024-02..2024-03", &catch_up, &hold);
        w.write_results(&states, &results[0]).unwrap();
        w.commit_portfolio_amendment(&states, Some(&results[1])).unwrap();
        let after = store.latest_states().unwrap().unwrap().states;
        same(&after, &states, &format!("{loc}: March amended"));
        let c2 = after.history(after.index_of("c2").unwrap());
        assert_eq!(c2.months("aum".parse().unwrap()).len(), 3, "{loc}: {}", c2.to_json());
        assert_eq!(store.customer_history("c1").unwrap(), c1_before, "{loc}: c1 kept its row");
        store.verify().unwrap();

        // April reads c2's whole first quarter (6,129,670.33 on average; January alone is
        // 5,900,000): private.
        let april = commit_rows(&mut store, "2024-04", &[("2024-04", "c1", "5900000"), ("2024-04", "c2", "5900000")]);
        assert_eq!(effective(&april, "c1").as_deref(), Some("private"), "{loc}");
        assert_eq!(effective(&april, "c2").as_deref(), Some("private"), "{loc}");
    }
}

/// The schema 3 store the release before histories wrote (`tests/data/schema3/`, see its
/// README): a copy, on SQLite or loaded into a fresh PostgreSQL database.
fn schema3_store(loc: &str) {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schema3");
    if is_pg(loc) {
        sql(loc, &std::fs::read_to_string(data.join("postgres.sql")).unwrap());
    } else {
        std::fs::copy(data.join("store.db"), loc).unwrap();
    }
}

/// A month of the schema 3 fixture's six customers.
fn fixture_month(m: &str, aum: [&str; 6]) -> Vec<(String, String, String)> {
    aum.iter().enumerate().map(|(i, a)| (m.to_string(), format!("q{:03}", i + 1), a.to_string())).collect()
}

fn commit_fixture_month(store: &mut Store, m: &str, rows: &[(String, String, String)]) -> PortfolioStates {
    let (engine, meta) = citic();
    let mut w = store.begin_month(month(m), meta).unwrap();
    let mut states = w.previous_states().unwrap().unwrap().states;
    let refs: Vec<(&str, &str, &str)> = rows.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    let x = extract(engine.rule_book(), &refs);
    let mut sink = ByMonth::default();
    let range = MonthRange::single(month(m)).unwrap();
    engine.evaluate_portfolio_with(&mut states, range, &x, &PortfolioOptions::default(), &mut sink).unwrap();
    w.commit_portfolio_month(&states, &sink.0[0]).unwrap();
    states
}

#[test]
fn a_schema_3_store_migrates_with_empty_histories_and_goes_on() {
    let f = fresh("schema3");
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schema3");
    let book = RuleBook::from_str_auto(CITIC).unwrap();
    for loc in &f.locations {
        schema3_store(loc);
        let e = Store::open_read_only(loc).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Schema, "{e}");
        assert!(
            e.to_string().contains(&format!("has schema version 3 and must be upgraded to version {SCHEMA_VERSION}")),
            "{e}"
        );

        let mut store = Store::open(loc).unwrap();
        let v = format!("SELECT count(*) FROM meta WHERE key = 'schema_version' AND value = '{SCHEMA_VERSION}'");
        assert_eq!(sql_int(loc, &v), 1);
        // The chain holds as it was: null histories sum to nothing.
        let months = store.verify().unwrap();
        assert_eq!(months.len(), 3);
        // Every month's states as that release exported them, every history empty.
        for m in ["2024-01", "2024-02", "2024-03"] {
            let l = store.states_before(month(m).next()).unwrap().unwrap();
            let expected = std::fs::read_to_string(data.join(format!("states-{m}.jsonl"))).unwrap();
            assert_eq!(l.states.to_jsonl(&book), expected, "{loc} {m}");
            assert!((0..l.states.len()).all(|i| l.states.history(i).is_empty()), "{loc} {m}");
        }
        assert_eq!(histories_stored(loc), 0, "{loc}");

        // April goes on from March with no history: its window (the first quarter) holds no
        // month evaluated since the migration, so q001 and q005 are not private yet.
        let april =
            fixture_month("2024-04", ["5900000.00", "3500000.00", "250000.00", "1200000.00", "6950000.00", "98000.00"]);
        let states = commit_fixture_month(&mut store, "2024-04", &april);
        assert_eq!(effective(&states, "q001").as_deref(), Some("diamond"), "{loc}");
        assert_eq!(effective(&states, "q005").as_deref(), Some("diamond"), "{loc}");
        let q001 = states.index_of("q001").unwrap();
        assert!(!states.history(q001).is_empty(), "{loc}: April starts q001's history");
        // The second quarter is evaluated after the migration: July reads it.
        for (m, a1) in [("2024-05", "6200000.00"), ("2024-06", "6100000.00"), ("2024-07", "5000000.00")] {
            let rows = fixture_month(m, [a1, "3500000.00", "250000.00", "1200000.00", "6950000.00", "98000.00"]);
            let states = commit_fixture_month(&mut store, m, &rows);
            let back = store.latest_states().unwrap().unwrap().states;
            same(&back, &states, &format!("{loc} {m}"));
        }
        let july = store.latest_states().unwrap().unwrap().states;
        assert_eq!(effective(&july, "q001").as_deref(), Some("private"), "{loc}");
        assert_eq!(effective(&july, "q005").as_deref(), Some("private"), "{loc}");
        let months = store.verify().unwrap();
        assert_eq!(months.len(), 7);
        assert_eq!(months[3].previous, months[2].digest);
        assert!(histories_stored(loc) > 0, "{loc}");
        drop(store);
        let mut ro = Store::open_read_only(loc).unwrap();
        same(&ro.latest_states().unwrap().unwrap().states, &july, loc);
    }
}
