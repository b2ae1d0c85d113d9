//! `run --contribution-rules BOOK --contribution-inputs DIR` (SPEC §20.11): the contribution
//! month computed in the same run as the tiering month, each customer's net contribution given
//! to the tiering records as a measure, and the month stored beside the tiering month.
//!
//! Everything that can be refused is refused before the tiering month is evaluated: the
//! contribution inputs (each error with its file and line), a tiering book without the measure,
//! a tiering record that gives the measure itself, and a contribution month the store holds
//! already (without `--rerun`). The contribution month is written once the tiering month is
//! committed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use crm_tiering::portfolio::{Extract, MonthRange};
use crm_tiering::{Decimal, Month, RuleBook, TieringError};
use crm_tiering_contribution::{Contribution, Inputs};

use crate::contribution::{self, ContributionArgs};
use crate::exit::{Exit, Failure};

/// The flags of `run` for a contribution month (SPEC §20.11).
#[derive(Debug, Clone, Args)]
pub(crate) struct RunContributionArgs {
    /// Also compute the declared month's customer contribution (客户贡献度, SPEC §20) from this
    /// contribution rule book, give each customer's net contribution to the tiering rule book's
    /// measure (--contribution-measure), so a tier may qualify by AUM or contribution, and store
    /// the contribution month beside the tiering month (SPEC §20.11). Needs
    /// --contribution-inputs and a single --month.
    #[arg(long, value_name = "FILE", requires = "contribution_inputs")]
    pub(crate) contribution_rules: Option<PathBuf>,
    /// The folder of the contribution month's CSV files: accounts.csv, and each of fees.csv,
    /// cost-pools.csv, activities.csv, direct-costs.csv and assignments.csv that is there (the
    /// files `demo --contribution` writes).
    #[arg(long, value_name = "DIR", requires = "contribution_rules")]
    pub(crate) contribution_inputs: Option<PathBuf>,
    /// The tiering rule book's measure that the net contribution feeds.
    #[arg(long, value_name = "CODE", default_value = "contribution", requires = "contribution_rules")]
    pub(crate) contribution_measure: String,
}

/// A contribution month computed for a run, its values given to the tiering records.
pub(crate) struct RunContribution {
    args: ContributionArgs,
    inputs: Inputs,
    result: Contribution,
    account_months: usize,
    measure: String,
    /// The tiering records that got a value.
    given: usize,
    /// The contribution customers with no tiering record.
    without_record: usize,
    started: Instant,
}

/// Computes the run's contribution month, when its flags ask for one, and gives each tiering
/// record of the month its customer's net contribution as the measure.
///
/// # Errors
/// A range of months (usage), the contribution book or inputs (exit codes 3 and 4, each record
/// error with its file and line), a tiering book without the measure (exit code 3), a tiering
/// record that gives the measure itself (exit code 4), and a contribution month stored already
/// without `--rerun` (exit code 8). Nothing is written then.
pub(crate) fn supply(
    flags: &RunContributionArgs,
    (months, store, rerun): (MonthRange, &str, bool),
    book: &RuleBook,
    extract: &mut Extract,
) -> Result<Option<RunContribution>, Failure> {
    let (Some(rules), Some(dir)) = (&flags.contribution_rules, &flags.contribution_inputs) else { return Ok(None) };
    let started = Instant::now();
    let month = single_month(months)?;
    let args = contribution_args(rules, dir, month, store, rerun)?;
    refuse_stored(store, month, rerun)?;
    let contribution::Computed { inputs, result, account_months, .. } = contribution::compute_month(&args)?;
    let net: HashMap<&str, Decimal> =
        result.customers.iter().map(|c| (c.customer.as_str(), c.figures.net_contribution)).collect();
    let given = extract
        .supply_measure(book, &flags.contribution_measure, month, &net)
        .map_err(|e| refused(&e, &flags.contribution_measure))?;
    // One record a customer in the month: the customers given a value are the records.
    let without_record = net.len().saturating_sub(given);
    let measure = flags.contribution_measure.clone();
    Ok(Some(RunContribution { args, inputs, result, account_months, measure, given, without_record, started }))
}

impl RunContribution {
    /// Writes the contribution month into the store, once the tiering month is committed;
    /// returns the line that says so.
    ///
    /// # Errors
    /// The store's failure: the tiering month stays committed, and the message says how to
    /// store the contribution month on its own.
    pub(crate) fn store(&self, create: bool) -> Result<String, Failure> {
        let Some(location) = &self.args.store else { return Ok(String::new()) };
        let stored = crate::store::open(location, create)
            .and_then(|store| contribution::store_month(store, &self.args, &self.result, &self.inputs));
        stored.map_err(|f| {
            let how = format!(
                "the tiering month is committed, the contribution month {} is not stored: store it with `crm-tiering contribution --month {} --store {location} --rerun` and the same files",
                self.result.month, self.result.month
            );
            Failure::new(f.exit, format!("{}; {how}", f.message))
        })
    }

    /// The run's line about its contribution month.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{}; measure `{}` given to {} tiering record(s){}",
            contribution::summary(
                &self.result,
                self.account_months,
                &contribution::files::stage_rows(&self.result),
                self.started
            ),
            self.measure,
            self.given,
            match self.without_record {
                0 => String::new(),
                n => format!(", {n} contribution customer(s) without a tiering record (not evaluated for it)"),
            }
        )
    }
}

/// The one month of a run with a contribution month.
fn single_month(months: MonthRange) -> Result<Month, Failure> {
    let (first, last) = (months.first(), months.last());
    if first == last {
        return Ok(first);
    }
    Err(Failure::new(
        Exit::Usage,
        format!("a contribution month needs a single --month, got {first}..{last}; nothing was written"),
    ))
}

/// The `contribution` command's arguments for the files of `dir`.
fn contribution_args(
    rules: &Path,
    dir: &Path,
    month: Month,
    store: &str,
    rerun: bool,
) -> Result<ContributionArgs, Failure> {
    let optional = |name: &str| Some(dir.join(name)).filter(|p| p.is_file());
    let accounts = dir.join("accounts.csv");
    if !accounts.is_file() {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "{}: no such file (--contribution-inputs needs accounts.csv); nothing was written",
                accounts.display()
            ),
        ));
    }
    Ok(ContributionArgs {
        rules: rules.to_path_buf(),
        month,
        accounts,
        fees: optional("fees.csv"),
        cost_pools: optional("cost-pools.csv"),
        activities: optional("activities.csv"),
        direct_costs: optional("direct-costs.csv"),
        assignments: optional("assignments.csv"),
        out: None,
        store: Some(store.to_string()),
        rerun,
        explain: None,
    })
}

/// Refuses a contribution month the store holds already, unless it is to be replaced (a store
/// that is not there yet holds none).
fn refuse_stored(location: &str, month: Month, rerun: bool) -> Result<(), Failure> {
    let Ok(mut store) = crm_tiering_store::Store::open_read_only(location) else { return Ok(()) };
    let stored = store.contribution_months().map_err(crate::store::failure)?;
    if !rerun && stored.contains(&month) {
        return Err(Failure::new(
            Exit::Committed,
            format!(
                "the store holds the contribution month {month} already (give --rerun to replace it); nothing was written"
            ),
        ));
    }
    Ok(())
}

/// A refusal of the values for the tiering book: the book does not declare the measure (a rules
/// error) or a record gives it itself (an input error).
fn refused(e: &TieringError, measure: &str) -> Failure {
    let exit = if e.category() == "rules" { Exit::Rules } else { Exit::BadInput };
    Failure::new(exit, format!("--contribution-measure {measure}: {e}; nothing was written"))
}
