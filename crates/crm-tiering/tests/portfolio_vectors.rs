//! Runs every portfolio vector of `rules-spec/portfolio-vectors/` (format: `rules-spec/VECTORS.md`
//! §7) through the core's portfolio month, the reference every other surface is compared with.
//!
//! Each run is checked against the hand-written `expect` (tiers, held customers, customers not
//! in the states) and against the full `expected` / `expect_failure`.
//! `UPDATE_VECTORS=1 cargo test -p crm-tiering --test portfolio_vectors` writes `expected` and
//! `expect_failure`, but only for vectors whose hand-written `expect` passes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use crm_tiering::portfolio::{
    Columns, Extract, MonthRange, PortfolioOptions, PortfolioOutcome, PortfolioStates, RecordError, TableKind,
};
use crm_tiering::{Customer, CustomerKind, CustomerState, Engine, InputError, RuleBook};
use serde_json::{Value, json};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules-spec/portfolio-vectors")
}

fn error_json(e: &RecordError) -> Value {
    let record = |r: &Option<crm_tiering::portfolio::RecordRef>| match r {
        Some(r) => json!({"table": r.table, "row": r.row}),
        None => Value::Null,
    };
    json!({
        "category": e.category(),
        "customer_id": e.customer(),
        "month": e.month().map(|m| m.to_string()),
        "field": e.field(),
        "record": record(&e.record),
        "other_record": record(&e.other_record),
    })
}

fn states_json(states: &PortfolioStates) -> Value {
    Value::Array(
        states
            .iter()
            .map(|(c, s)| {
                json!({"customer_id": c.id, "legal_entity": c.legal_entity, "customer_kind": c.kind, "state": s})
            })
            .collect(),
    )
}

fn outcome_json(out: &PortfolioOutcome, states: &PortfolioStates) -> Value {
    let id = |i: usize| states.customer(i).unwrap().id.to_string();
    let months: Vec<Value> = out
        .months
        .iter()
        .map(|m| {
            json!({
                "month": m.month.map(|m| m.to_string()),
                "events": m.events.iter().map(|(i, e)| json!({"customer_id": id(*i), "event": e})).collect::<Vec<_>>(),
                "alerts": m.alerts.iter().map(|(i, a)| json!({"customer_id": id(*i), "alert": a})).collect::<Vec<_>>(),
                "evaluated": m.evaluated.iter().map(|x| json!({"customer_id": id(x.index), "aum": x.aum.to_string(), "has_record": x.has_record})).collect::<Vec<_>>(),
                "held": m.held.iter().map(|(_, e)| error_json(e)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"months": months, "states": states_json(states)})
}

/// An option's value as the text [`PortfolioOptions::set`] reads (VECTORS.md §7): strings as
/// they are, booleans and numbers as written, lists joined by commas.
fn option_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(option_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// The vector's options, then the run's, over the defaults, with `threads`.
fn options(vector: &Value, run: &Value, threads: usize) -> PortfolioOptions {
    let mut options = PortfolioOptions { threads, ..PortfolioOptions::default() };
    for o in [vector, run.get("options").unwrap_or(&Value::Null)] {
        for (key, value) in o.as_object().into_iter().flatten() {
            options.set(key, &option_text(value)).unwrap();
        }
    }
    options
}

/// Runs one run; `Ok(outcome JSON)` or `Err(failure errors JSON)`.
fn run(engine: &Engine, states: &mut PortfolioStates, run: &Value, options: &PortfolioOptions) -> Result<Value, Value> {
    let book = engine.rule_book();
    let months: MonthRange = run["months"].as_str().unwrap().parse().map_err(|message: String| {
        let e = RecordError::at(InputError::new("", None, "month", message), None);
        json!([error_json(&e)])
    })?;
    let mut extract = Extract::new(book);
    for t in run["tables"].as_array().unwrap() {
        let kind = match t["kind"].as_str().unwrap() {
            "aum" => TableKind::Aum,
            "daily" => TableKind::Daily,
            "designations" => TableKind::Designations,
            other => panic!("unknown table kind {other}"),
        };
        let headers: Vec<&str> = t["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        let cols =
            Columns::resolve(book, kind, &headers).map_err(|e| json!([error_json(&RecordError::at(e, None))]))?;
        let name = t["name"].as_str().unwrap();
        for (k, row) in t["rows"].as_array().unwrap().iter().enumerate() {
            let cells: Vec<&str> = row.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
            extract.push_cells(name, &cols, k as u64, &cells);
        }
    }
    match engine.evaluate_portfolio(states, months, &extract, options) {
        Ok(out) => Ok(outcome_json(&out, states)),
        Err(f) => Err(Value::Array(f.errors.iter().map(error_json).collect())),
    }
}

fn check_expect(name: &str, k: usize, expect: &Value, states: &PortfolioStates, result: &Result<Value, Value>) {
    if let Some(tiers) = expect.get("tiers").and_then(Value::as_object) {
        for (id, tier) in tiers {
            let got = states.get(id).and_then(|(_, s)| s.tier).map(|t| t.to_string());
            assert_eq!(got.as_deref(), tier.as_str(), "{name} run {k}: tier of {id}");
        }
    }
    if let Some(held) = expect.get("held").and_then(Value::as_array) {
        let mut got: Vec<String> = match result {
            Ok(v) => v["months"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|m| m["held"].as_array().unwrap().iter())
                .filter_map(|e| e["customer_id"].as_str().map(str::to_string))
                .collect(),
            Err(_) => Vec::new(),
        };
        got.sort();
        got.dedup();
        let mut want: Vec<String> = held.iter().map(|h| h.as_str().unwrap().to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{name} run {k}: held customers");
    }
    if let Some(absent) = expect.get("not_in_states").and_then(Value::as_array) {
        for id in absent {
            assert!(states.get(id.as_str().unwrap()).is_none(), "{name} run {k}: {id} must not be in the states");
        }
    }
}

#[test]
fn portfolio_vectors() {
    let update = std::env::var_os("UPDATE_VECTORS").is_some();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the portfolio vectors are missing");
    // One thread streams the batch's results to the sink; two collect them per chunk and
    // replay them: both must give the vectors' outcomes.
    let passes: &[usize] = if update { &[1] } else { &[1, 2] };
    for (path, &threads) in files.iter().flat_map(|p| passes.iter().map(move |t| (p, t))) {
        let name = format!("{} ({threads} thread(s))", path.file_name().unwrap().to_string_lossy());
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let book = match v.get("rules").filter(|r| !r.is_null()) {
            Some(r) => RuleBook::from_json_str(&r.to_string()).unwrap(),
            None => RuleBook::default_book().unwrap(),
        };
        let engine = Engine::new(book);
        let vector_options = v.get("options").cloned().unwrap_or(json!({}));
        let mut load_error = None;
        let mut states = PortfolioStates::new();
        if let Some(text) = v.get("states_text").and_then(Value::as_str) {
            match PortfolioStates::from_jsonl(text, "states") {
                Ok(s) => states = s,
                Err(e) => load_error = Some(json!([error_json(&e)])),
            }
        }
        for line in v.get("states").and_then(Value::as_array).into_iter().flatten() {
            let kind: CustomerKind =
                serde_json::from_value(line.get("customer_kind").cloned().unwrap_or(json!("personal"))).unwrap();
            let customer = Customer {
                id: line["customer_id"].as_str().unwrap().to_string(),
                legal_entity: line.get("legal_entity").and_then(Value::as_str).map(str::to_string),
                kind,
            };
            let state: CustomerState = serde_json::from_value(line["state"].clone()).unwrap();
            states.insert(customer, state).unwrap();
        }
        let runs = v["runs"].as_array().unwrap().clone();
        for (k, r) in runs.iter().enumerate() {
            let before = states_json(&states);
            let result = match load_error.take() {
                Some(e) => Err(e),
                None => run(&engine, &mut states, r, &options(&vector_options, r, threads)),
            };
            if result.is_err() {
                assert_eq!(
                    states_json(&states),
                    before,
                    "{name} run {k}: a failed run must leave the states unchanged"
                );
            }
            if let Some(expect) = r.get("expect") {
                check_expect(&name, k, expect, &states, &result);
            }
            let slot = &mut v["runs"][k];
            if update {
                let obj = slot.as_object_mut().unwrap();
                obj.remove("expected");
                obj.remove("expect_failure");
                match &result {
                    Ok(x) => obj.insert("expected".into(), x.clone()),
                    Err(x) => obj.insert("expect_failure".into(), x.clone()),
                };
                continue;
            }
            match (&result, slot.get("expected"), slot.get("expect_failure")) {
                (Ok(got), Some(want), None) => assert_eq!(got, want, "{name} run {k}: outcome"),
                (Err(got), None, Some(want)) => assert_eq!(got, want, "{name} run {k}: failure"),
                (got, want, fail) => panic!("{name} run {k}: got {got:?}, expected {want:?} / failure {fail:?}"),
            }
        }
        if update {
            let mut text = serde_json::to_string_pretty(&v).unwrap();
            text.push('\n');
            std::fs::write(path, text).unwrap();
        }
    }
}
