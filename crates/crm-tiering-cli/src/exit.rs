//! Exit codes and the failures that carry them.

use std::process::ExitCode;

/// The documented exit codes (see `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Success.
    Ok = 0,
    /// An internal error, such as an output file that cannot be written.
    Internal = 1,
    /// Invalid arguments or an unreadable input file.
    Usage = 2,
    /// An invalid rule book.
    Rules = 3,
    /// Bad input rows or headers; nothing written.
    BadInput = 4,
    /// The engine rejected some customers; nothing written.
    EngineErrors = 5,
    /// Completed with rejects (`--skip-bad-rows`).
    Rejects = 6,
    /// Another run holds the store's lock; nothing written.
    Locked = 7,
    /// The month is committed already (without `--rerun`) or out of order with the committed
    /// months; nothing written.
    Committed = 8,
    /// The store's schema is of another version, it is not a store, or it is read-only.
    StoreSchema = 9,
    /// The store is damaged: a month, state, row or head deleted or edited, a file cut short.
    Damaged = 10,
}

impl Exit {
    pub(crate) fn code(self) -> ExitCode {
        ExitCode::from(self as u8)
    }
}

/// A command that failed: the exit code and the message for stderr.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) exit: Exit,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure { exit, message: message.into() }
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Failure::new(Exit::Internal, message)
    }

    pub(crate) fn print(&self) {
        eprintln!("error: {}", self.message);
    }
}

/// Lists `errors` on stderr, one a line, and fails with `exit`: "N `what`; nothing was written".
pub(crate) fn listed(exit: Exit, errors: &[impl std::fmt::Display], what: &str) -> Failure {
    for e in errors {
        eprintln!("error: {e}");
    }
    Failure::new(exit, format!("{} {what}; nothing was written", errors.len()))
}

/// An I/O error on a file, with its path.
pub(crate) fn io_error(exit: Exit, path: &std::path::Path, what: &str, e: &std::io::Error) -> Failure {
    Failure::new(exit, format!("{}: cannot {what}: {e}", path.display()))
}
