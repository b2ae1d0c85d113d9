//! Typed totals pushed in bulk: a chunk of customers' month totals in one call, from columns laid
//! out as the batch takes them (ids and legal entities as concatenated bytes with offsets, one
//! kind, month and amount per customer, and the values of the book's measures when given). Each
//! row is recorded exactly as `crmt_extract_push_total_fen` records it; only the crossing of the
//! boundary is shared.

use std::ffi::c_char;

use crm_tiering::portfolio::Extract;
use crm_tiering::{AumInput, from_fen};

use crate::args::{bytes, c_str, slice};
use crate::batch::{MeasureColumns, crmt_measure_columns, measure_columns, offsets, text_at};
use crate::boundary::guard;
use crate::code::crmt_result;
use crate::details::Failure;
use crate::evaluate::{customer_kind, parse_month};
use crate::handle::{handle, handle_mut};
use crate::portfolio::extract::crmt_extract;
use crate::rulebook::crmt_rulebook;

/// The text of a column entry: `Some` when it is UTF-8. `text` is the whole column checked at
/// once when it is valid; otherwise each entry is checked alone.
#[inline]
fn entry<'a>(text: Option<&'a str>, data: &'a [u8], o: &[usize], i: usize) -> Option<&'a str> {
    match text {
        Some(t) => t.get(o[i] - o[0]..o[i + 1] - o[0]),
        None => std::str::from_utf8(text_at(data, o, i)).ok(),
    }
}

/// A column of concatenated strings: its bytes from the first offset to the last, checked as
/// one text (`None` when some entry is not UTF-8).
fn column<'a>(data: &'a [u8], o: &[usize]) -> Option<&'a str> {
    data.get(o[0]..o[o.len() - 1]).and_then(|b| std::str::from_utf8(b).ok())
}

/// Adds `count` typed AUM records at once: record `i` is row `first_row + i` of `table`, the
/// month's total AUM in fen `amounts_fen[i]` of the customer whose id is the UTF-8 bytes
/// `ids[id_offsets[i] .. id_offsets[i + 1]]` (the layout of `crmt_batch_customers`:
/// `id_offsets` has `count + 1` non-decreasing entries, no NUL needed).
///
/// The optional columns (NULL: the default for every record):
/// - `legal_entities` / `legal_entity_offsets`: as the ids; an empty entry (or NULL) keeps the
///   stored legal entity;
/// - `kinds`: `CRMT_KIND_PERSONAL`, `CRMT_KIND_CORPORATE`, or -1 (`(int8_t)CRMT_KIND_KEEP`) to
///   keep the stored kind (a new customer is personal); NULL keeps every kind;
/// - `months`: `year * 100 + month` of each record, 0 for the declared month; NULL: every record
///   is of the declared month (a one-month run).
///
/// Every record is recorded as `crmt_extract_push_total_fen` would record it, with the same
/// checks and the same reporting: a bad record (an id or legal entity that is not UTF-8, an
/// unknown kind, a month that is not one, `CRMT_NO_AMOUNT`) is kept and holds its customer back
/// in the evaluation; a record whose customer cannot be identified (empty id, spaces, not UTF-8)
/// makes the run refused as a whole. The same records pushed row by row or in chunks of any size
/// give the same extract. One call per chunk: nothing is allocated per record beyond what the
/// extract keeps (the id, and the legal entity when given).
///
/// # Errors
/// Only when nothing could be recorded, and then nothing is: `CRMT_NULL_ARGUMENT` (`extract`,
/// `table`, or a required column NULL with `count` > 0; `legal_entities` without offsets),
/// `CRMT_INVALID_UTF8` (`table`), `CRMT_INVALID_ARGUMENT` (offsets that decrease).
///
/// # Safety
/// `extract` is live; `table` is NUL-terminated; `id_offsets` (and `legal_entity_offsets` when
/// `legal_entities` is not NULL) hold `count + 1` entries; `ids` (`legal_entities`) is readable
/// up to its last offset; `kinds`, `months` are NULL or hold `count` entries; `amounts_fen` holds
/// `count` entries. The columns are only read during the call (the extract copies what it keeps).
/// Thread rules: not synchronized (`extract`); the columns may be shared with other readers.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_extract_push_totals_fen(
    extract: *mut crmt_extract,
    table: *const c_char,
    first_row: u64,
    count: usize,
    ids: *const c_char,
    id_offsets: *const usize,
    legal_entities: *const c_char,
    legal_entity_offsets: *const usize,
    kinds: *const i8,
    months: *const i32,
    amounts_fen: *const i64,
) -> crmt_result {
    let columns = Columns { ids, id_offsets, legal_entities, legal_entity_offsets, kinds, months, amounts_fen };
    // SAFETY: forwarded contract.
    guard(|| unsafe { push_totals(extract, table, first_row, count, columns, None) })
}

/// As `crmt_extract_push_totals_fen`, with the values of measures the rule book declares besides
/// AUM (SPEC §19.1, such as `loan_balance` or `points`): record `i`'s value of measure `j` is
/// `measures->values_fen[j * count + i]`, `CRMT_NO_AMOUNT` for none. A measure without a value,
/// or not named, follows its `absent` in the evaluation, as an empty measure cell of a text
/// table does. `book` is the rule book the extract was made with: the codes are resolved
/// against it as a header's measure columns are. `measures` NULL records exactly what
/// `crmt_extract_push_totals_fen` records. A value is kept as given: a negative one (or one
/// above the maximum amount) is that customer's input error in the evaluation (field
/// `measures.<code>`), a value of a measure the rules in force that month do not declare too.
/// The single-row form is this call with `count` 1.
///
/// # Errors
/// As `crmt_extract_push_totals_fen`, and for the measure columns (nothing is recorded then):
/// `CRMT_INPUT_ERROR` with the field naming the code for a code the book declares in no version
/// (the core's error for an unknown column), a code given twice or one that names no measure;
/// `CRMT_NULL_ARGUMENT` (`book`, a code, `measures.values_fen` with `count` and `measure_count`
/// above 0), `CRMT_INVALID_UTF8` (a code), `CRMT_INVALID_ARGUMENT` (a count no array can hold).
///
/// # Safety
/// As `crmt_extract_push_totals_fen`; `book` is live; `measures` is NULL or a valid
/// description whose `measures` holds `measure_count` NUL-terminated strings and whose
/// `values_fen` holds `measure_count * count` values, only read during the call.
/// Thread rules: as `crmt_extract_push_totals_fen`; `book` may be shared.
#[allow(clippy::too_many_arguments)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmt_extract_push_totals_with_measures_fen(
    extract: *mut crmt_extract,
    book: *const crmt_rulebook,
    table: *const c_char,
    first_row: u64,
    count: usize,
    ids: *const c_char,
    id_offsets: *const usize,
    legal_entities: *const c_char,
    legal_entity_offsets: *const usize,
    kinds: *const i8,
    months: *const i32,
    amounts_fen: *const i64,
    measures: *const crmt_measure_columns,
) -> crmt_result {
    let columns = Columns { ids, id_offsets, legal_entities, legal_entity_offsets, kinds, months, amounts_fen };
    guard(|| {
        // SAFETY: per the contract.
        let book = unsafe { handle(book, "book") }?;
        // SAFETY: forwarded contract.
        unsafe { push_totals(extract, table, first_row, count, columns, Some((book, measures))) }
    })
}

/// The caller's column pointers of a bulk push, not yet checked.
struct Columns {
    ids: *const c_char,
    id_offsets: *const usize,
    legal_entities: *const c_char,
    legal_entity_offsets: *const usize,
    kinds: *const i8,
    months: *const i32,
    amounts_fen: *const i64,
}

/// Checks every column of a bulk push (`measures`: the book and the measure columns, when
/// given), then records the rows.
///
/// # Safety
/// As `crmt_extract_push_totals_with_measures_fen`.
unsafe fn push_totals(
    extract: *mut crmt_extract,
    table: *const c_char,
    first_row: u64,
    count: usize,
    columns: Columns,
    measures: Option<(&crmt_rulebook, *const crmt_measure_columns)>,
) -> Result<(), Failure> {
    let Columns { ids, id_offsets, legal_entities, legal_entity_offsets, kinds, months, amounts_fen } = columns;
    // SAFETY: per the contract.
    let (x, table) = unsafe { (handle_mut(extract, "extract")?, c_str(table, "table")?) };
    // Every column is checked before anything is recorded.
    let io = offsets(id_offsets, count, "id_offsets", "count")?;
    // SAFETY: readable up to the last offset per the contract.
    let id_data = unsafe { bytes(ids.cast(), io[count], "ids", "id_offsets") }?;
    let entities = if legal_entities.is_null() {
        None
    } else {
        let o = offsets(legal_entity_offsets, count, "legal_entity_offsets", "count")?;
        // SAFETY: readable up to the last offset per the contract.
        Some((unsafe { bytes(legal_entities.cast(), o[count], "legal_entities", "legal_entity_offsets") }?, o))
    };
    // SAFETY: `count` entries when not NULL, per the contract.
    let kinds = if kinds.is_null() { None } else { Some(unsafe { slice(kinds, count, "kinds", "count") }?) };
    // SAFETY: as above.
    let months = if months.is_null() { None } else { Some(unsafe { slice(months, count, "months", "count") }?) };
    // SAFETY: `count` entries per the contract.
    let amounts = unsafe { slice(amounts_fen, count, "amounts_fen", "count") }?;
    let measures = match measures {
        // SAFETY: NULL or `count` values a measure per the contract.
        Some((book, m)) => unsafe { measure_columns(book.engine.rule_book(), m, count, "count") }?,
        None => None,
    };
    let totals = Totals { id_data, id_offsets: io, entities, kinds, months, amounts, measures };
    totals.record(&mut x.extract, table, first_row, count)
}

/// The columns of a call, every one checked before anything is recorded.
struct Totals<'a> {
    id_data: &'a [u8],
    id_offsets: &'a [usize],
    /// The legal entities' bytes and offsets, when given.
    entities: Option<(&'a [u8], &'a [usize])>,
    kinds: Option<&'a [i8]>,
    months: Option<&'a [i32]>,
    amounts: &'a [i64],
    /// The values of the book's measures, when given.
    measures: Option<MeasureColumns<'a>>,
}

impl Totals<'_> {
    /// Records the `count` rows, numbered from `first_row`.
    fn record(&self, extract: &mut Extract, table: &str, first_row: u64, count: usize) -> Result<(), Failure> {
        // Rows are numbered from `first_row`: they must not wrap past the largest row number.
        if first_row.checked_add(count as u64).is_none() {
            return Err(Failure::new(
                crmt_result::CRMT_INVALID_ARGUMENT,
                format!("rows {first_row} and the {count} after it pass the largest row number"),
            )
            .field("first_row"));
        }
        let id_text = column(self.id_data, self.id_offsets);
        let entity_text = self.entities.map(|(d, o)| column(d, o));
        for i in 0..count {
            self.record_row(extract, table, first_row + i as u64, i, id_text, entity_text.flatten());
        }
        Ok(())
    }

    /// Records row `i` as `crmt_extract_push_total_fen` would, or rejects it. `id_text` and
    /// `entity_text` are the whole columns when they are valid UTF-8 ([`column`]).
    fn record_row(
        &self,
        extract: &mut Extract,
        table: &str,
        row: u64,
        i: usize,
        id_text: Option<&str>,
        entity_text: Option<&str>,
    ) {
        let Some(id) = entry(id_text, self.id_data, self.id_offsets, i) else {
            extract.reject(table, row, None, None, "customer_id", "the customer id is not valid UTF-8");
            return;
        };
        let entity = match self.entities {
            None => None,
            Some((d, o)) => match entry(entity_text, d, o, i) {
                Some(e) => Some(e),
                None => {
                    extract.reject(table, row, Some(id), None, "legal_entity", "the legal entity is not valid UTF-8");
                    return;
                }
            },
        };
        let month = match self.months.map_or(0, |m| m[i]) {
            0 => None,
            m => match parse_month(m) {
                Ok(m) => Some(m),
                Err(f) => {
                    extract.reject(table, row, Some(id), None, "month", f.message);
                    return;
                }
            },
        };
        let kind = match self.kinds.map_or(-1, |k| k[i]) {
            -1 => None,
            k => {
                // The message is the per-row push's for the same kind (widened as C would).
                let kind = u32::from_ne_bytes(i32::from(k).to_ne_bytes());
                match customer_kind(kind, id) {
                    Ok(k) => Some(k),
                    Err(f) => {
                        extract.reject(table, row, Some(id), month, "customer_kind", f.message);
                        return;
                    }
                }
            }
        };
        let fen = self.amounts[i];
        if fen == crate::CRMT_NO_AMOUNT {
            extract.reject(table, row, Some(id), month, "aum", "the AUM is empty (CRMT_NO_AMOUNT)");
            return;
        }
        let aum = AumInput::Total(from_fen(fen));
        match &self.measures {
            None => extract.push_aum(table, row, id, entity, kind, month, aum),
            Some(m) => extract.push_aum_with_measures(table, row, id, entity, kind, month, aum, &m.of(i)),
        }
    }
}
