//! What the report shows, read from the store: the standing of month M per legal entity, the
//! migration from the previous committed month, the tier counts of every committed month up to
//! M, and the events and alerts of M. Every collection is ordered (no hash order reaches the
//! page), so the same store gives the same report.

use std::collections::{BTreeMap, BTreeSet};

use crm_tiering::{Alert, AlertKind, EventKind, Month, RuleBook, TierCode};
use crm_tiering_store::{MonthRecord, StateRow, Store};
use rustc_hash::FxHashMap as HashMap;

use crate::exit::Failure;
use crate::store::{failure, not_committed};
use crate::summary::tier_names;

/// The alert kinds of the near-threshold table (临界客户).
pub(crate) const NEAR_THRESHOLD: [AlertKind; 3] =
    [AlertKind::UpgradeOpportunity, AlertKind::DowngradeRisk, AlertKind::PotentialVip];

/// A tier as the report shows it: its code (none for "not VIP") and its display names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TierLabel {
    /// The code; none for customers without an effective tier.
    pub(crate) code: Option<TierCode>,
    /// Chinese name (金卡; 非VIP).
    pub(crate) zh: String,
    /// English name (Gold; not VIP).
    pub(crate) en: String,
}

impl TierLabel {
    /// "金卡 Gold", or the code alone when the rule book gives no names.
    pub(crate) fn both(&self) -> String {
        if self.zh == self.en { self.zh.clone() } else { format!("{} {}", self.zh, self.en) }
    }
}

/// A customer's identity and standing after month M, kept for the customers with an alert.
#[derive(Debug, Clone, Default)]
pub(crate) struct Standing {
    /// The legal entity code, if any.
    pub(crate) legal_entity: Option<String>,
    /// The effective tier after M.
    pub(crate) tier: Option<TierCode>,
}

/// One alert of month M with its customer.
#[derive(Debug, Clone)]
pub(crate) struct AlertItem {
    /// The customer id.
    pub(crate) customer_id: String,
    /// The alert.
    pub(crate) alert: Alert,
}

/// Everything the report draws.
#[derive(Debug, Clone)]
pub(crate) struct ReportData {
    /// The month reported.
    pub(crate) month: Month,
    /// Its record in the store's chain (run, committed time).
    pub(crate) record: MonthRecord,
    /// The store's portfolio id.
    pub(crate) portfolio_id: String,
    /// The name of the rule book of the committing run.
    pub(crate) rule_book: String,
    /// The tiers in display order: not VIP first, then the rule book's tiers lowest first,
    /// then codes the book does not name (in code order).
    pub(crate) tiers: Vec<TierLabel>,
    /// Per legal entity (none for customers without one), customers per tier index.
    pub(crate) entities: Vec<(Option<String>, Vec<u64>)>,
    /// The committed month before M, if any.
    pub(crate) previous: Option<Month>,
    /// Customers by (tier index in the previous month, tier index in M).
    pub(crate) migration: Vec<Vec<u64>>,
    /// Every committed month up to M with its customers per tier index.
    pub(crate) history: Vec<(Month, Vec<u64>)>,
    /// Events of M per kind, every kind in code order of declaration.
    pub(crate) events: Vec<(EventKind, u64)>,
    /// Alerts of M per kind, every kind in order of declaration.
    pub(crate) alerts: Vec<(AlertKind, u64)>,
    /// The alerts of M, by customer.
    pub(crate) alert_items: Vec<AlertItem>,
    /// The standing after M of each customer with an alert.
    pub(crate) standings: BTreeMap<String, Standing>,
}

impl ReportData {
    /// The display label of a tier code (the code itself when the axis does not list it).
    pub(crate) fn tier_label(&self, code: Option<TierCode>) -> String {
        match self.tiers.iter().find(|t| t.code == code) {
            Some(t) => t.both(),
            None => code.map(|c| c.to_string()).unwrap_or_default(),
        }
    }

    /// Customers after M.
    pub(crate) fn customers(&self) -> u64 {
        self.history.last().map_or(0, |(_, c)| c.iter().sum())
    }
}

/// The tallies made while the states stream by.
#[derive(Default)]
struct Tally {
    /// Per month, customers per effective tier.
    history: BTreeMap<Month, BTreeMap<Option<TierCode>, u64>>,
    /// Per legal entity, customers per effective tier after M.
    entities: BTreeMap<Option<String>, BTreeMap<Option<TierCode>, u64>>,
    /// The previous month's effective tier of each customer with one (others had none).
    previous: HashMap<String, TierCode>,
    /// (tier before, tier after) -> customers.
    migration: BTreeMap<(Option<TierCode>, Option<TierCode>), u64>,
    /// The standing after M of the customers with an alert (filled in from the stream).
    standings: BTreeMap<String, Standing>,
}

impl Tally {
    fn add(&mut self, row: StateRow, month: Month, previous: Option<Month>) {
        let tier = row.state.effective_tier;
        *self.history.entry(row.month).or_default().entry(tier).or_default() += 1;
        if Some(row.month) == previous {
            if let Some(t) = tier {
                self.previous.insert(row.customer.id, t);
            }
        } else if row.month == month {
            let entity = row.customer.legal_entity;
            *self.entities.entry(entity.clone()).or_default().entry(tier).or_default() += 1;
            if previous.is_some() {
                let before = self.previous.get(&row.customer.id).copied();
                *self.migration.entry((before, tier)).or_default() += 1;
            }
            if let Some(s) = self.standings.get_mut(&row.customer.id) {
                *s = Standing { legal_entity: entity, tier };
            }
        }
    }
}

/// Reads month `month` of the store (which must be committed) and everything the report shows.
///
/// # Errors
/// A usage failure naming the month when it is not committed; a store failure.
pub(crate) fn read(store: &mut Store, month: Month) -> Result<ReportData, Failure> {
    let months = store.months().map_err(failure)?;
    let Some(record) = months.iter().find(|r| r.month == month).cloned() else {
        return Err(not_committed(store, month, &months, "report"));
    };
    let previous = months.iter().map(|r| r.month).filter(|m| *m < month).max();
    let first = months.first().map_or(month, |r| r.month);
    let book = rule_book(store, record.run_id)?;

    let events = store.events(month, month).map_err(failure)?;
    let alerts = store.alerts(month, month).map_err(failure)?;
    let mut tally = Tally::default();
    for a in &alerts {
        tally.standings.insert(a.customer_id.clone(), Standing::default());
    }
    let mut each = |row: StateRow| {
        tally.add(row, month, previous);
        Ok(())
    };
    store.for_each_state(first, month, &mut each).map_err(failure)?;

    let tiers = tier_axis(book.as_ref(), &tally);
    let index = |code: Option<TierCode>| tiers.iter().position(|t| t.code == code).unwrap_or(0);
    let per_tier = |counts: &BTreeMap<Option<TierCode>, u64>| {
        let mut v = vec![0u64; tiers.len()];
        for (code, n) in counts {
            if let Some(slot) = v.get_mut(index(*code)) {
                *slot += n;
            }
        }
        v
    };
    let entities = tally.entities.iter().map(|(e, c)| (e.clone(), per_tier(c))).collect();
    let history = tally.history.iter().map(|(m, c)| (*m, per_tier(c))).collect();
    let mut migration = vec![vec![0u64; tiers.len()]; tiers.len()];
    for ((from, to), n) in &tally.migration {
        if let Some(cell) = migration.get_mut(index(*from)).and_then(|r| r.get_mut(index(*to))) {
            *cell += n;
        }
    }
    let event_counts =
        EventKind::ALL.iter().map(|k| (*k, events.iter().filter(|e| e.event.kind == *k).count() as u64)).collect();
    let alert_counts =
        AlertKind::ALL.iter().map(|k| (*k, alerts.iter().filter(|a| a.alert.kind == *k).count() as u64)).collect();
    Ok(ReportData {
        month,
        record,
        portfolio_id: store.portfolio_id().to_string(),
        rule_book: book.as_ref().map(|b| b.name().to_string()).unwrap_or_default(),
        tiers,
        entities,
        previous,
        migration,
        history,
        events: event_counts,
        alerts: alert_counts,
        alert_items: alerts.into_iter().map(|a| AlertItem { customer_id: a.customer_id, alert: a.alert }).collect(),
        standings: tally.standings,
    })
}

/// The rule book of the run that committed the month; none when the store has no text for it
/// (tiers are then shown by code).
fn rule_book(store: &mut Store, run_id: i64) -> Result<Option<RuleBook>, Failure> {
    let Some(text) = store.run_rule_book(run_id).map_err(failure)? else { return Ok(None) };
    RuleBook::from_str_auto(&text)
        .map(Some)
        .map_err(|e| Failure::internal(format!("the rule book of run {run_id} does not load: {e}")))
}

/// Not VIP, the book's tiers lowest first, then any other code seen, in code order.
fn tier_axis(book: Option<&RuleBook>, tally: &Tally) -> Vec<TierLabel> {
    let mut tiers = vec![TierLabel { code: None, zh: "非VIP".into(), en: "not VIP".into() }];
    for t in book.map(tier_names).unwrap_or_default() {
        let Ok(code) = t.code.parse::<TierCode>() else { continue };
        let zh = if t.name_zh.is_empty() { t.code.clone() } else { t.name_zh };
        let en = if t.name_en.is_empty() { t.code.clone() } else { t.name_en };
        tiers.push(TierLabel { code: Some(code), zh, en });
    }
    let mut seen: BTreeSet<TierCode> = BTreeSet::new();
    for counts in tally.history.values() {
        seen.extend(counts.keys().flatten());
    }
    seen.extend(tally.migration.keys().flat_map(|(a, b)| [*a, *b]).flatten());
    for code in seen {
        if !tiers.iter().any(|t| t.code == Some(code)) {
            tiers.push(TierLabel { code: Some(code), zh: code.to_string(), en: code.to_string() });
        }
    }
    tiers
}
