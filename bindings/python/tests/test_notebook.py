"""The notebook path (issue 11): component columns, explain over a long table, Parquet, rule-book
edits as values, one argument order, plain-mapping inputs, replays that keep what they did, the
tier an event is about, months as dates."""

import datetime
import json
from decimal import Decimal

import pytest

import crm_tiering as ct

pa = pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def rules():
    return ct.load_rules()


def test_component_columns_typed_text_and_chinese(rules):
    t = pa.table(
        {
            "客户号": ["a", "b"],
            "定期存款": pa.array([Decimal("150000"), Decimal("1")], pa.decimal128(20, 2)),
            "wealth_product": ["60000", ""],
        }
    )
    r = ct.Portfolio(rules).evaluate_month("2024-01", t)
    assert [(x["customer_id"], x["aum"], x["tier"]) for x in r.states.to_pylist()] == [
        ("a", Decimal("210000.00"), "gold"),
        ("b", Decimal("1.00"), None),
    ]
    # An `aum` column with component columns is an error naming `aum`, never a silent choice.
    with pytest.raises(ct.InputError) as info:
        ct.replay_portfolio(rules, t.append_column("month", pa.array(["2024-01"] * 2)).append_column("aum", pa.array(["1", "2"])))
    assert info.value.field == "aum" and "component" in str(info.value)


def test_explain_picks_one_customer_of_a_long_table(rules):
    t = pa.table(
        {
            "customer_id": ["a", "b", "a", "b", "a"],
            "month": ["2024-01", "2024-01", "2024-02", "2024-02", "2024-03"],
            "time_deposit": ["1200000", "1", "650000", "2", "640000"],
        }
    )
    story = ct.explain(rules, t, customer="a").to_pylist()
    assert [r["month"] for r in story] == [datetime.date(2024, m, 1) for m in (1, 2, 3)]
    assert story[0]["events"] == "entered" and story[1]["events"] == "watch_started"
    assert ct.explain(rules, t, customer="a").equals(
        ct.explain(rules, [("2024-01", "1200000"), ("2024-02", "650000"), ("2024-03", "640000")], customer="a")
    )
    with pytest.raises(ct.InputError) as info:
        ct.explain(rules, t)
    assert info.value.field == "customer" and "2 customers" in str(info.value)
    one = t.filter(pa.compute.equal(t.column("customer_id"), "b"))
    assert ct.explain(rules, one).num_rows == 2  # one customer: no need to name it


def test_results_round_trip_through_parquet_and_states_files(rules, tmp_path):
    p = ct.Portfolio(rules)
    r = p.evaluate_month("2024-01", pa.table({"customer_id": ["a", "b"], "aum": ["250000", "30"]}), explain=True)
    r.write_parquet(tmp_path / "jan")
    back = ct.read_parquet(tmp_path / "jan")
    for name in ("states", "events", "alerts", "errors"):
        assert getattr(back, name).equals(getattr(r, name)), name
    assert back.states.schema.field("aum").type == pa.decimal128(38, 2)
    assert back.states.schema.field("month").type == pa.date32()
    path = tmp_path / "states.jsonl"
    path.write_text(p.to_states_text(), encoding="utf-8")
    q = ct.Portfolio.from_states_file(rules, path)
    assert q.state("a") == p.state("a")
    path.write_text(p.to_states_text()[:-3], encoding="utf-8")
    with pytest.raises(ct.StateError) as info:
        ct.Portfolio.from_states_file(rules, path)
    assert info.value.record[0] == str(path)


def test_rule_book_edits_are_values(rules):
    stricter = rules.with_tier_minimum("gold", "300000")
    assert stricter.tiers()[0]["min_aum"] == Decimal("300000") and rules.tiers()[0]["min_aum"] == Decimal("200000")
    assert stricter != rules and stricter.fingerprint != rules.fingerprint
    longer = rules.with_setting("watch_months", 6).with_setting("near_threshold_band", Decimal("0.05"))
    assert longer.settings()["watch_months"] == 6 and longer.settings()["near_threshold_band"] == Decimal("0.05")
    assert rules.settings()["watch_months"] == 3
    assert rules.with_setting("downgrade_target", "one_down").settings()["downgrade_target"] == "one_down"
    # Selectors: a rule set by name, a version by the month it takes effect.
    (default_set,) = rules.rule_sets()
    first = default_set["versions"][0]
    assert rules.with_setting("exit_after_months", 4, rule_set=default_set["name"], effective_from=first).settings()[
        "exit_after_months"
    ] == 4
    # Validated by the core, naming the field.
    with pytest.raises(ct.RuleFileError) as info:
        rules.with_tier_minimum("gold", "600000")  # above platinum
    assert "tiers" in (info.value.field or "")
    with pytest.raises(ct.RuleFileError):
        rules.with_setting("watch_months", "many")
    with pytest.raises(ct.InputError) as info:
        rules.with_tier_minimum("bronze", "1")
    assert info.value.field == "tier"
    with pytest.raises(ct.InputError):
        rules.with_setting("no_such_setting", 1)
    with pytest.raises(ct.InputError):
        rules.with_setting("watch_months", 4, rule_set="nope")
    with pytest.raises(TypeError):
        rules.with_tier_minimum("gold", 300000.0)
    # So that simulate reads as one line.
    t = pa.table({"customer_id": ["a", "b"], "month": ["2024-01"] * 2, "aum": ["250000", "350000"]})
    sim = ct.simulate(rules, rules.with_tier_minimum("gold", "300000"), t)
    assert [(c["tier"], c["count_a"], c["count_b"]) for c in sim.counts.to_pylist()] == [(None, 0, 1), ("gold", 2, 1)]


def test_watch_stages_and_timing_are_settings_to_simulate(rules):
    """SPEC 19.4's settings through with_setting: the values a book leaves out until set, lists
    included, reach the core and change the outcome the way the vectors pin it."""
    staged = rules.with_setting("label_after", 1)
    assert staged.settings()["label_after"] == 1 and "label_after" not in rules.settings()
    assert [t.get("label_after") for t in staged.tiers()] == [1, 1, 1, 1]
    s = ct.evaluate(staged, "c1", "2024-01", "600000").state
    out = ct.evaluate(staged, "c1", "2024-02", "300000", state=s)
    assert [e.kind for e in out.events] == ["watch_started", "watch_labelled"]
    assert [e.kind for e in ct.evaluate(rules, "c1", "2024-02", "300000", state=s).events] == ["watch_started"]
    half_yearly = rules.with_setting("assessment_months", [12, 6])
    assert half_yearly.settings()["assessment_months"] == [6, 12]
    same_month = rules.with_setting("upgrade_timing", "same_month")
    (entered,) = ct.evaluate(same_month, "c2", "2024-03", "250000").events
    assert entered.effective_from == entered.month == "2024-03"
    with pytest.raises(ct.RuleFileError) as info:
        rules.with_setting("label_after", 3)  # not below the 3-month watch
    assert "label_after" in (info.value.field or "")


def test_one_argument_order_with_keyword_only_options(rules):
    s = ct.evaluate(rules, "c1", "2024-01", "250000").state
    with pytest.raises(TypeError):
        ct.evaluate(rules, "c1", "2024-02", "250000", s)  # state is keyword-only
    assert ct.evaluate(rules, "c1", "2024-02", "250000", state=s).state.last_month == "2024-02"
    with pytest.raises(TypeError):
        ct.replay(rules, "c1", {"2024-01": "1"}, None)
    t = pa.table({"customer_id": ["a"], "month": ["2024-01"], "aum": ["250000"]})
    with pytest.raises(TypeError, match="rule books come first"):
        ct.simulate(t, rules, rules)
    with pytest.raises(TypeError):
        ct.replay_portfolio(rules, t, "2024-01")
    assert ct.replay_portfolio(rules, t, months="2024-01").states.num_rows == 1
    assert ct.evaluate_portfolio(rules, "2024-01", t).states.num_rows == 1


def test_month_inputs_as_plain_mappings_and_json_lists(rules):
    nested = ct.evaluate(rules, "c1", "2024-01", {"aum": {"total": "250000"}})
    assert ct.evaluate(rules, "c1", "2024-01", {"aum": "250000"}).to_dict() == nested.to_dict()
    parts = ct.evaluate(rules, "c1", "2024-01", {"time_deposit": "150000", "wealth_product": Decimal("100000")})
    assert parts.aum == Decimal("250000.00") and parts.state.tier == "gold"
    granted = ct.evaluate(rules, "c1", "2024-01", {"aum": "1000", "grant": {"tier": "platinum", "months": 6}})
    same = ct.evaluate(rules, "c1", "2024-01", {"aum": {"total": "1000"}, "special": {"action": "grant", "tier": "platinum", "months": 6}})
    assert granted.to_dict() == same.to_dict() and granted.state.effective_tier == "platinum"
    revoked = ct.evaluate(rules, "c1", "2024-02", {"aum": "1000", "revoke": True}, state=granted.state)
    assert revoked.events[0].kind == "special_revoked"
    assert ct.evaluate(rules, "c1", "2024-01", {"grant": True}).state.effective_tier == "gold"
    with pytest.raises(ct.InputError) as info:
        ct.evaluate(rules, "c1", "2024-01", {"aum": "1", "time_deposit": "2"})
    assert info.value.field == "aum"
    with pytest.raises(TypeError):
        ct.evaluate(rules, "c1", "2024-01", {"aum": 250000.0})
    # What json.load gives: lists where tuples are.
    history = json.loads('[["2024-01", {"aum": "1200000"}], ["2024-02", "650000"], ["2024-03", {"aum": "640000"}]]')
    assert [o.state.tier for o in ct.replay(rules, "c1", history)] == ["diamond", "diamond", "diamond"]
    cells = json.loads('[["customer_id", "month", "aum"], [["a", "2024-01", "250000"], ["a", "2024-02", "600000"]]]')
    assert ct.replay_portfolio(rules, cells, months=["2024-01", "2024-02"]).states.num_rows == 2
    assert ct.Portfolio(rules).evaluate_month(["2024-01", "2024-02"], cells).states.num_rows == 2


def test_a_bad_month_in_a_replay_names_it_and_keeps_the_months_before(rules):
    history = [("2024-01", "1200000"), ("2024-02", "650000"), ("2024-03", "12x"), ("2024-04", "1")]
    with pytest.raises(ct.InputError) as info:
        ct.replay(rules, "c1", history)
    e = info.value
    assert (e.customer, e.month, e.field) == ("c1", "2024-03", "aum")
    assert [o.month for o in e.outcomes] == ["2024-01", "2024-02"]
    # A gap (sequence error) and a float (TypeError) keep them too.
    with pytest.raises(ct.SequenceError) as info:
        ct.replay(rules, "c1", [("2024-01", "1"), ("2024-03", "1")])
    assert info.value.customer == "c1" and info.value.month == "2024-03" and len(info.value.outcomes) == 1
    with pytest.raises(TypeError) as info:
        ct.replay(rules, "c1", [("2024-01", "1"), ("2024-02", 1.5)])
    assert "c1" in str(info.value) and "2024-02" in str(info.value) and len(info.value.outcomes) == 1


def test_an_event_names_its_tier_the_same_way_for_every_kind(rules):
    # Entry, upgrade, watch, downgrade, exit, re-entry, full exit, special grant/expiry/revoke.
    amounts = ["600000", "1200000", "10", "10", "10", "10", "10", "10", "10", "10", "300000", "10"]
    months = [f"2024-{k:02d}" for k in range(1, 13)]
    history = pa.table({"customer_id": ["a"] * 12, "month": months, "aum": amounts})
    grants = pa.table({"customer_id": ["b", "b"], "month": ["2024-01", "2024-05"], "action": ["grant", "revoke"], "tier": ["gold", ""], "months": ["2", ""]})
    extra = pa.table({"customer_id": ["b"] * 12, "month": months, "aum": ["1"] * 12})
    r = ct.replay_portfolio(rules, pa.concat_tables([history, extra]), designations=grants)
    events = r.events.to_pylist()
    kinds = {e["kind"] for e in events}
    assert {"entered", "upgraded", "watch_started", "downgraded", "exited_to_retention", "special_granted"} <= kinds
    for e in events:
        assert e["tier"] == (e["to_tier"] or e["from_tier"]), e
    outcomes = ct.replay(rules, "a", list(zip(months, amounts)))
    for o in outcomes:
        for e in o.events:
            assert e.tier == (e.to_tier or e.from_tier)


def test_months_are_dates_in_every_output_table(rules):
    t = pa.table({"customer_id": ["a", "b"], "month": ["2024-01", "2024-01"], "aum": ["480000", "x"]})
    r = ct.replay_portfolio(rules, t)
    cols = {
        "states": ("month", "watch_since", "below_entry_since", "special_first_month", "special_last_month", "last_month"),
        "events": ("month", "effective_from", "window_from"),
        "alerts": ("month",),
        "errors": ("month", "reported_in"),
    }
    for name, names in cols.items():
        for c in names:
            assert getattr(r, name).schema.field(c).type == pa.date32(), (name, c)
    assert r.events.to_pylist()[0]["effective_from"] == datetime.date(2024, 2, 1)
    sim = ct.simulate(rules, rules, t)
    assert sim.counts.schema.field("month").type == pa.date32()
