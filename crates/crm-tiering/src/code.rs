//! Short codes for tiers, kept inline so that states stay `Copy` and allocation-free.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::parse::ParseError;

/// A tier code from the rule book, such as `gold` or `private`.
///
/// Codes are 1 to 16 characters of `a-z`, `0-9`, `_` and `-`. They are stored inline (no
/// allocation), so states and events are plain values. Display names (金卡, Gold) live in the
/// rule book, not in the code.
///
/// ```
/// use crm_tiering::TierCode;
/// let gold: TierCode = "gold".parse()?;
/// assert_eq!(gold.as_str(), "gold");
/// assert!("Gold Card".parse::<TierCode>().is_err());
/// # Ok::<(), crm_tiering::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TierCode {
    /// Never zero, which lets `Option<TierCode>` take no extra byte.
    len: std::num::NonZeroU8,
    bytes: [u8; TierCode::MAX_LEN],
}

impl TierCode {
    /// The longest code accepted.
    pub const MAX_LEN: usize = 16;

    /// Parses and validates a code.
    ///
    /// # Errors
    /// When the code is empty, longer than 16 characters, or has a character other than
    /// `a-z`, `0-9`, `_` or `-`.
    pub fn new(code: &str) -> Result<Self, ParseError> {
        let b = code.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= Self::MAX_LEN
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-');
        if !ok {
            return Err(ParseError::Code(code.to_string()));
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        bytes[..b.len()].copy_from_slice(b);
        let len = std::num::NonZeroU8::new(b.len() as u8).ok_or_else(|| ParseError::Code(code.to_string()))?;
        Ok(TierCode { len, bytes })
    }

    /// The code's bytes (ASCII), for callers that copy codes into fixed buffers.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len.get())]
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored.
        std::str::from_utf8(&self.bytes[..usize::from(self.len.get())]).unwrap_or("")
    }
}

impl FromStr for TierCode {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TierCode::new(s)
    }
}

impl fmt::Display for TierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for TierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl Serialize for TierCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TierCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(deserializer)?;
        TierCode::new(&s).map_err(serde::de::Error::custom)
    }
}
