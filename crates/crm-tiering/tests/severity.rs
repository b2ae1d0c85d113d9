//! Alert severity, how long an alert is open, its explanation line and the warning that gave
//! it (SPEC §11.1, §22.3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering::{
    Alert, AlertKind, Customer, CustomerState, DEFAULT_RULES_TOML, Engine, History, Month, MonthInput, RuleBook,
    Severity, WarningRole, parse_amount,
};

fn month(text: &str) -> Month {
    text.parse().unwrap()
}

/// An alert as a store keeps it (its JSON form).
fn alert(kind: &str, months_left: Option<u32>) -> Alert {
    let left = months_left.map(|n| format!(",\"months_left\":{n}")).unwrap_or_default();
    serde_json::from_str(&format!("{{\"month\":\"2024-11\",\"kind\":\"{kind}\",\"aum\":\"0.00\"{left}}}")).unwrap()
}

#[test]
fn every_kind_has_a_severity_with_its_code_and_chinese_name() {
    assert_eq!(Severity::ALL, [Severity::High, Severity::Medium, Severity::Low]);
    let names: Vec<(&str, &str, u8)> = Severity::ALL.iter().map(|s| (s.as_str(), s.name_zh(), s.rank())).collect();
    assert_eq!(names, [("high", "高", 0), ("medium", "中", 1), ("low", "低", 2)]);
    let of = |level: Severity| -> Vec<&str> {
        AlertKind::ALL.iter().filter(|k| k.severity() == level).map(|k| k.as_str()).collect()
    };
    assert_eq!(of(Severity::High), ["dormant", "reactivated", "maturity_not_reinvested"]);
    assert_eq!(of(Severity::Low), ["upgrade_opportunity", "potential_vip", "downgrade_risk"]);
    assert_eq!(of(Severity::Medium).len(), AlertKind::ALL.len() - 6);
}

#[test]
fn a_countdown_with_one_month_left_is_high() {
    for kind in ["watch_active", "exit_risk", "in_retention"] {
        assert_eq!(alert(kind, Some(3)).severity(), Severity::Medium, "{kind}");
        assert_eq!(alert(kind, Some(2)).severity(), Severity::Medium, "{kind}");
        assert_eq!(alert(kind, Some(1)).severity(), Severity::High, "{kind}");
        assert_eq!(alert(kind, Some(0)).severity(), Severity::High, "{kind}");
    }
    // Months left of anything else are not a countdown to a loss.
    assert_eq!(alert("special_expiring", Some(1)).severity(), Severity::Medium);
    assert_eq!(alert("drop_pct", Some(1)).severity(), Severity::Medium);
    assert_eq!(alert("dormant", Some(6)).severity(), Severity::High);
}

#[test]
fn the_engine_s_exit_risk_turns_high_in_its_last_month() {
    // Default book: exit after 6 months below entry. A gold customer falls to 50,000.
    let engine = Engine::new(RuleBook::default_book().unwrap());
    let c = Customer::personal("c1");
    let mut state = CustomerState::default();
    let mut seen = Vec::new();
    for (k, m) in ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"].into_iter().enumerate() {
        let aum = if k == 0 { "250000" } else { "50000" };
        let out = engine.evaluate(&c, &state, month(m), &MonthInput::total(parse_amount(aum).unwrap())).unwrap();
        state = out.state;
        seen.extend(out.alerts.iter().filter(|a| a.kind == AlertKind::ExitRisk).map(|a| (a.months_left, a.severity())));
    }
    let (medium, high) = (Severity::Medium, Severity::High);
    assert_eq!(seen, [(Some(5), medium), (Some(4), medium), (Some(3), medium), (Some(2), medium), (Some(1), high)]);
}

#[test]
fn a_warning_stays_open_for_its_months_left() {
    let w = alert("drop_pct", Some(3));
    assert_eq!(w.open_until(), month("2025-01"));
    let open: Vec<bool> =
        ["2024-10", "2024-11", "2024-12", "2025-01", "2025-02"].map(|m| w.is_open_in(month(m))).into();
    assert_eq!(open, [false, true, true, true, false]);
    // Every other alert is about its own month: it is given again while its condition lasts.
    let watch = alert("watch_active", Some(5));
    assert_eq!(watch.open_until(), month("2024-11"));
    assert!(!watch.is_open_in(month("2024-12")));
    assert_eq!(alert("below_for", None).open_until(), month("2024-11"));
}

#[test]
fn the_explanation_names_the_kind_tier_months_gap_and_measure() {
    let a: Alert = serde_json::from_str(
        r#"{"month":"2024-11","kind":"drop_pct","tier":"gold","months_left":2,"aum":"100.00",
            "threshold":"7000.00","gap":"6900.00","measure":"aum","measure_window":"prev_1","measure_value":"100.00"}"#,
    )
    .unwrap();
    assert_eq!(
        a.explain_with(|t| format!("金卡 {t}")),
        "2024-11: alert drop_pct [大幅下降] tier 金卡 gold, 2 month(s) left, gap 6900.00 to 7000.00 (aum over prev_1 100.00)"
    );
    assert_eq!(alert("held_back", None).explain(), "2024-11: alert held_back [暂停评级]");
}

/// The default book with a `drop_pct` warning for managers, overridden to the branch in legal
/// entity `le2`, and a `below_for` for the branch everywhere.
fn book_with_warnings() -> RuleBook {
    let warnings = r#"
[[rule_sets.versions.warnings]]
kind = "drop_pct"
window = "prev_1"
percent = "30"
legal_entities = { "le2" = { role = "branch" } }

[[rule_sets.versions.warnings]]
kind = "below_for"
amount = "100000"
months = 2
role = "branch"
"#;
    RuleBook::from_toml_str(&format!("{DEFAULT_RULES_TOML}{warnings}")).unwrap()
}

#[test]
fn the_warning_of_an_alert_is_found_by_kind_measure_and_window() {
    let book = book_with_warnings();
    let engine = Engine::new(book.clone());
    for (entity, role) in [("le1", WarningRole::Manager), ("le2", WarningRole::Branch)] {
        let c = Customer { id: "c1".into(), legal_entity: Some(entity.into()), kind: Default::default() };
        let (mut state, mut history) = (CustomerState::default(), History::new());
        let mut found = Vec::new();
        for (m, aum) in [("2024-01", "300000"), ("2024-02", "90000"), ("2024-03", "80000")] {
            let input = MonthInput::total(parse_amount(aum).unwrap());
            let out = engine.evaluate_with_history(&c, &state, &history, month(m), &input).unwrap();
            (state, history) = (out.state, out.history);
            for a in &out.alerts {
                let w = book.warning_of(&c, a).unwrap();
                assert_eq!(w.is_some(), a.kind.is_warning(), "{entity} {m} {a:?}");
                if let Some(w) = w {
                    assert_eq!(w.kind.alert_kind(), a.kind);
                    found.push((a.month.to_string(), a.kind.as_str(), w.role));
                }
            }
        }
        assert_eq!(
            found,
            [("2024-02".to_string(), "drop_pct", role), ("2024-03".to_string(), "below_for", WarningRole::Branch)],
            "{entity}"
        );
    }
    assert_eq!((WarningRole::Branch.as_str(), WarningRole::Branch.name_zh()), ("branch", "网点"));
    assert_eq!((WarningRole::Manager.as_str(), WarningRole::Manager.name_zh()), ("manager", "客户经理"));
}
