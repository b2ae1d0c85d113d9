//! The batch's fast paths, for steady customers (a month that changes nothing but the month)
//! and for plain ones (a month with events but no gap and no designation: `plan` and the step
//! without the general checks), give exactly what the full evaluation gives: a batch over generated states and inputs,
//! biased towards steady months and the edges around them (thresholds, near-threshold bands,
//! strict comparison, tier codes of an earlier version, watches and exit counters near their
//! lengths, sequence, odd AUM scales), equals
//! [`Engine::evaluate`] customer by customer (state, AUM, events, alerts, errors).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering::{
    AumInput, BatchOutcome, BelowEntryRun, Customer, CustomerState, Decimal, Engine, EngineOptions, MissingMonths,
    Month, MonthInput, RuleBook, SpecialChange, SpecialVip, Status, TierCode, Watch, from_fen,
};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Two versions of one rule set: `silver` of the first is mapped to `gold` of the second. The
/// second has its own exit length, its own watch length for `private`, with `label` a two-stage
/// watch (`label_after`) for the tiers below `private` (whose watch is 3), and with `assess`
/// assessment months (and, when `assess_upgrades`, entries and upgrades waiting for them);
/// when `measured`, it declares `loan_balance` and `points` (whose absence is an error), and
/// `private` qualifies by AUM or loans, `diamond` by AUM and points together (SPEC §19); a
/// `strict` measured book also pauses upgrades while the loan balance is above zero (SPEC §21.8).
fn book(
    strict: bool,
    band: &str,
    exit_after: u32,
    private_watch: u32,
    label: Option<u32>,
    assess: (&str, bool),
    measured: bool,
) -> RuleBook {
    let tiers = |list: &[(&str, i64)], watch: u32, label: Option<u32>, measured: bool| -> String {
        list.iter()
            .map(|(c, m)| {
                let w = if *c == "private" {
                    format!("watch_months = {watch}\n")
                } else {
                    label.map(|l| format!("label_after = {l}\n")).unwrap_or_default()
                };
                let qualify = match (*c, measured) {
                    ("private", true) => format!(
                        "qualify = {{ any_of = [{{ min = \"{m}\" }}, {{ measure = \"loan_balance\", min = \"{m}\" }}] }}"
                    ),
                    ("diamond", true) => {
                        format!("qualify = {{ all_of = [{{ min = \"{m}\" }}, {{ measure = \"points\", min = \"100\" }}] }}")
                    }
                    _ => format!("min_aum = \"{m}\""),
                };
                format!("[[rule_sets.versions.tiers]]\ncode = \"{c}\"\n{qualify}\n{w}")
            })
            .collect()
    };
    let measures = if measured {
        "[[rule_sets.versions.measures]]\ncode = \"loan_balance\"\n[[rule_sets.versions.measures]]\ncode = \"points\"\nabsent = \"error\"\n"
    } else {
        ""
    };
    let pause = if measured && strict { "pause_upgrades_while = \"loan_balance\"\n" } else { "" };
    let comparison = if strict { "greater_than" } else { "at_least" };
    let assessment = match assess {
        ("", _) => String::new(),
        (months, upgrades) => format!("assessment_months = {months}\nassess_upgrades = {upgrades}\n"),
    };
    let text = format!(
        "format_version = 1\n[[rule_sets]]\nname = \"p\"\n\
         [[rule_sets.versions]]\neffective_from = \"2000-01\"\n{}\
         [[rule_sets.versions]]\neffective_from = \"2024-01\"\nthreshold_comparison = \"{comparison}\"\n\
         near_threshold_band = \"{band}\"\nexit_after_months = {exit_after}\n{assessment}{pause}\
         [rule_sets.versions.tier_map]\nsilver = \"gold\"\n{measures}{}",
        tiers(
            &[("silver", 200_000), ("platinum", 500_000), ("diamond", 1_000_000), ("private", 3_000_000)],
            3,
            None,
            false
        ),
        tiers(
            &[("gold", 200_000), ("platinum", 500_000), ("diamond", 1_000_000), ("private", 3_000_000)],
            private_watch,
            label,
            measured
        ),
    );
    RuleBook::from_toml_str(&text).unwrap()
}

const MONTH: &str = "2024-06";
const CODES: [&str; 5] = ["gold", "platinum", "diamond", "private", "silver"];

fn month() -> Month {
    MONTH.parse().unwrap()
}

fn code() -> impl Strategy<Value = TierCode> {
    prop_oneof![4 => 0usize..4, 1 => Just(4usize)].prop_map(|i| CODES[i].parse().unwrap())
}

/// A month of the state: usually the one before the evaluated month.
fn last_month() -> impl Strategy<Value = Option<Month>> {
    prop_oneof![
        12 => Just(Some(month().plus(-1))),
        1 => Just(None),
        1 => Just(Some(month())),
        1 => Just(Some(month().plus(-3))),
        1 => Just(Some(Month::LAST.plus(-1))),
    ]
}

/// A state: mostly steady ones (not enrolled, or rated with nothing running), many with a
/// watch or an exit counter running (near and at the limits of the book's lengths, best tiers
/// above and below the earned tier, some of the earlier version's, mapped by `tier_map`), some
/// with a designation, retention, or inconsistent fields.
fn state() -> impl Strategy<Value = CustomerState> {
    let watch = (
        prop::option::weighted(0.8, prop_oneof![2 => code(), 1 => Just(CODES[4].parse().unwrap())]),
        1u16..7,
        0i64..400_000_000,
    )
        .prop_map(|(best, short, peak)| Watch {
            since: month().plus(-(i32::from(short))),
            short_months: short,
            best_tier: best,
            peak_aum_fen: peak,
        });
    let below = (1u16..7, 0i64..20_000_000).prop_map(|(months, peak)| BelowEntryRun {
        since: month().plus(-(i32::from(months))),
        months,
        peak_aum_fen: peak,
    });
    let special = (code(), -2i32..4).prop_map(|(tier, end)| SpecialVip {
        tier,
        first_month: month().plus(-5),
        last_month: month().plus(end),
    });
    (
        prop_oneof![4 => Just(Status::NotEnrolled), 6 => Just(Status::Rated), 1 => Just(Status::Retained)],
        prop::option::weighted(0.6, code()),
        prop::option::weighted(0.5, code()),
        prop::option::weighted(0.3, watch),
        prop::option::weighted(0.35, below),
        prop_oneof![8 => Just(0u16), 1 => 1u16..3],
        prop::option::weighted(0.08, special),
        last_month(),
        prop::bool::weighted(0.9),
    )
        .prop_map(|(status, tier, effective_tier, watch, below_entry, retention, special, last_month, fix)| {
            let mut s = CustomerState {
                status,
                tier,
                effective_tier,
                watch,
                below_entry,
                retention_months_left: retention,
                special,
                last_month,
            };
            // Keep most states consistent, so that most months are evaluated.
            if !fix {
                return s;
            }
            match s.status {
                Status::NotEnrolled => s.tier = None,
                Status::Retained => s.retention_months_left = s.retention_months_left.max(1),
                Status::Rated => {}
            }
            if s.status == Status::Rated && s.tier.is_none() {
                s.tier = Some("gold".parse().unwrap());
            }
            s
        })
}

/// AUM in fen around the thresholds and the near-threshold band edges of 10% and 5%.
fn aum_fen() -> impl Strategy<Value = i64> {
    let mut edges = vec![0i64];
    for min in [200_000i64, 500_000, 1_000_000, 3_000_000] {
        for pct in [85, 90, 95, 100, 105, 110, 115] {
            edges.push(min * pct);
        }
    }
    prop_oneof![
        4 => (proptest::sample::select(edges), -2i64..=2).prop_map(|(e, d)| (e + d).max(0)),
        2 => 0i64..500_000_000,
        1 => 0i64..30_000_000,
    ]
}

/// The month's AUM: mostly a fen amount, sometimes another scale, a negative amount, a
/// negative zero or an amount above the maximum.
fn aum() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        16 => aum_fen().prop_map(from_fen),
        1 => aum_fen().prop_map(|f| Decimal::new(f / 100, 0)),
        1 => aum_fen().prop_map(|f| Decimal::new(f * 10 + 5, 3)),
        1 => (1i64..1_000_000).prop_map(|f| from_fen(-f)),
        1 => Just(Decimal::new(-0, 2).set_negative_zero()),
        1 => Just(Decimal::from_i128_with_scale(10_000_000_000_000_000_000, 2)),
        1 => Just(Decimal::from_i128_with_scale(99_999_999_999_999_999, 2)),
    ]
}

trait NegativeZero {
    fn set_negative_zero(self) -> Self;
}

impl NegativeZero for Decimal {
    fn set_negative_zero(mut self) -> Self {
        self.set_sign_negative(true);
        self
    }
}

fn input() -> impl Strategy<Value = MonthInput> {
    let grant = (prop::option::of(0usize..4), prop::option::of(1u32..5))
        .prop_map(|(t, months)| SpecialChange::Grant { tier: t.map(|t| CODES[t].parse().unwrap()), months });
    // Measures: the loan balance often at AUM's edges, points usually given, around 100.
    let points = prop_oneof![8 => (0i64..30_000).prop_map(from_fen), 1 => Just(Decimal::new(100, 0)), 1 => Just(Decimal::new(-1, 0))];
    (
        aum(),
        prop::option::weighted(0.06, prop_oneof![grant, Just(SpecialChange::Revoke)]),
        prop::option::weighted(0.5, aum()),
        prop::option::weighted(0.9, points),
    )
        .prop_map(|(a, special, loans, points)| {
            let mut input = MonthInput { aum: AumInput::Total(a), special, measures: Default::default() };
            if let Some(l) = loans {
                input.measures.insert("loan_balance".parse().unwrap(), l);
            }
            if let Some(p) = points {
                input.measures.insert("points".parse().unwrap(), p);
            }
            input
        })
}

proptest! {
    #![proptest_config(Config { cases: 512, ..Config::default() })]

    #[test]
    fn a_batch_equals_evaluating_each_customer(
        strict in any::<bool>(),
        band in prop::sample::select(vec!["0", "0.05", "0.10", "0.3"]),
        fill in any::<bool>(),
        exit_after in prop::sample::select(vec![1u32, 2, 3, 6]),
        private_watch in prop::sample::select(vec![1u32, 2, 6]),
        label in prop::sample::select(vec![None, Some(1u32), Some(2)]),
        assess in prop::sample::select(vec![("", false), ("[3, 9]", false), ("[3, 9]", true), ("[6]", true)]),
        measured in prop::bool::weighted(0.7),
        customers in prop::collection::vec((state(), input()), 1..64),
    ) {
        let missing_months = if fill { MissingMonths::TreatAsZero } else { MissingMonths::Error };
        let engine = Engine::with_options(book(strict, band, exit_after, private_watch, label, assess, measured), EngineOptions { missing_months });
        let ids: Vec<Customer> = (0..customers.len()).map(|i| Customer::personal(format!("c{i}"))).collect();
        // A book without measures sees them in one input of eight (an error either way).
        let customers: Vec<(CustomerState, MonthInput)> = customers
            .into_iter()
            .enumerate()
            .map(|(k, (s, mut i))| {
                if !measured && k % 8 != 0 {
                    i.measures = Default::default();
                }
                (s, i)
            })
            .collect();
        let inputs: Vec<MonthInput> = customers.iter().map(|(_, i)| i.clone()).collect();
        let mut states: Vec<CustomerState> = customers.iter().map(|(s, _)| *s).collect();
        let mut out = BatchOutcome::default();
        engine.evaluate_batch_with(month(), &ids, &mut states, |i| Ok(&inputs[i]), &mut out).unwrap();
        prop_assert_eq!(out.aums.len(), customers.len());
        for (i, (prior, input)) in customers.iter().enumerate() {
            let index = i as u32;
            let events: Vec<_> = out.events.iter().filter(|e| e.index == index).map(|e| e.event).collect();
            let alerts: Vec<_> = out.alerts.iter().filter(|a| a.index == index).map(|a| a.alert).collect();
            let error = out.errors.iter().find(|e| e.index == index).map(|e| e.error.clone());
            match engine.evaluate(&ids[i], prior, month(), input) {
                Ok(one) => {
                    prop_assert_eq!(error, None, "customer {}", i);
                    prop_assert_eq!(states[i], one.state, "customer {}: {:?}", i, prior);
                    prop_assert_eq!(out.aums[i].serialize(), one.aum.serialize(), "customer {}", i);
                    prop_assert_eq!(events, one.events, "customer {}", i);
                    prop_assert_eq!(alerts, one.alerts, "customer {}", i);
                }
                Err(e) => {
                    prop_assert_eq!(error, Some(e), "customer {}", i);
                    prop_assert_eq!(states[i], *prior);
                    prop_assert!(events.is_empty() && alerts.is_empty());
                    prop_assert_eq!(out.aums[i], Decimal::ZERO);
                }
            }
        }
    }
}
