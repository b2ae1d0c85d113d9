//! `crm-tiering contribution`: a customer contribution month (客户贡献度, SPEC §20) from CSV
//! extracts and a contribution rule book, written as CSV files (customers, managers, branches,
//! legal entities, lineage, stages) and, with `--store`, into the month-end store; `--explain`
//! prints one customer's lines.
//!
//! A run with any bad record writes nothing: every error is listed on stderr with the file and
//! line of the record it is about.

pub(crate) mod files;
mod lines;
pub(crate) mod locate;

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use crm_tiering::{Decimal, Month};
use crm_tiering_contribution::{
    AccountMonthTable, Contribution, ContributionError, ContributionErrors, Inputs, LineageLine, RuleBook,
    compute_table, compute_table_streaming,
};

use crate::exit::{Exit, Failure};
use crate::text::read_utf8;

pub(crate) use lines::render_lines;

/// Arguments of `crm-tiering contribution`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ContributionArgs {
    /// The contribution rule book (TOML, SPEC §20.2): day-count basis, rounding, FTP rates (or
    /// `ftp.file`, a CSV beside the book), allocation stages, provision and capital rates.
    #[arg(long, value_name = "FILE")]
    pub(crate) rules: PathBuf,
    /// The month computed (`YYYY-MM`): every record of every file must be of this month.
    #[arg(long, value_name = "YYYY-MM")]
    pub(crate) month: Month,
    /// Account-months (CSV): columns month, customer, account, product, side,
    /// average_balance, customer_rate, branch, legal_entity and optional term, days,
    /// loan_class, risk_weight.
    #[arg(long, value_name = "FILE")]
    pub(crate) accounts: PathBuf,
    /// Fee income (CSV): `month,customer,amount` and optional `product`.
    #[arg(long, value_name = "FILE")]
    pub(crate) fees: Option<PathBuf>,
    /// Cost pools (CSV): `month,cost_centre,amount`; each is allocated by a stage of the book.
    #[arg(long, value_name = "FILE")]
    pub(crate) cost_pools: Option<PathBuf>,
    /// Activity quantities for the drivers (CSV): `month,customer,quantity,value` and optional
    /// `product,channel,branch`.
    #[arg(long, value_name = "FILE")]
    pub(crate) activities: Option<PathBuf>,
    /// Costs charged directly to customers (CSV): `month,customer,item,amount`.
    #[arg(long, value_name = "FILE")]
    pub(crate) direct_costs: Option<PathBuf>,
    /// Account manager assignments (CSV): `customer,manager,role,share` (role 主办/lead or
    /// 协办/assisting, share in percent; a customer's shares sum to 100).
    #[arg(long, value_name = "FILE")]
    pub(crate) assignments: Option<PathBuf>,
    /// Output directory for customers.csv, managers.csv, branches.csv, legal_entities.csv,
    /// lineage.csv and stages.csv (created when missing; the files are written under temporary
    /// names and renamed into place only when all are written).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Also write the month into this month-end store (a SQLite path or `postgres://` URL, made
    /// by `init`) beside the tiering months: the customers' figures, the account managers'
    /// roll-up and the lineage, in one transaction. `explain --customer` then shows them.
    #[arg(long, value_name = "PATH|URL")]
    pub(crate) store: Option<String>,
    /// Replace the contribution month when the store holds it already (without it, a stored
    /// month is refused with exit code 8 and nothing is written).
    #[arg(long)]
    pub(crate) rerun: bool,
    /// Print this customer's lines (kind, account or pool, product, rates, driver quantity and
    /// share, amount) and net contribution.
    #[arg(long, value_name = "CUSTOMER")]
    pub(crate) explain: Option<String>,
}

/// The input files of a run, with each record's line and keys kept for locating record errors
/// (the account-months' lines are found again in their file only when an error needs them).
pub(crate) struct Sources {
    tables: Vec<locate::Source>,
    /// The account-months' file: its path and its name in messages.
    accounts: (PathBuf, String),
}

/// A computed month: its inputs other than the account-months, its result, and how
/// many account-months it had.
pub(crate) struct Computed {
    pub(crate) inputs: Inputs,
    pub(crate) result: Contribution,
    pub(crate) account_months: usize,
}

/// `crm-tiering contribution`: the lineage goes to lineage.csv and, with `--store`, into the
/// store as the computation hands it over (only the explained customer's lines are kept), so a
/// month's lineage is never held.
pub(crate) fn contribution_command(args: &ContributionArgs) -> Result<Exit, Failure> {
    let started = Instant::now();
    let book = load_book(&args.rules)?;
    let (accounts, inputs, sources) = read_inputs(args)?;
    let month = MonthRun { args, book: &book, inputs: &inputs, sources: &sources };
    // The files are staged first, the store written next (the computation inside its
    // transaction), and the files renamed into place last: a store that refuses the month
    // (stored already, locked) leaves no files behind.
    let mut done = match &args.store {
        None => month.compute(accounts, |_| {})?,
        Some(location) => {
            let (done, line) = month.store(location, accounts)?;
            println!("{line}");
            done
        }
    };
    if let Some(staging) = done.staged.take() {
        staging.commit()?;
    }
    if let Some(customer) = &args.explain {
        print!("{}", render_lines(customer, &done.explained));
    }
    wrote(args);
    println!("{}", summary(&done.result, done.account_months, &done.stages, started));
    Ok(Exit::Ok)
}

/// What a month is computed from (its account-months aside).
struct MonthRun<'a> {
    args: &'a ContributionArgs,
    book: &'a RuleBook,
    inputs: &'a Inputs,
    sources: &'a Sources,
}

/// A month computed with its lineage streamed: the result (without lineage), the stages'
/// rows counted from the lines as they passed, the staged files (lineage.csv and the rest),
/// the explained customer's lines and the number of account-months.
struct Streamed {
    result: Contribution,
    stages: Vec<files::StageRow>,
    staged: Option<crate::output::Staging>,
    explained: Vec<crm_tiering_contribution::LineageLine>,
    account_months: usize,
}

impl std::borrow::Borrow<Contribution> for Streamed {
    fn borrow(&self) -> &Contribution {
        &self.result
    }
}

impl MonthRun<'_> {
    /// Computes the month, each lineage line handed to `also` and to lineage.csv as it is
    /// made; the stages checked from the lines, the other files staged.
    fn compute(&self, accounts: AccountMonthTable, mut also: impl FnMut(&LineageLine)) -> Result<Streamed, Failure> {
        let args = self.args;
        let mut out = files::LineageOut::new(args.out.as_deref(), args.month);
        let mut explained_lines = Vec::new();
        let result = compute_table_streaming(self.book, args.month, &accounts, self.inputs, |l| {
            also(&l);
            out.push(&l);
            if args.explain.as_ref() == Some(&l.customer) {
                explained_lines.push(l);
            }
        })
        .map_err(|e| bad_input(&e, self.sources, &accounts, &args.rules))?;
        let account_months = accounts.len();
        drop(accounts);
        let stages = files::stage_rows_counted(&result, &out.to_customers);
        conserved(&stages)?;
        explained(args, &result)?;
        let staged = match out.finish()? {
            Some(mut staging) => {
                files::write_rest(&mut staging, self.book, &result, self.inputs, &stages)?;
                Some(staging)
            }
            None => None,
        };
        Ok(Streamed { result, stages, staged, explained: explained_lines, account_months })
    }

    /// Computes the month inside the store's transaction, each lineage line inserted as it is
    /// made ([`crm_tiering_store::Store::write_contribution_streaming`]): any failure, of the
    /// inputs, the checks, the files or the store, leaves nothing of the month stored. Returns
    /// the month and the line that says it is stored.
    fn store(&self, location: &str, accounts: AccountMonthTable) -> Result<(Streamed, String), Failure> {
        let args = self.args;
        // Never made here: a missing store is an error naming `init`.
        let mut store = crm_tiering_store::Store::open(location).map_err(crate::store::failure)?;
        let meta = crm_tiering_store::ContributionMeta {
            tool_version: crate::store::tool_version(),
            rule_book_text: read_utf8(&args.rules)?,
            rerun: args.rerun,
            // Not read by a streamed write: counted once the month is computed, below.
            unassigned_customers: 0,
        };
        let done = store.write_contribution_streaming(args.month, &meta, |sink| {
            let done = self.compute(accounts, |l| sink.push(l))?;
            let unassigned = files::unassigned_customers(&done.result, self.inputs);
            Ok::<_, Failure>(crm_tiering_store::StreamedContribution {
                contribution: done,
                unassigned_customers: u64::try_from(unassigned).unwrap_or(u64::MAX),
            })
        })?;
        Ok((done, stored_line(&store, args)))
    }
}

/// Refuses an `--explain` customer without an account-month in the month (nothing written).
fn explained(args: &ContributionArgs, result: &Contribution) -> Result<(), Failure> {
    match &args.explain {
        Some(customer) if result.customer(customer).is_none() => Err(Failure::new(
            Exit::Usage,
            format!("customer `{customer}` has no account-month in {}; nothing was written", args.month),
        )),
        _ => Ok(()),
    }
}

/// The line naming the files written, when there were.
fn wrote(args: &ContributionArgs) {
    if let Some(dir) = &args.out {
        println!(
            "wrote customers.csv, managers.csv, branches.csv, legal_entities.csv, lineage.csv and stages.csv to {}",
            dir.display()
        );
    }
}

/// Every stage conserved, as the outputs show it (what reached customers and pools is each
/// pool's amount: the computation checked it too; a difference is a fault, not a figure).
fn conserved(stages: &[files::StageRow]) -> Result<(), Failure> {
    match stages.iter().find(|s| !s.conserved) {
        Some(s) => Err(Failure::internal(format!(
            "stage {} (pool {}): {} allocated of {}; nothing was written",
            s.stage,
            s.pool,
            files::amount(s.allocated),
            files::amount(s.amount)
        ))),
        None => Ok(()),
    }
}

/// Reads the rule book and the input files and computes the month (SPEC §20), nothing
/// written: the `contribution` command's work before its outputs, and `run`'s with a
/// contribution month (SPEC §20.11).
///
/// The account-months are read line by line into an [`AccountMonthTable`] (the file is never
/// held, nor a list of records) and computed from it ([`compute_table`]); the table is let go
/// once the month is computed.
///
/// # Errors
/// An invalid rule book (exit code 3), the input files' record errors, each listed with its
/// file and line (exit code 4), and a stage that the outputs show not conserved (a fault).
pub(crate) fn compute_month(args: &ContributionArgs) -> Result<Computed, Failure> {
    let book = load_book(&args.rules)?;
    let (accounts, inputs, sources) = read_inputs(args)?;
    let result = compute_table(&book, args.month, &accounts, &inputs)
        .map_err(|e| bad_input(&e, &sources, &accounts, &args.rules))?;
    let account_months = accounts.len();
    drop(accounts);
    // The stages are checked again from the outputs.
    conserved(&files::stage_rows(&result))?;
    Ok(Computed { inputs, result, account_months })
}

/// Writes the month into the store (in one transaction; a stored month is replaced only with
/// `--rerun`); returns the line that says so.
///
/// # Errors
/// The store's refusal (the month stored already, exit code 8) or failure.
pub(crate) fn store_month(
    mut store: crm_tiering_store::Store,
    args: &ContributionArgs,
    result: &Contribution,
    inputs: &Inputs,
) -> Result<String, Failure> {
    let meta = crm_tiering_store::ContributionMeta {
        tool_version: crate::store::tool_version(),
        rule_book_text: read_utf8(&args.rules)?,
        rerun: args.rerun,
        unassigned_customers: u64::try_from(files::unassigned_customers(result, inputs)).unwrap_or(u64::MAX),
    };
    store.write_contribution(result, &meta).map_err(crate::store::failure)?;
    Ok(stored_line(&store, args))
}

/// The line that says the month is stored.
fn stored_line(store: &crm_tiering_store::Store, args: &ContributionArgs) -> String {
    format!(
        "stored the contribution month {} in {}{}",
        args.month,
        store.location(),
        if args.rerun { " (replacing it when it was there)" } else { "" }
    )
}

/// Reads the rule book; its errors are an invalid rule book (exit code 3), each listed.
pub(crate) fn load_book(path: &Path) -> Result<RuleBook, Failure> {
    RuleBook::from_path(path).map_err(|e| {
        for error in e.errors() {
            eprintln!("error: {}: {error}", path.display());
        }
        Failure::new(Exit::Rules, format!("{}: invalid contribution rule book; nothing was written", path.display()))
    })
}

/// Reads the account-months' file line by line into a table (a file that cannot be opened is
/// a usage error, exit code 2, as for the other files).
fn read_accounts(path: &Path, name: &str) -> Result<Result<AccountMonthTable, ContributionErrors>, Failure> {
    let file = std::fs::File::open(path).map_err(|e| crate::exit::io_error(Exit::Usage, path, "read", &e))?;
    Ok(AccountMonthTable::read_csv(name, std::io::BufReader::with_capacity(1 << 16, file)))
}

/// Reads every input file; the errors of every table are listed (exit code 4).
fn read_inputs(args: &ContributionArgs) -> Result<(AccountMonthTable, Inputs, Sources), Failure> {
    let mut inputs = Inputs::default();
    let mut tables = Vec::new();
    let mut errors: Vec<ContributionError> = Vec::new();
    let accounts_name = args.accounts.display().to_string();
    let accounts = read_accounts(&args.accounts, &accounts_name)?.unwrap_or_else(|e| {
        errors.extend(e.0);
        AccountMonthTable::new()
    });
    let mut read = |path: Option<&PathBuf>, kind: locate::Kind| -> Result<(), Failure> {
        let Some(path) = path else { return Ok(()) };
        let text = read_utf8(path)?;
        let name = path.display().to_string();
        use crm_tiering_contribution as c;
        let keys = |v: Vec<[&str; 2]>| -> Vec<Vec<String>> {
            v.into_iter().map(|k| k.iter().map(|s| (*s).to_string()).collect()).collect()
        };
        let outcome = match kind {
            // Read into a table before, line by line.
            locate::Kind::Accounts => return Ok(()),
            locate::Kind::Fees => c::read_fees(&name, &text).map(|r| {
                let k = keys(r.iter().map(|f| [f.customer.as_str(), ""]).collect());
                inputs.fees = r;
                k
            }),
            locate::Kind::CostPools => c::read_cost_pools(&name, &text).map(|r| {
                let k = keys(r.iter().map(|p| [p.cost_centre.as_str(), ""]).collect());
                inputs.cost_pools = r;
                k
            }),
            locate::Kind::Activities => c::read_activities(&name, &text).map(|r| {
                let k = keys(r.iter().map(|a| [a.quantity.as_str(), a.customer.as_str()]).collect());
                inputs.activities = r;
                k
            }),
            locate::Kind::DirectCosts => c::read_direct_costs(&name, &text).map(|r| {
                let k = keys(r.iter().map(|d| [d.item.as_str(), d.customer.as_str()]).collect());
                inputs.direct_costs = r;
                k
            }),
            locate::Kind::Assignments => c::read_assignments(&name, &text).map(|r| {
                let k = keys(r.iter().map(|a| [a.customer.as_str(), a.manager.as_str()]).collect());
                inputs.assignments = r;
                k
            }),
        };
        match outcome {
            Ok(keys) => tables.push(locate::Source::new(kind, name, &text, keys)),
            Err(e) => errors.extend(e.0),
        }
        Ok(())
    };
    read(args.fees.as_ref(), locate::Kind::Fees)?;
    read(args.cost_pools.as_ref(), locate::Kind::CostPools)?;
    read(args.activities.as_ref(), locate::Kind::Activities)?;
    read(args.direct_costs.as_ref(), locate::Kind::DirectCosts)?;
    read(args.assignments.as_ref(), locate::Kind::Assignments)?;
    if !errors.is_empty() {
        return Err(crate::exit::listed(Exit::BadInput, &errors, "error(s) in the input files"));
    }
    Ok((accounts, inputs, Sources { tables, accounts: (args.accounts.clone(), accounts_name) }))
}

/// The failure of a computation that returned errors: each is listed with the file and line of
/// its record (exit code 4; a rule book problem found by the run is 3).
fn bad_input(errors: &ContributionErrors, sources: &Sources, accounts: &AccountMonthTable, book: &Path) -> Failure {
    let mut rules = false;
    let (path, name) = &sources.accounts;
    let found = locate::accounts_source(path, name, accounts, errors.errors());
    let mut tables: Vec<&locate::Source> = sources.tables.iter().collect();
    tables.extend(found.as_ref());
    for e in errors.errors() {
        if matches!(e, ContributionError::Rules { .. }) {
            rules = true;
            eprintln!("error: {}: {e}", book.display());
        } else {
            eprintln!("error: {}", locate::describe(e, &tables));
        }
    }
    let exit = if rules { Exit::Rules } else { Exit::BadInput };
    Failure::new(exit, format!("{} error(s) in the inputs; nothing was written", errors.errors().len()))
}

/// The closing line: customers, account-months, the net total, the stages conserved, the time.
/// The month's one-line summary.
pub(crate) fn summary(
    result: &Contribution,
    account_months: usize,
    stages: &[files::StageRow],
    started: Instant,
) -> String {
    let net: Decimal = result.customers.iter().map(|c| c.figures.net_contribution).sum();
    let conserved = stages.iter().filter(|s| s.conserved).count();
    format!(
        "contribution {}: {} customers, {} account-months, net contribution {}, {}/{} stages conserved, {:.2} s",
        result.month,
        result.customers.len(),
        account_months,
        files::amount(net),
        conserved,
        stages.len(),
        started.elapsed().as_secs_f64()
    )
}
