//! The writer of the alerts table.

use std::sync::Arc;

use arrow_array::types::{Date32Type, Decimal128Type, Int8Type, Int16Type, UInt32Type};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::ArrowError;
use crm_tiering::{Alert, AlertKind};

use super::codes::{Codes, coded, position, tiers, values};
use super::columns::{Col, amounts, array, batch, month_days};
use super::ids::Ids;

/// The alerts table.
pub(super) struct AlertsWriter {
    pub(super) customer: Ids,
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
    pub(super) fn new(n: usize, indexed: bool) -> Self {
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

    pub(super) fn row(&mut self, codes: &mut Codes, a: &Alert) {
        self.month.push(month_days(a.month));
        self.kind.push(position(AlertKind::ALL, a.kind));
        self.tier.push_opt(codes.opt_key(a.tier));
        self.counted.push_opt(a.months_counted);
        self.left.push_opt(a.months_left);
        self.aum.push_opt(a.aum_fen().map(i128::from));
        self.threshold.push_opt(a.threshold_fen().map(i128::from));
        self.gap.push_opt(a.gap_fen().map(i128::from));
    }

    pub(super) fn finish(self, tier_values: &ArrayRef, all: Option<&StringArray>) -> Result<RecordBatch, ArrowError> {
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
