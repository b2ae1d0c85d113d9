//! One customer's month: inputs, the outcome handle, and the plain event and alert structs.

use std::ffi::{CString, c_char, c_int};
use std::sync::OnceLock;

use crm_tiering::{
    Alert, AlertKind, AumInput, ComponentAmount, Customer, CustomerKind, Event, EventKind, Month, MonthInput,
    MonthOutcome, Reason, from_fen, parse_amount,
};

use crate::CRMT_CODE_SIZE;
use crate::error::{Failure, crmt_result};
use crate::ffi::{
    arg, arg_mut, bytes, c_str, c_str_opt, code_field, crmt_buffer, fen, fen_opt, free_box, guard, put_box, slice,
    utf8, write_str,
};
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

/// What happened to a customer's standing (codes: `crmt_event_kind_code`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_event_kind {
    /// entered (纳入).
    CRMT_EVENT_ENTERED = 0,
    /// upgraded (升级).
    CRMT_EVENT_UPGRADED = 1,
    /// watch_started (进入关注).
    CRMT_EVENT_WATCH_STARTED = 2,
    /// watch_cleared (解除关注).
    CRMT_EVENT_WATCH_CLEARED = 3,
    /// downgraded (降级).
    CRMT_EVENT_DOWNGRADED = 4,
    /// exited_to_retention (退出, 已退未评级).
    CRMT_EVENT_EXITED_TO_RETENTION = 5,
    /// re_entered (重新评级).
    CRMT_EVENT_RE_ENTERED = 6,
    /// fully_exited (完全退出).
    CRMT_EVENT_FULLY_EXITED = 7,
    /// special_granted (特殊VIP认定).
    CRMT_EVENT_SPECIAL_GRANTED = 8,
    /// special_expired (特殊VIP到期).
    CRMT_EVENT_SPECIAL_EXPIRED = 9,
    /// special_revoked (特殊VIP撤销).
    CRMT_EVENT_SPECIAL_REVOKED = 10,
}

/// Why an event happened (codes: `crmt_reason_code`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_reason {
    /// met_tier_minimum.
    CRMT_REASON_MET_TIER_MINIMUM = 0,
    /// short_of_tier.
    CRMT_REASON_SHORT_OF_TIER = 1,
    /// highest_in_window.
    CRMT_REASON_HIGHEST_IN_WINDOW = 2,
    /// last_month.
    CRMT_REASON_LAST_MONTH = 3,
    /// one_down.
    CRMT_REASON_ONE_DOWN = 4,
    /// lowest_tier_floor.
    CRMT_REASON_LOWEST_TIER_FLOOR = 5,
    /// below_entry_run.
    CRMT_REASON_BELOW_ENTRY_RUN = 6,
    /// retention_ended.
    CRMT_REASON_RETENTION_ENDED = 7,
    /// designated.
    CRMT_REASON_DESIGNATED = 8,
    /// validity_ended.
    CRMT_REASON_VALIDITY_ENDED = 9,
    /// revoked.
    CRMT_REASON_REVOKED = 10,
    /// no_lower_tier.
    CRMT_REASON_NO_LOWER_TIER = 11,
}

/// What an account manager is told about (codes: `crmt_alert_kind_code`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_alert_kind {
    /// watch_active (关注中).
    CRMT_ALERT_WATCH_ACTIVE = 0,
    /// exit_risk (退出风险).
    CRMT_ALERT_EXIT_RISK = 1,
    /// in_retention (已退未评级).
    CRMT_ALERT_IN_RETENTION = 2,
    /// special_expiring (特殊VIP即将到期).
    CRMT_ALERT_SPECIAL_EXPIRING = 3,
    /// upgrade_opportunity (临界升级).
    CRMT_ALERT_UPGRADE_OPPORTUNITY = 4,
    /// potential_vip (潜在VIP).
    CRMT_ALERT_POTENTIAL_VIP = 5,
    /// downgrade_risk (临界降级).
    CRMT_ALERT_DOWNGRADE_RISK = 6,
}

/// An event as a plain struct. Codes are NUL-terminated (empty when none), months are
/// `year * 100 + month` (0 when none), amounts are fen (`CRMT_NO_AMOUNT` when none).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_event {
    /// Index of the customer in the batch (0 for a single evaluation).
    pub customer_index: u32,
    /// What happened.
    pub kind: crmt_event_kind,
    /// The rule that decided it.
    pub reason: crmt_reason,
    /// The evaluated month.
    pub month: i32,
    /// The month it takes effect.
    pub effective_from: i32,
    /// The tier before.
    pub from_tier: [c_char; CRMT_CODE_SIZE],
    /// The tier after.
    pub to_tier: [c_char; CRMT_CODE_SIZE],
    /// The month's AUM.
    pub aum_fen: i64,
    /// The threshold compared with.
    pub threshold_fen: i64,
    /// First month of the deciding window (watch, run below entry, designation).
    pub window_from: i32,
    /// Months in that window, 0 when none.
    pub window_months: u32,
    /// Highest AUM in that window.
    pub peak_aum_fen: i64,
}

/// An alert as a plain struct; conventions as `crmt_event`; counts are -1 when none.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_alert {
    /// Index of the customer in the batch (0 for a single evaluation).
    pub customer_index: u32,
    /// What it is about.
    pub kind: crmt_alert_kind,
    /// The evaluated month.
    pub month: i32,
    /// The tier concerned.
    pub tier: [c_char; CRMT_CODE_SIZE],
    /// Months counted so far (watch months, months below entry), -1 when none.
    pub months_counted: i32,
    /// Months left before the watch, exit, retention or designation ends, -1 when none.
    pub months_left: i32,
    /// The month's AUM.
    pub aum_fen: i64,
    /// The threshold concerned.
    pub threshold_fen: i64,
    /// Distance to the threshold.
    pub gap_fen: i64,
}

#[inline]
fn month_int(m: Month) -> i32 {
    i32::try_from(m.yyyymm()).unwrap_or(0)
}

#[inline]
fn count(n: Option<u32>) -> i32 {
    n.map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX))
}

#[inline]
fn event_kind(k: EventKind) -> crmt_event_kind {
    use crmt_event_kind::*;
    match k {
        EventKind::Entered => CRMT_EVENT_ENTERED,
        EventKind::Upgraded => CRMT_EVENT_UPGRADED,
        EventKind::WatchStarted => CRMT_EVENT_WATCH_STARTED,
        EventKind::WatchCleared => CRMT_EVENT_WATCH_CLEARED,
        EventKind::Downgraded => CRMT_EVENT_DOWNGRADED,
        EventKind::ExitedToRetention => CRMT_EVENT_EXITED_TO_RETENTION,
        EventKind::ReEntered => CRMT_EVENT_RE_ENTERED,
        EventKind::FullyExited => CRMT_EVENT_FULLY_EXITED,
        EventKind::SpecialGranted => CRMT_EVENT_SPECIAL_GRANTED,
        EventKind::SpecialExpired => CRMT_EVENT_SPECIAL_EXPIRED,
        EventKind::SpecialRevoked => CRMT_EVENT_SPECIAL_REVOKED,
    }
}

#[inline]
fn reason(r: Reason) -> crmt_reason {
    use crmt_reason::*;
    match r {
        Reason::MetTierMinimum => CRMT_REASON_MET_TIER_MINIMUM,
        Reason::ShortOfTier => CRMT_REASON_SHORT_OF_TIER,
        Reason::HighestInWindow => CRMT_REASON_HIGHEST_IN_WINDOW,
        Reason::LastMonth => CRMT_REASON_LAST_MONTH,
        Reason::OneDown => CRMT_REASON_ONE_DOWN,
        Reason::LowestTierFloor => CRMT_REASON_LOWEST_TIER_FLOOR,
        Reason::BelowEntryRun => CRMT_REASON_BELOW_ENTRY_RUN,
        Reason::RetentionEnded => CRMT_REASON_RETENTION_ENDED,
        Reason::Designated => CRMT_REASON_DESIGNATED,
        Reason::ValidityEnded => CRMT_REASON_VALIDITY_ENDED,
        Reason::Revoked => CRMT_REASON_REVOKED,
        Reason::NoLowerTier => CRMT_REASON_NO_LOWER_TIER,
    }
}

#[inline]
fn alert_kind(k: AlertKind) -> crmt_alert_kind {
    use crmt_alert_kind::*;
    match k {
        AlertKind::WatchActive => CRMT_ALERT_WATCH_ACTIVE,
        AlertKind::ExitRisk => CRMT_ALERT_EXIT_RISK,
        AlertKind::InRetention => CRMT_ALERT_IN_RETENTION,
        AlertKind::SpecialExpiring => CRMT_ALERT_SPECIAL_EXPIRING,
        AlertKind::UpgradeOpportunity => CRMT_ALERT_UPGRADE_OPPORTUNITY,
        AlertKind::PotentialVip => CRMT_ALERT_POTENTIAL_VIP,
        AlertKind::DowngradeRisk => CRMT_ALERT_DOWNGRADE_RISK,
    }
}

#[inline]
pub(crate) fn event_struct(index: u32, e: &Event) -> crmt_event {
    crmt_event {
        customer_index: index,
        kind: event_kind(e.kind),
        reason: reason(e.reason),
        month: month_int(e.month),
        effective_from: month_int(e.effective_from),
        from_tier: code_field(e.from_tier),
        to_tier: code_field(e.to_tier),
        aum_fen: fen(e.evidence.aum),
        threshold_fen: fen_opt(e.evidence.threshold),
        window_from: e.evidence.window_from.map_or(0, month_int),
        window_months: e.evidence.window_months.unwrap_or(0),
        peak_aum_fen: fen_opt(e.evidence.peak_aum),
    }
}

#[inline]
pub(crate) fn alert_struct(index: u32, a: &Alert) -> crmt_alert {
    crmt_alert {
        customer_index: index,
        kind: alert_kind(a.kind),
        month: month_int(a.month),
        tier: code_field(a.tier),
        months_counted: count(a.months_counted),
        months_left: count(a.months_left),
        aum_fen: fen(a.aum),
        threshold_fen: fen_opt(a.threshold),
        gap_fen: fen_opt(a.gap),
    }
}

/// NUL-terminated copies of an enum's codes or names, made once and indexed by the C value.
/// The C values are the ABI's own (stable whatever order the core declares its variants in).
fn text_table<T: Copy>(
    table: &'static OnceLock<Vec<CString>>,
    all: &[T],
    c_value: impl Fn(T) -> usize,
    text: impl Fn(T) -> &'static str,
    value: c_int,
) -> *const c_char {
    crate::ffi::guard_value(c"".as_ptr(), || {
        let table = table.get_or_init(|| {
            let mut t = vec![CString::default(); all.iter().map(|v| c_value(*v) + 1).max().unwrap_or(0)];
            for v in all {
                t[c_value(*v)] = CString::new(text(*v)).unwrap_or_default();
            }
            t
        });
        usize::try_from(value).ok().and_then(|i| table.get(i)).map_or(c"".as_ptr(), |c| c.as_ptr())
    })
}

/// The stable code of an event kind, such as `"watch_started"`; `""` for an unknown value.
/// Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_event_kind_code(kind: c_int) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    text_table(&T, EventKind::ALL, |k| event_kind(k) as usize, EventKind::as_str, kind)
}

/// The Chinese display name of an event kind, such as `"进入关注"`; `""` for an unknown value.
/// Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_event_kind_name_zh(kind: c_int) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    text_table(&T, EventKind::ALL, |k| event_kind(k) as usize, EventKind::name_zh, kind)
}

/// The stable code of a reason, such as `"highest_in_window"`; `""` for an unknown value.
/// Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_reason_code(reason_value: c_int) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    text_table(&T, Reason::ALL, |r| reason(r) as usize, Reason::as_str, reason_value)
}

/// The stable code of an alert kind, such as `"exit_risk"`; `""` for an unknown value.
/// Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_alert_kind_code(kind: c_int) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    text_table(&T, AlertKind::ALL, |k| alert_kind(k) as usize, AlertKind::as_str, kind)
}

/// The Chinese display name of an alert kind, such as `"临界升级"`; `""` for an unknown value.
/// Static, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_alert_kind_name_zh(kind: c_int) -> *const c_char {
    static T: OnceLock<Vec<CString>> = OnceLock::new();
    text_table(&T, AlertKind::ALL, |k| alert_kind(k) as usize, AlertKind::name_zh, kind)
}

/// The result of one customer's month. Not synchronized; released with `crmt_outcome_free`.
pub struct crmt_outcome {
    outcome: MonthOutcome,
    state: crmt_state,
    events: Vec<crmt_event>,
    alerts: Vec<crmt_alert>,
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
/// Pointers per the exported functions' contracts.
unsafe fn run(
    book: *const crmt_rulebook,
    customer: &Customer,
    state: *mut crmt_state,
    month: Month,
    input: &MonthInput,
    out: *mut *mut crmt_outcome,
) -> Result<(), Failure> {
    // SAFETY: per the contract.
    let book = unsafe { arg(book, "book") }?;
    // SAFETY: per the contract.
    let state = unsafe { arg_mut(state, "state") }?;
    let outcome = book.engine.evaluate(customer, &state.state, month, input)?;
    state.state = outcome.state;
    if !out.is_null() {
        let events = outcome.events.iter().map(|e| event_struct(0, e)).collect();
        let alerts = outcome.alerts.iter().map(|a| alert_struct(0, a)).collect();
        let value = crmt_outcome { state: crmt_state { state: outcome.state }, outcome, events, alerts };
        // SAFETY: per the contract.
        unsafe { put_box(out, value, "out") }?;
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
            let items = slice(components, count, "components").map_err(with)?;
            let mut list = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let code = c_str(item.component, &format!("components[{i}].component")).map_err(with)?;
                let text = c_str(item.amount, code).map_err(with)?;
                let amount = parse_amount(text).map_err(|_| amount_failure(&c.id, month, code, text))?;
                list.push(ComponentAmount { component: code.to_string(), amount });
            }
            Ok(MonthInput { aum: AumInput::Averages(list), special: None })
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
            let text = utf8(bytes(input, len, "input").map_err(with)?, "input").map_err(with)?;
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
    unsafe { outcome.as_ref() }.map_or(crate::CRMT_NO_AMOUNT, |o| fen(o.outcome.aum))
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
        let o = unsafe { arg(outcome, "outcome") }?;
        let text = o.outcome.aum.to_string();
        // SAFETY: per the contract.
        match unsafe { write_str(&text, buf, len, written) } {
            crmt_result::CRMT_OK => Ok(()),
            code => {
                Err(Failure::new(code, format!("the buffer of {len} bytes cannot hold {} bytes and a NUL", text.len())))
            }
        }
    })
}

/// The outcome's events as an array of `*count` plain structs, owned by the outcome (valid
/// until `crmt_outcome_free`); NULL and 0 when `outcome` is NULL.
///
/// # Safety
/// `outcome` is NULL or live; `count` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_outcome_events(outcome: *const crmt_outcome, count: *mut usize) -> *const crmt_event {
    // SAFETY: per the contract.
    let (p, n) = unsafe { outcome.as_ref() }.map_or((std::ptr::null(), 0), |o| (o.events.as_ptr(), o.events.len()));
    if !count.is_null() {
        // SAFETY: per the contract.
        unsafe { count.write(n) };
    }
    p
}

/// The outcome's alerts as an array of `*count` plain structs, owned by the outcome.
///
/// # Safety
/// `outcome` is NULL or live; `count` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_outcome_alerts(outcome: *const crmt_outcome, count: *mut usize) -> *const crmt_alert {
    // SAFETY: per the contract.
    let (p, n) = unsafe { outcome.as_ref() }.map_or((std::ptr::null(), 0), |o| (o.alerts.as_ptr(), o.alerts.len()));
    if !count.is_null() {
        // SAFETY: per the contract.
        unsafe { count.write(n) };
    }
    p
}

/// The new state, borrowed from the outcome (valid until `crmt_outcome_free`; copy it with
/// `crmt_state_clone` to keep it); NULL when `outcome` is NULL.
///
/// # Safety
/// `outcome` is NULL or live. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_outcome_state(outcome: *const crmt_outcome) -> *const crmt_state {
    // SAFETY: per the contract.
    unsafe { outcome.as_ref() }.map_or(std::ptr::null(), |o| &o.state as *const crmt_state)
}

/// The outcome as JSON, `{"aum", "state", "events", "alerts"}`, exactly the values of the
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
        let o = unsafe { arg(outcome, "outcome") }?;
        let value = serde_json::json!({
            "aum": o.outcome.aum.to_string(),
            "state": o.outcome.state,
            "events": o.outcome.events,
            "alerts": o.outcome.alerts,
        });
        // SAFETY: per the contract.
        unsafe { put_box(out, crmt_buffer::new(value.to_string().into_bytes()), "out") }
    })
}

/// Frees an outcome. NULL is ignored.
///
/// # Safety
/// `outcome` is NULL or an outcome from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_outcome_free(outcome: *mut crmt_outcome) {
    let _ = guard(|| {
        // SAFETY: per the contract.
        unsafe { free_box(outcome) };
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_a_distinct_c_value_and_code() {
        let mut seen = std::collections::HashSet::new();
        for k in EventKind::ALL {
            assert!(seen.insert(event_kind(*k) as usize), "{k}");
            // SAFETY: the functions return static NUL-terminated strings.
            let code = unsafe { std::ffi::CStr::from_ptr(crmt_event_kind_code(event_kind(*k) as c_int)) };
            assert_eq!(code.to_str().unwrap(), k.as_str());
        }
        seen.clear();
        for r in Reason::ALL {
            assert!(seen.insert(reason(*r) as usize), "{r}");
            // SAFETY: the functions return static NUL-terminated strings.
            let code = unsafe { std::ffi::CStr::from_ptr(crmt_reason_code(reason(*r) as c_int)) };
            assert_eq!(code.to_str().unwrap(), r.as_str());
        }
        seen.clear();
        for k in AlertKind::ALL {
            assert!(seen.insert(alert_kind(*k) as usize), "{k}");
            // SAFETY: the functions return static NUL-terminated strings.
            let code = unsafe { std::ffi::CStr::from_ptr(crmt_alert_kind_code(alert_kind(*k) as c_int)) };
            assert_eq!(code.to_str().unwrap(), k.as_str());
        }
    }
}
