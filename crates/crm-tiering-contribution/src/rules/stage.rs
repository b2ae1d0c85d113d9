//! Allocation stages (SPEC §20.5): each moves one pool to its targets by a driver, in the
//! book's order.

use std::collections::{BTreeMap, BTreeSet};

use crm_tiering::Decimal;

use super::file::{CoefficientFile, Dimension, DriverKind, StageFile};
use crate::error::ContributionError;
use crate::fen::MAX_RATE_DECIMALS;
use crate::inputs::Side;

/// How a stage shares its pool: a quantity per target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Driver {
    /// `accounts`: each customer's number of account-months (of one side, when `side` is set).
    Accounts {
        /// Only accounts of this side count.
        side: Option<Side>,
    },
    /// `balances`: each customer's sum of average balances (of one side, when set).
    Balances {
        /// Only accounts of this side count.
        side: Option<Side>,
    },
    /// `quantity`: each customer's sum of a named activity quantity.
    Quantity {
        /// The activity quantity's name.
        name: String,
    },
    /// `coefficients`: each customer's sum, over its account-months (each counting 1) or its
    /// activities of a named quantity (each counting its value), of the coefficient the table
    /// gives the item's keys (up to three of product, channel, branch, legal entity).
    Coefficients {
        /// The activity quantity weighed; `None` weighs account-months.
        quantity: Option<String>,
        /// Only account-months of this side count (account-months only).
        side: Option<Side>,
        /// The table's dimensions, in order.
        keys: Vec<Dimension>,
        /// The coefficient of each key (values in `keys` order).
        table: BTreeMap<Vec<String>, Decimal>,
    },
    /// `cost_centres`: the pool moves to other pools (allocated by later stages) by fixed
    /// weights.
    CostCentres {
        /// Each target pool's weight.
        weights: BTreeMap<String, Decimal>,
    },
}

/// One allocation stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The pool (cost centre) allocated.
    pub pool: String,
    /// The driver that shares it.
    pub driver: Driver,
}

/// Checks and compiles the stages.
pub(super) fn compile(stages: &[StageFile]) -> Result<Vec<Stage>, Vec<ContributionError>> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, s) in stages.iter().enumerate() {
        let at = |field: &str| format!("stages[{i}].{field}");
        if s.pool.is_empty() {
            errors.push(ContributionError::rules(at("pool"), "a pool is named by its cost centre: empty"));
        } else if !seen.insert(s.pool.clone()) {
            errors.push(ContributionError::rules(
                at("pool"),
                format!("pool {} is allocated by an earlier stage", s.pool),
            ));
        }
        match driver(s, &at) {
            Ok(driver) => out.push(Stage { pool: s.pool.clone(), driver }),
            Err(e) => errors.extend(e),
        }
    }
    for (i, s) in stages.iter().enumerate() {
        for target in s.weights.iter().flat_map(|w| w.keys()) {
            if !stages.iter().skip(i + 1).any(|later| &later.pool == target) {
                let message = format!("pool {target} is allocated by no later stage, so its share would be lost");
                errors.push(ContributionError::rules(format!("stages[{i}].weights.{target}"), message));
            }
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn driver(s: &StageFile, at: &dyn Fn(&str) -> String) -> Result<Driver, Vec<ContributionError>> {
    let kind = s.driver;
    let only = |present: bool, field: &str, allowed: bool| {
        (present && !allowed)
            .then(|| ContributionError::rules(at(field), format!("not a setting of driver {}", kind_name(kind))))
    };
    let side_ok = matches!(kind, DriverKind::Accounts | DriverKind::Balances)
        || (kind == DriverKind::Coefficients && s.quantity.is_none());
    let mut errors: Vec<ContributionError> = [
        only(s.side.is_some(), "side", side_ok),
        only(s.quantity.is_some(), "quantity", matches!(kind, DriverKind::Quantity | DriverKind::Coefficients)),
        only(s.keys.is_some(), "keys", kind == DriverKind::Coefficients),
        only(s.coefficients.is_some(), "coefficients", kind == DriverKind::Coefficients),
        only(s.weights.is_some(), "weights", kind == DriverKind::CostCentres),
    ]
    .into_iter()
    .flatten()
    .collect();
    let required = |value: bool, field: &str| {
        (!value).then(|| ContributionError::rules(at(field), format!("driver {} needs it", kind_name(kind))))
    };
    let driver = match kind {
        DriverKind::Accounts => Some(Driver::Accounts { side: s.side }),
        DriverKind::Balances => Some(Driver::Balances { side: s.side }),
        DriverKind::Quantity => {
            errors.extend(required(s.quantity.as_ref().is_some_and(|q| !q.is_empty()), "quantity"));
            Some(Driver::Quantity { name: s.quantity.clone().unwrap_or_default() })
        }
        DriverKind::Coefficients => coefficients(s, at, &mut errors),
        DriverKind::CostCentres => {
            errors.extend(required(s.weights.as_ref().is_some_and(|w| !w.is_empty()), "weights"));
            let mut weights = BTreeMap::new();
            for (target, w) in s.weights.iter().flatten() {
                let field = at(&format!("weights.{target}"));
                if target == &s.pool {
                    errors.push(ContributionError::rules(&field, "a pool cannot be allocated to itself"));
                }
                errors.extend(check_weight(w.0, &field));
                weights.insert(target.clone(), w.0);
            }
            if !weights.is_empty() && weights.values().all(Decimal::is_zero) {
                errors.push(ContributionError::rules(at("weights"), "every weight is zero"));
            }
            Some(Driver::CostCentres { weights })
        }
    };
    match driver {
        Some(d) if errors.is_empty() => Ok(d),
        _ => Err(errors),
    }
}

fn coefficients(s: &StageFile, at: &dyn Fn(&str) -> String, errors: &mut Vec<ContributionError>) -> Option<Driver> {
    let keys = s.keys.clone().unwrap_or_default();
    let distinct: BTreeSet<_> = keys.iter().collect();
    if keys.is_empty() || keys.len() > 3 || distinct.len() != keys.len() {
        errors.push(ContributionError::rules(at("keys"), "expected 1 to 3 distinct dimensions"));
    }
    let on_accounts = s.quantity.is_none();
    for k in &keys {
        let fits = if on_accounts { *k != Dimension::Channel } else { *k != Dimension::LegalEntity };
        if !fits {
            let base = if on_accounts { "account-months have no" } else { "activities have no" };
            errors.push(ContributionError::rules(at("keys"), format!("{base} {}", k.as_str())));
        }
    }
    let rows: &[CoefficientFile] = s.coefficients.as_deref().unwrap_or_default();
    if rows.is_empty() {
        errors.push(ContributionError::rules(at("coefficients"), "driver coefficients needs at least one row"));
    }
    let mut table = BTreeMap::new();
    let all = [Dimension::Product, Dimension::Channel, Dimension::Branch, Dimension::LegalEntity];
    for (j, row) in rows.iter().enumerate() {
        let field = at(&format!("coefficients[{j}]"));
        let extra = all.iter().find(|d| row.key(**d).is_some() && !keys.contains(d));
        let missing = keys.iter().find(|d| row.key(**d).is_none());
        if let Some(d) = extra.or(missing) {
            let message = format!(
                "a row gives exactly the keys {}: {} is {}",
                key_names(&keys),
                d.as_str(),
                if extra.is_some() { "extra" } else { "missing" }
            );
            errors.push(ContributionError::rules(&field, message));
            continue;
        }
        errors.extend(check_weight(row.coefficient.0, &format!("{field}.coefficient")));
        let key: Vec<String> = keys.iter().filter_map(|d| row.key(*d).cloned()).collect();
        if table.insert(key, row.coefficient.0).is_some() {
            errors.push(ContributionError::rules(&field, "the same keys as an earlier row"));
        }
    }
    Some(Driver::Coefficients { quantity: s.quantity.clone(), side: s.side, keys, table })
}

fn key_names(keys: &[Dimension]) -> String {
    keys.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
}

/// A weight or coefficient: not negative, at most ten decimals.
fn check_weight(w: Decimal, field: &str) -> Option<ContributionError> {
    if w.is_sign_negative() && !w.is_zero() {
        Some(ContributionError::rules(field, format!("{w} is negative")))
    } else if w.scale() > MAX_RATE_DECIMALS {
        Some(ContributionError::rules(field, format!("{w} has more than {MAX_RATE_DECIMALS} decimals")))
    } else {
        None
    }
}

fn kind_name(kind: DriverKind) -> &'static str {
    match kind {
        DriverKind::Accounts => "accounts",
        DriverKind::Balances => "balances",
        DriverKind::Quantity => "quantity",
        DriverKind::Coefficients => "coefficients",
        DriverKind::CostCentres => "cost_centres",
    }
}
