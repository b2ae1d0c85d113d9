//! Where a store is: a location resolved to its backend by its scheme, shown without any
//! password.

use std::fmt;

#[cfg(doc)]
use crate::StoreErrorKind;
use crate::{StoreError, driver};

/// Where a store is, resolved to its backend by the location's scheme: `postgres://...`,
/// `postgresql://...` or `postgres:` with a key=value string (PostgreSQL); a path without a
/// `scheme://` (SQLite). Shown without any password.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreLocation {
    backend: &'static str,
    location: String,
    shown: String,
}

impl StoreLocation {
    /// Resolves a location to its backend.
    ///
    /// # Errors
    /// [`StoreErrorKind::Input`] for a `scheme://` no backend takes.
    pub fn parse(location: &str) -> Result<Self, StoreError> {
        let b = driver::backend_of(location)?;
        Ok(StoreLocation { backend: b.name, location: location.to_string(), shown: (b.display)(location) })
    }

    /// The backend's name (`SQLite`, `PostgreSQL`).
    pub fn backend(&self) -> &'static str {
        self.backend
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreLocation({} {})", self.backend, self.shown)
    }
}
