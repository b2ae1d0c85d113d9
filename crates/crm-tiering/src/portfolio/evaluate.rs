//! Evaluating a portfolio over a declared month or range of months (SPEC §15).

use std::borrow::Cow;
use std::fmt;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

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

/// No record (an index that is never a row's).
const NONE: u32 = u32::MAX;

/// Why and from when a customer is held back.
struct Hold {
    from: Month,
    error: RecordError,
}

/// What a portfolio evaluation decides before it changes anything: the records of each month
/// and the customer each belongs to, the customers held back, and the new customers with the
/// month they join. Every record's customer is resolved here, once.
struct Plan<'x> {
    /// Indices of each month's AUM records (duplicates and records of customers that never
    /// join removed).
    month_rows: Vec<Vec<u32>>,
    /// Indices of each month's designations (likewise).
    month_designations: Vec<Vec<u32>>,
    /// The customer (index in the states after the new ones join) of each AUM record.
    row_customer: Vec<u32>,
    /// The customer of each designation.
    designation_customer: Vec<u32>,
    /// New customers, in the order they join, with the month they join.
    joining: Vec<(&'x str, Month)>,
    /// Held customers: (customer index, or none for a customer that never joins; from; why).
    holds: Vec<(Option<usize>, Month, RecordError)>,
}

/// Customers by provisional index: stored ones first, then every new id in the order met.
struct Ids<'x> {
    known: usize,
    new: FxHashMap<&'x str, u32>,
    names: Vec<&'x str>,
}

impl<'x> Ids<'x> {
    fn of(&mut self, states: &PortfolioStates, id: &'x str) -> u32 {
        if let Some(i) = states.index_of(id) {
            return i as u32;
        }
        let next = (self.known + self.names.len()) as u32;
        let names = &mut self.names;
        *self.new.entry(id).or_insert_with(|| {
            names.push(id);
            next
        })
    }
}

fn hold(holds: &mut FxHashMap<u32, Hold>, customer: u32, from: Month, error: RecordError) {
    match holds.get_mut(&customer) {
        Some(h) if h.from <= from => {}
        Some(h) => *h = Hold { from, error },
        None => {
            holds.insert(customer, Hold { from, error });
        }
    }
}

impl<'x> Plan<'x> {
    fn new(states: &PortfolioStates, months: MonthRange, extract: &'x Extract) -> Result<Self, PortfolioFailure> {
        let n_months = months.len();
        let known = states.len();
        let mut ids = Ids { known, new: FxHashMap::default(), names: Vec::new() };
        let mut holds: FxHashMap<u32, Hold> = FxHashMap::default();
        for r in &extract.rejects {
            let from = r.month.filter(|m| months.contains(*m)).unwrap_or(months.first());
            let c = ids.of(states, &r.customer_id);
            hold(&mut holds, c, from, r.error.clone());
        }
        // Date every record: undated ones stop the run, ones outside the months hold.
        let mut month_rows: Vec<Vec<u32>> = vec![Vec::new(); n_months];
        let mut row_customer = vec![NONE; extract.rows.len()];
        let mut undated = Vec::new();
        for (k, r) in extract.rows.iter().enumerate() {
            let c = ids.of(states, &r.customer_id);
            let Some(m) = r.month.or((n_months == 1).then_some(months.first())) else {
                let message = format!("the record has no month, and the run covers {months}");
                let error = InputError::new(&r.customer_id, None, "month", message);
                undated.push(located(error, extract.record(r.table, r.row)));
                continue;
            };
            if !months.contains(m) {
                let message = format!("the record is dated {m}, outside the declared month(s) {months}");
                let error = InputError::new(&r.customer_id, Some(m), "month", message);
                hold(&mut holds, c, months.first(), located(error, extract.record(r.table, r.row)));
                continue;
            }
            row_customer[k] = c;
            month_rows[months.offset(m)].push(k as u32);
        }
        if !undated.is_empty() {
            return Err(PortfolioFailure { errors: undated });
        }
        let mut month_designations: Vec<Vec<u32>> = vec![Vec::new(); n_months];
        let mut designation_customer = vec![NONE; extract.designations.len()];
        for (k, d) in extract.designations.iter().enumerate() {
            let c = ids.of(states, &d.customer_id);
            if !months.contains(d.month) {
                let message = format!("the designation is dated {}, outside the declared month(s) {months}", d.month);
                let error = InputError::new(&d.customer_id, Some(d.month), "month", message);
                hold(&mut holds, c, months.first(), located(error, extract.record(d.table, d.row)));
                continue;
            }
            designation_customer[k] = c;
            month_designations[months.offset(d.month)].push(k as u32);
        }
        // A second record of a customer-month holds the customer (both are named); each new
        // customer's first record, in (month, table, row) order, decides where it joins.
        let total = known + ids.names.len();
        let mut first_seen: Vec<Option<(usize, u32, u64)>> = vec![None; ids.names.len()];
        let mut seen = Seen { month: vec![NONE; total], first: vec![NONE; total] };
        let mut seen_designation = Seen { month: vec![NONE; total], first: vec![NONE; total] };
        for offset in 0..n_months {
            let m = months.first().plus(offset as i32);
            let locate = |k: u32| {
                let r = &extract.rows[k as usize];
                (r.table, r.row, r.customer_id.as_str())
            };
            let kept = seen.dedup(&month_rows[offset], &mut row_customer, offset, |k, f| {
                duplicate(extract, m, "record", "customer_id", locate(k), locate(f))
            });
            let locate = |k: u32| {
                let d = &extract.designations[k as usize];
                (d.table, d.row, d.customer_id.as_str())
            };
            let kept_designations =
                seen_designation.dedup(&month_designations[offset], &mut designation_customer, offset, |k, f| {
                    duplicate(extract, m, "designation", "special", locate(k), locate(f))
                });
            for (c, error) in kept.1.into_iter().chain(kept_designations.1) {
                hold(&mut holds, c, m, error);
            }
            for (list, owner, locate) in [
                (
                    &kept.0,
                    &row_customer,
                    &(|k: u32| {
                        let r = &extract.rows[k as usize];
                        (r.table, r.row)
                    }) as &dyn Fn(u32) -> (u32, u64),
                ),
                (&kept_designations.0, &designation_customer, &|k: u32| {
                    let d = &extract.designations[k as usize];
                    (d.table, d.row)
                }),
            ] {
                for &k in list {
                    let c = owner[k as usize] as usize;
                    if c >= known {
                        let (t, r) = locate(k);
                        let f = &mut first_seen[c - known];
                        if f.is_none_or(|f| (offset, t, r) < f) {
                            *f = Some((offset, t, r));
                        }
                    }
                }
            }
            month_rows[offset] = kept.0;
            month_designations[offset] = kept_designations.0;
        }
        // New customers join at their first record, in record order, unless held from before.
        let mut order: Vec<(usize, (usize, u32, u64))> =
            first_seen.iter().enumerate().filter_map(|(j, f)| f.map(|f| (j, f))).collect();
        order.sort_by_key(|&(_, f)| f);
        let mut final_of_new = vec![NONE; ids.names.len()];
        let mut joining = Vec::new();
        for (j, (offset, _, _)) in order {
            let m = months.first().plus(offset as i32);
            if holds.get(&((known + j) as u32)).is_some_and(|h| h.from <= m) {
                continue;
            }
            final_of_new[j] = (known + joining.len()) as u32;
            joining.push((ids.names[j], m));
        }
        let final_of = |c: u32| if c == NONE || (c as usize) < known { c } else { final_of_new[c as usize - known] };
        for c in row_customer.iter_mut().chain(designation_customer.iter_mut()) {
            *c = final_of(*c);
        }
        for list in &mut month_rows {
            list.retain(|&k| row_customer[k as usize] != NONE);
        }
        for list in &mut month_designations {
            list.retain(|&k| designation_customer[k as usize] != NONE);
        }
        let mut holds: Vec<(Option<usize>, Month, RecordError)> = holds
            .into_iter()
            .map(|(c, h)| (Some(final_of(c)).filter(|&c| c != NONE).map(|c| c as usize), h.from, h.error))
            .collect();
        holds.sort_by(|a, b| a.2.record.cmp(&b.2.record).then(a.2.customer().cmp(&b.2.customer())));
        Ok(Plan { month_rows, month_designations, row_customer, designation_customer, joining, holds })
    }
}

/// The first record of each customer in the month being scanned.
struct Seen {
    /// The month (offset) each customer was last seen in.
    month: Vec<u32>,
    /// Its first record in that month.
    first: Vec<u32>,
}

impl Seen {
    /// Keeps each customer's first record of the month; a later one is dropped (its owner set
    /// to none) and returned as a hold of the customer.
    fn dedup(
        &mut self,
        records: &[u32],
        owner: &mut [u32],
        offset: usize,
        duplicate: impl Fn(u32, u32) -> RecordError,
    ) -> (Vec<u32>, Vec<(u32, RecordError)>) {
        let mut kept = Vec::with_capacity(records.len());
        let mut held = Vec::new();
        for &k in records {
            let c = owner[k as usize] as usize;
            if self.month[c] == offset as u32 {
                held.push((c as u32, duplicate(k, self.first[c])));
                owner[k as usize] = NONE;
                continue;
            }
            self.month[c] = offset as u32;
            self.first[c] = k;
            kept.push(k);
        }
        (kept, held)
    }
}

/// The error of a second record of a customer-month, naming both.
fn duplicate(
    extract: &Extract,
    month: Month,
    what: &str,
    field: &str,
    (table, row, id): (u32, u64, &str),
    (first_table, first_row, _): (u32, u64, &str),
) -> RecordError {
    RecordError {
        error: InputError::new(id, Some(month), field, format!("a second {what} for the customer in the month")).into(),
        record: Some(extract.record(table, row)),
        other_record: Some(extract.record(first_table, first_row)),
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
        let plan = Plan::new(states, months, extract)?;
        // From here on the evaluation cannot fail as a whole.
        let Plan { month_rows, month_designations, row_customer, designation_customer, joining, holds } = plan;
        let known = states.len();
        for (id, _) in &joining {
            let customer = Customer { id: id.to_string(), legal_entity: None, kind: Default::default() };
            states.push(customer, CustomerState::default());
        }
        let n = states.len();
        let mut joins: Vec<Month> = vec![months.first(); n];
        for (j, (_, m)) in joining.iter().enumerate() {
            joins[known + j] = *m;
        }
        // Held customers by index; those that never join are reported without one.
        let mut held_from: Vec<Option<Month>> = vec![None; n];
        let mut hold_error: FxHashMap<usize, &RecordError> = FxHashMap::default();
        for (c, from, error) in &holds {
            if let Some(i) = *c {
                held_from[i] = Some(*from);
                hold_error.insert(i, error);
            }
        }
        let mut reported = vec![false; n];
        let mut row_of = vec![NONE; n];
        let mut designation_of = vec![NONE; n];
        for m in months.months() {
            sink.begin_month(m);
            let offset = months.offset(m);
            for (_, _, error) in holds.iter().filter(|(c, from, _)| c.is_none() && *from == m) {
                sink.held(m, None, error);
            }
            // This month's records by customer; identity cells given replace, missing ones keep.
            for &k in &month_rows[offset] {
                let i = row_customer[k as usize] as usize;
                row_of[i] = k;
                let r = &extract.rows[k as usize];
                let c = &mut states.customers[i];
                if let Some(e) = &r.legal_entity {
                    c.legal_entity = Some(e.clone());
                }
                if let Some(kind) = r.kind {
                    c.kind = kind;
                }
            }
            for &k in &month_designations[offset] {
                designation_of[designation_customer[k as usize] as usize] = k;
            }
            let mut active: Vec<u32> = Vec::with_capacity(n);
            let mut newly_held: Vec<(usize, RecordError)> = Vec::new();
            for (i, &joined) in joins.iter().enumerate() {
                if joined > m {
                    continue;
                }
                if held_from[i].is_some_and(|from| from <= m) {
                    if !reported[i] {
                        reported[i] = true;
                        if let Some(e) = hold_error.get(&i) {
                            newly_held.push((i, (*e).clone()));
                        }
                    }
                    continue;
                }
                if row_of[i] == NONE && designation_of[i] == NONE {
                    match options.absent {
                        Absent::Zero => {}
                        Absent::Hold => continue,
                        Absent::Error => {
                            let id = states.customers[i].id.as_str();
                            let message =
                                "the customer has no record in the month's extract (absent customers are errors)";
                            let error = RecordError::at(InputError::new(id, Some(m), "aum", message), None);
                            held_from[i] = Some(m);
                            reported[i] = true;
                            newly_held.push((i, error));
                            continue;
                        }
                    }
                }
                active.push(i as u32);
            }
            for (i, e) in &newly_held {
                sink.held(m, Some(*i), e);
            }
            let input = |i: usize| {
                let row = (row_of[i] != NONE).then(|| &extract.rows[row_of[i] as usize].input);
                match (row, designation_of[i]) {
                    (Some(input), NONE) => Cow::Borrowed(input),
                    (None, NONE) => Cow::Borrowed(&NOTHING_HELD),
                    (row, d) => Cow::Owned(MonthInput {
                        aum: row.map_or(AumInput::Total(Decimal::ZERO), |i| i.aum.clone()),
                        special: Some(extract.designations[d as usize].change),
                    }),
                }
            };
            let outcomes = self.evaluate_active(states, m, &active, input, options.threads);
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
                    let record = (row_of[i] != NONE).then(|| {
                        let r = &extract.rows[row_of[i] as usize];
                        extract.record(r.table, r.row)
                    });
                    let error = RecordError::at(outcomes.errors[x].error.clone(), record);
                    held_from[i] = Some(m);
                    reported[i] = true;
                    sink.held(m, Some(i), &error);
                    x += 1;
                    continue;
                }
                sink.evaluated(m, i, customer, outcomes.aums[k], row_of[i] != NONE, &states.states[i]);
            }
            for &k in &month_rows[offset] {
                row_of[row_customer[k as usize] as usize] = NONE;
            }
            for &k in &month_designations[offset] {
                designation_of[designation_customer[k as usize] as usize] = NONE;
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
        input: impl Fn(usize) -> Cow<'e, MonthInput> + Sync,
        threads: usize,
    ) -> BatchOutcome {
        let customers: Vec<CustomerRef<'_>> = active
            .iter()
            .map(|&i| {
                let c = &states.customers[i as usize];
                CustomerRef { id: &c.id, legal_entity: c.legal_entity.as_deref(), kind: c.kind }
            })
            .collect();
        // The whole portfolio on one thread (the usual month): in place, no copy.
        if threads <= 1 && active.len() == states.states.len() {
            let mut out = BatchOutcome::with_capacity(active.len());
            let input = |k: usize| Ok::<_, TieringError>(input(k));
            if let Err(error) = self.evaluate_batch_with(month, &customers, &mut states.states, input, &mut out) {
                out.aums = vec![Decimal::ZERO; active.len()];
                out.errors = (0..active.len() as u32)
                    .map(|index| crate::engine::BatchError { index, error: error.clone() })
                    .collect();
            }
            return out;
        }
        let mut subset: Vec<CustomerState> = active.iter().map(|&i| states.states[i as usize]).collect();
        let parts = self.evaluate_batch_parallel_with(
            month,
            &customers,
            &mut subset,
            |k| Ok::<_, TieringError>(input(active[k] as usize)),
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
