//! The month-end store from the command line: opening it, the exit code of each store error,
//! the audit data of a run, `history` and `import-states`.

use std::fmt::Write as _;
use std::path::Path;

use crm_tiering::{Month, RuleBook};
use crm_tiering_store::{InputFile, MonthRecord, RunKind, RunMeta, RunStatus, Store, StoreError, StoreErrorKind};

use crate::exit::{Exit, Failure};

/// The store used when `--store` is not given: a SQLite file in the working directory.
pub(crate) const DEFAULT_STORE: &str = "crm-tiering.db";

/// The tool and its version, as recorded in the audit.
pub(crate) fn tool_version() -> String {
    format!("crm-tiering {}", env!("CARGO_PKG_VERSION"))
}

/// A store location as it may be printed (a PostgreSQL password never is).
pub(crate) fn shown(location: &str) -> String {
    crm_tiering_store::StoreLocation::parse(location).map_or_else(|_| "the store given".to_string(), |l| l.to_string())
}

/// The exit code of a store error (see `EXIT_CODES` in main.rs).
pub(crate) fn exit_of(kind: StoreErrorKind) -> Exit {
    match kind {
        StoreErrorKind::Missing | StoreErrorKind::Exists => Exit::Usage,
        StoreErrorKind::Locked => Exit::Locked,
        StoreErrorKind::AlreadyCommitted | StoreErrorKind::Sequence => Exit::Committed,
        StoreErrorKind::Schema | StoreErrorKind::ReadOnly => Exit::StoreSchema,
        StoreErrorKind::Corrupt => Exit::Damaged,
        StoreErrorKind::Input | StoreErrorKind::Database => Exit::Internal,
    }
}

/// A store error as a failure with its exit code.
pub(crate) fn failure(e: StoreError) -> Failure {
    Failure::new(exit_of(e.kind()), e.to_string())
}

/// The failure for a month `store` has not committed, naming it and `committed` (the store's
/// months): no `output` (a report, a work-list) was written.
pub(crate) fn not_committed(store: &Store, month: Month, committed: &[MonthRecord], output: &str) -> Failure {
    let committed: Vec<Month> = committed.iter().map(|r| r.month).collect();
    let held = if committed.is_empty() {
        "it has no committed month".to_string()
    } else {
        format!("its committed months are {}", crate::export::spans(&committed))
    };
    Failure::new(
        Exit::Usage,
        format!(
            "month {month} is not committed in {} ({held}); no {output} was written: give a committed month",
            store.location()
        ),
    )
}

/// Opens the store at `location` (a SQLite path or a `postgres://` URL) for writing; when there
/// is none, makes it only if `create` (`--create-store`).
pub(crate) fn open(location: &str, create: bool) -> Result<Store, Failure> {
    match Store::open(location) {
        Err(e) if create && e.kind() == StoreErrorKind::Missing => {
            let store = Store::create(location).map_err(failure)?;
            eprintln!("created the store {} (portfolio {})", store.location(), store.portfolio_id());
            Ok(store)
        }
        Err(e) if e.kind() == StoreErrorKind::Missing => Err(Failure::new(
            Exit::Usage,
            format!(
                "{e}; nothing was written (a store is never made without being asked: give --create-store for the first run)"
            ),
        )),
        other => other.map_err(failure),
    }
}

/// Opens an existing store read-only (the readers: `explain`, `history`, `export`): nothing is
/// written, so a store the user cannot write is read too.
pub(crate) fn open_read_only(location: &str) -> Result<Store, Failure> {
    Store::open_read_only(location).map_err(failure)
}

/// `crm-tiering init`: a new, empty store.
pub(crate) fn init_command(location: &str) -> Result<Exit, Failure> {
    let store = Store::create(location).map_err(failure)?;
    println!(
        "created the store {} (portfolio {}, schema version {})",
        store.location(),
        store.portfolio_id(),
        crm_tiering_store::SCHEMA_VERSION
    );
    Ok(Exit::Ok)
}

/// `crm-tiering migrate`: brings a store to this tool's schema (opening it writable does).
pub(crate) fn migrate_command(location: &str) -> Result<Exit, Failure> {
    let mut store = Store::open(location).map_err(failure)?;
    let months = store.months().map_err(failure)?;
    let latest = months.last().map_or_else(
        || "no committed month".to_string(),
        |r| format!("{} committed month(s), the latest {}", months.len(), r.month),
    );
    println!(
        "the store {} is at schema version {} (portfolio {}, {latest})",
        store.location(),
        crm_tiering_store::SCHEMA_VERSION,
        store.portfolio_id()
    );
    Ok(Exit::Ok)
}

/// Who runs this, for the audit of a rollback.
fn who() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "an unknown user".to_string())
}

/// `crm-tiering rollback --month M`: undoes the latest committed month.
pub(crate) fn rollback_command(location: &str, month: Month) -> Result<Exit, Failure> {
    let mut store = Store::open(location).map_err(failure)?;
    let r = store.rollback_month(month, &who()).map_err(failure)?;
    let runs: Vec<String> = r.runs.iter().map(|r| r.to_string()).collect();
    let now = r.head.map_or_else(
        || "the store has no committed month now".to_string(),
        |m| format!("the latest committed month is {m} again"),
    );
    println!(
        "rolled back {} (run(s) {}, audited as rolled_back) in {}; {now}",
        r.month,
        runs.join(", "),
        store.location()
    );
    Ok(Exit::Ok)
}

/// The text of the rule book as the audit keeps it: text from which the store reloads the
/// same book (same fingerprint). The book's own JSON (defaults filled in) is used, since it
/// loads to an equal book whatever the original file looked like.
pub(crate) fn rule_book_text(book: &RuleBook) -> Result<String, Failure> {
    let text = book.to_json();
    match RuleBook::from_str_auto(&text) {
        Ok(again) if again.fingerprint() == book.fingerprint() => Ok(text),
        _ => Err(Failure::internal("the rule book's JSON does not reload to the same fingerprint")),
    }
}

/// The audit data of a run (the inputs with their digests and row counts).
pub(crate) fn run_meta(book: &RuleBook, inputs: Vec<InputFile>) -> Result<RunMeta, Failure> {
    let mut meta = RunMeta::new(&tool_version(), book.fingerprint(), &rule_book_text(book)?);
    meta.inputs = inputs;
    Ok(meta)
}

/// An input file's digest for the audit.
pub(crate) fn digest(role: &str, path: &Path, rows: u64) -> Result<InputFile, Failure> {
    InputFile::digest(role, path, rows).map_err(|e| Failure::new(Exit::Usage, e.to_string()))
}

/// `crm-tiering history`: every run with its audit data.
pub(crate) fn history_command(location: &str, json: bool) -> Result<Exit, Failure> {
    let mut store = open_read_only(location)?;
    let runs = store.runs().map_err(failure)?;
    let head = store.head().map_err(failure)?;
    if json {
        for r in &runs {
            let v = serde_json::json!({
                "portfolio_id": store.portfolio_id(),
                "run_id": r.run_id,
                "month": r.month.to_string(),
                "kind": r.kind.as_str(),
                "amends": r.amends.map(|m| m.to_string()),
                "months": r.months.map(|(a, b)| format!("{a}..{b}")),
                "status": r.status.as_str(),
                "started_at": r.started_at,
                "finished_at": r.finished_at,
                "pid": r.pid,
                "host": r.host,
                "tool_version": r.tool_version,
                "rule_book_fingerprint": r.rule_book_fingerprint,
                "inputs": r.inputs,
                "counts": r.counts,
                "rerun": r.rerun,
                "note": r.note,
            });
            println!("{v}");
        }
        return Ok(Exit::Ok);
    }
    let head = head.map_or_else(
        || "latest month: none".to_string(),
        |h| format!("latest month {} (digest {})", h.month, h.digest.get(..12).unwrap_or(&h.digest)),
    );
    print!("{}", render_history(&store.location().to_string(), store.portfolio_id(), &head, &runs));
    Ok(Exit::Ok)
}

fn render_history(location: &str, portfolio: &str, head: &str, runs: &[crm_tiering_store::RunRecord]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "store {location}: portfolio {portfolio}, {head}, {} run(s)", runs.len());
    for r in runs {
        let kind = match (r.kind, r.months, r.amends) {
            (RunKind::CatchUp, Some((a, b)), Some(l)) => format!(" catch-up of {a}..{b} amending {l}"),
            (RunKind::Import, _, _) => " (import)".to_string(),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "\nrun {} month {}{kind} {}{}: {} .. {} (pid {} on {})",
            r.run_id,
            r.month,
            r.status.as_str(),
            if r.rerun { " (rerun)" } else { "" },
            r.started_at,
            r.finished_at.as_deref().unwrap_or("-"),
            r.pid,
            r.host
        );
        let _ = writeln!(s, "  tool {}, rule book {}", r.tool_version, r.rule_book_fingerprint);
        if let Some(c) = r.counts {
            let _ = writeln!(
                s,
                "  states {}, evaluated {}, events {}, alerts {}, rejects {}",
                c.states, c.evaluated, c.events, c.alerts, c.rejects
            );
        }
        for f in &r.inputs {
            let _ = writeln!(s, "  input {} {} ({} rows, sha256 {})", f.role, f.path, f.rows, f.sha256);
        }
        if let Some(n) = &r.note {
            let _ = writeln!(s, "  note: {n}");
        }
        if r.status == RunStatus::Running {
            let _ = writeln!(s, "  (running now, or killed: the next run marks it abandoned)");
        }
    }
    s
}

/// An import refuses whatever a run would refuse of the states (issue 18): a month with no next
/// month, a month other than the one the states are after, and every state the evaluation of
/// the next month would refuse (a kind the book does not tier, a tier the book does not know or
/// map, an inconsistent state), each listed with its customer.
fn check_import(
    book: &crm_tiering::RuleBook,
    states: &crm_tiering::portfolio::PortfolioStates,
    file: &Path,
    month: Month,
) -> Result<(), Failure> {
    if month == Month::LAST {
        return Err(Failure::new(Exit::Usage, format!("{}: {month} has no next month to evaluate", file.display())));
    }
    if let Some(latest) = states.latest_month()
        && latest != month
    {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "{}: the states are after {latest} (the latest month a customer was evaluated), not {month}: give --month {latest} or leave it out; nothing was written",
                file.display()
            ),
        ));
    }
    let engine = crm_tiering::Engine::new(book.clone());
    let errors: Vec<crm_tiering::portfolio::RecordError> = states
        .iter()
        .filter_map(|(c, s)| engine.check_state(c, s, month.next()).err())
        .map(|e| crm_tiering::portfolio::RecordError::at(e, None))
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    for e in &errors {
        eprintln!("error: {}", crate::run::describe(e));
    }
    Err(Failure::new(
        Exit::BadInput,
        format!(
            "{}: {} state(s) a run of {} would refuse; nothing was written",
            file.display(),
            errors.len(),
            month.next()
        ),
    ))
}

/// `crm-tiering import-states FILE`: a checked states file becomes the store's starting point,
/// committed as the states after `month` (default: the latest month a customer was evaluated)
/// by a run of its own.
pub(crate) fn import_states_command(
    location: &str,
    file: &Path,
    month: Option<Month>,
    rules: Option<&Path>,
    rerun: bool,
    create: bool,
) -> Result<Exit, Failure> {
    let (book, _) = crate::load_rules(rules)?;
    let states = crate::input::read_states(file)?;
    if let Some(found) = states.rule_book()
        && found != book.fingerprint()
    {
        return Err(Failure::new(
            Exit::BadInput,
            format!(
                "{}: the states were written under rule book {found}, but the rule book given is {}: give --rules with the book that wrote them; nothing was written",
                file.display(),
                book.fingerprint()
            ),
        ));
    }
    let month = match month.or_else(|| states.states().iter().filter_map(|s| s.last_month).max()) {
        Some(m) => m,
        None => {
            return Err(Failure::new(
                Exit::Usage,
                format!(
                    "{}: no customer has been evaluated: give --month, the month the states are after",
                    file.display()
                ),
            ));
        }
    };
    check_import(&book, &states, file, month)?;
    let mut meta = run_meta(&book, vec![digest("states", file, states.len() as u64)?])?;
    meta.rerun = rerun;
    let mut store = open(location, create)?;
    let mut w = store.begin_import(month, meta).map_err(failure)?;
    for (i, (c, s)) in states.iter().enumerate() {
        // The history the states file carries (SPEC §19.5) goes into the store with the state.
        if let Err(e) = w.state_with_history(c, s, None, &states.history(i)) {
            let _ = w.abort(&e.to_string());
            return Err(failure(e));
        }
    }
    let run = w.commit().map_err(failure)?;
    println!(
        "imported {} customer state(s) from {} as the states after {month} (run {}) into {}",
        states.len(),
        file.display(),
        run.run_id,
        store.location()
    );
    Ok(Exit::Ok)
}

/// A store's error as the command's failure (its exit code by its kind), for the store's
/// functions that return the caller's own error type.
impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        failure(e)
    }
}
