//! `crm-tiering run`: the declared month (or range of months) of a portfolio, evaluated by the
//! core's portfolio month, with every output written atomically.

use std::collections::HashMap;
use std::path::Path;

use crm_tiering::portfolio::{Absent, MonthRange, PortfolioOptions, PortfolioSink, RecordError, RuleBookChange};
use crm_tiering::{Alert, Customer, CustomerState, Decimal, Engine, Event, Month, RuleBook, SpecialVip, TierCode};
use serde::{Deserialize, Serialize};

use crate::exit::{Exit, Failure};
use crate::input::{self, InputFiles, Inputs};
use crate::output::{OutFile, Staging};
use crate::progress::Progress;
use crate::summary::{Entities, MonthSummary, MonthTally, RunSummary};
use crate::text::csv_field;
use crate::{Encoding, RunArgs, load_rules, thread_count};

/// An event as written to events.jsonl (and read back by `explain`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EventLine {
    pub(crate) customer_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) legal_entity: Option<String>,
    #[serde(flatten)]
    pub(crate) event: Event,
    #[serde(default)]
    pub(crate) kind_zh: String,
    #[serde(default)]
    pub(crate) reason_zh: String,
}

/// An alert as written to alerts.jsonl.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AlertLine {
    pub(crate) customer_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) legal_entity: Option<String>,
    #[serde(flatten)]
    pub(crate) alert: Alert,
    #[serde(default)]
    pub(crate) kind_zh: String,
}

/// The header of history.csv: each customer's standing after each evaluated month.
pub(crate) const HISTORY_HEADER: &str = "month,customer_id,legal_entity,has_row,aum,status,tier,effective_tier,watch_short_months,below_entry_months,retention_months_left,special_tier,special_last_month";
const EVENTS_HEADER: &str = "customer_id,legal_entity,month,effective_from,kind,kind_zh,from_tier,to_tier,reason,reason_zh,aum,threshold,window_from,window_months,peak_aum";
const ALERTS_HEADER: &str =
    "customer_id,legal_entity,month,kind,kind_zh,tier,months_counted,months_left,aum,threshold,gap";

/// The header of rejects.csv: one line per held customer or refused record.
pub(crate) const REJECTS_HEADER: &str =
    "file,line,customer_id,month,category,field,message,other_file,other_line,held_from,original_line";

/// How a run behaves, beyond its inputs.
pub(crate) struct RunConfig<'a> {
    pub(crate) out: &'a Path,
    pub(crate) months: MonthRange,
    pub(crate) skip_bad_rows: bool,
    pub(crate) options: PortfolioOptions,
    /// The inputs' encoding, to quote rejected lines.
    pub(crate) encoding: Encoding,
}

/// What a successful run reports.
pub(crate) struct RunReport {
    pub(crate) summary: RunSummary,
    pub(crate) exit: Exit,
}

pub(crate) fn run_command(args: &RunArgs) -> Result<Exit, Failure> {
    let (book, source) = load_rules(args.rules.as_deref())?;
    if args.aum.is_empty() && args.daily.is_empty() {
        return Err(Failure::new(Exit::Usage, "give the months' AUM with --aum FILE or --daily FILE"));
    }
    let files = InputFiles {
        states: args.states.as_deref(),
        aum: &args.aum,
        daily: &args.daily,
        designations: &args.designations,
        encoding: args.read.encoding,
        delimiter: args.read.delimiter,
    };
    let inputs = input::load(&book, &files)?;
    let config = RunConfig {
        out: &args.out,
        months: args.month,
        skip_bad_rows: args.skip_bad_rows,
        options: PortfolioOptions {
            absent: args.absent.into(),
            rule_book_change: if args.accept_rule_change { RuleBookChange::Accept } else { RuleBookChange::Refuse },
            threads: thread_count(args.threads),
        },
        encoding: args.read.encoding,
    };
    let report = execute(&book, &source, inputs, &config)?;
    if !args.quiet {
        print!("{}", report.summary.render());
        println!();
    }
    println!("outputs written to {}", display_dir(&args.out));
    Ok(report.exit)
}

/// A directory for messages, with a trailing separator.
pub(crate) fn display_dir(p: &Path) -> String {
    let s = p.display().to_string();
    if s.ends_with(std::path::MAIN_SEPARATOR) { s } else { format!("{s}{}", std::path::MAIN_SEPARATOR) }
}

/// An error as printed on stderr: the core's message, then its category and field.
pub(crate) fn describe(e: &RecordError) -> String {
    let tags = format!("[category {}, field {}]", e.category(), e.field().unwrap_or("-"));
    match (&e.error, e.customer(), &e.record) {
        // An input error that names no customer (a header, an unidentifiable record): the
        // record, the field and the message, without an empty customer.
        (crm_tiering::TieringError::Input(i), None, Some(r)) => {
            let month = i.month.map(|m| format!("month {m}, ")).unwrap_or_default();
            format!("{r}: {month}field `{}`: {} {tags}", i.field, i.message)
        }
        _ => format!("{e} {tags}"),
    }
}

struct Writers {
    events_jsonl: OutFile,
    events_csv: OutFile,
    alerts_jsonl: OutFile,
    alerts_csv: OutFile,
    history: OutFile,
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Streams the portfolio evaluation into the output files and the summary.
struct Sink {
    w: Writers,
    /// The first write error: the run fails with it.
    error: Option<Failure>,
    entities: Entities,
    tally: Option<MonthTally>,
    months: Vec<MonthSummary>,
    /// Each customer's effective tier before the month being evaluated, by index.
    before: Vec<Option<TierCode>>,
    /// Held customers and refused records: (month first held, error).
    held: Vec<(Month, Option<usize>, RecordError)>,
    progress: Progress,
    done: usize,
    line: String,
}

impl Sink {
    fn put(&mut self, write: impl FnOnce(&mut Writers, &mut String) -> Result<(), Failure>) {
        if self.error.is_none()
            && let Err(e) = write(&mut self.w, &mut self.line)
        {
            self.error = Some(e);
        }
    }
}

impl PortfolioSink for Sink {
    fn begin_month(&mut self, month: Month) {
        self.progress.set(self.done, &month.to_string());
        self.tally = Some(MonthTally::new(month));
    }

    fn event(&mut self, _month: Month, _index: usize, c: &Customer, ev: &Event) {
        if let Some(t) = &mut self.tally {
            t.event(ev.kind);
        }
        self.put(|w, _| {
            let line = EventLine {
                customer_id: c.id.clone(),
                legal_entity: c.legal_entity.clone(),
                event: *ev,
                kind_zh: ev.kind.name_zh().into(),
                reason_zh: ev.reason.name_zh().into(),
            };
            w.events_jsonl.line(&erased::Json::to_json(&line)?)?;
            let x = &ev.evidence;
            let fields = [
                csv_field(&c.id).into_owned(),
                csv_field(c.legal_entity.as_deref().unwrap_or("")).into_owned(),
                ev.month.to_string(),
                ev.effective_from.to_string(),
                ev.kind.as_str().into(),
                ev.kind.name_zh().into(),
                opt(ev.from_tier),
                opt(ev.to_tier),
                ev.reason.as_str().into(),
                csv_field(ev.reason.name_zh()).into_owned(),
                x.aum.to_string(),
                opt(x.threshold),
                opt(x.window_from),
                opt(x.window_months),
                opt(x.peak_aum),
            ];
            w.events_csv.line(&fields.join(","))
        });
    }

    fn alert(&mut self, _month: Month, _index: usize, c: &Customer, al: &Alert) {
        if let Some(t) = &mut self.tally {
            t.alert(al.kind);
        }
        self.put(|w, _| {
            let line = AlertLine {
                customer_id: c.id.clone(),
                legal_entity: c.legal_entity.clone(),
                alert: *al,
                kind_zh: al.kind.name_zh().into(),
            };
            w.alerts_jsonl.line(&erased::Json::to_json(&line)?)?;
            let fields = [
                csv_field(&c.id).into_owned(),
                csv_field(c.legal_entity.as_deref().unwrap_or("")).into_owned(),
                al.month.to_string(),
                al.kind.as_str().into(),
                al.kind.name_zh().into(),
                opt(al.tier),
                opt(al.months_counted),
                opt(al.months_left),
                al.aum.to_string(),
                opt(al.threshold),
                opt(al.gap),
            ];
            w.alerts_csv.line(&fields.join(","))
        });
    }

    fn evaluated(
        &mut self,
        month: Month,
        index: usize,
        c: &Customer,
        aum: Decimal,
        has_record: bool,
        s: &CustomerState,
    ) {
        if index >= self.before.len() {
            self.before.resize(index + 1, None);
        }
        let before = std::mem::replace(&mut self.before[index], s.effective_tier);
        if let Some(t) = &mut self.tally {
            t.evaluated(&mut self.entities, c, before, s, has_record);
        }
        self.put(|w, line| {
            use std::fmt::Write as _;
            let sp: Option<SpecialVip> = s.special;
            line.clear();
            let _ = write!(
                line,
                "{month},{},{},{},{aum},{},{},{},{},{},{},{},{}",
                csv_field(&c.id),
                csv_field(c.legal_entity.as_deref().unwrap_or("")),
                u8::from(has_record),
                s.status.as_str(),
                opt(s.tier),
                opt(s.effective_tier),
                opt(s.watch.map(|w| w.short_months)),
                opt(s.below_entry.map(|b| b.months)),
                s.retention_months_left,
                opt(sp.map(|sp| sp.tier)),
                opt(sp.map(|sp| sp.last_month)),
            );
            w.history.line(line)
        });
    }

    fn held(&mut self, month: Month, index: Option<usize>, error: &RecordError) {
        if let Some(t) = &mut self.tally {
            t.held();
        }
        self.held.push((month, index, error.clone()));
    }

    fn end_month(&mut self, _month: Month) {
        if let Some(t) = self.tally.take() {
            self.months.push(t.finish(&self.entities));
        }
        self.done += 1;
    }
}

/// Stops a run that cannot go on: every error on stderr, nothing written.
fn stop(errors: &[RecordError], what: &str) -> Failure {
    for e in errors {
        eprintln!("error: {}", describe(e));
    }
    Failure::new(Exit::BadInput, format!("{} {what}; nothing was written", errors.len()))
}

/// Evaluates the declared month(s) over the prior states and the extract, and writes the
/// outputs into `config.out` (all of them, or none).
pub(crate) fn execute(
    book: &RuleBook,
    source: &str,
    inputs: Inputs,
    config: &RunConfig<'_>,
) -> Result<RunReport, Failure> {
    let Inputs { mut states, extract, entity_names, file_errors } = inputs;
    if !file_errors.is_empty() || !extract.fatal().is_empty() {
        let mut errors = file_errors;
        errors.extend(extract.fatal().iter().cloned());
        return Err(stop(
            &errors,
            "input file(s) or record(s) cannot be used, and no customer can be held back for them (a record whose customer cannot be identified stops the run)",
        ));
    }
    // A month without a single AUM record would evaluate every stored customer at zero: that is
    // a missing extract, not a month in which nobody held anything.
    if config.options.absent != Absent::Hold {
        let single = (config.months.first() == config.months.last()).then_some(config.months.first());
        for m in config.months.months() {
            if !extract.rows().iter().any(|r| r.month.or(single) == Some(m)) {
                return Err(Failure::new(
                    Exit::BadInput,
                    format!(
                        "the input has no AUM record for {m} (declared with --month {}): every customer would be evaluated at zero AUM; nothing was written (check the files, or give --absent hold)",
                        config.months
                    ),
                ));
            }
        }
    }

    let engine = Engine::new(book.clone());
    let mut staging = Staging::new(config.out)?;
    let mut w = Writers {
        events_jsonl: staging.create("events.jsonl")?,
        events_csv: staging.create("events.csv")?,
        alerts_jsonl: staging.create("alerts.jsonl")?,
        alerts_csv: staging.create("alerts.csv")?,
        history: staging.create("history.csv")?,
    };
    w.events_csv.line(EVENTS_HEADER)?;
    w.alerts_csv.line(ALERTS_HEADER)?;
    w.history.line(HISTORY_HEADER)?;
    let mut sink = Sink {
        w,
        error: None,
        entities: Entities::default(),
        tally: None,
        months: Vec::new(),
        before: states.states().iter().map(|s| s.effective_tier).collect(),
        held: Vec::new(),
        progress: Progress::new(config.months.months().count()),
        done: 0,
        line: String::with_capacity(160),
    };
    let result = engine.evaluate_portfolio_with(&mut states, config.months, &extract, &config.options, &mut sink);
    sink.progress.finish();
    if let Err(failure) = result {
        return Err(stop(&failure.errors, "error(s) stop the run"));
    }
    if let Some(e) = sink.error.take() {
        return Err(e);
    }
    let Sink { w, months, held, .. } = sink;

    if !held.is_empty() && !config.skip_bad_rows {
        for (_, _, e) in &held {
            eprintln!("rejected: {}", describe(e));
        }
        let bad_input = held.iter().any(|(_, _, e)| e.category() == "input");
        let (exit, what) = if bad_input {
            (Exit::BadInput, "bad input record(s)")
        } else {
            (Exit::EngineErrors, "customer(s) the engine could not evaluate")
        };
        return Err(Failure::new(
            exit,
            format!(
                "{} {what}; nothing was written (correct the inputs, or give --skip-bad-rows to hold those customers back, write the others and a rejects file)",
                held.len()
            ),
        ));
    }

    let mut summary = RunSummary::new(book, source, entity_names);
    for m in months {
        summary.add_month(m);
    }
    summary.customers = states.len() as u64;
    summary.bad_rows = extract.rejected().count() as u64;
    let Writers { events_jsonl, events_csv, alerts_jsonl, alerts_csv, history } = w;
    for f in [events_jsonl, events_csv, alerts_jsonl, alerts_csv, history] {
        f.finish()?;
    }
    staging.write("states.jsonl", &states.to_jsonl(book))?;
    let mut rj = staging.create("rejects.csv")?;
    rj.line(REJECTS_HEADER)?;
    let originals = original_lines(&held, config.encoding);
    for (from, _, e) in &held {
        let (file, line) =
            e.record.as_ref().map_or((String::new(), String::new()), |r| (r.table.clone(), r.row.to_string()));
        let (other_file, other_line) =
            e.other_record.as_ref().map_or((String::new(), String::new()), |r| (r.table.clone(), r.row.to_string()));
        let original =
            e.record.as_ref().and_then(|r| originals.get(&(r.table.clone(), r.row))).map_or("", String::as_str);
        let fields = [
            csv_field(&file).into_owned(),
            line,
            csv_field(e.customer().unwrap_or("")).into_owned(),
            opt(e.month()),
            e.category().to_string(),
            csv_field(e.field().unwrap_or("")).into_owned(),
            csv_field(&e.error.to_string()).into_owned(),
            csv_field(&other_file).into_owned(),
            other_line,
            from.to_string(),
            csv_field(original).into_owned(),
        ];
        rj.line(&fields.join(","))?;
    }
    rj.finish()?;
    staging.write("rules.json", &book.to_json())?;
    staging.write(
        "summary.json",
        &serde_json::to_string_pretty(&summary).map_err(|e| Failure::internal(e.to_string()))?,
    )?;
    staging.commit()?;
    for (_, _, e) in &held {
        eprintln!("rejected: {}", describe(e));
    }
    let exit = if held.is_empty() { Exit::Ok } else { Exit::Rejects };
    Ok(RunReport { summary, exit })
}

/// The original text of the records named by errors, read again from their files (only when
/// there are rejects, so the inputs need not stay in memory).
fn original_lines(held: &[(Month, Option<usize>, RecordError)], encoding: Encoding) -> HashMap<(String, u64), String> {
    let mut wanted: HashMap<String, Vec<u64>> = HashMap::new();
    for (_, _, e) in held {
        if let Some(r) = &e.record {
            wanted.entry(r.table.clone()).or_default().push(r.row);
        }
    }
    let mut out = HashMap::new();
    for (file, rows) in wanted {
        let Ok(bytes) = std::fs::read(&file) else { continue };
        let text = crate::text::decode(bytes, encoding);
        for (k, l) in text.lines().enumerate() {
            let row = k as u64 + 1;
            if rows.contains(&row) {
                out.insert((file.clone(), row), l.to_string());
            }
        }
    }
    out
}

/// JSON serialization of output lines.
mod erased {
    use crate::exit::Failure;

    pub(crate) trait Json {
        fn to_json(&self) -> Result<String, Failure>;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> Result<String, Failure> {
            serde_json::to_string(self).map_err(|e| Failure::internal(format!("cannot write a JSON line: {e}")))
        }
    }
}
