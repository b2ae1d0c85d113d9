//! The SQLite backend: one file in WAL mode. The write lock is SQLite's own write lock, an
//! open `BEGIN IMMEDIATE` transaction (released by the operating system when the process
//! dies), taken with `busy_timeout` 0 so that a second writer fails at once. States are kept
//! in blocks ([`crate::layout::BLOCKS`]).

use std::path::{Path, PathBuf};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, ToSql};

use crate::StoreError;
use crate::dialect::{Dialect, SQLITE};
use crate::driver::{Backend, Driver, OpenMode, Row, RowSource, Value};
use crate::layout::{BLOCKS, StateLayout};
use crate::schema::Table;

/// Any location without a `scheme://` is a SQLite file path.
pub(crate) static BACKEND: Backend = Backend {
    name: "SQLite",
    claims: |l| !l.contains("://"),
    display: |l| l.to_string(),
    open: |l, mode| Ok(Box::new(Sqlite::open(Path::new(l), mode)?)),
};

pub(crate) struct Sqlite {
    conn: Connection,
    path: PathBuf,
    location: String,
    /// A transaction is open.
    in_tx: bool,
    /// It is the write transaction, the lock.
    write: bool,
    created: bool,
}

fn err(path: &Path, e: rusqlite::Error) -> StoreError {
    let p = path.display();
    match e.sqlite_error_code() {
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly(format!(
            "the store {p} is read-only ({e}); nothing was written: give a writable store"
        )),
        Some(ErrorCode::DiskFull) => {
            StoreError::db("", format!("{e}: the disk is full; nothing of this run was written"))
        }
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt(format!(
            "the store file {p} is not a whole SQLite database ({e}): it was cut short or overwritten; nothing was written: restore it from a backup"
        )),
        _ => StoreError::db("", e),
    }
}

/// Refuses what is not a store file before SQLite touches it: a missing path, a directory, an
/// empty file, a file that is not SQLite, a file shorter than its header says.
fn check_file(path: &Path) -> Result<(), StoreError> {
    let p = path.display();
    let create = format!("`crm-tiering init --store {p}` creates a store (or `run --create-store` for the first run)");
    let md = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            StoreError::Missing(format!("no store at {p}: the file does not exist; {create}"))
        }
        _ => StoreError::db(format!("opening the store {p}"), e),
    })?;
    if md.is_dir() {
        return Err(StoreError::Missing(format!("no store at {p}: it is a directory; {create}")));
    }
    let mut head = [0u8; 100];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .map_err(|e| StoreError::db(format!("opening the store {p}"), e))?;
    if md.len() == 0 {
        return Err(StoreError::Corrupt(format!(
            "the store file {p} is empty (0 bytes): a store cut to nothing, or a file that was never a store; nothing was read or written: restore it from a backup, or move it away and {create}"
        )));
    }
    if n < 100 || &head[..16] != b"SQLite format 3\0" {
        return Err(StoreError::Schema(format!(
            "{p} is not a crm-tiering store (not a SQLite database); nothing was read or written"
        )));
    }
    // The page size (1 means 65536) and the page count, valid when the change counter
    // matches the version-valid-for number. Only for a file no connection has open (no WAL
    // beside it): a checkpoint in progress writes the header before the pages after it.
    let page = match u16::from_be_bytes([head[16], head[17]]) {
        1 => 65_536u64,
        s => u64::from(s),
    };
    let pages = u64::from(u32::from_be_bytes([head[28], head[29], head[30], head[31]]));
    let quiet = ["-wal", "-shm"].iter().all(|x| std::fs::symlink_metadata(format!("{p}{x}")).is_err());
    if quiet && head[24..28] == head[92..96] && md.len() < page * pages {
        return Err(StoreError::Corrupt(format!(
            "the store file {p} is cut short: {} bytes where its header says {}; nothing was read or written: restore it from a backup",
            md.len(),
            page * pages
        )));
    }
    Ok(())
}

impl Sqlite {
    fn open(path: &Path, mode: OpenMode) -> Result<Self, StoreError> {
        let p = path.display();
        let location = p.to_string();
        let e = |x| err(path, x);
        let conn = match mode {
            OpenMode::Create => {
                if std::fs::symlink_metadata(path).is_ok() {
                    return Err(StoreError::Exists(format!(
                        "{p} exists already; nothing was written: a new store is made only where there is no file"
                    )));
                }
                let flags =
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let c = Connection::open_with_flags(path, flags).map_err(e)?;
                // 64 KiB pages, the size of a block of states.
                c.execute_batch("PRAGMA page_size = 65536").map_err(e)?;
                c
            }
            OpenMode::ReadWrite => {
                check_file(path)?;
                if std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly()) {
                    return Err(StoreError::ReadOnly(format!(
                        "the store file {p} is read-only; nothing was written: make it writable or give another store"
                    )));
                }
                let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                Connection::open_with_flags(path, flags).map_err(e)?
            }
            OpenMode::ReadOnly => {
                check_file(path)?;
                return Self::open_read_only(path);
            }
        };
        conn.busy_timeout(std::time::Duration::ZERO).map_err(e)?;
        let journal: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(e)?;
        if !journal.eq_ignore_ascii_case("wal") {
            return Err(StoreError::db(format!("opening {p}"), format!("the journal mode is {journal}, not WAL")));
        }
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 0; \
             PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF;",
        )
        .map_err(e)?;
        Ok(Sqlite {
            conn,
            path: path.to_path_buf(),
            location,
            in_tx: false,
            write: false,
            created: mode == OpenMode::Create,
        })
    }

    /// Read-only: SQLite's read-only mode, which reads the WAL through its shared-memory file;
    /// where that cannot be made (a directory the user cannot write), the file is opened as
    /// immutable (read as it is, without locks: the chain's checks refuse what a concurrent
    /// writer might tear).
    fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let e = |x| err(path, x);
        let ro = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let readable = |c: &Connection| c.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0));
        let conn = match Connection::open_with_flags(path, ro) {
            Ok(c) if readable(&c).is_ok() => c,
            _ => {
                // Immutable reads ignore the WAL: committed months still in it would be missed.
                let wal = format!("{}-wal", path.display());
                if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
                    return Err(StoreError::ReadOnly(format!(
                        "the store {} has committed changes in {wal} that SQLite reads only through its shared-memory file, which cannot be made beside it (a read-only directory); nothing was read: read it where that file can be made, or copy the store after a writable open",
                        path.display()
                    )));
                }
                let mut uri = String::from("file:");
                for b in path.display().to_string().bytes() {
                    match b {
                        b'%' | b'?' | b'#' => uri.push_str(&format!("%{b:02X}")),
                        _ => uri.push(char::from(b)),
                    }
                }
                uri.push_str("?immutable=1");
                let c = Connection::open_with_flags(uri, ro).map_err(e)?;
                readable(&c).map_err(e)?;
                c
            }
        };
        conn.busy_timeout(std::time::Duration::from_secs(2)).map_err(e)?;
        Ok(Sqlite {
            conn,
            path: path.to_path_buf(),
            location: path.display().to_string(),
            in_tx: false,
            write: false,
            created: false,
        })
    }

    fn e(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |x| err(&self.path, x)
    }
}

impl ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(v),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}

struct SqliteRow<'a, 'b>(&'a rusqlite::Row<'b>);

fn wrong(i: usize, want: &str, got: ValueRef<'_>) -> StoreError {
    StoreError::Corrupt(format!("a stored value (column {}) is {:?} where {want} must be", i + 1, got.data_type()))
}

impl Row for SqliteRow<'_, '_> {
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.0.get_ref(i).map_err(|e| StoreError::db("", e))? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            other => Err(wrong(i, "an integer", other)),
        }
    }
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        match self.0.get_ref(i).map_err(|e| StoreError::db("", e))? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(Some)
                .map_err(|_| StoreError::Corrupt(format!("a stored text (column {}) is not UTF-8", i + 1))),
            other => Err(wrong(i, "text", other)),
        }
    }
    fn bytes(&self, i: usize) -> Result<Option<&[u8]>, StoreError> {
        match self.0.get_ref(i).map_err(|e| StoreError::db("", e))? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) => Ok(Some(b)),
            other => Err(wrong(i, "bytes", other)),
        }
    }
}

impl Driver for Sqlite {
    fn location(&self) -> &str {
        &self.location
    }

    fn dialect(&self) -> &'static Dialect {
        &SQLITE
    }

    fn layout(&self) -> &'static dyn StateLayout {
        &BLOCKS
    }

    fn try_lock(&mut self) -> Result<bool, StoreError> {
        if self.in_tx {
            self.rollback();
        }
        match self.conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {
                self.in_tx = true;
                self.write = true;
                Ok(true)
            }
            Err(x) if matches!(x.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)) => {
                Ok(false)
            }
            Err(x) => Err(err(&self.path, x)),
        }
    }

    fn locked(&self) -> bool {
        self.in_tx && self.write
    }

    fn unlock(&mut self) {
        self.rollback();
    }

    fn begin(&mut self) -> Result<bool, StoreError> {
        if self.in_tx {
            return Ok(false);
        }
        self.conn.execute_batch("BEGIN").map_err(self.e())?;
        self.in_tx = true;
        Ok(true)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT").map_err(self.e())?;
        self.in_tx = false;
        self.write = false;
        Ok(())
    }

    fn rollback(&mut self) {
        if self.in_tx {
            let _ = self.conn.execute_batch("ROLLBACK");
            self.in_tx = false;
        }
        self.write = false;
    }

    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        let e = self.e();
        let mut st = self.conn.prepare_cached(sql).map_err(&e)?;
        st.execute(rusqlite::params_from_iter(params)).map(|n| n as u64).map_err(&e)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
        f: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let e = self.e();
        let mut st = self.conn.prepare_cached(sql).map_err(&e)?;
        let mut rows = st.query(rusqlite::params_from_iter(params)).map_err(&e)?;
        while let Some(r) = rows.next().map_err(&e)? {
            f(&SqliteRow(r))?;
        }
        Ok(())
    }

    fn load(&mut self, table: &Table, rows: &mut RowSource<'_>) -> Result<(), StoreError> {
        let e = self.e();
        let mut st = self.conn.prepare_cached(&table.insert_sql()).map_err(&e)?;
        rows(&mut |row| st.execute(rusqlite::params_from_iter(row)).map(|_| ()).map_err(&e))
    }

    fn after_commit(&mut self) {
        // Fold the WAL back into the file and truncate it, so that nothing of the run is left
        // beside the store (readers may keep it from completing; the next commit retries).
        let _ = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }

    fn discard_created(&mut self) {
        if self.created {
            if let Ok(c) = Connection::open_in_memory() {
                drop(std::mem::replace(&mut self.conn, c));
            }
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
            }
        }
    }
}
