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

/// Options of a portfolio evaluation (SPEC §15).
///
/// Every surface reads them through [`PortfolioOptions::set`] (one `key = value` at a time),
/// so a key means the same in the CLI (`--option key=value` and its named flags), Python
/// (keyword arguments), the C ABI (`crmt_portfolio_options_set`), Java and the conformance
/// vectors:
///
/// | key | values | default |
/// |---|---|---|
/// | `absent` | `zero`, `hold`, `error` | `zero` |
/// | `rule_book_change` | `refuse`, `accept` | `refuse` |
/// | `threads` | 1 to 256 | 1 |
/// | `allow_empty_month` | `true`, `false` | `false` |
/// | `empty_entities` | legal entity codes, comma-separated | none |
/// | `covered_entities` | `YYYY-MM:entity` pairs, comma-separated | none |
/// | `catch_up` | `true`, `false` | `false` |
/// | `min_records` | a number of customers | 0 (no check) |
/// | `control_rows` | the number of AUM records the extract must have | none (no check) |
/// | `control_aum` | the amount the extract's AUM records must add up to | none (no check) |
///
/// ```
/// use crm_tiering::portfolio::{Absent, PortfolioOptions};
/// let mut options = PortfolioOptions::default();
/// options.set("absent", "hold")?;
/// options.set("empty_entities", "620101,620102")?;
/// assert_eq!(options.absent, Absent::Hold);
/// assert_eq!(options.empty_entities, ["620101", "620102"]);
/// options.set("covered_entities", "2024-03:620101,2024-04:620101")?;
/// assert_eq!(options.covered_entities.len(), 2);
/// assert!(options.set("covered_entities", "620101").is_err()); // no month
/// assert!(options.set("covered_entities", "2024-13:620101").is_err()); // no such month
/// assert!(options.set("absnet", "hold").is_err()); // names the unknown key
/// # Ok::<(), crm_tiering::portfolio::OptionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortfolioOptions {
    /// Customers without a record in a month (SPEC §15.3).
    pub absent: Absent,
    /// States written under another rule book (SPEC §15.2).
    pub rule_book_change: RuleBookChange,
    /// Worker threads for the batch (1 or more; results are the same for any number).
    pub threads: usize,
    /// Evaluate a declared month that has no AUM record at all (SPEC §15.6); refused
    /// otherwise, since it is far more often a missing extract than a month in which nobody
    /// held anything.
    pub allow_empty_month: bool,
    /// Legal entities declared to have no AUM record this month: their stored customers follow
    /// the absent policy instead of being held back as a missing file (SPEC §15.6).
    pub empty_entities: Vec<String>,
    /// Legal entities with an AUM record in a month in another part of a partitioned run
    /// (Spark's tasks): in that month their customers without a record follow the absent policy
    /// as in the whole portfolio, instead of being held back as a missing file (SPEC §15.6).
    pub covered_entities: Vec<(Month, String)>,
    /// A catch-up run (SPEC §15.7): only the stored customers whose next month is the month
    /// evaluated (held back earlier) are evaluated; every other record is left alone.
    pub catch_up: bool,
    /// The fewest customers with an AUM record a declared month may have (SPEC §15.6): a month
    /// with fewer is refused as a whole, as a file cut short or missing would be. 0: no check.
    /// The CLI sets it from the store (a share of the customers with a record in the latest
    /// committed month).
    pub min_records: u64,
    /// The number of AUM records the extract must have (a core system's control total; SPEC
    /// §15.6): a run whose extract has another number is refused as a whole.
    pub control_rows: Option<u64>,
    /// The amount the extract's AUM records must add up to ([`Extract::aum_sum`]; SPEC
    /// §15.6): a run whose extract adds up to another amount, or cannot be summed, is refused.
    ///
    /// [`Extract::aum_sum`]: super::Extract::aum_sum
    pub control_aum: Option<rust_decimal::Decimal>,
}

impl Default for PortfolioOptions {
    fn default() -> Self {
        PortfolioOptions {
            absent: Absent::Zero,
            rule_book_change: RuleBookChange::Refuse,
            threads: 1,
            allow_empty_month: false,
            empty_entities: Vec::new(),
            covered_entities: Vec::new(),
            catch_up: false,
            min_records: 0,
            control_rows: None,
            control_aum: None,
        }
    }
}

/// The most worker threads a portfolio evaluation takes.
pub const MAX_THREADS: usize = 256;

/// An option key or value that cannot be used, naming both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("option `{key}`: {message}")]
pub struct OptionError {
    /// The key, as given.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl PortfolioOptions {
    /// The keys [`PortfolioOptions::set`] takes, in the order of the table above.
    pub const KEYS: &'static [&'static str] = &[
        "absent",
        "rule_book_change",
        "threads",
        "allow_empty_month",
        "empty_entities",
        "covered_entities",
        "catch_up",
        "min_records",
        "control_rows",
        "control_aum",
    ];

    /// Sets one option from its text, as every surface gives it.
    ///
    /// # Errors
    /// [`OptionError`] for an unknown key or a value the key does not take.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), OptionError> {
        let error = |message: String| OptionError { key: key.to_string(), message };
        match key {
            "absent" => self.absent = value.parse().map_err(error)?,
            "rule_book_change" => {
                self.rule_book_change = match value {
                    "refuse" => RuleBookChange::Refuse,
                    "accept" => RuleBookChange::Accept,
                    _ => return Err(error(format!("`{value}` is not refuse or accept"))),
                }
            }
            "threads" => {
                self.threads = match value.parse::<usize>() {
                    Ok(n) if (1..=MAX_THREADS).contains(&n) && value.bytes().all(|b| b.is_ascii_digit()) => n,
                    _ => return Err(error(format!("`{value}` is not a number of threads from 1 to {MAX_THREADS}"))),
                }
            }
            "allow_empty_month" => self.allow_empty_month = flag(value).map_err(error)?,
            "catch_up" => self.catch_up = flag(value).map_err(error)?,
            "min_records" => {
                self.min_records =
                    count(value).ok_or_else(|| error(format!("`{value}` is not a number of customers")))?;
            }
            "control_rows" => {
                self.control_rows =
                    Some(count(value).ok_or_else(|| error(format!("`{value}` is not a number of records")))?);
            }
            "control_aum" => {
                let amount = crate::money::parse_amount(value)
                    .map_err(|e| error(format!("`{value}` is not an amount ({e})")))?;
                self.control_aum = Some(amount);
            }
            "empty_entities" => {
                let mut entities = Vec::new();
                for e in value.split(',').filter(|e| !e.is_empty()) {
                    crate::portfolio::validate_customer_id(e)
                        .map_err(|x| error(x.to_string().replace("customer id", "legal entity code")))?;
                    entities.push(e.to_string());
                }
                self.empty_entities = entities;
            }
            "covered_entities" => {
                let mut covered = Vec::new();
                for pair in value.split(',').filter(|p| !p.is_empty()) {
                    let (month, entity) = pair
                        .split_once(':')
                        .ok_or_else(|| error(format!("`{pair}` is not MONTH:ENTITY (for example 2024-03:620101)")))?;
                    let month = month.parse::<Month>().map_err(|e| error(format!("`{pair}`: {e}")))?;
                    crate::portfolio::validate_customer_id(entity)
                        .map_err(|x| error(x.to_string().replace("customer id", "legal entity code")))?;
                    covered.push((month, entity.to_string()));
                }
                self.covered_entities = covered;
            }
            _ => return Err(error(format!("unknown option: expected one of {}", Self::KEYS.join(", ")))),
        }
        Ok(())
    }

    /// Options from `key = value` pairs, applied in order over the defaults.
    ///
    /// # Errors
    /// As [`PortfolioOptions::set`].
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, OptionError> {
        let mut options = PortfolioOptions::default();
        for (k, v) in pairs {
            options.set(k, v)?;
        }
        Ok(options)
    }

    /// Sets the control totals from the text of a trailer file a core system writes beside its
    /// extract (SPEC §15.6): lines `rows=N` and `aum=AMOUNT`, either or both, blank lines and
    /// `#` comments ignored.
    ///
    /// ```
    /// use crm_tiering::portfolio::PortfolioOptions;
    /// let mut options = PortfolioOptions::default();
    /// options.set_control_trailer("# from the core system\nrows=2\naum=450000.50\n")?;
    /// assert_eq!(options.control_rows, Some(2));
    /// assert!(options.set_control_trailer("count=2").is_err());
    /// # Ok::<(), (usize, String)>(())
    /// ```
    ///
    /// # Errors
    /// The 1-based line and what is wrong with it (0 for a trailer without a total): a line
    /// that is not a total, a total given twice, or a value the option does not take.
    pub fn set_control_trailer(&mut self, text: &str) -> Result<(), (usize, String)> {
        let mut seen: Vec<&str> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let bad = |why: String| (n + 1, why);
            let (key, value) = line.split_once('=').ok_or_else(|| bad("expected rows=N or aum=AMOUNT".into()))?;
            let key = match key.trim() {
                "rows" => "control_rows",
                "aum" => "control_aum",
                other => return Err(bad(format!("`{other}` is not a control total: expected rows or aum"))),
            };
            if seen.contains(&key) {
                return Err(bad("a control total given twice".into()));
            }
            seen.push(key);
            self.set(key, value.trim()).map_err(|e| bad(e.to_string()))?;
        }
        if seen.is_empty() {
            return Err((0, "no control total (expected lines rows=N and aum=AMOUNT)".into()));
        }
        Ok(())
    }

    /// Whether a legal entity was declared to have no records.
    pub(crate) fn declared_empty(&self, legal_entity: &str) -> bool {
        self.empty_entities.iter().any(|e| e == legal_entity)
    }

    /// Whether a legal entity was declared to have an AUM record in month `m` elsewhere in a
    /// partitioned run.
    pub(crate) fn covered_elsewhere(&self, m: Month, legal_entity: &str) -> bool {
        self.covered_entities.iter().any(|(month, e)| *month == m && e == legal_entity)
    }
}

/// A count in plain decimal digits.
fn count(value: &str) -> Option<u64> {
    value.bytes().all(|b| b.is_ascii_digit()).then(|| value.parse().ok()).flatten()
}

/// `true` or `false`, exactly.
fn flag(value: &str) -> Result<bool, String> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("`{value}` is not true or false")),
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

    /// The number of months (as many as [`MonthRange::months`] gives; `new` makes `last` no
    /// earlier than `first`).
    pub(super) fn len(&self) -> usize {
        usize::try_from(self.last.months_since(self.first)).map_or(0, |n| n + 1)
    }

    /// The offset of a month from the first, `None` for a month before it.
    pub(super) fn offset(&self, m: Month) -> Option<usize> {
        usize::try_from(m.months_since(self.first)).ok()
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
