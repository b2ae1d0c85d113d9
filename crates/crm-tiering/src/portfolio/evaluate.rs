//! Evaluating a portfolio over a declared month or range of months (SPEC §15).

use std::borrow::Cow;
use std::fmt;

use rust_decimal::Decimal;
use rustc_hash::{FxHashMap, FxHashSet};

use super::extract::{Extract, located};
use super::record::{PortfolioFailure, RecordError, RecordRef};
use super::states::PortfolioStates;
use crate::aum::AumInput;
use crate::engine::{BatchOutcome, Customer, CustomerRef, Engine, MonthInput};
use crate::error::{InputError, StateError, TieringError};
use crate::event::{Alert, Event};
use crate::month::Month;
use crate::state::CustomerState;

/// What a known customer without a record in a month means (SPEC §15.3). One policy, the same
/// default on every surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Absent {
    /// The customer held nothing that month: evaluated with zero AUM (default; extracts
    /// usually list only customers with balances).
    #[default]
    Zero,
    /// Not evaluated: the state is kept as it is (the customer will need that month later).
    Hold,
    /// The extract must list everybody: a missing customer is an error and is held back.
    Error,
}

impl Absent {
    /// The code: `zero`, `hold` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Absent::Zero => "zero",
            Absent::Hold => "hold",
            Absent::Error => "error",
        }
    }
}

impl std::str::FromStr for Absent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "zero" => Ok(Absent::Zero),
            "hold" => Ok(Absent::Hold),
            "error" => Ok(Absent::Error),
            other => Err(format!("`{other}` is not an absent-customer policy: expected zero, hold or error")),
        }
    }
}

/// Whether states written under another rule book may be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum RuleBookChange {
    /// Refuse them (default): the run stops with a state error naming `rule_book`.
    #[default]
    Refuse,
    /// Accept them: the caller has mapped retired tiers with `tier_map` and means the change.
    Accept,
}

/// Options of a portfolio evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortfolioOptions {
    /// Customers without a record in a month.
    pub absent: Absent,
    /// States written under another rule book.
    pub rule_book_change: RuleBookChange,
    /// Worker threads for the batch (1 or more; results are the same for any number).
    pub threads: usize,
}

impl Default for PortfolioOptions {
    fn default() -> Self {
        PortfolioOptions { absent: Absent::Zero, rule_book_change: RuleBookChange::Refuse, threads: 1 }
    }
}

/// The declared month, or range of consecutive months, of a portfolio evaluation.
///
/// ```
/// use crm_tiering::portfolio::MonthRange;
/// let r: MonthRange = "2024-01..2024-03".parse()?;
/// assert_eq!(r.months().count(), 3);
/// assert_eq!("2024-03".parse::<MonthRange>()?.to_string(), "2024-03");
/// assert!("2024-03..2024-01".parse::<MonthRange>().is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MonthRange {
    first: Month,
    last: Month,
}

impl MonthRange {
    /// One month.
    ///
    /// # Errors
    /// For 9999-12, which has no next month.
    pub fn single(month: Month) -> Result<Self, String> {
        Self::new(month, month)
    }

    /// `first` to `last`, both included.
    ///
    /// # Errors
    /// When `last` is before `first`, or is 9999-12 (which has no next month).
    pub fn new(first: Month, last: Month) -> Result<Self, String> {
        if last < first {
            return Err(format!("the range {first}..{last} ends before it starts"));
        }
        if last == Month::LAST {
            return Err(format!("{last} cannot be evaluated: it has no next month"));
        }
        Ok(MonthRange { first, last })
    }

    /// The first month.
    pub fn first(&self) -> Month {
        self.first
    }

    /// The last month.
    pub fn last(&self) -> Month {
        self.last
    }

    /// Whether a month is in the range.
    pub fn contains(&self, m: Month) -> bool {
        self.first <= m && m <= self.last
    }

    /// The months, in order.
    pub fn months(&self) -> impl Iterator<Item = Month> + use<> {
        let (first, n) = (self.first, self.last.months_since(self.first));
        (0..=n).map(move |k| first.plus(k))
    }

    fn len(&self) -> usize {
        self.last.months_since(self.first) as usize + 1
    }

    fn offset(&self, m: Month) -> usize {
        m.months_since(self.first) as usize
    }
}

impl fmt::Display for MonthRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last { write!(f, "{}", self.first) } else { write!(f, "{}..{}", self.first, self.last) }
    }
}

impl std::str::FromStr for MonthRange {
    type Err = String;
    /// `YYYY-MM` or `YYYY-MM..YYYY-MM`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let month = |t: &str| t.parse::<Month>().map_err(|e| e.to_string());
        match s.split_once("..") {
            Some((a, b)) => MonthRange::new(month(a)?, month(b)?),
            None => MonthRange::single(month(s)?),
        }
    }
}

/// Receives a portfolio evaluation's results in order: month by month, customer by customer
/// (a customer's events, then its alerts, then [`PortfolioSink::evaluated`]); held customers
/// are reported with [`PortfolioSink::held`] in the month they are first held.
pub trait PortfolioSink {
    /// A month starts.
    fn begin_month(&mut self, _month: Month) {}
    /// An event of the customer at `index` (in the portfolio's states).
    fn event(&mut self, month: Month, index: usize, customer: &Customer, event: &Event);
    /// An alert of the customer at `index`.
    fn alert(&mut self, month: Month, index: usize, customer: &Customer, alert: &Alert);
    /// The customer at `index` was evaluated: its AUM, whether it had a record, its new state.
    fn evaluated(
        &mut self,
        month: Month,
        index: usize,
        customer: &Customer,
        aum: Decimal,
        has_record: bool,
        state: &CustomerState,
    );
    /// A customer is held back from this month on (state kept, nothing emitted), or a record
    /// was refused; `index` is none for a customer the states do not hold.
    fn held(&mut self, month: Month, index: Option<usize>, error: &RecordError);
    /// A month ends.
    fn end_month(&mut self, _month: Month) {}
}

/// A customer evaluated in a month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluated {
    /// The customer's index in the portfolio's states.
    pub index: usize,
    /// The month's AUM.
    pub aum: Decimal,
    /// Whether the customer had a record (false: absent, evaluated at zero).
    pub has_record: bool,
    /// The new state.
    pub state: CustomerState,
}

/// One month of a [`PortfolioOutcome`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PortfolioMonth {
    /// The month.
    pub month: Option<Month>,
    /// Events: (customer index, event), in customer order.
    pub events: Vec<(usize, Event)>,
    /// Alerts: (customer index, alert), in customer order.
    pub alerts: Vec<(usize, Alert)>,
    /// The evaluated customers, in customer order.
    pub evaluated: Vec<Evaluated>,
    /// Customers held back and refused records, in order.
    pub held: Vec<(Option<usize>, RecordError)>,
}

/// The collected results of a portfolio evaluation, one entry per month.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PortfolioOutcome {
    /// The months, in order.
    pub months: Vec<PortfolioMonth>,
}

impl PortfolioOutcome {
    /// Every error, month by month.
    pub fn errors(&self) -> impl Iterator<Item = &RecordError> {
        self.months.iter().flat_map(|m| m.held.iter().map(|(_, e)| e))
    }
}

impl PortfolioSink for PortfolioOutcome {
    fn begin_month(&mut self, month: Month) {
        self.months.push(PortfolioMonth { month: Some(month), ..PortfolioMonth::default() });
    }
    fn event(&mut self, _month: Month, index: usize, _customer: &Customer, event: &Event) {
        if let Some(m) = self.months.last_mut() {
            m.events.push((index, *event));
        }
    }
    fn alert(&mut self, _month: Month, index: usize, _customer: &Customer, alert: &Alert) {
        if let Some(m) = self.months.last_mut() {
            m.alerts.push((index, *alert));
        }
    }
    fn evaluated(
        &mut self,
        _: Month,
        index: usize,
        _: &Customer,
        aum: Decimal,
        has_record: bool,
        state: &CustomerState,
    ) {
        if let Some(m) = self.months.last_mut() {
            m.evaluated.push(Evaluated { index, aum, has_record, state: *state });
        }
    }
    fn held(&mut self, _month: Month, index: Option<usize>, error: &RecordError) {
        if let Some(m) = self.months.last_mut() {
            m.held.push((index, error.clone()));
        }
    }
}

/// The input of a customer with a designation but no AUM record, or of an absent one under
/// [`Absent::Zero`]: nothing held.
static NOTHING_HELD: MonthInput = MonthInput { aum: AumInput::Total(Decimal::ZERO), special: None };

/// Why and from when a customer is held back.
struct Hold {
    from: Month,
    error: RecordError,
}

fn hold(holds: &mut FxHashMap<String, Hold>, id: &str, from: Month, error: RecordError) {
    match holds.get_mut(id) {
        Some(h) if h.from <= from => {}
        Some(h) => *h = Hold { from, error },
        None => {
            holds.insert(id.to_string(), Hold { from, error });
        }
    }
}

impl Engine {
    /// Evaluates a portfolio over a declared month (or range of months) and collects the
    /// results; see [`Engine::evaluate_portfolio_with`].
    ///
    /// ```
    /// use crm_tiering::{Engine, RuleBook};
    /// use crm_tiering::portfolio::{Columns, Extract, PortfolioOptions, PortfolioStates, TableKind};
    /// let engine = Engine::new(RuleBook::default_book()?);
    /// let book = engine.rule_book();
    /// let cols = Columns::resolve(book, TableKind::Aum, &["month", "customer_id", "aum"])?;
    /// let mut extract = Extract::new(book);
    /// extract.push_cells("aum.csv", &cols, 2, &["2024-03", "c1", "250000"]);
    /// extract.push_cells("aum.csv", &cols, 3, &["2024-04", "c2", "900000"]); // not March
    /// let mut states = PortfolioStates::new();
    /// let out = engine.evaluate_portfolio(&mut states, "2024-03".parse()?, &extract, &PortfolioOptions::default())?;
    /// assert_eq!(states.get("c1").unwrap().1.tier.unwrap().as_str(), "gold");
    /// let (_, held) = &out.months[0].held[0];
    /// assert_eq!((held.customer(), held.field()), (Some("c2"), Some("month")));
    /// assert!(states.get("c2").is_none()); // never evaluated, April never touched
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Engine::evaluate_portfolio_with`].
    pub fn evaluate_portfolio(
        &self,
        states: &mut PortfolioStates,
        months: MonthRange,
        extract: &Extract,
        options: &PortfolioOptions,
    ) -> Result<PortfolioOutcome, PortfolioFailure> {
        let mut out = PortfolioOutcome::default();
        self.evaluate_portfolio_with(states, months, extract, options, &mut out)?;
        Ok(out)
    }

    /// Evaluates a portfolio over a declared month or range of months, streaming the results to
    /// `sink` (SPEC §15):
    ///
    /// - records are matched to states by customer id; new ids join the portfolio with their
    ///   record's identity, and identity cells left empty keep the stored values;
    /// - a record dated outside `months`, a second record of a customer-month (both are named),
    ///   a rejected record of the extract, and a customer the engine rejects are held back:
    ///   state kept, nothing emitted, reported once with [`PortfolioSink::held`], and not
    ///   evaluated in the range's later months;
    /// - a known customer without a record follows `options.absent`;
    /// - the states are stamped with the rule book's fingerprint.
    ///
    /// # Errors
    /// [`PortfolioFailure`], with nothing evaluated and `states` unchanged, when the extract has
    /// records whose customer cannot be identified, when the states were written under another
    /// rule book (unless [`RuleBookChange::Accept`]), or when a table without a month column
    /// meets a range of several months.
    pub fn evaluate_portfolio_with(
        &self,
        states: &mut PortfolioStates,
        months: MonthRange,
        extract: &Extract,
        options: &PortfolioOptions,
        sink: &mut dyn PortfolioSink,
    ) -> Result<(), PortfolioFailure> {
        if !extract.fatal.is_empty() {
            return Err(PortfolioFailure { errors: extract.fatal.clone() });
        }
        let book = self.rule_book();
        if let Some(found) = states.rule_book()
            && found != book.fingerprint()
            && options.rule_book_change == RuleBookChange::Refuse
        {
            let error = StateError::RuleBookChanged { found: found.to_string(), expected: book.fingerprint().into() };
            return Err(RecordError::at(error, None).into());
        }
        let n_months = months.len();
        let mut holds: FxHashMap<String, Hold> = FxHashMap::default();
        for r in &extract.rejects {
            let from = r.month.filter(|m| months.contains(*m)).unwrap_or(months.first());
            hold(&mut holds, &r.customer_id, from, r.error.clone());
        }
        // Records by month and customer; out-of-range and duplicate records hold their customer.
        let mut rows: Vec<FxHashMap<&str, usize>> = vec![FxHashMap::default(); n_months];
        let mut undated = Vec::new();
        for (k, r) in extract.rows.iter().enumerate() {
            let record = extract.record(r.table, r.row);
            let Some(m) = r.month.or((n_months == 1).then_some(months.first())) else {
                undated.push(located(
                    InputError::new(
                        &r.customer_id,
                        None,
                        "month",
                        format!("the record has no month, and the run covers {months}"),
                    ),
                    record,
                ));
                continue;
            };
            if !months.contains(m) {
                let message = format!("the record is dated {m}, outside the declared month(s) {months}");
                let error = located(InputError::new(&r.customer_id, Some(m), "month", message), record);
                hold(&mut holds, &r.customer_id, months.first(), error);
                continue;
            }
            if let Some(&first) = rows[months.offset(m)].get(r.customer_id.as_str()) {
                let f = &extract.rows[first];
                let message = "a second record for the customer in the month".to_string();
                let error = RecordError {
                    error: InputError::new(&r.customer_id, Some(m), "customer_id", message).into(),
                    record: Some(record),
                    other_record: Some(extract.record(f.table, f.row)),
                };
                hold(&mut holds, &r.customer_id, m, error);
                continue;
            }
            rows[months.offset(m)].insert(&r.customer_id, k);
        }
        if !undated.is_empty() {
            return Err(PortfolioFailure { errors: undated });
        }
        let mut designations: Vec<FxHashMap<&str, usize>> = vec![FxHashMap::default(); n_months];
        for (k, d) in extract.designations.iter().enumerate() {
            let record = extract.record(d.table, d.row);
            if !months.contains(d.month) {
                let message = format!("the designation is dated {}, outside the declared month(s) {months}", d.month);
                let error = located(InputError::new(&d.customer_id, Some(d.month), "month", message), record);
                hold(&mut holds, &d.customer_id, months.first(), error);
                continue;
            }
            if let Some(&first) = designations[months.offset(d.month)].get(d.customer_id.as_str()) {
                let f = &extract.designations[first];
                let message = "a second designation for the customer in the month".to_string();
                let error = RecordError {
                    error: InputError::new(&d.customer_id, Some(d.month), "special", message).into(),
                    record: Some(record),
                    other_record: Some(extract.record(f.table, f.row)),
                };
                hold(&mut holds, &d.customer_id, d.month, error);
                continue;
            }
            designations[months.offset(d.month)].insert(&d.customer_id, k);
        }

        // From here on the evaluation cannot fail as a whole.
        let known = states.len();
        // The month each customer joins: stored customers from the first month, new ones from
        // their first record.
        let mut joins: Vec<Month> = vec![months.first(); known];
        for (offset, m) in months.months().enumerate() {
            let ids = rows[offset].keys().chain(designations[offset].keys());
            let mut new_ids: Vec<(&str, u64, u32)> = Vec::new();
            for id in ids {
                if states.index_of(id).is_none() {
                    let (table, row) = match rows[offset].get(id) {
                        Some(&k) => (extract.rows[k].table, extract.rows[k].row),
                        None => {
                            let d = &extract.designations[designations[offset][id]];
                            (d.table, d.row)
                        }
                    };
                    new_ids.push((id, row, table));
                }
            }
            // Record order, so the portfolio's order does not depend on hashing.
            new_ids.sort_by_key(|&(_, row, table)| (table, row));
            new_ids.dedup_by_key(|e| e.0);
            for (id, _, _) in new_ids {
                if holds.get(id).is_some_and(|h| h.from <= m) {
                    continue;
                }
                states.push(
                    Customer { id: id.to_string(), legal_entity: None, kind: Default::default() },
                    CustomerState::default(),
                );
                joins.push(m);
            }
        }
        let mut reported: FxHashSet<String> = FxHashSet::default();
        // Held customers the states do not hold are reported in their first month.
        for m in months.months() {
            sink.begin_month(m);
            let offset = months.offset(m);
            let mut held_unknown: Vec<(&String, &Hold)> =
                holds.iter().filter(|(id, h)| h.from == m && states.index_of(id).is_none()).collect();
            held_unknown.sort_by(|a, b| a.1.error.record.cmp(&b.1.error.record));
            for (id, h) in held_unknown {
                if reported.insert(id.clone()) {
                    sink.held(m, None, &h.error);
                }
            }
            // Identity from this month's records: given cells replace, missing ones keep.
            for (id, &k) in &rows[offset] {
                let r = &extract.rows[k];
                if let Some(i) = states.index_of(id) {
                    let c = &mut states.customers[i];
                    if let Some(e) = &r.legal_entity {
                        c.legal_entity = Some(e.clone());
                    }
                    if let Some(kind) = r.kind {
                        c.kind = kind;
                    }
                }
            }
            let mut active: Vec<u32> = Vec::with_capacity(states.len());
            let mut has_record: Vec<bool> = Vec::with_capacity(states.len());
            let mut events_of_held: Vec<(usize, RecordError)> = Vec::new();
            for (i, &joined) in joins.iter().enumerate() {
                if joined > m {
                    continue;
                }
                let id = states.customers[i].id.as_str();
                if let Some(h) = holds.get(id)
                    && h.from <= m
                {
                    if reported.insert(id.to_string()) {
                        events_of_held.push((i, h.error.clone()));
                    }
                    continue;
                }
                let has = rows[offset].contains_key(id);
                if !has && !designations[offset].contains_key(id) {
                    match options.absent {
                        Absent::Zero => {}
                        Absent::Hold => continue,
                        Absent::Error => {
                            let message =
                                "the customer has no record in the month's extract (absent customers are errors)";
                            let error = RecordError::at(InputError::new(id, Some(m), "aum", message), None);
                            reported.insert(id.to_string());
                            holds.insert(id.to_string(), Hold { from: m, error: error.clone() });
                            events_of_held.push((i, error));
                            continue;
                        }
                    }
                }
                active.push(i as u32);
                has_record.push(has);
            }
            for (i, e) in &events_of_held {
                sink.held(m, Some(*i), e);
            }
            let outcomes = self.evaluate_active(
                states,
                m,
                &active,
                |id| {
                    let row = rows[offset].get(id).map(|&r| &extract.rows[r].input);
                    match (row, designations[offset].get(id)) {
                        (Some(input), None) => Cow::Borrowed(input),
                        (None, None) => Cow::Borrowed(&NOTHING_HELD),
                        (row, Some(&d)) => Cow::Owned(MonthInput {
                            aum: row.map_or(AumInput::Total(Decimal::ZERO), |i| i.aum.clone()),
                            special: Some(extract.designations[d].change),
                        }),
                    }
                },
                options.threads,
            );
            // Results, customer by customer.
            let (mut e, mut a, mut x) = (0, 0, 0);
            for (k, &i) in active.iter().enumerate() {
                let i = i as usize;
                let customer = &states.customers[i];
                while e < outcomes.events.len() && outcomes.events[e].index as usize == k {
                    sink.event(m, i, customer, &outcomes.events[e].event);
                    e += 1;
                }
                while a < outcomes.alerts.len() && outcomes.alerts[a].index as usize == k {
                    sink.alert(m, i, customer, &outcomes.alerts[a].alert);
                    a += 1;
                }
                if x < outcomes.errors.len() && outcomes.errors[x].index as usize == k {
                    let record = rows[offset].get(customer.id.as_str()).map(|&r| {
                        let r = &extract.rows[r];
                        extract.record(r.table, r.row)
                    });
                    let error = RecordError::at(outcomes.errors[x].error.clone(), record);
                    holds.insert(customer.id.clone(), Hold { from: m, error: error.clone() });
                    reported.insert(customer.id.clone());
                    sink.held(m, Some(i), &error);
                    x += 1;
                    continue;
                }
                sink.evaluated(m, i, customer, outcomes.aums[k], has_record[k], &states.states[i]);
            }
            sink.end_month(m);
        }
        states.set_rule_book(book);
        Ok(())
    }

    /// Runs the batch over the active customers (indices into the states), in place.
    fn evaluate_active<'e>(
        &self,
        states: &mut PortfolioStates,
        month: Month,
        active: &[u32],
        input: impl Fn(&str) -> Cow<'e, MonthInput> + Sync,
        threads: usize,
    ) -> BatchOutcome {
        let customers: Vec<CustomerRef<'_>> = active
            .iter()
            .map(|&i| {
                let c = &states.customers[i as usize];
                CustomerRef { id: &c.id, legal_entity: c.legal_entity.as_deref(), kind: c.kind }
            })
            .collect();
        let mut subset: Vec<CustomerState> = active.iter().map(|&i| states.states[i as usize]).collect();
        let parts = self.evaluate_batch_parallel_with(
            month,
            &customers,
            &mut subset,
            |k| Ok::<_, TieringError>(input(customers[k].id)),
            threads,
            BatchOutcome::default,
        );
        drop(customers);
        let mut out = BatchOutcome::with_capacity(active.len());
        match parts {
            Ok(parts) => {
                for p in parts {
                    out.events.extend(p.events);
                    out.alerts.extend(p.alerts);
                    out.errors.extend(p.errors);
                    out.aums.extend(p.aums);
                }
            }
            Err(error) => {
                // Only a failed worker thread gets here: every customer is held back.
                out.aums = vec![Decimal::ZERO; active.len()];
                out.errors = (0..active.len() as u32)
                    .map(|index| crate::engine::BatchError { index, error: error.clone() })
                    .collect();
                return out;
            }
        }
        for (k, &i) in active.iter().enumerate() {
            states.states[i as usize] = subset[k];
        }
        out
    }
}

impl RecordRef {
    /// A record reference.
    pub fn new(table: impl Into<String>, row: u64) -> Self {
        RecordRef { table: table.into(), row }
    }
}
