"""Measures and criteria (SPEC §19.1, §19.3) through the Python binding: the plain input form
carries measure values as Decimals, the evidence names the criterion that decided, and a
measure the rules do not declare, or a float, is refused."""

import decimal

import pytest

import crm_tiering as ct
from conftest import VECTORS

BOOK = (VECTORS.parent / "gallery" / "cebbank-private.toml").read_text(encoding="utf-8")


def engine():
    return ct.Engine(ct.RuleBook.from_str(BOOK))


def test_a_loan_balance_qualifies_and_the_evidence_names_it():
    out = engine().evaluate("c1", "2024-01", {"aum": "1000000", "measures": {"loan_balance": decimal.Decimal("6500000")}})
    assert out.state.tier == "private"
    (entered,) = out.events
    assert entered.measure == "loan_balance"
    assert entered.measure_value == decimal.Decimal("6500000.00")
    assert entered.threshold == decimal.Decimal("6000000.00")
    (risk,) = out.alerts
    assert (risk.kind, risk.measure, risk.gap) == ("downgrade_risk", "loan_balance", decimal.Decimal("500000.00"))


def test_without_the_loan_the_same_assets_rate_lower():
    out = engine().evaluate("c1", "2024-01", {"aum": "1000000"})
    assert out.state.tier == "platinum"
    assert out.events[0].measure == "aum"


def test_an_undeclared_measure_is_an_input_error_naming_it():
    with pytest.raises(ct.InputError) as info:
        engine().evaluate("c1", "2024-01", {"aum": "1000000", "measures": {"mortgage": "1"}})
    assert info.value.field == "measures.mortgage"
    with pytest.raises(ct.InputError) as info:
        ct.Engine(ct.RuleBook.default()).evaluate("c1", "2024-01", {"aum": "1", "measures": {"loan_balance": "1"}})
    assert info.value.field == "measures.loan_balance"


def test_a_float_measure_value_is_refused():
    with pytest.raises(TypeError):
        engine().evaluate("c1", "2024-01", {"aum": "1000000", "measures": {"loan_balance": 6500000.0}})


def test_a_what_if_on_the_loan_threshold():
    book = ct.RuleBook.from_str(BOOK)
    (private,) = [t for t in book.tiers() if t["code"] == "private"]
    assert private["qualify"]["any_of"][1] == {"measure": "loan_balance", "window": "month", "min": decimal.Decimal("6000000.00")}
    lower = book.with_criterion_minimum("private", "loan_balance", "5000000")
    month = {"aum": "1000000", "measures": {"loan_balance": "5500000"}}
    assert ct.Engine(book).evaluate("c1", "2024-01", month).state.tier == "platinum"
    assert ct.Engine(lower).evaluate("c1", "2024-01", month).state.tier == "private"
    with pytest.raises(ct.InputError) as info:
        book.with_criterion_minimum("gold", "loan_balance", "1")
    assert info.value.field == "measure"
