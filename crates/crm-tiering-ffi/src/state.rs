//! Customer states: one (`crmt_state`) or a portfolio's (`crmt_states`), to and from bytes.

use std::ffi::c_char;

use crm_tiering::{CustomerRef, CustomerState, Histories, History, Status};

use crate::CRMT_CODE_SIZE;
use crate::args::{bytes, put, utf8, vec_for};
use crate::boundary::guard;
use crate::buffer::crmt_buffer;
use crate::code::crmt_result;
use crate::convert::code_field;
use crate::details::Failure;
use crate::handle::{Handle, Kind, free_handle, handle, handle_mut, put_handle, read_value};

/// One customer's state between monthly evaluations, with the history its rule book's
/// windows read (SPEC §19.5; empty for a book without windows). Not synchronized.
pub struct crmt_state {
    pub(crate) state: CustomerState,
    pub(crate) history: History,
}

/// The states of a batch's customers, for `crmt_evaluate_batch`: made new
/// (`crmt_states_new`) and **bound to the ordered ids of the first batch** it is used with;
/// a later batch whose ids differ in any position (order, count, an id) is refused, so states
/// are never matched to customers by position silently. It cannot be stored or loaded: stored
/// states are keyed by id in a `crmt_portfolio`. Not synchronized.
pub struct crmt_states {
    pub(crate) states: Vec<CustomerState>,
    /// The customers' histories under a rule book with windows (SPEC §19.5), beside `states`.
    pub(crate) histories: Histories,
    /// The ids of the first batch (concatenated, and their ends), once bound.
    pub(crate) bound: Option<(Vec<u8>, Vec<usize>)>,
    /// The borrowed identities of the last batch over these states, emptied: memory the next
    /// month's batch reuses.
    pub(crate) scratch: Vec<CustomerRef<'static>>,
}

// `crmt_state`'s `Handle` impl is in `evaluate`, beside the outcome that lends one.

impl Handle for crmt_states {
    const KIND: Kind = Kind::States;
}

impl crmt_states {
    fn new(states: Vec<CustomerState>) -> Self {
        crmt_states { states, histories: Histories::new(), bound: None, scratch: Default::default() }
    }
}

/// Where a customer stands in VIP management.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum crmt_status {
    /// 未纳入: not in VIP management.
    CRMT_STATUS_NOT_ENROLLED = 0,
    /// 已评级: rated at a tier.
    CRMT_STATUS_RATED = 1,
    /// 已退未评级: exited, in retention.
    CRMT_STATUS_RETAINED = 2,
}

/// A state's figures, for display and checks. Codes are NUL-terminated, empty when none;
/// months are `year * 100 + month`, 0 when none.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_state_info {
    /// Status.
    pub status: crmt_status,
    /// The earned tier (current when rated, last when retained).
    pub tier: [c_char; CRMT_CODE_SIZE],
    /// The effective tier (earned or special VIP, whichever is higher).
    pub effective_tier: [c_char; CRMT_CODE_SIZE],
    /// The last evaluated month; the state is effective for the month after it.
    pub last_month: i32,
    /// Consecutive months of the downgrade watch (关注), 0 when none.
    pub watch_months: u32,
    /// Consecutive months below the entry threshold while rated, 0 when none.
    pub below_entry_months: u32,
    /// Months of retention left.
    pub retention_months_left: u32,
    /// The special VIP tier, empty when none.
    pub special_tier: [c_char; CRMT_CODE_SIZE],
    /// The last month of the special VIP designation, 0 when none.
    pub special_last_month: i32,
    /// Highest AUM of the watch in fen, `CRMT_NO_AMOUNT` when none.
    pub watch_peak_aum_fen: i64,
}

fn yyyymm(m: Option<crm_tiering::Month>) -> i32 {
    m.map_or(0, |m| i32::try_from(m.yyyymm()).unwrap_or(0))
}

pub(crate) fn info(s: &CustomerState) -> crmt_state_info {
    crmt_state_info {
        status: match s.status {
            Status::NotEnrolled => crmt_status::CRMT_STATUS_NOT_ENROLLED,
            Status::Rated => crmt_status::CRMT_STATUS_RATED,
            Status::Retained => crmt_status::CRMT_STATUS_RETAINED,
        },
        tier: code_field(s.tier),
        effective_tier: code_field(s.effective_tier),
        last_month: yyyymm(s.last_month),
        watch_months: s.watch_months(),
        below_entry_months: s.below_entry_months(),
        retention_months_left: u32::from(s.retention_months_left),
        special_tier: code_field(s.special.map(|sp| sp.tier)),
        special_last_month: yyyymm(s.special.map(|sp| sp.last_month)),
        watch_peak_aum_fen: s.watch.map_or(crate::CRMT_NO_AMOUNT, |w| w.peak_aum_fen),
    }
}

/// Reads a state from its serialized bytes; empty bytes are a new customer's state.
pub(crate) fn parse_state(data: &[u8], name: &str) -> Result<crmt_state, Failure> {
    if data.iter().all(u8::is_ascii_whitespace) {
        return Ok(crmt_state { state: CustomerState::default(), history: History::new() });
    }
    let text = utf8(data, name)?;
    let (state, history) = CustomerState::from_json_with_history(text).map_err(|e| Failure::from(e).field(name))?;
    Ok(crmt_state { state, history })
}

/// A new customer's state: not enrolled, never evaluated. Released with `crmt_state_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_state_new(out: *mut *mut crmt_state) -> crmt_result {
    // SAFETY: per the contract.
    guard(|| unsafe { put_handle(out, crmt_state { state: CustomerState::default(), history: History::new() }, "out") })
}

/// Reads a state written by `crmt_state_to_bytes` (versioned JSON, with the customer's history
/// when its rule book's windows keep one). Zero bytes (or only whitespace) give a new
/// customer's state. Released with `crmt_state_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8`, `CRMT_STATE_ERROR` (malformed, or another schema
/// version).
///
/// # Safety
/// `data` is readable for `len` bytes; `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_state_from_bytes(data: *const u8, len: usize, out: *mut *mut crmt_state) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let state = parse_state(unsafe { bytes(data, len, "data", "len") }?, "data")?;
        // SAFETY: per the contract.
        unsafe { put_handle(out, state, "out") }
    })
}

/// Serializes a state (versioned JSON, one line, UTF-8; a `history` member carries the months a
/// rule book's windows read, SPEC §19.5) into a new buffer the caller stores in its own
/// database and releases with `crmt_buffer_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `state` is a live state; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_state_to_bytes(state: *const crmt_state, out: *mut *mut crmt_buffer) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let s = unsafe { handle(state, "state") }?;
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_buffer::new(s.state.to_json_with_history(&s.history).into_bytes()), "out") }
    })
}

/// A copy of a state, released with `crmt_state_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `state` is a live state; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_state_clone(state: *const crmt_state, out: *mut *mut crmt_state) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let s = unsafe { handle(state, "state") }?;
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_state { state: s.state, history: s.history.clone() }, "out") }
    })
}

/// Fills `*out` with the state's figures.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `state` is a live state; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_state_get_info(state: *const crmt_state, out: *mut crmt_state_info) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let s = unsafe { handle(state, "state") }?;
        // SAFETY: per the contract.
        unsafe { put(out, info(&s.state), "out") }
    })
}

/// Frees a state. NULL is ignored. The state an outcome lends (`crmt_outcome_state`) is freed with
/// its outcome, never here. A pointer that is not a live `crmt_state` (freed already, another kind
/// of handle) is refused: nothing is freed, and the thread's error details say why
/// (`CRMT_INVALID_ARGUMENT`, field `state`). Otherwise keeps the error details, so a caller may
/// free its handles before reading why a call failed.
///
/// # Safety
/// No other thread uses `state` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_state_free(state: *mut crmt_state) {
    crate::boundary::guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(state, "state") }
    });
}

/// `count` new customers' states, for a batch (bound to the ids of the first batch it is used
/// with). Released with `crmt_states_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`; `CRMT_INVALID_ARGUMENT` when `count` states cannot be allocated.
///
/// # Safety
/// `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_states_new(count: usize, out: *mut *mut crmt_states) -> crmt_result {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let mut states = vec_for(count, "states", "count")?;
        states.resize(count, CustomerState::default());
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_states::new(states), "out") }
    })
}

/// The number of states; 0 when `states` is NULL or not a live handle
/// (then recorded in the error details).
///
/// # Safety
/// `states` is NULL or live. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_states_len(states: *const crmt_states) -> usize {
    // SAFETY: per the contract.
    unsafe { read_value(states, "states", 0, |s| s.states.len()) }
}

fn at(s: &mut crmt_states, index: usize) -> Result<&mut CustomerState, Failure> {
    let len = s.states.len();
    s.states.get_mut(index).ok_or_else(|| {
        Failure::new(crmt_result::CRMT_INDEX_OUT_OF_RANGE, format!("index {index} is past the end ({len} states)"))
            .field("index")
    })
}

/// Serializes state `index` (as `crmt_state_to_bytes`, with its history under a rule book with
/// windows) into a new buffer released with `crmt_buffer_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
/// `states` is live; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_states_get_bytes(
    states: *mut crmt_states,
    index: usize,
    out: *mut *mut crmt_buffer,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let s = unsafe { handle_mut(states, "states") }?;
        let state = *at(s, index)?;
        let json = state.to_json_with_history(&s.histories.get(index));
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_buffer::new(json.into_bytes()), "out") }
    })
}

/// Fills `*out` with the figures of state `index`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
/// `states` is live; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_states_get_info(
    states: *mut crmt_states,
    index: usize,
    out: *mut crmt_state_info,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let s = unsafe { handle_mut(states, "states") }?;
        let i = info(at(s, index)?);
        // SAFETY: per the contract.
        unsafe { put(out, i, "out") }
    })
}

/// Frees a portfolio's states. NULL is ignored. A pointer that is not a live `crmt_states` (freed
/// already, another kind of handle) is refused: nothing is freed, and the thread's error details
/// say why (`CRMT_INVALID_ARGUMENT`, field `states`). Otherwise keeps the error details, so a
/// caller may free its handles before reading why a call failed.
///
/// # Safety
/// No other thread uses `states` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_states_free(states: *mut crmt_states) {
    crate::boundary::guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(states, "states") }
    });
}
