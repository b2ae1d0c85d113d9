//! A contribution month as one JSON document: what a binding without Arrow (C, Java) reads to
//! get every output at once. Its keys are the output columns of SPEC §20.7 (the Arrow tables',
//! the figures named by [`Figures::NAMES`]); amounts, rates and quantities are decimal texts
//! (exact, never JSON numbers), counts are numbers, and a value a line does not have is `null`.

use crm_tiering::Decimal;
use serde_json::{Map, Value, json};

use crate::lineage::{Contribution, Figures, LineageLine, PoolAmount, StageOutcome};

fn text(d: Decimal) -> Value {
    Value::String(d.to_string())
}

fn opt_text(d: Option<Decimal>) -> Value {
    d.map_or(Value::Null, text)
}

/// The figures as an object, `{"interest_asset": "645.83", ..., "net_contribution": "..."}`,
/// after the keys already in `head`.
fn with_figures(mut head: Map<String, Value>, f: &Figures) -> Value {
    for (name, value) in Figures::NAMES.into_iter().zip(f.values()) {
        head.insert(name.to_string(), text(value));
    }
    Value::Object(head)
}

fn keyed(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect()
}

fn pools(p: &[PoolAmount]) -> Value {
    p.iter().map(|p| json!({ "pool": p.pool, "amount": text(p.amount) })).collect()
}

fn line(l: &LineageLine) -> Value {
    json!({
        "customer": l.customer,
        "kind": l.kind.as_str(),
        "account": l.account,
        "pool": l.pool,
        "stage": l.stage,
        "product": l.product,
        "item": l.item,
        "balance": opt_text(l.balance),
        "ftp_rate": opt_text(l.ftp_rate),
        "customer_rate": opt_text(l.customer_rate),
        "rate": opt_text(l.rate),
        "risk_weight": opt_text(l.risk_weight),
        "days": l.days,
        "driver_quantity": opt_text(l.driver_quantity),
        "driver_total": opt_text(l.driver_total),
        "amount": text(l.amount),
    })
}

fn stage(s: &StageOutcome) -> Value {
    json!({
        "stage": s.stage,
        "pool": s.pool,
        "amount": text(s.amount),
        "driver_total": text(s.driver_total),
        "targets": s.targets,
        "to_pools": pools(&s.to_pools),
    })
}

impl Contribution {
    /// The month as one JSON object (keys in byte order; every list in its fixed order, §20.6):
    /// `month` (`"2024-03"`) and the lists, each entry keyed by its output columns:
    ///
    /// - `customers`: `customer`, the eight figures of [`Figures::NAMES`], and
    ///   `allocated_by_pool` (`[{pool, amount}]`, in stage order);
    /// - `managers`: `manager`, `customers` (a count), the figures;
    /// - `unassigned`: the figures of customers without a manager;
    /// - `branches`: `legal_entity`, `branch`, the figures; `legal_entities`: `legal_entity`,
    ///   the figures;
    /// - `stages`: `stage`, `pool`, `amount`, `driver_total`, `targets`, `to_pools`;
    /// - `lineage`: `customer`, `kind`, `account`, `pool`, `stage`, `product`, `item`,
    ///   `balance`, `ftp_rate`, `customer_rate`, `rate`, `risk_weight`, `days`,
    ///   `driver_quantity`, `driver_total`, `amount` (as it enters the net).
    ///
    /// Amounts, rates and quantities are decimal texts (`"1640.27"`, exact); counts, stages and
    /// days are numbers; what a line does not have is `null`.
    #[must_use]
    pub fn to_json(&self) -> String {
        let customers: Value = self
            .customers
            .iter()
            .map(|c| {
                let mut m = with_figures(keyed(&[("customer", json!(c.customer))]), &c.figures);
                if let Value::Object(o) = &mut m {
                    o.insert("allocated_by_pool".into(), pools(&c.allocated_by_pool));
                }
                m
            })
            .collect();
        let managers: Value = self
            .managers
            .iter()
            .map(|m| {
                with_figures(keyed(&[("manager", json!(m.manager)), ("customers", json!(m.customers))]), &m.figures)
            })
            .collect();
        let branches: Value = self
            .branches
            .iter()
            .map(|b| {
                with_figures(keyed(&[("legal_entity", json!(b.legal_entity)), ("branch", json!(b.branch))]), &b.figures)
            })
            .collect();
        let entities: Value = self
            .legal_entities
            .iter()
            .map(|e| with_figures(keyed(&[("legal_entity", json!(e.legal_entity))]), &e.figures))
            .collect();
        let doc = json!({
            "month": self.month.to_string(),
            "customers": customers,
            "managers": managers,
            "unassigned": with_figures(Map::new(), &self.unassigned),
            "branches": branches,
            "legal_entities": entities,
            "stages": self.stages.iter().map(stage).collect::<Value>(),
            "lineage": self.lineage.iter().map(line).collect::<Value>(),
        });
        doc.to_string()
    }
}
