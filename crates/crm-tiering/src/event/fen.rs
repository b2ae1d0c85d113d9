//! Amounts of events and alerts in whole fen.

use rust_decimal::Decimal;

use crate::money::{MAX_AMOUNT, MAX_FEN, to_fen};

/// An amount in whole fen, kept as two 32-bit halves: events and alerts then need only a
/// 4-byte alignment and carry no padding (a batch holds one of them per event and per alert).
/// `i64::MIN` stands for no amount: amounts are never negative (SPEC §16).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct PackedFen {
    low: u32,
    high: i32,
}

impl PackedFen {
    pub(super) const NONE: PackedFen = PackedFen::new(i64::MIN);

    #[inline(always)]
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "the low 32 bits of fen as they are: cutting the amount in two halves is the point"
    )]
    pub(super) const fn new(fen: i64) -> Self {
        PackedFen { low: fen as u32, high: (fen >> 32) as i32 }
    }

    #[inline(always)]
    pub(super) fn opt(fen: Option<i64>) -> Self {
        fen.map_or(Self::NONE, Self::new)
    }

    #[inline(always)]
    pub(super) const fn get(self) -> i64 {
        ((self.high as i64) << 32) | self.low as i64
    }

    #[inline(always)]
    pub(super) fn get_opt(self) -> Option<i64> {
        let fen = self.get();
        (fen != i64::MIN).then_some(fen)
    }
}

/// An amount of an event or an alert read from JSON: whole fen (SPEC §16), not negative.
pub(super) fn fen_field(what: &str, amount: Decimal) -> Result<i64, String> {
    match to_fen(amount) {
        Some(fen) if (0..=MAX_FEN).contains(&fen) => Ok(fen),
        _ => Err(format!("{what} {amount} is not a whole number of fen from 0 to {MAX_AMOUNT}")),
    }
}

pub(super) fn fen_field_opt(what: &str, amount: Option<Decimal>) -> Result<Option<i64>, String> {
    amount.map(|a| fen_field(what, a)).transpose()
}
