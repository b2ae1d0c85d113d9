//! The state's compact values: interned tier codes, whole-fen peaks and `u16` month counts
//! behave like the values they stand for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hash::{DefaultHasher, Hash, Hasher};

use crm_tiering::{
    BelowEntryRun, Customer, CustomerState, Engine, EventKind, Month, MonthInput, RuleBook, Status, TierCode,
    TieringError, Watch, parse_amount,
};

fn m(s: &str) -> Month {
    s.parse().unwrap()
}

fn code(s: &str) -> TierCode {
    s.parse().unwrap()
}

fn hash_of<T: Hash + ?Sized>(v: &T) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

#[test]
fn the_state_and_its_parts_are_small() {
    assert!(size_of::<CustomerState>() <= 64, "{}", size_of::<CustomerState>());
    assert_eq!(size_of::<TierCode>(), 2);
    assert_eq!(size_of::<Option<TierCode>>(), 2);
}

#[test]
fn tier_codes_compare_and_hash_by_their_text_whatever_order_they_were_first_seen() {
    // Seen in reverse alphabetical order: ordering must still be by text.
    let names = ["zz-last", "mm-mid", "aa-first"];
    let codes: Vec<TierCode> = names.iter().map(|n| code(n)).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted.iter().map(TierCode::as_str).collect::<Vec<_>>(), ["aa-first", "mm-mid", "zz-last"]);
    for (c, n) in codes.iter().zip(names) {
        assert_eq!(c.as_str(), n);
        assert_eq!(c.as_bytes(), n.as_bytes());
        assert_eq!(hash_of(c), hash_of(n), "a code hashes as its text");
        // The same text is the same code, from any thread.
        let again = std::thread::spawn(move || code(n)).join().unwrap();
        assert_eq!(*c, again);
        assert_eq!(c.cmp(&again), std::cmp::Ordering::Equal);
    }
    assert_ne!(code("gold"), code("gold1"));
    assert!(code("gold") < code("gold1"));
    assert!("Gold".parse::<TierCode>().is_err());
}

fn watch_json(peak: &str) -> String {
    format!(
        r#"{{"schema_version":1,"status":"rated","tier":"gold","effective_tier":"gold","watch":{{"since":"2024-01","short_months":1,"best_tier":null,"peak_aum":"{peak}"}},"last_month":"2024-01"}}"#
    )
}

#[test]
fn peaks_read_and_write_as_decimal_strings_in_whole_fen() {
    let s = CustomerState::from_json(&watch_json("432100.07")).unwrap();
    let w = s.watch.unwrap();
    assert_eq!(w.peak_aum_fen, 43_210_007);
    assert_eq!(w.peak_aum(), parse_amount("432100.07").unwrap());
    assert!(s.to_json().contains(r#""peak_aum":"432100.07""#), "{}", s.to_json());
    // Fewer decimals are the same amount, written with two.
    let s = CustomerState::from_json(&watch_json("5")).unwrap();
    assert_eq!(s.watch.unwrap().peak_aum_fen, 500);
    assert!(s.to_json().contains(r#""peak_aum":"5.00""#), "{}", s.to_json());
}

#[test]
fn a_peak_with_more_decimals_than_fen_is_refused_naming_it() {
    match CustomerState::from_json(&watch_json("1.005")) {
        Err(TieringError::State(e)) => {
            let text = e.to_string();
            assert!(text.contains("peak AUM 1.005 is not a whole number of fen"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert!(CustomerState::from_json(&watch_json("12,000")).is_err());
}

#[test]
fn month_counts_beyond_the_stored_range_are_refused_without_a_type_name() {
    let json = watch_json("1.00").replace(r#""short_months":1"#, r#""short_months":70000"#);
    match CustomerState::from_json(&json) {
        Err(TieringError::State(e)) => {
            let text = e.to_string();
            assert!(text.contains("month count 70000 is not a whole number from 0 to 65535"), "{text}");
            assert!(!text.contains("u16"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    let json = watch_json("1.00").replace(r#""short_months":1"#, r#""short_months":-1"#);
    assert!(CustomerState::from_json(&json).is_err());
}

#[test]
fn counters_at_their_limit_saturate_instead_of_overflowing() {
    let engine = Engine::new(RuleBook::default_book().unwrap());
    let book = engine.rule_book();
    let set = book.select(None, Default::default()).unwrap();
    let v = book.version_for(set, m("2024-02"), "c1").unwrap();
    let top = v.tiers.len() - 1;
    assert!(top > 0, "the default book has more than one tier");
    // Rated at the top tier, below entry for u16::MAX months and in a watch as long: the next
    // month exits (the exit wins over the downgrade), with the counts in the evidence.
    let prior = CustomerState {
        status: Status::Rated,
        tier: Some(v.tiers[top].code),
        effective_tier: Some(v.tiers[top].code),
        watch: Some(Watch { since: m("2000-01"), short_months: u16::MAX, best_tier: None, peak_aum_fen: 1 }),
        below_entry: Some(BelowEntryRun { since: m("2000-01"), months: u16::MAX, peak_aum_fen: 2 }),
        retention_months_left: 0,
        special: None,
        last_month: Some(m("2024-01")),
    };
    let out = engine
        .evaluate(&Customer::personal("c1"), &prior, m("2024-02"), &MonthInput::total(parse_amount("3.00").unwrap()))
        .unwrap();
    assert_eq!(out.state.status, Status::Retained);
    let exit = out.events.iter().find(|e| e.kind == EventKind::ExitedToRetention).unwrap();
    assert_eq!(exit.evidence.window_months, Some(u32::from(u16::MAX)));
    assert_eq!(exit.evidence.peak_aum(), Some(parse_amount("3.00").unwrap()));
}
