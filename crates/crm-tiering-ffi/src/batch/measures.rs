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

#[cfg(test)]
mod tests {
    use std::ffi::{CStr, c_char};

    use super::crmt_measure_columns;
    use crate::code::crmt_result;
    use crate::{CRMT_NO_AMOUNT, crmt_batch_aum, crmt_batch_customers};

    /// A book with two measures: private banking by AUM, loans or points.
    const BOOK: &str = r#"
format_version = 1
name = "two measures"
[[rule_sets]]
name = "personal"
[[rule_sets.versions]]
effective_from = "2020-01"
[[rule_sets.versions.measures]]
code = "loan_balance"
name_zh = "贷款余额"
name_en = "Loan balance"
[[rule_sets.versions.measures]]
code = "points"
name_zh = "积分"
name_en = "Points"
[[rule_sets.versions.tiers]]
code = "gold"
name_zh = "金卡"
name_en = "Gold"
min_aum = "200000"
[[rule_sets.versions.tiers]]
code = "private"
name_zh = "私人银行"
name_en = "Private"
qualify = { any_of = [
    { measure = "aum", min = "6000000" },
    { measure = "loan_balance", min = "6000000" },
    { measure = "points", min = "100000" },
] }
"#;

    fn text(code: &[c_char]) -> String {
        // SAFETY: the library writes NUL-terminated codes into its structs.
        unsafe { CStr::from_ptr(code.as_ptr()) }.to_string_lossy().into_owned()
    }

    /// Each customer's tier and deciding measure, from a batch or a portfolio run.
    fn decided(events: &[crate::crmt_event]) -> Vec<(String, String)> {
        events.iter().map(|e| (text(&e.to_tier), text(&e.measure))).collect()
    }

    /// The book, and the columns of three customers with two measures column after column: c0 a
    /// loan, c1 points, c2 neither (its AUM gives gold).
    fn with_columns(f: impl FnOnce(*mut crate::crmt_rulebook, &crmt_batch_customers, &crmt_measure_columns)) {
        let mut book = std::ptr::null_mut();
        // SAFETY: valid text and out-pointer.
        let rc = unsafe { crate::crmt_rulebook_from_toml(BOOK.as_ptr(), BOOK.len(), &mut book) };
        assert_eq!(rc, crmt_result::CRMT_OK);
        let customers = crmt_batch_customers {
            count: 3,
            ids: IDS.as_ptr().cast(),
            id_offsets: OFFSETS.as_ptr(),
            legal_entities: std::ptr::null(),
            legal_entity_offsets: std::ptr::null(),
            kinds: std::ptr::null(),
        };
        let codes = [c"loan_balance".as_ptr(), c"points".as_ptr()];
        let values = [650_000_000, CRMT_NO_AMOUNT, CRMT_NO_AMOUNT, CRMT_NO_AMOUNT, 20_000_000, CRMT_NO_AMOUNT];
        let measures = crmt_measure_columns { measure_count: 2, measures: codes.as_ptr(), values_fen: values.as_ptr() };
        f(book, &customers, &measures);
        // SAFETY: made above.
        unsafe { crate::crmt_rulebook_free(book) };
    }

    const IDS: &[u8] = b"c0c1c2";
    const OFFSETS: [usize; 4] = [0, 2, 4, 6];
    const TOTALS: [i64; 3] = [30_000_000; 3];

    /// What each customer should get: a layout read row by row would give c1 and c2 other
    /// customers' values.
    fn want() -> Vec<(String, String)> {
        [("private", "loan_balance"), ("private", "points"), ("gold", "aum")]
            .map(|(t, m)| (t.to_string(), m.to_string()))
            .to_vec()
    }

    /// A batch of totals under the book, with `aum` and the measure columns: its result code, and
    /// each customer's tier and deciding measure.
    fn batch(
        book: *mut crate::crmt_rulebook,
        customers: &crmt_batch_customers,
        aum: &crmt_batch_aum,
        measures: &crmt_measure_columns,
    ) -> (crmt_result, Vec<(String, String)>) {
        let (mut states, mut batch, mut count) = (std::ptr::null_mut(), std::ptr::null_mut(), 0);
        // SAFETY: live handles, columns of 3 customers, 2 x 3 values.
        unsafe {
            assert_eq!(crate::crmt_states_new(3, &mut states), crmt_result::CRMT_OK);
            let null = std::ptr::null_mut();
            let rc = crate::crmt_evaluate_batch_with_measures(
                book, 202401, customers, aum, measures, states, 1, null, &mut batch,
            );
            let events = crate::crmt_batch_events(batch, &mut count);
            let got = if count == 0 { Vec::new() } else { decided(std::slice::from_raw_parts(events, count)) };
            crate::crmt_batch_free(batch);
            crate::crmt_states_free(states);
            (rc, got)
        }
    }

    #[test]
    fn each_customer_of_a_batch_reads_its_own_value_of_each_measure() {
        with_columns(|book, customers, measures| {
            let aum = crmt_batch_aum { component_count: 0, components: std::ptr::null(), amounts_fen: TOTALS.as_ptr() };
            assert_eq!(batch(book, customers, &aum, measures), (crmt_result::CRMT_OK, want()));
        });
    }

    #[test]
    fn a_measure_given_as_a_component_column_and_a_measure_column_is_refused() {
        with_columns(|book, customers, measures| {
            let components = [c"demand_deposit".as_ptr(), c"points".as_ptr()];
            let matrix = [30_000_000_i64, 1, 30_000_000, 1, 30_000_000, 1];
            let aum =
                crmt_batch_aum { component_count: 2, components: components.as_ptr(), amounts_fen: matrix.as_ptr() };
            assert_eq!(batch(book, customers, &aum, measures).0, crmt_result::CRMT_INVALID_ARGUMENT);
            let field = crate::details::with_last(|l| l.and_then(|f| f.field.clone())).unwrap_or_default();
            assert_eq!(field, "measures.measures");
        });
    }

    #[test]
    fn each_record_of_a_bulk_push_reads_its_own_value_of_each_measure() {
        with_columns(|book, customers, measures| {
            let (mut x, mut p, mut r, mut count) =
                (std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut(), 0);
            // SAFETY: live handles, columns of 3 records, 2 x 3 values.
            unsafe {
                assert_eq!(crate::crmt_extract_new(book, &mut x), crmt_result::CRMT_OK);
                assert_eq!(crate::crmt_portfolio_new(&mut p), crmt_result::CRMT_OK);
                assert_eq!(crate::crmt_portfolio_result_new(&mut r), crmt_result::CRMT_OK);
                let (ids, offsets) = (customers.ids, customers.id_offsets);
                let rc = crate::crmt_extract_push_totals_with_measures_fen(
                    x,
                    book,
                    c"aum".as_ptr(),
                    1,
                    3,
                    ids,
                    offsets,
                    std::ptr::null(),
                    std::ptr::null(),
                    std::ptr::null(),
                    std::ptr::null(),
                    TOTALS.as_ptr(),
                    measures,
                );
                assert_eq!(rc, crmt_result::CRMT_OK);
                assert_eq!(
                    crate::crmt_evaluate_portfolio(book, p, 202401, 0, x, std::ptr::null(), r),
                    crmt_result::CRMT_OK
                );
                let events = crate::crmt_portfolio_result_events(r, &mut count);
                assert_eq!(decided(std::slice::from_raw_parts(events, count)), want());
                crate::crmt_portfolio_result_free(r);
                crate::crmt_portfolio_free(p);
                crate::crmt_extract_free(x);
            }
        });
    }
}
