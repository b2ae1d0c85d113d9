"""``Store.simulate`` (SPEC §15.9) sizes a rule change over the committed months as
``simulate`` over the tables they were committed from does, and checks its baseline against
the committed counts; ``Store.portfolio`` takes the portfolio options; rule edits are the
core's."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

import crm_tiering as ct
from crm_tiering.errors import InputError

MONTHS = ["2024-01", "2024-02", "2024-03"]


def month_table(m: str, i: int) -> pa.Table:
    ids = [f"c{k:04d}" for k in range(1, 201)]
    aum = [f"{150000 + (k * 7919 + i * 104729) % 120000}.{k % 100:02d}" for k in range(1, 201)]
    return pa.table({"month": [m] * len(ids), "customer_id": ids, "legal_entity": ["620101"] * len(ids), "aum": aum})


DESIGNATIONS = pa.table(
    {"customer_id": ["c0007", "c0009"], "month": ["2024-02", "2024-02"], "action": ["grant", "grant"],
     "tier": ["platinum", "gold"], "months": ["6", "12"]}
)
REVOKE = pa.table({"customer_id": ["c0009"], "month": ["2024-03"], "action": ["revoke"]})


@pytest.fixture
def committed(tmp_path):
    rules = ct.load_rules()
    store = ct.Store.create(tmp_path / "crm-tiering.db")
    for i, m in enumerate(MONTHS):
        designations = {"2024-02": DESIGNATIONS, "2024-03": REVOKE}.get(m)
        store.commit_month(rules, m, month_table(m, i + 1), designations=designations)
    yield rules, store
    store.close()


def test_simulating_from_the_store_gives_what_simulating_from_its_tables_gives(committed):
    rules, store = committed
    stricter = rules.with_tier_minimum("gold", "260000")
    from_store = store.simulate(stricter, "2024-01..2024-03")
    history = pa.concat_tables([month_table(m, i + 1) for i, m in enumerate(MONTHS)])
    designations = pa.concat_tables([DESIGNATIONS, REVOKE.append_column("tier", pa.array([None], pa.string()))
                                     .append_column("months", pa.array([None], pa.string()))])
    from_tables = ct.simulate(rules, stricter, history, designations=designations)
    assert from_store.counts.to_pylist() == from_tables.counts.to_pylist()
    assert from_store.changes.to_pylist() == from_tables.changes.to_pylist()
    assert from_store.changes.num_rows > 0
    # The baseline (the committing book, replayed) is what was committed.
    assert from_store.baseline.num_rows == 0
    assert from_store.baseline.column_names == ["month", "tier", "committed", "replayed"]
    assert from_tables.baseline is None


def test_a_baseline_that_is_not_what_was_committed_is_listed(committed):
    rules, store = committed
    stricter = rules.with_tier_minimum("gold", "260000")
    sim = store.simulate(stricter, ("2024-02", "2024-03"), rules_a=stricter, accept_rule_change=True)
    rows = sim.baseline.to_pylist()
    assert rows, sim.counts.to_pylist()
    for r in rows:
        assert r["month"] in (datetime.date(2024, 2, 1), datetime.date(2024, 3, 1))
        assert r["committed"] != r["replayed"]
    # States written under the store's book are refused for another A without the option.
    with pytest.raises(ct.errors.StateError):
        store.simulate(stricter, "2024-02..2024-03", rules_a=stricter)


def test_months_the_store_does_not_have_are_an_input_error(committed):
    rules, store = committed
    with pytest.raises(InputError, match=r"2 of 2024-03..2024-05 are not committed in the store \(2024-04, 2024-05\)"):
        store.simulate(rules, "2024-03..2024-05")


def test_store_portfolio_takes_the_portfolio_options(committed):
    rules, store = committed
    april = month_table("2024-04", 4).slice(0, 150)  # c0151.. have no record
    held = store.portfolio(rules, absent="hold").evaluate_month("2024-04", april)
    zero = store.portfolio(rules).evaluate_month("2024-04", april)
    assert held.states.num_rows == 150
    assert zero.states.num_rows == 200
    with pytest.raises(InputError, match="min_records"):
        store.portfolio(rules, min_records=1000).evaluate_month("2024-04", april)
    with pytest.raises(InputError, match="no_such_option"):
        store.portfolio(rules, no_such_option=1)


def test_rule_edits_are_the_cores(committed):
    rules, _ = committed
    longer = rules.with_setting("watch_months", 6)
    assert longer.to_dict()["rule_sets"][0]["versions"][0]["watch_months"] == 6
    with pytest.raises(InputError) as e:
        rules.with_setting("tiers", [])
    assert e.value.field == "tiers"
    with pytest.raises(InputError, match="no selected version has a tier `jade`"):
        rules.with_tier_minimum("jade", "1")
    with pytest.raises(InputError, match="the book has no rule set `nope`"):
        rules.with_setting("watch_months", 6, rule_set="nope")
    with pytest.raises(ct.errors.RuleFileError):
        rules.with_tier_minimum("gold", "600000")  # above platinum's minimum
