//! The demo's loan book (五级分类, SPEC §21): farm and business loans of about 8% of the personal
//! and 30% of the corporate customers (business owners borrow more), most of them current, 15%
//! falling overdue within the demo's months (most settled, some only after 90 days, the rest
//! crossing 90, 270 and 360 days until written off), a quarter of those kept by the bank at a
//! class kinder than the regulatory floor (a secured loan held at 关注 up to 180 days). Each month
//! is written as a `crm-tiering loans` CSV file and classified by the same code as that command
//! ([`crate::loans::classify_file`]), from the loan states of the month before, into
//! `loans/<month>/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crm_tiering::{LoanOutcome, LoanSettings, LoanState, Month};

use crate::demo::Rng;
use crate::exit::Failure;
use crate::output::Staging;

/// One loan of the book; months are counted from the demo's first.
struct Loan {
    /// The borrower's index among the demo's customers (its id is `62` and index + 1).
    customer: u32,
    number: u32,
    start: u32,
    /// The first month without the loan when it is repaid on schedule.
    end: u32,
    /// Instalments every third month instead of every month.
    quarterly: bool,
    /// The month whose end first finds it overdue (`u32::MAX`: never).
    overdue_from: u32,
    /// The month it is repaid in full after being overdue (`u32::MAX`: never).
    cured_at: u32,
    /// Days overdue at the first overdue month-end.
    first_days: i64,
    /// Only the interest is overdue (the principal is not due yet).
    interest_only: bool,
    /// The bank keeps it at 关注 up to 180 days overdue (old practice for a secured loan).
    kind_bank: bool,
}

/// A loan is written off (it leaves the book) past this many days overdue.
const WRITTEN_OFF_AFTER: i64 = 450;

impl Loan {
    fn days(&self, m: u32) -> i64 {
        if (self.overdue_from..self.cured_at).contains(&m) {
            i64::from(m - self.overdue_from) * 30 + self.first_days
        } else {
            0
        }
    }

    fn outstanding(&self, m: u32) -> bool {
        let unpaid = (self.overdue_from..self.cured_at).contains(&m);
        m >= self.start && (m < self.end || unpaid) && self.days(m) <= WRITTEN_OFF_AFTER
    }

    /// The bank's own class, as its warehouse writes it (the Chinese names).
    fn bank_class(&self, m: u32) -> &'static str {
        match self.days(m) {
            0 if self.cured_at <= m && m < self.cured_at.saturating_add(6) => "关注",
            0 => "正常",
            1..=90 => "关注",
            91..=180 if self.kind_bank => "关注",
            91..=270 => "次级",
            271..=360 => "可疑",
            _ => "损失",
        }
    }
}

/// The loan book and the loan states the months chain through.
pub(crate) struct LoanBook {
    loans: Vec<Loan>,
    states: BTreeMap<String, LoanState>,
    settings: LoanSettings,
    /// The last month classified: its month and outcomes.
    last: Option<(Month, Vec<LoanOutcome>)>,
}

/// What the loan book draws on of a customer.
pub(crate) struct Borrowing {
    /// Outside the loan book (a legal entity whose loans the demo's warehouse does not read).
    pub(crate) outside: bool,
    pub(crate) corporate: bool,
    /// Wealthy enough (150,000 at the start) to be a business owner.
    pub(crate) wealthy: bool,
}

/// Whether a customer had loans in a month, and whether one was non-performing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Borrower {
    None,
    Performing,
    NonPerforming,
}

impl LoanBook {
    /// Draws the book for the customers over `months` months.
    pub(crate) fn new(seed: u64, customers: &[Borrowing], months: u32, settings: LoanSettings) -> Self {
        let mut rng = Rng::new(seed ^ 0x4C4F_414E_5F42_4F4F);
        let mut loans = Vec::new();
        for (k, c) in customers.iter().enumerate() {
            // Business owners (wealthier customers) borrow more often.
            let per_mille = match (c.corporate, c.wealthy) {
                (true, _) => 300,
                (false, true) => 250,
                (false, false) => 70,
            };
            if c.outside || !rng.chance(per_mille) {
                continue;
            }
            let count = if rng.chance(200) { 2 } else { 1 };
            for number in 1..=count {
                let start = if rng.chance(600) { 0 } else { rng.below(u64::from(months)) as u32 };
                let end = start + rng.range(if start == 0 { 1 } else { 12 }, 36) as u32;
                let overdue = rng.chance(150);
                // A loan outstanding before the first month may be overdue already at its end.
                let first = if start == 0 { 0 } else { start + 1 };
                // It falls behind within the demo's months (and its term).
                let until = end.min(months).max(first + 1);
                let overdue_from = if overdue { first + rng.below(u64::from(until - first)) as u32 } else { u32::MAX };
                let behind = if overdue_from == 0 { rng.range(0, 4) * 30 } else { 0 };
                // Most arrears are settled, often only after months of talks (some past 90 days).
                let cured_at =
                    if overdue && rng.chance(600) { overdue_from + rng.range(1, 8) as u32 } else { u32::MAX };
                loans.push(Loan {
                    customer: k as u32,
                    number,
                    start,
                    end,
                    quarterly: rng.chance(300),
                    overdue_from,
                    cured_at,
                    first_days: behind + rng.range(1, 29),
                    interest_only: rng.chance(300),
                    kind_bank: rng.chance(250),
                });
            }
        }
        LoanBook { loans, states: BTreeMap::new(), settings, last: None }
    }

    /// Writes month `m`'s loan-month records to `input/loans/<month>.csv`, classifies them from
    /// the states of the month before into `out/<month>/` (customers.csv, signals.csv,
    /// loan-states.jsonl), and gives each customer's standing (indexed as the customers).
    ///
    /// # Errors
    /// A file that cannot be written, or records the classification refuses.
    pub(crate) fn month(
        &mut self,
        m: u32,
        month: Month,
        inputs: &Path,
        out: &Path,
        customers: usize,
    ) -> Result<Vec<Borrower>, Failure> {
        let mut text = String::from(
            "customer_id,loan_id,month,principal_overdue_days,interest_overdue_days,bank_class,expected_loss,repayment_due\n",
        );
        for loan in self.loans.iter().filter(|l| l.outstanding(m)) {
            let days = loan.days(m);
            let principal = if loan.interest_only { 0 } else { days };
            let class = loan.bank_class(m);
            let expected_loss = match class {
                "正常" => "0.01",
                "关注" => "0.05",
                "次级" => "0.30",
                "可疑" => "0.60",
                _ => "1",
            };
            let due = !loan.quarterly || (m - loan.start) % 3 == 2;
            let id = loan.customer + 1;
            let _ = writeln!(
                text,
                "62{id:08},LN{id:08}{:02},{month},{principal},{days},{class},{expected_loss},{due}",
                loan.number
            );
        }
        let mut staging = Staging::new(inputs)?;
        let name = format!("{month}.csv");
        staging.write(&name, &text)?;
        staging.commit()?;
        let outcomes = crate::loans::classify_file(&self.settings, month, &inputs.join(&name), &self.states)?;
        crate::loans::write_outputs(&out.join(month.to_string()), &outcomes)?;
        let mut standing = vec![Borrower::None; customers];
        self.states.clear();
        for o in &outcomes {
            let index = o.customer_id.get(2..).and_then(|n| n.parse::<usize>().ok()).and_then(|n| n.checked_sub(1));
            if let Some(b) = index.and_then(|i| standing.get_mut(i))
                && !o.loans.is_empty()
            {
                *b = if o.has_non_performing { Borrower::NonPerforming } else { Borrower::Performing };
            }
            self.states.insert(o.customer_id.clone(), o.state.clone());
        }
        self.last = Some((month, outcomes));
        Ok(standing)
    }

    /// The last month's line: customers, loans, non-performing customers and signals by kind.
    pub(crate) fn summary(&self) -> Option<String> {
        self.last.as_ref().map(|(month, outcomes)| crate::loans::summary(*month, outcomes))
    }
}

/// Prints the loan months by hand: the first two and where the rest go.
pub(crate) fn print_by_hand(program: &str, first: Month, last: Month, rules: &Path, inputs: &Path, out: &Path) {
    let path = crate::invocation::shell_path;
    let file = |m: Month| -> PathBuf { inputs.join(format!("{m}.csv")) };
    println!("the loan months by hand (each from the month before's loan-states.jsonl):");
    let mut month = first;
    while month <= last && month <= first.plus(1) {
        let states = if month == first {
            String::new()
        } else {
            format!(" --states {}", path(&out.join(month.plus(-1).to_string()).join("loan-states.jsonl")))
        };
        println!(
            "  {program} loans --month {month} --loans {}{states} --rules {} --out {}",
            path(&file(month)),
            path(rules),
            path(&out.join(month.to_string()))
        );
        month = month.plus(1);
    }
    if last > first.plus(1) {
        println!("and so on, month by month, to {last}");
    }
}
