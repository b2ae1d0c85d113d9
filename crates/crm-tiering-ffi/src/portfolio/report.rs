//! How a portfolio run reports errors and renders results: the core's `RecordError` as a
//! `crmt_record_error` (and as the thread's error details), and the JSON of a run and of stored
//! states in the layout of the portfolio vectors.

use std::ffi::{CString, c_char};

use crm_tiering::portfolio::{PortfolioStates, RecordError};
use crm_tiering::{Alert, Decimal, Event, Month, TieringError};

use crate::code::crmt_result;
use crate::details::Failure;

/// An error of a portfolio run: a customer held back, a record refused, or (in a refused run)
/// one of the reasons nothing ran. Every part is the core's error as it is (`RecordError`):
/// nothing is rebuilt or parsed from the message. Strings are NUL-terminated, borrowed from the
/// result handle (valid until it is freed or reused); NULL when the error names none.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_record_error {
    /// The category as a result code: `CRMT_RULES_ERROR`, `CRMT_INPUT_ERROR`,
    /// `CRMT_SEQUENCE_ERROR` or `CRMT_STATE_ERROR`.
    pub code: crmt_result,
    /// The category: `"rules"`, `"input"`, `"sequence"` or `"state"` (static).
    pub category: *const c_char,
    /// The month of the run it was reported in; 0 in a refused run.
    pub reported_month: i32,
    /// The customer's index in the portfolio; -1 when the portfolio does not hold it.
    pub customer_index: i64,
    /// The customer id; NULL when none.
    pub customer_id: *const c_char,
    /// The month the error is about (`year * 100 + month`); 0 when none.
    pub month: i32,
    /// The field (`month`, `aum`, a component code, `customer_id`, `special.tier`, ...); NULL
    /// when none.
    pub field: *const c_char,
    /// The message.
    pub message: *const c_char,
    /// The table of the record it is about (as the caller named it); NULL when none.
    pub record_table: *const c_char,
    /// The record's row (as the caller numbered it); 0 when `record_table` is NULL.
    pub record_row: u64,
    /// For a duplicate: the table of the other (first) record; NULL when none.
    pub other_table: *const c_char,
    /// The other record's row; 0 when `other_table` is NULL.
    pub other_row: u64,
}

/// The owned strings behind a `crmt_record_error`.
pub(super) struct ErrorText {
    _strings: Vec<CString>,
}

pub(super) fn yyyymm(m: Option<Month>) -> i32 {
    m.map_or(0, |m| i32::try_from(m.yyyymm()).unwrap_or(0))
}

pub(super) fn category_code(e: &TieringError) -> crmt_result {
    match e {
        TieringError::Rules(_) => crmt_result::CRMT_RULES_ERROR,
        TieringError::Input(_) => crmt_result::CRMT_INPUT_ERROR,
        TieringError::Sequence(_) => crmt_result::CRMT_SEQUENCE_ERROR,
        TieringError::State(_) => crmt_result::CRMT_STATE_ERROR,
    }
}

fn category_ptr(category: &str) -> *const c_char {
    match category {
        "rules" => c"rules".as_ptr(),
        "input" => c"input".as_ptr(),
        "sequence" => c"sequence".as_ptr(),
        "state" => c"state".as_ptr(),
        _ => c"".as_ptr(),
    }
}

/// The thread's error details from a record error: the core's category, customer, month and
/// field, and its records.
pub(crate) fn record_failure(code: crmt_result, e: &RecordError, message: String) -> Failure {
    Failure {
        code,
        message,
        customer: e.customer().map(str::to_string),
        month: yyyymm(e.month()),
        field: e.field().map(str::to_string),
        record: e.record.as_ref().map(|r| Box::new((r.table.clone(), r.row))),
        other_record: e.other_record.as_ref().map(|r| Box::new((r.table.clone(), r.row))),
    }
}

/// A record error as its C struct, and the owned strings it points to.
pub(super) fn error_struct(reported: i32, index: Option<usize>, e: &RecordError) -> (crmt_record_error, ErrorText) {
    let mut strings = Vec::new();
    let mut text = |s: Option<&str>| -> *const c_char {
        match s {
            None => std::ptr::null(),
            Some(s) => {
                let c = CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default();
                let p = c.as_ptr();
                strings.push(c);
                p
            }
        }
    };
    let message = e.error.to_string();
    let error = crmt_record_error {
        code: category_code(&e.error),
        category: category_ptr(e.category()),
        reported_month: reported,
        customer_index: index.map_or(-1, |i| i as i64),
        customer_id: text(e.customer()),
        month: yyyymm(e.month()),
        field: text(e.field()),
        message: text(Some(&message)),
        record_table: text(e.record.as_ref().map(|r| r.table.as_str())),
        record_row: e.record.as_ref().map_or(0, |r| r.row),
        other_table: text(e.other_record.as_ref().map(|r| r.table.as_str())),
        other_row: e.other_record.as_ref().map_or(0, |r| r.row),
    };
    (error, ErrorText { _strings: strings })
}

fn record_json(r: Option<&crm_tiering::portfolio::RecordRef>) -> serde_json::Value {
    r.map_or(serde_json::Value::Null, |r| serde_json::json!({"table": r.table, "row": r.row}))
}

fn error_json(e: &RecordError) -> serde_json::Value {
    serde_json::json!({
        "customer_id": e.customer(),
        "category": e.category(),
        "month": e.month().map(|m| m.to_string()),
        "field": e.field(),
        "record": record_json(e.record.as_ref()),
        "other_record": record_json(e.other_record.as_ref()),
    })
}

/// What the JSON of a run shows, in the core's values (amounts exact, errors as they are).
pub(super) struct RunJson<'a> {
    /// Whether the run was refused as a whole (then only `errors` are shown).
    pub(super) refused: bool,
    /// The months evaluated (`year * 100 + month`).
    pub(super) months: &'a [i32],
    /// Each event with its month and customer index.
    pub(super) events: &'a [(i32, usize, Event)],
    /// Each alert with its month and customer index.
    pub(super) alerts: &'a [(i32, usize, Alert)],
    /// Each evaluated customer: month, customer index, AUM, whether it had a record.
    pub(super) evaluated: Vec<(i32, usize, Decimal, bool)>,
    /// Each error with the month it was reported in.
    pub(super) errors: Vec<(i32, &'a RecordError)>,
}

impl RunJson<'_> {
    /// The layout of the portfolio vectors' `expected.months` (`rules-spec/VECTORS.md` §7), or
    /// `{"refused": [errors]}`; `states` names the customers by index.
    pub(super) fn render(&self, states: &PortfolioStates) -> Result<String, Failure> {
        let id = |i: usize| -> Result<&str, Failure> {
            states.customer(i).map(|c| c.id).ok_or_else(|| {
                Failure::new(crmt_result::CRMT_INDEX_OUT_OF_RANGE, format!("customer {i} is not in the portfolio"))
                    .field("portfolio")
            })
        };
        let value = if self.refused {
            serde_json::json!({"refused": self.errors.iter().map(|(_, e)| error_json(e)).collect::<Vec<_>>()})
        } else {
            let mut months = Vec::with_capacity(self.months.len());
            for &m in self.months {
                let mut events = Vec::new();
                for (em, i, e) in self.events {
                    if *em == m {
                        events.push(serde_json::json!({"customer_id": id(*i)?, "event": e}));
                    }
                }
                let mut alerts = Vec::new();
                for (am, i, a) in self.alerts {
                    if *am == m {
                        alerts.push(serde_json::json!({"customer_id": id(*i)?, "alert": a}));
                    }
                }
                let mut evaluated = Vec::new();
                for (vm, i, aum, has_record) in &self.evaluated {
                    if *vm == m {
                        evaluated.push(serde_json::json!({
                            "customer_id": id(*i)?,
                            "aum": aum.to_string(),
                            "has_record": has_record,
                        }));
                    }
                }
                let held: Vec<_> = self.errors.iter().filter(|(r, _)| *r == m).map(|(_, e)| error_json(e)).collect();
                let month = Month::from_yyyymm(i64::from(m)).map(|m| m.to_string()).unwrap_or_default();
                months.push(serde_json::json!({
                    "month": month, "events": events, "alerts": alerts, "evaluated": evaluated, "held": held,
                }));
            }
            serde_json::json!({ "months": months })
        };
        Ok(value.to_string())
    }
}

/// The stored states in the layout of the portfolio vectors' `expected.states`:
/// `[{"customer_id", "legal_entity", "customer_kind", "state"}]` in portfolio order.
pub(super) fn states_json(states: &PortfolioStates) -> String {
    let list: Vec<_> = states
        .iter()
        .map(|(c, s)| {
            serde_json::json!({
                "customer_id": c.id, "legal_entity": c.legal_entity, "customer_kind": c.kind, "state": s,
            })
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}
