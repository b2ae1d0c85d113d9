//! The PostgreSQL backend: tables in the connection's current schema; the write lock is a
//! session-level `pg_try_advisory_lock` (released by the server when the session ends, so a
//! killed run never leaves it behind); rows are loaded with `COPY ... FROM STDIN BINARY`;
//! states are one row per customer ([`crate::layout::ROWS`]).

use std::collections::HashMap;
use std::io::Write;

use postgres::error::SqlState;
use postgres::types::{FromSql, IsNull, ToSql, Type};
use postgres::{Client, Statement};

use crate::dialect::{Dialect, POSTGRES};
use crate::driver::{Backend, Driver, OpenMode, Row, RowSource, Value};
use crate::layout::{ROWS, StateLayout};
use crate::schema::{self, Table};
use crate::types::{redact, scrub, secrets};
use crate::{StoreError, pg_connect};

/// `postgres://` and `postgresql://` URLs, and `postgres:` followed by a key=value
/// connection string (`postgres:host=db1 dbname=crm user=batch`).
pub(crate) static BACKEND: Backend = Backend {
    name: "PostgreSQL",
    claims: |l| l.starts_with("postgres://") || l.starts_with("postgresql://") || l.starts_with("postgres:"),
    display: redact,
    open: |l, mode| Ok(Box::new(Postgres::open(l, mode)?)),
};

/// The advisory lock key of the store's write lock ("crmt" in ASCII).
const LOCK_KEY: i64 = 0x6372_6d74;

pub(crate) struct Postgres {
    client: Client,
    location: String,
    secrets: Vec<String>,
    statements: HashMap<String, Statement>,
    locked: bool,
    in_tx: bool,
}

/// The driver's reason, whole: the server's message (with its detail and hint), or the
/// client's error and every cause under it ("connection refused", "password authentication
/// failed for user ...", "database ... does not exist"), never a password.
pub(crate) fn reason(e: &postgres::Error, secrets: &[String]) -> String {
    let text = match e.as_db_error() {
        Some(db) => {
            let mut m = db.message().to_string();
            if let Some(d) = db.detail() {
                m.push_str(&format!(" ({d})"));
            }
            if let Some(h) = db.hint() {
                m.push_str(&format!("; hint: {h}"));
            }
            m
        }
        None => {
            let mut parts = vec![e.to_string()];
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let t = s.to_string();
                if !parts.iter().any(|p| p.contains(&t)) {
                    parts.push(t);
                }
                source = s.source();
            }
            parts.join(": ")
        }
    };
    scrub(&text, secrets)
}

fn pg_err(location: &str, secrets: &[String], e: &postgres::Error) -> StoreError {
    let detail = reason(e, secrets);
    match e.code() {
        Some(c) if *c == SqlState::READ_ONLY_SQL_TRANSACTION || *c == SqlState::INSUFFICIENT_PRIVILEGE => {
            StoreError::ReadOnly(format!("the store {location} cannot be written ({detail}); nothing was written"))
        }
        Some(c) if *c == SqlState::DISK_FULL => {
            StoreError::db("", format!("{detail}: the disk is full; nothing of this run was written"))
        }
        _ => StoreError::db("", detail),
    }
}

impl Postgres {
    fn open(location: &str, mode: OpenMode) -> Result<Self, StoreError> {
        let shown = redact(location);
        let mut secrets = secrets(location);
        let conninfo = match location.strip_prefix("postgres:") {
            Some(kv) if !kv.starts_with("//") => kv,
            _ => location,
        };
        let mut client = pg_connect::connect(conninfo, &shown, &mut secrets)?;
        if mode == OpenMode::ReadOnly {
            client
                .batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                .map_err(|e| StoreError::db(format!("opening the store {shown}"), reason(&e, &secrets)))?;
        }
        Ok(Postgres { client, location: shown, secrets, statements: HashMap::new(), locked: false, in_tx: false })
    }

    /// The prepared statement of a query written with `?N` parameters.
    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let mut text = String::with_capacity(sql.len());
        let mut chars = sql.chars().peekable();
        while let Some(c) = chars.next() {
            text.push(if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) { '$' } else { c });
        }
        let st = self.client.prepare(&text).map_err(|e| pg_err(&self.location, &self.secrets, &e))?;
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    fn run(&mut self, sql: &str) -> Result<(), StoreError> {
        self.client.batch_execute(sql).map_err(|e| pg_err(&self.location, &self.secrets, &e))
    }
}

/// A parameter in the binary form of the column type PostgreSQL inferred for it.
#[derive(Debug)]
struct Param<'a>(Value<'a>);

fn encode(v: &Value<'_>, ty: &Type, out: &mut Vec<u8>) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
    match *v {
        Value::Null => return Ok(IsNull::Yes),
        Value::Int(i) => match *ty {
            Type::INT2 => out.extend_from_slice(&i16::try_from(i)?.to_be_bytes()),
            Type::INT4 => out.extend_from_slice(&i32::try_from(i)?.to_be_bytes()),
            Type::BOOL => out.push(u8::from(i != 0)),
            _ => out.extend_from_slice(&i.to_be_bytes()),
        },
        Value::Text(t) => {
            if *ty == Type::JSONB {
                out.push(1);
            }
            out.extend_from_slice(t.as_bytes());
        }
        Value::Bytes(b) => out.extend_from_slice(b),
    }
    Ok(IsNull::No)
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let mut v = Vec::new();
        let n = encode(&self.0, ty, &mut v)?;
        out.extend_from_slice(&v);
        Ok(n)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

/// A value as the server sent it, read according to its column's type.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }
    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

struct PgRow(postgres::Row);

impl PgRow {
    fn raw(&self, i: usize) -> Result<(Option<&[u8]>, &Type), StoreError> {
        let ty = self.0.columns().get(i).map(|c| c.type_()).unwrap_or(&Type::UNKNOWN);
        let r: Raw<'_> = self.0.try_get(i).map_err(|e| StoreError::db("", e))?;
        Ok((r.0, ty))
    }
}

fn wrong(i: usize, want: &str, ty: &Type) -> StoreError {
    StoreError::Corrupt(format!("a stored value (column {}) is of type {ty} where {want} must be", i + 1))
}

impl Row for PgRow {
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        let (Some(b), ty) = self.raw(i)? else { return Ok(None) };
        let v = match (ty.clone(), b.len()) {
            (Type::INT2, 2) => i64::from(i16::from_be_bytes([b[0], b[1]])),
            (Type::INT4, 4) => i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            (Type::INT8, 8) => i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            (Type::BOOL, 1) => i64::from(b[0]),
            _ => return Err(wrong(i, "an integer", ty)),
        };
        Ok(Some(v))
    }
    fn text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        let (Some(b), ty) = self.raw(i)? else { return Ok(None) };
        let b = match *ty {
            Type::JSONB => b.get(1..).unwrap_or_default(),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::JSON | Type::UNKNOWN => b,
            _ => return Err(wrong(i, "text", ty)),
        };
        std::str::from_utf8(b)
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("a stored text (column {}) is not UTF-8", i + 1)))
    }
    fn bytes(&self, i: usize) -> Result<Option<&[u8]>, StoreError> {
        match self.raw(i)? {
            (Some(b), &Type::BYTEA) => Ok(Some(b)),
            (None, _) => Ok(None),
            (_, ty) => Err(wrong(i, "bytes", ty)),
        }
    }
}

fn copy_type(t: schema::Type) -> Type {
    match t {
        schema::Type::Int => Type::INT4,
        schema::Type::BigInt | schema::Type::Serial => Type::INT8,
        schema::Type::Text | schema::Type::Key => Type::TEXT,
        schema::Type::Bytes => Type::BYTEA,
        schema::Type::Json => Type::JSONB,
        schema::Type::Bool => Type::BOOL,
    }
}

impl Driver for Postgres {
    fn location(&self) -> &str {
        &self.location
    }

    fn dialect(&self) -> &'static Dialect {
        &POSTGRES
    }

    fn layout(&self) -> &'static dyn StateLayout {
        &ROWS
    }

    fn try_lock(&mut self) -> Result<bool, StoreError> {
        if !self.locked {
            let got: bool = self
                .client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
                .and_then(|r| r.try_get(0))
                .map_err(|e| pg_err(&self.location, &self.secrets, &e))?;
            self.locked = got;
        }
        Ok(self.locked)
    }

    fn locked(&self) -> bool {
        self.locked
    }

    fn unlock(&mut self) {
        self.rollback();
        if self.locked {
            let _ = self.client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]);
            self.locked = false;
        }
    }

    fn begin(&mut self) -> Result<bool, StoreError> {
        if self.in_tx {
            return Ok(false);
        }
        self.run("BEGIN ISOLATION LEVEL REPEATABLE READ")?;
        self.in_tx = true;
        Ok(true)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.in_tx = false;
        self.run("COMMIT")
    }

    fn rollback(&mut self) {
        if self.in_tx {
            let _ = self.client.batch_execute("ROLLBACK");
            self.in_tx = false;
        }
    }

    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        let st = self.statement(sql)?;
        let params: Vec<Param<'_>> = params.iter().map(|v| Param(*v)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.client.execute(&st, &refs).map_err(|e| pg_err(&self.location, &self.secrets, &e))
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
        f: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let st = self.statement(sql)?;
        let params: Vec<Param<'_>> = params.iter().map(|v| Param(*v)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        // All the rows in one call: the client then drives its connection once, not once per
        // row (a month's million rows streamed one by one cost twice the time).
        let rows = self.client.query(&st, &refs).map_err(|e| pg_err(&self.location, &self.secrets, &e))?;
        for r in rows {
            f(&PgRow(r))?;
        }
        Ok(())
    }

    fn load(&mut self, table: &Table, rows: &mut RowSource<'_>) -> Result<(), StoreError> {
        let cols: Vec<_> = table.columns.iter().filter(|c| c.ty != schema::Type::Serial).collect();
        let names: Vec<&str> = cols.iter().map(|c| c.name).collect();
        let types: Vec<Type> = cols.iter().map(|c| copy_type(c.ty)).collect();
        let sql = format!("COPY {} ({}) FROM STDIN BINARY", table.name, names.join(", "));
        let (location, secrets) = (self.location.clone(), self.secrets.clone());
        let mut w = self.client.copy_in(&sql).map_err(|e| pg_err(&location, &secrets, &e))?;
        let io = |e: std::io::Error| StoreError::db("", e);
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&[0; 8]);
        let mut field = Vec::new();
        rows(&mut |row| {
            buf.extend_from_slice(&(row.len() as i16).to_be_bytes());
            for (v, ty) in row.iter().zip(&types) {
                field.clear();
                match encode(v, ty, &mut field) {
                    Ok(IsNull::Yes) => buf.extend_from_slice(&(-1i32).to_be_bytes()),
                    Ok(IsNull::No) => {
                        buf.extend_from_slice(&(field.len() as i32).to_be_bytes());
                        buf.extend_from_slice(&field);
                    }
                    Err(e) => {
                        return Err(StoreError::Input(format!("a value cannot be stored in {}: {e}", table.name)));
                    }
                }
            }
            if buf.len() > (1 << 20) - 4096 {
                w.write_all(&buf).map_err(io)?;
                buf.clear();
            }
            Ok(())
        })?;
        buf.extend_from_slice(&(-1i16).to_be_bytes());
        w.write_all(&buf).map_err(io)?;
        w.finish().map(|_| ()).map_err(|e| pg_err(&location, &secrets, &e))
    }
}
