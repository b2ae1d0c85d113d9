//! The store's behaviour on SQLite always, and on PostgreSQL when `CRMT_TEST_POSTGRES_URL` is
//! set (scripts/postgres-test-cluster.sh starts a server and sets it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

use std::process::Command;

mod common;

use common::{commit_month, create, fresh, month};
use crm_tiering_store::{RunStatus, SCHEMA_VERSION, Store, StoreErrorKind, synthetic};

fn fixture() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crmt-store-fixture"))
}

#[test]
fn months_round_trip_with_history_and_audit() {
    let f = fresh("round_trip");
    for loc in &f.locations {
        let mut store = create(loc);
        assert!(store.latest_states().unwrap().is_none());
        let r1 = commit_month(&mut store, "2024-01", 3000, false);
        let r2 = commit_month(&mut store, "2024-02", 3000, false);
        assert_eq!(r2.status, RunStatus::Committed);
        let counts = r2.counts.unwrap();
        assert_eq!(counts.states, 3000);
        assert!(counts.events > 0 && counts.alerts > 0, "{counts:?}");
        assert_eq!(store.committed_months().unwrap(), vec![month("2024-01"), month("2024-02")]);

        // The latest states equal what the engine computed, stamped with the rule book.
        let (engine, _) = synthetic::default_meta(false).unwrap();
        let latest = store.latest_states().unwrap().unwrap();
        assert_eq!(latest.month, month("2024-02"));
        assert_eq!(latest.run_id, r2.run_id);
        assert_eq!(latest.states.rule_book(), Some(engine.rule_book().fingerprint()));
        let before = store.states_before(month("2024-02")).unwrap().unwrap();
        assert_eq!(before.run_id, r1.run_id);
        let mut expected = None;
        for m in ["2024-01", "2024-02"] {
            let replay = format!("{}.replay", f.dir.path().join("x").display());
            let mut tmp = Store::open(&replay).unwrap_or_else(|_| create(&replay));
            let (engine, meta) = synthetic::default_meta(false).unwrap();
            let mut w = tmp.begin_month(month(m), meta).unwrap();
            let prev: Option<crm_tiering::portfolio::PortfolioStates> = expected.take();
            expected = Some(synthetic::write_month(&mut w, &engine, prev.as_ref(), 3000).unwrap());
            w.abort("replay only").unwrap();
        }
        let expected = expected.unwrap();
        assert_eq!(latest.states.len(), expected.len());
        for (c, s) in expected.iter() {
            let (c2, s2) = latest.states.get(c.id).unwrap();
            assert_eq!((c2, s2), (c, s));
        }

        // One customer's history across months, with its events.
        let rich = (0..3000).find(|&i| synthetic::aum_fen(i, month("2024-01")) >= 20_000_000).unwrap();
        let h = store.customer_history(&synthetic::customer_id(rich)).unwrap();
        assert_eq!(h.states.len(), 2);
        assert_eq!(h.states[0].month, month("2024-01"));
        assert!(h.states[0].evaluated.is_some());
        assert!(h.events.iter().any(|e| e.month == month("2024-01")), "{h:?}");
        assert!(store.customer_history("nobody").unwrap().states.is_empty());

        // Export reads.
        let mut n = 0;
        store
            .for_each_state(month("2024-01"), month("2024-02"), &mut |_| {
                n += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(n, 6000);
        assert_eq!(store.events(month("2024-02"), month("2024-02")).unwrap().len() as u64, counts.events);
        assert_eq!(store.alerts(month("2024-02"), month("2024-02")).unwrap().len() as u64, counts.alerts);

        let runs = store.runs().unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].rule_book_fingerprint, engine.rule_book().fingerprint());
        assert_eq!(store.run_rule_book(r1.run_id).unwrap().as_deref(), Some(synthetic::DEFAULT_RULES));
        assert_eq!(runs[0].pid, i64::from(std::process::id()));
    }
}

#[test]
fn the_json_view_matches_the_decoded_states() {
    let f = fresh("json_view");
    for loc in &f.locations {
        let mut store = create(loc);
        // Several blocks of states on SQLite (about 850 customers each).
        commit_month(&mut store, "2024-01", 2600, false);
        commit_month(&mut store, "2024-02", 2600, false);
        let mut decoded = std::collections::HashMap::new();
        store
            .for_each_state(month("2024-02"), month("2024-02"), &mut |r| {
                decoded.insert(r.customer.id.clone(), r);
                Ok(())
            })
            .unwrap();
        let rows: Vec<(String, String, Option<String>, Option<String>)> = if loc.starts_with("postgres") {
            let mut c = postgres::Client::connect(loc, postgres::NoTls).unwrap();
            c.query("SELECT customer_id, state::text, aum, legal_entity FROM states_json WHERE month = 202402", &[])
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect()
        } else {
            let c = rusqlite::Connection::open(loc).unwrap();
            let mut st = c
                .prepare("SELECT customer_id, state, aum, legal_entity FROM states_json WHERE month = 202402")
                .unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(rows.len(), 2600);
        let mut with_watch = 0;
        for (id, json, aum, entity) in rows {
            let d = &decoded[&id];
            let s = crm_tiering::CustomerState::from_json(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(s, d.state, "{json}");
            with_watch += usize::from(s.watch.is_some() || s.below_entry.is_some());
            assert_eq!(aum.unwrap(), d.evaluated.unwrap().0.to_string());
            assert_eq!(entity, d.customer.legal_entity);
        }
        println!("{loc}: {with_watch} states with a watch or below-entry run checked");
    }
}

#[test]
fn a_committed_month_is_refused_and_a_rerun_replaces_it_with_both_runs_audited() {
    let f = fresh("rerun");
    for loc in &f.locations {
        let mut store = create(loc);
        let first = commit_month(&mut store, "2024-01", 1000, false);
        let (_, meta) = synthetic::default_meta(false).unwrap();
        let e = store.begin_month(month("2024-01"), meta).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::AlreadyCommitted);
        assert!(e.to_string().contains("month 2024-01 is already committed"), "{e}");
        assert!(e.to_string().contains("--rerun"), "{e}");

        // A rerun with fewer customers replaces the month as a whole.
        let second = commit_month(&mut store, "2024-01", 400, true);
        let latest = store.latest_states().unwrap().unwrap();
        assert_eq!(latest.states.len(), 400);
        assert_eq!(latest.run_id, second.run_id);
        let mut n = 0;
        store
            .for_each_state(month("2024-01"), month("2024-01"), &mut |_| {
                n += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(n, 400);
        let runs = store.runs().unwrap();
        let statuses: Vec<_> = runs.iter().map(|r| (r.run_id, r.status)).collect();
        assert_eq!(statuses, vec![(first.run_id, RunStatus::Replaced), (second.run_id, RunStatus::Committed)]);
        assert_eq!(runs[0].note.as_deref(), Some(format!("replaced by run {}", second.run_id).as_str()));
        assert!(runs[1].rerun);

        // Months go forward: an earlier month is refused, and a month with later months
        // committed cannot be rerun.
        commit_month(&mut store, "2024-02", 400, false);
        let (_, meta) = synthetic::default_meta(true).unwrap();
        let e = store.begin_month(month("2024-01"), meta).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Sequence, "{e}");
        let (_, meta) = synthetic::default_meta(false).unwrap();
        let e = store.begin_month(month("2023-12"), meta).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Sequence, "{e}");
    }
}

#[test]
fn a_dropped_writer_leaves_nothing_and_is_audited_as_aborted() {
    let f = fresh("dropped");
    for loc in &f.locations {
        let mut store = create(loc);
        commit_month(&mut store, "2024-01", 200, false);
        {
            let (engine, meta) = synthetic::default_meta(false).unwrap();
            let mut w = store.begin_month(month("2024-02"), meta).unwrap();
            let prev = w.previous_states().unwrap();
            synthetic::write_month(&mut w, &engine, prev.as_ref().map(|p| &p.states), 200).unwrap();
        }
        assert_eq!(store.committed_months().unwrap(), vec![month("2024-01")]);
        assert_eq!(store.runs().unwrap()[1].status, RunStatus::Aborted);
        commit_month(&mut store, "2024-02", 200, false);
    }
}

#[test]
fn a_second_writer_fails_at_once_with_the_lock_message() {
    let f = fresh("lock");
    for loc in &f.locations {
        let mut a = create(loc);
        let mut b = Store::open(loc).unwrap();
        let (_, meta) = synthetic::default_meta(false).unwrap();
        let w = a.begin_month(month("2024-01"), meta.clone()).unwrap();
        let t = std::time::Instant::now();
        let e = b.begin_month(month("2024-01"), meta).unwrap_err();
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(e.kind(), StoreErrorKind::Locked);
        let msg = e.to_string();
        assert!(msg.contains("another run holds the store lock since 20"), "{msg}");
        assert!(msg.contains(&format!("pid {}", std::process::id())), "{msg}");
        println!("{msg}");
        w.commit().unwrap();
        // Reading while nobody writes, and writing after the lock is released, work.
        assert_eq!(b.committed_months().unwrap(), vec![month("2024-01")]);
        commit_month(&mut b, "2024-02", 10, false);
    }
}

#[test]
fn two_concurrent_processes_exactly_one_commits() {
    let f = fresh("two_processes");
    for loc in &f.locations {
        drop(create(loc));
        let spawn = || fixture().args([loc.as_str(), "2024-01", "2000", "--hold-ms", "1500"]).output();
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(spawn);
            std::thread::sleep(std::time::Duration::from_millis(300));
            let b = s.spawn(spawn);
            (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
        });
        let codes = [a.status.code(), b.status.code()];
        assert!(codes.contains(&Some(0)) && codes.contains(&Some(4)), "{codes:?} {a:?} {b:?}");
        let loser = if a.status.code() == Some(4) { &a } else { &b };
        let msg = String::from_utf8_lossy(&loser.stderr);
        assert!(msg.contains("another run holds the store lock since"), "{msg}");
        let mut store = Store::open(loc).unwrap();
        assert_eq!(store.committed_months().unwrap(), vec![month("2024-01")]);
        let runs = store.runs().unwrap();
        assert_eq!(runs.iter().filter(|r| r.status == RunStatus::Committed).count(), 1);
        assert_eq!(runs.len(), 1, "the loser never recorded a run: {runs:?}");
    }
}

#[test]
fn a_read_only_store_file_is_refused_and_unchanged() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.db");
    let loc = path.display().to_string();
    {
        let mut store = create(&loc);
        commit_month(&mut store, "2024-01", 100, false);
    }
    let before = std::fs::read(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let e = Store::open(&loc).unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::ReadOnly);
    assert!(e.to_string().contains("is read-only"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn other_schema_versions_and_other_databases_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let loc = path.display().to_string();
    drop(create(&loc));
    let set = |v: &str| {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute("UPDATE meta SET value = ?1 WHERE key = 'schema_version'", [v]).unwrap();
    };
    set("99");
    let e = Store::open(&loc).unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Schema);
    assert!(e.to_string().contains(&format!("schema version 99, newer than this tool's {SCHEMA_VERSION}")), "{e}");
    set("0");
    let e = Store::open(&loc).unwrap_err();
    assert!(e.to_string().contains(&format!("schema version 0, older than this tool's {SCHEMA_VERSION}")), "{e}");
    set(&SCHEMA_VERSION.to_string());
    drop(Store::open(&loc).unwrap());

    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE accounts (id TEXT)").unwrap();
    let e = Store::open(&other.display().to_string()).unwrap_err();
    assert!(e.to_string().contains("not a crm-tiering store"), "{e}");

    if let Ok(url) = std::env::var("CRMT_TEST_POSTGRES_URL") {
        let f = fresh("schema");
        let pg = &f.locations[1];
        drop(create(pg));
        let mut c = postgres::Client::connect(pg, postgres::NoTls).unwrap();
        c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'", &[]).unwrap();
        let e = Store::open(pg).unwrap_err();
        assert!(e.to_string().contains(&format!("newer than this tool's {SCHEMA_VERSION}")), "{e}");
        assert!(!e.to_string().contains(&url) || !url.contains(':'), "no password in messages");
    }
}

#[test]
fn states_read_before_the_lock_are_used_only_when_still_the_latest() {
    let f = fresh("read_before");
    for loc in &f.locations {
        let mut store = create(loc);
        let r1 = commit_month(&mut store, "2024-01", 300, false);
        let mut reader = Store::open(loc).unwrap();
        let read = reader.states_before(month("2024-02")).unwrap().unwrap();
        assert_eq!(read.run_id, r1.run_id);
        let (_, meta) = synthetic::default_meta(false).unwrap();

        // Unchanged: what was read is used.
        let mut w = store.begin_month(month("2024-02"), meta.clone()).unwrap();
        let used = w.previous_states_read_before(Some(read.clone())).unwrap().unwrap();
        assert_eq!((used.month, used.run_id), (read.month, read.run_id));
        // Nothing read, but a month is committed: read under the lock.
        let used = w.previous_states_read_before(None).unwrap().unwrap();
        assert_eq!(used.run_id, r1.run_id);
        w.abort("test").unwrap();

        // January rerun in between: the states read before are stale and read again.
        let r1b = commit_month(&mut store, "2024-01", 300, true);
        let mut w = store.begin_month(month("2024-02"), meta.clone()).unwrap();
        let used = w.previous_states_read_before(Some(read.clone())).unwrap().unwrap();
        assert_eq!(used.run_id, r1b.run_id);
        assert_ne!(used.run_id, read.run_id);
        w.abort("test").unwrap();
    }
}

/// Every committed state of a store, in month and customer order.
fn all_states(store: &mut Store, first: &str, last: &str) -> Vec<crm_tiering_store::StateRow> {
    let mut rows = Vec::new();
    store
        .for_each_state(month(first), month(last), &mut |r| {
            rows.push(r);
            Ok(())
        })
        .unwrap();
    rows
}

/// Takes a SQLite store back from schema 3 (or later) to the tables of schema 2: without the
/// chain, the portfolio id, the run kinds, the rows' runs and the contribution tables of schema
/// 5 (the version number is left to the caller).
fn downgrade_from_3(c: &rusqlite::Connection) {
    c.execute_batch(
        "ALTER TABLE events DROP COLUMN run_id; ALTER TABLE alerts DROP COLUMN run_id; \
         ALTER TABLE runs DROP COLUMN kind; ALTER TABLE runs DROP COLUMN amends; \
         ALTER TABLE runs DROP COLUMN first_month; ALTER TABLE runs DROP COLUMN last_month; \
         ALTER TABLE months DROP COLUMN previous; ALTER TABLE months DROP COLUMN states_count; \
         ALTER TABLE months DROP COLUMN states_sha256; ALTER TABLE months DROP COLUMN events_count; \
         ALTER TABLE months DROP COLUMN events_sha256; ALTER TABLE months DROP COLUMN alerts_count; \
         ALTER TABLE months DROP COLUMN alerts_sha256; ALTER TABLE months DROP COLUMN rejects_count; \
         ALTER TABLE months DROP COLUMN rejects_sha256; ALTER TABLE months DROP COLUMN digest; \
         DELETE FROM meta WHERE key IN ('portfolio_id', 'head_month', 'head_digest'); \
         DROP TABLE contribution_lineage; DROP TABLE contribution_managers; \
         DROP TABLE contribution_customers; DROP TABLE contribution_months; \
         DROP TABLE loan_states; DROP TABLE loan_signals; DROP TABLE loan_results; \
         DROP TABLE loan_customers; DROP TABLE loan_months;",
    )
    .unwrap();
}

#[test]
fn a_schema_1_sqlite_store_is_migrated_to_blocks_with_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let loc = path.display().to_string();
    let mut store = create(&loc);
    for m in ["2024-01", "2024-02", "2024-03"] {
        commit_month(&mut store, m, 2000, false);
    }
    let before = all_states(&mut store, "2024-01", "2024-03");
    let customer = before[1234].customer.id.clone();
    let history = store.customer_history(&customer).unwrap();
    drop(store);
    // Schema 1 as it was: one `states` row per customer-month (made here from the view).
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "CREATE TABLE states_1 (month INTEGER NOT NULL, customer_id TEXT NOT NULL, state BLOB NOT NULL, \
         PRIMARY KEY (month, customer_id)) WITHOUT ROWID; \
         INSERT INTO states_1 SELECT month, customer_id, state FROM states; \
         DROP VIEW states_json; DROP VIEW states; DROP TABLE state_blocks; DROP TABLE state_slots; \
         ALTER TABLE states_1 RENAME TO states; \
         CREATE VIEW states_json AS SELECT month, customer_id FROM states; \
         UPDATE meta SET value = '1' WHERE key = 'schema_version';",
    )
    .unwrap();
    downgrade_from_3(&c);
    assert_eq!(c.query_row("SELECT count(*) FROM states", [], |r| r.get::<_, i64>(0)).unwrap(), 6000);
    drop(c);

    // A row of another size stops the migration: nothing changes, the message names it.
    let backup = dir.path().join("v1-copy.db");
    std::fs::copy(&path, &backup).unwrap();
    let c = rusqlite::Connection::open(&backup).unwrap();
    c.execute("UPDATE states SET state = substr(state, 1, 63) WHERE month = 202402 AND customer_id = ?1", [&customer])
        .unwrap();
    drop(c);
    let e = Store::open(&backup.display().to_string()).unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Corrupt);
    assert!(e.to_string().contains(&format!("customer {customer} for 2024-02 is 63 bytes")), "{e}");
    let c = rusqlite::Connection::open(&backup).unwrap();
    let version: String = c.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0)).unwrap();
    assert_eq!(version, "1", "not migrated");
    drop(c);

    let mut store = Store::open(&loc).unwrap();
    assert_eq!(all_states(&mut store, "2024-01", "2024-03"), before);
    assert_eq!(store.customer_history(&customer).unwrap(), history);
    commit_month(&mut store, "2024-04", 2000, false);
    drop(store);
    let c = rusqlite::Connection::open(&path).unwrap();
    let version: String = c.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION.to_string());
    let n: i64 = c.query_row("SELECT count(*) FROM states_json", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 8000);
}

#[test]
fn a_damaged_block_of_states_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let loc = path.display().to_string();
    let mut store = create(&loc);
    commit_month(&mut store, "2024-01", 2000, false);
    drop(store);
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute("UPDATE state_blocks SET states = substr(states, 1, 640) WHERE month = 202401 AND block = 1", [])
        .unwrap();
    drop(c);
    let mut store = Store::open(&loc).unwrap();
    let e = store.latest_states().unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Corrupt);
    assert!(e.to_string().contains("block 1 of the states of 2024-01"), "{e}");
    let e = store.customer_history(&synthetic::customer_id(1500)).unwrap_err();
    assert!(e.to_string().contains("block 1 of the states of 2024-01"), "{e}");
    drop(store);

    // A block's key that does not name its first customer would make `explain` miss the
    // customer silently: refused.
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute("UPDATE state_blocks SET first_customer = first_customer || '0' WHERE block = 2", []).unwrap();
    drop(c);
    let mut store = Store::open(&loc).unwrap();
    let e = store.customer_history(&synthetic::customer_id(1999)).unwrap_err();
    assert!(e.to_string().contains("but its key says"), "{e}");
}

fn random_below(max: u64, salt: u64) -> u64 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut z = t ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) % max.max(1)
}

/// SIGKILL the writer at random points: the store always holds the previous months or the
/// complete new one, and the next run succeeds.
fn kill_test(loc: &str, iterations: usize, customers: usize) {
    drop(create(loc));
    // Time one undisturbed run to spread the kills over it.
    let out = fixture().args([loc, "2020-01", &customers.to_string()]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let t = std::time::Instant::now();
    let out = fixture().args([loc, "2020-02", &customers.to_string()]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let full_ms = t.elapsed().as_millis() as u64;
    let mut months = vec![month("2020-01"), month("2020-02")];
    let (mut killed_before, mut completed) = (0, 0);
    for i in 0..iterations {
        let next = months.last().unwrap().next();
        let mut child = fixture()
            .args([loc, &next.to_string(), &customers.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Most kills land in the evaluation and the commit (the last part of the run).
        let delay = random_below(full_ms * 13 / 10, i as u64);
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let mut store = Store::open(loc).unwrap();
        let committed = store.committed_months().unwrap();
        if committed.len() == months.len() + 1 {
            months.push(next);
            completed += 1;
        } else {
            killed_before += 1;
        }
        assert_eq!(committed, months, "iteration {i} ({status:?} after {delay} ms)");
        let latest = store.latest_states().unwrap().unwrap();
        assert_eq!(latest.month, *months.last().unwrap());
        assert_eq!(latest.states.len(), customers, "iteration {i}: a month is complete or absent");
        let runs = store.runs().unwrap();
        assert_eq!(runs.iter().filter(|r| r.status == RunStatus::Committed).count(), months.len());
    }
    // The next run succeeds.
    let next = months.last().unwrap().next();
    let out = fixture().args([loc, &next.to_string(), &customers.to_string()]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut store = Store::open(loc).unwrap();
    assert_eq!(store.committed_months().unwrap().len(), months.len() + 1);
    let abandoned = store.runs().unwrap().iter().filter(|r| r.status == RunStatus::Abandoned).count();
    println!(
        "{loc}: {iterations} kills over a {full_ms} ms run: {killed_before} before the commit landed, {completed} after; {abandoned} runs audited as abandoned"
    );
}

#[test]
fn sigkill_at_random_points_leaves_the_previous_or_the_complete_month_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kill.db");
    // 20,000 customers keep the test command fast; the 1M-customer month runs with
    // `CRMT_KILL_TEST_CUSTOMERS=1000000 cargo test --release -p crm-tiering-store sigkill` (the
    // figures are in the store's README).
    let customers = std::env::var("CRMT_KILL_TEST_CUSTOMERS").ok().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    kill_test(&path.display().to_string(), 50, customers);
    // No temp file outlives the runs: the store file, and at most its WAL and shared-memory
    // index (empty after a clean close).
    drop(Store::open(&path.display().to_string()).unwrap());
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| n == "kill.db" || n == "kill.db-wal" || n == "kill.db-shm"), "{names:?}");
}

#[test]
fn sigkill_at_random_points_leaves_the_previous_or_the_complete_month_postgres() {
    let f = fresh("kill");
    if let Some(pg) = f.locations.get(1) {
        kill_test(pg, 20, 5_000);
    }
}

#[test]
fn an_altered_stored_event_is_refused_naming_it_never_rounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let loc = path.display().to_string();
    let mut store = create(&loc);
    commit_month(&mut store, "2024-01", 500, false);
    assert!(!store.events(month("2024-01"), month("2024-01")).unwrap().is_empty());
    drop(store);
    // An amount finer than the fen in one stored event: whole fen is all an event can hold.
    let c = rusqlite::Connection::open(&path).unwrap();
    let changed = c
        .execute(
            "UPDATE events SET event = json_set(event, '$.evidence.aum', '1.005') \
             WHERE (month, customer_id, seq) IN (SELECT month, customer_id, seq FROM events LIMIT 1)",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(c);
    let mut store = Store::open(&loc).unwrap();
    let e = store.events(month("2024-01"), month("2024-01")).unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Corrupt);
    assert!(
        e.to_string().contains("a stored event does not decode: evidence aum 1.005 is not a whole number of fen"),
        "{e}"
    );
    drop(store);
    // An effective month that is not the month after.
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute("UPDATE events SET event = json_set(event, '$.evidence.aum', '1.00', '$.effective_from', '2024-03')", [])
        .unwrap();
    drop(c);
    let mut store = Store::open(&loc).unwrap();
    let e = store.events(month("2024-01"), month("2024-01")).unwrap_err();
    assert!(e.to_string().contains("effective_from 2024-03 is not the month after its month 2024-01"), "{e}");
}
