"""The month-end store read from Python (`crm_tiering.open_store`), against the CLI that wrote it.

The stores are written by the real `crm-tiering` binary (`demo` and `run`), then read back and
compared with the CLI's own `export`, and a `Portfolio` continued from a store is compared with
the CLI running the same month. SQLite always; PostgreSQL too when `CRMT_TEST_POSTGRES_URL` is
set (`scripts/postgres-test-cluster.sh` starts a throwaway server)."""

from __future__ import annotations

import csv
import datetime
import glob
import os
import pathlib
import shutil
import sqlite3
import subprocess
from decimal import Decimal

import pytest

import crm_tiering as ct
from cli_runner import run_cli

pa = pytest.importorskip("pyarrow")

CUSTOMERS = 2000
MONTHS = ["2023-01", "2023-02", "2023-03", "2023-04"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The CLI's demo: 2,000 customers x 4 months committed into demo/crm-tiering.db."""
    out = tmp_path_factory.mktemp("store") / "demo"
    run_cli("demo", "--customers", str(CUSTOMERS), "--months", str(len(MONTHS)), "--out", str(out))
    return out


def demo_rules(demo: pathlib.Path) -> "ct.RuleBook":
    """The demo's rule book (the default personal rules and a corporate rule set)."""
    return ct.load_rules(demo / "input" / "rules.toml")


def cli_run(demo: pathlib.Path, months: list, store: str, work: pathlib.Path) -> None:
    """The CLI's `run` of `months` over the demo's inputs cut to those months (a record dated
    outside the declared months holds its customer back)."""
    work.mkdir(parents=True, exist_ok=True)
    files = []
    for name in ("aum-monthly.csv", "designations.csv"):
        with open(demo / "input" / name, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        at = rows[0].index("month")
        path = work / f"{months[0]}-{months[-1]}-{name}"
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([rows[0]] + [r for r in rows[1:] if r[at] in months])
        files.append(str(path))
    span = months[0] if len(months) == 1 else f"{months[0]}..{months[-1]}"
    run_cli(
        "run", "--quiet", "--month", span, "--aum", files[0], "--designations", files[1], "--store", store,
        "--create-store", "--rules", str(demo / "input" / "rules.toml"),
    )


def export_csv(store: str, months: str, out: pathlib.Path) -> dict:
    run_cli("export", "--month", months, "--format", "csv", "--store", store, "--out", str(out))
    tables = {}
    for name in ("states", "events", "alerts", "rejects"):
        with open(out / f"{name}.csv", encoding="utf-8", newline="") as f:
            tables[name] = list(csv.DictReader(f))
    return tables


def cells_of_month(path: pathlib.Path, month: str):
    """The rows of a CLI input file dated `month`, as (header, rows) text cells."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    at = header.index("month")
    return header, [r for r in body if r[at] == month]


def month_text(d):
    return None if d is None else f"{d:%Y-%m}"


def cell(v):
    return "" if v is None else str(v)


def state_key(row: dict) -> tuple:
    """A states row of the Python table, as the CLI's export writes its columns."""
    return (
        month_text(row["month"]), row["customer_id"], cell(row["aum"]),
        "" if row["has_record"] is None else str(row["has_record"]).lower(),
        row["status"], cell(row["tier"]), cell(row["effective_tier"]), cell(row["watch_short_months"]),
        cell(row["below_entry_months"]), str(row["retention_months_left"]), cell(row["special_tier"]),
        cell(month_text(row["special_last_month"])),
    )


def export_state_key(row: dict) -> tuple:
    return (
        row["month"], row["customer_id"], row["aum"], row["has_record"] if row["evaluated"] == "true" else "",
        row["status"], row["tier"], row["effective_tier"], row["watch_short_months"],
        row["below_entry_months"], row["retention_months_left"], row["special_tier"], row["special_last_month"],
    )


def event_key(row: dict) -> tuple:
    return (
        month_text(row["month"]), row["customer_id"], month_text(row["effective_from"]), row["kind"],
        cell(row["from_tier"]), cell(row["to_tier"]), row["reason"], cell(row["aum"]), cell(row["threshold"]),
    )


def export_event_key(row: dict) -> tuple:
    return (
        row["month"], row["customer_id"], row["effective_from"], row["kind"], row["from_tier"], row["to_tier"],
        row["reason"], row["aum"], row["threshold"],
    )


def test_months_runs_and_schema(demo):
    store = ct.open_store(demo / "crm-tiering.db")
    assert store.months() == MONTHS
    runs = store.runs()
    assert runs.column("status").to_pylist() == ["committed"] * len(MONTHS)
    assert [month_text(m) for m in runs.column("month").to_pylist()] == MONTHS
    assert runs.schema.field("started_at").type == pa.timestamp("s", tz="UTC")
    assert all(n > 0 for n in runs.column("states").to_pylist())
    assert runs.column("rule_book_fingerprint").to_pylist()[0] == demo_rules(demo).fingerprint
    assert store.rule_book().fingerprint == demo_rules(demo).fingerprint
    states = store.states()
    assert states.num_rows == runs.column("states").to_pylist()[-1]
    assert states.schema.field("aum").type == pa.decimal128(38, 2)
    assert states.schema.field("month").type == pa.date32()
    assert set(states.column("month").to_pylist()) == {datetime.date(2023, 4, 1)}
    # The same columns and types as a Portfolio's states table.
    p = ct.Portfolio(demo_rules(demo))
    r = p.evaluate_month("2023-01", pa.table({"customer_id": ["c1"], "aum": pa.array([Decimal("250000.00")], pa.decimal128(20, 2))}))
    assert states.schema == r.states.schema
    everything = store.states(("2023-01", "2023-04"))
    assert everything.num_rows == sum(runs.column("states").to_pylist())


def test_states_equal_the_cli_export(demo, tmp_path):
    location = str(demo / "crm-tiering.db")
    store = ct.open_store(location)
    exported = export_csv(location, "2023-04", tmp_path / "export")
    mine = sorted(state_key(r) for r in store.states("2023-04").to_pylist())
    theirs = sorted(export_state_key(r) for r in exported["states"])
    assert len(mine) > 1900 and mine == theirs
    # Latest by default; amounts are exact decimals.
    assert store.states().to_pylist() == store.states("2023-04").to_pylist()
    assert all(isinstance(r["aum"], Decimal) for r in store.states().to_pylist() if r["aum"] is not None)


def test_events_and_alerts_of_a_range(demo, tmp_path):
    location = str(demo / "crm-tiering.db")
    store = ct.open_store(location)
    exported = export_csv(location, "2023-02..2023-03", tmp_path / "export")
    events = store.events("2023-02..2023-03", explain=True)
    assert events.num_rows > 0
    assert sorted(event_key(r) for r in events.to_pylist()) == sorted(export_event_key(r) for r in exported["events"])
    assert {r["explanation"] for r in events.to_pylist()} == {r["explanation"] for r in exported["events"]}
    alerts = store.alerts("2023-02..2023-03")
    assert sorted((month_text(r["month"]), r["customer_id"], r["kind"]) for r in alerts.to_pylist()) == sorted(
        (r["month"], r["customer_id"], r["kind"]) for r in exported["alerts"]
    )
    # The severity (SPEC §11.1) is the core's, in the table and in the CSV export alike.
    def severity_key(r: dict) -> tuple:
        return (month_text(r["month"]), r["customer_id"], r["kind"], r["months_left"] or 0, r["severity"], r["severity_zh"])

    assert sorted(severity_key(r) for r in alerts.to_pylist()) == sorted(
        (r["month"], r["customer_id"], r["kind"], int(r["months_left"] or 0), r["severity"], r["severity_zh"])
        for r in exported["alerts"]
    )
    assert {r["severity"] for r in alerts.to_pylist()} >= {"medium", "low"}
    assert store.rejects("2023-02..2023-03").num_rows == len(exported["rejects"])
    # A range gives the committed months in it; a single month must be committed.
    assert store.events("2022-01..2023-01").num_rows == store.events("2023-01").num_rows
    with pytest.raises(ct.InputError) as e:
        store.events("2024-01")
    assert e.value.field == "month" and "2023-01..2023-04" in str(e.value)


def test_parquet_export_is_the_tables_of_the_binding(demo, tmp_path):
    """The CLI's Parquet export and the binding's tables are one schema per table (SPEC §15,
    "Output tables"), with the same values row for row."""
    pq = pytest.importorskip("pyarrow.parquet")
    location = str(demo / "crm-tiering.db")
    store = ct.open_store(location)
    out = tmp_path / "parquet"
    run_cli("export", "--month", "2023-02..2023-03", "--format", "parquet", "--store", location, "--out", str(out))
    mine = {
        "states": store.states("2023-02..2023-03"),
        "events": store.events("2023-02..2023-03", explain=True),
        "alerts": store.alerts("2023-02..2023-03"),
        "rejects": store.rejects("2023-02..2023-03"),
    }
    for name, table in mine.items():
        path = out / f"{name}.parquet"
        assert pq.read_schema(path) == table.schema, (name, pq.read_schema(path), table.schema)
        exported = pq.read_table(path)
        assert exported.num_rows == table.num_rows and (name == "rejects" or table.num_rows > 0), name
        assert exported.to_pylist() == table.to_pylist(), name
    states = pq.read_table(out / "states.parquet")
    assert states.schema.field("month").type == pa.date32()
    assert states.schema.field("aum").type == pa.decimal128(38, 2)
    assert pa.types.is_dictionary(states.schema.field("legal_entity").type)
    # A portfolio's own tables have the same schemas (events without explanations too).
    p = ct.Portfolio(demo_rules(demo))
    r = p.evaluate_month("2023-01", pa.table({"customer_id": ["c1"], "aum": ["2500000"]}))
    for name in ("states", "events", "alerts"):
        assert getattr(r, name).schema == pq.read_schema(out / f"{name}.parquet"), name


def test_one_customers_history(demo):
    store = ct.open_store(demo / "crm-tiering.db")
    everything = store.events(("2023-01", "2023-04")).to_pylist()
    per_customer: dict = {}
    for e in everything:
        per_customer.setdefault(e["customer_id"], set()).add(e["month"])
    customer = max(sorted(per_customer), key=lambda c: len(per_customer[c]))
    h = store.history(customer)
    assert isinstance(h, ct.StoreHistory)
    assert [month_text(m) for m in h.states.column("month").to_pylist()] == MONTHS
    all_states = store.states("2023-01..2023-04").to_pylist()
    assert h.states.to_pylist() == [r for r in all_states if r["customer_id"] == customer]
    assert [event_key(r) for r in h.events.to_pylist()] == [event_key(r) for r in everything if r["customer_id"] == customer]
    assert all(r["explanation"] for r in h.events.to_pylist())
    alerts = [r for r in store.alerts("2023-01..2023-04").to_pylist() if r["customer_id"] == customer]
    assert h.alerts.to_pylist() == alerts
    with pytest.raises(ct.InputError) as e:
        store.history("no-such-customer")
    assert e.value.customer == "no-such-customer"


def check_portfolio_continues(location: str, demo: pathlib.Path, tmp_path: pathlib.Path) -> None:
    """A store holding 2023-01..03 written by the CLI; the Portfolio from it evaluates 2023-04
    and gives what the CLI's run of 2023-04 commits."""
    cli_run(demo, MONTHS[:3], location, tmp_path / "inputs")
    rules = demo_rules(demo)
    with ct.open_store(location) as store:
        assert store.months() == MONTHS[:3]
        p = store.portfolio(rules)
        assert len(p) == store.states().num_rows and p.states_rule_book == rules.fingerprint
        # Another rule book is refused unless accepted.
        stricter = rules.with_tier_minimum("gold", "300000")
        with pytest.raises(ct.StateError) as e:
            store.portfolio(stricter)
        assert e.value.field == "rule_book"
        assert len(store.portfolio(stricter, accept_rule_change=True)) == len(p)
    r = p.evaluate_month(
        "2023-04", cells_of_month(demo / "input" / "aum-monthly.csv", "2023-04"),
        designations=cells_of_month(demo / "input" / "designations.csv", "2023-04"),
    )
    assert r.errors.num_rows == 0
    cli_run(demo, MONTHS[3:], location, tmp_path / "inputs")
    with ct.open_store(location) as store:
        assert store.months() == MONTHS
        committed = store.states()
        assert sorted(state_key(x) for x in r.states.to_pylist()) == sorted(state_key(x) for x in committed.to_pylist())
        assert sorted(event_key(x) for x in r.events.to_pylist()) == sorted(
            event_key(x) for x in store.events().to_pylist()
        )
        assert r.alerts.num_rows == store.alerts().num_rows
    # And the same as the demo, which ran the four months in one go.
    demo_states = ct.open_store(demo / "crm-tiering.db").states().to_pylist()
    assert sorted(state_key(x) for x in committed.to_pylist()) == sorted(state_key(x) for x in demo_states)


def test_portfolio_continues_like_the_cli_sqlite(demo, tmp_path):
    check_portfolio_continues(str(tmp_path / "crm-tiering.db"), demo, tmp_path)


def _psql() -> str:
    for d in filter(None, [os.environ.get("CRMT_PG_TEST_BINDIR")] + sorted(glob.glob("/usr/lib/postgresql/*/bin"))):
        if os.access(os.path.join(d, "psql"), os.X_OK):
            return os.path.join(d, "psql")
    found = shutil.which("psql")
    if found is None:
        pytest.skip("psql is not available to create a fresh PostgreSQL database")
    return found


@pytest.fixture
def pg_store():
    url = os.environ.get("CRMT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("CRMT_TEST_POSTGRES_URL is not set (scripts/postgres-test-cluster.sh starts a server)")
    db = f"crmt_python_{os.getpid()}"
    psql = _psql()
    drop = [psql, url, "-q", "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"]
    subprocess.run(drop, check=True, capture_output=True)
    subprocess.run([psql, url, "-q", "-c", f"CREATE DATABASE {db}"], check=True, capture_output=True)
    yield url.rsplit("/", 1)[0] + "/" + db
    subprocess.run(drop, capture_output=True)


def test_portfolio_continues_like_the_cli_postgres(demo, tmp_path, pg_store):
    check_portfolio_continues(pg_store, demo, tmp_path)
    store = ct.open_store(pg_store)
    exported = export_csv(pg_store, "2023-04", tmp_path / "export")
    assert sorted(state_key(r) for r in store.states().to_pylist()) == sorted(
        export_state_key(r) for r in exported["states"]
    )
    assert store.location.startswith("postgres://")


def test_errors(demo, tmp_path):
    with pytest.raises(ct.StoreError) as e:
        ct.open_store(tmp_path / "missing.db")
    assert e.value.kind == "missing" and isinstance(e.value, ct.TieringError) and e.value.category == "store"
    assert "crm-tiering init --store" in str(e.value)
    assert not (tmp_path / "missing.db").exists()
    empty = ct.open_store(tmp_path / "new.db", create=True)
    assert empty.months() == [] and empty.states().num_rows == 0 and empty.rule_book() is None
    assert len(empty.portfolio(demo_rules(demo))) == 0
    assert len(empty.portfolio_id) == 32
    # `create` never takes over a store, or any file.
    with pytest.raises(ct.StoreError) as e:
        ct.Store.create(tmp_path / "new.db")
    assert e.value.kind == "exists"
    # A store of a newer schema is refused with the store's error kind.
    newer = tmp_path / "newer.db"
    shutil.copy(demo / "crm-tiering.db", newer)
    with sqlite3.connect(newer) as c:
        c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(ct.StoreError) as e:
        ct.open_store(newer)
    assert e.value.kind == "schema" and "99" in str(e.value)
    store = ct.Store(demo / "crm-tiering.db")
    store.close()
    with pytest.raises(ValueError):
        store.months()
    import pickle

    again = pickle.loads(pickle.dumps(ct.StoreError("x", kind="locked")))
    assert isinstance(again, ct.StoreError) and again.kind == "locked"


def test_an_empty_or_damaged_store_is_never_read_as_a_new_portfolio(demo, tmp_path):
    # A store file cut to nothing: damage, and it stays 0 bytes whatever Python does with it.
    cut = tmp_path / "cut.db"
    cut.write_bytes(b"")
    for attempt in (lambda: ct.Store(cut), lambda: ct.Store.open(cut), lambda: ct.Store.open(cut, read_only=True)):
        with pytest.raises(ct.StoreError) as e:
            attempt()
        assert e.value.kind == "corrupt" and "is empty (0 bytes)" in str(e.value)
    with pytest.raises(ct.StoreError) as e:
        ct.Store.create(cut)
    assert e.value.kind == "exists"
    assert cut.stat().st_size == 0
    # A month's record deleted: every read refuses, naming what does not chain.
    damaged = tmp_path / "damaged.db"
    shutil.copy(demo / "crm-tiering.db", damaged)
    with sqlite3.connect(damaged) as c:
        c.execute("DELETE FROM months WHERE month = 202302")
    with pytest.raises(ct.StoreError) as e:
        ct.Store.open(damaged, read_only=True)
    assert e.value.kind == "corrupt" and "month 2023-03 does not chain" in str(e.value)


def test_a_read_only_store_opens_read_only(demo, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    copy = ro / "crm-tiering.db"
    shutil.copy(demo / "crm-tiering.db", copy)
    copy.chmod(0o444)
    ro.chmod(0o555)
    try:
        before = copy.read_bytes()
        store = ct.Store.open(copy, read_only=True)
        assert store.months() == MONTHS
        assert store.states().num_rows == ct.Store.open(demo / "crm-tiering.db", read_only=True).states().num_rows
        with pytest.raises(ct.StoreError) as e:
            store.commit_month(demo_rules(demo), "2023-05", pa.table({"customer_id": ["c1"], "aum": ["1.00"]}))
        assert e.value.kind == "read_only"
        store.close()
        assert copy.read_bytes() == before
    finally:
        ro.chmod(0o755)


def test_commit_month_commits_what_the_cli_run_commits(demo, tmp_path):
    """Python's commit_month and the CLI's run commit the same month the same way."""
    location = str(tmp_path / "cli.db")
    cli_run(demo, MONTHS[:3], location, tmp_path / "inputs")
    mine = tmp_path / "python.db"
    shutil.copy(location, mine)
    cli_run(demo, MONTHS[3:], location, tmp_path / "inputs")
    store = ct.Store.open(mine)
    rules = demo_rules(demo)
    done = store.commit_month(
        rules, "2023-04", cells_of_month(demo / "input" / "aum-monthly.csv", "2023-04"),
        designations=cells_of_month(demo / "input" / "designations.csv", "2023-04"),
    )
    assert isinstance(done, ct.CommittedMonth) and done.month == "2023-04" and done.run_id == 4
    assert done.result.errors.num_rows == 0
    theirs = ct.Store.open(location, read_only=True)
    assert store.months() == theirs.months() == MONTHS
    assert sorted(state_key(x) for x in store.states().to_pylist()) == sorted(
        state_key(x) for x in theirs.states().to_pylist()
    )
    assert sorted(event_key(x) for x in store.events().to_pylist()) == sorted(
        event_key(x) for x in theirs.events().to_pylist()
    )
    assert sorted(state_key(x) for x in done.result.states.to_pylist()) == sorted(
        state_key(x) for x in store.states().to_pylist()
    )
    runs = store.runs()
    assert runs.column("status").to_pylist()[-1] == "committed"
    assert runs.column("tool_version").to_pylist()[-1].startswith("crm-tiering-python ")
    # Committed already; a rerun replaces it.
    with pytest.raises(ct.StoreError) as e:
        store.commit_month(rules, "2023-04", cells_of_month(demo / "input" / "aum-monthly.csv", "2023-04"))
    assert e.value.kind == "already_committed"
    again = store.commit_month(
        rules, "2023-04", cells_of_month(demo / "input" / "aum-monthly.csv", "2023-04"),
        designations=cells_of_month(demo / "input" / "designations.csv", "2023-04"), rerun=True,
    )
    assert again.run_id == done.run_id + 1  # the refused attempt left no run
    assert store.runs().column("status").to_pylist()[-2:] == ["replaced", "committed"]


def test_commit_month_holds_bad_records_back_or_commits_nothing(tmp_path):
    store = ct.Store.create(tmp_path / "s.db")
    rules = ct.load_rules()
    table = pa.table({"customer_id": ["c1", "c2", "c3"], "aum": ["250000.00", "12x", "90000"]})
    with pytest.raises(ct.InputError) as e:
        store.commit_month(rules, "2024-01", table)
    assert e.value.customer == "c2" and e.value.field == "aum" and len(e.value.errors) == 1
    assert store.months() == []
    assert store.runs().column("status").to_pylist() == ["aborted"]
    done = store.commit_month(rules, "2024-01", table, skip_bad_rows=True)
    assert store.months() == ["2024-01"]
    assert done.result.errors.num_rows == 1
    assert store.rejects().column("customer_id").to_pylist() == ["c2"]
    assert store.states().num_rows == 2
    # Rolled back: the month and its rejects leave the store, audited.
    assert store.rollback("2024-01", who="tester") == [done.run_id]
    assert store.months() == [] and store.rejects().num_rows == 0
    runs = store.runs()
    assert runs.column("status").to_pylist()[-1] == "rolled_back"
    assert runs.column("note").to_pylist()[-1].startswith("rolled back by tester on ")
