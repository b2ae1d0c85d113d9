//! Parquet files read through [`TableReader`], every size the file claims checked against the
//! bytes present before anything is reserved.

use bytes::Bytes;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

use super::{Cell, Columns, Extract, RuleBook, TableError, TableKind, TableReader};

/// Rows decoded at a time: large enough that the decoder's work per batch (its arrays, its
/// levels) is spread over many rows, small enough that a batch stays in the cache.
const BATCH_ROWS: usize = 8192;

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
/// The columns' Arrow types are those of the file's Parquet schema (an Arrow schema embedded in
/// its footer is not read). The file is read through [`CheckedChunks`] and in batches of 8,192
/// rows, every column chunk checked to lie within the file first; room for the AUM
/// records is reserved for the row count the footer claims only up to one record per byte of
/// the file (a row count the data cannot hold is never reserved), and a file whose data holds
/// another number of rows than its footer claims is refused as damaged.
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
/// file); [`TableError::Columns`] and [`TableError::Type`] as [`TableReader::new`]. After an
/// error `extract` may hold some of the file's rows: the run must not go on.
pub fn read_parquet<R: ChunkReader + 'static>(
    book: &RuleBook,
    kind: TableKind,
    name: &str,
    file: R,
    first_row: u64,
    extract: &mut Extract,
    each: impl FnMut(&Columns, &[Cell<'_>]),
) -> Result<u64, TableError> {
    // The Parquet decoder has panicked on damaged pages (an out-of-bounds bitmap of definition
    // levels, found by the parquet_input fuzz target): such a file is refused as damaged, like
    // any other, rather than ending the process.
    let read = std::panic::AssertUnwindSafe(|| read_unguarded(book, kind, name, file, first_row, extract, each));
    std::panic::catch_unwind(read).unwrap_or_else(|_| {
        Err(TableError::Data {
            table: name.to_string(),
            message: "not a readable Parquet file: its pages cannot be decoded (the file is damaged)".to_string(),
        })
    })
}

/// [`read_parquet`] without the guard against the decoder's panics.
fn read_unguarded<R: ChunkReader + 'static>(
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
    // The columns' types are the Parquet schema's: the Arrow schema a writer may embed in the
    // footer is a second description, not read (nor trusted).
    let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
    let builder = ParquetRecordBatchReaderBuilder::try_new_with_options(file, options).map_err(damaged)?;
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
    // Every column chunk within the file before the reader asks for one (the reader assumes
    // offsets and lengths that are not negative).
    for (g, group) in meta.row_groups().iter().enumerate() {
        for (c, column) in group.columns().iter().enumerate() {
            let start = column.dictionary_page_offset().unwrap_or_else(|| column.data_page_offset());
            let length = column.compressed_size();
            let inside = u64::try_from(start)
                .ok()
                .zip(u64::try_from(length).ok())
                .and_then(|(s, l)| s.checked_add(l))
                .is_some_and(|end| end <= len);
            if !inside || column.num_values() < 0 {
                return Err(damaged(ParquetError::General(format!(
                    "row group {g}, column {c} claims {length} bytes at offset {start} ({} values), but the file has {len} bytes",
                    column.num_values()
                ))));
            }
        }
    }
    let mut reader = TableReader::new(book, kind, name, builder.schema(), first_row)?;
    if kind == TableKind::Aum {
        let rows = u64::try_from(claimed).unwrap_or(0).min(len);
        extract.reserve(usize::try_from(rows).unwrap_or(0));
    }
    let batches = builder.with_batch_size(BATCH_ROWS).build().map_err(damaged)?;
    for batch in batches {
        let batch = batch.map_err(|e| TableError::Data {
            table: name.to_string(),
            message: format!("cannot read the Parquet file: {e}"),
        })?;
        reader.push_batch_with(extract, &batch, &mut each)?;
    }
    let rows = reader.next_row() - first_row;
    if i64::try_from(rows).ok() != Some(claimed) {
        // A footer whose count the data does not hold: the rows read may not be the file's.
        return Err(damaged(ParquetError::General(format!("the footer claims {claimed} rows, the data holds {rows}"))));
    }
    reader.finish(extract);
    Ok(rows)
}
