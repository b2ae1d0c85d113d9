//! Sharing an amount among targets to the fen (SPEC §20.5): largest remainder, ties by
//! target id ascending. The same rule splits pools among customers, pools among pools, and a
//! customer's figures among its account managers.

use std::cmp::Reverse;

use crm_tiering::Decimal;

use crate::error::ContributionError;
use crate::fen::{amount_fen, fen_decimal, pow10};

/// Why an amount could not be shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// Every weight is zero (or there is no target) and the amount is not.
    ZeroTotal,
    /// A weight is negative.
    Negative,
    /// The weights or their products with the amount are beyond 128 bits.
    TooLarge,
}

/// Shares `amount` (at most two decimals, any sign) among `targets` in proportion to their
/// weights, to the fen, so that the shares sum to exactly `amount`: each target first gets
/// its exact share rounded toward zero, then the fen left over go one each to the targets
/// with the largest remainders, ties to the smaller target id (byte order). A negative amount
/// is shared as its absolute value, then negated. Shares are in the targets' order.
///
/// ```
/// use crm_tiering_contribution::largest_remainder;
/// use crm_tiering::Decimal;
/// let one = Decimal::ONE;
/// let shares = largest_remainder("100.00".parse()?, &[("a", one), ("b", one), ("c", one)])?;
/// let text: Vec<String> = shares.iter().map(ToString::to_string).collect();
/// assert_eq!(text, ["33.34", "33.33", "33.33"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`ContributionError::Record`] on field `amount` when the amount has more than two decimals
/// or is beyond the largest amount, on field `weight` when a weight is negative or every
/// weight is zero for an amount that is not; [`ContributionError::TooLarge`] when the weights
/// are beyond exact arithmetic.
pub fn largest_remainder(amount: Decimal, targets: &[(&str, Decimal)]) -> Result<Vec<Decimal>, ContributionError> {
    let fen = amount_fen(amount).ok_or_else(|| {
        ContributionError::record("allocation", "amount", format!("{amount} is not an amount of fen"))
    })?;
    split_fen(fen, targets).map(|v| v.into_iter().map(fen_decimal).collect()).map_err(|e| match e {
        SplitError::ZeroTotal => ContributionError::record("allocation", "weight", "every weight is zero"),
        SplitError::Negative => ContributionError::record("allocation", "weight", "a weight is negative"),
        SplitError::TooLarge => ContributionError::TooLarge { what: "allocation".into() },
    })
}

/// [`largest_remainder`] on integer fen.
pub(crate) fn split_fen(amount: i128, targets: &[(&str, Decimal)]) -> Result<Vec<i128>, SplitError> {
    if targets.iter().any(|(_, w)| w.is_sign_negative() && !w.is_zero()) {
        return Err(SplitError::Negative);
    }
    let scale = targets.iter().map(|(_, w)| w.scale()).max().unwrap_or(0);
    let weights = targets
        .iter()
        .map(|(_, w)| w.mantissa().checked_mul(pow10(scale - w.scale())?))
        .collect::<Option<Vec<i128>>>()
        .ok_or(SplitError::TooLarge)?;
    let total = weights.iter().try_fold(0i128, |a, w| a.checked_add(*w)).ok_or(SplitError::TooLarge)?;
    if amount == 0 {
        return Ok(vec![0; targets.len()]);
    }
    if total == 0 {
        return Err(SplitError::ZeroTotal);
    }
    let whole = amount.checked_abs().ok_or(SplitError::TooLarge)?;
    if let [w] = weights.as_slice() {
        // One target: its share is the whole amount (as the general path gives it).
        whole.checked_mul(*w).ok_or(SplitError::TooLarge)?;
        return Ok(vec![amount]);
    }
    let mut shares = Vec::with_capacity(targets.len());
    let mut remainders = Vec::with_capacity(targets.len());
    for (i, w) in weights.iter().enumerate() {
        let product = whole.checked_mul(*w).ok_or(SplitError::TooLarge)?;
        shares.push(product / total);
        remainders.push((Reverse(product % total), targets.get(i).map_or("", |t| t.0), i));
    }
    let left = whole - shares.iter().sum::<i128>();
    remainders.sort_unstable();
    for (_, _, i) in remainders.iter().take(usize::try_from(left).unwrap_or(0)) {
        if let Some(s) = shares.get_mut(*i) {
            *s += 1;
        }
    }
    if amount < 0 {
        shares.iter_mut().for_each(|s| *s = -*s);
    }
    Ok(shares)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(amount: i128, weights: &[(&str, i64)]) -> Vec<i128> {
        let t: Vec<(&str, Decimal)> = weights.iter().map(|(id, w)| (*id, Decimal::from(*w))).collect();
        split_fen(amount, &t).unwrap()
    }

    #[test]
    fn five_fen_over_seven() {
        let w = [("g", 1), ("a", 1), ("c", 1), ("b", 1), ("f", 1), ("e", 1), ("d", 1)];
        // Equal remainders: the five smallest ids (a..e) get a fen each.
        assert_eq!(split(5, &w), vec![0, 1, 1, 1, 0, 1, 1]);
    }

    #[test]
    fn negative_amount_mirrors() {
        assert_eq!(split(-10_000, &[("a", 1), ("b", 1), ("c", 1)]), vec![-3334, -3333, -3333]);
    }

    #[test]
    fn zero_total() {
        let t = [("a", Decimal::ZERO)];
        assert_eq!(split_fen(1, &t), Err(SplitError::ZeroTotal));
        assert_eq!(split_fen(0, &t), Ok(vec![0]));
    }
}
