//! `crm-tiering`: the monthly customer-tiering batch (客户分层月度批处理) on the command line.
//!
//! The subcommands are thin layers over the `crm-tiering` core crate: `run` evaluates a
//! portfolio month by month from delimited extracts, `demo` generates a realistic seeded
//! portfolio and runs it, `explain` tells one customer's story from a run's outputs,
//! `simulate` sizes a rule change under two rule books, `report` draws a committed month as a
//! self-contained HTML page, `worklist` writes the account managers' work-list of a month,
//! `contribution` computes a customer contribution month,
//! `check-rules` validates a rule book and `bench` measures the engine. The operator's guide is
//! `crates/crm-tiering-cli/README.md`.
// A command-line tool prints its results.
#![allow(clippy::print_stdout)]

mod bench;
mod catch_up;
mod check_rules;
mod contribution;
mod demo;
mod demo_contribution;
mod demo_inputs;
mod demo_loans;
mod exit;
mod explain;
mod export;
mod input;
mod invocation;
mod loans;
mod options;
mod output;
mod parquet_in;
mod progress;
mod report;
mod run;
mod simulate;
mod store;
mod summary;
mod text;
mod worklist;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::{Exit, Failure};

const EXIT_CODES: &str = "\
Exit codes (for the scheduler):
  0  success: every row accepted, every customer evaluated
  1  internal error (an output file could not be written, the database failed, ...)
  2  usage error: invalid arguments, an input file that cannot be read, an unknown customer
  3  invalid rule book (every message names the field, with line and column when known)
  4  bad input: a header, a record (file:line, field) or a states file (cut short, altered,
     written under another rule book): all of them are listed on stderr and nothing is written
     (with --skip-bad-rows, records of identified customers hold them back instead)
  5  the engine rejected some customers (for example a month out of sequence with the prior
     states): all of them are listed on stderr and nothing is written
  6  completed, but some customers were held back: with --skip-bad-rows, those of bad records;
     and, without it too, customers held since an earlier month and awaiting a catch-up
     (`run --catch-up`): listed on stderr and kept in the store (`export` writes them to
     rejects.csv), each with a held_back alert
  7  another run holds the store's lock: nothing was written; run again when it is done
  8  the month is committed already (give --rerun to replace it) or is out of order with the
     committed months (before the latest one): nothing was written
  9  the store cannot be used: a newer or unknown schema version (or an older one a read-only
     command cannot upgrade), not a crm-tiering store, or read-only: nothing was written
 10  the store is damaged: a committed month, a state, an event or the head was deleted or
     edited, or the file was cut short (an empty file included): nothing was read or written;
     restore the store from a backup
A missing store (no file, no store in the database) is a usage error (2): `init` creates one.";

/// The monthly customer-tiering batch (客户分层): VIP entry, upgrades, the downgrade watch (关注),
/// exit into retention (已退未评级) and special VIPs (特殊VIP), by monthly daily-average AUM (月日均).
#[derive(Debug, Parser)]
#[command(name = "crm-tiering", version, after_long_help = EXIT_CODES, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates a new, empty store (a SQLite file that must not exist yet, or a PostgreSQL
    /// database without a store) with a new portfolio id. `run` never creates one unless
    /// --create-store is given.
    Init(InitArgs),
    /// Evaluates the declared month (or range of months) for a whole portfolio from the
    /// store's latest committed states, and commits each month into the store (--store, default
    /// crm-tiering.db, which must exist: `init` or --create-store): states, events, alerts,
    /// rejects and the run's audit data.
    ///
    /// Records are matched to the prior states by customer id; every customer known from the
    /// prior states or the files is evaluated each declared month (a customer without a record
    /// has zero AUM that month, unless --absent hold or error). A bad record holds its customer
    /// back; a record whose customer cannot be identified stops the run. Each month is
    /// committed in one transaction or not at all.
    #[command(after_long_help = EXIT_CODES)]
    Run(RunArgs),
    /// Generates a realistic seeded portfolio (by default 100,000 customers over 24 months across
    /// eight legal entities), writes its input files (with the early warnings' inputs and a loan
    /// book classified month by month as `loans` does), runs it and prints the summary.
    Demo(DemoArgs),
    /// Tells one customer's story across every committed month of the store: AUM, standing,
    /// and each event with its reason and evidence, and the alerts; then its stored contribution
    /// months and loan months (classes and signals month by month). Opens the store read-only.
    Explain(ExplainArgs),
    /// Lists the store's runs with their audit data: month, status, times, tool version, rule
    /// book fingerprint, input files with SHA-256 and row counts, counts; and the store's
    /// portfolio id and latest month. Opens the store read-only.
    History(HistoryArgs),
    /// Writes committed months out of the store: states, events, alerts and rejects as Parquet
    /// or CSV, or the checked states text (JSON Lines) that `import-states` reads; and the
    /// stored contribution and loan months of the range (loan months: CSV, and their states as
    /// JSON Lines). Opens the store read-only.
    Export(ExportArgs),
    /// Draws a picture of a committed month as one self-contained HTML file (月度报告): the
    /// tier distribution per legal entity, the migration from the month before as a heat map,
    /// the tier counts over the committed months, the events and alerts by kind, the
    /// near-threshold customers and, with --managers, an alert work-list per account manager.
    /// The charts are inline SVG: the page needs no network access. Opens the store read-only;
    /// the same store gives the same file.
    Report(ReportArgs),
    /// Writes the account managers' work-list of a committed month (客户经理工作清单) as one CSV
    /// file: every alert open in the month (its alerts, and the warnings of earlier months still
    /// open), one row per manager, customer and alert, sorted by manager, severity (高 high
    /// first) and customer, with the alert's evidence and its explanation line. Managers come
    /// from the contribution's assignments file (customer,manager,role,share); a warning whose
    /// rule goes to the branch is listed once with role branch; customers with alerts and no
    /// manager are listed under an empty manager_id and counted on stderr. Opens the store
    /// read-only; the file is written whole or not at all.
    #[command(after_long_help = EXIT_CODES)]
    Worklist(worklist::WorklistArgs),
    /// Loads a checked states file (a states.jsonl) into the store as the starting point: the
    /// states after --month (default: the latest month a customer was evaluated), committed
    /// by a run of its own.
    #[command(after_long_help = EXIT_CODES)]
    ImportStates(ImportStatesArgs),
    /// Undoes the latest committed month (--month must name it): its runs are audited as
    /// rolled_back with who and when, its states, events, alerts and rejects leave the store,
    /// and the month before becomes the latest again.
    #[command(after_long_help = EXIT_CODES)]
    Rollback(RollbackArgs),
    /// Upgrades a store written by an older crm-tiering to this tool's schema (the read-only
    /// commands `explain`, `history`, `export` and `report` never do; `run` does it on its way).
    Migrate(StoreArgs),
    /// Sizes a rule change: replays the same extract over the declared months, from the same
    /// prior states, under rule books A and B; writes counts.csv (customers per month and
    /// effective tier under each) and changes.csv (every customer-month whose effective tier
    /// differs) into --out and prints the counts. Exit code 6 when some customers were held back
    /// (listed on stderr; the counts leave them out).
    #[command(after_long_help = EXIT_CODES)]
    Simulate(simulate::SimulateArgs),
    /// Computes a customer contribution month (客户贡献度, SPEC §20) from a contribution rule
    /// book and CSV extracts (account-months, fees, cost pools, activities, direct costs,
    /// account manager assignments) and writes the customers' figures, the roll-ups by account
    /// manager, branch and legal entity, the lineage and the allocation stages as CSV files into
    /// --out (all or none); with --store, also into the month-end store beside the tiering
    /// months. With --explain, prints one customer's lines. Bad records are listed with file,
    /// line and field (exit code 4) and nothing is written.
    #[command(after_long_help = EXIT_CODES)]
    Contribution(contribution::ContributionArgs),
    /// Classifies a month's loans (五级分类, SPEC §21) from the warehouse's loan-month records and
    /// the customers' loan states after the month before, under the rule book's `[loans]`
    /// settings: the regulatory floor by overdue days, the effective class and its clean window,
    /// and the signals (逾期, 临近不良, 不良贷款, 分类宽于监管底线, 不良上调观察期未满). Writes
    /// customers.csv, signals.csv and loan-states.jsonl into --out, and with --store the month
    /// into the month-end store, whose states the next month then reads (all or none); bad
    /// records are listed with file, line and field (exit code 4) and nothing is written.
    #[command(after_long_help = EXIT_CODES)]
    Loans(loans::LoansArgs),
    /// Validates a rule book and prints its tiers and settings, or its error.
    CheckRules(CheckRulesArgs),
    /// Measures the engine: batch evaluation of 1M and 10M customers, a 24-month replay of 1M
    /// customers, and the AUM computation from daily balances. Run it on a release build.
    Bench(bench::BenchArgs),
}

/// Text encodings of input files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum Encoding {
    /// UTF-8 (a byte-order mark is tolerated).
    #[default]
    Utf8,
    /// GBK / GB18030, as many core-banking extracts are written.
    Gbk,
    /// Each file by itself: UTF-8 when it starts with a byte-order mark or its first 64 KiB
    /// are valid UTF-8, GBK otherwise (a later line that is not valid in the encoding chosen
    /// is an error naming its line, as always); the choice is printed.
    Auto,
}

impl Encoding {
    /// The name, as `--encoding` spells it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gbk => "gbk",
            Encoding::Auto => "auto",
        }
    }
}

/// Options for reading delimited input files.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReadArgs {
    /// Encoding of the input files (`auto`: each file by itself).
    #[arg(long, value_enum, default_value_t = Encoding::Utf8)]
    encoding: Encoding,
    /// Field delimiter of the input files: a single character, `tab`, or `auto` (each file's
    /// from its header: the one of `,` tab `|` `;` it holds most of).
    #[arg(long, default_value = ",", value_parser = parse_delimiter)]
    delimiter: Delimiter,
}

/// A field delimiter: a character, or none for `auto` (each file's own, from its header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delimiter(pub(crate) Option<char>);

fn parse_delimiter(s: &str) -> Result<Delimiter, String> {
    match s {
        "auto" => Ok(Delimiter(None)),
        "tab" | "\\t" | "\t" => Ok(Delimiter(Some('\t'))),
        _ => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c != '"' && c != '\n' && c != '\r' => Ok(Delimiter(Some(c))),
                _ => Err(format!("`{s}` is not a delimiter: give one character such as `,`, `|`, `tab`, or `auto`")),
            }
        }
    }
}

#[derive(Debug, Clone, Args)]
pub(crate) struct RunArgs {
    /// The declared month, `YYYY-MM`, or range of months, `YYYY-MM..YYYY-MM` (required). Only
    /// these months are evaluated; a record dated outside them holds its customer back and is
    /// listed with its file, line and field `month`.
    #[arg(long, value_name = "YYYY-MM[..YYYY-MM]")]
    month: crm_tiering::portfolio::MonthRange,
    /// Monthly AUM file(s): `month,customer_id,legal_entity,customer_kind,<component codes...>`
    /// or with a single `aum` column. Several files (or repeated options) are read together.
    /// Delimited text, or Parquet when the name ends in .parquet.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    aum: Vec<PathBuf>,
    /// Daily balance file(s): `date,customer_id,legal_entity,customer_kind,component,balance`.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    daily: Vec<PathBuf>,
    /// The store: a SQLite file or a `postgres://` URL, made by `init` (or --create-store).
    /// The prior states are those of its latest committed month (an empty store: every
    /// customer starts not enrolled, 未纳入; `import-states` loads a states file).
    #[arg(long, value_name = "PATH|URL", default_value = store::DEFAULT_STORE)]
    store: String,
    /// Create the store when there is none (the first run); without it a missing store is an
    /// error, never a new empty portfolio.
    #[arg(long)]
    create_store: bool,
    /// Start from this checked states file (a states.jsonl) instead of the store's latest
    /// month: an import path, for a store without committed months only (`import-states` loads
    /// a file on its own).
    #[arg(long, value_name = "FILE")]
    states: Option<PathBuf>,
    /// Replace the month when it is committed already (the latest committed month only); the
    /// replaced run stays in the audit.
    #[arg(long)]
    rerun: bool,
    /// Special VIP designations: `customer_id,month,action,tier,months` (action grant or revoke).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    designations: Vec<PathBuf>,
    /// The rule book (TOML or JSON). Default: rules-spec/default-rules.toml when it exists in the
    /// current directory, otherwise the default book built into the tool.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
    /// Hold back the customers of bad records (state kept, nothing emitted), write everybody
    /// else's results and keep the held customers as the run's rejects in the store instead of
    /// stopping (exit code 6 when anything was held back).
    #[arg(long)]
    skip_bad_rows: bool,
    #[command(flatten)]
    portfolio: options::PortfolioArgs,
    #[command(flatten)]
    contribution: run::contribution::RunContributionArgs,
    #[command(flatten)]
    measures: run::measures::RunMeasureArgs,
    /// Print only the committed months, not the summary.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Args)]
struct DemoArgs {
    /// Directory for the generated inputs (input/) and the demo's store (crm-tiering.db, made
    /// anew by each demo): a new or empty directory, or one an earlier demo made (marked by
    /// its .crm-tiering-demo file); any other directory is refused, nothing in it touched.
    #[arg(long, value_name = "DIR", default_value = "out/demo")]
    out: PathBuf,
    /// Commit into this store instead (a SQLite path or `postgres://` URL, created when
    /// missing; the demo's months must not be committed in it yet).
    #[arg(long, value_name = "PATH|URL")]
    store: Option<String>,
    /// Number of customers.
    #[arg(long, default_value_t = 100_000)]
    customers: u32,
    /// Number of months.
    #[arg(long, default_value_t = 24)]
    months: u32,
    /// First month (YYYY-MM).
    #[arg(long, default_value = "2023-01")]
    start: String,
    /// Seed of the generator: the same seed gives the same portfolio.
    #[arg(long, default_value_t = 20240601)]
    seed: u64,
    /// The rule book (default as for `run`).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Worker threads for the evaluation (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Also generate a contribution dataset (贡献度: deposit and loan accounts, an FTP rate
    /// table, fees, cost pools and their drivers, account manager assignments) for the
    /// customers of the last month, with the rule book rules-spec/contribution-demo.toml, and
    /// compute that month into contribution/ and the demo's store.
    #[arg(long)]
    contribution: bool,
}

#[derive(Debug, Clone, Args)]
struct ExplainArgs {
    /// The customer id (客户号).
    #[arg(long)]
    customer: String,
    /// The store (SQLite path or `postgres://` URL).
    #[arg(long, value_name = "PATH|URL", default_value = store::DEFAULT_STORE)]
    store: String,
}

#[derive(Debug, Clone, Args)]
struct HistoryArgs {
    /// The store (SQLite path or `postgres://` URL).
    #[arg(long, value_name = "PATH|URL", default_value = store::DEFAULT_STORE)]
    store: String,
    /// One JSON object per run instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Args)]
struct ExportArgs {
    /// The month `YYYY-MM` or range `YYYY-MM..YYYY-MM` to export: every month of it must be
    /// committed (the months the store does not have are named, nothing is exported).
    #[arg(long, value_name = "YYYY-MM[..YYYY-MM]")]
    month: crm_tiering::portfolio::MonthRange,
    /// parquet, csv, or jsonl (the checked states text of each month, events, alerts).
    #[arg(long, value_enum)]
    format: export::Format,
    /// Start CSV files with a UTF-8 byte-order mark, so that Excel reads Chinese text.
    #[arg(long)]
    bom: bool,
    /// Output directory (created when missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The store (SQLite path or `postgres://` URL).
    #[arg(long, value_name = "PATH|URL", default_value = store::DEFAULT_STORE)]
    store: String,
}

#[derive(Debug, Clone, Args)]
struct ReportArgs {
    /// The month `YYYY-MM` to report: a committed month of the store.
    #[arg(long, value_name = "YYYY-MM")]
    month: crm_tiering::Month,
    /// The store (SQLite path or `postgres://` URL).
    #[arg(long, value_name = "PATH|URL", default_value = store::DEFAULT_STORE)]
    store: String,
    /// The HTML file to write (replaced when it exists).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Account manager assignment (客户经理): a UTF-8 CSV of `customer_id,manager` (a header line
    /// naming those columns is optional). Adds an alert work-list per manager; without it that
    /// section is left out.
    #[arg(long, value_name = "FILE")]
    managers: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
struct ImportStatesArgs {
    /// The checked states file (a states.jsonl written by `export --format jsonl` or an older
    /// crm-tiering run).
    file: PathBuf,
    /// The month the states are after (default: the latest month a customer was evaluated).
    #[arg(long, value_name = "YYYY-MM")]
    month: Option<crm_tiering::Month>,
    /// The rule book that wrote the states (default as for `run`).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Replace that month when it is committed already.
    #[arg(long)]
    rerun: bool,
    /// The store (SQLite path or `postgres://` URL).
    #[arg(long, value_name = "PATH|URL", default_value = store::DEFAULT_STORE)]
    store: String,
    /// Create the store when there is none.
    #[arg(long)]
    create_store: bool,
}

#[derive(Debug, Clone, Args)]
struct InitArgs {
    /// Where the new store goes: a SQLite file path (which must not exist) or a `postgres://`
    /// URL (a database without a store).
    #[arg(long, value_name = "PATH|URL")]
    store: String,
}

#[derive(Debug, Clone, Args)]
struct StoreArgs {
    /// The store (SQLite path or `postgres://` URL).
    #[arg(long, value_name = "PATH|URL", default_value = store::DEFAULT_STORE)]
    store: String,
}

#[derive(Debug, Clone, Args)]
struct RollbackArgs {
    /// The month to undo: the latest committed month.
    #[arg(long, value_name = "YYYY-MM")]
    month: crm_tiering::Month,
    /// The store (SQLite path or `postgres://` URL).
    #[arg(long, value_name = "PATH|URL", default_value = store::DEFAULT_STORE)]
    store: String,
}

#[derive(Debug, Clone, Args)]
struct CheckRulesArgs {
    /// The rule book to check (TOML, or JSON when it ends in .json or starts with `{`).
    file: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init(args) => store::init_command(&args.store),
        Command::Run(args) => run::run_command(&args),
        Command::Rollback(args) => store::rollback_command(&args.store, args.month),
        Command::Migrate(args) => store::migrate_command(&args.store),
        Command::Demo(args) => demo::demo_command(
            &args.out,
            demo::DemoSpec {
                customers: args.customers,
                months: args.months,
                start: args.start,
                seed: args.seed,
                contribution: args.contribution,
            },
            args.rules.as_deref(),
            args.threads,
            args.store.as_deref(),
        ),
        Command::Explain(args) => explain::explain_command(&args.customer, &args.store),
        Command::History(args) => store::history_command(&args.store, args.json),
        Command::Export(args) => export::export_command(&args.store, args.month, args.format, args.bom, &args.out),
        Command::Report(args) => report::report_command(&args.store, args.month, &args.out, args.managers.as_deref()),
        Command::Worklist(args) => worklist::worklist_command(&args),
        Command::ImportStates(args) => store::import_states_command(
            &args.store,
            &args.file,
            args.month,
            args.rules.as_deref(),
            args.rerun,
            args.create_store,
        ),
        Command::Simulate(args) => simulate::simulate_command(&args),
        Command::Contribution(args) => contribution::contribution_command(&args),
        Command::Loans(args) => loans::loans_command(&args),
        Command::CheckRules(args) => check_rules::check_rules_command(&args.file),
        Command::Bench(args) => bench::bench_command(&args),
    };
    match result {
        Ok(exit) => exit.code(),
        Err(failure) => {
            failure.print();
            failure.exit.code()
        }
    }
}

/// Loads the rule book: the given file, else `rules-spec/default-rules.toml` in the current
/// directory, else the built-in default book.
pub(crate) fn load_rules(path: Option<&std::path::Path>) -> Result<(crm_tiering::RuleBook, String), Failure> {
    let default_path = std::path::Path::new("rules-spec/default-rules.toml");
    let (result, source) = match path {
        Some(p) => (crm_tiering::RuleBook::from_path(p), p.display().to_string()),
        None if default_path.is_file() => {
            (crm_tiering::RuleBook::from_path(default_path), default_path.display().to_string())
        }
        None => (crm_tiering::RuleBook::default_book(), "built-in default rule book".to_string()),
    };
    match result {
        Ok(book) => Ok((book, source)),
        Err(e) => Err(Failure::new(Exit::Rules, format!("{source}: {e}"))),
    }
}

/// The number of worker threads: the option, else the available cores.
pub(crate) fn thread_count(option: Option<usize>) -> usize {
    option.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
}
