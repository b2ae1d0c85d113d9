//! `crm-tiering export`: a committed month or range of months out of the store, as Parquet, CSV
//! or JSON Lines files: states, events, alerts and rejects.
//!
//! Months are `YYYY-MM` strings in every format; amounts are `Decimal128(38, 2)` in Parquet and
//! plain decimals in CSV; tier, status and kind codes are strings. CSV is UTF-8 (with a
//! byte-order mark when `--bom` is given, so that Excel reads Chinese text), and text cells are
//! neutralised against formulas. Files are written under temporary names and renamed into place
//! when every file is written.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Decimal128Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use clap::ValueEnum;
use crm_tiering::portfolio::MonthRange;
use crm_tiering::{Decimal, RuleBook};
use crm_tiering_store::Store;
use parquet::arrow::ArrowWriter;

use crate::exit::{Exit, Failure};
use crate::output::{OutFile, Staging};
use crate::run::{AlertLine, EventLine};
use crate::store::{failure, open_read_only};
use crate::text::csv_field;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Apache Parquet: states, events, alerts, rejects (.parquet).
    Parquet,
    /// CSV, UTF-8: states, events, alerts, rejects (.csv).
    Csv,
    /// The checked states text of each month (states-YYYY-MM.jsonl, the format `import-states`
    /// reads), and events.jsonl, alerts.jsonl.
    Jsonl,
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Amount,
    Int,
    Bool,
}

enum Cell {
    Text(Option<String>),
    Amount(Option<Decimal>),
    Int(Option<i64>),
    Bool(Option<bool>),
}

fn text(s: impl ToString) -> Cell {
    Cell::Text(Some(s.to_string()))
}

fn opt_text<T: ToString>(v: Option<T>) -> Cell {
    Cell::Text(v.map(|v| v.to_string()))
}

fn int(v: Option<impl Into<i64>>) -> Cell {
    Cell::Int(v.map(Into::into))
}

/// A table being written in one format.
enum Sink {
    Csv { file: OutFile, line: String },
    Parquet { writer: Box<ArrowWriter<File>>, schema: Arc<Schema>, rows: Vec<Vec<Cell>>, kinds: Vec<Kind> },
}

const BATCH: usize = 65_536;

struct Table {
    sink: Sink,
    rows: u64,
}

impl Table {
    fn new(
        staging: &mut Staging,
        name: &str,
        cols: &[(&str, Kind)],
        format: Format,
        bom: bool,
    ) -> Result<Self, Failure> {
        let sink = match format {
            Format::Csv | Format::Jsonl => {
                let mut file = staging.create(&format!("{name}.csv"))?;
                let header: Vec<&str> = cols.iter().map(|c| c.0).collect();
                let head = format!("{}{}", if bom { "\u{feff}" } else { "" }, header.join(","));
                file.line(&head)?;
                Sink::Csv { file, line: String::new() }
            }
            Format::Parquet => {
                let fields: Vec<Field> = cols
                    .iter()
                    .map(|(n, k)| {
                        let t = match k {
                            Kind::Text => DataType::Utf8,
                            Kind::Amount => DataType::Decimal128(38, 2),
                            Kind::Int => DataType::Int64,
                            Kind::Bool => DataType::Boolean,
                        };
                        Field::new(*n, t, true)
                    })
                    .collect();
                let schema = Arc::new(Schema::new(fields));
                let file = staging.create(&format!("{name}.parquet"))?;
                let f = file.into_file()?;
                let writer = ArrowWriter::try_new(f, schema.clone(), None)
                    .map_err(|e| Failure::internal(format!("{name}.parquet: {e}")))?;
                Sink::Parquet {
                    writer: Box::new(writer),
                    schema,
                    rows: Vec::new(),
                    kinds: cols.iter().map(|c| c.1).collect(),
                }
            }
        };
        Ok(Table { sink, rows: 0 })
    }

    fn push(&mut self, row: Vec<Cell>) -> Result<(), Failure> {
        self.rows += 1;
        match &mut self.sink {
            Sink::Csv { file, line } => {
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
                file.line(line)
            }
            Sink::Parquet { rows, .. } => {
                rows.push(row);
                if rows.len() >= BATCH { self.flush() } else { Ok(()) }
            }
        }
    }

    fn flush(&mut self) -> Result<(), Failure> {
        let Sink::Parquet { writer, schema, rows, kinds } = &mut self.sink else { return Ok(()) };
        if rows.is_empty() {
            return Ok(());
        }
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(kinds.len());
        for (i, k) in kinds.iter().enumerate() {
            let cells = rows.iter().map(|r| r.get(i));
            let a: ArrayRef = match k {
                Kind::Text => {
                    let mut b = StringBuilder::new();
                    for c in cells {
                        match c {
                            Some(Cell::Text(Some(s))) => b.append_value(s),
                            _ => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
                Kind::Amount => {
                    let mut b = Decimal128Builder::new();
                    for c in cells {
                        match c {
                            Some(Cell::Amount(Some(d))) => b.append_value(fen(*d)?),
                            _ => b.append_null(),
                        }
                    }
                    Arc::new(b.finish().with_precision_and_scale(38, 2).map_err(|e| Failure::internal(e.to_string()))?)
                }
                Kind::Int => {
                    let mut b = Int64Builder::new();
                    for c in cells {
                        match c {
                            Some(Cell::Int(Some(v))) => b.append_value(*v),
                            _ => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
                Kind::Bool => {
                    let mut b = BooleanBuilder::new();
                    for c in cells {
                        match c {
                            Some(Cell::Bool(Some(v))) => b.append_value(*v),
                            _ => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
            };
            arrays.push(a);
        }
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| Failure::internal(e.to_string()))?;
        writer.write(&batch).map_err(|e| Failure::internal(format!("cannot write Parquet: {e}")))?;
        rows.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<u64, Failure> {
        self.flush()?;
        let rows = self.rows;
        match self.sink {
            Sink::Csv { file, .. } => file.finish()?,
            Sink::Parquet { writer, .. } => {
                writer.close().map_err(|e| Failure::internal(format!("cannot write Parquet: {e}")))?;
            }
        }
        Ok(rows)
    }
}

/// An amount as a Decimal128 at scale 2 (every stored amount is whole fen).
fn fen(d: Decimal) -> Result<i128, Failure> {
    let mut x = d;
    x.rescale(2);
    if x != d {
        return Err(Failure::internal(format!("amount {d} has more than 2 decimals")));
    }
    Ok(x.mantissa())
}

const STATES: &[(&str, Kind)] = &[
    ("month", Kind::Text),
    ("customer_id", Kind::Text),
    ("legal_entity", Kind::Text),
    ("customer_kind", Kind::Text),
    ("evaluated", Kind::Bool),
    ("has_record", Kind::Bool),
    ("aum", Kind::Amount),
    ("status", Kind::Text),
    ("tier", Kind::Text),
    ("effective_tier", Kind::Text),
    ("watch_since", Kind::Text),
    ("watch_short_months", Kind::Int),
    ("watch_best_tier", Kind::Text),
    ("watch_peak_aum", Kind::Amount),
    ("below_entry_since", Kind::Text),
    ("below_entry_months", Kind::Int),
    ("below_entry_peak_aum", Kind::Amount),
    ("retention_months_left", Kind::Int),
    ("special_tier", Kind::Text),
    ("special_first_month", Kind::Text),
    ("special_last_month", Kind::Text),
    ("last_month", Kind::Text),
];

const EVENTS: &[(&str, Kind)] = &[
    ("month", Kind::Text),
    ("customer_id", Kind::Text),
    ("effective_from", Kind::Text),
    ("kind", Kind::Text),
    ("kind_zh", Kind::Text),
    ("from_tier", Kind::Text),
    ("to_tier", Kind::Text),
    ("reason", Kind::Text),
    ("reason_zh", Kind::Text),
    ("aum", Kind::Amount),
    ("threshold", Kind::Amount),
    ("window_from", Kind::Text),
    ("window_months", Kind::Int),
    ("peak_aum", Kind::Amount),
    ("explanation", Kind::Text),
];

const ALERTS: &[(&str, Kind)] = &[
    ("month", Kind::Text),
    ("customer_id", Kind::Text),
    ("kind", Kind::Text),
    ("kind_zh", Kind::Text),
    ("tier", Kind::Text),
    ("months_counted", Kind::Int),
    ("months_left", Kind::Int),
    ("aum", Kind::Amount),
    ("threshold", Kind::Amount),
    ("gap", Kind::Amount),
];

const REJECTS: &[(&str, Kind)] = &[
    ("month", Kind::Text),
    ("run_id", Kind::Int),
    ("seq", Kind::Int),
    ("customer_id", Kind::Text),
    ("category", Kind::Text),
    ("field", Kind::Text),
    ("record", Kind::Text),
    ("other_record", Kind::Text),
    ("message", Kind::Text),
];

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
    let written = if format == Format::Jsonl {
        export_jsonl(&mut store, &committed, months, &mut staging)?
    } else {
        export_tables(&mut store, months, format, bom, &mut staging)?
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

/// The JSON Lines export: each month's states text, and the events and alerts. Returns each
/// file written with its rows.
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
    Ok(written)
}

/// The tables export (CSV or Parquet): states, events, alerts and rejects. Returns each file
/// written with its rows.
fn export_tables(
    store: &mut Store,
    months: MonthRange,
    format: Format,
    bom: bool,
    staging: &mut Staging,
) -> Result<Vec<(String, u64)>, Failure> {
    let (first, last) = (months.first(), months.last());
    let mut written: Vec<(String, u64)> = Vec::new();
    let ext = if format == Format::Csv { "csv" } else { "parquet" };
    let mut t = Table::new(staging, "states", STATES, format, bom)?;
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
    written.push((format!("states.{ext}"), t.finish()?));

    let mut t = Table::new(staging, "events", EVENTS, format, bom)?;
    for e in store.events(first, last).map_err(failure)? {
        t.push(event_row(e))?;
    }
    written.push((format!("events.{ext}"), t.finish()?));

    let mut t = Table::new(staging, "alerts", ALERTS, format, bom)?;
    for a in store.alerts(first, last).map_err(failure)? {
        t.push(alert_row(a))?;
    }
    written.push((format!("alerts.{ext}"), t.finish()?));

    let mut t = Table::new(staging, "rejects", REJECTS, format, bom)?;
    for r in store.rejects(first, last).map_err(failure)? {
        t.push(reject_row(r))?;
    }
    written.push((format!("rejects.{ext}"), t.finish()?));
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
