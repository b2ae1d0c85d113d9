//! The SQL dialects the store speaks: type names, the catalog queries, and the expressions
//! of the `states_json` view. A backend names its dialect; a database that speaks one of
//! these (openGauss, KingbaseES ... speak PostgreSQL's) needs no dialect of its own.

use crate::codec::ViewSql;
use crate::schema::Type;

/// A SQL dialect.
pub(crate) struct Dialect {
    /// The type name of a column type.
    pub(crate) type_name: fn(Type) -> &'static str,
    /// Appended to `CREATE TABLE` of a table kept in key order.
    pub(crate) clustered_suffix: &'static str,
    /// One row, one integer column: greater than 0 when table `?1` exists.
    pub(crate) table_exists: &'static str,
    /// One row, one integer column: how many tables and views the database holds where a
    /// store's would be.
    pub(crate) tables: &'static str,
    /// The expressions of the `states_json` view.
    pub(crate) view: &'static (dyn ViewSql + Sync),
    /// Statements around a read of a month's rows in key order that make the database follow
    /// the key's index rather than sort (PostgreSQL plans a sort on disk for a month just
    /// loaded, before its statistics know it): before, and after.
    pub(crate) key_order: Option<(&'static str, &'static str)>,
}

fn sqlite_type(t: Type) -> &'static str {
    match t {
        Type::Int | Type::BigInt | Type::Serial | Type::Bool => "INTEGER",
        Type::Text | Type::Key | Type::Json => "TEXT",
        Type::Bytes => "BLOB",
    }
}

fn pg_type(t: Type) -> &'static str {
    match t {
        Type::Int => "integer",
        Type::BigInt => "bigint",
        Type::Serial => "bigserial",
        Type::Text => "text",
        Type::Key => "text COLLATE \"C\"",
        Type::Bytes => "bytea",
        Type::Json => "jsonb",
        Type::Bool => "boolean",
    }
}

/// SQLite's dialect.
pub(crate) static SQLITE: Dialect = Dialect {
    type_name: sqlite_type,
    clustered_suffix: " WITHOUT ROWID",
    table_exists: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
    tables: "SELECT count(*) FROM sqlite_master",
    view: &SqliteView,
    key_order: None,
};

/// PostgreSQL's dialect (tables in the connection's current schema).
pub(crate) static POSTGRES: Dialect = Dialect {
    type_name: pg_type,
    clustered_suffix: "",
    table_exists: "SELECT CASE WHEN to_regclass(?1) IS NULL THEN 0 ELSE 1 END",
    tables: "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'p')",
    view: &PgView,
    key_order: Some(("SET LOCAL enable_sort = off", "SET LOCAL enable_sort = on")),
};

struct SqliteView;

impl ViewSql for SqliteView {
    fn byte(&self, o: usize) -> String {
        format!(
            "(instr('0123456789ABCDEF', substr(hex(s.state), {}, 1)) * 16 + instr('0123456789ABCDEF', substr(hex(s.state), {}, 1)) - 17)",
            2 * o + 1,
            2 * o + 2
        )
    }
    fn month_text(&self, e: &str) -> String {
        format!("printf('%04d-%02d', ({e}) / 100, ({e}) % 100)")
    }
    fn amount_text(&self, e: &str) -> String {
        format!(
            "(CASE WHEN ({e}) < 0 THEN '-' ELSE '' END || (abs({e}) / 100) || '.' || substr('0' || (abs({e}) % 100), -2))"
        )
    }
    fn object(&self, pairs: &[(&str, String, bool)]) -> String {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v, json)| if *json { format!("'{k}', json({v})") } else { format!("'{k}', {v}") })
            .collect();
        format!("json_object({})", body.join(", "))
    }
}

struct PgView;

impl ViewSql for PgView {
    fn byte(&self, o: usize) -> String {
        format!("get_byte(s.state, {o})::bigint")
    }
    fn month_text(&self, e: &str) -> String {
        format!("(lpad((({e}) / 100)::text, 4, '0') || '-' || lpad((({e}) % 100)::text, 2, '0'))")
    }
    fn amount_text(&self, e: &str) -> String {
        format!(
            "(CASE WHEN ({e}) < 0 THEN '-' ELSE '' END || (abs({e}) / 100)::text || '.' || lpad((abs({e}) % 100)::text, 2, '0'))"
        )
    }
    fn object(&self, pairs: &[(&str, String, bool)]) -> String {
        let body: Vec<String> = pairs.iter().map(|(k, v, _)| format!("'{k}', {v}")).collect();
        format!("json_build_object({})", body.join(", "))
    }
}
