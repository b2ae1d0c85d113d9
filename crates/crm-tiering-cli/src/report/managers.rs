//! The alert work-list per account manager (客户经理): the assignment file
//! (`customer_id,manager`) and the section of the report built from it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::Encoding;
use crate::exit::{Exit, Failure, io_error};
use crate::text::{decode, lines, split, undecodable};

use super::data::{AlertItem, ReportData};
use super::html::{Table, amount, count, esc};

/// The most alerts listed for one manager (the counts cover them all).
pub(crate) const PER_MANAGER: usize = 200;

/// Customer id -> account manager, from the assignment file.
pub(crate) type Assignment = BTreeMap<String, String>;

/// Reads the assignment file: UTF-8 CSV (a byte-order mark is tolerated) of
/// `customer_id,manager`, with an optional header line naming those columns.
///
/// # Errors
/// A usage failure naming the file (and line) when it cannot be read, a line has no manager,
/// or a customer is assigned to two managers.
pub(crate) fn read_assignment(path: &Path) -> Result<Assignment, Failure> {
    let bytes = std::fs::read(path).map_err(|e| io_error(Exit::Usage, path, "read the manager assignment", &e))?;
    let text = decode(bytes, Encoding::Utf8);
    let bad = |line: u32, why: String| Failure::new(Exit::Usage, format!("{}:{line}: {why}", path.display()));
    let mut out = Assignment::new();
    let mut fields = Vec::new();
    for (number, line) in lines(&text) {
        if let Some(why) = undecodable(line, Encoding::Utf8) {
            return Err(bad(number, why));
        }
        split(line, ',', &mut fields).map_err(|e| bad(number, e))?;
        let customer = fields.first().map_or("", |f| f.trim()).to_string();
        let manager = fields.get(1).map_or("", |f| f.trim()).to_string();
        if out.is_empty() && is_header(&customer, &manager) {
            continue;
        }
        if customer.is_empty() || manager.is_empty() || fields.len() > 2 {
            return Err(bad(
                number,
                format!("expected `customer_id,manager`, found `{line}` (two fields, neither empty)"),
            ));
        }
        if let Some(other) = out.get(&customer).filter(|m| **m != manager) {
            return Err(bad(
                number,
                format!("customer `{customer}` is assigned to `{manager}` and, on an earlier line, to `{other}`"),
            ));
        }
        out.insert(customer, manager);
    }
    Ok(out)
}

/// Whether a first line is the header (English or Chinese column names).
fn is_header(customer: &str, manager: &str) -> bool {
    let customer = customer.to_ascii_lowercase();
    let manager = manager.to_ascii_lowercase();
    matches!(customer.as_str(), "customer_id" | "客户号" | "customer")
        && matches!(manager.as_str(), "manager" | "客户经理" | "account_manager")
}

/// The work-list section: a count table (manager x alert kind), then each manager's alerts,
/// most urgent kind first, in a collapsible block.
pub(crate) fn section(data: &ReportData, assignment: &Assignment, file: &str) -> String {
    let mut by_manager: BTreeMap<&str, Vec<&AlertItem>> = BTreeMap::new();
    let mut unassigned = 0u64;
    for item in &data.alert_items {
        match assignment.get(&item.customer_id) {
            Some(m) => by_manager.entry(m.as_str()).or_default().push(item),
            None => unassigned += 1,
        }
    }
    let kinds: Vec<_> = data.alerts.iter().filter(|(_, n)| *n > 0).map(|(k, _)| *k).collect();
    let mut html = String::new();
    let _ = writeln!(
        html,
        "<p class=\"note\">分配文件 Assignment file: {} · {} 位客户经理 managers with alerts · 未分配客户的提醒 alerts of customers without a manager: {}</p>",
        esc(file),
        count(by_manager.len() as u64),
        count(unassigned)
    );
    let mut head = vec!["客户经理 manager".to_string(), "合计 total".to_string()];
    head.extend(kinds.iter().map(|k| format!("{} {}", k.name_zh(), k.as_str())));
    let mut t = Table::new(&head, 1);
    for (manager, items) in &by_manager {
        let mut row = vec![manager.to_string(), count(items.len() as u64)];
        row.extend(kinds.iter().map(|k| count(items.iter().filter(|i| i.alert.kind == *k).count() as u64)));
        t.row(&row);
    }
    html.push_str(&t.finish());
    for (manager, items) in &mut by_manager {
        items.sort_by(|a, b| {
            let rank = |i: &AlertItem| data.alerts.iter().position(|(k, _)| *k == i.alert.kind);
            rank(a).cmp(&rank(b)).then_with(|| a.customer_id.cmp(&b.customer_id))
        });
        html.push_str(&manager_block(data, manager, items));
    }
    html
}

/// One manager's alerts (at most [`PER_MANAGER`]).
fn manager_block(data: &ReportData, manager: &str, items: &[&AlertItem]) -> String {
    let shown = items.len().min(PER_MANAGER);
    let mut html = format!(
        "<details><summary>{} · {} 条提醒 alerts{}</summary>\n",
        esc(manager),
        count(items.len() as u64),
        if shown < items.len() { format!(" (前 first {shown})") } else { String::new() }
    );
    let head = [
        "客户 customer",
        "提醒 alert",
        "层级 tier",
        "已计月数 months counted",
        "剩余月数 months left",
        "月日均 AUM",
        "差距 gap",
    ]
    .map(String::from);
    let mut t = Table::new(&head, 3);
    for item in items.iter().take(PER_MANAGER) {
        let a = &item.alert;
        t.row(&[
            item.customer_id.clone(),
            format!("{} {}", a.kind.name_zh(), a.kind.as_str()),
            a.tier.map(|c| data.tier_label(Some(c))).unwrap_or_default(),
            a.months_counted.map(|n| n.to_string()).unwrap_or_default(),
            a.months_left.map(|n| n.to_string()).unwrap_or_default(),
            a.aum().map(amount).unwrap_or_default(),
            a.gap().map(amount).unwrap_or_default(),
        ]);
    }
    html.push_str(&t.finish());
    html.push_str("</details>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_assignment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        std::fs::write(&path, "\u{FEFF}customer_id,manager\nc1,王芳\n\"c,2\", Li Lei \nc1,王芳\n").unwrap();
        let a = read_assignment(&path).unwrap();
        assert_eq!(a.get("c1").map(String::as_str), Some("王芳"));
        assert_eq!(a.get("c,2").map(String::as_str), Some("Li Lei"));
        std::fs::write(&path, "c1,a\nc1,b\n").unwrap();
        let e = read_assignment(&path).unwrap_err();
        assert!(e.message.contains("m.csv:2") && e.message.contains("`c1`"), "{}", e.message);
        std::fs::write(&path, "c1\n").unwrap();
        assert!(read_assignment(&path).unwrap_err().message.contains("m.csv:1"));
    }
}
