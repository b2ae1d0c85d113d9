//! The portfolio month (SPEC §15) over the C ABI: states keyed by customer id
//! (`crmt_portfolio`), a month's records (`crmt_extract`, from text cells under a resolved
//! header `crmt_columns` or typed values), and the evaluation of a declared month or range
//! (`crmt_evaluate_portfolio`) into a reusable result handle (`crmt_portfolio_result`).
//!
//! Every rule of the meeting of an extract with stored states (matching by id, duplicates,
//! records outside the declared month, bad records holding their customer back, absent
//! customers, integrity of the stored text) is the core's (`crm_tiering::portfolio`); this module
//! only converts at the boundary and reports the core's errors as they are.

use std::ffi::{CString, c_char};

use crm_tiering::portfolio::{
    Absent, Columns, Extract, MonthRange, PortfolioOptions, PortfolioSink, PortfolioStates, RecordError,
    RuleBookChange, TableKind,
};
use crm_tiering::{
    Alert, AumInput, Customer, CustomerKind, CustomerState, Decimal, Event, Month, SpecialChange, TierCode,
    TieringError, from_fen,
};

use crate::error::{Failure, crmt_result};
use crate::evaluate::{
    CRMT_KIND_CORPORATE, CRMT_KIND_PERSONAL, alert_struct, crmt_alert, crmt_event, event_struct, parse_month,
};
use crate::ffi::{arg, arg_mut, bytes, c_str, c_str_opt, crmt_buffer, fen, free_box, guard, put, put_box, write_str};
use crate::rulebook::crmt_rulebook;
use crate::state::{crmt_state_info, info, parse_state};

/// `kind` of a typed record: keep the stored customer kind (a new customer is personal).
pub const CRMT_KIND_KEEP: u32 = 0xFFFF_FFFF;

/// An AUM table: one row per customer and month, with `aum` or component averages.
pub const CRMT_TABLE_AUM: u32 = 0;
/// A daily balances table: one row per customer, component and day.
pub const CRMT_TABLE_DAILY: u32 = 1;
/// A designations table: special VIP grant (认定) or revoke (撤销) per customer and month.
pub const CRMT_TABLE_DESIGNATIONS: u32 = 2;

/// Absent customers (known, no record in a month) are evaluated at zero AUM (the default).
pub const CRMT_ABSENT_ZERO: u32 = 0;
/// Absent customers are not evaluated: their state is kept as it is.
pub const CRMT_ABSENT_HOLD: u32 = 1;
/// Absent customers are errors: each is held back and reported.
pub const CRMT_ABSENT_ERROR: u32 = 2;

/// A portfolio's stored states, keyed by customer id: each customer's id, legal entity, kind and
/// state, in a stable order (stored customers first, new customers appended in record order),
/// and the fingerprint of the rule book that last wrote them. Customer indices never change
/// (customers are only appended). Not synchronized; released with `crmt_portfolio_free`.
pub struct crmt_portfolio {
    pub(crate) states: PortfolioStates,
}

/// The columns of an input table: its header resolved against a rule book, each role and
/// component named once. Immutable once made; released with `crmt_columns_free`.
pub struct crmt_columns {
    columns: Columns,
}

/// A month's (or a range's) records: AUM rows, daily balances and designations, each checked
/// and located by table and row. Bad records are kept and reported by the evaluation. Not
/// synchronized; released with `crmt_extract_free`.
pub struct crmt_extract {
    extract: Extract,
}

/// Options of `crmt_evaluate_portfolio`. NULL options mean `{CRMT_ABSENT_ZERO, false, 1}`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_portfolio_options {
    /// `CRMT_ABSENT_ZERO`, `CRMT_ABSENT_HOLD` or `CRMT_ABSENT_ERROR`.
    pub absent: u32,
    /// Evaluate states written under another rule book (the caller has mapped retired tiers);
    /// false refuses them (the run fails with a state error on field `rule_book`).
    pub accept_rule_book_change: bool,
    /// Worker threads: 0 or 1 on the calling thread, at most `CRMT_MAX_THREADS`; the results are
    /// the same for any number.
    pub threads: usize,
}

/// A stored customer: its index in the portfolio, its kind and its state's figures. The id and
/// legal entity are read with `crmt_portfolio_customer_id` / `_legal_entity`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_portfolio_entry {
    /// The customer's index in the portfolio (stable).
    pub index: usize,
    /// `CRMT_KIND_PERSONAL` or `CRMT_KIND_CORPORATE`.
    pub kind: u32,
    /// The state: status, tier, effective tier, last month and the rest.
    pub state: crmt_state_info,
}

/// A customer evaluated in a month of a portfolio run.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_portfolio_evaluated {
    /// The evaluated month (`year * 100 + month`).
    pub month: i32,
    /// The customer's index in the portfolio.
    pub customer_index: u32,
    /// The month's AUM in fen.
    pub aum_fen: i64,
    /// Whether the customer had a record (false: absent, evaluated at zero AUM).
    pub has_record: bool,
}

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
struct ErrorText {
    _strings: Vec<CString>,
}

/// The result of `crmt_evaluate_portfolio`: events, alerts, evaluated customers and errors of
/// every month of the run, as flat arrays of plain structs in order (month by month, customer
/// by customer). Not synchronized; released with `crmt_portfolio_result_free`; reused (emptied)
/// by the next `crmt_evaluate_portfolio` it is passed to.
#[derive(Default)]
pub struct crmt_portfolio_result {
    months: Vec<i32>,
    events: Vec<crmt_event>,
    alerts: Vec<crmt_alert>,
    evaluated: Vec<crmt_portfolio_evaluated>,
    errors: Vec<crmt_record_error>,
    texts: Vec<ErrorText>,
    refused: bool,
    /// The core's values, for `crmt_portfolio_result_to_json`.
    json_events: Vec<(i32, usize, Event)>,
    json_alerts: Vec<(i32, usize, Alert)>,
    json_evaluated: Vec<Decimal>,
    json_errors: Vec<RecordError>,
}

impl crmt_portfolio_result {
    fn clear(&mut self) {
        self.months.clear();
        self.events.clear();
        self.alerts.clear();
        self.evaluated.clear();
        self.errors.clear();
        self.texts.clear();
        self.refused = false;
        self.json_events.clear();
        self.json_alerts.clear();
        self.json_evaluated.clear();
        self.json_errors.clear();
    }

    fn push_error(&mut self, reported: i32, index: Option<usize>, e: &RecordError) {
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
        self.errors.push(error);
        self.texts.push(ErrorText { _strings: strings });
        self.json_errors.push(e.clone());
    }
}

fn yyyymm(m: Option<Month>) -> i32 {
    m.map_or(0, |m| i32::try_from(m.yyyymm()).unwrap_or(0))
}

fn category_code(e: &TieringError) -> crmt_result {
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

struct Sink<'a> {
    out: &'a mut crmt_portfolio_result,
}

impl PortfolioSink for Sink<'_> {
    fn begin_month(&mut self, month: Month) {
        self.out.months.push(yyyymm(Some(month)));
    }

    fn event(&mut self, month: Month, index: usize, _customer: &Customer, event: &Event) {
        let index32 = u32::try_from(index).unwrap_or(u32::MAX);
        self.out.events.push(event_struct(index32, event));
        self.out.json_events.push((yyyymm(Some(month)), index, *event));
    }

    fn alert(&mut self, month: Month, index: usize, _customer: &Customer, alert: &Alert) {
        let index32 = u32::try_from(index).unwrap_or(u32::MAX);
        self.out.alerts.push(alert_struct(index32, alert));
        self.out.json_alerts.push((yyyymm(Some(month)), index, *alert));
    }

    fn evaluated(
        &mut self,
        month: Month,
        index: usize,
        _customer: &Customer,
        aum: Decimal,
        has_record: bool,
        _state: &CustomerState,
    ) {
        self.out.evaluated.push(crmt_portfolio_evaluated {
            month: yyyymm(Some(month)),
            customer_index: u32::try_from(index).unwrap_or(u32::MAX),
            aum_fen: fen(aum),
            has_record,
        });
        self.out.json_evaluated.push(aum);
    }

    fn held(&mut self, month: Month, index: Option<usize>, error: &RecordError) {
        self.out.push_error(yyyymm(Some(month)), index, error);
    }
}

// ---------------------------------------------------------------------------------------------
// crmt_portfolio

fn kind_code(kind: CustomerKind) -> u32 {
    match kind {
        CustomerKind::Personal => CRMT_KIND_PERSONAL,
        CustomerKind::Corporate => CRMT_KIND_CORPORATE,
    }
}

fn entry(p: &PortfolioStates, index: usize) -> Result<crmt_portfolio_entry, Failure> {
    let (c, s) = p.customers().get(index).zip(p.states().get(index)).ok_or_else(|| {
        Failure::new(
            crmt_result::CRMT_INDEX_OUT_OF_RANGE,
            format!("index {index} is past the end ({} customers)", p.len()),
        )
        .field("index")
    })?;
    Ok(crmt_portfolio_entry { index, kind: kind_code(c.kind), state: info(s) })
}

/// An empty portfolio (no customers, written by no rule book yet). Released with
/// `crmt_portfolio_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_new(out: *mut *mut crmt_portfolio) -> crmt_result {
    // SAFETY: per the contract.
    guard(|| unsafe { put_box(out, crmt_portfolio { states: PortfolioStates::new() }, "out") })
}

/// Reads a portfolio's stored states from the checked text written by `crmt_portfolio_to_text`
/// (a header line, one JSON line per customer with its id, and a trailer with the count and a
/// SHA-256): text cut at any byte (a line end included), altered, or holding an id twice is
/// refused. Released with `crmt_portfolio_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8`, `CRMT_STATE_ERROR` (truncated, altered, a line
/// that is not a state, a duplicate id) or `CRMT_INPUT_ERROR` (an unusable id). The details
/// name the line: `crmt_last_error_record` gives table `states` and the 1-based line, and for
/// a duplicate `crmt_last_error_other_record` the line of the first one.
///
/// # Safety
/// `data` is readable for `len` bytes; `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_from_text(
    data: *const u8,
    len: usize,
    out: *mut *mut crmt_portfolio,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let data = unsafe { bytes(data, len, "data") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let text = crate::ffi::utf8(data, "data")?;
        let states = PortfolioStates::from_jsonl(text, "states")
            .map_err(|e| record_failure(category_code(&e.error), &e, e.to_string()))?;
        // SAFETY: per the contract.
        unsafe { put_box(out, crmt_portfolio { states }, "out") }
    })
}

/// Writes the portfolio as checked text (see `crmt_portfolio_from_text`), stamped with `book`'s
/// fingerprint, into a new buffer released with `crmt_buffer_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `portfolio` and `book` are live; `out` is writable. Not synchronized (`portfolio`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_to_text(
    portfolio: *const crmt_portfolio,
    book: *const crmt_rulebook,
    out: *mut *mut crmt_buffer,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let (p, b) = unsafe { (arg(portfolio, "portfolio")?, arg(book, "book")?) };
        let text = p.states.to_jsonl(b.engine.rule_book());
        // SAFETY: per the contract.
        unsafe { put_box(out, crmt_buffer::new(text.into_bytes()), "out") }
    })
}

/// The number of customers; 0 when `portfolio` is NULL.
///
/// # Safety
/// `portfolio` is NULL or live. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_len(portfolio: *const crmt_portfolio) -> usize {
    // SAFETY: per the contract.
    crate::ffi::guard_value(0, || unsafe { portfolio.as_ref() }.map_or(0, |p| p.states.len()))
}

/// Adds a customer with its stored state (bytes as `crmt_state_to_bytes` writes them; empty for
/// a new customer), as a core system migrating its own store builds a portfolio. `legal_entity`
/// may be NULL or empty (none); `kind` is `CRMT_KIND_PERSONAL` or `CRMT_KIND_CORPORATE`.
/// `*index` (when not NULL) receives the customer's index.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8`, `CRMT_INVALID_ARGUMENT` (kind),
/// `CRMT_INPUT_ERROR` (an unusable id: empty, control characters, leading or trailing spaces,
/// longer than 64 bytes), `CRMT_STATE_ERROR` (a state that cannot be read, or the id is already
/// there). Nothing is added on error.
///
/// # Safety
/// `portfolio` is live; `id` is a NUL-terminated string; `legal_entity` is NULL or one;
/// `state` is readable for `state_len` bytes; `index` is NULL or writable. Not synchronized.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_insert(
    portfolio: *mut crmt_portfolio,
    id: *const c_char,
    legal_entity: *const c_char,
    kind: u32,
    state: *const u8,
    state_len: usize,
    index: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let p = unsafe { arg_mut(portfolio, "portfolio") }?;
        // SAFETY: per the contract.
        let (id, entity) = unsafe { (c_str(id, "id")?, c_str_opt(legal_entity, "legal_entity")?) };
        let kind = crate::evaluate::customer_kind(kind, id)?;
        // SAFETY: per the contract.
        let st = parse_state(unsafe { bytes(state, state_len, "state") }?, "state")?;
        let customer =
            Customer { id: id.to_string(), legal_entity: entity.filter(|e| !e.is_empty()).map(str::to_string), kind };
        let i = p.states.insert(customer, st).map_err(Failure::from)?;
        if !index.is_null() {
            // SAFETY: per the contract.
            unsafe { put(index, i, "index") }?;
        }
        Ok(())
    })
}

/// Finds a customer by id: `*out` receives its index, kind and state.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8`, `CRMT_NOT_FOUND` when the portfolio does not hold
/// the id (`*out` unchanged).
///
/// # Safety
/// `portfolio` is live; `id` is a NUL-terminated string; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_find(
    portfolio: *const crmt_portfolio,
    id: *const c_char,
    out: *mut crmt_portfolio_entry,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let (p, id) = unsafe { (arg(portfolio, "portfolio")?, c_str(id, "id")?) };
        let i = p.states.index_of(id).ok_or_else(|| {
            Failure::new(crmt_result::CRMT_NOT_FOUND, format!("the portfolio holds no customer `{id}`"))
                .customer(id)
                .field("customer_id")
        })?;
        // SAFETY: per the contract.
        unsafe { put(out, entry(&p.states, i)?, "out") }
    })
}

/// The customer at `index` (0 to `crmt_portfolio_len - 1`, in portfolio order): `*out` receives
/// its index, kind and state.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
/// `portfolio` is live; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_entry_at(
    portfolio: *const crmt_portfolio,
    index: usize,
    out: *mut crmt_portfolio_entry,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let p = unsafe { arg(portfolio, "portfolio") }?;
        // SAFETY: per the contract.
        unsafe { put(out, entry(&p.states, index)?, "out") }
    })
}

fn write_at(
    portfolio: *const crmt_portfolio,
    index: usize,
    pick: impl FnOnce(&Customer) -> &str,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: the exported callers' contract.
        let p = unsafe { arg(portfolio, "portfolio") }?;
        let c = p.states.customers().get(index).ok_or_else(|| {
            Failure::new(
                crmt_result::CRMT_INDEX_OUT_OF_RANGE,
                format!("index {index} is past the end ({} customers)", p.states.len()),
            )
            .field("index")
        })?;
        // SAFETY: the exported callers' contract.
        match unsafe { write_str(pick(c), buf, len, written) } {
            crmt_result::CRMT_OK => Ok(()),
            code => Err(Failure::new(code, "the buffer is too small").field("buf")),
        }
    })
}

/// Writes the id of the customer at `index`. Buffer rules as `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `portfolio` is live; `buf` is NULL or writable for `len` bytes; `written` is NULL or
/// writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_customer_id(
    portfolio: *const crmt_portfolio,
    index: usize,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    write_at(portfolio, index, |c| c.id.as_str(), buf, len, written)
}

/// Writes the legal entity of the customer at `index` (empty when none). Buffer rules as
/// `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `crmt_portfolio_customer_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_legal_entity(
    portfolio: *const crmt_portfolio,
    index: usize,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    write_at(portfolio, index, |c| c.legal_entity.as_deref().unwrap_or(""), buf, len, written)
}

/// Serializes the state of the customer at `index` (as `crmt_state_to_bytes`) into a new
/// buffer released with `crmt_buffer_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE`.
///
/// # Safety
/// `portfolio` is live; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_state_bytes(
    portfolio: *const crmt_portfolio,
    index: usize,
    out: *mut *mut crmt_buffer,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let p = unsafe { arg(portfolio, "portfolio") }?;
        entry(&p.states, index)?;
        let json = p.states.states()[index].to_json();
        // SAFETY: per the contract.
        unsafe { put_box(out, crmt_buffer::new(json.into_bytes()), "out") }
    })
}

/// Writes the fingerprint of the rule book that last wrote the states (empty when none has:
/// a new portfolio, or one built with `crmt_portfolio_insert`). Buffer rules as
/// `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `portfolio` is live; `buf` is NULL or writable for `len` bytes; `written` is NULL or
/// writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_rule_book(
    portfolio: *const crmt_portfolio,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let p = unsafe { arg(portfolio, "portfolio") }?;
        // SAFETY: per the contract.
        match unsafe { write_str(p.states.rule_book().unwrap_or(""), buf, len, written) } {
            crmt_result::CRMT_OK => Ok(()),
            code => Err(Failure::new(code, "the buffer is too small").field("buf")),
        }
    })
}

/// Writes the rule book's fingerprint (what stored states are stamped with). Buffer rules as
/// `crmt_error_message`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `book` is live; `buf` is NULL or writable for `len` bytes; `written` is NULL or writable.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_rulebook_fingerprint(
    book: *const crmt_rulebook,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let b = unsafe { arg(book, "book") }?;
        // SAFETY: per the contract.
        match unsafe { write_str(b.engine.rule_book().fingerprint(), buf, len, written) } {
            crmt_result::CRMT_OK => Ok(()),
            code => Err(Failure::new(code, "the buffer is too small").field("buf")),
        }
    })
}

/// Frees a portfolio. NULL is ignored.
///
/// # Safety
/// `portfolio` is NULL or a portfolio from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_free(portfolio: *mut crmt_portfolio) {
    let _ = guard(|| {
        // SAFETY: per the contract.
        unsafe { free_box(portfolio) };
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// crmt_columns and crmt_extract

fn table_kind(kind: u32) -> Result<TableKind, Failure> {
    match kind {
        CRMT_TABLE_AUM => Ok(TableKind::Aum),
        CRMT_TABLE_DAILY => Ok(TableKind::Daily),
        CRMT_TABLE_DESIGNATIONS => Ok(TableKind::Designations),
        other => Err(Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!("table kind {other} is not CRMT_TABLE_AUM, CRMT_TABLE_DAILY or CRMT_TABLE_DESIGNATIONS"),
        )
        .field("kind")),
    }
}

/// Strings of a `(const char *const *, n)` array, each NUL-terminated UTF-8.
///
/// # Safety
/// `p` is NULL (with `n` 0) or readable for `n` pointers to NUL-terminated strings.
unsafe fn strings<'a>(p: *const *const c_char, n: usize, name: &str) -> Result<Vec<&'a str>, Failure> {
    // SAFETY: per the contract.
    let ptrs = unsafe { crate::ffi::slice(p, n, name) }?;
    ptrs.iter()
        .enumerate()
        // SAFETY: per the contract.
        .map(|(i, s)| unsafe { c_str(*s, &format!("{name}[{i}]")) })
        .collect()
}

/// Resolves a table's header against the rule book: role names in English or Chinese
/// (`month`/`月份`, `customer_id`/`客户号`, `legal_entity`, `customer_kind`, `aum`, `date`,
/// `component`, `balance`, `action`, `tier`, `months`), component columns by code or Chinese
/// name (AUM tables). Each role and component is named once. Released with
/// `crmt_columns_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8`, `CRMT_INVALID_ARGUMENT` (kind),
/// `CRMT_INPUT_ERROR` with the column as the field: an unknown column, two columns of one role
/// or component (`time_deposit` and `定期存款`), a missing required column, `aum` together with
/// component columns.
///
/// # Safety
/// `book` is live; `headers` is readable for `count` NUL-terminated strings; `out` is writable.
/// Thread-safe (`book` may be shared).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_columns_resolve(
    book: *const crmt_rulebook,
    kind: u32,
    headers: *const *const c_char,
    count: usize,
    out: *mut *mut crmt_columns,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let b = unsafe { arg(book, "book") }?;
        let kind = table_kind(kind)?;
        // SAFETY: per the contract.
        let headers = unsafe { strings(headers, count, "headers") }?;
        let columns = Columns::resolve(b.engine.rule_book(), kind, &headers).map_err(Failure::from)?;
        // SAFETY: per the contract.
        unsafe { put_box(out, crmt_columns { columns }, "out") }
    })
}

/// The number of columns; 0 when `columns` is NULL.
///
/// # Safety
/// `columns` is NULL or live. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_columns_width(columns: *const crmt_columns) -> usize {
    // SAFETY: per the contract.
    crate::ffi::guard_value(0, || unsafe { columns.as_ref() }.map_or(0, |c| c.columns.width()))
}

/// Frees resolved columns. NULL is ignored.
///
/// # Safety
/// `columns` is NULL or columns from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_columns_free(columns: *mut crmt_columns) {
    let _ = guard(|| {
        // SAFETY: per the contract.
        unsafe { free_box(columns) };
        Ok(())
    });
}

/// An empty extract for a rule book (designation tiers are resolved against its tier codes and
/// names). Evaluate it with the same rule book. Released with `crmt_extract_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `book` is live; `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_extract_new(book: *const crmt_rulebook, out: *mut *mut crmt_extract) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let b = unsafe { arg(book, "book") }?;
        // SAFETY: per the contract.
        unsafe { put_box(out, crmt_extract { extract: Extract::new(b.engine.rule_book()) }, "out") }
    })
}

/// A text argument of a record: `Ok(None)` when it is not UTF-8 (the record is then kept as a
/// rejected record, never dropped).
///
/// # Safety
/// `p` is NULL or NUL-terminated.
unsafe fn record_text<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>, Failure> {
    // SAFETY: per the contract.
    match unsafe { c_str(p, name) } {
        Ok(s) => Ok(Some(s)),
        Err(f) if f.code == crmt_result::CRMT_INVALID_UTF8 => Ok(None),
        Err(f) => Err(f),
    }
}

/// Adds a row of text cells under resolved columns, as read from a CSV extract: `table` names the
/// table (a file name) and `row` the record (a line number or 0-based row) in every error about
/// it. Empty `legal_entity` / `customer_kind` cells (or no such column) keep the stored values;
/// empty component and balance cells mean nothing held.
///
/// A bad record is not a failure of the call: it is kept and reported by the evaluation (its
/// customer held back), or, when its customer cannot be identified (empty or unusable id), it
/// makes the run fail as a whole. A cell that is not UTF-8 makes a bad record of the row.
///
/// # Errors
/// Only when nothing could be recorded: `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8` (`table`).
///
/// # Safety
/// `extract` and `columns` are live; `table` is NUL-terminated; `cells` is readable for `count`
/// NUL-terminated strings. Not synchronized (`extract`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_extract_push_cells(
    extract: *mut crmt_extract,
    table: *const c_char,
    columns: *const crmt_columns,
    row: u64,
    cells: *const *const c_char,
    count: usize,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let (x, table, cols) =
            unsafe { (arg_mut(extract, "extract")?, c_str(table, "table")?, arg(columns, "columns")?) };
        // SAFETY: per the contract.
        let ptrs = unsafe { crate::ffi::slice(cells, count, "cells") }?;
        let mut texts: Vec<&str> = Vec::with_capacity(count);
        let mut bad = None;
        for (i, p) in ptrs.iter().enumerate() {
            // SAFETY: per the contract.
            match unsafe { record_text(*p, "cells") }? {
                Some(s) => texts.push(s),
                None => {
                    bad.get_or_insert(i);
                    texts.push("");
                }
            }
        }
        match bad {
            None => x.extract.push_cells(table, &cols.columns, row, &texts),
            Some(i) => {
                let id_col = cols.columns.column(&crm_tiering::portfolio::ColumnRole::CustomerId);
                let id = id_col.filter(|c| *c != i).and_then(|c| texts.get(c).copied());
                x.extract.reject(table, row, id, None, "record", format!("cell {i} is not valid UTF-8"));
            }
        }
        Ok(())
    })
}

/// Adds a typed AUM record: the month's total AUM in fen for a customer. `legal_entity` NULL or
/// empty keeps the stored one; `kind` `CRMT_KIND_KEEP` keeps the stored kind; `month` 0 means
/// the declared month (a one-month run). Same checks and reporting as
/// `crmt_extract_push_cells`: a bad record (unusable id, month, kind, `CRMT_NO_AMOUNT`) is kept
/// and reported by the evaluation.
///
/// # Errors
/// Only when nothing could be recorded: `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8` (`table`).
///
/// # Safety
/// `extract` is live; `table` and `id` are NUL-terminated; `legal_entity` is NULL or
/// NUL-terminated. Not synchronized.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_extract_push_total_fen(
    extract: *mut crmt_extract,
    table: *const c_char,
    row: u64,
    id: *const c_char,
    legal_entity: *const c_char,
    kind: u32,
    month: i32,
    aum_fen: i64,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let (x, table) = unsafe { (arg_mut(extract, "extract")?, c_str(table, "table")?) };
        // SAFETY: per the contract.
        let Some(id) = unsafe { record_text(id, "id") }? else {
            x.extract.reject(table, row, None, None, "customer_id", "the customer id is not valid UTF-8");
            return Ok(());
        };
        let entity = if legal_entity.is_null() {
            None
        } else {
            // SAFETY: per the contract.
            match unsafe { record_text(legal_entity, "legal_entity") }? {
                Some(e) => Some(e),
                None => {
                    x.extract.reject(table, row, Some(id), None, "legal_entity", "the legal entity is not valid UTF-8");
                    return Ok(());
                }
            }
        };
        let month = match month {
            0 => None,
            m => match parse_month(m) {
                Ok(m) => Some(m),
                Err(f) => {
                    x.extract.reject(table, row, Some(id), None, "month", f.message);
                    return Ok(());
                }
            },
        };
        let kind = match kind {
            CRMT_KIND_KEEP => None,
            k => match crate::evaluate::customer_kind(k, id) {
                Ok(k) => Some(k),
                Err(f) => {
                    x.extract.reject(table, row, Some(id), month, "customer_kind", f.message);
                    return Ok(());
                }
            },
        };
        if aum_fen == crate::CRMT_NO_AMOUNT {
            x.extract.reject(table, row, Some(id), month, "aum", "the AUM is empty (CRMT_NO_AMOUNT)");
            return Ok(());
        }
        x.extract.push_aum(table, row, id, entity, kind, month, AumInput::Total(from_fen(aum_fen)));
        Ok(())
    })
}

/// A designation's id and month, or the record kept as rejected.
///
/// # Safety
/// `id` is NUL-terminated.
unsafe fn designation_key<'a>(
    x: &mut crmt_extract,
    table: &str,
    row: u64,
    id: *const c_char,
    month: i32,
) -> Result<Option<(&'a str, Month)>, Failure> {
    // SAFETY: per the contract.
    let Some(id) = unsafe { record_text(id, "id") }? else {
        x.extract.reject(table, row, None, None, "customer_id", "the customer id is not valid UTF-8");
        return Ok(None);
    };
    match parse_month(month) {
        Ok(m) => Ok(Some((id, m))),
        Err(f) => {
            x.extract.reject(table, row, Some(id), None, "month", f.message);
            Ok(None)
        }
    }
}

/// Adds a special VIP grant (认定) for a customer, applied with the evaluation of `month`
/// (effective from the month after). `tier` NULL or empty: the rule version's
/// `special_vip_default_tier`; `months` 0: its `special_vip_months`. A designation is part of
/// the portfolio month like an AUM record: dated outside the declared month(s), given twice for
/// a customer-month, or naming an unknown tier, it holds its customer back. A designated
/// customer without an AUM record is evaluated at zero AUM.
///
/// # Errors
/// Only when nothing could be recorded: `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8` (`table`).
///
/// # Safety
/// `extract` is live; `table` and `id` are NUL-terminated; `tier` is NULL or NUL-terminated.
/// Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_extract_push_grant(
    extract: *mut crmt_extract,
    table: *const c_char,
    row: u64,
    id: *const c_char,
    month: i32,
    tier: *const c_char,
    months: u32,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let (x, table) = unsafe { (arg_mut(extract, "extract")?, c_str(table, "table")?) };
        // SAFETY: per the contract.
        let Some((id, m)) = unsafe { designation_key(x, table, row, id, month) }? else { return Ok(()) };
        let tier = if tier.is_null() {
            None
        } else {
            // SAFETY: per the contract.
            match unsafe { record_text(tier, "tier") }? {
                None => {
                    x.extract.reject(table, row, Some(id), Some(m), "special.tier", "the tier is not valid UTF-8");
                    return Ok(());
                }
                Some("") => None,
                Some(t) => match TierCode::new(t) {
                    Ok(code) => Some(code),
                    Err(e) => {
                        x.extract.reject(table, row, Some(id), Some(m), "special.tier", e.to_string());
                        return Ok(());
                    }
                },
            }
        };
        let months = (months != 0).then_some(months);
        x.extract.push_designation(table, row, id, m, SpecialChange::Grant { tier, months });
        Ok(())
    })
}

/// Adds a special VIP revocation (撤销) for a customer, applied with the evaluation of `month`.
/// Reporting as `crmt_extract_push_grant`.
///
/// # Errors
/// Only when nothing could be recorded: `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8` (`table`).
///
/// # Safety
/// `extract` is live; `table` and `id` are NUL-terminated. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_extract_push_revoke(
    extract: *mut crmt_extract,
    table: *const c_char,
    row: u64,
    id: *const c_char,
    month: i32,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let (x, table) = unsafe { (arg_mut(extract, "extract")?, c_str(table, "table")?) };
        // SAFETY: per the contract.
        let Some((id, m)) = unsafe { designation_key(x, table, row, id, month) }? else { return Ok(()) };
        x.extract.push_designation(table, row, id, m, SpecialChange::Revoke);
        Ok(())
    })
}

/// Frees an extract. NULL is ignored.
///
/// # Safety
/// `extract` is NULL or an extract from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_extract_free(extract: *mut crmt_extract) {
    let _ = guard(|| {
        // SAFETY: per the contract.
        unsafe { free_box(extract) };
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// crmt_evaluate_portfolio and its result

/// An empty portfolio result, for `crmt_evaluate_portfolio`. Released with
/// `crmt_portfolio_result_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `out` is writable. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_result_new(out: *mut *mut crmt_portfolio_result) -> crmt_result {
    // SAFETY: per the contract.
    guard(|| unsafe { put_box(out, crmt_portfolio_result::default(), "out") })
}

fn options(o: Option<&crmt_portfolio_options>) -> Result<PortfolioOptions, Failure> {
    let Some(o) = o else { return Ok(PortfolioOptions::default()) };
    let absent = match o.absent {
        CRMT_ABSENT_ZERO => Absent::Zero,
        CRMT_ABSENT_HOLD => Absent::Hold,
        CRMT_ABSENT_ERROR => Absent::Error,
        other => {
            return Err(Failure::new(
                crmt_result::CRMT_INVALID_ARGUMENT,
                format!("absent policy {other} is not CRMT_ABSENT_ZERO, CRMT_ABSENT_HOLD or CRMT_ABSENT_ERROR"),
            )
            .field("options.absent"));
        }
    };
    Ok(PortfolioOptions {
        absent,
        rule_book_change: if o.accept_rule_book_change { RuleBookChange::Accept } else { RuleBookChange::Refuse },
        threads: o.threads.clamp(1, crate::CRMT_MAX_THREADS),
    })
}

/// Evaluates a portfolio over a declared month (`last_month` 0 or equal to `first_month`) or a
/// range of consecutive months (`year * 100 + month`, both included), updating `portfolio` in
/// place and writing the results into `result` (emptied first; arrays read from it before are
/// invalid after the call).
///
/// The rules are the core's portfolio month (SPEC §15): records are matched to stored customers
/// **by id** (the order of the extract does not matter); new ids join the portfolio; a record
/// dated outside the declared month(s), a second record of a customer-month (both rows named),
/// a bad record, or a customer the engine refuses holds that customer back (state kept, nothing
/// emitted, one `crmt_record_error`); known customers without a record follow
/// `options->absent`; the portfolio is stamped with `book`'s fingerprint.
///
/// # Errors
/// - `CRMT_PORTFOLIO_REFUSED` when the run cannot go through as a whole (records whose customer
///   cannot be identified, states written under another rule book without
///   `accept_rule_book_change`, a table without a month column over a range): nothing is
///   evaluated, `portfolio` is unchanged, `crmt_portfolio_result_refused` is true and every
///   reason is in `crmt_portfolio_result_errors`; the thread's error details (`crmt_last_error_*`)
///   are the first reason's, with code `CRMT_PORTFOLIO_REFUSED`.
/// - `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_MONTH` (a month, a range that ends before it starts or
///   at 9999-12), `CRMT_INVALID_ARGUMENT` (options): nothing evaluated, `result` empty.
///
/// # Safety
/// `book`, `portfolio`, `extract` and `result` are live; `options` is NULL or valid.
/// Thread rules: `book` may be shared by concurrent calls; `portfolio`, `extract` and `result`
/// may not be used by another thread during the call. `options->threads > 1` splits the work
/// over that many threads itself.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_evaluate_portfolio(
    book: *const crmt_rulebook,
    portfolio: *mut crmt_portfolio,
    first_month: i32,
    last_month: i32,
    extract: *const crmt_extract,
    options: *const crmt_portfolio_options,
    result: *mut crmt_portfolio_result,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let r = unsafe { arg_mut(result, "result") }?;
        r.clear();
        // SAFETY: per the contract.
        let (b, p, x) = unsafe { (arg(book, "book")?, arg_mut(portfolio, "portfolio")?, arg(extract, "extract")?) };
        // SAFETY: per the contract.
        let opts = self::options(unsafe { options.as_ref() })?;
        let first = parse_month(first_month)?;
        let last = if last_month == 0 { first } else { parse_month(last_month)? };
        // The core's refusal of the range (backwards, or ending at 9999-12, which has no next
        // month): an argument error on field `month`, as every surface reports it.
        let range = MonthRange::new(first, last)
            .map_err(|e| Failure::new(crmt_result::CRMT_INVALID_MONTH, e).field("month"))?;
        let outcome = b.engine.evaluate_portfolio_with(&mut p.states, range, &x.extract, &opts, &mut Sink { out: r });
        match outcome {
            Ok(()) => Ok(()),
            Err(failure) => {
                r.clear();
                r.refused = true;
                for e in &failure.errors {
                    r.push_error(0, None, e);
                }
                let message = failure.to_string();
                Err(match failure.errors.first() {
                    Some(e) => record_failure(crmt_result::CRMT_PORTFOLIO_REFUSED, e, message),
                    None => Failure::new(crmt_result::CRMT_PORTFOLIO_REFUSED, message),
                })
            }
        }
    })
}

/// Whether the last run into `result` was refused as a whole (`CRMT_PORTFOLIO_REFUSED`); false
/// when `result` is NULL.
///
/// # Safety
/// `result` is NULL or live. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_result_refused(result: *const crmt_portfolio_result) -> bool {
    // SAFETY: per the contract.
    crate::ffi::guard_value(false, || unsafe { result.as_ref() }.is_some_and(|r| r.refused))
}

/// # Safety
/// `count` is NULL or writable.
unsafe fn array<T>(items: Option<&[T]>, count: *mut usize) -> *const T {
    let (p, n) = items.map_or((std::ptr::null(), 0), |s| (s.as_ptr(), s.len()));
    if !count.is_null() {
        // SAFETY: per the contract.
        unsafe { count.write(n) };
    }
    p
}

/// The months the run evaluated (`year * 100 + month`), `*count` entries owned by the result.
///
/// # Safety
/// `result` is NULL or live; `count` is NULL or writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_result_months(
    result: *const crmt_portfolio_result,
    count: *mut usize,
) -> *const i32 {
    // SAFETY: per the contract.
    unsafe { array(result.as_ref().map(|r| r.months.as_slice()), count) }
}

/// The run's events, `*count` plain structs month by month in portfolio order, owned by the
/// result; `customer_index` is the customer's index in the portfolio
/// (`crmt_portfolio_customer_id` gives its id).
///
/// # Safety
/// `result` is NULL or live; `count` is NULL or writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_result_events(
    result: *const crmt_portfolio_result,
    count: *mut usize,
) -> *const crmt_event {
    // SAFETY: per the contract.
    unsafe { array(result.as_ref().map(|r| r.events.as_slice()), count) }
}

/// The run's alerts, as `crmt_portfolio_result_events`.
///
/// # Safety
/// `result` is NULL or live; `count` is NULL or writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_result_alerts(
    result: *const crmt_portfolio_result,
    count: *mut usize,
) -> *const crmt_alert {
    // SAFETY: per the contract.
    unsafe { array(result.as_ref().map(|r| r.alerts.as_slice()), count) }
}

/// The customers evaluated, month by month in portfolio order (AUM in fen, whether they had a
/// record), owned by the result.
///
/// # Safety
/// `result` is NULL or live; `count` is NULL or writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_result_evaluated(
    result: *const crmt_portfolio_result,
    count: *mut usize,
) -> *const crmt_portfolio_evaluated {
    // SAFETY: per the contract.
    unsafe { array(result.as_ref().map(|r| r.evaluated.as_slice()), count) }
}

/// The run's errors in the order reported (customers held back and refused records; for a
/// refused run, every reason), owned by the result with their strings.
///
/// # Safety
/// `result` is NULL or live; `count` is NULL or writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_result_errors(
    result: *const crmt_portfolio_result,
    count: *mut usize,
) -> *const crmt_record_error {
    // SAFETY: per the contract.
    unsafe { array(result.as_ref().map(|r| r.errors.as_slice()), count) }
}

fn record_json(r: Option<&crm_tiering::portfolio::RecordRef>) -> serde_json::Value {
    r.map_or(serde_json::Value::Null, |r| serde_json::json!({"table": r.table, "row": r.row}))
}

/// Writes the run's results as JSON in the layout of the portfolio vectors' `expected.months`
/// (`rules-spec/VECTORS.md` §7): `{"months": [{"month", "events": [{"customer_id", "event"}],
/// "alerts": [...], "evaluated": [{"customer_id", "aum", "has_record"}], "held": [{"customer_id",
/// "category", "month", "field", "record", "other_record"}]}]}`, amounts as exact decimal
/// strings; a refused run gives `{"refused": [errors]}`. `portfolio` is the one the run updated
/// (for the customer ids). Into a new buffer released with `crmt_buffer_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INDEX_OUT_OF_RANGE` (another portfolio than the run's).
///
/// # Safety
/// `result` and `portfolio` are live; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_result_to_json(
    result: *const crmt_portfolio_result,
    portfolio: *const crmt_portfolio,
    out: *mut *mut crmt_buffer,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let (r, p) = unsafe { (arg(result, "result")?, arg(portfolio, "portfolio")?) };
        let id = |i: usize| -> Result<&str, Failure> {
            p.states.customers().get(i).map(|c| c.id.as_str()).ok_or_else(|| {
                Failure::new(crmt_result::CRMT_INDEX_OUT_OF_RANGE, format!("customer {i} is not in the portfolio"))
                    .field("portfolio")
            })
        };
        let error = |e: &RecordError| {
            serde_json::json!({
                "customer_id": e.customer(),
                "category": e.category(),
                "month": e.month().map(|m| m.to_string()),
                "field": e.field(),
                "record": record_json(e.record.as_ref()),
                "other_record": record_json(e.other_record.as_ref()),
            })
        };
        let value = if r.refused {
            serde_json::json!({"refused": r.json_errors.iter().map(error).collect::<Vec<_>>()})
        } else {
            let mut months = Vec::with_capacity(r.months.len());
            for &m in &r.months {
                let mut events = Vec::new();
                for (em, i, e) in &r.json_events {
                    if *em == m {
                        events.push(serde_json::json!({"customer_id": id(*i)?, "event": e}));
                    }
                }
                let mut alerts = Vec::new();
                for (am, i, a) in &r.json_alerts {
                    if *am == m {
                        alerts.push(serde_json::json!({"customer_id": id(*i)?, "alert": a}));
                    }
                }
                let mut evaluated = Vec::new();
                for (v, aum) in r.evaluated.iter().zip(&r.json_evaluated) {
                    if v.month == m {
                        evaluated.push(serde_json::json!({
                            "customer_id": id(v.customer_index as usize)?,
                            "aum": aum.to_string(),
                            "has_record": v.has_record,
                        }));
                    }
                }
                let held: Vec<_> = r
                    .errors
                    .iter()
                    .zip(&r.json_errors)
                    .filter(|(c, _)| c.reported_month == m)
                    .map(|(_, e)| error(e))
                    .collect();
                let month = Month::from_yyyymm(i64::from(m)).map(|m| m.to_string()).unwrap_or_default();
                months.push(serde_json::json!({
                    "month": month, "events": events, "alerts": alerts, "evaluated": evaluated, "held": held,
                }));
            }
            serde_json::json!({ "months": months })
        };
        // SAFETY: per the contract.
        unsafe { put_box(out, crmt_buffer::new(value.to_string().into_bytes()), "out") }
    })
}

/// Writes the portfolio's stored states as JSON, in the layout of the portfolio vectors'
/// `expected.states`: `[{"customer_id", "legal_entity", "customer_kind", "state"}]` in portfolio
/// order. Into a new buffer released with `crmt_buffer_free`.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`.
///
/// # Safety
/// `portfolio` is live; `out` is writable. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_to_json(
    portfolio: *const crmt_portfolio,
    out: *mut *mut crmt_buffer,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let p = unsafe { arg(portfolio, "portfolio") }?;
        let list: Vec<_> = p
            .states
            .iter()
            .map(|(c, s)| {
                serde_json::json!({
                    "customer_id": c.id, "legal_entity": c.legal_entity, "customer_kind": c.kind, "state": s,
                })
            })
            .collect();
        let text = serde_json::Value::Array(list).to_string();
        // SAFETY: per the contract.
        unsafe { put_box(out, crmt_buffer::new(text.into_bytes()), "out") }
    })
}

/// Frees a portfolio result. NULL is ignored.
///
/// # Safety
/// `result` is NULL or a result from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_result_free(result: *mut crmt_portfolio_result) {
    let _ = guard(|| {
        // SAFETY: per the contract.
        unsafe { free_box(result) };
        Ok(())
    });
}
