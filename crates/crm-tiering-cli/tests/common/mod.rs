//! What the CLI's end-to-end tests share: running the binary and writing small month files.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs the CLI with `args` and waits for it.
pub(crate) fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crm-tiering")).args(args).output().unwrap()
}

/// The exit code.
pub(crate) fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
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
