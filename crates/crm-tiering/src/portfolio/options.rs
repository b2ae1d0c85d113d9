//! The options of a portfolio evaluation and its declared months.

use std::fmt;

use crate::month::Month;

/// What a known customer without a record in a month means (SPEC §15.3). One policy, the same
/// default on every surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Absent {
    /// The customer held nothing that month: evaluated with zero AUM (default; extracts
    /// usually list only customers with balances).
    #[default]
    Zero,
    /// Not evaluated: the state is kept as it is (the customer will need that month later).
    Hold,
    /// The extract must list everybody: a missing customer is an error and is held back.
    Error,
}

impl Absent {
    /// The code: `zero`, `hold` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Absent::Zero => "zero",
            Absent::Hold => "hold",
            Absent::Error => "error",
        }
    }
}

impl std::str::FromStr for Absent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "zero" => Ok(Absent::Zero),
            "hold" => Ok(Absent::Hold),
            "error" => Ok(Absent::Error),
            other => Err(format!("`{other}` is not an absent-customer policy: expected zero, hold or error")),
        }
    }
}

/// Whether states written under another rule book may be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum RuleBookChange {
    /// Refuse them (default): the run stops with a state error naming `rule_book`.
    #[default]
    Refuse,
    /// Accept them: the caller has mapped retired tiers with `tier_map` and means the change.
    Accept,
}

/// Options of a portfolio evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortfolioOptions {
    /// Customers without a record in a month.
    pub absent: Absent,
    /// States written under another rule book.
    pub rule_book_change: RuleBookChange,
    /// Worker threads for the batch (1 or more; results are the same for any number).
    pub threads: usize,
}

impl Default for PortfolioOptions {
    fn default() -> Self {
        PortfolioOptions { absent: Absent::Zero, rule_book_change: RuleBookChange::Refuse, threads: 1 }
    }
}

/// The declared month, or range of consecutive months, of a portfolio evaluation.
///
/// ```
/// use crm_tiering::portfolio::MonthRange;
/// let r: MonthRange = "2024-01..2024-03".parse()?;
/// assert_eq!(r.months().count(), 3);
/// assert_eq!("2024-03".parse::<MonthRange>()?.to_string(), "2024-03");
/// assert!("2024-03..2024-01".parse::<MonthRange>().is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MonthRange {
    first: Month,
    last: Month,
}

impl MonthRange {
    /// One month.
    ///
    /// # Errors
    /// For 9999-12, which has no next month.
    pub fn single(month: Month) -> Result<Self, String> {
        Self::new(month, month)
    }

    /// `first` to `last`, both included.
    ///
    /// # Errors
    /// When `last` is before `first`, or is 9999-12 (which has no next month).
    pub fn new(first: Month, last: Month) -> Result<Self, String> {
        if last < first {
            return Err(format!("the range {first}..{last} ends before it starts"));
        }
        if last == Month::LAST {
            return Err(format!("{last} cannot be evaluated: it has no next month"));
        }
        Ok(MonthRange { first, last })
    }

    /// The first month.
    pub fn first(&self) -> Month {
        self.first
    }

    /// The last month.
    pub fn last(&self) -> Month {
        self.last
    }

    /// Whether a month is in the range.
    pub fn contains(&self, m: Month) -> bool {
        self.first <= m && m <= self.last
    }

    /// The months, in order.
    pub fn months(&self) -> impl Iterator<Item = Month> + use<> {
        let (first, n) = (self.first, self.last.months_since(self.first));
        (0..=n).map(move |k| first.plus(k))
    }

    pub(super) fn len(&self) -> usize {
        self.last.months_since(self.first) as usize + 1
    }

    pub(super) fn offset(&self, m: Month) -> usize {
        m.months_since(self.first) as usize
    }
}

impl fmt::Display for MonthRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last { write!(f, "{}", self.first) } else { write!(f, "{}..{}", self.first, self.last) }
    }
}

impl std::str::FromStr for MonthRange {
    type Err = String;
    /// `YYYY-MM` or `YYYY-MM..YYYY-MM`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let month = |t: &str| t.parse::<Month>().map_err(|e| e.to_string());
        match s.split_once("..") {
            Some((a, b)) => MonthRange::new(month(a)?, month(b)?),
            None => MonthRange::single(month(s)?),
        }
    }
}
