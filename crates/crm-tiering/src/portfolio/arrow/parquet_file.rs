//! Parquet files read through [`TableReader`], every size the file claims checked against the
//! bytes present before anything is reserved.

use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

use super::{Cell, Columns, Extract, RuleBook, TableError, TableKind, TableReader};

/// A Parquet file's bytes (a [`std::fs::File`], [`bytes::Bytes`]) whose every read is checked
/// against the file's length first: a footer, a row group or a page claiming more bytes than
/// the file holds is an error, never an allocation of what it claims.
#[derive(Debug)]
pub struct CheckedChunks<R> {
    inner: R,
    len: u64,
}

impl<R: ChunkReader> CheckedChunks<R> {
    /// Wraps a file.
    pub fn new(inner: R) -> Self {
        let len = inner.len();
        CheckedChunks { inner, len }
    }

    fn check(&self, start: u64, length: u64) -> parquet::errors::Result<()> {
        match start.checked_add(length) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(ParquetError::EOF(format!(
                "the file claims {length} bytes at offset {start}, but it has {} bytes",
                self.len
            ))),
        }
    }
}

impl<R: ChunkReader> Length for CheckedChunks<R> {
    fn len(&self) -> u64 {
        self.len
    }
}

impl<R: ChunkReader> ChunkReader for CheckedChunks<R> {
    type T = R::T;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        self.check(start, 0)?;
        self.inner.get_read(start)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.check(start, length as u64)?;
        self.inner.get_bytes(start, length)
    }
}

/// Reads a Parquet file as table `name` of `kind` into `extract`, rows numbered from
/// `first_row`, calling `each` with the columns and every row's cells; returns the number of
/// rows read.
///
/// The file is read through [`CheckedChunks`] and in batches of 1,024 rows; room for the AUM
/// records is reserved for the row count the footer claims only up to one record per byte of
/// the file (a row count the data cannot hold is never reserved).
///
/// ```
/// use crm_tiering::RuleBook;
/// use crm_tiering::portfolio::{Extract, TableKind};
/// use crm_tiering::portfolio::arrow::{TableError, read_parquet};
/// let book = RuleBook::default_book()?;
/// let mut extract = Extract::new(&book);
/// let damaged = bytes::Bytes::from_static(b"PAR1 not a parquet file PAR1");
/// let err = read_parquet(&book, TableKind::Aum, "aum.parquet", damaged, 1, &mut extract, |_, _| {}).unwrap_err();
/// assert!(matches!(err, TableError::Data { .. }) && err.to_string().starts_with("table `aum.parquet`"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`TableError::Data`] for a file that is not Parquet or is damaged (naming the table, the
/// file); [`TableError::Columns`] and [`TableError::Type`] as [`TableReader::new`].
pub fn read_parquet<R: ChunkReader + 'static>(
    book: &RuleBook,
    kind: TableKind,
    name: &str,
    file: R,
    first_row: u64,
    extract: &mut Extract,
    mut each: impl FnMut(&Columns, &[Cell<'_>]),
) -> Result<u64, TableError> {
    let damaged = |e: ParquetError| TableError::Data {
        table: name.to_string(),
        message: format!("not a readable Parquet file: {e}"),
    };
    let file = CheckedChunks::new(file);
    let len = file.len;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(damaged)?;
    let meta = builder.metadata().clone();
    let claimed = meta.file_metadata().num_rows();
    let groups: Option<i64> =
        meta.row_groups().iter().try_fold(0i64, |sum, g| (g.num_rows() >= 0).then(|| sum.checked_add(g.num_rows()))?);
    if claimed < 0 || groups != Some(claimed) {
        return Err(damaged(ParquetError::General(format!(
            "the footer claims {claimed} rows, its row groups {}",
            groups.map_or_else(|| "a count that is not one".to_string(), |g| g.to_string())
        ))));
    }
    let mut reader = TableReader::new(book, kind, name, builder.schema(), first_row)?;
    if kind == TableKind::Aum {
        let rows = u64::try_from(claimed).unwrap_or(0).min(len);
        extract.reserve(usize::try_from(rows).unwrap_or(0));
    }
    let batches = builder.with_batch_size(1024).build().map_err(damaged)?;
    for batch in batches {
        let batch = batch.map_err(|e| TableError::Data {
            table: name.to_string(),
            message: format!("cannot read the Parquet file: {e}"),
        })?;
        reader.push_batch_with(extract, &batch, &mut each)?;
    }
    let rows = reader.next_row() - first_row;
    reader.finish(extract);
    Ok(rows)
}
