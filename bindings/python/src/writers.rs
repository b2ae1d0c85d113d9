//! The writers of the output tables: one per table (states, events, alerts, errors), fed by
//! the core's portfolio month through [`PortfolioSink`], and the simulation's counts.
//!
//! Code columns (status, tiers, event and alert kinds, reasons) are dictionary columns over the
//! rule book's codes, months are `date32` (the month's first day: `datetime.date` in Python),
//! amounts `decimal128(38, 2)`.
//!
//! Columns are filled into plain vectors with room for the expected rows, and each becomes an
//! Arrow array without a copy; a validity bitmap is only built once a column meets a null. The
//! states table's `customer_id` is the portfolio's [`IdColumn`] (every customer's id, kept
//! between months) or a selection of it: a month that evaluates every customer shares it
//! without copying an id.

use std::sync::Arc;

use arrow_array::builder::{Date32Builder, Int64Builder, StringBuilder, UInt64Builder};
use arrow_array::types::{ArrowPrimitiveType, Date32Type, Decimal128Type, Int8Type, Int16Type, UInt32Type};
use arrow_array::{Array, ArrayRef, BooleanArray, DictionaryArray, PrimitiveArray, RecordBatch, StringArray};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use crm_tiering::portfolio::{PortfolioSink, PortfolioStates, RecordError, Simulation};
use crm_tiering::{
    Alert, AlertKind, Customer, CustomerRef, CustomerState, Decimal, Event, EventKind, Month, Reason, RuleBook, Status,
    TierCode, to_fen,
};
use pyo3_arrow::PyTable;

/// The tier codes of rule books, in the order their rule sets list them (the dictionaries of
/// every tier column; a code from elsewhere, a state set from another book, is appended).
#[derive(Clone, Debug, Default)]
pub(crate) struct Codes {
    tiers: Vec<TierCode>,
}

impl Codes {
    pub(crate) fn of(books: &[&RuleBook]) -> Self {
        let mut tiers: Vec<TierCode> = Vec::new();
        for t in books.iter().flat_map(|b| b.tier_codes()) {
            if !tiers.contains(&t) {
                tiers.push(t);
            }
        }
        Codes { tiers }
    }

    #[inline]
    fn key(&mut self, t: TierCode) -> i16 {
        match self.tiers.iter().position(|x| *x == t) {
            Some(i) => i as i16,
            None => self.add(t),
        }
    }

    #[cold]
    fn add(&mut self, t: TierCode) -> i16 {
        self.tiers.push(t);
        (self.tiers.len() - 1) as i16
    }

    #[inline]
    fn opt_key(&mut self, t: Option<TierCode>) -> Option<i16> {
        t.map(|t| self.key(t))
    }

    fn values(&self) -> ArrayRef {
        Arc::new(StringArray::from_iter_values(self.tiers.iter().map(TierCode::as_str)))
    }
}

const STATUSES: [Status; 3] = Status::ALL;

#[inline]
fn position<T: PartialEq + Copy>(all: &[T], v: T) -> i8 {
    all.iter().position(|x| *x == v).unwrap_or(0) as i8
}

fn values(codes: impl Iterator<Item = &'static str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(codes))
}

/// Bits filled row by row, packed 64 at a time (Arrow's order: row `i` is bit `i % 8` of byte
/// `i / 8`), without a branch per row.
#[derive(Default)]
struct Bits {
    words: Vec<u64>,
    word: u64,
    len: usize,
}

impl Bits {
    fn with_capacity(n: usize) -> Self {
        Bits { words: Vec::with_capacity(n.div_ceil(64)), word: 0, len: 0 }
    }

    /// `n` bits set.
    fn ones(n: usize) -> Self {
        let mut words = Vec::with_capacity(n.div_ceil(64) * 2);
        words.resize(n / 64, u64::MAX);
        let rest = n % 64;
        Bits { words, word: if rest == 0 { 0 } else { u64::MAX >> (64 - rest) }, len: n }
    }

    #[inline]
    fn push(&mut self, bit: bool) {
        self.word |= u64::from(bit) << (self.len % 64);
        self.len += 1;
        if self.len.is_multiple_of(64) {
            self.words.push(self.word.to_le());
            self.word = 0;
        }
    }

    fn finish(mut self) -> BooleanBuffer {
        if !self.len.is_multiple_of(64) {
            self.words.push(self.word.to_le());
        }
        BooleanBuffer::new(Buffer::from_vec(self.words), 0, self.len)
    }
}

/// Validity filled row by row: nothing until the first null, then one bit per row.
#[derive(Default)]
struct Validity {
    rows: usize,
    bits: Option<Bits>,
}

impl Validity {
    #[inline]
    fn push(&mut self, valid: bool) {
        match &mut self.bits {
            Some(b) => b.push(valid),
            None if valid => {}
            None => self.first_null(),
        }
        self.rows += 1;
    }

    #[cold]
    fn first_null(&mut self) {
        let mut bits = Bits::ones(self.rows);
        bits.push(false);
        self.bits = Some(bits);
    }

    fn finish(self) -> Option<NullBuffer> {
        self.bits.map(|b| NullBuffer::new(b.finish()))
    }
}

/// A primitive column filled row by row: the values in a vector (taken by the array without a
/// copy), a validity bitmap only once a null is met.
struct Col<T: ArrowPrimitiveType> {
    values: Vec<T::Native>,
    nulls: Validity,
}

impl<T: ArrowPrimitiveType> Col<T> {
    fn with_capacity(n: usize) -> Self {
        Col { values: Vec::with_capacity(n), nulls: Validity::default() }
    }

    #[inline]
    fn push(&mut self, v: T::Native) {
        self.values.push(v);
        self.nulls.push(true);
    }

    #[inline]
    fn push_opt(&mut self, v: Option<T::Native>) {
        self.nulls.push(v.is_some());
        self.values.push(v.unwrap_or_default());
    }

    fn finish(mut self) -> Result<PrimitiveArray<T>, ArrowError> {
        self.values.shrink_to_fit();
        PrimitiveArray::try_new(ScalarBuffer::from(self.values), self.nulls.finish())
    }
}

/// A boolean column filled row by row.
struct Bools {
    values: Bits,
    nulls: Validity,
}

impl Bools {
    fn with_capacity(n: usize) -> Self {
        Bools { values: Bits::with_capacity(n), nulls: Validity::default() }
    }

    #[inline]
    fn push(&mut self, v: bool) {
        self.values.push(v);
        self.nulls.push(true);
    }

    #[inline]
    fn push_opt(&mut self, v: Option<bool>) {
        self.nulls.push(v.is_some());
        self.values.push(v.unwrap_or_default());
    }

    fn finish(self) -> Result<ArrayRef, ArrowError> {
        let values = self.values.finish();
        let nulls = self.nulls.finish();
        if nulls.as_ref().is_some_and(|n| n.len() != values.len()) {
            return Err(ArrowError::InvalidArgumentError("a boolean column's validity has another length".into()));
        }
        Ok(Arc::new(BooleanArray::new(values, nulls)))
    }
}

fn array<T: ArrowPrimitiveType>(col: Col<T>) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(col.finish()?))
}

/// An amount column: `decimal128(38, 2)`, fen.
fn amounts(col: Col<Decimal128Type>) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(col.finish()?.with_precision_and_scale(38, 2)?))
}

/// An amount at fen scale (the core's conversion; amounts out of the engine always are).
#[inline]
fn fen(d: Decimal) -> Option<i128> {
    to_fen(d).map(i128::from)
}

/// A code column and its Chinese names, sharing the keys.
fn coded(keys: Col<Int8Type>, codes: ArrayRef, names_zh: ArrayRef) -> Result<(ArrayRef, ArrayRef), ArrowError> {
    let k = keys.finish()?;
    Ok((
        Arc::new(DictionaryArray::<Int8Type>::try_new(k.clone(), codes)?),
        Arc::new(DictionaryArray::<Int8Type>::try_new(k, names_zh)?),
    ))
}

fn tiers(keys: Col<Int16Type>, values: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(DictionaryArray::<Int16Type>::try_new(keys.finish()?, values.clone())?))
}

fn dec_builder(cap: usize) -> arrow_array::builder::Decimal128Builder {
    arrow_array::builder::Decimal128Builder::with_capacity(cap).with_data_type(DataType::Decimal128(38, 2))
}

/// Appends an amount at fen scale (the core's conversion; amounts out of the engine always are).
fn append_dec(b: &mut arrow_array::builder::Decimal128Builder, d: Option<Decimal>) {
    b.append_option(d.and_then(fen));
}

/// Days from 1970-01-01 to the first day of a month (the proleptic Gregorian calendar), as
/// Arrow's `date32` counts them.
pub(crate) fn month_days(m: Month) -> i32 {
    let (y, mo) = (i64::from(m.year()), i64::from(m.month()));
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

fn month(b: &mut Date32Builder, m: Option<Month>) {
    b.append_option(m.map(month_days));
}

/// A month's `date32` value, computed once for the rows of one month.
#[derive(Default)]
struct Days(Option<(Month, i32)>);

impl Days {
    #[inline]
    fn of(&mut self, m: Month) -> i32 {
        match self.0 {
            Some((last, d)) if last == m => d,
            _ => {
                let d = month_days(m);
                self.0 = Some((m, d));
                d
            }
        }
    }
}

pub(crate) fn batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch, ArrowError> {
    let fields: Vec<Field> = columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns.into_iter().map(|(_, a)| a).collect())
}

pub(crate) fn table(b: RecordBatch) -> Result<PyTable, ArrowError> {
    let schema = b.schema();
    PyTable::try_new(vec![b], schema).map_err(|e| ArrowError::ExternalError(Box::new(e)))
}

/// The customer ids of a portfolio's states, in the states' order, as one Arrow column kept
/// between months: customers only ever join at the end, so the column is extended, and the
/// states table of a month that evaluates every customer is this column itself (no id copied).
#[derive(Default)]
pub(crate) struct IdColumn {
    ids: Option<StringArray>,
}

impl IdColumn {
    /// The column for `customers`: the kept one when it still is their ids' prefix (checked at
    /// its last id), extended with the customers that joined since; else built anew.
    pub(crate) fn of(&mut self, customers: &PortfolioStates) -> &StringArray {
        let n = customers.len();
        let kept = match self.ids.take() {
            Some(a) if a.len() == n && a.null_count() == 0 && same_last(&a, customers) => a,
            Some(a) if a.len() < n && a.null_count() == 0 && same_last(&a, customers) => {
                let more = || customers.customers().skip(a.len());
                let bytes = a.value_data().len() + more().map(|c| c.id.len()).sum::<usize>();
                let mut b = StringBuilder::with_capacity(n, bytes);
                for id in a.iter().flatten() {
                    b.append_value(id);
                }
                for c in more() {
                    b.append_value(c.id);
                }
                b.finish()
            }
            _ => {
                let bytes = customers.customers().map(|c| c.id.len()).sum::<usize>();
                let mut b = StringBuilder::with_capacity(n, bytes);
                for c in customers.customers() {
                    b.append_value(c.id);
                }
                b.finish()
            }
        };
        self.ids.insert(kept)
    }

    /// Forgets the column (the states were replaced).
    pub(crate) fn clear(&mut self) {
        self.ids = None;
    }
}

fn same_last(a: &StringArray, customers: &PortfolioStates) -> bool {
    match a.len().checked_sub(1) {
        None => true,
        Some(last) => customers.customer(last).is_some_and(|c| a.value(last) == c.id),
    }
}

/// The ids at `index` of `all`, copied.
fn select(all: &StringArray, index: &[u32]) -> Result<StringArray, ArrowError> {
    let n = all.len();
    let mut bytes = 0usize;
    for &i in index {
        let i = i as usize;
        if i >= n {
            return Err(ArrowError::InvalidArgumentError(format!("customer index {i} of {n}")));
        }
        bytes += all.value_length(i) as usize;
    }
    let mut b = StringBuilder::with_capacity(index.len(), bytes);
    for &i in index {
        b.append_value(all.value(i as usize));
    }
    Ok(b.finish())
}

/// A `customer_id` column: ids copied row by row (rows read back from a store), or the
/// customers' indices in the portfolio's states, resolved against its [`IdColumn`] when
/// finished (one copy, from one buffer, rather than one per row from each customer; none at
/// all for a run of consecutive customers, the states of a month that evaluates everyone).
enum Ids {
    Text(StringBuilder),
    /// Consecutive customers so far: `len` of them from `first`.
    Run {
        first: usize,
        len: usize,
        capacity: usize,
    },
    Index(Vec<u32>),
}

impl Ids {
    fn new(n: usize, indexed: bool) -> Self {
        if indexed {
            Ids::Run { first: 0, len: 0, capacity: n }
        } else {
            Ids::Text(StringBuilder::with_capacity(n, n * 12))
        }
    }

    /// The row of the customer at `index`, whose id is `id`.
    #[inline]
    fn indexed(&mut self, index: usize, id: &str) {
        match self {
            Ids::Run { first, len, .. } if *len == 0 => {
                *first = index;
                *len = 1;
            }
            Ids::Run { first, len, .. } if *first + *len == index => *len += 1,
            Ids::Run { .. } => self.break_run(index),
            Ids::Index(v) => v.push(u32::try_from(index).unwrap_or(u32::MAX)),
            Ids::Text(b) => b.append_value(id),
        }
    }

    /// A run of consecutive customers meets another one: its indices are written out.
    #[cold]
    fn break_run(&mut self, index: usize) {
        if let Ids::Run { first, len, capacity } = *self {
            let mut v: Vec<u32> = Vec::with_capacity(capacity.max(len + 1));
            v.extend((first..first + len).map(|i| u32::try_from(i).unwrap_or(u32::MAX)));
            v.push(u32::try_from(index).unwrap_or(u32::MAX));
            *self = Ids::Index(v);
        }
    }

    /// A row of a customer known by its id only.
    fn named(&mut self, id: &str) {
        match self {
            Ids::Text(b) => b.append_value(id),
            // A column of indexed rows is never given named ones: an index `finish` refuses.
            Ids::Run { .. } => self.break_run(u32::MAX as usize),
            Ids::Index(v) => v.push(u32::MAX),
        }
    }

    /// Whether `finish` needs the column of every customer's id.
    fn needs_all(&self) -> bool {
        match self {
            Ids::Text(_) => false,
            Ids::Run { len, .. } => *len > 0,
            Ids::Index(v) => !v.is_empty(),
        }
    }

    /// The column; indexed ids are resolved against `all`, the column of every customer's id.
    fn finish(self, all: Option<&StringArray>) -> Result<StringArray, ArrowError> {
        match (self, all) {
            (Ids::Text(mut b), _) => Ok(b.finish()),
            (Ids::Run { len: 0, .. }, _) => Ok(StringArray::from(Vec::<&str>::new())),
            (Ids::Index(index), _) if index.is_empty() => Ok(StringArray::from(Vec::<&str>::new())),
            (Ids::Run { first, len, .. }, Some(all)) if first + len <= all.len() => Ok(all.slice(first, len)),
            (Ids::Index(index), Some(all)) => select(all, &index),
            (Ids::Run { first, len, .. }, Some(all)) => {
                Err(ArrowError::InvalidArgumentError(format!("customers {first} to {} of {}", first + len, all.len())))
            }
            (_, None) => Err(ArrowError::InvalidArgumentError("the customers' ids are not given".into())),
        }
    }
}

/// The states table: one row per customer evaluated in a month.
struct StatesWriter {
    ids: Ids,
    days: Days,
    month: Col<Date32Type>,
    aum: Col<Decimal128Type>,
    has_record: Bools,
    status: Col<Int8Type>,
    tier: Col<Int16Type>,
    effective: Col<Int16Type>,
    vip: Bools,
    watch: Col<UInt32Type>,
    below: Col<UInt32Type>,
    retention: Col<UInt32Type>,
    special_tier: Col<Int16Type>,
    special_until: Col<Date32Type>,
}

impl StatesWriter {
    /// A writer of about `n` rows whose ids are given as indices (`indexed`) or as text.
    fn new(n: usize, indexed: bool) -> Self {
        StatesWriter {
            ids: Ids::new(n, indexed),
            days: Days::default(),
            month: Col::with_capacity(n),
            aum: Col::with_capacity(n),
            has_record: Bools::with_capacity(n),
            status: Col::with_capacity(n),
            tier: Col::with_capacity(n),
            effective: Col::with_capacity(n),
            vip: Bools::with_capacity(n),
            watch: Col::with_capacity(n),
            below: Col::with_capacity(n),
            retention: Col::with_capacity(n),
            special_tier: Col::with_capacity(n),
            special_until: Col::with_capacity(n),
        }
    }

    /// The row of the customer at `index` in the portfolio's states.
    #[inline]
    fn indexed(
        &mut self,
        codes: &mut Codes,
        m: Month,
        (index, c): (usize, CustomerRef<'_>),
        aum: Decimal,
        record: bool,
        s: &CustomerState,
    ) {
        self.ids.indexed(index, c.id);
        self.values(codes, m, Some((aum, record)), s);
    }

    /// `evaluated` is the month's AUM and whether the customer had a record; none for a
    /// customer held back (read from a store: `aum` and `has_record` are then null).
    fn named(
        &mut self,
        codes: &mut Codes,
        m: Month,
        c: &Customer,
        evaluated: Option<(Decimal, bool)>,
        s: &CustomerState,
    ) {
        self.ids.named(&c.id);
        self.values(codes, m, evaluated, s);
    }

    #[inline]
    fn values(&mut self, codes: &mut Codes, m: Month, evaluated: Option<(Decimal, bool)>, s: &CustomerState) {
        self.month.push(self.days.of(m));
        self.aum.push_opt(evaluated.and_then(|e| fen(e.0)));
        self.has_record.push_opt(evaluated.map(|e| e.1));
        self.status.push(position(&STATUSES, s.status));
        self.tier.push_opt(codes.opt_key(s.tier));
        self.effective.push_opt(codes.opt_key(s.effective_tier));
        self.vip.push(s.is_vip());
        self.watch.push(s.watch_months());
        self.below.push(s.below_entry_months());
        self.retention.push(u32::from(s.retention_months_left));
        self.special_tier.push_opt(codes.opt_key(s.special.map(|x| x.tier)));
        self.special_until.push_opt(s.special.map(|x| month_days(x.last_month)));
    }

    /// The table; indexed ids are resolved against `all`, the column of every customer's id.
    fn finish(self, tier_values: &ArrayRef, all: Option<&StringArray>) -> Result<RecordBatch, ArrowError> {
        let ids = self.ids.finish(all)?;
        let (status, status_zh) = coded(
            self.status,
            values(STATUSES.iter().map(|s| s.as_str())),
            values(STATUSES.iter().map(|s| s.name_zh())),
        )?;
        batch(vec![
            ("customer_id", Arc::new(ids)),
            ("month", array(self.month)?),
            ("aum", amounts(self.aum)?),
            ("has_record", self.has_record.finish()?),
            ("status", status),
            ("status_zh", status_zh),
            ("tier", tiers(self.tier, tier_values)?),
            ("effective_tier", tiers(self.effective, tier_values)?),
            ("is_vip", self.vip.finish()?),
            ("watch_months", array(self.watch)?),
            ("below_entry_months", array(self.below)?),
            ("retention_months_left", array(self.retention)?),
            ("special_tier", tiers(self.special_tier, tier_values)?),
            ("special_until", array(self.special_until)?),
        ])
    }
}

/// The events table.
struct EventsWriter {
    /// The explanation of each event, when asked for (else the column is all null).
    text: Option<StringBuilder>,
    customer: Ids,
    month: Col<Date32Type>,
    effective: Col<Date32Type>,
    kind: Col<Int8Type>,
    tier: Col<Int16Type>,
    from: Col<Int16Type>,
    to: Col<Int16Type>,
    reason: Col<Int8Type>,
    aum: Col<Decimal128Type>,
    threshold: Col<Decimal128Type>,
    window_from: Col<Date32Type>,
    window_months: Col<UInt32Type>,
    peak: Col<Decimal128Type>,
}

impl EventsWriter {
    fn new(n: usize, explain: bool, indexed: bool) -> Self {
        EventsWriter {
            text: explain.then(StringBuilder::new),
            customer: Ids::new(n, indexed),
            month: Col::with_capacity(n),
            effective: Col::with_capacity(n),
            kind: Col::with_capacity(n),
            tier: Col::with_capacity(n),
            from: Col::with_capacity(n),
            to: Col::with_capacity(n),
            reason: Col::with_capacity(n),
            aum: Col::with_capacity(n),
            threshold: Col::with_capacity(n),
            window_from: Col::with_capacity(n),
            window_months: Col::with_capacity(n),
            peak: Col::with_capacity(n),
        }
    }

    fn row(&mut self, codes: &mut Codes, e: &Event) {
        self.month.push(month_days(e.month));
        self.effective.push(month_days(e.effective_from()));
        self.kind.push(position(EventKind::ALL, e.kind));
        self.tier.push_opt(codes.opt_key(e.to_tier.or(e.from_tier)));
        self.from.push_opt(codes.opt_key(e.from_tier));
        self.to.push_opt(codes.opt_key(e.to_tier));
        self.reason.push(position(Reason::ALL, e.reason));
        self.aum.push_opt(Some(i128::from(e.evidence.aum_fen())));
        self.threshold.push_opt(e.evidence.threshold_fen().map(i128::from));
        self.window_from.push_opt(e.evidence.window_from.map(month_days));
        self.window_months.push_opt(e.evidence.window_months);
        self.peak.push_opt(e.evidence.peak_aum_fen().map(i128::from));
        if let Some(text) = &mut self.text {
            text.append_value(e.explain());
        }
    }

    fn finish(mut self, tier_values: &ArrayRef, all: Option<&StringArray>) -> Result<RecordBatch, ArrowError> {
        let rows = self.month.values.len();
        let text = match &mut self.text {
            Some(b) => b.finish(),
            None => StringArray::new_null(rows),
        };
        let (kind, kind_zh) = coded(
            self.kind,
            values(EventKind::ALL.iter().map(|k| k.as_str())),
            values(EventKind::ALL.iter().map(|k| k.name_zh())),
        )?;
        let (reason, reason_zh) = coded(
            self.reason,
            values(Reason::ALL.iter().map(|k| k.as_str())),
            values(Reason::ALL.iter().map(|k| k.name_zh())),
        )?;
        batch(vec![
            ("customer_id", Arc::new(self.customer.finish(all)?)),
            ("month", array(self.month)?),
            ("effective_from", array(self.effective)?),
            ("kind", kind),
            ("kind_zh", kind_zh),
            ("tier", tiers(self.tier, tier_values)?),
            ("from_tier", tiers(self.from, tier_values)?),
            ("to_tier", tiers(self.to, tier_values)?),
            ("reason", reason),
            ("reason_zh", reason_zh),
            ("aum", amounts(self.aum)?),
            ("threshold", amounts(self.threshold)?),
            ("window_from", array(self.window_from)?),
            ("window_months", array(self.window_months)?),
            ("peak_aum", amounts(self.peak)?),
            ("explain", Arc::new(text)),
        ])
    }
}

/// The alerts table.
struct AlertsWriter {
    customer: Ids,
    month: Col<Date32Type>,
    kind: Col<Int8Type>,
    tier: Col<Int16Type>,
    counted: Col<UInt32Type>,
    left: Col<UInt32Type>,
    aum: Col<Decimal128Type>,
    threshold: Col<Decimal128Type>,
    gap: Col<Decimal128Type>,
}

impl AlertsWriter {
    fn new(n: usize, indexed: bool) -> Self {
        AlertsWriter {
            customer: Ids::new(n, indexed),
            month: Col::with_capacity(n),
            kind: Col::with_capacity(n),
            tier: Col::with_capacity(n),
            counted: Col::with_capacity(n),
            left: Col::with_capacity(n),
            aum: Col::with_capacity(n),
            threshold: Col::with_capacity(n),
            gap: Col::with_capacity(n),
        }
    }

    fn row(&mut self, codes: &mut Codes, a: &Alert) {
        self.month.push(month_days(a.month));
        self.kind.push(position(AlertKind::ALL, a.kind));
        self.tier.push_opt(codes.opt_key(a.tier));
        self.counted.push_opt(a.months_counted);
        self.left.push_opt(a.months_left);
        self.aum.push_opt(a.aum_fen().map(i128::from));
        self.threshold.push_opt(a.threshold_fen().map(i128::from));
        self.gap.push_opt(a.gap_fen().map(i128::from));
    }

    fn finish(self, tier_values: &ArrayRef, all: Option<&StringArray>) -> Result<RecordBatch, ArrowError> {
        let (kind, kind_zh) = coded(
            self.kind,
            values(AlertKind::ALL.iter().map(|k| k.as_str())),
            values(AlertKind::ALL.iter().map(|k| k.name_zh())),
        )?;
        batch(vec![
            ("customer_id", Arc::new(self.customer.finish(all)?)),
            ("month", array(self.month)?),
            ("kind", kind),
            ("kind_zh", kind_zh),
            ("tier", tiers(self.tier, tier_values)?),
            ("months_counted", array(self.counted)?),
            ("months_left", array(self.left)?),
            ("aum", amounts(self.aum)?),
            ("threshold", amounts(self.threshold)?),
            ("gap", amounts(self.gap)?),
        ])
    }
}

/// The errors table: one row per held customer or refused record, with exactly the core's
/// error parts (the same as the exceptions' attributes).
#[derive(Default)]
pub(crate) struct ErrorsWriter {
    customer: StringBuilder,
    month: Date32Builder,
    reported_in: Date32Builder,
    category: StringBuilder,
    field: StringBuilder,
    message: StringBuilder,
    record_table: StringBuilder,
    record_row: UInt64Builder,
    other_table: StringBuilder,
    other_row: UInt64Builder,
}

impl ErrorsWriter {
    pub(crate) fn row(&mut self, reported_in: Option<Month>, e: &RecordError) {
        self.customer.append_option(e.customer());
        month(&mut self.month, e.month());
        month(&mut self.reported_in, reported_in);
        self.category.append_value(e.category());
        self.field.append_option(e.field());
        self.message.append_value(e.error.to_string());
        self.record_table.append_option(e.record.as_ref().map(|r| r.table.as_str()));
        self.record_row.append_option(e.record.as_ref().map(|r| r.row));
        self.other_table.append_option(e.other_record.as_ref().map(|r| r.table.as_str()));
        self.other_row.append_option(e.other_record.as_ref().map(|r| r.row));
    }

    fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        batch(vec![
            ("customer_id", Arc::new(self.customer.finish())),
            ("month", Arc::new(self.month.finish())),
            ("reported_in", Arc::new(self.reported_in.finish())),
            ("category", Arc::new(self.category.finish())),
            ("field", Arc::new(self.field.finish())),
            ("message", Arc::new(self.message.finish())),
            ("record_table", Arc::new(self.record_table.finish())),
            ("record_row", Arc::new(self.record_row.finish())),
            ("other_record_table", Arc::new(self.other_table.finish())),
            ("other_record_row", Arc::new(self.other_row.finish())),
        ])
    }
}

/// The four result tables of a portfolio run: states, events, alerts, errors.
pub(crate) struct TablesSink {
    codes: Codes,
    states: StatesWriter,
    events: EventsWriter,
    alerts: AlertsWriter,
    errors: ErrorsWriter,
}

impl TablesSink {
    /// A sink for about `rows` customer-months, `joining` of them new customers (each new
    /// customer's first month usually has an event).
    pub(crate) fn new(rows: usize, joining: usize, explain: bool, codes: Codes) -> Self {
        TablesSink {
            codes,
            states: StatesWriter::new(rows, true),
            events: EventsWriter::new(rows / 4 + joining + 16, explain, true),
            alerts: AlertsWriter::new(rows / 4 + 16, true),
            errors: ErrorsWriter::default(),
        }
    }

    /// The four tables; the customers' ids are taken from `ids`, the column of the ids of
    /// `customers` (the portfolio's states after the run).
    pub(crate) fn finish(self, ids: &mut IdColumn, customers: &PortfolioStates) -> Result<[PyTable; 4], ArrowError> {
        let tier_values = self.codes.values();
        let needed =
            self.states.ids.needs_all() || self.events.customer.needs_all() || self.alerts.customer.needs_all();
        let all = if needed { Some(ids.of(customers)) } else { None };
        Ok([
            table(self.states.finish(&tier_values, all)?)?,
            table(self.events.finish(&tier_values, all)?)?,
            table(self.alerts.finish(&tier_values, all)?)?,
            table(self.errors.finish()?)?,
        ])
    }
}

impl PortfolioSink for TablesSink {
    fn event(&mut self, _month: Month, index: usize, customer: CustomerRef<'_>, event: &Event) {
        self.events.customer.indexed(index, customer.id);
        self.events.row(&mut self.codes, event);
    }
    fn alert(&mut self, _month: Month, index: usize, customer: CustomerRef<'_>, alert: &Alert) {
        self.alerts.customer.indexed(index, customer.id);
        self.alerts.row(&mut self.codes, alert);
    }
    fn evaluated(
        &mut self,
        m: Month,
        index: usize,
        c: CustomerRef<'_>,
        aum: Decimal,
        has_record: bool,
        s: &CustomerState,
    ) {
        self.states.indexed(&mut self.codes, m, (index, c), aum, has_record, s);
    }
    fn held(&mut self, m: Month, _index: Option<usize>, error: &RecordError) {
        self.errors.row(Some(m), error);
    }
}

/// The states, events and alerts tables of rows read back from a store (`store.rs`): the same
/// columns as [`TablesSink`]'s.
pub(crate) struct RowTables {
    codes: Codes,
    states: StatesWriter,
    events: EventsWriter,
    alerts: AlertsWriter,
}

impl RowTables {
    /// Tables for about `states`, `events` and `alerts` rows.
    pub(crate) fn new(states: usize, events: usize, alerts: usize, explain: bool, codes: Codes) -> Self {
        RowTables {
            codes,
            states: StatesWriter::new(states, false),
            events: EventsWriter::new(events, explain, false),
            alerts: AlertsWriter::new(alerts, false),
        }
    }

    /// A customer's state after month `m`; `evaluated` none for a customer held back.
    pub(crate) fn state(&mut self, m: Month, c: &Customer, evaluated: Option<(Decimal, bool)>, s: &CustomerState) {
        self.states.named(&mut self.codes, m, c, evaluated, s);
    }

    pub(crate) fn event(&mut self, customer_id: &str, e: &Event) {
        self.events.customer.named(customer_id);
        self.events.row(&mut self.codes, e);
    }

    pub(crate) fn alert(&mut self, customer_id: &str, a: &Alert) {
        self.alerts.customer.named(customer_id);
        self.alerts.row(&mut self.codes, a);
    }

    /// The states, events and alerts tables.
    pub(crate) fn finish(self) -> Result<[PyTable; 3], ArrowError> {
        let tier_values = self.codes.values();
        Ok([
            table(self.states.finish(&tier_values, None)?)?,
            table(self.events.finish(&tier_values, None)?)?,
            table(self.alerts.finish(&tier_values, None)?)?,
        ])
    }
}

/// The `counts` and `changes` tables of a simulation (the core's [`Simulation`]).
pub(crate) fn simulation_tables(sim: &Simulation) -> Result<[PyTable; 2], ArrowError> {
    let n = sim.counts.len();
    let (mut month_b, mut tier_b) = (Date32Builder::with_capacity(n), StringBuilder::new());
    let (mut ca, mut cb, mut delta) =
        (Int64Builder::with_capacity(n), Int64Builder::with_capacity(n), Int64Builder::with_capacity(n));
    for c in &sim.counts {
        month_b.append_value(month_days(c.month));
        tier_b.append_option(c.tier.as_ref().map(TierCode::as_str));
        ca.append_value(c.count_a as i64);
        cb.append_value(c.count_b as i64);
        delta.append_value(c.delta());
    }
    let counts = batch(vec![
        ("month", Arc::new(month_b.finish())),
        ("tier", Arc::new(tier_b.finish())),
        ("count_a", Arc::new(ca.finish())),
        ("count_b", Arc::new(cb.finish())),
        ("delta", Arc::new(delta.finish())),
    ])?;
    let k = sim.changes.len();
    let s = || StringBuilder::with_capacity(k, k * 8);
    let (mut c_id, mut c_ta, mut c_tb, mut c_sa, mut c_sb) = (s(), s(), s(), s(), s());
    let mut c_month = Date32Builder::with_capacity(k);
    let mut c_aum = dec_builder(k);
    for c in &sim.changes {
        c_id.append_value(&c.customer_id);
        c_month.append_value(month_days(c.month));
        append_dec(&mut c_aum, Some(c.aum));
        c_ta.append_option(c.tier_a.as_ref().map(TierCode::as_str));
        c_tb.append_option(c.tier_b.as_ref().map(TierCode::as_str));
        c_sa.append_value(c.status_a.as_str());
        c_sb.append_value(c.status_b.as_str());
    }
    let changes = batch(vec![
        ("customer_id", Arc::new(c_id.finish())),
        ("month", Arc::new(c_month.finish())),
        ("aum", Arc::new(c_aum.finish())),
        ("tier_a", Arc::new(c_ta.finish())),
        ("tier_b", Arc::new(c_tb.finish())),
        ("status_a", Arc::new(c_sa.finish())),
        ("status_b", Arc::new(c_sb.finish())),
    ])?;
    Ok([table(counts)?, table(changes)?])
}
