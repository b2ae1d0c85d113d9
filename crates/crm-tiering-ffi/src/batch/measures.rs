//! The values of measures besides AUM (SPEC §19.1) that a caller gives beside totals: measure
//! codes and one fen column per measure, each code resolved once by the core's one rule for
//! columns (the rule the component batch's columns follow), each value made a decimal once.

use std::ffi::c_char;

use crm_tiering::portfolio::{ColumnRole, Columns, TableKind};
use crm_tiering::{InputError, MeasureCode, Measures, RuleBook, TieringError, from_fen};

use crate::args::{c_str, slice, vec_for};
use crate::code::crmt_result;
use crate::details::Failure;

/// Values of measures a rule book declares besides AUM (SPEC §19.1, such as `loan_balance` or
/// `points`), one column per measure, for the records (customers) of a call.
///
/// `measures` names `measure_count` measures, each one the rule book declares (in some
/// version); `values_fen` holds their columns one after the other, each with one entry per
/// record: record `i`'s value of measure `j` is `values_fen[j * count + i]`, where `count` is
/// the call's number of records. `CRMT_NO_AMOUNT` gives no value: the measure's `absent`
/// applies, as for a measure the call does not name. Values are amounts in fen, exact.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_measure_columns {
    /// The number of measures (columns); 0 names none.
    pub measure_count: usize,
    /// `measure_count` NUL-terminated measure codes; NULL when `measure_count` is 0.
    pub measures: *const *const c_char,
    /// `measure_count * count` values in fen, measure after measure; NULL when `measure_count`
    /// is 0.
    pub values_fen: *const i64,
}

/// A call's measure columns, read and resolved: the codes, and the values measure after measure.
pub(crate) struct MeasureColumns<'a> {
    codes: Vec<MeasureCode>,
    values: &'a [i64],
    count: usize,
}

impl MeasureColumns<'_> {
    /// The codes, in the caller's order.
    pub(crate) fn codes(&self) -> &[MeasureCode] {
        &self.codes
    }

    /// Adds record `i`'s values to `measures`.
    pub(crate) fn add(&self, i: usize, measures: &mut Measures) {
        for (j, code) in self.codes.iter().enumerate() {
            if let Some(fen) = self.values.get(j * self.count + i) {
                insert_fen(measures, *code, *fen);
            }
        }
    }

    /// Record `i`'s values.
    pub(crate) fn of(&self, i: usize) -> Measures {
        let mut measures = Measures::EMPTY;
        self.add(i, &mut measures);
        measures
    }
}

/// Sets a measure's value from fen; `CRMT_NO_AMOUNT` sets none (the measure's `absent` applies).
#[inline]
pub(super) fn insert_fen(measures: &mut Measures, code: MeasureCode, fen: i64) {
    if fen != crate::CRMT_NO_AMOUNT {
        measures.insert(code, from_fen(fen));
    }
}

/// The NUL-terminated codes of `k` columns at `p`, `name[j]` naming code `j` in an error.
///
/// # Safety
/// `p` holds `k` NUL-terminated strings (checked for NULL).
pub(super) unsafe fn column_codes<'a>(
    p: *const *const c_char,
    k: usize,
    name: &str,
    count_name: &str,
) -> Result<Vec<&'a str>, Failure> {
    // SAFETY: `k` entries per the contract.
    let pointers = unsafe { slice(p, k, name, count_name) }?;
    let mut codes = vec_for(k, name, count_name)?;
    for (j, p) in pointers.iter().enumerate() {
        // SAFETY: NUL-terminated strings per the contract.
        codes.push(unsafe { c_str(*p, &format!("{name}[{j}]")) }?);
    }
    Ok(codes)
}

/// The measure columns `m` gives for `count` records; `None` when `m` is NULL. Each code is
/// resolved by the core's rule for an AUM table's columns, beside a total: a code the book
/// declares in no version is the core's error for an unknown column (`CRMT_INPUT_ERROR`, the
/// field naming the code), a code given twice its error for a repeated column.
///
/// # Errors
/// As above; `CRMT_NULL_ARGUMENT` and `CRMT_INVALID_UTF8` for the codes,
/// `CRMT_INVALID_ARGUMENT` for counts no array can hold, `CRMT_INPUT_ERROR` (field: the code)
/// for a column that is not a measure (`month`, a component).
///
/// # Safety
/// `m` is NULL or a valid description whose arrays have the documented lengths.
pub(crate) unsafe fn measure_columns<'a>(
    book: &RuleBook,
    m: *const crmt_measure_columns,
    count: usize,
    count_name: &str,
) -> Result<Option<MeasureColumns<'a>>, Failure> {
    // SAFETY: NULL or valid per the contract.
    let Some(m) = (unsafe { m.as_ref() }) else { return Ok(None) };
    let k = m.measure_count;
    // SAFETY: `measure_count` codes per the contract.
    let codes = unsafe { column_codes(m.measures, k, "measures.measures", "measures.measure_count") }?;
    let mut headers: Vec<&str> = vec_for(k.saturating_add(2), "measures.measures", "measures.measure_count")?;
    headers.extend(["customer_id", "aum"].into_iter().chain(codes.iter().copied()));
    let resolved = Columns::resolve(book, TableKind::Aum, &headers)?;
    let mut measures = vec_for(k, "measures.measures", "measures.measure_count")?;
    for (j, code) in codes.iter().enumerate() {
        let measure = match resolved.role(j + 2) {
            Some(ColumnRole::Measure(c)) => MeasureCode::new(c).ok(),
            _ => None,
        };
        let Some(measure) = measure else {
            let message = format!("`{code}` is not a measure the rule book declares (SPEC §19.1)");
            return Err(Failure::from(TieringError::from(InputError::new("", None, *code, message))));
        };
        measures.push(measure);
    }
    let total = k.checked_mul(count).ok_or_else(|| {
        Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!("`measures.measure_count` is {k}: {count} records x {k} values are more than any array can hold"),
        )
        .field("measures.measure_count")
    })?;
    // SAFETY: `measure_count * count` entries per the contract.
    let values = unsafe { slice(m.values_fen, total, "measures.values_fen", count_name) }?;
    Ok(Some(MeasureColumns { codes: measures, values, count }))
}
