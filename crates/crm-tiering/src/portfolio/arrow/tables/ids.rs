//! The `customer_id` columns: the portfolio's [`IdColumn`] (every customer's id, kept between
//! months) and each table's [`Ids`] (ids copied, or customers' indices resolved against it).

use crate::portfolio::PortfolioStates;
use arrow_array::builder::StringBuilder;
use arrow_array::{Array, StringArray};
use arrow_schema::ArrowError;

/// The customer ids of a portfolio's states, in the states' order, as one Arrow column kept
/// between months: customers only ever join at the end, so the column is extended, and the
/// states table of a month that evaluates every customer is this column itself (no id copied).
/// The tables built with indexed rows ([`StatesTable::indexed`](super::StatesTable::indexed))
/// take their ids from it.
///
/// ```
/// use crm_tiering::{Customer, CustomerState};
/// use crm_tiering::portfolio::PortfolioStates;
/// use arrow_array::Array;
/// use crm_tiering::portfolio::arrow::tables::IdColumn;
/// let mut states = PortfolioStates::new();
/// states.insert(Customer::personal("c1"), CustomerState::default())?;
/// let mut ids = IdColumn::default();
/// assert_eq!(ids.of(&states).value(0), "c1");
/// states.insert(Customer::personal("c2"), CustomerState::default())?;
/// assert_eq!(ids.of(&states).len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct IdColumn {
    ids: Option<StringArray>,
}

impl IdColumn {
    /// The column for `customers`: the kept one when it still is their ids' prefix (checked at
    /// its last id), extended with the customers that joined since; else built anew.
    pub fn of(&mut self, customers: &PortfolioStates) -> &StringArray {
        let n = customers.len();
        let kept = match self.ids.take() {
            Some(a) if a.len() == n && a.null_count() == 0 && same_last(&a, customers) => a,
            Some(a) if a.len() < n && a.null_count() == 0 && same_last(&a, customers) => {
                let more = || customers.customers().skip(a.len());
                let bytes = a.value_data().len() + more().map(|c| c.id.len()).sum::<usize>();
                let mut b = StringBuilder::with_capacity(n, bytes);
                for id in a.iter().flatten() {
                    b.append_value(id);
                }
                for c in more() {
                    b.append_value(c.id);
                }
                b.finish()
            }
            _ => {
                let bytes = customers.customers().map(|c| c.id.len()).sum::<usize>();
                let mut b = StringBuilder::with_capacity(n, bytes);
                for c in customers.customers() {
                    b.append_value(c.id);
                }
                b.finish()
            }
        };
        self.ids.insert(kept)
    }

    /// Forgets the column (the states were replaced).
    pub fn clear(&mut self) {
        self.ids = None;
    }
}

fn same_last(a: &StringArray, customers: &PortfolioStates) -> bool {
    match a.len().checked_sub(1) {
        None => true,
        Some(last) => customers.customer(last).is_some_and(|c| a.value(last) == c.id),
    }
}

/// The ids at `index` of `all`, copied.
fn select(all: &StringArray, index: &[u32]) -> Result<StringArray, ArrowError> {
    let n = all.len();
    let mut bytes = 0usize;
    for &i in index {
        let i = i as usize;
        if i >= n {
            return Err(ArrowError::InvalidArgumentError(format!("customer index {i} of {n}")));
        }
        bytes += usize::try_from(all.value_length(i)).unwrap_or(0);
    }
    let mut b = StringBuilder::with_capacity(index.len(), bytes);
    for &i in index {
        b.append_value(all.value(i as usize));
    }
    Ok(b.finish())
}

/// A `customer_id` column: ids copied row by row (rows read back from a store), or the
/// customers' indices in the portfolio's states, resolved against its [`IdColumn`] when
/// finished (one copy, from one buffer, rather than one per row from each customer; none at
/// all for a run of consecutive customers, the states of a month that evaluates everyone).
pub(crate) enum Ids {
    Text(StringBuilder),
    /// Consecutive customers so far: `len` of them from `first`.
    Run {
        first: usize,
        len: usize,
        capacity: usize,
    },
    Index(Vec<u32>),
}

impl Ids {
    pub(crate) fn new(n: usize, indexed: bool) -> Self {
        if indexed {
            Ids::Run { first: 0, len: 0, capacity: n }
        } else {
            Ids::Text(StringBuilder::with_capacity(n, n * 12))
        }
    }

    /// The row of the customer at `index`, whose id is `id`.
    #[inline]
    pub(crate) fn indexed(&mut self, index: usize, id: &str) {
        match self {
            Ids::Run { first, len, .. } if *len == 0 => {
                *first = index;
                *len = 1;
            }
            Ids::Run { first, len, .. } if *first + *len == index => *len += 1,
            Ids::Run { .. } => self.break_run(index),
            Ids::Index(v) => v.push(u32::try_from(index).unwrap_or(u32::MAX)),
            Ids::Text(b) => b.append_value(id),
        }
    }

    /// A run of consecutive customers meets another one: its indices are written out.
    #[cold]
    fn break_run(&mut self, index: usize) {
        if let Ids::Run { first, len, capacity } = *self {
            let mut v: Vec<u32> = Vec::with_capacity(capacity.max(len + 1));
            v.extend((first..first + len).map(|i| u32::try_from(i).unwrap_or(u32::MAX)));
            v.push(u32::try_from(index).unwrap_or(u32::MAX));
            *self = Ids::Index(v);
        }
    }

    /// A row of a customer known by its id only.
    pub(crate) fn named(&mut self, id: &str) {
        match self {
            Ids::Text(b) => b.append_value(id),
            // A column of indexed rows is never given named ones: an index `finish` refuses.
            Ids::Run { .. } => self.break_run(u32::MAX as usize),
            Ids::Index(v) => v.push(u32::MAX),
        }
    }

    /// The index in the portfolio's states of the customer of `row`, for rows given by index.
    pub(crate) fn index(&self, row: usize) -> Option<usize> {
        match self {
            Ids::Run { first, len, .. } => (row < *len).then(|| first + row),
            Ids::Index(v) => v.get(row).filter(|&&i| i != u32::MAX).map(|&i| i as usize),
            Ids::Text(_) => None,
        }
    }

    /// Whether `finish` needs the column of every customer's id.
    pub(crate) fn needs_all(&self) -> bool {
        match self {
            Ids::Text(_) => false,
            Ids::Run { len, .. } => *len > 0,
            Ids::Index(v) => !v.is_empty(),
        }
    }

    /// The column; indexed ids are resolved against `all`, the column of every customer's id.
    pub(crate) fn finish(self, all: Option<&StringArray>) -> Result<StringArray, ArrowError> {
        match (self, all) {
            (Ids::Text(mut b), _) => Ok(b.finish()),
            (Ids::Run { len: 0, .. }, _) => Ok(StringArray::from(Vec::<&str>::new())),
            (Ids::Index(index), _) if index.is_empty() => Ok(StringArray::from(Vec::<&str>::new())),
            (Ids::Run { first, len, .. }, Some(all)) if first + len <= all.len() => Ok(all.slice(first, len)),
            (Ids::Index(index), Some(all)) => select(all, &index),
            (Ids::Run { first, len, .. }, Some(all)) => {
                Err(ArrowError::InvalidArgumentError(format!("customers {first} to {} of {}", first + len, all.len())))
            }
            (_, None) => Err(ArrowError::InvalidArgumentError("the customers' ids are not given".into())),
        }
    }
}
