//! The contribution vectors (`rules-spec/contribution-vectors/*.toml`, SPEC §20.9): each case's
//! rule book and CSV tables are read and computed, and every expected figure, roll-up, lineage
//! line and error is compared. A list given in `expected` must match the computed list in
//! length and order; within an entry, every field given is compared (amounts as exact text,
//! rates and quantities by value).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crm_tiering::{Decimal, Month};
use crm_tiering_contribution::{
    Contribution, ContributionErrors, Figures, Inputs, LineageLine, RuleBook, compute, read_account_months,
    read_activities, read_assignments, read_cost_pools, read_direct_costs, read_fees,
};

type Fields = BTreeMap<String, String>;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules-spec/contribution-vectors")
}

fn figures(f: &Figures) -> Fields {
    [
        ("interest_asset", f.interest_asset),
        ("interest_liability", f.interest_liability),
        ("fees", f.fees),
        ("allocated_costs", f.allocated_costs),
        ("direct_costs", f.direct_costs),
        ("risk_cost", f.risk_cost),
        ("capital_charge", f.capital_charge),
        ("net_contribution", f.net_contribution),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn line(l: &LineageLine) -> Fields {
    let mut f = Fields::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            f.insert(k.to_string(), v);
        }
    };
    put("customer", Some(l.customer.clone()));
    put("kind", Some(l.kind.as_str().to_string()));
    put("account", l.account.clone());
    put("pool", l.pool.clone());
    put("stage", l.stage.map(|s| s.to_string()));
    put("product", l.product.clone());
    put("item", l.item.clone());
    let d = |v: Option<Decimal>| v.map(|v| v.to_string());
    put("balance", d(l.balance));
    put("ftp_rate", d(l.ftp_rate));
    put("customer_rate", d(l.customer_rate));
    put("rate", d(l.rate));
    put("risk_weight", d(l.risk_weight));
    put("days", l.days.map(|v| v.to_string()));
    put("driver_quantity", d(l.driver_quantity));
    put("driver_total", d(l.driver_total));
    put("amount", Some(l.amount.to_string()));
    f
}

fn lists(c: &Contribution) -> BTreeMap<&'static str, Vec<Fields>> {
    let with = |mut f: Fields, k: &str, v: String| {
        f.insert(k.to_string(), v);
        f
    };
    let mut out = BTreeMap::new();
    out.insert(
        "customers",
        c.customers
            .iter()
            .map(|m| {
                let pools: Vec<String> =
                    m.allocated_by_pool.iter().map(|p| format!("{}={}", p.pool, p.amount)).collect();
                with(with(figures(&m.figures), "customer", m.customer.clone()), "by_pool", pools.join(" "))
            })
            .collect(),
    );
    out.insert(
        "managers",
        c.managers
            .iter()
            .map(|m| {
                with(with(figures(&m.figures), "manager", m.manager.clone()), "customers", m.customers.to_string())
            })
            .collect(),
    );
    out.insert(
        "branches",
        c.branches
            .iter()
            .map(|b| {
                with(with(figures(&b.figures), "branch", b.branch.clone()), "legal_entity", b.legal_entity.clone())
            })
            .collect(),
    );
    out.insert(
        "legal_entities",
        c.legal_entities.iter().map(|e| with(figures(&e.figures), "legal_entity", e.legal_entity.clone())).collect(),
    );
    out.insert("lineage", c.lineage.iter().map(line).collect());
    out.insert("unassigned", vec![figures(&c.unassigned)]);
    out.insert(
        "stages",
        c.stages
            .iter()
            .map(|s| {
                let to: Vec<String> = s.to_pools.iter().map(|p| format!("{}={}", p.pool, p.amount)).collect();
                let mut f = Fields::new();
                f.insert("stage".into(), s.stage.to_string());
                f.insert("pool".into(), s.pool.clone());
                f.insert("amount".into(), s.amount.to_string());
                f.insert("driver_total".into(), s.driver_total.to_string());
                f.insert("targets".into(), s.targets.to_string());
                f.insert("to_pools".into(), to.join(" "));
                f
            })
            .collect(),
    );
    out
}

/// Rates and quantities compare by value; amounts (two decimals) and text exactly.
const BY_VALUE: [&str; 7] =
    ["balance", "ftp_rate", "customer_rate", "rate", "risk_weight", "driver_quantity", "driver_total"];

fn same(key: &str, expected: &str, actual: &str) -> bool {
    if BY_VALUE.contains(&key) {
        let e: Option<Decimal> = expected.parse().ok();
        let a: Option<Decimal> = actual.parse().ok();
        return e.is_some() && e == a;
    }
    expected == actual
}

fn text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compare(name: &str, expected: &toml::Value, actual: &[Fields]) -> Vec<String> {
    let entries: Vec<&toml::Value> = match expected {
        toml::Value::Array(a) => a.iter().collect(),
        table => vec![table],
    };
    let mut problems = Vec::new();
    if entries.len() != actual.len() {
        problems.push(format!("{name}: expected {} entries, computed {}: {actual:#?}", entries.len(), actual.len()));
        return problems;
    }
    for (i, (e, a)) in entries.iter().zip(actual).enumerate() {
        let Some(table) = e.as_table() else {
            problems.push(format!("{name}[{i}]: not a table"));
            continue;
        };
        for (k, v) in table {
            let want = text(v);
            match a.get(k) {
                Some(got) if same(k, &want, got) => {}
                got => problems.push(format!("{name}[{i}].{k}: expected {want}, computed {got:?}")),
            }
        }
    }
    problems
}

type Reader<T> = fn(&str, &str) -> Result<Vec<T>, ContributionErrors>;

fn table<T>(case: &toml::Table, key: &str, reader: Reader<T>, errors: &mut Vec<String>) -> Vec<T> {
    let Some(text) = case.get(key).and_then(toml::Value::as_str) else {
        return Vec::new();
    };
    reader(key, text).unwrap_or_else(|e| {
        errors.extend(e.0.iter().map(ToString::to_string));
        Vec::new()
    })
}

fn read_inputs(case: &toml::Table) -> Result<Inputs, Vec<String>> {
    let mut errors = Vec::new();
    let inputs = Inputs {
        account_months: table(case, "account_months", read_account_months, &mut errors),
        fees: table(case, "fees", read_fees, &mut errors),
        cost_pools: table(case, "cost_pools", read_cost_pools, &mut errors),
        activities: table(case, "activities", read_activities, &mut errors),
        direct_costs: table(case, "direct_costs", read_direct_costs, &mut errors),
        assignments: table(case, "assignments", read_assignments, &mut errors),
    };
    if errors.is_empty() { Ok(inputs) } else { Err(errors) }
}

/// Runs one case: its errors, or its lists.
fn run(case: &toml::Table) -> Result<Contribution, Vec<String>> {
    let month: Month = case.get("month").and_then(toml::Value::as_str).unwrap_or("").parse().expect("month");
    let book = RuleBook::from_toml_str(case.get("book").and_then(toml::Value::as_str).expect("book"));
    let inputs = read_inputs(case);
    let (book, inputs) = match (book, inputs) {
        (Ok(b), Ok(i)) => (b, i),
        (b, i) => {
            let mut errors: Vec<String> =
                b.err().map(|e| e.0.iter().map(ToString::to_string).collect()).unwrap_or_default();
            errors.extend(i.err().unwrap_or_default());
            return Err(errors);
        }
    };
    compute(&book, month, &inputs).map_err(|e| e.0.iter().map(ToString::to_string).collect())
}

/// The JSON form (`Contribution::to_json`) holds every list with the same values: each
/// field of each entry (the pool lists aside, whose form differs), absent fields as `null`.
fn json_problems(c: &Contribution, lists: &BTreeMap<&'static str, Vec<Fields>>) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(&c.to_json()).expect("to_json gives JSON");
    let mut problems = Vec::new();
    if doc["month"] != c.month.to_string().as_str() {
        problems.push(format!("json month: {}", doc["month"]));
    }
    for (name, entries) in lists {
        let json: Vec<&serde_json::Value> = match &doc[*name] {
            serde_json::Value::Array(a) => a.iter().collect(),
            one => vec![one],
        };
        if json.len() != entries.len() {
            problems.push(format!("json {name}: {} entries, not {}", json.len(), entries.len()));
            continue;
        }
        for (i, (j, e)) in json.iter().zip(entries).enumerate() {
            for (k, v) in e.iter().filter(|(k, _)| !["by_pool", "to_pools"].contains(&k.as_str())) {
                let got = match &j[k.as_str()] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if &got != v {
                    problems.push(format!("json {name}[{i}].{k}: {got}, not {v}"));
                }
            }
        }
    }
    problems
}

fn check(path: &Path) -> Vec<String> {
    let source = std::fs::read_to_string(path).expect("readable vector");
    let case: toml::Table = toml::from_str(&source).expect("a vector is TOML");
    let expected = case.get("expected").and_then(toml::Value::as_table).expect("an [expected] table");
    match (run(&case), expected.get("errors")) {
        (Err(actual), Some(errors)) => {
            let want: Vec<String> = errors.as_array().expect("errors is a list").iter().map(text).collect();
            if want == actual { vec![] } else { vec![format!("errors: expected {want:#?}, got {actual:#?}")] }
        }
        (Err(actual), None) => vec![format!("failed: {actual:#?}")],
        (Ok(_), Some(_)) => vec!["expected errors, computed a result".into()],
        (Ok(c), None) => {
            let lists = lists(&c);
            let mut problems = Vec::new();
            for (name, value) in expected {
                match lists.get(name.as_str()) {
                    Some(actual) => problems.extend(compare(name, value, actual)),
                    None => problems.push(format!("unknown expected list {name}")),
                }
            }
            if expected.is_empty() {
                problems.push("nothing expected".into());
            }
            problems.extend(json_problems(&c, &lists));
            problems
        }
    }
}

#[test]
fn contribution_vectors() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .expect("the vectors directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    for path in &paths {
        for problem in check(path) {
            failures.push(format!("{}: {problem}", path.file_name().unwrap().to_string_lossy()));
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
    assert!(paths.len() >= 20, "expected the vectors, found {}", paths.len());
}
