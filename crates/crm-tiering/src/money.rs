//! Exact money: `rust_decimal::Decimal` amounts in CNY, rounded to the fen (0.01).

use rust_decimal::{Decimal, RoundingStrategy};

use crate::parse::ParseError;

/// The largest amount the engine accepts anywhere: a balance, an average, a month's total, a
/// computed AUM or a tier minimum, in CNY: 999,999,999,999,999.99 (just under 10^15 yuan, far
/// above any customer's holdings). With it every amount fits in an `i64` of fen with room for
/// sums of a month's days and weighted components, and no arithmetic on amounts can overflow.
/// A 积数 (sum of daily balances) may be up to 31 times this.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0x5D89_FFFF, 0x0163_4578, 0, false, 2);

/// Whether an amount is above [`MAX_AMOUNT`], without a decimal comparison for amounts of at
/// most two decimals (the batch's hot path).
#[inline]
pub(crate) fn above_max(amount: Decimal) -> bool {
    const MAX_FEN: i128 = 99_999_999_999_999_999;
    match amount.scale() {
        2 => amount.mantissa() > MAX_FEN,
        s @ 0..=1 => amount.mantissa() > MAX_FEN / 10i128.pow(2 - s),
        _ => amount > MAX_AMOUNT,
    }
}

/// Parses a decimal amount such as `"200000"`, `"523400.50"` or `"-1.5"`.
///
/// Only plain decimal notation is accepted: no exponent, no thousands separators, no spaces
/// inside, at most 28 significant digits. Amounts are never read through binary floating point.
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
    let t = text.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    let plain = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|b| *b == b'.').count() <= 1
        && digits.bytes().any(|b| b.is_ascii_digit());
    if !plain {
        return Err(ParseError::Amount(text.to_string()));
    }
    Decimal::from_str_exact(t).map_err(|_| ParseError::Amount(text.to_string()))
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
