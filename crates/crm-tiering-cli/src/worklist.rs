//! `crm-tiering worklist`: the account managers' work-list of a committed month (客户经理工作清单,
//! SPEC §11.1): every alert open in the month, one row per manager, customer and alert, most
//! urgent first.
//!
//! The managers come from an assignments file in the contribution's format and reader (SPEC
//! §20.1, §20.7: `customer,manager,role,share`, checked as a contribution run checks it); the
//! severity, how long a warning stays open, the warning that gave an alert (and so its role) and
//! the explanation line are the core's (`Alert::severity`, `Alert::is_open_in`,
//! `RuleBook::warning_of`, `Alert::explain_with`). The file is written under a temporary name
//! and renamed into place when it is whole.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use clap::Args;
use crm_tiering::{Alert, Customer, Month, RuleBook, Severity, Warning, WarningRole};
use crm_tiering_contribution::{Assignment, check_assignments, read_assignments};
use crm_tiering_store::{MonthRecord, StateRow, Store};

use crate::contribution::locate;
use crate::exit::{Exit, Failure, listed};
use crate::export::{Cell, Table, int, opt_text, text};
use crate::output::Staging;
use crate::store::{failure, not_committed, open_read_only};
use crate::summary::tier_names;
use crate::text::read_utf8;

/// Arguments of `crm-tiering worklist`.
#[derive(Debug, Clone, Args)]
pub(crate) struct WorklistArgs {
    /// The month `YYYY-MM`: a committed month of the store. Its alerts, and the warnings of the
    /// months before it that are still open in it (a rule's `lifetime_months`), are listed.
    #[arg(long, value_name = "YYYY-MM")]
    pub(crate) month: Month,
    /// The store (SQLite path or `postgres://` URL), opened read-only.
    #[arg(long, value_name = "PATH|URL", default_value = crate::store::DEFAULT_STORE)]
    pub(crate) store: String,
    /// Account manager assignments (CSV, UTF-8), the contribution's file:
    /// `customer,manager,role,share` (role 主办/lead or 协办/assisting, share in percent; a
    /// customer's shares sum to 100 with exactly one lead).
    #[arg(long, value_name = "FILE")]
    pub(crate) assignments: PathBuf,
    /// The CSV file to write (replaced when it exists; its directory is created when missing).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Start the file with a UTF-8 byte-order mark, so that Excel reads Chinese text.
    #[arg(long)]
    pub(crate) bom: bool,
}

/// The columns of the work-list, in order.
pub(crate) const COLUMNS: &[&str] = &[
    "month",
    "manager_id",
    "role",
    "role_zh",
    "legal_entity",
    "customer_id",
    "tier",
    "kind",
    "kind_zh",
    "severity",
    "severity_zh",
    "alert_month",
    "open_until",
    "months_left",
    "measure",
    "measure_window",
    "measure_value",
    "threshold",
    "gap",
    "explanation",
];

/// Who a row goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Assignee {
    /// An account manager of the customer, 主办 or 协办.
    Manager(String, crm_tiering_contribution::Role),
    /// The customer's branch (legal entity): a warning whose rule's role is `branch`.
    Branch,
    /// A customer the assignments file gives no manager: an empty manager id.
    Unassigned,
}

impl Assignee {
    fn manager_id(&self) -> &str {
        match self {
            Assignee::Manager(id, _) => id,
            Assignee::Branch | Assignee::Unassigned => "",
        }
    }

    /// The role's code and Chinese name.
    fn role(&self) -> (&'static str, &'static str) {
        match self {
            Assignee::Manager(_, role) => (role.as_str(), role.name_zh()),
            Assignee::Branch => (WarningRole::Branch.as_str(), WarningRole::Branch.name_zh()),
            Assignee::Unassigned => ("unassigned", "未分配"),
        }
    }
}

/// One row of the work-list.
struct Row {
    assignee: Assignee,
    customer: Customer,
    alert: Alert,
    severity: Severity,
    explanation: String,
}

/// What the work-list holds, besides its rows: for the lines on stdout and stderr.
#[derive(Default)]
struct Counts {
    /// Customers with an alert open in the month.
    customers: usize,
    /// Of them, those with an alert for a manager and no assignment.
    unassigned: BTreeSet<String>,
    /// Customers of the assignments file not in the month's states.
    unknown: usize,
    /// Managers with a row.
    managers: BTreeSet<String>,
}

/// `crm-tiering worklist`.
///
/// # Errors
/// A bad assignments file (every error with its file, line and field; exit code 4), a month the
/// store has not committed (2), a store failure, or a stored warning no rule of its run's book
/// gives (1); nothing is written then.
pub(crate) fn worklist_command(args: &WorklistArgs) -> Result<Exit, Failure> {
    let assignments = read_assignment_file(&args.assignments)?;
    let mut store = open_read_only(&args.store)?;
    let (rows, counts) = collect(&mut store, args.month, &assignments)?;
    let written = write(args, &rows)?;
    if !counts.unassigned.is_empty() {
        eprintln!(
            "note: {} customer(s) with open alerts have no manager in {} (for example `{}`): their rows are listed under an empty manager_id, role unassigned",
            counts.unassigned.len(),
            args.assignments.display(),
            counts.unassigned.first().map(String::as_str).unwrap_or_default()
        );
    }
    if counts.unknown > 0 {
        eprintln!(
            "note: {} customer(s) of {} are not in the states of {}",
            counts.unknown,
            args.assignments.display(),
            args.month
        );
    }
    let by = |s: Severity| rows.iter().filter(|r| r.severity == s).count();
    println!(
        "wrote {}: the work-list of {}: {written} row(s) for {} manager(s), {} customer(s) with open alerts ({} high, {} medium, {} low)",
        args.out.display(),
        args.month,
        counts.managers.len(),
        counts.customers,
        by(Severity::High),
        by(Severity::Medium),
        by(Severity::Low)
    );
    Ok(Exit::Ok)
}

/// Reads the assignments file with the contribution's reader and checks it as a contribution
/// run does (shares, one lead, no manager twice); gives each customer's assignments.
///
/// # Errors
/// Every error, with the file and line of its record (exit code 4).
fn read_assignment_file(path: &Path) -> Result<BTreeMap<String, Vec<Assignment>>, Failure> {
    let text = read_utf8(path)?;
    let name = path.display().to_string();
    let what = "error(s) in the assignments file";
    let assignments = read_assignments(&name, &text).map_err(|e| listed(Exit::BadInput, &e.0, what))?;
    let errors = check_assignments(&assignments);
    if !errors.is_empty() {
        let keys = assignments.iter().map(|a| vec![a.customer.clone(), a.manager.clone()]).collect();
        let source = locate::Source::new(locate::Kind::Assignments, name, &text, keys);
        let described: Vec<String> = errors.iter().map(|e| locate::describe(e, &[&source])).collect();
        return Err(listed(Exit::BadInput, &described, what));
    }
    let mut by_customer: BTreeMap<String, Vec<Assignment>> = BTreeMap::new();
    for a in assignments {
        by_customer.entry(a.customer.clone()).or_default().push(a);
    }
    Ok(by_customer)
}

/// The alerts open in `month` (SPEC §11.1): its own, and the warnings of the months before it
/// still open; of a customer's alerts of one kind, measure and window, only the latest month's.
fn open_alerts(store: &mut Store, month: Month) -> Result<Vec<(String, Alert)>, Failure> {
    let lifetime = i32::try_from(Warning::MAX_LIFETIME_MONTHS).unwrap_or(1);
    let first = month.plus(1 - lifetime);
    let open: Vec<(String, Alert)> = store
        .alerts(first, month)
        .map_err(failure)?
        .into_iter()
        .filter(|a| a.alert.is_open_in(month))
        .map(|a| (a.customer_id, a.alert))
        .collect();
    let key = |c: &str, a: &Alert| {
        (c.to_string(), a.kind, a.measure.map(|m| m.as_str()), a.measure_window.map(|w| w.as_str()))
    };
    let mut latest: HashMap<_, Month> = HashMap::new();
    for (c, a) in &open {
        let m = latest.entry(key(c, a)).or_insert(a.month);
        *m = (*m).max(a.month);
    }
    Ok(open.into_iter().filter(|(c, a)| latest.get(&key(c, a)) == Some(&a.month)).collect())
}

/// Each customer of `wanted` as the store knows it: from the states of `month`, else (a warning
/// of a customer no longer there) the latest month before it down to `first`.
fn customers(
    store: &mut Store,
    (first, month): (Month, Month),
    wanted: &BTreeSet<String>,
    assigned: &BTreeMap<String, Vec<Assignment>>,
) -> Result<(HashMap<String, Customer>, usize), Failure> {
    let mut found: HashMap<String, Customer> = HashMap::new();
    let mut in_month = 0usize;
    let mut each = |row: StateRow| {
        if row.month == month && assigned.contains_key(&row.customer.id) {
            in_month += 1;
        }
        if wanted.contains(&row.customer.id) {
            found.insert(row.customer.id.clone(), row.customer);
        }
        Ok(())
    };
    store.for_each_state(month, month, &mut each).map_err(failure)?;
    let unknown = assigned.len().saturating_sub(in_month);
    if found.len() < wanted.len() && first < month {
        let mut earlier = |row: StateRow| {
            if wanted.contains(&row.customer.id) {
                // Months in order: the latest one wins.
                found.insert(row.customer.id.clone(), row.customer);
            }
            Ok(())
        };
        store.for_each_state(first, month.plus(-1), &mut earlier).map_err(failure)?;
    }
    Ok((found, unknown))
}

/// The rule book of the run that committed each month, by month; none when the store keeps no
/// text for the run.
struct Books {
    records: Vec<MonthRecord>,
    by_run: HashMap<i64, Option<RuleBook>>,
}

impl Books {
    fn of(&mut self, store: &mut Store, month: Month) -> Result<Option<&RuleBook>, Failure> {
        let Some(run_id) = self.records.iter().find(|r| r.month == month).map(|r| r.run_id) else {
            return Ok(None);
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = self.by_run.entry(run_id) {
            let book = match store.run_rule_book(run_id).map_err(failure)? {
                None => None,
                Some(text) => Some(RuleBook::from_str_auto(&text).map_err(|e| {
                    Failure::internal(format!("the rule book of run {run_id} does not load: {e}; nothing was written"))
                })?),
            };
            slot.insert(book);
        }
        Ok(self.by_run.get(&run_id).and_then(Option::as_ref))
    }
}

/// The role of a warning's alert (SPEC §22.1): its rule's, in the book of the run that
/// committed the alert's month; `manager` for every other alert.
fn role_of(books: &mut Books, store: &mut Store, customer: &Customer, alert: &Alert) -> Result<WarningRole, Failure> {
    if !alert.kind.is_warning() {
        return Ok(WarningRole::Manager);
    }
    let whose = || format!("the {} warning of customer {} in {}", alert.kind, customer.id, alert.month);
    let Some(book) = books.of(store, alert.month)? else {
        return Err(Failure::internal(format!(
            "{}: the store keeps no rule book for the run of that month, so whom it goes to is not known; nothing was written",
            whose()
        )));
    };
    match book.warning_of(customer, alert) {
        Ok(Some(w)) => Ok(w.role),
        Ok(None) => Err(Failure::internal(format!(
            "{}: no warning of the rule book of that month gives it; nothing was written",
            whose()
        ))),
        Err(e) => Err(Failure::internal(format!("{}: {e}; nothing was written", whose()))),
    }
}

/// The rows of the work-list of `month`, in order, and what they hold.
fn collect(
    store: &mut Store,
    month: Month,
    assignments: &BTreeMap<String, Vec<Assignment>>,
) -> Result<(Vec<Row>, Counts), Failure> {
    let records = store.months().map_err(failure)?;
    if !records.iter().any(|r| r.month == month) {
        return Err(not_committed(store, month, &records, "work-list"));
    }
    let open = open_alerts(store, month)?;
    let wanted: BTreeSet<String> = open.iter().map(|(c, _)| c.clone()).collect();
    let first = open.iter().map(|(_, a)| a.month).min().unwrap_or(month);
    let (known, unknown) = customers(store, (first, month), &wanted, assignments)?;
    let mut books = Books { records, by_run: HashMap::new() };
    let names = books.of(store, month)?.map(tier_names).unwrap_or_default();
    let tier = |code: crm_tiering::TierCode| match names.iter().find(|t| t.code == code.as_str()) {
        // As `explain` shows a tier.
        Some(t) => format!("{} {}", t.name_zh, t.code),
        None => code.to_string(),
    };
    let mut counts = Counts { customers: wanted.len(), unknown, ..Counts::default() };
    let mut rows = Vec::new();
    for (id, alert) in open {
        let Some(customer) = known.get(&id).cloned() else {
            return Err(Failure::internal(format!(
                "customer {id} has an alert in {} but no state in the store's months up to {month}; nothing was written",
                alert.month
            )));
        };
        let assignees = match role_of(&mut books, store, &customer, &alert)? {
            WarningRole::Branch => vec![Assignee::Branch],
            WarningRole::Manager => match assignments.get(&id) {
                Some(list) => list.iter().map(|a| Assignee::Manager(a.manager.clone(), a.role)).collect(),
                None => {
                    counts.unassigned.insert(id.clone());
                    vec![Assignee::Unassigned]
                }
            },
        };
        let explanation = alert.explain_with(tier);
        for assignee in assignees {
            if let Assignee::Manager(m, _) = &assignee {
                counts.managers.insert(m.clone());
            }
            let (customer, severity) = (customer.clone(), alert.severity());
            rows.push(Row { assignee, customer, alert, severity, explanation: explanation.clone() });
        }
    }
    // By manager, severity (high first), customer; then the newest alert first, then the order
    // the month gave its alerts in (the sort is stable).
    rows.sort_by(|a, b| {
        (a.assignee.manager_id(), a.severity.rank(), &a.customer.id, std::cmp::Reverse(a.alert.month)).cmp(&(
            b.assignee.manager_id(),
            b.severity.rank(),
            &b.customer.id,
            std::cmp::Reverse(b.alert.month),
        ))
    });
    Ok((rows, counts))
}

/// Writes the work-list file atomically; gives the rows written.
fn write(args: &WorklistArgs, rows: &[Row]) -> Result<u64, Failure> {
    let name = args.out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.is_empty() {
        return Err(Failure::new(Exit::Usage, format!("--out {}: give a file name", args.out.display())));
    }
    let dir = args.out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut staging = Staging::new(dir)?;
    let mut t = Table::file(&mut staging, &name, COLUMNS, args.bom)?;
    for r in rows {
        let a = &r.alert;
        let (role, role_zh) = r.assignee.role();
        t.push(vec![
            text(args.month),
            text(r.assignee.manager_id()),
            text(role),
            text(role_zh),
            opt_text(r.customer.legal_entity.as_ref()),
            text(&r.customer.id),
            opt_text(a.tier),
            text(a.kind.as_str()),
            text(a.kind.name_zh()),
            text(r.severity.as_str()),
            text(r.severity.name_zh()),
            text(a.month),
            text(a.open_until()),
            int(a.months_left),
            opt_text(a.measure),
            opt_text(a.measure_window),
            Cell::Amount(a.measure_value()),
            Cell::Amount(a.threshold()),
            Cell::Amount(a.gap()),
            text(&r.explanation),
        ])?;
    }
    let written = t.finish()?;
    staging.commit()?;
    Ok(written)
}
