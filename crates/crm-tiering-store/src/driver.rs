//! What a backend implements: a connection that runs the store's statements, loads rows in
//! bulk and holds the store's write lock. The month protocol, the run-status machine, the
//! chain of months and the schema are written once over it ([`crate::protocol`]).
//!
//! A location is resolved to a backend by its scheme ([`BACKENDS`]): a new backend is one
//! file with a [`Backend`] entry added there.

use crate::StoreError;
use crate::dialect::Dialect;
use crate::layout::StateLayout;
use crate::schema::Table;

/// A parameter or a value read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl<'a> From<i64> for Value<'a> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(v: &'a [u8]) -> Self {
        Value::Bytes(v)
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A row read. Values of another type than asked (an edited database) are
/// [`StoreError::Corrupt`].
pub(crate) trait Row {
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError>;
    fn bytes(&self, i: usize) -> Result<Option<&[u8]>, StoreError>;
}

/// A value that must be there.
pub(crate) fn need<T>(v: Option<T>, i: usize) -> Result<T, StoreError> {
    v.ok_or_else(|| StoreError::Corrupt(format!("a stored value (column {}) is null where a value must be", i + 1)))
}

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Reads and writes; an older schema is migrated.
    ReadWrite,
    /// Reads only: nothing is ever written (no schema, no migration, no lock); a store whose
    /// file, directory or connection cannot be written opens so.
    ReadOnly,
    /// Makes a new store where there is none.
    Create,
}

/// Opens a connection to a location.
pub(crate) type Open = fn(&str, OpenMode) -> Result<Box<dyn Driver>, StoreError>;

/// Called with each stored state: the customer id, the encoded state, and the history stored
/// with it (`History::to_json`; none when the customer has none).
pub(crate) type StateFn<'a> = dyn FnMut(&str, &[u8], Option<&str>) -> Result<(), StoreError> + 'a;

/// Rows handed to [`Driver::load`]: called with a function that takes one row.
pub(crate) type RowSource<'a> =
    dyn FnMut(&mut dyn FnMut(&[Value<'_>]) -> Result<(), StoreError>) -> Result<(), StoreError> + 'a;

/// A connection to a database holding a store.
///
/// Transactions: [`Driver::begin`] starts one (a write transaction when the lock is held, the
/// lock's own on databases whose lock is a transaction), [`Driver::commit`] ends it. The write
/// lock ([`Driver::try_lock`]) is taken without waiting; on SQLite it is the write transaction
/// itself, so a commit releases it and the protocol takes it again when it goes on.
pub(crate) trait Driver: Send {
    /// The location for messages, without any password.
    fn location(&self) -> &str;
    /// The SQL it speaks.
    fn dialect(&self) -> &'static Dialect;
    /// How it keeps a month's states.
    fn layout(&self) -> &'static dyn StateLayout;
    /// Takes the store's write lock without waiting: false when another connection holds it.
    fn try_lock(&mut self) -> Result<bool, StoreError>;
    /// Whether this connection holds the lock.
    fn locked(&self) -> bool;
    /// Releases the lock (rolling back what is not committed).
    fn unlock(&mut self);
    /// Starts a transaction (a consistent snapshot for reads); none when one is open already.
    /// Returns whether it started one.
    fn begin(&mut self) -> Result<bool, StoreError>;
    /// Commits the transaction.
    fn commit(&mut self) -> Result<(), StoreError>;
    /// Rolls the transaction back (nothing when none is open).
    fn rollback(&mut self);
    /// Runs a statement; returns the rows changed.
    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError>;
    /// Runs a query, calling `f` with each row.
    fn query(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
        f: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Loads rows into every column of `table` (its serial key aside), in the open transaction.
    fn load(&mut self, table: &Table, rows: &mut RowSource<'_>) -> Result<(), StoreError>;
    /// After a month is committed (SQLite folds its WAL back into the file).
    fn after_commit(&mut self) {}
    /// The store could not be created: remove what `open` made (SQLite: the new file).
    fn discard_created(&mut self) {}
}

/// A backend: the locations it takes and how it opens them.
pub(crate) struct Backend {
    /// Its name.
    pub(crate) name: &'static str,
    /// Whether a location is one of its own.
    pub(crate) claims: fn(&str) -> bool,
    /// The location as it may be shown (no password).
    pub(crate) display: fn(&str) -> String,
    /// Opens a connection.
    pub(crate) open: Open,
}

/// The backends, asked in order; the last (SQLite) takes any location no other claims that
/// has no `scheme://` of its own.
pub(crate) static BACKENDS: &[&Backend] = &[&crate::pg::BACKEND, &crate::sqlite::BACKEND];

/// The backend of a location.
pub(crate) fn backend_of(location: &str) -> Result<&'static Backend, StoreError> {
    if let Some(b) = BACKENDS.iter().find(|b| (b.claims)(location)) {
        return Ok(b);
    }
    let scheme = location.split_once("://").map_or("", |(s, _)| s);
    Err(StoreError::Input(format!(
        "`{scheme}://` is not a store location this tool knows: give a SQLite file path or a postgres:// URL"
    )))
}
