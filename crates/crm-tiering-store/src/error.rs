//! The store's errors: [`StoreError`], and its kind ([`StoreErrorKind`]) for exit codes and
//! retries.

use std::fmt;

/// Everything that can go wrong with a store. [`StoreError::kind`] groups them for exit codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// There is no store where one was given (a missing file, an empty database).
    #[error("{0}")]
    Missing(String),
    /// A store (or a file) is where a new store was to be made.
    #[error("{0}")]
    Exists(String),
    /// Another run holds the store's write lock.
    #[error("{0}")]
    Locked(String),
    /// The month is already committed and no rerun was asked for.
    #[error("{0}")]
    AlreadyCommitted(String),
    /// The month cannot be written in the store's current sequence of months.
    #[error("{0}")]
    Sequence(String),
    /// The store's schema is newer than this library, older and not migratable, or the
    /// database is not a crm-tiering store.
    #[error("{0}")]
    Schema(String),
    /// The store cannot be written (a read-only file, connection or open).
    #[error("{0}")]
    ReadOnly(String),
    /// Stored data that does not decode or does not match the chain: the store was altered or
    /// damaged (a deleted or edited month, state or head; a file cut short).
    #[error("the store is damaged: {0}")]
    Corrupt(String),
    /// Data given to the store that it cannot keep (an amount that is not whole fen, ...).
    #[error("{0}")]
    Input(String),
    /// The database failed (disk full, connection lost, ...).
    #[error("{context}: {message}")]
    Database {
        /// What the store was doing.
        context: String,
        /// The database's message.
        message: String,
    },
}

/// The kind of a [`StoreError`], for exit codes and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreErrorKind {
    /// No store there: give the right location, or create one.
    Missing,
    /// A store or file is there already.
    Exists,
    /// Another run holds the lock: retry later.
    Locked,
    /// The month is committed already: pass `rerun` to replace it.
    AlreadyCommitted,
    /// The month is out of sequence with the committed months.
    Sequence,
    /// Schema version or not a store.
    Schema,
    /// Read-only store.
    ReadOnly,
    /// Damaged data.
    Corrupt,
    /// Data the store cannot keep.
    Input,
    /// The database failed.
    Database,
}

impl StoreError {
    /// The kind of the error.
    pub fn kind(&self) -> StoreErrorKind {
        match self {
            StoreError::Missing(_) => StoreErrorKind::Missing,
            StoreError::Exists(_) => StoreErrorKind::Exists,
            StoreError::Locked(_) => StoreErrorKind::Locked,
            StoreError::AlreadyCommitted(_) => StoreErrorKind::AlreadyCommitted,
            StoreError::Sequence(_) => StoreErrorKind::Sequence,
            StoreError::Schema(_) => StoreErrorKind::Schema,
            StoreError::ReadOnly(_) => StoreErrorKind::ReadOnly,
            StoreError::Corrupt(_) => StoreErrorKind::Corrupt,
            StoreError::Input(_) => StoreErrorKind::Input,
            StoreError::Database { .. } => StoreErrorKind::Database,
        }
    }

    pub(crate) fn db(context: impl Into<String>, e: impl fmt::Display) -> Self {
        StoreError::Database { context: context.into(), message: e.to_string() }
    }
}
