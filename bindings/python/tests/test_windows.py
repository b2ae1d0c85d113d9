"""Windows over a customer's history (SPEC §19.2, §19.5) through the Python binding: the state
carries the months the book's windows read (``CustomerState.history``, its JSON and pickle),
the evidence names the window, and a portfolio carried month to month through its states text
gives what one run gives."""

import decimal
import json
import pickle

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import crm_tiering as ct
from conftest import VECTORS

BOOK = (VECTORS.parent / "gallery" / "citic-private.toml").read_text(encoding="utf-8")
D = decimal.Decimal


def engine():
    return ct.Engine(ct.RuleBook.from_str(BOOK))


def chain(e, months):
    state, outs = ct.CustomerState(), []
    for month, aum in months:
        out = e.evaluate("c1", month, {"aum": aum}, state=state)
        outs.append(out)
        state = out.state
    return state, outs


def test_the_previous_quarter_decides_and_the_state_carries_it():
    state, outs = chain(engine(), [("2024-01", "5800000"), ("2024-02", "6200000"), ("2024-03", "6100000"), ("2024-04", "2000000")])
    assert [o.state.tier for o in outs] == ["diamond", "diamond", "diamond", "private"]
    (up,) = outs[-1].events
    assert (up.kind, up.measure, up.measure_window) == ("upgraded", "aum", "prev_quarter")
    assert up.measure_value == D("6029670.33")
    assert outs[0].events[0].measure_window is None
    assert state.history == {"aum": [D("2000000.00"), D("6100000.00"), D("6200000.00"), D("5800000.00")]}
    # The JSON and the pickle keep the history; to_dict is the state alone, as in the vectors.
    assert ct.CustomerState.from_json(state.to_json()) == state
    assert pickle.loads(pickle.dumps(state)) == state
    assert "history" not in state.to_dict()
    assert outs[-1].to_dict()["history"] == {"aum": ["2000000.00", "6100000.00", "6200000.00", "5800000.00"]}


def test_a_state_without_its_history_is_not_the_same_state():
    """``to_dict`` is the state alone (the vectors' form); ``to_json`` is what a caller keeps
    between months: a state rebuilt from the dict has lost the months its windows read."""
    state, _ = chain(engine(), [("2024-01", "5800000"), ("2024-02", "6200000")])
    bare = ct.CustomerState.from_dict(state.to_dict())
    assert bare != state and bare.history == {}
    kept = ct.CustomerState.from_json(state.to_json())
    assert kept == state and kept.history == state.history
    # A damaged history is refused, naming it.
    with pytest.raises(ct.StateError, match="history"):
        ct.CustomerState.from_json(state.to_json().replace('"aum":["', '"aum":["x'))


def test_a_portfolio_carried_through_its_states_text_gives_one_runs_result():
    months = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
    aums = {"p1": ["5800000", "6200000", "6100000", "2000000", "2000000"], "p2": ["900000", "7000000", "7000000", "7000000", "1"]}

    def table(k):
        return pa.table({"customer_id": list(aums), "aum": [D(a[k]) for a in aums.values()]})

    whole = ct.Portfolio(BOOK)
    carried = ct.Portfolio(BOOK)
    for k, month in enumerate(months):
        whole.evaluate_month(month, table(k))
        carried.evaluate_month(month, table(k))
        carried = ct.Portfolio.from_states_text(BOOK, carried.to_states_text())
    assert carried.to_states_text() == whole.to_states_text()
    assert whole.state("p1").tier == "private"
    assert whole.state("p1").history["aum"][0] == D("2000000.00")


def test_the_entry_threshold_is_none_when_the_lowest_tier_reads_a_window():
    star = (VECTORS.parent / "gallery" / "icbc-star.toml").read_text(encoding="utf-8")
    assert ct.RuleBook.from_str(star).settings()["entry_threshold"] is None
    assert ct.RuleBook.from_str(BOOK).settings()["entry_threshold"] == D("200000.00")


def _member(state):
    """The ``history`` member of a state's JSON, as the text it has there (``None`` when the
    state keeps none)."""
    member = json.loads(state.to_json()).get("history")
    return None if member is None else json.dumps(member, separators=(",", ":"))


def test_the_states_tables_carry_each_history_as_the_state_json_has_it(tmp_path):
    """The states table's last column, ``history`` (SPEC §15.10), is each row's history as the
    state's JSON carries it: in a run's result over several months, and in a store's states and
    one customer's history, cell for cell."""
    months = ["2024-01", "2024-02", "2024-03", "2024-04"]
    aums = {"p1": ["5800000", "6200000", "6100000", "2000000"], "p2": ["900000", "7000000", "7000000", "1"]}
    rows = [(m, c, D(a[k])) for k, m in enumerate(months) for c, a in aums.items()]
    history = pa.table({"month": [r[0] for r in rows], "customer_id": [r[1] for r in rows], "aum": [r[2] for r in rows]})
    # Month by month: each month's states, as the state JSON holds them.
    expected, stepwise = {}, ct.Portfolio(BOOK)
    for k, m in enumerate(months):
        stepwise.evaluate_month(m, pa.table({"customer_id": list(aums), "aum": [D(a[k]) for a in aums.values()]}))
        for c in aums:
            expected[(m, c)] = _member(stepwise.state(c))
    assert expected[("2024-01", "p1")] is not None and expected[("2024-04", "p1")].startswith('{"aum":["2000000.00"')

    def cells(table):
        return {(r["month"].strftime("%Y-%m"), r["customer_id"]): r["history"] for r in table.to_pylist()}

    # One run over the four months: each month's rows have that month's histories.
    result = ct.Portfolio(BOOK).evaluate_history(history)
    assert result.states.schema.field("history").type == pa.string()
    assert result.states.schema.names[-1] == "history"
    assert cells(result.states) == expected
    # The store: its states tables and one customer's history.
    store = ct.Store.create(tmp_path / "w.db")
    book = ct.RuleBook.from_str(BOOK)
    for k, m in enumerate(months):
        done = store.commit_month(book, m, history.filter(pc.equal(history["month"], m)).drop(["month"]))
        assert cells(done.result.states) == {key: v for key, v in expected.items() if key[0] == m}
    assert cells(store.states(("2024-01", "2024-04"))) == expected
    assert cells(store.history("p2").states) == {key: v for key, v in expected.items() if key[1] == "p2"}
    # The cell reads back as the history: CustomerState.history's months.
    p1 = json.loads(cells(store.states("2024-04"))[("2024-04", "p1")])
    assert [D(v) if v else None for v in p1["aum"]] == stepwise.state("p1").history["aum"]
    store.close()


def test_a_book_without_windows_has_null_history_cells():
    book = (VECTORS.parent / "default-rules.toml").read_text(encoding="utf-8")
    result = ct.Portfolio(book).evaluate_month("2024-01", pa.table({"customer_id": ["a"], "aum": [D("600000")]}))
    assert result.states.schema.names[-1] == "history"
    assert result.states.column("history").null_count == 1
