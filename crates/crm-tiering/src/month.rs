//! Calendar months, the engine's unit of time.

use std::fmt;
use std::str::FromStr;

use std::num::NonZeroI32;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::parse::ParseError;

/// A calendar month such as `2024-03`.
///
/// The engine never reads a clock: every month it works with is given by the caller.
/// Months order chronologically and step with [`Month::next`] and [`Month::plus`].
/// They serialize as `"YYYY-MM"` strings and cross the C ABI as `year * 100 + month`.
///
/// ```
/// use crm_tiering::Month;
/// let m: Month = "2024-12".parse()?;
/// assert_eq!(m.next().to_string(), "2025-01");
/// assert_eq!(m.days(), 31);
/// assert_eq!(Month::from_yyyymm(202402)?.days(), 29);
/// # Ok::<(), crm_tiering::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(NonZeroI32);

impl Month {
    /// The last month there is, 9999-12. It has no next month, so it is never evaluated.
    pub const LAST: Month = Month(match NonZeroI32::new(Self::MAX_YEAR * 12 + 11) {
        Some(n) => n,
        None => NonZeroI32::MIN,
    });
    /// The earliest year a month may have.
    pub const MIN_YEAR: i32 = 1900;
    /// The latest year a month may have.
    pub const MAX_YEAR: i32 = 9999;

    /// Builds a month from a year and a month number (1 to 12).
    ///
    /// # Errors
    /// When the month number is not 1 to 12 or the year is outside 1900 to 9999.
    pub fn new(year: i32, month: u32) -> Result<Self, ParseError> {
        match i32::try_from(month) {
            Ok(m @ 1..=12) if (Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) => {
                Ok(Month::from_index(year * 12 + m - 1))
            }
            _ => Err(ParseError::Month(format!("{year:04}-{month:02}"))),
        }
    }

    /// The month with a given `year * 12 + month - 1` index, saturating at the ends of the
    /// supported range (the index of 1900-01 is far above zero, so the `NonZeroI32` that lets
    /// `Option<Month>` and the state's optional parts take no extra space always holds).
    fn from_index(index: i32) -> Self {
        let clamped = index.clamp(Self::MIN_YEAR * 12, Self::MAX_YEAR * 12 + 11);
        Month(NonZeroI32::new(clamped).unwrap_or(NonZeroI32::MIN))
    }

    /// Builds a month from a `year * 100 + month` integer such as `202403`.
    ///
    /// # Errors
    /// When the number is not a valid month in that form.
    pub fn from_yyyymm(value: i64) -> Result<Self, ParseError> {
        let bad = || ParseError::Month(value.to_string());
        let year = i32::try_from(value / 100).map_err(|_| bad())?;
        let month = u32::try_from(value % 100).map_err(|_| bad())?;
        Month::new(year, month).map_err(|_| bad())
    }

    /// The month of a calendar date.
    ///
    /// # Errors
    /// When the date's year is outside 1900 to 9999.
    pub fn from_date(date: NaiveDate) -> Result<Self, ParseError> {
        Month::new(date.year(), date.month())
    }

    /// The year, such as 2024.
    pub fn year(self) -> i32 {
        self.0.get().div_euclid(12)
    }

    /// The month number, 1 to 12.
    pub fn month(self) -> u32 {
        self.0.get().rem_euclid(12) as u32 + 1
    }

    /// The month as `year * 100 + month`, such as `202403`.
    pub fn yyyymm(self) -> i64 {
        i64::from(self.year()) * 100 + i64::from(self.month())
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        // Every Month is built from a valid year and month, so the date exists.
        NaiveDate::from_ymd_opt(self.year(), self.month(), 1).unwrap_or(NaiveDate::MIN)
    }

    /// The number of calendar days in the month (28 to 31).
    pub fn days(self) -> u32 {
        match self.month() {
            2 if is_leap(self.year()) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// The following month. 9999-12, the last month there is, is followed by itself: the engine
    /// refuses to evaluate it, so that every evaluated month has a next month for the new state.
    #[must_use]
    pub fn next(self) -> Self {
        Month::from_index(self.0.get() + 1)
    }

    /// The month `n` months later (earlier when `n` is negative), saturating at 1900-01 and
    /// 9999-12.
    #[must_use]
    pub fn plus(self, n: i32) -> Self {
        Month::from_index(self.0.get().saturating_add(n))
    }

    /// The number of months from `earlier` to `self` (negative when `earlier` is later).
    pub fn months_since(self, earlier: Month) -> i32 {
        self.0.get() - earlier.0.get()
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl fmt::Debug for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Month {
    type Err = ParseError;

    /// Parses exactly `YYYY-MM` (or the six digits `YYYYMM` of bank extracts): ASCII digits
    /// only, a two-digit month, no sign, no spaces around it (`2024-+3`, `2024-3` and ` 2024-03`
    /// are not months).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError::Month(s.to_string());
        let b = s.as_bytes();
        let (y, m) = match *b {
            [y0, y1, y2, y3, b'-', m0, m1] | [y0, y1, y2, y3, m0, m1] => ([y0, y1, y2, y3], [m0, m1]),
            _ => return Err(bad()),
        };
        if !y.iter().chain(&m).all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let digits = |d: &[u8]| d.iter().fold(0i32, |n, c| n * 10 + i32::from(c - b'0'));
        let month = u32::try_from(digits(&m)).map_err(|_| bad())?;
        Month::new(digits(&y), month).map_err(|_| bad())
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let m: Month = "2024-02".parse().unwrap();
        assert_eq!((m.year(), m.month(), m.days()), (2024, 2, 29));
        assert_eq!(m.to_string(), "2024-02");
        assert_eq!("202402".parse::<Month>().unwrap(), m);
        assert_eq!(Month::from_yyyymm(202402).unwrap(), m);
        assert_eq!(m.yyyymm(), 202402);
        assert_eq!(m.plus(11).to_string(), "2025-01");
        assert_eq!(m.plus(-2).to_string(), "2023-12");
        assert_eq!(m.plus(11).months_since(m), 11);
        assert_eq!(Month::new(1900, 2).unwrap().days(), 28);
        assert_eq!(Month::new(2000, 2).unwrap().days(), 29);
    }

    #[test]
    fn rejects_bad_months() {
        for bad in [
            "2024-13",
            "2024-00",
            "24-01",
            "2024/01",
            "",
            "abcd-ef",
            "202413",
            "0000-01",
            "2024-+3",
            "2024-3",
            " 2024-03",
            "2024-03 ",
            "+024-03",
            "2024-1\u{0662}",
            "20240",
        ] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
        assert!(Month::from_yyyymm(202400).is_err());
        assert!(Month::from_yyyymm(-202401).is_err());
    }
}
