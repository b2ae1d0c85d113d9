//! A customer's history (SPEC §19.5): the values of the months before the evaluated one that
//! a rule book's windows read, and nothing for a book without windows.
//!
//! The engine holds a customer's history as a slice of whole fen in a fixed layout per rule
//! book ([`HistoryLayout`]): for each measure some window reads, its values newest first (the
//! state's last month first). A [`History`] is the same values by measure code, the form the
//! states text, the store and the single-customer API carry, so that a history written under
//! one book reads under another.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::code::{MeasureCode, TierCode};
use crate::error::{StateError, TieringError};
use crate::money::{from_fen, to_fen};
use crate::month::Month;
use crate::rules::{NO_VALUE, RuleBook, RuleVersion};
use crate::state::CustomerState;

mod month;

pub(crate) use month::MonthWindows;

/// Where each windowed measure's months sit in a customer's history slice: the measures any
/// version of a rule book reads over a window, each with the longest look-back of its windows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryLayout {
    measures: Vec<(MeasureCode, usize)>,
    /// The months of qualified tiers kept for `highest_over` (SPEC §19.4), after the measures.
    tiers: usize,
    /// Whether the lifecycle stage and its first month are kept (SPEC §23.2), last.
    stage: bool,
    stride: usize,
}

impl HistoryLayout {
    /// The layout of the windows of `versions`.
    pub(crate) fn of_versions<'v>(versions: impl Iterator<Item = &'v RuleVersion> + Clone) -> Self {
        let mut measures: Vec<(MeasureCode, usize)> = Vec::new();
        let tiers = versions.clone().filter_map(|v| v.settings.downgrade_window).max().map_or(0, |k| k as usize - 1);
        let stage = versions.clone().any(|v| v.lifecycle.is_some());
        for slot in versions.flat_map(|v| v.windows.iter()) {
            let depth = slot.window.look_back();
            match measures.iter_mut().find(|(code, _)| *code == slot.code) {
                Some((_, d)) => *d = (*d).max(depth),
                None => measures.push((slot.code, depth)),
            }
        }
        HistoryLayout::new(measures, tiers, stage)
    }

    fn new(mut measures: Vec<(MeasureCode, usize)>, tiers: usize, stage: bool) -> Self {
        measures.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let stride = measures.iter().map(|(_, d)| d).sum::<usize>() + tiers + STAGE_SLOTS * usize::from(stage);
        HistoryLayout { measures, tiers, stage, stride }
    }

    /// This layout with room for every month of `history` too: the union of their measures,
    /// each with the longer of the two depths.
    pub(crate) fn widened(&self, history: &History) -> Self {
        let mut measures = self.measures.clone();
        for (code, months) in &history.measures {
            match measures.iter_mut().find(|(c, _)| c == code) {
                Some((_, d)) => *d = (*d).max(months.len()),
                None => measures.push((*code, months.len())),
            }
        }
        HistoryLayout::new(measures, self.tiers.max(history.tiers.len()), self.stage || history.stage.is_some())
    }

    /// The values one customer keeps: 0 for a book without windows.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Whether the book keeps no history.
    pub fn is_empty(&self) -> bool {
        self.stride == 0
    }

    /// The measures kept and how many months of each, in layout order.
    pub fn measures(&self) -> impl Iterator<Item = (MeasureCode, usize)> + '_ {
        self.measures.iter().copied()
    }

    /// How many months of qualified tiers are kept for `highest_over` (0 without it).
    pub fn tier_months(&self) -> usize {
        self.tiers
    }

    /// Where the tiers' months are in a customer's slice.
    fn tier_range(&self) -> std::ops::Range<usize> {
        let end = self.stride - STAGE_SLOTS * usize::from(self.stage);
        end - self.tiers..end
    }

    /// Where the lifecycle stage and its first month are in a customer's slice (empty when the
    /// layout keeps no stage).
    pub(crate) fn stage_range(&self) -> std::ops::Range<usize> {
        if self.stage { self.stride - STAGE_SLOTS..self.stride } else { self.stride..self.stride }
    }

    /// The lifecycle stage a customer's slice keeps, with its first month (SPEC §23.2).
    pub(crate) fn stage_of(&self, slice: &[i64]) -> Option<(TierCode, Month)> {
        match slice.get(self.stage_range()) {
            Some(&[code, since]) => Some((TierCode::from_slot(code)?, Month::from_yyyymm(since).ok()?)),
            _ => None,
        }
    }

    /// Keeps `stage` (with its first month) in a customer's slice; nothing when the layout
    /// keeps no stage.
    pub(crate) fn set_stage(&self, slice: &mut [i64], stage: Option<(TierCode, Month)>) {
        if let Some([code, since]) = slice.get_mut(self.stage_range()).and_then(|s| <&mut [i64; 2]>::try_from(s).ok()) {
            (*code, *since) = stage.map_or((NO_VALUE, NO_VALUE), |(c, m)| (c.slot(), m.yyyymm()));
        }
    }

    /// The qualified tiers of the `n` months before the evaluated one that `history` keeps,
    /// newest first (months with none left out).
    pub(crate) fn recent_tiers<'h>(&self, history: &'h [i64], n: usize) -> impl Iterator<Item = TierCode> + 'h {
        let months = history.get(self.tier_range()).unwrap_or(&[]);
        months.iter().take(n).filter_map(|&slot| TierCode::from_slot(slot))
    }

    /// Where `code`'s months are: `(offset, months)`.
    fn find(&self, code: MeasureCode) -> Option<(usize, usize)> {
        let mut offset = 0;
        for &(c, depth) in &self.measures {
            if c == code {
                return Some((offset, depth));
            }
            offset += depth;
        }
        None
    }

    /// A new customer's history: no month has a value.
    pub(crate) fn fresh(&self) -> Vec<i64> {
        vec![NO_VALUE; self.stride]
    }

    /// A customer's history slice in this layout as a [`History`].
    pub(crate) fn to_history(&self, slice: &[i64]) -> History {
        let mut out = History::default();
        let mut offset = 0;
        for &(code, depth) in &self.measures {
            let months = slice.get(offset..offset + depth).unwrap_or(&[]);
            let last = months.iter().rposition(|&v| v != NO_VALUE);
            if let Some(last) = last {
                out.measures.push((code, months.get(..=last).unwrap_or(&[]).to_vec()));
            }
            offset += depth;
        }
        let tiers = slice.get(self.tier_range()).unwrap_or(&[]);
        if let Some(last) = tiers.iter().rposition(|&v| v != NO_VALUE) {
            out.tiers = tiers.get(..=last).unwrap_or(&[]).to_vec();
        }
        out.stage = self.stage_of(slice);
        out
    }

    /// A [`History`] in this layout, into `slice`: months a measure does not keep here are
    /// dropped, and months the history lacks have no value.
    pub(crate) fn fill(&self, history: &History, slice: &mut [i64]) {
        slice.fill(NO_VALUE);
        for (code, months) in &history.measures {
            if let Some((at, depth)) = self.find(*code)
                && let Some(dest) = slice.get_mut(at..at + depth)
            {
                for (d, s) in dest.iter_mut().zip(months) {
                    *d = *s;
                }
            }
        }
        if let Some(dest) = slice.get_mut(self.tier_range()) {
            for (d, s) in dest.iter_mut().zip(&history.tiers) {
                *d = *s;
            }
        }
        self.set_stage(slice, history.stage);
    }
}

/// One customer's history by measure: for each measure, the values of the months before the
/// next evaluated one, newest first (the state's last month first), `None` for a month with no
/// value. Empty for a customer of a book without windows, and for a new customer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct History {
    measures: Vec<(MeasureCode, Vec<i64>)>,
    /// The qualified tiers of the months, newest first, as code slots (`highest_over`).
    tiers: Vec<i64>,
    /// The lifecycle stage after the last month and its first month (SPEC §23.2).
    stage: Option<(TierCode, Month)>,
}

impl History {
    /// No month of any measure.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no month has a value.
    pub fn is_empty(&self) -> bool {
        self.measures.is_empty() && self.tiers.is_empty() && self.stage.is_none()
    }

    /// The lifecycle stage after the last evaluated month and the month it began (SPEC §23.2);
    /// none for a book without a lifecycle or a customer without a stage yet.
    pub fn stage(&self) -> Option<(TierCode, Month)> {
        self.stage
    }

    /// Sets the lifecycle stage and the month it began.
    pub fn set_stage(&mut self, stage: Option<(TierCode, Month)>) {
        self.stage = stage;
    }

    /// The tiers the months qualified for, newest first (`None`: no tier, or no month), kept
    /// for `downgrade_target = "highest_over"` (SPEC §19.4).
    pub fn tiers(&self) -> Vec<Option<TierCode>> {
        self.tiers.iter().map(|&slot| TierCode::from_slot(slot)).collect()
    }

    /// Sets the tiers the months qualified for, newest first (at most 23).
    ///
    /// # Errors
    /// [`StateError::Malformed`] for more than 23 months.
    pub fn set_tiers(&mut self, tiers: &[Option<TierCode>]) -> Result<(), TieringError> {
        if tiers.len() > MAX_MONTHS {
            let why = format!("{} months of tiers, more than the {MAX_MONTHS} any window reads", tiers.len());
            return Err(StateError::Malformed(format!("history: {why}")).into());
        }
        self.tiers = tiers.iter().map(|t| t.map_or(NO_VALUE, TierCode::slot)).collect();
        while self.tiers.last() == Some(&NO_VALUE) {
            self.tiers.pop();
        }
        Ok(())
    }

    /// The measures with months, in code order.
    pub fn measures(&self) -> impl Iterator<Item = MeasureCode> + '_ {
        self.measures.iter().map(|(c, _)| *c)
    }

    /// A measure's months, newest first: the amount, or `None` for a month without a value.
    pub fn months(&self, code: MeasureCode) -> Vec<Option<Decimal>> {
        self.measures
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, m)| m.iter().map(|&v| (v != NO_VALUE).then(|| from_fen(v))).collect())
            .unwrap_or_default()
    }

    /// Sets a measure's months, newest first (at most 23 are read by any window).
    ///
    /// # Errors
    /// [`StateError::Malformed`] for an amount that is not whole fen or is outside the
    /// amounts' bounds, or more than 23 months.
    pub fn set_months(&mut self, code: MeasureCode, months: &[Option<Decimal>]) -> Result<(), TieringError> {
        if months.len() > MAX_MONTHS {
            return Err(malformed(
                code,
                format!("{} months, more than the {MAX_MONTHS} any window reads", months.len()),
            ));
        }
        let mut fen = Vec::with_capacity(months.len());
        for (k, m) in months.iter().enumerate() {
            fen.push(match m {
                None => NO_VALUE,
                Some(v) if v.abs() > crate::money::MAX_AMOUNT => {
                    return Err(malformed(code, format!("month {k}: amount {v} is outside the amounts' bounds")));
                }
                Some(v) => {
                    to_fen(*v).ok_or_else(|| malformed(code, format!("month {k}: amount {v} is not whole fen")))?
                }
            });
        }
        while fen.last() == Some(&NO_VALUE) {
            fen.pop();
        }
        self.measures.retain(|(c, _)| *c != code);
        if !fen.is_empty() {
            self.measures.push((code, fen));
            self.measures.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        }
        Ok(())
    }

    /// The JSON form, `{"aum": ["5800000.00", null, ...]}` (newest first), as the states text
    /// and the store keep it; `{}` when empty.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_map()).unwrap_or_default()
    }

    /// The history as the output tables' `history` cell (SPEC §15.10): the text of
    /// [`History::to_json`], the `history` member of the state's JSON, or none when the history
    /// is empty (a book without windows, a new customer).
    ///
    /// ```
    /// use crm_tiering::{Decimal, History};
    /// let mut h = History::new();
    /// assert_eq!(h.to_cell(), None);
    /// h.set_months("aum".parse()?, &[Some(Decimal::new(580_000_000, 2)), None, Some(Decimal::ONE)])?;
    /// assert_eq!(h.to_cell().as_deref(), Some(r#"{"aum":["5800000.00",null,"1.00"]}"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_cell(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.to_json())
    }

    pub(crate) fn to_map(&self) -> BTreeMap<String, Vec<Option<String>>> {
        let amount = |v: i64| (v != NO_VALUE).then(|| from_fen(v).to_string());
        let mut map: BTreeMap<String, Vec<Option<String>>> = self
            .measures
            .iter()
            .map(|(c, m)| (c.as_str().to_string(), m.iter().map(|&v| amount(v)).collect()))
            .collect();
        if !self.tiers.is_empty() {
            map.insert(TIERS_KEY.to_string(), self.tiers().iter().map(|t| t.map(|t| t.to_string())).collect());
        }
        if let Some((code, since)) = self.stage {
            map.insert(STAGE_KEY.to_string(), vec![Some(code.to_string()), Some(since.to_string())]);
        }
        map
    }

    /// Reads the JSON form of [`History::to_json`].
    ///
    /// # Errors
    /// [`StateError::Malformed`] naming the measure for anything else.
    pub fn from_json(text: &str) -> Result<Self, TieringError> {
        let map: BTreeMap<String, Vec<Option<String>>> =
            serde_json::from_str(text).map_err(|e| StateError::Malformed(format!("history: {e}")))?;
        Self::from_map(map)
    }

    pub(crate) fn from_map(map: BTreeMap<String, Vec<Option<String>>>) -> Result<Self, TieringError> {
        let mut out = History::default();
        for (code, months) in map {
            if code == STAGE_KEY {
                out.stage = Some(stage_of_cell(&months)?);
                continue;
            }
            if code == TIERS_KEY {
                let tiers: Result<Vec<Option<TierCode>>, _> =
                    months.iter().map(|t| t.as_deref().map(TierCode::new).transpose()).collect();
                out.set_tiers(&tiers.map_err(|e| StateError::Malformed(format!("history: tier: {e}")))?)?;
                continue;
            }
            let code: MeasureCode =
                code.parse().map_err(|e| StateError::Malformed(format!("history: measure `{code}`: {e}")))?;
            let mut values = Vec::with_capacity(months.len());
            for (k, m) in months.iter().enumerate() {
                values.push(match m {
                    None => None,
                    Some(text) => {
                        Some(crate::parse_amount(text).map_err(|e| malformed(code, format!("month {k}: {e}")))?)
                    }
                });
            }
            out.set_months(code, &values)?;
        }
        Ok(out)
    }
}

/// Many customers' histories, beside a slice of their states (SPEC §19.5): one fixed stride of
/// whole fen per customer in the layout of the rule book that last evaluated them (customer
/// `i`'s is `values[i * stride..(i + 1) * stride]`; a customer past the end has none yet).
/// What [`PortfolioStates`](crate::portfolio::PortfolioStates) keeps, and what a caller of
/// [`Engine::evaluate_batch_with_history`](crate::Engine::evaluate_batch_with_history) keeps
/// beside its states. Empty, and free, for a book without windows.
#[derive(Debug, Clone, Default)]
pub struct Histories {
    layout: HistoryLayout,
    values: Vec<i64>,
}

impl Histories {
    /// No histories.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no customer has a history kept (a book without windows).
    pub fn is_empty(&self) -> bool {
        self.layout.is_empty()
    }

    fn slice(&self, index: usize) -> &[i64] {
        let n = self.layout.stride();
        self.values.get(index * n..(index + 1) * n).unwrap_or(&[])
    }

    /// The history of customer `index` (empty past the end).
    pub fn get(&self, index: usize) -> History {
        self.layout.to_history(self.slice(index))
    }

    /// Sets the history of customer `index` of `customers`, widening the layout when the
    /// history keeps a measure or months the layout does not.
    pub fn set(&mut self, index: usize, customers: usize, history: &History) {
        let wider = self.layout.widened(history);
        let customers = customers.max(index + 1);
        self.relayout(&wider, customers);
        let n = self.layout.stride();
        if let Some(dest) = self.values.get_mut(index * n..(index + 1) * n) {
            self.layout.fill(history, dest);
        }
    }

    /// Every customer's history in `layout` instead, `customers` long.
    fn relayout(&mut self, layout: &HistoryLayout, customers: usize) {
        if self.layout == *layout {
            self.values.resize(customers * layout.stride(), NO_VALUE);
            return;
        }
        let mut values = vec![NO_VALUE; customers * layout.stride()];
        // A layout that keeps nothing (the first month, or a book without windows before) has
        // no month to carry over: every history is empty, as `values` already says.
        if layout.stride() > 0 && !self.layout.is_empty() {
            for (i, dest) in values.chunks_exact_mut(layout.stride()).enumerate() {
                layout.fill(&self.get(i), dest);
            }
        }
        *self = Histories { layout: layout.clone(), values };
    }

    /// The `customers` histories in the layout of `book`'s windows, for an evaluation:
    /// histories kept in another layout are carried over by measure code.
    pub fn conformed(&mut self, book: &RuleBook, customers: usize) -> &mut [i64] {
        self.relayout(book.history_layout(), customers);
        &mut self.values
    }
}

impl CustomerState {
    /// The state and its customer's history as one JSON text: the state's JSON
    /// ([`CustomerState::to_json`]) with a `history` member ([`History::to_json`]'s form) when
    /// the history is not empty. What a caller that keeps one customer between months stores.
    pub fn to_json_with_history(&self, history: &History) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let (Some(map), false) = (value.as_object_mut(), history.is_empty()) {
            map.insert("history".into(), serde_json::to_value(history.to_map()).unwrap_or_default());
        }
        value.to_string()
    }

    /// Reads the text of [`CustomerState::to_json_with_history`] (or of
    /// [`CustomerState::to_json`], with an empty history).
    ///
    /// # Errors
    /// As [`CustomerState::from_json`], and [`StateError::Malformed`] for a history that is not
    /// one.
    pub fn from_json_with_history(text: &str) -> Result<(CustomerState, History), TieringError> {
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| StateError::Malformed(e.to_string()))?;
        let history = match value.as_object_mut().and_then(|m| m.remove("history")) {
            None | Some(serde_json::Value::Null) => History::new(),
            Some(h) => History::from_map(
                serde_json::from_value(h).map_err(|e| StateError::Malformed(format!("history: {e}")))?,
            )?,
        };
        Ok((CustomerState::from_json(&value.to_string())?, history))
    }
}

/// The key of the qualified tiers in a history's JSON (a code no measure may have).
pub(crate) const TIERS_KEY: &str = "tier";

/// The key of the lifecycle stage in a history's JSON, `[code, first month]` (a code no measure
/// may have).
pub(crate) const STAGE_KEY: &str = "stage";

/// The values a kept stage takes in a customer's slice: its code and its first month.
const STAGE_SLOTS: usize = 2;

/// The stage of a history's JSON: `[code, "YYYY-MM"]`.
fn stage_of_cell(cell: &[Option<String>]) -> Result<(TierCode, Month), TieringError> {
    let bad = |why: String| StateError::Malformed(format!("history: stage: {why}"));
    let [Some(code), Some(since)] = cell else {
        return Err(bad("expected [code, first month]".into()).into());
    };
    let code = TierCode::new(code).map_err(|e| bad(e.to_string()))?;
    let since: Month = since.parse().map_err(|e: crate::parse::ParseError| bad(e.to_string()))?;
    Ok((code, since))
}

/// The most months before the evaluated one any window reads (`avg_24`, `max_24`).
const MAX_MONTHS: usize = 23;

fn malformed(code: MeasureCode, why: String) -> TieringError {
    StateError::Malformed(format!("history of `{code}`: {why}")).into()
}
