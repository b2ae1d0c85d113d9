//! Where a portfolio evaluation's records go (SPEC §15.1, §15.4): every record dated and
//! resolved to its customer once, duplicates and out-of-month records held, new customers
//! ordered.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::extract::{Extract, located};
use super::options::MonthRange;
use super::record::{PortfolioFailure, RecordError};
use super::states::PortfolioStates;
use crate::error::InputError;
use crate::month::Month;
use crate::rules::RuleBook;

/// No record (an index that is never a row's).
pub(super) const NONE: u32 = u32::MAX;

/// An index as the placement keeps it: [`Placement::new`] refuses extracts whose customers,
/// records or designations could reach [`NONE`], so every index it makes fits below it (the
/// `NONE` of the fallback is never met).
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(NONE)
}

/// Why and from when a customer is held back.
struct Hold {
    from: Month,
    error: RecordError,
}

/// What a portfolio evaluation decides before it changes anything: the records of each month
/// and the customer each belongs to, the customers held back, and the new customers with the
/// month they join. Every record's customer is resolved here, once.
pub(super) struct Placement<'x> {
    /// Indices of each month's AUM records (duplicates and records of customers that never
    /// join removed).
    pub(super) month_rows: Vec<Vec<u32>>,
    /// Indices of each month's designations (likewise).
    pub(super) month_designations: Vec<Vec<u32>>,
    /// The customer (index in the states after the new ones join) of each AUM record.
    pub(super) row_customer: Vec<u32>,
    /// The customer of each designation.
    pub(super) designation_customer: Vec<u32>,
    /// New customers, in the order they join, with the month they join.
    pub(super) joining: Vec<(&'x str, Month)>,
    /// When there are no stored customers and the new ones join in the order their ids were
    /// met (a first month, as usual): the placement's table of new ids, which is then exactly the
    /// states' index of the joining customers (same hash, entry `j` is customer `j`).
    pub(super) joining_index: Option<HashTable<u32>>,
    /// Held customers: (customer index, or none for a customer that never joins; from; why).
    pub(super) holds: Vec<(Option<usize>, Month, RecordError)>,
}

/// Customers by provisional index: stored ones first, then every new id in the order met.
struct Ids<'x> {
    known: usize,
    /// New ids, as indices into `names` (4 bytes a customer: a first month adds them all).
    new: HashTable<u32>,
    names: Vec<&'x str>,
    /// The stored customer after the last one found: extracts usually list customers in the
    /// order the states keep them (both by id), so the next record's customer is tried there
    /// before the id is hashed.
    cursor: usize,
}

impl<'x> Ids<'x> {
    fn of(&mut self, states: &PortfolioStates, id: &'x str) -> u32 {
        if self.cursor < states.len() && states.identities.id(self.cursor) == id {
            self.cursor += 1;
            return index(self.cursor - 1);
        }
        if !states.is_empty()
            && let Some(i) = states.index_of(id)
        {
            self.cursor = i + 1;
            return index(i);
        }
        let names = &mut self.names;
        let h = FxBuildHasher.hash_one(id);
        // Every entry of the table is an index into `names`: `unwrap_or_default` is never taken.
        let name = |names: &[&'x str], j: u32| names.get(j as usize).copied().unwrap_or_default();
        let j = match self.new.entry(h, |&j| name(names, j) == id, |&j| FxBuildHasher.hash_one(name(names, j))) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let j = index(names.len());
                e.insert(j);
                names.push(id);
                j
            }
        };
        index(self.known + j as usize)
    }
}

/// The customers held back, by provisional index, each from its earliest hold.
struct Holds<'s> {
    map: FxHashMap<u32, Hold>,
    /// For a catch-up run (SPEC §15.7): the stored states, whose customers are evaluated from
    /// the month after their last one, so that a bad record of a month a customer is not due
    /// in is left alone.
    catch_up: Option<&'s PortfolioStates>,
}

impl Holds<'_> {
    /// Holds `customer` from `from`; `dated` is whether the record's own month is `from` (an
    /// undated bad record holds from the first month the customer is evaluated in).
    fn add(&mut self, customer: u32, from: Month, dated: bool, error: RecordError) {
        let mut from = from;
        if let Some(states) = self.catch_up
            && let Some(due) = states.states.get(customer as usize).and_then(|s| s.last_month).map(Month::next)
            && from < due
        {
            if dated {
                return;
            }
            from = due;
        }
        match self.map.get_mut(&customer) {
            Some(h) if h.from <= from => {}
            Some(h) => *h = Hold { from, error },
            None => {
                self.map.insert(customer, Hold { from, error });
            }
        }
    }
}

impl<'x> Placement<'x> {
    /// Places the records of the months. `join_new` is false for a catch-up run (SPEC §15.7):
    /// the records of customers the states do not hold are then left alone, and nobody joins.
    pub(super) fn new(
        book: &RuleBook,
        states: &PortfolioStates,
        months: MonthRange,
        extract: &'x Extract,
        join_new: bool,
    ) -> Result<Self, PortfolioFailure> {
        let known = states.len();
        // Each reject, record and designation may name a new customer: all of them and the
        // stored ones must have indices below `NONE`.
        let most = [extract.rejects.len(), extract.records.len(), extract.designations.len()]
            .into_iter()
            .try_fold(known, usize::checked_add);
        if most.is_none_or(|n| n >= NONE as usize) {
            let message = format!("the run holds at most {} customers, records and designations", NONE - 1);
            let error = InputError::new("", Some(months.first()), "records", message);
            return Err(PortfolioFailure {
                errors: vec![RecordError { error: error.into(), record: None, other_record: None }],
            });
        }
        // Room for every record's customer to be new when the extract has more records than
        // there are stored customers (a first month), so that the map does not grow by doubling.
        let expect_new = extract.records.len().saturating_sub(known);
        let mut draft = Draft {
            states,
            months,
            extract,
            ids: Ids {
                known,
                new: HashTable::with_capacity(expect_new),
                names: Vec::with_capacity(expect_new),
                cursor: 0,
            },
            holds: Holds { map: FxHashMap::default(), catch_up: (!join_new).then_some(states) },
            month_rows: vec![Vec::new(); months.len()],
            row_customer: vec![NONE; extract.records.len()],
            month_designations: vec![Vec::new(); months.len()],
            designation_customer: vec![NONE; extract.designations.len()],
        };
        for r in &extract.rejects {
            let dated = r.month.filter(|m| months.contains(*m));
            let c = draft.ids.of(states, &r.customer_id);
            draft.holds.add(c, dated.unwrap_or(months.first()), dated.is_some(), r.error.clone());
        }
        draft.date_records(book)?;
        draft.date_designations();
        let first_seen = draft.drop_duplicates();
        Ok(draft.finish(&first_seen, join_new))
    }
}

/// A placement being made: the customers met so far, the holds, and each month's records.
struct Draft<'x, 's> {
    states: &'s PortfolioStates,
    months: MonthRange,
    extract: &'x Extract,
    ids: Ids<'x>,
    holds: Holds<'s>,
    month_rows: Vec<Vec<u32>>,
    row_customer: Vec<u32>,
    month_designations: Vec<Vec<u32>>,
    designation_customer: Vec<u32>,
}

impl<'x> Draft<'x, '_> {
    /// Dates every AUM record: undated ones stop the run, ones outside the months or of a kind
    /// the book does not tier hold their customer.
    fn date_records(&mut self, book: &RuleBook) -> Result<(), PortfolioFailure> {
        let (extract, months) = (self.extract, self.months);
        let single = (months.len() == 1).then_some(months.first());
        let mut undated = Vec::new();
        for ((k, r), owner) in extract.records.iter().enumerate().zip(self.row_customer.iter_mut()) {
            let id = extract.id_of(r);
            let c = self.ids.of(self.states, id);
            let Some(m) = r.month.or(single) else {
                let message = format!("the record has no month, and the run covers {months}");
                let error = InputError::new(id, None, "month", message);
                undated.push(located(error, extract.record(r.table, r.row)));
                continue;
            };
            if !months.contains(m) {
                let message = format!("the record is dated {m}, outside the declared month(s) {months}");
                let error = InputError::new(id, Some(m), "month", message);
                self.holds.add(c, months.first(), false, located(error, extract.record(r.table, r.row)));
                continue;
            }
            // A kind the rule book does not tier holds its customer before anything (SPEC §9):
            // a new customer of that kind never joins.
            if let Some(kind) = r.kind.filter(|&k| !book.tiers_kind(k)) {
                let error = book.kind_not_tiered(id, kind, Some(m));
                self.holds.add(c, m, true, located(error, extract.record(r.table, r.row)));
                continue;
            }
            *owner = c;
            if let Some(rows) = months.offset(m).and_then(|o| self.month_rows.get_mut(o)) {
                rows.push(index(k));
            }
        }
        if undated.is_empty() { Ok(()) } else { Err(PortfolioFailure { errors: undated }) }
    }

    /// Dates every designation: one outside the months holds its customer.
    fn date_designations(&mut self) {
        let (extract, months) = (self.extract, self.months);
        for ((k, d), owner) in extract.designations.iter().enumerate().zip(self.designation_customer.iter_mut()) {
            let c = self.ids.of(self.states, &d.customer_id);
            if !months.contains(d.month) {
                let message = format!("the designation is dated {}, outside the declared month(s) {months}", d.month);
                let error = InputError::new(&d.customer_id, Some(d.month), "month", message);
                self.holds.add(c, months.first(), false, located(error, extract.record(d.table, d.row)));
                continue;
            }
            *owner = c;
            if let Some(list) = months.offset(d.month).and_then(|o| self.month_designations.get_mut(o)) {
                list.push(index(k));
            }
        }
    }

    /// Drops the second record of a customer-month, which holds the customer (both named), and
    /// returns each new customer's first kept record (month offset, table, row; `NOT_SEEN` when
    /// none), which decides where it joins.
    fn drop_duplicates(&mut self) -> Vec<(u32, u32, u64)> {
        let (extract, months, known) = (self.extract, self.months, self.ids.known);
        let total = known + self.ids.names.len();
        let mut first_seen: Vec<(u32, u32, u64)> = vec![NOT_SEEN; self.ids.names.len()];
        let mut seen = Seen::new(total, !extract.records.is_empty());
        let mut seen_designation = Seen::new(total, !extract.designations.is_empty());
        // The month lists hold indices of the extract's own records and designations (made by
        // `date_records` and `date_designations`): the defaults are never taken.
        let record_at =
            |k: u32| extract.records.get(k as usize).map_or((0, 0, ""), |r| (r.table, r.row, extract.id_of(r)));
        let designation_at = |k: u32| {
            extract.designations.get(k as usize).map_or((0, 0, ""), |d| (d.table, d.row, d.customer_id.as_str()))
        };
        let lists = self.month_rows.iter_mut().zip(self.month_designations.iter_mut());
        for ((offset, m), (rows, designations)) in months.months().enumerate().zip(lists) {
            let kept = seen.dedup(rows, &mut self.row_customer, offset, |k, f| {
                duplicate(extract, m, "record", "customer_id", record_at(k), record_at(f))
            });
            let kept_designations =
                seen_designation.dedup(designations, &mut self.designation_customer, offset, |k, f| {
                    duplicate(extract, m, "designation", "special", designation_at(k), designation_at(f))
                });
            for (c, error) in kept.1.into_iter().chain(kept_designations.1) {
                self.holds.add(c, m, true, error);
            }
            let mut first = |list: &[u32], owner: &[u32], at: &dyn Fn(u32) -> (u32, u64, &'x str)| {
                for &k in list {
                    // New customers only (`c >= known`), each with its slot in `first_seen`.
                    let new = owner.get(k as usize).and_then(|&c| (c as usize).checked_sub(known));
                    if let Some(f) = new.and_then(|j| first_seen.get_mut(j)) {
                        let (t, r, _) = at(k);
                        if (index(offset), t, r) < *f {
                            *f = (index(offset), t, r);
                        }
                    }
                }
            };
            first(&kept.0, &self.row_customer, &record_at);
            first(&kept_designations.0, &self.designation_customer, &designation_at);
            *rows = kept.0;
            *designations = kept_designations.0;
        }
        first_seen
    }

    /// New customers join at their first record, in record order, unless held from before; the
    /// records and holds are given the customers' final indices.
    fn finish(mut self, first_seen: &[(u32, u32, u64)], join_new: bool) -> Placement<'x> {
        let (months, known) = (self.months, self.ids.known);
        // Usually the ids were met in that order already, and the check is all it costs.
        let seen_at = |j: &u32| first_seen.get(*j as usize).copied().unwrap_or(NOT_SEEN);
        let mut order: Vec<u32> = (0..index(first_seen.len())).filter(|j| join_new && seen_at(j) != NOT_SEEN).collect();
        if !order.is_sorted_by_key(seen_at) {
            order.sort_by_key(seen_at);
        }
        let mut final_of_new = vec![NONE; self.ids.names.len()];
        let mut joining = Vec::new();
        for j in order {
            let j = j as usize;
            // `first_seen`, `names` and `final_of_new` have one entry per new customer.
            let (Some(&(offset, _, _)), Some(&name)) = (first_seen.get(j), self.ids.names.get(j)) else {
                continue;
            };
            // An offset into the months (at most 9999 years of them), never above i32::MAX.
            let m = months.first().plus(i32::try_from(offset).unwrap_or(i32::MAX));
            if self.holds.map.get(&index(known + j)).is_some_and(|h| h.from <= m) {
                continue;
            }
            if let Some(f) = final_of_new.get_mut(j) {
                *f = index(known + joining.len());
            }
            joining.push((name, m));
        }
        let final_of = |c: u32| {
            if c == NONE || (c as usize) < known {
                c
            } else {
                final_of_new.get(c as usize - known).copied().unwrap_or(NONE)
            }
        };
        for c in self.row_customer.iter_mut().chain(self.designation_customer.iter_mut()) {
            *c = final_of(*c);
        }
        for list in &mut self.month_rows {
            list.retain(|&k| self.row_customer.get(k as usize).is_some_and(|&c| c != NONE));
        }
        for list in &mut self.month_designations {
            list.retain(|&k| self.designation_customer.get(k as usize).is_some_and(|&c| c != NONE));
        }
        let mut holds: Vec<(Option<usize>, Month, RecordError)> = std::mem::take(&mut self.holds.map)
            .into_iter()
            .map(|(c, h)| (Some(final_of(c)).filter(|&c| c != NONE).map(|c| c as usize), h.from, h.error))
            .collect();
        holds.sort_by(|a, b| a.2.record.cmp(&b.2.record).then(a.2.customer().cmp(&b.2.customer())));
        let identity = final_of_new.iter().enumerate().all(|(j, &f)| f as usize == j);
        let joining_index = (known == 0 && identity).then_some(self.ids.new);
        Placement {
            month_rows: self.month_rows,
            month_designations: self.month_designations,
            row_customer: self.row_customer,
            designation_customer: self.designation_customer,
            joining,
            joining_index,
            holds,
        }
    }
}

/// No kept record of a new customer yet (greater than any real one).
const NOT_SEEN: (u32, u32, u64) = (u32::MAX, u32::MAX, u64::MAX);

/// The first record of each customer in the month being scanned.
struct Seen {
    /// The month (offset) each customer was last seen in.
    month: Vec<u32>,
    /// Its first record in that month.
    first: Vec<u32>,
}

impl Seen {
    /// Room for `customers` when there are records to scan (none is needed otherwise).
    fn new(customers: usize, needed: bool) -> Self {
        let n = if needed { customers } else { 0 };
        Seen { month: vec![NONE; n], first: vec![NONE; n] }
    }

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
            // `k` is a record of the month and its owner a customer below `customers`.
            let Some(o) = owner.get_mut(k as usize) else { continue };
            let c = *o as usize;
            let (Some(month), Some(first)) = (self.month.get_mut(c), self.first.get_mut(c)) else { continue };
            if *month == index(offset) {
                held.push((index(c), duplicate(k, *first)));
                *o = NONE;
                continue;
            }
            *month = index(offset);
            *first = k;
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
