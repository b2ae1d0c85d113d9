//! Roll-ups (SPEC §20.6): by account manager, each customer's components split by the
//! managers' shares to the fen (largest remainder, ties by manager id); by branch and legal
//! entity, account lines where the account is booked and customer lines at the customer's
//! home branch. Each roll-up is checked to sum to the customers' figures.

use std::collections::BTreeMap;

use crm_tiering::Decimal;

use crate::allocate::split_fen;
use crate::compute::{Customers, add};
use crate::error::{ContributionError, ContributionErrors};
use crate::fen::fen_decimal;
use crate::inputs::Assignment;
use crate::lineage::{BranchFigures, Fen, Figures, LegalEntityFigures, ManagerFigures};

/// The managers' figures, by manager id, and the figures of customers without a manager.
///
/// # Errors
/// A split beyond exact arithmetic, or a roll-up that does not conserve (never expected).
pub(crate) fn managers(
    customers: &Customers<'_>,
    assignments: &[Assignment],
) -> Result<(Vec<ManagerFigures>, Fen), ContributionErrors> {
    let mut shares: BTreeMap<&str, Vec<(&str, Decimal)>> = BTreeMap::new();
    for a in assignments {
        shares.entry(a.customer.as_str()).or_default().push((a.manager.as_str(), a.share));
    }
    let mut managers: BTreeMap<&str, (usize, Fen)> = BTreeMap::new();
    let mut unassigned = Fen::default();
    let mut total = Fen::default();
    for (id, c) in customers.iter() {
        add(&mut total, &c.fen);
        let Some(targets) = shares.get(id) else {
            add(&mut unassigned, &c.fen);
            continue;
        };
        let mut parts = vec![Fen::default(); targets.len()];
        for (i, amount) in c.fen.iter().enumerate() {
            let split = split_fen(*amount, targets)
                .map_err(|_| ContributionError::TooLarge { what: format!("customer {id}'s manager shares") })?;
            for (fen, part) in parts.iter_mut().zip(split) {
                if let Some(v) = fen.get_mut(i) {
                    *v = part;
                }
            }
        }
        for ((manager, _), fen) in targets.iter().zip(&parts) {
            let slot = managers.entry(manager).or_default();
            slot.0 += 1;
            add(&mut slot.1, fen);
        }
    }
    let mut sum = unassigned;
    for (_, fen) in managers.values() {
        add(&mut sum, fen);
    }
    conserve("manager roll-up", &sum, &total)?;
    let out = managers
        .into_iter()
        .map(|(m, (n, fen))| ManagerFigures { manager: m.to_string(), customers: n, figures: Figures::from_fen(&fen) })
        .collect();
    Ok((out, unassigned))
}

/// The branches' and legal entities' figures.
///
/// # Errors
/// A roll-up that does not conserve (never expected).
pub(crate) fn branches(
    customers: &Customers<'_>,
    branches: &BTreeMap<(&str, &str), Fen>,
) -> Result<(Vec<BranchFigures>, Vec<LegalEntityFigures>), ContributionErrors> {
    let mut total = Fen::default();
    for c in customers.values() {
        add(&mut total, &c.fen);
    }
    let mut sum = Fen::default();
    let mut entities: BTreeMap<&str, Fen> = BTreeMap::new();
    for ((entity, _), fen) in branches {
        add(&mut sum, fen);
        add(entities.entry(entity).or_default(), fen);
    }
    conserve("branch roll-up", &sum, &total)?;
    let branch_figures = branches
        .iter()
        .map(|((e, b), fen)| BranchFigures {
            legal_entity: (*e).to_string(),
            branch: (*b).to_string(),
            figures: Figures::from_fen(fen),
        })
        .collect();
    let entity_figures = entities
        .into_iter()
        .map(|(e, fen)| LegalEntityFigures { legal_entity: e.to_string(), figures: Figures::from_fen(&fen) })
        .collect();
    Ok((branch_figures, entity_figures))
}

fn conserve(what: &str, parts: &Fen, whole: &Fen) -> Result<(), ContributionError> {
    for ((p, w), name) in parts.iter().zip(whole).zip(Figures::NAMES) {
        if p != w {
            return Err(ContributionError::Conservation {
                what: format!("{what}, {name}"),
                parts: fen_decimal(*p).to_string(),
                whole: fen_decimal(*w).to_string(),
            });
        }
    }
    Ok(())
}
