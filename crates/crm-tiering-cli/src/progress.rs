//! A small progress bar on stderr, shown only when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Progress over a known number of steps.
pub(crate) struct Progress {
    enabled: bool,
    total: usize,
    start: Instant,
}

impl Progress {
    /// A bar over `total` steps; silent unless stderr is a terminal.
    pub(crate) fn new(total: usize) -> Self {
        Progress { enabled: std::io::stderr().is_terminal(), total: total.max(1), start: Instant::now() }
    }

    /// Shows `done` of the total with a label.
    pub(crate) fn set(&self, done: usize, label: &str) {
        if !self.enabled {
            return;
        }
        const WIDTH: usize = 30;
        let filled = done.min(self.total) * WIDTH / self.total;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {done}/{} {label} ({}s)\x1b[K",
            "#".repeat(filled),
            " ".repeat(WIDTH - filled),
            self.total,
            self.start.elapsed().as_secs()
        );
        let _ = err.flush();
    }

    /// Clears the bar.
    pub(crate) fn finish(&self) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}
