//! Properties (SPEC §20.5, §20.6): every allocation stage and every roll-up conserves its whole
//! to the fen, for random inputs; each share is within a fen of its exact share; a customer's
//! lineage sums to its net contribution.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;

use crm_tiering::{Decimal, Month};
use crm_tiering_contribution::{
    AccountMonth, Activity, Assignment, CostPool, Figures, Inputs, Role, RuleBook, Side, compute, largest_remainder,
};
use proptest::prelude::*;

fn weights() -> impl Strategy<Value = Vec<(String, Decimal)>> {
    prop::collection::vec((0u32..1_000_000, 0u32..5), 1..12).prop_map(|ws| {
        ws.into_iter()
            .enumerate()
            .map(|(i, (m, s))| (format!("t{:02}", (i * 7) % 13), Decimal::new(m.into(), s)))
            .collect()
    })
}

proptest! {
    #[test]
    fn largest_remainder_conserves(amount in -10_000_000_000i64..10_000_000_000, ws in weights()) {
        prop_assume!(ws.iter().any(|(_, w)| !w.is_zero()));
        let amount = Decimal::new(amount, 2);
        let targets: Vec<(&str, Decimal)> = ws.iter().map(|(id, w)| (id.as_str(), *w)).collect();
        let shares = largest_remainder(amount, &targets).unwrap();
        prop_assert_eq!(shares.iter().copied().sum::<Decimal>(), amount);
        let total: Decimal = ws.iter().map(|(_, w)| *w).sum();
        for (share, (_, w)) in shares.iter().zip(&ws) {
            let exact = amount * *w / total;
            prop_assert!((*share - exact).abs() < Decimal::new(1, 2), "{share} vs {exact}");
            prop_assert!(share.is_zero() || share.is_sign_negative() == amount.is_sign_negative());
        }
    }

    #[test]
    fn a_month_conserves(case in month_case()) {
        let (book, inputs) = case;
        let month: Month = "2024-03".parse().unwrap();
        let c = compute(&book, month, &inputs).unwrap();
        // Each stage: the customers' (or the pools') shares of a pool sum to the pool.
        let mut by_pool: BTreeMap<String, Decimal> = BTreeMap::new();
        for cm in &c.customers {
            for p in &cm.allocated_by_pool {
                *by_pool.entry(p.pool.clone()).or_default() += p.amount;
            }
        }
        for s in &c.stages {
            let parts = if s.to_pools.is_empty() {
                by_pool.get(&s.pool).copied().unwrap_or_default()
            } else {
                s.to_pools.iter().map(|p| p.amount).sum()
            };
            prop_assert_eq!(parts, s.amount, "stage {}", s.stage);
        }
        let pools: Decimal = inputs.cost_pools.iter().map(|p| p.amount).sum();
        let allocated: Decimal = c.customers.iter().map(|m| m.figures.allocated_costs).sum();
        prop_assert_eq!(allocated, pools);
        // The roll-ups: managers plus unassigned, and branches, sum to the customers.
        let customers = sum(c.customers.iter().map(|m| m.figures));
        let managers = sum(c.managers.iter().map(|m| m.figures).chain([c.unassigned]));
        prop_assert_eq!(managers, customers);
        prop_assert_eq!(sum(c.branches.iter().map(|b| b.figures)), customers);
        prop_assert_eq!(sum(c.legal_entities.iter().map(|e| e.figures)), customers);
        // The lineage explains each customer's net to the fen.
        for m in &c.customers {
            let lines: Decimal = c.explain(&m.customer).map(|l| l.amount).sum();
            prop_assert_eq!(lines, m.figures.net_contribution);
        }
    }
}

fn sum(figures: impl Iterator<Item = Figures>) -> [Decimal; 8] {
    let mut s = [Decimal::ZERO; 8];
    for f in figures {
        let parts = [
            f.interest_asset,
            f.interest_liability,
            f.fees,
            f.allocated_costs,
            f.direct_costs,
            f.risk_cost,
            f.capital_charge,
            f.net_contribution,
        ];
        for (a, b) in s.iter_mut().zip(parts) {
            *a += b;
        }
    }
    s
}

const BOOK: &str = r#"
basis = 365
[ftp]
rates = [
  { product = "demand", term = "none", effective = "2024-01", rate = "0.0187" },
  { product = "loan", term = "none", effective = "2024-01", rate = "0.0312" },
]
[[stages]]
pool = "head_office"
driver = "cost_centres"
weights = { counter = "COUNTER", it = "IT" }
[[stages]]
pool = "counter"
driver = "quantity"
quantity = "counter_minutes"
[[stages]]
pool = "it"
driver = "balances"
[[stages]]
pool = "ops"
driver = "accounts"
side = "liability"
"#;

/// A month of 1 to 12 customers, each with a deposit (and maybe a loan), counter minutes,
/// random pools, and 1 to 3 managers with random shares summing to 100 (or none).
fn month_case() -> impl Strategy<Value = (RuleBook, Inputs)> {
    let customer = (
        1u64..100_000_000,
        prop::option::of(1u64..100_000_000),
        1u32..500,
        prop::collection::vec(1u32..9_999, 0..3),
        0u8..4,
    );
    let pools = (0i64..100_000_000, 0i64..1_000_000, 0i64..10_000, 0i64..10_000);
    let weights = (1i64..100_000, 0u32..4, 0i64..100_000, 0u32..4);
    (prop::collection::vec(customer, 1..12), pools, weights).prop_map(|(customers, (head, counter, it, ops), w)| {
        let month: Month = "2024-03".parse().unwrap();
        let mut inputs = Inputs::default();
        for (i, (deposit, loan, minutes, cuts, managers_from)) in customers.into_iter().enumerate() {
            let id = format!("c{i:02}");
            let account = |n: &str, product: &str, side, fen: u64, rate: i64| AccountMonth {
                month,
                customer: id.clone(),
                account: format!("{id}-{n}"),
                product: product.into(),
                term: "none".into(),
                side,
                average_balance: Decimal::new(i64::try_from(fen).unwrap(), 2),
                customer_rate: Decimal::new(rate, 4),
                days: None,
                branch: format!("b{}", i % 3),
                legal_entity: format!("le{}", i % 2),
                loan_class: None,
                risk_weight: None,
            };
            inputs.account_months.push(account("d", "demand", Side::Liability, deposit, 35));
            if let Some(loan) = loan {
                inputs.account_months.push(account("l", "loan", Side::Asset, loan, 435));
            }
            inputs.activities.push(Activity {
                month,
                customer: id.clone(),
                quantity: "counter_minutes".into(),
                product: None,
                channel: None,
                branch: None,
                value: minutes.into(),
            });
            // Shares in basis points: cut points split 10,000 into parts.
            let mut cuts = cuts;
            cuts.sort_unstable();
            cuts.dedup();
            let mut bounds = vec![0];
            bounds.extend(cuts);
            bounds.push(10_000);
            if managers_from > 0 {
                for (j, w) in bounds.windows(2).enumerate() {
                    inputs.assignments.push(Assignment {
                        customer: id.clone(),
                        manager: format!("m{}", (usize::from(managers_from) + j) % 4),
                        role: if j == 0 { Role::Lead } else { Role::Assisting },
                        share: Decimal::new(i64::from(w[1] - w[0]), 2),
                    });
                }
            }
        }
        for (pool, fen) in [("head_office", head), ("counter", counter), ("it", it), ("ops", ops)] {
            inputs.cost_pools.push(CostPool { month, cost_centre: pool.into(), amount: Decimal::new(fen, 2) });
        }
        // Random weights for the pool-to-pool stage (the counter's never zero).
        let book = BOOK
            .replace("COUNTER", &Decimal::new(w.0, w.1).to_string())
            .replace("IT", &Decimal::new(w.2, w.3).to_string());
        (RuleBook::from_toml_str(&book).unwrap(), inputs)
    })
}
