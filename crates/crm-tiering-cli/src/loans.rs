//! `crm-tiering loans`: a month's loan classification signals (五级分类, SPEC §21) from the
//! warehouse's loan-month records and the customers' loan states after the month before, under
//! the settings of the rule book's `[loans]` table (SPEC §21.2). Writes customers.csv,
//! signals.csv and loan-states.jsonl (the states the next month reads), all or none: any bad
//! record is listed with its file, line and field, and nothing is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::Args;
use crm_tiering::{LoanMonth, LoanOutcome, LoanSettings, LoanState, Month, evaluate_loans};

use crate::exit::{Exit, Failure, listed};
use crate::output::Staging;
use crate::text::{csv_field, read_utf8, split};

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
    /// run (none: every customer starts without loans).
    #[arg(long, value_name = "FILE")]
    states: Option<PathBuf>,
    /// The rule book whose `[loans]` table holds the settings (default as for `run`; without
    /// the table, the 2023 rules' defaults).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Output directory for customers.csv, signals.csv and loan-states.jsonl.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
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

/// `crm-tiering loans`.
pub(crate) fn loans_command(args: &LoansArgs) -> Result<Exit, Failure> {
    let (book, _) = crate::load_rules(args.rules.as_deref())?;
    let states = match &args.states {
        Some(path) => read_states(path)?,
        None => BTreeMap::new(),
    };
    let outcomes = classify_file(&book.loan_settings(), args.month, &args.loans, &states)?;
    write_outputs(&args.out, &outcomes)?;
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
    states: &BTreeMap<String, LoanState>,
) -> Result<Vec<LoanOutcome>, Failure> {
    let name = path.display().to_string();
    let records = read_records(path, &name)?;
    let mut by_customer: BTreeMap<&str, Vec<&(u64, LoanMonth)>> = BTreeMap::new();
    for r in &records {
        by_customer.entry(r.1.customer_id.as_str()).or_default().push(r);
    }
    let customers: BTreeSet<&str> = by_customer.keys().copied().chain(states.keys().map(String::as_str)).collect();
    let (mut outcomes, mut errors) = (Vec::with_capacity(customers.len()), Vec::new());
    let empty = LoanState::default();
    for id in customers {
        let rows = by_customer.get(id).map(Vec::as_slice).unwrap_or_default();
        let loans: Vec<LoanMonth> = rows.iter().map(|r| r.1.clone()).collect();
        match evaluate_loans(settings, id, month, states.get(id).unwrap_or(&empty), &loans) {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => {
                let line = e.loan().and_then(|l| rows.iter().find(|r| r.1.loan_id == l)).map(|r| r.0);
                errors.push(match line {
                    Some(line) => format!("{name} line {line}: {e}"),
                    None => e.to_string(),
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(listed(Exit::BadInput, &errors, "customer(s) cannot be classified"));
    }
    Ok(outcomes)
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

/// One line of loan-states.jsonl: a customer's state after its month.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StateLine {
    customer_id: String,
    state: LoanState,
}

/// Reads loan-states.jsonl; a line that does not read, or a customer twice, stops the run.
fn read_states(path: &Path) -> Result<BTreeMap<String, LoanState>, Failure> {
    let text = read_utf8(path)?;
    let mut out = BTreeMap::new();
    for (k, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = |m: String| {
            Failure::new(Exit::BadInput, format!("{} line {}: {m}; nothing was written", path.display(), k + 1))
        };
        let s: StateLine = serde_json::from_str(line).map_err(|e| at(format!("not a loan state: {e}")))?;
        if out.insert(s.customer_id.clone(), s.state).is_some() {
            return Err(at(format!("customer `{}` is listed twice", s.customer_id)));
        }
    }
    Ok(out)
}

/// Writes customers.csv, signals.csv and loan-states.jsonl under temporary names, renamed into
/// place only when all are written.
///
/// # Errors
/// A file that cannot be written (exit code 1); nothing is renamed into place then.
pub(crate) fn write_outputs(dir: &Path, outcomes: &[LoanOutcome]) -> Result<(), Failure> {
    let mut staging = Staging::new(dir)?;
    // `non_performing` (1 or 0) is a measure column `run --measure non_performing=customers.csv`
    // reads, for a book that pauses upgrades while it is above zero (SPEC §21.8).
    let mut customers = String::from("month,customer_id,loans,worst,worst_zh,trend,non_performing\n");
    let mut signals = String::from(
        "month,customer_id,loan_id,number,signal,signal_zh,overdue_days,boundary,floor,bank,effective,clean_months,clean_periods\n",
    );
    let mut states = String::new();
    let text = |v: Option<String>| v.unwrap_or_default();
    for o in outcomes {
        let id = csv_field(&o.customer_id);
        customers.push_str(&format!(
            "{},{id},{},{},{},{},{}\n",
            o.month,
            o.loans.len(),
            text(o.worst.map(|c| c.as_str().to_string())),
            text(o.worst.map(|c| c.name_zh().to_string())),
            text(o.trend.map(|t| t.as_str().to_string())),
            u8::from(o.has_non_performing)
        ));
        for s in &o.signals {
            signals.push_str(&format!(
                "{},{id},{},{},{},{},{},{},{},{},{},{},{}\n",
                s.month,
                csv_field(&s.loan_id),
                s.kind.number(),
                s.kind.as_str(),
                s.kind.name_zh(),
                s.overdue_days,
                text(s.boundary.map(|b| b.to_string())),
                s.floor.as_str(),
                s.bank.as_str(),
                s.effective.as_str(),
                text(s.clean_months.map(|n| n.to_string())),
                text(s.clean_periods.map(|n| n.to_string()))
            ));
        }
        let line = StateLine { customer_id: o.customer_id.clone(), state: o.state.clone() };
        states.push_str(&serde_json::to_string(&line).map_err(|e| Failure::internal(format!("loan state: {e}")))?);
        states.push('\n');
    }
    staging.write("customers.csv", &customers)?;
    staging.write("signals.csv", &signals)?;
    staging.write("loan-states.jsonl", &states)?;
    staging.commit()
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
