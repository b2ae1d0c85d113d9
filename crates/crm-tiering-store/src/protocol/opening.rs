//! Opening a store: checking (and migrating) an existing one, creating a new one, and the
//! write lock with the message naming the run that holds it.

use super::{Db, lock_message};
use crate::chain::{genesis, new_portfolio_id};
use crate::driver::{OpenMode, need};
use crate::schema;
use crate::types::now_utc;
use crate::{SCHEMA_VERSION, StoreError};

impl Db {
    /// Checks the store at the connection (and migrates an older schema when writable).
    /// Returns the portfolio id.
    pub(crate) fn open(&mut self, mode: OpenMode) -> Result<String, StoreError> {
        let loc = self.location();
        let version = self.snapshot(|db| {
            if !db.table_exists("meta")? {
                let sql = db.d.dialect().tables;
                let tables = db.rows("reading the schema", sql, &[], |r| Ok(r.int(0)?.unwrap_or(0)))?;
                if tables.first().is_some_and(|n| *n > 0) {
                    return Err(StoreError::Schema(format!(
                        "{loc} is a database but not a crm-tiering store (it has no `meta` table); nothing was written"
                    )));
                }
                return Err(StoreError::Missing(format!(
                    "no crm-tiering store in {loc}: `crm-tiering init --store {loc}` creates one (or `run --create-store` for the first run)"
                )));
            }
            let meta = db.meta()?;
            meta.get("schema_version").and_then(|v| v.parse::<i64>().ok()).ok_or_else(|| {
                StoreError::Schema(format!("{loc} has no readable schema version: it is not a crm-tiering store"))
            })
        })?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Schema(format!(
                "the store {loc} has schema version {version}, newer than this tool's {SCHEMA_VERSION}: it was written by a newer crm-tiering; use that version (nothing was changed)"
            )));
        }
        if version < 1 {
            return Err(StoreError::Schema(format!(
                "the store {loc} has schema version {version}, older than this tool's {SCHEMA_VERSION}, and no migration exists from it (it predates the first released schema); nothing was changed: export its states with the tool that wrote it and import them into a new store"
            )));
        }
        if version < SCHEMA_VERSION {
            if mode == OpenMode::ReadOnly {
                return Err(StoreError::Schema(format!(
                    "the store {loc} has schema version {version} and must be upgraded to version {SCHEMA_VERSION} before this tool reads it, which a read-only open never does; nothing was changed: open it once writable (`crm-tiering migrate --store {loc}`, or the next `run`)"
                )));
            }
            self.migrate(version)?;
        }
        let chain = self.snapshot(Db::chain)?;
        Ok(chain.portfolio)
    }

    /// Creates the store's tables where there are none. Returns the portfolio id.
    pub(crate) fn create(&mut self) -> Result<String, StoreError> {
        let loc = self.location();
        self.lock("creating the store")?;
        let r = (|| {
            self.d.begin()?;
            let mut names: Vec<&str> = schema::TABLES.iter().map(|t| t.name).collect();
            names.extend(["states", "state_blocks", "states_json"]);
            names.extend(crate::contribution::TABLES.iter().map(|t| t.name));
            names.extend(crate::loans::TABLES.iter().map(|t| t.name));
            for n in names {
                if self.table_exists(n)? {
                    return Err(StoreError::Exists(format!(
                        "{loc} holds a crm-tiering store already (or tables named like one: `{n}`); nothing was written"
                    )));
                }
            }
            let dialect = self.d.dialect();
            let mut ddl: Vec<String> = schema::TABLES.iter().flat_map(|t| t.create_sql(dialect)).collect();
            ddl.extend(crate::contribution::TABLES.iter().flat_map(|t| t.create_sql(dialect)));
            ddl.extend(crate::loans::TABLES.iter().flat_map(|t| t.create_sql(dialect)));
            ddl.extend(self.d.layout().create_sql(dialect));
            ddl.push(dialect.view.view_sql());
            for s in &ddl {
                self.exec("creating the store", s, &[])?;
            }
            let portfolio = new_portfolio_id();
            for (k, v) in [
                ("store", "crm-tiering".to_string()),
                ("schema_version", SCHEMA_VERSION.to_string()),
                ("created_at", now_utc()),
                ("portfolio_id", portfolio.clone()),
                ("head_month", String::new()),
                ("head_digest", genesis(&portfolio)),
            ] {
                self.set_meta(k, &v)?;
            }
            self.d.commit().map_err(self.ctx("creating the store"))?;
            Ok(portfolio)
        })();
        self.d.unlock();
        r
    }

    pub(crate) fn lock(&mut self, what: &str) -> Result<(), StoreError> {
        let c = self.ctx(what);
        if self.d.try_lock().map_err(c)? {
            return Ok(());
        }
        let holder = self.holder();
        Err(StoreError::Locked(lock_message(self.d.location(), holder)))
    }

    /// The run holding the lock, from the audit (best effort).
    fn holder(&mut self) -> Option<(i64, i64, String, i64, String)> {
        self.rows(
            "reading the audit",
            "SELECT run_id, month, started_at, pid, host FROM runs WHERE status = 'running' ORDER BY run_id DESC",
            &[],
            |r| {
                Ok((
                    need(r.int(0)?, 0)?,
                    need(r.int(1)?, 1)?,
                    need(r.text(2)?, 2)?.to_string(),
                    need(r.int(3)?, 3)?,
                    need(r.text(4)?, 4)?.to_string(),
                ))
            },
        )
        .ok()?
        .into_iter()
        .next()
    }
}
