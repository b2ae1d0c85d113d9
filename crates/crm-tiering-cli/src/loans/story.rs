//! A customer's stored loan months as `explain` prints them (SPEC §21.10): the worst class,
//! trend and non-performing month by month, then each loan's classes and its signals with
//! their evidence.

use std::fmt::Write as _;

use crm_tiering::{LoanClass, LoanOutcome, LoanResult, LoanSignal, Upgrade};

use crate::summary::Table;

fn class(c: LoanClass) -> String {
    format!("{} {}", c.name_zh(), c.as_str())
}

/// One loan's line: overdue days, floor, bank and effective class, and a held or allowed
/// upgrade with its clean counters.
fn loan_line(l: &LoanResult) -> String {
    let mut s = format!(
        "loan {}: {} day(s) overdue (principal {}, interest {}); floor 监管底线 {}, bank 银行分类 {}, effective 认定分类 {}",
        l.loan_id,
        l.overdue_days,
        l.principal_overdue_days,
        l.interest_overdue_days,
        class(l.floor),
        class(l.bank),
        class(l.effective)
    );
    if l.upgrade != Upgrade::None {
        let _ = write!(
            s,
            "; upgrade out of non-performing {} ({} clean month(s), {} clean period(s))",
            l.upgrade, l.clean_months, l.clean_periods
        );
    }
    if let Some(e) = l.expected_loss {
        let _ = write!(s, "; expected loss {e}");
    }
    s
}

/// One signal's line with its evidence.
fn signal_line(g: &LoanSignal) -> String {
    let mut s = format!("signal {} {} ({})", g.kind.name_zh(), g.kind, g.kind.number());
    if let Some(b) = g.boundary {
        let _ = write!(s, ", boundary {b} day(s)");
    }
    if let (Some(m), Some(p)) = (g.clean_months, g.clean_periods) {
        let _ = write!(s, ", {m} clean month(s), {p} clean period(s) so far");
    }
    s
}

/// The customer's stored loan months, in order.
pub(crate) fn loan_story(months: &[LoanOutcome]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Loan classification 贷款五级分类 ({} stored month(s)):\n", months.len());
    let mut t = Table::new(&["month", "loans", "worst 最差分类", "trend 趋势", "non-performing 不良"]);
    for o in months {
        t.row(vec![
            o.month.to_string(),
            o.loans.len().to_string(),
            o.worst.map_or_else(|| "-".to_string(), class),
            o.trend.map_or_else(|| "-".to_string(), |t| format!("{} {t}", t.name_zh())),
            if o.has_non_performing { "yes 是".into() } else { "no 否".into() },
        ]);
    }
    s.push_str(&t.render());
    let _ = writeln!(s, "\nLoans and signals:");
    let mut any = false;
    for o in months {
        for l in &o.loans {
            any = true;
            let _ = writeln!(s, "  {}: {}", o.month, loan_line(l));
            for g in o.signals.iter().filter(|g| g.loan_id == l.loan_id) {
                let _ = writeln!(s, "    {}", signal_line(g));
            }
        }
    }
    if !any {
        s.push_str("  (no loans)\n");
    }
    s
}
