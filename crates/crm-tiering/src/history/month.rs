//! A version's windows and history records for one evaluated month (SPEC §19.2, §19.5): what
//! reading and recording a customer's history needs that does not depend on the customer,
//! made once per month and version (a batch's), then used for each customer.

use super::HistoryLayout;
use crate::code::TierCode;
use crate::month::Month;
use crate::rules::{NO_VALUE, RuleVersion, WindowMonth, WindowSlot};

/// Where a kept measure's month comes from when a month is recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    /// The month's AUM (the version's `aum` code).
    Aum,
    /// The measured value at this index.
    Measured(usize),
    /// A measure the version does not declare: the month has no value.
    Nothing,
}

/// One window of the version for the month.
#[derive(Debug, Clone, PartialEq)]
struct Slot {
    slot: WindowSlot,
    at: WindowMonth,
    /// Where its measure's earlier months are in a customer's slice.
    past: std::ops::Range<usize>,
    rounding: crate::aum::Rounding,
}

/// Version `v`'s windows for evaluated month `m` in a book's [`HistoryLayout`]: each window's
/// months, days and place in a customer's slice, and where each kept measure's month comes
/// from when the month is recorded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MonthWindows<'l> {
    layout: &'l HistoryLayout,
    slots: Vec<Slot>,
    /// For each measure the layout keeps with months, in layout order: where its newest month
    /// is in a customer's slice, and where that month comes from.
    records: Vec<(usize, Source)>,
    /// Where the qualified tiers' months are in a customer's slice.
    tiers: std::ops::Range<usize>,
}

impl HistoryLayout {
    /// Version `v`'s windows and records for evaluated month `m` in this layout.
    pub(crate) fn month_windows(&self, v: &RuleVersion, m: Month) -> MonthWindows<'_> {
        let range = |code| self.find(code).map_or(0..0, |(at, n)| at..at + n);
        let slots = v
            .windows
            .iter()
            .map(|slot| Slot {
                slot: *slot,
                at: WindowMonth::new(slot.window, m, |month| v.aum.days(month)),
                past: range(slot.code),
                rounding: match slot.measure.checked_sub(1).and_then(|i| v.measures.get(i)) {
                    Some(measure) => measure.rounding,
                    None => v.aum.rounding,
                },
            })
            .collect();
        let records = self
            .measures
            .iter()
            .filter(|&&(_, depth)| depth > 0)
            .map(|&(code, _)| {
                let source = if code == v.aum_code {
                    Source::Aum
                } else {
                    v.measures.iter().position(|m| m.code == code).map_or(Source::Nothing, |i| Source::Measured(i + 1))
                };
                (range(code).start, source)
            })
            .collect();
        MonthWindows { layout: self, slots, records, tiers: self.tier_range() }
    }
}

impl MonthWindows<'_> {
    /// Appends the values of the version's windows to `values` (the month's measured values,
    /// AUM first), reading the months before from `history`, whose newest month is the one
    /// before the evaluated month.
    pub(crate) fn values(&self, history: &[i64], values: &mut Vec<i64>) {
        let measured = values.len();
        values.resize(measured + self.slots.len(), 0);
        self.values_into(history, values, measured);
    }

    /// [`MonthWindows::values`] into `values[measured..]`, which has room for them. Out of
    /// the batch's line: inlined there, its loops ran short of registers.
    #[inline(never)]
    pub(crate) fn values_into(&self, history: &[i64], values: &mut [i64], measured: usize) {
        // A window reads a measured value (before `measured`) and writes its own (after).
        let Some((measured, windows)) = values.split_at_mut_checked(measured) else { return };
        for (out, s) in windows.iter_mut().zip(&self.slots) {
            let this = measured.get(s.slot.measure).copied().unwrap_or(0);
            let past = history.get(s.past.clone()).unwrap_or(&[]);
            *out = s.slot.value(&s.at, this, past, s.rounding);
        }
    }

    /// The layout the windows read.
    #[inline]
    pub(crate) fn layout(&self) -> &HistoryLayout {
        self.layout
    }

    /// How many window values the version has.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The qualified tiers of the `n` months before the evaluated one that `history` keeps,
    /// newest first (months with none left out).
    pub(crate) fn recent_tiers<'h>(&self, history: &'h [i64], n: usize) -> impl Iterator<Item = TierCode> + 'h {
        self.layout.recent_tiers(history, n)
    }

    /// Records the evaluated month in `history`: each kept measure's months move back one, and
    /// the month's value (`aum_fen`, or the version's measured value of that code; none when
    /// the version does not declare it) becomes the newest; so does its qualified tier `q`.
    /// Out of the batch's line, as [`MonthWindows::values_into`].
    #[inline(never)]
    pub(crate) fn push(&self, history: &mut [i64], (aum_fen, q): (i64, Option<TierCode>), values: &[i64]) {
        // The measures' months and the tiers' lie end to end from the slice's start: moving the
        // whole run back one moves each one's months back one, and each one's first month,
        // then holding the last of the one before, is written below.
        if let Some(kept) = history.get_mut(..self.tiers.end) {
            shift_in(kept, NO_VALUE);
        }
        for &(at, source) in &self.records {
            let value = match source {
                Source::Aum => aum_fen,
                Source::Measured(i) => values.get(i).copied().unwrap_or(NO_VALUE),
                Source::Nothing => NO_VALUE,
            };
            if let Some(newest) = history.get_mut(at) {
                *newest = value;
            }
        }
        if let (false, Some(newest)) = (self.tiers.is_empty(), history.get_mut(self.tiers.start)) {
            *newest = q.map_or(NO_VALUE, TierCode::slot);
        }
    }
}

/// Moves `months` back one and puts `value` first: a loop of moves, where a slice rotation of
/// a few months costs two copies through a buffer.
#[inline]
fn shift_in(months: &mut [i64], value: i64) {
    let mut carry = value;
    for month in months {
        carry = std::mem::replace(month, carry);
    }
}
