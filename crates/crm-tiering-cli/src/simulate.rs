//! `crm-tiering simulate`: sizes a rule change. The same extract over the same months, from the
//! same prior states, under two rule books (the core's `portfolio::simulate`, which Python's
//! `simulate` also calls): per month the customers at each effective tier under each book
//! (`counts.csv`) and every customer-month whose effective tier differs (`changes.csv`).
//!
//! With `--store` the months are the store's committed ones (SPEC §15.9): the store gives the
//! starting states, the AUM, the designations and the held customers in one read, rule book A
//! defaults to the one that committed the last month, and where A's replay does not give the
//! committed counts the difference is written to `baseline.csv` and the exit code is 6.

use std::path::PathBuf;

use clap::Args;
use crm_tiering::portfolio::{BaselineDifference, PortfolioOptions, Simulation, simulate};
use crm_tiering::{Decimal, Engine, RuleBook};

use crate::exit::{Exit, Failure};
use crate::input::{self, InputFiles, Inputs};
use crate::options::PortfolioArgs;
use crate::output::Staging;
use crate::run::{describe, display_dir};
use crate::store::{failure, open_read_only, shown};
use crate::text::csv_field;
use crate::{ReadArgs, load_rules};

/// The header of counts.csv (the columns of Python's `Simulation.counts`).
pub(crate) const COUNTS_HEADER: &str = "month,tier,count_a,count_b,delta";
/// The header of changes.csv (the columns of Python's `Simulation.changes`).
pub(crate) const CHANGES_HEADER: &str = "customer_id,month,aum,tier_a,tier_b,status_a,status_b";
/// The header of baseline.csv (the columns of Python's `Simulation.baseline`).
pub(crate) const BASELINE_HEADER: &str = "month,tier,committed,replayed";

#[derive(Debug, Clone, Args)]
pub(crate) struct SimulateArgs {
    /// The current rule book, A (TOML or JSON); with --store, by default the one that
    /// committed the last month.
    #[arg(long, value_name = "FILE", required_unless_present = "store")]
    rules_a: Option<PathBuf>,
    /// The rule book to size, B (TOML or JSON).
    #[arg(long, value_name = "FILE")]
    rules_b: PathBuf,
    /// The months to replay, `YYYY-MM` or `YYYY-MM..YYYY-MM` (required); a record dated outside
    /// them holds its customer back, as in `run`.
    #[arg(long, value_name = "YYYY-MM[..YYYY-MM]")]
    month: crm_tiering::portfolio::MonthRange,
    /// Monthly AUM file(s), as for `run`.
    #[arg(long, num_args = 1.., value_name = "FILE", conflicts_with = "store")]
    aum: Vec<PathBuf>,
    /// Daily balance file(s), as for `run`.
    #[arg(long, num_args = 1.., value_name = "FILE", conflicts_with = "store")]
    daily: Vec<PathBuf>,
    /// Special VIP designations, as for `run`.
    #[arg(long, num_args = 1.., value_name = "FILE", conflicts_with = "store")]
    designations: Vec<PathBuf>,
    /// Starting states (a run's states.jsonl), used by both books; without it every customer
    /// starts not enrolled. They must have been written under rule book A unless
    /// --accept-rule-change; under B they are always accepted (the change is the point).
    #[arg(long, value_name = "FILE", conflicts_with = "store")]
    states: Option<PathBuf>,
    /// Replay the store's committed months instead of files: its states before the first
    /// month, and each month's AUM, designations and held customers as committed. Rule book
    /// A's replay is checked against the committed counts (baseline.csv).
    #[arg(long, value_name = "LOCATION")]
    store: Option<String>,
    /// Output directory: counts.csv and changes.csv (created when missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    read: ReadArgs,
    /// The portfolio options; `--accept-rule-change` accepts starting states written under
    /// another rule book than A.
    #[command(flatten)]
    portfolio: PortfolioArgs,
}

/// An amount at fen scale, as Python's `decimal128(38, 2)` columns print it.
fn fen(mut d: Decimal) -> String {
    d.rescale(2);
    d.to_string()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn stop(errors: &[crm_tiering::portfolio::RecordError]) -> Failure {
    for e in errors {
        eprintln!("error: {}", describe(e));
    }
    Failure::new(
        Exit::BadInput,
        format!("{} input file(s) or record(s) cannot be used; nothing was written", errors.len()),
    )
}

fn check(inputs: &Inputs) -> Result<(), Failure> {
    if inputs.file_errors.is_empty() && inputs.extract.fatal().is_empty() {
        return Ok(());
    }
    let mut errors = inputs.file_errors.clone();
    errors.extend(inputs.extract.fatal().iter().cloned());
    Err(stop(&errors))
}

pub(crate) fn simulate_command(args: &SimulateArgs) -> Result<Exit, Failure> {
    let (book_b, _) = load_rules(Some(&args.rules_b))?;
    let options = args.portfolio.options()?;
    match (&args.store, &args.rules_a) {
        (Some(location), _) => from_store(args, location, book_b, &options),
        (None, Some(rules_a)) => from_files(args, rules_a, book_b, &options),
        (None, None) => Err(Failure::new(Exit::Usage, "give rule book A with --rules-a FILE, or a store with --store")),
    }
}

fn from_files(
    args: &SimulateArgs,
    rules_a: &std::path::Path,
    book_b: RuleBook,
    options: &PortfolioOptions,
) -> Result<Exit, Failure> {
    let (book_a, _) = load_rules(Some(rules_a))?;
    if args.aum.is_empty() && args.daily.is_empty() {
        return Err(Failure::new(Exit::Usage, "give the months' AUM with --aum FILE or --daily FILE"));
    }
    let files = |states| InputFiles {
        states,
        aum: &args.aum,
        daily: &args.daily,
        designations: &args.designations,
        encoding: args.read.encoding,
        delimiter: args.read.delimiter,
    };
    // The same files read against each book (component and tier names are the book's).
    let inputs_a = input::load(&book_a, &files(args.states.as_deref()))?;
    check(&inputs_a)?;
    let inputs_b = input::load(&book_b, &files(None))?;
    check(&inputs_b)?;
    let (a, b) = (Engine::new(book_a), Engine::new(book_b));
    let sim = simulate((&a, &inputs_a.extract), (&b, &inputs_b.extract), &inputs_a.states, args.month, options)
        .map_err(|f| stop(&f.errors))?;
    write(&sim, None, args)?;
    Ok(report(&sim, &[], args))
}

/// The store's committed months replayed under A (by default the book that committed the last
/// month) and B, from the states before them (SPEC §15.9).
fn from_store(
    args: &SimulateArgs,
    location: &str,
    book_b: RuleBook,
    options: &PortfolioOptions,
) -> Result<Exit, Failure> {
    let mut store = open_read_only(location)?;
    let mut stored = store.stored_range(args.month).map_err(|e| match e.kind() {
        // A month the store does not have is the user's range, not a fault of the store.
        crm_tiering_store::StoreErrorKind::Input => Failure::new(Exit::Usage, e.to_string()),
        _ => failure(e),
    })?;
    let book_a = match &args.rules_a {
        Some(path) => load_rules(Some(path))?.0,
        None => RuleBook::from_str_auto(&stored.rule_book).map_err(|e| {
            Failure::new(Exit::Damaged, format!("the rule book stored with {} does not load: {e}", shown(location)))
        })?,
    };
    let fingerprint = book_a.fingerprint();
    for (month, committed_under) in &stored.rule_books {
        if *committed_under != fingerprint {
            eprintln!(
                "note: {month} was committed under another rule book (fingerprint {committed_under}) than rules A ({fingerprint})"
            );
        }
    }
    let start = stored.start.take().map(|s| s.states).unwrap_or_default();
    let (a, b) = (Engine::new(book_a), Engine::new(book_b));
    let sim = simulate((&a, &stored.extract), (&b, &stored.extract), &start, args.month, options)
        .map_err(|f| stop(&f.errors))?;
    let baseline = sim.baseline_differences(&stored.committed);
    write(&sim, Some(&baseline), args)?;
    Ok(report(&sim, &baseline, args))
}

/// Prints the counts, the customers held back and the baseline differences; the exit code.
fn report(sim: &Simulation, baseline: &[BaselineDifference], args: &SimulateArgs) -> Exit {
    print!("{}", render(sim));
    for (book, held) in [("A", &sim.held_a), ("B", &sim.held_b)] {
        for (_, e) in held {
            eprintln!("held back under rules {book}: {}", describe(e));
        }
    }
    for d in baseline {
        eprintln!(
            "warning: {} {}: the store committed {} customer(s), rules A replays {}: the baseline is not what was committed",
            d.month,
            d.tier.map_or_else(|| "(not VIP)".to_string(), |t| t.to_string()),
            d.committed,
            d.replayed
        );
    }
    let files =
        if args.store.is_some() { "counts.csv, changes.csv and baseline.csv" } else { "counts.csv and changes.csv" };
    println!("{files} written to {}", display_dir(&args.out));
    if sim.held_a.is_empty() && sim.held_b.is_empty() && baseline.is_empty() { Exit::Ok } else { Exit::Rejects }
}

fn write(sim: &Simulation, baseline: Option<&[BaselineDifference]>, args: &SimulateArgs) -> Result<(), Failure> {
    let mut staging = Staging::new(&args.out)?;
    let mut counts = staging.create("counts.csv")?;
    counts.line(COUNTS_HEADER)?;
    for c in &sim.counts {
        counts.line(&format!("{},{},{},{},{}", c.month, opt(c.tier), c.count_a, c.count_b, c.delta()))?;
    }
    counts.finish()?;
    let mut changes = staging.create("changes.csv")?;
    changes.line(CHANGES_HEADER)?;
    for c in &sim.changes {
        changes.line(&format!(
            "{},{},{},{},{},{},{}",
            csv_field(&c.customer_id),
            c.month,
            fen(c.aum),
            opt(c.tier_a),
            opt(c.tier_b),
            c.status_a.as_str(),
            c.status_b.as_str()
        ))?;
    }
    changes.finish()?;
    if let Some(baseline) = baseline {
        let mut file = staging.create("baseline.csv")?;
        file.line(BASELINE_HEADER)?;
        for d in baseline {
            file.line(&format!("{},{},{},{}", d.month, opt(d.tier), d.committed, d.replayed))?;
        }
        file.finish()?;
    }
    staging.commit()
}

/// The counts as a table: one line per month and tier, then the changed customer-months.
fn render(sim: &Simulation) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{:<8} {:<12} {:>10} {:>10} {:>9}", "month", "tier", "rules A", "rules B", "delta");
    for c in &sim.counts {
        let tier = c.tier.map_or_else(|| "(not VIP)".to_string(), |t| t.to_string());
        let _ = writeln!(out, "{:<8} {:<12} {:>10} {:>10} {:>+9}", c.month, tier, c.count_a, c.count_b, c.delta());
    }
    let _ = writeln!(out, "customer-months in a different effective tier: {}", sim.changes.len());
    out
}
