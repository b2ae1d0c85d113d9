//! The dictionaries of the code columns: the rule books' tier codes ([`TierCodes`]) and the
//! fixed codes (customer kinds, statuses, event and alert kinds, reasons) with their Chinese
//! names. Every code column is `dictionary<int32, utf8>` (the keys every Parquet reader gives
//! back, so a table and its Parquet file have one schema).

use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, StringArray};
use arrow_schema::ArrowError;

use super::columns::Col;
use crate::code::TierCode;
use crate::rules::RuleBook;

/// The tier codes of the tier columns' dictionaries: the rule books' codes in the order their
/// rule sets list them, then any other code met (a state set under another book), in the order
/// met. One `TierCodes` serves every table of a run, so their tier columns share a dictionary.
///
/// ```
/// use crm_tiering::RuleBook;
/// use crm_tiering::portfolio::arrow::tables::TierCodes;
/// let book = RuleBook::default_book()?;
/// let codes = TierCodes::of(&[&book]);
/// assert!(!codes.is_empty() && codes.len() <= book.tier_codes().len());
/// assert!(TierCodes::default().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TierCodes {
    tiers: Vec<TierCode>,
}

impl TierCodes {
    /// The tier codes of `books`, each once.
    pub fn of(books: &[&RuleBook]) -> Self {
        let mut tiers: Vec<TierCode> = Vec::new();
        for t in books.iter().flat_map(|b| b.tier_codes()) {
            if !tiers.contains(&t) {
                tiers.push(t);
            }
        }
        TierCodes { tiers }
    }

    /// How many codes the dictionary holds.
    pub fn len(&self) -> usize {
        self.tiers.len()
    }

    /// Whether the dictionary holds no code.
    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }

    #[inline]
    fn key(&mut self, t: TierCode) -> i32 {
        match self.tiers.iter().position(|x| *x == t) {
            Some(i) => i32::try_from(i).unwrap_or(i32::MAX),
            None => self.add(t),
        }
    }

    #[cold]
    fn add(&mut self, t: TierCode) -> i32 {
        self.tiers.push(t);
        i32::try_from(self.tiers.len() - 1).unwrap_or(i32::MAX)
    }

    #[inline]
    pub(crate) fn opt_key(&mut self, t: Option<TierCode>) -> Option<i32> {
        t.map(|t| self.key(t))
    }

    pub(crate) fn values(&self) -> ArrayRef {
        Arc::new(StringArray::from_iter_values(self.tiers.iter().map(TierCode::as_str)))
    }
}

/// The key of a fixed code: its position in `all` (every value of the code's type).
#[inline]
pub(crate) fn position<T: PartialEq + Copy>(all: &[T], v: T) -> i32 {
    all.iter().position(|x| *x == v).map_or(0, |i| i32::try_from(i).unwrap_or(i32::MAX))
}

pub(crate) fn values(codes: impl Iterator<Item = &'static str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(codes))
}

/// A fixed code column.
pub(crate) fn code(keys: Col<Int32Type>, codes: ArrayRef) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(keys.finish()?, codes)?))
}

/// A code column and its Chinese names, sharing the keys.
pub(crate) fn coded(
    keys: Col<Int32Type>,
    codes: ArrayRef,
    names_zh: ArrayRef,
) -> Result<(ArrayRef, ArrayRef), ArrowError> {
    let k = keys.finish()?;
    Ok((
        Arc::new(DictionaryArray::<Int32Type>::try_new(k.clone(), codes)?),
        Arc::new(DictionaryArray::<Int32Type>::try_new(k, names_zh)?),
    ))
}

/// A tier column over the dictionary `values` ([`TierCodes`]).
pub(crate) fn tiers(keys: Col<Int32Type>, values: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(keys.finish()?, values.clone())?))
}
