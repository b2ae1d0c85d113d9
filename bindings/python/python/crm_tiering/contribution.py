"""Customer contribution (客户贡献度, SPEC 20): Arrow tables in, Arrow tables out.

A month's contribution per customer: transfer-priced interest on each account (FTP), fees,
costs allocated from cost pools by staged drivers, direct costs, risk cost and capital charge,
rolled up by account manager (主办/协办 shares), branch and legal entity, with a lineage line
for every amount. Money is exact: tables take ``decimal128`` (or strings; whole fen as
integers in a column ``<name>_fen``), never floats, and give ``decimal128(38, 2)``; dicts give
``decimal.Decimal``.

The API:

* ``ContributionRules.from_path(path)`` / ``ContributionRules.from_toml(text)``: the rule book
  (basis, rounding, FTP rates, stages, provision, capital). ``rules.with_ftp_rates(table)``
  (columns ``product``, ``term``, ``effective``, ``rate``) and ``rules.with_ftp_shift(shift)``
  (every FTP rate plus ``shift``, a ``Decimal`` fraction) return a changed copy.
* ``compute(rules, month, accounts, *, fees=None, cost_pools=None, activities=None,
  direct_costs=None, assignments=None)`` returns a ``Contribution``: ``.customers``,
  ``.managers``, ``.branches``, ``.legal_entities``, ``.lineage``, ``.stages`` (pyarrow
  tables), ``.unassigned`` and ``.customer(id)`` (dicts of ``Decimal``), ``.explain(id)`` (the
  customer's lineage lines, a list of dicts whose ``amount``s sum to its net contribution).
* ``what_if(rules, month, accounts, ..., ftp_shift=None, ftp_rates=None, other_rules=None)``
  computes the month twice, under ``rules`` and under the changed book (``other_rules``, or
  ``rules`` with its FTP rates shifted or replaced), and returns a ``WhatIf`` with ``.base``,
  ``.changed`` and ``.changes`` (per customer, each figure under both and the difference).

Input tables are anything with the Arrow PyCapsule interface (pyarrow, polars, pandas >= 2.2)
or that ``pyarrow.table`` takes (a pandas DataFrame, a dict of columns). A bad rule book,
table or record raises ``ContributionError`` naming the table, row and column (or the
record and field), with every error in ``.errors``.

>>> from decimal import Decimal
>>> import pyarrow as pa
>>> from crm_tiering.contribution import ContributionRules, compute
>>> rules = ContributionRules.from_toml('''
... basis = 360
... [ftp]
... rates = [{ product = "demand", term = "none", effective = "2024-01", rate = "0.0200" }]
... ''')
>>> accounts = pa.table({
...     "month": ["2024-03"], "customer": ["c1"], "account": ["a1"], "product": ["demand"],
...     "side": ["liability"], "average_balance": pa.array([Decimal("360000.00")], pa.decimal128(20, 2)),
...     "customer_rate": pa.array([Decimal("0.0020")], pa.decimal128(10, 4)),
...     "branch": ["b1"], "legal_entity": ["le1"],
... })
>>> compute(rules, "2024-03", accounts).customer("c1")["net_contribution"]
Decimal('558.00')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, List, Optional

from . import _native
from ._native import ContributionRules
from .errors import ContributionError

__all__ = ["Contribution", "ContributionError", "ContributionRules", "WhatIf", "compute", "what_if"]

# The figures' names, in order: the core's (``Figures::NAMES``).
FIGURES = tuple(_native.CONTRIBUTION_FIGURES)


def _arrow(obj: Any) -> Any:
    """A table the native reader takes: an Arrow PyCapsule object as is, else ``pa.table(obj)``."""
    if obj is None or hasattr(obj, "__arrow_c_stream__") or hasattr(obj, "__arrow_c_array__"):
        return obj
    import pyarrow as pa

    return pa.table(obj)


def _table(obj: Any) -> Any:
    try:
        import pyarrow as pa
    except ImportError:
        return obj
    return pa.table(obj)


class Contribution:
    """A computed contribution month (see the module's documentation)."""

    def __init__(self, native: Any) -> None:
        self._native = native
        self.month: str = native.month
        self.customers = _table(native.customers)
        self.managers = _table(native.managers)
        self.branches = _table(native.branches)
        self.legal_entities = _table(native.legal_entities)
        self.lineage = _table(native.lineage)
        self.stages = _table(native.stages)

    @property
    def unassigned(self) -> Dict[str, Decimal]:
        """The figures of the customers without an account manager."""
        return dict(self._native.unassigned)

    def net_contribution(self) -> Dict[str, Decimal]:
        """Each customer's net contribution, by customer id: the values to give a tiering book's
        ``contribution`` measure (``Portfolio.evaluate_month(..., measures={"contribution":
        c.net_contribution()})``, SPEC §20.11)."""
        t = self.customers
        return dict(zip(t.column("customer").to_pylist(), t.column("net_contribution").to_pylist()))

    def customer(self, customer: str) -> Optional[Dict[str, Decimal]]:
        """A customer's figures, or ``None`` when it has none this month."""
        return self._native.customer(str(customer))  # type: ignore[no-any-return]

    def explain(self, customer: str) -> List[Dict[str, Any]]:
        """A customer's lineage lines, in order: ``kind``, ``account``, ``pool``, ``stage``,
        ``product``, ``item``, ``balance``, ``ftp_rate``, ``customer_rate``, ``rate``,
        ``risk_weight``, ``days``, ``driver_quantity``, ``driver_total`` and ``amount`` (as it
        enters the net contribution: costs negative), ``None`` where a line has no such part."""
        return self._native.explain(str(customer))  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Contribution(month={self.month!r}, customers={self.customers.num_rows})"


def compute(
    rules: ContributionRules,
    month: Any,
    accounts: Any,
    *,
    fees: Any = None,
    cost_pools: Any = None,
    activities: Any = None,
    direct_costs: Any = None,
    assignments: Any = None,
) -> Contribution:
    """Computes the contribution of ``month`` (``"YYYY-MM"`` or a ``datetime.date``) from the
    account-months table and the optional tables (SPEC 20.7's columns). The computation runs
    with the GIL released. Raises ``ContributionError`` (every bad record, or the run's
    errors) and ``TypeError`` for a rules argument that is not a ``ContributionRules``."""
    if not isinstance(rules, ContributionRules):
        raise TypeError(f"rules must be a ContributionRules, not {type(rules).__name__}")
    native = _native.contribution_compute(
        rules, month, _arrow(accounts), fees=_arrow(fees), cost_pools=_arrow(cost_pools),
        activities=_arrow(activities), direct_costs=_arrow(direct_costs), assignments=_arrow(assignments),
    )
    return Contribution(native)


@dataclass(frozen=True)
class WhatIf:
    """One month under two rule books: ``base`` and ``changed`` (each a ``Contribution``), and
    ``changes``: a pyarrow table of every customer in either, with each figure under both
    (``<figure>_base``, ``<figure>_changed``, null for a customer absent from one) and
    ``net_contribution_delta`` (changed - base, absent counted as zero), by customer."""

    base: Contribution
    changed: Contribution

    @property
    def changes(self) -> Any:
        import pyarrow as pa

        def by_customer(c: Contribution) -> Dict[str, Dict[str, Any]]:
            return {r["customer"]: r for r in c.customers.to_pylist()}

        base, changed = by_customer(self.base), by_customer(self.changed)
        ids = sorted(set(base) | set(changed), key=lambda s: s.encode())
        columns: Dict[str, Any] = {"customer": pa.array(ids, pa.string())}
        money = pa.decimal128(38, 2)
        for f in FIGURES:
            for side, rows in (("base", base), ("changed", changed)):
                columns[f"{f}_{side}"] = pa.array([rows[i][f] if i in rows else None for i in ids], money)
        zero = Decimal("0.00")
        delta = [
            (changed[i]["net_contribution"] if i in changed else zero) - (base[i]["net_contribution"] if i in base else zero)
            for i in ids
        ]
        columns["net_contribution_delta"] = pa.array(delta, money)
        return pa.table(columns)


def what_if(
    rules: ContributionRules,
    month: Any,
    accounts: Any,
    *,
    fees: Any = None,
    cost_pools: Any = None,
    activities: Any = None,
    direct_costs: Any = None,
    assignments: Any = None,
    ftp_shift: Any = None,
    ftp_rates: Any = None,
    other_rules: Optional[ContributionRules] = None,
) -> WhatIf:
    """The month under ``rules`` and under a changed book: exactly one of ``other_rules``,
    ``ftp_rates`` (a rate table replacing the book's) or ``ftp_shift`` (a ``Decimal``
    fraction added to every FTP rate: ``Decimal("0.001")`` is 0.1 percentage point)."""
    given = [x is not None for x in (ftp_shift, ftp_rates, other_rules)]
    if sum(given) != 1:
        raise TypeError("what_if needs exactly one of ftp_shift=, ftp_rates= or other_rules=")
    if other_rules is not None:
        changed_rules = other_rules
    elif ftp_rates is not None:
        changed_rules = rules.with_ftp_rates(_arrow(ftp_rates))
    else:
        changed_rules = rules.with_ftp_shift(ftp_shift)
    tables = dict(fees=fees, cost_pools=cost_pools, activities=activities, direct_costs=direct_costs,
                  assignments=assignments)
    tables = {k: _arrow(v) for k, v in tables.items()}
    accounts = _arrow(accounts)
    return WhatIf(compute(rules, month, accounts, **tables), compute(changed_rules, month, accounts, **tables))
