//! `crmt_contribution_compute`: a rule book and tables in CSV text, computed into a
//! `crmt_contribution`; its failure carries the first error's details and every message.

use std::ffi::c_char;

use crm_tiering::Month;
use crm_tiering_contribution::{
    Contribution, ContributionError, Inputs, RuleBook, compute, read_account_months, read_activities, read_assignments,
    read_cost_pools, read_direct_costs, read_fees,
};

use crate::args::{c_str, c_str_opt};
use crate::boundary::{guard, guard_value};
use crate::code::crmt_result;
use crate::details::Failure;
use crate::evaluate::parse_month;
use crate::handle::{Handle, Kind, free_handle, put_handle};

/// A computed contribution month (SPEC §20): every customer's figures, the account managers'
/// and branches' roll-ups, the allocation stages and the lineage. Immutable: read it from any
/// number of threads at once; free it once no thread reads it.
pub struct crmt_contribution {
    pub(crate) result: Contribution,
}

impl Handle for crmt_contribution {
    const KIND: Kind = Kind::Contribution;
}

/// The failure of a run with errors: the first error's category, field, customer and record,
/// and every message, the first first, one a line.
fn failure(errors: &[ContributionError], month: Month) -> Failure {
    let message = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
    let Some(first) = errors.first() else {
        return Failure::new(crmt_result::CRMT_INPUT_ERROR, "the contribution month failed");
    };
    let code = if first.is_rules() { crmt_result::CRMT_RULES_ERROR } else { crmt_result::CRMT_INPUT_ERROR };
    let mut f = Failure::new(code, message);
    f.field = first.field().map(str::to_string);
    f.customer = first.customer().map(str::to_string);
    f.record = first
        .table_record()
        .map(|(table, line)| Box::new((table.to_string(), u64::try_from(line).unwrap_or(u64::MAX))));
    if !first.is_rules() {
        f.month = i32::try_from(month.yyyymm()).unwrap_or(0);
    }
    f
}

/// The tables' texts as the caller passed them (NULL: not given).
struct Texts<'a> {
    account_months: &'a str,
    fees: Option<&'a str>,
    cost_pools: Option<&'a str>,
    activities: Option<&'a str>,
    direct_costs: Option<&'a str>,
    assignments: Option<&'a str>,
}

/// Reads one table when given, its errors added to `errors`.
fn table<T>(
    name: &str,
    text: Option<&str>,
    reader: fn(&str, &str) -> Result<Vec<T>, crm_tiering_contribution::ContributionErrors>,
    errors: &mut Vec<ContributionError>,
) -> Vec<T> {
    match text.map(|t| reader(name, t)) {
        Some(Ok(records)) => records,
        Some(Err(e)) => {
            errors.extend(e.0);
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// The book and every table read, each problem of each kept: the book's first, then the
/// tables' in the order of the arguments.
fn read_all(book: &str, t: &Texts<'_>, month: Month) -> Result<(RuleBook, Inputs), Failure> {
    let mut errors = Vec::new();
    let book = RuleBook::from_toml_str(book).map_err(|e| errors.extend(e.0)).ok();
    let inputs = Inputs {
        account_months: table("account_months", Some(t.account_months), read_account_months, &mut errors),
        fees: table("fees", t.fees, read_fees, &mut errors),
        cost_pools: table("cost_pools", t.cost_pools, read_cost_pools, &mut errors),
        activities: table("activities", t.activities, read_activities, &mut errors),
        direct_costs: table("direct_costs", t.direct_costs, read_direct_costs, &mut errors),
        assignments: table("assignments", t.assignments, read_assignments, &mut errors),
    };
    match book {
        Some(book) if errors.is_empty() => Ok((book, inputs)),
        _ => Err(failure(&errors, month)),
    }
}

/// Computes the contribution month `month` (`year * 100 + month`) from a rule book in TOML
/// text (SPEC §20.2; an `[ftp] file` cannot be read here: give the rates inline) and the input
/// tables as CSV text (SPEC §20.7: a header line of column names, then a record a line).
/// `account_months_csv` is required; each other table is NULL when not given. In error
/// messages the tables are named `account_months`, `fees`, `cost_pools`, `activities`,
/// `direct_costs` and `assignments`.
///
/// On success `*out` receives a new handle, owned by the caller and released with
/// `crmt_contribution_free`; read it with `crmt_contribution_customer_count`,
/// `crmt_contribution_customer_id`, `crmt_contribution_customer_figures`, the managers' readers
/// and `crmt_contribution_to_json`.
///
/// # Errors
/// - `CRMT_NULL_ARGUMENT` (`book_toml`, `account_months_csv`, `out`), `CRMT_INVALID_UTF8`
///   naming the parameter, `CRMT_INVALID_MONTH`.
/// - A month with errors gives no handle and no figures (SPEC §20.8): `CRMT_RULES_ERROR` when
///   the first error is the rule book's, `CRMT_INPUT_ERROR` otherwise (a table's cell or line, a
///   record, a missing FTP rate, manager shares, a zero driver total, a conservation fault).
///   The errors are found in order: the book's, then each table's (in the order of the
///   parameters), then, only when there is none, the computation's. Decision: the details
///   are the **first** error's (`crmt_last_error_field`: its field or column;
///   `crmt_last_error_record`: its table and line, the header line 1;
///   `crmt_last_error_customer`: for manager shares), and `crmt_last_error_message` holds
///   **every** error's message, one a line, the first first: its first line is the first
///   error's message.
///
/// # Safety
/// Each text is NULL or NUL-terminated and readable for the call; `out` is writable.
/// Thread-safe: no state is shared between calls.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments, reason = "one text per input table of SPEC §20.7")]
pub unsafe extern "C" fn crmt_contribution_compute(
    book_toml: *const c_char,
    month: i32,
    account_months_csv: *const c_char,
    fees_csv: *const c_char,
    cost_pools_csv: *const c_char,
    activities_csv: *const c_char,
    direct_costs_csv: *const c_char,
    assignments_csv: *const c_char,
    out: *mut *mut crmt_contribution,
) -> crmt_result {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: NULL or NUL-terminated per the contract (each text below likewise).
        let book = unsafe { c_str(book_toml, "book_toml") }?;
        let month = parse_month(month)?;
        let texts = Texts {
            // SAFETY: as above.
            account_months: unsafe { c_str(account_months_csv, "account_months_csv") }?,
            // SAFETY: as above.
            fees: unsafe { c_str_opt(fees_csv, "fees_csv") }?,
            // SAFETY: as above.
            cost_pools: unsafe { c_str_opt(cost_pools_csv, "cost_pools_csv") }?,
            // SAFETY: as above.
            activities: unsafe { c_str_opt(activities_csv, "activities_csv") }?,
            // SAFETY: as above.
            direct_costs: unsafe { c_str_opt(direct_costs_csv, "direct_costs_csv") }?,
            // SAFETY: as above.
            assignments: unsafe { c_str_opt(assignments_csv, "assignments_csv") }?,
        };
        let (book, inputs) = read_all(book, &texts, month)?;
        let result = compute(&book, month, &inputs).map_err(|e| failure(&e.0, month))?;
        // SAFETY: `out` is writable per the contract.
        unsafe { put_handle(out, crmt_contribution { result }, "out") }
    })
}

/// Frees a contribution month. NULL is ignored. A pointer that is not a live
/// `crmt_contribution` (freed already, another kind of handle) is refused: nothing is freed, and
/// the thread's error details say why (`CRMT_INVALID_ARGUMENT`, field `contribution`). Otherwise
/// keeps the error details.
///
/// # Safety
/// No other thread uses `contribution` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_contribution_free(contribution: *mut crmt_contribution) {
    guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(contribution, "contribution") }
    });
}
