"""crm_tiering: deterministic bank customer tiering by AUM (客户分层管理), for analysts.

Money is ``decimal.Decimal`` in and out (a float is a ``TypeError``); months are
``datetime.date`` or ``"YYYY-MM"`` (a naive ``datetime`` gives its calendar month; a
timezone-aware one is a ``TypeError``: convert it to the bank's zone first). Portfolio functions take any table with the Arrow
PyCapsule interface (pyarrow, polars, pandas >= 2.2) and return Arrow tables whose amounts
are ``decimal128(38, 2)``: pyarrow tables when pyarrow is installed.

>>> import crm_tiering as ct
>>> out = ct.evaluate(ct.load_rules(), "6221000001", "2024-01", "523400")
>>> out.state.tier, out.events[0].explain()
('platinum', '2024-01: entered at platinum from 2024-02: AUM 523400.00 met the minimum 500000.00')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Optional, Tuple, Union

from . import _native
from ._native import (
    STATE_SCHEMA_VERSION,
    Alert,
    CustomerState,
    Engine,
    Event,
    MonthOutcome,
    RuleBook,
)
from .errors import InputError, RuleFileError, SequenceError, StateError, TieringError

__version__: str = _native.__version__

__all__ = [
    "STATE_SCHEMA_VERSION",
    "Alert",
    "CustomerState",
    "Engine",
    "Event",
    "InputError",
    "MonthOutcome",
    "Portfolio",
    "PortfolioResult",
    "RuleBook",
    "RuleFileError",
    "SequenceError",
    "Simulation",
    "StateError",
    "TieringError",
    "evaluate",
    "evaluate_portfolio",
    "explain",
    "load_rules",
    "replay",
    "replay_portfolio",
    "simulate",
]

RulesLike = Union[RuleBook, Mapping[str, Any], str, "os.PathLike[str]", None]


def load_rules(source: RulesLike = None) -> RuleBook:
    """Loads a rule book: ``None`` for the default book, a ``RuleBook``, a dict shaped like the
    JSON format, a path to a ``.toml``/``.json`` file, or the text of one.

    Raises ``RuleFileError`` naming the field (and line and column) of an invalid book.
    """
    if source is None:
        return RuleBook.default()
    if isinstance(source, RuleBook):
        return source
    if isinstance(source, Mapping):
        return RuleBook.from_dict(source)
    if isinstance(source, os.PathLike):
        return RuleBook.from_path(os.fspath(source))
    if isinstance(source, str):
        looks_like_text = "\n" in source or source.lstrip().startswith("{") or "=" in source
        if looks_like_text and not os.path.exists(source):
            return RuleBook.from_str(source)
        return RuleBook.from_path(source)
    raise TypeError(f"rules must be a RuleBook, a dict, a path or rule-book text, not {type(source).__name__}")


def _engine(rules: Union[RulesLike, Engine], missing_months: str = "error") -> Engine:
    if isinstance(rules, Engine):
        return rules
    return Engine(load_rules(rules), missing_months)


def evaluate(
    rules: Union[RulesLike, Engine],
    customer: Any,
    month: Any,
    input: Any,
    state: Optional[CustomerState] = None,
    *,
    missing_months: str = "error",
) -> MonthOutcome:
    """Evaluates one customer for one month.

    ``customer`` is an id or a dict (``id``, ``legal_entity``, ``kind``); ``input`` is the
    month's AUM (``Decimal``/``str``/``int``) or a dict in the conformance vectors' input form
    (``{"aum": {"averages": [...]}, "special": {"action": "grant"}}``).
    """
    return _engine(rules, missing_months).evaluate(customer, month, input, state)


def replay(
    rules: Union[RulesLike, Engine],
    customer: Any,
    history: Union[Mapping[Any, Any], Iterable[Tuple[Any, Any]]],
    initial: Optional[CustomerState] = None,
    *,
    missing_months: str = "error",
) -> List[MonthOutcome]:
    """Replays a customer's history (``{month: input}`` or ``[(month, input), ...]``) month by
    month from ``initial`` (a new customer by default)."""
    return _engine(rules, missing_months).replay(customer, history, initial)


def _table(obj: Any) -> Any:
    """A pyarrow table when pyarrow is installed, else the Arrow PyCapsule object itself."""
    try:
        import pyarrow as pa
    except ImportError:
        return obj
    return pa.table(obj)


@dataclass(frozen=True)
class PortfolioResult:
    """The tables of a portfolio run (a month, a range of months or a history):

    * ``states``: one row per customer evaluated in a month (``has_record`` false for a
      customer absent from the extract and evaluated at zero AUM);
    * ``events`` and ``alerts``;
    * ``errors``: one row per customer held back or record refused (the customer keeps its
      state and is not evaluated), with the core's error parts: ``customer_id``, ``month``
      (the error's), ``reported_in`` (the evaluated month), ``category``, ``field``,
      ``message``, ``record_table``/``record_row`` and ``other_record_table``/
      ``other_record_row`` (the first record of a duplicate).

    Amount columns are ``decimal128(38, 2)``."""

    states: Any
    events: Any
    alerts: Any
    errors: Any


def _result(tables: Tuple[Any, Any, Any, Any]) -> PortfolioResult:
    return PortfolioResult(*(_table(t) for t in tables))


class Portfolio:
    """A portfolio whose customers' states are kept between months, keyed by customer id.

    Every run goes through the core's portfolio month, the same as the CLI, C and Java: input
    tables are matched to states by id; a record dated outside the declared month, a
    duplicate or a bad record holds its customer back (reported in ``errors``); a known
    customer without a record follows ``absent`` (``"zero"``: evaluated at zero AUM, the
    default everywhere; ``"hold"``: left as it is; ``"error"``: held back and reported).

    >>> p = Portfolio(load_rules())                                    # doctest: +SKIP
    >>> r = p.evaluate_month("2024-01", table)   # customer_id, aum    # doctest: +SKIP
    >>> text = p.to_states_text()                # checked, keyed by id # doctest: +SKIP
    """

    def __init__(self, rules: RulesLike = None, *, missing_months: str = "error", absent: str = "zero") -> None:
        self._native = _native.Portfolio(load_rules(rules), missing_months, absent)

    @classmethod
    def from_states_text(
        cls,
        rules: RulesLike,
        text: str,
        *,
        missing_months: str = "error",
        absent: str = "zero",
        accept_rule_change: bool = False,
        name: str = "states",
    ) -> "Portfolio":
        """A portfolio from states written by ``to_states_text`` (or by the CLI, C or Java).

        The text is checked (header, count, SHA-256): a cut or altered text raises
        ``StateError`` naming its line (``.record == (name, line)``). States written under
        another rule book raise ``StateError`` unless ``accept_rule_change=True`` (retired
        tiers mapped with ``tier_map``)."""
        p = cls.__new__(cls)
        p._native = _native.Portfolio.from_states_text(
            load_rules(rules), text, missing_months, absent, accept_rule_change, name
        )
        return p

    def to_states_text(self) -> str:
        """The states in the core's checked text form, stamped with this portfolio's rule book."""
        return self._native.to_states_text()

    @property
    def states_rule_book(self) -> Optional[str]:
        """The fingerprint of the rule book that wrote the states (``RuleBook.fingerprint``)."""
        return self._native.states_rule_book

    def evaluate_month(
        self,
        month: Any,
        table: Any = None,
        *,
        designations: Any = None,
        daily: Any = None,
        explain: bool = False,
        threads: int = 1,
        absent: Optional[str] = None,
        accept_rule_change: bool = False,
        table_name: str = "aum",
        designations_name: str = "designations",
        daily_name: str = "daily",
    ) -> PortfolioResult:
        """Evaluates the declared ``month`` (``"YYYY-MM"``, a ``datetime.date``, or a range
        ``"YYYY-MM..YYYY-MM"``) for the AUM ``table`` (``customer_id`` and ``aum`` or
        component columns; optional ``month``, ``legal_entity``, ``customer_kind``), the
        special VIP ``designations`` (``customer_id``, ``month``, ``action``, optional
        ``tier``, ``months``) and the ``daily`` balances. Headers may be English or Chinese,
        as the CLI reads them. Records are reported as ``(table_name, row)``, rows 0-based.

        The GIL is released while the engine works; ``threads`` > 1 splits the batch. Raises
        (with every error in ``.errors``, the states unchanged) when a record names no usable
        customer or the states were written under another rule book."""
        return _result(
            self._native.evaluate_month(
                month, table, designations, daily, explain, threads, absent, accept_rule_change,
                table_name, designations_name, daily_name,
            )
        )

    def evaluate_history(
        self,
        history: Any,
        *,
        months: Any = None,
        designations: Any = None,
        explain: bool = False,
        threads: int = 1,
        absent: Optional[str] = None,
        accept_rule_change: bool = False,
    ) -> PortfolioResult:
        """Evaluates a long history table (with a ``month`` column) over ``months`` (a range
        ``"YYYY-MM..YYYY-MM"``; by default the table's first to last month), months ascending."""
        return _result(
            self._native.evaluate_history(history, months, designations, explain, threads, absent, accept_rule_change)
        )

    def state(self, customer_id: str) -> Optional[CustomerState]:
        """A customer's current state, or ``None`` for an unknown customer."""
        return self._native.state(customer_id)

    def set_state(
        self, customer_id: str, state: CustomerState, legal_entity: Optional[str] = None, kind: str = "personal"
    ) -> None:
        """Sets a customer's state, for instance one stored by the core system."""
        self._native.set_state(customer_id, state, legal_entity, kind)

    def customer_ids(self) -> List[str]:
        """The customers, in the portfolio's order."""
        return self._native.customer_ids()

    def __len__(self) -> int:
        return len(self._native)

    def __repr__(self) -> str:
        return repr(self._native)


def evaluate_portfolio(
    rules: Union[RulesLike, Portfolio],
    month: Any,
    table: Any,
    *,
    designations: Any = None,
    missing_months: str = "error",
    absent: str = "zero",
    explain: bool = False,
) -> PortfolioResult:
    """Evaluates one portfolio month: with a ``Portfolio``, from its states; with rules, from new
    customers' states."""
    portfolio = rules if isinstance(rules, Portfolio) else Portfolio(rules, missing_months=missing_months, absent=absent)
    return portfolio.evaluate_month(month, table, designations=designations, explain=explain)


def replay_portfolio(
    rules: RulesLike,
    history: Any,
    *,
    months: Any = None,
    designations: Any = None,
    missing_months: str = "error",
    absent: str = "zero",
    explain: bool = False,
) -> PortfolioResult:
    """Replays a long history table (``customer_id``, ``month``, ``aum``, ...) from new
    customers' states over ``months`` (by default the table's first to last month)."""
    return _result(
        _native.replay_table(load_rules(rules), history, missing_months, explain, months, absent, designations)
    )


@dataclass(frozen=True)
class Simulation:
    """The same history under two rule books.

    ``counts``: per ``month`` and ``tier`` (effective tier; null for customers who are not
    VIPs), ``count_a``, ``count_b`` and ``delta`` (b - a). ``changes``: each customer-month
    whose effective tier differs, with ``tier_a``, ``tier_b``, ``status_a``, ``status_b``.
    """

    counts: Any
    changes: Any

    def summary(self) -> str:
        """A few lines: customers who change tier per month (needs pyarrow)."""
        import pyarrow as pa

        changes = pa.table(self.changes)
        months = changes.column("month").to_pylist()
        per_month: dict = {}
        for m in months:
            per_month[m] = per_month.get(m, 0) + 1
        lines = [f"{m}: {n} customers land in a different tier" for m, n in sorted(per_month.items())]
        return "\n".join(lines) if lines else "no customer lands in a different tier"


def simulate(history: Any, rules_a: RulesLike, rules_b: RulesLike, *, missing_months: str = "error") -> Simulation:
    """Replays the same history table under two rule books and reports, per month, how many
    customers land in each tier under each, and who changes: how a bank sizes a rule change."""
    counts, changes = _native.simulate(history, load_rules(rules_a), load_rules(rules_b), missing_months)
    return Simulation(_table(counts), _table(changes))


def explain(
    customer_history: Any,
    rules: Union[RulesLike, Engine] = None,
    *,
    customer: Any = "customer",
    initial: Optional[CustomerState] = None,
    missing_months: str = "error",
) -> Any:
    """The month-by-month story of one customer as a table: AUM, standing, events with their
    reasons (codes, 中文 names and one English line each) and alerts.

    ``customer_history`` is a list of ``MonthOutcome`` (already replayed), ``{month: input}``,
    ``[(month, input), ...]``, or a table with ``month`` and ``aum`` columns (needs pyarrow).
    """
    if hasattr(customer_history, "__arrow_c_stream__") or hasattr(customer_history, "__arrow_c_array__"):
        import pyarrow as pa

        t = pa.table(customer_history)
        customer_history = list(zip(t.column("month").to_pylist(), t.column("aum").to_pylist()))
    items = customer_history.items() if isinstance(customer_history, Mapping) else customer_history
    items = list(items)
    if items and all(isinstance(o, MonthOutcome) for o in items):
        outcomes = items
    else:
        outcomes = replay(rules, customer, items, initial, missing_months=missing_months)
    return _table(_native.explain_outcomes(outcomes))
