//! Shared by the store's test files: fresh stores on SQLite, and on PostgreSQL when
//! `CRMT_TEST_POSTGRES_URL` is set (scripts/postgres-test-cluster.sh starts a server).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

use crm_tiering::Month;
use crm_tiering::portfolio::{Columns, Extract, MonthRange, PortfolioOptions, PortfolioStates, TableKind};
use crm_tiering::{Engine, RuleBook};
use crm_tiering_store::{MonthResults, RunMeta, RunRecord, Store, synthetic};

pub(crate) fn month(s: &str) -> Month {
    s.parse().unwrap()
}

/// A fresh store per test: a SQLite file in a temp dir, and a fresh PostgreSQL database when a
/// server is given.
pub(crate) struct Fresh {
    pub(crate) locations: Vec<String>,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) pg_admin: Option<(String, String)>,
}

impl Drop for Fresh {
    fn drop(&mut self) {
        if let Some((url, db)) = &self.pg_admin
            && let Ok(mut c) = postgres::Client::connect(url, postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        }
    }
}

pub(crate) fn fresh(name: &str) -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let mut locations = vec![dir.path().join("crm-tiering.db").display().to_string()];
    let mut pg_admin = None;
    match std::env::var("CRMT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let db = format!("crmt_{name}_{}", std::process::id());
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).unwrap();
            c.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
            locations.push(pg_url(&url, &db));
            pg_admin = Some((url, db));
        }
        _ => println!(
            "notice: CRMT_TEST_POSTGRES_URL is not set: {name} runs on SQLite only (scripts/postgres-test-cluster.sh starts a server)"
        ),
    }
    Fresh { locations, dir, pg_admin }
}

/// The URL of another database on the server of `url`.
pub(crate) fn pg_url(url: &str, db: &str) -> String {
    let base = url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
    format!("{base}/{db}")
}

pub(crate) fn is_pg(loc: &str) -> bool {
    loc.starts_with("postgres")
}

/// Runs SQL on a store's database directly (to damage it, or look under it), foreign keys
/// not enforced.
pub(crate) fn sql(loc: &str, statements: &str) {
    if is_pg(loc) {
        let mut c = postgres::Client::connect(loc, postgres::NoTls).unwrap();
        c.batch_execute(&format!("SET session_replication_role = replica; {statements}"))
            .unwrap_or_else(|e| panic!("{statements}: {e}"));
    } else {
        let c = rusqlite::Connection::open(loc).unwrap();
        c.execute_batch(&format!("PRAGMA foreign_keys = OFF; {statements}"))
            .unwrap_or_else(|e| panic!("{statements}: {e}"));
    }
}

/// One integer from SQL.
pub(crate) fn sql_int(loc: &str, query: &str) -> i64 {
    if is_pg(loc) {
        let mut c = postgres::Client::connect(loc, postgres::NoTls).unwrap();
        let r = c.query_one(query, &[]).unwrap();
        r.try_get::<_, i64>(0).or_else(|_| r.try_get::<_, i32>(0).map(i64::from)).unwrap()
    } else {
        let c = rusqlite::Connection::open(loc).unwrap();
        c.query_row(query, [], |r| r.get(0)).unwrap()
    }
}

/// A new store at a fresh location.
pub(crate) fn create(loc: &str) -> Store {
    Store::create(loc).unwrap_or_else(|e| panic!("creating {loc}: {e}"))
}

/// A synthetic month of `n` customers committed row by row.
pub(crate) fn commit_month(store: &mut Store, m: &str, n: usize, rerun: bool) -> RunRecord {
    let (engine, meta) = synthetic::default_meta(rerun).unwrap();
    let mut w = store.begin_month(month(m), meta).unwrap();
    let prev = w.previous_states().unwrap();
    synthetic::write_month(&mut w, &engine, prev.as_ref().map(|p| &p.states), n).unwrap();
    w.commit().unwrap()
}

/// The default rule book's engine and a run's audit data.
pub(crate) fn engine() -> (Engine, RunMeta) {
    synthetic::default_meta(false).unwrap()
}

/// An extract of `(month, customer, aum)` text records, as a file `aum` would give them.
pub(crate) fn extract(book: &RuleBook, rows: &[(&str, &str, &str)]) -> Extract {
    let headers = ["month", "customer_id", "aum"];
    let cols = Columns::resolve(book, TableKind::Aum, &headers).unwrap();
    let mut x = Extract::new(book);
    for (i, (m, id, aum)) in rows.iter().enumerate() {
        x.push_cells("aum", &cols, i as u64 + 2, &[m, id, aum]);
    }
    x
}

/// Results collected month by month.
#[derive(Default)]
pub(crate) struct ByMonth(pub(crate) Vec<MonthResults>);

impl crm_tiering::portfolio::PortfolioSink for ByMonth {
    fn begin_month(&mut self, m: Month) {
        self.0.push(MonthResults::new(m));
    }
    fn event(&mut self, m: Month, i: usize, c: crm_tiering::CustomerRef<'_>, e: &crm_tiering::Event) {
        if let Some(r) = self.0.last_mut() {
            r.event(m, i, c, e);
        }
    }
    fn alert(&mut self, m: Month, i: usize, c: crm_tiering::CustomerRef<'_>, a: &crm_tiering::Alert) {
        if let Some(r) = self.0.last_mut() {
            r.alert(m, i, c, a);
        }
    }
    fn evaluated(
        &mut self,
        m: Month,
        i: usize,
        c: crm_tiering::CustomerRef<'_>,
        aum: crm_tiering::Decimal,
        has: bool,
        s: &crm_tiering::CustomerState,
    ) {
        if let Some(r) = self.0.last_mut() {
            r.evaluated(m, i, c, aum, has, s);
        }
    }
    fn held(&mut self, m: Month, i: Option<usize>, e: &crm_tiering::portfolio::RecordError) {
        if let Some(r) = self.0.last_mut() {
            r.held(m, i, e);
        }
    }
}

/// Evaluates `months` of `rows` from `states` with the core's portfolio month.
pub(crate) fn evaluate(
    engine: &Engine,
    states: &mut PortfolioStates,
    months: &str,
    rows: &[(&str, &str, &str)],
    options: &PortfolioOptions,
) -> Vec<MonthResults> {
    let x = extract(engine.rule_book(), rows);
    let range: MonthRange = months.parse().unwrap();
    let mut sink = ByMonth::default();
    engine.evaluate_portfolio_with(states, range, &x, options, &mut sink).unwrap();
    sink.0
}

/// Begins, evaluates and commits one month of `rows` through `commit_portfolio_month`.
pub(crate) fn commit_rows(store: &mut Store, m: &str, rows: &[(&str, &str, &str)], rerun: bool) -> RunRecord {
    let (engine, mut meta) = engine();
    meta.rerun = rerun;
    let mut w = store.begin_month(month(m), meta).unwrap();
    let mut states = w.previous_states().unwrap().map(|l| l.states).unwrap_or_default();
    let results = evaluate(&engine, &mut states, m, rows, &PortfolioOptions::default());
    w.commit_portfolio_month(&states, &results[0]).unwrap()
}
