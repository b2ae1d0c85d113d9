//! `crm-tiering run`: the declared month (or range of months) of a portfolio, evaluated by the
//! core's portfolio month from the store's latest committed states, and committed into the
//! store month by month (each month in one transaction, or not at all).
//!
//! The evaluation runs on a thread of its own and streams each month's results through a
//! bounded channel; the calling thread holds the store's lock and writes each month with a
//! `MonthWriter` while the next month is evaluated. Before the first month the lock is taken
//! and the prior states are read from the store; after each commit the next month's writer is
//! begun at once. The evaluation's sink, which sends each month, is in `run/stream.rs`.

pub(crate) mod contribution;
pub(crate) mod measures;
mod stream;

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crm_tiering::portfolio::{MonthRange, PortfolioOptions, PortfolioStates, RecordError};
use crm_tiering::{Alert, Customer, CustomerState, Decimal, Engine, Event, History, Month, RuleBook};
use crm_tiering_store::{EvaluatedAum, InputFile, LatestStates, MonthResults, MonthWriter, RunMeta, Store};
use serde::{Deserialize, Serialize};

use self::stream::{HeldOnly, MonthOut, StreamSink};
use crate::exit::{Exit, Failure};
use crate::input::{self, InputFiles, Inputs};
use crate::progress::Progress;
use crate::store::{self as cli_store, failure};
use crate::summary::{Entities, RunSummary};
use crate::{RunArgs, load_rules};

/// An event as written by `export --format jsonl` (events.jsonl).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EventLine {
    pub(crate) customer_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) legal_entity: Option<String>,
    #[serde(flatten)]
    pub(crate) event: Event,
    #[serde(default)]
    pub(crate) kind_zh: String,
    #[serde(default)]
    pub(crate) reason_zh: String,
}

/// An alert as written by `export --format jsonl` (alerts.jsonl).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AlertLine {
    pub(crate) customer_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) legal_entity: Option<String>,
    #[serde(flatten)]
    pub(crate) alert: Alert,
    #[serde(default)]
    pub(crate) kind_zh: String,
}

/// How a run behaves, beyond its inputs.
pub(crate) struct RunConfig<'a> {
    /// The store's location (SQLite path or `postgres://` URL).
    pub(crate) store: &'a str,
    pub(crate) months: MonthRange,
    pub(crate) skip_bad_rows: bool,
    pub(crate) options: PortfolioOptions,
    /// `--min-coverage`: the share of the month before's customers with a record a month
    /// must have (SPEC §15.6).
    pub(crate) min_coverage: Decimal,
    /// Replace the first month when it is committed already.
    pub(crate) rerun: bool,
    /// Create the store when there is none.
    pub(crate) create_store: bool,
}

/// What a successful run reports.
pub(crate) struct RunReport {
    pub(crate) summary: RunSummary,
    pub(crate) exit: Exit,
    /// The months committed, with their run ids.
    pub(crate) committed: Vec<(Month, i64)>,
}

pub(crate) fn run_command(args: &RunArgs) -> Result<Exit, Failure> {
    let (book, source) = load_rules(args.rules.as_deref())?;
    if args.aum.is_empty() && args.daily.is_empty() {
        return Err(Failure::new(Exit::Usage, "give the months' AUM with --aum FILE or --daily FILE"));
    }
    let files = InputFiles {
        states: args.states.as_deref(),
        aum: &args.aum,
        daily: &args.daily,
        designations: &args.designations,
        encoding: args.read.encoding,
        delimiter: args.read.delimiter,
    };
    let options = args.portfolio.options()?;
    let threads = options.threads;
    // With a second thread, the stored states are read while the input is: the writer uses
    // them once it holds the lock if they are still the latest (else it reads them again).
    // The stored states read before the lock come from a read-only open (never a write, and a
    // store that is not there stays an error for the run to report).
    let (inputs, read_before) = if threads > 1 && args.states.is_none() {
        std::thread::scope(|scope| {
            let reader = scope.spawn(|| {
                let mut store = Store::open_read_only(&args.store).ok()?;
                store.states_before(args.month.first()).ok().flatten()
            });
            let inputs = input::load(&book, &files);
            (inputs, reader.join().ok().flatten())
        })
    } else {
        (input::load(&book, &files), None)
    };
    let mut inputs = inputs?;
    measures::supply(&args.measures, args.month, &book, &mut inputs.extract)?;
    let contribution =
        contribution::supply(&args.contribution, (args.month, &args.store, args.rerun), &book, &mut inputs.extract)?;
    let config = RunConfig {
        store: &args.store,
        months: args.month,
        skip_bad_rows: args.skip_bad_rows,
        options,
        min_coverage: args.portfolio.min_coverage()?,
        rerun: args.rerun,
        create_store: args.create_store,
    };
    if config.options.catch_up {
        if contribution.is_some() {
            return Err(Failure::new(Exit::Usage, "a catch-up run takes no contribution month; nothing was written"));
        }
        let report = crate::catch_up::catch_up(&book, inputs, &config)?;
        print!("{}", report.render(&args.store));
        return Ok(report.exit());
    }
    let report = execute(&book, &source, inputs, read_before, &config)?;
    let stored = match &contribution {
        Some(c) => Some(c.store(args.create_store)?),
        None => None,
    };
    if !args.quiet {
        print!("{}", report.summary.render());
        println!();
        if let (Some(c), Some(stored)) = (&contribution, stored) {
            println!("{}\n{stored}", c.summary());
        }
    }
    print_committed(&report, args.store.as_str());
    Ok(report.exit)
}

/// The committed months, for stdout.
pub(crate) fn print_committed(report: &RunReport, store: &str) {
    let store = cli_store::shown(store);
    match (report.committed.first(), report.committed.last()) {
        (Some((first, r1)), Some((last, r2))) if first != last => {
            println!("committed {first}..{last} (runs {r1}..{r2}) into {store}")
        }
        (Some((m, r)), _) => println!("committed {m} (run {r}) into {store}"),
        _ => println!("nothing committed into {store}"),
    }
}

/// A directory for messages, with a trailing separator.
pub(crate) fn display_dir(p: &std::path::Path) -> String {
    let s = p.display().to_string();
    if s.ends_with(std::path::MAIN_SEPARATOR) { s } else { format!("{s}{}", std::path::MAIN_SEPARATOR) }
}

/// An error as printed on stderr: the core's message, then its category and field.
pub(crate) fn describe(e: &RecordError) -> String {
    let tags = format!("[category {}, field {}]", e.category(), e.field().unwrap_or("-"));
    match (&e.error, e.customer(), &e.record) {
        // An input error that names no customer (a header, an unidentifiable record): the
        // record, the field and the message, without an empty customer.
        (crm_tiering::TieringError::Input(i), None, Some(r)) => {
            let month = i.month.map(|m| format!("month {m}, ")).unwrap_or_default();
            format!("{r}: {month}field `{}`: {} {tags}", i.field, i.message)
        }
        _ => format!("{e} {tags}"),
    }
}

/// Stops a run that cannot go on: every error on stderr, nothing written.
pub(crate) fn stop(errors: &[RecordError], what: &str) -> Failure {
    for e in errors {
        eprintln!("error: {}", describe(e));
    }
    Failure::new(Exit::BadInput, format!("{} {what}; nothing was written", errors.len()))
}

/// The failure for held customers without `--skip-bad-rows`.
pub(crate) fn held_failure<'e>(held: impl Iterator<Item = &'e RecordError>) -> Failure {
    let mut n = 0;
    let mut bad_input = false;
    for e in held {
        eprintln!("rejected: {}", describe(e));
        n += 1;
        bad_input |= e.category() == "input";
    }
    let (exit, what) = if bad_input {
        (Exit::BadInput, "bad input record(s)")
    } else {
        (Exit::EngineErrors, "customer(s) the engine could not evaluate")
    };
    Failure::new(
        exit,
        format!(
            "{n} {what}; nothing was written (correct the inputs, or give --skip-bad-rows to hold those customers back, commit the others and keep the rejects in the store)"
        ),
    )
}

/// Gives up the month being written (recorded as `aborted` with the reason) and returns the
/// failure.
fn abort_with(w: MonthWriter<'_>, f: Failure) -> Failure {
    let _ = w.abort(&f.message);
    f
}

/// The states of a month of a range, from the evaluation's snapshot of every customer after
/// it and their `histories` (SPEC §19.5), with `results` re-indexed to them (a customer the
/// snapshot does not hold has no state that month).
fn snapshot_states(
    snapshot: &[Option<(Customer, CustomerState)>],
    histories: &[(usize, History)],
    results: &mut MonthResults,
) -> Result<PortfolioStates, Failure> {
    let mut states = PortfolioStates::new();
    states.reserve(snapshot.len());
    let mut index: Vec<Option<usize>> = Vec::with_capacity(snapshot.len());
    for entry in snapshot {
        index.push(match entry {
            Some((c, s)) => Some(states.insert(c, *s).map_err(|e| Failure::internal(e.to_string()))?),
            None => None,
        });
    }
    let at = |i: usize| index.get(i).copied().flatten();
    for (i, h) in histories {
        if let Some(k) = at(*i) {
            states.set_history(k, h).map_err(|e| Failure::internal(e.to_string()))?;
        }
    }
    results.events = results.events.iter().filter_map(|(i, e)| Some((at(*i)?, *e))).collect();
    results.alerts = results.alerts.iter().filter_map(|(i, a)| Some((at(*i)?, *a))).collect();
    results.evaluated = results
        .evaluated
        .iter()
        .filter_map(|e| Some(EvaluatedAum { index: at(e.index as usize)? as u32, ..*e }))
        .collect();
    Ok(states)
}

/// The input files of a run, with their digests, for the audit.
pub(crate) fn audit_inputs(inputs: &[(String, std::path::PathBuf, u64)]) -> Result<Vec<InputFile>, Failure> {
    inputs.iter().map(|(role, path, rows)| cli_store::digest(role, path, *rows)).collect()
}

/// Evaluates the declared month(s) from the store's latest committed states and commits each
/// month into the store (all of a month, or nothing of it). `read_before` are the states
/// before the first month as read before the lock, used if they are still the latest.
pub(crate) fn execute(
    book: &RuleBook,
    source: &str,
    inputs: Inputs,
    read_before: Option<LatestStates>,
    config: &RunConfig<'_>,
) -> Result<RunReport, Failure> {
    let Inputs { states: imported, extract, entity_names, file_errors, files } = inputs;
    let imported = files.iter().any(|(role, _, _)| role == "states").then_some(imported);
    if !file_errors.is_empty() || !extract.fatal().is_empty() {
        let mut errors = file_errors;
        errors.extend(extract.fatal().iter().cloned());
        return Err(stop(
            &errors,
            "input file(s) or record(s) cannot be used, and no customer can be held back for them (a record whose customer cannot be identified stops the run)",
        ));
    }
    let meta: RunMeta = cli_store::run_meta(book, audit_inputs(&files)?)?;
    let engine = Engine::new(book.clone());
    let mut store: Store = cli_store::open(config.store, config.create_store)?;
    let mut committed: Vec<(Month, i64)> = Vec::new();
    let bad_rows = extract.rejected().count() as u64;
    // The extract goes to the evaluation, which frees it as soon as it is done: the month's
    // records are not held while its states are written.
    let result = std::thread::scope(|scope| {
        commit_months(scope, &mut store, &engine, extract, imported, read_before, &meta, config, &mut committed)
    });
    let (states, sink) = result.map_err(|f| with_committed(f, &committed))?;

    let StreamSink { months: month_summaries, held, .. } = sink;
    let mut summary = RunSummary::new(book, source, entity_names);
    for m in month_summaries {
        summary.add_month(m);
    }
    summary.customers = states.len() as u64;
    summary.bad_rows = bad_rows;
    for (_, e) in &held {
        eprintln!("rejected: {}", describe(e));
    }
    print_catch_up_hint(&held, config);
    let exit = if held.is_empty() { Exit::Ok } else { Exit::Rejects };
    Ok(RunReport { summary, exit, committed })
}

/// Takes the store's lock, reads the prior states, evaluates the months on a thread of its
/// own and commits each month as it comes. Returns the final states and the sink (summary,
/// held customers).
#[allow(clippy::too_many_arguments)]
fn commit_months<'scope, 'env: 'scope>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    store: &mut Store,
    engine: &'env Engine,
    extract: crm_tiering::portfolio::Extract,
    imported: Option<PortfolioStates>,
    read_before: Option<LatestStates>,
    meta: &RunMeta,
    config: &'env RunConfig<'env>,
    committed: &mut Vec<(Month, i64)>,
) -> Result<(PortfolioStates, StreamSink), Failure> {
    let months = config.months;
    let mut options = config.options.clone();
    let mut first_meta = meta.clone();
    first_meta.rerun = config.rerun;
    // The lock: a second run fails here at once.
    let mut writer = store.begin_month(months.first(), first_meta).map_err(failure)?;
    let mut states = match starting_states(&mut writer, read_before, imported, &mut options, config) {
        Ok(states) => states,
        Err(f) => return Err(abort_with(writer, f)),
    };
    let multi = months.first() != months.last();
    // A range is checked whole before its first month is committed: a bad record in a later
    // month must not leave the earlier months committed.
    if multi
        && !config.skip_bad_rows
        && let Err(f) = check_range(engine, &states, months, &extract, &options)
    {
        return Err(abort_with(writer, f));
    }

    let shadow = multi.then(|| states.iter().map(|(c, s)| Some((Customer::from(c), *s))).collect::<Vec<_>>());
    let (tx, rx): (SyncSender<MonthOut>, Receiver<MonthOut>) = sync_channel(1);
    let sink = StreamSink {
        tx: Some(tx),
        last: months.last(),
        current: None,
        shadow,
        entities: Entities::default(),
        tally: None,
        months: Vec::new(),
        before: states.states().iter().map(|s| s.effective_tier).collect(),
        held: Vec::new(),
        progress: Progress::new(months.months().count()),
        done: 0,
    };
    let handle = scope.spawn(move || {
        let mut sink = sink;
        let r = engine.evaluate_portfolio_with(&mut states, months, &extract, &options, &mut sink);
        drop(extract);
        sink.tx = None;
        sink.progress.finish();
        (r, states, sink)
    });
    // A month of a range is committed and the next begun without letting another run in
    // between (the store checks that the month before is still the one this run committed).
    let outcome = receive_months(&rx, writer, meta, config, committed);
    drop(rx);
    let joined = handle.join();
    let (w, results) = match outcome {
        Received::Last(w, results) => (w, results),
        Received::Stopped(writer, error) => {
            let e = match (error, &joined) {
                (Some(e), _) => e,
                (None, Ok((Err(f), _, _))) => stop(&f.errors, "error(s) stop the run"),
                (None, _) => Failure::internal("the evaluation stopped without its results"),
            };
            return Err(match writer {
                Some(w) => abort_with(w, e),
                None => e,
            });
        }
    };
    let Ok((evaluation, states, sink)) = joined else {
        return Err(abort_with(w, Failure::internal("the evaluation thread panicked")));
    };
    if let Err(f) = evaluation {
        return Err(abort_with(w, stop(&f.errors, "error(s) stop the run")));
    }
    let month = w.month();
    match w.commit_portfolio_month(&states, &results) {
        Ok(run) => committed.push((month, run.run_id)),
        Err(e) => return Err(failure(e)),
    }
    Ok((states, sink))
}

/// The states the run starts from: the store's before its first month (read before the lock
/// when still the latest; `options` get the coverage they had), or the imported ones into a
/// store without committed months.
fn starting_states(
    writer: &mut MonthWriter<'_>,
    read_before: Option<LatestStates>,
    imported: Option<PortfolioStates>,
    options: &mut PortfolioOptions,
    config: &RunConfig<'_>,
) -> Result<PortfolioStates, Failure> {
    match (writer.previous_states_read_before(read_before), imported) {
        (Ok(Some(latest)), None) => {
            crate::options::apply_coverage(options, config.min_coverage, latest.with_record);
            Ok(latest.states)
        }
        (Ok(None), None) => Ok(PortfolioStates::new()),
        (Ok(None), Some(file)) => Ok(file),
        (Ok(Some(latest)), Some(_)) => {
            let message = format!(
                "--states imports a starting point into a store without committed months, but this store holds the states after {}; nothing was written (leave --states out: the run goes on from the store)",
                latest.month
            );
            Err(Failure::new(Exit::Usage, message))
        }
        (Err(e), _) => Err(failure(e)),
    }
}

/// Evaluates a range whole on a copy of the states: an error, or a customer held back in it
/// (not awaiting a catch-up), stops the run before its first month is committed.
fn check_range(
    engine: &Engine,
    states: &PortfolioStates,
    months: MonthRange,
    extract: &crm_tiering::portfolio::Extract,
    options: &PortfolioOptions,
) -> Result<(), Failure> {
    let mut copy = states.clone();
    let mut held = HeldOnly::default();
    if let Err(f) = engine.evaluate_portfolio_with(&mut copy, months, extract, options, &mut held) {
        return Err(stop(&f.errors, "error(s) stop the run"));
    }
    if held.0.iter().any(|e| e.behind_since().is_none()) {
        return Err(held_failure(held.0.iter()));
    }
    Ok(())
}

/// How [`receive_months`] ended.
enum Received<'w> {
    /// The last month came: its writer and results, committed once the evaluation is joined.
    Last(MonthWriter<'w>, MonthResults),
    /// It stopped: the writer still to abort (none when a commit failed) and the failure (none
    /// when the evaluation failed as a whole).
    Stopped(Option<MonthWriter<'w>>, Option<Failure>),
}

/// Receives the evaluated months and commits each but the last, beginning the next month
/// right after each commit.
fn receive_months<'w>(
    rx: &Receiver<MonthOut>,
    writer: MonthWriter<'w>,
    meta: &RunMeta,
    config: &RunConfig<'_>,
    committed: &mut Vec<(Month, i64)>,
) -> Received<'w> {
    // The writer of the month being received: begun before the evaluation for the first
    // month, right after each commit for the next.
    let mut w = writer;
    loop {
        let Ok(out) = rx.recv() else {
            // Nothing (more) came: the evaluation failed as a whole.
            break Received::Stopped(Some(w), None);
        };
        let MonthOut { month, mut results, snapshot, histories } = out;
        if month != w.month() {
            break Received::Stopped(
                Some(w),
                Some(Failure::internal("the evaluation and the store disagree on the month")),
            );
        }
        // Customers held since an earlier month (awaiting a catch-up) do not stop a month: their
        // standing stays frozen, with a held_back alert each month (SPEC §15.7).
        if results.held.iter().any(|e| e.behind_since().is_none()) && !config.skip_bad_rows {
            break Received::Stopped(Some(w), Some(held_failure(results.held.iter())));
        }
        let Some(snapshot) = snapshot else {
            break Received::Last(w, results);
        };
        let month_states = match snapshot_states(&snapshot, &histories, &mut results) {
            Ok(s) => s,
            Err(f) => break Received::Stopped(Some(w), Some(f)),
        };
        drop((snapshot, histories));
        match w.commit_and_continue(&month_states, &results, meta.clone()) {
            Ok((run, next)) => {
                committed.push((month, run.run_id));
                match next {
                    Ok(next) => w = next,
                    Err(e) => break Received::Stopped(None, Some(failure(e))),
                }
            }
            Err(e) => break Received::Stopped(None, Some(failure(e))),
        }
    }
}

/// For customers held back since earlier months: the command that catches them up.
fn print_catch_up_hint(held: &[(Month, RecordError)], config: &RunConfig<'_>) {
    let mut missing: Vec<Month> = held.iter().filter_map(|(_, e)| e.behind_since()).collect();
    missing.sort();
    missing.dedup();
    let (Some(first), Some(_)) = (missing.first(), missing.last()) else { return };
    let n = held.iter().filter(|(_, e)| e.behind_since().is_some()).count();
    // They miss every month from then to the latest committed, this run's last month.
    let last = config.months.last();
    let months = if *first == last { first.to_string() } else { format!("{first}..{last}") };
    eprintln!(
        "note: {n} customer(s) are held back since an earlier month, their standing frozen (a held_back alert each month); catch them up with their corrected records: {} run --catch-up --month {months} --aum FILE... --store {}",
        crate::invocation::program(),
        cli_store::shown(config.store)
    );
}

/// A failure after some months of a range were committed says which.
fn with_committed(mut f: Failure, committed: &[(Month, i64)]) -> Failure {
    if let (Some((first, _)), Some((last, _))) = (committed.first(), committed.last()) {
        let _ = std::fmt::Write::write_fmt(
            &mut f.message,
            format_args!(" (months {first}..{last} were committed before it; the range can go on from the next month)"),
        );
    }
    f
}
