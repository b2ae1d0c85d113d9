//! The checks of every input record before anything is computed (SPEC §20.8): each names the
//! record and the field; a run with any failure computes nothing.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crm_tiering::{Decimal, MAX_AMOUNT, Month};

use crate::error::ContributionError;
use crate::fen::{MAX_RATE_DECIMALS, amount_fen};
use crate::ftp::check_rate;
use crate::inputs::{Assignment, Inputs, Role, Side};
use crate::rules::RuleBook;
use crate::table::{AccountMonthTable, AccountRef};

/// Every record error of the inputs, in input order.
pub(crate) fn validate(
    book: &RuleBook,
    month: Month,
    inputs: &Inputs,
    table: &AccountMonthTable,
) -> Vec<ContributionError> {
    let mut errors = Vec::new();
    // Hash sets: only membership is asked of them.
    let mut customers = HashSet::new();
    let mut previous = None;
    // Accounts in increasing order are distinct: the set of accounts seen is built only when
    // one comes out of order.
    let mut accounts: Option<HashSet<&str>> = None;
    let mut last: Option<&str> = None;
    for (i, a) in table.rows().enumerate() {
        account_month(&a, month, &mut errors);
        if previous != Some(a.customer) {
            customers.insert(a.customer);
            previous = Some(a.customer);
        }
        let duplicate = match &mut accounts {
            Some(seen) => !seen.insert(a.account),
            None if last.is_none_or(|l| l < a.account) => false,
            None => {
                let mut seen = HashSet::with_capacity(table.len());
                seen.extend(table.rows().take(i).map(|r| r.account));
                !accounts.insert(seen).insert(a.account)
            }
        };
        if duplicate {
            errors.push(ContributionError::DuplicateAccountMonth { account: a.account.to_string(), month: a.month });
        }
        last = Some(a.account);
    }
    let mut check = Check { month, customers: &customers, errors };
    for f in &inputs.fees {
        let record = format!("fee of customer {}", f.customer);
        check.of_month(&record, f.month);
        check.customer(&record, &f.customer);
        check.amount(&record, "amount", f.amount, true);
    }
    let mut pools = BTreeSet::new();
    for p in &inputs.cost_pools {
        let record = format!("pool {}", p.cost_centre);
        check.of_month(&record, p.month);
        check.amount(&record, "amount", p.amount, false);
        if !pools.insert(p.cost_centre.as_str()) {
            check.fail(&record, "cost_centre", "the pool appears more than once in the month".into());
        }
        if !book.stages().iter().any(|s| s.pool == p.cost_centre) {
            check.fail(&record, "cost_centre", "no stage of the rule book allocates this pool".into());
        }
    }
    for a in &inputs.activities {
        let record = format!("activity {} of customer {}", a.quantity, a.customer);
        check.of_month(&record, a.month);
        check.customer(&record, &a.customer);
        if a.value.is_sign_negative() && !a.value.is_zero() {
            check.fail(&record, "value", format!("{} is negative", a.value));
        } else if a.value.scale() > MAX_RATE_DECIMALS || a.value > MAX_AMOUNT {
            check.fail(
                &record,
                "value",
                format!("{} is beyond {MAX_RATE_DECIMALS} decimals or the largest amount", a.value),
            );
        }
    }
    for d in &inputs.direct_costs {
        let record = format!("direct cost {} of customer {}", d.item, d.customer);
        check.of_month(&record, d.month);
        check.customer(&record, &d.customer);
        check.amount(&record, "amount", d.amount, true);
    }
    assignments(&inputs.assignments, &mut check);
    check.errors
}

struct Check<'a> {
    month: Month,
    customers: &'a HashSet<&'a str>,
    errors: Vec<ContributionError>,
}

impl Check<'_> {
    fn fail(&mut self, record: &str, field: &str, message: String) {
        self.errors.push(ContributionError::record(record, field, message));
    }

    fn of_month(&mut self, record: &str, month: Month) {
        if month != self.month {
            self.fail(record, "month", format!("{month} is not the month computed, {}", self.month));
        }
    }

    fn customer(&mut self, record: &str, customer: &str) {
        if !self.customers.contains(customer) {
            self.fail(record, "customer", format!("{customer} has no account-month in {}", self.month));
        }
    }

    fn amount(&mut self, record: &str, field: &str, amount: Decimal, signed: bool) {
        if let Some(message) = amount_problem(amount, signed) {
            self.fail(record, field, message);
        }
    }
}

/// What is wrong with an amount, if anything: more than two decimals, beyond the largest
/// amount, or negative where it may not be.
fn amount_problem(amount: Decimal, signed: bool) -> Option<String> {
    if !signed && amount.is_sign_negative() && !amount.is_zero() {
        Some(format!("{amount} is negative"))
    } else if amount_fen(amount).is_none() {
        Some(format!("{amount} is not an amount: at most two decimals, at most {MAX_AMOUNT}"))
    } else {
        None
    }
}

fn account_month(a: &AccountRef<'_>, month: Month, errors: &mut Vec<ContributionError>) {
    let mut fail = |field: &str, message: String| {
        errors.push(ContributionError::record(format!("account {}", a.account), field, message));
    };
    for (field, value) in [("account", a.account), ("customer", a.customer), ("product", a.product)] {
        if value.is_empty() {
            fail(field, "empty: a value is required".into());
        }
    }
    if a.month != month {
        fail("month", format!("{} is not the month computed, {month}", a.month));
    }
    if let Some(message) = amount_problem(a.average_balance, false) {
        fail("average_balance", message);
    }
    if let Some(ContributionError::Record { message, .. }) = check_rate(a.customer_rate, "", "", false) {
        fail("customer_rate", message);
    }
    if let Some(d) = a.days.filter(|d| !(1..=31).contains(d)) {
        fail("days", format!("{d} is not a day count of a month: expected 1 to 31"));
    }
    if a.loan_class.is_some() && a.side == Side::Liability {
        fail("loan_class", "a liability has no loan class".into());
    }
    if let Some(w) = a.risk_weight
        && ((w.is_sign_negative() && !w.is_zero()) || w > Decimal::from(20) || w.scale() > MAX_RATE_DECIMALS)
    {
        fail("risk_weight", format!("{w} is not a risk weight: expected a fraction from 0 to 20 (1 is 100%)"));
    }
}

fn assignments(assignments: &[Assignment], check: &mut Check<'_>) {
    for a in assignments {
        check.customer(&assignment_record(a), &a.customer);
        check.errors.extend(share_error(a));
    }
    check.errors.extend(customer_errors(assignments));
}

/// The checks of account manager assignments that need no account-month (SPEC §20.6): each
/// share above 0 and at most 100, and per customer shares summing to exactly 100, exactly one
/// lead (主办) and no manager twice. Errors in the order a contribution run gives them (each
/// record's share, then each customer by id), naming the customer (and manager) and the field;
/// none for good assignments.
///
/// ```
/// use crm_tiering_contribution::{check_assignments, read_assignments};
/// let a = read_assignments("assignments.csv", "customer,manager,role,share\nc1,m1,主办,60\nc1,m2,主办,30\n")?;
/// let errors: Vec<String> = check_assignments(&a).iter().map(ToString::to_string).collect();
/// assert_eq!(errors, ["customer c1: manager shares sum to 90%, not 100%",
///     "customer c1: role: 2 lead managers (主办): expected exactly one"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_assignments(assignments: &[Assignment]) -> Vec<ContributionError> {
    let mut errors: Vec<ContributionError> = assignments.iter().filter_map(share_error).collect();
    errors.extend(customer_errors(assignments));
    errors
}

/// The record an assignment's errors name: `customer c1 manager m1`.
fn assignment_record(a: &Assignment) -> String {
    format!("customer {} manager {}", a.customer, a.manager)
}

/// An assignment's share out of range.
fn share_error(a: &Assignment) -> Option<ContributionError> {
    (a.share <= Decimal::ZERO || a.share > Decimal::ONE_HUNDRED || a.share.scale() > MAX_RATE_DECIMALS).then(|| {
        ContributionError::record(
            assignment_record(a),
            "share",
            format!("{} is not a share: expected a percentage above 0, at most 100", a.share),
        )
    })
}

/// Per customer, by id: the shares' sum, the leads and managers named twice.
fn customer_errors(assignments: &[Assignment]) -> Vec<ContributionError> {
    let mut errors = Vec::new();
    let mut by_customer: BTreeMap<&str, Vec<&Assignment>> = BTreeMap::new();
    for a in assignments {
        by_customer.entry(a.customer.as_str()).or_default().push(a);
    }
    for (customer, list) in by_customer {
        let total: Decimal = list.iter().map(|a| a.share).sum();
        if total != Decimal::ONE_HUNDRED {
            errors.push(ContributionError::Shares {
                customer: customer.to_string(),
                total: total.normalize().to_string(),
            });
        }
        let record = format!("customer {customer}");
        let leads = list.iter().filter(|a| a.role == Role::Lead).count();
        if leads != 1 {
            let message = format!("{leads} lead managers (主办): expected exactly one");
            errors.push(ContributionError::record(&record, "role", message));
        }
        let managers: BTreeSet<&str> = list.iter().map(|a| a.manager.as_str()).collect();
        if managers.len() != list.len() {
            errors.push(ContributionError::record(&record, "manager", "a manager is assigned more than once"));
        }
    }
    errors
}
