//! The store's tables, described once; the DDL of each SQL dialect is made from the
//! description, and a migration adds the columns a newer schema version introduced.
//!
//! Statements are written once, in the SQL both dialects share, with `?1`, `?2` ... for
//! parameters (a driver whose database numbers them otherwise rewrites them, as the
//! PostgreSQL driver does to `$1`).

use crate::dialect::Dialect;

/// The type of a column, mapped by each dialect to its own type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    /// A 32-bit integer (months, sequence numbers, dictionary indexes).
    Int,
    /// A 64-bit integer.
    BigInt,
    /// The run id: a 64-bit key the database assigns in increasing order.
    Serial,
    /// Text.
    Text,
    /// Text compared byte by byte (customer ids; SQLite's `BINARY`, PostgreSQL's `"C"`).
    Key,
    /// Bytes.
    Bytes,
    /// A JSON document: text in SQLite, `jsonb` in PostgreSQL.
    Json,
    /// A boolean: 0 or 1 in SQLite.
    Bool,
}

/// A column.
#[derive(Debug)]
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) ty: Type,
    /// Whether the column may be null.
    pub(crate) null: bool,
    /// The value of existing rows when a migration adds the column (SQL literal).
    pub(crate) default: Option<&'static str>,
    /// The `(table, column)` it refers to.
    pub(crate) references: Option<(&'static str, &'static str)>,
    /// The schema version that introduced the column (a migration adds it to older stores).
    pub(crate) since: i64,
}

/// A table.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [Column],
    pub(crate) key: &'static [&'static str],
    pub(crate) unique: &'static [&'static [&'static str]],
    /// Secondary indexes: name, columns, and the schema version that introduced it.
    pub(crate) indexes: &'static [(&'static str, &'static [&'static str], i64)],
    /// Rows stored in key order (SQLite `WITHOUT ROWID`), for tables read by key ranges.
    pub(crate) clustered: bool,
}

const fn col(name: &'static str, ty: Type) -> Column {
    Column { name, ty, null: false, default: None, references: None, since: 1 }
}

const fn opt(name: &'static str, ty: Type) -> Column {
    Column { name, ty, null: true, default: None, references: None, since: 1 }
}

/// A column added by schema version `since`, null in the rows that were there before.
pub(crate) const fn added(name: &'static str, ty: Type, since: i64) -> Column {
    Column { name, ty, null: true, default: None, references: None, since }
}

const fn run_ref(name: &'static str, ty: Type) -> Column {
    Column { name, ty, null: false, default: None, references: Some(("runs", "run_id")), since: 1 }
}

/// `store`, `schema_version`, `created_at`, `portfolio_id`, `head_month`, `head_digest`.
pub(crate) const META: Table = Table {
    name: "meta",
    columns: &[col("key", Type::Text), col("value", Type::Text)],
    key: &["key"],
    unique: &[],
    indexes: &[],
    clustered: false,
};

/// The audit: one row per run that took the lock.
pub(crate) const RUNS: Table = Table {
    name: "runs",
    columns: &[
        col("run_id", Type::Serial),
        col("month", Type::Int),
        col("status", Type::Text),
        col("started_at", Type::Text),
        opt("finished_at", Type::Text),
        col("pid", Type::BigInt),
        col("host", Type::Text),
        col("tool_version", Type::Text),
        col("rule_book_fingerprint", Type::Text),
        col("rule_book_text", Type::Text),
        col("inputs", Type::Text),
        opt("counts", Type::Text),
        col("rerun", Type::Bool),
        opt("note", Type::Text),
        Column { name: "kind", ty: Type::Text, null: false, default: Some("'month'"), references: None, since: 3 },
        added("amends", Type::Int, 3),
        added("first_month", Type::Int, 3),
        added("last_month", Type::Int, 3),
    ],
    key: &["run_id"],
    unique: &[],
    indexes: &[],
    clustered: false,
};

/// The committed months: the chain.
pub(crate) const MONTHS: Table = Table {
    name: "months",
    columns: &[
        col("month", Type::Int),
        run_ref("run_id", Type::BigInt),
        col("committed_at", Type::Text),
        added("previous", Type::Text, 3),
        added("states_count", Type::BigInt, 3),
        added("states_sha256", Type::Text, 3),
        added("events_count", Type::BigInt, 3),
        added("events_sha256", Type::Text, 3),
        added("alerts_count", Type::BigInt, 3),
        added("alerts_sha256", Type::Text, 3),
        added("rejects_count", Type::BigInt, 3),
        added("rejects_sha256", Type::Text, 3),
        added("digest", Type::Text, 3),
    ],
    key: &["month"],
    unique: &[],
    indexes: &[],
    clustered: false,
};

/// Tier codes by index (1-255), as the encoded states refer to them.
pub(crate) const TIER_CODES: Table = Table {
    name: "tier_codes",
    columns: &[col("idx", Type::Int), col("code", Type::Text)],
    key: &["idx"],
    unique: &[&["code"]],
    indexes: &[],
    clustered: false,
};

/// Legal entities by index.
pub(crate) const LEGAL_ENTITIES: Table = Table {
    name: "legal_entities",
    columns: &[col("idx", Type::Int), col("code", Type::Text)],
    key: &["idx"],
    unique: &[&["code"]],
    indexes: &[],
    clustered: false,
};

/// Events, as JSON, with the run that wrote them.
pub(crate) const EVENTS: Table = Table {
    name: "events",
    columns: &[
        col("month", Type::Int),
        col("customer_id", Type::Key),
        col("seq", Type::Int),
        col("kind", Type::Text),
        col("event", Type::Json),
        added("run_id", Type::BigInt, 3),
    ],
    key: &["month", "customer_id", "seq"],
    unique: &[],
    indexes: &[("events_by_customer", &["customer_id", "month"], 1)],
    clustered: true,
};

/// Alerts, as JSON, with the run that wrote them.
pub(crate) const ALERTS: Table = Table {
    name: "alerts",
    columns: &[
        col("month", Type::Int),
        col("customer_id", Type::Key),
        col("seq", Type::Int),
        col("kind", Type::Text),
        col("alert", Type::Json),
        added("run_id", Type::BigInt, 3),
    ],
    key: &["month", "customer_id", "seq"],
    unique: &[],
    indexes: &[("alerts_by_customer", &["customer_id", "month"], 1)],
    clustered: true,
};

/// Held customers and refused records, by the run that reported them.
pub(crate) const REJECTS: Table = Table {
    name: "rejects",
    columns: &[
        run_ref("run_id", Type::BigInt),
        col("seq", Type::BigInt),
        col("month", Type::Int),
        opt("customer_id", Type::Text),
        col("category", Type::Text),
        opt("field", Type::Text),
        opt("record", Type::Text),
        opt("other_record", Type::Text),
        col("message", Type::Text),
    ],
    key: &["run_id", "seq"],
    unique: &[],
    indexes: &[],
    clustered: true,
};

/// The tables every store has (the states' tables depend on the layout).
pub(crate) const TABLES: &[&Table] = &[&META, &RUNS, &MONTHS, &TIER_CODES, &LEGAL_ENTITIES, &EVENTS, &ALERTS, &REJECTS];

impl Table {
    /// `INSERT INTO t (every column but a serial key) VALUES (?1, ...)`.
    pub(crate) fn insert_sql(&self) -> String {
        let cols: Vec<&str> = self.columns.iter().filter(|c| c.ty != Type::Serial).map(|c| c.name).collect();
        let params: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
        format!("INSERT INTO {} ({}) VALUES ({})", self.name, cols.join(", "), params.join(", "))
    }

    fn column_sql(&self, c: &Column, dialect: &Dialect, added: bool) -> String {
        let mut s = format!("{} {}", c.name, (dialect.type_name)(c.ty));
        if !c.null {
            s.push_str(" NOT NULL");
        }
        if let Some(d) = c.default {
            s.push_str(" DEFAULT ");
            s.push_str(d);
        }
        if let Some((t, k)) = c.references
            && !added
        {
            s.push_str(&format!(" REFERENCES {t} ({k})"));
        }
        s
    }

    /// The statements that create the table and its indexes.
    pub(crate) fn create_sql(&self, dialect: &Dialect) -> Vec<String> {
        let mut parts: Vec<String> = self.columns.iter().map(|c| self.column_sql(c, dialect, false)).collect();
        parts.push(format!("PRIMARY KEY ({})", self.key.join(", ")));
        for u in self.unique {
            parts.push(format!("UNIQUE ({})", u.join(", ")));
        }
        let suffix = if self.clustered { dialect.clustered_suffix } else { "" };
        let mut out = vec![format!("CREATE TABLE {} (\n    {}\n){suffix}", self.name, parts.join(",\n    "))];
        for (name, cols, _) in self.indexes {
            out.push(format!("CREATE INDEX {name} ON {} ({})", self.name, cols.join(", ")));
        }
        out
    }

    /// The statements that bring the table from schema version `from` to the current one:
    /// the columns and indexes introduced since.
    pub(crate) fn upgrade_sql(&self, dialect: &Dialect, from: i64) -> Vec<String> {
        let mut out: Vec<String> = self
            .columns
            .iter()
            .filter(|c| c.since > from)
            .map(|c| format!("ALTER TABLE {} ADD COLUMN {}", self.name, self.column_sql(c, dialect, true)))
            .collect();
        for (name, cols, since) in self.indexes {
            if *since > from {
                out.push(format!("CREATE INDEX {name} ON {} ({})", self.name, cols.join(", ")));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{POSTGRES, SQLITE};

    #[test]
    fn ddl_names_each_dialects_types() {
        let s = EVENTS.create_sql(&SQLITE);
        assert!(s[0].contains("customer_id TEXT NOT NULL"), "{}", s[0]);
        assert!(s[0].ends_with("WITHOUT ROWID"), "{}", s[0]);
        let p = EVENTS.create_sql(&POSTGRES);
        assert!(p[0].contains("customer_id text COLLATE \"C\" NOT NULL"), "{}", p[0]);
        assert!(p[0].contains("event jsonb NOT NULL"), "{}", p[0]);
        assert!(!p[0].contains("WITHOUT ROWID"));
        assert_eq!(p.len(), 2);
        let r = RUNS.create_sql(&POSTGRES);
        assert!(r[0].contains("run_id bigserial NOT NULL"), "{}", r[0]);
        assert!(r[0].contains("kind text NOT NULL DEFAULT 'month'"), "{}", r[0]);
        assert_eq!(
            RUNS.insert_sql(),
            "INSERT INTO runs (month, status, started_at, finished_at, pid, host, tool_version, rule_book_fingerprint, \
             rule_book_text, inputs, counts, rerun, note, kind, amends, first_month, last_month) VALUES (?1, ?2, ?3, ?4, \
             ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
        );
        let up = EVENTS.upgrade_sql(&SQLITE, 2);
        assert_eq!(up, vec!["ALTER TABLE events ADD COLUMN run_id INTEGER"]);
        assert!(EVENTS.upgrade_sql(&SQLITE, 3).is_empty());
    }
}
