//! The caller's columns of a batch: customer ids and legal entities as concatenated bytes with
//! offsets (read in place as borrowed identities, checked as text a range at a time), kinds, and
//! the amounts (totals or a matrix of component averages).

use std::ffi::c_char;
use std::ops::Range;

use crm_tiering::portfolio::{MAX_CUSTOMER_ID_BYTES, validate_customer_id};
use crm_tiering::{
    AumInput, ComponentAmount, CustomerKind, CustomerRef, InputError, MonthInput, TieringError, from_fen,
};

use crate::args::slice;
use crate::code::crmt_result;
use crate::details::Failure;
use crate::evaluate::customer_kind;

/// The customers of a batch, as columns (the layout of an extract, and cheap to fill from Java).
///
/// Customer `i`'s id is the UTF-8 bytes `ids[id_offsets[i] .. id_offsets[i + 1]]` (no NUL
/// needed); `id_offsets` has `count + 1` non-decreasing entries. Legal entities likewise, an
/// empty one meaning none; `legal_entities` NULL means none for every customer. `kinds` holds
/// `CRMT_KIND_PERSONAL` or `CRMT_KIND_CORPORATE` per customer; NULL means all personal.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_batch_customers {
    /// The number of customers.
    pub count: usize,
    /// The ids, concatenated.
    pub ids: *const c_char,
    /// `count + 1` offsets into `ids`.
    pub id_offsets: *const usize,
    /// The legal entities, concatenated; NULL when none.
    pub legal_entities: *const c_char,
    /// `count + 1` offsets into `legal_entities`; NULL when `legal_entities` is NULL.
    pub legal_entity_offsets: *const usize,
    /// One kind per customer; NULL for all personal.
    pub kinds: *const u8,
}

/// The AUM of a batch, in fen.
///
/// With `component_count` 0, `amounts_fen` has one entry per customer: the month's AUM. With
/// `component_count` k > 0, `components` names k components of the rule book's catalogue and
/// `amounts_fen` is a row-major `count x k` matrix of monthly daily averages (customer `i`'s
/// amount of component `j` at `i * k + j`); `CRMT_NO_AMOUNT` leaves a component out. A column
/// may instead name a measure the rule book declares (SPEC §19.1, such as `loan_balance`): its
/// entries are that measure's values, `CRMT_NO_AMOUNT` for none (the measure's `absent` then
/// applies). A batch of totals gives measures beside the totals (`crmt_measure_columns`, with
/// `crmt_evaluate_batch_with_measures`); without them, a book that declares measures is refused.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct crmt_batch_aum {
    /// 0 for totals, or the number of component columns.
    pub component_count: usize,
    /// `component_count` NUL-terminated component codes; NULL for totals.
    pub components: *const *const c_char,
    /// The amounts in fen.
    pub amounts_fen: *const i64,
}
/// The customer columns of a call, borrowed from the caller and checked for length.
pub(super) struct Columns<'a> {
    pub(super) ids: &'a [u8],
    pub(super) id_offsets: &'a [usize],
    pub(super) entities: Option<(&'a [u8], &'a [usize])>,
    pub(super) kinds: Option<&'a [u8]>,
}

/// What a record that cannot be read is evaluated as: its input fails before any rule runs.
const PLACEHOLDER: CustomerRef<'static> = CustomerRef { id: "", legal_entity: None, kind: CustomerKind::Personal };

impl<'a> Columns<'a> {
    /// Appends the customers of `range` to `refs` as identities borrowed from the columns (the
    /// text is checked, not copied). A record that cannot be read gets a placeholder, and its
    /// failure goes to `rejected`.
    pub(super) fn read(
        &self,
        range: Range<usize>,
        refs: &mut Vec<CustomerRef<'a>>,
        rejected: &mut Vec<(u32, Failure)>,
    ) {
        // The ids of the range are checked as one text (one pass of the validator instead of
        // one call per short id); each id is then a slice of it, when it starts and ends on
        // character boundaries. A range with invalid text is checked id by id.
        let (o, start) = (self.id_offsets, self.id_offsets[range.start]);
        let ids = std::str::from_utf8(&self.ids[start..o[range.end]]).ok();
        if let (Some(text), None, None) = (ids, self.entities, self.kinds) {
            // Personal customers of no legal entity: only the ids to cut out.
            let ends = &o[range.start..=range.end];
            for (i, w) in range.zip(ends.windows(2)) {
                match text.get(w[0] - start..w[1] - start).filter(|id| usable_id(id)) {
                    Some(id) => refs.push(CustomerRef { id, legal_entity: None, kind: CustomerKind::Personal }),
                    None => self.reject(i, refs, rejected),
                }
            }
            return;
        }
        for i in range {
            let id = ids.and_then(|text| text.get(o[i] - start..o[i + 1] - start));
            match self.customer(i, id) {
                Ok(c) => refs.push(c),
                Err(f) => {
                    refs.push(PLACEHOLDER);
                    rejected.push((i as u32, f));
                }
            }
        }
    }

    /// Adds the placeholder of customer `i`, whose id is not text, and its failure.
    #[cold]
    fn reject(&self, i: usize, refs: &mut Vec<CustomerRef<'a>>, rejected: &mut Vec<(u32, Failure)>) {
        let failure = self.customer(i, None).err().unwrap_or_else(|| {
            Failure::new(crmt_result::CRMT_INVALID_UTF8, format!("customer {i}: the id is not valid UTF-8")).field("id")
        });
        refs.push(PLACEHOLDER);
        rejected.push((i as u32, failure));
    }

    /// Customer `i`, whose id is `id` when already checked.
    #[inline]
    fn customer(&self, i: usize, id: Option<&'a str>) -> Result<CustomerRef<'a>, Failure> {
        let id = match id {
            Some(id) => id,
            None => {
                let raw = text_at(self.ids, self.id_offsets, i);
                std::str::from_utf8(raw).map_err(|_| {
                    Failure::new(crmt_result::CRMT_INVALID_UTF8, format!("customer {i}: the id is not valid UTF-8"))
                        .customer(String::from_utf8_lossy(raw))
                        .field("id")
                })?
            }
        };
        // One rule for ids on every entry point (SPEC §16): the portfolio's.
        if !usable_id(id) {
            let why = validate_customer_id(id).err().map(|e| e.to_string()).unwrap_or_default();
            return Err(Failure::new(crmt_result::CRMT_INPUT_ERROR, format!("customer {i}: {why}"))
                .customer(id)
                .field("customer_id"));
        }
        let legal_entity = match self.entities {
            Some((data, o)) => match std::str::from_utf8(text_at(data, o, i)) {
                Ok("") => None,
                Ok(e) => Some(e),
                Err(_) => {
                    return Err(Failure::new(
                        crmt_result::CRMT_INVALID_UTF8,
                        format!("customer `{id}`: the legal entity is not valid UTF-8"),
                    )
                    .customer(id)
                    .field("legal_entity"));
                }
            },
            None => None,
        };
        let kind = customer_kind(self.kinds.map_or(0, |k| u32::from(k[i])), id)?;
        Ok(CustomerRef { id, legal_entity, kind })
    }
}

/// Whether an id is one the portfolio accepts (1 to 64 bytes, no control character, no
/// surrounding spaces), at once for the usual id (printable ASCII without spaces).
#[inline]
fn usable_id(id: &str) -> bool {
    let plain = !id.is_empty() && id.len() <= MAX_CUSTOMER_ID_BYTES && id.bytes().all(|b| b.is_ascii_graphic());
    plain || validate_customer_id(id).is_ok()
}

/// The failing input of a record that could not be read (the failure reported is the record's).
pub(super) fn unreadable(i: usize) -> TieringError {
    InputError::new("", None, "id", format!("record {i} is unreadable")).into()
}

/// A component's monthly daily averages, one row of the `count x k` matrix per customer; a
/// column that names a measure of the book carries that measure's values instead (SPEC §19.1).
pub(super) struct Averages<'a> {
    pub(super) codes: Vec<std::sync::Arc<str>>,
    pub(super) measures: Vec<Option<crm_tiering::MeasureCode>>,
    pub(super) amounts: &'a [i64],
}

impl Averages<'_> {
    pub(super) fn input(&self, i: usize) -> MonthInput {
        let k = self.codes.len();
        let row = &self.amounts[i * k..(i + 1) * k];
        let mut measures = crm_tiering::Measures::default();
        let mut items = Vec::with_capacity(k);
        for ((f, code), measure) in row.iter().zip(&self.codes).zip(&self.measures) {
            match measure {
                Some(m) => super::measures::insert_fen(&mut measures, *m, *f),
                None if *f == crate::CRMT_NO_AMOUNT => {}
                None => items.push(ComponentAmount { component: code.clone(), amount: from_fen(*f) }),
            }
        }
        MonthInput { aum: AumInput::Averages(items), special: None, measures }
    }

    /// Refuses a measure given both as a column of the matrix and in `measures`: its value is
    /// given once.
    pub(super) fn refuse_repeated(&self, measures: &super::MeasureColumns<'_>) -> Result<(), Failure> {
        match self.measures.iter().flatten().find(|c| measures.codes().contains(c)) {
            None => Ok(()),
            Some(code) => Err(Failure::new(
                crmt_result::CRMT_INVALID_ARGUMENT,
                format!("measure `{code}` is given twice: as a column of `aum.components` and in `measures`"),
            )
            .field("measures.measures")),
        }
    }
}

/// The `count + 1` non-decreasing offsets of a column of concatenated strings; `count_name` names
/// the count in an error (`SIZE_MAX`, whose `count + 1` does not exist, included).
pub(crate) fn offsets<'a>(p: *const usize, count: usize, name: &str, count_name: &str) -> Result<&'a [usize], Failure> {
    let entries = count.checked_add(1).ok_or_else(|| {
        Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!("`{count_name}` is {count}: `{name}` cannot have one more"),
        )
        .field(count_name)
    })?;
    // SAFETY: the exported function's contract: `count + 1` readable entries.
    let o = unsafe { slice(p, entries, name, count_name) }?;
    if let Some(i) = o.windows(2).position(|w| w[0] > w[1]) {
        return Err(Failure::new(
            crmt_result::CRMT_INVALID_ARGUMENT,
            format!("`{name}` must not decrease, but entry {} is below entry {i}", i + 1),
        )
        .field(name));
    }
    Ok(o)
}

pub(crate) fn text_at<'a>(data: &'a [u8], o: &[usize], i: usize) -> &'a [u8] {
    data.get(o[i]..o[i + 1]).unwrap_or(&[])
}
