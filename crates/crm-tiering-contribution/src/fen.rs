//! Exact arithmetic in integer fen (0.01 CNY): amounts are read to fen, products of amounts
//! and rates are computed on integers and rounded once, to the fen, by the book's rounding.

use crm_tiering::{Decimal, MAX_AMOUNT};
use serde::Deserialize;

/// How a computed amount is rounded to the fen (SPEC §20.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// 四舍五入: a half fen rounds away from zero (the default).
    #[default]
    HalfUp,
    /// 银行家舍入: a half fen rounds to the even fen.
    HalfEven,
}

/// The most decimals a rate, risk weight, share or coefficient may have.
pub(crate) const MAX_RATE_DECIMALS: u32 = 10;

/// An amount as integer fen, when it is a whole number of fen (`100.000` is; `0.005` is not)
/// and lies within `-MAX_AMOUNT ..= MAX_AMOUNT`.
pub(crate) fn amount_fen(amount: Decimal) -> Option<i128> {
    let amount = if amount.scale() > 2 { amount.normalize() } else { amount };
    if amount.scale() > 2 || amount.abs() > MAX_AMOUNT {
        return None;
    }
    let mut m = amount.mantissa();
    for _ in amount.scale()..2 {
        m *= 10;
    }
    Some(m)
}

/// Integer fen as a decimal with two decimals. Every figure is a sum of amounts bounded by
/// `MAX_AMOUNT` (and products of them with rates of at most 20), far inside a decimal's 28
/// digits; the saturation is never reached.
pub(crate) fn fen_decimal(fen: i128) -> Decimal {
    Decimal::try_from_i128_with_scale(fen, 2).unwrap_or(Decimal::MAX)
}

/// A rate (or weight) as its integer mantissa and scale.
pub(crate) fn parts(value: Decimal) -> (i128, u32) {
    (value.mantissa(), value.scale())
}

/// `10^n` as an `i128` (`n` at most 38).
pub(crate) fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// `numerator / denominator` rounded to an integer by `rounding`; `denominator > 0`.
pub(crate) fn div_round(numerator: i128, denominator: i128, rounding: Rounding) -> Option<i128> {
    if denominator <= 0 {
        return None;
    }
    let q = numerator / denominator;
    let r = numerator % denominator;
    let twice = r.checked_abs()?.checked_mul(2)?;
    let away = match twice.cmp(&denominator) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => match rounding {
            Rounding::HalfUp => true,
            Rounding::HalfEven => q % 2 != 0,
        },
    };
    Some(if !away {
        q
    } else if numerator < 0 {
        q - 1
    } else {
        q + 1
    })
}

/// `balance_fen × Π factors × days / basis`, rounded to the fen: the one formula behind the
/// interest contribution, the risk cost and the capital charge (SPEC §20.3). `None` when the
/// product is beyond 128 bits.
pub(crate) fn prorate(
    balance_fen: i128,
    factors: &[Decimal],
    days: u32,
    basis: u32,
    rounding: Rounding,
) -> Option<i128> {
    let mut numerator = balance_fen.checked_mul(i128::from(days))?;
    let mut scale = 0u32;
    for f in factors {
        let (m, s) = parts(*f);
        numerator = numerator.checked_mul(m)?;
        scale += s;
    }
    let denominator = pow10(scale)?.checked_mul(i128::from(basis))?;
    div_round(numerator, denominator, rounding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_at_half_a_fen() {
        assert_eq!(div_round(5, 10, Rounding::HalfUp), Some(1));
        assert_eq!(div_round(-5, 10, Rounding::HalfUp), Some(-1));
        assert_eq!(div_round(5, 10, Rounding::HalfEven), Some(0));
        assert_eq!(div_round(15, 10, Rounding::HalfEven), Some(2));
        assert_eq!(div_round(-15, 10, Rounding::HalfEven), Some(-2));
        assert_eq!(div_round(14, 10, Rounding::HalfEven), Some(1));
    }

    #[test]
    fn amounts_to_fen() {
        assert_eq!(amount_fen(Decimal::new(15, 1)), Some(150));
        assert_eq!(amount_fen(Decimal::new(15, 3)), None);
        assert_eq!(amount_fen(Decimal::new(1500, 3)), Some(150));
        assert_eq!(fen_decimal(150).to_string(), "1.50");
    }
}
