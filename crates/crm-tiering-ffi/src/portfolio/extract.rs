//! A month's records (`crmt_extract`): text cells under a table header resolved against a rule
//! book (`crmt_columns`), typed totals, and designations (grant, revoke). A bad record is kept and
//! reported by the evaluation; a push fails only when nothing could be recorded.

use std::ffi::c_char;

use crm_tiering::portfolio::{Columns, Extract, TableKind};
use crm_tiering::{AumInput, Month, SpecialChange, TierCode, from_fen};

use crate::args::c_str;
use crate::boundary::guard;
use crate::code::crmt_result;
use crate::details::Failure;
use crate::evaluate::parse_month;
use crate::handle::{Handle, Kind, free_handle, handle, handle_mut, put_handle, read_value};
use crate::rulebook::crmt_rulebook;

/// `kind` of a typed record: keep the stored customer kind (a new customer is personal).
pub const CRMT_KIND_KEEP: u32 = 0xFFFF_FFFF;

/// An AUM table: one row per customer and month, with `aum` or component averages.
pub const CRMT_TABLE_AUM: u32 = 0;
/// A daily balances table: one row per customer, component and day.
pub const CRMT_TABLE_DAILY: u32 = 1;
/// A designations table: special VIP grant (认定) or revoke (撤销) per customer and month.
pub const CRMT_TABLE_DESIGNATIONS: u32 = 2;

/// The columns of an input table: its header resolved against a rule book, each role and
/// component named once. Immutable once made; released with `crmt_columns_free`.
pub struct crmt_columns {
    columns: Columns,
}

impl Handle for crmt_columns {
    const KIND: Kind = Kind::Columns;
}

/// A month's (or a range's) records: AUM rows, daily balances and designations, each checked
/// and located by table and row. Bad records are kept and reported by the evaluation. Not
/// synchronized; released with `crmt_extract_free`.
pub struct crmt_extract {
    pub(super) extract: Extract,
}

impl Handle for crmt_extract {
    const KIND: Kind = Kind::Extract;
}

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
unsafe fn strings<'a>(p: *const *const c_char, n: usize, name: &str, len_name: &str) -> Result<Vec<&'a str>, Failure> {
    // SAFETY: per the contract.
    let ptrs = unsafe { crate::args::slice(p, n, name, len_name) }?;
    let mut out = crate::args::vec_for(n, name, len_name)?;
    for (i, s) in ptrs.iter().enumerate() {
        // SAFETY: per the contract.
        out.push(unsafe { c_str(*s, &format!("{name}[{i}]")) }?);
    }
    Ok(out)
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
        let b = unsafe { handle(book, "book") }?;
        let kind = table_kind(kind)?;
        // SAFETY: per the contract.
        let headers = unsafe { strings(headers, count, "headers", "count") }?;
        let columns = Columns::resolve(b.engine.rule_book(), kind, &headers).map_err(Failure::from)?;
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_columns { columns }, "out") }
    })
}

/// The number of columns; 0 when `columns` is NULL or not a live handle
/// (then recorded in the error details).
///
/// # Safety
/// `columns` is NULL or live. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_columns_width(columns: *const crmt_columns) -> usize {
    // SAFETY: per the contract.
    unsafe { read_value(columns, "columns", 0, |c| c.columns.width()) }
}

/// Frees resolved columns. NULL is ignored. A pointer that is not a live `crmt_columns` (freed
/// already, another kind of handle) is refused: nothing is freed, and the thread's error details
/// say why (`CRMT_INVALID_ARGUMENT`, field `columns`). Otherwise keeps the error details, so a
/// caller may free its handles before reading why a call failed.
///
/// # Safety
/// No other thread uses `columns` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_columns_free(columns: *mut crmt_columns) {
    crate::boundary::guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(columns, "columns") }
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
        let b = unsafe { handle(book, "book") }?;
        // SAFETY: per the contract.
        unsafe { put_handle(out, crmt_extract { extract: Extract::new(b.engine.rule_book()) }, "out") }
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
            unsafe { (handle_mut(extract, "extract")?, c_str(table, "table")?, handle(columns, "columns")?) };
        // SAFETY: per the contract.
        let ptrs = unsafe { crate::args::slice(cells, count, "cells", "count") }?;
        let mut texts: Vec<&str> = crate::args::vec_for(count, "cells", "count")?;
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

/// Ends a table of text cells pushed with `crmt_extract_push_cells` under `columns`: when its
/// month (or date) column held no cell that reads as one (`2024/01` throughout, a number of
/// months since 1970), the run is refused as a whole, naming the table and column (SPEC §15.4),
/// instead of every customer being held back. Call it after the last row of each table, as the
/// CLI and Python do.
///
/// # Errors
/// `CRMT_NULL_ARGUMENT`, `CRMT_INVALID_UTF8` (`table`), `CRMT_INVALID_ARGUMENT` (a handle).
///
/// # Safety
/// `extract` and `columns` are live; `table` is NUL-terminated. Not synchronized (`extract`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_extract_end_table(
    extract: *mut crmt_extract,
    table: *const c_char,
    columns: *const crmt_columns,
) -> crmt_result {
    guard(|| {
        // SAFETY: per the contract.
        let (x, table, cols) =
            unsafe { (handle_mut(extract, "extract")?, c_str(table, "table")?, handle(columns, "columns")?) };
        x.extract.end_table(table, &cols.columns);
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
        let (x, table) = unsafe { (handle_mut(extract, "extract")?, c_str(table, "table")?) };
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
        let (x, table) = unsafe { (handle_mut(extract, "extract")?, c_str(table, "table")?) };
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
        let (x, table) = unsafe { (handle_mut(extract, "extract")?, c_str(table, "table")?) };
        // SAFETY: per the contract.
        let Some((id, m)) = unsafe { designation_key(x, table, row, id, month) }? else { return Ok(()) };
        x.extract.push_designation(table, row, id, m, SpecialChange::Revoke);
        Ok(())
    })
}

/// Frees an extract. NULL is ignored. A pointer that is not a live `crmt_extract` (freed already,
/// another kind of handle) is refused: nothing is freed, and the thread's error details say why
/// (`CRMT_INVALID_ARGUMENT`, field `extract`). Otherwise keeps the error details, so a caller may
/// free its handles before reading why a call failed.
///
/// # Safety
/// No other thread uses `extract` during or after the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_extract_free(extract: *mut crmt_extract) {
    crate::boundary::guard_value((), || {
        // SAFETY: per the contract.
        unsafe { free_handle(extract, "extract") }
    });
}
