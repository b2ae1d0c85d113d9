//! The PostgreSQL backend: tables in the connection's current schema; the write lock is a
//! session-level `pg_try_advisory_lock` (released by the server when the session ends, so a
//! killed run never leaves it behind); a month is loaded with `COPY ... FROM STDIN BINARY` in
//! one transaction.

use std::io::Write;

use crm_tiering::Month;
use crm_tiering::portfolio::PortfolioStates;
use postgres::{Client, NoTls, Transaction};

use crate::backend::{
    Backend, Begun, Committed, Holder, JsonRow, MonthData, check_meta, check_sequence, parse_counts, parse_inputs,
    parse_json,
};
use crate::codec::{Dialect, Dictionaries};
use crate::sqlite::{month_of, schema_version_ok};
use crate::types::{
    AlertRow, CustomerHistory, EventRow, LatestStates, RejectRow, RunMeta, RunRecord, RunStatus, StateRow, host_name,
    lock_message, now_utc, redact_url,
};
use crate::{SCHEMA_VERSION, StoreError, stamp};

/// The advisory lock key of the store's write lock ("crmt" in ASCII), and of schema creation.
const LOCK_KEY: i64 = 0x6372_6d74;
const SCHEMA_LOCK_KEY: i64 = 0x6372_6d75;

const SCHEMA: &str = r#"
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE runs (
    run_id bigserial PRIMARY KEY,
    month integer NOT NULL,
    status text NOT NULL,
    started_at text NOT NULL,
    finished_at text,
    pid bigint NOT NULL,
    host text NOT NULL,
    tool_version text NOT NULL,
    rule_book_fingerprint text NOT NULL,
    rule_book_text text NOT NULL,
    inputs text NOT NULL,
    counts text,
    rerun boolean NOT NULL,
    note text
);
CREATE TABLE months (
    month integer PRIMARY KEY,
    run_id bigint NOT NULL REFERENCES runs (run_id),
    committed_at text NOT NULL
);
CREATE TABLE tier_codes (idx integer PRIMARY KEY, code text NOT NULL UNIQUE);
CREATE TABLE legal_entities (idx integer PRIMARY KEY, code text NOT NULL UNIQUE);
CREATE TABLE states (
    month integer NOT NULL,
    customer_id text COLLATE "C" NOT NULL,
    state bytea NOT NULL,
    PRIMARY KEY (month, customer_id)
);
CREATE TABLE events (
    month integer NOT NULL,
    customer_id text COLLATE "C" NOT NULL,
    seq integer NOT NULL,
    kind text NOT NULL,
    event jsonb NOT NULL,
    PRIMARY KEY (month, customer_id, seq)
);
CREATE INDEX events_by_customer ON events (customer_id, month);
CREATE TABLE alerts (
    month integer NOT NULL,
    customer_id text COLLATE "C" NOT NULL,
    seq integer NOT NULL,
    kind text NOT NULL,
    alert jsonb NOT NULL,
    PRIMARY KEY (month, customer_id, seq)
);
CREATE INDEX alerts_by_customer ON alerts (customer_id, month);
CREATE TABLE rejects (
    run_id bigint NOT NULL REFERENCES runs (run_id),
    seq bigint NOT NULL,
    month integer NOT NULL,
    customer_id text,
    category text NOT NULL,
    field text,
    record text,
    other_record text,
    message text NOT NULL,
    PRIMARY KEY (run_id, seq)
);
"#;

struct PgDialect;

impl Dialect for PgDialect {
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
    fn when(&self, flag: u8, object: String) -> String {
        format!("CASE WHEN {} THEN {object} END", self.flag(flag))
    }
    fn tier(&self, e: &str) -> String {
        format!("(SELECT code FROM tier_codes WHERE idx = ({e}))")
    }
    fn entity(&self, e: &str) -> String {
        format!("(SELECT code FROM legal_entities WHERE idx = ({e}))")
    }
}

pub(crate) struct Postgres {
    client: Client,
    location: String,
    locked: bool,
}

impl Postgres {
    /// The (customer, JSON) rows of `events` or `alerts` (`what` is `event` or `alert`) in
    /// `first ..= last`, in month, customer and emission order.
    fn json_rows(
        &mut self,
        what: &'static str,
        first: Month,
        last: Month,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let location = self.location.clone();
        let context = if what == "event" { "reading the events" } else { "reading the alerts" };
        let e = |x| pg_err(&location, context, x);
        let sql = format!(
            "SELECT customer_id, {what}::text FROM {what}s WHERE month BETWEEN $1 AND $2 ORDER BY month, customer_id, seq"
        );
        let rows = self.client.query(sql.as_str(), &[&(first.yyyymm() as i32), &(last.yyyymm() as i32)]).map_err(e)?;
        rows.iter().map(|r| Ok((r.try_get(0).map_err(e)?, r.try_get(1).map_err(e)?))).collect()
    }

    pub(crate) fn open(url: &str) -> Result<Self, StoreError> {
        let location = redact_url(url);
        let client = Client::connect(url, NoTls)
            .map_err(|e| StoreError::db(format!("connecting to the store {location}"), e))?;
        let mut s = Postgres { client, location, locked: false };
        s.schema()?;
        Ok(s)
    }

    fn e(&self, context: &str) -> impl Fn(postgres::Error) -> StoreError + '_ {
        let c = context.to_string();
        move |x| pg_err(&self.location, &c, x)
    }

    fn schema(&mut self) -> Result<(), StoreError> {
        let location = self.location.clone();
        let e = |c: &'static str| {
            let l = location.clone();
            move |x| pg_err(&l, c, x)
        };
        let mut tx = self.client.transaction().map_err(e("opening the store"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK_KEY]).map_err(e("opening the store"))?;
        let exists = |tx: &mut Transaction<'_>, t: &str| -> Result<bool, StoreError> {
            let r = tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&t]).map_err(e("reading the schema"))?;
            r.try_get::<_, bool>(0).map_err(e("reading the schema"))
        };
        if !exists(&mut tx, "meta")? {
            if exists(&mut tx, "runs")? || exists(&mut tx, "states")? {
                return Err(StoreError::Schema(format!(
                    "the database {location} has `runs` or `states` tables but no `meta` table: it is not a crm-tiering store; nothing was written"
                )));
            }
            tx.batch_execute(SCHEMA).map_err(e("creating the schema"))?;
            tx.batch_execute(&PgDialect.view_sql()).map_err(e("creating the schema"))?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('store', 'crm-tiering'), ('schema_version', $1), ('created_at', $2)",
                &[&SCHEMA_VERSION.to_string(), &now_utc()],
            )
            .map_err(e("creating the schema"))?;
            tx.commit().map_err(e("creating the schema"))?;
            return Ok(());
        }
        let v = tx
            .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])
            .map_err(e("reading the schema version"))?
            .and_then(|r| r.try_get::<_, String>(0).ok())
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| {
                StoreError::Schema(format!("{location} has no readable schema version: it is not a crm-tiering store"))
            })?;
        if v == 1 {
            // Schema 2 changed only the SQLite backend's states (blocks); a PostgreSQL store of
            // version 1 is one of version 2.
            tx.execute("UPDATE meta SET value = $1 WHERE key = 'schema_version'", &[&SCHEMA_VERSION.to_string()])
                .map_err(e("migrating the store from schema version 1"))?;
            return tx.commit().map_err(e("migrating the store from schema version 1"));
        }
        tx.commit().map_err(e("opening the store"))?;
        schema_version_ok(&location, v)
    }

    fn holder(&mut self) -> Option<Holder> {
        let r = self
            .client
            .query_opt(
                "SELECT run_id, month::bigint, started_at, pid, host FROM runs WHERE status = 'running' ORDER BY run_id DESC LIMIT 1",
                &[],
            )
            .ok()
            .flatten()?;
        Some((r.try_get(0).ok()?, r.try_get(1).ok()?, r.try_get(2).ok()?, r.try_get(3).ok()?, r.try_get(4).ok()?))
    }

    fn unlock(&mut self) {
        if self.locked {
            let _ = self.client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]);
            self.locked = false;
        }
    }

    fn dictionaries(&mut self) -> Result<Dictionaries, StoreError> {
        let location = self.location.clone();
        let mut read = |sql: &str| -> Result<Vec<(i64, String)>, StoreError> {
            let rows = self.client.query(sql, &[]).map_err(|x| pg_err(&location, "reading dictionaries", x))?;
            rows.iter()
                .map(|r| {
                    Ok((
                        i64::from(r.try_get::<_, i32>(0).map_err(|x| pg_err(&location, "reading dictionaries", x))?),
                        r.try_get::<_, String>(1).map_err(|x| pg_err(&location, "reading dictionaries", x))?,
                    ))
                })
                .collect()
        };
        let t = read("SELECT idx, code FROM tier_codes ORDER BY idx")?;
        let l = read("SELECT idx, code FROM legal_entities ORDER BY idx")?;
        Dictionaries::load(t, l)
    }

    fn read_runs(&mut self, only: Option<i64>) -> Result<Vec<RunRecord>, StoreError> {
        let location = self.location.clone();
        let e = |x| pg_err(&location, "reading the runs", x);
        let rows = self
            .client
            .query(
                "SELECT run_id, month, status, started_at, finished_at, pid, host, tool_version, rule_book_fingerprint, \
                 inputs, counts, rerun, note FROM runs WHERE $1::bigint IS NULL OR run_id = $1 ORDER BY run_id",
                &[&only],
            )
            .map_err(e)?;
        rows.iter()
            .map(|r| {
                Ok(RunRecord {
                    run_id: r.try_get(0).map_err(e)?,
                    month: month_of(i64::from(r.try_get::<_, i32>(1).map_err(e)?))?,
                    status: RunStatus::parse(r.try_get(2).map_err(e)?)?,
                    started_at: r.try_get(3).map_err(e)?,
                    finished_at: r.try_get(4).map_err(e)?,
                    pid: r.try_get(5).map_err(e)?,
                    host: r.try_get(6).map_err(e)?,
                    tool_version: r.try_get(7).map_err(e)?,
                    rule_book_fingerprint: r.try_get(8).map_err(e)?,
                    inputs: parse_inputs(r.try_get(9).map_err(e)?)?,
                    counts: parse_counts(r.try_get(10).map_err(e)?)?,
                    rerun: r.try_get(11).map_err(e)?,
                    note: r.try_get(12).map_err(e)?,
                })
            })
            .collect()
    }
}

fn pg_err(location: &str, context: &str, x: postgres::Error) -> StoreError {
    use postgres::error::SqlState;
    let code = x.code().cloned();
    let detail = x.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| x.to_string());
    if code == Some(SqlState::READ_ONLY_SQL_TRANSACTION) || code == Some(SqlState::INSUFFICIENT_PRIVILEGE) {
        return StoreError::ReadOnly(format!("the store {location} cannot be written ({detail}); nothing was written"));
    }
    if code == Some(SqlState::DISK_FULL) {
        return StoreError::db(
            format!("{context} in {location}"),
            format!("{detail}: the disk is full; nothing of this run was written"),
        );
    }
    StoreError::db(format!("{context} in {location}"), detail)
}

fn committed(tx: &mut Transaction<'_>, month: Month) -> Result<Committed, postgres::Error> {
    let c = tx
        .query_opt(
            "SELECT m.run_id, coalesce(r.finished_at, m.committed_at) FROM months m JOIN runs r ON r.run_id = m.run_id WHERE m.month = $1",
            &[&(month.yyyymm() as i32)],
        )?
        .map(|r| Ok::<_, postgres::Error>((r.try_get(0)?, r.try_get(1)?)))
        .transpose()?;
    let latest: Option<i32> = tx.query_one("SELECT max(month) FROM months", &[])?.try_get(0)?;
    Ok((c, latest.map(i64::from)))
}

fn copy_header(buf: &mut Vec<u8>) {
    buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buf.extend_from_slice(&0i32.to_be_bytes());
    buf.extend_from_slice(&0i32.to_be_bytes());
}

fn field(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    buf.extend_from_slice(bytes);
}

enum CopyErr {
    Pg(postgres::Error),
    Io(std::io::Error),
}

fn copy_json_rows(tx: &mut Transaction<'_>, table: &str, m: i32, rows: &[JsonRow]) -> Result<(), CopyErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut w = tx.copy_in(&format!("COPY {table} FROM STDIN BINARY")).map_err(CopyErr::Pg)?;
    let mut buf = Vec::with_capacity(1 << 20);
    copy_header(&mut buf);
    for r in rows {
        buf.extend_from_slice(&5i16.to_be_bytes());
        field(&mut buf, &m.to_be_bytes());
        field(&mut buf, r.customer_id.as_bytes());
        field(&mut buf, &r.seq.to_be_bytes());
        field(&mut buf, r.kind.as_bytes());
        // jsonb's binary form: a version byte (1), then the text.
        buf.extend_from_slice(&((r.json.len() + 1) as i32).to_be_bytes());
        buf.push(1);
        buf.extend_from_slice(r.json.as_bytes());
        if buf.len() > (1 << 20) - 4096 {
            w.write_all(&buf).map_err(CopyErr::Io)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(&(-1i16).to_be_bytes());
    w.write_all(&buf).map_err(CopyErr::Io)?;
    w.finish().map_err(CopyErr::Pg)?;
    Ok(())
}

impl Backend for Postgres {
    fn begin(&mut self, month: Month, meta: &RunMeta) -> Result<Begun, StoreError> {
        check_meta(meta)?;
        let location = self.location.clone();
        let e = |x| pg_err(&location, "taking the store lock", x);
        let got: bool =
            self.client.query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY]).map_err(e)?.try_get(0).map_err(e)?;
        if !got {
            let holder = self.holder();
            return Err(StoreError::Locked(lock_message(&location, holder)));
        }
        self.locked = true;
        let r = (|| -> Result<i64, StoreError> {
            let e = |x| pg_err(&location, "recording the run", x);
            let mut tx = self.client.transaction().map_err(e)?;
            let (c, latest) = committed(&mut tx, month).map_err(e)?;
            check_sequence(month, meta.rerun, c, latest)?;
            tx.execute(
                "UPDATE runs SET status = 'abandoned', finished_at = $1, note = 'its process ended without committing (found by a later run)' WHERE status = 'running'",
                &[&now_utc()],
            )
            .map_err(e)?;
            let inputs = serde_json::to_string(&meta.inputs).unwrap_or_else(|_| "[]".into());
            let row = tx
                .query_one(
                    "INSERT INTO runs (month, status, started_at, pid, host, tool_version, rule_book_fingerprint, rule_book_text, inputs, rerun) \
                     VALUES ($1, 'running', $2, $3, $4, $5, $6, $7, $8, $9) RETURNING run_id",
                    &[
                        &(month.yyyymm() as i32),
                        &now_utc(),
                        &i64::from(std::process::id()),
                        &host_name(),
                        &meta.tool_version,
                        &meta.rule_book_fingerprint,
                        &meta.rule_book_text,
                        &inputs,
                        &meta.rerun,
                    ],
                )
                .map_err(e)?;
            let id: i64 = row.try_get(0).map_err(e)?;
            tx.commit().map_err(e)?;
            Ok(id)
        })();
        let run_id = match r {
            Ok(id) => id,
            Err(x) => {
                self.unlock();
                return Err(x);
            }
        };
        match self.dictionaries() {
            Ok(dicts) => Ok(Begun { run_id, dicts }),
            Err(x) => {
                let _ = self.abort(run_id, &x.to_string());
                Err(x)
            }
        }
    }

    fn write_month(
        &mut self,
        run_id: i64,
        month: Month,
        meta: &RunMeta,
        mut data: MonthData,
    ) -> Result<RunRecord, StoreError> {
        let counts = data.prepare()?;
        let location = self.location.clone();
        let e = |x| pg_err(&location, "committing the month", x);
        let io = |x: std::io::Error| StoreError::db(format!("committing the month into {location}"), x);
        let m = month.yyyymm() as i32;
        let mut tx = self.client.transaction().map_err(e)?;
        let (committed, latest) = committed(&mut tx, month).map_err(e)?;
        check_sequence(month, meta.rerun, committed.clone(), latest)?;
        if let Some((old, _)) = committed {
            for t in ["states", "events", "alerts"] {
                tx.execute(&format!("DELETE FROM {t} WHERE month = $1"), &[&m]).map_err(e)?;
            }
            tx.execute(
                "UPDATE runs SET status = 'replaced', note = $2 WHERE run_id = $1",
                &[&old, &format!("replaced by run {run_id}")],
            )
            .map_err(e)?;
        }
        for (i, code) in &data.dicts.new_tiers {
            tx.execute("INSERT INTO tier_codes (idx, code) VALUES ($1, $2)", &[&(*i as i32), code]).map_err(e)?;
        }
        for (i, code) in &data.dicts.new_entities {
            tx.execute("INSERT INTO legal_entities (idx, code) VALUES ($1, $2)", &[&(*i as i32), code]).map_err(e)?;
        }
        {
            let mut w = tx.copy_in("COPY states (month, customer_id, state) FROM STDIN BINARY").map_err(e)?;
            let mut buf = Vec::with_capacity(1 << 20);
            copy_header(&mut buf);
            for (id, row) in data.states.sorted() {
                buf.extend_from_slice(&3i16.to_be_bytes());
                field(&mut buf, &m.to_be_bytes());
                field(&mut buf, id.as_bytes());
                field(&mut buf, row);
                if buf.len() > (1 << 20) - 256 {
                    w.write_all(&buf).map_err(io)?;
                    buf.clear();
                }
            }
            buf.extend_from_slice(&(-1i16).to_be_bytes());
            w.write_all(&buf).map_err(io)?;
            w.finish().map_err(e)?;
        }
        for (table, rows) in [
            ("events (month, customer_id, seq, kind, event)", &data.events),
            ("alerts (month, customer_id, seq, kind, alert)", &data.alerts),
        ] {
            copy_json_rows(&mut tx, table, m, rows).map_err(|x| match x {
                CopyErr::Pg(p) => e(p),
                CopyErr::Io(i) => io(i),
            })?;
        }
        if !data.rejects.is_empty() {
            let st = tx
                .prepare(
                    "INSERT INTO rejects (run_id, seq, month, customer_id, category, field, record, other_record, message) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .map_err(e)?;
            for r in &data.rejects {
                tx.execute(
                    &st,
                    &[
                        &run_id,
                        &r.seq,
                        &m,
                        &r.customer_id,
                        &r.category,
                        &r.field,
                        &r.record,
                        &r.other_record,
                        &r.message,
                    ],
                )
                .map_err(e)?;
            }
        }
        let now = now_utc();
        tx.execute(
            "INSERT INTO months (month, run_id, committed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (month) DO UPDATE SET run_id = EXCLUDED.run_id, committed_at = EXCLUDED.committed_at",
            &[&m, &run_id, &now],
        )
        .map_err(e)?;
        let counts_json = serde_json::to_string(&counts).unwrap_or_default();
        tx.execute(
            "UPDATE runs SET status = 'committed', finished_at = $2, counts = $3 WHERE run_id = $1",
            &[&run_id, &now, &counts_json],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        self.unlock();
        self.read_runs(Some(run_id))?
            .pop()
            .ok_or_else(|| StoreError::Corrupt(format!("run {run_id} vanished after its commit")))
    }

    fn abort(&mut self, run_id: i64, why: &str) -> Result<(), StoreError> {
        let r = self.client.execute(
            "UPDATE runs SET status = 'aborted', finished_at = $2, note = $3 WHERE run_id = $1 AND status = 'running'",
            &[&run_id, &now_utc(), &why],
        );
        self.unlock();
        r.map_err(self.e("recording the aborted run"))?;
        Ok(())
    }

    fn committed_months(&mut self) -> Result<Vec<Month>, StoreError> {
        let rows = self
            .client
            .query("SELECT month FROM months ORDER BY month", &[])
            .map_err(self.e("reading the committed months"))?;
        let location = self.location.clone();
        rows.iter()
            .map(|r| {
                month_of(i64::from(r.try_get::<_, i32>(0).map_err(|x| pg_err(&location, "reading the months", x))?))
            })
            .collect()
    }

    fn month_before(&mut self, month: Month) -> Result<Option<(Month, i64)>, StoreError> {
        let location = self.location.clone();
        let e = |x| pg_err(&location, "reading the committed months", x);
        let row = self
            .client
            .query_opt(
                "SELECT month, run_id FROM months WHERE month < $1 ORDER BY month DESC LIMIT 1",
                &[&(month.yyyymm() as i32)],
            )
            .map_err(e)?;
        match row {
            Some(r) => {
                let m: i32 = r.try_get(0).map_err(e)?;
                let run: i64 = r.try_get(1).map_err(e)?;
                Ok(Some((month_of(i64::from(m))?, run)))
            }
            None => Ok(None),
        }
    }

    fn states_before(&mut self, month: Option<Month>) -> Result<Option<LatestStates>, StoreError> {
        let location = self.location.clone();
        let e = |x| pg_err(&location, "reading the states", x);
        let before = month.map_or(i32::MAX, |m| m.yyyymm() as i32);
        let Some(found) = self
            .client
            .query_opt(
                "SELECT m.month, m.run_id, r.rule_book_fingerprint, r.rule_book_text FROM months m JOIN runs r ON r.run_id = m.run_id \
                 WHERE m.month < $1 ORDER BY m.month DESC LIMIT 1",
                &[&before],
            )
            .map_err(e)?
        else {
            return Ok(None);
        };
        let m: i32 = found.try_get(0).map_err(e)?;
        let run_id: i64 = found.try_get(1).map_err(e)?;
        let fingerprint: String = found.try_get(2).map_err(e)?;
        let text: String = found.try_get(3).map_err(e)?;
        let dicts = self.dictionaries()?;
        let rows = self.client.query("SELECT customer_id, state FROM states WHERE month = $1", &[&m]).map_err(e)?;
        let mut states = PortfolioStates::new();
        // Room for the month's new customers too, so that adding them does not rehash every id.
        states.reserve(rows.len() + rows.len() / 8);
        for r in &rows {
            let id: &str = r.try_get(0).map_err(e)?;
            let blob: &[u8] = r.try_get(1).map_err(e)?;
            let d = dicts.decode(id, blob)?;
            states.insert(d.customer, d.state).map_err(|x| StoreError::Corrupt(x.to_string()))?;
        }
        stamp(&mut states, &fingerprint, &text)?;
        Ok(Some(LatestStates { month: month_of(i64::from(m))?, run_id, rule_book_fingerprint: fingerprint, states }))
    }

    fn customer_history(&mut self, customer_id: &str) -> Result<CustomerHistory, StoreError> {
        let location = self.location.clone();
        let e = |x| pg_err(&location, "reading the customer's history", x);
        let dicts = self.dictionaries()?;
        let mut h = CustomerHistory::default();
        let rows = self
            .client
            .query(
                "SELECT m.month, s.state FROM months m JOIN states s ON s.month = m.month AND s.customer_id = $1 ORDER BY m.month",
                &[&customer_id],
            )
            .map_err(e)?;
        for r in &rows {
            let month = month_of(i64::from(r.try_get::<_, i32>(0).map_err(e)?))?;
            let d = dicts.decode(customer_id, r.try_get(1).map_err(e)?)?;
            h.states.push(StateRow { month, customer: d.customer.into(), state: d.state, evaluated: d.evaluated });
        }
        let rows = self
            .client
            .query("SELECT event::text FROM events WHERE customer_id = $1 ORDER BY month, seq", &[&customer_id])
            .map_err(e)?;
        for r in &rows {
            h.events.push(parse_json("event", r.try_get(0).map_err(e)?)?);
        }
        let rows = self
            .client
            .query("SELECT alert::text FROM alerts WHERE customer_id = $1 ORDER BY month, seq", &[&customer_id])
            .map_err(e)?;
        for r in &rows {
            h.alerts.push(parse_json("alert", r.try_get(0).map_err(e)?)?);
        }
        Ok(h)
    }

    fn runs(&mut self) -> Result<Vec<RunRecord>, StoreError> {
        self.read_runs(None)
    }

    fn run_rule_book(&mut self, run_id: i64) -> Result<Option<String>, StoreError> {
        let location = self.location.clone();
        let e = |x| pg_err(&location, "reading the run's rule book", x);
        self.client
            .query_opt("SELECT rule_book_text FROM runs WHERE run_id = $1", &[&run_id])
            .map_err(e)?
            .map(|r| r.try_get(0).map_err(e))
            .transpose()
    }

    fn for_each_state(
        &mut self,
        first: Month,
        last: Month,
        f: &mut dyn FnMut(StateRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let location = self.location.clone();
        let e = |x| pg_err(&location, "reading the states", x);
        let dicts = self.dictionaries()?;
        for month in month_span(first, last) {
            let rows = self
                .client
                .query(
                    "SELECT customer_id, state FROM states WHERE month = $1 ORDER BY customer_id",
                    &[&(month.yyyymm() as i32)],
                )
                .map_err(e)?;
            for r in &rows {
                let id: &str = r.try_get(0).map_err(e)?;
                let d = dicts.decode(id, r.try_get(1).map_err(e)?)?;
                f(StateRow { month, customer: d.customer.into(), state: d.state, evaluated: d.evaluated })?;
            }
        }
        Ok(())
    }

    fn events(&mut self, first: Month, last: Month, _customer: Option<&str>) -> Result<Vec<EventRow>, StoreError> {
        let rows = self.json_rows("event", first, last)?;
        rows.into_iter().map(|(c, t)| Ok(EventRow { customer_id: c, event: parse_json("event", &t)? })).collect()
    }

    fn alerts(&mut self, first: Month, last: Month, _customer: Option<&str>) -> Result<Vec<AlertRow>, StoreError> {
        let rows = self.json_rows("alert", first, last)?;
        rows.into_iter().map(|(c, t)| Ok(AlertRow { customer_id: c, alert: parse_json("alert", &t)? })).collect()
    }

    fn rejects(&mut self, first: Month, last: Month) -> Result<Vec<RejectRow>, StoreError> {
        let location = self.location.clone();
        let e = |x| pg_err(&location, "reading the rejects", x);
        let rows = self
            .client
            .query(
                "SELECT r.run_id, r.month, r.seq, r.customer_id, r.category, r.field, r.record, r.other_record, r.message \
                 FROM rejects r JOIN months m ON m.run_id = r.run_id WHERE m.month BETWEEN $1 AND $2 ORDER BY r.month, r.seq",
                &[&(first.yyyymm() as i32), &(last.yyyymm() as i32)],
            )
            .map_err(e)?;
        rows.iter()
            .map(|r| {
                Ok(RejectRow {
                    run_id: r.try_get(0).map_err(e)?,
                    month: month_of(i64::from(r.try_get::<_, i32>(1).map_err(e)?))?,
                    seq: r.try_get(2).map_err(e)?,
                    customer_id: r.try_get(3).map_err(e)?,
                    category: r.try_get(4).map_err(e)?,
                    field: r.try_get(5).map_err(e)?,
                    record: r.try_get(6).map_err(e)?,
                    other_record: r.try_get(7).map_err(e)?,
                    message: r.try_get(8).map_err(e)?,
                })
            })
            .collect()
    }
}

fn month_span(first: Month, last: Month) -> impl Iterator<Item = Month> {
    let mut next = Some(first);
    std::iter::from_fn(move || {
        let m = next?;
        if m > last {
            return None;
        }
        next = if m == Month::LAST { None } else { Some(m.next()) };
        Some(m)
    })
}
