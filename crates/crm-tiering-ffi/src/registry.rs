//! The registry of live handles: the address of every handle the library made and has not
//! freed, by kind (see `handle.rs` for what it guarantees).
//!
//! One set of live addresses per kind, split in 16 shards by the hash of the address's page; a
//! shard is an open-addressing table (linear probing) of addresses, 0 for an empty slot and 1 for
//! a freed one, whose home slots keep a page's handles side by side. Lookups take no lock and
//! write nothing (the per-call cost is a hash and a few loads, and threads sharing a rule book do
//! not contend on a cache line): slots are atomics, and a sequence number around the rare
//! in-place rebuild (which clears freed slots) tells a lookup that read during one to look again.
//! Adding and removing take the shard's lock; a slot only goes from empty or freed to an address
//! and from an address to freed, which a concurrent lookup of another address cannot misread. A
//! table that grows is replaced, and the old one is kept (a lookup may still be reading it), so
//! the registry's memory is at most twice its largest tables and lives for the process (valgrind:
//! "still reachable").

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering, fence};

/// The kinds of handle the library returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Rulebook,
    State,
    States,
    Outcome,
    Batch,
    Buffer,
    Portfolio,
    Columns,
    Extract,
    PortfolioResult,
    Options,
    Contribution,
    LoanRecords,
    LoanStates,
    LoanResult,
}

const KINDS: usize = 15;

impl Kind {
    pub(crate) const ALL: [Kind; KINDS] = [
        Kind::Rulebook,
        Kind::State,
        Kind::States,
        Kind::Outcome,
        Kind::Batch,
        Kind::Buffer,
        Kind::Portfolio,
        Kind::Columns,
        Kind::Extract,
        Kind::PortfolioResult,
        Kind::Options,
        Kind::Contribution,
        Kind::LoanRecords,
        Kind::LoanStates,
        Kind::LoanResult,
    ];

    /// The C type's name, for messages.
    pub(crate) fn c_name(self) -> &'static str {
        match self {
            Kind::Rulebook => "crmt_rulebook",
            Kind::State => "crmt_state",
            Kind::States => "crmt_states",
            Kind::Outcome => "crmt_outcome",
            Kind::Batch => "crmt_batch",
            Kind::Buffer => "crmt_buffer",
            Kind::Portfolio => "crmt_portfolio",
            Kind::Columns => "crmt_columns",
            Kind::Extract => "crmt_extract",
            Kind::PortfolioResult => "crmt_portfolio_result",
            Kind::Options => "crmt_options",
            Kind::Contribution => "crmt_contribution",
            Kind::LoanRecords => "crmt_loan_records",
            Kind::LoanStates => "crmt_loan_states",
            Kind::LoanResult => "crmt_loan_result",
        }
    }
}

const SHARD_BITS: u32 = 4;
const SHARDS: usize = 1 << SHARD_BITS;
const EMPTY: usize = 0;
const FREED: usize = 1;
/// A table is made of blocks of 128 slots, one per 4 KiB page of addresses in 32-byte granules:
/// a page's handles have their home slots side by side, so that handles made one after another
/// share the table's cache lines (a lookup costs no cache miss of its own when a caller goes
/// through its handles in the order it made them); pages go to blocks by their hash.
const PAGE_BITS: u32 = 12;
const GRANULE_BITS: u32 = 5;
const BLOCK_BITS: u32 = PAGE_BITS - GRANULE_BITS;
const MIN_BITS: u32 = BLOCK_BITS;

/// An open-addressing table of addresses; its length is a power of two.
struct Table {
    slots: Box<[AtomicUsize]>,
    bits: u32,
}

impl Table {
    fn new(bits: u32) -> &'static Table {
        let slots = (0..1usize << bits).map(|_| AtomicUsize::new(EMPTY)).collect();
        Box::leak(Box::new(Table { slots, bits }))
    }

    /// The home slot of `addr`, whose page hashes to `hash`: the page's block (picked by the bits
    /// of the hash below the shard's), the granule's place in it.
    #[inline]
    fn home(&self, hash: u64, addr: usize) -> usize {
        let block_bits = self.bits - BLOCK_BITS;
        // Two shifts, so that a table of one block (no bit to take) gives block 0.
        let block = ((hash << SHARD_BITS) >> 1) >> (63 - block_bits);
        ((block as usize) << BLOCK_BITS) | ((addr >> GRANULE_BITS) & ((1 << BLOCK_BITS) - 1))
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Whether `addr` is in the table: probes from its home slot to the first empty one (at
    /// most the whole table, whatever concurrent writers do).
    #[inline]
    fn find(&self, hash: u64, addr: usize) -> bool {
        let mut i = self.home(hash, addr);
        for _ in 0..self.slots.len() {
            match self.slots[i].load(Ordering::Relaxed) {
                EMPTY => return false,
                v if v == addr => return true,
                _ => i = (i + 1) & self.mask(),
            }
        }
        false
    }

    /// Puts `addr` in the first empty or freed slot of its probe sequence; whether the slot was
    /// empty. The writer holds the shard's lock, and the table has an empty slot.
    fn place(&self, hash: u64, addr: usize) -> bool {
        let mut i = self.home(hash, addr);
        loop {
            let v = self.slots[i].load(Ordering::Relaxed);
            if v == EMPTY || v == FREED {
                self.slots[i].store(addr, Ordering::Release);
                return v == EMPTY;
            }
            i = (i + 1) & self.mask();
        }
    }

    /// The live addresses.
    fn live(&self) -> Vec<usize> {
        self.slots.iter().map(|s| s.load(Ordering::Relaxed)).filter(|v| *v > FREED).collect()
    }
}

/// What the writers of a shard keep, under its lock.
struct Writer {
    /// Live addresses in the table.
    live: usize,
    /// Slots that are not empty (live and freed).
    used: usize,
    /// Tables replaced by a larger one, which a lookup may still be reading: kept.
    retired: Vec<&'static Table>,
}

/// Keeps its content on a cache line of its own.
#[repr(align(64))]
struct Line<T>(T);

/// The lock of a shard's writers: held for a few stores (a rebuild now and then), so a
/// test-and-test-and-set lock, one compare-and-swap to take and a store to release (a
/// `std::sync::Mutex` costs a second read-modify-write to release, a third of the price of making
/// and freeing a handle); a writer that finds it taken spins a little, then yields its thread.
struct WriterLock {
    taken: AtomicBool,
    writer: UnsafeCell<Writer>,
}

// SAFETY: `writer` is only reached through a `Locked`, which exists while `taken` is held by one
// thread (acquired with Acquire, released with Release).
unsafe impl Sync for WriterLock {}

struct Locked<'a>(&'a WriterLock);

impl WriterLock {
    fn lock(&self) -> Locked<'_> {
        let mut spins = 0u32;
        while self.taken.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            while self.taken.load(Ordering::Relaxed) {
                spins += 1;
                if spins < 64 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
        Locked(self)
    }
}

impl Deref for Locked<'_> {
    type Target = Writer;
    fn deref(&self) -> &Writer {
        // SAFETY: the lock is held (see `WriterLock`).
        unsafe { &*self.0.writer.get() }
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Writer {
        // SAFETY: the lock is held, by this guard only.
        unsafe { &mut *self.0.writer.get() }
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.0.taken.store(false, Ordering::Release);
    }
}

struct Shard {
    /// What lookups read: the sequence number (odd during an in-place rebuild) and the table
    /// (NULL until the first handle).
    read: Line<(AtomicUsize, AtomicPtr<Table>)>,
    writer: Line<WriterLock>,
}

impl Shard {
    const fn new() -> Self {
        Shard {
            read: Line((AtomicUsize::new(0), AtomicPtr::new(std::ptr::null_mut()))),
            writer: Line(WriterLock {
                taken: AtomicBool::new(false),
                writer: UnsafeCell::new(Writer { live: 0, used: 0, retired: Vec::new() }),
            }),
        }
    }

    #[inline]
    fn table(&self) -> Option<&'static Table> {
        // SAFETY: the pointer is NULL or a table leaked by `Table::new`, never freed.
        unsafe { self.read.0.1.load(Ordering::Acquire).as_ref() }
    }

    fn lock(&self) -> Locked<'_> {
        self.writer.0.lock()
    }

    /// Whether `addr` is live: no lock, no write.
    #[inline]
    fn contains(&self, hash: u64, addr: usize) -> bool {
        let seq = &self.read.0.0;
        loop {
            let before = seq.load(Ordering::Acquire);
            if before & 1 == 0 {
                let found = self.table().is_some_and(|t| t.find(hash, addr));
                fence(Ordering::Acquire);
                if seq.load(Ordering::Relaxed) == before {
                    return found;
                }
            }
            std::hint::spin_loop();
        }
    }

    fn insert(&self, hash: u64, addr: usize) {
        let mut w = self.lock();
        let table = match self.table() {
            Some(t) => t,
            None => {
                let t = Table::new(MIN_BITS);
                self.read.0.1.store(std::ptr::from_ref(t).cast_mut(), Ordering::Release);
                t
            }
        };
        // At most three quarters of the slots used, so that probes stay short and end.
        let table = if (w.used + 1) * 4 > table.slots.len() * 3 { self.rebuild(&mut w, table) } else { table };
        debug_assert!(!table.find(hash, addr), "an address registered twice");
        if table.place(hash, addr) {
            w.used += 1;
        }
        w.live += 1;
    }

    /// Makes room: clears the freed slots in place when the live addresses fill at most half the
    /// table, or moves them to a table twice as large.
    fn rebuild(&self, w: &mut Writer, table: &'static Table) -> &'static Table {
        let live = table.live();
        let seq = &self.read.0.0;
        let s = seq.load(Ordering::Relaxed);
        let table = if (w.live + 1) * 2 <= table.slots.len() {
            // Lookups that overlap see an odd or changed sequence number, and look again.
            seq.store(s + 1, Ordering::Relaxed);
            fence(Ordering::Release);
            for slot in table.slots.iter() {
                slot.store(EMPTY, Ordering::Relaxed);
            }
            for &a in &live {
                table.place(hash(a), a);
            }
            table
        } else {
            let mut bits = table.bits + 1;
            while (w.live + 1) * 2 > 1 << bits {
                bits += 1;
            }
            let larger = Table::new(bits.min(64 - SHARD_BITS));
            for &a in &live {
                larger.place(hash(a), a);
            }
            seq.store(s + 1, Ordering::Relaxed);
            fence(Ordering::Release);
            self.read.0.1.store(std::ptr::from_ref(larger).cast_mut(), Ordering::Release);
            w.retired.push(table);
            larger
        };
        seq.store(s + 2, Ordering::Release);
        w.used = live.len();
        table
    }

    /// Removes `addr`; whether it was there.
    fn remove(&self, hash: u64, addr: usize) -> bool {
        let mut w = self.lock();
        let Some(table) = self.table() else { return false };
        let mut i = table.home(hash, addr);
        for _ in 0..table.slots.len() {
            match table.slots[i].load(Ordering::Relaxed) {
                EMPTY => return false,
                v if v == addr => {
                    table.slots[i].store(FREED, Ordering::Release);
                    w.live -= 1;
                    return true;
                }
                _ => i = (i + 1) & table.mask(),
            }
        }
        false
    }
}

static REGISTRY: [[Shard; SHARDS]; KINDS] = [const { [const { Shard::new() }; SHARDS] }; KINDS];

/// The hash of the address's page: Fibonacci hashing, the top bits pick the shard and the next
/// ones the block.
#[inline]
fn hash(addr: usize) -> u64 {
    ((addr >> PAGE_BITS) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[inline]
fn shard(kind: Kind, hash: u64) -> &'static Shard {
    &REGISTRY[kind as usize][(hash >> (64 - SHARD_BITS)) as usize]
}

/// Whether `addr` is a live handle of `kind`.
#[inline]
pub(crate) fn is_live(kind: Kind, addr: usize) -> bool {
    let h = hash(addr);
    shard(kind, h).contains(h, addr)
}

pub(crate) fn register(kind: Kind, addr: usize) {
    let h = hash(addr);
    shard(kind, h).insert(h, addr);
}

pub(crate) fn unregister(kind: Kind, addr: usize) -> bool {
    let h = hash(addr);
    shard(kind, h).remove(h, addr)
}

// ---- Handles at the boundary.

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_handles_grow_and_rebuild_the_tables_and_stay_exact() {
        // Addresses only (never dereferenced): registered and removed in waves, so that tables
        // grow, and are rebuilt in place once freed slots pile up.
        // A kind no other test makes handles of (the count of live ones is checked).
        let kind = Kind::PortfolioResult;
        let base = 0x7f00_0000_0000_usize;
        // Never the address of a real handle (those are aligned to 8).
        let addr = |i: usize| base + i * 48 + 2;
        for wave in 0..4 {
            for i in 0..5000 {
                register(kind, addr(wave * 5000 + i));
            }
            for i in 0..5000 {
                if i % 3 != 0 {
                    assert!(unregister(kind, addr(wave * 5000 + i)));
                }
            }
            for i in 0..5000 {
                assert_eq!(is_live(kind, addr(wave * 5000 + i)), i % 3 == 0, "wave {wave}, {i}");
            }
        }
        for wave in 0..4 {
            for i in (0..5000).step_by(3) {
                assert!(unregister(kind, addr(wave * 5000 + i)));
                assert!(!unregister(kind, addr(wave * 5000 + i)), "removed twice");
            }
        }
        assert!((0..20_000).all(|i| !is_live(kind, addr(i))));
        let (live, retired) = REGISTRY[kind as usize].iter().fold((0, 0), |(l, r), s| {
            let w = s.lock();
            (l + w.live, r + w.retired.len())
        });
        assert_eq!(live, 0);
        assert!(retired > 0, "the tables grew");
    }

    #[test]
    fn writers_on_several_threads_in_the_same_shards_lose_nothing() {
        // A kind no other test makes handles of (the count of live ones is checked).
        let kind = Kind::Extract;
        let base = 0x5d00_0000_0000_usize;
        std::thread::scope(|s| {
            for t in 0..4 {
                s.spawn(move || {
                    // The threads' addresses interleave in the same pages, hence the same shards.
                    let mine: Vec<usize> = (0..3000).map(|i| base + (i * 4 + t) * 16 + 2).collect();
                    for round in 0..5 {
                        for &a in &mine {
                            register(kind, a);
                        }
                        for &a in &mine {
                            assert!(is_live(kind, a), "thread {t}, round {round}: {a:#x} lost");
                        }
                        for &a in &mine {
                            assert!(unregister(kind, a), "thread {t}, round {round}: {a:#x} not removed");
                        }
                    }
                });
            }
        });
        let live: usize = REGISTRY[kind as usize].iter().map(|s| s.lock().live).sum();
        assert_eq!(live, 0);
    }

    #[test]
    fn lookups_on_other_threads_see_every_live_handle_while_others_come_and_go() {
        let kind = Kind::Batch;
        let base = 0x6e00_0000_0000_usize;
        let stable: Vec<usize> = (0..256).map(|i| base + i * 64 + 2).collect();
        for &a in &stable {
            register(kind, a);
        }
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    while !stop.load(Ordering::Relaxed) {
                        for &a in &stable {
                            assert!(is_live(kind, a), "a live handle was missed during a rebuild");
                        }
                    }
                });
            }
            // Churn in the same shards: each wave fills and empties tables, with rebuilds.
            for wave in 0..40 {
                let churn: Vec<usize> = (0..2000).map(|i| base + 0x100_0000 + (wave * 2000 + i) * 32 + 2).collect();
                for &a in &churn {
                    register(kind, a);
                }
                for &a in &churn {
                    assert!(unregister(kind, a));
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
        for &a in &stable {
            assert!(unregister(kind, a));
        }
    }
}
