//! The dictionaries of the code columns: the rule books' tier codes ([`Codes`]) and the fixed
//! codes (status, event and alert kinds, reasons) with their Chinese names.

use std::sync::Arc;

use arrow_array::types::{Int8Type, Int16Type};
use arrow_array::{ArrayRef, DictionaryArray, StringArray};
use arrow_schema::ArrowError;
use crm_tiering::{RuleBook, TierCode};

use super::columns::Col;

/// The tier codes of rule books, in the order their rule sets list them (the dictionaries of
/// every tier column; a code from elsewhere, a state set from another book, is appended).
#[derive(Clone, Debug, Default)]
pub(crate) struct Codes {
    tiers: Vec<TierCode>,
}

impl Codes {
    pub(crate) fn of(books: &[&RuleBook]) -> Self {
        let mut tiers: Vec<TierCode> = Vec::new();
        for t in books.iter().flat_map(|b| b.tier_codes()) {
            if !tiers.contains(&t) {
                tiers.push(t);
            }
        }
        Codes { tiers }
    }

    #[inline]
    fn key(&mut self, t: TierCode) -> i16 {
        match self.tiers.iter().position(|x| *x == t) {
            Some(i) => i as i16,
            None => self.add(t),
        }
    }

    #[cold]
    fn add(&mut self, t: TierCode) -> i16 {
        self.tiers.push(t);
        (self.tiers.len() - 1) as i16
    }

    #[inline]
    pub(super) fn opt_key(&mut self, t: Option<TierCode>) -> Option<i16> {
        t.map(|t| self.key(t))
    }

    pub(super) fn values(&self) -> ArrayRef {
        Arc::new(StringArray::from_iter_values(self.tiers.iter().map(TierCode::as_str)))
    }
}

#[inline]
pub(super) fn position<T: PartialEq + Copy>(all: &[T], v: T) -> i8 {
    all.iter().position(|x| *x == v).unwrap_or(0) as i8
}

pub(super) fn values(codes: impl Iterator<Item = &'static str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(codes))
}

/// A code column and its Chinese names, sharing the keys.
pub(super) fn coded(
    keys: Col<Int8Type>,
    codes: ArrayRef,
    names_zh: ArrayRef,
) -> Result<(ArrayRef, ArrayRef), ArrowError> {
    let k = keys.finish()?;
    Ok((
        Arc::new(DictionaryArray::<Int8Type>::try_new(k.clone(), codes)?),
        Arc::new(DictionaryArray::<Int8Type>::try_new(k, names_zh)?),
    ))
}

pub(super) fn tiers(keys: Col<Int16Type>, values: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(DictionaryArray::<Int16Type>::try_new(keys.finish()?, values.clone())?))
}
