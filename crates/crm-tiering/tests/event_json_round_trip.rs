//! Events and alerts hold amounts in whole fen and derive `effective_from` from
//! the month. Their JSON is unchanged, and reading JSON refuses what the compact form cannot
//! hold instead of rounding it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering::{
    Alert, AlertKind, BatchAlert, BatchEvent, Customer, CustomerState, Engine, Event, EventKind, Month, MonthInput,
    RuleBook, parse_amount,
};
use serde_json::{Value, json};

fn engine() -> Engine {
    Engine::new(RuleBook::default_book().unwrap())
}

/// A customer's months, with every event and alert they produced.
fn history(aums: &[&str]) -> (Vec<Event>, Vec<Alert>) {
    let engine = engine();
    let customer = Customer::personal("c1");
    let mut state = CustomerState::default();
    let (mut events, mut alerts) = (Vec::new(), Vec::new());
    let mut month = "2024-01".parse().unwrap();
    for aum in aums {
        let out = engine.evaluate(&customer, &state, month, &MonthInput::total(parse_amount(aum).unwrap())).unwrap();
        state = out.state;
        events.extend(out.events);
        alerts.extend(out.alerts);
        month = month.next();
    }
    (events, alerts)
}

#[test]
fn batch_records_carry_no_padding() {
    assert!(size_of::<BatchEvent>() <= 64, "{}", size_of::<BatchEvent>());
    assert!(size_of::<BatchAlert>() <= 64, "{}", size_of::<BatchAlert>());
}

#[test]
fn amounts_read_as_decimals_and_as_fen_and_round_trip_through_json() {
    // Entry, a watch with a peak, a downgrade, exit risk and near-threshold alerts.
    let (events, alerts) = history(&["523400.10", "480000.5", "490000", "600000.01", "100", "100", "100"]);
    let entered = &events[0];
    assert_eq!(entered.kind, EventKind::Entered);
    assert_eq!(entered.evidence.aum().to_string(), "523400.10");
    assert_eq!(entered.evidence.aum_fen(), 52_340_010);
    assert_eq!(entered.evidence.threshold().unwrap().to_string(), "500000.00");
    assert_eq!(entered.evidence.threshold_fen(), Some(50_000_000));
    assert_eq!(entered.effective_from(), entered.month.next());
    assert!(events.iter().any(|e| e.evidence.peak_aum_fen().is_some()), "{events:?}");
    assert!(alerts.iter().any(|a| a.gap_fen().is_some()), "{alerts:?}");
    for e in &events {
        let text = serde_json::to_value(e).unwrap();
        assert_eq!(text["effective_from"], json!(e.month.next().to_string()));
        assert_eq!(text["evidence"]["aum"], json!(e.evidence.aum().to_string()));
        assert_eq!(serde_json::from_value::<Event>(text).unwrap(), *e);
    }
    for a in &alerts {
        let text = serde_json::to_value(a).unwrap();
        if let Some(gap) = a.gap() {
            assert_eq!(text["gap"], json!(gap.to_string()));
        }
        assert_eq!(serde_json::from_value::<Alert>(text).unwrap(), *a);
    }
}

fn entered_json() -> Value {
    let (events, _) = history(&["523400.10"]);
    serde_json::to_value(events[0]).unwrap()
}

#[test]
fn event_json_with_an_amount_finer_than_fen_or_out_of_range_is_refused() {
    for (field, bad) in [("aum", "1.005"), ("threshold", "-1.00"), ("aum", "1000000000000000.00")] {
        let mut text = entered_json();
        text["evidence"][field] = json!(bad);
        let err = serde_json::from_value::<Event>(text).unwrap_err().to_string();
        assert!(err.contains(&format!("evidence {field} {bad} is not a whole number of fen")), "{err}");
    }
}

#[test]
fn event_json_whose_effective_month_is_not_the_next_is_refused() {
    let mut text = entered_json();
    text["effective_from"] = json!("2024-03");
    let err = serde_json::from_value::<Event>(text).unwrap_err().to_string();
    assert!(err.contains("effective_from 2024-03 is not the month after its month 2024-01"), "{err}");
}

#[test]
fn alert_json_with_an_amount_finer_than_fen_is_refused() {
    let (_, alerts) = history(&["190000"]);
    let potential = alerts.iter().find(|a| a.kind == AlertKind::PotentialVip).unwrap();
    let mut text = serde_json::to_value(potential).unwrap();
    text["gap"] = json!("0.001");
    let err = serde_json::from_value::<Alert>(text).unwrap_err().to_string();
    assert!(err.contains("alert gap 0.001 is not a whole number of fen"), "{err}");
}

#[test]
fn same_month_timing_dates_entries_and_upgrades_in_their_month_only() {
    let mut file = RuleBook::default_book().unwrap().source().clone();
    file.rule_sets[0].versions[0].upgrade_timing = crm_tiering::UpgradeTiming::SameMonth;
    let engine = Engine::new(RuleBook::from_file(file).unwrap());
    let c = Customer::personal("c1");
    let mut state = CustomerState::default();
    let mut events = Vec::new();
    let mut month: Month = "2024-01".parse().unwrap();
    for aum in ["600000", "1200000", "100", "100", "100"] {
        let out = engine.evaluate(&c, &state, month, &MonthInput::total(parse_amount(aum).unwrap())).unwrap();
        state = out.state;
        events.extend(out.events);
        month = month.next();
    }
    let by_kind = |k: EventKind| events.iter().find(|e| e.kind == k).unwrap();
    for k in [EventKind::Entered, EventKind::Upgraded] {
        let e = by_kind(k);
        assert_eq!(e.effective_from(), e.month, "{e:?}");
        let text = serde_json::to_value(e).unwrap();
        assert_eq!(text["effective_from"], json!(e.month.to_string()));
        assert_eq!(serde_json::from_value::<Event>(text).unwrap(), *e);
    }
    let watch = by_kind(EventKind::WatchStarted); // 2024-03 is short of diamond
    assert_eq!(watch.effective_from(), watch.month.next());
    // Only an entry, re-entry or upgrade may take effect in its month: read back, any other
    // kind dated so is refused.
    let mut text = serde_json::to_value(watch).unwrap();
    text["effective_from"] = json!(watch.month.to_string());
    let err = serde_json::from_value::<Event>(text).unwrap_err().to_string();
    assert!(err.contains("is not the month after its month"), "{err}");
}
