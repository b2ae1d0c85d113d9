//! The writer of the states table.

use std::sync::Arc;

use arrow_array::types::{Date32Type, Decimal128Type, Int8Type, Int16Type, Int32Type, UInt32Type};
use arrow_array::{ArrayRef, DictionaryArray, RecordBatch, StringArray};
use arrow_schema::ArrowError;
use crm_tiering::{Customer, CustomerKind, CustomerRef, CustomerState, Decimal, Month, Status};

use super::codes::{Codes, coded, position, tiers, values};
use super::columns::{Bools, Col, Days, amounts, array, batch, fen, month_days};
use super::ids::Ids;

const STATUSES: [Status; 3] = Status::ALL;
const KINDS: [CustomerKind; 2] = CustomerKind::ALL;

/// The states table: one row per customer evaluated in a month.
pub(super) struct StatesWriter {
    pub(super) ids: Ids,
    entities: Entities,
    kind: Col<Int8Type>,
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
    pub(super) fn new(n: usize, indexed: bool) -> Self {
        StatesWriter {
            ids: Ids::new(n, indexed),
            entities: Entities::with_capacity(n),
            kind: Col::with_capacity(n),
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
    pub(super) fn indexed(
        &mut self,
        codes: &mut Codes,
        m: Month,
        (index, c): (usize, CustomerRef<'_>),
        aum: Decimal,
        record: bool,
        s: &CustomerState,
    ) {
        self.ids.indexed(index, c.id);
        self.entities.push(c.legal_entity);
        self.kind.push(position(&KINDS, c.kind));
        self.values(codes, m, Some((aum, record)), s);
    }

    /// `evaluated` is the month's AUM and whether the customer had a record; none for a
    /// customer held back (read from a store: `aum` and `has_record` are then null).
    pub(super) fn named(
        &mut self,
        codes: &mut Codes,
        m: Month,
        c: &Customer,
        evaluated: Option<(Decimal, bool)>,
        s: &CustomerState,
    ) {
        self.ids.named(&c.id);
        self.entities.push(c.legal_entity.as_deref());
        self.kind.push(position(&KINDS, c.kind));
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
    pub(super) fn finish(self, tier_values: &ArrayRef, all: Option<&StringArray>) -> Result<RecordBatch, ArrowError> {
        let ids = self.ids.finish(all)?;
        let (status, status_zh) = coded(
            self.status,
            values(STATUSES.iter().map(|s| s.as_str())),
            values(STATUSES.iter().map(|s| s.name_zh())),
        )?;
        let kind = DictionaryArray::<Int8Type>::try_new(self.kind.finish()?, values(KINDS.iter().map(|k| k.as_str())))?;
        batch(vec![
            ("customer_id", Arc::new(ids)),
            ("legal_entity", self.entities.finish()?),
            ("customer_kind", Arc::new(kind)),
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

/// The legal entity column: each entity once, as a dictionary (a portfolio has a few dozen).
struct Entities {
    keys: Col<Int32Type>,
    names: Vec<String>,
    index: std::collections::HashMap<String, i32>,
}

impl Entities {
    fn with_capacity(n: usize) -> Self {
        Entities { keys: Col::with_capacity(n), names: Vec::new(), index: Default::default() }
    }

    fn push(&mut self, entity: Option<&str>) {
        let key = entity.map(|e| match self.index.get(e) {
            Some(&k) => k,
            None => {
                let k = i32::try_from(self.names.len()).unwrap_or(i32::MAX);
                self.names.push(e.to_string());
                self.index.insert(e.to_string(), k);
                k
            }
        });
        self.keys.push_opt(key);
    }

    fn finish(self) -> Result<ArrayRef, ArrowError> {
        let names: ArrayRef = Arc::new(StringArray::from_iter_values(self.names));
        Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(self.keys.finish()?, names)?))
    }
}
