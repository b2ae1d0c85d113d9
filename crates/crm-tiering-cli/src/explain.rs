//! `crm-tiering explain`: one customer's month-by-month story across every committed month of
//! the store, then its stored contribution months (SPEC §20) and loan months (SPEC §21.10).

use std::fmt::Write as _;

use crm_tiering::RuleBook;
use crm_tiering_store::{RunStatus, Store};

use crate::exit::{Exit, Failure};
use crate::store::{failure, open_read_only};
use crate::summary::{Table, TierName, tier_names};

pub(crate) fn explain_command(customer: &str, location: &str) -> Result<Exit, Failure> {
    let mut store = open_read_only(location)?;
    print!("{}", explain(customer, &mut store)?);
    Ok(Exit::Ok)
}

/// The tier names of the rule book of the latest committed run.
fn names(store: &mut Store) -> Vec<TierName> {
    let Ok(runs) = store.runs() else { return Vec::new() };
    let Some(run) = runs.iter().rev().find(|r| r.status == RunStatus::Committed) else { return Vec::new() };
    match store.run_rule_book(run.run_id) {
        Ok(Some(text)) => RuleBook::from_str_auto(&text).map(|b| tier_names(&b)).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The story of one customer, as printed.
pub(crate) fn explain(customer: &str, store: &mut Store) -> Result<String, Failure> {
    let history = store.customer_history(customer).map_err(failure)?;
    let contribution = store.customer_contribution(customer).map_err(failure)?;
    let loans = store.customer_loans(customer).map_err(failure)?;
    if history.states.is_empty() {
        if contribution.is_empty() && loans.is_empty() {
            return Err(Failure::new(
                Exit::Usage,
                format!("customer `{customer}` is not in any committed month of {}", store.location()),
            ));
        }
        return Ok(stored_stories(customer, &contribution, &loans, String::new()));
    }
    let names = names(store);
    let tier = |code: Option<&str>| -> String {
        let Some(code) = code else { return "-".into() };
        match names.iter().find(|t| t.code == code) {
            Some(t) => format!("{} {}", t.name_zh, t.code),
            None => code.to_string(),
        }
    };
    let mut s = String::new();
    let last = history.states.last().map(|r| &r.customer);
    let entity = last.and_then(|c| c.legal_entity.clone()).unwrap_or_default();
    let _ = writeln!(
        s,
        "customer {customer}{}: {} committed month(s), {} to {}\n",
        if entity.is_empty() { String::new() } else { format!(" (legal entity {entity})") },
        history.states.len(),
        history.states.first().map(|r| r.month.to_string()).unwrap_or_default(),
        history.states.last().map(|r| r.month.to_string()).unwrap_or_default(),
    );
    let mut t = Table::new(&[
        "month",
        "AUM 月日均",
        "status from next month",
        "tier",
        "effective tier",
        "watch",
        "below entry",
    ]);
    let mut story = String::new();
    for r in &history.states {
        let st = &r.state;
        let aum = match r.evaluated {
            Some((aum, true)) => aum.to_string(),
            Some((aum, false)) => format!("{aum} (no row)"),
            None => "- (not evaluated)".into(),
        };
        t.row(vec![
            r.month.to_string(),
            aum,
            format!("{} {}", st.status.name_zh(), st.status.as_str()),
            tier(st.tier.as_ref().map(|c| c.as_str())),
            tier(st.effective_tier.as_ref().map(|c| c.as_str())),
            st.watch.map_or("-".into(), |w| format!("{} mo", w.short_months)),
            st.below_entry.map_or("-".into(), |b| format!("{} mo", b.months)),
        ]);
        for e in history.events.iter().filter(|e| e.month == r.month) {
            let _ = writeln!(story, "  {}  [{} / {}]", e.explain(), e.kind.name_zh(), e.reason.name_zh());
        }
        for al in history.alerts.iter().filter(|a| a.month == r.month) {
            let _ = writeln!(story, "  {}", al.explain_with(|t| tier(Some(t.as_str()))));
        }
    }
    s.push_str(&t.render());
    let _ = writeln!(s, "\nEvents and alerts:");
    if story.is_empty() {
        story.push_str("  (none)\n");
    }
    s.push_str(&story);
    Ok(stored_stories(customer, &contribution, &loans, s))
}

/// `s` followed by the customer's stored contribution months and loan months (those it has),
/// each after a blank line.
fn stored_stories(
    customer: &str,
    contribution: &[crm_tiering_store::StoredContribution],
    loans: &[crm_tiering::LoanOutcome],
    mut s: String,
) -> String {
    if !contribution.is_empty() {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(&contribution_story(customer, contribution));
    }
    if !loans.is_empty() {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(&crate::loans::loan_story(loans));
    }
    s
}

/// The customer's stored contribution months (SPEC §20): each month's lines and net.
fn contribution_story(customer: &str, months: &[crm_tiering_store::StoredContribution]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Contribution 贡献度 ({} stored month(s)):", months.len());
    for m in months {
        let _ = writeln!(s, "\n{}: net contribution {:.2}", m.month, m.figures.net_contribution);
        s.push_str(&crate::contribution::render_lines(customer, &m.lines));
    }
    s
}
