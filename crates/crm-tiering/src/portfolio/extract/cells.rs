//! The cells of a record, as text or typed, and the parsing of each kind of cell: amounts
//! (plain decimals or whole fen), dates, customer kinds.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::money::parse_amount;
use crate::portfolio::columns::Columns;
use crate::rules::CustomerKind;

/// A cell of a record: text, as a delimited file holds it, or an amount from a typed column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// Text, read as [`Extract::push_cells`](super::Extract::push_cells) reads a cell (an empty cell: nothing held, the
    /// stored value kept; a database NULL is one).
    Text(&'a str),
    /// An exact amount, from a decimal column (or integer fen the reader converted with
    /// [`from_fen`](crate::from_fen)).
    Amount(Decimal),
}

/// The cells of a record, as text or typed.
pub(super) trait Cells {
    /// The number of cells.
    fn count(&self) -> usize;
    /// The text of cell `i` (empty for a typed amount); none past the last cell.
    fn text(&self, i: usize) -> Option<&str>;
    /// The typed amount of cell `i`, when it is one.
    fn amount(&self, i: usize) -> Option<Decimal>;
}

impl Cells for [&str] {
    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn text(&self, i: usize) -> Option<&str> {
        self.get(i).copied()
    }
    #[inline]
    fn amount(&self, _: usize) -> Option<Decimal> {
        None
    }
}

impl Cells for [Cell<'_>] {
    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn text(&self, i: usize) -> Option<&str> {
        self.get(i).map(|c| match c {
            Cell::Text(t) => *t,
            Cell::Amount(_) => "",
        })
    }
    #[inline]
    fn amount(&self, i: usize) -> Option<Decimal> {
        match self.get(i) {
            Some(Cell::Amount(d)) => Some(*d),
            _ => None,
        }
    }
}

/// The amount of cell `column` of a record: none for an empty cell.
#[inline]
pub(super) fn cell_amount_at<C: Cells + ?Sized>(
    cols: &Columns,
    cells: &C,
    column: usize,
) -> Result<Option<Decimal>, String> {
    if let Some(amount) = cells.amount(column) {
        return Ok(Some(amount));
    }
    let text = trim_cr(cells.text(column).unwrap_or_default());
    if text.is_empty() {
        return Ok(None);
    }
    cell_amount(cols, column, text).map(Some)
}

/// `text.trim_matches('\r')`, at once when the text neither starts nor ends with one.
#[inline]
pub(super) fn trim_cr(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(a), Some(z)) if *a != b'\r' && *z != b'\r' => text,
        // An empty cell (a null amount, the usual gap of a typed table) at once too.
        (None, _) => text,
        _ => text.trim_matches('\r'),
    }
}

/// A customer kind cell (not blank), the usual spellings without a lowercase copy.
#[inline]
pub(super) fn customer_kind(text: &str) -> Result<CustomerKind, String> {
    match text {
        "personal" => Ok(CustomerKind::Personal),
        "corporate" => Ok(CustomerKind::Corporate),
        _ => text.parse(),
    }
}

/// The amount of a text cell: a plain decimal, or whole fen in a `_fen` column.
fn cell_amount(cols: &Columns, column: usize, text: &str) -> Result<Decimal, String> {
    if !cols.is_fen(column) {
        return parse_amount(text).map_err(|e| e.to_string());
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    match text.parse::<i64>() {
        Ok(fen) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(crate::money::from_fen(fen)),
        _ => Err(format!("`{text}` is not a whole number of fen (分)")),
    }
}

pub(super) fn date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let fmt = match b.len() {
        10 if b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-') => "%Y-%m-%d",
        8 if b.iter().all(u8::is_ascii_digit) => "%Y%m%d",
        _ => return None,
    };
    let digits_ok = b.iter().enumerate().all(|(i, c)| c.is_ascii_digit() || (b.len() == 10 && (i == 4 || i == 7)));
    if !digits_ok {
        return None;
    }
    NaiveDate::parse_from_str(text, fmt).ok()
}
