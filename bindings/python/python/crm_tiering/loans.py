"""Loan classification signals (五级分类, SPEC §21) for a month of loan records.

``classify(rules, month, loans, states=None)`` classifies every customer of the month's loan
records (and every customer of ``states``, whose loans may have closed) from its state after the
month before, under the rule book's ``[loans]`` settings: the regulatory floor by overdue days,
the effective class with its clean window, and the signals (逾期, 临近不良, 不良贷款,
分类宽于监管底线, 不良上调观察期未满). The grouping by customer and every rule and check are the
core's (``evaluate_loan_month``), and so are the tables (SPEC §21.11: those ``Store.loans`` and
the CLI's Parquet export give); this module only converts the rows. A bad record raises
``InputError`` naming the customer, loan and field; a state that does not follow (a skipped
month) ``SequenceError``; nothing is returned in part.
"""

import datetime
import json
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional

from . import _native, _table, load_rules

__all__ = ["LoanMonth", "classify"]


def _rows(loans: Any) -> List[Dict[str, Any]]:
    if isinstance(loans, list):
        return [dict(r) for r in loans]
    if hasattr(loans, "to_pylist"):
        return list(loans.to_pylist())
    import pyarrow as pa

    return list(pa.table(loans).to_pylist())


def _month_text(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    return value


def _record(row: Mapping[str, Any]) -> Dict[str, Any]:
    record = {k: v for k, v in row.items() if v is not None}
    if "month" in record:
        record["month"] = _month_text(record["month"])
    if isinstance(record.get("expected_loss"), (Decimal, str)):
        record["expected_loss"] = str(record["expected_loss"])
    elif "expected_loss" in record:
        raise TypeError("expected_loss must be a Decimal or a decimal string, never a float")
    return record


class LoanMonth:
    """A classified month: ``customers``, ``results`` (one row per loan) and ``signals`` as
    pyarrow tables, the core's loan tables (SPEC §21.11: the tables ``Store.loans`` and the
    CLI's Parquet export give, months as ``date32``, codes with their Chinese names),
    ``states`` (the customers' states for the next month, by id) and ``outcomes`` (each
    customer's outcome as the core writes it, decimals as ``Decimal``)."""

    def __init__(self, month: str, outcomes: Dict[str, Dict[str, Any]], tables: Any) -> None:
        self.month = month
        self.outcomes = outcomes
        self.states: Dict[str, Any] = {c: o["state"] for c, o in outcomes.items()}
        self.customers, self.results, self.signals = (_table(t) for t in tables)

    def __repr__(self) -> str:
        return f"LoanMonth(month={self.month!r}, customers={self.customers.num_rows}, signals={self.signals.num_rows})"


def classify(rules: Any, month: Any, loans: Any, states: Optional[Mapping[str, Any]] = None) -> LoanMonth:
    """Classifies a month's loans (see the module's documentation). ``loans``: rows with
    ``customer_id``, ``loan_id``, ``month``, ``principal_overdue_days``,
    ``interest_overdue_days``, ``bank_class`` and optional ``expected_loss`` (a ``Decimal``) and
    ``repayment_due`` (a pyarrow table, anything ``pyarrow.table`` takes, or a list of dicts);
    ``states``: the ``states`` of the month before's ``LoanMonth``."""
    book = rules if isinstance(rules, _native.RuleBook) else load_rules(rules)
    month_text = _month_text(month)
    records = [_record(row) for row in _rows(loans)]
    text, *tables = _native.loans_evaluate_month(
        book,
        month_text,
        json.dumps(records),
        None if states is None else json.dumps(dict(states)),
    )
    listed = json.loads(text, parse_float=Decimal)
    outcomes: Dict[str, Dict[str, Any]] = {o["customer_id"]: o for o in listed}
    return LoanMonth(str(month_text), outcomes, tables)
