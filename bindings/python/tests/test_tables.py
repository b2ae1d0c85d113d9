"""Portfolio tables through the Arrow PyCapsule interface: pyarrow, pandas and polars."""

import datetime
import pathlib
import random
from decimal import Decimal

import pytest

import crm_tiering as ct

pa = pytest.importorskip("pyarrow")

MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07", "2024-08"]


def make_history(n=300, seed=7):
    """A long history with entries, watches, downgrades, exits and re-entries."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        level = rnd.choice([50_000, 190_000, 250_000, 480_000, 900_000, 1_100_000, 3_500_000])
        for m in MONTHS:
            level = max(0, int(level * rnd.choice([0.5, 0.8, 0.95, 1.0, 1.05, 1.3, 2.0])))
            rows.append({"customer_id": f"c{i:05d}", "month": m, "aum": Decimal(level) + Decimal("0.37")})
    return rows


def as_table(rows, aum_type=pa.decimal128(20, 2)):
    return pa.table(
        {
            "customer_id": [r["customer_id"] for r in rows],
            "month": [r["month"] for r in rows],
            "aum": pa.array([r["aum"] for r in rows], aum_type),
        }
    )


def month_table(rows, month):
    sel = [r for r in rows if r["month"] == month]
    return pa.table(
        {"customer_id": [r["customer_id"] for r in sel], "aum": pa.array([r["aum"] for r in sel], pa.decimal128(20, 2))}
    )


@pytest.fixture(scope="module")
def rules():
    return ct.load_rules()


@pytest.fixture(scope="module")
def history():
    return make_history()


def test_portfolio_matches_customer_by_customer(rules, history):
    """The table path gives exactly the states and events of one-by-one evaluation."""
    p = ct.Portfolio(rules)
    engine = ct.Engine(rules)
    states = {}
    for m in MONTHS:
        r = p.evaluate_month(m, month_table(history, m), explain=True)
        assert r.errors.num_rows == 0
        got_states = {row["customer_id"]: row for row in r.states.to_pylist()}
        got_events = {}
        for e in r.events.to_pylist():
            got_events.setdefault(e["customer_id"], []).append(e)
        for row in (x for x in history if x["month"] == m):
            cid = row["customer_id"]
            out = engine.evaluate(cid, m, row["aum"], state=states.get(cid))
            states[cid] = out.state
            g = got_states[cid]
            assert (g["status"], g["tier"], g["effective_tier"]) == (
                out.state.status,
                out.state.tier,
                out.state.effective_tier,
            )
            assert g["aum"] == out.aum and isinstance(g["aum"], Decimal)
            assert (g["watch_short_months"] or 0) == out.state.watch_months
            assert [(e["kind"], e["from_tier"], e["to_tier"], e["reason"], e["explanation"]) for e in got_events.get(cid, [])] == [
                (e.kind, e.from_tier, e.to_tier, e.reason, e.explain()) for e in out.events
            ]
            assert p.state(cid) == out.state
    kinds = set(pa.table(r.events).column("kind").to_pylist())
    assert kinds, "the synthetic history should produce events"


def test_history_replay_equals_month_by_month(rules, history):
    whole = ct.replay_portfolio(rules, as_table(history))
    p = ct.Portfolio(rules)
    parts = [p.evaluate_month(m, month_table(history, m)) for m in MONTHS]
    assert whole.states.num_rows == len(history)
    assert whole.states.equals(pa.concat_tables([x.states for x in parts]))
    assert whole.events.equals(pa.concat_tables([x.events for x in parts]))
    assert whole.alerts.equals(pa.concat_tables([x.alerts for x in parts]))


def test_string_amounts_and_large_strings(rules, history):
    a = ct.replay_portfolio(rules, as_table(history))
    t = as_table(history).set_column(2, "aum", pa.array([str(r["aum"]) for r in history], pa.large_string()))
    b = ct.replay_portfolio(rules, t)
    assert a.states.equals(b.states) and a.events.equals(b.events)


def test_float_column_is_a_type_error(rules):
    t = pa.table({"customer_id": ["a"], "aum": pa.array([250000.0], pa.float64())})
    with pytest.raises(TypeError, match="decimal128 or strings"):
        ct.Portfolio(rules).evaluate_month("2024-01", t)


def test_integer_amounts_only_as_fen(rules):
    # An integer column is never read as yuan or fen by guess: `aum_fen` holds fen (分).
    bare = pa.table({"customer_id": ["a"], "aum": pa.array([250000], pa.int64())})
    with pytest.raises(TypeError, match="aum_fen"):
        ct.Portfolio(rules).evaluate_month("2024-01", bare)
    fen = pa.table({"customer_id": ["a", "b"], "aum_fen": pa.array([25_000_000, 19_999_999], pa.int64())})
    p = ct.Portfolio(rules)
    p.evaluate_month("2024-01", fen)
    assert p.state("a").tier == "gold"
    assert p.state("b").tier is None
    text = pa.table({"customer_id": ["a"], "aum": ["250000.00"]})
    q = ct.Portfolio(rules)
    q.evaluate_month("2024-01", text)
    assert q.state("a").to_json() == p.state("a").to_json()


def test_missing_column_is_an_input_error(rules):
    t = pa.table({"id": ["a"], "aum": ["1"]})
    with pytest.raises(ct.InputError, match="customer_id"):
        ct.Portfolio(rules).evaluate_month("2024-01", t)


def test_bad_rows_hold_their_customer_back(rules):
    """A bad amount or a second row of a customer holds the customer back: no states row, one
    errors row naming the record(s) (table, 0-based row); nothing is dropped silently."""
    t = pa.table({"customer_id": ["a", "b", "c", "a"], "aum": ["250000", None, "12x", "300000"]})
    p = ct.Portfolio(rules)
    r = p.evaluate_month("2024-01", t)
    assert r.states.num_rows == 0
    errors = r.errors.to_pylist()
    assert [(e["customer_id"], e["category"], e["field"], e["record_row"], e["other_record_row"]) for e in errors] == [
        ("b", "input", "aum", 1, None),
        ("c", "input", "aum", 2, None),
        ("a", "input", "customer_id", 3, 0),
    ]
    assert all(e["record_table"] == "aum" and e["reported_in"] == datetime.date(2024, 1, 1) for e in errors)
    assert len(p) == 0 and p.state("a") is None


def test_out_of_month_row_holds_only_its_customer(rules):
    """A stray April row in a March extract never evaluates April: its customer is held back."""
    p = ct.Portfolio(rules)
    t = pa.table({"month": ["2024-03", "2024-04"], "customer_id": ["a", "b"], "aum": ["250000", "900000"]})
    r = p.evaluate_month("2024-03", t)
    assert r.states.column("customer_id").to_pylist() == ["a"]
    (e,) = r.errors.to_pylist()
    assert (e["customer_id"], e["field"], e["month"], e["record_row"]) == ("b", "month", datetime.date(2024, 4, 1), 1)
    assert p.state("a").last_month == "2024-03" and p.state("b") is None


def test_unidentifiable_record_stops_the_run(rules):
    p = ct.Portfolio(rules)
    p.evaluate_month("2024-01", pa.table({"customer_id": ["a"], "aum": ["250000"]}))
    before = p.to_states_text()
    t = pa.table({"customer_id": ["a", " b", None], "aum": ["250000", "1", "2"]})
    with pytest.raises(ct.InputError) as info:
        p.evaluate_month("2024-02", t)
    assert [(x.field, x.record) for x in info.value.errors] == [("customer_id", ("aum", 1)), ("customer_id", ("aum", 2))]
    assert p.to_states_text() == before


def test_absent_customers_follow_one_policy(rules):
    jan = pa.table({"customer_id": ["a", "b"], "aum": ["250000", "250000"]})
    feb = pa.table({"customer_id": ["a"], "aum": ["250000"]})
    zero = ct.Portfolio(rules)
    zero.evaluate_month("2024-01", jan)
    r = zero.evaluate_month("2024-02", feb)
    rows = {x["customer_id"]: x for x in r.states.to_pylist()}
    assert rows["b"]["has_record"] is False and rows["b"]["aum"] == Decimal("0.00")
    assert zero.state("b").last_month == "2024-02"
    hold = ct.Portfolio(rules, absent="hold")
    hold.evaluate_month("2024-01", jan)
    r = hold.evaluate_month("2024-02", feb)
    assert r.states.column("customer_id").to_pylist() == ["a"] and hold.state("b").last_month == "2024-01"
    error = ct.Portfolio(rules, absent="error")
    error.evaluate_month("2024-01", jan)
    r = error.evaluate_month("2024-02", feb)
    assert [(e["customer_id"], e["field"]) for e in r.errors.to_pylist()] == [("b", "aum")]


def test_states_text_round_trip_and_checks(rules):
    p = ct.Portfolio(rules)
    p.evaluate_month("2024-01", pa.table({"customer_id": ["a", "b"], "aum": ["250000", "600000"], "legal_entity": ["3301", ""]}))
    text = p.to_states_text()
    assert p.states_rule_book == rules.fingerprint
    q = ct.Portfolio.from_states_text(rules, text)
    assert q.customer_ids() == ["a", "b"] and q.state("b") == p.state("b")
    # Reordered extract: matched by id, not position.
    t = pa.table({"customer_id": ["b", "a"], "aum": ["600000", "250000"]})
    assert q.evaluate_month("2024-02", t).states.to_pylist() == p.evaluate_month("2024-02", t).states.to_pylist()
    # Cut at a line end, or anywhere: refused, naming the line.
    cut = "".join(text.splitlines(keepends=True)[:-1])
    with pytest.raises(ct.StateError) as info:
        ct.Portfolio.from_states_text(rules, cut)
    assert info.value.record is not None and info.value.record[0] == "states"
    with pytest.raises(ct.StateError):
        ct.Portfolio.from_states_text(rules, text[:-5])
    # Another rule book: refused unless accepted.
    d = rules.to_dict()
    d["rule_sets"][0]["versions"][0]["tiers"][0]["min_aum"] = "300000"
    other = ct.load_rules(d)
    with pytest.raises(ct.StateError) as info:
        ct.Portfolio.from_states_text(other, text)
    assert info.value.field == "rule_book"
    r = ct.Portfolio.from_states_text(other, text, accept_rule_change=True).evaluate_month(
        "2024-02", pa.table({"customer_id": ["a"], "aum": ["250000"]})
    )
    assert r.errors.num_rows == 0


def test_text_cells_tables(rules):
    """A (header, rows) pair of text cells, as csv.reader gives it, reads like the CLI's CSV."""
    header = ["月份", "客户号", "定期存款", "理财产品"]
    rows = [["2024-01", "a", "150000", "100000"], ["2024-01", "b", "1"]]
    r = ct.Portfolio(rules).evaluate_month("2024-01", (header, rows))
    assert r.states.to_pylist()[0]["tier"] == "gold"
    (e,) = r.errors.to_pylist()
    assert (e["customer_id"], e["field"], e["record_row"]) == ("b", "record", 1)
    with pytest.raises(TypeError):
        ct.Portfolio(rules).evaluate_month("2024-01", (["customer_id", "aum"], [["a", 250000.0]]))


def test_component_columns(rules):
    t = pa.table({"customer_id": ["a"], "time_deposit": pa.array([Decimal("150000")], pa.decimal128(20, 2)), "wealth_product": ["60000"]})
    r = ct.Portfolio(rules).evaluate_month("2024-01", t)
    assert r.states.to_pylist()[0]["aum"] == Decimal("210000.00")
    with pytest.raises(ct.InputError) as info:
        ct.Portfolio(rules).evaluate_month("2024-01", t.append_column("定期存款", pa.array(["1"])))
    assert info.value.field == "定期存款"
    with pytest.raises(ct.InputError) as info:
        ct.Portfolio(rules).evaluate_month("2024-01", t.append_column("aum", pa.array(["1"])))
    assert info.value.field == "aum"


def test_month_ranges(rules, history):
    whole = ct.Portfolio(rules).evaluate_month("2024-01..2024-03", as_table([h for h in history if h["month"] <= "2024-03"]))
    p = ct.Portfolio(rules)
    parts = [p.evaluate_month(m, month_table(history, m)) for m in MONTHS[:3]]
    assert whole.states.to_pylist() == [r for x in parts for r in x.states.to_pylist()]
    with pytest.raises(ct.InputError):
        ct.Portfolio(rules).evaluate_month("2024-03..2024-01", as_table(history))
    with pytest.raises(ct.InputError):
        ct.Portfolio(rules).evaluate_month("9999-12", pa.table({"customer_id": ["a"], "aum": ["1"]}))


def test_timezone_aware_month_column_is_a_type_error(rules):
    import datetime

    ts = pa.array([datetime.datetime(2024, 1, 31, 20, tzinfo=datetime.timezone.utc)], pa.timestamp("s", tz="UTC"))
    t = pa.table({"customer_id": ["a"], "month": ts, "aum": ["250000"]})
    with pytest.raises(TypeError, match="timezone-aware"):
        ct.Portfolio(rules).evaluate_month("2024-01", t)


def test_sequence_errors_per_customer(rules):
    # A month after a gap refuses the whole run (SPEC 15.1): one SequenceError naming the
    # months, the states unchanged; under treat_as_zero the gap is filled.
    p = ct.Portfolio(rules)
    p.evaluate_month("2024-01", pa.table({"customer_id": ["a", "b"], "aum": ["250000", "250000"]}))
    before = p.to_states_text()
    with pytest.raises(ct.SequenceError) as info:
        p.evaluate_month("2024-03", pa.table({"customer_id": ["a"], "aum": ["250000"]}))
    assert (info.value.field, info.value.month, info.value.last_month) == ("month", "2024-03", "2024-01")
    assert "2024-02 must be evaluated before 2024-03" in str(info.value)
    assert p.to_states_text() == before and p.state("a").last_month == "2024-01"
    zero = ct.Portfolio(rules, missing_months="treat_as_zero")
    zero.evaluate_month("2024-01", pa.table({"customer_id": ["a"], "aum": ["250000"]}))
    r = zero.evaluate_month("2024-03", pa.table({"customer_id": ["a"], "aum": ["250000"]}))
    assert r.errors.num_rows == 0 and zero.state("a").last_month == "2024-03"


def test_designations_table(rules):
    t = pa.table({"customer_id": ["a", "b"], "aum": ["10000", "10000"]})
    d = pa.table({"customer_id": ["a"], "month": ["2024-01"], "action": ["grant"], "tier": ["diamond"], "months": ["12"]})
    r = ct.Portfolio(rules).evaluate_month("2024-01", t, designations=d)
    s = {x["customer_id"]: x for x in r.states.to_pylist()}
    assert s["a"]["effective_tier"] == "diamond" and s["a"]["special_last_month"] == datetime.date(2025, 1, 1)
    assert s["b"]["effective_tier"] is None
    assert r.events.to_pylist()[0]["kind"] == "special_granted"
    # A designation dated another month holds its customer back, naming the record.
    late = pa.table({"customer_id": ["a"], "month": ["2024-02"], "action": ["grant"], "tier": [""], "months": [""]})
    r = ct.Portfolio(rules).evaluate_month("2024-01", t, designations=late)
    assert [(e["customer_id"], e["field"], e["record_table"]) for e in r.errors.to_pylist()] == [("a", "month", "designations")]


def test_pandas_in_and_out(rules, history):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(history)  # aum: Decimal objects
    r = ct.replay_portfolio(rules, df)
    expected = ct.replay_portfolio(rules, as_table(history))
    assert r.states.column("tier").equals(expected.states.column("tier"))
    out = r.states.to_pandas()
    assert isinstance(out["aum"].iloc[0], Decimal)
    assert out["aum"].map(type).eq(Decimal).all()
    dfs = pd.DataFrame({"customer_id": ["a"], "month": ["2024-01"], "aum": ["250000.10"]})
    assert ct.replay_portfolio(rules, dfs).states.to_pandas()["aum"].iloc[0] == Decimal("250000.10")
    with pytest.raises(TypeError):
        ct.replay_portfolio(rules, pd.DataFrame({"customer_id": ["a"], "month": ["2024-01"], "aum": [250000.1]}))


def test_polars_in_and_out(rules, history):
    pl = pytest.importorskip("polars")
    df = pl.DataFrame(
        {
            "customer_id": [r["customer_id"] for r in history],
            "month": [r["month"] for r in history],
            "aum": pl.Series([r["aum"] for r in history], dtype=pl.Decimal(20, 2)),
        }
    )
    r = ct.replay_portfolio(rules, df)
    expected = ct.replay_portfolio(rules, as_table(history))
    assert r.states.equals(expected.states) and r.events.equals(expected.events)
    out = pl.from_arrow(r.states)
    assert isinstance(out.schema["aum"], pl.Decimal)
    assert out["aum"][0] == history[0]["aum"]
    with pytest.raises(TypeError):
        ct.replay_portfolio(rules, df.with_columns(pl.col("aum").cast(pl.Float64)))


def test_dates_as_months(rules):
    import datetime

    t = pa.table(
        {
            "customer_id": ["a", "a"],
            "month": pa.array([datetime.date(2024, 1, 31), datetime.date(2024, 2, 29)], pa.date32()),
            "aum": ["250000", "600000"],
        }
    )
    r = ct.replay_portfolio(rules, t)
    assert r.states.column("month").to_pylist() == [datetime.date(2024, 1, 1), datetime.date(2024, 2, 1)]
    assert r.states.column("tier").to_pylist() == ["gold", "platinum"]


def test_simulate_sizes_a_threshold_change(rules, history):
    stricter = rules.with_tier_minimum("gold", "300000")
    sim = ct.simulate(rules, stricter, as_table(history))
    counts = sim.counts.to_pylist()
    # Every month counts every customer once under each book.
    for m in MONTHS:
        rows = [c for c in counts if f"{c['month']:%Y-%m}" == m]
        assert sum(c["count_a"] for c in rows) == 300 == sum(c["count_b"] for c in rows)
        assert all(c["delta"] == c["count_b"] - c["count_a"] for c in rows)
    # Counts agree with separate replays.
    a = ct.replay_portfolio(rules, as_table(history)).states.to_pylist()
    b = ct.replay_portfolio(stricter, as_table(history)).states.to_pylist()
    for m in (datetime.date(2024, k, 1) for k in range(1, 9)):
        gold_a = sum(1 for s in a if s["month"] == m and s["effective_tier"] == "gold")
        gold_b = sum(1 for s in b if s["month"] == m and s["effective_tier"] == "gold")
        row = next(c for c in counts if c["month"] == m and c["tier"] == "gold")
        assert (row["count_a"], row["count_b"]) == (gold_a, gold_b)
    changes = sim.changes.to_pylist()
    expected = sum(1 for x, y in zip(a, b) if x["effective_tier"] != y["effective_tier"])
    assert len(changes) == expected > 0
    assert all(c["tier_a"] != c["tier_b"] for c in changes)
    assert "customers land in a different tier" in sim.summary()


def test_works_without_pyarrow_objects(rules):
    """The native layer returns objects with the Arrow PyCapsule interface."""
    from crm_tiering import _native

    states, events, alerts, errors = _native.Portfolio(rules).evaluate_month(
        "2024-01", pa.table({"customer_id": ["a"], "aum": ["250000"]})
    )
    assert hasattr(states, "__arrow_c_stream__")
    assert pa.table(states).column("tier").to_pylist() == ["gold"]


def test_same_customers_with_a_bad_row_after_the_first_month(rules):
    """The fast path (same ids in the same order) falls back cleanly when a row is invalid."""
    p = ct.Portfolio(rules)
    p.evaluate_month("2024-01", pa.table({"customer_id": ["a", "b"], "aum": ["250000", "600000"]}))
    r = p.evaluate_month("2024-02", pa.table({"customer_id": ["a", "b"], "aum": [None, "1200000"]}))
    assert [(e["customer_id"], e["field"]) for e in r.errors.to_pylist()] == [("a", "aum")]
    assert p.state("a").last_month == "2024-01" and p.state("b").tier == "diamond"
    # The month again is refused as a whole; a catch-up run (an option given to the core's
    # parser) evaluates it for the held customer alone.
    with pytest.raises(ct.SequenceError):
        p.evaluate_month("2024-02", pa.table({"customer_id": ["a", "b"], "aum": ["250000", "1200000"]}))
    r = p.evaluate_month("2024-02", pa.table({"customer_id": ["a", "b"], "aum": ["250000", "1200000"]}), catch_up=True)
    assert r.errors.num_rows == 0 and [s["customer_id"] for s in r.states.to_pylist()] == ["a"]
    assert p.state("a").last_month == "2024-02" and p.state("a").tier == "gold"


def _month_tables(history, n_months=4):
    return [month_table(history, m) for m in MONTHS[:n_months]]


def test_fast_month_equals_general_path_and_threads(rules, history):
    """Months of the portfolio's own customers (decimal AUM: the fast path) give the same rows
    as string amounts (the general path), on one thread or several."""
    tables = _month_tables(history)
    fast1, fast3, general = ct.Portfolio(rules), ct.Portfolio(rules), ct.Portfolio(rules)
    for m, t in zip(MONTHS, tables):
        as_strings = t.set_column(1, "aum", pa.array([str(x) for x in t.column("aum").to_pylist()]))
        a = fast1.evaluate_month(m, t)
        b = fast3.evaluate_month(m, t, threads=3)
        c = general.evaluate_month(m, as_strings)
        for name in ("states", "events", "alerts", "errors"):
            rows = getattr(c, name).to_pylist()
            assert getattr(a, name).to_pylist() == rows, (m, name)
            assert getattr(b, name).to_pylist() == rows, (m, name)
    assert a.events.num_rows + a.alerts.num_rows > 0


def test_code_columns_are_dictionaries(rules, history):
    tables = _month_tables(history, 2)
    p = ct.Portfolio(rules)
    p.evaluate_month(MONTHS[0], tables[0])
    r = p.evaluate_month(MONTHS[1], tables[1])
    for col in ("status", "status_zh", "tier", "effective_tier", "special_tier"):
        assert pa.types.is_dictionary(r.states.schema.field(col).type), col
    assert r.states.schema.field("aum").type == pa.decimal128(38, 2)
    assert r.states.column("status").to_pylist() == [s.status for s in (p.state(c) for c in r.states.column("customer_id").to_pylist())]
    pd = pytest.importorskip("pandas")
    assert isinstance(r.states.to_pandas()["tier"].dtype, pd.CategoricalDtype)


def test_a_bad_amount_holds_only_its_customer(rules):
    p = ct.Portfolio(rules)
    ids = ["a", "b", "c"]
    p.evaluate_month("2024-01", pa.table({"customer_id": ids, "aum": pa.array([Decimal("250000")] * 3, pa.decimal128(20, 2))}))
    t = pa.table({"customer_id": ids, "aum": pa.array([Decimal("600000"), None, Decimal("1")], pa.decimal128(20, 2))})
    r = p.evaluate_month("2024-02", t, threads=2)
    assert r.states.column("customer_id").to_pylist() == ["a", "c"]
    (e,) = r.errors.to_pylist()
    assert (e["customer_id"], e["field"], e["record_row"]) == ("b", "aum", 1)
    assert r.states.column("aum").to_pylist() == [Decimal("600000.00"), Decimal("1.00")]
    assert p.state("b").last_month == "2024-01" and p.state("a").last_month == "2024-02"


def test_typed_and_text_amounts_give_the_same_rows(rules):
    """Special VIPs, a catch-up (a customer ahead of the month is left alone) and a watch: decimal128
    amounts (typed) and string amounts (the core's text reader) give the same tables."""
    ids = ["a", "b", "c", "d"]
    jan = pa.table({"customer_id": ids, "aum": ["250000", "600000", "1000", "3500000"]})
    grant = pa.table({"customer_id": ["c"], "month": ["2024-01"], "action": ["grant"], "tier": ["platinum"], "months": ["6"]})
    typed, text = ct.Portfolio(rules), ct.Portfolio(rules)
    for p in (typed, text):
        p.evaluate_month("2024-01", jan, designations=grant)
        p.evaluate_month("2024-02", pa.table({"customer_id": ["b"], "aum": ["100"]}), absent="hold")  # b is ahead
    amounts = [Decimal("180000"), Decimal("650000"), Decimal("5"), Decimal("90000")]
    feb = pa.table({"customer_id": list(ids), "aum": pa.array(amounts, pa.decimal128(20, 2))})
    # a, c and d were held in February: a catch-up run evaluates it for them, b is left alone.
    a = typed.evaluate_month("2024-02", feb, catch_up=True)
    b = text.evaluate_month("2024-02", feb.set_column(1, "aum", pa.array([str(x) for x in amounts])), catch_up=True)
    for name in ("states", "events", "alerts", "errors"):
        assert getattr(a, name).to_pylist() == getattr(b, name).to_pylist(), name
    rows = {r["customer_id"]: r for r in a.states.to_pylist()}
    assert rows["c"]["special_tier"] == "platinum" and rows["c"]["special_last_month"] is not None
    assert "b" not in rows and a.errors.num_rows == 0
    assert rows["a"]["aum"] == Decimal("180000.00") and rows["d"]["effective_tier"] == "private"
    assert rows["d"]["watch_short_months"] == 1  # below its tier in February: the watch starts


def test_states_tables_carry_legal_entity_and_customer_kind(tmp_path):
    """Per-法人机构 counts need no join: the states of a run and of a store carry each customer's
    legal entity and kind (the demo rule book tiers both kinds)."""
    rules = ct.load_rules(pathlib.Path(__file__).resolve().parents[3] / "rules-spec" / "demo-rules.toml")
    table = pa.table(
        {
            "customer_id": ["p1", "p2", "c1", "x1"],
            "legal_entity": ["620101", "620201", "620101", None],
            "customer_kind": ["personal", "personal", "corporate", "personal"],
            "aum": ["250000", "90000", "3000000", "600000"],
        }
    )
    r = ct.Portfolio(rules).evaluate_month("2024-01", table)
    rows = {s["customer_id"]: (s["legal_entity"], s["customer_kind"]) for s in r.states.to_pylist()}
    assert rows == {
        "p1": ("620101", "personal"),
        "p2": ("620201", "personal"),
        "c1": ("620101", "corporate"),
        "x1": (None, "personal"),
    }
    assert pa.types.is_dictionary(r.states.schema.field("legal_entity").type)
    store = ct.Store.create(tmp_path / "s.db")
    store.commit_month(rules, "2024-01", table)
    stored = {s["customer_id"]: (s["legal_entity"], s["customer_kind"]) for s in store.states().to_pylist()}
    assert stored == rows
    counts = r.states.group_by("legal_entity").aggregate([("customer_id", "count")]).to_pylist()
    assert {c["legal_entity"]: c["customer_id_count"] for c in counts} == {"620101": 2, "620201": 1, None: 1}
    store.close()
