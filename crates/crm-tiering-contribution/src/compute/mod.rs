//! The computation of a contribution month (SPEC §20.3–§20.6): the checks, the account-month
//! pass, fees and direct costs, the allocation stages, then the roll-ups.

mod pending;
mod stages;

use std::collections::BTreeMap;
use std::ops::Range;

use crm_tiering::Month;

use crate::error::{ContributionError, ContributionErrors};
use crate::fen::{amount_fen, fen_decimal, prorate};
use crate::ftp::Lookup;
use crate::inputs::{Inputs, Side};
use crate::lineage::{
    CAPITAL, Contribution, CustomerMonth, DIRECT, FEES, Fen, Figures, INTEREST_ASSET, INTEREST_LIABILITY, LineKind,
    LineageLine, PoolAmount, RISK, StageOutcome,
};
use crate::rules::RuleBook;
use crate::table::{AccountMonthTable, AccountRef};
use crm_tiering::Decimal;
use pending::{Amount, Pending};

/// One customer's figures while they are computed.
#[derive(Default)]
pub(crate) struct CustomerFigures {
    pub(crate) fen: Fen,
    /// The fee, direct cost and stage share lines (account lines are made at the end; the
    /// allocated costs by pool are read from the stage shares then).
    pub(crate) lines: Vec<Pending>,
    /// The customer's account-months: positions in the run's order.
    pub(crate) accounts: Range<u32>,
    /// The home branch: the row of the account with the largest balance (ties: the smaller
    /// account id), and that balance.
    pub(crate) home: Option<(i128, u32)>,
}

/// The customers of the month, in id order (each once): the account-months are computed by
/// customer in that order, so the list is built in order, without a map's nodes.
pub(crate) struct Customers<'a>(Vec<(&'a str, CustomerFigures)>);

impl<'a> Customers<'a> {
    /// A customer's figures.
    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut CustomerFigures> {
        let i = self.0.binary_search_by(|(c, _)| (*c).cmp(id)).ok()?;
        self.0.get_mut(i).map(|(_, c)| c)
    }

    /// Each customer with its figures, in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'a str, &CustomerFigures)> + '_ {
        self.0.iter().map(|(id, c)| (*id, c))
    }

    /// Each customer with its figures to change, in id order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&'a str, &mut CustomerFigures)> + '_ {
        self.0.iter_mut().map(|(id, c)| (*id, c))
    }

    /// The customers' figures, in id order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &CustomerFigures> + '_ {
        self.0.iter().map(|(_, c)| c)
    }
}

/// The run's book, month and inputs (the account-months as a table).
pub(crate) struct Run<'a> {
    pub(crate) book: &'a RuleBook,
    pub(crate) month: Month,
    pub(crate) inputs: &'a Inputs,
    pub(crate) accounts: &'a AccountMonthTable,
}

/// Computes a contribution month: every customer with an account-month in `month`, its
/// figures and lineage, the allocation stages with their conservation checks, and the
/// roll-ups by account manager, branch and legal entity.
///
/// # Errors
/// Every bad record (SPEC §20.8) and every rate gap, unknown product, zero driver total or
/// missing coefficient, as [`ContributionErrors`]; nothing is returned in part.
pub fn compute(book: &RuleBook, month: Month, inputs: &Inputs) -> Result<Contribution, ContributionErrors> {
    let accounts = AccountMonthTable::from_account_months(&inputs.account_months)?;
    let mut lineage = Vec::new();
    let mut result = run(&Run { book, month, inputs, accounts: &accounts }, &mut lineage)?;
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
    let accounts = AccountMonthTable::from_account_months(&inputs.account_months)?;
    run(&Run { book, month, inputs, accounts: &accounts }, &mut Stream(line))
}

/// Computes as [`compute`] does (the lineage kept in the result), the account-months given as
/// a table (the rest of the inputs in `inputs`, whose own `account_months` must be empty): the
/// same computation, without a list of account-months in memory.
///
/// # Errors
/// As [`compute`]; [`ContributionError::Record`] on field `account_months` when `inputs` has
/// account-months too.
pub fn compute_table(
    book: &RuleBook,
    month: Month,
    accounts: &AccountMonthTable,
    inputs: &Inputs,
) -> Result<Contribution, ContributionErrors> {
    only_table(inputs)?;
    let mut lineage = Vec::new();
    let mut result = run(&Run { book, month, inputs, accounts }, &mut lineage)?;
    result.lineage = lineage;
    Ok(result)
}

/// Refuses inputs that give account-months as a list beside a table.
fn only_table(inputs: &Inputs) -> Result<(), ContributionErrors> {
    if inputs.account_months.is_empty() {
        return Ok(());
    }
    let message = "given both as a table and as a list: expected the table alone";
    Err(ContributionError::record("inputs", "account_months", message).into())
}

/// Computes as [`compute_streaming`] does, the account-months given as a table (the rest of
/// the inputs in `inputs`, whose own `account_months` must be empty): the same computation,
/// without a list of account-months in memory.
///
/// # Errors
/// As [`compute`]; [`ContributionError::Record`] on field `account_months` when `inputs` has
/// account-months too. `line` is then never called.
pub fn compute_table_streaming(
    book: &RuleBook,
    month: Month,
    accounts: &AccountMonthTable,
    inputs: &Inputs,
    line: impl FnMut(LineageLine),
) -> Result<Contribution, ContributionErrors> {
    only_table(inputs)?;
    run(&Run { book, month, inputs, accounts }, &mut Stream(line))
}

/// Where the lineage lines go: a list, or a caller's function.
trait Lines {
    /// Room for `n()` more lines (counted only for a list).
    fn reserve(&mut self, n: &dyn Fn() -> usize);
    /// The next line.
    fn push(&mut self, line: LineageLine);
}

impl Lines for Vec<LineageLine> {
    fn reserve(&mut self, n: &dyn Fn() -> usize) {
        self.reserve_exact(n());
    }

    fn push(&mut self, line: LineageLine) {
        Vec::push(self, line);
    }
}

/// Lines handed to a function.
struct Stream<F>(F);

impl<F: FnMut(LineageLine)> Lines for Stream<F> {
    fn reserve(&mut self, _: &dyn Fn() -> usize) {}

    fn push(&mut self, line: LineageLine) {
        (self.0)(line);
    }
}

/// The order account-months are computed in: by customer, then account.
struct Order<'a> {
    accounts: &'a AccountMonthTable,
    /// The rows in that order; `None` when the table is in that order already (extracts
    /// usually come sorted: checking is linear, sorting is not).
    rows: Option<Vec<u32>>,
}

impl<'a> Order<'a> {
    fn new(accounts: &'a AccountMonthTable) -> Self {
        if (0..accounts.len()).map(|i| accounts.key(i)).is_sorted() {
            return Order { accounts, rows: None };
        }
        let mut rows: Vec<u32> = (0..accounts.len()).filter_map(|i| u32::try_from(i).ok()).collect();
        let key = |r: &u32| usize::try_from(*r).ok().and_then(|r| accounts.key(r));
        rows.sort_by(|a, b| key(a).cmp(&key(b)));
        Order { accounts, rows: Some(rows) }
    }

    /// The account-month at position `p`.
    fn at(&self, p: u32) -> Option<AccountRef<'a>> {
        let row = match &self.rows {
            Some(rows) => *rows.get(usize::try_from(p).ok()?)?,
            None => p,
        };
        self.accounts.row(usize::try_from(row).ok()?)
    }
}

/// The computation, the lineage lines going to `lines`.
fn run(run: &Run<'_>, lines: &mut dyn Lines) -> Result<Contribution, ContributionErrors> {
    let (book, inputs, month) = (run.book, run.inputs, run.month);
    let errors = crate::validate::validate(book, month, inputs, run.accounts);
    if !errors.is_empty() {
        return Err(ContributionErrors(errors));
    }
    let mut branches: BTreeMap<(&str, &str), Fen> = BTreeMap::new();
    let order = Order::new(run.accounts);
    let mut errors = Vec::new();
    // Accounts come grouped by customer, so each customer's figures are built in turn, and
    // the customers come in id order.
    let mut grouped: Vec<(&str, CustomerFigures)> = Vec::new();
    let mut branch = BranchSum::default();
    let mut p = 0;
    while let Some(first) = order.at(p) {
        let mut c = CustomerFigures { lines: Vec::with_capacity(line_estimate(book)), ..Default::default() };
        let start = p;
        while let Some(a) = order.at(p).filter(|a| a.customer == first.customer) {
            if let Err(e) = account_lines(run, &a, &mut c, branch.at(&mut branches, &a)) {
                errors.push(e);
            }
            p += 1;
        }
        c.accounts = start..p;
        grouped.push((first.customer, c));
    }
    branch.flush(&mut branches);
    let mut customers = Customers(grouped);
    customer_lines(inputs, &mut customers);
    let stages = stages::run_stages(run, &mut customers).unwrap_or_else(|e| {
        errors.extend(e);
        Vec::new()
    });
    if !errors.is_empty() {
        return Err(ContributionErrors(errors));
    }
    for c in customers.values() {
        if let Some(home) = c.home.and_then(|(_, row)| run.accounts.row(usize::try_from(row).ok()?)) {
            let slot = branches.entry((home.legal_entity, home.branch)).or_default();
            for i in [FEES, crate::lineage::ALLOCATED, DIRECT] {
                if let (Some(s), Some(v)) = (slot.get_mut(i), c.fen.get(i)) {
                    *s += v;
                }
            }
        }
    }
    let (managers, unassigned) = crate::rollup::managers(&customers, &inputs.assignments)?;
    let (branches, legal_entities) = crate::rollup::branches(&customers, &branches)?;
    let out_customers = lineage(run, &order, customers, &stages, lines)?;
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

/// Each customer's lineage lines, in order, to `lines` (its account lines made again, by the
/// computation that summed them), and its figures.
fn lineage(
    run: &Run<'_>,
    order: &Order<'_>,
    customers: Customers<'_>,
    stages: &[StageOutcome],
    lines: &mut dyn Lines,
) -> Result<Vec<CustomerMonth>, ContributionError> {
    let totals: Vec<Decimal> = stages.iter().map(|s| s.driver_total).collect();
    let mut out = Vec::with_capacity(customers.0.len());
    lines.reserve(&|| {
        let accounts: usize = run.accounts.rows().map(|a| account_line_count(run.book, &a)).sum();
        customers.values().map(|c| c.lines.len()).sum::<usize>() + accounts
    });
    let mut pending = Vec::new();
    for (id, c) in customers.0 {
        pending.clear();
        for a in c.accounts.clone().filter_map(|p| order.at(p)) {
            account_amounts(run, &a)?.lines(a.row, &mut pending);
        }
        pending.extend_from_slice(&c.lines);
        pending.sort_by_key(Pending::kind);
        for p in &pending {
            lines.push(p.line(id, run, &totals));
        }
        out.push(CustomerMonth {
            customer: id.to_string(),
            figures: Figures::from_fen(&c.fen),
            allocated_by_pool: by_pool(run, &c.lines),
        });
    }
    Ok(out)
}

/// A customer's allocated costs by pool, in stage order: its stage shares that are not zero.
fn by_pool(run: &Run<'_>, lines: &[Pending]) -> Vec<PoolAmount> {
    let pool = |stage: u32| usize::try_from(stage).ok().and_then(|s| run.book.stages().get(s.wrapping_sub(1)));
    lines
        .iter()
        .filter_map(|p| match *p {
            Pending::Allocated { stage, share, .. } if share.get() != 0 => {
                pool(stage).map(|s| PoolAmount { pool: s.pool.clone(), amount: fen_decimal(share.get()) })
            }
            _ => None,
        })
        .collect()
}

/// What an account-month contributes: its interest, and its risk cost and capital charge
/// (each with its rate) when it has them.
struct AccountAmounts {
    /// The average balance in fen.
    balance: i128,
    ftp: Decimal,
    days: u32,
    /// The interest's figure, line kind and amount.
    interest: (usize, LineKind, i128),
    risk: Option<(Decimal, i128)>,
    capital: Option<(Decimal, i128)>,
}

impl AccountAmounts {
    /// The account-month's lines, in the order they are summed.
    fn lines(&self, row: u32, out: &mut Vec<Pending>) {
        let line = |kind, amount: i128, rate| Pending::Account {
            row,
            kind,
            amount: Amount::new(amount),
            days: self.days,
            rate,
        };
        let (_, kind, interest) = self.interest;
        out.push(line(kind, interest, self.ftp));
        if let Some((rate, cost)) = self.risk {
            out.push(line(LineKind::RiskCost, -cost, rate));
        }
        if let Some((rate, cost)) = self.capital {
            out.push(line(LineKind::CapitalCharge, -cost, rate));
        }
    }
}

/// An account-month's amounts (SPEC §20.3, §20.4). Each amount is computed before any is
/// added: an account beyond exact arithmetic adds nothing.
fn account_amounts(run: &Run<'_>, a: &AccountRef<'_>) -> Result<AccountAmounts, ContributionError> {
    let book = run.book;
    let ftp = match book.ftp().lookup(a.product, a.term, run.month) {
        Lookup::Rate(r) => r,
        Lookup::Gap => {
            return Err(ContributionError::RateGap {
                account: a.account.to_string(),
                product: a.product.to_string(),
                term: a.term.to_string(),
                month: run.month,
            });
        }
        Lookup::Unknown => {
            return Err(ContributionError::UnknownProduct {
                account: a.account.to_string(),
                product: a.product.to_string(),
                term: a.term.to_string(),
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
    Ok(AccountAmounts { balance, ftp, days, interest: (index, kind, interest), risk, capital })
}

/// An account-month's amounts added to its customer's figures and its branch's sums.
fn account_lines(
    run: &Run<'_>,
    a: &AccountRef<'_>,
    c: &mut CustomerFigures,
    branch: &mut Fen,
) -> Result<(), ContributionError> {
    let amounts = account_amounts(run, a)?;
    let mut add = |i: usize, amount: i128| {
        if let (Some(s), Some(b)) = (c.fen.get_mut(i), branch.get_mut(i)) {
            *s += amount;
            *b += amount;
        }
    };
    let (index, _, interest) = amounts.interest;
    add(index, interest);
    if let Some((_, cost)) = amounts.risk {
        add(RISK, cost);
    }
    if let Some((_, cost)) = amounts.capital {
        add(CAPITAL, cost);
    }
    // Accounts come in id order: a later account is home only with a larger balance.
    if c.home.is_none_or(|(b, _)| amounts.balance > b) {
        c.home = Some((amounts.balance, a.row));
    }
    Ok(())
}

/// A customer's kept lineage lines, as far as they can be counted before they are made: one
/// for each customer stage and one more (a fee, say). Enough room, reserved at once, spares
/// the copies of a growing list.
fn line_estimate(book: &RuleBook) -> usize {
    let stages = book.stages().iter().filter(|s| !matches!(s.driver, crate::rules::Driver::CostCentres { .. }));
    stages.count() + 1
}

/// An account-month's lineage lines: its interest, and its risk cost and capital charge when
/// the book has their rates.
fn account_line_count(book: &RuleBook, a: &AccountRef<'_>) -> usize {
    let risk = a.loan_class.is_some_and(|c| book.provision_rate(c).is_some());
    let capital = a.risk_weight.is_some() && book.capital_rate().is_some();
    1 + usize::from(risk) + usize::from(capital)
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
    fn at(&mut self, branches: &mut BTreeMap<(&'a str, &'a str), Fen>, a: &AccountRef<'a>) -> &mut Fen {
        let key = (a.legal_entity, a.branch);
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
fn customer_lines(inputs: &Inputs, customers: &mut Customers<'_>) {
    for (i, f) in inputs.fees.iter().enumerate() {
        if let (Some(c), Ok(index)) = (customers.get_mut(f.customer.as_str()), u32::try_from(i)) {
            c.fen[FEES] += amount_fen(f.amount).unwrap_or(0);
            c.lines.push(Pending::Fee { index });
        }
    }
    for (i, d) in inputs.direct_costs.iter().enumerate() {
        if let (Some(c), Ok(index)) = (customers.get_mut(d.customer.as_str()), u32::try_from(i)) {
            c.fen[DIRECT] += amount_fen(d.amount).unwrap_or(0);
            c.lines.push(Pending::Direct { index });
        }
    }
}

/// The sum of fen components.
pub(crate) fn add(a: &mut Fen, b: &Fen) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}
