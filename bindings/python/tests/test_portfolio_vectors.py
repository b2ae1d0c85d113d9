"""Every portfolio vector of rules-spec/portfolio-vectors (VECTORS.md section 7), run through
the Python ``Portfolio``: the same states, events, alerts, evaluated customers and errors as
the Rust, CLI, C and Java runners.

Tables are built as pyarrow string columns from ``columns``/``rows``; a table with a row whose
number of cells differs from the header (a malformed record, which an Arrow table cannot hold)
is given as ``(header, rows)`` text cells, as ``csv.reader`` would give it.
"""

import json

import pytest

import crm_tiering as ct
from conftest import REPO

pa = pytest.importorskip("pyarrow")

FOLDER = REPO / "rules-spec" / "portfolio-vectors"
PATHS = sorted(FOLDER.glob("*.json"))


def test_portfolio_vectors_found():
    assert len(PATHS) >= 10, f"no portfolio vectors in {FOLDER}"


def _table(t):
    columns, rows = t["columns"], t["rows"]
    if any(len(r) != len(columns) for r in rows):
        return (list(columns), [list(r) for r in rows])
    return pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(columns)})


def _record(r):
    return None if r is None else {"table": r[0], "row": r[1]}


def _error(e):
    return {
        "category": e.category,
        "customer_id": e.customer,
        "month": e.month,
        "field": e.field,
        "record": _record(e.record),
        "other_record": _record(e.other_record),
    }


def _m(d):
    """A month of an output table (a ``datetime.date``, the month's first day) as "YYYY-MM"."""
    return None if d is None else f"{d:%Y-%m}"


def _drop_none(d):
    return {k: v for k, v in d.items() if v is not None}


def _event(row):
    evidence = {
        "aum": str(row["aum"]),
        "threshold": None if row["threshold"] is None else str(row["threshold"]),
        "window_from": _m(row["window_from"]),
        "window_months": row["window_months"],
        "peak_aum": None if row["peak_aum"] is None else str(row["peak_aum"]),
        "measure": row["measure"],
        "measure_value": None if row["measure_value"] is None else str(row["measure_value"]),
    }
    return _drop_none(
        {
            "month": _m(row["month"]),
            "effective_from": _m(row["effective_from"]),
            "kind": row["kind"],
            "from_tier": row["from_tier"],
            "to_tier": row["to_tier"],
            "reason": row["reason"],
            "evidence": _drop_none(evidence),
        }
    )


def _alert(row):
    return _drop_none(
        {
            "month": _m(row["month"]),
            "kind": row["kind"],
            "tier": row["tier"],
            "months_counted": row["months_counted"],
            "months_left": row["months_left"],
            "aum": None if row["aum"] is None else str(row["aum"]),
            "threshold": None if row["threshold"] is None else str(row["threshold"]),
            "gap": None if row["gap"] is None else str(row["gap"]),
            "measure": row["measure"],
            "measure_value": None if row["measure_value"] is None else str(row["measure_value"]),
        }
    )


def _states(portfolio):
    lines = portfolio.to_states_text().splitlines()[1:-1]
    out = []
    for line in lines:
        d = json.loads(line)
        d.setdefault("legal_entity", None)
        out.append(d)
    return out


def _months(result):
    """The run's outcome month by month, in the vectors' form."""
    by_month = {}

    def month(m):
        return by_month.setdefault(m, {"month": m, "events": [], "alerts": [], "evaluated": [], "held": []})

    for row in result.states.to_pylist():
        month(_m(row["month"]))["evaluated"].append(
            {"customer_id": row["customer_id"], "aum": str(row["aum"]), "has_record": row["has_record"]}
        )
    for row in result.events.to_pylist():
        month(_m(row["month"]))["events"].append({"customer_id": row["customer_id"], "event": _event(row)})
    for row in result.alerts.to_pylist():
        month(_m(row["month"]))["alerts"].append({"customer_id": row["customer_id"], "alert": _alert(row)})
    for row in result.errors.to_pylist():
        month(_m(row["reported_in"]))["held"].append(
            {
                "customer_id": row["customer_id"],
                "category": row["category"],
                "month": _m(row["month"]),
                "field": row["field"],
                "record": None if row["record_table"] is None else {"table": row["record_table"], "row": row["record_row"]},
                "other_record": None
                if row["other_record_table"] is None
                else {"table": row["other_record_table"], "row": row["other_record_row"]},
            }
        )
    return by_month


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_portfolio_vector(path):
    vector = json.loads(path.read_text(encoding="utf-8"))
    rules = ct.RuleBook.from_str(json.dumps(vector["rules"])) if vector.get("rules") else ct.RuleBook.default()
    # The vector's options, then each run's (VECTORS.md section 7), go to the core's one parser
    # as keyword arguments: lists and booleans become text there.
    options = vector.get("options") or {}
    accept = options.get("rule_book_change", "refuse") == "accept"
    runs = vector["runs"]

    portfolio = None
    load_error = None
    if "states_text" in vector:
        text = vector["states_text"].replace("{default_book_fingerprint}", ct.RuleBook.default().fingerprint)
        try:
            portfolio = ct.Portfolio.from_states_text(rules, text, accept_rule_change=accept)
        except ct.TieringError as e:
            load_error = e
    else:
        portfolio = ct.Portfolio(rules)
        for line in vector.get("states") or []:
            portfolio.set_state(
                line["customer_id"],
                ct.CustomerState.from_dict(line["state"]),
                legal_entity=line.get("legal_entity"),
                kind=line.get("customer_kind", "personal"),
            )

    for k, run in enumerate(runs):
        where = f"{path.name} run {k} ({run['months']})"
        tables = {}
        names = {}
        for t in run["tables"]:
            assert t["kind"] not in tables, f"{where}: two {t['kind']} tables"
            tables[t["kind"]] = _table(t)
            names[t["kind"]] = t["name"]
        if load_error is not None:
            assert k == 0 and "expect_failure" in run, f"{where}: states text refused: {load_error!r}"
            assert [_error(e) for e in load_error.errors] == run["expect_failure"], where
            return
        before = portfolio.to_states_text() if portfolio.states_rule_book is not None or len(portfolio) else None
        try:
            result = portfolio.evaluate_month(
                run["months"],
                tables.get("aum"),
                designations=tables.get("designations"),
                daily=tables.get("daily"),
                table_name=names.get("aum", "aum"),
                designations_name=names.get("designations", "designations"),
                daily_name=names.get("daily", "daily"),
                **{**options, **(run.get("options") or {})},
            )
        except ct.TieringError as e:
            assert "expect_failure" in run, f"{where}: unexpected failure {e!r}"
            assert [_error(x) for x in e.errors] == run["expect_failure"], where
            if before is not None:
                assert portfolio.to_states_text() == before, f"{where}: states changed by a failed run"
            continue
        assert "expect_failure" not in run, f"{where}: expected a failure, the run went through"
        expected = run["expected"]
        got = _months(result)
        for m in expected["months"]:
            g = got.pop(m["month"], {"month": m["month"], "events": [], "alerts": [], "evaluated": [], "held": []})
            for part in ("evaluated", "events", "alerts", "held"):
                assert g[part] == m[part], f"{where} {m['month']} {part}"
        assert not got, f"{where}: output for months not expected: {sorted(got)}"
        assert _states(portfolio) == expected["states"], f"{where}: states"
