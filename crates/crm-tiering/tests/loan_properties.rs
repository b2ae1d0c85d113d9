//! Property tests of the loan classification (SPEC §21): the effective class is never kinder
//! than the floor (nor than the bank's class), the floor is monotone in overdue days, and no
//! input, however wrong, panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;

use crm_tiering::{
    CleanRule, LoanClass, LoanMemory, LoanMonth, LoanSettings, LoanSignalKind, LoanState, Month, Upgrade,
    evaluate_loans,
};
use proptest::prelude::*;

/// Valid settings: four strictly increasing boundaries, a window no longer than the 次级 one.
fn settings() -> impl Strategy<Value = LoanSettings> {
    (0u32..50, 1u32..200, 1u32..200, 1u32..200, 0u32..=100, 0u32..12, 0u32..6, any::<bool>()).prop_map(
        |(sm, a, b, c, approaching, clean_months, clean_periods, either)| {
            let substandard = sm + a;
            LoanSettings {
                special_mention_after_days: sm,
                substandard_after_days: substandard,
                doubtful_after_days: substandard + b,
                loss_after_days: substandard + b + c,
                approaching_days: approaching.min(substandard),
                clean_months,
                clean_periods,
                clean_rule: if either { CleanRule::Either } else { CleanRule::Longer },
            }
        },
    )
}

fn class() -> impl Strategy<Value = LoanClass> {
    prop::sample::select(LoanClass::ALL.to_vec())
}

fn memory() -> impl Strategy<Value = Option<LoanMemory>> {
    prop::option::of((class(), class(), class(), 0u32..10, 0u32..10).prop_map(
        |(floor, bank, effective, clean_months, clean_periods)| LoanMemory {
            floor,
            bank,
            effective,
            clean_months,
            clean_periods,
        },
    ))
}

/// Days around every default and generated boundary, and far past them.
fn days() -> impl Strategy<Value = i64> {
    prop_oneof![0i64..=400, 0i64..=5000, Just(i64::from(u32::MAX))]
}

/// One loan's month: (days principal, days interest, bank class, repayment due, last month).
type LoanCase = (i64, i64, LoanClass, bool, Option<LoanMemory>);

fn loans() -> impl Strategy<Value = Vec<LoanCase>> {
    prop::collection::vec((days(), days(), class(), any::<bool>(), memory()), 0..6)
}

fn month() -> Month {
    "2024-06".parse().unwrap()
}

fn inputs(cases: &[LoanCase]) -> (LoanState, Vec<LoanMonth>) {
    let mut state = LoanState { month: Some(month().plus(-1)), loans: BTreeMap::new() };
    let mut records = Vec::new();
    // Loan ids in reverse order, so the evaluation sorts them.
    for (i, (p, int, bank, due, last)) in cases.iter().enumerate().rev() {
        let id = format!("L{i}");
        if let Some(m) = last {
            state.loans.insert(id.clone(), *m);
        }
        records.push(LoanMonth {
            customer_id: "c1".into(),
            loan_id: id,
            month: month(),
            principal_overdue_days: *p,
            interest_overdue_days: *int,
            bank_class: bank.as_str().into(),
            expected_loss: None,
            repayment_due: *due,
        });
    }
    (state, records)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// SPEC §21.3: the effective class is never kinder than the floor or the bank's class, a
    /// held upgrade is 次级, and the customer's summary agrees with its loans.
    #[test]
    fn effective_is_never_kinder_than_the_floor(s in settings(), cases in loans()) {
        let (state, records) = inputs(&cases);
        let out = evaluate_loans(&s, "c1", month(), &state, &records).unwrap();
        prop_assert_eq!(out.loans.len(), cases.len());
        for r in &out.loans {
            prop_assert!(r.effective >= r.floor, "{:?}", r);
            prop_assert!(r.effective >= r.bank, "{:?}", r);
            prop_assert_eq!(r.floor, s.floor(r.overdue_days));
            prop_assert_eq!(r.overdue_days, r.principal_overdue_days.max(r.interest_overdue_days));
            if r.upgrade == Upgrade::Held {
                prop_assert_eq!(r.effective, LoanClass::Substandard);
                prop_assert!(!s.clean_window_met(r.clean_months, r.clean_periods));
            }
        }
        let worst = out.loans.iter().map(|r| r.effective).max();
        prop_assert_eq!(out.worst, worst);
        prop_assert_eq!(out.has_non_performing, worst.is_some_and(|w| w >= LoanClass::Substandard));
        // Signals are ordered by loan id, then by number.
        let keys: Vec<_> = out.signals.iter().map(|x| (x.loan_id.clone(), x.kind.number())).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(keys, sorted);
        for x in &out.signals {
            if x.kind == LoanSignalKind::BankClassKinderThanFloor {
                prop_assert!(x.bank < x.floor);
            }
        }
    }

    /// SPEC §21.2: more overdue days never give a kinder floor, under any valid settings.
    #[test]
    fn floor_is_monotone_in_overdue_days(s in settings(), a in 0u32..2000, b in 0u32..2000) {
        let (lo, hi) = (a.min(b), a.max(b));
        prop_assert!(s.floor(lo) <= s.floor(hi));
        // The floor steps exactly at each boundary: the boundary itself is the class before.
        for class in [LoanClass::SpecialMention, LoanClass::Substandard, LoanClass::Doubtful, LoanClass::Loss] {
            let boundary = s.boundary(class).unwrap();
            prop_assert!(s.floor(boundary) < class);
            prop_assert_eq!(s.floor(boundary + 1), class);
        }
    }

    /// Nothing reachable from input panics: any days, any class text, any month, any state.
    #[test]
    fn no_input_panics(
        p in any::<i64>(),
        i in any::<i64>(),
        bank in ".{0,8}",
        m in 1u32..=12,
        last in prop::option::of(1u32..=12),
        memory in memory(),
    ) {
        let month = Month::new(2024, m).unwrap();
        let mut state = LoanState { month: last.map(|l| Month::new(2024, l).unwrap()), loans: BTreeMap::new() };
        if let Some(mem) = memory {
            state.loans.insert("L1".into(), mem);
        }
        let record = LoanMonth {
            customer_id: "c1".into(),
            loan_id: "L1".into(),
            month,
            principal_overdue_days: p,
            interest_overdue_days: i,
            bank_class: bank,
            expected_loss: None,
            repayment_due: true,
        };
        match evaluate_loans(&LoanSettings::default(), "c1", month, &state, &[record]) {
            Ok(out) => prop_assert!(p >= 0 && i >= 0 && out.loans.len() == 1),
            Err(e) => prop_assert!(!e.to_string().is_empty() && e.field().is_some()),
        }
    }
}

/// SPEC §21.2: a tiering book's `[loans]` table gives its loan settings (the defaults without
/// one), checked with the book: a field out of order refuses the book naming it.
#[test]
fn a_rule_book_carries_its_loan_settings() {
    let with =
        format!("{}\n[loans]\nsubstandard_after_days = 60\napproaching_days = 10\n", crm_tiering::DEFAULT_RULES_TOML);
    let book = crm_tiering::RuleBook::from_toml_str(&with).unwrap();
    let settings = book.loan_settings();
    assert_eq!((settings.floor(60), settings.floor(61)), (LoanClass::SpecialMention, LoanClass::Substandard));
    assert!(settings.approaching(51) && !settings.approaching(50));
    let default = crm_tiering::RuleBook::default_book().unwrap();
    assert_eq!(default.loan_settings(), LoanSettings::default());
    assert_ne!(book.fingerprint(), default.fingerprint(), "the settings are part of the rules");
    let bad = format!("{}\n[loans]\nloss_after_days = 100\n", crm_tiering::DEFAULT_RULES_TOML);
    let e = crm_tiering::RuleBook::from_toml_str(&bad).unwrap_err();
    assert_eq!(e.field(), Some("loans.loss_after_days"), "{e}");
    let unknown = format!("{}\n[loans]\nsubstandard_days = 100\n", crm_tiering::DEFAULT_RULES_TOML);
    let e = crm_tiering::RuleBook::from_toml_str(&unknown).unwrap_err();
    assert!(e.to_string().contains("substandard_days"), "{e}");
}
