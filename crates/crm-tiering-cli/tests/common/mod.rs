//! What the CLI's end-to-end tests share: running the binary and writing small month files.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

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
