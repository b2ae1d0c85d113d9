//! `crm-tiering run --catch-up`: the way back for customers held back in earlier months
//! (SPEC §15.7). The declared month(s), at or before the store's latest, are evaluated for the
//! customers due in them only, from the (corrected) records given; every other customer and
//! record is left alone. The store keeps the result as an amendment of its latest month: the
//! caught-up customers' states replace theirs, and their events, alerts and rejects are kept in
//! the months they belong to.

use crm_tiering::portfolio::{PortfolioOutcome, PortfolioStates, RecordError};
use crm_tiering::{Engine, Month, RuleBook};
use crm_tiering_store::{MonthResults, Store};

use crate::exit::{Exit, Failure};
use crate::input::Inputs;
use crate::run::{RunConfig, audit_inputs, describe, held_failure, stop};
use crate::store::{self as cli_store, failure};

/// What a catch-up reports.
pub(crate) struct CatchUpReport {
    /// The latest month, which the catch-up amended, and the run's id.
    pub(crate) amended: (Month, i64),
    /// Customers evaluated, events and alerts, per caught-up month.
    pub(crate) months: Vec<(Month, usize, usize, usize)>,
    /// Customers still held back (and refused records), with the month reported.
    pub(crate) held: Vec<(Month, RecordError)>,
}

impl CatchUpReport {
    /// The report for stdout.
    pub(crate) fn render(&self, store: &str) -> String {
        let mut out = String::new();
        for (m, evaluated, events, alerts) in &self.months {
            out.push_str(&format!(
                "caught up {m}: {evaluated} customer(s) evaluated, {events} event(s), {alerts} alert(s)\n"
            ));
        }
        let (month, run) = self.amended;
        out.push_str(&format!(
            "committed the catch-up as run {run}, amending {month}, into {}\n",
            cli_store::shown(store)
        ));
        out
    }

    /// The exit code: 6 when customers are still held back.
    pub(crate) fn exit(&self) -> Exit {
        if self.held.is_empty() { Exit::Ok } else { Exit::Rejects }
    }
}

/// Evaluates the declared month(s) for the customers due in them and commits the result as an
/// amendment of the store's latest month, all of it or nothing.
pub(crate) fn catch_up(book: &RuleBook, inputs: Inputs, config: &RunConfig<'_>) -> Result<CatchUpReport, Failure> {
    let Inputs { extract, file_errors, files, .. } = inputs;
    if files.iter().any(|(role, _, _)| role == "states") {
        return Err(Failure::new(Exit::Usage, "--catch-up goes on from the store: leave --states out"));
    }
    if !file_errors.is_empty() || !extract.fatal().is_empty() {
        let mut errors = file_errors;
        errors.extend(extract.fatal().iter().cloned());
        return Err(stop(&errors, "input file(s) or record(s) cannot be used; nothing was written"));
    }
    let meta = cli_store::run_meta(book, audit_inputs(&files)?)?;
    let engine = Engine::new(book.clone());
    let mut store: Store = cli_store::open(config.store, false)?;
    let mut writer = store.begin_amendment(config.months, meta).map_err(failure)?;
    let latest = writer.amends();
    let mut states: PortfolioStates = match writer.latest_states() {
        Ok(l) => l.states,
        Err(e) => return Err(abort(writer, failure(e))),
    };
    let mut options = config.options.clone();
    options.catch_up = true;
    let mut out = PortfolioOutcome::default();
    if let Err(f) = engine.evaluate_portfolio_with(&mut states, config.months, &extract, &options, &mut out) {
        return Err(abort(writer, stop(&f.errors, "error(s) stop the catch-up")));
    }
    let held: Vec<(Month, RecordError)> = out
        .months
        .iter()
        .flat_map(|m| m.held.iter().map(move |(_, e)| (m.month.unwrap_or(latest), e.clone())))
        .collect();
    if !config.skip_bad_rows && held.iter().any(|(_, e)| e.behind_since().is_none()) {
        return Err(abort(writer, held_failure(held.iter().map(|(_, e)| e))));
    }
    let mut latest_results = None;
    let mut months = Vec::new();
    for m in &out.months {
        let results = MonthResults::from(m);
        let month = m.month.unwrap_or(latest);
        months.push((month, m.evaluated.len(), m.events.len(), m.alerts.len()));
        if month == latest {
            latest_results = Some(results);
        } else if let Err(e) = writer.write_results(&states, &results) {
            return Err(abort(writer, failure(e)));
        }
    }
    let run = writer.commit_portfolio_amendment(&states, latest_results.as_ref()).map_err(failure)?;
    for (_, e) in &held {
        eprintln!("rejected: {}", describe(e));
    }
    Ok(CatchUpReport { amended: (latest, run.run_id), months, held })
}

fn abort(writer: crm_tiering_store::AmendmentWriter<'_>, f: Failure) -> Failure {
    let _ = writer.abort(&f.message);
    f
}
