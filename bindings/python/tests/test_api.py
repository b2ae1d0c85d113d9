import datetime
import decimal
import json
import pickle
from decimal import Decimal

import pytest

import crm_tiering as ct
from crm_tiering import _native


@pytest.fixture(scope="module")
def rules():
    return ct.load_rules()


def test_rule_book_inspection(rules):
    tiers = rules.tiers()
    assert [t["code"] for t in tiers] == ["gold", "platinum", "diamond", "private"]
    assert [t["name_zh"] for t in tiers] == ["金卡", "白金卡", "钻石卡", "私行级"]
    assert tiers[0]["min_aum"] == Decimal("200000") and isinstance(tiers[0]["min_aum"], Decimal)
    s = rules.settings("2024-06")
    assert s["entry_threshold"] == Decimal("200000.00")
    assert s["exit_after_months"] == 6 and s["downgrade_target"] == "highest_in_window"
    assert rules.rule_sets()[0]["versions"]


def test_rule_book_from_dict_string_path(rules, repo, tmp_path):
    d = rules.to_dict()
    assert ct.load_rules(d) == rules
    assert ct.load_rules(rules.to_json()) == rules
    p = tmp_path / "rules.json"
    p.write_text(rules.to_json(), encoding="utf-8")
    assert ct.load_rules(p) == rules and ct.load_rules(str(p)) == rules
    assert ct.load_rules(repo / "rules-spec" / "default-rules.toml") == rules
    assert pickle.loads(pickle.dumps(rules)) == rules


def test_raising_the_entry_threshold_changes_the_book(rules):
    d = rules.to_dict()
    d["rule_sets"][0]["versions"][0]["tiers"][0]["min_aum"] = Decimal("300000")
    higher = ct.load_rules(d)
    assert higher != rules
    assert higher.tiers()[0]["min_aum"] == Decimal("300000")


def test_float_is_refused_everywhere(rules):
    with pytest.raises(TypeError, match="Decimal or a str"):
        ct.evaluate(rules, "c1", "2024-01", 250000.0)
    with pytest.raises(TypeError, match="Decimal or a str"):
        ct.evaluate(rules, "c1", "2024-01", {"aum": {"total": 250000.5}})
    d = rules.to_dict()
    d["rule_sets"][0]["versions"][0]["tiers"][0]["min_aum"] = 200000.0
    with pytest.raises(TypeError, match="float"):
        ct.load_rules(d)
    with pytest.raises(TypeError):
        _native.parse_amount(0.1)


def test_amounts_are_exact(rules):
    assert _native.parse_amount(Decimal("2E+5")) == Decimal("200000")
    assert _native.parse_amount(Decimal("-0.10")) == Decimal("-0.10")
    assert _native.parse_amount("523400.50") == Decimal("523400.50")
    assert _native.parse_amount(10**15) == Decimal(10**15)
    with pytest.raises(ct.InputError):
        _native.parse_amount(Decimal("NaN"))
    with pytest.raises(ct.InputError):
        _native.parse_amount("2e5")
    # Just below and exactly at the entry threshold.
    below = ct.evaluate(rules, "c1", "2024-01", Decimal("199999.995"))
    at = ct.evaluate(rules, "c1", "2024-01", "200000")
    assert at.state.tier == "gold"
    assert isinstance(below.aum, Decimal)


def test_months_are_dates_or_strict_strings(rules):
    a = ct.evaluate(rules, "c1", datetime.date(2024, 3, 31), "250000")
    b = ct.evaluate(rules, "c1", "2024-03", "250000")
    c = ct.evaluate(rules, "c1", datetime.datetime(2024, 3, 31, 23, 59), "250000")  # naive: its calendar month
    assert a.to_dict() == b.to_dict() == c.to_dict()
    assert a.month == "2024-03"
    for bad in ("2024-13", "2024-+3", "2024-3", " 2024-03"):
        with pytest.raises(ct.InputError) as info:
            ct.evaluate(rules, "c1", bad, "250000")
        assert info.value.field == "month"
    # An integer is not a month; an aware datetime's month depends on its zone.
    with pytest.raises(TypeError):
        ct.evaluate(rules, "c1", 202403, "250000")
    aware = datetime.datetime(2024, 3, 31, 23, 0, tzinfo=datetime.timezone.utc)
    with pytest.raises(TypeError, match="timezone-aware"):
        ct.evaluate(rules, "c1", aware, "250000")


def test_customer_ids_are_checked(rules):
    for bad in ("", " c1", "c1 ", "c\x001"):
        with pytest.raises(ct.InputError) as info:
            ct.evaluate(rules, bad, "2024-01", "250000")
        assert info.value.field == "customer_id"
    with pytest.raises(ct.InputError):
        ct.Portfolio(rules).set_state(" c1", ct.CustomerState())


def test_replay_and_state_round_trips(rules):
    history = {"2024-01": "1200000", "2024-02": "650000", "2024-03": "640000", "2024-04": "630000"}
    months = ct.replay(rules, "6221000001", history)
    assert [o.month for o in months] == list(history)
    last = months[-1]
    assert last.state.tier == "platinum"
    assert last.events[-1].kind == "downgraded" and last.events[-1].kind_zh == "降级"
    s = last.state
    assert pickle.loads(pickle.dumps(s)) == s
    assert ct.CustomerState.from_json(s.to_json()) == s
    assert ct.CustomerState.from_dict(json.loads(s.to_json())) == s
    # Continuing from a restored state gives what a single replay gives.
    more = ct.replay(rules, "6221000001", [("2024-05", "630000")], initial=pickle.loads(pickle.dumps(s)))
    whole = ct.replay(rules, "6221000001", {**history, "2024-05": "630000"})
    assert more[0].to_dict() == whole[-1].to_dict()


def test_error_classes_and_attributes(rules):
    assert issubclass(ct.InputError, ct.TieringError) and issubclass(ct.InputError, ValueError)
    for cls in (ct.RuleFileError, ct.SequenceError, ct.StateError):
        assert issubclass(cls, ct.TieringError) and not issubclass(cls, ValueError)

    with pytest.raises(ct.RuleFileError) as info:
        ct.load_rules('{"format_version": 1,\n "name": "x", "rule_sets": [], "oops": 1}')
    assert info.value.line is not None or info.value.field

    with pytest.raises(ct.RuleFileError) as info:
        ct.load_rules('{"format_version": 2, "name": "x", "rule_sets": []}')
    assert info.value.field == "format_version"

    with pytest.raises(ValueError) as info:
        ct.evaluate(rules, "c9", "2024-01", {"aum": {"averages": [{"component": "nope", "amount": "1"}]}})
    e = info.value
    assert isinstance(e, ct.InputError)
    assert (e.customer, e.month) == ("c9", "2024-01") and e.field
    assert "c9" in str(e)

    s = ct.evaluate(rules, "c9", "2024-01", "250000").state
    with pytest.raises(ct.SequenceError) as info:
        ct.evaluate(rules, "c9", "2024-03", "250000", state=s)
    assert info.value.customer == "c9" and info.value.month == "2024-03"
    assert info.value.expected_month == "2024-02" and info.value.last_month == "2024-01"

    with pytest.raises(ct.StateError):
        ct.CustomerState.from_json('{"schema_version": 99, "status": "rated"}')
    d = json.loads(s.to_json())
    d["tier"] = "unknown"
    d["effective_tier"] = "unknown"
    with pytest.raises(ct.StateError) as info:
        ct.evaluate(rules, "c9", "2024-02", "250000", state=ct.CustomerState.from_dict(d))
    assert info.value.customer == "c9"

    err = pickle.loads(pickle.dumps(e))
    assert type(err) is ct.InputError and err.field == e.field and str(err) == str(e)


def test_event_and_alert_views(rules):
    out = ct.evaluate(rules, "c1", "2024-01", "480000")
    ev = out.events[0]
    assert ev.kind == "entered" and ev.to_tier == "gold" and ev.reason == "met_tier_minimum"
    assert ev.threshold == Decimal("200000.00") and ev.aum == Decimal("480000.00")
    assert ev.explain().startswith("2024-01: entered at gold")
    kinds = {a.kind for a in out.alerts}
    assert "upgrade_opportunity" in kinds
    up = next(a for a in out.alerts if a.kind == "upgrade_opportunity")
    assert up.gap == Decimal("20000.00") and up.tier == "platinum" and up.kind_zh == "临界升级"
    # A near-threshold band is low (SPEC §11.1), from the core.
    assert (up.severity, up.severity_zh) == ("low", "低")


def test_explain_tells_the_story(rules):
    pa = pytest.importorskip("pyarrow")
    history = [("2024-01", "1200000"), ("2024-02", "650000"), ("2024-03", "640000"), ("2024-04", "630000")]
    t = ct.explain(rules, history, customer="c1")
    assert isinstance(t, pa.Table) and t.num_rows == 4
    assert t.column("aum").type == pa.decimal128(38, 2)
    rows = t.to_pylist()
    assert rows[0]["events"] == "entered" and rows[0]["aum"] == Decimal("1200000.00")
    assert rows[1]["events"] == "watch_started"
    assert rows[3]["events"] == "downgraded" and "降" in rows[3]["events_zh"]
    assert "platinum" in rows[3]["story"] and rows[3]["tier"] == "platinum"
    # From outcomes or a table gives the same story.
    assert ct.explain(None, ct.replay(rules, "c1", history)).equals(t)
    table = pa.table({"month": [m for m, _ in history], "aum": [a for _, a in history]})
    assert ct.explain(rules, table, customer="c1").equals(t)
    assert rows[0]["month"] == datetime.date(2024, 1, 1)
