//! PostgreSQL only (when `CRMT_TEST_POSTGRES_URL` is set, by scripts/postgres-test-cluster.sh
//! with TLS and a password role group): libpq's `sslmode` and `sslrootcert` in the location,
//! and the password file given by `passfile`. Nothing here sets an environment variable (the
//! CLI's tests run the binary with PGPASSWORD, PGPASSFILE, PGSSLMODE and PGSSLROOTCERT).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

mod common;

use std::path::Path;

use common::{commit_month, fresh};
use crm_tiering_store::{Store, StoreErrorKind};

/// The server's URL and the cluster's CA and other CA; none (with a notice) without them.
fn tls_server() -> Option<(String, String, String)> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (var("CRMT_TEST_POSTGRES_URL"), var("CRMT_TEST_POSTGRES_CA"), var("CRMT_TEST_POSTGRES_OTHER_CA")) {
        (Some(u), Some(ca), Some(other)) => Some((u, ca, other)),
        _ => {
            println!(
                "notice: CRMT_TEST_POSTGRES_URL, CRMT_TEST_POSTGRES_CA or CRMT_TEST_POSTGRES_OTHER_CA is not set: \
                 the PostgreSQL connection tests are skipped (scripts/postgres-test-cluster.sh sets them)"
            );
            None
        }
    }
}

/// The host, port and user of a `postgres://user@host:port/db` URL.
fn parts(url: &str) -> (String, String, String) {
    let rest = url.split_once("://").unwrap().1;
    let (user, rest) = rest.split_once('@').unwrap();
    let (host, port) = rest.split_once('/').unwrap().0.split_once(':').unwrap();
    (host.to_string(), port.to_string(), user.to_string())
}

/// Whether every session of the store's database but the asker's uses TLS (none open: false).
fn sessions_use_tls(admin: &str, db: &str) -> bool {
    let mut c = postgres::Client::connect(admin, postgres::NoTls).unwrap();
    let r = c
        .query_one(
            "SELECT coalesce(bool_and(s.ssl), false) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.datname = $1 AND a.pid <> pg_backend_pid()",
            &[&db],
        )
        .unwrap();
    r.get(0)
}

#[test]
fn sslmode_require_verify_ca_verify_full_and_disable_connect_and_tls_is_used_but_with_disable() {
    let Some((admin, ca, _)) = tls_server() else { return };
    let f = fresh("pg_tls_modes");
    let (url, db) = (&f.locations[1], &f.pg_admin.as_ref().unwrap().1);
    let (host, port, user) = parts(url);
    let mut store = Store::create(&format!("{url}?sslmode=verify-full&sslrootcert={ca}")).unwrap();
    assert!(sessions_use_tls(&admin, db));
    commit_month(&mut store, "2024-01", 20, false);
    drop(store);
    let cases = [
        (format!("{url}?sslmode=require"), true),
        (format!("{url}?sslmode=verify-ca&sslrootcert={ca}"), true),
        (
            format!("postgres:host={host} port={port} user={user} dbname={db} sslmode=verify-full sslrootcert='{ca}'"),
            true,
        ),
        // The certificate names localhost and 127.0.0.1: another name is refused by verify-full
        // only.
        (
            format!(
                "postgres:host=crmt-other-name.invalid hostaddr={host} port={port} user={user} dbname={db} sslmode=verify-ca sslrootcert={ca}"
            ),
            true,
        ),
        (format!("{url}?sslmode=disable"), false),
        (format!("{url}?sslmode=prefer"), true),
        (url.clone(), true),
    ];
    for (loc, tls) in &cases {
        let mut store = Store::open_read_only(loc).unwrap_or_else(|e| panic!("{loc}: {e}"));
        assert_eq!(sessions_use_tls(&admin, db), *tls, "{loc}");
        assert_eq!(store.latest_states().unwrap().unwrap().states.len(), 20, "{loc}");
        assert_eq!(store.location().to_string(), *loc, "shown as given");
    }
}

#[test]
fn a_wrong_ca_or_host_name_is_a_certificate_error_naming_tls() {
    let Some((_, ca, other)) = tls_server() else { return };
    let f = fresh("pg_tls_wrong");
    let (url, db) = (&f.locations[1], &f.pg_admin.as_ref().unwrap().1);
    let (host, port, user) = parts(url);
    let cases = [
        (format!("{url}?sslmode=verify-full&sslrootcert={other}"), "certificate verify failed"),
        (format!("{url}?sslmode=verify-ca&sslrootcert={other}"), "certificate verify failed"),
        // As libpq: `require` with a root certificate checks the certificate against it.
        (format!("{url}?sslmode=require&sslrootcert={other}"), "certificate verify failed"),
        (
            format!(
                "postgres:host=crmt-other-name.invalid hostaddr={host} port={port} user={user} dbname={db} sslmode=verify-full sslrootcert={ca}"
            ),
            "hostname mismatch",
        ),
    ];
    for (loc, reason) in &cases {
        let e = Store::open(loc).unwrap_err();
        let shown = e.to_string();
        println!("{shown}");
        assert_eq!(e.kind(), StoreErrorKind::Database, "{shown}");
        assert!(shown.contains("connecting to the store"), "{shown}");
        assert!(shown.contains("TLS") && shown.contains(reason), "`{reason}` not in: {shown}");
    }
    // Refused before connecting: a mode libpq does not have, a missing root certificate.
    for (loc, reason) in [
        (format!("{url}?sslmode=verify"), "sslmode `verify` is none of"),
        (format!("{url}?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"), "/nonexistent/ca.pem does not exist"),
    ] {
        let e = Store::open(&loc).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Input, "{e}");
        assert!(e.to_string().contains(reason), "{e}");
    }
}

/// A role (a member of the cluster's password group) with a password, owning `db`; none (with
/// a notice) when the cluster has no such group.
fn password_role(admin: &str, db: &str, name: &str, password: &str) -> Option<String> {
    let Ok(group) = std::env::var("CRMT_TEST_POSTGRES_PASSWORD_GROUP") else {
        println!("notice: CRMT_TEST_POSTGRES_PASSWORD_GROUP is not set: the password tests are skipped");
        return None;
    };
    let role = format!("crmt_pw_{name}_{}", std::process::id());
    let mut c = postgres::Client::connect(admin, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE {group}; \
         ALTER DATABASE {db} OWNER TO {role}"
    ))
    .unwrap();
    Some(role)
}

fn drop_role(admin: &str, db: &str, role: &str) {
    let mut c = postgres::Client::connect(admin, postgres::NoTls).unwrap();
    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE); DROP ROLE IF EXISTS {role}"));
}

fn pgpass(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

#[test]
fn the_password_comes_from_the_password_file_which_others_must_not_read() {
    let Some((admin, _, _)) = tls_server() else { return };
    let f = fresh("pg_passfile");
    let (url, db) = (&f.locations[1], f.pg_admin.as_ref().unwrap().1.clone());
    let secret = "Pgpass-S3cret:with\\colon";
    let escaped = secret.replace('\\', "\\\\").replace(':', "\\:");
    let Some(role) = password_role(&admin, &db, "file", &secret.replace('\'', "''")) else { return };
    let (host, port, user) = parts(url);
    let as_role = url.replacen(&format!("{user}@"), &format!("{role}@"), 1);
    let file = f.dir.path().join("pgpass");
    let with_file = format!("{as_role}?passfile={}", file.display());
    // No password anywhere: the server's reason.
    let e = Store::create(&as_role).unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Database, "{e}");
    assert!(e.to_string().contains("password"), "{e}");
    // The first matching line wins.
    pgpass(
        &f.dir.path().join("pgpass"),
        &format!("# crm-tiering\n{host}:{port}:other_db:{role}:wrong\n{host}:*:{db}:{role}:{escaped}\n*:*:*:*:wrong\n"),
        0o600,
    );
    let mut store = Store::create(&with_file).unwrap_or_else(|e| panic!("{e}"));
    commit_month(&mut store, "2024-01", 10, false);
    drop(store);
    // A password in the location comes first; a wrong one is refused, never shown.
    let wrong = "Wr0ng-Passw0rd";
    let e = Store::open(&with_file.replacen(&format!("{role}@"), &format!("{role}:{wrong}@"), 1)).unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("password authentication failed"), "{shown}");
    assert!(!shown.contains(wrong) && !shown.contains("S3cret"), "a password in: {shown}");
    // A file the group or others may read is ignored, and the error says so.
    pgpass(&file, &format!("*:*:*:{role}:{escaped}\n"), 0o644);
    let e = Store::open(&with_file).unwrap_err();
    let shown = format!("{e} {e:?}");
    println!("{e}");
    assert!(shown.contains("was ignored") && shown.contains("chmod 0600"), "{shown}");
    assert!(!shown.contains("S3cret"), "a password in: {shown}");
    // A wrong password from the file is refused, never shown.
    pgpass(&file, &format!("*:*:*:{role}:{wrong}\n"), 0o600);
    let e = Store::open(&with_file).unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("password authentication failed") && !shown.contains(wrong), "{shown}");
    drop(f);
    drop_role(&admin, &db, &role);
}
