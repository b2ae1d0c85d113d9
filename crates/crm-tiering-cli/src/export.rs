//! `crm-tiering export`: a committed month or range of months out of the store, as Parquet, CSV
//! or JSON Lines files: states, events, alerts and rejects, and the contribution months
//! ([`contribution`]) and loan months ([`loans`]) stored in the range.
//!
//! Parquet files are the core's output tables (SPEC §15, "Output tables", the Python binding's
//! tables too: [`parquet`]): months `date32` (the month's first day), amounts
//! `decimal128(38, 2)`, codes dictionary strings. CSV has the same column names (less the
//! states' `status_zh` and `is_vip` and the events' `tier`), months as `YYYY-MM`, amounts as plain
//! decimals; it is UTF-8 (with a byte-order mark when `--bom` is given, so that Excel reads
//! Chinese text), and text cells are neutralised against formulas. Files are written under
//! temporary names and renamed into place when every file is written.

mod contribution;
mod loans;
mod parquet;

use std::path::Path;

use clap::ValueEnum;
use crm_tiering::portfolio::MonthRange;
use crm_tiering::{Decimal, RuleBook};
use crm_tiering_store::Store;

use crate::exit::{Exit, Failure};
use crate::output::{OutFile, Staging};
use crate::run::{AlertLine, EventLine};
use crate::store::{failure, open_read_only};
use crate::text::csv_field;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Apache Parquet: states, events, alerts, rejects, and the stored contribution and loan months
    /// (.parquet).
    Parquet,
    /// CSV, UTF-8: states, events, alerts, rejects (.csv).
    Csv,
    /// The checked states text of each month (states-YYYY-MM.jsonl, the format `import-states`
    /// reads), and events.jsonl, alerts.jsonl; the stored contribution months' customers
    /// (contribution-YYYY-MM.jsonl) and loan months' states (loan-states-YYYY-MM.jsonl).
    Jsonl,
}

/// A cell of a CSV table: text (neutralised against formulas), an amount, a count or a flag;
/// none is an empty cell.
pub(crate) enum Cell {
    Text(Option<String>),
    Amount(Option<Decimal>),
    Int(Option<i64>),
    Bool(Option<bool>),
}

pub(crate) fn text(s: impl ToString) -> Cell {
    Cell::Text(Some(s.to_string()))
}

pub(crate) fn opt_text<T: ToString>(v: Option<T>) -> Cell {
    Cell::Text(v.map(|v| v.to_string()))
}

pub(crate) fn int(v: Option<impl Into<i64>>) -> Cell {
    Cell::Int(v.map(Into::into))
}

/// A CSV table being written.
pub(crate) struct Table {
    file: OutFile,
    line: String,
    rows: u64,
}

impl Table {
    fn new(staging: &mut Staging, name: &str, cols: &[&str], bom: bool) -> Result<Self, Failure> {
        Table::file(staging, &format!("{name}.csv"), cols, bom)
    }

    /// The table written to the file `file_name` of the staging directory: its header line of
    /// `cols` (after a byte-order mark when `bom`).
    pub(crate) fn file(staging: &mut Staging, file_name: &str, cols: &[&str], bom: bool) -> Result<Self, Failure> {
        let mut file = staging.create(file_name)?;
        let head = format!("{}{}", if bom { "\u{feff}" } else { "" }, cols.join(","));
        file.line(&head)?;
        Ok(Table { file, line: String::new(), rows: 0 })
    }

    /// Writes a row.
    pub(crate) fn push(&mut self, row: Vec<Cell>) -> Result<(), Failure> {
        self.rows += 1;
        let line = &mut self.line;
        line.clear();
        for (i, c) in row.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            match c {
                Cell::Text(Some(s)) => line.push_str(&csv_field(s)),
                Cell::Amount(Some(d)) => line.push_str(&d.to_string()),
                Cell::Int(Some(v)) => line.push_str(&v.to_string()),
                Cell::Bool(Some(b)) => line.push_str(if *b { "true" } else { "false" }),
                _ => {}
            }
        }
        self.file.line(line)
    }

    /// Closes the file; gives the rows written.
    pub(crate) fn finish(self) -> Result<u64, Failure> {
        self.file.finish()?;
        Ok(self.rows)
    }
}

const STATES: &[&str] = &[
    "month",
    "customer_id",
    "legal_entity",
    "customer_kind",
    "evaluated",
    "has_record",
    "aum",
    "status",
    "tier",
    "effective_tier",
    "watch_since",
    "watch_short_months",
    "watch_best_tier",
    "watch_peak_aum",
    "below_entry_since",
    "below_entry_months",
    "below_entry_peak_aum",
    "retention_months_left",
    "special_tier",
    "special_first_month",
    "special_last_month",
    "last_month",
    "stage",
    "stage_since",
    "history",
];

const EVENTS: &[&str] = &[
    "month",
    "customer_id",
    "effective_from",
    "kind",
    "kind_zh",
    "from_tier",
    "to_tier",
    "reason",
    "reason_zh",
    "aum",
    "threshold",
    "window_from",
    "window_months",
    "peak_aum",
    "explanation",
    "measure",
    "measure_value",
    "measure_window",
];

const ALERTS: &[&str] = &[
    "month",
    "customer_id",
    "kind",
    "kind_zh",
    "tier",
    "months_counted",
    "months_left",
    "aum",
    "threshold",
    "gap",
    "measure",
    "measure_value",
    "measure_window",
    "severity",
    "severity_zh",
];

const REJECTS: &[&str] =
    &["month", "run_id", "seq", "customer_id", "category", "field", "record", "other_record", "message"];

/// Months as runs of consecutive months: `2024-01..2024-03, 2024-06`.
pub(crate) fn spans(months: &[crm_tiering::Month]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < months.len() {
        let mut j = i;
        while j + 1 < months.len() && months[j] < crm_tiering::Month::LAST && months[j + 1] == months[j].next() {
            j += 1;
        }
        out.push(if i == j { months[i].to_string() } else { format!("{}..{}", months[i], months[j]) });
        i = j + 1;
    }
    out.join(", ")
}

/// `crm-tiering export`.
pub(crate) fn export_command(
    location: &str,
    months: MonthRange,
    format: Format,
    bom: bool,
    out: &Path,
) -> Result<Exit, Failure> {
    let mut store = open_read_only(location)?;
    let committed = committed_in(&mut store, months)?;
    let mut staging = Staging::new(out)?;
    let written = match format {
        Format::Jsonl => export_jsonl(&mut store, &committed, months, &mut staging)?,
        Format::Csv => export_csv(&mut store, months, bom, &mut staging)?,
        Format::Parquet => parquet::export_parquet(&mut store, months, &mut staging)?,
    };
    staging.commit()?;
    let dir = crate::run::display_dir(out);
    for (name, rows) in &written {
        println!("{dir}{name}: {rows} row(s)");
    }
    Ok(Exit::Ok)
}

/// The store's committed months, when every month of `months` is one of them: a range is never
/// exported short of a month.
fn committed_in(store: &mut Store, months: MonthRange) -> Result<Vec<crm_tiering::Month>, Failure> {
    let committed = store.committed_months().map_err(failure)?;
    let missing: Vec<crm_tiering::Month> = months.months().filter(|m| !committed.contains(m)).collect();
    if !missing.is_empty() {
        let held = if committed.is_empty() {
            "it has no committed month".to_string()
        } else {
            format!("its committed months are {}", spans(&committed))
        };
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "{} of {months} {} not committed in {} ({held}); nothing was exported: give committed months only",
                spans(&missing),
                if missing.len() == 1 { "is" } else { "are" },
                store.location()
            ),
        ));
    }
    Ok(committed)
}

/// The JSON Lines export: each month's states text, the events and alerts, each stored
/// contribution month's customers and each stored loan month's states. Returns each file written with its rows.
fn export_jsonl(
    store: &mut Store,
    committed: &[crm_tiering::Month],
    months: MonthRange,
    staging: &mut Staging,
) -> Result<Vec<(String, u64)>, Failure> {
    let (first, last) = (months.first(), months.last());
    let mut written: Vec<(String, u64)> = Vec::new();
    for m in committed.iter().filter(|m| months.contains(**m)) {
        let Some(latest) = store.states_before(m.plus(1)).map_err(failure)? else { continue };
        let text = store.run_rule_book(latest.run_id).map_err(failure)?.unwrap_or_default();
        let book = RuleBook::from_str_auto(&text)
            .map_err(|e| Failure::internal(format!("the rule book of run {}: {e}", latest.run_id)))?;
        let name = format!("states-{m}.jsonl");
        staging.write(&name, &latest.states.to_jsonl(&book))?;
        written.push((name, latest.states.len() as u64));
    }
    let mut ev = staging.create("events.jsonl")?;
    let events = store.events(first, last).map_err(failure)?;
    for e in &events {
        let line = EventLine {
            customer_id: e.customer_id.clone(),
            legal_entity: None,
            event: e.event,
            kind_zh: e.event.kind.name_zh().into(),
            reason_zh: e.event.reason.name_zh().into(),
        };
        ev.line(&serde_json::to_string(&line).map_err(|e| Failure::internal(e.to_string()))?)?;
    }
    ev.finish()?;
    written.push(("events.jsonl".into(), events.len() as u64));
    let mut al = staging.create("alerts.jsonl")?;
    let alerts = store.alerts(first, last).map_err(failure)?;
    for a in &alerts {
        let line = AlertLine {
            customer_id: a.customer_id.clone(),
            legal_entity: None,
            alert: a.alert,
            kind_zh: a.alert.kind.name_zh().into(),
        };
        al.line(&serde_json::to_string(&line).map_err(|e| Failure::internal(e.to_string()))?)?;
    }
    al.finish()?;
    written.push(("alerts.jsonl".into(), alerts.len() as u64));
    written.extend(contribution::export_contribution_jsonl(store, months, staging)?);
    written.extend(loans::export_loan_states(store, months, staging)?);
    Ok(written)
}

/// The CSV export: states, events, alerts and rejects, and the contribution and loan months
/// stored in the range. Returns each file written with its rows.
fn export_csv(
    store: &mut Store,
    months: MonthRange,
    bom: bool,
    staging: &mut Staging,
) -> Result<Vec<(String, u64)>, Failure> {
    let (first, last) = (months.first(), months.last());
    let mut written: Vec<(String, u64)> = Vec::new();
    let mut t = Table::new(staging, "states", STATES, bom)?;
    let mut error: Option<Failure> = None;
    let mut f = |r: crm_tiering_store::StateRow| {
        if error.is_none()
            && let Err(e) = t.push(state_row(r))
        {
            error = Some(e);
        }
        Ok(())
    };
    store.for_each_state(first, last, &mut f).map_err(failure)?;
    if let Some(e) = error {
        return Err(e);
    }
    written.push(("states.csv".into(), t.finish()?));

    let mut t = Table::new(staging, "events", EVENTS, bom)?;
    for e in store.events(first, last).map_err(failure)? {
        t.push(event_row(e))?;
    }
    written.push(("events.csv".into(), t.finish()?));

    let mut t = Table::new(staging, "alerts", ALERTS, bom)?;
    for a in store.alerts(first, last).map_err(failure)? {
        t.push(alert_row(a))?;
    }
    written.push(("alerts.csv".into(), t.finish()?));

    let mut t = Table::new(staging, "rejects", REJECTS, bom)?;
    for r in store.rejects(first, last).map_err(failure)? {
        t.push(reject_row(r))?;
    }
    written.push(("rejects.csv".into(), t.finish()?));
    written.extend(contribution::export_contribution(store, months, bom, staging)?);
    written.extend(loans::export_loans_csv(store, months, bom, staging)?);
    Ok(written)
}

/// A row of the states table ([`STATES`]).
fn state_row(r: crm_tiering_store::StateRow) -> Vec<Cell> {
    let s = r.state;
    vec![
        text(r.month),
        text(&r.customer.id),
        opt_text(r.customer.legal_entity.as_ref()),
        text(r.customer.kind.as_str()),
        Cell::Bool(Some(r.evaluated.is_some())),
        Cell::Bool(r.evaluated.map(|e| e.1)),
        Cell::Amount(r.evaluated.map(|e| e.0)),
        text(s.status.as_str()),
        opt_text(s.tier),
        opt_text(s.effective_tier),
        opt_text(s.watch.map(|w| w.since)),
        int(s.watch.map(|w| w.short_months)),
        opt_text(s.watch.and_then(|w| w.best_tier)),
        Cell::Amount(s.watch.map(|w| w.peak_aum())),
        opt_text(s.below_entry.map(|b| b.since)),
        int(s.below_entry.map(|b| b.months)),
        Cell::Amount(s.below_entry.map(|b| b.peak_aum())),
        int(Some(s.retention_months_left)),
        opt_text(s.special.map(|v| v.tier)),
        opt_text(s.special.map(|v| v.first_month)),
        opt_text(s.special.map(|v| v.last_month)),
        opt_text(s.last_month),
        opt_text(r.history.stage().map(|(stage, _)| stage)),
        opt_text(r.history.stage().map(|(_, since)| since)),
        Cell::Text(r.history.to_cell()),
    ]
}

/// A row of the events table ([`EVENTS`]).
fn event_row(e: crm_tiering_store::EventRow) -> Vec<Cell> {
    let ev = e.event;
    let x = ev.evidence;
    vec![
        text(ev.month),
        text(&e.customer_id),
        text(ev.effective_from()),
        text(ev.kind.as_str()),
        text(ev.kind.name_zh()),
        opt_text(ev.from_tier),
        opt_text(ev.to_tier),
        text(ev.reason.as_str()),
        text(ev.reason.name_zh()),
        Cell::Amount(Some(x.aum())),
        Cell::Amount(x.threshold()),
        opt_text(x.window_from),
        int(x.window_months),
        Cell::Amount(x.peak_aum()),
        text(ev.explain()),
        opt_text(x.measure),
        Cell::Amount(x.measure_value()),
        opt_text(x.measure_window),
    ]
}

/// A row of the alerts table ([`ALERTS`]).
fn alert_row(a: crm_tiering_store::AlertRow) -> Vec<Cell> {
    let al = a.alert;
    vec![
        text(al.month),
        text(&a.customer_id),
        text(al.kind.as_str()),
        text(al.kind.name_zh()),
        opt_text(al.tier),
        int(al.months_counted),
        int(al.months_left),
        Cell::Amount(al.aum()),
        Cell::Amount(al.threshold()),
        Cell::Amount(al.gap()),
        opt_text(al.measure),
        Cell::Amount(al.measure_value()),
        opt_text(al.measure_window),
        text(al.severity().as_str()),
        text(al.severity().name_zh()),
    ]
}

/// A row of the rejects table ([`REJECTS`]).
fn reject_row(r: crm_tiering_store::RejectRow) -> Vec<Cell> {
    vec![
        text(r.month),
        Cell::Int(Some(r.run_id)),
        Cell::Int(Some(r.seq)),
        Cell::Text(r.customer_id),
        text(r.category),
        Cell::Text(r.field),
        Cell::Text(r.record),
        Cell::Text(r.other_record),
        text(r.message),
    ]
}
