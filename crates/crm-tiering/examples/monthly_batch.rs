//! A month-end batch the way a Rust service would run it: the shared example portfolio
//! (`examples/c/portfolio.csv`: customer, legal entity, kind, month, component averages) is
//! evaluated month by month with `Engine::evaluate_batch`, states carried in memory, and every
//! event printed with its explanation.
//!
//! ```text
//! cargo run -p crm-tiering --example monthly_batch [portfolio.csv] [rules.toml]
//! ```
#![allow(clippy::print_stdout, missing_docs)]

use std::collections::BTreeMap;
use std::error::Error;

use crm_tiering::{
    AumInput, ComponentAmount, Customer, CustomerState, Engine, Month, MonthInput, RuleBook, parse_amount,
};

fn main() -> Result<(), Box<dyn Error>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut args = std::env::args().skip(1);
    let portfolio = args.next().unwrap_or_else(|| format!("{root}/examples/c/portfolio.csv"));
    let engine = Engine::new(match args.next() {
        Some(path) => RuleBook::from_path(path)?,
        None => RuleBook::default_book()?,
    });

    // month -> customer id -> (customer, input), read from the extract.
    let text = std::fs::read_to_string(&portfolio)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("the portfolio file is empty")?.split(',').collect();
    let mut months: BTreeMap<Month, Vec<(Customer, MonthInput)>> = BTreeMap::new();
    for (n, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let at = |what: &str| format!("{portfolio}:{}: {what}", n + 2);
        let [id, entity, kind, month, amounts @ ..] = f.as_slice() else { return Err(at("too few fields").into()) };
        let customer = Customer {
            id: id.to_string(),
            legal_entity: (!entity.is_empty()).then(|| entity.to_string()),
            kind: kind.parse().map_err(|e: String| at(&e))?,
        };
        let components = header[4..]
            .iter()
            .zip(amounts)
            .filter(|(_, a)| !a.is_empty())
            .map(|(c, a)| Ok(ComponentAmount { component: (*c).into(), amount: parse_amount(a)? }))
            .collect::<Result<Vec<_>, crm_tiering::ParseError>>()
            .map_err(|e| at(&e.to_string()))?;
        let month: Month = month.parse().map_err(|e: crm_tiering::ParseError| at(&e.to_string()))?;
        months.entry(month).or_default().push((
            customer,
            MonthInput { aum: AumInput::Averages(components), special: None, measures: Default::default() },
        ));
    }

    // The state store: in a core system, a table keyed by customer id.
    let mut store: BTreeMap<String, CustomerState> = BTreeMap::new();
    for (month, rows) in months {
        let (customers, inputs): (Vec<Customer>, Vec<MonthInput>) = rows.into_iter().unzip();
        let mut states: Vec<CustomerState> =
            customers.iter().map(|c| store.get(&c.id).copied().unwrap_or_default()).collect();
        let out = engine.evaluate_batch(month, &customers, &inputs, &mut states)?;
        println!(
            "== {month}: {} customers, {} events, {} alerts, {} errors",
            customers.len(),
            out.events.len(),
            out.alerts.len(),
            out.errors.len()
        );
        for e in &out.events {
            println!("  {} {}", customers[e.index as usize].id, e.event.explain());
        }
        for e in &out.errors {
            println!("  error: {}", e.error);
        }
        for (c, s) in customers.iter().zip(states) {
            store.insert(c.id.clone(), s);
        }
    }
    let vips = store.values().filter(|s| s.is_vip()).count();
    println!("== {} customers in the store, {vips} VIPs", store.len());
    Ok(())
}
