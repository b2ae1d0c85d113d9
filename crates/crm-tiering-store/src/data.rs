//! A month's data as a writer collects it, and the rules every backend shares about it.

use crm_tiering::{Alert, Event, Month};

use crate::StoreError;
use crate::codec::{Dictionaries, F_EVALUATED, F_HISTORY, STATE_BYTES};
use crate::types::{RejectRow, RunCounts, RunMeta};

/// An event or alert row: month, customer, order within the customer's month, kind code, JSON.
pub(crate) struct JsonRow {
    pub(crate) month: i64,
    pub(crate) customer_id: String,
    pub(crate) seq: i32,
    pub(crate) kind: &'static str,
    pub(crate) json: String,
}

/// A month's encoded states as the writer collects them: the ids in one buffer, no allocation
/// per customer; [`StateRows::sort`] orders them by customer id for the backends.
#[derive(Default)]
pub(crate) struct StateRows {
    ids: String,
    ends: Vec<u32>,
    rows: Vec<[u8; STATE_BYTES]>,
    /// The histories (JSON) of the customers that have one, by index in `rows` (increasing):
    /// none for a book without windows.
    histories: Vec<(u32, String)>,
    /// Indexes in customer id order (after `sort`).
    order: Vec<u32>,
}

impl StateRows {
    pub(crate) fn reserve(&mut self, customers: usize) {
        self.ends.reserve(customers);
        self.rows.reserve(customers);
        self.ids.reserve(12 * customers);
    }

    /// Adds a customer's row and its history (JSON; none when empty), marking the row with
    /// whether it has one.
    ///
    /// # Errors
    /// [`StoreError::Input`] beyond `u32::MAX` customers or bytes of ids.
    pub(crate) fn push(
        &mut self,
        customer_id: &str,
        mut row: [u8; STATE_BYTES],
        history: Option<String>,
    ) -> Result<(), StoreError> {
        self.ids.push_str(customer_id);
        let too_many =
            || StoreError::Input("more than 4 GiB of customer ids or 4 billion customers in one month".into());
        self.ends.push(u32::try_from(self.ids.len()).map_err(|_| too_many())?);
        let index = u32::try_from(self.rows.len()).map_err(|_| too_many())?;
        self.order.push(index);
        match history {
            Some(h) => {
                row[3] |= F_HISTORY;
                self.histories.push((index, h));
            }
            None => row[3] &= !F_HISTORY,
        }
        self.rows.push(row);
        Ok(())
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    fn id(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.ids.get(start..self.ends[i] as usize).unwrap_or_default()
    }

    /// Orders the rows by customer id (a stable sort, so the usual order, the stored customers
    /// in id order followed by the month's new ones, costs one merge), refusing a customer
    /// given twice.
    fn sort(&mut self) -> Result<(), StoreError> {
        let mut order = std::mem::take(&mut self.order);
        order.sort_by(|&a, &b| self.id(a).as_bytes().cmp(self.id(b).as_bytes()));
        self.order = order;
        if let Some(w) = self.order.windows(2).find(|w| self.id(w[0]) == self.id(w[1])) {
            return Err(StoreError::Input(format!("customer {} was given twice in the month", self.id(w[0]))));
        }
        Ok(())
    }

    /// The history of row `i`, when it has one.
    fn history(&self, i: u32) -> Option<&str> {
        let row = &self.rows[i as usize];
        if row[3] & F_HISTORY == 0 {
            return None;
        }
        let at = self.histories.binary_search_by_key(&i, |(k, _)| *k).ok()?;
        self.histories.get(at).map(|(_, h)| h.as_str())
    }

    /// The (customer id, row, history) triples, in customer id order once sorted.
    pub(crate) fn sorted(&self) -> impl Iterator<Item = (&str, &[u8; STATE_BYTES], Option<&str>)> + '_ {
        self.order.iter().map(|&i| (self.id(i), &self.rows[i as usize], self.history(i)))
    }
}

/// A month as collected by the writer.
#[derive(Default)]
pub(crate) struct MonthData {
    pub(crate) dicts: Dictionaries,
    pub(crate) states: StateRows,
    pub(crate) events: Vec<JsonRow>,
    pub(crate) alerts: Vec<JsonRow>,
    pub(crate) rejects: Vec<RejectRow>,
    /// Why the month cannot be written, found while rows were given (an event of another
    /// month, for instance): reported at the commit.
    pub(crate) misplaced: Option<String>,
}

impl MonthData {
    fn seq(rows: &[JsonRow], month: i64, customer_id: &str) -> i32 {
        match rows.last() {
            Some(last) if last.month == month && last.customer_id == customer_id => last.seq + 1,
            _ => 0,
        }
    }

    pub(crate) fn push_event(&mut self, customer_id: &str, e: &Event) {
        let month = e.month.yyyymm();
        let seq = Self::seq(&self.events, month, customer_id);
        let json = serde_json::to_string(e).unwrap_or_default();
        self.events.push(JsonRow { month, customer_id: customer_id.to_string(), seq, kind: e.kind.as_str(), json });
    }

    pub(crate) fn push_alert(&mut self, customer_id: &str, a: &Alert) {
        let month = a.month.yyyymm();
        let seq = Self::seq(&self.alerts, month, customer_id);
        let json = serde_json::to_string(a).unwrap_or_default();
        self.alerts.push(JsonRow { month, customer_id: customer_id.to_string(), seq, kind: a.kind.as_str(), json });
    }

    /// Sorts the rows by key (states by customer id, events and alerts by month, customer and
    /// order), refuses a customer given twice, and counts.
    pub(crate) fn prepare(&mut self) -> Result<RunCounts, StoreError> {
        self.states.sort()?;
        // Seqs restart per customer-month; a customer given in two separate runs of rows gets
        // them renumbered.
        for rows in [&mut self.events, &mut self.alerts] {
            rows.sort_by(|a, b| {
                a.month
                    .cmp(&b.month)
                    .then(a.customer_id.as_bytes().cmp(b.customer_id.as_bytes()))
                    .then(a.seq.cmp(&b.seq))
            });
            let mut prev: Option<(i64, String, i32)> = None;
            for r in rows.iter_mut() {
                if let Some((m, c, s)) = &prev
                    && *m == r.month
                    && *c == r.customer_id
                    && r.seq <= *s
                {
                    r.seq = s + 1;
                }
                prev = Some((r.month, r.customer_id.clone(), r.seq));
            }
        }
        Ok(RunCounts {
            states: self.states.len() as u64,
            evaluated: self.states.rows.iter().filter(|b| b[3] & F_EVALUATED != 0).count() as u64,
            events: self.events.len() as u64,
            alerts: self.alerts.len() as u64,
            rejects: self.rejects.len() as u64,
        })
    }
}

/// Checks the month against the committed months. `committed` is the month's committing run
/// and when it finished, when there is one; `latest` the latest committed month.
pub(crate) fn check_sequence(
    month: Month,
    rerun: bool,
    committed: Option<(i64, String)>,
    latest: Option<Month>,
) -> Result<(), StoreError> {
    if let Some((run, at)) = committed {
        if !rerun {
            return Err(StoreError::AlreadyCommitted(format!(
                "month {month} is already committed (run {run}, finished {at}); nothing was written: pass --rerun to replace it (both runs stay in the audit)"
            )));
        }
        if let Some(l) = latest
            && l > month
        {
            return Err(StoreError::Sequence(format!(
                "month {month} cannot be rerun: later months up to {l} are committed and were computed from it"
            )));
        }
        return Ok(());
    }
    if let Some(l) = latest
        && l > month
    {
        return Err(StoreError::Sequence(format!(
            "month {month} is before the latest committed month {l}; nothing was written"
        )));
    }
    Ok(())
}

/// Decodes event/alert JSON rows.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("a stored {what} does not decode: {e}")))
}

/// A run's inputs from their stored JSON.
pub(crate) fn parse_inputs(text: &str) -> Result<Vec<crate::InputFile>, StoreError> {
    parse_json("list of input files", text)
}

/// A run's counts from their stored JSON.
pub(crate) fn parse_counts(text: Option<String>) -> Result<Option<RunCounts>, StoreError> {
    text.map(|t| parse_json("run counts", &t)).transpose()
}

/// The rule book text must give the fingerprint, so that states read back are stamped right.
pub(crate) fn check_meta(meta: &RunMeta) -> Result<(), StoreError> {
    let book = crm_tiering::RuleBook::from_str_auto(&meta.rule_book_text)
        .map_err(|e| StoreError::Input(format!("the run's rule book text does not load: {e}")))?;
    if book.fingerprint() != meta.rule_book_fingerprint {
        return Err(StoreError::Input(format!(
            "the run's rule book text gives fingerprint {} but the run names {}",
            book.fingerprint(),
            meta.rule_book_fingerprint
        )));
    }
    Ok(())
}
