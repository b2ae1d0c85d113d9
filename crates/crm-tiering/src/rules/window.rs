//! Windows (SPEC §19.2): the months a criterion combines its measure over, and the value it
//! reads from this month's figure and the customer's history.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::aum::Rounding;
use crate::code::MeasureCode;
use crate::month::Month;

/// The longest rolling window, in months.
pub const MAX_WINDOW_MONTHS: u8 = 24;

/// The window a criterion reads its measure over (SPEC §19.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Window {
    /// The evaluated month's value (`month`, the default).
    #[default]
    Month,
    /// The day-weighted average of the evaluated month and the k − 1 before it (`avg_k`).
    Avg(u8),
    /// The highest value of the evaluated month and the k − 1 before it (`max_k`).
    Max(u8),
    /// The day-weighted average of the k months before the evaluated month (`prev_k`;
    /// `prev_1` is last month).
    Prev(u8),
    /// The day-weighted average of the calendar quarter before the evaluated month's.
    PrevQuarter,
    /// The day-weighted average of the calendar half-year before the evaluated month's.
    PrevHalf,
}

/// The codes of the rolling windows, by k (2 to 24, and 1 for `prev_1`; 0 unused).
const AVG: [&str; 25] = [
    "", "", "avg_2", "avg_3", "avg_4", "avg_5", "avg_6", "avg_7", "avg_8", "avg_9", "avg_10", "avg_11", "avg_12",
    "avg_13", "avg_14", "avg_15", "avg_16", "avg_17", "avg_18", "avg_19", "avg_20", "avg_21", "avg_22", "avg_23",
    "avg_24",
];
const MAX: [&str; 25] = [
    "", "", "max_2", "max_3", "max_4", "max_5", "max_6", "max_7", "max_8", "max_9", "max_10", "max_11", "max_12",
    "max_13", "max_14", "max_15", "max_16", "max_17", "max_18", "max_19", "max_20", "max_21", "max_22", "max_23",
    "max_24",
];
const PREV: [&str; 25] = [
    "", "prev_1", "prev_2", "prev_3", "prev_4", "prev_5", "prev_6", "prev_7", "prev_8", "prev_9", "prev_10", "prev_11",
    "prev_12", "prev_13", "prev_14", "prev_15", "prev_16", "prev_17", "prev_18", "prev_19", "prev_20", "prev_21",
    "prev_22", "prev_23", "prev_24",
];

impl Window {
    /// The code used in rule files and evidence: `month`, `avg_6`, `max_3`, `prev_1`,
    /// `prev_quarter`, `prev_half`.
    pub fn as_str(self) -> &'static str {
        match self {
            Window::Month => "month",
            Window::Avg(k) => AVG.get(usize::from(k)).copied().unwrap_or(""),
            Window::Max(k) => MAX.get(usize::from(k)).copied().unwrap_or(""),
            Window::Prev(k) => PREV.get(usize::from(k)).copied().unwrap_or(""),
            Window::PrevQuarter => "prev_quarter",
            Window::PrevHalf => "prev_half",
        }
    }

    /// Whether this is the default, `month` (rule files leave it out).
    pub fn is_month(&self) -> bool {
        *self == Window::Month
    }

    /// How many months before the evaluated one the window may read: the history it needs
    /// (SPEC §19.5).
    pub fn look_back(self) -> usize {
        match self {
            Window::Month => 0,
            Window::Avg(k) | Window::Max(k) => usize::from(k).saturating_sub(1),
            Window::Prev(k) => usize::from(k),
            Window::PrevQuarter => 5,
            Window::PrevHalf => 11,
        }
    }

    /// The window's months for evaluated month `m`, as months back from `m` (0 is `m`), first
    /// and last inclusive (last at most [`MAX_WINDOW_MONTHS`]).
    pub(crate) fn offsets(self, m: Month) -> (usize, usize) {
        let of_year = m.month() as usize - 1;
        match self {
            Window::Month => (0, 0),
            Window::Avg(k) | Window::Max(k) => (0, usize::from(k).saturating_sub(1)),
            Window::Prev(k) => (1, usize::from(k)),
            Window::PrevQuarter => (of_year % 3 + 1, of_year % 3 + 3),
            Window::PrevHalf => (of_year % 6 + 1, of_year % 6 + 6),
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Window {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rolling = |k: &str, least: u8, make: fn(u8) -> Window| match k.parse::<u8>() {
            Ok(k) if (least..=MAX_WINDOW_MONTHS).contains(&k) => Ok(make(k)),
            _ => Err(format!("window `{s}` needs k from {least} to {MAX_WINDOW_MONTHS}, such as `avg_6`")),
        };
        match s {
            "month" => Ok(Window::Month),
            "prev_quarter" => Ok(Window::PrevQuarter),
            "prev_half" => Ok(Window::PrevHalf),
            _ => match (s.strip_prefix("avg_"), s.strip_prefix("max_"), s.strip_prefix("prev_")) {
                (Some(k), _, _) => rolling(k, 2, Window::Avg),
                (_, Some(k), _) => rolling(k, 2, Window::Max),
                (_, _, Some(k)) => rolling(k, 1, Window::Prev),
                _ => Err(format!(
                    "unknown window `{s}`: expected `month`, `avg_k`, `max_k` (k from 2 to {MAX_WINDOW_MONTHS}), `prev_k` (k from 1), `prev_quarter` or `prev_half`"
                )),
            },
        }
    }
}

impl Serialize for Window {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// No value for a month in a customer's history: a month before the customer's first, or one
/// whose rules did not declare the measure (SPEC §19.2, fewer months).
pub(crate) const NO_VALUE: i64 = i64::MIN;

/// A measure over a window that some criterion of a version reads: its value is computed once
/// per month into the measured values after the version's measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WindowSlot {
    /// The measure's code.
    pub(crate) code: MeasureCode,
    /// The measure's index among the month's measured values (0 is AUM).
    pub(crate) measure: usize,
    /// The window.
    pub(crate) window: Window,
    /// Whether the value needs every month of the window (a `below_for` warning, SPEC §22.2):
    /// with a month missing it is [`NO_VALUE`].
    pub(crate) complete: bool,
}

/// What a window's value needs of its evaluated month, whoever the customer: the months it
/// reads as months back (the first, [`Window::offsets`], and how many) and each one's days
/// under the divisor, in that order. Made once per month (a batch's), not per customer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WindowMonth {
    first: usize,
    len: usize,
    /// `days[k]`: the days of the month `first + k` back.
    days: [u32; MAX_WINDOW_MONTHS as usize + 1],
}

impl WindowMonth {
    /// `window`'s months for evaluated month `m`, with `days_of` each month's divisor.
    pub(crate) fn new(window: Window, m: Month, days_of: impl Fn(Month) -> u32) -> Self {
        let (first, last) = window.offsets(m);
        let mut days = [0; MAX_WINDOW_MONTHS as usize + 1];
        let len = (last + 1).saturating_sub(first).min(days.len());
        for (back, d) in (first..).zip(days.iter_mut().take(len)) {
            *d = days_of(m.plus(-i32::try_from(back).unwrap_or(0)));
        }
        WindowMonth { first, len, days }
    }
}

/// The largest divisor with a reciprocal: a window's days are at most 25 months of 31.
const MAX_DIVISOR: usize = 1 << 10;
/// The dividends a reciprocal divides: any window of balances up to 10^14 CNY.
const MAX_DIVIDEND: u64 = 1 << 54;

/// `m = ⌈2^64 / d⌉` for each divisor `d` from 2 to [`MAX_DIVISOR`] (0 for 0 and 1), which
/// divides without a division instruction (tens of cycles a customer) any `n <`
/// [`MAX_DIVIDEND`]: `⌊n / d⌋ = ⌊n·m / 2^64⌋` exactly, since `m = 2^64/d + e` with `0 ≤ e < 1`
/// adds `n·e / 2^64 < 2^-10 ≤ 1/d` to `n/d = q + r/d`, `r ≤ d − 1`, which stays below `q + 1`.
static RECIPROCALS: [u64; MAX_DIVISOR + 1] = reciprocals();

#[expect(
    clippy::indexing_slicing,
    reason = "d ≤ MAX_DIVISOR, the table's last index (no checked access in a const fn)"
)]
const fn reciprocals() -> [u64; MAX_DIVISOR + 1] {
    let mut table = [0; MAX_DIVISOR + 1];
    let mut d = 2;
    while d <= MAX_DIVISOR {
        // ⌊(2^64 − 1) / d⌋ + 1 = ⌈2^64 / d⌉, whether or not d divides 2^64.
        table[d] = u64::MAX / d as u64 + 1;
        d += 1;
    }
    table
}

/// `(n / d, n % d)` (`d` > 0), by [`RECIPROCALS`] when `d` and `n` are in their range.
#[inline]
fn div_rem(n: u64, d: u64) -> (u64, u64) {
    match usize::try_from(d).ok().and_then(|i| RECIPROCALS.get(i)) {
        Some(&m) if m != 0 && n < MAX_DIVIDEND => {
            let q = u64::try_from((u128::from(n) * u128::from(m)) >> 64).unwrap_or(0);
            (q, n - q * d)
        }
        _ => (n / d, n % d),
    }
}

impl WindowSlot {
    /// The window's value in fen for the evaluated month of `at`: `this` is that month's value,
    /// and `past[j]` the value of the month 1 + j before it (or [`NO_VALUE`]). Averages weigh
    /// each month by its days under the divisor; a window with no month with a value is 0,
    /// which meets no criterion (every minimum is above 0).
    #[inline]
    pub(crate) fn value(&self, at: &WindowMonth, this: i64, past: &[i64], rounding: Rounding) -> i64 {
        // Month m − b is `past[b − 1]`, and `this` when the window reads the evaluated month.
        let month = |back: usize| if back == 0 { this } else { past.get(back - 1).copied().unwrap_or(NO_VALUE) };
        // A window of one month (`prev_1`, a warning's last month) is that month's value: its
        // average divides the value times its days by those days, exactly.
        if at.len == 1 && at.days.first().is_some_and(|&d| d > 0) {
            return match month(at.first) {
                NO_VALUE if self.complete => NO_VALUE,
                NO_VALUE => 0,
                value => value,
            };
        }
        self.over_months(at, this, past, rounding)
    }

    /// [`WindowSlot::value`] over the window's months one by one: out of its callers' line,
    /// whose loops over the windows it crowded out of registers.
    #[inline(never)]
    fn over_months(&self, at: &WindowMonth, this: i64, past: &[i64], rounding: Rounding) -> i64 {
        // One pass, newest month first: the evaluated month when the window reads it, then the
        // months before it from `past` (month m − b is `past[b − 1]`). Months with no value are
        // left out, or make the whole value none when it needs every month.
        let (mut sum, mut total, mut max, mut any) = (0i128, 0i128, NO_VALUE, false);
        let mut add = |value: i64, d: u32| {
            if value != NO_VALUE {
                any = true;
                max = max.max(value);
                sum += i128::from(value) * i128::from(d);
                total += i128::from(d);
            }
        };
        let mut days = at.days.get(..at.len).unwrap_or(&[]);
        if let (0, Some((&d, rest))) = (at.first, days.split_first()) {
            if this == NO_VALUE && self.complete {
                return NO_VALUE;
            }
            add(this, d);
            days = rest;
        }
        let earlier = past.get(at.first.saturating_sub(1)..).unwrap_or(&[]);
        for (k, &d) in days.iter().enumerate() {
            let value = earlier.get(k).copied().unwrap_or(NO_VALUE);
            if value == NO_VALUE && self.complete {
                return NO_VALUE;
            }
            add(value, d);
        }
        if let Window::Max(_) = self.window {
            return if any { max } else { 0 };
        }
        if total == 0 { 0 } else { average(sum, total, rounding) }
    }
}

/// Gives every criterion that reads a window other than `month` the index of its window's
/// value, after the version's `values` measured values (AUM and the declared measures), one
/// [`WindowSlot`] per measure and window; the slots, in that order.
pub(super) fn window_slots(tiers: &mut [super::Tier], values: usize) -> Vec<WindowSlot> {
    let mut slots: Vec<WindowSlot> = Vec::new();
    let criteria = tiers.iter_mut().filter_map(|t| t.qualify.as_mut()).flat_map(|q| q.criteria.iter_mut());
    for c in criteria.filter(|c| !c.window.is_month()) {
        c.index = values
            + slot_of(&mut slots, WindowSlot { code: c.measure, measure: c.index, window: c.window, complete: false });
    }
    slots
}

/// The index of `slot` among `slots`, added when new.
pub(super) fn slot_of(slots: &mut Vec<WindowSlot>, slot: WindowSlot) -> usize {
    slots.iter().position(|s| *s == slot).unwrap_or_else(|| {
        slots.push(slot);
        slots.len() - 1
    })
}

/// `sum / days` rounded to the whole fen with `rounding`, in integers (exact: `days` > 0). In
/// 64 bits when the sum fits, as any month's balances do (a 128-bit division is a call), and by
/// a reciprocal when it can ([`div_rem`]).
#[inline]
fn average(sum: i128, days: i128, rounding: Rounding) -> i64 {
    let (q, r) = match (u64::try_from(sum.unsigned_abs()), u64::try_from(days)) {
        (Ok(s), Ok(d)) => {
            let (q, r) = div_rem(s, d);
            (i128::from(q), i128::from(r))
        }
        _ => (sum.abs() / days, sum.abs() % days),
    };
    let up = match rounding {
        Rounding::HalfUp => 2 * r >= days,
        Rounding::HalfEven => 2 * r > days || (2 * r == days && q % 2 == 1),
    };
    let q = if up { q + 1 } else { q };
    i64::try_from(if sum < 0 { -q } else { q }).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{MAX_DIVIDEND, MAX_DIVISOR, Rounding, Window, average, div_rem};

    #[test]
    fn averages_round_to_the_fen_as_the_measure_says() {
        // 5 / 2 = 2.5: half up gives 3, half even 2; 7 / 2 = 3.5: both give 4.
        assert_eq!(average(5, 2, Rounding::HalfUp), 3);
        assert_eq!(average(5, 2, Rounding::HalfEven), 2);
        assert_eq!(average(7, 2, Rounding::HalfEven), 4);
        // Below zero, away from zero for half up, to even for half even.
        assert_eq!(average(-5, 2, Rounding::HalfUp), -3);
        assert_eq!(average(-5, 2, Rounding::HalfEven), -2);
        // SPEC §19.6: (580,000,000 x 31 + 620,000,000 x 29 + 610,000,000 x 31) / 91 fen.
        assert_eq!(average(54_870_000_000, 91, Rounding::HalfUp), 602_967_033);
        // Halves in 64 bits and beyond them (the 128-bit division) round alike.
        for (sum, q) in [((1i128 << 63) + 2, 1i64 << 61), ((1i128 << 64) + 2, 1i64 << 62)] {
            assert_eq!(average(sum, 4, Rounding::HalfUp), q + 1);
            assert_eq!(average(sum, 4, Rounding::HalfEven), q);
        }
    }

    #[test]
    fn a_reciprocal_divides_as_the_division_does() {
        // Every divisor with a reciprocal, and dividends about each end of the range and spread
        // over it (a splitmix sequence), around multiples of the divisor.
        let mut seed = 7u64;
        for d in 1..=MAX_DIVISOR as u64 + 1 {
            for k in 0..64 {
                seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let spread = (seed ^ (seed >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9) % MAX_DIVIDEND;
                let edge = MAX_DIVIDEND - 1 - k;
                let multiple = spread - spread % d;
                for n in [k, edge, spread, multiple, multiple.saturating_sub(1), multiple + d - 1] {
                    assert_eq!(div_rem(n, d), (n / d, n % d), "{n} / {d}");
                }
            }
            // A dividend past the range divides by the instruction.
            assert_eq!(div_rem(u64::MAX, d), (u64::MAX / d, u64::MAX % d));
        }
    }

    #[test]
    fn windows_parse_from_their_codes_and_refuse_others() {
        for (code, w) in [
            ("month", Window::Month),
            ("avg_6", Window::Avg(6)),
            ("max_24", Window::Max(24)),
            ("prev_1", Window::Prev(1)),
        ] {
            assert_eq!(code.parse::<Window>().as_ref(), Ok(&w));
            assert_eq!(w.as_str(), code);
        }
        assert_eq!("prev_half".parse::<Window>().map(Window::look_back), Ok(11));
        assert_eq!("prev_3".parse::<Window>().map(Window::look_back), Ok(3));
        for bad in ["avg_1", "avg_25", "max_", "quarter", "avg_x", "prev_0", "prev_25"] {
            assert!(bad.parse::<Window>().is_err(), "{bad}");
        }
    }
}
