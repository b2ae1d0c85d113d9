//! Sizing a rule change: the same extract, over the same months, from the same starting
//! states, under two rule books; tier counts per month under each and the customers whose
//! effective tier differs. Written once here for the CLI's `simulate` and Python's `simulate`.

use rust_decimal::Decimal;

use super::extract::Extract;
use super::options::{MonthRange, PortfolioOptions, RuleBookChange};
use super::record::{PortfolioFailure, RecordError};
use super::sink::PortfolioSink;
use super::states::PortfolioStates;
use crate::code::TierCode;
use crate::engine::{CustomerRef, Engine};
use crate::event::{Alert, Event};
use crate::month::Month;
use crate::rules::RuleBook;
use crate::state::{CustomerState, Status};

/// How many customers stand at one effective tier in one month, under each rule book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierCount {
    /// The evaluated month (the tier is effective from the month after).
    pub month: Month,
    /// The effective tier; none for customers who are not VIPs.
    pub tier: Option<TierCode>,
    /// Customers at that tier under rule book A.
    pub count_a: u64,
    /// Customers at that tier under rule book B.
    pub count_b: u64,
}

impl TierCount {
    /// `count_b - count_a`.
    pub fn delta(&self) -> i64 {
        let d = i128::from(self.count_b) - i128::from(self.count_a);
        // Counts of customers, far below 2^63: the difference always fits.
        i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
    }
}

/// A customer-month whose effective tier differs between the two rule books.
#[derive(Debug, Clone, PartialEq)]
pub struct TierChange {
    /// The customer.
    pub customer_id: String,
    /// The evaluated month.
    pub month: Month,
    /// The month's AUM (the same under both books unless their compositions differ: B's).
    pub aum: Decimal,
    /// The effective tier under A (none when not a VIP, or not evaluated under A).
    pub tier_a: Option<TierCode>,
    /// The effective tier under B.
    pub tier_b: Option<TierCode>,
    /// The status under A (`not_enrolled` when not evaluated under A).
    pub status_a: Status,
    /// The status under B.
    pub status_b: Status,
}

/// The result of [`simulate`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Simulation {
    /// Per month, then per tier (none first, then the tiers in the order of book A's rule
    /// sets, then B's new codes): the counts under each book. Every tier seen in a month under
    /// either book has a row.
    pub counts: Vec<TierCount>,
    /// The customer-months evaluated under B whose effective tier differs from A's, month by
    /// month in portfolio order.
    pub changes: Vec<TierChange>,
    /// Customers held back and refused records under A, with the month reported.
    pub held_a: Vec<(Month, RecordError)>,
    /// The same under B.
    pub held_b: Vec<(Month, RecordError)>,
}

/// How many customers a committed month evaluated at one effective tier: what replaying the
/// month under the rule book that committed it should give again (SPEC §15.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommittedCount {
    /// The evaluated month.
    pub month: Month,
    /// The effective tier; none for customers who are not VIPs.
    pub tier: Option<TierCode>,
    /// Customers evaluated at that tier (customers held back are not counted).
    pub count: u64,
}

/// A month and tier where the replay under rule book A does not give the committed count: the
/// simulation's baseline is not what was committed (SPEC §15.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaselineDifference {
    /// The evaluated month.
    pub month: Month,
    /// The effective tier; none for customers who are not VIPs.
    pub tier: Option<TierCode>,
    /// Customers at that tier in the committed month.
    pub committed: u64,
    /// Customers at that tier when the month is replayed under rule book A.
    pub replayed: u64,
}

impl Simulation {
    /// The months and tiers where book A's counts differ from the `committed` ones, by month
    /// and then in the order of [`Simulation::counts`] (tiers only committed come last); empty
    /// when the baseline is what was committed.
    ///
    /// ```
    /// use crm_tiering::portfolio::{CommittedCount, Simulation, TierCount};
    /// let month = "2024-03".parse()?;
    /// let sim = Simulation {
    ///     counts: vec![TierCount { month, tier: None, count_a: 5, count_b: 6 }],
    ///     ..Simulation::default()
    /// };
    /// let committed = [CommittedCount { month, tier: None, count: 4 }];
    /// let d = sim.baseline_differences(&committed);
    /// assert_eq!((d[0].committed, d[0].replayed), (4, 5));
    /// assert!(sim.baseline_differences(&[CommittedCount { month, tier: None, count: 5 }]).is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn baseline_differences(&self, committed: &[CommittedCount]) -> Vec<BaselineDifference> {
        let mut rows: Vec<BaselineDifference> = self
            .counts
            .iter()
            .map(|c| BaselineDifference { month: c.month, tier: c.tier, committed: 0, replayed: c.count_a })
            .collect();
        for c in committed {
            match rows.iter_mut().find(|r| r.month == c.month && r.tier == c.tier) {
                Some(r) => r.committed += c.count,
                None => rows.push(BaselineDifference { month: c.month, tier: c.tier, committed: c.count, replayed: 0 }),
            }
        }
        rows.retain(|r| r.committed != r.replayed);
        rows.sort_by_key(|r| r.month);
        rows
    }
}

/// The tier codes of two books, in order: the rank of each tier in the counts.
struct Ranks {
    tiers: Vec<TierCode>,
}

impl Ranks {
    fn of(books: [&RuleBook; 2]) -> Self {
        let mut tiers: Vec<TierCode> = Vec::new();
        for book in books {
            for set in book.rule_sets() {
                for v in &set.versions {
                    for t in &v.tiers {
                        if !tiers.contains(&t.code) {
                            tiers.push(t.code);
                        }
                    }
                }
            }
        }
        Ranks { tiers }
    }

    /// 0 for none, 1 + position for a tier (a code from elsewhere is appended).
    fn rank(&mut self, t: Option<TierCode>) -> usize {
        match t {
            None => 0,
            Some(t) => match self.tiers.iter().position(|x| *x == t) {
                Some(i) => i + 1,
                None => {
                    self.tiers.push(t);
                    self.tiers.len()
                }
            },
        }
    }

    fn tier(&self, rank: usize) -> Option<TierCode> {
        rank.checked_sub(1).and_then(|i| self.tiers.get(i).copied())
    }
}

/// What a customer-month was under A.
#[derive(Clone, Copy)]
struct Standing {
    tier: Option<TierCode>,
    status: Status,
}

/// Collects one pass.
struct Pass<'r> {
    months: MonthRange,
    ranks: &'r mut Ranks,
    /// Counts per month offset and rank, under this pass's book.
    counts: Vec<Vec<u64>>,
    held: Vec<(Month, RecordError)>,
    /// First pass: each month's standings by customer index.
    record: Option<Vec<Vec<Option<Standing>>>>,
    /// Second pass: the first pass's standings, its customers, and the changes found.
    compare: Option<Compare<'r>>,
}

struct Compare<'r> {
    standings: &'r [Vec<Option<Standing>>],
    customers: &'r PortfolioStates,
    changes: Vec<TierChange>,
}

impl Compare<'_> {
    fn standing_a(&mut self, offset: usize, index: usize, id: &str) -> Option<Standing> {
        let i = if self.customers.customer(index).is_some_and(|c| c.id == id) {
            Some(index)
        } else {
            self.customers.index_of(id)
        };
        i.and_then(|i| self.standings.get(offset).and_then(|m| m.get(i)).copied().flatten())
    }
}

impl PortfolioSink for Pass<'_> {
    fn event(&mut self, _: Month, _: usize, _: CustomerRef<'_>, _: &Event) {}
    fn alert(&mut self, _: Month, _: usize, _: CustomerRef<'_>, _: &Alert) {}
    fn held(&mut self, month: Month, _: Option<usize>, error: &RecordError) {
        self.held.push((month, error.clone()));
    }
    fn evaluated(&mut self, m: Month, index: usize, c: CustomerRef<'_>, aum: Decimal, _: bool, s: &CustomerState) {
        // Months of the range only: `usize::MAX` (no row) is never taken.
        let offset = self.months.offset(m).unwrap_or(usize::MAX);
        let rank = self.ranks.rank(s.effective_tier);
        if let Some(month) = self.counts.get_mut(offset) {
            if month.len() <= rank {
                month.resize(rank + 1, 0);
            }
            if let Some(n) = month.get_mut(rank) {
                *n += 1;
            }
        }
        let standing = Standing { tier: s.effective_tier, status: s.status };
        if let Some(record) = &mut self.record
            && let Some(month) = record.get_mut(offset)
        {
            if month.len() <= index {
                month.resize(index + 1, None);
            }
            if let Some(at) = month.get_mut(index) {
                *at = Some(standing);
            }
        }
        if let Some(cmp) = &mut self.compare {
            let a = cmp.standing_a(offset, index, c.id).unwrap_or(Standing { tier: None, status: Status::NotEnrolled });
            if a.tier != s.effective_tier {
                cmp.changes.push(TierChange {
                    customer_id: c.id.to_string(),
                    month: m,
                    aum,
                    tier_a: a.tier,
                    tier_b: s.effective_tier,
                    status_a: a.status,
                    status_b: s.status,
                });
            }
        }
    }
}

/// Runs the same extract over `months` under two rule books, each from a copy of `states`:
/// per month the number of customers at each effective tier under each book (customers who
/// are not VIPs under tier none), and every customer-month evaluated under B whose effective
/// tier differs from A's (a customer not evaluated under A counts as not enrolled there).
///
/// Each extract is the same records read against its own book (`a.1` with `a.0`'s rule book,
/// `b.1` with `b.0`'s), since component and tier names are resolved against the book. The
/// states must suit book A (as [`Engine::evaluate_portfolio`] checks, with
/// `options.rule_book_change`); under B they are always accepted, the rule change being the
/// point of the simulation. `states` itself is left unchanged.
///
/// ```
/// use crm_tiering::{Engine, RuleBook};
/// use crm_tiering::portfolio::{Columns, Extract, PortfolioOptions, PortfolioStates, TableKind, simulate};
/// let a = Engine::new(RuleBook::default_book()?);
/// let mut file = a.rule_book().source().clone();
/// file.rule_sets[0].versions[0].tiers[0].min_aum = "300000".parse()?;
/// let b = Engine::new(RuleBook::from_file(file)?);
/// let read = |book: &RuleBook| -> Result<Extract, crm_tiering::TieringError> {
///     let cols = Columns::resolve(book, TableKind::Aum, &["month", "customer_id", "aum"])?;
///     let mut x = Extract::new(book);
///     x.push_cells("aum.csv", &cols, 2, &["2024-01", "c1", "250000"]);
///     x.push_cells("aum.csv", &cols, 3, &["2024-01", "c2", "600000"]);
///     Ok(x)
/// };
/// let (xa, xb) = (read(a.rule_book())?, read(b.rule_book())?);
/// let sim = simulate((&a, &xa), (&b, &xb), &PortfolioStates::new(), "2024-01".parse()?,
///                    &PortfolioOptions::default())?;
/// let gold = sim.counts.iter().find(|c| c.tier.is_some_and(|t| t.as_str() == "gold")).unwrap();
/// assert_eq!((gold.count_a, gold.count_b, gold.delta()), (1, 0, -1));
/// assert_eq!(sim.changes[0].customer_id, "c1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`PortfolioFailure`] when either run cannot go at all (as [`Engine::evaluate_portfolio`]).
pub fn simulate(
    a: (&Engine, &Extract),
    b: (&Engine, &Extract),
    states: &PortfolioStates,
    months: MonthRange,
    options: &PortfolioOptions,
) -> Result<Simulation, PortfolioFailure> {
    let n_months = months.months().count();
    let mut ranks = Ranks::of([a.0.rule_book(), b.0.rule_book()]);
    let mut pass_a = Pass {
        months,
        ranks: &mut ranks,
        counts: vec![Vec::new(); n_months],
        held: Vec::new(),
        record: Some(vec![Vec::new(); n_months]),
        compare: None,
    };
    let mut states_a = states.clone();
    a.0.evaluate_portfolio_with(&mut states_a, months, a.1, options, &mut pass_a)?;
    let (counts_a, held_a, standings) = (pass_a.counts, pass_a.held, pass_a.record.unwrap_or_default());
    let options_b = PortfolioOptions { rule_book_change: RuleBookChange::Accept, ..options.clone() };
    let mut pass_b = Pass {
        months,
        ranks: &mut ranks,
        counts: vec![Vec::new(); n_months],
        held: Vec::new(),
        record: None,
        compare: Some(Compare { standings: &standings, customers: &states_a, changes: Vec::new() }),
    };
    let mut states_b = states.clone();
    b.0.evaluate_portfolio_with(&mut states_b, months, b.1, &options_b, &mut pass_b)?;
    let (counts_b, held_b) = (pass_b.counts, pass_b.held);
    let changes = pass_b.compare.map(|c| c.changes).unwrap_or_default();
    let mut counts = Vec::new();
    // One row of counts per month in each pass.
    for ((m, ca), cb) in months.months().zip(&counts_a).zip(&counts_b) {
        for rank in 0..ca.len().max(cb.len()) {
            let (x, y) = (ca.get(rank).copied().unwrap_or(0), cb.get(rank).copied().unwrap_or(0));
            if x + y > 0 {
                counts.push(TierCount { month: m, tier: ranks.tier(rank), count_a: x, count_b: y });
            }
        }
    }
    Ok(Simulation { counts, changes, held_a, held_b })
}
