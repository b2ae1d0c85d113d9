"""Every conformance vector of rules-spec/vectors, run through the Python binding.

The format is the one `crates/crm-tiering/tests/vectors.rs` reads: `expected` holds the exact
JSON values of each month's AUM, state, events and alerts; `expect_error` the error category
(and field); `expect_rules_error` an invalid rule book.
"""

import json

import pytest

import crm_tiering as ct
from conftest import VECTORS

CATEGORY = {
    "rules": ct.RuleFileError,
    "input": ct.InputError,
    "sequence": ct.SequenceError,
    "state": ct.StateError,
}

PATHS = sorted(VECTORS.glob("*.json"))


def test_vectors_found():
    assert len(PATHS) >= 2, f"no vectors in {VECTORS}"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_vector(path):
    vector = json.loads(path.read_text(encoding="utf-8"))
    assert "rules" in vector, "vector has no resolved `rules` (run UPDATE_VECTORS=1 in the core)"
    rules_text = json.dumps(vector["rules"])
    if "expect_rules_error" in vector:
        want = vector["expect_rules_error"]
        with pytest.raises(ct.RuleFileError) as info:
            ct.RuleBook.from_str(rules_text)
        assert info.value.field == want.get("field", "")
        if "message_contains" in want:
            assert want["message_contains"] in str(info.value)
        return
    rules = ct.RuleBook.from_str(rules_text)
    options = vector.get("options") or {}
    engine = ct.Engine(rules, options.get("missing_months", "error"))
    customer = vector["customer"]
    initial = vector.get("initial_state")
    state = ct.CustomerState.from_json(json.dumps(initial)) if initial else ct.CustomerState()
    for m in vector["months"]:
        month = m["month"]
        if "expect_error" in m:
            want = m["expect_error"]
            cls = CATEGORY[want["category"]]
            with pytest.raises(ct.TieringError) as info:
                engine.evaluate(customer, month, m["input"], state=state)
            assert type(info.value) is cls, f"{month}: expected {cls.__name__}, got {info.value!r}"
            if "field" in want and cls is ct.InputError:
                assert info.value.field == want["field"], f"{month}: {info.value}"
            if cls is not ct.RuleFileError:
                assert info.value.customer == customer["id"], f"{month}: error does not name the customer"
            continue
        out = engine.evaluate(customer, month, m["input"], state=state)
        assert out.to_dict() == m["expected"], f"{path.name} {month}"
        # The typed view agrees with the JSON view, and amounts are exact Decimals.
        assert str(out.aum) == m["expected"]["aum"]
        assert out.state.to_dict() == m["expected"]["state"]
        state = out.state
