//! `crm-tiering explain`: one customer's month-by-month story from a run's outputs.

use std::fmt::Write as _;
use std::path::Path;

use crm_tiering::{RuleBook, Status};

use crate::exit::{Exit, Failure};
use crate::run::{AlertLine, EventLine, HISTORY_HEADER};
use crate::summary::{Table, tier_names};
use crate::text::{csv_field, read_utf8, split};

pub(crate) fn explain_command(customer: &str, out: &Path) -> Result<Exit, Failure> {
    print!("{}", explain(customer, out)?);
    Ok(Exit::Ok)
}

/// The story of one customer, as printed.
pub(crate) fn explain(customer: &str, out: &Path) -> Result<String, Failure> {
    let history = read_utf8(&out.join("history.csv"))?;
    let events = read_utf8(&out.join("events.jsonl"))?;
    let alerts = read_utf8(&out.join("alerts.jsonl"))?;
    let names = match RuleBook::from_path(out.join("rules.json")) {
        Ok(book) => tier_names(&book),
        Err(_) => Vec::new(),
    };
    let tier = |code: &str| -> String {
        if code.is_empty() {
            return "-".into();
        }
        match names.iter().find(|t| t.code == code) {
            Some(t) => format!("{} {}", t.name_zh, t.code),
            None => code.to_string(),
        }
    };
    let mut lines = history.lines();
    if lines.next() != Some(HISTORY_HEADER) {
        return Err(Failure::new(
            Exit::Usage,
            format!("{}: not a history file written by this version of crm-tiering", out.join("history.csv").display()),
        ));
    }
    // history.csv holds the id as written by `csv_field` (quoted, formulas neutralised).
    let written = csv_field(customer);
    let needle = format!(",{written},");
    let mut fields = Vec::new();
    let mut months: Vec<Vec<String>> = Vec::new();
    for l in lines.filter(|l| l.contains(&needle)) {
        if split(l, ',', &mut fields).is_ok() && fields.get(1).is_some_and(|c| csv_field(c) == written) {
            months.push(fields.iter().map(|f| f.to_string()).collect());
        }
    }
    let my_events: Vec<EventLine> = events
        .lines()
        .filter(|l| l.contains(customer))
        .filter_map(|l| serde_json::from_str::<EventLine>(l).ok())
        .filter(|e| e.customer_id == customer)
        .collect();
    let my_alerts: Vec<AlertLine> = alerts
        .lines()
        .filter(|l| l.contains(customer))
        .filter_map(|l| serde_json::from_str::<AlertLine>(l).ok())
        .filter(|a| a.customer_id == customer)
        .collect();
    if months.is_empty() {
        return Err(Failure::new(
            Exit::Usage,
            format!("customer `{customer}` is not in the outputs of {}", out.display()),
        ));
    }
    let mut s = String::new();
    let entity = months.last().and_then(|m| m.get(2)).cloned().unwrap_or_default();
    let _ = writeln!(
        s,
        "customer {customer}{}: {} month(s) evaluated\n",
        if entity.is_empty() { String::new() } else { format!(" (legal entity {entity})") },
        months.len()
    );
    let mut t = Table::new(&[
        "month",
        "AUM 月日均",
        "status from next month",
        "tier",
        "effective tier",
        "watch",
        "below entry",
    ]);
    let mut story = String::new();
    for m in &months {
        let get = |i: usize| m.get(i).map(String::as_str).unwrap_or("");
        let status = match get(5) {
            "rated" => Status::Rated,
            "retained" => Status::Retained,
            _ => Status::NotEnrolled,
        };
        let mut aum = get(4).to_string();
        if get(3) == "0" {
            aum.push_str(" (no row)");
        }
        t.row(vec![
            get(0).into(),
            aum,
            format!("{} {}", status.name_zh(), status.as_str()),
            tier(get(6)),
            tier(get(7)),
            if get(8).is_empty() { "-".into() } else { format!("{} mo", get(8)) },
            if get(9).is_empty() { "-".into() } else { format!("{} mo", get(9)) },
        ]);
        for e in my_events.iter().filter(|e| e.event.month.to_string() == get(0)) {
            let _ =
                writeln!(story, "  {}  [{} / {}]", e.event.explain(), e.event.kind.name_zh(), e.event.reason.name_zh());
        }
        for a in my_alerts.iter().filter(|a| a.alert.month.to_string() == get(0)) {
            let al = &a.alert;
            let mut d = format!("  {}: alert {} [{}]", al.month, al.kind, al.kind.name_zh());
            if let Some(t) = al.tier {
                let _ = write!(d, " tier {}", tier(t.as_str()));
            }
            if let Some(n) = al.months_left {
                let _ = write!(d, ", {n} month(s) left");
            }
            if let Some(g) = al.gap {
                let _ = write!(d, ", gap {g} to {}", al.threshold.map(|t| t.to_string()).unwrap_or_default());
            }
            let _ = writeln!(story, "{d}");
        }
    }
    s.push_str(&t.render());
    let _ = writeln!(s, "\nEvents and alerts:");
    if story.is_empty() {
        story.push_str("  (none)\n");
    }
    s.push_str(&story);
    Ok(s)
}
