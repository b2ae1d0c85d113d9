//! The computation of a contribution month (SPEC §20.3–§20.6): the checks, the account-month
//! pass, fees and direct costs, the allocation stages, then the roll-ups.

mod pending;
mod stages;

use std::collections::BTreeMap;

use crm_tiering::Month;

use crate::error::{ContributionError, ContributionErrors};
use crate::fen::{amount_fen, prorate};
use crate::ftp::Lookup;
use crate::inputs::{AccountMonth, Inputs, Side};
use crate::lineage::{
    CAPITAL, Contribution, CustomerMonth, DIRECT, FEES, Fen, Figures, INTEREST_ASSET, INTEREST_LIABILITY, LineKind,
    LineageLine, PoolAmount, RISK,
};
use crate::rules::RuleBook;
use crm_tiering::Decimal;
use pending::Pending;

/// One customer's figures while they are computed.
#[derive(Default)]
pub(crate) struct CustomerFigures<'a> {
    pub(crate) fen: Fen,
    pub(crate) by_pool: Vec<PoolAmount>,
    pub(crate) lines: Vec<Pending<'a>>,
    /// The home branch: the account with the largest balance (ties: the smaller account id).
    pub(crate) home: Option<(i128, &'a str, &'a str, &'a str)>,
}

/// The customers of the month, by id.
pub(crate) type Customers<'a> = BTreeMap<&'a str, CustomerFigures<'a>>;

/// The run's book, month and inputs.
pub(crate) struct Run<'a> {
    pub(crate) book: &'a RuleBook,
    pub(crate) month: Month,
    pub(crate) inputs: &'a Inputs,
}

/// Computes a contribution month: every customer with an account-month in `month`, its
/// figures and lineage, the allocation stages with their conservation checks, and the
/// roll-ups by account manager, branch and legal entity.
///
/// # Errors
/// Every bad record (SPEC §20.8) and every rate gap, unknown product, zero driver total or
/// missing coefficient, as [`ContributionErrors`]; nothing is returned in part.
pub fn compute(book: &RuleBook, month: Month, inputs: &Inputs) -> Result<Contribution, ContributionErrors> {
    let mut lineage = Vec::new();
    let mut result = run(book, month, inputs, &mut lineage)?;
    result.lineage = lineage;
    Ok(result)
}

/// Computes as [`compute`] does, but hands each lineage line to `line` as it is made, in the
/// lineage's order, instead of keeping them: the result's `lineage` is empty. A store that
/// writes the lines as they come holds none of them, which is most of a month's memory. No
/// line is handed over unless the whole month computes.
///
/// # Errors
/// As [`compute`]; `line` is then never called.
pub fn compute_streaming(
    book: &RuleBook,
    month: Month,
    inputs: &Inputs,
    line: impl FnMut(LineageLine),
) -> Result<Contribution, ContributionErrors> {
    run(book, month, inputs, &mut Stream(line))
}

/// Where the lineage lines go: a list, or a caller's function.
trait Lines {
    /// Room for `n` more lines.
    fn reserve(&mut self, n: usize);
    /// The next line.
    fn push(&mut self, line: LineageLine);
}

impl Lines for Vec<LineageLine> {
    fn reserve(&mut self, n: usize) {
        self.reserve_exact(n);
    }

    fn push(&mut self, line: LineageLine) {
        Vec::push(self, line);
    }
}

/// Lines handed to a function.
struct Stream<F>(F);

impl<F: FnMut(LineageLine)> Lines for Stream<F> {
    fn reserve(&mut self, _: usize) {}

    fn push(&mut self, line: LineageLine) {
        (self.0)(line);
    }
}

/// The computation, the lineage lines going to `lines`.
fn run(
    book: &RuleBook,
    month: Month,
    inputs: &Inputs,
    lines: &mut dyn Lines,
) -> Result<Contribution, ContributionErrors> {
    let errors = crate::validate::validate(book, month, inputs);
    if !errors.is_empty() {
        return Err(ContributionErrors(errors));
    }
    let run = Run { book, month, inputs };
    let mut branches: BTreeMap<(&str, &str), Fen> = BTreeMap::new();
    let mut ordered: Vec<&AccountMonth> = inputs.account_months.iter().collect();
    // Extracts usually come sorted: checking is linear, sorting is not.
    if !ordered.is_sorted_by(|a, b| sort_key(a) <= sort_key(b)) {
        ordered.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    }
    let mut errors = Vec::new();
    // Accounts come grouped by customer, so each customer's figures are built in turn and the
    // map is built from the sorted list at once.
    let mut grouped: Vec<(&str, CustomerFigures<'_>)> = Vec::new();
    let mut branch = BranchSum::default();
    for accounts in ordered.chunk_by(|a, b| a.customer == b.customer) {
        let Some(first) = accounts.first() else { continue };
        let mut c = CustomerFigures { lines: Vec::with_capacity(line_estimate(book, accounts)), ..Default::default() };
        for a in accounts {
            if let Err(e) = account_lines(&run, a, &mut c, branch.at(&mut branches, a)) {
                errors.push(e);
            }
        }
        grouped.push((first.customer.as_str(), c));
    }
    branch.flush(&mut branches);
    let mut customers: Customers<'_> = grouped.into_iter().collect();
    customer_lines(inputs, &mut customers);
    let stages = stages::run_stages(&run, &mut customers).unwrap_or_else(|e| {
        errors.extend(e);
        Vec::new()
    });
    if !errors.is_empty() {
        return Err(ContributionErrors(errors));
    }
    for c in customers.values() {
        if let Some((_, _, legal_entity, branch)) = c.home {
            let slot = branches.entry((legal_entity, branch)).or_default();
            for i in [FEES, crate::lineage::ALLOCATED, DIRECT] {
                if let (Some(s), Some(v)) = (slot.get_mut(i), c.fen.get(i)) {
                    *s += v;
                }
            }
        }
    }
    let (managers, unassigned) = crate::rollup::managers(&customers, &inputs.assignments)?;
    let (branches, legal_entities) = crate::rollup::branches(&customers, &branches)?;
    let mut out_customers = Vec::with_capacity(customers.len());
    lines.reserve(customers.values().map(|c| c.lines.len()).sum());
    for (id, mut c) in customers {
        c.lines.sort_by_key(Pending::kind);
        for p in &c.lines {
            lines.push(p.line(id, book));
        }
        out_customers.push(CustomerMonth {
            customer: id.to_string(),
            figures: Figures::from_fen(&c.fen),
            allocated_by_pool: c.by_pool,
        });
    }
    Ok(Contribution {
        month,
        customers: out_customers,
        lineage: Vec::new(),
        managers,
        unassigned: Figures::from_fen(&unassigned),
        branches,
        legal_entities,
        stages,
    })
}

/// An account-month's interest line, and its risk cost and capital charge lines.
fn account_lines<'a>(
    run: &Run<'_>,
    a: &'a AccountMonth,
    c: &mut CustomerFigures<'a>,
    branch: &mut Fen,
) -> Result<(), ContributionError> {
    let book = run.book;
    let ftp = match book.ftp().lookup(&a.product, &a.term, run.month) {
        Lookup::Rate(r) => r,
        Lookup::Gap => {
            return Err(ContributionError::RateGap {
                account: a.account.clone(),
                product: a.product.clone(),
                term: a.term.clone(),
                month: run.month,
            });
        }
        Lookup::Unknown => {
            return Err(ContributionError::UnknownProduct {
                account: a.account.clone(),
                product: a.product.clone(),
                term: a.term.clone(),
            });
        }
    };
    let balance = amount_fen(a.average_balance).unwrap_or(0);
    let days = a.days.unwrap_or_else(|| run.month.days());
    let too_large = || ContributionError::TooLarge { what: format!("account {}", a.account) };
    let (spread, index, kind) = match a.side {
        Side::Asset => (a.customer_rate - ftp, INTEREST_ASSET, LineKind::InterestAsset),
        Side::Liability => (ftp - a.customer_rate, INTEREST_LIABILITY, LineKind::InterestLiability),
    };
    let interest = prorate(balance, &[spread], days, book.basis(), book.rounding()).ok_or_else(too_large)?;
    let account = |kind: LineKind, amount: i128, rate: Decimal| Pending::Account { a, kind, amount, days, rate };
    let mut add = |i: usize, amount: i128, line: Pending<'a>| {
        if let (Some(s), Some(b)) = (c.fen.get_mut(i), branch.get_mut(i)) {
            *s += amount;
            *b += amount;
        }
        c.lines.push(line);
    };
    // Each amount is computed before any is added: an account beyond exact arithmetic adds
    // nothing.
    let risk = match a.loan_class.and_then(|c| book.provision_rate(c)) {
        Some(rate) => {
            Some((rate, prorate(balance, &[rate], days, book.basis(), book.rounding()).ok_or_else(too_large)?))
        }
        None => None,
    };
    let capital = match (book.capital_rate(), a.risk_weight) {
        (Some(rate), Some(weight)) => {
            let cost = prorate(balance, &[weight, rate], days, book.basis(), book.rounding()).ok_or_else(too_large)?;
            Some((rate, cost))
        }
        _ => None,
    };
    add(index, interest, account(kind, interest, ftp));
    if let Some((rate, cost)) = risk {
        add(RISK, cost, account(LineKind::RiskCost, -cost, rate));
    }
    if let Some((rate, cost)) = capital {
        add(CAPITAL, cost, account(LineKind::CapitalCharge, -cost, rate));
    }
    // Accounts come in id order: a later account is home only with a larger balance.
    if c.home.is_none_or(|(b, ..)| balance > b) {
        c.home = Some((balance, a.account.as_str(), a.legal_entity.as_str(), a.branch.as_str()));
    }
    Ok(())
}

/// A customer's lineage lines, as far as they can be counted before they are made: one for
/// each account, its risk cost and capital charge lines, and one for each customer stage and
/// one more (a fee, say). Enough room, reserved at once, spares the copies of a growing list.
fn line_estimate(book: &RuleBook, accounts: &[&AccountMonth]) -> usize {
    let account_lines: usize = accounts
        .iter()
        .map(|a| {
            let risk = a.loan_class.is_some_and(|c| book.provision_rate(c).is_some());
            let capital = a.risk_weight.is_some() && book.capital_rate().is_some();
            1 + usize::from(risk) + usize::from(capital)
        })
        .sum();
    let stages = book.stages().iter().filter(|s| !matches!(s.driver, crate::rules::Driver::CostCentres { .. }));
    account_lines + stages.count() + 1
}

/// The order account-months are computed in: by customer, then account.
fn sort_key(a: &AccountMonth) -> (&str, &str) {
    (&a.customer, &a.account)
}

/// The running sum of one branch's account lines: consecutive account-months mostly share a
/// branch, so the branch map is looked up when the branch changes.
#[derive(Default)]
struct BranchSum<'a> {
    key: Option<(&'a str, &'a str)>,
    fen: Fen,
}

impl<'a> BranchSum<'a> {
    /// The sum for the account-month's branch (the previous branch's sum added to the map).
    fn at(&mut self, branches: &mut BTreeMap<(&'a str, &'a str), Fen>, a: &'a AccountMonth) -> &mut Fen {
        let key = (a.legal_entity.as_str(), a.branch.as_str());
        if self.key != Some(key) {
            self.flush(branches);
            self.key = Some(key);
        }
        &mut self.fen
    }

    /// Adds the running sum to its branch's.
    fn flush(&mut self, branches: &mut BTreeMap<(&'a str, &'a str), Fen>) {
        if let Some(key) = self.key.take() {
            add(branches.entry(key).or_default(), &self.fen);
        }
        self.fen = Fen::default();
    }
}

/// Fees and direct costs, in input order (their customers have account-months: validated).
fn customer_lines<'a>(inputs: &'a Inputs, customers: &mut Customers<'a>) {
    for f in &inputs.fees {
        if let Some(c) = customers.get_mut(f.customer.as_str()) {
            let fen = amount_fen(f.amount).unwrap_or(0);
            c.fen[FEES] += fen;
            c.lines.push(Pending::Fee { f, fen });
        }
    }
    for d in &inputs.direct_costs {
        if let Some(c) = customers.get_mut(d.customer.as_str()) {
            let fen = amount_fen(d.amount).unwrap_or(0);
            c.fen[DIRECT] += fen;
            c.lines.push(Pending::Direct { d, fen });
        }
    }
}

/// The sum of fen components.
pub(crate) fn add(a: &mut Fen, b: &Fen) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}
