//! The writer of the states table.

use std::sync::Arc;

use arrow_array::types::{Date32Type, Decimal128Type, Int8Type, Int16Type, UInt32Type};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::ArrowError;
use crm_tiering::{Customer, CustomerRef, CustomerState, Decimal, Month, Status};

use super::codes::{Codes, coded, position, tiers, values};
use super::columns::{Bools, Col, Days, amounts, array, batch, fen, month_days};
use super::ids::Ids;

const STATUSES: [Status; 3] = Status::ALL;

/// The states table: one row per customer evaluated in a month.
pub(super) struct StatesWriter {
    pub(super) ids: Ids,
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
