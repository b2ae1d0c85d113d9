//! What the CLI's end-to-end tests share: running the binary, writing small month files, and
//! the stores a test runs on.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

/// The CLI, as a command to configure.
pub(crate) fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crm-tiering"))
}

/// Runs the CLI with `args` and waits for it.
pub(crate) fn cli(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

/// The exit code (-1 for a process ended by a signal).
pub(crate) fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// The standard error, as text.
pub(crate) fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The standard output, as text.
pub(crate) fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A path as an argument.
pub(crate) fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Writes `dir/name` as an AUM file (month, customer_id, aum) of `rows`; returns its path.
pub(crate) fn month_file(dir: &Path, name: &str, rows: &[(&str, &str, &str)]) -> String {
    let mut text = String::from("month,customer_id,aum\n");
    for (m, id, aum) in rows {
        text.push_str(&format!("{m},{id},{aum}\n"));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    p(&path).to_string()
}

/// A month of `n` customers (ids c0000001...), AUM around the entry threshold.
pub(crate) fn month_csv(path: &Path, month: &str, n: u32, seed: u32) {
    let mut s = String::with_capacity(n as usize * 40);
    s.push_str("month,customer_id,legal_entity,aum\n");
    for i in 1..=n {
        let aum = 150_000 + (i.wrapping_mul(7919).wrapping_add(seed * 104_729) % 120_000);
        let _ = writeln!(s, "{month},c{i:07},620101,{aum}.{:02}", i % 100);
    }
    std::fs::write(path, s).unwrap();
}

/// The store locations of a test: a SQLite file in its own directory, and a fresh PostgreSQL
/// database when `CRMT_TEST_POSTGRES_URL` names a server (dropped with the value).
pub(crate) struct Stores {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) locations: Vec<String>,
    pub(crate) pg: Option<(String, String)>,
}

impl Drop for Stores {
    fn drop(&mut self) {
        if let Some((url, db)) = &self.pg
            && let Ok(mut c) = postgres::Client::connect(url, postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        }
    }
}

/// [`Stores`] for the test `name`; the PostgreSQL database is `{prefix}_{name}_{pid}`.
pub(crate) fn stores(prefix: &str, name: &str) -> Stores {
    let dir = tempfile::tempdir().unwrap();
    let mut locations = vec![dir.path().join("crm-tiering.db").display().to_string()];
    let mut pg = None;
    match std::env::var("CRMT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let db = format!("{prefix}_{name}_{}", std::process::id());
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).unwrap();
            c.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
            let base = url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
            locations.push(format!("{base}/{db}"));
            pg = Some((url, db));
        }
        _ => println!("notice: CRMT_TEST_POSTGRES_URL is not set: {name} runs on SQLite only"),
    }
    Stores { dir, locations, pg }
}
