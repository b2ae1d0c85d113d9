//! The language-neutral portfolio vectors (rules-spec/VECTORS.md §7) run through the
//! `crm-tiering` binary: each table is written as `<name>.csv` (header on line 1, row k on line
//! k + 2), the run goes through `crm-tiering run --month ... --skip-bad-rows`, and the written
//! states.jsonl, events.jsonl, alerts.jsonl, history.csv and rejects.csv are compared with the
//! vector's expectations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crm_tiering::portfolio::PortfolioStates;
use crm_tiering::{Customer, CustomerKind, CustomerState, RuleBook};
use serde_json::{Value, json};

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules-spec")
}

/// A cell as the CLI's csv_field writes text: formulas neutralised (quoting is undone by
/// [`csv_line`]).
fn neutral(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() }
}

/// A cell for an input CSV: quoted when it holds a delimiter or a quote.
fn input_cell(s: &str) -> String {
    assert!(!s.contains(['\n', '\r']), "a vector cell with a line break cannot be a CSV line: {s:?}");
    if s.contains([',', '"']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// Splits a CSV line written by the CLI.
fn csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, ',') => out.push(std::mem::take(&mut cell)),
            (false, '"') if cell.is_empty() => quoted = true,
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (_, c) => cell.push(c),
        }
    }
    out.push(cell);
    out
}

/// A CSV file as header-keyed rows.
fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = csv_line(lines.next().unwrap());
    lines.map(|l| header.iter().cloned().zip(csv_line(l)).collect()).collect()
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn without(mut v: Value, keys: &[&str]) -> Value {
    if let Some(o) = v.as_object_mut() {
        for k in keys {
            o.remove(*k);
        }
    }
    v
}

fn states_json(states: &PortfolioStates) -> Value {
    Value::Array(
        states
            .iter()
            .map(|(c, s)| {
                json!({"customer_id": c.id, "legal_entity": c.legal_entity, "customer_kind": c.kind,
                       "state": serde_json::to_value(s).unwrap()})
            })
            .collect(),
    )
}

/// An option's value as text (VECTORS.md §7): strings as they are, booleans and numbers as
/// written, lists joined by commas.
fn option_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(option_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// The rows a run exported against the vector's. A catch-up's months hold the rows of the run
/// that committed them too (the store keeps a month's rows, not a run's): the vector's rows must
/// be among them, in their order.
fn same_rows(got: Vec<Value>, want: Vec<Value>, catch_up: bool, ctx: &str) {
    if !catch_up {
        assert_eq!(got, want, "{ctx}");
        return;
    }
    let mut rest = got.iter();
    for w in &want {
        assert!(rest.any(|g| g == w), "{ctx}: {w} is not among {got:?}");
    }
}

struct Runner {
    name: String,
    dir: tempfile::TempDir,
    rules: PathBuf,
    book: RuleBook,
    states: Option<PathBuf>,
    /// Whether a run went through: the store then holds the vector's months.
    started: bool,
    options: Value,
}

impl Runner {
    /// The table name of a file path the CLI reports, and the row of a line.
    fn record(&self, file: &str, line: &str) -> Value {
        if file.is_empty() {
            return Value::Null;
        }
        let name = Path::new(file).file_name().unwrap().to_str().unwrap();
        let line: u64 = line.parse().unwrap();
        match name.strip_suffix(".csv") {
            Some(table) => json!({"table": table, "row": line - 2}),
            // The states file: lines are rows, as the core numbers them.
            None => json!({"table": "states", "row": line}),
        }
    }

    fn run(&mut self, k: usize, run: &Value) {
        let ctx = format!("{} run {k}", self.name);
        let dir = self.dir.path().join(format!("run{k}"));
        std::fs::create_dir_all(&dir).unwrap();
        let months = run["months"].as_str().unwrap();
        let mut args: Vec<String> = vec!["run".into(), "--month".into(), months.into()];
        args.extend(["--rules".into(), self.rules.display().to_string()]);
        // One store for the vector's runs, as a bank keeps one: the first run that goes through
        // starts it from the vector's states (run --states: the import path; a catch-up needs
        // committed months, so the states are imported first); each run is exported into `out`.
        let out = dir.join("out");
        let store = self.dir.path().join("crm-tiering.db");
        args.extend(["--store".into(), store.display().to_string(), "--create-store".into()]);
        args.extend(["--skip-bad-rows".into(), "--quiet".into()]);
        args.extend(["--threads".into(), "2".into()]);
        // The CLI's own measure of a month far smaller than the store's last is not the
        // vectors' (they give min_records where they mean it).
        args.extend(["--min-coverage".into(), "0".into()]);
        // Every option through the CLI's --option KEY=VALUE (the core's one parser), the
        // vector's first, then the run's (VECTORS.md §7).
        for o in [&self.options, run.get("options").unwrap_or(&Value::Null)] {
            for (key, value) in o.as_object().into_iter().flatten() {
                args.extend(["--option".into(), format!("{key}={}", option_text(value))]);
            }
        }
        let catch_up = [&self.options, run.get("options").unwrap_or(&Value::Null)]
            .iter()
            .any(|o| o.get("catch_up").and_then(Value::as_bool) == Some(true));
        if let (false, Some(s)) = (self.started, &self.states) {
            if catch_up {
                let o = Command::new(env!("CARGO_BIN_EXE_crm-tiering"))
                    .args(["import-states"])
                    .arg(s)
                    .args(["--create-store", "--store"])
                    .arg(&store)
                    .arg("--rules")
                    .arg(&self.rules)
                    .output()
                    .unwrap();
                assert!(o.status.success(), "{ctx}: import-states: {}", String::from_utf8_lossy(&o.stderr));
                self.started = true;
            } else {
                args.extend(["--states".into(), s.display().to_string()]);
            }
        }
        for t in run["tables"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            assert_ne!(name, "states", "{ctx}: a table named states would be confused with the states file");
            let path = dir.join(format!("{name}.csv"));
            let row = |cells: &Value| {
                cells.as_array().unwrap().iter().map(|c| input_cell(c.as_str().unwrap())).collect::<Vec<_>>().join(",")
            };
            let mut text = row(&t["columns"]);
            text.push('\n');
            for r in t["rows"].as_array().unwrap() {
                let line = row(r);
                assert!(!line.trim().is_empty(), "{ctx}: an empty row would be a blank line, which readers skip");
                text.push_str(&line);
                text.push('\n');
            }
            std::fs::write(&path, text).unwrap();
            let flag = match t["kind"].as_str().unwrap() {
                "aum" => "--aum",
                "daily" => "--daily",
                "designations" => "--designations",
                other => panic!("{ctx}: unknown table kind {other}"),
            };
            args.extend([flag.into(), path.display().to_string()]);
        }
        let o: Output = Command::new(env!("CARGO_BIN_EXE_crm-tiering")).args(&args).output().unwrap();
        let code = o.status.code().unwrap();
        if code == 0 || code == 6 {
            for format in ["jsonl", "csv"] {
                let e = Command::new(env!("CARGO_BIN_EXE_crm-tiering"))
                    .args(["export", "--month", months, "--format", format, "--out"])
                    .arg(&out)
                    .arg("--store")
                    .arg(&store)
                    .output()
                    .unwrap();
                assert!(e.status.success(), "{ctx}: export: {}", String::from_utf8_lossy(&e.stderr));
            }
            let last = months.rsplit("..").next().unwrap();
            std::fs::rename(out.join(format!("states-{last}.jsonl")), out.join("states.jsonl")).unwrap();
        }
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let ctx = format!("{ctx} (exit {code}, stderr:\n{err})");
        if let Some(failure) = run.get("expect_failure") {
            assert!(code != 0 && code != 6, "{ctx}: the run must stop as a whole");
            if run["tables"].as_array().is_some_and(|t| t.is_empty()) {
                // No table at all: for the CLI, a run without --aum is a usage error.
                assert!(code == 2 && err.contains("--aum"), "{ctx}: a run without tables is refused");
                return;
            }
            assert!(!out.join("states.jsonl").exists(), "{ctx}: nothing is written");
            for e in failure.as_array().unwrap() {
                self.check_failure(e, code, &err, &dir, &ctx);
            }
            return; // the states are unchanged: the next run starts from the same file
        }
        let expected = &run["expected"];
        assert!(expected.is_object(), "{ctx}: the run has neither expected nor expect_failure");
        let months_expected = expected["months"].as_array().unwrap();
        let held: Vec<(&str, &Value)> = months_expected
            .iter()
            .flat_map(|m| m["held"].as_array().unwrap().iter().map(move |h| (m["month"].as_str().unwrap(), h)))
            .collect();
        assert_eq!(code, if held.is_empty() { 0 } else { 6 }, "{ctx}");

        // States, read back with the core's integrity checks.
        let text = std::fs::read_to_string(out.join("states.jsonl")).unwrap();
        let states = PortfolioStates::from_jsonl(&text, "states.jsonl").unwrap();
        assert_eq!(states.rule_book(), Some(self.book.fingerprint()), "{ctx}");
        // The store keeps a month's states by customer id (byte order), not in the order the
        // customers joined: compared as sets.
        let by_id = |v: &Value| {
            let mut a = v.as_array().unwrap().clone();
            a.sort_by(|x, y| {
                x["customer_id"].as_str().unwrap().as_bytes().cmp(y["customer_id"].as_str().unwrap().as_bytes())
            });
            a
        };
        assert_eq!(by_id(&states_json(&states)), by_id(&expected["states"]), "{ctx}: states");

        let flat = |key: &str| -> Vec<Value> {
            months_expected.iter().flat_map(|m| m[key].as_array().unwrap().iter().cloned()).collect()
        };
        let events: Vec<Value> = jsonl(&out.join("events.jsonl"))
            .into_iter()
            .map(|l| {
                let id = l["customer_id"].clone();
                json!({"customer_id": id, "event": without(l, &["customer_id", "legal_entity", "kind_zh", "reason_zh"])})
            })
            .collect();
        // The store keeps a month's events and alerts by customer id (byte order), each
        // customer's in their order: compared in that order.
        let by_customer = |mut v: Vec<Value>| {
            v.sort_by(|x, y| {
                x["customer_id"].as_str().unwrap().as_bytes().cmp(y["customer_id"].as_str().unwrap().as_bytes())
            });
            v
        };
        let (events, expected_events) = (by_customer(events), by_customer(flat("events")));
        same_rows(events, expected_events, catch_up, &format!("{ctx}: events"));
        let alerts: Vec<Value> = jsonl(&out.join("alerts.jsonl"))
            .into_iter()
            .map(|l| {
                let id = l["customer_id"].clone();
                json!({"customer_id": id, "alert": without(l, &["customer_id", "legal_entity", "kind_zh"])})
            })
            .collect();
        same_rows(by_customer(alerts), by_customer(flat("alerts")), catch_up, &format!("{ctx}: alerts"));

        // Evaluated customers, from the exported states.csv (ids as the CLI writes text cells).
        let evaluated: Vec<Value> = csv_rows(&out.join("states.csv"))
            .into_iter()
            .filter(|r| r["evaluated"] == "true")
            .map(|r| json!({"month": r["month"], "customer_id": r["customer_id"], "aum": r["aum"], "has_record": r["has_record"] == "true"}))
            .collect();
        let expected_evaluated: Vec<Value> = months_expected
            .iter()
            .flat_map(|m| {
                m["evaluated"].as_array().unwrap().iter().map(move |e| {
                    json!({"month": m["month"], "customer_id": neutral(e["customer_id"].as_str().unwrap()),
                           "aum": e["aum"], "has_record": e["has_record"]})
                })
            })
            .collect();
        // By month, then customer id (the store's order).
        let key = |v: &Value| {
            (v["month"].as_str().unwrap().to_string(), v["customer_id"].as_str().unwrap().as_bytes().to_vec())
        };
        let (mut evaluated, mut expected_evaluated) = (evaluated, expected_evaluated);
        evaluated.sort_by_key(key);
        expected_evaluated.sort_by_key(key);
        if catch_up {
            // The store amends the latest month's states only: earlier months keep the states
            // their own run committed (their events and alerts have the catch-up's).
            let last = months.rsplit("..").next().unwrap_or(months);
            expected_evaluated.retain(|e| e["month"] == last);
        }
        same_rows(evaluated, expected_evaluated, catch_up, &format!("{ctx}: evaluated"));

        // Held customers and refused records, from the exported rejects.csv (the month a customer
        // is held from is the reject's month; the record's own month is in its message).
        let split = |rec: &str| -> (String, String) {
            match rec.rsplit_once(':') {
                Some((f, l)) => (f.to_string(), l.to_string()),
                None => (String::new(), String::new()),
            }
        };
        let rejects: Vec<Value> = csv_rows(&out.join("rejects.csv"))
            .into_iter()
            .map(|r| {
                let opt = |k: &str| if r[k].is_empty() { Value::Null } else { Value::String(r[k].clone()) };
                let (file, line) = split(&r["record"]);
                let (other_file, other_line) = split(&r["other_record"]);
                json!({"held_from": r["month"], "customer_id": opt("customer_id"), "category": r["category"],
                       "field": opt("field"),
                       "record": self.record(&file, &line),
                       "other_record": self.record(&other_file, &other_line)})
            })
            .collect();
        let expected_rejects: Vec<Value> = held
            .iter()
            .map(|(month, h)| {
                let id = h["customer_id"].as_str().map(neutral);
                json!({"held_from": month, "customer_id": id, "category": h["category"],
                       "field": h["field"], "record": h["record"], "other_record": h["other_record"]})
            })
            .collect();
        same_rows(rejects.clone(), expected_rejects, catch_up, &format!("{ctx}: held"));

        // The hand-written checks.
        if let Some(expect) = run.get("expect") {
            if let Some(tiers) = expect["tiers"].as_object() {
                for (id, tier) in tiers {
                    let got = states.get(id).and_then(|(_, s)| s.tier).map(|t| t.to_string());
                    assert_eq!(got.as_deref(), tier.as_str(), "{ctx}: tier of {id}");
                }
            }
            for id in expect["not_in_states"].as_array().into_iter().flatten() {
                assert!(states.get(id.as_str().unwrap()).is_none(), "{ctx}: {id} is not stored");
            }
            for id in expect["held"].as_array().into_iter().flatten() {
                assert!(
                    rejects.iter().any(|r| r["customer_id"].as_str() == Some(&neutral(id.as_str().unwrap()))),
                    "{ctx}: {id} is held"
                );
            }
        }
        self.states = Some(out.join("states.jsonl"));
        self.started = true;
    }

    /// An expected error of a run that stops: on stderr, with its record, category and field.
    fn check_failure(&self, e: &Value, code: i32, err: &str, dir: &Path, ctx: &str) {
        if code == 8 {
            // Refused by the store: the months are out of order with its committed months.
            assert_eq!(e["field"], "month", "{ctx}");
            assert!(err.contains("committed months"), "{ctx}");
            return;
        }
        if code == 2 {
            // Refused as an argument (a declared month that cannot be evaluated): the CLI's
            // usage error names the option.
            assert_eq!(e["field"], "month", "{ctx}");
            assert!(err.contains("--month"), "{ctx}");
            return;
        }
        assert_eq!(code, 4, "{ctx}: a run that cannot go on is bad input");
        let tags =
            format!("[category {}, field {}]", e["category"].as_str().unwrap(), e["field"].as_str().unwrap_or("-"));
        let lines: Vec<&str> = err.lines().filter(|l| l.contains(&tags)).collect();
        assert!(!lines.is_empty(), "{ctx}: no error tagged {tags}");
        let at = |r: &Value| -> Option<String> {
            let table = r["table"].as_str()?;
            let row = r["row"].as_u64()?;
            Some(match table {
                "states" => format!("{}:{row}", self.states.as_ref().unwrap().display()),
                t => format!("{}:{}", dir.join(format!("{t}.csv")).display(), row + 2),
            })
        };
        let lines: Vec<&str> = match at(&e["record"]) {
            Some(r) => lines.into_iter().filter(|l| l.contains(&format!("{r}: "))).collect(),
            None => lines,
        };
        assert!(!lines.is_empty(), "{ctx}: no error at {:?} tagged {tags}", at(&e["record"]));
        if let Some(o) = at(&e["other_record"]) {
            assert!(lines.iter().any(|l| l.contains(&o)), "{ctx}: the other record {o} is named");
        }
        if let Some(id) = e["customer_id"].as_str() {
            assert!(lines.iter().any(|l| l.contains(&format!("`{id}`"))), "{ctx}: customer {id} is named");
        }
        if let Some(m) = e["month"].as_str() {
            assert!(lines.iter().any(|l| l.contains(m)), "{ctx}: month {m} is named");
        }
    }
}

fn run_vector(path: &Path) {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let default_path = spec_dir().join("default-rules.toml");
    let (rules, book) = match &v.get("rules") {
        Some(r) if !r.is_null() => {
            let p = dir.path().join("rules.json");
            std::fs::write(&p, serde_json::to_string(r).unwrap()).unwrap();
            let book = RuleBook::from_path(&p).unwrap();
            (p, book)
        }
        _ => (default_path.clone(), RuleBook::from_path(&default_path).unwrap()),
    };
    let states = if let Some(list) = v.get("states").and_then(Value::as_array) {
        let mut states = PortfolioStates::new();
        for s in list {
            let kind: CustomerKind =
                serde_json::from_value(s.get("customer_kind").cloned().unwrap_or(json!("personal"))).unwrap();
            let customer = Customer {
                id: s["customer_id"].as_str().unwrap().to_string(),
                legal_entity: s.get("legal_entity").and_then(Value::as_str).map(str::to_string),
                kind,
            };
            let state: CustomerState = serde_json::from_value(s["state"].clone()).unwrap();
            states.insert(customer, state).unwrap();
        }
        let p = dir.path().join("states.jsonl");
        std::fs::write(&p, states.to_jsonl(&book)).unwrap();
        Some(p)
    } else if let Some(text) = v.get("states_text").and_then(Value::as_str) {
        let fingerprint = RuleBook::from_path(&default_path).unwrap().fingerprint().to_string();
        let p = dir.path().join("states.jsonl");
        std::fs::write(&p, text.replace("{default_book_fingerprint}", &fingerprint)).unwrap();
        Some(p)
    } else {
        None
    };
    let mut runner = Runner {
        name,
        dir,
        rules,
        book,
        states,
        started: false,
        options: v.get("options").cloned().unwrap_or(Value::Null),
    };
    for (k, run) in v["runs"].as_array().unwrap().iter().enumerate() {
        runner.run(k, run);
    }
}

#[test]
fn portfolio_vectors() {
    // CRM_TIERING_PORTFOLIO_VECTORS points the runner at another folder (to try a vector).
    let dir = std::env::var_os("CRM_TIERING_PORTFOLIO_VECTORS")
        .map_or_else(|| spec_dir().join("portfolio-vectors"), PathBuf::from);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no portfolio vectors in {}", dir.display());
    let mut failed = Vec::new();
    for f in &files {
        if let Err(e) = std::panic::catch_unwind(|| run_vector(f)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{}: {msg}", f.display()));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} portfolio vectors failed:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n\n")
    );
}
