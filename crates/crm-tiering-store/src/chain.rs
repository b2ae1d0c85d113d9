//! The chain of committed months: what each month records about itself and how its digest
//! is made, so that a deleted or edited month, state or head is found on reading.
//!
//! - A store has a **portfolio id** (random, made when the store is created). The chain
//!   starts at the **genesis digest**, `SHA-256("crm-tiering genesis\n" + id + "\n")`.
//! - Each committed month records the digest of the month before it (the genesis digest for
//!   the first), its states' count and checksum, and the counts and digests of its events,
//!   alerts and rejects; its own **digest** is the SHA-256 of a text naming all of that (see
//!   [`month_digest`]). The store's **head** (`meta`: `head_month`, `head_digest`) names the
//!   latest month and its digest.
//! - The **states checksum** is the SHA-256 over the month's states in customer id order, each
//!   as its id's length (big-endian `u16`), its id and its 64-byte encoded state, followed, for
//!   a customer with a history (SPEC §19.5; its state's flag 64 says so), by the history's
//!   length (big-endian `u32`) and its JSON. A month without histories (a book without
//!   windows, every month before schema 4) sums as it always did.
//! - The **rows digests** cover the events, alerts and rejects written by the runs of the
//!   month (its committing run and the catch-up runs that amended it), run by run in run id
//!   order, each row as [`RowsHasher`] takes it.

use sha2::{Digest, Sha256};

use crate::types::{MonthRecord, Tally};

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// The digest the first month chains on.
pub(crate) fn genesis(portfolio: &str) -> String {
    hex(&Sha256::digest(format!("crm-tiering genesis\n{portfolio}\n").as_bytes()))
}

/// The digest of a committed month: SHA-256 of
///
/// ```text
/// crm-tiering month 1
/// portfolio <id>
/// month <YYYY-MM>
/// previous <digest of the month before, or the genesis digest>
/// run <committing run id>
/// rule_book <its rule book fingerprint>
/// states <count> <sha256>
/// events <count> <sha256>
/// alerts <count> <sha256>
/// rejects <count> <sha256>
/// ```
pub(crate) fn month_digest(portfolio: &str, r: &MonthRecord) -> String {
    let tally = |name: &str, t: &Tally| format!("{name} {} {}\n", t.count, t.sha256);
    let text = format!(
        "crm-tiering month 1\nportfolio {portfolio}\nmonth {}\nprevious {}\nrun {}\nrule_book {}\n{}{}{}{}",
        r.month,
        r.previous,
        r.run_id,
        r.rule_book_fingerprint,
        tally("states", &r.states),
        tally("events", &r.events),
        tally("alerts", &r.alerts),
        tally("rejects", &r.rejects),
    );
    hex(&Sha256::digest(text.as_bytes()))
}

/// A new portfolio id: 128 bits from the operating system's randomness as the standard
/// library draws it for hash keys, mixed with the clock, the process and a counter, as 32 hex
/// digits.
pub(crate) fn new_portfolio_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = Sha256::new();
    for k in 0..4u64 {
        let mut x = std::collections::hash_map::RandomState::new().build_hasher();
        x.write_u64(k);
        h.update(x.finish().to_le_bytes());
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    h.update(nanos.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_le_bytes());
    hex(&h.finalize()[..16])
}

/// The states checksum, fed in customer id order. The bytes are gathered into batches that
/// a thread of its own hashes (once a month is large enough to be worth it), so that reading
/// and writing a month do not wait for SHA-256.
pub(crate) struct StatesHasher {
    buf: Vec<u8>,
    count: u64,
    worker: Option<Worker>,
}

/// The hashing thread: where the batches go, and its result.
type Worker = (std::sync::mpsc::SyncSender<Vec<u8>>, std::thread::JoinHandle<[u8; 32]>);

const BATCH: usize = 1 << 18;

impl Default for StatesHasher {
    fn default() -> Self {
        StatesHasher { buf: Vec::with_capacity(4096), count: 0, worker: None }
    }
}

impl StatesHasher {
    pub(crate) fn add(&mut self, id: &str, row: &[u8], history: Option<&str>) {
        let len = u16::try_from(id.len()).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(id.as_bytes());
        self.buf.extend_from_slice(row);
        if let Some(h) = history {
            let len = u32::try_from(h.len()).unwrap_or(u32::MAX);
            self.buf.extend_from_slice(&len.to_be_bytes());
            self.buf.extend_from_slice(h.as_bytes());
        }
        self.count += 1;
        if self.buf.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let full = std::mem::replace(&mut self.buf, Vec::with_capacity(BATCH + 4096));
        if self.worker.is_none() {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
            let handle = std::thread::spawn(move || {
                let mut h = Sha256::new();
                for b in rx {
                    h.update(&b);
                }
                h.finalize().into()
            });
            self.worker = Some((tx, handle));
        }
        if let Some((tx, _)) = &self.worker
            && let Err(back) = tx.send(full)
        {
            // The thread is gone (it cannot be, short of a panic): nothing to hash into.
            self.buf = back.0;
            self.worker = None;
        }
    }

    /// How many states it has seen.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    pub(crate) fn finish(self) -> Tally {
        let digest: [u8; 32] = match self.worker {
            None => Sha256::digest(&self.buf).into(),
            Some((tx, handle)) => {
                let _ = tx.send(self.buf);
                drop(tx);
                handle.join().unwrap_or([0; 32])
            }
        };
        Tally { count: self.count, sha256: hex(&digest) }
    }
}

/// The digest of event, alert or reject rows, fed run by run in the order the store reads
/// them back (events and alerts by month, customer and order; rejects by their order).
#[derive(Default)]
pub(crate) struct RowsHasher {
    h: Sha256,
    count: u64,
}

impl RowsHasher {
    fn field(&mut self, v: Option<&str>) {
        match v {
            None => self.h.update([0u8]),
            Some(s) => {
                self.h.update([1u8]);
                self.h.update((s.len() as u64).to_be_bytes());
                self.h.update(s.as_bytes());
            }
        }
    }

    /// An event or alert: its run, month, customer, order, kind and JSON (as the store writes
    /// it: `serde_json` of the value).
    pub(crate) fn json_row(&mut self, run_id: i64, month: i64, customer_id: &str, seq: i64, kind: &str, json: &str) {
        self.h.update(run_id.to_be_bytes());
        self.h.update(month.to_be_bytes());
        self.field(Some(customer_id));
        self.h.update(seq.to_be_bytes());
        self.field(Some(kind));
        self.field(Some(json));
        self.count += 1;
    }

    /// A reject.
    pub(crate) fn reject(&mut self, run_id: i64, r: &crate::RejectRow) {
        self.h.update(run_id.to_be_bytes());
        self.h.update(r.seq.to_be_bytes());
        self.h.update(r.month.yyyymm().to_be_bytes());
        self.field(r.customer_id.as_deref());
        self.field(Some(&r.category));
        self.field(r.field.as_deref());
        self.field(r.record.as_deref());
        self.field(r.other_record.as_deref());
        self.field(Some(&r.message));
        self.count += 1;
    }

    pub(crate) fn finish(self) -> Tally {
        Tally { count: self.count, sha256: hex(&self.h.finalize()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portfolio_ids_differ_and_digests_cover_every_field() {
        let a = new_portfolio_id();
        assert_eq!(a.len(), 32);
        assert_ne!(a, new_portfolio_id());
        assert_ne!(genesis(&a), genesis("other"));
        let t = |n: u64| Tally { count: n, sha256: "ab".into() };
        let r = MonthRecord {
            month: crm_tiering::Month::from_yyyymm(202403).unwrap_or(crm_tiering::Month::LAST),
            run_id: 4,
            committed_at: "2024-04-01T00:00:00Z".into(),
            previous: genesis(&a),
            states: t(10),
            events: t(2),
            alerts: t(3),
            rejects: t(0),
            digest: String::new(),
            rule_book_fingerprint: "fp".into(),
        };
        let d = month_digest(&a, &r);
        assert_eq!(d.len(), 64);
        // The commit time is audit data, not part of the chain.
        assert_eq!(d, month_digest(&a, &MonthRecord { committed_at: "later".into(), ..r.clone() }));
        for changed in [
            MonthRecord { run_id: 5, ..r.clone() },
            MonthRecord { previous: "x".into(), ..r.clone() },
            MonthRecord { states: t(11), ..r.clone() },
            MonthRecord { events: t(1), ..r.clone() },
            MonthRecord { alerts: Tally { count: 3, sha256: "ac".into() }, ..r.clone() },
            MonthRecord { rejects: t(1), ..r.clone() },
            MonthRecord { rule_book_fingerprint: "other".into(), ..r.clone() },
        ] {
            assert_ne!(month_digest(&a, &changed), d);
        }
        assert_ne!(month_digest("other", &r), d);
        let mut s = StatesHasher::default();
        s.add("ab", &[1; 64], None);
        let mut s2 = StatesHasher::default();
        s2.add("a", &[1; 64], None);
        assert_ne!(s.finish(), s2.finish());
        // A history is summed with its state: dropping or editing it changes the checksum.
        let sum = |h: Option<&str>| {
            let mut s = StatesHasher::default();
            s.add("a", &[1; 64], h);
            s.finish()
        };
        let with = sum(Some(r#"{"aum":["1.00"]}"#));
        assert_ne!(with, sum(None));
        assert_ne!(with, sum(Some(r#"{"aum":["2.00"]}"#)));
    }
}
