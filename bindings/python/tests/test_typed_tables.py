"""The core's one reader of typed tables and its type policy (SPEC 15, "Reading typed tables"),
as Python meets it; the portfolio options through the core's one parser; the empty month."""

import datetime
import os
from decimal import Decimal

import pytest

import crm_tiering as ct

pa = pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def rules():
    return ct.load_rules()


def _ids(n):
    return pa.array([f"c{i}" for i in range(n)], pa.string())


# --- type policy -------------------------------------------------------------------------------


def test_pandas_period_months_are_read_as_months(rules):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"customer_id": ["a", "b"], "month": pd.period_range("2024-01", periods=2, freq="M"),
                       "aum": ["250000", "600000"]})
    p = ct.Portfolio(rules)
    r = p.evaluate_month("2024-01..2024-02", df)
    # a in January, b in February: each record dated by its period.
    assert [(s["customer_id"], f"{s['month']:%Y-%m}") for s in r.states.to_pylist() if s["has_record"]] == [
        ("a", "2024-01"), ("b", "2024-02")]
    assert p.state("a").tier == "gold" and p.state("b").tier == "platinum"
    daily = pd.DataFrame({"customer_id": ["a"], "month": pd.period_range("2024-01-01", periods=1, freq="D"),
                          "aum": ["1"]})
    with pytest.raises(TypeError, match="frequency `D`"):
        ct.Portfolio(rules).evaluate_month("2024-01", daily)


def test_a_month_column_without_a_month_stops_the_run(rules):
    # `2024/01` everywhere (or a period's ordinal as a bare int64): not bad rows but a column of
    # something else: the whole run is refused naming the table and the column.
    for cells in (["2024/01", "2024/01"], pa.array([648, 648], pa.int64())):
        t = pa.table({"customer_id": ["a", "b"], "月份": cells, "aum": ["250000", "250000"]})
        p = ct.Portfolio(rules)
        with pytest.raises(ct.InputError) as info:
            p.evaluate_month("2024-01", t, table_name="jan")
        e = info.value
        assert (e.field, e.record, e.customer) == ("月份", ("jan", 0), None)
        assert "column `月份` of table `jan` holds no month" in str(e)
        assert len(p) == 0
    # One good cell: only the bad rows' customers are held.
    t = pa.table({"customer_id": ["a", "b"], "month": ["2024-01", "2024/01"], "aum": ["250000", "250000"]})
    r = ct.Portfolio(rules).evaluate_month("2024-01", t)
    assert [(e["customer_id"], e["field"], e["record_row"]) for e in r.errors.to_pylist()] == [("b", "month", 1)]


def test_categorical_floats_are_refused_like_any_float(rules):
    pd = pytest.importorskip("pandas")
    cat = pd.DataFrame({"customer_id": ["a", "b"], "aum": pd.Categorical([250000.0, 250000.0])})
    with pytest.raises(TypeError, match="column `aum` is written as binary floating-point numbers"):
        ct.Portfolio(rules).evaluate_month("2024-01", cat)
    floats = pa.array([250000.0, 1.5], pa.float64()).dictionary_encode()
    assert pa.types.is_dictionary(floats.type)
    with pytest.raises(TypeError, match="table `aum`: column `aum`.*decimal128 or strings"):
        ct.Portfolio(rules).evaluate_month("2024-01", pa.table({"customer_id": ["a", "b"], "aum": floats}))
    # A dictionary of strings (a categorical of text) reads as its values.
    text = pa.array(["250000", "600000"]).dictionary_encode()
    p = ct.Portfolio(rules)
    p.evaluate_month("2024-01", pa.table({"customer_id": pa.array(["a", "b"]).dictionary_encode(), "aum": text}))
    assert (p.state("a").tier, p.state("b").tier) == ("gold", "platinum")


def test_integer_ids_are_refused_naming_the_column(rules):
    t = pa.table({"customer_id": pa.array([1234, 5678], pa.int64()), "aum": ["250000", "1"]})
    with pytest.raises(TypeError, match=r"column `customer_id` holds integers \(int64\).*leading zeros"):
        ct.Portfolio(rules).evaluate_month("2024-01", t)


def test_negative_scale_decimals_and_zone_less_timestamps(rules):
    # decimal128(5, -3): 250 means 250000; a naive timestamp's month is its calendar date's.
    amounts = pa.array([Decimal("250E3"), Decimal("6E5")], pa.decimal128(5, -3))
    stamps = pa.array([datetime.datetime(2024, 1, 31, 23, 59), datetime.datetime(2024, 1, 1)], pa.timestamp("ns"))
    p = ct.Portfolio(rules)
    r = p.evaluate_month("2024-01", pa.table({"customer_id": ["a", "b"], "month": stamps, "aum": amounts}))
    assert [s["aum"] for s in r.states.to_pylist()] == [Decimal("250000.00"), Decimal("600000.00")]
    assert r.errors.num_rows == 0 and (p.state("a").tier, p.state("b").tier) == ("gold", "platinum")


def test_amount_spelling_is_the_cores(rules):
    # No trimming or plus sign in a typed table's strings either (SPEC 16): the customer is held.
    t = pa.table({"customer_id": ["a", "b", "c", "d"], "aum": [" 250000", "+250000", "250000", "250000"],
                  "customer_kind": ["personal", "", "Personal", None]})
    r = ct.Portfolio(rules).evaluate_month("2024-01", t)
    assert [(e["customer_id"], e["field"]) for e in r.errors.to_pylist()] == [
        ("a", "aum"), ("b", "aum"), ("c", "customer_kind")]
    assert [s["customer_id"] for s in r.states.to_pylist()] == ["d"]


# --- options -----------------------------------------------------------------------------------


def _stored(rules):
    p = ct.Portfolio(rules)
    p.evaluate_month("2024-01", pa.table({"customer_id": ["a", "b"], "legal_entity": ["620101", "620102"],
                                          "aum": ["250000", "250000"]}))
    return p


def test_options_go_to_the_cores_parser(rules):
    with pytest.raises(ct.InputError) as info:
        ct.Portfolio(rules).evaluate_month("2024-01", pa.table({"customer_id": ["a"], "aum": ["1"]}), absnet="hold")
    assert info.value.field == "absnet"
    assert str(info.value).startswith("option `absnet`: unknown option: expected one of absent, rule_book_change")
    with pytest.raises(ct.InputError, match="option `threads`: `0` is not a number of threads"):
        ct.Portfolio(rules, threads=0)
    with pytest.raises(TypeError, match="option `catch_up`"):
        ct.Portfolio(rules).evaluate_month("2024-01", pa.table({"customer_id": ["a"], "aum": ["1"]}), catch_up=1.0)
    # A list is joined with commas: entity 620102 has no record in February, declared empty, so
    # its customer follows the absent policy (zero) instead of being held as a missing file.
    feb = pa.table({"customer_id": ["a"], "legal_entity": ["620101"], "aum": ["250000"]})
    held = _stored(rules).evaluate_month("2024-02", feb)
    assert [(e["customer_id"], e["field"]) for e in held.errors.to_pylist()] == [("b", "legal_entity")]
    r = _stored(rules).evaluate_month("2024-02", feb, empty_entities=["620102"])
    assert r.errors.num_rows == 0 and [s["has_record"] for s in r.states.to_pylist()] == [True, False]
    # The constructor's options are every run's; a run's own override them.
    p = ct.Portfolio(rules, absent="hold", threads=2)
    p.evaluate_month("2024-01", pa.table({"customer_id": ["a", "b"], "aum": ["250000", "250000"]}))
    r = p.evaluate_month("2024-02", pa.table({"customer_id": ["a"], "aum": ["250000"]}))
    assert [a["kind"] for a in r.alerts.to_pylist()] == ["held_back"] and p.state("b").last_month == "2024-01"
    # absent=None leaves the portfolio's own option: b is held again (it misses February).
    r = p.evaluate_month("2024-03", pa.table({"customer_id": ["a"], "aum": ["250000"]}), absent=None)
    assert [(e["customer_id"], e["category"]) for e in r.errors.to_pylist()] == [("b", "sequence")]


def test_empty_month_is_refused_unless_declared(rules):
    p = _stored(rules)
    before = p.to_states_text()
    for table in (None, pa.table({"customer_id": pa.array([], pa.string()), "aum": pa.array([], pa.string())})):
        with pytest.raises(ct.InputError) as info:
            p.evaluate_month("2024-02", table)
        assert (info.value.field, info.value.month) == ("month", "2024-02")
        assert "the extract has no AUM record for 2024-02" in str(info.value)
        assert p.to_states_text() == before
    r = p.evaluate_month("2024-02", None, allow_empty_month=True, absent="hold")
    assert [a["kind"] for a in r.alerts.to_pylist()] == ["held_back", "held_back"]


def test_simulate_and_replay_take_options(rules):
    history = pa.table({"customer_id": ["a", "a"], "month": ["2024-01", "2024-03"], "aum": ["250000", "250000"]})
    with pytest.raises(ct.InputError, match="no AUM record for 2024-02"):
        ct.replay_portfolio(rules, history)
    r = ct.replay_portfolio(rules, history, allow_empty_month=True, absent="hold")
    assert [f"{s['month']:%Y-%m}" for s in r.states.to_pylist()] == ["2024-01"]
    with pytest.raises(ct.InputError, match="option `absnet`"):
        ct.simulate(rules, rules, history, absnet="zero")


# --- files -------------------------------------------------------------------------------------


def test_a_missing_parquet_directory_or_file_is_named(rules, tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        ct.read_parquet(missing)
    r = ct.Portfolio(rules).evaluate_month("2024-01", pa.table({"customer_id": ["a"], "aum": ["250000"]}))
    r.write_parquet(tmp_path / "out")
    back = ct.read_parquet(tmp_path / "out")
    assert back.states.num_rows == 1
    os.remove(tmp_path / "out" / "alerts.parquet")
    with pytest.raises(FileNotFoundError, match="alerts.parquet"):
        ct.read_parquet(tmp_path / "out")
