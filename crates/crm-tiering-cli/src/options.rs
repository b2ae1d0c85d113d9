//! The portfolio options of `run` and `simulate`: named flags for the usual ones and
//! `--option KEY=VALUE` for any, all read by the core's one parser (`PortfolioOptions::set`).

use clap::{Args, ValueEnum};
use crm_tiering::Decimal;
use crm_tiering::portfolio::PortfolioOptions;

use crate::exit::{Exit, Failure};

/// What a known customer without a record in a month means (SPEC §15.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Absent {
    /// Evaluated with zero AUM (extracts usually list only customers with balances).
    Zero,
    /// Not evaluated: the state is kept, with a held_back alert (catch it up later).
    Hold,
    /// An error: the customer is held back and listed.
    Error,
}

impl Absent {
    fn code(self) -> &'static str {
        match self {
            Absent::Zero => "zero",
            Absent::Hold => "hold",
            Absent::Error => "error",
        }
    }
}

/// The options of a portfolio evaluation.
#[derive(Debug, Clone, Args)]
pub(crate) struct PortfolioArgs {
    /// What a known customer without an AUM record in a month's files means.
    #[arg(long, value_enum, default_value_t = Absent::Zero)]
    absent: Absent,
    /// Accept prior states written under another rule book (by default they are refused, exit
    /// code 4): give it when the rule change is meant and retired tiers are mapped with
    /// `tier_map`.
    #[arg(long)]
    accept_rule_change: bool,
    /// Evaluate a declared month that has no AUM record at all (by default it is refused, exit
    /// code 4: a missing extract is far more likely than a month in which nobody held anything).
    #[arg(long)]
    allow_empty_month: bool,
    /// A legal entity (法人机构号) known to have no AUM record this month: its customers follow
    /// --absent instead of being held back as a missing file. Repeat for several.
    #[arg(long = "empty-entity", value_name = "CODE")]
    empty_entities: Vec<String>,
    /// A catch-up run (SPEC §15.7): evaluate the declared month(s), at or before the store's
    /// latest, for the customers held back in them only, from their corrected records; the
    /// store keeps it as an amendment of its latest month.
    #[arg(long)]
    catch_up: bool,
    /// The number of AUM records the --aum/--daily files must hold together (the core system's
    /// control total); a run whose files hold another number is refused (exit code 4).
    #[arg(long, value_name = "N", conflicts_with = "control")]
    control_rows: Option<String>,
    /// The amount the AUM records must add up to (the core system's control total); a run whose
    /// records add up to another amount is refused (exit code 4).
    #[arg(long, value_name = "AMOUNT", conflicts_with = "control")]
    control_aum: Option<String>,
    /// The control totals in a trailer file the core system writes: lines `rows=N` and
    /// `aum=AMOUNT` (either or both; `#` starts a comment).
    #[arg(long, value_name = "FILE")]
    control: Option<std::path::PathBuf>,
    /// Refuse a month whose files list AUM records of fewer customers than this share of the
    /// customers evaluated from a record in the store's latest month (a file cut short or
    /// missing; exit code 4). 0 turns the check off.
    #[arg(long, value_name = "SHARE", default_value = "0.8")]
    min_coverage: Decimal,
    /// Any portfolio option as KEY=VALUE (absent, rule_book_change, threads, allow_empty_month,
    /// empty_entities, catch_up, min_records, control_rows, control_aum), applied after the
    /// flags above.
    #[arg(long = "option", value_name = "KEY=VALUE")]
    options: Vec<String>,
    /// Worker threads for the evaluation (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

impl PortfolioArgs {
    /// The core's options, every value read by its parser.
    ///
    /// # Errors
    /// A usage failure (exit 2) naming the option that cannot be used.
    pub(crate) fn options(&self) -> Result<PortfolioOptions, Failure> {
        let mut pairs: Vec<(String, String)> = vec![
            ("absent".into(), self.absent.code().into()),
            ("rule_book_change".into(), if self.accept_rule_change { "accept" } else { "refuse" }.into()),
            (
                "threads".into(),
                crate::thread_count(self.threads).clamp(1, crm_tiering::portfolio::MAX_THREADS).to_string(),
            ),
            ("allow_empty_month".into(), self.allow_empty_month.to_string()),
            ("empty_entities".into(), self.empty_entities.join(",")),
            ("catch_up".into(), self.catch_up.to_string()),
        ];
        let flags = [("control_rows", &self.control_rows), ("control_aum", &self.control_aum)];
        pairs.extend(flags.into_iter().filter_map(|(k, v)| Some((k.to_string(), v.clone()?))));
        for o in &self.options {
            let (k, v) = o.split_once('=').ok_or_else(|| {
                Failure::new(Exit::Usage, format!("--option {o}: expected KEY=VALUE, such as allow_empty_month=true"))
            })?;
            pairs.push((k.to_string(), v.to_string()));
        }
        let mut options = PortfolioOptions::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|e| Failure::new(Exit::Usage, format!("{e}")))?;
        if let Some(path) = &self.control {
            let text =
                std::fs::read_to_string(path).map_err(|e| crate::exit::io_error(Exit::Usage, path, "read", &e))?;
            options.set_control_trailer(&text).map_err(|(line, why)| {
                let at = if line > 0 { format!(":{line}") } else { String::new() };
                Failure::new(Exit::BadInput, format!("{}{at}: {why}", path.display()))
            })?;
        }
        Ok(options)
    }

    /// The `--min-coverage` share.
    ///
    /// # Errors
    /// A usage failure (exit 2) for a share outside 0..=1.
    pub(crate) fn min_coverage(&self) -> Result<Decimal, Failure> {
        if (Decimal::ZERO..=Decimal::ONE).contains(&self.min_coverage) {
            Ok(self.min_coverage)
        } else {
            let message = format!("--min-coverage {}: expected a share from 0 to 1, such as 0.8", self.min_coverage);
            Err(Failure::new(Exit::Usage, message))
        }
    }
}

/// Sets `min_records` from the customers evaluated from a record in the store's month before
/// (`share` of them, rounded down; SPEC §15.6), unless it was given as an option.
pub(crate) fn apply_coverage(options: &mut PortfolioOptions, share: Decimal, with_record: u64) {
    if options.min_records == 0 {
        let n = (share * Decimal::from(with_record)).floor();
        options.min_records = u64::try_from(n).unwrap_or(0);
    }
}
