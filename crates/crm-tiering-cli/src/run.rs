//! `crm-tiering run`: a portfolio's months, evaluated in order, with every output written
//! atomically.

use std::collections::HashMap;
use std::path::Path;

use crm_tiering::{Alert, BatchOutcome, Decimal, Engine, Event, Month, RuleBook, SpecialVip, TierCode, TieringError};
use serde::{Deserialize, Serialize};

use crate::exit::{Exit, Failure};
use crate::input::{InputFiles, Portfolio, Reject, StateLine};
use crate::output::{OutFile, Staging};
use crate::progress::Progress;
use crate::summary::{RunSummary, tally_month};
use crate::text::csv_field;
use crate::{Absent, RunArgs, load_rules, thread_count};

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
const REJECTS_HEADER: &str = "file,line,customer_id,month,category,field,message,original_line";

/// How a run behaves, beyond its inputs.
pub(crate) struct RunConfig<'a> {
    pub(crate) out: &'a Path,
    pub(crate) skip_bad_rows: bool,
    pub(crate) absent: Absent,
    pub(crate) threads: usize,
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
        states: args.states.as_ref(),
        aum: &args.aum,
        daily: &args.daily,
        designations: &args.designations,
        encoding: args.read.encoding,
        delimiter: args.read.delimiter,
    };
    let portfolio = Portfolio::load(&book, &files)?;
    let config = RunConfig {
        out: &args.out,
        skip_bad_rows: args.skip_bad_rows,
        absent: args.absent,
        threads: thread_count(args.threads),
    };
    let report = execute(&book, &source, portfolio, &config)?;
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

fn category(e: &TieringError) -> (&'static str, String) {
    match e {
        TieringError::Rules(r) => ("rules", r.field.clone()),
        TieringError::Input(i) => ("input", i.field.clone()),
        TieringError::Sequence(_) => ("sequence", "month".into()),
        TieringError::State(_) => ("state", "state".into()),
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

/// Evaluates a loaded portfolio and writes the outputs into `config.out`.
pub(crate) fn execute(
    book: &RuleBook,
    source: &str,
    mut p: Portfolio,
    config: &RunConfig<'_>,
) -> Result<RunReport, Failure> {
    if !p.bad_rows.is_empty() && !config.skip_bad_rows {
        for r in &p.bad_rows {
            eprintln!("bad row: {r}");
        }
        return Err(Failure::new(
            Exit::BadInput,
            format!(
                "{} bad row(s) in the input; nothing was written (correct them, or give --skip-bad-rows to write the good rows and a rejects file)",
                p.bad_rows.len()
            ),
        ));
    }
    let months: Vec<Month> = p.months.keys().copied().collect();
    let Some(&first) = months.first() else {
        return Err(Failure::new(Exit::BadInput, "no month to evaluate: the AUM files have no good rows"));
    };
    for (k, m) in months.iter().enumerate() {
        if *m != first.plus(k as i32) {
            return Err(Failure::new(
                Exit::BadInput,
                format!(
                    "the input has no rows for {} (between {} and {m}): months are evaluated in order without gaps",
                    first.plus(k as i32),
                    first
                ),
            ));
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

    let mut rejects: Vec<Reject> = std::mem::take(&mut p.bad_rows);
    let bad_rows = rejects.len() as u64;
    let mut engine_rejects = 0usize;
    let mut summary = RunSummary::new(book, source, p.entity_names.clone());
    let progress = Progress::new(months.len());
    let mut announced_blocks: HashMap<u32, ()> = HashMap::new();
    for (k, &month) in months.iter().enumerate() {
        progress.set(k, &month.to_string());
        let n = p.active_in(month);
        let (inputs, has_row) = p.month_inputs(month, n);
        if config.absent == Absent::Error {
            for (i, has) in has_row.iter().enumerate() {
                if !has && !is_blocked(&p, i as u32, month) {
                    rejects.push(Reject {
                        customer: p.customers[i].id.clone(),
                        month: Some(month),
                        category: "input".into(),
                        field: "aum".into(),
                        message: "the customer has no row in the month's AUM files (--absent error)".into(),
                        ..Reject::default()
                    });
                    engine_rejects += 1;
                    p.blocked.insert(i as u32, Some(month));
                }
            }
        }
        let before: Vec<Option<TierCode>> = p.states[..n].iter().map(|s| s.effective_tier).collect();
        let held: Vec<u32> = (0..n as u32).filter(|&i| is_blocked(&p, i, month)).collect();
        for &i in &held {
            if announced_blocks.insert(i, ()).is_none() {
                rejects.push(Reject {
                    customer: p.customers[i as usize].id.clone(),
                    month: Some(month),
                    category: "blocked".into(),
                    message: format!(
                        "not evaluated from {month} on: an input row of the customer was rejected; its state stays at its last good month"
                    ),
                    ..Reject::default()
                });
            }
        }
        let (outcome, evaluated) = evaluate(&engine, &mut p, month, n, inputs, &held, config.threads)?;
        let mut rejected = held.len() as u64;
        for e in &outcome.errors {
            let i = e.index;
            let (cat, field) = category(&e.error);
            let (file, line) = p.source_of(month, i).map_or((String::new(), None), |(f, l)| (f, Some(l)));
            rejects.push(Reject {
                file,
                line,
                customer: p.customers[i as usize].id.clone(),
                month: Some(month),
                category: cat.into(),
                field,
                message: e.error.to_string(),
                text: String::new(),
            });
            engine_rejects += 1;
            rejected += 1;
            p.blocked.insert(i, Some(month.next()));
            announced_blocks.insert(i, ());
        }
        write_month(&mut w, &p, month, &outcome, &evaluated, &has_row)?;
        let without_row = has_row.iter().filter(|h| !**h).count() as u64;
        summary.add_month(tally_month(
            month,
            &p.customers[..n],
            &before,
            &p.states[..n],
            &outcome,
            without_row,
            rejected,
        ));
    }
    progress.finish();

    if engine_rejects > 0 && !config.skip_bad_rows {
        for r in rejects.iter().filter(|r| r.category != "row") {
            eprintln!("rejected: {r}");
        }
        return Err(Failure::new(
            Exit::EngineErrors,
            format!(
                "{engine_rejects} customer-month(s) could not be evaluated; nothing was written (correct the inputs, or give --skip-bad-rows to write the others and a rejects file)"
            ),
        ));
    }

    summary.customers = p.customers.len() as u64;
    summary.bad_rows = bad_rows;
    let Writers { events_jsonl, events_csv, alerts_jsonl, alerts_csv, history } = w;
    for f in [events_jsonl, events_csv, alerts_jsonl, alerts_csv, history] {
        f.finish()?;
    }
    let mut states = staging.create("states.jsonl")?;
    for (c, s) in p.customers.iter().zip(&p.states) {
        let line = StateLine {
            customer_id: c.id.clone(),
            legal_entity: c.legal_entity.clone(),
            legal_entity_name: c.legal_entity.as_ref().and_then(|e| p.entity_names.get(e).cloned()),
            customer_kind: c.kind,
            state: *s,
        };
        states.line(&serde_json::to_string(&line).map_err(|e| Failure::internal(e.to_string()))?)?;
    }
    states.finish()?;
    let mut rj = staging.create("rejects.csv")?;
    rj.line(REJECTS_HEADER)?;
    for r in &rejects {
        let month = opt(r.month);
        let line = opt(r.line);
        let fields = [&r.file, &line, &r.customer, &month, &r.category, &r.field, &r.message, &r.text];
        rj.line(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","))?;
    }
    rj.finish()?;
    staging.write("rules.json", &book.to_json())?;
    staging.write(
        "summary.json",
        &serde_json::to_string_pretty(&summary).map_err(|e| Failure::internal(e.to_string()))?,
    )?;
    staging.commit()?;
    for r in &rejects {
        eprintln!("rejected: {r}");
    }
    let exit = if rejects.is_empty() { Exit::Ok } else { Exit::Rejects };
    Ok(RunReport { summary, exit })
}

fn is_blocked(p: &Portfolio, i: u32, month: Month) -> bool {
    match p.blocked.get(&i) {
        None => false,
        Some(None) => true,
        Some(Some(from)) => *from <= month,
    }
}

/// Evaluates the first `n` customers except the held ones. Returns the outcome with indices
/// into the portfolio, and the evaluated customers' indices (parallel to `outcome.aums`).
fn evaluate(
    engine: &Engine,
    p: &mut Portfolio,
    month: Month,
    n: usize,
    inputs: Vec<crm_tiering::MonthInput>,
    held: &[u32],
    threads: usize,
) -> Result<(BatchOutcome, Vec<u32>), Failure> {
    let internal = |e: TieringError| Failure::internal(e.to_string());
    if held.is_empty() {
        let outcome = engine
            .evaluate_batch_parallel(month, &p.customers[..n], &inputs, &mut p.states[..n], threads)
            .map_err(internal)?;
        return Ok((outcome, (0..n as u32).collect()));
    }
    let keep: Vec<u32> = (0..n as u32).filter(|i| held.binary_search(i).is_err()).collect();
    let customers: Vec<_> = keep.iter().map(|&i| p.customers[i as usize].clone()).collect();
    let mut states: Vec<_> = keep.iter().map(|&i| p.states[i as usize]).collect();
    let mut inputs: Vec<Option<crm_tiering::MonthInput>> = inputs.into_iter().map(Some).collect();
    let inputs: Vec<_> = keep.iter().map(|&i| inputs[i as usize].take().unwrap_or_default()).collect();
    let mut outcome =
        engine.evaluate_batch_parallel(month, &customers, &inputs, &mut states, threads).map_err(internal)?;
    for (k, &i) in keep.iter().enumerate() {
        p.states[i as usize] = states[k];
    }
    for e in &mut outcome.events {
        e.index = keep[e.index as usize];
    }
    for a in &mut outcome.alerts {
        a.index = keep[a.index as usize];
    }
    for e in &mut outcome.errors {
        e.index = keep[e.index as usize];
    }
    Ok((outcome, keep))
}

fn write_month(
    w: &mut Writers,
    p: &Portfolio,
    month: Month,
    outcome: &BatchOutcome,
    evaluated: &[u32],
    has_row: &[bool],
) -> Result<(), Failure> {
    let json = |v: &dyn erased::Json| v.to_json();
    for e in &outcome.events {
        let c = &p.customers[e.index as usize];
        let ev = &e.event;
        let line = EventLine {
            customer_id: c.id.clone(),
            legal_entity: c.legal_entity.clone(),
            event: *ev,
            kind_zh: ev.kind.name_zh().into(),
            reason_zh: ev.reason.name_zh().into(),
        };
        w.events_jsonl.line(&json(&line)?)?;
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
        w.events_csv.line(&fields.join(","))?;
    }
    for a in &outcome.alerts {
        let c = &p.customers[a.index as usize];
        let al = &a.alert;
        let line = AlertLine {
            customer_id: c.id.clone(),
            legal_entity: c.legal_entity.clone(),
            alert: *al,
            kind_zh: al.kind.name_zh().into(),
        };
        w.alerts_jsonl.line(&json(&line)?)?;
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
        w.alerts_csv.line(&fields.join(","))?;
    }
    let failed: std::collections::HashSet<u32> = outcome.errors.iter().map(|e| e.index).collect();
    let mut line = String::with_capacity(160);
    for (k, &i) in evaluated.iter().enumerate() {
        if failed.contains(&i) {
            continue;
        }
        let c = &p.customers[i as usize];
        let s = &p.states[i as usize];
        let aum: Decimal = outcome.aums.get(k).copied().unwrap_or_default();
        let sp: Option<SpecialVip> = s.special;
        line.clear();
        use std::fmt::Write as _;
        let _ = write!(
            line,
            "{month},{},{},{},{aum},{},{},{},{},{},{},{},{}",
            csv_field(&c.id),
            csv_field(c.legal_entity.as_deref().unwrap_or("")),
            u8::from(has_row.get(i as usize).copied().unwrap_or(false)),
            s.status.as_str(),
            opt(s.tier),
            opt(s.effective_tier),
            opt(s.watch.map(|w| w.short_months)),
            opt(s.below_entry.map(|b| b.months)),
            s.retention_months_left,
            opt(sp.map(|sp| sp.tier)),
            opt(sp.map(|sp| sp.last_month)),
        );
        w.history.line(&line)?;
    }
    Ok(())
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
