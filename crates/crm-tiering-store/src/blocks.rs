//! A month's states in blocks: how the SQLite backend keeps them.
//!
//! One row per customer costs SQLite about a microsecond to insert and half of one to read
//! back, which for a million customers is most of a monthly run. The SQLite backend therefore
//! keeps a month's states in blocks of consecutive customers (in customer id order), one row
//! of `state_blocks` each:
//!
//! | column | content |
//! |---|---|
//! | `month`, `block` | the month (yyyymm) and the block's number within it, from 0 |
//! | `first_customer` | the block's first customer id (the lookup key of one customer) |
//! | `customers` | how many customers the block holds (1 to [`BLOCK_CUSTOMERS`]) |
//! | `id_ends` | for each customer, where its id ends in `ids`: a big-endian `u16` each |
//! | `ids` | the customer ids, UTF-8, one after the other without separators |
//! | `states` | the 64-byte states ([`crate::codec`]), one after the other |
//! | `histories` | null when no customer of the block has a history (a book without windows); else, for each customer, its history's length in bytes (a big-endian `u32`, 0 for none) and its JSON (`History::to_json`, SPEC §19.5) |
//!
//! A block holds at most [`BLOCK_CUSTOMERS`] customers and [`BLOCK_BYTES`] bytes of ids, id
//! ends, states and histories, so that it fills one 64 KiB database page (a new store's page
//! size) and the SQL view `states`, which unnests the blocks into one row per customer-month
//! like the PostgreSQL backend's table, reads each block in place rather than copying it per
//! customer. (The view gives the states only: a customer's history is read by the store.)

use crate::StoreError;
use crate::codec::STATE_BYTES;

/// The most customers in one block (the rows of the `state_slots` table).
pub(crate) const BLOCK_CUSTOMERS: usize = 1024;
/// The most bytes of ids, id ends and states in one block: below a 64 KiB page's local payload
/// (65,501 bytes) with room for the other columns, and below `u16::MAX` for `id_ends`.
pub(crate) const BLOCK_BYTES: usize = 65_000;

/// One block, as written.
#[derive(Debug, Default)]
pub(crate) struct Block {
    pub(crate) first_customer: String,
    pub(crate) customers: usize,
    pub(crate) id_ends: Vec<u8>,
    pub(crate) ids: Vec<u8>,
    pub(crate) states: Vec<u8>,
    /// The customers' histories, framed (see the module); empty when none has one.
    pub(crate) histories: Vec<u8>,
}

impl Block {
    /// The bytes `history` adds to the block's histories: its frame, and the empty frames of
    /// the customers before it when it is the block's first history.
    fn history_bytes(&self, history: Option<&str>) -> usize {
        match history {
            None if self.histories.is_empty() => 0,
            None => 4,
            Some(h) if self.histories.is_empty() => 4 * (self.customers + 1) + h.len(),
            Some(h) => 4 + h.len(),
        }
    }

    fn push_history(&mut self, history: Option<&str>) {
        if history.is_none() && self.histories.is_empty() {
            return;
        }
        if self.histories.is_empty() {
            self.histories.resize(4 * self.customers, 0);
        }
        let h = history.unwrap_or_default();
        // A history is a few hundred bytes at most (23 months of a few measures).
        let len = u32::try_from(h.len()).unwrap_or(u32::MAX);
        self.histories.extend_from_slice(&len.to_be_bytes());
        self.histories.extend_from_slice(h.as_bytes());
    }
}

/// Cuts states sorted by customer id, each with its history (JSON, none when empty), into
/// blocks, calling `f` with each block's number and contents (one block buffer, reused).
///
/// # Errors
/// What `f` returns.
pub(crate) fn for_each_block<'a, 'b, E>(
    states: impl IntoIterator<Item = (&'a str, &'b [u8; STATE_BYTES], Option<&'a str>)>,
    mut f: impl FnMut(i64, &Block) -> Result<(), E>,
) -> Result<(), E> {
    let mut b = Block::default();
    let mut number = 0i64;
    for (id, row, history) in states {
        let bytes = b.ids.len() + b.id_ends.len() + b.states.len() + b.histories.len();
        let adds = id.len() + 2 + STATE_BYTES + b.history_bytes(history);
        if b.customers > 0 && (b.customers == BLOCK_CUSTOMERS || bytes + adds > BLOCK_BYTES) {
            f(number, &b)?;
            number += 1;
            b.customers = 0;
            b.id_ends.clear();
            b.ids.clear();
            b.states.clear();
            b.histories.clear();
        }
        if b.customers == 0 {
            b.first_customer.clear();
            b.first_customer.push_str(id);
            b.id_ends.reserve(2 * 1000);
            b.ids.reserve(16 * 1000);
            b.states.reserve(STATE_BYTES * 1000);
        }
        b.ids.extend_from_slice(id.as_bytes());
        // A block holds at most BLOCK_BYTES < u16::MAX bytes: the end fits a u16.
        let end = u16::try_from(b.ids.len()).unwrap_or(u16::MAX);
        b.id_ends.extend_from_slice(&end.to_be_bytes());
        b.states.extend_from_slice(row);
        b.push_history(history);
        b.customers += 1;
    }
    if b.customers > 0 {
        f(number, &b)?;
    }
    Ok(())
}

/// A stored block, checked: its customers' ids and states can be read by index.
pub(crate) struct StoredBlock<'a> {
    month: i64,
    block: i64,
    ends: &'a [u8],
    /// The ids, one after the other (checked: each ends on a character boundary).
    ids: &'a str,
    states: &'a [u8],
    customers: usize,
    /// Each customer's history, by index; empty when the block has none.
    histories: Vec<Option<&'a str>>,
}

impl<'a> StoredBlock<'a> {
    /// Checks a stored block's columns against each other.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] naming the month and block when the lengths disagree, the ends
    /// go backwards or past the ids, or the ids are not UTF-8.
    pub(crate) fn new(
        month: i64,
        block: i64,
        customers: i64,
        ends: &'a [u8],
        ids: &'a [u8],
        states: &'a [u8],
    ) -> Result<Self, StoreError> {
        let bad = |why: String| {
            StoreError::Corrupt(format!("block {block} of the states of {}: {why}", crate::types::month_text(month)))
        };
        let n = usize::try_from(customers)
            .ok()
            .filter(|n| (1..=BLOCK_CUSTOMERS).contains(n))
            .ok_or_else(|| bad(format!("{customers} customers")))?;
        if ends.len() != 2 * n {
            return Err(bad(format!("{} bytes of id ends for {n} customers", ends.len())));
        }
        if states.len() != STATE_BYTES * n {
            return Err(bad(format!("{} bytes of states for {n} customers", states.len())));
        }
        // One check of the whole buffer: the ids are UTF-8 each when it is and every end falls
        // on a character boundary.
        let ids = std::str::from_utf8(ids).map_err(|e| {
            let at = e.valid_up_to();
            let k = (0..n).find(|&k| usize::from(u16::from_be_bytes([ends[2 * k], ends[2 * k + 1]])) > at);
            bad(format!("the id of customer {} is not UTF-8", k.unwrap_or(n)))
        })?;
        let mut last = 0usize;
        for k in 0..n {
            let end = usize::from(u16::from_be_bytes([ends[2 * k], ends[2 * k + 1]]));
            if end <= last || end > ids.len() {
                return Err(bad(format!("the id of customer {k} ends at {end}")));
            }
            if !ids.is_char_boundary(end) {
                return Err(bad(format!("the id of customer {k} is not UTF-8")));
            }
            last = end;
        }
        if last != ids.len() {
            return Err(bad(format!("{} bytes of ids, {last} used", ids.len())));
        }
        Ok(StoredBlock { month, block, ends, ids, states, customers: n, histories: Vec::new() })
    }

    /// The block with its `histories` column (null when no customer of the block has a
    /// history), checked against its customers.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] naming the month, block and customer when the histories do not
    /// frame one history per customer or a history is not UTF-8.
    pub(crate) fn with_histories(mut self, histories: Option<&'a [u8]>) -> Result<Self, StoreError> {
        if let Some(h) = histories {
            self.histories = self.split_histories(h).map_err(|why| {
                StoreError::Corrupt(format!(
                    "block {} of the states of {}: {why}",
                    self.block,
                    crate::types::month_text(self.month)
                ))
            })?;
        }
        Ok(self)
    }

    /// Each customer's history from the block's framed histories.
    fn split_histories(&self, mut h: &'a [u8]) -> Result<Vec<Option<&'a str>>, String> {
        let mut out = Vec::with_capacity(self.customers);
        for k in 0..self.customers {
            let who = self.id(k);
            let Some((len, rest)) = h.split_first_chunk::<4>() else {
                return Err(format!("the histories end before customer {who}'s"));
            };
            let len = u32::from_be_bytes(*len) as usize;
            let Some((text, rest)) = rest.split_at_checked(len) else {
                return Err(format!("the history of customer {who} runs past the end of the histories"));
            };
            h = rest;
            if len == 0 {
                out.push(None);
                continue;
            }
            let text = std::str::from_utf8(text).map_err(|_| format!("the history of customer {who} is not UTF-8"))?;
            out.push(Some(text));
        }
        if !h.is_empty() {
            return Err(format!("{} bytes of histories after the last customer's", h.len()));
        }
        Ok(out)
    }

    /// The history of customer `k` (its JSON), none when it has none.
    pub(crate) fn history(&self, k: usize) -> Option<&'a str> {
        self.histories.get(k).copied().flatten()
    }

    /// How many customers the block holds.
    pub(crate) fn len(&self) -> usize {
        self.customers
    }

    fn end(&self, k: usize) -> usize {
        usize::from(u16::from_be_bytes([self.ends[2 * k], self.ends[2 * k + 1]]))
    }

    /// The id of customer `k` (checked UTF-8 in [`StoredBlock::new`]).
    pub(crate) fn id(&self, k: usize) -> &'a str {
        let start = if k == 0 { 0 } else { self.end(k - 1) };
        self.ids.get(start..self.end(k)).unwrap_or_default()
    }

    /// The encoded state of customer `k`.
    pub(crate) fn state(&self, k: usize) -> &'a [u8] {
        &self.states[STATE_BYTES * k..STATE_BYTES * (k + 1)]
    }

    /// The index of a customer in the block.
    pub(crate) fn find(&self, customer_id: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.customers);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.id(mid).as_bytes().cmp(customer_id.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Refuses ids out of order within the block, and after `previous` (the last id of the
    /// month's previous block).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] naming the month, block and ids.
    pub(crate) fn check_order(&self, previous: Option<&str>) -> Result<(), StoreError> {
        let mut prev = previous;
        for k in 0..self.customers {
            let id = self.id(k);
            if let Some(p) = prev
                && p.as_bytes() >= id.as_bytes()
            {
                return Err(StoreError::Corrupt(format!(
                    "block {} of the states of {}: customer {id} comes after {p}",
                    self.block,
                    crate::types::month_text(self.month)
                )));
            }
            prev = Some(id);
        }
        Ok(())
    }
}

/// SQL for an unsigned big-endian `u16` at index `k` (an SQL expression) of blob column `col`.
pub(crate) fn sql_u16(col: &str, k: &str) -> String {
    let digit =
        |n: usize| format!("(instr('0123456789ABCDEF', substr(hex(substr({col}, 2 * ({k}) + 1, 2)), {n}, 1)) - 1)");
    format!("({} * 4096 + {} * 256 + {} * 16 + {})", digit(1), digit(2), digit(3), digit(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize, id_len: usize) -> Vec<(String, [u8; STATE_BYTES])> {
        (0..n)
            .map(|i| {
                let mut row = [0u8; STATE_BYTES];
                row[..8].copy_from_slice(&(i as u64).to_be_bytes());
                (format!("{i:0id_len$}"), row)
            })
            .collect()
    }

    fn blocks(rows: &[(String, [u8; STATE_BYTES])]) -> Vec<Block> {
        let mut out = Vec::new();
        let r: Result<(), ()> = for_each_block(rows.iter().map(|(id, row)| (id.as_str(), row, None)), |n, b| {
            assert_eq!(n as usize, out.len());
            out.push(Block {
                first_customer: b.first_customer.clone(),
                customers: b.customers,
                id_ends: b.id_ends.clone(),
                ids: b.ids.clone(),
                states: b.states.clone(),
                histories: b.histories.clone(),
            });
            Ok(())
        });
        assert!(r.is_ok());
        out
    }

    #[test]
    fn blocks_round_trip_and_respect_both_limits() -> Result<(), StoreError> {
        for (n, id_len) in [(1, 1), (854, 10), (855, 10), (856, 10), (5000, 10), (3000, 64), (3000, 4)] {
            let input = rows(n, id_len);
            let bs = blocks(&input);
            let mut seen = Vec::new();
            let mut previous: Option<String> = None;
            for (i, b) in bs.iter().enumerate() {
                assert!(b.customers <= BLOCK_CUSTOMERS);
                assert!(b.ids.len() + b.id_ends.len() + b.states.len() <= BLOCK_BYTES);
                let s = StoredBlock::new(202401, i as i64, b.customers as i64, &b.id_ends, &b.ids, &b.states)?;
                s.check_order(previous.as_deref())?;
                assert_eq!(s.id(0), b.first_customer);
                for k in 0..s.len() {
                    assert_eq!(s.find(s.id(k)), Some(k));
                    seen.push((s.id(k).to_string(), <[u8; STATE_BYTES]>::try_from(s.state(k)).unwrap_or([9; 64])));
                }
                previous = Some(s.id(s.len() - 1).to_string());
            }
            assert_eq!(seen, input, "{n} customers of {id_len}-byte ids");
        }
        Ok(())
    }

    #[test]
    fn damaged_blocks_are_refused_naming_the_block() {
        let b = &blocks(&rows(3, 2))[0];
        type Case<'a> = (i64, &'a [u8], &'a [u8], &'a [u8]);
        let cases: [Case<'_>; 5] = [
            (4, &b.id_ends, &b.ids, &b.states),
            (3, &b.id_ends[..4], &b.ids, &b.states),
            (3, &b.id_ends, &b.ids[..5], &b.states),
            (3, &b.id_ends, &b.ids, &b.states[..100]),
            (3, &[0, 2, 0, 1, 0, 6], &b.ids, &b.states),
        ];
        for (n, ends, ids, states) in cases {
            match StoredBlock::new(202401, 7, n, ends, ids, states) {
                Err(e) => assert!(e.to_string().contains("block 7 of the states of 2024-01"), "{e}"),
                Ok(_) => panic!("accepted a damaged block"),
            }
        }
        let swapped = blocks(&[("b".to_string(), [0; 64]), ("a".to_string(), [0; 64])]);
        let s = StoredBlock::new(202401, 0, 2, &swapped[0].id_ends, &swapped[0].ids, &swapped[0].states);
        assert!(s.is_ok_and(|s| s.check_order(None).is_err()));
    }

    #[test]
    fn ids_that_are_not_utf8_are_refused_naming_the_customer() {
        let states = [0u8; 2 * STATE_BYTES];
        // Customer 1's id holds a lone continuation byte.
        let bad_byte = StoredBlock::new(202401, 3, 2, &[0, 2, 0, 4], b"c1\x80x", &states);
        // Customer 0's id ends inside the two bytes of `é`: each part alone is not UTF-8.
        let split = StoredBlock::new(202401, 3, 2, &[0, 2, 0, 4], "cé1".as_bytes(), &states);
        for (r, customer) in [(bad_byte, 1), (split, 0)] {
            match r {
                Err(e) => {
                    assert!(e.to_string().contains(&format!("the id of customer {customer} is not UTF-8")), "{e}")
                }
                Ok(_) => panic!("accepted an id that is not UTF-8"),
            }
        }
    }
    proptest::proptest! {
        /// Whatever a damaged or altered store holds, reading a block gives an error or a
        /// block whose every id, state and lookup can be read: never a panic.
        #[test]
        fn any_bytes_read_as_a_block_or_an_error(
            customers in -2i64..40,
            ends in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            ids in proptest::collection::vec(proptest::num::u8::ANY, 0..120),
            states in proptest::collection::vec(proptest::num::u8::ANY, 0..(STATE_BYTES * 3)),
            probe in "[0-9a-z]{0,6}",
        ) {
            if let Ok(b) = StoredBlock::new(202401, 0, customers, &ends, &ids, &states) {
                for k in 0..b.len() {
                    proptest::prop_assert_eq!(b.state(k).len(), STATE_BYTES);
                    let _ = b.find(b.id(k));
                }
                let _ = b.find(&probe);
                let _ = b.check_order(Some(&probe));
            }
        }

        /// The same from a real block with one byte changed and any customer count.
        #[test]
        fn an_altered_block_reads_as_a_block_or_an_error(
            n in 1usize..60,
            customers in -1i64..70,
            column in 0usize..3,
            at in proptest::num::usize::ANY,
            byte in proptest::num::u8::ANY,
            probe in "[0-9]{0,6}",
        ) {
            let b = &blocks(&rows(n, 4))[0];
            let (mut ends, mut ids, mut states) = (b.id_ends.clone(), b.ids.clone(), b.states.clone());
            let target = [&mut ends, &mut ids, &mut states][column].as_mut_slice();
            let len = target.len();
            target[at % len] = byte;
            if let Ok(s) = StoredBlock::new(202401, 0, customers, &ends, &ids, &states) {
                for k in 0..s.len() {
                    proptest::prop_assert_eq!(s.state(k).len(), STATE_BYTES);
                    let _ = s.find(s.id(k));
                }
                let _ = s.find(&probe);
                let _ = s.check_order(None);
            }
        }
    }

    #[test]
    fn lookup_misses_between_and_outside_ids() -> Result<(), StoreError> {
        let b = &blocks(&rows(10, 3))[0];
        let s = StoredBlock::new(202401, 0, 10, &b.id_ends, &b.ids, &b.states)?;
        for miss in ["", "0005", "00", "010", "999"] {
            assert_eq!(s.find(miss), None, "{miss}");
        }
        Ok(())
    }

    /// Blocks of `rows` where every `every`-th customer has a history of `len` bytes.
    fn blocks_with_histories(rows: &[(String, [u8; STATE_BYTES])], every: usize, len: usize) -> Vec<Block> {
        let text = |i: usize| i.is_multiple_of(every).then(|| format!("{{\"aum\":[\"{}\"]}}", "9".repeat(len - 12)));
        let texts: Vec<Option<String>> = (0..rows.len()).map(text).collect();
        let mut out = Vec::new();
        let items = rows.iter().zip(&texts).map(|((id, row), h)| (id.as_str(), row, h.as_deref()));
        let r: Result<(), ()> = for_each_block(items, |_, b| {
            out.push(Block { histories: b.histories.clone(), ..blocks_one(b) });
            Ok(())
        });
        assert!(r.is_ok());
        out
    }

    fn blocks_one(b: &Block) -> Block {
        Block {
            first_customer: b.first_customer.clone(),
            customers: b.customers,
            id_ends: b.id_ends.clone(),
            ids: b.ids.clone(),
            states: b.states.clone(),
            histories: Vec::new(),
        }
    }

    #[test]
    fn histories_round_trip_by_customer_and_count_toward_the_block() -> Result<(), StoreError> {
        let input = rows(3000, 10);
        for (every, len) in [(1, 20), (7, 300), (1000, 40), (1, 2000)] {
            let bs = blocks_with_histories(&input, every, len);
            let mut k_all = 0usize;
            for (i, b) in bs.iter().enumerate() {
                assert!(b.ids.len() + b.id_ends.len() + b.states.len() + b.histories.len() <= BLOCK_BYTES);
                let s = StoredBlock::new(202401, i as i64, b.customers as i64, &b.id_ends, &b.ids, &b.states)?
                    .with_histories((!b.histories.is_empty()).then_some(b.histories.as_slice()))?;
                for k in 0..s.len() {
                    let h = s.history(k);
                    assert_eq!(h.is_some(), k_all.is_multiple_of(every), "customer {k_all} of every {every}");
                    assert_eq!(h.map_or(0, str::len), if k_all.is_multiple_of(every) { len } else { 0 });
                    k_all += 1;
                }
            }
            assert_eq!(k_all, input.len());
        }
        // A block none of whose customers has a history keeps no histories (stored null).
        assert!(blocks(&input).iter().all(|b| b.histories.is_empty()));
        Ok(())
    }

    #[test]
    fn damaged_histories_are_refused_naming_the_customer() {
        let b = &blocks_with_histories(&rows(3, 2), 1, 20)[0];
        let s = || StoredBlock::new(202401, 7, 3, &b.id_ends, &b.ids, &b.states);
        let mut not_utf8 = b.histories.clone();
        not_utf8[4 + 24 + 4 + 3] = 0xff;
        let mut long = b.histories.clone();
        long[24 + 2] = 1;
        let cases: [(&[u8], &str); 4] = [
            (&b.histories[..50], "the histories end before customer 02's"),
            (&long, "the history of customer 01 runs past the end"),
            (&not_utf8, "the history of customer 01 is not UTF-8"),
            (&[b.histories.as_slice(), &[0]].concat(), "1 bytes of histories after the last customer's"),
        ];
        for (h, says) in cases {
            match s().and_then(|s| s.with_histories(Some(h))) {
                Err(e) => {
                    assert!(e.to_string().contains("block 7 of the states of 2024-01"), "{e}");
                    assert!(e.to_string().contains(says), "{e}");
                }
                Ok(_) => panic!("accepted damaged histories"),
            }
        }
    }
}
