//! The values the store takes and gives.

use std::io::Read;
use std::path::Path;

use crm_tiering::portfolio::{PortfolioStates, RecordError};
use crm_tiering::{Alert, Customer, CustomerState, Decimal, Event, History, Month};
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
    /// Committed, then undone by `rollback` (the note says who and when).
    RolledBack,
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
            RunStatus::RolledBack => "rolled_back",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "running" => RunStatus::Running,
            "committed" => RunStatus::Committed,
            "replaced" => RunStatus::Replaced,
            "aborted" => RunStatus::Aborted,
            "abandoned" => RunStatus::Abandoned,
            "rolled_back" => RunStatus::RolledBack,
            other => return Err(StoreError::Corrupt(format!("unknown run status `{other}`"))),
        })
    }
}

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// Evaluates and commits a month (`run`).
    Month,
    /// Commits a states file as a month's states (`import-states`).
    Import,
    /// Evaluates held customers' missing months and amends the latest month with the results
    /// ([`crate::Store::begin_amendment`]).
    CatchUp,
}

impl RunKind {
    /// The code stored in `runs.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Month => "month",
            RunKind::Import => "import",
            RunKind::CatchUp => "catch_up",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "month" => RunKind::Month,
            "import" => RunKind::Import,
            "catch_up" => RunKind::CatchUp,
            other => return Err(StoreError::Corrupt(format!("unknown run kind `{other}`"))),
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
    /// For a replaced run, the run that replaced it; for an aborted one, why; for a rolled
    /// back one, who rolled it back and when; for a catch-up, the month it amends.
    pub note: Option<String>,
    /// What the run does.
    pub kind: RunKind,
    /// For a catch-up, the month it amends (the latest committed month when it ran).
    pub amends: Option<Month>,
    /// For a catch-up, the months it evaluated.
    pub months: Option<(Month, Month)>,
}

/// A count and a SHA-256 (lowercase hex) of a committed month's states or rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tally {
    /// How many.
    pub count: u64,
    /// The SHA-256 over them, in the order the store defines ([`crate::Store`]'s chain).
    pub sha256: String,
}

/// A committed month as the chain records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthRecord {
    /// The month.
    pub month: Month,
    /// The run that committed it.
    pub run_id: i64,
    /// When it was committed (UTC, RFC 3339).
    pub committed_at: String,
    /// The digest of the month before it (for the first month, the store's genesis digest).
    pub previous: String,
    /// Its states.
    pub states: Tally,
    /// The events written by its runs.
    pub events: Tally,
    /// The alerts written by its runs.
    pub alerts: Tally,
    /// The rejects written by its runs.
    pub rejects: Tally,
    /// Its digest, over all of the above.
    pub digest: String,
    /// The fingerprint of the committing run's rule book (part of the digest).
    pub rule_book_fingerprint: String,
}

/// The states of a committed month, read back.
#[derive(Debug, Clone)]
pub struct LatestStates {
    /// The month the states are after (they are effective for the month after it).
    pub month: Month,
    /// The run that committed them.
    pub run_id: i64,
    /// The month's digest in the chain (it changes when the month is rerun or amended).
    pub digest: String,
    /// The fingerprint of the rule book that wrote them.
    pub rule_book_fingerprint: String,
    /// Every customer's identity and state, stamped with that rule book.
    pub states: PortfolioStates,
    /// How many customers were evaluated from an AUM record in that month (what a month far
    /// smaller than the last is measured against, SPEC §15.6; 0 for imported states).
    pub with_record: u64,
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
    /// The customer's history after the month (SPEC §19.5): empty for a book without windows.
    pub history: History,
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

#[cfg(feature = "arrow")]
impl RejectRow {
    /// The reject as a row of the core's rejects table (SPEC §15.10), borrowing its texts.
    pub fn as_reject(&self) -> crm_tiering::portfolio::arrow::tables::Reject<'_> {
        crm_tiering::portfolio::arrow::tables::Reject {
            month: self.month,
            run_id: self.run_id,
            seq: self.seq,
            customer_id: self.customer_id.as_deref(),
            category: &self.category,
            field: self.field.as_deref(),
            record: self.record.as_deref(),
            other_record: self.other_record.as_deref(),
            message: &self.message,
        }
    }
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

/// Where the passwords of a PostgreSQL location are (byte ranges): the userinfo password of a
/// URL (`postgres://user:secret@host`), the value of a `password=` query parameter, and of a
/// `password=` key of a key=value connection string (quoted or not; any case).
fn password_spans(s: &str) -> Vec<(usize, usize)> {
    let bytes = s.as_bytes();
    let mut spans = Vec::new();
    if let Some(p) = s.find("://") {
        let rest = p + 3;
        let authority_end = s[rest..].find(['/', '?']).map_or(s.len(), |k| rest + k);
        if let Some(at) = s[rest..authority_end].rfind('@').map(|k| rest + k)
            && let Some(colon) = s[rest..at].find(':').map(|k| rest + k)
        {
            spans.push((colon + 1, at));
        }
    }
    let lower = s.to_ascii_lowercase();
    let mut i = 0;
    while let Some(found) = lower[i..].find("password") {
        let start = i + found;
        i = start + 1;
        let boundary = start == 0 || matches!(bytes[start - 1], b'?' | b'&' | b' ' | b'\t' | b';' | b':');
        let mut j = start + "password".len();
        while j < s.len() && bytes[j] == b' ' {
            j += 1;
        }
        if !boundary || j >= s.len() || bytes[j] != b'=' {
            continue;
        }
        j += 1;
        while j < s.len() && bytes[j] == b' ' {
            j += 1;
        }
        let from = j;
        if j < s.len() && bytes[j] == b'\'' {
            // A quoted value: up to the closing quote (a backslash escapes the next character).
            j += 1;
            while j < s.len() && bytes[j] != b'\'' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            j = (j + 1).min(s.len());
        } else {
            while j < s.len() && !matches!(bytes[j], b'&' | b' ' | b'\t' | b';') {
                j += 1;
            }
        }
        spans.push((from, j));
        i = j.max(i);
    }
    spans.sort_unstable();
    spans
}

/// A PostgreSQL location with every password replaced by `***`.
pub(crate) fn redact(location: &str) -> String {
    let mut out = String::with_capacity(location.len());
    let mut at = 0;
    for (from, to) in password_spans(location) {
        if from < at {
            continue;
        }
        out.push_str(&location[at..from]);
        out.push_str("***");
        at = to;
    }
    out.push_str(&location[at..]);
    out
}

/// The passwords a location holds (as written, and unquoted), to scrub them from any message.
pub(crate) fn secrets(location: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (from, to) in password_spans(location) {
        let raw = &location[from..to];
        out.push(raw.to_string());
        let unquoted = raw.trim_matches('\'').replace("\\'", "'").replace("\\\\", "\\");
        out.push(unquoted.clone());
        // URL-encoded passwords reach the server decoded.
        out.push(percent_decode(&unquoted));
    }
    out.retain(|s| !s.is_empty());
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len() + 1
            && let (Some(h), Some(l)) = (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A message with every secret replaced by `***`.
pub(crate) fn scrub(message: &str, secrets: &[String]) -> String {
    let mut m = message.to_string();
    for s in secrets {
        if s.len() >= 3 {
            m = m.replace(s.as_str(), "***");
        }
    }
    m
}

/// A month (yyyymm) as `YYYY-MM`, or the number when it is no month.
pub(crate) fn month_text(yyyymm: i64) -> String {
    Month::from_yyyymm(yyyymm).map(|m| m.to_string()).unwrap_or_else(|_| yyyymm.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_in_every_form() {
        let cases = [
            ("postgres://bob:s3cret@db1:5432/crm", "postgres://bob:***@db1:5432/crm"),
            ("postgresql://bob:p%40ss@db1/crm?sslmode=disable", "postgresql://bob:***@db1/crm?sslmode=disable"),
            (
                "postgres://bob@db1/crm?password=s3cret&sslmode=disable",
                "postgres://bob@db1/crm?password=***&sslmode=disable",
            ),
            (
                "postgres://bob@db1/crm?sslmode=disable&PASSWORD=s3cret",
                "postgres://bob@db1/crm?sslmode=disable&PASSWORD=***",
            ),
            (
                "postgres:host=db1 user=bob password=s3cret dbname=crm",
                "postgres:host=db1 user=bob password=*** dbname=crm",
            ),
            ("postgres:host=db1 password = 's3 cr\\'et' dbname=crm", "postgres:host=db1 password = *** dbname=crm"),
            ("postgres://bob@db1/crm", "postgres://bob@db1/crm"),
            ("crm-tiering.db", "crm-tiering.db"),
            ("postgres:host=db1 user=passwordless dbname=crm", "postgres:host=db1 user=passwordless dbname=crm"),
        ];
        for (given, shown) in cases {
            assert_eq!(redact(given), shown, "{given}");
        }
        let s = secrets("postgresql://bob:p%40ss@db1/crm");
        assert!(s.contains(&"p%40ss".to_string()) && s.contains(&"p@ss".to_string()), "{s:?}");
        let s = secrets("postgres:host=db1 password='s3 cr\\'et'");
        assert!(s.contains(&"s3 cr'et".to_string()), "{s:?}");
        assert_eq!(scrub("auth failed for s3 cr'et at db1", &s), "auth failed for *** at db1");
        assert!(secrets("postgres://bob@db1/crm").is_empty());
    }

    #[test]
    fn months_are_named_as_the_user_writes_them() {
        assert_eq!(month_text(202403), "2024-03");
        assert_eq!(month_text(202413), "202413");
    }
}
