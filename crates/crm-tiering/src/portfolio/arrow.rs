//! Reading typed tables — Arrow record batches, Parquet files — into an [`Extract`], with one
//! type policy for every surface (SPEC §15, "Reading typed tables"). The CLI's Parquet input,
//! the Python binding (pyarrow, pandas, polars, Spark) and the fuzz target all read through
//! [`TableReader`] (and [`read_parquet`], feature `parquet`), so a column means the same
//! everywhere.
//!
//! Which Arrow types each column role takes:
//!
//! | role | read | refused |
//! |---|---|---|
//! | ids and codes (`customer_id`, `legal_entity`, `legal_entity_name`, `customer_kind`, `component`, `action`, `tier`) | strings (`utf8`, `large_utf8`, `utf8_view`), dictionary-encoded strings, all-null | integers (an id loses its leading zeros), anything else |
//! | amounts (`aum`, component columns, measure columns, `balance`) | strings (plain decimals, SPEC §16), `decimal128`/`decimal256` of any precision and scale (a negative scale too: `123` at scale −2 is 12300) | floats (a dictionary of floats too: pandas categoricals), booleans, integers — except in a column named `<name>_fen`, which holds whole fen as integers or digit strings |
//! | `month` | strings (`YYYY-MM`, `YYYYMM`), integers (`202403`), dates, zone-less timestamps (the month of their calendar date), pandas `Period[M]` (extension `pandas.period`, `freq` `M`) | timezone-aware timestamps (the month depends on the zone), periods of another frequency, floats, booleans |
//! | `date` (daily balances) | strings (`YYYY-MM-DD`, `YYYYMMDD`), integers (`20240301`), dates, zone-less timestamps | timezone-aware timestamps, floats, booleans |
//! | `months` (a designation's length) | strings, integers | anything else |
//!
//! A dictionary-encoded column is read as its values. A null is an empty cell. Values become
//! cells of [`Extract::push_values`] — strings borrowed, amounts typed, integers, dates and
//! periods as the text a CSV extract would hold — so every record check (ids, amounts, months,
//! kinds) is the core's, the same as for text. A refused type stops the table
//! ([`TableError::Type`], naming the table and the column) before any row is read.
//! [`ColumnReader`] reads one column of another crate's table (the contribution inputs) under
//! the policy of a role, so those tables take and refuse the same types.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Decimal128Array, RecordBatch, StringArray};
//! use crm_tiering::RuleBook;
//! use crm_tiering::portfolio::{Extract, TableKind};
//! use crm_tiering::portfolio::arrow::TableReader;
//! let book = RuleBook::default_book()?;
//! let ids: ArrayRef = Arc::new(StringArray::from(vec!["c1", "c2"]));
//! let aum: ArrayRef = Arc::new(Decimal128Array::from(vec![25_000_000, 1]).with_precision_and_scale(20, 2)?);
//! let batch = RecordBatch::try_from_iter([("customer_id", ids), ("aum", aum)])?;
//! let mut extract = Extract::new(&book);
//! let mut reader = TableReader::new(&book, TableKind::Aum, "aum", &batch.schema(), 0)?;
//! reader.push_batch(&mut extract, &batch)?;
//! reader.finish(&mut extract);
//! assert_eq!(extract.rows().len(), 2);
//! assert_eq!(extract.rows().get(1).unwrap().row(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cells;
mod column;
mod policy;
pub mod tables;
mod values;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema};

use self::cells::{Cells, Column, recycle};
pub use self::column::ColumnReader;
use self::policy::{Plan, plan};
use self::values::{Buffers, prepare, values_of};
use super::columns::{Columns, TableKind};
use super::extract::{Cell, Extract};
use crate::error::TieringError;
use crate::rules::RuleBook;

/// Rows turned into cells at a time (one buffer of cells serves a whole table).
const CHUNK: usize = 1024;

/// A table that cannot be read at all: the run cannot use it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    /// The header does not resolve (an unknown, repeated or missing column): the core's
    /// `input` error naming the column ([`Columns::resolve`]).
    #[error("table `{table}`: {error}")]
    Columns {
        /// The table.
        table: String,
        /// The error, naming the column as its field.
        error: TieringError,
    },
    /// A column whose Arrow type its role does not take (the type policy above).
    #[error("table `{table}`: {message}")]
    Type {
        /// The table.
        table: String,
        /// The column, as named in the table.
        column: String,
        /// Whether the column holds binary floating-point amounts (a binding may add how to
        /// write them exactly in its own terms).
        float_amount: bool,
        /// What is wrong, naming the column.
        message: String,
    },
    /// The data cannot be read: a damaged file, batches whose columns differ.
    #[error("table `{table}`: {message}")]
    Data {
        /// The table.
        table: String,
        /// What is wrong.
        message: String,
    },
}

impl TableError {
    /// The table the error is about.
    pub fn table(&self) -> &str {
        match self {
            TableError::Columns { table, .. } | TableError::Type { table, .. } | TableError::Data { table, .. } => {
                table
            }
        }
    }

    /// The column the error is about, when it is about one.
    pub fn column(&self) -> Option<&str> {
        match self {
            TableError::Columns { error, .. } => error.field(),
            TableError::Type { column, .. } => Some(column),
            TableError::Data { .. } => None,
        }
    }

    /// The message without the table's name.
    pub fn message(&self) -> String {
        match self {
            TableError::Columns { error, .. } => error.to_string(),
            TableError::Type { message, .. } | TableError::Data { message, .. } => message.clone(),
        }
    }
}

/// Reads one typed table (its batches, in order) into an [`Extract`]: the header resolved by
/// [`Columns::resolve`], each column's type checked against the policy once, then every row
/// pushed with [`Extract::push_values`] as row `first_row`, `first_row + 1`, ... of the table.
pub struct TableReader {
    name: String,
    cols: Columns,
    headers: Vec<String>,
    plans: Vec<Plan>,
    next_row: u64,
    buffers: Vec<Buffers>,
    cells: Vec<Cell<'static>>,
}

impl std::fmt::Debug for TableReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableReader").field("name", &self.name).field("next_row", &self.next_row).finish()
    }
}

impl TableReader {
    /// A reader of table `name` of `kind` with `schema`, whose first row is numbered
    /// `first_row` (the CLI numbers a Parquet file's rows from 1, the bindings from 0).
    ///
    /// # Errors
    /// [`TableError::Columns`] when the header does not resolve; [`TableError::Type`] for the
    /// first column whose type its role does not take.
    pub fn new(
        book: &RuleBook,
        kind: TableKind,
        name: &str,
        schema: &Schema,
        first_row: u64,
    ) -> Result<Self, TableError> {
        let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let cols = Columns::resolve(book, kind, &refs)
            .map_err(|error| TableError::Columns { table: name.to_string(), error })?;
        let mut plans = Vec::with_capacity(headers.len());
        for (i, field) in schema.fields().iter().enumerate() {
            match plan(&cols, i, field) {
                Ok(p) => plans.push(p),
                Err((message, float_amount)) => {
                    return Err(TableError::Type {
                        table: name.to_string(),
                        column: cols.name(i).to_string(),
                        float_amount,
                        message,
                    });
                }
            }
        }
        Ok(TableReader {
            name: name.to_string(),
            buffers: plans.iter().map(|_| Buffers::default()).collect(),
            cols,
            headers,
            plans,
            next_row: first_row,
            cells: Vec::new(),
        })
    }

    /// The resolved columns.
    pub fn columns(&self) -> &Columns {
        &self.cols
    }

    /// The number the next row gets.
    pub fn next_row(&self) -> u64 {
        self.next_row
    }

    /// Pushes a batch's rows.
    ///
    /// # Errors
    /// [`TableError::Data`] when the batch's columns are not the table's.
    pub fn push_batch(&mut self, extract: &mut Extract, batch: &RecordBatch) -> Result<(), TableError> {
        self.push_batch_with(extract, batch, |_, _| {})
    }

    /// [`TableReader::push_batch`], calling `each` with the columns and every row's cells
    /// before the row is pushed (the CLI notes legal entities' names there).
    ///
    /// # Errors
    /// As [`TableReader::push_batch`].
    pub fn push_batch_with(
        &mut self,
        extract: &mut Extract,
        batch: &RecordBatch,
        mut each: impl FnMut(&Columns, &[Cell<'_>]),
    ) -> Result<(), TableError> {
        let schema = batch.schema();
        let same =
            schema.fields().len() == self.headers.len()
                && schema.fields().iter().zip(&self.headers).zip(&self.plans).all(|((f, h), p)| {
                    f.name() == h && matches!(f.data_type(), DataType::Dictionary(..)) == p.dictionary
                });
        if !same {
            let message = "the table's batches have different columns".to_string();
            return Err(TableError::Data { table: self.name.clone(), message });
        }
        let values: Vec<ArrayRef> = batch.columns().iter().zip(&self.plans).map(|(c, p)| values_of(c, *p)).collect();
        // One buffer, plan and value array per column.
        for (i, ((buf, v), &plan)) in self.buffers.iter_mut().zip(&values).zip(&self.plans).enumerate() {
            if let Err(e) = prepare(batch.column(i), v, plan, buf) {
                let message = format!("column `{}`: {e}", self.cols.name(i));
                return Err(TableError::Data { table: self.name.clone(), message });
            }
        }
        let columns: Vec<Cells<'_>> = values
            .iter()
            .zip(&self.plans)
            .zip(&self.buffers)
            .map(|((v, p), buf)| Cells {
                column: Column::of(v, *p, buf),
                keys: p.dictionary.then_some(buf.keys.as_slice()),
            })
            .collect();
        let width = columns.len();
        let n = batch.num_rows();
        let mut all = recycle(std::mem::take(&mut self.cells));
        let mut start = 0;
        while start < n {
            let rows = CHUNK.min(n - start);
            // Every cell is written by its column's fill: the buffer is only sized.
            if all.len() != rows * width {
                all.clear();
                all.resize(rows * width, Cell::Text(""));
            }
            for (i, c) in columns.iter().enumerate() {
                c.fill(&mut all, i, width, start);
            }
            for cells in all.chunks_exact(width) {
                each(&self.cols, cells);
                // Amounts are typed only in amount columns (the plans): no text to make.
                extract.push_typed(&self.name, &self.cols, self.next_row, cells);
                self.next_row += 1;
            }
            start += rows;
        }
        self.cells = recycle(all);
        Ok(())
    }

    /// Ends the table ([`Extract::end_table`]): a month (date) column none of whose cells is a
    /// month stops the run.
    pub fn finish(self, extract: &mut Extract) {
        extract.end_table(&self.name, &self.cols);
    }
}

#[cfg(feature = "parquet")]
mod parquet_file;
#[cfg(feature = "parquet")]
pub use parquet_file::{CheckedChunks, read_parquet};

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "tests index rows they have just checked")]
mod tests {
    use super::*;

    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow_array::types::Int32Type;
    use arrow_array::{
        BooleanArray, Date64Array, Decimal256Array, DictionaryArray, Float64Array, Int64Array, StringArray,
        TimestampMillisecondArray,
    };
    use arrow_schema::Field;

    use crate::portfolio::{Extract, TableKind};

    fn batch(columns: Vec<(Field, ArrayRef)>) -> RecordBatch {
        let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn field(name: &str, a: &ArrayRef) -> Field {
        Field::new(name, a.data_type().clone(), true)
    }

    /// Reads a batch as an AUM table: (customer id, month, aum) of each row read, and the
    /// (customer, field) of each rejected one.
    #[expect(clippy::type_complexity, reason = "a test's rows and rejects, spelled out where they are read")]
    fn read(b: &RecordBatch) -> Result<(Vec<(String, Option<String>, String)>, Vec<(String, String)>), TableError> {
        let book = RuleBook::default_book().unwrap_or_else(|e| unreachable!("{e}"));
        let mut x = Extract::new(&book);
        let mut r = TableReader::new(&book, TableKind::Aum, "t", &b.schema(), 0)?;
        r.push_batch(&mut x, b)?;
        r.finish(&mut x);
        let rows = x
            .rows()
            .iter()
            .map(|r| (r.customer_id().to_string(), r.month().map(|m| m.to_string()), format!("{:?}", r.aum())))
            .collect();
        let held = x
            .rejected()
            .chain(x.fatal())
            .map(|e| (e.customer().unwrap_or_default().to_string(), e.field().unwrap_or_default().to_string()))
            .collect();
        Ok((rows, held))
    }

    fn ids() -> ArrayRef {
        Arc::new(StringArray::from(vec!["c1", "c2"]))
    }

    #[test]
    fn dictionaries_periods_and_wide_decimals() {
        let keys = arrow_array::Int32Array::from(vec![1, 0]);
        let dict: ArrayRef =
            Arc::new(DictionaryArray::<Int32Type>::try_new(keys, ids()).unwrap_or_else(|e| unreachable!("{e}")));
        let wide: ArrayRef = Arc::new(
            Decimal256Array::from(vec![arrow_buffer::i256::from_i128(25_000_000), arrow_buffer::i256::from_i128(1)])
                .with_precision_and_scale(40, 2)
                .unwrap_or_else(|e| unreachable!("{e}")),
        );
        let ordinals: ArrayRef = Arc::new(Int64Array::from(vec![648, 649]));
        let meta = HashMap::from([
            ("ARROW:extension:name".to_string(), "pandas.period".to_string()),
            ("ARROW:extension:metadata".to_string(), r#"{"freq":"M"}"#.to_string()),
        ]);
        let period = field("month", &ordinals).with_metadata(meta.clone());
        let b = batch(vec![
            (field("customer_id", &dict), dict),
            (period, ordinals.clone()),
            (field("aum", &wide), wide.clone()),
        ]);
        let (rows, held) = read(&b).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(held.is_empty(), "{held:?}");
        let got: Vec<(&str, Option<&str>)> = rows.iter().map(|(c, m, _)| (c.as_str(), m.as_deref())).collect();
        assert_eq!(got, [("c2", Some("2024-01")), ("c1", Some("2024-02"))]);
        assert!(rows[0].2.contains("250000.00"), "{rows:?}");
        // A daily period is refused, naming the frequency.
        let mut daily = meta;
        daily.insert("ARROW:extension:metadata".into(), r#"{"freq":"D"}"#.into());
        let b = batch(vec![
            (field("customer_id", &ids()), ids()),
            (field("month", &ordinals).with_metadata(daily), ordinals),
            (field("aum", &wide), wide),
        ]);
        let err = read(&b).unwrap_err();
        assert_eq!(err.column(), Some("month"));
        assert!(err.to_string().contains("frequency `D`"), "{err}");
    }

    #[test]
    fn refused_types_name_the_table_and_the_column() {
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0]));
        let keys = arrow_array::Int32Array::from(vec![0, 1]);
        let float_dict: ArrayRef = Arc::new(
            DictionaryArray::<Int32Type>::try_new(keys, floats.clone()).unwrap_or_else(|e| unreachable!("{e}")),
        );
        let bools: ArrayRef = Arc::new(BooleanArray::from(vec![true, false]));
        let zoned: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![0, 0]).with_timezone("Asia/Shanghai"));
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        let text: ArrayRef = Arc::new(StringArray::from(vec!["1", "2"]));
        let cases: Vec<(&str, ArrayRef, &str, bool)> = vec![
            ("aum", floats, "binary floating-point", true),
            ("aum", float_dict, "binary floating-point", true),
            ("aum", bools.clone(), "booleans", false),
            ("aum", ints.clone(), "aum_fen", false),
            ("customer_kind", bools, "booleans", false),
            ("month", zoned, "timezone-aware timestamps (Asia/Shanghai)", false),
            ("customer_id", ints, "holds integers (int64)", false),
        ];
        for (name, array, says, float) in cases {
            let mut columns = vec![(field("aum", &text), text.clone())];
            if name == "aum" {
                columns.clear();
            }
            if name != "customer_id" {
                columns.push((field("customer_id", &ids()), ids()));
            }
            columns.push((field(name, &array), array));
            let err = read(&batch(columns)).unwrap_err();
            let TableError::Type { table, column, float_amount, message } = &err else { unreachable!("{err:?}") };
            assert_eq!((table.as_str(), column.as_str(), *float_amount), ("t", name, float), "{err}");
            assert!(message.contains(says) && err.to_string().starts_with("table `t`: column"), "{err}");
        }
    }

    #[test]
    fn dates_timestamps_and_a_month_column_of_something_else() {
        let day = 86_400_000;
        let dates: ArrayRef = Arc::new(Date64Array::from(vec![19_783 * day, 19_782 * day]));
        let naive: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![19_783 * day + 1, -1]));
        let aum: ArrayRef = Arc::new(StringArray::from(vec!["1", "2"]));
        for months in [dates, naive] {
            let b = batch(vec![
                (field("customer_id", &ids()), ids()),
                (field("month", &months), months),
                (field("aum", &aum), aum.clone()),
            ]);
            let (rows, held) = read(&b).unwrap_or_else(|e| unreachable!("{e}"));
            assert!(held.is_empty());
            let got: Vec<Option<String>> = rows.into_iter().map(|r| r.1).collect();
            assert!(
                got == [Some("2024-03".into()), Some("2024-02".into())]
                    || got == [Some("2024-03".into()), Some("1969-12".into())],
                "{got:?}"
            );
        }
        // Integers that are not months, throughout: the run stops, naming the column.
        let ordinals: ArrayRef = Arc::new(Int64Array::from(vec![648, 649]));
        let b = batch(vec![
            (field("customer_id", &ids()), ids()),
            (field("month", &ordinals), ordinals),
            (field("aum", &aum), aum),
        ]);
        let (rows, held) = read(&b).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(rows.is_empty());
        assert_eq!(
            held,
            [("c1".into(), "month".into()), ("c2".into(), "month".into()), (String::new(), "month".into())]
        );
    }
}
