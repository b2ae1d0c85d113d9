//! `crm-tiering check-rules`: validates a rule book and prints its tiers and settings.

use std::path::Path;

use crm_tiering::{RuleBook, TieringError};

use crate::exit::{Exit, Failure};
use crate::summary::Table;

pub(crate) fn check_rules_command(path: &Path) -> Result<Exit, Failure> {
    let book = match RuleBook::from_path(path) {
        Ok(b) => b,
        Err(TieringError::Rules(e)) => {
            let mut msg = format!("{}: invalid rule book", path.display());
            if !e.field.is_empty() {
                msg.push_str(&format!("\n  field:   {}", e.field));
            }
            if let (Some(l), Some(c)) = (e.line, e.column) {
                msg.push_str(&format!("\n  at:      line {l}, column {c}"));
            }
            msg.push_str(&format!("\n  problem: {}", e.message));
            return Err(Failure::new(Exit::Rules, msg));
        }
        Err(e) => return Err(Failure::new(Exit::Rules, format!("{}: {e}", path.display()))),
    };
    print!("{}", render(&book, &path.display().to_string()));
    Ok(Exit::Ok)
}

/// What each customer's history keeps for the book's windows (SPEC §19.5), when anything.
fn history_line(s: &mut String, book: &RuleBook) {
    use std::fmt::Write as _;
    let layout = book.history_layout();
    let mut kept: Vec<String> = layout.measures().map(|(m, n)| format!("{m} {n} months")).collect();
    if layout.tier_months() > 0 {
        kept.push(format!("qualified tier {} months", layout.tier_months()));
    }
    if !kept.is_empty() {
        let _ = writeln!(s, "history kept beside each state for the windows: {}", kept.join(", "));
    }
}

/// The rule book as text: rule sets, versions, settings, tiers and AUM components.
pub(crate) fn render(book: &RuleBook, source: &str) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "{source}: valid rule book \"{}\" with {} rule set(s)", book.name(), book.rule_sets().len());
    history_line(&mut s, book);
    for set in book.rule_sets() {
        let selector = match (&set.legal_entity, set.customer_kind) {
            (None, None) => "default rule set".to_string(),
            (e, k) => format!(
                "for{}{}",
                e.as_ref().map(|e| format!(" legal entity {e}")).unwrap_or_default(),
                k.map(|k| format!(" {k} customers")).unwrap_or_default()
            ),
        };
        let _ = writeln!(s, "\nrule set \"{}\" ({selector})", set.name);
        for v in &set.versions {
            let st = &v.settings;
            let _ = writeln!(s, "  version effective from {}", v.effective_from);
            let _ = writeln!(
                s,
                "    threshold comparison {}; exit after {} months below entry; retention {} months; watch {} months; downgrade target {}",
                match st.threshold_comparison {
                    crm_tiering::ThresholdComparison::AtLeast => "at_least (>=)",
                    crm_tiering::ThresholdComparison::GreaterThan => "greater_than (>)",
                },
                st.exit_after_months,
                st.retention_months,
                st.watch_months,
                match st.downgrade_window {
                    Some(k) => format!("{} over {k} months", st.downgrade_target.as_str()),
                    None => st.downgrade_target.as_str().to_string(),
                }
            );
            timing_lines(&mut s, v);
            let _ = writeln!(
                s,
                "    special VIP {} months at {} by default, notice {} months; near-threshold band {}",
                st.special_vip_months,
                st.special_vip_default_tier,
                st.special_vip_notice_months,
                st.near_threshold_band
            );
            let qualifies = if v.tiers.iter().any(|t| t.qualify.is_some()) { "qualifies by" } else { "minimum AUM" };
            let mut t = Table::new(&["    tier", "中文", "English", qualifies, "watch months"]);
            for tier in &v.tiers {
                t.row(vec![
                    format!("    {}", tier.code),
                    tier.name_zh.clone(),
                    tier.name_en.clone(),
                    qualification(tier),
                    match tier.label_after {
                        // A two-stage watch: labelled 关注 after this many short months.
                        Some(label) => format!("{} (关注 after {label})", tier.watch_months),
                        None => tier.watch_months.to_string(),
                    },
                ]);
            }
            s.push_str(&t.render());
            measure_lines(&mut s, v);
            warning_lines(&mut s, v);
            if !v.tier_map.is_empty() {
                let map: Vec<String> = v.tier_map.iter().map(|(a, b)| format!("{a} -> {b}")).collect();
                let _ = writeln!(s, "    tier map: {}", map.join(", "));
            }
            let a = &v.aum;
            let _ = writeln!(
                s,
                "    AUM: divisor {}, missing day {}, rounding {} at {} level",
                code(&a.divisor),
                code(&a.missing_day),
                code(&a.rounding),
                code(&a.rounding_level)
            );
            let mut t = Table::new(&["    component", "中文", "group", "included", "weight"]);
            for c in a.components() {
                t.row(vec![
                    format!("    {}", c.code),
                    c.name_zh.clone(),
                    c.group.clone(),
                    if c.included { "yes" } else { "no" }.into(),
                    c.weight.to_string(),
                ]);
            }
            s.push_str(&t.render());
        }
    }
    s
}

/// The version's timing lines: same-month upgrades, the upgrade pause (SPEC §21.8) and the
/// assessment months (SPEC §19.4), each when set.
fn timing_lines(s: &mut String, v: &crm_tiering::RuleVersion) {
    use std::fmt::Write as _;
    let st = &v.settings;
    if st.upgrade_timing == crm_tiering::UpgradeTiming::SameMonth {
        let _ =
            writeln!(s, "    entries, re-entries and upgrades take effect in the month that qualified (same_month)");
    }
    if let Some(code) = v.pause_upgrades_while() {
        let _ = writeln!(
            s,
            "    entries, re-entries and upgrades paused while {code} is above zero (upgrade_paused, SPEC §21.8)"
        );
    }
    if let Some(months) = &st.assessment_months {
        let list: Vec<String> = months.iter().map(u32::to_string).collect();
        let what = if st.assess_upgrades { "downgrades, exits, entries and upgrades" } else { "downgrades and exits" };
        let _ = writeln!(s, "    assessed in months {} of the year: {what} take effect then", list.join(", "));
    }
}

/// The version's warnings (SPEC §22), one line each.
fn warning_lines(s: &mut String, v: &crm_tiering::RuleVersion) {
    use std::fmt::Write as _;
    for w in &v.warnings {
        let rule = match w.kind {
            crm_tiering::WarningKind::DropPct => {
                format!("drop_pct: {} more than {}% below its {}", w.measure, w.percent, w.window)
            }
            crm_tiering::WarningKind::BelowFor => format!(
                "below_for: {} below {} in each of {} months",
                w.measure,
                crm_tiering::from_fen(w.amount_fen),
                w.months
            ),
            crm_tiering::WarningKind::MaturityNotReinvested => {
                format!("maturity_not_reinvested: {} at least {}", w.measure, crm_tiering::from_fen(w.amount_fen))
            }
            crm_tiering::WarningKind::Dormant => format!(
                "dormant: {} at least {} days with AUM at most {}",
                w.measure,
                w.days,
                crm_tiering::from_fen(w.amount_fen)
            ),
            crm_tiering::WarningKind::Reactivated => format!(
                "reactivated: {} at least {} days last month, below this month, with AUM at least {}",
                w.measure,
                w.days,
                crm_tiering::from_fen(w.amount_fen)
            ),
            crm_tiering::WarningKind::LargeFlow => format!(
                "large_flow: the daily balances' total moving by more than {} in a day",
                crm_tiering::from_fen(w.amount_fen)
            ),
        };
        let tier = w.min_tier.map(|t| format!(", tier {t} and above")).unwrap_or_default();
        let role = match w.role {
            crm_tiering::WarningRole::Manager => "manager",
            crm_tiering::WarningRole::Branch => "branch",
        };
        let _ = writeln!(
            s,
            "    warning {}{rule}{tier}; to the {role}, open {} month(s)",
            if w.name_zh.is_empty() { String::new() } else { format!("{} ", w.name_zh) },
            w.lifetime_months
        );
    }
}

/// One line per measure a version declares besides AUM (SPEC §19.1).
fn measure_lines(s: &mut String, v: &crm_tiering::RuleVersion) {
    use std::fmt::Write as _;
    for m in &v.measures {
        let source = match &m.composition {
            Some(c) => {
                let parts: Vec<String> = c
                    .components()
                    .iter()
                    .filter(|c| c.included)
                    .map(|c| format!("{} x {}", c.code, c.weight))
                    .collect();
                format!("composed of {} (or its total in column `{}`)", parts.join(" + "), m.code)
            }
            None => format!(
                "read from column `{}`, absent: {}{}",
                m.code,
                code(&m.absent),
                if m.signed { ", may be below zero (signed)" } else { "" }
            ),
        };
        let _ = writeln!(
            s,
            "    measure {} ({} / {}): {source}, rounding {}",
            m.code,
            m.name_zh,
            m.name_en,
            code(&m.rounding)
        );
    }
}

/// A tier's qualification: its minimum AUM, or its criteria (SPEC §19.3) such as
/// `any of: aum >= 6000000.00, loan_balance >= 6000000.00`.
fn qualification(tier: &crm_tiering::Tier) -> String {
    let Some(q) = &tier.qualify else { return tier.min_aum.to_string() };
    let criteria: Vec<String> = q
        .criteria
        .iter()
        .map(|c| {
            let window = if c.window == crm_tiering::Window::Month {
                String::new()
            } else {
                format!(" over {}", c.window.as_str())
            };
            format!("{}{window} >= {}", c.measure, c.min)
        })
        .collect();
    format!("{}: {}", if q.all { "all of" } else { "any of" }, criteria.join(", "))
}

/// The snake_case code of a setting, as written in rule files.
fn code<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}
