//! One column of a table that is not a portfolio table, read under the type policy of a role:
//! the contribution crate's inputs use it, so every surface refuses and reads the same types.

use arrow_array::ArrayRef;
use arrow_schema::{DataType, Field};

use super::TableError;
use super::cells::{Cells, Column};
use super::policy::{Plan, plan_role};
use super::values::{Buffers, prepare, values_of};
use crate::portfolio::columns::ColumnRole;
use crate::portfolio::extract::Cell;

/// A column of another crate's table (its batches, one at a time) read as cells under the type
/// policy of `role` (the table in this module's documentation): ids and codes as
/// [`ColumnRole::CustomerId`], amounts as [`ColumnRole::Balance`] (a column whose name ends in
/// `_fen` holds whole fen), months as [`ColumnRole::Month`], counts as [`ColumnRole::Months`].
/// Strings are borrowed, typed amounts exact, integers, dates and periods the text a CSV table
/// would hold; the caller checks each cell as it checks text.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{ArrayRef, Decimal128Array, Float64Array};
/// use arrow_schema::Field;
/// use crm_tiering::portfolio::{Cell, ColumnRole};
/// use crm_tiering::portfolio::arrow::ColumnReader;
/// let amounts: ArrayRef = Arc::new(Decimal128Array::from(vec![Some(12_345), None]).with_precision_and_scale(20, 2)?);
/// let field = Field::new("amount", amounts.data_type().clone(), true);
/// let mut reader = ColumnReader::new("fees", &field, &ColumnRole::Balance)?;
/// let cells = reader.cells("fees", &amounts)?;
/// assert!(matches!(cells[0], Cell::Amount(d) if d.to_string() == "123.45"));
/// assert!(matches!(cells[1], Cell::Text("")));
/// let floats = Field::new("amount", arrow_schema::DataType::Float64, true);
/// assert!(ColumnReader::new("fees", &floats, &ColumnRole::Balance).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ColumnReader {
    name: String,
    plan: Plan,
    values: Option<ArrayRef>,
    buffers: Buffers,
}

impl std::fmt::Debug for ColumnReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColumnReader").field("name", &self.name).finish()
    }
}

impl ColumnReader {
    /// A reader of column `field` of table `table`, under the policy of `role`.
    ///
    /// # Errors
    /// [`TableError::Type`] when the column's type is one `role` does not take.
    pub fn new(table: &str, field: &Field, role: &ColumnRole) -> Result<Self, TableError> {
        let name = field.name().trim();
        let fen = role.is_amount() && name.ends_with("_fen");
        match plan_role(name, Some(role), fen, field) {
            Ok(plan) => Ok(ColumnReader { name: name.to_string(), plan, values: None, buffers: Buffers::default() }),
            Err((message, float_amount)) => {
                Err(TableError::Type { table: table.to_string(), column: name.to_string(), float_amount, message })
            }
        }
    }

    /// The cells of the column of a batch of table `table`, row by row (a null is an empty
    /// text cell).
    ///
    /// # Errors
    /// [`TableError::Data`] when the column is not of the type the reader was made for.
    pub fn cells<'b>(&'b mut self, table: &str, column: &ArrayRef) -> Result<Vec<Cell<'b>>, TableError> {
        let dictionary = matches!(column.data_type(), DataType::Dictionary(..));
        let data = |message: String| TableError::Data { table: table.to_string(), message };
        if dictionary != self.plan.dictionary {
            return Err(data(format!("column `{}`: the table's batches have different types", self.name)));
        }
        let values = values_of(column, self.plan);
        prepare(column, &values, self.plan, &mut self.buffers)
            .map_err(|e| data(format!("column `{}`: {e}", self.name)))?;
        let values = self.values.insert(values);
        let cells = Cells {
            column: Column::of(values, self.plan, &self.buffers),
            keys: self.plan.dictionary.then_some(self.buffers.keys.as_slice()),
        };
        let mut out = vec![Cell::Text(""); column.len()];
        cells.fill(&mut out, 0, 1, 0);
        Ok(out)
    }
}
