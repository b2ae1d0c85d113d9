//! The loan month (SPEC §21.10) in the store, on SQLite and on PostgreSQL when
//! `CRMT_TEST_POSTGRES_URL` is set: written in one transaction and read back as classified,
//! the next month classified from the stored states, a stored month refused and then replaced
//! on a re-run, months written in order, damage found, and a schema 5 store (the release
//! before) migrated to the loan tables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{commit_month, create, fresh, is_pg, month, sql, sql_int};
use crm_tiering::{LoanClass, LoanMonth, LoanOutcome, LoanSettings, LoanSignalKind, LoanState, Trend, evaluate_loans};
use crm_tiering_store::{LoanMeta, SCHEMA_VERSION, Store, StoreError, StoreErrorKind};

/// The audit data of a month classified from the store's states before `m`.
fn meta_for(store: &mut Store, m: &str, rerun: bool) -> LoanMeta {
    let read_from = store.loan_states_before(month(m)).unwrap().map(|s| (s.month, s.digest));
    LoanMeta { tool_version: "crm-tiering-store tests".into(), settings: LoanSettings::default(), rerun, read_from }
}

/// Writes `outcomes` as the month `m` classified from the store's states before it.
fn write_after(store: &mut Store, m: &str, outcomes: &[LoanOutcome], rerun: bool) -> Result<(), StoreError> {
    let meta = meta_for(store, m, rerun);
    store.write_loan_month(month(m), outcomes, &meta)
}

/// The audit data of a month classified without stored states.
fn meta(rerun: bool) -> LoanMeta {
    LoanMeta {
        tool_version: "crm-tiering-store tests".into(),
        settings: LoanSettings::default(),
        rerun,
        read_from: None,
    }
}

fn record(customer: &str, loan: &str, m: &str, days: i64, bank: &str, loss: Option<&str>) -> LoanMonth {
    LoanMonth {
        customer_id: customer.into(),
        loan_id: loan.into(),
        month: month(m),
        principal_overdue_days: days,
        interest_overdue_days: 0,
        bank_class: bank.into(),
        expected_loss: loss.map(|l| l.parse().unwrap()),
        repayment_due: true,
    }
}

/// A month's outcomes from its records and the states before it, every customer of either.
fn classify(m: &str, records: &[LoanMonth], states: &BTreeMap<String, LoanState>) -> Vec<LoanOutcome> {
    let mut ids: Vec<&str> =
        records.iter().map(|r| r.customer_id.as_str()).chain(states.keys().map(String::as_str)).collect();
    ids.sort_unstable();
    ids.dedup();
    let empty = LoanState::default();
    ids.into_iter()
        .map(|id| {
            let own: Vec<LoanMonth> = records.iter().filter(|r| r.customer_id == id).cloned().collect();
            evaluate_loans(&LoanSettings::default(), id, month(m), states.get(id).unwrap_or(&empty), &own).unwrap()
        })
        .collect()
}

/// March: c1 with a loan 120 days overdue the bank keeps at 关注 and a clean one, c2 with a
/// loan 70 days overdue (approaching), c3 clean.
fn march() -> Vec<LoanOutcome> {
    classify(
        "2024-03",
        &[
            record("c1", "L1", "2024-03", 120, "关注", Some("0.35")),
            record("c1", "L2", "2024-03", 0, "normal", None),
            record("c2", "L3", "2024-03", 70, "2", None),
            record("c3", "L4", "2024-03", 0, "1", None),
        ],
        &BTreeMap::new(),
    )
}

/// April from March's states: c1's L1 repaid (held at 次级 by the clean window), L2 closed;
/// c2 past 90 days; c3 has no loan left.
fn april(states: &BTreeMap<String, LoanState>, c2_days: i64) -> Vec<LoanOutcome> {
    classify(
        "2024-04",
        &[record("c1", "L1", "2024-04", 0, "关注", None), record("c2", "L3", "2024-04", c2_days, "关注", None)],
        states,
    )
}

fn states_of(outcomes: &[LoanOutcome]) -> BTreeMap<String, LoanState> {
    outcomes.iter().map(|o| (o.customer_id.clone(), o.state.clone())).collect()
}

#[test]
fn a_loan_month_is_read_back_as_classified_and_the_next_month_goes_on_from_its_states() {
    let f = fresh("loans");
    for loc in &f.locations {
        let mut store = create(loc);
        commit_month(&mut store, "2024-03", 20, false);
        assert!(store.loan_states_before(month("2024-03")).unwrap().is_none());
        let m3 = march();
        // Given in any order: the store keeps them by customer.
        let mut shuffled = m3.clone();
        shuffled.reverse();
        store.write_loan_month(month("2024-03"), &shuffled, &meta(false)).unwrap();
        assert_eq!(store.loan_range(month("2024-01"), month("2024-12")).unwrap(), m3);
        assert_eq!(sql_int(loc, "SELECT count(*) FROM loan_results"), 4);
        assert_eq!(sql_int(loc, "SELECT non_performing_customers FROM loan_months"), 1);
        assert_eq!(sql_int(loc, "SELECT count(*) FROM loan_signals WHERE customer_id = 'c1'"), 3);

        let before = store.loan_states_before(month("2024-04")).unwrap().unwrap();
        assert_eq!(before.month, month("2024-03"));
        assert_eq!(before.states, states_of(&m3));
        let m4 = april(&before.states, 100);
        let e = store.write_loan_month(month("2024-04"), &m4, &meta(false)).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Sequence, "{e}");
        assert!(e.to_string().contains("was classified from no loan month but the store now holds 2024-03"), "{e}");
        write_after(&mut store, "2024-04", &m4, false).unwrap();
        assert_eq!(store.loan_months().unwrap(), vec![month("2024-03"), month("2024-04")]);

        let c1 = store.customer_loans("c1").unwrap();
        assert_eq!(c1.len(), 2);
        assert_eq!(c1[0], m3[0]);
        assert_eq!(c1[1], m4[0]);
        assert_eq!(c1[1].worst, Some(LoanClass::Substandard));
        assert_eq!(c1[1].trend, Some(Trend::Same));
        let held: Vec<_> = c1[1].signals.iter().map(|s| s.kind).collect();
        assert!(held.contains(&LoanSignalKind::UpgradeHeldByCleanWindow), "{held:?}");
        assert_eq!(c1[0].loans[0].expected_loss.map(|d| d.to_string()).as_deref(), Some("0.35"));
        // c3's loan closed: a month without loans, kept with its state.
        let c3 = store.customer_loans("c3").unwrap();
        assert_eq!((c3.len(), c3[1].loans.len(), c3[1].worst), (2, 0, None));
        assert!(store.customer_loans("nobody").unwrap().is_empty());
        assert_eq!(store.loan_range(month("2024-04"), month("2024-04")).unwrap(), m4);
        // The tiering month's chain is untouched.
        assert_eq!(store.verify().unwrap().len(), 1);
        drop(store);
        let mut ro = Store::open_read_only(loc).unwrap();
        assert_eq!(ro.customer_loans("c2").unwrap()[1], m4[1]);
        let e = ro.write_loan_month(month("2024-05"), &[], &meta(false)).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::ReadOnly, "{e}");
    }
}

#[test]
fn a_stored_month_is_replaced_only_on_a_rerun_and_months_go_in_order() {
    let f = fresh("loans_rerun");
    for loc in &f.locations {
        let mut store = create(loc);
        let m3 = march();
        store.write_loan_month(month("2024-03"), &m3, &meta(false)).unwrap();
        // April read March's states, then another run replaced March: April is refused.
        let stale = meta_for(&mut store, "2024-04", false);
        let states = store.loan_states_before(month("2024-04")).unwrap().unwrap().states;
        let mut other = m3.clone();
        other.pop();
        store.write_loan_month(month("2024-03"), &other, &meta(true)).unwrap();
        let e = store.write_loan_month(month("2024-04"), &april(&states, 100), &stale).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Sequence, "{e}");
        assert!(e.to_string().contains("was classified from 2024-03 (states "), "{e}");
        assert!(store.loan_months().unwrap().len() == 1);
        store.write_loan_month(month("2024-03"), &m3, &meta(true)).unwrap();
        write_after(&mut store, "2024-04", &april(&states, 100), false).unwrap();

        let fixed = april(&states, 10);
        let e = write_after(&mut store, "2024-04", &fixed, false).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::AlreadyCommitted, "{e}");
        assert!(e.to_string().contains("the loan month 2024-04 is in"), "{e}");
        assert_eq!(store.customer_loans("c2").unwrap()[1].worst, Some(LoanClass::Substandard));

        write_after(&mut store, "2024-04", &fixed, true).unwrap();
        assert_eq!(store.customer_loans("c2").unwrap()[1].worst, Some(LoanClass::SpecialMention));
        assert_eq!(sql_int(loc, "SELECT count(*) FROM loan_months"), 2);
        assert_eq!(sql_int(loc, "SELECT count(*) FROM loan_customers WHERE month = 202404"), 3);

        // March was read by April: it cannot be written again, rerun or not.
        for rerun in [false, true] {
            let e = store.write_loan_month(month("2024-03"), &m3, &meta(rerun)).unwrap_err();
            assert_eq!(e.kind(), StoreErrorKind::Sequence, "{e}");
            assert!(e.to_string().contains("is before 2024-04, the latest stored"), "{e}");
        }
        // Outcomes of another month, or a customer twice: nothing is written.
        let e = store.write_loan_month(month("2024-05"), &m3, &meta(false)).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Input, "{e}");
        assert!(
            e.to_string().contains("customer c1's loan month: its outcome is of month 2024-03, not 2024-05"),
            "{e}"
        );
        let mut stale = fixed.clone();
        stale[1].state.month = Some(month("2024-03"));
        let e = write_after(&mut store, "2024-04", &stale, true).unwrap_err();
        assert!(
            e.to_string().contains("customer c2's loan month: its state after the month is of month 2024-03"),
            "{e}"
        );
        let mut twice = fixed.clone();
        twice.push(fixed[0].clone());
        let e = write_after(&mut store, "2024-04", &twice, true).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Input, "{e}");
        assert_eq!(store.loan_months().unwrap().len(), 2);
        assert_eq!(store.loan_range(month("2024-04"), month("2024-04")).unwrap(), fixed);
    }
}

#[test]
fn a_damaged_loan_state_is_an_error_not_a_fresh_customer() {
    let f = fresh("loans_damage");
    for loc in &f.locations {
        let mut store = create(loc);
        store.write_loan_month(month("2024-03"), &march(), &meta(false)).unwrap();
        // A state of its month, but not the one written: the checksum finds it.
        let c3 = sql_int(loc, "SELECT count(*) FROM loan_states WHERE customer_id = 'c3'");
        assert_eq!(c3, 1);
        let fresh_state = r#"{"month": "2024-03", "loans": {}}"#;
        sql(loc, &format!("UPDATE loan_states SET state = '{fresh_state}' WHERE customer_id = 'c2'"));
        let e = store.loan_states_before(month("2024-04")).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Corrupt, "{e}");
        assert!(
            e.to_string().contains("the loan states after 2024-03 (3 customer(s)) do not match their checksum"),
            "{e}"
        );
        let other = r#"{"month": "2024-02", "loans": {}}"#;
        sql(loc, &format!("UPDATE loan_states SET state = '{other}' WHERE customer_id = 'c1'"));
        let e = store.loan_states_before(month("2024-04")).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Corrupt, "{e}");
        assert!(e.to_string().contains("customer c1's stored loan state after 2024-03 is of month 2024-02"), "{e}");
        let e = store.customer_loans("c1").unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Corrupt, "{e}");
        sql(loc, "DELETE FROM loan_states WHERE customer_id = 'c2'");
        let e = store.customer_loans("c2").unwrap_err();
        assert!(e.to_string().contains("customer c2's loan month 2024-03 has no stored loan state"), "{e}");
    }
}

/// The schema 5 store the release before the loan tables wrote (`tests/data/schema5/`, see
/// its README): a copy, on SQLite or loaded into a fresh PostgreSQL database.
fn schema5_store(loc: &str) {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schema5");
    if is_pg(loc) {
        sql(loc, &std::fs::read_to_string(data.join("postgres.sql")).unwrap());
    } else {
        std::fs::copy(data.join("store.db"), loc).unwrap();
    }
}

#[test]
fn a_schema_5_store_migrates_to_the_loan_tables_and_keeps_its_months() {
    let f = fresh("loans_schema5");
    for loc in &f.locations {
        schema5_store(loc);
        let e = Store::open_read_only(loc).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Schema, "{e}");
        assert!(e.to_string().contains("has schema version 5 and must be upgraded to version 6"), "{e}");
        let mut store = Store::open(loc).unwrap();
        assert_eq!(SCHEMA_VERSION, 6);
        let v = format!("SELECT count(*) FROM meta WHERE key = 'schema_version' AND value = '{SCHEMA_VERSION}'");
        assert_eq!(sql_int(loc, &v), 1);
        // The tiering month and its chain, and the contribution month, as they were.
        assert_eq!(store.verify().unwrap().len(), 1);
        assert_eq!(store.committed_months().unwrap(), vec![month("2024-01")]);
        assert_eq!(store.contribution_months().unwrap(), vec![month("2024-01")]);
        let net: Vec<String> = ["q001", "q002"]
            .iter()
            .map(|c| store.customer_contribution(c).unwrap()[0].figures.net_contribution.to_string())
            .collect();
        assert_eq!(net, ["558.00", "46.50"]);
        assert!(store.customer_history("q001").unwrap().states.len() == 1);
        assert!(store.loan_months().unwrap().is_empty());
        let m3 = march();
        store.write_loan_month(month("2024-03"), &m3, &meta(false)).unwrap();
        drop(store);
        let mut ro = Store::open_read_only(loc).unwrap();
        assert_eq!(ro.loan_range(month("2024-03"), month("2024-03")).unwrap(), m3);
    }
}
