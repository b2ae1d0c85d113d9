//! A committed range read back for replaying it under another rule book (`simulate --store`,
//! Python's `Store.simulate`; SPEC §15.9): the states before it, each customer-month's AUM as
//! committed, the special VIP designations as applied, the customers held back, and the
//! committed tier counts, all from one snapshot.

use std::collections::HashMap;

use crm_tiering::portfolio::{CommittedCount, Extract, MonthRange};
use crm_tiering::{AumInput, CustomerState, Month, SpecialChange, SpecialVip, TierCode};

use crate::protocol::Db;
use crate::types::{LatestStates, StateRow};
use crate::{Store, StoreError};

/// What a store holds of a range of committed months, as the input of a replay
/// ([`Store::stored_range`]).
#[derive(Debug, Clone)]
pub struct StoredRange {
    /// The months replayed (every one committed).
    pub months: MonthRange,
    /// The states of the latest committed month before the first (none: new customers).
    pub start: Option<LatestStates>,
    /// The months as an extract: a record of the month's AUM (a total) for each customer-month
    /// evaluated from one, the designations granted and revoked, and a refused record holding
    /// back each customer-month the store holds without an evaluation.
    pub extract: Extract,
    /// Per month, the customers evaluated at each effective tier (held ones not counted).
    pub committed: Vec<CommittedCount>,
    /// The text of the rule book that committed the last month (rule book A by default).
    pub rule_book: String,
    /// Each month and the fingerprint of the rule book that committed it.
    pub rule_books: Vec<(Month, String)>,
}

impl Store {
    /// The committed months `months` read back in one snapshot, for replaying them under
    /// other rule books (SPEC §15.9).
    ///
    /// # Errors
    /// [`crate::StoreErrorKind::Input`] when a month of the range is not committed (naming
    /// them); [`crate::StoreErrorKind::Corrupt`] and [`crate::StoreErrorKind::Database`] as
    /// for [`Store::for_each_state`].
    pub fn stored_range(&mut self, months: MonthRange) -> Result<StoredRange, StoreError> {
        self.db.stored_range(months)
    }
}

impl Db {
    fn stored_range(&mut self, months: MonthRange) -> Result<StoredRange, StoreError> {
        self.snapshot(|db| {
            let chain = db.chain()?;
            let (mut records, mut missing) = (Vec::new(), Vec::new());
            for m in months.months() {
                match chain.months.iter().find(|r| r.month == m) {
                    Some(r) => records.push(r.clone()),
                    None => missing.push(m.to_string()),
                }
            }
            if !missing.is_empty() {
                return Err(StoreError::Input(format!(
                    "{} of {months} {} not committed in the store ({}); nothing was read: give committed months only",
                    missing.len(),
                    if missing.len() == 1 { "is" } else { "are" },
                    missing.join(", ")
                )));
            }
            let start = db.states_before(Some(months.first()))?;
            let last_run = records.last().map(|r| r.run_id).unwrap_or_default();
            let rule_book = db.run_rule_book(last_run)?.ok_or_else(|| {
                StoreError::Corrupt(format!("run {last_run}, which committed {}, has no rule book", months.last()))
            })?;
            let mut reader = RangeReader::new(start.as_ref());
            db.for_each_state(months.first(), months.last(), &mut |row| {
                reader.row(row);
                Ok(())
            })?;
            Ok(StoredRange {
                months,
                start,
                extract: reader.extract,
                committed: reader.committed,
                rule_book,
                rule_books: records.iter().map(|r| (r.month, r.rule_book_fingerprint.clone())).collect(),
            })
        })
    }
}

/// Builds the replay's extract and counts from the stored rows, month by month.
struct RangeReader {
    extract: Extract,
    committed: Vec<CommittedCount>,
    /// Each customer's designation before the month being read.
    special: HashMap<String, SpecialVip>,
    /// The month being read, its table name, and the customer's place in it (the record's row).
    month: Option<Month>,
    table: String,
    row: u64,
}

impl RangeReader {
    fn new(start: Option<&LatestStates>) -> Self {
        let special = start
            .map(|s| s.states.iter().filter_map(|(c, st)| st.special.map(|sp| (c.id.to_string(), sp))).collect())
            .unwrap_or_default();
        RangeReader {
            extract: Extract::default(),
            committed: Vec::new(),
            special,
            month: None,
            table: String::new(),
            row: 0,
        }
    }

    fn row(&mut self, r: StateRow) {
        if self.month != Some(r.month) {
            self.month = Some(r.month);
            self.table = format!("stored {}", r.month);
            self.row = 0;
        }
        self.row += 1;
        let table = self.table.as_str();
        let id = r.customer.id.as_str();
        let Some((aum, with_record)) = r.evaluated else {
            let why = format!(
                "held back in the committed month {}: what it would be evaluated from is not stored, so the replay holds it back too",
                r.month
            );
            self.extract.reject(table, self.row, Some(id), Some(r.month), "month", why);
            return;
        };
        count(&mut self.committed, r.month, r.state.effective_tier);
        if with_record {
            let entity = r.customer.legal_entity.as_deref();
            self.extract.push_aum(
                table,
                self.row,
                id,
                entity,
                Some(r.customer.kind),
                Some(r.month),
                AumInput::Total(aum),
            );
        }
        let before = self.special.get(id).copied();
        if let Some(change) = designation(r.month, before, &r.state) {
            self.extract.push_designation(table, self.row, id, r.month, change);
        }
        match r.state.special {
            Some(sp) => self.special.insert(id.to_string(), sp),
            None => self.special.remove(id),
        };
    }
}

/// Counts one customer at `tier` in `month` (the month's counts are the last ones).
fn count(committed: &mut Vec<CommittedCount>, month: Month, tier: Option<TierCode>) {
    match committed.iter_mut().rev().take_while(|c| c.month == month).find(|c| c.tier == tier) {
        Some(c) => c.count += 1,
        None => committed.push(CommittedCount { month, tier, count: 1 }),
    }
}

/// The designation change a month applied, from the designation before it and the state after
/// it (SPEC §15.9): one starting the month after was granted; one gone before its last month
/// was revoked (an expiry, or a revocation in the last month, changes nothing a replay sees).
fn designation(month: Month, before: Option<SpecialVip>, after: &CustomerState) -> Option<SpecialChange> {
    match after.special {
        Some(sp) if sp.first_month == month.next() => {
            let months = u32::try_from(sp.last_month.months_since(sp.first_month) + 1).ok()?;
            Some(SpecialChange::Grant { tier: Some(sp.tier), months: Some(months) })
        }
        Some(_) => None,
        None => before.filter(|b| b.last_month > month).map(|_| SpecialChange::Revoke),
    }
}
