//! A customer's contribution lines as a readable table: what `contribution --explain` and
//! `explain --customer` print.

use std::fmt::Write as _;

use crm_tiering::Decimal;
use crm_tiering_contribution::{LineKind, LineageLine};

use super::files::amount;
use crate::summary::Table;

/// The Chinese name of a line's kind.
fn kind_zh(kind: LineKind) -> &'static str {
    match kind {
        LineKind::InterestAsset => "资产利息贡献",
        LineKind::InterestLiability => "负债利息贡献",
        LineKind::Fee => "中间业务收入",
        LineKind::AllocatedCost => "分摊费用",
        LineKind::DirectCost => "直接费用",
        LineKind::RiskCost => "风险成本",
        LineKind::CapitalCharge => "资本占用",
    }
}

/// A rate as a percentage (`0.0210` is `2.10%`), exact.
fn percent(rate: Decimal) -> String {
    let p = (rate * Decimal::ONE_HUNDRED).normalize();
    if p.scale() < 2 { format!("{p:.2}%") } else { format!("{p}%") }
}

fn dash<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "-".to_string(), f)
}

/// What the line was computed on: the account, the pool and stage, or the fee's or direct
/// cost's item.
fn source(l: &LineageLine) -> String {
    match (&l.account, &l.pool, &l.item) {
        (Some(a), _, _) => format!("account {a}"),
        (None, Some(p), _) => format!("pool {p} (stage {})", l.stage.map_or_else(|| "-".into(), |s| s.to_string())),
        (None, None, Some(i)) => i.clone(),
        (None, None, None) => "-".into(),
    }
}

/// The rates of a line: FTP and customer rate for interest, the provision or capital rate (and
/// risk weight) for risk cost and capital charge.
fn rates(l: &LineageLine) -> String {
    let mut parts = Vec::new();
    if let Some(f) = l.ftp_rate {
        parts.push(format!("ftp {}", percent(f)));
    }
    if let Some(r) = l.customer_rate {
        parts.push(format!("customer {}", percent(r)));
    }
    if let Some(r) = l.rate {
        parts.push(format!("rate {}", percent(r)));
    }
    if let Some(w) = l.risk_weight {
        parts.push(format!("weight {}", percent(w)));
    }
    if parts.is_empty() { "-".into() } else { parts.join(", ") }
}

/// The driver quantity and the customer's share of the driver total.
fn driver(l: &LineageLine) -> (String, String) {
    match (l.driver_quantity, l.driver_total) {
        (Some(q), Some(t)) if !t.is_zero() => {
            let share = (q / t * Decimal::ONE_HUNDRED).round_dp(4).normalize();
            (format!("{} / {}", q.normalize(), t.normalize()), format!("{share}%"))
        }
        (q, _) => (dash(q, |q| q.normalize().to_string()), "-".into()),
    }
}

/// The table of a customer's lines and their total (the net contribution).
pub(crate) fn render_lines<'a>(customer: &str, lines: impl IntoIterator<Item = &'a LineageLine>) -> String {
    let mut t = Table::new(&[
        "kind",
        "account or pool",
        "product",
        "balance",
        "rates",
        "days",
        "driver quantity",
        "share",
        "amount",
    ]);
    let mut total = Decimal::ZERO;
    let mut count = 0;
    for l in lines {
        count += 1;
        total += l.amount;
        let (quantity, share) = driver(l);
        t.row(vec![
            format!("{} {}", kind_zh(l.kind), l.kind.as_str()),
            source(l),
            dash(l.product.as_deref(), str::to_string),
            dash(l.balance, amount),
            rates(l),
            dash(l.days, |d| d.to_string()),
            quantity,
            share,
            amount(l.amount),
        ]);
    }
    t.row(vec![
        "net contribution 净贡献".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        amount(total),
    ]);
    let mut s = String::new();
    let _ = writeln!(s, "customer {customer}: {count} contribution line(s)");
    s.push_str(&t.render());
    s
}
