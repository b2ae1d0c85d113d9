//! A store has an identity: made only by `create`, a portfolio id, a chain of months checked
//! on every read (a deleted or edited month, state or head is damage, never an empty store),
//! read-only opens, schema 2 stores migrated. SQLite always; PostgreSQL when
//! `CRMT_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

mod common;

use common::{commit_month, create, fresh, is_pg, month, sql, sql_int};
use crm_tiering_store::{OpenMode, RunKind, RunStatus, Store, StoreError, StoreErrorKind, synthetic};

fn corrupt(e: StoreError, needle: &str) {
    assert_eq!(e.kind(), StoreErrorKind::Corrupt, "{e}");
    let m = e.to_string();
    assert!(m.starts_with("the store is damaged: "), "{m}");
    assert!(m.contains(needle), "`{needle}` not in: {m}");
}

#[test]
fn a_store_is_made_by_create_only_never_by_open() {
    let f = fresh("create_only");
    for loc in &f.locations {
        let e = Store::open(loc).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Missing, "{e}");
        assert!(e.to_string().contains("crm-tiering init --store"), "{e}");
        let e = Store::open_read_only(loc).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Missing, "{e}");
        if !is_pg(loc) {
            assert!(e.to_string().contains(&format!("no store at {loc}: the file does not exist")), "{e}");
            assert!(!std::path::Path::new(loc).exists(), "open made a file");
        }
        let mut store = create(loc);
        let id = store.portfolio_id().to_string();
        assert_eq!(id.len(), 32);
        assert!(store.committed_months().unwrap().is_empty());
        assert!(store.head().unwrap().is_none());
        commit_month(&mut store, "2024-01", 50, false);
        drop(store);
        let e = Store::create(loc).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Exists, "{e}");
        let mut again = Store::open(loc).unwrap();
        assert_eq!(again.portfolio_id(), id, "the id is the store's");
        assert_eq!(again.committed_months().unwrap(), vec![month("2024-01")]);
        let other = f.dir.path().join(format!("other-{}.db", id)).display().to_string();
        assert_ne!(create(&other).portfolio_id(), id, "each store its own portfolio id");
    }
}

#[test]
fn an_empty_cut_or_foreign_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let loc = path.display().to_string();
    let mut store = create(&loc);
    for m in ["2024-01", "2024-02"] {
        commit_month(&mut store, m, 2000, false);
    }
    drop(store);
    let whole = std::fs::read(&path).unwrap();

    // Cut to nothing: damage, never a new empty portfolio; and `create` does not overwrite it.
    std::fs::write(&path, b"").unwrap();
    let e = Store::open(&loc).unwrap_err();
    corrupt(e, &format!("the store file {loc} is empty (0 bytes)"));
    let e = Store::open_read_only(&loc).unwrap_err();
    assert!(e.to_string().contains("crm-tiering init --store"), "{e}");
    assert_eq!(Store::create(&loc).unwrap_err().kind(), StoreErrorKind::Exists);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "untouched");

    // Cut in the middle.
    std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
    let e = Store::open(&loc).unwrap_err();
    corrupt(e, "is cut short");
    assert_eq!(std::fs::read(&path).unwrap().len(), whole.len() / 2, "untouched");

    // Not SQLite at all (a CSV given as --store).
    std::fs::write(&path, "month,customer_id,aum\n2024-01,c1,100\n".repeat(10)).unwrap();
    let e = Store::open(&loc).unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Schema, "{e}");
    assert!(e.to_string().contains("is not a crm-tiering store"), "{e}");

    // Whole again: fine.
    std::fs::write(&path, &whole).unwrap();
    assert_eq!(Store::open(&loc).unwrap().committed_months().unwrap().len(), 2);
}

/// A store of three committed months of 2,000 customers (several blocks on SQLite).
fn three_months(loc: &str) -> Store {
    let mut store = create(loc);
    for m in ["2024-01", "2024-02", "2024-03"] {
        commit_month(&mut store, m, 2000, false);
    }
    store
}

/// Damages a fresh store with `damage` (SQL) and returns the error of `read`.
fn damaged(loc: &str, damage: &str, read: impl Fn(&str) -> Result<(), StoreError>) -> StoreError {
    if is_pg(loc) {
        let name = loc.rsplit('/').next().unwrap().to_string();
        let admin = std::env::var("CRMT_TEST_POSTGRES_URL").unwrap();
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    } else {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{loc}{suffix}"));
        }
    }
    drop(three_months(loc));
    sql(loc, damage);
    read(loc).expect_err(&format!("`{damage}` was not found"))
}

fn open(loc: &str) -> Result<(), StoreError> {
    Store::open(loc).map(|_| ())
}

fn latest(loc: &str) -> Result<(), StoreError> {
    Store::open(loc)?.latest_states().map(|_| ())
}

#[test]
fn deleted_or_edited_months_and_heads_are_damage_never_an_empty_store() {
    let f = fresh("damage_chain");
    for loc in &f.locations {
        // A month's record deleted from the middle: the next month no longer chains.
        let e = damaged(loc, "DELETE FROM months WHERE month = 202402", open);
        corrupt(e, "month 2024-03 does not chain on the month before it");
        // The latest month's record deleted: the head names it still.
        let e = damaged(loc, "DELETE FROM months WHERE month = 202403", open);
        corrupt(e, "the store's head names 2024-03");
        // Every month deleted: never an empty store.
        let e = damaged(loc, "DELETE FROM months", open);
        corrupt(e, "but no committed month");
        let e = damaged(loc, "DELETE FROM months", |l| Store::open_read_only(l).map(|_| ()));
        corrupt(e, "the store's head names 2024-03");
        // The head deleted.
        let e = damaged(loc, "DELETE FROM meta WHERE key IN ('head_month', 'head_digest')", open);
        corrupt(e, "the store's head (meta `head_month`, `head_digest`) is missing");
        // A month's record edited.
        let e = damaged(loc, "UPDATE months SET states_count = states_count - 1 WHERE month = 202402", open);
        corrupt(e, "the record of month 2024-02 does not match its digest");
        // The first month's record deleted: the second does not chain on the start.
        let e = damaged(loc, "DELETE FROM months WHERE month = 202401", open);
        corrupt(e, "month 2024-02 does not chain on the month before it: it records");
        corrupt(damaged(loc, "DELETE FROM months WHERE month = 202401", open), "but the start of the store has");
        // The committing run deleted from the audit.
        let e = damaged(loc, "DELETE FROM runs WHERE month = 202402", open);
        corrupt(e, "month 2024-02 was committed by run 2, which is not in the audit");
        // The store's identity deleted.
        let e = damaged(loc, "DELETE FROM meta WHERE key = 'portfolio_id'", open);
        corrupt(e, "the store has no portfolio id");
    }
}

#[test]
fn deleted_or_edited_states_are_damage_naming_the_month() {
    let f = fresh("damage_states");
    for loc in &f.locations {
        let (delete, edit) = if is_pg(loc) {
            (
                "DELETE FROM states WHERE month = 202403 AND customer_id = '62210000001500'",
                "UPDATE states SET state = overlay(state placing '\\x01'::bytea from 47 for 1) \
                 WHERE month = 202403 AND customer_id = '62210000001500'",
            )
        } else {
            (
                "DELETE FROM state_blocks WHERE month = 202403 AND block = 1",
                "UPDATE state_blocks SET states = CAST(substr(states, 1, 46) || x'01' || substr(states, 48) AS BLOB) \
                 WHERE month = 202403 AND block = 1",
            )
        };
        let e = damaged(loc, delete, latest);
        corrupt(e, "the states of 2024-03: ");
        // The month's last customers gone: fewer states than the month records.
        let last = if is_pg(loc) {
            "DELETE FROM states WHERE month = 202403 AND customer_id = (SELECT max(customer_id) FROM states WHERE month = 202403)"
        } else {
            "DELETE FROM state_blocks WHERE month = 202403 AND block = (SELECT max(block) FROM state_blocks WHERE month = 202403)"
        };
        let e = damaged(loc, last, latest);
        corrupt(e, "where the month records 2000 with checksum");
        // Reading one customer's story finds the missing month, never a shorter story.
        let e = damaged(loc, delete, |l| Store::open(l)?.customer_history(&synthetic::customer_id(1500)).map(|_| ()));
        corrupt(e, "has a state in 2024-02 but none in 2024-03");
        let e = damaged(loc, delete, |l| {
            Store::open(l)?.for_each_state(month("2024-01"), month("2024-03"), &mut |_| Ok(()))
        });
        corrupt(e, "the states of 2024-03");
        let e = damaged(loc, delete, |l| Store::open(l)?.verify().map(|_| ()));
        corrupt(e, "the states of 2024-03");
        // One byte of one state edited (a reserved byte no decoder looks at): the checksum
        // finds it.
        let e = damaged(loc, edit, latest);
        corrupt(e, "with checksum");
        // The month before is still read as it was.
        let mut store = Store::open(loc).unwrap();
        assert_eq!(store.states_before(month("2024-03")).unwrap().unwrap().states.len(), 2000);
        // Events of a month deleted: the month's rows no longer match.
        let e = damaged(
            loc,
            "DELETE FROM events WHERE month = 202401 AND customer_id IN (SELECT min(customer_id) FROM events WHERE month = 202401)",
            |l| Store::open(l)?.events(month("2024-01"), month("2024-01")).map(|_| ()),
        );
        corrupt(e, "the events of month 2024-01: ");
    }
}

#[test]
fn an_edited_block_count_is_damage_never_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let loc = dir.path().join("s.db").display().to_string();
    for count in ["1099511627776", "9223372036854775807", "-1", "3", "0"] {
        let e = damaged(
            &loc,
            &format!("UPDATE state_blocks SET customers = {count} WHERE month = 202403 AND block = 1"),
            latest,
        );
        corrupt(e, "block 1 of the states of 2024-03");
        let e = damaged(
            &loc,
            &format!("UPDATE state_blocks SET customers = {count} WHERE month = 202403 AND block = 1"),
            |l| Store::open(l)?.customer_history(&synthetic::customer_id(1500)).map(|_| ()),
        );
        corrupt(e, "block 1 of the states of 2024-03");
    }
    // The id ends and the blobs' lengths.
    for edit in [
        "id_ends = substr(id_ends, 1, 10)",
        "id_ends = CAST(x'ffff' || substr(id_ends, 3) AS BLOB)",
        "id_ends = 'text'",
        "ids = substr(ids, 1, 100)",
        "states = substr(states, 1, length(states) - 1)",
        "states = CAST(states || x'00' AS BLOB)",
    ] {
        let e = damaged(&loc, &format!("UPDATE state_blocks SET {edit} WHERE month = 202403 AND block = 1"), latest);
        corrupt(e, "block 1 of the states of 2024-03");
    }
}

#[test]
fn the_seeds_and_mutated_blocks_decode_or_fail_never_panic() {
    use crm_tiering_store::fuzzing::{block_of, decode_block, frame};
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/store_blocks");
    let mut n = 0;
    for entry in std::fs::read_dir(&seeds).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let _ = decode_block(&bytes);
        n += 1;
    }
    assert!(n >= 8, "{n} seeds in {}", seeds.display());
    let rows: Vec<(String, [u8; 64])> = (0..40)
        .map(|i| {
            let mut row = [0u8; 64];
            row[0] = 1;
            row[1] = 1;
            row[4] = 1;
            row[5] = 1;
            row[3] = 8;
            row[12..16].copy_from_slice(&202401u32.to_be_bytes());
            (format!("c{i:04}"), row)
        })
        .collect();
    let good = block_of(&rows);
    assert_eq!(decode_block(&good).unwrap(), 40);
    // Every single byte changed to a few values, and every count.
    let mut refused = 0;
    for at in 0..good.len() {
        for byte in [0u8, 1, 0x7f, 0xff] {
            let mut b = good.clone();
            b[at] = byte;
            refused += usize::from(decode_block(&b).is_err());
        }
    }
    assert!(refused > 100, "{refused}");
    let len = |at: usize| u32::from_be_bytes([good[at], good[at + 1], good[at + 2], good[at + 3]]) as usize;
    let (e, i) = (16 + len(8), 16 + len(8) + len(12));
    let (ends, ids, states) = (&good[16..e], &good[e..i], &good[i..]);
    assert_eq!(decode_block(&frame(40, ends, ids, states)).unwrap(), 40);
    for customers in [i64::MIN, -1, 0, 39, 41, 1024, 1025, 1 << 40, i64::MAX] {
        assert!(decode_block(&frame(customers, ends, ids, states)).is_err(), "{customers}");
    }
}

/// The schema 2 store the previous release wrote (`tests/data/schema2/`, see its README): a
/// copy, on SQLite or loaded into a fresh PostgreSQL database.
fn schema2_store(loc: &str) {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schema2");
    if is_pg(loc) {
        sql(loc, &std::fs::read_to_string(data.join("postgres.sql")).unwrap());
    } else {
        std::fs::copy(data.join("store.db"), loc).unwrap();
    }
}

#[test]
fn a_schema_2_store_of_the_previous_release_is_migrated_with_its_chain() {
    let f = fresh("schema2");
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schema2");
    for loc in &f.locations {
        schema2_store(loc);
        // A read-only open never migrates: it says how.
        let e = Store::open_read_only(loc).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Schema, "{e}");
        let upgrade =
            format!("has schema version 2 and must be upgraded to version {}", crm_tiering_store::SCHEMA_VERSION);
        assert!(e.to_string().contains(&upgrade), "{e}");
        assert!(e.to_string().contains("crm-tiering migrate --store"), "{e}");
        assert_eq!(sql_int(loc, "SELECT count(*) FROM meta WHERE key = 'portfolio_id'"), 0, "nothing changed");

        let mut store = Store::open(loc).unwrap();
        assert_eq!(store.portfolio_id().len(), 32);
        let months = store.verify().unwrap();
        assert_eq!(
            months.iter().map(|r| r.month).collect::<Vec<_>>(),
            vec![month("2024-01"), month("2024-02"), month("2024-03")]
        );
        assert_eq!(months.iter().map(|r| r.states.count).collect::<Vec<_>>(), vec![40, 40, 40]);
        assert_eq!(months.iter().map(|r| r.rejects.count).sum::<u64>(), 1);
        assert_eq!(months[2].run_id, 4, "2024-03 committed by run 4");
        assert_eq!(store.head().unwrap().unwrap().digest, months[2].digest);
        // Every month's states as the previous release exported them.
        for (k, m) in ["2024-01", "2024-02", "2024-03"].iter().enumerate() {
            let l = store.states_before(month(m).next()).unwrap().unwrap();
            let book = crm_tiering::RuleBook::from_str_auto(&store.run_rule_book(l.run_id).unwrap().unwrap()).unwrap();
            let expected = std::fs::read_to_string(data.join(format!("states-{m}.jsonl"))).unwrap();
            assert_eq!(l.states.to_jsonl(&book), expected, "{m}");
            assert_eq!(l.run_id, months[k].run_id);
        }
        assert_eq!(store.events(month("2024-01"), month("2024-03")).unwrap().len(), 25);
        assert_eq!(store.alerts(month("2024-01"), month("2024-03")).unwrap().len(), 9);
        let rejects = store.rejects(month("2024-03"), month("2024-03")).unwrap();
        assert_eq!(rejects.len(), 1);
        assert_eq!(rejects[0].customer_id.as_deref(), Some("c0007"));
        let runs = store.runs().unwrap();
        let statuses: Vec<_> = runs.iter().map(|r| (r.status, r.kind)).collect();
        assert_eq!(
            statuses,
            vec![
                (RunStatus::Committed, RunKind::Month),
                (RunStatus::Replaced, RunKind::Month),
                (RunStatus::Committed, RunKind::Month),
                (RunStatus::Committed, RunKind::Month)
            ]
        );
        // Events and alerts carry the run of their month.
        assert_eq!(sql_int(loc, "SELECT count(*) FROM events WHERE run_id IS NULL"), 0);
        assert_eq!(
            sql_int(loc, "SELECT count(*) FROM events WHERE month = 202402 AND run_id = 3"),
            sql_int(loc, "SELECT count(*) FROM events WHERE month = 202402")
        );
        // The chain goes on: April from March's states.
        let rows: Vec<(String, String)> =
            (1..=40).map(|i| (format!("c{i:04}"), format!("{}.00", 100_000 + i * 9_000))).collect();
        let rows: Vec<(&str, &str, &str)> = rows.iter().map(|(c, a)| ("2024-04", c.as_str(), a.as_str())).collect();
        let run = common::commit_rows(&mut store, "2024-04", &rows, false);
        assert_eq!(run.status, RunStatus::Committed);
        let months = store.verify().unwrap();
        assert_eq!(months.len(), 4);
        assert_eq!(months[3].previous, months[2].digest);
        drop(store);
        // Read-only now that it is upgraded.
        let mut ro = Store::open_read_only(loc).unwrap();
        assert_eq!(ro.committed_months().unwrap().len(), 4);
    }
}

#[test]
fn a_read_only_store_opens_read_only_and_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("s.db");
    let loc = src.display().to_string();
    let mut store = create(&loc);
    for m in ["2024-01", "2024-02"] {
        commit_month(&mut store, m, 1000, false);
    }
    let expected = store.latest_states().unwrap().unwrap().states;
    let history = store.customer_history(&synthetic::customer_id(7)).unwrap();
    drop(store);

    // A copy the user cannot write: file 0444 in a directory 0555.
    use std::os::unix::fs::PermissionsExt;
    let ro_dir = dir.path().join("ro");
    std::fs::create_dir(&ro_dir).unwrap();
    let copy = ro_dir.join("s.db");
    std::fs::copy(&src, &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&ro_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let cloc = copy.display().to_string();
    let e = Store::open(&cloc).unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::ReadOnly, "{e}");
    let mut ro = Store::open_with(&cloc, OpenMode::ReadOnly).unwrap();
    assert!(ro.is_read_only());
    assert_eq!(ro.latest_states().unwrap().unwrap().states.iter().count(), expected.len());
    assert_eq!(ro.customer_history(&synthetic::customer_id(7)).unwrap(), history);
    assert_eq!(ro.verify().unwrap().len(), 2);
    let (_, meta) = synthetic::default_meta(false).unwrap();
    let e = ro.begin_month(month("2024-03"), meta).unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::ReadOnly, "{e}");
    assert!(e.to_string().contains("was opened read-only"), "{e}");
    let e = ro.rollback_month(month("2024-02"), "test").unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::ReadOnly, "{e}");
    drop(ro);
    assert_eq!(std::fs::read(&copy).unwrap(), before, "the store file is unchanged");
    std::fs::set_permissions(&ro_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Mounts a small tmpfs (root only); none when not permitted.
fn tmpfs(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let m = dir.join("mnt");
    std::fs::create_dir_all(&m).ok()?;
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs", m.to_str()?])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(m)
}

fn remount_read_only(m: &std::path::Path) -> bool {
    std::process::Command::new("mount")
        .args(["-o", "remount,ro", m.to_str().unwrap_or_default()])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_store_on_a_read_only_file_system_reads_its_wal_or_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let Some(m) = tmpfs(dir.path()) else {
        println!("notice: cannot mount a tmpfs here (not root?): the read-only file system test is skipped");
        return;
    };
    let result = std::panic::catch_unwind(|| {
        let loc = m.join("s.db").display().to_string();
        let mut store = create(&loc);
        commit_month(&mut store, "2024-01", 500, false);
        // A reader holds the WAL open across the next commit, so February stays in the WAL
        // (its checkpoint cannot complete), as a copy taken while the store is in use would.
        let reader = rusqlite::Connection::open(&loc).unwrap();
        reader.execute_batch("BEGIN; SELECT count(*) FROM months;").unwrap();
        commit_month(&mut store, "2024-02", 500, false);
        drop(store);
        let copies = dir.path().join("copies");
        std::fs::create_dir(&copies).unwrap();
        for suffix in ["", "-wal", "-shm"] {
            std::fs::copy(format!("{loc}{suffix}"), copies.join(format!("s.db{suffix}"))).unwrap();
        }
        drop(reader);
        // Only the file and its WAL (no shared-memory file), on the read-only file system.
        let only_wal = m.join("only-wal.db").display().to_string();
        std::fs::copy(copies.join("s.db"), &only_wal).unwrap();
        std::fs::copy(copies.join("s.db-wal"), format!("{only_wal}-wal")).unwrap();
        assert!(std::fs::metadata(format!("{only_wal}-wal")).unwrap().len() > 0);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{loc}{suffix}"));
            std::fs::copy(copies.join(format!("s.db{suffix}")), format!("{loc}{suffix}")).unwrap();
        }
        assert!(remount_read_only(&m), "remount read-only");
        // With its WAL and shared-memory file: February, which is in the WAL, is read.
        let mut ro = Store::open_read_only(&loc).unwrap();
        assert_eq!(ro.committed_months().unwrap(), vec![month("2024-01"), month("2024-02")]);
        assert_eq!(ro.latest_states().unwrap().unwrap().month, month("2024-02"));
        drop(ro);
        // Without the shared-memory file the WAL cannot be read: refused, never the store as it
        // was before February.
        match Store::open_read_only(&only_wal) {
            Err(e) => {
                assert_eq!(e.kind(), StoreErrorKind::ReadOnly, "{e}");
                assert!(e.to_string().contains("only-wal.db-wal"), "{e}");
            }
            Ok(mut s) => assert_eq!(s.committed_months().unwrap().len(), 2, "the WAL was read"),
        }
    });
    let _ = std::process::Command::new("umount").arg(&m).status();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
