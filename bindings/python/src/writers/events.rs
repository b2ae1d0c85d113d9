//! The writer of the events table.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::types::{Date32Type, Decimal128Type, Int8Type, Int16Type, UInt32Type};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::ArrowError;
use crm_tiering::{Event, EventKind, Reason};

use super::codes::{Codes, coded, position, tiers, values};
use super::columns::{Col, amounts, array, batch, month_days};
use super::ids::Ids;

/// The events table.
pub(super) struct EventsWriter {
    /// The explanation of each event, when asked for (else the column is all null).
    text: Option<StringBuilder>,
    pub(super) customer: Ids,
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
    pub(super) fn new(n: usize, explain: bool, indexed: bool) -> Self {
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

    pub(super) fn row(&mut self, codes: &mut Codes, e: &Event) {
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

    pub(super) fn finish(
        mut self,
        tier_values: &ArrayRef,
        all: Option<&StringArray>,
    ) -> Result<RecordBatch, ArrowError> {
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
