//! A portfolio's stored states, keyed by customer id, and their checked text form.

use std::borrow::Cow;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};
use serde::{Deserialize, Serialize};

use super::record::{RecordError, RecordRef, validate_customer_id};
use crate::digest::Running;
use crate::engine::{CustomerIdentity, CustomerRef};
use crate::error::{InputError, StateError, TieringError};
use crate::month::Month;
use crate::rules::{CustomerKind, RuleBook};
use crate::state::CustomerState;

/// The version of the states text format written by [`PortfolioStates::to_jsonl`].
pub const STATES_FORMAT_VERSION: u32 = 2;

/// Every customer's identity and state, keyed by customer id, in a stable order (the order
/// customers were first added).
///
/// A stored state carries its customer's id, legal entity and kind, and the states as a whole
/// carry the fingerprint of the rule book that wrote them ([`PortfolioStates::rule_book`]), so
/// that an extract is matched to states by id, never by position, and states are never
/// silently evaluated under other rules.
///
/// ```
/// use crm_tiering::{Customer, CustomerState, RuleBook};
/// use crm_tiering::portfolio::PortfolioStates;
/// let book = RuleBook::default_book()?;
/// let mut states = PortfolioStates::new();
/// states.insert(Customer::personal("c1"), CustomerState::default())?;
/// let text = states.to_jsonl(&book);
/// let back = PortfolioStates::from_jsonl(&text, "states.jsonl")?;
/// assert_eq!(back.len(), 1);
/// assert_eq!(back.rule_book(), Some(book.fingerprint()));
/// // Cut anywhere, the text is refused.
/// assert!(PortfolioStates::from_jsonl(&text[..text.len() - 1], "states.jsonl").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PortfolioStates {
    pub(crate) identities: Identities,
    pub(crate) states: Vec<CustomerState>,
    /// Customer indices by id; the ids themselves live once, in `identities`.
    index: HashTable<u32>,
    rule_book: Option<String>,
    /// The customers' histories for the windows of the book that evaluated them (SPEC §19.5).
    pub(crate) history: crate::history::Histories,
}

impl PartialEq for PortfolioStates {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.customers().eq(other.customers())
            && self.states == other.states
            && self.rule_book == other.rule_book
            && self.same_history(other)
    }
}

fn hash(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

/// The customers' identities, end to end: every id in one buffer, each legal entity kept once.
/// A customer costs its id's bytes and 13 bytes more, with no allocation of its own.
#[derive(Debug, Clone, Default)]
pub(crate) struct Identities {
    ids: String,
    /// Where each customer's id ends in `ids` (it starts where the previous one ends).
    ends: Vec<usize>,
    /// Each customer's legal entity: 0 for none, `k` for `entities[k - 1]`.
    entity: Vec<u32>,
    kinds: Vec<CustomerKind>,
    entities: Vec<Box<str>>,
    entity_slots: FxHashMap<Box<str>, u32>,
}

impl Identities {
    fn reserve(&mut self, additional: usize) {
        self.ends.reserve(additional);
        self.entity.reserve(additional);
        self.kinds.reserve(additional);
        let average = if self.ends.is_empty() { 12 } else { self.ids.len() / self.ends.len() + 1 };
        self.ids.reserve(additional.saturating_mul(average));
    }

    /// The id of the customer at `index` ("" past the end).
    pub(crate) fn id(&self, index: usize) -> &str {
        let Some(&end) = self.ends.get(index) else { return "" };
        let start = if index == 0 { 0 } else { self.ends.get(index - 1).copied().unwrap_or(0) };
        self.ids.get(start..end).unwrap_or("")
    }

    /// The customer at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<CustomerRef<'_>> {
        let entity = *self.entity.get(index)?;
        let legal_entity = match entity {
            0 => None,
            k => self.entities.get(k as usize - 1).map(|e| &**e),
        };
        Some(CustomerRef { id: self.id(index), legal_entity, kind: *self.kinds.get(index)? })
    }

    /// The slot of a legal entity, kept on first sight.
    ///
    /// # Errors
    /// Beyond 4 billion distinct legal entities.
    fn entity_slot(&mut self, legal_entity: Option<&str>) -> Result<u32, TieringError> {
        let Some(e) = legal_entity else { return Ok(0) };
        if let Some(&k) = self.entity_slots.get(e) {
            return Ok(k);
        }
        let k = u32::try_from(self.entities.len() + 1).map_err(|_| {
            InputError::new("", None, "legal_entity", "more than 4 billion distinct legal entities in one portfolio")
        })?;
        self.entities.push(e.into());
        self.entity_slots.insert(e.into(), k);
        Ok(k)
    }

    fn push(&mut self, customer: CustomerRef<'_>) -> Result<(), TieringError> {
        let slot = self.entity_slot(customer.legal_entity)?;
        self.ids.push_str(customer.id);
        self.ends.push(self.ids.len());
        self.entity.push(slot);
        self.kinds.push(customer.kind);
        Ok(())
    }

    /// Sets the legal entity of the customer at `index` (the extract's record replaces the
    /// stored one).
    ///
    /// # Errors
    /// Beyond 4 billion distinct legal entities.
    pub(crate) fn set_legal_entity(&mut self, index: usize, legal_entity: &str) -> Result<(), TieringError> {
        let slot = self.entity_slot(Some(legal_entity))?;
        if let Some(e) = self.entity.get_mut(index) {
            *e = slot;
        }
        Ok(())
    }

    /// The legal entity slot of the customer at `index`: 0 for none (or past the end), the
    /// same slot for the same legal entity.
    pub(crate) fn entity_slot_at(&self, index: usize) -> u32 {
        self.entity.get(index).copied().unwrap_or(0)
    }

    /// The legal entity of a slot from [`Identities::entity_slot_at`].
    pub(crate) fn entity_name(&self, slot: u32) -> Option<&str> {
        self.entities.get((slot as usize).checked_sub(1)?).map(|e| &**e)
    }

    /// The slot of a legal entity some customer has, if any.
    pub(crate) fn slot_of(&self, legal_entity: &str) -> Option<u32> {
        self.entity_slots.get(legal_entity).copied()
    }

    /// The number of legal entity slots (slot 0, none, included).
    pub(crate) fn entity_slots(&self) -> usize {
        self.entities.len() + 1
    }

    /// Sets the kind of the customer at `index`.
    pub(crate) fn set_kind(&mut self, index: usize, kind: CustomerKind) {
        if let Some(k) = self.kinds.get_mut(index) {
            *k = kind;
        }
    }
}

/// The first line of a states text.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    crm_tiering_states: u32,
    rule_book: String,
    customers: u64,
}

/// A customer's line.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    #[serde(borrow)]
    customer_id: Cow<'a, str>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    legal_entity: Option<Cow<'a, str>>,
    #[serde(default)]
    customer_kind: CustomerKind,
    state: CustomerState,
    /// The history by measure, newest month first (SPEC §19.5); left out when empty.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    history: std::collections::BTreeMap<String, Vec<Option<String>>>,
}

/// The last line: the count and the SHA-256 of every byte before it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trailer {
    end_of_states: End,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct End {
    customers: u64,
    sha256: String,
}

impl PortfolioStates {
    /// No customers, written by no rule book yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of customers.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The fingerprint of the rule book that wrote these states ([`RuleBook::fingerprint`]),
    /// none for states that no evaluation has written yet.
    pub fn rule_book(&self) -> Option<&str> {
        self.rule_book.as_deref()
    }

    /// Records the rule book that wrote the states (done by the portfolio evaluation).
    pub fn set_rule_book(&mut self, book: &RuleBook) {
        self.rule_book = Some(book.fingerprint().to_string());
    }

    /// The latest month any stored customer was evaluated in: the month the portfolio's states
    /// are after (SPEC §15.1); none when no customer was ever evaluated.
    pub fn latest_month(&self) -> Option<Month> {
        self.states.iter().filter_map(|s| s.last_month).max()
    }

    /// The customers, in order (borrowed: the states keep every id in one buffer).
    pub fn customers(&self) -> impl ExactSizeIterator<Item = CustomerRef<'_>> + '_ {
        (0..self.len()).map(|i| self.customer_at(i))
    }

    /// The customer at `index`, none past the end.
    pub fn customer(&self, index: usize) -> Option<CustomerRef<'_>> {
        self.identities.get(index)
    }

    fn customer_at(&self, index: usize) -> CustomerRef<'_> {
        self.identities.get(index).unwrap_or(CustomerRef { id: "", legal_entity: None, kind: CustomerKind::Personal })
    }

    /// The states, parallel to [`PortfolioStates::customers`].
    pub fn states(&self) -> &[CustomerState] {
        &self.states
    }

    /// The index of a customer.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        let ids = &self.identities;
        self.index.find(hash(id), |&i| ids.id(i as usize) == id).map(|&i| i as usize)
    }

    /// Makes room for `additional` more customers.
    pub fn reserve(&mut self, additional: usize) {
        self.identities.reserve(additional);
        self.states.reserve(additional);
        let ids = &self.identities;
        self.index.reserve(additional, |&i| hash(ids.id(i as usize)));
    }

    /// A customer's identity and state.
    pub fn get(&self, id: &str) -> Option<(CustomerRef<'_>, &CustomerState)> {
        let i = self.index_of(id)?;
        Some((self.customer(i)?, self.states.get(i)?))
    }

    /// Customers and states, in order.
    pub fn iter(&self) -> impl Iterator<Item = (CustomerRef<'_>, &CustomerState)> {
        self.customers().zip(&self.states)
    }

    /// Replaces a stored customer's state (an analyst's what-if, a correction).
    ///
    /// # Errors
    /// [`TieringError::Input`] on field `customer_id` when the customer is not stored.
    pub fn replace(&mut self, id: &str, state: CustomerState) -> Result<(), TieringError> {
        match self.index_of(id).and_then(|i| self.states.get_mut(i)) {
            Some(stored) => {
                *stored = state;
                Ok(())
            }
            None => {
                Err(InputError::new(id, state.last_month, "customer_id", "the customer is not in the stored states")
                    .into())
            }
        }
    }

    /// Adds a customer with its state: an owned [`Customer`](crate::Customer) or a borrowed
    /// [`CustomerRef`] (the id is copied into the states' buffer either way).
    ///
    /// # Errors
    /// [`TieringError::Input`] for an unusable id; [`StateError::Duplicate`] when the
    /// customer is already there.
    pub fn insert(&mut self, customer: impl CustomerIdentity, state: CustomerState) -> Result<usize, TieringError> {
        let id = customer.id();
        validate_customer_id(id).map_err(|e| InputError::new(id, state.last_month, "customer_id", e.to_string()))?;
        let i = self.len();
        let index = u32::try_from(i).map_err(|_| {
            InputError::new(id, state.last_month, "customer_id", "more than 4 billion customers in one portfolio")
        })?;
        let ids = &self.identities;
        let h = hash(id);
        match self.index.entry(h, |&k| ids.id(k as usize) == id, |&k| hash(ids.id(k as usize))) {
            hashbrown::hash_table::Entry::Occupied(_) => Err(StateError::Duplicate { customer: id.to_string() }.into()),
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(index);
                let who = CustomerRef { id, legal_entity: customer.legal_entity(), kind: customer.kind() };
                self.identities.push(who)?;
                self.states.push(state);
                Ok(i)
            }
        }
    }

    /// Fills empty states with new customers (personal, no legal entity yet, the initial
    /// state) in the order given, and `index` as their index: built by the caller with the same
    /// hash as [`PortfolioStates::index_of`], entry `j` for the `j`-th id.
    pub(crate) fn push_indexed<'i>(&mut self, ids: impl Iterator<Item = &'i str>, index: HashTable<u32>) {
        debug_assert!(self.is_empty());
        for id in ids {
            // No legal entity: nothing to intern, so nothing can fail.
            let _ = self.identities.push(CustomerRef { id, legal_entity: None, kind: CustomerKind::Personal });
            self.states.push(CustomerState::default());
        }
        self.index = index;
    }

    /// Adds a customer known to be new, with no legal entity yet.
    pub(crate) fn push_new(
        &mut self,
        id: &str,
        kind: CustomerKind,
        state: CustomerState,
    ) -> Result<usize, TieringError> {
        let i = self.len();
        let index = u32::try_from(i).map_err(|_| {
            InputError::new(id, state.last_month, "customer_id", "more than 4 billion customers in one portfolio")
        })?;
        let ids = &self.identities;
        self.index.insert_unique(hash(id), index, |&k| hash(ids.id(k as usize)));
        self.identities.push(CustomerRef { id, legal_entity: None, kind })?;
        self.states.push(state);
        Ok(i)
    }

    /// The states as text: a header line (format version, rule book fingerprint, count), one
    /// JSON line per customer (`customer_id`, `legal_entity`, `customer_kind`, `state`), and a
    /// trailer line with the count and the SHA-256 of every byte before it.
    ///
    /// The states keep the stamp of the rule book that last evaluated them; states that no
    /// evaluation has written yet are stamped with `book`'s fingerprint. So writing states read
    /// from another book never passes them off as this book's.
    pub fn to_jsonl(&self, book: &RuleBook) -> String {
        let mut out = String::with_capacity(64 + self.len() * 300);
        let mut digest = Running::default();
        let header = Header {
            crm_tiering_states: STATES_FORMAT_VERSION,
            rule_book: self.rule_book.clone().unwrap_or_else(|| book.fingerprint().to_string()),
            customers: self.len() as u64,
        };
        let mut push = |out: &mut String, line: String| {
            digest.update(line.as_bytes());
            digest.update(b"\n");
            out.push_str(&line);
            out.push('\n');
        };
        push(&mut out, serde_json::to_string(&header).unwrap_or_default());
        for (i, (c, s)) in self.iter().enumerate() {
            let line = Line {
                customer_id: Cow::Borrowed(c.id),
                legal_entity: c.legal_entity.map(Cow::Borrowed),
                customer_kind: c.kind,
                state: *s,
                history: self.history(i).to_map(),
            };
            push(&mut out, serde_json::to_string(&line).unwrap_or_default());
        }
        let trailer = Trailer { end_of_states: End { customers: self.len() as u64, sha256: digest.hex() } };
        out.push_str(&serde_json::to_string(&trailer).unwrap_or_default());
        out.push('\n');
        out
    }

    /// Reads the text written by [`PortfolioStates::to_jsonl`]. `table` names it in errors
    /// (the file path), with 1-based line numbers.
    ///
    /// # Errors
    /// A [`StateError::Integrity`] when the text is cut short at any byte, altered (count or
    /// checksum), has no header or trailer; [`StateError::Malformed`] or
    /// [`StateError::SchemaVersion`] for a line that is not a state; [`StateError::Duplicate`]
    /// naming both lines for a customer given twice. Every error names its line.
    pub fn from_jsonl(text: &str, table: &str) -> Result<Self, RecordError> {
        let at = |row: usize| Some(RecordRef { table: table.to_string(), row: row as u64 });
        let damaged = |row: usize, why: String| RecordError::at(StateError::Integrity(why), at(row));
        let Some(body) = text.strip_suffix('\n') else {
            let what = if text.is_empty() { "the text is empty" } else { "the last line is cut short" };
            return Err(damaged(text.lines().count().max(1), format!("{what}: the states end with a trailer line")));
        };
        let mut lines: Vec<&str> = body.split('\n').collect();
        let last_row = lines.len();
        let trailer_text = lines.pop().unwrap_or_default();
        let header: Header = match lines.first().map(|l| serde_json::from_str(l)) {
            Some(Ok(h)) => h,
            _ => {
                return Err(damaged(
                    1,
                    "the first line is not a states header (`crm_tiering_states`): the text is not states written by this version, or it is damaged".into(),
                ));
            }
        };
        if header.crm_tiering_states != STATES_FORMAT_VERSION {
            return Err(damaged(
                1,
                format!(
                    "states format version {} is not supported (this library reads version {STATES_FORMAT_VERSION})",
                    header.crm_tiering_states
                ),
            ));
        }
        let trailer: Trailer = serde_json::from_str(trailer_text).map_err(|_| {
            damaged(last_row, "the last line is not the states trailer: the states are cut short".into())
        })?;
        let mut digest = Running::default();
        for l in &lines {
            digest.update(l.as_bytes());
            digest.update(b"\n");
        }
        let customers = lines.len() as u64 - 1;
        if trailer.end_of_states.customers != customers || header.customers != customers {
            return Err(damaged(
                last_row,
                format!(
                    "the header announces {} customers and the trailer {}, but {customers} lines are there",
                    header.customers, trailer.end_of_states.customers
                ),
            ));
        }
        if digest.hex() != trailer.end_of_states.sha256 {
            return Err(damaged(last_row, "the checksum does not match: the states were altered".into()));
        }
        let mut out = PortfolioStates { rule_book: Some(header.rule_book), ..PortfolioStates::default() };
        out.reserve(lines.len());
        for (k, l) in lines.iter().enumerate().skip(1) {
            let row = k + 1;
            let line: Line = serde_json::from_str(l).map_err(|e| {
                let message = e.to_string();
                let message = message.rfind(" at line ").map_or(message.as_str(), |i| &message[..i]).to_string();
                RecordError::at(StateError::Malformed(message), at(row))
            })?;
            // Customer k stands on line k + 2 (after the header).
            if let Some(first) = out.index_of(&line.customer_id) {
                return Err(RecordError {
                    error: StateError::Duplicate { customer: line.customer_id.into_owned() }.into(),
                    record: at(row),
                    other_record: at(first + 2),
                });
            }
            let customer = CustomerRef {
                id: &line.customer_id,
                legal_entity: line.legal_entity.as_deref(),
                kind: line.customer_kind,
            };
            let i = out.insert(customer, line.state).map_err(|e| RecordError::at(e, at(row)))?;
            if !line.history.is_empty() {
                let history = crate::History::from_map(line.history).map_err(|e| RecordError::at(e, at(row)))?;
                out.set_history(i, &history).map_err(|e| RecordError::at(e, at(row)))?;
            }
        }
        Ok(out)
    }
}
