//! The output tables: built to their schemas, every part of a state readable back from its
//! row, months as the first day, amounts exact.

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::*;
use crate::code::TierCode;
use crate::engine::CustomerRef;
use crate::month::Month;
use crate::rules::CustomerKind;
use crate::state::{BelowEntryRun, CustomerState, SpecialVip, Status, Watch};

fn m(s: &str) -> Month {
    s.parse().unwrap()
}

fn t(s: &str) -> TierCode {
    TierCode::new(s).unwrap()
}

/// The text of a dictionary cell, none when null.
fn code_at(b: &RecordBatch, name: &str, row: usize) -> Option<String> {
    let d = b.column_by_name(name).unwrap().as_dictionary::<Int32Type>();
    if d.is_null(row) {
        return None;
    }
    let key = usize::try_from(d.keys().value(row)).unwrap();
    Some(d.values().as_string::<i32>().value(key).to_string())
}

/// The month of a date32 cell.
fn month_at(b: &RecordBatch, name: &str, row: usize) -> Option<Month> {
    let a = b.column_by_name(name).unwrap().as_primitive::<Date32Type>();
    if a.is_null(row) {
        return None;
    }
    let date = NaiveDate::from_num_days_from_ce_opt(a.value(row) + 719_163).unwrap();
    assert_eq!(date.day(), 1, "{name}: a month is its first day");
    Some(Month::new(date.year(), date.month()).unwrap())
}

fn count_at(b: &RecordBatch, name: &str, row: usize) -> Option<i64> {
    let a = b.column_by_name(name).unwrap().as_primitive::<Int64Type>();
    (!a.is_null(row)).then(|| a.value(row))
}

fn fen_at(b: &RecordBatch, name: &str, row: usize) -> Option<i64> {
    let a = b.column_by_name(name).unwrap().as_primitive::<Decimal128Type>();
    (!a.is_null(row)).then(|| i64::try_from(a.value(row)).unwrap())
}

/// A state read back from row `row` of a states table: only its columns, by name.
fn state_at(b: &RecordBatch, row: usize) -> CustomerState {
    let status = code_at(b, "status", row).unwrap();
    let tier = |name: &str| code_at(b, name, row).map(|c| t(&c));
    let watch = month_at(b, "watch_since", row).map(|since| Watch {
        since,
        short_months: u16::try_from(count_at(b, "watch_short_months", row).unwrap()).unwrap(),
        best_tier: tier("watch_best_tier"),
        peak_aum_fen: fen_at(b, "watch_peak_aum", row).unwrap(),
    });
    let below_entry = month_at(b, "below_entry_since", row).map(|since| BelowEntryRun {
        since,
        months: u16::try_from(count_at(b, "below_entry_months", row).unwrap()).unwrap(),
        peak_aum_fen: fen_at(b, "below_entry_peak_aum", row).unwrap(),
    });
    let special = tier("special_tier").map(|tier| SpecialVip {
        tier,
        first_month: month_at(b, "special_first_month", row).unwrap(),
        last_month: month_at(b, "special_last_month", row).unwrap(),
    });
    CustomerState {
        status: *Status::ALL.iter().find(|s| s.as_str() == status).unwrap(),
        tier: tier("tier"),
        effective_tier: tier("effective_tier"),
        watch,
        below_entry,
        retention_months_left: u16::try_from(count_at(b, "retention_months_left", row).unwrap()).unwrap(),
        special,
        last_month: month_at(b, "last_month", row),
    }
}

fn full_state() -> CustomerState {
    CustomerState {
        status: Status::Rated,
        tier: Some(t("gold")),
        effective_tier: Some(t("diamond")),
        watch: Some(Watch {
            since: m("2024-01"),
            short_months: 2,
            best_tier: Some(t("silver")),
            peak_aum_fen: 123_456,
        }),
        below_entry: Some(BelowEntryRun { since: m("2024-02"), months: 1, peak_aum_fen: 99 }),
        retention_months_left: 0,
        special: Some(SpecialVip { tier: t("diamond"), first_month: m("2023-12"), last_month: m("2024-06") }),
        last_month: Some(m("2024-03")),
    }
}

#[test]
fn every_part_of_a_state_is_read_back_from_its_row() {
    let retained = CustomerState {
        status: Status::Retained,
        tier: Some(t("platinum")),
        retention_months_left: 5,
        last_month: Some(m("2024-02")),
        ..CustomerState::default()
    };
    let states = [full_state(), CustomerState::default(), retained];
    let none = crate::History::new();
    let mut codes = TierCodes::default();
    let mut table = StatesTable::new(3);
    let entity = CustomerRef { id: "c1", legal_entity: Some("0101"), kind: CustomerKind::Corporate };
    table.push(&mut codes, m("2024-03"), entity, Some((Decimal::new(123_456, 2), true)), (&states[0], &none));
    let personal = CustomerRef { id: "c2", legal_entity: None, kind: CustomerKind::Personal };
    table.push(&mut codes, m("2024-03"), personal, None, (&states[1], &none));
    table.push(
        &mut codes,
        m("2024-03"),
        CustomerRef { id: "c3", ..personal },
        Some((Decimal::ZERO, false)),
        (&states[2], &none),
    );
    let b = table.finish(&codes, None).unwrap();
    assert_eq!(b.schema(), states_schema());
    for (row, s) in states.iter().enumerate() {
        assert_eq!(&state_at(&b, row), s, "row {row}");
    }
    assert_eq!(code_at(&b, "legal_entity", 0).as_deref(), Some("0101"));
    assert_eq!(code_at(&b, "legal_entity", 1), None);
    assert_eq!(code_at(&b, "customer_kind", 0).as_deref(), Some("corporate"));
    assert_eq!(code_at(&b, "status_zh", 2).as_deref(), Some(Status::Retained.name_zh()));
    assert_eq!(fen_at(&b, "aum", 0), Some(123_456));
    assert_eq!((fen_at(&b, "aum", 1), fen_at(&b, "aum", 2)), (None, Some(0)));
    let flags = |name: &str| {
        let a = b.column_by_name(name).unwrap().as_boolean();
        (0..3).map(|i| (!a.is_null(i)).then(|| a.value(i))).collect::<Vec<_>>()
    };
    assert_eq!(flags("evaluated"), [Some(true), Some(false), Some(true)]);
    assert_eq!(flags("has_record"), [Some(true), None, Some(false)]);
    assert_eq!(flags("is_vip"), [Some(true), Some(false), Some(false)]);
    assert_eq!(b.column_by_name("history").unwrap().null_count(), 3, "no history kept: null cells");
}

/// A history of `aum` months (yuan, newest first; none: a month without a value).
fn history(aum: &[Option<i64>], tiers: &[Option<&str>]) -> crate::History {
    let mut h = crate::History::new();
    let months: Vec<Option<Decimal>> = aum.iter().map(|a| a.map(Decimal::from)).collect();
    h.set_months("aum".parse().unwrap(), &months).unwrap();
    h.set_tiers(&tiers.iter().map(|x| x.map(t)).collect::<Vec<_>>()).unwrap();
    h
}

/// The `history` column's cells, read back as histories (an empty one for a null cell).
fn histories_at(b: &RecordBatch) -> Vec<crate::History> {
    let col = b.column_by_name("history").unwrap().as_string::<i32>();
    col.iter().map(|c| c.map(|text| crate::History::from_json(text).unwrap()).unwrap_or_default()).collect()
}

#[test]
fn each_row_carries_its_history_as_the_state_json_member() {
    let kept = [
        crate::History::new(),
        history(&[Some(5_800_000), None, Some(6_100_000)], &[Some("gold"), None]),
        history(&[Some(1)], &[]),
    ];
    let mut codes = TierCodes::default();
    let mut table = StatesTable::new(3);
    for (id, h) in ["a", "b", "c"].into_iter().zip(&kept) {
        let c = CustomerRef { id, legal_entity: None, kind: CustomerKind::Personal };
        table.push(&mut codes, m("2024-03"), c, None, (&full_state(), h));
    }
    let b = table.finish(&codes, None).unwrap();
    assert_eq!(histories_at(&b), kept);
    let col = b.column_by_name("history").unwrap().as_string::<i32>();
    assert!(col.is_null(0), "an empty history is a null cell");
    // The cell is the `history` member of the state's JSON, text for text.
    let json: serde_json::Value = serde_json::from_str(&full_state().to_json_with_history(&kept[1])).unwrap();
    assert_eq!(Some(col.value(1).to_string()), json.get("history").map(ToString::to_string));
}

#[test]
fn indexed_rows_take_their_histories_from_the_states_after_the_month() {
    let mut states = crate::portfolio::PortfolioStates::new();
    for id in ["a", "b", "c"] {
        states.insert(crate::Customer::personal(id), CustomerState::default()).unwrap();
    }
    let mut codes = TierCodes::default();
    let mut table = StatesTable::indexed(4);
    let push = |table: &mut StatesTable, codes: &mut TierCodes, states: &crate::portfolio::PortfolioStates, i| {
        let c = states.customer(i).unwrap();
        table.push_indexed(codes, m("2024-03"), (i, c), (Decimal::ONE, true), &full_state());
    };
    // A month without histories kept: null cells.
    push(&mut table, &mut codes, &states, 1);
    table.histories(&states);
    let (h0, h2) = (history(&[Some(7)], &[]), history(&[Some(8), Some(9)], &[Some("gold")]));
    states.set_history(0, &h0).unwrap();
    states.set_history(2, &h2).unwrap();
    for i in [2, 0, 1] {
        push(&mut table, &mut codes, &states, i);
    }
    table.histories(&states);
    states.set_history(2, &h0).unwrap();
    table.histories(&states); // nothing new: the rows keep the month's histories
    let mut ids = IdColumn::default();
    let b = table.finish(&codes, Some(ids.of(&states))).unwrap();
    assert_eq!(histories_at(&b), [crate::History::new(), h2, h0, crate::History::new()]);
}

#[test]
fn an_amount_that_is_not_whole_fen_stops_the_table() {
    let mut codes = TierCodes::default();
    let mut table = StatesTable::new(1);
    let c = CustomerRef { id: "c1", legal_entity: None, kind: CustomerKind::Personal };
    table.push(
        &mut codes,
        m("2024-03"),
        c,
        Some((Decimal::new(1_001, 3), true)),
        (&CustomerState::default(), &crate::History::new()),
    );
    let e = table.finish(&codes, None).unwrap_err().to_string();
    assert!(e.contains("1.001"), "{e}");
}

#[test]
fn months_are_their_first_day() {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    for (y, mo) in [(1900, 1), (1969, 12), (1970, 1), (2000, 2), (2000, 3), (2024, 2), (2100, 3), (9999, 12)] {
        let days = NaiveDate::from_ymd_opt(y, mo, 1).unwrap().signed_duration_since(epoch).num_days();
        assert_eq!(i64::from(month_days(Month::new(y, mo).unwrap())), days, "{y}-{mo}");
    }
}

#[test]
fn indexed_rows_take_their_ids_from_the_portfolio_column() {
    let mut states = crate::portfolio::PortfolioStates::new();
    for id in ["a", "b", "c"] {
        states.insert(crate::Customer::personal(id), CustomerState::default()).unwrap();
    }
    let mut ids = IdColumn::default();
    let mut codes = TierCodes::default();
    let mut table = StatesTable::indexed(2);
    for i in [2, 0] {
        let c = states.customer(i).unwrap();
        table.push_indexed(&mut codes, m("2024-03"), (i, c), (Decimal::ONE, true), &full_state());
    }
    assert!(table.needs_ids());
    let b = table.finish(&codes, Some(ids.of(&states))).unwrap();
    let got = b.column_by_name("customer_id").unwrap().as_string::<i32>();
    assert_eq!(got.iter().collect::<Vec<_>>(), [Some("c"), Some("a")]);
    let mut table = StatesTable::indexed(1);
    let c = states.customer(0).unwrap();
    table.push_indexed(&mut codes, m("2024-03"), (0, c), (Decimal::ONE, true), &full_state());
    assert!(table.finish(&codes, None).is_err(), "indexed rows need the ids");
}

#[test]
fn every_table_is_built_to_its_schema() {
    let mut codes = TierCodes::default();
    let e = EventsTable::new(0, false);
    assert_eq!(e.finish(&codes, None).unwrap().schema(), events_schema());
    let a = AlertsTable::new(0);
    assert_eq!(a.finish(&codes, None).unwrap().schema(), alerts_schema());
    assert_eq!(RejectsTable::default().finish().unwrap().schema(), rejects_schema());
    // Code columns share one dictionary type; a code met is appended to the tier dictionary.
    let code = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    for schema in [states_schema(), events_schema(), alerts_schema()] {
        assert!(schema.fields().iter().all(|f| !f.name().ends_with("tier") || f.data_type() == &code));
        assert_eq!(schema.field(0).name(), "month");
        assert_eq!(schema.field(0).data_type(), &DataType::Date32);
        assert_eq!(schema.field(1).name(), "customer_id");
    }
    assert_eq!(codes.opt_key(Some(t("gold"))), Some(0));
    assert_eq!(codes.opt_key(Some(t("silver"))), Some(1));
    assert_eq!(codes.opt_key(Some(t("gold"))), Some(0));
    assert_eq!(codes.len(), 2);
}

/// The `stage` and `stage_since` cells (SPEC §23.2): none for a row whose history keeps no stage.
fn stages_at(b: &RecordBatch) -> Vec<Option<(String, Month)>> {
    (0..b.num_rows()).map(|row| Some((code_at(b, "stage", row)?, month_at(b, "stage_since", row).unwrap()))).collect()
}

#[test]
fn each_row_carries_its_lifecycle_stage_in_both_push_paths() {
    let staged = |code: &str, since: &str| {
        let mut h = crate::History::new();
        h.set_stage(Some((code.parse().unwrap(), m(since))));
        h
    };
    let kept = [crate::History::new(), staged("mature", "2024-01"), staged("churned", "2023-11")];
    let want = [None, Some(("mature".to_string(), m("2024-01"))), Some(("churned".to_string(), m("2023-11")))];
    let mut codes = TierCodes::default();
    let mut table = StatesTable::new(3);
    for (id, h) in ["a", "b", "c"].into_iter().zip(&kept) {
        let c = CustomerRef { id, legal_entity: None, kind: CustomerKind::Personal };
        table.push(&mut codes, m("2024-03"), c, None, (&full_state(), h));
    }
    assert_eq!(stages_at(&table.finish(&codes, None).unwrap()), want);
    // By index: the stages of the states after the month, and none before any is kept.
    let mut states = crate::portfolio::PortfolioStates::new();
    for id in ["a", "b", "c"] {
        states.insert(crate::Customer::personal(id), CustomerState::default()).unwrap();
    }
    let mut table = StatesTable::indexed(4);
    let push = |table: &mut StatesTable, codes: &mut TierCodes, states: &crate::portfolio::PortfolioStates, i| {
        let c = states.customer(i).unwrap();
        table.push_indexed(codes, m("2024-03"), (i, c), (Decimal::ONE, true), &full_state());
    };
    push(&mut table, &mut codes, &states, 0);
    table.histories(&states);
    for (i, h) in kept.iter().enumerate() {
        states.set_history(i, h).unwrap();
    }
    for i in [2, 1, 0] {
        push(&mut table, &mut codes, &states, i);
    }
    table.histories(&states);
    let mut ids = IdColumn::default();
    let b = table.finish(&codes, Some(ids.of(&states))).unwrap();
    assert_eq!(stages_at(&b), [None, want[2].clone(), want[1].clone(), None]);
    // A table with no stage at all has the columns, null.
    let mut table = StatesTable::new(1);
    let c = CustomerRef { id: "a", legal_entity: None, kind: CustomerKind::Personal };
    table.push(&mut codes, m("2024-03"), c, None, (&full_state(), &kept[0]));
    let b = table.finish(&codes, None).unwrap();
    assert_eq!(b.schema(), states_schema());
    assert_eq!(stages_at(&b), [None]);
}

#[test]
fn each_alert_row_carries_its_severity() {
    use crate::event::{Alert, AlertKind};
    let alert = |kind: AlertKind, left: Option<u32>| {
        let left = left.map(|n| format!(",\"months_left\":{n}")).unwrap_or_default();
        serde_json::from_str::<Alert>(&format!("{{\"month\":\"2024-03\",\"kind\":\"{kind}\"{left}}}")).unwrap()
    };
    let alerts = [
        alert(AlertKind::ExitRisk, Some(1)),
        alert(AlertKind::ExitRisk, Some(2)),
        alert(AlertKind::PotentialVip, None),
        alert(AlertKind::Dormant, Some(3)),
    ];
    let mut codes = TierCodes::default();
    let mut table = AlertsTable::new(alerts.len());
    for a in &alerts {
        table.push(&mut codes, "c1", a);
    }
    let b = table.finish(&codes, None).unwrap();
    let got: Vec<(Option<String>, Option<String>)> =
        (0..alerts.len()).map(|r| (code_at(&b, "severity", r), code_at(&b, "severity_zh", r))).collect();
    let want: Vec<(Option<String>, Option<String>)> = alerts
        .iter()
        .map(|a| (Some(a.severity().as_str().to_string()), Some(a.severity().name_zh().to_string())))
        .collect();
    assert_eq!(got, want);
    assert_eq!(got.iter().map(|g| g.0.as_deref().unwrap()).collect::<Vec<_>>(), ["high", "medium", "low", "high"]);
}
