//! Running the allocation stages (SPEC §20.5): each stage's pool, its driver quantities, its
//! shares by largest remainder, and the conservation check.

use std::collections::BTreeMap;
use std::iter::Peekable;

use crm_tiering::Decimal;

use super::pending::{Amount, Pending};
use super::{CustomerFigures, Customers, Run};
use crate::allocate::{SplitError, split_fen};
use crate::error::ContributionError;
use crate::fen::fen_decimal;
use crate::inputs::Activity;
use crate::lineage::{ALLOCATED, PoolAmount, StageOutcome};
use crate::rules::{Dimension, Driver, Stage};
use crate::table::AccountRef;

/// Runs every stage in order; adds each customer's shares to its figures and lineage.
pub(super) fn run_stages(
    run: &Run<'_>,
    customers: &mut Customers<'_>,
) -> Result<Vec<StageOutcome>, Vec<ContributionError>> {
    let mut pools: BTreeMap<&str, i128> = BTreeMap::new();
    for p in &run.inputs.cost_pools {
        // Validated: two decimals, within the largest amount.
        *pools.entry(p.cost_centre.as_str()).or_default() += crate::fen::amount_fen(p.amount).unwrap_or(0);
    }
    let mut outcomes = Vec::new();
    let mut errors = Vec::new();
    for (i, stage) in run.book.stages().iter().enumerate() {
        let amount = pools.get(stage.pool.as_str()).copied().unwrap_or(0);
        match run_stage(run, i + 1, stage, amount, customers, &mut pools) {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() { Ok(outcomes) } else { Err(errors) }
}

fn run_stage<'a>(
    run: &Run<'a>,
    number: usize,
    stage: &'a Stage,
    amount: i128,
    customers: &mut Customers<'_>,
    pools: &mut BTreeMap<&'a str, i128>,
) -> Result<StageOutcome, Vec<ContributionError>> {
    let targets: Vec<(&str, Decimal)> = match &stage.driver {
        Driver::CostCentres { weights } => weights.iter().map(|(k, w)| (k.as_str(), *w)).collect(),
        driver => quantities(run, number, driver)?.into_iter().filter(|(_, q)| !q.is_zero()).collect(),
    };
    let total = targets.iter().try_fold(Decimal::ZERO, |t, (_, q)| t.checked_add(*q));
    let too_large = || vec![ContributionError::TooLarge { what: format!("pool {} (stage {number})", stage.pool) }];
    let total = total.ok_or_else(too_large)?;
    let shares = split_fen(amount, &targets).map_err(|e| match e {
        SplitError::ZeroTotal => vec![ContributionError::ZeroDriver {
            pool: stage.pool.clone(),
            stage: number,
            amount: fen_decimal(amount).to_string(),
        }],
        SplitError::Negative | SplitError::TooLarge => too_large(),
    })?;
    let parts: i128 = shares.iter().sum();
    if parts != amount {
        return Err(vec![ContributionError::Conservation {
            what: format!("pool {} (stage {number})", stage.pool),
            parts: fen_decimal(parts).to_string(),
            whole: fen_decimal(amount).to_string(),
        }]);
    }
    let mut outcome = StageOutcome {
        stage: number,
        pool: stage.pool.clone(),
        amount: fen_decimal(amount),
        driver_total: total,
        targets: shares.iter().filter(|s| **s != 0).count(),
        to_pools: Vec::new(),
    };
    // Customer targets come in id order, as the customers do: walk both together.
    let mut cursor = customers.iter_mut().peekable();
    for ((target, quantity), share) in targets.iter().zip(shares) {
        if matches!(stage.driver, Driver::CostCentres { .. }) {
            *pools.entry(target).or_default() += share;
            outcome.to_pools.push(PoolAmount { pool: (*target).to_string(), amount: fen_decimal(share) });
        } else if let Some(c) = seek(&mut cursor, target) {
            c.fen[ALLOCATED] += share;
            let stage = u32::try_from(number).unwrap_or(u32::MAX);
            c.lines.push(Pending::Allocated { stage, quantity: *quantity, share: Amount::new(share) });
        }
    }
    Ok(outcome)
}

/// Each customer's driver quantity, by customer id.
fn quantities<'a>(
    run: &Run<'a>,
    number: usize,
    driver: &'a Driver,
) -> Result<BTreeMap<&'a str, Decimal>, Vec<ContributionError>> {
    let mut q: BTreeMap<&str, Decimal> = BTreeMap::new();
    let mut errors = Vec::new();
    let too_large = |customer: &str| ContributionError::TooLarge {
        what: format!("customer {customer}'s driver quantity (stage {number})"),
    };
    // The current customer's sum: records mostly come grouped by customer, so the map is
    // looked up when the customer changes (the additions are the same, in the same order).
    let mut current: Option<(&'a str, Decimal)> = None;
    let mut add = |customer: &'a str, value: Option<Decimal>, errors: &mut Vec<ContributionError>| {
        let slot = match &mut current {
            Some((c, slot)) if *c == customer => slot,
            _ => {
                if let Some((c, sum)) = current.take() {
                    q.insert(c, sum);
                }
                &mut current.insert((customer, q.get(customer).copied().unwrap_or_default())).1
            }
        };
        match value.and_then(|v| exact_add(*slot, v)) {
            Some(sum) => *slot = sum,
            None => errors.push(too_large(customer)),
        }
    };
    let accounts = run.accounts.rows();
    let activities = |name: &'a str| run.inputs.activities.iter().filter(move |a| a.quantity == name);
    match driver {
        Driver::Accounts { side } => {
            for a in accounts.filter(|a| side.is_none_or(|s| a.side == s)) {
                add(a.customer, Some(Decimal::ONE), &mut errors);
            }
        }
        Driver::Balances { side } => {
            for a in accounts.filter(|a| side.is_none_or(|s| a.side == s)) {
                add(a.customer, Some(a.average_balance), &mut errors);
            }
        }
        Driver::Quantity { name } => {
            for a in activities(name) {
                add(&a.customer, Some(a.value), &mut errors);
            }
        }
        Driver::Coefficients { quantity: None, side, keys, table } => {
            // The table keyed by borrowed text, so an account's key is looked up unallocated.
            let borrowed: BTreeMap<Vec<&str>, Decimal> =
                table.iter().map(|(k, v)| (k.iter().map(String::as_str).collect(), *v)).collect();
            let mut key = Vec::with_capacity(keys.len());
            for a in accounts.filter(|a| side.is_none_or(|s| a.side == s)) {
                key.clear();
                key.extend(keys.iter().map(|d| account_key(&a, *d)));
                let found = match borrowed.get(&key) {
                    Some(c) => Ok(*c),
                    None => {
                        let owned = Some(key.iter().map(|k| (*k).to_string()).collect());
                        coefficient(table, owned, number, &format!("account {}", a.account), keys)
                    }
                };
                match found {
                    Ok(c) => add(a.customer, Some(c), &mut errors),
                    Err(e) => errors.push(e),
                }
            }
        }
        Driver::Coefficients { quantity: Some(name), keys, table, .. } => {
            for a in activities(name) {
                let key = keys.iter().map(|d| activity_key(a, *d).cloned()).collect::<Option<Vec<_>>>();
                let record = format!("activity {} of customer {}", a.quantity, a.customer);
                match coefficient(table, key, number, &record, keys) {
                    Ok(c) => add(&a.customer, exact_mul(c, a.value), &mut errors),
                    Err(e) => errors.push(e),
                }
            }
        }
        Driver::CostCentres { .. } => {}
    }
    if let Some((c, sum)) = current {
        q.insert(c, sum);
    }
    if errors.is_empty() { Ok(q) } else { Err(errors) }
}

/// The customer `target`, advancing `cursor` (in id order) past the customers before it.
fn seek<'a, 'c>(
    cursor: &mut Peekable<impl Iterator<Item = (&'a str, &'c mut CustomerFigures)>>,
    target: &str,
) -> Option<&'c mut CustomerFigures> {
    while cursor.peek().is_some_and(|(id, _)| *id < target) {
        cursor.next();
    }
    cursor.next_if(|(id, _)| *id == target).map(|(_, c)| c)
}

fn coefficient(
    table: &BTreeMap<Vec<String>, Decimal>,
    key: Option<Vec<String>>,
    number: usize,
    record: &str,
    keys: &[Dimension],
) -> Result<Decimal, ContributionError> {
    let names: Vec<&str> = keys.iter().map(|d| d.as_str()).collect();
    let Some(key) = key else {
        let message = format!("empty, and stage {number}'s coefficients are keyed by {}", names.join(", "));
        return Err(ContributionError::record(record, names.join(", "), message));
    };
    table.get(&key).copied().ok_or_else(|| {
        let pairs: Vec<String> = names.iter().zip(&key).map(|(n, v)| format!("{n} {v}")).collect();
        ContributionError::record(
            record,
            names.join(", "),
            format!("stage {number} has no coefficient for {}", pairs.join(", ")),
        )
    })
}

fn account_key<'a>(a: &AccountRef<'a>, d: Dimension) -> &'a str {
    match d {
        Dimension::Product => a.product,
        Dimension::Branch => a.branch,
        Dimension::LegalEntity => a.legal_entity,
        // Refused by the book for account-month coefficients.
        Dimension::Channel => "",
    }
}

fn activity_key(a: &Activity, d: Dimension) -> Option<&String> {
    match d {
        Dimension::Product => a.product.as_ref(),
        Dimension::Channel => a.channel.as_ref(),
        Dimension::Branch => a.branch.as_ref(),
        Dimension::LegalEntity => None,
    }
}

/// A sum that `rust_decimal` holds exactly (it would round a sum beyond 96 bits).
fn exact_add(a: Decimal, b: Decimal) -> Option<Decimal> {
    a.checked_add(b).filter(|s| s.scale() == a.scale().max(b.scale()))
}

/// A product that `rust_decimal` holds exactly.
fn exact_mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    a.checked_mul(b).filter(|p| p.scale() == a.scale() + b.scale())
}
