//! The transfer-pricing (FTP, 内部资金转移定价) rate table: effective-dated rates by product
//! and term bucket (SPEC §20.2).

use std::collections::BTreeMap;

use crm_tiering::{Decimal, Month};

use crate::error::{ContributionError, ContributionErrors};
use crate::fen::MAX_RATE_DECIMALS;

/// One rate of the table: from `effective` on, until the next entry of the same product and
/// term bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpRate {
    /// The product.
    pub product: String,
    /// The term bucket (`none`, `3m`, `1y`, ...), as account-months name it.
    pub term: String,
    /// The first month the rate applies to.
    pub effective: Month,
    /// The annual rate, as a fraction (`0.0235` is 2.35%).
    pub rate: Decimal,
}

/// The table, checked: no two entries of one product, term bucket and month.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FtpTable {
    /// By product, then term bucket, then effective month (nested, so a lookup by `&str`
    /// needs no allocation).
    rates: BTreeMap<String, BTreeMap<String, BTreeMap<Month, Decimal>>>,
}

/// What a lookup finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The rate in force.
    Rate(Decimal),
    /// The product and term are known, with no rate effective on or before the month.
    Gap,
    /// The product and term are not in the table.
    Unknown,
}

impl FtpTable {
    /// Builds a table from its entries (errors name an entry by its position, from 1).
    ///
    /// # Errors
    /// Every entry with a rate out of range and every repeated product, term and month.
    pub fn new(rates: &[FtpRate]) -> Result<Self, ContributionErrors> {
        Self::build(rates.iter().enumerate().map(|(i, r)| (format!("ftp rate {}", i + 1), r)))
            .map_err(ContributionErrors)
    }

    pub(crate) fn build<'a>(
        rates: impl Iterator<Item = (String, &'a FtpRate)>,
    ) -> Result<Self, Vec<ContributionError>> {
        let mut table = FtpTable::default();
        let mut errors = Vec::new();
        for (name, r) in rates {
            if let Some(e) = check_rate(r.rate, &name, "rate", false) {
                errors.push(e);
                continue;
            }
            let slot = table.rates.entry(r.product.clone()).or_default().entry(r.term.clone()).or_default();
            if slot.insert(r.effective, r.rate).is_some() {
                errors.push(ContributionError::record(
                    name,
                    "effective",
                    format!("product {}, term {} already has a rate effective {}", r.product, r.term, r.effective),
                ));
            }
        }
        if errors.is_empty() { Ok(table) } else { Err(errors) }
    }

    /// The rate in force for a product and term bucket in a month: the entry with the latest
    /// effective month on or before it.
    pub(crate) fn lookup(&self, product: &str, term: &str, month: Month) -> Lookup {
        match self.rates.get(product).and_then(|terms| terms.get(term)) {
            None => Lookup::Unknown,
            Some(by_month) => by_month.range(..=month).next_back().map_or(Lookup::Gap, |(_, r)| Lookup::Rate(*r)),
        }
    }

    /// Every entry, by product, term bucket and effective month.
    pub fn rates(&self) -> impl Iterator<Item = FtpRate> + '_ {
        self.rates.iter().flat_map(|(product, terms)| {
            terms.iter().flat_map(move |(term, by_month)| {
                by_month.iter().map(move |(effective, rate)| FtpRate {
                    product: product.clone(),
                    term: term.clone(),
                    effective: *effective,
                    rate: *rate,
                })
            })
        })
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rates.values().flat_map(BTreeMap::values).map(BTreeMap::len).sum()
    }

    /// Whether the table has no entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }
}

/// A rate's range: at most ten decimals, within −1 ..= 1 (or 0 ..= 1 when `non_negative`).
pub(crate) fn check_rate(value: Decimal, record: &str, field: &str, non_negative: bool) -> Option<ContributionError> {
    let message = if value.scale() > MAX_RATE_DECIMALS {
        format!("{value} has more than {MAX_RATE_DECIMALS} decimals")
    } else if non_negative && ((value.is_sign_negative() && !value.is_zero()) || value > Decimal::ONE) {
        format!("{value} is not a rate: expected a fraction from 0 to 1 (0.0235 is 2.35%)")
    } else if value.abs() > Decimal::ONE {
        format!("{value} is not a rate: expected a fraction from -1 to 1 (0.0235 is 2.35%)")
    } else {
        return None;
    };
    Some(ContributionError::record(record, field, message))
}
