//! The states table's builder ([`StatesTable`]).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::types::{Date32Type, Int32Type, Int64Type};
use arrow_array::{ArrayRef, DictionaryArray, RecordBatch, StringArray, new_null_array};
use arrow_schema::{ArrowError, DataType};
use rust_decimal::Decimal;

use super::codes::{TierCodes, code, coded, position, tiers, values};
use super::columns::{Amounts, Bools, Col, Days, array, month_days};
use super::ids::Ids;
use crate::code::TierCode;
use crate::engine::CustomerRef;
use crate::history::History;
use crate::month::Month;
use crate::portfolio::PortfolioStates;
use crate::rules::CustomerKind;
use crate::state::{CustomerState, Status};

const STATUSES: [Status; 3] = Status::ALL;
const KINDS: [CustomerKind; 2] = CustomerKind::ALL;

/// The states table ([`states_schema`](super::states_schema)) filled row by row: one row per
/// customer and month, the customer's state after the month and its history (the `history`
/// column: [`History::to_cell`]).
///
/// ```
/// use crm_tiering::{Customer, CustomerState, History, Month};
/// use crm_tiering::portfolio::arrow::tables::{StatesTable, TierCodes, states_schema};
/// let mut codes = TierCodes::default();
/// let mut table = StatesTable::new(1);
/// let m: Month = "2024-03".parse()?;
/// let customer = Customer::personal("c1");
/// table.push(&mut codes, m, customer.borrowed(), None, (&CustomerState::default(), &History::new()));
/// let batch = table.finish(&codes, None)?;
/// assert_eq!(batch.schema(), states_schema());
/// assert_eq!(batch.num_rows(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StatesTable {
    ids: Ids,
    entities: Entities,
    kind: Col<Int32Type>,
    days: Days,
    month: Col<Date32Type>,
    evaluated: Bools,
    has_record: Bools,
    aum: Amounts,
    status: Col<Int32Type>,
    tier: Col<Int32Type>,
    effective: Col<Int32Type>,
    vip: Bools,
    watch_since: Col<Date32Type>,
    watch_months: Col<Int64Type>,
    watch_best: Col<Int32Type>,
    watch_peak: Amounts,
    below_since: Col<Date32Type>,
    below_months: Col<Int64Type>,
    below_peak: Amounts,
    retention: Col<Int64Type>,
    special_tier: Col<Int32Type>,
    special_first: Col<Date32Type>,
    special_last: Col<Date32Type>,
    last_month: Col<Date32Type>,
    stages: Stages,
    history: HistoryTexts,
    rows: usize,
}

impl StatesTable {
    /// A table of about `rows` rows, given with their customers' ids ([`StatesTable::push`]).
    pub fn new(rows: usize) -> Self {
        Self::with_ids(Ids::new(rows, false), rows)
    }

    /// A table of about `rows` rows, given with their customers' indices in a portfolio's
    /// states ([`StatesTable::push_indexed`]); the ids are taken from the states'
    /// [`IdColumn`](super::IdColumn) when the table is finished.
    pub fn indexed(rows: usize) -> Self {
        Self::with_ids(Ids::new(rows, true), rows)
    }

    fn with_ids(ids: Ids, n: usize) -> Self {
        StatesTable {
            ids,
            entities: Entities::with_capacity(n),
            kind: Col::with_capacity(n),
            days: Days::default(),
            month: Col::with_capacity(n),
            evaluated: Bools::with_capacity(n),
            has_record: Bools::with_capacity(n),
            aum: Amounts::with_capacity(n),
            status: Col::with_capacity(n),
            tier: Col::with_capacity(n),
            effective: Col::with_capacity(n),
            vip: Bools::with_capacity(n),
            watch_since: Col::with_capacity(n),
            watch_months: Col::with_capacity(n),
            watch_best: Col::with_capacity(n),
            watch_peak: Amounts::with_capacity(n),
            below_since: Col::with_capacity(n),
            below_months: Col::with_capacity(n),
            below_peak: Amounts::with_capacity(n),
            retention: Col::with_capacity(n),
            special_tier: Col::with_capacity(n),
            special_first: Col::with_capacity(n),
            special_last: Col::with_capacity(n),
            last_month: Col::with_capacity(n),
            stages: Stages::default(),
            history: HistoryTexts::default(),
            rows: 0,
        }
    }

    /// The row of `customer` after month `m`, its state and history: `evaluated` is the
    /// month's AUM and whether the customer had a record, none for a customer held back (its
    /// state then is the one it had).
    pub fn push(
        &mut self,
        codes: &mut TierCodes,
        m: Month,
        customer: CustomerRef<'_>,
        evaluated: Option<(Decimal, bool)>,
        (state, history): (&CustomerState, &History),
    ) {
        self.ids.named(customer.id);
        self.history.pad(self.rows);
        self.history.push(history.to_cell());
        self.stages.pad(self.rows);
        self.stages.push(history.stage());
        self.row(codes, m, customer, evaluated, state);
    }

    /// The row of the customer at `index` in a portfolio's states (a table made by
    /// [`StatesTable::indexed`]), evaluated in month `m` with `aum`, `has_record`. Its history
    /// is taken from the states after the month ([`StatesTable::histories`]).
    #[inline]
    pub fn push_indexed(
        &mut self,
        codes: &mut TierCodes,
        m: Month,
        (index, customer): (usize, CustomerRef<'_>),
        (aum, has_record): (Decimal, bool),
        state: &CustomerState,
    ) {
        self.ids.indexed(index, customer.id);
        self.row(codes, m, customer, Some((aum, has_record)), state);
    }

    #[inline]
    fn row(
        &mut self,
        codes: &mut TierCodes,
        m: Month,
        c: CustomerRef<'_>,
        evaluated: Option<(Decimal, bool)>,
        s: &CustomerState,
    ) {
        self.entities.push(c.legal_entity);
        self.kind.push(position(&KINDS, c.kind));
        self.month.push(self.days.of(m));
        self.evaluated.push(evaluated.is_some());
        self.has_record.push_opt(evaluated.map(|e| e.1));
        self.aum.push(evaluated.map(|e| e.0));
        self.status.push(position(&STATUSES, s.status));
        self.tier.push_opt(codes.opt_key(s.tier));
        self.effective.push_opt(codes.opt_key(s.effective_tier));
        self.vip.push(s.is_vip());
        self.watch_since.push_opt(s.watch.map(|w| month_days(w.since)));
        self.watch_months.push_opt(s.watch.map(|w| i64::from(w.short_months)));
        self.watch_best.push_opt(codes.opt_key(s.watch.and_then(|w| w.best_tier)));
        self.watch_peak.push_fen(s.watch.map(|w| w.peak_aum_fen));
        self.below_since.push_opt(s.below_entry.map(|b| month_days(b.since)));
        self.below_months.push_opt(s.below_entry.map(|b| i64::from(b.months)));
        self.below_peak.push_fen(s.below_entry.map(|b| b.peak_aum_fen));
        self.retention.push(i64::from(s.retention_months_left));
        self.special_tier.push_opt(codes.opt_key(s.special.map(|x| x.tier)));
        self.special_first.push_opt(s.special.map(|x| month_days(x.first_month)));
        self.special_last.push_opt(s.special.map(|x| month_days(x.last_month)));
        self.last_month.push_opt(s.last_month.map(month_days));
        self.rows += 1;
    }

    /// The histories of the rows pushed by index since the last call, from `states`, the
    /// portfolio's states after the month of those rows (SPEC §19.5): a month's rows are given
    /// their histories before the next month is evaluated. Nothing is kept for a portfolio
    /// without histories (a book without windows): those rows' cells are null.
    pub fn histories(&mut self, states: &PortfolioStates) {
        if states.history.is_empty() {
            self.stages.pad(self.rows);
            return self.history.pad(self.rows);
        }
        for row in self.history.rows..self.rows {
            let history = self.ids.index(row).map(|i| states.history(i));
            self.stages.push(history.as_ref().and_then(History::stage));
            self.history.push(history.and_then(|h| h.to_cell()));
        }
    }

    /// Whether [`StatesTable::finish`] needs the column of every customer's id (rows were
    /// given by index).
    pub fn needs_ids(&self) -> bool {
        self.ids.needs_all()
    }

    /// The table, its tier columns over `codes` (the codes the rows were pushed with); rows
    /// given by index take their ids from `ids`, the portfolio's [`IdColumn`](super::IdColumn).
    ///
    /// # Errors
    ///
    /// An amount that is not a whole number of fen (the engine's always are); rows given by
    /// index without `ids`, or with an index beyond it.
    pub fn finish(self, codes: &TierCodes, ids: Option<&StringArray>) -> Result<RecordBatch, ArrowError> {
        let tier_values = codes.values();
        let (status, status_zh) = coded(
            self.status,
            values(STATUSES.iter().map(|s| s.as_str())),
            values(STATUSES.iter().map(|s| s.name_zh())),
        )?;
        let columns: Vec<ArrayRef> = vec![
            array(self.month)?,
            Arc::new(self.ids.finish(ids)?),
            self.entities.finish()?,
            code(self.kind, values(KINDS.iter().map(|k| k.as_str())))?,
            self.evaluated.finish()?,
            self.has_record.finish()?,
            self.aum.finish()?,
            status,
            status_zh,
            tiers(self.tier, &tier_values)?,
            tiers(self.effective, &tier_values)?,
            self.vip.finish()?,
            array(self.watch_since)?,
            array(self.watch_months)?,
            tiers(self.watch_best, &tier_values)?,
            self.watch_peak.finish()?,
            array(self.below_since)?,
            array(self.below_months)?,
            self.below_peak.finish()?,
            array(self.retention)?,
            tiers(self.special_tier, &tier_values)?,
            array(self.special_first)?,
            array(self.special_last)?,
            array(self.last_month)?,
        ];
        let mut columns = columns;
        let (stage, since) = self.stages.finish(self.rows)?;
        columns.extend([stage, since, self.history.finish(self.rows)]);
        RecordBatch::try_new(super::states_schema(), columns)
    }
}

/// The `history` column: each row's history text, null for none. Nothing is held while
/// every cell is null (a book without windows): the builder starts at the first history.
#[derive(Default)]
struct HistoryTexts {
    rows: usize,
    texts: Option<StringBuilder>,
}

impl HistoryTexts {
    fn push(&mut self, text: Option<String>) {
        match (text, &mut self.texts) {
            (None, None) => {}
            (None, Some(b)) => b.append_null(),
            (Some(t), Some(b)) => b.append_value(t),
            (Some(t), None) => {
                let mut b = StringBuilder::new();
                b.append_nulls(self.rows);
                b.append_value(t);
                self.texts = Some(b);
            }
        }
        self.rows += 1;
    }

    /// Null cells up to `rows` rows.
    fn pad(&mut self, rows: usize) {
        if let Some(b) = &mut self.texts {
            b.append_nulls(rows.saturating_sub(self.rows));
        }
        self.rows = self.rows.max(rows);
    }

    /// The column of `rows` rows, those without a history given null.
    fn finish(mut self, rows: usize) -> ArrayRef {
        self.pad(rows);
        match self.texts {
            Some(mut b) => Arc::new(b.finish()),
            None => new_null_array(&DataType::Utf8, rows),
        }
    }
}

/// The `stage` and `stage_since` columns (SPEC §23.2): each row's lifecycle stage and the month
/// it began, null for none; each stage code once, as a dictionary. Nothing is held while every
/// row has none (a book without a lifecycle).
#[derive(Default)]
struct Stages {
    rows: usize,
    kept: Option<(Col<Int32Type>, Col<Date32Type>)>,
    codes: Vec<TierCode>,
}

impl Stages {
    fn push(&mut self, stage: Option<(TierCode, Month)>) {
        match (stage, &mut self.kept) {
            (None, None) => {}
            (None, Some((keys, since))) => {
                keys.push_opt(None);
                since.push_opt(None);
            }
            (Some((code, month)), _) => {
                let key = match self.codes.iter().position(|c| *c == code) {
                    Some(k) => k,
                    None => {
                        self.codes.push(code);
                        self.codes.len() - 1
                    }
                };
                let rows = self.rows;
                let (keys, since) = self.kept.get_or_insert_with(|| {
                    let (mut keys, mut since) = (Col::with_capacity(rows), Col::with_capacity(rows));
                    for _ in 0..rows {
                        keys.push_opt(None);
                        since.push_opt(None);
                    }
                    (keys, since)
                });
                keys.push(i32::try_from(key).unwrap_or(i32::MAX));
                since.push(month_days(month));
            }
        }
        self.rows += 1;
    }

    /// Null cells up to `rows` rows.
    fn pad(&mut self, rows: usize) {
        while self.rows < rows {
            self.push(None);
        }
    }

    fn finish(mut self, rows: usize) -> Result<(ArrayRef, ArrayRef), ArrowError> {
        self.pad(rows);
        let names: ArrayRef = Arc::new(StringArray::from_iter_values(self.codes.iter().map(|c| c.as_str())));
        match self.kept {
            Some((keys, since)) => {
                Ok((Arc::new(DictionaryArray::<Int32Type>::try_new(keys.finish()?, names)?), array(since)?))
            }
            None => {
                let code = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
                Ok((new_null_array(&code, rows), new_null_array(&DataType::Date32, rows)))
            }
        }
    }
}

/// The legal entity column: each entity once, as a dictionary (a portfolio has a few dozen).
struct Entities {
    keys: Col<Int32Type>,
    names: Vec<String>,
    index: HashMap<String, i32>,
}

impl Entities {
    fn with_capacity(n: usize) -> Self {
        Entities { keys: Col::with_capacity(n), names: Vec::new(), index: HashMap::new() }
    }

    #[inline]
    fn push(&mut self, entity: Option<&str>) {
        let key = entity.map(|e| match self.index.get(e) {
            Some(&k) => k,
            None => self.add(e),
        });
        self.keys.push_opt(key);
    }

    #[cold]
    fn add(&mut self, e: &str) -> i32 {
        let k = i32::try_from(self.names.len()).unwrap_or(i32::MAX);
        self.names.push(e.to_string());
        self.index.insert(e.to_string(), k);
        k
    }

    fn finish(self) -> Result<ArrayRef, ArrowError> {
        let names: ArrayRef = Arc::new(StringArray::from_iter_values(self.names));
        Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(self.keys.finish()?, names)?))
    }
}
