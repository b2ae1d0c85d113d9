//! A portfolio month's records, read from text cells or given as typed values, each checked
//! and located.
//!
//! The [`Extract`] and its compact record are defined here; the work on them is split by job:
//! `arena` stores records compactly (ids end to end, entities and codes interned, amounts in
//! fen), `measures` keeps the measure values records give, `push` adds typed records and
//! rejects bad ones, `cells` parses text and typed cells, `read` reads a row of cells under a
//! header, and `rows` gives the records back as views.

mod arena;
mod cells;
mod measures;
mod push;
mod read;
mod rows;

use std::sync::Arc;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use super::record::{RecordError, RecordRef};
use crate::code::TierCode;
use crate::engine::{MonthInput, SpecialChange};
use crate::error::TieringError;
use crate::month::Month;
use crate::rules::{CustomerKind, RuleBook};

pub use cells::Cell;
pub use rows::{AumRow, AumRowIter, AumRows};

/// How a record's AUM figures are kept (see [`Record`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AumForm {
    /// Component averages of two decimals, not negative, within the maximum amount: `len`
    /// entries of the extract's fen arena from `at` (the usual record).
    Fen,
    /// A total, not negative, whose mantissa fits a `u64`: `at` is the mantissa, `len` the
    /// scale.
    Total,
    /// Anything else, as given: `at` indexes the extract's general inputs.
    General,
}

/// An AUM record as the extract keeps it: 48 bytes, its customer id in the extract's id
/// arena, its legal entity interned, its figures in fen where they allow it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    /// The row in its table.
    pub(crate) row: u64,
    /// The customer id: `id_len` bytes of the id arena from `id_at`.
    id_at: u64,
    /// The figures: see [`AumForm`].
    aum_at: u64,
    /// The table, an index into the extract's table names.
    pub(crate) table: u32,
    /// The legal entity, an index into the extract's entities ([`NO_ENTITY`]: none).
    entity: u32,
    /// The figures: see [`AumForm`].
    aum_len: u32,
    /// The month; none when the table has no month column.
    pub(crate) month: Option<Month>,
    /// The length of the customer id (at most
    /// [`MAX_CUSTOMER_ID_BYTES`](super::record::MAX_CUSTOMER_ID_BYTES) bytes).
    id_len: u8,
    /// The customer kind, when given.
    pub(crate) kind: Option<CustomerKind>,
    form: AumForm,
}

/// A record without a legal entity.
const NO_ENTITY: u32 = u32::MAX;

/// A designation record: a special VIP grant or revoke for a customer-month.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignationRow {
    pub(crate) table: u32,
    /// The row in its table.
    pub row: u64,
    /// The customer id.
    pub customer_id: String,
    /// The evaluated month the change is applied with.
    pub month: Month,
    /// The change.
    pub change: SpecialChange,
}

/// A rejected record of an identified customer: the customer is held back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reject {
    pub(crate) customer_id: String,
    /// Whether the record is an AUM record (a total, components or a daily balance), which
    /// makes its month not empty (SPEC §15.6), rather than a designation.
    pub(crate) aum: bool,
    /// The month, when the record's month could be read.
    pub(crate) month: Option<Month>,
    pub(crate) error: RecordError,
}

/// The records of a portfolio month (or of a range of months): AUM rows, daily balances and
/// designations, with every bad record kept and located.
///
/// Records come from text cells under a resolved header ([`Extract::push_cells`]), as the CLI
/// reads CSV, or as typed values ([`Extract::push_aum`], [`Extract::push_designation`]), as the
/// bindings read columns. Parsing, identity and amount rules are the same either way.
///
/// ```
/// use crm_tiering::RuleBook;
/// use crm_tiering::portfolio::{Columns, Extract, TableKind};
/// let book = RuleBook::default_book()?;
/// let cols = Columns::resolve(&book, TableKind::Aum, &["month", "customer_id", "aum"])?;
/// let mut extract = Extract::new(&book);
/// extract.push_cells("aum.csv", &cols, 2, &["2024-03", "c1", "250000"]);
/// extract.push_cells("aum.csv", &cols, 3, &["2024-03", "c2", "12,000"]);
/// assert_eq!(extract.rows().len(), 1);
/// assert_eq!(extract.rejected().next().unwrap().field(), Some("aum"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Extract {
    tables: Vec<String>,
    /// The AUM records (daily balances gathered into one per customer-month).
    pub(crate) records: Vec<Record>,
    /// The records' customer ids, end to end.
    ids: String,
    /// The distinct legal entities of the records, and each one's index.
    entities: Vec<Box<str>>,
    entity_index: FxHashMap<Box<str>, u32>,
    /// The component codes of the fen arena, and each one's index.
    codes: Vec<Arc<str>>,
    code_index: FxHashMap<Arc<str>, u16>,
    /// The code index of each component column of the last header read, with its code (kept,
    /// so that the next record under the same header is recognised by pointer).
    column_codes: Vec<(Arc<str>, u16)>,
    /// The fen arena: each entry's code index and amount in fen.
    fen_codes: Vec<u16>,
    fen_amounts: Vec<i64>,
    /// The inputs of the records not kept in fen, as given.
    general: Vec<MonthInput>,
    /// The measure values the records give (SPEC §19.1): empty for a book without measures.
    measures: measures::MeasureArena,
    pub(crate) designations: Vec<DesignationRow>,
    pub(crate) rejects: Vec<Reject>,
    pub(crate) fatal: Vec<RecordError>,
    /// Daily rows of a customer-month: index into `records`.
    daily_rows: FxHashMap<(String, Month), usize>,
    tier_names: FxHashMap<String, TierCode>,
    /// The component amounts of the record being read: (component, amount).
    scratch: Vec<(usize, Decimal)>,
    /// Whether the record being read is a designation (its rejects are not AUM records).
    rejecting_designation: bool,
    /// The month (or date) cells of the table being read: how many read, and the first that
    /// did not (row and text), for [`Extract::end_table`].
    month_cells: MonthCells,
}

/// The month (or date) cells of a table: whether the column holds months at all.
#[derive(Debug, Clone, Default)]
struct MonthCells {
    read: u64,
    unread: u64,
    first_unread: Option<(u64, String)>,
}

impl MonthCells {
    /// A cell that is not a month (a date).
    fn unread(&mut self, row: u64, why: &str) {
        self.unread += 1;
        if self.first_unread.is_none() {
            self.first_unread = Some((row, why.to_string()));
        }
    }
}

impl Extract {
    /// An empty extract for a rule book (designation tiers are resolved against its tier codes
    /// and Chinese and English names).
    pub fn new(book: &RuleBook) -> Self {
        let mut tier_names = FxHashMap::default();
        for set in book.rule_sets() {
            for v in &set.versions {
                for t in &v.tiers {
                    tier_names.insert(t.code.to_string(), t.code);
                    tier_names.entry(t.name_zh.clone()).or_insert(t.code);
                    tier_names.entry(t.name_en.clone()).or_insert(t.code);
                }
            }
        }
        Extract { tier_names, ..Extract::default() }
    }

    /// The AUM rows read so far (daily balances gathered into one row per customer-month).
    pub fn rows(&self) -> AumRows<'_> {
        AumRows { extract: self }
    }

    /// The months the records are dated, in order, each once (records without a month, of a
    /// table without a month column, are not counted).
    pub fn months(&self) -> Vec<Month> {
        let mut months: Vec<Month> =
            self.records.iter().filter_map(|r| r.month).chain(self.designations.iter().map(|d| d.month)).collect();
        months.sort_unstable();
        months.dedup();
        months
    }

    /// The designations read so far.
    pub fn designations(&self) -> &[DesignationRow] {
        &self.designations
    }

    /// The rejected records of identified customers, who are held back.
    pub fn rejected(&self) -> impl Iterator<Item = &RecordError> {
        self.rejects.iter().map(|r| &r.error)
    }

    /// Whether the extract has an AUM record (readable or not: a total, components or a daily
    /// balance) dated `month`, or undated when `month` is the single month of a run
    /// (`single`). A month without one is empty (SPEC §15.6).
    pub fn has_aum_record(&self, month: Month, single: Option<Month>) -> bool {
        self.records.iter().any(|r| r.month.or(single) == Some(month))
            || self.rejects.iter().any(|r| r.aum && r.month.or(single) == Some(month))
    }

    /// The records whose customer cannot be identified: the month cannot run while there are
    /// any.
    pub fn fatal(&self) -> &[RecordError] {
        &self.fatal
    }

    /// The table name of a row.
    pub(crate) fn record(&self, table: u32, row: u64) -> RecordRef {
        RecordRef { table: self.tables.get(table as usize).cloned().unwrap_or_default(), row }
    }

    /// The customer id of a record.
    pub(crate) fn id_of(&self, r: &Record) -> &str {
        let Ok(at) = usize::try_from(r.id_at) else { return "" };
        self.ids.get(at..at + usize::from(r.id_len)).unwrap_or_default()
    }

    /// The legal entity of a record.
    pub(crate) fn entity_of(&self, r: &Record) -> Option<&str> {
        self.entities.get(r.entity as usize).map(|e| &**e)
    }
}

/// A typed error about a record, for the evaluation.
pub(crate) fn located(error: impl Into<TieringError>, record: RecordRef) -> RecordError {
    RecordError::at(error, Some(record))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "tests index their own fixed-size fixtures")]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::{Cell, Extract};
    use crate::portfolio::{Columns, RecordError, TableKind};
    use crate::rules::RuleBook;

    fn outcome(x: &Extract) -> (Vec<super::AumRow<'_>>, Vec<RecordError>, Vec<RecordError>) {
        (x.rows().iter().collect(), x.rejected().cloned().collect(), x.fatal().to_vec())
    }

    /// What a record costs beside its id and amounts (issue 12: memory per customer).
    #[test]
    fn a_record_is_48_bytes() {
        assert_eq!(std::mem::size_of::<super::Record>(), 48);
    }

    /// The usual record is kept in fen, its entity interned and its id in the arena; an
    /// amount of three decimals keeps the record as given.
    #[test]
    fn usual_records_are_compact() {
        let book = RuleBook::default_book().unwrap_or_else(|e| unreachable!("{e}"));
        let headers = ["month", "customer_id", "legal_entity", "demand_deposit", "time_deposit"];
        let cols = Columns::resolve(&book, TableKind::Aum, &headers).unwrap_or_else(|e| unreachable!("{e}"));
        let mut x = Extract::new(&book);
        x.push_cells("t", &cols, 2, &["2024-03", "c1", "620101", "10.00", ""]);
        x.push_cells("t", &cols, 3, &["2024-03", "c2", "620101", "10.00", "1.005"]);
        x.push_cells("t", &cols, 4, &["2024-03", "c3", "", "", "7.50"]);
        let compact: Vec<bool> = x.rows().iter().map(|r| r.is_compact()).collect();
        assert_eq!(compact, [true, false, true]);
        assert_eq!(x.entities.len(), 1);
        assert_eq!(x.ids, "c1c2c3");
        let ids: Vec<(&str, Option<&str>)> = x.rows().iter().map(|r| (r.customer_id(), r.legal_entity())).collect();
        assert_eq!(ids, [("c1", Some("620101")), ("c2", Some("620101")), ("c3", None)]);
        assert_eq!((x.fen_codes.len(), x.fen_amounts.as_slice()), (2, &[1000, 750][..]));
    }

    proptest! {
        /// A typed amount reads as its decimal text does, in amount columns and elsewhere.
        #[test]
        fn typed_amounts_read_as_their_text(
            mantissas in proptest::collection::vec(any::<i64>(), 3),
            scales in proptest::collection::vec(0u32..=28, 3),
            as_id in any::<bool>(),
        ) {
            let book = RuleBook::default_book().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let headers = ["month", "customer_id", "demand_deposit", "time_deposit"];
            let cols = Columns::resolve(&book, TableKind::Aum, &headers).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let d: Vec<Decimal> = mantissas.iter().zip(&scales).map(|(m, s)| Decimal::new(*m, *s)).collect();
            let (id, id_text) = if as_id { (Cell::Amount(d[2]), d[2].to_string()) } else { (Cell::Text("c1"), "c1".to_string()) };
            let texts = [d[0].to_string(), d[1].to_string()];
            let mut by_text = Extract::new(&book);
            by_text.push_cells("t", &cols, 2, &["2024-03", &id_text, &texts[0], &texts[1]]);
            let mut typed = Extract::new(&book);
            typed.push_values("t", &cols, 2, &[Cell::Text("2024-03"), id, Cell::Amount(d[0]), Cell::Amount(d[1])]);
            prop_assert_eq!(outcome(&typed), outcome(&by_text));
        }
    }
}
