//! A portfolio month's records, read from text cells or given as typed values, each checked
//! and located.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use super::columns::{ColumnRole, Columns, TableKind};
use super::record::{RecordError, RecordRef, validate_customer_id};
use crate::aum::{AumInput, ComponentAmount, ComponentDaily, FenSlot, sum_fen};
use crate::code::TierCode;
use crate::engine::{MonthInput, SpecialChange};
use crate::error::{InputError, TieringError};
use crate::money::{fen_of, parse_amount};
use crate::month::Month;
use crate::rules::{CustomerKind, RuleBook};

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
            .finish()
    }
}

/// The AUM records of an [`Extract`], in the order they were read ([`Extract::rows`]).
#[derive(Clone, Copy)]
pub struct AumRows<'x> {
    extract: &'x Extract,
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
        self.extract.records.get(i).map(|record| AumRow { extract: self.extract, record })
    }

    /// The records, in reading order.
    pub fn iter(&self) -> AumRowIter<'x> {
        AumRowIter { extract: self.extract, records: self.extract.records.iter() }
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
    records: std::slice::Iter<'x, Record>,
}

impl<'x> Iterator for AumRowIter<'x> {
    type Item = AumRow<'x>;
    fn next(&mut self) -> Option<AumRow<'x>> {
        self.records.next().map(|record| AumRow { extract: self.extract, record })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.records.size_hint()
    }
}

impl DoubleEndedIterator for AumRowIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.records.next_back().map(|record| AumRow { extract: self.extract, record })
    }
}

impl ExactSizeIterator for AumRowIter<'_> {}

impl fmt::Debug for AumRowIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AumRowIter").field("left", &self.records.len()).finish()
    }
}

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

fn date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let fmt = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => "%Y-%m-%d",
        8 if b.iter().all(u8::is_ascii_digit) => "%Y%m%d",
        _ => return None,
    };
    let digits_ok = b.iter().enumerate().all(|(i, c)| c.is_ascii_digit() || (b.len() == 10 && (i == 4 || i == 7)));
    if !digits_ok {
        return None;
    }
    NaiveDate::parse_from_str(text, fmt).ok()
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
        let at = r.id_at as usize;
        self.ids.get(at..at + r.id_len as usize).unwrap_or_default()
    }

    /// The legal entity of a record.
    pub(crate) fn entity_of(&self, r: &Record) -> Option<&str> {
        self.entities.get(r.entity as usize).map(|e| &**e)
    }

    /// The input of a record kept as given.
    fn general_of(&self, r: &Record) -> Option<&MonthInput> {
        match r.form {
            AumForm::General => self.general.get(r.aum_at as usize),
            AumForm::Fen | AumForm::Total => None,
        }
    }

    /// The fen entries of a record kept in fen: (code index, fen).
    fn fen_entries(&self, r: &Record) -> impl Iterator<Item = (usize, i64)> + '_ {
        let (at, len) = match r.form {
            AumForm::Fen => (r.aum_at as usize, r.aum_len as usize),
            AumForm::Total | AumForm::General => (0, 0),
        };
        let codes = self.fen_codes.get(at..at + len).unwrap_or_default();
        let amounts = self.fen_amounts.get(at..at + len).unwrap_or_default();
        codes.iter().zip(amounts).map(|(&c, &fen)| (usize::from(c), fen))
    }

    /// A record's figures, as given.
    fn aum_of(&self, r: &Record) -> AumInput {
        match r.form {
            AumForm::Fen => AumInput::Averages(
                self.fen_entries(r)
                    .map(|(c, fen)| ComponentAmount {
                        component: self.codes.get(c).cloned().unwrap_or_else(|| Arc::from("")),
                        amount: crate::money::from_fen(fen),
                    })
                    .collect(),
            ),
            AumForm::Total => AumInput::Total(total_of(r.aum_at, r.aum_len)),
            AumForm::General => self.general.get(r.aum_at as usize).map(|i| i.aum.clone()).unwrap_or_default(),
        }
    }

    /// The component codes of the fen arena, by index: [`Extract::input_of`] takes the
    /// composition's [`FenSlot`] of each.
    pub(crate) fn fen_codes(&self) -> &[Arc<str>] {
        &self.codes
    }

    /// The month input of record `k` for the evaluation, with a designation change: component
    /// averages kept in fen are summed here with `slots` (the [`FenSlot`] of each code of
    /// [`Extract::fen_codes`] under the customer's composition, when known) and given as the
    /// total they make, which the engine takes as is; whatever the sum in fen cannot decide is
    /// given as the averages themselves, for the engine's general computation.
    pub(crate) fn input_of(
        &self,
        k: usize,
        slots: Option<&[FenSlot]>,
        special: Option<SpecialChange>,
    ) -> Cow<'_, MonthInput> {
        let Some(r) = self.records.get(k) else {
            return Cow::Owned(MonthInput { aum: AumInput::default(), special });
        };
        let aum = match r.form {
            AumForm::General => match (self.general.get(r.aum_at as usize), special) {
                (Some(input), None) => return Cow::Borrowed(input),
                (Some(input), Some(_)) => input.aum.clone(),
                (None, _) => AumInput::default(),
            },
            AumForm::Total => AumInput::Total(total_of(r.aum_at, r.aum_len)),
            AumForm::Fen => match slots.and_then(|slots| sum_fen(slots, self.fen_entries(r))) {
                Some(total) => AumInput::Total(total),
                None => self.aum_of(r),
            },
        };
        Cow::Owned(MonthInput { aum, special })
    }

    /// The index of a legal entity, interned.
    fn entity(&mut self, entity: &str) -> u32 {
        if let Some(&i) = self.entity_index.get(entity) {
            return i;
        }
        let Ok(i) = u32::try_from(self.entities.len()) else { return NO_ENTITY };
        if i == NO_ENTITY {
            return NO_ENTITY;
        }
        self.entities.push(entity.into());
        self.entity_index.insert(entity.into(), i);
        i
    }

    /// The index of a component code, interned; none past `u16::MAX` codes.
    fn code(&mut self, code: &Arc<str>) -> Option<u16> {
        if let Some(&i) = self.code_index.get(&**code) {
            return Some(i);
        }
        let i = u16::try_from(self.codes.len()).ok()?;
        self.codes.push(code.clone());
        self.code_index.insert(code.clone(), i);
        Some(i)
    }

    /// The code indices of a header's component columns (remembered for the next record
    /// under the same header); none when there are too many codes for the fen arena.
    fn column_codes(&mut self, cols: &Columns) -> bool {
        let same = self.column_codes.len() == cols.components.len()
            && self.column_codes.iter().zip(&cols.components).all(|((a, _), (_, b))| Arc::ptr_eq(a, b));
        if same {
            return true;
        }
        self.column_codes.clear();
        for (_, code) in &cols.components {
            let Some(i) = self.code(code) else {
                self.column_codes.clear();
                return false;
            };
            self.column_codes.push((code.clone(), i));
        }
        true
    }

    /// Stores a record's figures: in fen when they allow it, as given otherwise.
    fn store_aum(&mut self, aum: AumInput) -> (AumForm, u64, u32) {
        match aum {
            AumInput::Total(a) if !a.is_sign_negative() => match u64::try_from(a.mantissa()) {
                Ok(m) => (AumForm::Total, m, a.scale()),
                Err(_) => self.store_general(AumInput::Total(a)),
            },
            AumInput::Averages(list) => {
                let at = self.fen_codes.len();
                for c in &list {
                    match (fen_of(&c.amount), self.code(&c.component)) {
                        (Some(fen), Some(code)) => {
                            self.fen_codes.push(code);
                            self.fen_amounts.push(fen);
                        }
                        _ => {
                            self.fen_codes.truncate(at);
                            self.fen_amounts.truncate(at);
                            return self.store_general(AumInput::Averages(list));
                        }
                    }
                }
                match u32::try_from(list.len()) {
                    Ok(len) => (AumForm::Fen, at as u64, len),
                    Err(_) => {
                        self.fen_codes.truncate(at);
                        self.fen_amounts.truncate(at);
                        self.store_general(AumInput::Averages(list))
                    }
                }
            }
            other => self.store_general(other),
        }
    }

    /// Stores the component averages read under a header, (component, amount) in column
    /// order, in fen; none (nothing stored) when they do not all allow it.
    fn store_columns(&mut self, cols: &Columns, read: &[(usize, Decimal)]) -> Option<(AumForm, u64, u32)> {
        if !self.column_codes(cols) {
            return None;
        }
        let len = u32::try_from(read.len()).ok()?;
        let at = self.fen_codes.len();
        for &(k, amount) in read {
            match (fen_of(&amount), self.column_codes.get(k)) {
                (Some(fen), Some(&(_, code))) => {
                    self.fen_codes.push(code);
                    self.fen_amounts.push(fen);
                }
                _ => {
                    self.fen_codes.truncate(at);
                    self.fen_amounts.truncate(at);
                    return None;
                }
            }
        }
        Some((AumForm::Fen, at as u64, len))
    }

    fn store_general(&mut self, aum: AumInput) -> (AumForm, u64, u32) {
        self.general.push(MonthInput { aum, special: None });
        (AumForm::General, (self.general.len() - 1) as u64, 0)
    }

    fn table(&mut self, name: &str) -> u32 {
        // Records come table by table: the last table is the usual answer.
        if let Some(last) = self.tables.last()
            && last == name
        {
            return (self.tables.len() - 1) as u32;
        }
        if let Some(i) = self.tables.iter().rposition(|t| t == name) {
            return i as u32;
        }
        self.tables.push(name.to_string());
        (self.tables.len() - 1) as u32
    }

    /// Records a bad record. With a usable customer id the customer is held back (from the
    /// record's month on, or for every month when the month is unknown); without one the month
    /// cannot run.
    pub fn reject(
        &mut self,
        table: &str,
        row: u64,
        customer_id: Option<&str>,
        month: Option<Month>,
        field: &str,
        message: impl Into<String>,
    ) {
        let at = Some(RecordRef { table: table.to_string(), row });
        match customer_id.filter(|id| validate_customer_id(id).is_ok()) {
            Some(id) => {
                let error = RecordError::at(InputError::new(id, month, field, message), at);
                let aum = !self.rejecting_designation;
                self.rejects.push(Reject { customer_id: id.to_string(), aum, month, error });
            }
            None => {
                let message = message.into();
                let why = match customer_id {
                    Some(id) => match validate_customer_id(id) {
                        Err(e) => format!("{message}; and the customer cannot be identified: {e}"),
                        Ok(()) => message,
                    },
                    None => format!("{message}; and the record names no customer"),
                };
                self.fatal.push(RecordError::at(InputError::new("", month, field, why), at));
            }
        }
    }

    /// Checks an id; an unusable one makes the record fatal.
    fn identify(&mut self, table: &str, row: u64, id: &str, month: Option<Month>) -> bool {
        if plainly_valid(id) {
            return true;
        }
        match validate_customer_id(id) {
            Ok(()) => true,
            Err(e) => {
                let at = Some(RecordRef { table: table.to_string(), row });
                let error = InputError::new(
                    "",
                    month,
                    "customer_id",
                    format!("{e}: a record whose customer cannot be identified stops the run"),
                );
                self.fatal.push(RecordError::at(error, at));
                false
            }
        }
    }

    /// Adds a typed AUM record.
    ///
    /// Component averages of two decimals, not negative and within the maximum amount (the
    /// usual record), and totals are kept in integer fen; anything else is kept as given.
    #[allow(clippy::too_many_arguments)]
    pub fn push_aum(
        &mut self,
        table: &str,
        row: u64,
        customer_id: &str,
        legal_entity: Option<&str>,
        kind: Option<CustomerKind>,
        month: Option<Month>,
        aum: AumInput,
    ) {
        if let Some(entity) = self.admit(table, row, customer_id, legal_entity, month) {
            let stored = self.store_aum(aum);
            self.push_record(table, row, customer_id, entity, kind, month, stored);
        }
    }

    /// Checks an AUM record's customer id and legal entity: the legal entity to keep (none for
    /// an empty one) when the record can be added; none when it was rejected or is fatal.
    fn admit<'e>(
        &mut self,
        table: &str,
        row: u64,
        customer_id: &str,
        legal_entity: Option<&'e str>,
        month: Option<Month>,
    ) -> Option<Option<&'e str>> {
        if !self.identify(table, row, customer_id, month) {
            return None;
        }
        let legal_entity = legal_entity.filter(|e| !e.is_empty());
        if let Some(e) = legal_entity
            && !plainly_valid(e)
            && let Err(err) = validate_customer_id(e)
        {
            let message = err.to_string().replace("customer id", "legal entity code");
            self.reject(table, row, Some(customer_id), month, "legal_entity", message);
            return None;
        }
        Some(legal_entity)
    }

    /// Adds an admitted record whose figures are stored.
    #[allow(clippy::too_many_arguments)]
    fn push_record(
        &mut self,
        table: &str,
        row: u64,
        customer_id: &str,
        legal_entity: Option<&str>,
        kind: Option<CustomerKind>,
        month: Option<Month>,
        (form, aum_at, aum_len): (AumForm, u64, u32),
    ) {
        let table = self.table(table);
        let entity = legal_entity.map_or(NO_ENTITY, |e| self.entity(e));
        let id_at = self.ids.len() as u64;
        self.ids.push_str(customer_id);
        // Admitted ids have at most `MAX_CUSTOMER_ID_BYTES` bytes.
        let id_len = u8::try_from(customer_id.len()).unwrap_or(u8::MAX);
        self.records.push(Record { row, id_at, aum_at, table, entity, aum_len, month, id_len, kind, form });
    }

    /// Adds a typed designation.
    pub fn push_designation(&mut self, table: &str, row: u64, customer_id: &str, month: Month, change: SpecialChange) {
        if !self.identify(table, row, customer_id, Some(month)) {
            return;
        }
        let t = self.table(table);
        self.designations.push(DesignationRow { table: t, row, customer_id: customer_id.to_string(), month, change });
    }

    /// Adds one daily balance (`None`: no balance that day).
    #[allow(clippy::too_many_arguments)]
    pub fn push_daily(
        &mut self,
        table: &str,
        row: u64,
        customer_id: &str,
        legal_entity: Option<&str>,
        kind: Option<CustomerKind>,
        day: NaiveDate,
        component: &str,
        balance: Option<Decimal>,
    ) {
        let month = match Month::from_date(day) {
            Ok(m) => m,
            Err(e) => {
                self.reject(table, row, Some(customer_id), None, "date", e.to_string());
                return;
            }
        };
        if !self.identify(table, row, customer_id, Some(month)) {
            return;
        }
        let key = (customer_id.to_string(), month);
        let index = match self.daily_rows.get(&key) {
            Some(&i) => i,
            None => {
                let before = self.records.len();
                self.push_aum(table, row, customer_id, legal_entity, kind, Some(month), AumInput::Daily(Vec::new()));
                if self.records.len() == before {
                    return;
                }
                self.daily_rows.insert(key, before);
                before
            }
        };
        let days = month.days() as usize;
        let slot = day.day0() as usize;
        let Some(&r) = self.records.get(index) else { return };
        if let Some(e) = legal_entity.filter(|e| !e.is_empty())
            && r.entity == NO_ENTITY
        {
            let entity = self.entity(e);
            if let Some(r) = self.records.get_mut(index) {
                r.entity = entity;
            }
        }
        if kind.is_some()
            && let Some(r) = self.records.get_mut(index)
        {
            r.kind = r.kind.or(kind);
        }
        let general = match r.form {
            AumForm::General => self.general.get_mut(r.aum_at as usize),
            AumForm::Fen | AumForm::Total => None,
        };
        let Some(MonthInput { aum: AumInput::Daily(series), .. }) = general else { return };
        let s = match series.iter().position(|s| s.component == component) {
            Some(k) => &mut series[k],
            None => {
                series.push(ComponentDaily { component: component.to_string(), balances: vec![None; days] });
                let last = series.len() - 1;
                &mut series[last]
            }
        };
        if s.balances[slot].is_some() {
            let message = format!("a second balance of component `{component}` for {day}");
            self.reject(table, row, Some(customer_id), Some(month), "balance", message);
            return;
        }
        s.balances[slot] = balance;
    }

    /// Reads a row of text cells under a resolved header. Empty component and balance cells
    /// mean nothing held; an empty `legal_entity` or `customer_kind` keeps the stored value.
    /// A bad cell rejects the record (its customer is held back); a record whose customer
    /// cannot be identified is fatal.
    pub fn push_cells(&mut self, table: &str, cols: &Columns, row: u64, cells: &[&str]) {
        self.push_row(table, cols, row, cells);
    }

    /// Reads a row of cells under a resolved header, some of them typed: what a columnar file
    /// (Parquet, Arrow) holds. A [`Cell::Text`] is read exactly as [`Extract::push_cells`] reads
    /// it; a [`Cell::Amount`] in an amount column (`aum`, a component, `balance`) is that
    /// amount, with no text in between, and in any other column reads as its decimal text.
    ///
    /// ```
    /// use crm_tiering::{AumInput, RuleBook, from_fen};
    /// use crm_tiering::portfolio::{Cell, Columns, Extract, TableKind};
    /// let book = RuleBook::default_book()?;
    /// let cols = Columns::resolve(&book, TableKind::Aum, &["month", "customer_id", "aum"])?;
    /// let mut extract = Extract::new(&book);
    /// let cells = [Cell::Text("2024-03"), Cell::Text("c1"), Cell::Amount(from_fen(25_000_000))];
    /// extract.push_values("aum.parquet", &cols, 1, &cells);
    /// assert_eq!(*extract.rows().get(0).unwrap().aum(), AumInput::Total(from_fen(25_000_000)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_values(&mut self, table: &str, cols: &Columns, row: u64, cells: &[Cell<'_>]) {
        let stray = |i: usize| !matches!(cols.role(i), Some(r) if r.is_amount());
        if !cells.iter().enumerate().any(|(i, c)| matches!(c, Cell::Amount(_)) && stray(i)) {
            self.push_row(table, cols, row, cells);
            return;
        }
        // An amount where text is expected (an id, a month): read as its text.
        let texts: Vec<Option<String>> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| match c {
                Cell::Amount(d) if stray(i) => Some(d.to_string()),
                _ => None,
            })
            .collect();
        let cells: Vec<Cell<'_>> = cells
            .iter()
            .zip(&texts)
            .map(|(c, t)| match t {
                Some(t) => Cell::Text(t),
                None => *c,
            })
            .collect();
        self.push_row(table, cols, row, cells.as_slice());
    }

    /// [`Extract::push_values`] for cells whose amounts are all in amount columns (the typed
    /// reader's, by its plans): read as they are, with no look for amounts elsewhere.
    #[cfg(feature = "arrow")]
    #[inline]
    pub(crate) fn push_typed(&mut self, table: &str, cols: &Columns, row: u64, cells: &[Cell<'_>]) {
        self.push_row(table, cols, row, cells);
    }

    /// Room for `additional` more AUM records, for a reader that knows how many are coming.
    pub fn reserve(&mut self, additional: usize) {
        self.records.reserve(additional);
    }

    /// Ends a table read under `cols` (every reader calls it after a table's last row): a
    /// month column (a `date` column of daily balances) none of whose cells is a month (a
    /// date) is not a column of bad records but a column of something else — `2024/01`, a
    /// period's ordinal, a number — so the whole run stops, naming the table and the column
    /// (SPEC §15.4); a column with some months holds only the customers of the bad cells.
    ///
    /// ```
    /// use crm_tiering::RuleBook;
    /// use crm_tiering::portfolio::{Columns, Extract, TableKind};
    /// let book = RuleBook::default_book()?;
    /// let cols = Columns::resolve(&book, TableKind::Aum, &["月份", "customer_id", "aum"])?;
    /// let mut extract = Extract::new(&book);
    /// extract.push_cells("aum.csv", &cols, 2, &["2024/03", "c1", "250000"]);
    /// extract.push_cells("aum.csv", &cols, 3, &["2024/03", "c2", "250000"]);
    /// extract.end_table("aum.csv", &cols);
    /// let stop = &extract.fatal()[0];
    /// assert_eq!((stop.field(), stop.record.as_ref().map(|r| r.row)), (Some("月份"), Some(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn end_table(&mut self, table: &str, cols: &Columns) {
        let cells = std::mem::take(&mut self.month_cells);
        let column = match cols.kind {
            TableKind::Aum | TableKind::Designations => cols.column(&ColumnRole::Month),
            TableKind::Daily => cols.column(&ColumnRole::Date),
        };
        let (Some(column), 0, Some((row, why))) = (column, cells.read, cells.first_unread) else { return };
        let name = cols.name(column);
        let what = if cols.kind == TableKind::Daily { "date" } else { "month" };
        let message = format!(
            "column `{name}` of table `{table}` holds no {what}: none of its {} cells reads as one (the first: {why}); nothing was evaluated",
            cells.unread
        );
        let at = Some(RecordRef { table: table.to_string(), row });
        self.fatal.push(RecordError::at(InputError::new("", None, name, message), at));
    }

    fn push_row<C: Cells + ?Sized>(&mut self, table: &str, cols: &Columns, row: u64, cells: &C) {
        self.rejecting_designation = cols.kind == TableKind::Designations;
        self.push_row_of(table, cols, row, cells);
        self.rejecting_designation = false;
    }

    fn push_row_of<C: Cells + ?Sized>(&mut self, table: &str, cols: &Columns, row: u64, cells: &C) {
        let cell = |role: &ColumnRole| cols.column(role).and_then(|i| cells.text(i)).map(trim_cr);
        let id = cell(&ColumnRole::CustomerId);
        if cells.count() != cols.width() {
            let message = format!("the record has {} fields, the header {}", cells.count(), cols.width());
            self.reject(table, row, id, None, "record", message);
            return;
        }
        let id = id.unwrap_or_default();
        let month_of = |this: &mut Self, text: Option<&str>, field: &str| -> Result<Option<Month>, ()> {
            match text {
                None => Ok(None),
                Some(t) => match t.parse::<Month>() {
                    Ok(m) => {
                        this.month_cells.read += 1;
                        Ok(Some(m))
                    }
                    Err(e) => {
                        let message = e.to_string();
                        this.month_cells.unread(row, &message);
                        this.reject(table, row, Some(id), None, field, message);
                        Err(())
                    }
                },
            }
        };
        let kind = match cell(&ColumnRole::CustomerKind).filter(|k| !k.is_empty()) {
            None => None,
            Some(k) => match customer_kind(k) {
                Ok(k) => Some(k),
                Err(e) => {
                    self.reject(table, row, Some(id), None, "customer_kind", e);
                    return;
                }
            },
        };
        let entity = cell(&ColumnRole::LegalEntity);
        match cols.kind {
            TableKind::Aum => {
                let Ok(month) = month_of(self, cell(&ColumnRole::Month), "month") else { return };
                let aum = if cols.has_components() {
                    // Read into the scratch list first: the usual record goes from there to
                    // the fen arena, any other is allocated once at its exact length.
                    let mut read = std::mem::take(&mut self.scratch);
                    read.clear();
                    for (k, (i, code)) in cols.components.iter().enumerate() {
                        match cell_amount_at(cols, cells, *i) {
                            Ok(Some(amount)) => read.push((k, amount)),
                            Ok(None) => {}
                            Err(e) => return self.reject(table, row, Some(id), month, code, e),
                        }
                    }
                    let Some(entity) = self.admit(table, row, id, entity, month) else {
                        self.scratch = read;
                        return;
                    };
                    let stored = self.store_columns(cols, &read);
                    self.scratch = read;
                    let stored = match stored {
                        Some(stored) => stored,
                        None => {
                            let list = self
                                .scratch
                                .iter()
                                .filter_map(|&(k, amount)| {
                                    let component = cols.components.get(k)?.1.clone();
                                    Some(ComponentAmount { component, amount })
                                })
                                .collect();
                            self.store_general(AumInput::Averages(list))
                        }
                    };
                    return self.push_record(table, row, id, entity, kind, month, stored);
                } else {
                    let column = cols.column(&ColumnRole::Aum).unwrap_or_default();
                    match cell_amount_at(cols, cells, column) {
                        Ok(Some(a)) => AumInput::Total(a),
                        Ok(None) => return self.reject(table, row, Some(id), month, "aum", "the AUM is empty"),
                        Err(e) => return self.reject(table, row, Some(id), month, "aum", e),
                    }
                };
                self.push_aum(table, row, id, entity, kind, month, aum);
            }
            TableKind::Daily => {
                let text = cell(&ColumnRole::Date).unwrap_or_default();
                let Some(day) = date(text) else {
                    let message = format!("`{text}` is not a date: expected YYYY-MM-DD or YYYYMMDD");
                    self.month_cells.unread(row, &message);
                    return self.reject(table, row, Some(id), None, "date", message);
                };
                self.month_cells.read += 1;
                let month = Month::from_date(day).ok();
                let component = cell(&ColumnRole::Component).unwrap_or_default();
                let column = cols.column(&ColumnRole::Balance).unwrap_or_default();
                let balance = match cell_amount_at(cols, cells, column) {
                    Ok(balance) => balance,
                    Err(e) => return self.reject(table, row, Some(id), month, "balance", e),
                };
                self.push_daily(table, row, id, entity, kind, day, component, balance);
            }
            TableKind::Designations => {
                let Ok(Some(month)) = month_of(self, cell(&ColumnRole::Month), "month") else { return };
                match self.designation_change(cols, cells) {
                    Ok(change) => self.push_designation(table, row, id, month, change),
                    Err((field, message)) => self.reject(table, row, Some(id), Some(month), &field, message),
                }
            }
        }
    }

    fn designation_change<C: Cells + ?Sized>(
        &self,
        cols: &Columns,
        cells: &C,
    ) -> Result<SpecialChange, (String, String)> {
        let cell = |role: &ColumnRole| cols.column(role).and_then(|i| cells.text(i)).map(trim_cr).unwrap_or_default();
        let action = cell(&ColumnRole::Action);
        // One spelling rule (SPEC §16): codes and names exactly as written, no case folding.
        match action {
            "revoke" | "撤销" => return Ok(SpecialChange::Revoke),
            "grant" | "认定" => {}
            _ => {
                return Err((
                    "special".into(),
                    format!("`{action}` is not a designation action: expected grant (认定) or revoke (撤销)"),
                ));
            }
        }
        let tier_text = cell(&ColumnRole::Tier);
        let tier = if tier_text.is_empty() {
            None
        } else {
            match self.tier_names.get(tier_text) {
                Some(t) => Some(*t),
                None => {
                    return Err((
                        "special.tier".into(),
                        format!("`{tier_text}` is not a tier of the rule book (a code or a Chinese or English name)"),
                    ));
                }
            }
        };
        let months_text = cell(&ColumnRole::Months);
        let months = if months_text.is_empty() {
            None
        } else if months_text.bytes().all(|b| b.is_ascii_digit()) && months_text.len() <= 4 {
            months_text.parse::<u32>().ok()
        } else {
            return Err((
                "special.months".into(),
                format!("`{months_text}` is not a number of months: expected a whole number such as 12"),
            ));
        };
        Ok(SpecialChange::Grant { tier, months })
    }
}

/// A total kept as its mantissa and scale ([`AumForm::Total`]): the same decimal.
#[inline]
fn total_of(mantissa: u64, scale: u32) -> Decimal {
    Decimal::try_from_i128_with_scale(i128::from(mantissa), scale).unwrap_or_default()
}

/// A cell of a record: text, as a delimited file holds it, or an amount from a typed column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// Text, read as [`Extract::push_cells`] reads a cell (an empty cell: nothing held, the
    /// stored value kept; a database NULL is one).
    Text(&'a str),
    /// An exact amount, from a decimal column (or integer fen the reader converted with
    /// [`from_fen`](crate::from_fen)).
    Amount(Decimal),
}

/// The cells of a record, as text or typed.
trait Cells {
    /// The number of cells.
    fn count(&self) -> usize;
    /// The text of cell `i` (empty for a typed amount); none past the last cell.
    fn text(&self, i: usize) -> Option<&str>;
    /// The typed amount of cell `i`, when it is one.
    fn amount(&self, i: usize) -> Option<Decimal>;
}

impl Cells for [&str] {
    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn text(&self, i: usize) -> Option<&str> {
        self.get(i).copied()
    }
    #[inline]
    fn amount(&self, _: usize) -> Option<Decimal> {
        None
    }
}

impl Cells for [Cell<'_>] {
    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn text(&self, i: usize) -> Option<&str> {
        self.get(i).map(|c| match c {
            Cell::Text(t) => *t,
            Cell::Amount(_) => "",
        })
    }
    #[inline]
    fn amount(&self, i: usize) -> Option<Decimal> {
        match self.get(i) {
            Some(Cell::Amount(d)) => Some(*d),
            _ => None,
        }
    }
}

/// The amount of cell `column` of a record: none for an empty cell.
#[inline]
fn cell_amount_at<C: Cells + ?Sized>(cols: &Columns, cells: &C, column: usize) -> Result<Option<Decimal>, String> {
    if let Some(amount) = cells.amount(column) {
        return Ok(Some(amount));
    }
    let text = trim_cr(cells.text(column).unwrap_or_default());
    if text.is_empty() {
        return Ok(None);
    }
    cell_amount(cols, column, text).map(Some)
}

/// `text.trim_matches('\r')`, at once when the text neither starts nor ends with one.
#[inline]
fn trim_cr(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(a), Some(z)) if *a != b'\r' && *z != b'\r' => text,
        _ => text.trim_matches('\r'),
    }
}

/// A customer kind cell (not blank), the usual spellings without a lowercase copy.
#[inline]
fn customer_kind(text: &str) -> Result<CustomerKind, String> {
    match text {
        "personal" => Ok(CustomerKind::Personal),
        "corporate" => Ok(CustomerKind::Corporate),
        _ => text.parse(),
    }
}

/// Whether an id or code is certainly valid (printable ASCII without spaces, 1 to 64 bytes),
/// the usual case, checked without [`validate_customer_id`]'s character-by-character rule.
#[inline]
fn plainly_valid(id: &str) -> bool {
    !id.is_empty() && id.len() <= super::record::MAX_CUSTOMER_ID_BYTES && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The amount of a text cell: a plain decimal, or whole fen in a `_fen` column.
fn cell_amount(cols: &Columns, column: usize, text: &str) -> Result<Decimal, String> {
    if !cols.is_fen(column) {
        return parse_amount(text).map_err(|e| e.to_string());
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    match text.parse::<i64>() {
        Ok(fen) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(crate::money::from_fen(fen)),
        _ => Err(format!("`{text}` is not a whole number of fen (分)")),
    }
}

/// A typed error about a record, for the evaluation.
pub(crate) fn located(error: impl Into<TieringError>, record: RecordRef) -> RecordError {
    RecordError::at(error, Some(record))
}

#[cfg(test)]
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
