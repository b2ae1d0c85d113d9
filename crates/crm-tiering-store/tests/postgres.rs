//! PostgreSQL only (when `CRMT_TEST_POSTGRES_URL` is set): read-only connections, the
//! driver's reasons in errors, and no password anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

mod common;

use common::{commit_month, create, fresh, month, pg_url};
use crm_tiering_store::{Store, StoreErrorKind, StoreLocation, synthetic};

fn server() -> Option<String> {
    match std::env::var("CRMT_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            println!("notice: CRMT_TEST_POSTGRES_URL is not set: the PostgreSQL-only tests are skipped");
            None
        }
    }
}

#[test]
fn a_role_that_cannot_write_and_a_read_only_session_open_read_only() {
    let Some(admin) = server() else { return };
    let f = fresh("pg_read_only");
    let loc = &f.locations[1];
    let mut store = create(loc);
    commit_month(&mut store, "2024-01", 300, false);
    let expected = store.latest_states().unwrap().unwrap().states.len();
    drop(store);
    let role = format!("crmt_reader_{}", std::process::id());
    let db = f.pg_admin.as_ref().unwrap().1.clone();
    let mut c = postgres::Client::connect(loc, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN; GRANT CONNECT ON DATABASE {db} TO {role}; \
         GRANT USAGE ON SCHEMA public TO {role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};"
    ))
    .unwrap();
    let user = admin.split_once("://").map(|(_, r)| r.split_once('@').map_or("", |(u, _)| u)).unwrap().to_string();
    let as_reader = pg_url(&admin, &db).replacen(&format!("{user}@"), &format!("{role}@"), 1);
    let read_only_session = format!("{loc}?options=-c%20default_transaction_read_only%3Don");
    for l in [&as_reader, &read_only_session] {
        let mut ro = Store::open_read_only(l).unwrap();
        assert_eq!(ro.latest_states().unwrap().unwrap().states.len(), expected, "{l}");
        assert_eq!(ro.verify().unwrap().len(), 1);
        assert!(ro.customer_history(&synthetic::customer_id(3)).unwrap().states.len() == 1);
        drop(ro);
        // Opened for writing, the first write is refused as read-only, nothing written.
        let mut rw = Store::open(l).unwrap();
        let (_, meta) = synthetic::default_meta(false).unwrap();
        let e = rw.begin_month(month("2024-02"), meta).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::ReadOnly, "{l}: {e}");
        assert!(e.to_string().contains("cannot be written"), "{e}");
    }
    assert_eq!(Store::open(loc).unwrap().runs().unwrap().len(), 1, "no run recorded");
    drop(c);
    let mut c = postgres::Client::connect(loc, postgres::NoTls).unwrap();
    let _ = c.batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE IF EXISTS {role}"));
}

#[test]
fn errors_keep_the_drivers_reason_and_never_a_password() {
    let Some(admin) = server() else { return };
    let secret = "Sup3r-Secret-pw";
    let (host_port, user) = {
        let rest = admin.split_once("://").unwrap().1;
        let (user, rest) = rest.split_once('@').unwrap();
        (rest.split_once('/').unwrap().0.to_string(), user.to_string())
    };
    let (host, port) = host_port.split_once(':').unwrap();
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cases = [
        (format!("postgres://{user}:{secret}@{host}:{closed}/postgres"), "refused"),
        (
            format!("postgres://{user}:{secret}@{host_port}/crmt_no_such_db"),
            "database \"crmt_no_such_db\" does not exist",
        ),
        (format!("postgresql://{user}@{host_port}/crmt_no_such_db?password={secret}"), "does not exist"),
        (
            format!("postgres:host={host} port={port} user={user} password={secret} dbname=crmt_no_such_db"),
            "does not exist",
        ),
        (
            format!("postgres:host={host} port={port} user=crmt_no_such_role password='{secret} x' dbname=postgres"),
            "role \"crmt_no_such_role\" does not exist",
        ),
    ];
    for (loc, reason) in &cases {
        let e = Store::open(loc).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Database, "{e}");
        let (shown, debug) = (e.to_string(), format!("{e:?}"));
        assert!(shown.to_lowercase().contains(reason), "`{reason}` not in: {shown}");
        assert!(!shown.contains("db error") || shown.contains(reason), "{shown}");
        for text in [&shown, &debug] {
            assert!(!text.contains(secret) && !text.contains("Sup3r"), "a password in: {text}");
        }
        let l = StoreLocation::parse(loc).unwrap();
        for text in [l.to_string(), format!("{l:?}")] {
            assert!(!text.contains("Sup3r"), "a password in: {text}");
            assert!(text.contains("***"), "{text}");
        }
        println!("{shown}");
    }
    // A store opened with a password (ignored by the test server's trust authentication):
    // nothing shows it.
    let f = fresh("pg_secret");
    let db = &f.pg_admin.as_ref().unwrap().1;
    let with_password = format!("postgres://{user}:{secret}@{host_port}/{db}");
    let mut store = Store::create(&with_password).unwrap();
    commit_month(&mut store, "2024-01", 10, false);
    for text in [format!("{store:?}"), store.location().to_string()] {
        assert!(!text.contains("Sup3r") && text.contains("***"), "{text}");
    }
    let e = store.begin_month(month("2024-01"), synthetic::default_meta(false).unwrap().1).unwrap_err();
    assert!(!e.to_string().contains("Sup3r"));
    let runs = store.runs().unwrap();
    assert!(!format!("{runs:?}").contains("Sup3r"));
}

#[test]
fn states_whose_rows_no_longer_lie_in_id_order_are_read_in_order() {
    let Some(_) = server() else { return };
    let f = fresh("pg_row_order");
    let loc = &f.locations[1];
    let mut store = create(loc);
    commit_month(&mut store, "2024-01", 2000, false);
    let before = store.latest_states().unwrap().unwrap().states;
    // Updated rows move to the end of the table: a scan now gives the first customers last.
    common::sql(loc, "UPDATE states SET state = state WHERE customer_id < '62210000000100'");
    let mut c = postgres::Client::connect(loc, postgres::NoTls).unwrap();
    let scan: Vec<String> =
        c.query("SELECT customer_id FROM states WHERE month = 202401", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    assert!(scan.windows(2).any(|w| w[0] > w[1]), "a scan gives the rows out of id order");
    let after = store.latest_states().unwrap().unwrap().states;
    assert_eq!(after.len(), before.len());
    let ids: Vec<&str> = after.customers().map(|c| c.id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "read in id order");
    for (c, s) in before.iter() {
        assert_eq!(after.get(c.id), Some((c, s)));
    }
    assert_eq!(store.verify().unwrap().len(), 1);
}
