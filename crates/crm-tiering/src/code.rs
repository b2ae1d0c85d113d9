//! Short codes for tiers, interned so that states and events stay small `Copy` values.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::num::NonZeroU16;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::parse::ParseError;

/// A tier code from the rule book, such as `gold` or `private`.
///
/// Codes are 1 to 16 characters of `a-z`, `0-9`, `_` and `-`. Each distinct code is kept
/// once per process (interned) and a `TierCode` is a 2-byte handle to it, so states and
/// events are small plain values with no allocation. Equality, ordering and hashing are those
/// of the text, so results never depend on the order in which codes were first seen. Display
/// names (金卡, Gold) live in the rule book, not in the code.
///
/// ```
/// use crm_tiering::TierCode;
/// let gold: TierCode = "gold".parse()?;
/// assert_eq!(gold.as_str(), "gold");
/// assert!("Gold Card".parse::<TierCode>().is_err());
/// let silver: TierCode = "silver".parse()?;
/// assert!(gold < silver); // ordered by text
/// # Ok::<(), crm_tiering::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TierCode {
    /// The code's slot in the process's table (never zero, which lets `Option<TierCode>`
    /// take no extra byte).
    slot: NonZeroU16,
}

/// Slots per chunk of the table; chunks are allocated as codes arrive.
const CHUNK: usize = 256;

/// The table of interned codes, read without a lock: slot `n` is chunk `n / CHUNK`, entry
/// `n % CHUNK`. Slot 0 is never used. Entries are set once, under [`INDEX`]'s lock, before
/// their slot is handed out.
static SLOTS: [OnceLock<Box<[OnceLock<&'static str>]>>; 65_536 / CHUNK] = [const { OnceLock::new() }; 65_536 / CHUNK];

/// The slot of each interned code; the lock also serializes interning. (An ordered map: its
/// nodes are held by pointers to their start, so leak checkers such as valgrind see the table
/// as reachable rather than possibly lost.)
static INDEX: Mutex<BTreeMap<&'static str, NonZeroU16>> = Mutex::new(BTreeMap::new());

/// How many recently used codes each thread remembers before taking the lock.
const RECENT: usize = 32;

thread_local! {
    static RECENT_CODES: RefCell<Vec<(&'static str, NonZeroU16)>> = const { RefCell::new(Vec::new()) };
}

fn slot_text(slot: NonZeroU16) -> Option<&'static str> {
    let n = usize::from(slot.get());
    SLOTS.get(n / CHUNK)?.get()?.get(n % CHUNK)?.get().copied()
}

/// The most distinct codes input (states, designations, anything but rule books) may add to
/// the table: the rest is kept for rule books, so that no input can make a later rule book fail
/// to load (issue 18). Codes a rule book registered first do not count.
const INPUT_CODES: usize = 16_384;

/// How many codes input added to the table (under [`INDEX`]'s lock).
static INPUT_ADDED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Who asks for a code: a rule book, or input (bounded by [`INPUT_CODES`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    RuleBook,
    Input,
}

/// The slot of a valid code, interning it on first sight.
fn intern(code: &str, origin: Origin) -> Result<NonZeroU16, ParseError> {
    let recent = RECENT_CODES
        .try_with(|r| r.try_borrow().ok()?.iter().find(|(text, _)| *text == code).map(|&(_, slot)| slot))
        .ok()
        .flatten();
    if let Some(slot) = recent {
        return Ok(slot);
    }
    let slot = {
        let mut index = INDEX.lock().unwrap_or_else(PoisonError::into_inner);
        match index.get(code) {
            Some(&slot) => slot,
            None => {
                use std::sync::atomic::Ordering::Relaxed;
                if origin == Origin::Input && INPUT_ADDED.load(Relaxed) >= INPUT_CODES {
                    return Err(ParseError::TooManyInputTierCodes(code.to_string()));
                }
                let slot = u16::try_from(index.len() + 1)
                    .ok()
                    .and_then(NonZeroU16::new)
                    .ok_or(ParseError::TooManyTierCodes(code.to_string()))?;
                let n = usize::from(slot.get());
                let chunk = SLOTS
                    .get(n / CHUNK)
                    .ok_or(ParseError::TooManyTierCodes(code.to_string()))?
                    .get_or_init(|| (0..CHUNK).map(|_| OnceLock::new()).collect());
                let text: &'static str = Box::leak(code.into());
                let entry = chunk.get(n % CHUNK).ok_or(ParseError::TooManyTierCodes(code.to_string()))?;
                // The lock is held and the slot is new, so the entry is empty.
                let _ = entry.set(text);
                index.insert(text, slot);
                if origin == Origin::Input {
                    INPUT_ADDED.fetch_add(1, Relaxed);
                }
                slot
            }
        }
    };
    if let Some(text) = slot_text(slot) {
        // Remembering is only a shortcut: a thread being torn down simply skips it.
        let _ = RECENT_CODES.try_with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                if r.len() == RECENT {
                    r.remove(0);
                }
                r.push((text, slot));
            }
        });
    }
    Ok(slot)
}

impl TierCode {
    /// The longest code accepted.
    pub const MAX_LEN: usize = 16;

    /// The most distinct codes one process can hold (codes are never forgotten).
    pub const MAX_DISTINCT: usize = u16::MAX as usize;

    /// The most distinct codes that input (states, designations: anything but a rule book) can
    /// add to the process's table; the rest of the table is kept for rule books, so no input
    /// can make a later rule book fail to load.
    pub const MAX_FROM_INPUT: usize = INPUT_CODES;

    /// Parses and validates a code read from input (a state, a designation).
    ///
    /// # Errors
    /// [`ParseError::Code`] when the code is empty, longer than 16 characters, or has a
    /// character other than `a-z`, `0-9`, `_` or `-`; [`ParseError::TooManyInputTierCodes`]
    /// when input has already added [`TierCode::MAX_FROM_INPUT`] codes that no rule book
    /// knows; [`ParseError::TooManyTierCodes`] when the process holds
    /// [`TierCode::MAX_DISTINCT`] codes.
    pub fn new(code: &str) -> Result<Self, ParseError> {
        Self::interned(code, Origin::Input)
    }

    /// A rule book's code: not bounded by [`TierCode::MAX_FROM_INPUT`].
    pub(crate) fn register(code: &str) -> Result<Self, ParseError> {
        Self::interned(code, Origin::RuleBook)
    }

    /// The code's slot in the process's table, as a history keeps it (SPEC §19.5).
    pub(crate) fn slot(self) -> i64 {
        i64::from(self.slot.get())
    }

    /// The code at `slot` of the process's table, none for a slot no code holds.
    pub(crate) fn from_slot(slot: i64) -> Option<Self> {
        let slot = NonZeroU16::new(u16::try_from(slot).ok()?)?;
        slot_text(slot).map(|_| TierCode { slot })
    }

    fn interned(code: &str, origin: Origin) -> Result<Self, ParseError> {
        let b = code.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= Self::MAX_LEN
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-');
        if !ok {
            return Err(ParseError::Code(code.to_string()));
        }
        Ok(TierCode { slot: intern(code, origin)? })
    }

    /// The code's bytes (ASCII), for callers that copy codes into fixed buffers.
    pub fn as_bytes(&self) -> &'static [u8] {
        self.as_str().as_bytes()
    }

    /// The code as text.
    pub fn as_str(&self) -> &'static str {
        // A slot is handed out only after its text is set.
        slot_text(self.slot).unwrap_or("")
    }
}

/// A measure code from the rule book, such as `aum` or `loan_balance` (SPEC §19.1).
///
/// Codes are 1 to 40 characters of `a-z`, `0-9` and `_` (a measure's code is also the name of
/// its input column). Like [`TierCode`], a `MeasureCode` is a 2-byte handle to the code kept
/// once per process, so events and alerts that name the measure which decided them stay small
/// plain values.
///
/// ```
/// use crm_tiering::MeasureCode;
/// let loans: MeasureCode = "loan_balance".parse()?;
/// assert_eq!(loans.as_str(), "loan_balance");
/// assert!("Loan Balance".parse::<MeasureCode>().is_err());
/// # Ok::<(), crm_tiering::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MeasureCode {
    slot: NonZeroU16,
}

impl MeasureCode {
    /// The longest code accepted.
    pub const MAX_LEN: usize = 40;

    /// Parses and validates a code read from input (an event or alert read back).
    ///
    /// # Errors
    /// [`ParseError::MeasureCode`] when the code is empty, longer than 40 characters, or has a
    /// character other than `a-z`, `0-9` or `_`; [`ParseError::TooManyInputTierCodes`] or
    /// [`ParseError::TooManyTierCodes`] when the process's table of codes is full (measure and
    /// tier codes share it).
    pub fn new(code: &str) -> Result<Self, ParseError> {
        Self::interned(code, Origin::Input)
    }

    /// A rule book's code: not bounded by [`TierCode::MAX_FROM_INPUT`].
    pub(crate) fn register(code: &str) -> Result<Self, ParseError> {
        Self::interned(code, Origin::RuleBook)
    }

    fn interned(code: &str, origin: Origin) -> Result<Self, ParseError> {
        let b = code.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= Self::MAX_LEN
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_');
        if !ok {
            return Err(ParseError::MeasureCode(code.to_string()));
        }
        Ok(MeasureCode { slot: intern(code, origin)? })
    }

    /// The code as text.
    pub fn as_str(&self) -> &'static str {
        slot_text(self.slot).unwrap_or("")
    }
}

/// The traits both interned codes share, each by the code's text: ordering and hashing (so
/// results never depend on the order codes were first seen), parsing (`FromStr` validates as
/// `new` does), display, debug and serde (a string).
macro_rules! interned_code_traits {
    ($($code:ident),+) => {$(
        impl PartialOrd for $code {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $code {
            /// By text, as the codes read.
            fn cmp(&self, other: &Self) -> Ordering {
                if self.slot == other.slot { Ordering::Equal } else { self.as_str().cmp(other.as_str()) }
            }
        }

        impl Hash for $code {
            /// By text, so hashes do not depend on the order codes were first seen.
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.as_str().hash(state);
            }
        }

        impl FromStr for $code {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $code::new(s)
            }
        }

        impl fmt::Display for $code {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $code {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.as_str())
            }
        }

        impl Serialize for $code {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $code {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<str>::deserialize(deserializer)?;
                $code::new(&s).map_err(serde::de::Error::custom)
            }
        }
    )+};
}

interned_code_traits!(TierCode, MeasureCode);
