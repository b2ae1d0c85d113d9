//! Exact money: `rust_decimal::Decimal` amounts in CNY, rounded to the fen (0.01).

use rust_decimal::{Decimal, RoundingStrategy};

use crate::parse::ParseError;

/// The largest amount the engine accepts anywhere: a balance, an average, a month's total, a
/// computed AUM or a tier minimum, in CNY: 999,999,999,999,999.99 (just under 10^15 yuan, far
/// above any customer's holdings). With it every amount fits in an `i64` of fen with room for
/// sums of a month's days and weighted components, and no arithmetic on amounts can overflow.
/// A 积数 (sum of daily balances) may be up to 31 times this.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0x5D89_FFFF, 0x0163_4578, 0, false, 2);

/// [`MAX_AMOUNT`] in fen.
pub(crate) const MAX_FEN: i64 = 99_999_999_999_999_999;

/// Whether an amount is above [`MAX_AMOUNT`], without a decimal comparison for amounts of at
/// most two decimals (the batch's hot path).
#[inline]
pub(crate) fn above_max(amount: Decimal) -> bool {
    let max_fen = i128::from(MAX_FEN);
    match amount.scale() {
        2 => amount.mantissa() > max_fen,
        s @ 0..=1 => amount.mantissa() > max_fen / 10i128.pow(2 - s),
        _ => amount > MAX_AMOUNT,
    }
}

/// An amount at the fen scale, not negative and within [`MAX_AMOUNT`] (the usual AUM of a
/// batch), as its fen and as a decimal equal to it bit for bit, made from the parts just read.
/// Anything else is `None`, for the general path.
///
/// The decimal is made afresh rather than copied: a decimal just written by its constructor
/// in 4- and 8-byte pieces and copied at once in 16 bytes makes the copy wait for the writes
/// (a store-forwarding stall), once per customer on the batch's hot path.
#[inline(always)]
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "0 <= fen <= MAX_FEN < 2^57 (fen_of): the low word and the high word are exact"
)]
pub(crate) fn plain_fen(amount: &Decimal) -> Option<(i128, Decimal)> {
    let fen = fen_of(amount)?;
    // 0 <= fen < 2^57: the high word is zero.
    Some((i128::from(fen), Decimal::from_parts(fen as u32, (fen >> 32) as u32, 0, false, 2)))
}

/// The amount in fen when it can be summed in integer fen: two decimals, not negative (nor a
/// negative zero), within [`MAX_AMOUNT`].
#[inline(always)]
pub(crate) fn fen_of(amount: &Decimal) -> Option<i64> {
    if amount.scale() != 2 || amount.is_sign_negative() {
        return None;
    }
    i64::try_from(amount.mantissa()).ok().filter(|&fen| fen <= MAX_FEN)
}

/// Parses a decimal amount such as `"200000"`, `"523400.50"` or `"-1.5"`.
///
/// Only plain decimal notation is accepted (SPEC §16): an optional minus, digits, and an
/// optional point followed by digits; no plus sign, no spaces, no exponent, no thousands
/// separators, at most 28 significant digits. Amounts are never read through binary floating
/// point.
///
/// ```
/// use crm_tiering::parse_amount;
/// assert_eq!(parse_amount("200000.10")?.to_string(), "200000.10");
/// assert!(parse_amount("2e5").is_err());
/// assert!(parse_amount("200,000").is_err());
/// # Ok::<(), crm_tiering::ParseError>(())
/// ```
///
/// # Errors
/// [`ParseError::Amount`] when the text is not a plain decimal number.
pub fn parse_amount(text: &str) -> Result<Decimal, ParseError> {
    if let Some(amount) = parse_short(text) {
        return Ok(amount);
    }
    parse_general(text).ok_or_else(|| ParseError::Amount(text.to_string()))
}

/// The general reader: an optional minus, digits, and an optional point followed by digits
/// (SPEC §16: no plus sign, no spaces, no `.5` or `5.`), then `rust_decimal`'s exact reader
/// (28 significant digits at most).
fn parse_general(t: &str) -> Option<Decimal> {
    let digits = t.strip_prefix('-').unwrap_or(t);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    Decimal::from_str_exact(t).ok()
}

/// The usual amount of an extract (an optional sign, at most 18 digits, at most one `.` with
/// digits on both sides) read without the general decimal reader, giving exactly the value and
/// scale [`Decimal::from_str_exact`] gives; anything else (a negative zero included) is left
/// to it.
#[inline]
fn parse_short(t: &str) -> Option<Decimal> {
    let b = t.as_bytes();
    let (negative, digits) = match b {
        [] => return None,
        [b'-', rest @ ..] => (true, rest),
        _ => (false, b),
    };
    // 18 digits at most (19 bytes with the point): the mantissa fits in an i64.
    let n = digits.len();
    if n == 0 || n > 19 || (n == 19 && !digits.contains(&b'.')) {
        return None;
    }
    let mut mantissa: i64 = 0;
    let mut i = 0;
    while let Some(&d) = digits.get(i)
        && d.is_ascii_digit()
    {
        mantissa = mantissa * 10 + i64::from(d - b'0');
        i += 1;
    }
    let scale = if i == n {
        0
    } else {
        // A point with digits on both sides, then digits only.
        if digits.get(i) != Some(&b'.') || i == 0 || i + 1 == n {
            return None;
        }
        i += 1;
        let fraction = i;
        while let Some(&d) = digits.get(i)
            && d.is_ascii_digit()
        {
            mantissa = mantissa * 10 + i64::from(d - b'0');
            i += 1;
        }
        if i != n {
            return None;
        }
        // At most 17 fraction digits: never out of range (None would leave it to the general reader).
        u32::try_from(n - fraction).ok()?
    };
    if negative && mantissa == 0 {
        return None;
    }
    Decimal::try_new(if negative { -mantissa } else { mantissa }, scale).ok()
}

/// An amount in fen (integer minor units) as a decimal in yuan: `12345` is `123.45`.
///
/// ```
/// assert_eq!(crm_tiering::from_fen(20_000_000).to_string(), "200000.00");
/// ```
pub fn from_fen(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

/// An amount in fen, when it has at most two decimals and fits in an `i64`.
///
/// ```
/// use crm_tiering::{parse_amount, to_fen};
/// assert_eq!(to_fen(parse_amount("200000.5").unwrap()), Some(20_000_050));
/// assert_eq!(to_fen(parse_amount("0.001").unwrap()), None);
/// ```
#[inline]
pub fn to_fen(amount: Decimal) -> Option<i64> {
    let m = amount.mantissa();
    let fen = match amount.scale() {
        // The engine's amounts are at the fen scale: the mantissa is the answer.
        2 => Some(m),
        s @ 0..=1 => m.checked_mul(10i128.pow(2 - s)),
        s => {
            let div = 10i128.pow(s - 2);
            (m % div == 0).then(|| m / div)
        }
    };
    fen.and_then(|f| i64::try_from(f).ok())
}

/// Rounds to the fen with the given strategy and sets the scale to exactly 2, so that
/// comparisons between amounts take the fast path.
#[inline]
pub(crate) fn round_fen(amount: Decimal, strategy: RoundingStrategy) -> Decimal {
    if amount.scale() == 2 {
        return amount;
    }
    let mut r = amount.round_dp_with_strategy(2, strategy);
    r.rescale(2);
    r
}

/// Sets the scale of an amount with at most two decimals to exactly 2.
pub(crate) fn to_fen_scale(amount: Decimal) -> Decimal {
    round_fen(amount, RoundingStrategy::MidpointAwayFromZero)
}

/// Serde for amounts in rule files: decimal strings or integers, never floats.
pub(crate) mod serde_amount {
    use std::fmt;

    use rust_decimal::Decimal;
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal amount written as a string, such as \"200000.00\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                crate::money::parse_amount(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
                Ok(Decimal::from(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
                Ok(Decimal::from(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
                Err(E::custom(format!(
                    "amount {v} is written as a binary floating-point number: write it as a string, such as \"{v}\", so that it stays exact"
                )))
            }
        }
        d.deserialize_any(V)
    }

    /// A list of optional amounts (daily balances), each a string or an integer, or null.
    /// Amounts by name, such as a month's measure values.
    pub(crate) mod map {
        use std::collections::BTreeMap;

        use rust_decimal::Decimal;
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        #[derive(Deserialize)]
        struct One(#[serde(deserialize_with = "super::deserialize")] Decimal);

        #[derive(Serialize)]
        struct Out<'a>(#[serde(serialize_with = "super::serialize")] &'a Decimal);

        pub(crate) fn serialize<S: Serializer>(v: &BTreeMap<String, Decimal>, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(v.iter().map(|(k, d)| (k, Out(d))))
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Decimal>, D::Error> {
            let v: BTreeMap<String, One> = BTreeMap::deserialize(d)?;
            Ok(v.into_iter().map(|(k, One(x))| (k, x)).collect())
        }
    }

    pub(crate) mod option_list {
        use rust_decimal::Decimal;
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        #[derive(Deserialize)]
        struct One(#[serde(deserialize_with = "super::deserialize")] Decimal);

        #[derive(Serialize)]
        struct Out(#[serde(serialize_with = "super::serialize")] Decimal);

        pub(crate) fn serialize<S: Serializer>(v: &[Option<Decimal>], s: S) -> Result<S::Ok, S::Error> {
            let out: Vec<Option<Out>> = v.iter().map(|d| d.map(Out)).collect();
            out.serialize(s)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Option<Decimal>>, D::Error> {
            let v: Vec<Option<One>> = Vec::deserialize(d)?;
            Ok(v.into_iter().map(|o| o.map(|One(x)| x)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::{parse_amount, parse_general, parse_short};

    /// The general reader, as `parse_amount` ran before its short path.
    fn general(t: &str) -> Option<Decimal> {
        parse_general(t)
    }

    fn check(t: &str) {
        if let Some(short) = parse_short(t) {
            let full = general(t);
            assert_eq!(full.map(|d| d.serialize()), Some(short.serialize()), "{t:?}");
        }
        assert_eq!(parse_amount(t).ok().map(|d| d.serialize()), general(t).map(|d| d.serialize()), "{t:?}");
    }

    #[test]
    fn the_short_path_reads_exactly_as_the_general_one() {
        for t in [
            "0",
            "-0",
            "+0",
            "0.00",
            "-0.00",
            "+0.00",
            "00012.50",
            "-1.5",
            "+1.5",
            "1.",
            ".5",
            "-.5",
            "1..2",
            "1.2.3",
            "",
            "-",
            "+",
            ".",
            "2311.44",
            "999999999999999999",
            "9999999999999999999",
            "99999999999999999.9",
            "-999999999999999999",
            "0.000000000000000001",
            "1e5",
            " 12 ",
            "12,000",
            "１２",
            "+-1",
            "--1",
            "123456789012345678.9",
            "12345678901234567.89",
        ] {
            check(t);
        }
    }

    /// SPEC §16: one spelling of an amount on every entry point.
    #[test]
    fn only_plain_decimals_are_amounts() {
        for ok in ["0", "100", "100.5", "-1.25", "00012.50"] {
            assert!(parse_amount(ok).is_ok(), "{ok:?}");
        }
        for bad in [" 100", "100 ", "+100", ".5", "5.", "-.5", "1e5", "12,000", "１２", "", "-", "1.2.3"] {
            assert!(parse_amount(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn short_path_matches(t in "[-+]?[0-9.]{0,22}") {
            check(&t);
        }
    }
}
