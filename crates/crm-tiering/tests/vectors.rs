//! Runs every conformance vector of `rules-spec/vectors/` (format: `rules-spec/VECTORS.md`).
//!
//! Each month is checked twice: against the hand-written `expect` (status, tiers, counters,
//! event and alert summaries) and against the full `expected` states, events and alerts that
//! the C, Java and Python runners compare too.
//!
//! `UPDATE_VECTORS=1 cargo test -p crm-tiering --test vectors` resolves `rules_patch` into
//! `rules` and writes `expected`, but only for vectors whose hand-written `expect` passes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use crm_tiering::{
    Alert, Customer, CustomerState, Engine, EngineOptions, Event, Month, MonthInput, RuleBook, TieringError,
};
use serde_json::{Value, json};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules-spec/vectors")
}

/// Applies a `rules_patch` to the default rule book: `version` fields are merged into the first
/// version of the default rule set; other keys are documented in VECTORS.md.
fn resolve_rules(vector: &Value) -> Value {
    if let Some(rules) = vector.get("rules").filter(|_| vector.get("rules_patch").is_none()) {
        return rules.clone();
    }
    if let Some(book) = vector.get("gallery").and_then(Value::as_str) {
        let text = std::fs::read_to_string(vectors_dir().join("..").join(book)).unwrap();
        return serde_json::to_value(RuleBook::from_toml_str(&text).unwrap().source()).unwrap();
    }
    let book = RuleBook::default_book().unwrap();
    let mut rules = serde_json::to_value(book.source()).unwrap();
    let Some(patch) = vector.get("rules_patch") else { return rules };
    let set = &mut rules["rule_sets"][0];
    if let Some(tiers) = patch.get("tiers") {
        set["versions"][0]["tiers"] = tiers.clone();
    }
    if let Some(Value::Object(fields)) = patch.get("version") {
        for (k, v) in fields {
            set["versions"][0][k] = v.clone();
        }
    }
    if let Some(Value::Object(fields)) = patch.get("aum") {
        for (k, v) in fields {
            set["versions"][0]["aum"][k] = v.clone();
        }
    }
    if let Some(Value::Array(versions)) = patch.get("extra_versions") {
        for extra in versions {
            let mut v = set["versions"][0].clone();
            for (k, x) in extra.as_object().unwrap() {
                v[k] = x.clone();
            }
            set["versions"].as_array_mut().unwrap().push(v);
        }
    }
    if let Some(Value::Array(sets)) = patch.get("extra_rule_sets") {
        let base_version = rules["rule_sets"][0]["versions"][0].clone();
        for extra in sets {
            let mut s = json!({"versions": [base_version.clone()]});
            for (k, x) in extra.as_object().unwrap() {
                if k == "version" {
                    for (vk, vx) in x.as_object().unwrap() {
                        s["versions"][0][vk] = vx.clone();
                    }
                } else {
                    s[k] = x.clone();
                }
            }
            rules["rule_sets"].as_array_mut().unwrap().push(s);
        }
    }
    rules
}

fn event_summary(e: &Event) -> String {
    let t = |t: Option<crm_tiering::TierCode>| t.map(|t| t.to_string()).unwrap_or_default();
    format!("{}:{}>{}:{}", e.kind, t(e.from_tier), t(e.to_tier), e.reason)
}

fn alert_summary(a: &Alert) -> String {
    let mut s = format!("{}:{}", a.kind, a.tier.map(|t| t.to_string()).unwrap_or_default());
    if let Some(l) = a.months_left {
        s.push_str(&format!(":left={l}"));
    }
    s
}

/// What decided an event or alert by criteria: `measure[@window]=value` (SPEC §19.3).
fn decided_summary(
    measure: &Option<crm_tiering::MeasureCode>,
    window: Option<crm_tiering::Window>,
    value: Option<crm_tiering::Decimal>,
) -> Option<String> {
    let window = window.map(|w| format!("@{w}")).unwrap_or_default();
    Some(format!("{}{window}={}", measure.as_ref()?, value?))
}

fn error_category(e: &TieringError) -> &'static str {
    match e {
        TieringError::Rules(_) => "rules",
        TieringError::Input(_) => "input",
        TieringError::Sequence(_) => "sequence",
        TieringError::State(_) => "state",
    }
}

/// Checks the hand-written expectations of one month; returns the mismatches.
fn check_expect(expect: &Value, out: &crm_tiering::MonthOutcome) -> Vec<String> {
    let (state, events, alerts) = (&out.state, &out.events, &out.alerts);
    let mut bad = Vec::new();
    let obj = expect.as_object().unwrap();
    let tier = |t: Option<crm_tiering::TierCode>| t.map_or(Value::Null, |t| Value::String(t.to_string()));
    for (key, want) in obj {
        let got = match key.as_str() {
            "status" => json!(state.status.as_str()),
            "tier" => tier(state.tier),
            "effective_tier" => tier(state.effective_tier),
            "watch_months" => json!(state.watch.map_or(0, |w| w.short_months)),
            "below_entry_months" => json!(state.below_entry.map_or(0, |r| r.months)),
            "retention_months_left" => json!(state.retention_months_left),
            "special_tier" => tier(state.special.map(|s| s.tier)),
            "special_until" => state.special.map_or(Value::Null, |s| json!(s.last_month.to_string())),
            "events" => json!(events.iter().map(event_summary).collect::<Vec<_>>()),
            "alerts" => json!(alerts.iter().map(alert_summary).collect::<Vec<_>>()),
            "decided" => json!(
                events
                    .iter()
                    .filter_map(|e| decided_summary(
                        &e.evidence.measure,
                        e.evidence.measure_window,
                        e.evidence.measure_value()
                    ))
                    .collect::<Vec<_>>()
            ),
            "alerts_decided" => json!(
                alerts
                    .iter()
                    .filter_map(|a| decided_summary(&a.measure, a.measure_window, a.measure_value()))
                    .collect::<Vec<_>>()
            ),
            // A warning's evidence (SPEC §22.3): `kind measure@window=value<threshold`.
            "warnings" => json!(
                alerts
                    .iter()
                    .filter(|a| a.kind.is_warning())
                    .map(|a| format!(
                        "{} {}<{}",
                        a.kind,
                        decided_summary(&a.measure, a.measure_window, a.measure_value()).unwrap_or_default(),
                        a.threshold().map(|t| t.to_string()).unwrap_or_default()
                    ))
                    .collect::<Vec<_>>()
            ),
            "history" => serde_json::from_str::<Value>(&out.history.to_json()).unwrap(),
            "aum" => continue,
            other => {
                bad.push(format!("unknown expect key `{other}`"));
                continue;
            }
        };
        if &got != want {
            bad.push(format!("{key}: expected {want}, got {got}"));
        }
    }
    bad
}

fn run_vector(path: &Path, update: bool) -> Result<Option<Value>, String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut vector: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let rules = match vector.get("rules") {
        Some(r) if !update => r.clone(),
        _ => resolve_rules(&vector),
    };
    let options: EngineOptions =
        vector.get("options").map(|o| serde_json::from_value(o.clone()).unwrap()).unwrap_or_default();
    let engine = match (RuleBook::from_json_str(&rules.to_string()), vector.get("expect_rules_error")) {
        (Ok(book), None) => Engine::with_options(book, options),
        (Err(TieringError::Rules(e)), Some(want)) => {
            let field = want.get("field").and_then(Value::as_str).unwrap_or("");
            if e.field != field {
                return Err(format!("rules error on `{}`, expected `{field}`: {e}", e.field));
            }
            if let Some(part) = want.get("message_contains").and_then(Value::as_str)
                && !e.message.contains(part)
            {
                return Err(format!("rules error message lacks `{part}`: {e}"));
            }
            if update {
                vector["rules"] = rules;
                return Ok(Some(vector));
            }
            return Ok(None);
        }
        (Ok(_), Some(_)) => return Err("rule book loaded, but an error was expected".into()),
        (Err(e), _) => return Err(format!("rule book: {e}")),
    };
    let customer: Customer =
        serde_json::from_value(vector["customer"].clone()).map_err(|e| format!("customer: {e}"))?;
    let mut state: CustomerState = match vector.get("initial_state") {
        None | Some(Value::Null) => CustomerState::default(),
        Some(s) => serde_json::from_value(s.clone()).map_err(|e| format!("initial_state: {e}"))?,
    };
    let mut history = crm_tiering::History::new();
    let mut batch = (state, crm_tiering::Histories::new());
    let mut problems = Vec::new();
    let months = vector["months"].as_array_mut().ok_or("no months")?;
    for (i, m) in months.iter_mut().enumerate() {
        let month: Month = serde_json::from_value(m["month"].clone()).map_err(|e| format!("months[{i}].month: {e}"))?;
        let input: MonthInput =
            serde_json::from_value(m["input"].clone()).map_err(|e| format!("months[{i}].input: {e}"))?;
        let single = engine.evaluate_with_history(&customer, &state, &history, month, &input);
        for p in batch_agrees(&engine, &customer, &mut batch, (month, &input), &single) {
            problems.push(format!("{month}: batch path: {p}"));
        }
        match single {
            Ok(out) => {
                if m.get("expect_error").is_some() {
                    problems.push(format!("{month}: expected an error, got none"));
                }
                if let Some(expect) = m.get("expect") {
                    for p in check_expect(expect, &out) {
                        problems.push(format!("{month}: {p}"));
                    }
                    if let Some(want) = expect.get("aum")
                        && want != &json!(out.aum.to_string())
                    {
                        problems.push(format!("{month}: aum: expected {want}, got {}", out.aum));
                    }
                } else {
                    problems.push(format!("{month}: no hand-written `expect`"));
                }
                let full = out.to_json_value();
                if update {
                    m["expected"] = full;
                } else if m.get("expected") != Some(&full) {
                    problems.push(format!(
                        "{month}: full expectation differs:\n  expected {}\n  got      {}",
                        m.get("expected").map(|v| v.to_string()).unwrap_or_else(|| "nothing".into()),
                        full
                    ));
                }
                state = out.state;
                history.clone_from(&out.history);
            }
            Err(e) => match m.get("expect_error") {
                Some(want) => {
                    let cat = want.get("category").and_then(Value::as_str).unwrap_or("");
                    if cat != error_category(&e) {
                        problems.push(format!("{month}: expected a {cat} error, got: {e}"));
                    }
                    if let (Some(field), TieringError::Input(ie)) = (want.get("field").and_then(Value::as_str), &e)
                        && ie.field != field
                    {
                        problems.push(format!("{month}: expected an error on field `{field}`, got: {e}"));
                    }
                    if e.customer() != Some(customer.id.as_str()) && !matches!(e, TieringError::Rules(_)) {
                        problems.push(format!("{month}: error does not name the customer: {e}"));
                    }
                }
                None => problems.push(format!("{month}: unexpected error: {e}")),
            },
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    if update {
        vector["rules"] = rules;
        return Ok(Some(vector));
    }
    if vector.get("rules").is_none() {
        return Err("no resolved `rules` (run with UPDATE_VECTORS=1)".into());
    }
    Ok(None)
}

/// Runs the month through the batch path too (a batch of the one customer, with its state and
/// history as the batch kept them) and lists where it differs from the single-customer path:
/// the steady and plain short paths must give what the full step gives.
fn batch_agrees(
    engine: &Engine,
    customer: &Customer,
    (state, histories): &mut (CustomerState, crm_tiering::Histories),
    (month, input): (Month, &MonthInput),
    single: &Result<crm_tiering::MonthOutcome, TieringError>,
) -> Vec<String> {
    let mut outcome = crm_tiering::BatchOutcome::default();
    let states = std::slice::from_mut(state);
    let customers = std::slice::from_ref(customer);
    engine.evaluate_batch_with_history(month, customers, (states, histories), |_| Ok(input), &mut outcome).unwrap();
    let mut bad = Vec::new();
    match single {
        Ok(out) => {
            let events: Vec<Event> = outcome.events.iter().map(|e| e.event).collect();
            let alerts: Vec<Alert> = outcome.alerts.iter().map(|a| a.alert).collect();
            if !outcome.errors.is_empty() {
                bad.push(format!("unexpected errors {:?}", outcome.errors));
            }
            if events != out.events || alerts != out.alerts {
                bad.push(format!("events {events:?} alerts {alerts:?}"));
            }
            if *state != out.state || histories.get(0) != out.history {
                bad.push(format!("state {} history {}", state.to_json(), histories.get(0).to_json()));
            }
        }
        Err(_) if outcome.errors.is_empty() => bad.push("no error".into()),
        Err(_) => {}
    }
    bad
}

#[test]
fn conformance_vectors() {
    let update = std::env::var_os("UPDATE_VECTORS").is_some();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    for p in &paths {
        match run_vector(p, update) {
            Ok(Some(v)) => std::fs::write(p, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap(),
            Ok(None) => {}
            Err(e) => failures.push(format!("{}:\n{e}", p.file_name().unwrap().to_string_lossy())),
        }
    }
    assert!(failures.is_empty(), "{} of {} vectors failed:\n\n{}", failures.len(), paths.len(), failures.join("\n\n"));
    assert!(paths.len() >= 60, "expected at least 60 vectors, found {}", paths.len());
}
