"""crm_tiering.loans: a month's loan classification (SPEC §21) through the core, the floors at
their boundary days, the state carried to the next month, the book's [loans] settings and the
errors naming the record. The expected classes come from SPEC §21.2's table."""

import datetime

import pytest

pa = pytest.importorskip("pyarrow")

import crm_tiering as ct  # noqa: E402
from crm_tiering.loans import classify  # noqa: E402


def row(customer, loan, days, bank="关注", month="2024-03", due=True):
    return {
        "customer_id": customer,
        "loan_id": loan,
        "month": month,
        "principal_overdue_days": days,
        "interest_overdue_days": 0,
        "bank_class": bank,
        "repayment_due": due,
    }


def test_floors_signals_and_the_next_month():
    rules = ct.load_rules(None)
    loans = pa.Table.from_pylist([row("b90", "L1", 90), row("b91", "L1", 91), row("b361", "L1", 361, "可疑"), row("ok", "L1", 0, "正常")])
    march = classify(rules, "2024-03", loans)
    worst = dict(zip(march.customers.column("customer_id").to_pylist(), march.customers.column("worst").to_pylist()))
    assert worst == {"b361": "loss", "b90": "special_mention", "b91": "substandard", "ok": "normal"}
    npl = dict(zip(march.customers.column("customer_id").to_pylist(), march.customers.column("non_performing").to_pylist()))
    assert npl == {"b361": True, "b90": False, "b91": True, "ok": False}
    kinds = {(s["customer_id"], s["signal"]) for s in march.signals.to_pylist()}
    assert ("b90", "approaching_non_performing") in kinds and ("b91", "non_performing") in kinds
    assert not any(c == "ok" for c, _ in kinds)
    # April from March's states: b91 clean but held at 次级 by the clean window; b90's loan closes.
    april = classify(rules, datetime.date(2024, 4, 1), [row("b91", "L1", 0, month="2024-04")], states=march.states)
    held = [s for s in april.signals.to_pylist() if s["customer_id"] == "b91"]
    # Held at 次级, it is still non-performing, and the hold has its own signal (2203, 2205).
    assert [(s["signal"], s["effective"]) for s in held] == [
        ("non_performing", "substandard"),
        ("upgrade_held_by_clean_window", "substandard"),
    ]
    assert april.outcomes["b90"]["loans"] == []
    # A skipped month is refused, naming the customer.
    with pytest.raises(ct.SequenceError) as e:
        classify(rules, "2024-05", [row("b91", "L1", 0, month="2024-05")], states={"b91": march.states["b91"]})
    assert e.value.customer == "b91"


def test_the_books_loans_table_and_record_errors():
    book = ct.load_rules({**ct.load_rules(None).to_dict(), "loans": {"substandard_after_days": 60}})
    out = classify(book, "2024-03", [row("a", "L1", 60), row("b", "L1", 61)])
    assert (out.outcomes["a"]["worst"], out.outcomes["b"]["worst"]) == ("special_mention", "substandard")
    with pytest.raises(ct.InputError) as e:
        classify(ct.load_rules(None), "2024-03", [row("c1", "L1", -1)])
    assert (e.value.customer, e.value.field) == ("c1", "principal_overdue_days")
    with pytest.raises(ct.InputError) as e:
        classify(ct.load_rules(None), "2024-03", [row("c2", "L1", 5, bank="好")])
    assert e.value.field == "bank_class"
    with pytest.raises(TypeError):
        classify(ct.load_rules(None), "2024-03", [dict(row("c3", "L1", 5), expected_loss=0.5)])
