//! The evaluation of a portfolio month or range (`crmt_evaluate_portfolio`) and its reusable
//! result handle (`crmt_portfolio_result`): events, alerts, evaluated customers and errors as flat
//! arrays of plain structs.

use crm_tiering::portfolio::{MonthRange, PortfolioOptions, PortfolioSink, RecordError};
use crm_tiering::{Alert, CustomerRef, CustomerState, Decimal, Event, Month};

use crate::boundary::guard;
use crate::buffer::crmt_buffer;
use crate::code::crmt_result;
use crate::convert::fen;
use crate::details::Failure;
use crate::evaluate::parse_month;
use crate::event::{alert_struct, crmt_alert, crmt_event, event_struct};
use crate::handle::{Handle, Kind, free_handle, handle, handle_mut, put_handle, read_array, read_value};
use crate::portfolio::extract::crmt_extract;
use crate::portfolio::report::{
    ErrorText, RunJson, crmt_record_error, error_struct, record_failure, states_json, yyyymm,
};
use crate::portfolio::states::crmt_portfolio;
use crate::rulebook::crmt_rulebook;

/// Absent customers (known, no record in a month) are evaluated at zero AUM (the default).
pub const CRMT_ABSENT_ZERO: u32 = 0;
/// Absent customers are not evaluated: their state is kept as it is.
pub const CRMT_ABSENT_HOLD: u32 = 1;
/// Absent customers are errors: each is held back and reported.
pub const CRMT_ABSENT_ERROR: u32 = 2;

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

impl Handle for crmt_portfolio_result {
    const KIND: Kind = Kind::PortfolioResult;
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
        let (error, text) = error_struct(reported, index, e);
        self.errors.push(error);
        self.texts.push(text);
        self.json_errors.push(e.clone());
    }
}

struct Sink<'a> {
    out: &'a mut crmt_portfolio_result,
}

impl PortfolioSink for Sink<'_> {
    fn begin_month(&mut self, month: Month) {
        self.out.months.push(yyyymm(Some(month)));
    }

    fn event(&mut self, month: Month, index: usize, _customer: CustomerRef<'_>, event: &Event) {
        let index32 = u32::try_from(index).unwrap_or(u32::MAX);
        self.out.events.push(event_struct(index32, event));
        self.out.json_events.push((yyyymm(Some(month)), index, *event));
    }

    fn alert(&mut self, month: Month, index: usize, _customer: CustomerRef<'_>, alert: &Alert) {
        let index32 = u32::try_from(index).unwrap_or(u32::MAX);
        self.out.alerts.push(alert_struct(index32, alert));
        self.out.json_alerts.push((yyyymm(Some(month)), index, *alert));
    }

    fn evaluated(
        &mut self,
        month: Month,
        index: usize,
        _customer: CustomerRef<'_>,
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
    guard(|| unsafe { put_handle(out, crmt_portfolio_result::default(), "out") })
}

/// The options of the fixed struct, read by the core's one parser (as `crmt_options_set` is).
fn options(o: Option<&crmt_portfolio_options>) -> Result<PortfolioOptions, Failure> {
    let Some(o) = o else { return Ok(PortfolioOptions::default()) };
    let absent = match o.absent {
        CRMT_ABSENT_ZERO => "zero",
        CRMT_ABSENT_HOLD => "hold",
        CRMT_ABSENT_ERROR => "error",
        other => {
            return Err(Failure::new(
                crmt_result::CRMT_INVALID_ARGUMENT,
                format!("absent policy {other} is not CRMT_ABSENT_ZERO, CRMT_ABSENT_HOLD or CRMT_ABSENT_ERROR"),
            )
            .field("options.absent"));
        }
    };
    let threads = o.threads.clamp(1, crate::CRMT_MAX_THREADS).to_string();
    let change = if o.accept_rule_book_change { "accept" } else { "refuse" };
    PortfolioOptions::from_pairs([("absent", absent), ("rule_book_change", change), ("threads", threads.as_str())])
        .map_err(crate::portfolio::options::option_failure)
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
        let r = unsafe { handle_mut(result, "result") }?;
        r.clear();
        // SAFETY: per the contract.
        let opts = self::options(unsafe { options.as_ref() })?;
        // SAFETY: per the contract.
        unsafe { evaluate_into(book, portfolio, first_month, last_month, extract, &opts, r) }
    })
}

/// Evaluates as [`crmt_evaluate_portfolio`] does, with options made by `crmt_options_new` and
/// `crmt_options_set` (NULL: the defaults): every portfolio option the core has, by key.
///
/// # Errors
/// As `crmt_evaluate_portfolio`; `CRMT_INVALID_ARGUMENT` when `options` is not a live
/// `crmt_options` handle.
///
/// # Safety
/// `book`, `portfolio`, `extract` and `result` are live; `options` is NULL or live. Thread
/// rules as `crmt_evaluate_portfolio`; `options` may be shared by concurrent calls.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_evaluate_portfolio_with_options(
    book: *const crmt_rulebook,
    portfolio: *mut crmt_portfolio,
    first_month: i32,
    last_month: i32,
    extract: *const crmt_extract,
    options: *const crate::portfolio::options::crmt_options,
    result: *mut crmt_portfolio_result,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let r = unsafe { handle_mut(result, "result") }?;
        r.clear();
        // SAFETY: per the contract.
        let opts = match unsafe { crate::handle::handle_or_null(options, "options") }? {
            Some(o) => o.options.clone(),
            None => PortfolioOptions::default(),
        };
        // SAFETY: per the contract.
        unsafe { evaluate_into(book, portfolio, first_month, last_month, extract, &opts, r) }
    })
}

/// The evaluation of both entry points, into `r` (emptied on every failure, a panic included,
/// but for the reasons of a refused run).
///
/// # Safety
/// As `crmt_evaluate_portfolio`.
unsafe fn evaluate_into(
    book: *const crmt_rulebook,
    portfolio: *mut crmt_portfolio,
    first_month: i32,
    last_month: i32,
    extract: *const crmt_extract,
    opts: &PortfolioOptions,
    r: &mut crmt_portfolio_result,
) -> Result<(), Failure> {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: per the contract.
        unsafe { evaluate_checked(book, portfolio, first_month, last_month, extract, opts, r) }
    }));
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            if !r.refused {
                r.clear();
            }
            Err(e)
        }
        Err(panic) => {
            r.clear();
            std::panic::resume_unwind(panic)
        }
    }
}

/// # Safety
/// As `crmt_evaluate_portfolio`.
unsafe fn evaluate_checked(
    book: *const crmt_rulebook,
    portfolio: *mut crmt_portfolio,
    first_month: i32,
    last_month: i32,
    extract: *const crmt_extract,
    opts: &PortfolioOptions,
    r: &mut crmt_portfolio_result,
) -> Result<(), Failure> {
    {
        // SAFETY: per the contract.
        let (b, p, x) =
            unsafe { (handle(book, "book")?, handle_mut(portfolio, "portfolio")?, handle(extract, "extract")?) };
        let first = parse_month(first_month)?;
        let last = if last_month == 0 { first } else { parse_month(last_month)? };
        // The core's refusal of the range (backwards, or ending at 9999-12, which has no next
        // month): an argument error on field `month`, as every surface reports it.
        let range = MonthRange::new(first, last)
            .map_err(|e| Failure::new(crmt_result::CRMT_INVALID_MONTH, e).field("month"))?;
        let outcome = b.engine.evaluate_portfolio_with(&mut p.states, range, &x.extract, opts, &mut Sink { out: r });
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
    }
}

/// Whether the last run into `result` was refused as a whole (`CRMT_PORTFOLIO_REFUSED`); false
/// when `result` is NULL or not a live handle (then recorded in the error details).
///
/// # Safety
/// `result` is NULL or live. Not synchronized.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_result_refused(result: *const crmt_portfolio_result) -> bool {
    // SAFETY: per the contract.
    unsafe { read_value(result, "result", false, |r| r.refused) }
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
    unsafe { read_array(result, "result", count, |r| &r.months) }
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
    unsafe { read_array(result, "result", count, |r| &r.events) }
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
    unsafe { read_array(result, "result", count, |r| &r.alerts) }
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
    unsafe { read_array(result, "result", count, |r| &r.evaluated) }
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
    unsafe { read_array(result, "result", count, |r| &r.errors) }
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
        let (r, p) = unsafe { (handle(result, "result")?, handle(portfolio, "portfolio")?) };
        let view = RunJson {
            refused: r.refused,
            months: &r.months,
            events: &r.json_events,
            alerts: &r.json_alerts,
            evaluated: r
                .evaluated
                .iter()
                .zip(&r.json_evaluated)
                .map(|(v, aum)| (v.month, v.customer_index as usize, *aum, v.has_record))
                .collect(),
            errors: r.errors.iter().map(|e| e.reported_month).zip(&r.json_errors).collect(),
        };
        let text = view.render(&p.states)?;
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_buffer::new(text.into_bytes()), "out") }
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
        let p = unsafe { handle(portfolio, "portfolio") }?;
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_buffer::new(states_json(&p.states).into_bytes()), "out") }
    })
}

/// Frees a portfolio result. NULL is ignored. A pointer that is not a live `crmt_portfolio_result`
/// (freed already, another kind of handle) is refused: nothing is freed, and the thread's error
/// details say why (`CRMT_INVALID_ARGUMENT`, field `result`). Otherwise keeps the error details, so
/// a caller may free its handles before reading why a call failed.
///
/// # Safety
/// No other thread uses `result` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_portfolio_result_free(result: *mut crmt_portfolio_result) {
    crate::boundary::guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(result, "result") }
    });
}
