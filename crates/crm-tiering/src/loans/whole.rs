//! Serde for whole numbers (days, counts) in loan settings, records and states, with messages
//! that name no Rust type.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

struct Whole;

impl Visitor<'_> for Whole {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} is too large")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        Err(E::custom(format!("expected a whole number, got {v}")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        Err(E::custom(format!("expected a whole number, got the text \"{v}\"")))
    }
}

/// Any whole number (the record's days: a negative one is checked, with the record named, by
/// the evaluation).
pub(super) fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(Whole)
}

/// A whole number from 0.
pub(super) fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = d.deserialize_any(Whole)?;
    u32::try_from(v).map_err(|_| de::Error::custom(format!("expected a whole number from 0, got {v}")))
}
