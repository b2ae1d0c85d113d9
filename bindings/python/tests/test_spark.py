"""crm_tiering.spark: the Spark path gives exactly the single-process path's results.

One SparkSession (local[2]) for every Spark module (conftest.py); a generated portfolio of a few thousand customers
over six months with held customers (bad amounts, duplicates, rows out of the months), absent
customers, designations and new customers.
"""

import datetime
import random
from decimal import Decimal

import pytest

import crm_tiering as ct

pa = pytest.importorskip("pyarrow")
pytest.importorskip("pyspark")
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")

from crm_tiering import spark as cts  # noqa: E402

MONTHS = [f"2024-{m:02d}" for m in range(1, 7)]
N = 3000


def make_history(n=N, seed=11):
    """Rows (customer_id, month, legal_entity, aum): entries, watches, exits, absences, and bad
    records: amounts that do not parse, a second row in a month, a row outside the months."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        cid = f"62{i:08d}"
        level = rnd.choice([0, 50_000, 190_000, 250_000, 480_000, 900_000, 1_100_000, 3_500_000])
        entity = rnd.choice(["620101", "620401", ""])
        start = rnd.choice([0, 0, 0, 1, 3])  # some customers are new later
        for m in MONTHS[start:]:
            level = max(0, int(level * rnd.choice([0.5, 0.8, 0.95, 1.0, 1.05, 1.3, 2.0])))
            if rnd.random() < 0.04:
                continue  # absent this month
            aum = f"{level}.{rnd.randrange(100):02d}"
            r = rnd.random()
            if r < 0.003:
                aum = "12x"  # a bad amount holds the customer back
            rows.append((cid, m, entity, aum))
            if r > 0.998:
                rows.append((cid, m, entity, "1"))  # a second record in the month
    rows.append(("6299999999", "2024-09", "", "300000"))  # dated outside the months
    rows.append(("6200000007", "2023-12", "", "300000"))
    rnd.shuffle(rows)  # records in no particular order, as an extract may come
    return rows


def history_table(rows, date_months=False):
    months = [datetime.date(int(m[:4]), int(m[5:]), 1) for _, m, _, _ in rows] if date_months else [r[1] for r in rows]
    amounts = []
    for *_, a in rows:
        try:
            amounts.append(Decimal(a))
        except Exception:
            amounts.append(None)
    return pa.table(
        {
            "customer_id": [r[0] for r in rows],
            "month": months,
            "legal_entity": [r[2] for r in rows],
            # strings so that a bad amount reaches the core as it would from a text extract
            "aum": pa.array([r[3] for r in rows], pa.string()),
        }
    )


def designations_table():
    rnd = random.Random(5)
    rows = []
    for i in rnd.sample(range(N), 60):
        rows.append((f"62{i:08d}", rnd.choice(MONTHS[:4]), "grant", rnd.choice(["", "platinum", "diamond"]), "12"))
    for i in rnd.sample(range(N), 10):
        rows.append((f"62{i:08d}", "2024-05", "revoke", "", ""))
    rows.append(("6288888888", "2024-02", "grant", "gold", "6"))  # designated, never an AUM record
    rows.append(("6200000003", "2024-08", "grant", "", ""))  # outside the months: held
    return pa.table(
        {
            "customer_id": [r[0] for r in rows],
            "month": [r[1] for r in rows],
            "action": [r[2] for r in rows],
            "tier": [r[3] for r in rows],
            "months": [r[4] for r in rows],
        }
    )


@pytest.fixture(scope="module")
def rules():
    return ct.load_rules()


@pytest.fixture(scope="module")
def history():
    return history_table(make_history())


@pytest.fixture(scope="module")
def designations():
    return designations_table()


def single(rules, table, months, designations=None, text=None, **options):
    """The single-process path: the whole portfolio in one Portfolio."""
    p = ct.Portfolio.from_states_text(rules, text) if text else ct.Portfolio(rules, absent=options.pop("absent", "zero"))
    r = p.evaluate_month(months, table, designations=designations, **options)
    return cts.canonical(r, p), p


def assert_same(got, want):
    assert set(got) == set(want)
    for name in cts.OUTPUTS:
        g, w = got[name], want[name]
        assert g.schema == w.schema, (name, g.schema, w.schema)
        assert g.num_rows == w.num_rows, (name, g.num_rows, w.num_rows)
        assert g.equals(w), name


def test_replay_equals_single_process(spark, rules, history, designations):
    want, _ = single(rules, history, "2024-01..2024-06", designations, explain=True)
    # the generated portfolio has what the comparison is about
    assert want["errors"].num_rows >= 10
    assert {"month", "customer_id"} <= set(want["errors"].column("field").to_pylist())
    assert not all(want["states"].column("has_record").to_pylist())
    assert "special_granted" in want["events"].column("kind").to_pylist()
    assert want["states"].num_rows > 15000

    df = cts._create(spark, history)
    des = cts._create(spark, designations)
    r = cts.replay(rules, df, months="2024-01..2024-06", designations=des, explain=True, partitions=5)
    try:
        got = r.to_arrow()
        assert_same(got, want)
        s = r.states.schema
        assert s["aum"].dataType.simpleString() == "decimal(38,2)"
        assert s["month"].dataType.simpleString() == "date"
        assert min(got["states"].column("month").to_pylist()) == datetime.date(2024, 1, 1)
        # every customer's outputs come from one task: nobody is evaluated twice in a month
        assert r.states.groupBy("customer_id", "month").count().where("count > 1").count() == 0
    finally:
        r.unpersist()


def test_stored_states_month_by_month_and_absent_customers(spark, rules, history, designations):
    """Months 1-3 from new customers, then each later month from the stored states DataFrame
    (absent policy ``hold``), equal to the single-process portfolio carried month to month."""
    month = history.column("month").to_pylist()
    first = history.filter(pa.array([m <= "2024-03" for m in month]))
    p = ct.Portfolio(rules, absent="hold")
    p.evaluate_month("2024-01..2024-03", first, designations=designations)
    text = p.to_states_text()
    s1 = cts.replay(rules, cts._create(spark, first), months="2024-01..2024-03", designations=cts._create(spark, designations), absent="hold", partitions=3)
    stored = s1.stored_states
    got_stored = cts._sorted("stored_states", cts.to_arrow(stored))
    assert got_stored.equals(cts._sorted("stored_states", cts._stored_rows(text)))
    # stored states of the Spark run give the single-process text back (checked by the core)
    assert cts.states_text(stored, rules) == cts.states_text(cts.states_dataframe(spark, text, rules), rules)

    april = history.filter(pa.array([m == "2024-04" for m in month])).drop_columns(["month"])
    want, p2 = single(rules, april, "2024-04", designations.filter(pa.array([m == "2024-04" for m in designations.column("month").to_pylist()])), text=text)
    s2 = cts.evaluate_month(
        rules,
        cts._create(spark, april),
        month=datetime.date(2024, 4, 1),
        states=stored,
        designations=cts._create(spark, designations).where("month = '2024-04'"),
        partitions=4,
    )
    try:
        assert_same(s2.to_arrow(), want)
        assert False in want["states"].column("has_record").to_pylist()  # absent stored customers: zero
    finally:
        s1.unpersist()
        s2.unpersist()


def test_rule_book_reaches_the_executors(spark, history):
    book = ct.load_rules().to_dict()
    tiers = book["rule_sets"][0]["versions"][0]["tiers"]
    tiers[0]["min_aum"] = "300000"
    stricter = ct.load_rules(book)
    months = "2024-01..2024-06"
    want, _ = single(stricter, history, months)
    default, _ = single(ct.load_rules(), history, months)
    assert not want["states"].equals(default["states"])
    r = cts.replay(stricter, cts._create(spark, history), months=months, partitions=3)
    try:
        got = r.to_arrow()
        assert_same(got, want)
        assert set(got["stored_states"].column("rule_book").to_pylist()) == {stricter.fingerprint}
        # the stamp is checked: states of the stricter book are refused under the default one
        april = cts._create(spark, pa.table({"customer_id": ["6200000001"], "aum": ["1"]}))
        with pytest.raises(ct.StateError):
            cts.evaluate_month(ct.load_rules(), april, month="2024-07", states=r.stored_states, partitions=2)
    finally:
        r.unpersist()


def test_unidentifiable_records_stop_the_run_with_the_same_errors(spark, rules, history):
    bad = pa.concat_tables(
        [
            history,
            pa.table(
                {
                    "customer_id": [" 6200000001", None],
                    "month": ["2024-02", "2024-03"],
                    "legal_entity": ["", ""],
                    "aum": ["1", "2"],
                }
            ),
        ]
    )
    with pytest.raises(ct.InputError) as single_info:
        ct.Portfolio(rules).evaluate_month("2024-01..2024-06", bad)
    with pytest.raises(ct.InputError) as spark_info:
        cts.replay(rules, cts._create(spark, bad), months="2024-01..2024-06", partitions=3)
    a, b = single_info.value, spark_info.value
    assert [(x.category, x.field, x.record, x.month, x.message) for x in b.errors] == [
        (x.category, x.field, x.record, x.month, x.message) for x in a.errors
    ]
    assert str(b) == str(a)


def test_row_column_and_date_months(spark, rules):
    """Records named by a row column the extract carries; months as DateType."""
    rows = make_history(400, seed=3)
    t = history_table(rows, date_months=True)
    want, _ = single(rules, t, "2024-01..2024-06")
    numbered = t.append_column("row", pa.array(range(t.num_rows), pa.int64()))
    df = cts._create(spark, numbered).repartition(3)  # the row column, not the order, names records
    r = cts.replay(rules, df, months=("2024-01", "2024-06"), row_column="row", partitions=2)
    try:
        assert_same(r.to_arrow(), want)
    finally:
        r.unpersist()


def test_an_empty_month_is_refused_as_in_the_single_process_path(spark, rules):
    """A declared month without any AUM record: the core's InputError (field month) on the
    driver, the same as the single-process path's, whether the DataFrame is empty or holds
    only other months; allow_empty_month=True (an option given through) lets it run."""
    empty = pa.table({"customer_id": pa.array([], pa.string()), "month": pa.array([], pa.string()),
                      "aum": pa.array([], pa.string())})
    other = pa.table({"customer_id": ["a"], "month": ["2024-02"], "aum": ["1"]})
    for table in (empty, other):
        with pytest.raises(ct.InputError) as single_info:
            ct.Portfolio(rules).evaluate_month("2024-01", table)
        with pytest.raises(ct.InputError) as spark_info:
            cts.evaluate_month(rules, cts._create(spark, table), month="2024-01", partitions=2)
        a, b = single_info.value, spark_info.value
        assert (b.field, b.month, str(b)) == (a.field, a.month, str(a)) == ("month", "2024-01", str(a))
        assert "no AUM record for 2024-01" in str(b)
    r = cts.evaluate_month(rules, cts._create(spark, other), month="2024-01", partitions=2, allow_empty_month=True)
    try:
        got = r.to_arrow()
        assert got["states"].num_rows == 0
        assert got["errors"].column("field").to_pylist() == ["month"]  # the February row, held
    finally:
        r.unpersist()


def test_legal_entities_are_the_whole_portfolios(spark, rules):
    """A legal entity with one record in the month: its other customers are evaluated at zero
    in every partition, as in the whole portfolio; an entity without any record holds its
    customers (field legal_entity) in both paths."""
    ids = [f"62{i:08d}" for i in range(40)]
    entities = ["620101" if i % 2 else "620102" for i in range(40)]
    jan = pa.table({"customer_id": ids, "legal_entity": entities, "aum": ["250000"] * 40})
    p = ct.Portfolio(rules)
    p.evaluate_month("2024-01", jan)
    text = p.to_states_text()
    feb = pa.table({"customer_id": [ids[1]], "legal_entity": ["620101"], "aum": ["600000"]})
    want, _ = single(rules, feb, "2024-02", text=text)
    assert sorted(set(want["errors"].column("field").to_pylist())) == ["legal_entity"]
    assert want["errors"].num_rows == 20 and want["states"].num_rows == 20
    stored = cts.states_dataframe(spark, text, rules)
    r = cts.evaluate_month(rules, cts._create(spark, feb), month="2024-02", states=stored, partitions=4)
    try:
        got = r.to_arrow()
        # The held customers' errors, messages included, are the whole portfolio's: no count of
        # a partition's share in them.
        assert_same(got, want)
        assert all("legal entity `620102`" in m for m in got["errors"].column("message").to_pylist())
    finally:
        r.unpersist()


@pytest.mark.parametrize("jan, feb", [("2024-01", "2024-02"), ("202401", "202402")])
def test_legal_entities_are_the_whole_portfolios_month_by_month_in_a_range(spark, rules, jan, feb):
    """A replay of two months: in February, one customer of 620101 has a record and none of
    620102 has; every partition evaluates 620101's others at zero and holds 620102's, as the
    whole portfolio does (the driver declares each month's entities with records to the tasks:
    option covered_entities), though most partitions have no 620101 record in February. The
    months are written either way the core reads them (SPEC §16): the driver reads them with
    the core."""
    ids = [f"62{i:08d}" for i in range(40)]
    entities = ["620101" if i % 2 else "620102" for i in range(40)]
    history = pa.table({
        "month": [jan] * 40 + [feb],
        "customer_id": ids + [ids[1]],
        "legal_entity": entities + ["620101"],
        "aum": ["250000"] * 40 + ["600000"],
    })
    want, _ = single(rules, history, "2024-01..2024-02")
    import pyarrow.compute as pc

    feb = want["states"].filter(pc.equal(want["states"].column("month"), datetime.date(2024, 2, 1)))
    assert feb.num_rows == 20 and not any(feb.column("has_record").to_pylist()[1:])
    assert want["errors"].num_rows == 20
    r = cts.replay(rules, cts._create(spark, history), months="2024-01..2024-02", partitions=4)
    try:
        assert_same(r.to_arrow(), want)
    finally:
        r.unpersist()


def test_evaluate_to_parquet_writes_what_the_spark_result_holds(spark, rules, history, designations, tmp_path):
    """The tasks' own Parquet files hold, output by output, the single-process path's tables:
    read back by Spark itself, in Spark's types; every partition's file is committed once."""
    want, _ = single(rules, history, "2024-01..2024-06", designations, explain=True)
    df = cts._create(spark, history)
    des = cts._create(spark, designations)
    out = tmp_path / "out"
    rows = cts.evaluate_to_parquet(
        rules, df, str(out), months="2024-01..2024-06", designations=des, explain=True, partitions=5
    )
    assert rows == {name: want[name].num_rows for name in cts.OUTPUTS}
    assert not (out / "_temporary").exists()
    for name in cts.OUTPUTS:
        files = sorted(p.name for p in (out / name).iterdir())
        assert "_SUCCESS" in files and len([f for f in files if f.endswith(".parquet")]) <= 5, files
        back = cts._sorted(name, cts.to_arrow(spark.read.parquet(str(out / name))))
        assert back.schema == want[name].schema, (name, back.schema, want[name].schema)
        assert back.equals(want[name]), name
    assert spark.read.parquet(str(out / "states")).schema["month"].dataType.simpleString() == "date"


def test_evaluate_to_parquet_writes_nothing_when_errors_stop_the_run(spark, rules, history, tmp_path):
    bad = pa.concat_tables(
        [history, pa.table({"customer_id": pa.array([None], pa.string()), "month": ["2024-03"], "legal_entity": [""], "aum": ["2"]})]
    )
    with pytest.raises(ct.InputError) as single_info:
        ct.Portfolio(rules).evaluate_month("2024-01..2024-06", bad)
    out = tmp_path / "out"
    with pytest.raises(ct.InputError) as spark_info:
        cts.evaluate_to_parquet(rules, cts._create(spark, bad), str(out), months="2024-01..2024-06", partitions=3)
    assert str(spark_info.value) == str(single_info.value)
    assert not out.exists() or sorted(p.name for p in out.iterdir()) == []
    # an existing output is refused under mode="error" before anything runs
    (out / "states").mkdir(parents=True)
    with pytest.raises(FileExistsError):
        cts.evaluate_to_parquet(rules, cts._create(spark, history), str(out), months="2024-01..2024-06", mode="error")


def test_a_measure_column_reaches_the_tasks(spark):
    """The 光大 gallery book: a ``loan_balance`` column (SPEC §19.1) is carried to the tasks and
    read by the core there, so Spark tiers by loans as the single process does."""
    from conftest import VECTORS

    book = ct.load_rules(str(VECTORS.parent / "gallery" / "cebbank-private.toml"))
    t = pa.table(
        {
            "month": ["2024-03"] * 4,
            "customer_id": ["m1", "m2", "m3", "m4"],
            "aum": [Decimal("1000000"), Decimal("1000000"), Decimal("7000000"), Decimal("250000")],
            "loan_balance": [Decimal("6500000"), None, Decimal("0"), Decimal("6000000")],
        }
    )
    want, _ = single(book, t, "2024-03")
    tiers = dict(zip(want["states"].column("customer_id").to_pylist(), want["states"].column("tier").to_pylist()))
    assert tiers == {"m1": "private", "m2": "platinum", "m3": "private", "m4": "private"}
    assert want["events"].column("measure").to_pylist()[0] == "loan_balance"
    r = cts.replay(book, cts._create(spark, t), months="2024-03", partitions=2)
    try:
        assert_same(r.to_arrow(), want)
    finally:
        r.unpersist()
