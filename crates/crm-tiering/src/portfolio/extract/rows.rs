//! The AUM records of an [`Extract`] as views: one record ([`AumRow`]), all of them
//! ([`AumRows`]) and an iterator over them ([`AumRowIter`]).

use std::borrow::Cow;
use std::fmt;

use super::{AumForm, Extract, Record};
use crate::aum::AumInput;
use crate::month::Month;
use crate::rules::CustomerKind;

/// A customer-month's AUM record: a view of an [`Extract`], which keeps its records compactly
/// (ids end to end, legal entities interned, the usual amounts as integer fen), so the values
/// are read through these accessors.
///
/// ```
/// use crm_tiering::{AumInput, RuleBook, parse_amount};
/// use crm_tiering::portfolio::{Columns, Extract, TableKind};
/// let book = RuleBook::default_book()?;
/// let cols = Columns::resolve(&book, TableKind::Aum, &["month", "customer_id", "legal_entity", "time_deposit"])?;
/// let mut extract = Extract::new(&book);
/// extract.push_cells("aum.csv", &cols, 2, &["2024-03", "c1", "620101", "250000.00"]);
/// let row = extract.rows().get(0).unwrap();
/// assert_eq!((row.table(), row.row(), row.customer_id(), row.legal_entity()), ("aum.csv", 2, "c1", Some("620101")));
/// let AumInput::Averages(list) = &*row.aum() else { unreachable!() };
/// assert_eq!((&*list[0].component, list[0].amount), ("time_deposit", parse_amount("250000.00")?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct AumRow<'x> {
    extract: &'x Extract,
    /// The record's index in the extract.
    index: usize,
    record: &'x Record,
}

impl<'x> AumRow<'x> {
    /// The table (file) the record is in.
    pub fn table(&self) -> &'x str {
        self.extract.tables.get(self.record.table as usize).map_or("", String::as_str)
    }

    /// The row in its table.
    pub fn row(&self) -> u64 {
        self.record.row
    }

    /// The customer id.
    pub fn customer_id(&self) -> &'x str {
        self.extract.id_of(self.record)
    }

    /// The legal entity; none when the table has no such column or the cell is empty (the
    /// stored value is kept).
    pub fn legal_entity(&self) -> Option<&'x str> {
        self.extract.entity_of(self.record)
    }

    /// The customer kind; none when not given (the stored value is kept).
    pub fn kind(&self) -> Option<CustomerKind> {
        self.record.kind
    }

    /// The month; none when the table has no month column (the declared month).
    pub fn month(&self) -> Option<Month> {
        self.record.month
    }

    /// The AUM figures, exactly as given: borrowed when the extract keeps them as given, made
    /// again from integer fen when it keeps them so (the same codes, amounts and scales).
    pub fn aum(&self) -> Cow<'x, AumInput> {
        match self.extract.general_of(self.record) {
            Some(input) => Cow::Borrowed(&input.aum),
            None => Cow::Owned(self.extract.aum_of(self.record)),
        }
    }

    /// The values of the measures the record gives (SPEC §19.1), by measure code, exactly as
    /// given; a measure whose cell is empty is not in it (its `absent` applies). Empty, with no
    /// allocation, for a table without measure columns.
    pub fn measures(&self) -> crate::engine::Measures {
        self.extract.measures_of(self.index)
    }

    /// Whether the extract keeps the figures in integer fen (component averages of two
    /// decimals, or a total) rather than as given; either way [`AumRow::aum`] gives them back
    /// exactly and the evaluation is the same.
    pub fn is_compact(&self) -> bool {
        self.record.form != AumForm::General
    }
}

impl PartialEq for AumRow<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.row() == other.row()
            && self.table() == other.table()
            && self.customer_id() == other.customer_id()
            && self.legal_entity() == other.legal_entity()
            && self.kind() == other.kind()
            && self.month() == other.month()
            && self.aum() == other.aum()
            && self.measures() == other.measures()
    }
}

impl fmt::Debug for AumRow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AumRow")
            .field("table", &self.table())
            .field("row", &self.row())
            .field("customer_id", &self.customer_id())
            .field("legal_entity", &self.legal_entity())
            .field("kind", &self.kind())
            .field("month", &self.month())
            .field("aum", &self.aum())
            .field("measures", &self.measures())
            .finish()
    }
}

/// The AUM records of an [`Extract`], in the order they were read ([`Extract::rows`]).
#[derive(Clone, Copy)]
pub struct AumRows<'x> {
    pub(super) extract: &'x Extract,
}

impl<'x> AumRows<'x> {
    /// The number of records.
    pub fn len(&self) -> usize {
        self.extract.records.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.extract.records.is_empty()
    }

    /// Record `i`, in reading order.
    pub fn get(&self, i: usize) -> Option<AumRow<'x>> {
        self.extract.records.get(i).map(|record| AumRow { extract: self.extract, index: i, record })
    }

    /// The records, in reading order.
    pub fn iter(&self) -> AumRowIter<'x> {
        AumRowIter { extract: self.extract, records: self.extract.records.iter().enumerate() }
    }
}

impl<'x> IntoIterator for AumRows<'x> {
    type Item = AumRow<'x>;
    type IntoIter = AumRowIter<'x>;
    fn into_iter(self) -> AumRowIter<'x> {
        self.iter()
    }
}

impl PartialEq for AumRows<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for AumRows<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// An iterator over the AUM records of an [`Extract`] ([`AumRows::iter`]).
#[derive(Clone)]
pub struct AumRowIter<'x> {
    extract: &'x Extract,
    records: std::iter::Enumerate<std::slice::Iter<'x, Record>>,
}

impl<'x> Iterator for AumRowIter<'x> {
    type Item = AumRow<'x>;
    fn next(&mut self) -> Option<AumRow<'x>> {
        self.records.next().map(|(index, record)| AumRow { extract: self.extract, index, record })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.records.size_hint()
    }
}

impl DoubleEndedIterator for AumRowIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.records.next_back().map(|(index, record)| AumRow { extract: self.extract, index, record })
    }
}

impl ExactSizeIterator for AumRowIter<'_> {}

impl fmt::Debug for AumRowIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AumRowIter").field("left", &self.records.len()).finish()
    }
}
