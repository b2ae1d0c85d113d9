//! `crm-tiering loans`: a month's loan classification signals (五级分类, SPEC §21) from the
//! warehouse's loan-month records and the customers' loan states after the month before, under
//! the settings of the rule book's `[loans]` table (SPEC §21.2). Writes customers.csv,
//! signals.csv and loan-states.jsonl (the states the next month reads) into `--out`, and with
//! `--store` the month into the month-end store (SPEC §21.10), whose states the next month then
//! reads without a states file; all or none: any bad record is listed with its file, line and
//! field, and nothing is written anywhere.

pub(crate) mod files;
mod story;

pub(crate) use story::loan_story;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use crm_tiering::{
    LoanMonth, LoanOutcome, LoanSettings, LoanState, Month, evaluate_loan_month, read_loan_states, write_loan_states,
};
use crm_tiering_store::{LoanMeta, Store};

use crate::exit::{Exit, Failure, listed};
use crate::output::Staging;
use crate::text::{read_utf8, split};

/// Arguments of `crm-tiering loans`.
#[derive(Debug, Clone, Args)]
pub(crate) struct LoansArgs {
    /// The month (`YYYY-MM`): every record must be of it.
    #[arg(long, value_name = "YYYY-MM")]
    month: Month,
    /// Loan-month records (CSV, UTF-8): customer_id, loan_id, month, principal_overdue_days,
    /// interest_overdue_days, bank_class (a code, 正常 ... 损失, or 1-5) and optional
    /// expected_loss (0 to 1) and repayment_due (true/false).
    #[arg(long, value_name = "FILE")]
    loans: PathBuf,
    /// The customers' loan states after the month before: the loan-states.jsonl of that month's
    /// run (none: every customer starts without loans, or, with --store, the states of the
    /// store's latest loan month before --month). With --store, only for a store that holds no
    /// loan month before --month (the states the store starts from).
    #[arg(long, value_name = "FILE")]
    states: Option<PathBuf>,
    /// The rule book whose `[loans]` table holds the settings (default as for `run`; without
    /// the table, the 2023 rules' defaults).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Output directory for customers.csv, signals.csv and loan-states.jsonl (at least one of
    /// --out and --store).
    #[arg(long, value_name = "DIR", required_unless_present = "store")]
    out: Option<PathBuf>,
    /// Also write the month into this month-end store (a SQLite path or `postgres://` URL, made
    /// by `init`): each customer's summary, each loan's classes, the signals and the states
    /// after the month, in one transaction; the month's states are read from the store's
    /// latest loan month before it. `explain --customer` and `export` then show them.
    #[arg(long, value_name = "PATH|URL")]
    store: Option<String>,
    /// Replace the loan month when it is the store's latest (without it, a stored month is
    /// refused with exit code 8 and nothing is written).
    #[arg(long, requires = "store")]
    rerun: bool,
}

/// The columns of a loan-month record, as the header names them.
const COLUMNS: [&str; 8] = [
    "customer_id",
    "loan_id",
    "month",
    "principal_overdue_days",
    "interest_overdue_days",
    "bank_class",
    "expected_loss",
    "repayment_due",
];

/// Customers' loan states by customer id.
type States = BTreeMap<String, LoanState>;

/// `crm-tiering loans`.
pub(crate) fn loans_command(args: &LoansArgs) -> Result<Exit, Failure> {
    let (book, _) = crate::load_rules(args.rules.as_deref())?;
    let settings = book.loan_settings();
    // Never made here: a missing store is an error naming `init`.
    let mut store = args.store.as_deref().map(Store::open).transpose().map_err(crate::store::failure)?;
    let (states, read_from) = prior_states(args, store.as_mut())?;
    let outcomes = classify_file(&settings, args.month, &args.loans, &states)?;
    // The files are staged first, the store written next, and the files renamed into place
    // last: a store that refuses the month (stored already, locked) leaves no files behind.
    let staged = args.out.as_deref().map(|dir| stage_outputs(dir, &outcomes)).transpose()?;
    if let Some(store) = &mut store {
        let meta = LoanMeta { tool_version: crate::store::tool_version(), settings, rerun: args.rerun, read_from };
        store.write_loan_month(args.month, &outcomes, &meta).map_err(crate::store::failure)?;
        println!(
            "stored the loan month {} in {}{}",
            args.month,
            store.location(),
            if args.rerun { " (replacing it when it was there)" } else { "" }
        );
    }
    if let Some(staging) = staged {
        staging.commit()?;
    }
    println!("{}", summary(args.month, &outcomes));
    Ok(Exit::Ok)
}

/// Classifies a month from a loan-month CSV file and the customers' loan states after the month
/// before: every customer with a record or a state, in id order. `loans` and `demo` both call
/// it, so the demo's loan months are what the command gives.
///
/// # Errors
/// A file that cannot be read (usage), a bad record (every one listed with its line and field)
/// or a customer the core refuses (every one listed), exit code 4; nothing is classified then.
pub(crate) fn classify_file(
    settings: &LoanSettings,
    month: Month,
    path: &Path,
    states: &States,
) -> Result<Vec<LoanOutcome>, Failure> {
    let name = path.display().to_string();
    let records = read_records(path, &name)?;
    let (lines, loans): (Vec<u64>, Vec<LoanMonth>) = records.into_iter().unzip();
    let outcomes = evaluate_loan_month(settings, month, &loans, states).map_err(|errors| {
        let errors: Vec<String> = errors
            .0
            .iter()
            // A loan given twice is named by its first record's line.
            .map(|e| match e.other_record.or(e.record).and_then(|i| lines.get(i)) {
                Some(line) => format!("{name} line {line}: {}", e.error),
                None => e.error.to_string(),
            })
            .collect();
        listed(Exit::BadInput, &errors, "customer(s) cannot be classified")
    })?;
    Ok(outcomes)
}

/// Writes customers.csv, signals.csv and loan-states.jsonl into `dir`, renamed into place only
/// when all are written.
///
/// # Errors
/// A file that cannot be written (exit code 1); nothing is renamed into place then.
pub(crate) fn write_outputs(dir: &Path, outcomes: &[LoanOutcome]) -> Result<(), Failure> {
    stage_outputs(dir, outcomes)?.commit()
}

/// The states the month is classified from: the store's (its latest loan month before the
/// month), else the `--states` file, else none; with the stored month and digest they came
/// from. A `--states` file beside a store that holds a loan month before the month is refused:
/// two sources of one month's states would be a guess.
fn prior_states(args: &LoansArgs, store: Option<&mut Store>) -> Result<(States, Option<(Month, String)>), Failure> {
    let stored = match store {
        Some(store) => store.loan_states_before(args.month).map_err(crate::store::failure)?,
        None => None,
    };
    match (stored, &args.states) {
        (Some(stored), Some(path)) => Err(Failure::new(
            Exit::Usage,
            format!(
                "--states {} was given, but {} holds the loan month {} before {}, whose states the month reads; nothing was written: leave out --states (a states file only starts a store without loan months)",
                path.display(),
                crate::store::shown(args.store.as_deref().unwrap_or_default()),
                stored.month,
                args.month
            ),
        )),
        (Some(stored), None) => Ok((stored.states, Some((stored.month, stored.digest)))),
        (None, Some(path)) => Ok((read_states(path)?, None)),
        (None, None) => Ok((BTreeMap::new(), None)),
    }
}

/// Reads the loan-month records, each with its line; every bad cell is listed (exit code 4).
fn read_records(path: &Path, name: &str) -> Result<Vec<(u64, LoanMonth)>, Failure> {
    let text = read_utf8(path)?;
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(Failure::new(Exit::BadInput, format!("{name}: the file is empty; nothing was written")));
    };
    let mut cells = Vec::new();
    split(header.trim_start_matches('\u{feff}'), ',', &mut cells).map_err(|e| bad(name, 1, &e))?;
    let index: Vec<Option<usize>> = COLUMNS.iter().map(|c| cells.iter().position(|h| h.trim() == *c)).collect();
    if let Some(missing) = COLUMNS.iter().zip(&index).take(6).find(|(_, i)| i.is_none()) {
        return Err(bad(name, 1, &format!("the header has no column `{}`", missing.0)));
    }
    let (mut records, mut errors) = (Vec::new(), Vec::new());
    for (k, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
        let line_no = k as u64 + 1;
        match split(line, ',', &mut cells).map_err(|e| e.to_string()).and_then(|()| record(&cells, &index)) {
            Ok(r) => records.push((line_no, r)),
            Err(e) => errors.push(format!("{name} line {line_no}: {e}")),
        }
    }
    if !errors.is_empty() {
        return Err(listed(Exit::BadInput, &errors, "bad loan record(s)"));
    }
    Ok(records)
}

fn bad(name: &str, line: u64, message: &str) -> Failure {
    Failure::new(Exit::BadInput, format!("{name} line {line}: {message}; nothing was written"))
}

/// One record from its cells; the error names the field.
fn record(cells: &[std::borrow::Cow<'_, str>], index: &[Option<usize>]) -> Result<LoanMonth, String> {
    let cell = |k: usize| index.get(k).copied().flatten().and_then(|i| cells.get(i)).map_or("", |c| c.trim());
    let days = |k: usize| -> Result<i64, String> {
        let text = cell(k);
        text.parse::<i64>().map_err(|_| format!("field `{}`: `{text}` is not a whole number of days", COLUMNS[k]))
    };
    let month: Month = cell(2).parse().map_err(|e| format!("field `month`: {e}"))?;
    let expected_loss = match cell(6) {
        "" => None,
        t => Some(crm_tiering::parse_amount(t).map_err(|e| format!("field `expected_loss`: {e}"))?),
    };
    let repayment_due = match cell(7) {
        "" | "false" | "0" | "否" => false,
        "true" | "1" | "是" => true,
        t => return Err(format!("field `repayment_due`: `{t}` is not true or false")),
    };
    Ok(LoanMonth {
        customer_id: cell(0).to_string(),
        loan_id: cell(1).to_string(),
        month,
        principal_overdue_days: days(3)?,
        interest_overdue_days: days(4)?,
        bank_class: cell(5).to_string(),
        expected_loss,
        repayment_due,
    })
}

/// Reads loan-states.jsonl (the core's form); a line that does not read, or a customer twice,
/// stops the run.
fn read_states(path: &Path) -> Result<BTreeMap<String, LoanState>, Failure> {
    let text = read_utf8(path)?;
    read_loan_states(&text).map_err(|e| {
        Failure::new(Exit::BadInput, format!("{} line {}: {}; nothing was written", path.display(), e.line, e.message))
    })
}

/// Writes customers.csv, signals.csv and loan-states.jsonl under temporary names, renamed into
/// place when the staging is committed.
fn stage_outputs(dir: &Path, outcomes: &[LoanOutcome]) -> Result<Staging, Failure> {
    let mut staging = Staging::new(dir)?;
    let (mut customers, mut signals) = (format!("{}\n", files::CUSTOMERS), format!("{}\n", files::SIGNALS));
    for o in outcomes {
        customers.push_str(&files::customer_line(o));
        customers.push('\n');
        for s in &o.signals {
            signals.push_str(&files::signal_line(s));
            signals.push('\n');
        }
    }
    let states = write_loan_states(outcomes.iter().map(|o| (o.customer_id.as_str(), &o.state)));
    staging.write("customers.csv", &customers)?;
    staging.write("signals.csv", &signals)?;
    staging.write("loan-states.jsonl", &states)?;
    Ok(staging)
}

/// The run's one line: customers, loans, non-performing customers and signals by kind.
pub(crate) fn summary(month: Month, outcomes: &[LoanOutcome]) -> String {
    let loans: usize = outcomes.iter().map(|o| o.loans.len()).sum();
    let npl = outcomes.iter().filter(|o| o.has_non_performing).count();
    let mut kinds: BTreeMap<u16, (&str, usize)> = BTreeMap::new();
    for s in outcomes.iter().flat_map(|o| &o.signals) {
        kinds.entry(s.kind.number()).or_insert((s.kind.as_str(), 0)).1 += 1;
    }
    let by_kind: Vec<String> = kinds.values().map(|(k, n)| format!("{k} {n}")).collect();
    format!(
        "loans {month}: {} customers, {loans} loans, {npl} with a non-performing loan; signals: {}",
        outcomes.len(),
        if by_kind.is_empty() { "none".to_string() } else { by_kind.join(", ") }
    )
}
