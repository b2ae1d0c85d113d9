//! The values the store takes and gives.

use std::io::Read;
use std::path::Path;

use crm_tiering::portfolio::{PortfolioStates, RecordError};
use crm_tiering::{Alert, Customer, CustomerState, Decimal, Event, Month};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// An input file of a run, for the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// What the file is (`aum`, `daily`, `designations`, `rules`, ...).
    pub role: String,
    /// Its path as given.
    pub path: String,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// Data rows read from it.
    pub rows: u64,
}

impl InputFile {
    /// Reads a file to compute its SHA-256; `rows` is the count of data rows the caller read.
    ///
    /// # Errors
    /// [`StoreErrorKind::Input`](crate::StoreErrorKind::Input) when the file cannot be read.
    pub fn digest(role: &str, path: &Path, rows: u64) -> Result<Self, StoreError> {
        use sha2::Digest;
        let mut f = std::fs::File::open(path)
            .map_err(|e| StoreError::Input(format!("cannot read {} for its digest: {e}", path.display())))?;
        let mut h = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f
                .read(&mut buf)
                .map_err(|e| StoreError::Input(format!("cannot read {} for its digest: {e}", path.display())))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        let sha256 = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(InputFile { role: role.into(), path: path.display().to_string(), sha256, rows })
    }
}

/// What the caller tells the store about a run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunMeta {
    /// The tool and its version, such as `crm-tiering 0.1.0`.
    pub tool_version: String,
    /// The rule book's fingerprint (`RuleBook::fingerprint`).
    pub rule_book_fingerprint: String,
    /// The rule book's full text, as read.
    pub rule_book_text: String,
    /// The input files.
    pub inputs: Vec<InputFile>,
    /// Replace the month when it is committed already.
    pub rerun: bool,
}

impl RunMeta {
    /// A run with a tool version and rule book, no inputs, not a rerun.
    pub fn new(tool_version: &str, rule_book_fingerprint: &str, rule_book_text: &str) -> Self {
        RunMeta {
            tool_version: tool_version.into(),
            rule_book_fingerprint: rule_book_fingerprint.into(),
            rule_book_text: rule_book_text.into(),
            inputs: Vec::new(),
            rerun: false,
        }
    }
}

/// Where a run stands in the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Holding the lock now (or killed while holding it, until the next run notices).
    Running,
    /// Its month is committed and current.
    Committed,
    /// Committed, then replaced by a rerun.
    Replaced,
    /// Gave up without committing (an error, or dropped).
    Aborted,
    /// Found `running` by a later run after its process had died (killed, crashed).
    Abandoned,
}

impl RunStatus {
    /// The code stored in `runs.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Committed => "committed",
            RunStatus::Replaced => "replaced",
            RunStatus::Aborted => "aborted",
            RunStatus::Abandoned => "abandoned",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "running" => RunStatus::Running,
            "committed" => RunStatus::Committed,
            "replaced" => RunStatus::Replaced,
            "aborted" => RunStatus::Aborted,
            "abandoned" => RunStatus::Abandoned,
            other => return Err(StoreError::Corrupt(format!("unknown run status `{other}`"))),
        })
    }
}

/// What a committed run wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RunCounts {
    /// Customer states written.
    pub states: u64,
    /// Customers evaluated (the others were held).
    pub evaluated: u64,
    /// Events.
    pub events: u64,
    /// Alerts.
    pub alerts: u64,
    /// Rejects (held customers and refused records).
    pub rejects: u64,
}

/// A run in the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// The run's id, increasing.
    pub run_id: i64,
    /// The month it wrote.
    pub month: Month,
    /// Its status.
    pub status: RunStatus,
    /// When it took the lock (UTC, RFC 3339, read from the clock by the store).
    pub started_at: String,
    /// When it committed or gave up.
    pub finished_at: Option<String>,
    /// Its process id.
    pub pid: i64,
    /// Its host name.
    pub host: String,
    /// The tool and version.
    pub tool_version: String,
    /// The rule book fingerprint.
    pub rule_book_fingerprint: String,
    /// The input files.
    pub inputs: Vec<InputFile>,
    /// Counts, once committed.
    pub counts: Option<RunCounts>,
    /// Whether it was asked as a rerun.
    pub rerun: bool,
    /// For a replaced run, the run that replaced it; for an aborted one, why.
    pub note: Option<String>,
}

/// The states of a committed month, read back.
#[derive(Debug, Clone)]
pub struct LatestStates {
    /// The month the states are after (they are effective for the month after it).
    pub month: Month,
    /// The run that committed them.
    pub run_id: i64,
    /// The fingerprint of the rule book that wrote them.
    pub rule_book_fingerprint: String,
    /// Every customer's identity and state, stamped with that rule book.
    pub states: PortfolioStates,
}

/// A stored customer-month.
#[derive(Debug, Clone, PartialEq)]
pub struct StateRow {
    /// The month evaluated.
    pub month: Month,
    /// The customer.
    pub customer: Customer,
    /// The state after the month.
    pub state: CustomerState,
    /// The month's AUM and whether the customer had a record; none when it was held.
    pub evaluated: Option<(Decimal, bool)>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// The customer.
    pub customer_id: String,
    /// The event.
    pub event: Event,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    /// The customer.
    pub customer_id: String,
    /// The alert.
    pub alert: Alert,
}

/// A held customer or refused record of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectRow {
    /// The run.
    pub run_id: i64,
    /// The month.
    pub month: Month,
    /// Its order in the run.
    pub seq: i64,
    /// The customer, when known.
    pub customer_id: Option<String>,
    /// `rules`, `input`, `sequence` or `state`.
    pub category: String,
    /// The field, when known.
    pub field: Option<String>,
    /// The record (`file:line`), when known.
    pub record: Option<String>,
    /// The other record of a duplicate.
    pub other_record: Option<String>,
    /// The full message.
    pub message: String,
}

impl RejectRow {
    pub(crate) fn from_error(month: Month, run_id: i64, seq: i64, e: &RecordError) -> Self {
        RejectRow {
            run_id,
            month,
            seq,
            customer_id: e.customer().map(str::to_string),
            category: e.category().to_string(),
            field: e.field().map(str::to_string),
            record: e.record.as_ref().map(|r| r.to_string()),
            other_record: e.other_record.as_ref().map(|r| r.to_string()),
            message: e.to_string(),
        }
    }
}

/// One customer's history across the committed months, for `explain`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerHistory {
    /// The states, by month.
    pub states: Vec<StateRow>,
    /// The events, by month.
    pub events: Vec<Event>,
    /// The alerts, by month.
    pub alerts: Vec<Alert>,
}

/// A URL with its password replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((auth, host)) = rest.split_once('@') else { return url.to_string() };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Now, UTC, RFC 3339 to the second. The store reads the clock for the audit (the engine
/// never does).
pub(crate) fn now_utc() -> String {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// This machine's name, for the lock message.
pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

/// The lock message, from the holder's audit row when it is known.
pub(crate) fn lock_message(location: &str, holder: Option<crate::backend::Holder>) -> String {
    match holder {
        Some((run_id, month, started, pid, host)) => format!(
            "another run holds the store lock since {started} (pid {pid} on {host}, run {run_id} writing month {}) on {location}; nothing was written: wait for it to finish and run again",
            Month::from_yyyymm(month).map(|m| m.to_string()).unwrap_or_else(|_| month.to_string())
        ),
        None => format!(
            "another run holds the store lock on {location}; nothing was written: wait for it to finish and run again"
        ),
    }
}
