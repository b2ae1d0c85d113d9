//! Runs every loan classification vector of `rules-spec/loan-vectors/` (format: its
//! `README.md`) through `evaluate_loans`, and fails on any difference. The expected values are
//! written by hand from SPEC §21; nothing here writes them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use crm_tiering::{LoanError, LoanMonth, LoanOutcome, LoanSettings, LoanSignal, LoanState, Month, evaluate_loans};
use serde_json::{Map, Value, json};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules-spec/loan-vectors")
}

/// SPEC §21.5's table, typed from the SPEC: code → (number, Chinese name).
fn signal_table(code: &str) -> (u16, &'static str) {
    match code {
        "overdue" => (2201, "逾期"),
        "approaching_non_performing" => (2202, "临近不良"),
        "non_performing" => (2203, "不良贷款"),
        "bank_class_kinder_than_floor" => (2204, "分类宽于监管底线"),
        "upgrade_held_by_clean_window" => (2205, "不良上调观察期未满"),
        other => panic!("signal code `{other}` is not in SPEC §21.5"),
    }
}

fn signal_line(s: &LoanSignal) -> String {
    let boundary = s.boundary.map_or("-".to_string(), |b| b.to_string());
    let mut line = format!(
        "{} {} days={} boundary={} floor={} bank={} effective={}",
        s.loan_id,
        s.kind.as_str(),
        s.overdue_days,
        boundary,
        s.floor.as_str(),
        s.bank.as_str(),
        s.effective.as_str()
    );
    if let (Some(m), Some(p)) = (s.clean_months, s.clean_periods) {
        line.push_str(&format!(" clean={m}/{p}"));
    }
    line
}

fn outcome_json(out: &LoanOutcome, customer: &str, month: Month, with_state: bool) -> Result<Value, String> {
    for s in &out.signals {
        let (number, zh) = signal_table(s.kind.as_str());
        if s.kind.number() != number || s.kind.name_zh() != zh {
            return Err(format!("signal {} has number {} and name {}", s.kind, s.kind.number(), s.kind.name_zh()));
        }
        if s.customer_id != customer || s.month != month {
            return Err(format!("signal {} is for {} {}", s.kind, s.customer_id, s.month));
        }
    }
    let loans: Vec<Value> = out
        .loans
        .iter()
        .map(|r| {
            let mut o = json!({
                "loan_id": r.loan_id,
                "overdue_days": r.overdue_days,
                "floor": r.floor.as_str(),
                "bank": r.bank.as_str(),
                "effective": r.effective.as_str(),
                "bank_kinder_than_floor": r.bank_kinder_than_floor,
                "upgrade": r.upgrade.as_str(),
                "clean_months": r.clean_months,
                "clean_periods": r.clean_periods,
            });
            if let Some(el) = r.expected_loss {
                o["expected_loss"] = json!(el.to_string());
            }
            o
        })
        .collect();
    let mut v = json!({
        "loans": loans,
        "worst": out.worst.map(|c| c.as_str()),
        "trend": out.trend.map(|t| t.as_str()),
        "has_non_performing": out.has_non_performing,
        "signals": out.signals.iter().map(signal_line).collect::<Vec<_>>(),
    });
    if with_state {
        v["state"] = serde_json::to_value(&out.state).unwrap();
    }
    Ok(v)
}

fn error_json(e: &LoanError) -> Value {
    json!({
        "category": e.category(),
        "customer": e.customer(),
        "loan": e.loan(),
        "month": e.month().map(|m| m.to_string()),
        "field": e.field(),
        "message": e.to_string(),
    })
}

fn settings_error(e: &LoanError, expected: &Value) -> Result<(), String> {
    let LoanError::Rules(r) = e else { return Err(format!("not a rules error: {e}")) };
    let got = json!({"category": e.category(), "field": r.field, "line": r.line, "column": r.column});
    let mut want = expected.as_object().cloned().unwrap_or_default();
    let message = want.remove("message");
    let contains = want.remove("message_contains");
    if got != Value::Object(want.clone()) {
        return Err(format!("settings error: expected {}, got {got} ({e})", Value::Object(want)));
    }
    match (message, contains) {
        (Some(m), _) if m.as_str() != Some(e.to_string().as_str()) => Err(format!("message: expected {m}, got {e}")),
        (_, Some(c)) if !e.to_string().contains(c.as_str().unwrap_or("\u{0}")) => {
            Err(format!("message: expected it to contain {c}, got {e}"))
        }
        (None, None) => Err("expect_settings_error gives no message".into()),
        _ => Ok(()),
    }
}

fn records(customer: &str, month: Month, loans: &Value) -> Vec<LoanMonth> {
    loans
        .as_array()
        .expect("loans is an array")
        .iter()
        .map(|l| {
            let mut o: Map<String, Value> = l.as_object().expect("a loan record is an object").clone();
            o.entry("customer_id").or_insert_with(|| json!(customer));
            o.entry("month").or_insert_with(|| json!(month.to_string()));
            serde_json::from_value(Value::Object(o)).expect("a loan record reads")
        })
        .collect()
}

fn run(v: &Value) -> Result<(), String> {
    let customer = v["customer_id"].as_str().ok_or("no customer_id")?;
    let settings = match (v.get("settings").and_then(Value::as_str), v.get("expect_settings_error")) {
        (Some(text), Some(expected)) => {
            return match LoanSettings::from_toml_str(text) {
                Ok(_) => Err("the settings loaded, an error was expected".into()),
                Err(e) => settings_error(&e, expected),
            };
        }
        (Some(text), None) => LoanSettings::from_toml_str(text).map_err(|e| e.to_string())?,
        (None, Some(_)) => return Err("expect_settings_error without settings".into()),
        (None, None) => LoanSettings::default(),
    };
    let mut state: LoanState = match v.get("initial_state") {
        Some(s) => serde_json::from_value(s.clone()).map_err(|e| format!("initial_state: {e}"))?,
        None => LoanState::default(),
    };
    let months = v["months"].as_array().ok_or("no months")?;
    for (i, m) in months.iter().enumerate() {
        let month: Month = m["month"].as_str().ok_or("no month")?.parse().map_err(|e| format!("{e}"))?;
        let loans = records(customer, month, &m["loans"]);
        let before = state.clone();
        let result = evaluate_loans(&settings, customer, month, &state, &loans);
        match (result, m.get("expected"), m.get("expect_error")) {
            (Ok(out), Some(expected), None) => {
                let got = outcome_json(&out, customer, month, expected.get("state").is_some())?;
                if &got != expected {
                    return Err(format!(
                        "months[{i}] ({month}):\nexpected {}\ngot      {}",
                        serde_json::to_string_pretty(expected).unwrap(),
                        serde_json::to_string_pretty(&got).unwrap()
                    ));
                }
                // The state's JSON reads back to the same state.
                let text = serde_json::to_string(&out.state).unwrap();
                if serde_json::from_str::<LoanState>(&text).unwrap() != out.state {
                    return Err(format!("months[{i}]: the state does not round-trip through JSON"));
                }
                state = out.state;
            }
            (Err(e), None, Some(expected)) => {
                if &error_json(&e) != expected {
                    return Err(format!("months[{i}] ({month}): expected error {expected}, got {}", error_json(&e)));
                }
                if state != before {
                    return Err(format!("months[{i}]: an error changed the state"));
                }
            }
            (Ok(out), _, Some(_)) => {
                return Err(format!("months[{i}] ({month}): evaluated, an error was expected: {out:?}"));
            }
            (Err(e), Some(_), _) => return Err(format!("months[{i}] ({month}): {e}")),
            _ => return Err(format!("months[{i}] has neither expected nor expect_error")),
        }
    }
    Ok(())
}

#[test]
fn loan_vectors() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "expected the loan vectors in {}", dir().display());
    let mut failures = Vec::new();
    for f in &files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        if let Err(e) = run(&v) {
            failures.push(format!("{}: {e}", f.file_name().unwrap().to_string_lossy()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} loan vectors failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
