//! Account-months held compactly (issue 21): one fixed-size row each, the ids as numbers into
//! text kept once (each account's id end to end in one string; customers, products, terms,
//! branches and legal entities interned), the decimals as they were read. The computation
//! reads every account-month through this table, whichever way it was given: a list of
//! [`AccountMonth`]s is copied into one first.

use std::collections::HashMap;
use std::io::BufRead;

use crm_tiering::{Decimal, Month};

use crate::error::{ContributionError, ContributionErrors};
use crate::inputs::{AccountMonth, LoanClass, Side};

/// Texts end to end in one string, each found by where it ends.
#[derive(Debug, Clone, Default)]
struct Texts {
    text: String,
    ends: Vec<u32>,
}

impl Texts {
    /// Adds a text; `None` when the texts would pass 4 GiB.
    fn push(&mut self, t: &str) -> Option<u32> {
        let id = u32::try_from(self.ends.len()).ok()?;
        let end = u32::try_from(self.text.len().checked_add(t.len())?).ok()?;
        self.text.push_str(t);
        self.ends.push(end);
        Some(id)
    }

    /// The text `id` (empty for an unknown id).
    fn get(&self, id: u32) -> &str {
        let i = usize::try_from(id).unwrap_or(usize::MAX);
        let start = i.checked_sub(1).and_then(|p| self.ends.get(p)).copied().unwrap_or(0);
        let end = self.ends.get(i).copied().unwrap_or(start);
        let (start, end) = (usize::try_from(start).unwrap_or(0), usize::try_from(end).unwrap_or(0));
        self.text.get(start..end).unwrap_or("")
    }

    /// The last text added, with its id.
    fn last(&self) -> Option<(u32, &str)> {
        let id = u32::try_from(self.ends.len().checked_sub(1)?).ok()?;
        Some((id, self.get(id)))
    }
}

/// Texts interned: each distinct text once.
#[derive(Debug, Clone, Default)]
struct Symbols {
    names: Texts,
    index: HashMap<Box<str>, u32>,
}

impl Symbols {
    fn intern(&mut self, t: &str) -> Option<u32> {
        if let Some(id) = self.index.get(t) {
            return Some(*id);
        }
        let id = self.names.push(t)?;
        self.index.insert(t.into(), id);
        Some(id)
    }
}

/// One account-month: ids as numbers, the decimals packed, the rest as read (64 bytes).
#[derive(Debug, Clone, Copy)]
struct Row {
    month: Month,
    customer: u32,
    product: u32,
    term: u32,
    branch: u32,
    legal_entity: u32,
    /// The day count, when `has_days`.
    days: u32,
    /// The average balance, the customer rate and the risk weight, packed.
    decimals: [Packed; 3],
    side: Side,
    loan_class: Option<LoanClass>,
    has_days: bool,
}

/// A decimal in 10 bytes: its mantissa and scale when the mantissa fits 64 bits and the two
/// give back the very same decimal, else its index among the table's wide decimals; or none.
#[derive(Debug, Clone, Copy)]
struct Packed {
    bits: [u8; 8],
    scale: u8,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    None,
    Narrow,
    Wide,
}

impl Packed {
    /// `d` packed (a wide one added to `wide`).
    fn new(d: Option<Decimal>, wide: &mut Vec<Decimal>) -> Packed {
        let Some(d) = d else { return Packed { bits: [0; 8], scale: 0, kind: Kind::None } };
        let narrow = i64::try_from(d.mantissa()).ok().and_then(|m| u8::try_from(d.scale()).ok().map(|s| (m, s)));
        if let Some((m, scale)) = narrow {
            let packed = Packed { bits: m.to_le_bytes(), scale, kind: Kind::Narrow };
            // Exactly the same decimal back (a negative zero is kept wide).
            if packed.narrow().is_some_and(|back| back.serialize() == d.serialize()) {
                return packed;
            }
        }
        let index = u64::try_from(wide.len()).unwrap_or(u64::MAX);
        wide.push(d);
        Packed { bits: index.to_le_bytes(), scale: 0, kind: Kind::Wide }
    }

    fn narrow(self) -> Option<Decimal> {
        Decimal::try_from_i128_with_scale(i128::from(i64::from_le_bytes(self.bits)), u32::from(self.scale)).ok()
    }

    /// The decimal (`wide` the table's wide decimals).
    fn get(self, wide: &[Decimal]) -> Option<Decimal> {
        match self.kind {
            Kind::None => None,
            Kind::Narrow => self.narrow(),
            Kind::Wide => usize::try_from(u64::from_le_bytes(self.bits)).ok().and_then(|i| wide.get(i)).copied(),
        }
    }
}

/// An account-month as the computation reads it: its fields borrowed from the table, and its
/// row (the lineage refers to an account by it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AccountRef<'a> {
    pub(crate) row: u32,
    pub(crate) month: Month,
    pub(crate) customer: &'a str,
    pub(crate) account: &'a str,
    pub(crate) product: &'a str,
    pub(crate) term: &'a str,
    pub(crate) side: Side,
    pub(crate) average_balance: Decimal,
    pub(crate) customer_rate: Decimal,
    pub(crate) days: Option<u32>,
    pub(crate) branch: &'a str,
    pub(crate) legal_entity: &'a str,
    pub(crate) loan_class: Option<LoanClass>,
    pub(crate) risk_weight: Option<Decimal>,
}

/// A month's account-months held compactly: about 80 bytes each with its account id, where an
/// [`AccountMonth`] with its six texts takes about 400. The same records as a list of
/// [`AccountMonth`]s, in the same order, computed the same: [`compute_table_streaming`]
/// computes a month from a table; [`AccountMonthTable::read_csv`] reads one from a CSV file
/// line by line, without holding the file.
///
/// [`compute_table_streaming`]: crate::compute_table_streaming
#[derive(Debug, Clone, Default)]
pub struct AccountMonthTable {
    rows: Vec<Row>,
    /// The decimals that do not pack narrow.
    wide: Vec<Decimal>,
    accounts: Texts,
    customers: Texts,
    symbols: Symbols,
}

fn too_large() -> ContributionError {
    ContributionError::TooLarge { what: "the account-months' ids (more than 4 GiB of text)".into() }
}

impl AccountMonthTable {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        AccountMonthTable::default()
    }

    /// A table of `list`'s account-months, in its order.
    ///
    /// # Errors
    /// [`ContributionError::TooLarge`] when the ids pass 4 GiB of text.
    pub fn from_account_months(list: &[AccountMonth]) -> Result<Self, ContributionError> {
        let mut table = AccountMonthTable { rows: Vec::with_capacity(list.len()), ..Self::default() };
        for a in list {
            table.push(a)?;
        }
        Ok(table)
    }

    /// Adds an account-month at the end.
    ///
    /// # Errors
    /// [`ContributionError::TooLarge`] when the ids pass 4 GiB of text.
    pub fn push(&mut self, a: &AccountMonth) -> Result<(), ContributionError> {
        let customer = match self.customers.last() {
            // Account-months mostly come grouped by customer: a repeat is not stored again.
            Some((id, last)) if last == a.customer => id,
            _ => self.customers.push(&a.customer).ok_or_else(too_large)?,
        };
        // Consecutive account-months mostly share a branch, and often a product: the previous
        // row's id is taken when its text is the same, sparing a look-up.
        let previous = self.rows.last().map(|r| [r.product, r.term, r.branch, r.legal_entity]);
        let mut ids = previous.unwrap_or_default();
        for (id, text) in ids.iter_mut().zip([&a.product, &a.term, &a.branch, &a.legal_entity]) {
            if previous.is_none() || self.symbols.names.get(*id) != text.as_str() {
                *id = self.symbols.intern(text).ok_or_else(too_large)?;
            }
        }
        let [product, term, branch, legal_entity] = ids;
        self.accounts.push(&a.account).ok_or_else(too_large)?;
        self.rows.push(Row {
            month: a.month,
            customer,
            product,
            term,
            branch,
            legal_entity,
            days: a.days.unwrap_or(0),
            decimals: [Some(a.average_balance), Some(a.customer_rate), a.risk_weight]
                .map(|d| Packed::new(d, &mut self.wide)),
            side: a.side,
            loan_class: a.loan_class,
            has_days: a.days.is_some(),
        });
        Ok(())
    }

    /// The number of account-months.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no account-month.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The account-month at `index` (counting from 0, in the order added), as a record.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<AccountMonth> {
        let a = self.row(index)?;
        Some(AccountMonth {
            month: a.month,
            customer: a.customer.to_string(),
            account: a.account.to_string(),
            product: a.product.to_string(),
            term: a.term.to_string(),
            side: a.side,
            average_balance: a.average_balance,
            customer_rate: a.customer_rate,
            days: a.days,
            branch: a.branch.to_string(),
            legal_entity: a.legal_entity.to_string(),
            loan_class: a.loan_class,
            risk_weight: a.risk_weight,
        })
    }

    /// The account id of the account-month at `index` (counting from 0, in the order added).
    #[must_use]
    pub fn account(&self, index: usize) -> Option<&str> {
        self.rows.get(index)?;
        Some(self.accounts.get(u32::try_from(index).ok()?))
    }

    /// Reads account-months from a CSV file (the columns and errors of
    /// [`read_account_months`](crate::read_account_months)) line by line, holding one line at
    /// a time; `table` names the file in errors.
    ///
    /// # Errors
    /// Every header problem, or every cell that cannot be read, by line and column, as
    /// `read_account_months` gives them; a line that is not UTF-8 or cannot be read, by line;
    /// [`ContributionError::TooLarge`] when the ids pass 4 GiB of text.
    pub fn read_csv(table: &str, reader: impl BufRead) -> Result<Self, ContributionErrors> {
        let mut out = AccountMonthTable::new();
        crate::csv::read_account_months_with(table, reader, |a| out.push(&a))?;
        Ok(out)
    }

    /// The account-month at `index`, borrowed.
    pub(crate) fn row(&self, index: usize) -> Option<AccountRef<'_>> {
        let r = self.rows.get(index)?;
        let row = u32::try_from(index).ok()?;
        let name = |id| self.symbols.names.get(id);
        // Packed exactly: a balance and a rate are always there.
        let [balance, rate, weight] = r.decimals.map(|d| d.get(&self.wide));
        Some(AccountRef {
            row,
            month: r.month,
            customer: self.customers.get(r.customer),
            account: self.accounts.get(row),
            product: name(r.product),
            term: name(r.term),
            side: r.side,
            average_balance: balance?,
            customer_rate: rate?,
            days: r.has_days.then_some(r.days),
            branch: name(r.branch),
            legal_entity: name(r.legal_entity),
            loan_class: r.loan_class,
            risk_weight: weight,
        })
    }

    /// The account-month's customer and account: the order it is computed in.
    pub(crate) fn key(&self, index: usize) -> Option<(&str, &str)> {
        let r = self.rows.get(index)?;
        Some((self.customers.get(r.customer), self.accounts.get(u32::try_from(index).ok()?)))
    }

    /// Every account-month, in order.
    pub(crate) fn rows(&self) -> impl Iterator<Item = AccountRef<'_>> + '_ {
        (0..self.rows.len()).filter_map(|i| self.row(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_pack_exactly() {
        let mut wide = Vec::new();
        let texts =
            ["0", "0.00", "-0.00", "1269687.62", "-3.5", "0.012048", "9223372036854775807", "9223372036854775808"];
        let mut values: Vec<Decimal> = texts.iter().map(|t| t.parse().unwrap()).collect();
        values.extend([Decimal::MAX, Decimal::MIN, Decimal::new(1, 28), -Decimal::ZERO]);
        let expected =
            values.iter().filter(|d| i64::try_from(d.mantissa()).is_err() || (d.is_zero() && d.is_sign_negative()));
        let expected = expected.count();
        for d in values {
            let p = Packed::new(Some(d), &mut wide);
            let back = p.get(&wide).unwrap();
            assert_eq!(back.serialize(), d.serialize(), "{d}");
            assert_eq!(back.to_string(), d.to_string());
        }
        // The negative zeros and the mantissas beyond 64 bits are kept wide.
        assert_eq!(wide.len(), expected);
        assert!(expected >= 3);
        assert!(Packed::new(None, &mut wide).get(&wide).is_none());
        assert_eq!(std::mem::size_of::<Row>(), 64);
    }
}
