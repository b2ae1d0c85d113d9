//! Runs over the chain: a range holds the store from its first month to its last, rollback of
//! the latest month, and amendments of the latest month by a catch-up. SQLite always;
//! PostgreSQL when `CRMT_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

mod common;

use common::{commit_rows, create, engine, evaluate, fresh, month};
use crm_tiering::portfolio::{MonthRange, PortfolioOptions};
use crm_tiering_store::{RunKind, RunStatus, Store, StoreErrorKind};

/// `n` customers' records of a month (ids c001...), AUM around the entry threshold.
fn rows(m: &str, n: usize, seed: usize) -> Vec<(String, String, String)> {
    (1..=n)
        .map(|i| {
            (m.to_string(), format!("c{i:03}"), format!("{}.00", 150_000 + (i * 7_919 + seed * 104_729) % 120_000))
        })
        .collect()
}

fn refs(r: &[(String, String, String)]) -> Vec<(&str, &str, &str)> {
    r.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect()
}

fn commit(store: &mut Store, m: &str, n: usize, seed: usize, rerun: bool) -> crm_tiering_store::RunRecord {
    commit_rows(store, m, &refs(&rows(m, n, seed)), rerun)
}

#[test]
fn a_range_holds_the_store_from_its_first_month_to_its_last() {
    let f = fresh("range_lock");
    for loc in &f.locations {
        let mut a = create(loc);
        commit(&mut a, "2024-01", 50, 1, false);
        commit(&mut a, "2024-02", 50, 2, false);
        // March and April in one go: between them, nobody gets in.
        let (engine, meta) = engine();
        let mut w = a.begin_month(month("2024-03"), meta.clone()).unwrap();
        let mut states = w.previous_states().unwrap().unwrap().states;
        let both = [rows("2024-03", 50, 3), rows("2024-04", 50, 4)].concat();
        let results =
            evaluate(&engine, &mut states.clone(), "2024-03..2024-04", &refs(&both), &PortfolioOptions::default());
        let march =
            evaluate(&engine, &mut states, "2024-03", &refs(&rows("2024-03", 50, 3)), &PortfolioOptions::default());
        assert_eq!(march[0], results[0]);
        let (run3, w) = w.commit_and_continue(&states, &march[0], meta.clone()).unwrap();
        let w = w.unwrap();
        let mut b = Store::open(loc).unwrap();
        let mut rerun = meta.clone();
        rerun.rerun = true;
        let e = b.begin_month(month("2024-03"), rerun.clone()).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Locked, "{e}");
        let april =
            evaluate(&engine, &mut states, "2024-04", &refs(&rows("2024-04", 50, 4)), &PortfolioOptions::default());
        let run4 = w.commit_portfolio_month(&states, &april[0]).unwrap();
        assert_eq!(b.committed_months().unwrap().len(), 4);
        assert_eq!(b.months().unwrap()[2].run_id, run3.run_id);
        assert_eq!(b.months().unwrap()[3].previous, b.months().unwrap()[2].digest, "April chains on this run's March");
        assert_eq!(run4.status, RunStatus::Committed);

        // Where the lock is let go between two months (SQLite's commit ends its lock), the
        // next month's begin checks the month before is still the one this run committed.
        commit(&mut a, "2024-05", 50, 5, false);
        let may = a.head().unwrap().unwrap();
        assert_eq!(may.month, month("2024-05"));
        commit(&mut b, "2024-05", 50, 55, true);
        let runs_before = a.runs().unwrap().len();
        let e = a.begin_month_after(month("2024-06"), meta.clone(), &may).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Sequence, "{e}");
        let m = e.to_string();
        assert!(m.contains("the store changed while this run was going on: it began from 2024-05 (digest"), "{m}");
        assert!(m.contains("nothing of this month was written"), "{m}");
        assert_eq!(a.runs().unwrap().len(), runs_before, "the refused month left no run");
        // From the head it holds now, it goes on.
        let now = a.head().unwrap().unwrap();
        drop(a.begin_month_after(month("2024-06"), meta, &now).unwrap());
    }
}

#[test]
fn rollback_undoes_the_latest_month_only_audited() {
    let f = fresh("rollback");
    for loc in &f.locations {
        let mut store = create(loc);
        let id = store.portfolio_id().to_string();
        for (k, m) in ["2024-01", "2024-02", "2024-03"].iter().enumerate() {
            commit(&mut store, m, 40, k, false);
        }
        let months = store.months().unwrap();
        let e = store.rollback_month(month("2024-02"), "alice").unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Sequence, "{e}");
        assert!(e.to_string().contains("only the latest committed month can, and that is 2024-03"), "{e}");
        let r = store.rollback_month(month("2024-03"), "alice").unwrap();
        assert_eq!(r.month, month("2024-03"));
        assert_eq!(r.runs, vec![months[2].run_id]);
        assert_eq!(r.head, Some(month("2024-02")));
        let runs = store.runs().unwrap();
        assert_eq!(runs[2].status, RunStatus::RolledBack);
        assert!(runs[2].note.as_deref().unwrap().starts_with("rolled back by alice on "), "{:?}", runs[2].note);
        assert_eq!(store.committed_months().unwrap(), vec![month("2024-01"), month("2024-02")]);
        assert_eq!(store.head().unwrap().unwrap().digest, months[1].digest);
        assert_eq!(store.latest_states().unwrap().unwrap().month, month("2024-02"));
        assert!(store.events(month("2024-03"), month("2024-03")).unwrap().is_empty());
        assert!(store.alerts(month("2024-03"), month("2024-03")).unwrap().is_empty());
        assert_eq!(store.verify().unwrap(), months[..2].to_vec());
        // March again, from February's states.
        let again = commit(&mut store, "2024-03", 40, 9, false);
        assert_eq!(store.months().unwrap()[2].run_id, again.run_id);
        assert_eq!(store.months().unwrap()[2].previous, months[1].digest);
        // Down to nothing: an empty store of the same portfolio, never another one.
        for m in ["2024-03", "2024-02", "2024-01"] {
            store.rollback_month(month(m), "bob").unwrap();
        }
        assert!(store.head().unwrap().is_none());
        assert!(store.latest_states().unwrap().is_none());
        drop(store);
        let mut store = Store::open(loc).unwrap();
        assert_eq!(store.portfolio_id(), id);
        let e = store.rollback_month(month("2024-01"), "bob").unwrap_err();
        assert!(e.to_string().contains("the store has no committed month"), "{e}");
        commit(&mut store, "2024-01", 40, 0, false);
        assert_eq!(store.verify().unwrap().len(), 1);
    }
}

#[test]
fn a_catch_up_amends_the_latest_month_and_a_rollback_takes_it_back() {
    let f = fresh("amend");
    for loc in &f.locations {
        let mut store = create(loc);
        let jan = [
            ("2024-01", "c1", "150000"),
            ("2024-01", "c2", "250000"),
            ("2024-01", "c3", "260000"),
            ("2024-01", "c4", "90000"),
            ("2024-01", "c5", "1200000"),
        ];
        commit_rows(&mut store, "2024-01", &jan, false);
        // February: c3's record cannot be read, c3 is held back (its state kept).
        let feb = [
            ("2024-02", "c1", "150000"),
            ("2024-02", "c2", "250000"),
            ("2024-02", "c3", "12x"),
            ("2024-02", "c4", "90000"),
            ("2024-02", "c5", "3100000"),
        ];
        let fr = commit_rows(&mut store, "2024-02", &feb, false);
        assert_eq!(fr.counts.unwrap().rejects, 1);
        // March: c3 is still a month behind, held again.
        let mar = [
            ("2024-03", "c1", "150000"),
            ("2024-03", "c2", "250000"),
            ("2024-03", "c3", "270000"),
            ("2024-03", "c4", "90000"),
            ("2024-03", "c5", "3100000"),
        ];
        commit_rows(&mut store, "2024-03", &mar, false);
        let before = store.latest_states().unwrap().unwrap();
        assert_eq!(before.states.get("c3").unwrap().1.last_month, Some(month("2024-01")));
        let months_before = store.months().unwrap();
        let c1 = store.customer_history("c1").unwrap();

        // Months outside the committed ones are refused.
        let (engine, meta) = engine();
        let e = store.begin_amendment("2024-04".parse().unwrap(), meta.clone()).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Sequence, "{e}");

        // The catch-up: c3's corrected February and March, from March's states.
        let range: MonthRange = "2024-02..2024-03".parse().unwrap();
        let catch_up = [("2024-02", "c3", "1100000"), ("2024-03", "c3", "270000")];
        let hold = PortfolioOptions { catch_up: true, ..PortfolioOptions::default() };
        let mut w = store.begin_amendment(range, meta.clone()).unwrap();
        assert_eq!(w.amends(), month("2024-03"));
        let mut states = w.latest_states().unwrap().states;
        let results = evaluate(&engine, &mut states, "2024-02..2024-03", &catch_up, &hold);
        assert_eq!(results.len(), 2);
        assert!(results.iter().all(|r| r.held.is_empty() && r.evaluated.len() == 1), "{results:?}");
        w.write_results(&states, &results[0]).unwrap();
        let run = w.commit_portfolio_amendment(&states, Some(&results[1])).unwrap();
        assert_eq!(run.kind, RunKind::CatchUp);
        assert_eq!(run.status, RunStatus::Committed);
        assert_eq!(run.amends, Some(month("2024-03")));
        assert_eq!(run.months, Some((month("2024-02"), month("2024-03"))));
        assert_eq!(run.note.as_deref(), Some("amends 2024-03 (catch-up of 2024-02..2024-03)"));

        // March's states now hold c3 caught up; the others are as they were, AUM and all.
        let after = store.latest_states().unwrap().unwrap();
        assert_eq!(after.month, month("2024-03"));
        assert_eq!(after.states.get("c3").unwrap().1.last_month, Some(month("2024-03")));
        for id in ["c1", "c2", "c4", "c5"] {
            assert_eq!(after.states.get(id), before.states.get(id), "{id}");
        }
        assert_eq!(store.customer_history("c1").unwrap(), c1);
        let c3 = store.customer_history("c3").unwrap();
        let mar3 = c3.states.iter().find(|s| s.month == month("2024-03")).unwrap();
        assert_eq!(mar3.evaluated.map(|e| e.0.to_string()), Some("270000.00".to_string()));
        assert!(c3.events.iter().any(|e| e.month == month("2024-02")), "{c3:?}");
        // The chain: March's record recomputed, the head with it, the months before untouched.
        let months = store.verify().unwrap();
        assert_eq!(months[..2], months_before[..2]);
        assert_eq!(months[2].run_id, months_before[2].run_id);
        assert_ne!(months[2].digest, months_before[2].digest);
        assert_ne!(months[2].states.sha256, months_before[2].states.sha256);
        assert!(months[2].events.count > months_before[2].events.count);
        assert_eq!(store.head().unwrap().unwrap().digest, months[2].digest);
        assert_eq!(after.digest, months[2].digest);
        let feb_events = store.events(month("2024-02"), month("2024-02")).unwrap();
        assert!(feb_events.iter().any(|e| e.customer_id == "c3"));

        // A catch-up that writes a customer the month has events of already is refused, and
        // leaves everything as it was.
        let c5 = feb_events.iter().find(|e| e.customer_id == "c5").expect("c5 moved up in February").event;
        let mut w = store.begin_amendment(range, meta.clone()).unwrap();
        let states = w.latest_states().unwrap().states;
        w.event("c5", &c5);
        let e = w.commit_portfolio_amendment(&states, None).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Input, "{e}");
        assert!(e.to_string().contains("customer c5 already has events in 2024-02"), "{e}");
        // One that drops a customer is refused.
        let mut w = store.begin_amendment(range, meta.clone()).unwrap();
        let mut fewer = crm_tiering::portfolio::PortfolioStates::new();
        for (c, s) in w.latest_states().unwrap().states.iter().filter(|(c, _)| c.id != "c4") {
            fewer.insert(c, *s).unwrap();
        }
        let e = w.commit_portfolio_amendment(&fewer, None).unwrap_err();
        assert!(e.to_string().contains("lack customer c4"), "{e}");
        assert_eq!(store.verify().unwrap(), months);
        let statuses: Vec<_> = store.runs().unwrap().iter().map(|r| (r.kind, r.status)).collect();
        assert_eq!(statuses[4..], [(RunKind::CatchUp, RunStatus::Aborted), (RunKind::CatchUp, RunStatus::Aborted)]);

        // Rolling March back takes the catch-up's rows with it, February's too.
        let r = store.rollback_month(month("2024-03"), "carol").unwrap();
        assert_eq!(r.runs, vec![months[2].run_id, run.run_id]);
        let runs = store.runs().unwrap();
        assert_eq!(runs.iter().find(|x| x.run_id == run.run_id).unwrap().status, RunStatus::RolledBack);
        assert!(!store.events(month("2024-02"), month("2024-02")).unwrap().iter().any(|e| e.customer_id == "c3"));
        assert_eq!(store.verify().unwrap(), months_before[..2].to_vec());
        assert_eq!(
            store.latest_states().unwrap().unwrap().states.get("c3").unwrap().1.last_month,
            Some(month("2024-01"))
        );
    }
}
