//! The run summary: customers per status and tier per legal entity, the tier migration matrix,
//! and counts of events and alerts; as JSON (summary.json) and as a table for the operator.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;
use std::fmt::Write as _;

use crm_tiering::{
    AlertKind, CustomerRef, CustomerState, EventKind, Month, RuleBook, STATE_SCHEMA_VERSION, Status, TierCode,
};
use serde::{Deserialize, Serialize};

/// Display names of a tier.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TierName {
    pub(crate) code: String,
    pub(crate) name_zh: String,
    pub(crate) name_en: String,
}

/// The tiers of a rule book in order (lowest first, across rule sets and versions).
pub(crate) fn tier_names(book: &RuleBook) -> Vec<TierName> {
    let mut out: Vec<TierName> = Vec::new();
    for set in book.rule_sets() {
        for v in &set.versions {
            for t in &v.tiers {
                if !out.iter().any(|n| n.code == t.code.as_str()) {
                    out.push(TierName {
                        code: t.code.to_string(),
                        name_zh: t.name_zh.clone(),
                        name_en: t.name_en.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Counts for one legal entity, after a month.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct EntityCounts {
    /// Customers evaluated.
    pub(crate) customers: u64,
    /// Per status code (`not_enrolled`, `rated`, `retained`).
    pub(crate) status: BTreeMap<String, u64>,
    /// Per effective tier code (rated tier or special VIP tier).
    pub(crate) effective_tier: BTreeMap<String, u64>,
    /// Customers with an active special VIP designation.
    pub(crate) special_vip: u64,
}

/// One month of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MonthSummary {
    /// The evaluated month.
    pub(crate) month: Month,
    /// The month the new standings are effective for.
    pub(crate) effective_from: Month,
    /// Customers evaluated.
    pub(crate) customers: u64,
    /// Of those, customers without a row in the month's files (evaluated with zero AUM).
    pub(crate) without_row: u64,
    /// Customers held back from this month on (see rejects.csv): reported once, in the month
    /// they are first held.
    pub(crate) rejected: u64,
    /// Customers with an effective tier (rated or special VIP) after the month.
    pub(crate) vip: u64,
    /// Per legal entity (`-` for customers without one).
    pub(crate) by_legal_entity: BTreeMap<String, EntityCounts>,
    /// Effective tier migration: from (before the month) -> to (after) -> customers; `none` for
    /// no effective tier.
    pub(crate) migration: BTreeMap<String, BTreeMap<String, u64>>,
    /// Events per kind.
    pub(crate) events: BTreeMap<String, u64>,
    /// Alerts per kind.
    pub(crate) alerts: BTreeMap<String, u64>,
}

/// The whole run, as written to summary.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RunSummary {
    pub(crate) rule_book: String,
    pub(crate) rule_book_source: String,
    pub(crate) state_schema_version: u32,
    pub(crate) tiers: Vec<TierName>,
    pub(crate) legal_entity_names: BTreeMap<String, String>,
    pub(crate) customers: u64,
    pub(crate) bad_rows: u64,
    pub(crate) rejected: u64,
    pub(crate) events: BTreeMap<String, u64>,
    pub(crate) alerts: BTreeMap<String, u64>,
    pub(crate) months: Vec<MonthSummary>,
}

/// Counts one month as the portfolio evaluation streams it: every evaluated customer's
/// standing after the month, the migration from its effective tier before, events, alerts,
/// customers without a record and customers held back.
pub(crate) struct MonthTally {
    month: Month,
    /// (legal entity, status, effective tier, active special VIP) -> customers.
    standing: HashMap<(u32, Status, Option<TierCode>, bool), u64>,
    migration: HashMap<(Option<TierCode>, Option<TierCode>), u64>,
    events: BTreeMap<&'static str, u64>,
    alerts: BTreeMap<&'static str, u64>,
    customers: u64,
    without_row: u64,
    rejected: u64,
    vip: u64,
}

/// Interned legal entity codes (`-` for none), shared by a run's months.
#[derive(Default)]
pub(crate) struct Entities {
    codes: Vec<String>,
    index: HashMap<String, u32>,
}

impl Entities {
    fn get(&mut self, code: Option<&str>) -> u32 {
        let code = code.unwrap_or("-");
        if let Some(&i) = self.index.get(code) {
            return i;
        }
        let i = self.codes.len() as u32;
        self.codes.push(code.to_string());
        self.index.insert(code.to_string(), i);
        i
    }
}

impl MonthTally {
    pub(crate) fn new(month: Month) -> Self {
        MonthTally {
            month,
            standing: HashMap::default(),
            migration: HashMap::default(),
            events: BTreeMap::new(),
            alerts: BTreeMap::new(),
            customers: 0,
            without_row: 0,
            rejected: 0,
            vip: 0,
        }
    }

    pub(crate) fn event(&mut self, kind: EventKind) {
        *self.events.entry(kind.as_str()).or_default() += 1;
    }

    pub(crate) fn alert(&mut self, kind: AlertKind) {
        *self.alerts.entry(kind.as_str()).or_default() += 1;
    }

    pub(crate) fn held(&mut self) {
        self.rejected += 1;
    }

    /// An evaluated customer: its effective tier before the month and its state after.
    pub(crate) fn evaluated(
        &mut self,
        entities: &mut Entities,
        customer: CustomerRef<'_>,
        before: Option<TierCode>,
        after: &CustomerState,
        has_record: bool,
    ) {
        let special = after.special.is_some_and(|sp| sp.is_active_in(self.month.next()));
        let key = (entities.get(customer.legal_entity), after.status, after.effective_tier, special);
        *self.standing.entry(key).or_default() += 1;
        *self.migration.entry((before, after.effective_tier)).or_default() += 1;
        self.customers += 1;
        self.without_row += u64::from(!has_record);
        self.vip += u64::from(after.effective_tier.is_some());
    }

    pub(crate) fn finish(self, entities: &Entities) -> MonthSummary {
        let mut by_legal_entity: BTreeMap<String, EntityCounts> = BTreeMap::new();
        for ((entity, status, tier, special), n) in self.standing {
            let code = entities.codes.get(entity as usize).cloned().unwrap_or_default();
            let e = by_legal_entity.entry(code).or_default();
            e.customers += n;
            *e.status.entry(status.as_str().to_string()).or_default() += n;
            if let Some(t) = tier {
                *e.effective_tier.entry(t.to_string()).or_default() += n;
            }
            if special {
                e.special_vip += n;
            }
        }
        let mut migration: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for ((from, to), n) in self.migration {
            *migration.entry(tier_key(from)).or_default().entry(tier_key(to)).or_default() += n;
        }
        let owned = |m: BTreeMap<&'static str, u64>| m.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        MonthSummary {
            month: self.month,
            effective_from: self.month.next(),
            customers: self.customers,
            without_row: self.without_row,
            rejected: self.rejected,
            vip: self.vip,
            by_legal_entity,
            migration,
            events: owned(self.events),
            alerts: owned(self.alerts),
        }
    }
}

fn tier_key(t: Option<TierCode>) -> String {
    t.map_or_else(|| "none".to_string(), |t| t.to_string())
}

impl RunSummary {
    pub(crate) fn new(book: &RuleBook, source: &str, legal_entity_names: BTreeMap<String, String>) -> Self {
        RunSummary {
            rule_book: book.name().to_string(),
            rule_book_source: source.to_string(),
            state_schema_version: STATE_SCHEMA_VERSION,
            tiers: tier_names(book),
            legal_entity_names,
            customers: 0,
            bad_rows: 0,
            rejected: 0,
            events: BTreeMap::new(),
            alerts: BTreeMap::new(),
            months: Vec::new(),
        }
    }

    pub(crate) fn add_month(&mut self, m: MonthSummary) {
        for (k, n) in &m.events {
            *self.events.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &m.alerts {
            *self.alerts.entry(k.clone()).or_default() += n;
        }
        self.rejected += m.rejected;
        self.months.push(m);
    }

    fn tier_label(&self, code: &str) -> String {
        match self.tiers.iter().find(|t| t.code == code) {
            Some(t) if !t.name_zh.is_empty() => format!("{} {}", t.name_zh, t.name_en),
            _ if code == "none" => "未评级 none".to_string(),
            _ => code.to_string(),
        }
    }

    /// The human summary printed after a run.
    pub(crate) fn render(&self) -> String {
        let mut s = String::new();
        let first = self.months.first().map(|m| m.month.to_string()).unwrap_or_default();
        let last = self.months.last().map(|m| m.month.to_string()).unwrap_or_default();
        let _ = writeln!(
            s,
            "crm-tiering run: {} month(s) {first}..{last}, {} customers, rule book \"{}\" ({})",
            self.months.len(),
            self.customers,
            self.rule_book,
            self.rule_book_source
        );
        if self.bad_rows > 0 || self.rejected > 0 {
            let _ = writeln!(
                s,
                "rejected: {} bad record(s), {} customer(s) held back: state kept, not evaluated (see rejects.csv)",
                self.bad_rows, self.rejected
            );
        }
        let _ = writeln!(s);
        let mut t = Table::new(&["month", "customers", "no row", "VIP", "events", "alerts", "rejected"]);
        for m in &self.months {
            t.row(vec![
                m.month.to_string(),
                m.customers.to_string(),
                m.without_row.to_string(),
                m.vip.to_string(),
                m.events.values().sum::<u64>().to_string(),
                m.alerts.values().sum::<u64>().to_string(),
                m.rejected.to_string(),
            ]);
        }
        s.push_str(&t.render());
        let Some(m) = self.months.last() else { return s };

        self.render_standing(&mut s, m);
        self.render_migration(&mut s, m);
        self.render_events(&mut s, m);
        s
    }

    /// The standing per legal entity after the last month `m`.
    fn render_standing(&self, s: &mut String, m: &MonthSummary) {
        let _ =
            writeln!(s, "\nStanding per legal entity (法人机构) after {}, effective {}:", m.month, m.effective_from);
        let mut head: Vec<String> = vec!["legal entity".into(), "customers".into()];
        let statuses = [Status::NotEnrolled, Status::Rated, Status::Retained];
        head.extend(statuses.iter().map(|st| format!("{} {}", st.name_zh(), st.as_str())));
        head.extend(self.tiers.iter().map(|t| t.name_zh.clone()));
        head.push("特殊VIP".into());
        let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
        let mut t = Table::new(&head_refs);
        let mut total = EntityCounts::default();
        for (code, e) in &m.by_legal_entity {
            let name = self.legal_entity_names.get(code).map(|n| format!("{code} {n}")).unwrap_or_else(|| code.clone());
            t.row(entity_row(name, e, &statuses, &self.tiers));
            total.customers += e.customers;
            total.special_vip += e.special_vip;
            for (k, v) in &e.status {
                *total.status.entry(k.clone()).or_default() += v;
            }
            for (k, v) in &e.effective_tier {
                *total.effective_tier.entry(k.clone()).or_default() += v;
            }
        }
        t.row(entity_row("total 合计".into(), &total, &statuses, &self.tiers));
        s.push_str(&t.render());
        let _ = writeln!(s, "(tier columns count the effective tier: the rated tier or an active special VIP tier)");
    }

    /// The effective tier migration of the last month `m`.
    fn render_migration(&self, s: &mut String, m: &MonthSummary) {
        let _ = writeln!(
            s,
            "\nEffective tier migration {} -> {} (rows: before, columns: after):",
            m.month, m.effective_from
        );
        let mut codes: Vec<String> = vec!["none".into()];
        codes.extend(self.tiers.iter().map(|t| t.code.clone()));
        for (from, tos) in &m.migration {
            for k in std::iter::once(from).chain(tos.keys()) {
                if !codes.contains(k) {
                    codes.push(k.clone());
                }
            }
        }
        let mut head: Vec<String> = vec!["from \\ to".into()];
        head.extend(codes.iter().map(|c| self.tier_label(c)));
        let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
        let mut t = Table::new(&head_refs);
        for from in &codes {
            let Some(tos) = m.migration.get(from) else { continue };
            let mut row = vec![self.tier_label(from)];
            row.extend(codes.iter().map(|to| tos.get(to).map_or_else(|| ".".to_string(), u64::to_string)));
            t.row(row);
        }
        s.push_str(&t.render());
    }

    /// The events and alerts of the last month `m` and of the whole run.
    fn render_events(&self, s: &mut String, m: &MonthSummary) {
        let _ = writeln!(s, "\nEvents ({}; whole run):", m.month);
        let mut t = Table::new(&["event", "", "this month", "whole run"]);
        for k in EventKind::ALL {
            let run = self.events.get(k.as_str()).copied().unwrap_or(0);
            let month = m.events.get(k.as_str()).copied().unwrap_or(0);
            if run > 0 {
                t.row(vec![k.as_str().into(), k.name_zh().into(), month.to_string(), run.to_string()]);
            }
        }
        s.push_str(&t.render());
        let _ = writeln!(s, "\nAlerts for the account managers:");
        let mut t = Table::new(&["alert", "", "this month", "whole run"]);
        for k in AlertKind::ALL {
            let run = self.alerts.get(k.as_str()).copied().unwrap_or(0);
            let month = m.alerts.get(k.as_str()).copied().unwrap_or(0);
            if run > 0 {
                t.row(vec![k.as_str().into(), k.name_zh().into(), month.to_string(), run.to_string()]);
            }
        }
        s.push_str(&t.render());
    }
}

fn entity_row(name: String, e: &EntityCounts, statuses: &[Status], tiers: &[TierName]) -> Vec<String> {
    let mut row = vec![name, e.customers.to_string()];
    row.extend(statuses.iter().map(|st| e.status.get(st.as_str()).copied().unwrap_or(0).to_string()));
    row.extend(tiers.iter().map(|t| e.effective_tier.get(&t.code).copied().unwrap_or(0).to_string()));
    row.push(e.special_vip.to_string());
    row
}

/// The display width of text: CJK and full-width characters take two columns.
pub(crate) fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            let wide = (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u);
            if wide { 2 } else { 1 }
        })
        .sum()
}

/// A plain text table: the first column left-aligned, the others right-aligned.
pub(crate) struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(head: &[&str]) -> Self {
        Table { rows: vec![head.iter().map(|h| h.to_string()).collect()] }
    }

    pub(crate) fn row(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub(crate) fn render(&self) -> String {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> =
            (0..cols).map(|c| self.rows.iter().filter_map(|r| r.get(c)).map(|v| width(v)).max().unwrap_or(0)).collect();
        let mut s = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (c, v) in row.iter().enumerate() {
                let pad = widths[c].saturating_sub(width(v));
                if c == 0 {
                    line.push_str(v);
                    line.push_str(&" ".repeat(pad));
                } else {
                    line.push_str("  ");
                    line.push_str(&" ".repeat(pad));
                    line.push_str(v);
                }
            }
            s.push_str(line.trim_end());
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_chinese_text() {
        assert_eq!(width("金卡 Gold"), 9);
        let mut t = Table::new(&["a", "b"]);
        t.row(vec!["兰州".into(), "1".into()]);
        assert_eq!(t.render(), "a     b\n兰州  1\n");
    }
}
