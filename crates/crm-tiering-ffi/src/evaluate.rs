//! One customer's month: the customer and amounts in, the outcome handle out.

use std::ffi::c_char;

use crm_tiering::{
    AumInput, ComponentAmount, Customer, CustomerKind, Month, MonthInput, MonthOutcome, from_fen, parse_amount,
};

use crate::args::{arg, bytes, c_str, c_str_opt, slice, utf8, vec_for, write_text};
use crate::boundary::guard;
use crate::buffer::crmt_buffer;
use crate::code::crmt_result;
use crate::convert::fen;
use crate::details::Failure;
use crate::event::{alert_struct, crmt_alert, crmt_event, event_struct};
use crate::handle::{Handle, Kind, free_handle, handle, handle_mut, put_handle, read_array, read_value};
use crate::rulebook::crmt_rulebook;
use crate::state::crmt_state;

/// Personal customers (个人客户): value of `crmt_customer.kind`.
pub const CRMT_KIND_PERSONAL: u32 = 0;
/// Corporate customers (对公客户): value of `crmt_customer.kind`.
pub const CRMT_KIND_CORPORATE: u32 = 1;

/// Who a customer is. Strings are NUL-terminated UTF-8, borrowed for the call only.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_customer {
    /// The customer id (客户号). Required.
    pub id: *const c_char,
    /// The legal entity (法人机构号) for rule selection; NULL when none.
    pub legal_entity: *const c_char,
    /// `CRMT_KIND_PERSONAL` or `CRMT_KIND_CORPORATE`.
    pub kind: u32,
}

/// A component's monthly daily average, as a decimal string.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_component_amount {
    /// The component code of the rule book's catalogue, such as `time_deposit`.
    pub component: *const c_char,
    /// The amount, a plain decimal string such as `"150000.00"`.
    pub amount: *const c_char,
}

/// The result of one customer's month. Not synchronized; released with `crmt_outcome_free`.
pub struct crmt_outcome {
    outcome: MonthOutcome,
    /// Lent by `crmt_outcome_state` (the registry knows it by its offset).
    pub(crate) state: crmt_state,
    events: Vec<crmt_event>,
    alerts: Vec<crmt_alert>,
}

impl Handle for crmt_outcome {
    const KIND: Kind = Kind::Outcome;
}

// Here rather than in `state`, which does not see the outcome.
impl Handle for crmt_state {
    const KIND: Kind = Kind::State;
    // `crmt_outcome_state` lends the state of an outcome, read-only.
    const LENT_BY: Option<(Kind, usize)> = Some((Kind::Outcome, std::mem::offset_of!(crmt_outcome, state)));
}

pub(crate) fn parse_month(yyyymm: i32) -> Result<Month, Failure> {
    Month::from_yyyymm(i64::from(yyyymm)).map_err(|e| {
        Failure::new(crmt_result::CRMT_INVALID_MONTH, format!("`month` {yyyymm} is not a month: {e}")).field("month")
    })
}

pub(crate) fn customer_kind(kind: u32, id: &str) -> Result<CustomerKind, Failure> {
    match kind {
        CRMT_KIND_PERSONAL => Ok(CustomerKind::Personal),
        CRMT_KIND_CORPORATE => Ok(CustomerKind::Corporate),
        other => Err(Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!("customer `{id}`: kind {other} is not 0 (personal) or 1 (corporate)"),
        )
        .customer(id)
        .field("kind")),
    }
}

/// # Safety
/// `c` is NULL or a valid `crmt_customer` whose strings are NULL or NUL-terminated.
unsafe fn read_customer(c: *const crmt_customer) -> Result<Customer, Failure> {
    // SAFETY: per the contract.
    let c = unsafe { arg(c, "customer") }?;
    // SAFETY: per the contract.
    let id = unsafe { c_str(c.id, "customer.id") }?;
    // SAFETY: per the contract.
    let legal_entity = unsafe { c_str_opt(c.legal_entity, "customer.legal_entity") }?;
    let kind = customer_kind(c.kind, id)?;
    Ok(Customer { id: id.to_string(), legal_entity: legal_entity.map(str::to_string), kind })
}

fn amount_failure(customer: &str, month: i32, field: &str, text: &str) -> Failure {
    Failure::new(
        crmt_result::CRMT_INVALID_AMOUNT,
        format!("invalid input for customer `{customer}`, field `{field}`: `{text}` is not a plain decimal amount"),
    )
    .customer(customer)
    .month(month)
    .field(field)
}

/// Evaluates and stores the outcome.
///
/// # Safety
/// `out` per the exported functions' contracts.
unsafe fn run(
    book: &crmt_rulebook,
    customer: &Customer,
    state: &mut crmt_state,
    month: Month,
    input: &MonthInput,
    out: *mut *mut crmt_outcome,
) -> Result<(), Failure> {
    let outcome = book.engine.evaluate_with_history(customer, &state.state, &state.history, month, input)?;
    state.state = outcome.state;
    state.history.clone_from(&outcome.history);
    if !out.is_null() {
        let events = outcome.events.iter().map(|e| event_struct(0, e)).collect();
        let alerts = outcome.alerts.iter().map(|a| alert_struct(0, a)).collect();
        let lent = crmt_state { state: outcome.state, history: outcome.history.clone() };
        let value = crmt_outcome { state: lent, outcome, events, alerts };
        // SAFETY: per the contract.
        unsafe { put_handle(out, value, "out") }?;
    }
    Ok(())
}

/// # Safety
/// As `run`, plus `customer` per `read_customer`.
unsafe fn evaluate_with(
    book: *const crmt_rulebook,
    customer: *const crmt_customer,
    state: *mut crmt_state,
    month: i32,
    out: *mut *mut crmt_outcome,
    input: impl FnOnce(&Customer) -> Result<MonthInput, Failure>,
) -> crmt_result {
    guard(|| {
        // The handles first: checked before anything else is read.
        // SAFETY: per the contract.
        let (book, state) = unsafe { (handle(book, "book")?, handle_mut(state, "state")?) };
        // SAFETY: per the contract.
        let customer = unsafe { read_customer(customer) }?;
        let m = parse_month(month).map_err(|f| f.customer(customer.id.clone()))?;
        let input = input(&customer)?;
        // SAFETY: per the contract.
        unsafe { run(book, &customer, state, m, &input, out) }
    })
}

/// Evaluates one customer's month from the month's AUM in fen.
///
/// On success `*state` becomes the new state (effective for the month after `month`) and, when
/// `out` is not NULL, `*out` receives an outcome handle (events, alerts, AUM) released with
/// `crmt_outcome_free`. On failure `*state` is unchanged and nothing is stored in `*out`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8`, `CRMT_INVALID_MONTH`, `CRMT_INVALID_ARGUMENT`
/// (kind), `CRMT_RULES_ERROR` (no rule set for the customer), `CRMT_INPUT_ERROR`,
/// `CRMT_SEQUENCE_ERROR` (month not the one after the state's last), `CRMT_STATE_ERROR`.
///
/// # Safety
/// `book` is a live rule book; `customer` points to a valid customer; `state` is a live state
/// used by no other thread; `out` is NULL or writable.
/// Thread rules: `book` may be shared; `state` may not.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_evaluate_total_fen(
    book: *const crmt_rulebook,
    customer: *const crmt_customer,
    state: *mut crmt_state,
    month: i32,
    aum_fen: i64,
    out: *mut *mut crmt_outcome,
) -> crmt_result {
    // SAFETY: forwarded contract.
    unsafe { evaluate_with(book, customer, state, month, out, |_| Ok(MonthInput::total(from_fen(aum_fen)))) }
}

/// Evaluates one customer's month from the month's AUM as a decimal string (`"523400.50"`);
/// otherwise as `crmt_evaluate_total_fen`.
///
/// # Errors
/// As `crmt_evaluate_total_fen`, and `CRMT_INVALID_AMOUNT` (field `aum`) for text that is not
/// a plain decimal number.
///
/// # Safety
/// As `crmt_evaluate_total_fen`; `aum` is a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_evaluate_total(
    book: *const crmt_rulebook,
    customer: *const crmt_customer,
    state: *mut crmt_state,
    month: i32,
    aum: *const c_char,
    out: *mut *mut crmt_outcome,
) -> crmt_result {
    // SAFETY: forwarded contract.
    unsafe {
        evaluate_with(book, customer, state, month, out, |c| {
            let text = c_str(aum, "aum").map_err(|f| f.customer(c.id.clone()).month(month))?;
            let amount = parse_amount(text).map_err(|_| amount_failure(&c.id, month, "aum", text))?;
            Ok(MonthInput::total(amount))
        })
    }
}

/// Evaluates one customer's month from monthly daily averages per AUM component (`count`
/// entries); the rule book's catalogue weighs and sums them. Otherwise as
/// `crmt_evaluate_total_fen`.
///
/// # Errors
/// As `crmt_evaluate_total_fen`; `CRMT_INVALID_AMOUNT` names the component in the field;
/// `CRMT_INPUT_ERROR` for a component the catalogue lacks.
///
/// # Safety
/// As `crmt_evaluate_total_fen`; `components` points to `count` entries whose strings are
/// NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_evaluate_averages(
    book: *const crmt_rulebook,
    customer: *const crmt_customer,
    state: *mut crmt_state,
    month: i32,
    components: *const crmt_component_amount,
    count: usize,
    out: *mut *mut crmt_outcome,
) -> crmt_result {
    // SAFETY: forwarded contract.
    unsafe {
        evaluate_with(book, customer, state, month, out, |c| {
            let with = |f: Failure| f.customer(c.id.clone()).month(month);
            let items = slice(components, count, "components", "count").map_err(with)?;
            let mut list = vec_for(items.len(), "components", "count").map_err(with)?;
            for (i, item) in items.iter().enumerate() {
                let code = c_str(item.component, &format!("components[{i}].component")).map_err(with)?;
                let text = c_str(item.amount, code).map_err(with)?;
                let amount = parse_amount(text).map_err(|_| amount_failure(&c.id, month, code, text))?;
                list.push(ComponentAmount { component: code.into(), amount });
            }
            Ok(MonthInput { aum: AumInput::Averages(list), special: None, measures: Default::default() })
        })
    }
}

/// Evaluates one customer's month from a JSON input record (`len` bytes of UTF-8): the form of
/// the conformance vectors, `{"aum": {"total": "…"} | {"averages": [{"component", "amount"}]} |
/// {"day_sums": […]} | {"daily": [{"component", "balances": ["1.00", null, …]}]}, "special":
/// {"action": "grant", "tier"?, "months"?} | {"action": "revoke"}}`. Amounts are JSON strings.
/// Otherwise as `crmt_evaluate_total_fen`.
///
/// # Errors
/// As `crmt_evaluate_total_fen`; `CRMT_INPUT_ERROR` (field `input`) for JSON that is not an
/// input record.
///
/// # Safety
/// As `crmt_evaluate_total_fen`; `input` is readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_evaluate_json(
    book: *const crmt_rulebook,
    customer: *const crmt_customer,
    state: *mut crmt_state,
    month: i32,
    input: *const u8,
    len: usize,
    out: *mut *mut crmt_outcome,
) -> crmt_result {
    // SAFETY: forwarded contract.
    unsafe {
        evaluate_with(book, customer, state, month, out, |c| {
            let with = |f: Failure| f.customer(c.id.clone()).month(month);
            let text = utf8(bytes(input, len, "input", "len").map_err(with)?, "input").map_err(with)?;
            serde_json::from_str::<MonthInput>(text).map_err(|e| {
                Failure::new(
                    crmt_result::CRMT_INPUT_ERROR,
                    format!("invalid input for customer `{}`, field `input`: {e}", c.id),
                )
                .customer(c.id.clone())
                .month(month)
                .field("input")
            })
        })
    }
}

/// The outcome's AUM in fen (the month's AUM is rounded to the fen); `CRMT_NO_AMOUNT` when
/// `outcome` is NULL.
///
/// # Safety
/// `outcome` is NULL or live. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_outcome_aum_fen(outcome: *const crmt_outcome) -> i64 {
    // SAFETY: per the contract.
    unsafe { read_value(outcome, "outcome", crate::CRMT_NO_AMOUNT, |o| fen(o.outcome.aum)) }
}

/// Writes the outcome's AUM as a decimal string (`"523400.50"`); buffer rules as
/// `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `outcome` is live; `buf` is NULL or writable for `len` bytes; `written` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_outcome_aum(
    outcome: *const crmt_outcome,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let o = unsafe { handle(outcome, "outcome") }?;
        let text = o.outcome.aum.to_string();
        // SAFETY: per the contract.
        unsafe { write_text(&text, buf, len, written) }
    })
}

/// The outcome's events as an array of `*count` plain structs, owned by the outcome (valid
/// until `crmt_outcome_free`); NULL and 0 when `outcome` is NULL or not a live handle
/// (then recorded in the error details).
///
/// # Safety
/// `outcome` is NULL or live; `count` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_outcome_events(outcome: *const crmt_outcome, count: *mut usize) -> *const crmt_event {
    // SAFETY: per the contract.
    unsafe { read_array(outcome, "outcome", count, |o| &o.events) }
}

/// The outcome's alerts as an array of `*count` plain structs, owned by the outcome.
///
/// # Safety
/// `outcome` is NULL or live; `count` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_outcome_alerts(outcome: *const crmt_outcome, count: *mut usize) -> *const crmt_alert {
    // SAFETY: per the contract.
    unsafe { read_array(outcome, "outcome", count, |o| &o.alerts) }
}

/// The new state, borrowed from the outcome (valid until `crmt_outcome_free`; copy it with
/// `crmt_state_clone` to keep it); NULL when `outcome` is NULL or not a live handle
/// (then recorded in the error details).
///
/// # Safety
/// `outcome` is NULL or live. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_outcome_state(outcome: *const crmt_outcome) -> *const crmt_state {
    // SAFETY: per the contract.
    unsafe { read_value(outcome, "outcome", std::ptr::null(), |o| &o.state as *const crmt_state) }
}

/// The outcome as JSON, `{"aum", "state", "events", "alerts"}` (and `"history"` under a rule
/// book with windows), exactly the values of the
/// conformance vectors' `expected`, in a new buffer released with `crmt_buffer_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `outcome` is live; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_outcome_to_json(outcome: *const crmt_outcome, out: *mut *mut crmt_buffer) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let o = unsafe { handle(outcome, "outcome") }?;
        let value = o.outcome.to_json_value();
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_buffer::new(value.to_string().into_bytes()), "out") }
    })
}

/// Frees an outcome. NULL is ignored. A pointer that is not a live `crmt_outcome` (freed already,
/// another kind of handle) is refused: nothing is freed, and the thread's error details say why
/// (`CRMT_INVALID_ARGUMENT`, field `outcome`). Otherwise keeps the error details, so a caller may
/// free its handles before reading why a call failed.
///
/// # Safety
/// No other thread uses `outcome` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_outcome_free(outcome: *mut crmt_outcome) {
    crate::boundary::guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(outcome, "outcome") }
    });
}
