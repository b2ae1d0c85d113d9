//! The cells of a batch's columns, row by row: strings borrowed from the batch, amounts typed,
//! rendered values as text, read through a dictionary's keys where there is one.

use arrow_array::cast::AsArray;
use arrow_array::types::Decimal128Type;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;

use super::policy::{How, Plan};
use super::values::{Amount, Buffers, decimal};
use crate::portfolio::extract::Cell;

/// The cells of one column of a batch (of a dictionary's values), row by row.
pub(super) enum Column<'b> {
    /// Strings, borrowed from the batch (nulls are empty cells).
    Utf8(&'b arrow_array::StringArray),
    LargeUtf8(&'b arrow_array::LargeStringArray),
    View(&'b arrow_array::StringViewArray),
    /// No values: every cell is empty.
    Empty,
    /// Amounts, typed.
    Amounts(&'b [Amount]),
    /// Decimals read as each row is: `beyond` holds the text of the values no amount can hold.
    Decimal128 {
        array: &'b arrow_array::Decimal128Array,
        scale: u32,
        beyond: &'b [(usize, String)],
    },
    /// Values written as text: the text of row `k` ends at `ends[k]`.
    Rendered {
        text: &'b str,
        ends: &'b [usize],
    },
}

impl<'b> Column<'b> {
    pub(super) fn of(values: &'b ArrayRef, plan: Plan, buf: &'b Buffers) -> Self {
        match plan.how {
            How::Text => match values.data_type() {
                DataType::Utf8 => Column::Utf8(values.as_string::<i32>()),
                DataType::LargeUtf8 => Column::LargeUtf8(values.as_string::<i64>()),
                DataType::Utf8View => Column::View(values.as_string_view()),
                _ => Column::Empty,
            },
            How::Decimal(s) if s >= 0 && !plan.dictionary && matches!(values.data_type(), DataType::Decimal128(..)) => {
                Column::Decimal128 {
                    array: values.as_primitive::<Decimal128Type>(),
                    scale: u32::from(s.unsigned_abs()),
                    beyond: &buf.beyond,
                }
            }
            How::Fen | How::Decimal(_) => Column::Amounts(&buf.amounts),
            How::Integer | How::Days { .. } | How::Period => Column::Rendered { text: &buf.text, ends: &buf.ends },
        }
    }

    #[inline]
    fn cell_at(&self, k: usize) -> Cell<'b> {
        match self {
            Column::Utf8(a) => Cell::Text(if a.is_null(k) { "" } else { a.value(k) }),
            Column::LargeUtf8(a) => Cell::Text(if a.is_null(k) { "" } else { a.value(k) }),
            Column::View(a) => Cell::Text(if a.is_null(k) { "" } else { a.value(k) }),
            Column::Empty => Cell::Text(""),
            Column::Amounts(v) => match v.get(k) {
                None | Some(Amount::Null) => Cell::Text(""),
                Some(Amount::Value(d)) => Cell::Amount(*d),
                Some(Amount::Text(t)) => Cell::Text(t),
            },
            Column::Decimal128 { array, scale, beyond } => {
                if array.is_null(k) {
                    return Cell::Text("");
                }
                match decimal(array.value(k), *scale) {
                    Some(d) => Cell::Amount(d),
                    None => Cell::Text(beyond_text(beyond, k)),
                }
            }
            Column::Rendered { text, ends } => {
                let start = if k == 0 { 0 } else { ends.get(k - 1).copied().unwrap_or(0) };
                Cell::Text(ends.get(k).and_then(|&end| text.get(start..end)).unwrap_or_default())
            }
        }
    }
}

fn beyond_text(beyond: &[(usize, String)], k: usize) -> &str {
    beyond.binary_search_by_key(&k, |(i, _)| *i).ok().and_then(|i| beyond.get(i)).map_or("", |(_, t)| t.as_str())
}

/// A column of a batch as cells: its values' column, through a dictionary's keys.
pub(super) struct Cells<'b> {
    pub(super) column: Column<'b>,
    pub(super) keys: Option<&'b [Option<usize>]>,
}

impl<'b> Cells<'b> {
    /// Writes the cells of rows `start..` into `out` (rows of `width` cells), column `column`:
    /// one loop a column, each knowing its column's type.
    pub(super) fn fill(&self, out: &mut [Cell<'b>], column: usize, width: usize, start: usize) {
        let rows = out.chunks_exact_mut(width).enumerate();
        match (self.keys, &self.column) {
            (Some(keys), c) => rows.for_each(|(j, r)| {
                set(
                    r,
                    column,
                    match keys.get(start + j).copied().flatten() {
                        Some(key) => c.cell_at(key),
                        None => Cell::Text(""),
                    },
                );
            }),
            (None, Column::Utf8(a)) => {
                rows.for_each(|(j, r)| {
                    let k = start + j;
                    set(r, column, Cell::Text(if a.is_null(k) { "" } else { a.value(k) }));
                });
            }
            (None, Column::Decimal128 { array, scale, beyond }) => {
                let nulls = array.nulls();
                let values = array.values().get(start..).unwrap_or_default();
                for ((j, r), v) in rows.zip(values.iter()) {
                    let k = start + j;
                    let cell = if nulls.is_some_and(|n| n.is_null(k)) {
                        Cell::Text("")
                    } else {
                        match decimal(*v, *scale) {
                            Some(d) => Cell::Amount(d),
                            None => Cell::Text(beyond_text(beyond, k)),
                        }
                    };
                    set(r, column, cell);
                }
            }
            (None, c) => rows.for_each(|(j, r)| set(r, column, c.cell_at(start + j))),
        }
    }
}

/// Writes cell `column` of a row (`column` is below the table's width, the length of each row).
#[inline(always)]
fn set<'b>(row: &mut [Cell<'b>], column: usize, cell: Cell<'b>) {
    if let Some(at) = row.get_mut(column) {
        *at = cell;
    }
}

/// An empty vector of cells with the allocation of another one, whatever the borrow.
pub(super) fn recycle<'b>(mut v: Vec<Cell<'_>>) -> Vec<Cell<'b>> {
    v.clear();
    v.into_iter().map(|_| Cell::Text("")).collect()
}
