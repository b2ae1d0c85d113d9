"""crm_tiering: deterministic bank customer tiering by AUM (客户分层管理), for analysts.

Money is ``decimal.Decimal`` in and out (a float is a ``TypeError``); months are
``datetime.date`` or ``"YYYY-MM"`` (a naive ``datetime`` gives its calendar month; a
timezone-aware one is a ``TypeError``: convert it to the bank's zone first). Portfolio functions take any table with the Arrow
PyCapsule interface (pyarrow, polars, pandas >= 2.2) and return Arrow tables whose amounts
are ``decimal128(38, 2)`` and months ``date32`` (``datetime.date``, the month's first day):
pyarrow tables when pyarrow is installed.

Every function takes the rules first, then the data, then options, which are keyword-only.

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
from .errors import (
    ContributionError,
    InputError,
    RuleFileError,
    SequenceError,
    StateError,
    StoreError,
    TieringError,
)

__version__: str = _native.__version__

__all__ = [
    "STATE_SCHEMA_VERSION",
    "Alert",
    "ContributionError",
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
    "CommittedMonth",
    "Store",
    "StoreError",
    "StoreHistory",
    "StoreLoans",
    "TieringError",
    "evaluate",
    "evaluate_portfolio",
    "explain",
    "load_rules",
    "open_store",
    "read_parquet",
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
    *,
    state: Optional[CustomerState] = None,
    missing_months: str = "error",
) -> MonthOutcome:
    """Evaluates one customer for one month, from ``state`` (a new customer by default).

    ``customer`` is an id or a dict (``id``, ``legal_entity``, ``kind``); ``input`` is the
    month's AUM (``Decimal``/``str``/``int``) or a mapping: plain (``{"aum": "200000"}``,
    component codes ``{"time_deposit": "150000", "wealth_product": "60000"}``, with
    ``"grant": {"tier": "gold", "months": 12}`` or ``"revoke": True``) or the conformance
    vectors' nested form (``{"aum": {"averages": [...]}, "special": {"action": "grant"}}``).
    """
    return _engine(rules, missing_months).evaluate(customer, month, input, state=state)


def replay(
    rules: Union[RulesLike, Engine],
    customer: Any,
    history: Union[Mapping[Any, Any], Iterable[Any]],
    *,
    initial: Optional[CustomerState] = None,
    missing_months: str = "error",
) -> List[MonthOutcome]:
    """Replays a customer's history (``{month: input}``, or ``(month, input)`` pairs as tuples or
    lists, as ``json.load`` gives them) month by month from ``initial`` (a new customer by
    default). A month that cannot be evaluated raises its error naming the customer and the
    month, with the outcomes of the months before it in ``.outcomes``."""
    return _engine(rules, missing_months).replay(customer, history, initial=initial)


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

    def write_parquet(self, directory: Union[str, "os.PathLike[str]"]) -> None:
        """Writes ``states.parquet``, ``events.parquet``, ``alerts.parquet`` and
        ``errors.parquet`` into ``directory`` (created when missing; needs pyarrow). Amounts stay
        ``decimal128(38, 2)``, months ``date32``, code columns dictionaries."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        os.makedirs(directory, exist_ok=True)
        for name in _RESULT_TABLES:
            pq.write_table(pa.table(getattr(self, name)), os.path.join(directory, f"{name}.parquet"))

    @classmethod
    def read_parquet(cls, directory: Union[str, "os.PathLike[str]"]) -> "PortfolioResult":
        """Reads the tables written by ``write_parquet`` back as pyarrow tables; a missing
        directory or table raises ``FileNotFoundError`` naming it."""
        return read_parquet(directory)


_RESULT_TABLES = ("states", "events", "alerts", "errors")


def read_parquet(directory: Union[str, "os.PathLike[str]"]) -> PortfolioResult:
    """States, events, alerts and errors from ``<directory>/<name>.parquet`` as pyarrow tables
    (``PortfolioResult.write_parquet`` writes all four). A missing directory or file raises
    ``FileNotFoundError`` naming it: a missing table is never read as an empty one."""
    import pyarrow.parquet as pq

    if not os.path.isdir(directory):
        raise FileNotFoundError(f"no such directory of result tables: {os.fspath(directory)}")
    tables = []
    for name in _RESULT_TABLES:
        path = os.path.join(directory, f"{name}.parquet")
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such result table: {path} (write_parquet writes all four)")
        tables.append(pq.read_table(path))
    return PortfolioResult(*tables)


def _result(tables: Tuple[Any, Any, Any, Any]) -> PortfolioResult:
    return PortfolioResult(*(_table(t) for t in tables))


def _run(call: Any, *args: Any, **kwargs: Any) -> PortfolioResult:
    """A native portfolio run as a ``PortfolioResult``; a ``KeyboardInterrupt`` raised after
    whole months were applied carries their tables as a ``PortfolioResult`` in ``.result``."""
    try:
        return _result(call(*args, **kwargs))
    except KeyboardInterrupt as e:
        tables = getattr(e, "result", None)
        if isinstance(tables, tuple):
            e.result = _result(tables)
        raise


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

    def __init__(
        self, rules: RulesLike = None, *, missing_months: str = "error", absent: str = "zero", **options: Any
    ) -> None:
        self._native = _native.Portfolio(load_rules(rules), missing_months=missing_months, absent=absent, **options)

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
        **options: Any,
    ) -> "Portfolio":
        """A portfolio from states written by ``to_states_text`` (or by the CLI, C or Java).

        The text is checked (header, count, SHA-256): a cut or altered text raises
        ``StateError`` naming its line (``.record == (name, line)``). States written under
        another rule book raise ``StateError`` unless ``accept_rule_change=True`` (retired
        tiers mapped with ``tier_map``). ``options`` are the portfolio options of every run."""
        p = cls.__new__(cls)
        p._native = _native.Portfolio.from_states_text(
            load_rules(rules), text, missing_months=missing_months, absent=absent,
            accept_rule_change=accept_rule_change, name=name, **options,
        )
        return p

    @classmethod
    def from_states_file(
        cls,
        rules: RulesLike,
        path: Union[str, "os.PathLike[str]"],
        *,
        missing_months: str = "error",
        absent: str = "zero",
        accept_rule_change: bool = False,
        **options: Any,
    ) -> "Portfolio":
        """A portfolio from a states file: the ``states.jsonl`` the CLI's ``run`` writes, or
        ``to_states_text()`` saved. Errors name the file and line (``.record == (path, line)``)."""
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        return cls.from_states_text(
            rules, text, missing_months=missing_months, absent=absent,
            accept_rule_change=accept_rule_change, name=os.fspath(path), **options,
        )

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
        table_name: str = "aum",
        designations_name: str = "designations",
        daily_name: str = "daily",
        measures: Optional[Mapping[str, Mapping[str, Any]]] = None,
        **options: Any,
    ) -> PortfolioResult:
        """Evaluates the declared ``month`` (``"YYYY-MM"``, a ``datetime.date``, or a range
        ``"YYYY-MM..YYYY-MM"``) for the AUM ``table`` (``customer_id`` and ``aum`` or
        component columns; optional ``month``, ``legal_entity``, ``customer_kind``), the
        special VIP ``designations`` (``customer_id``, ``month``, ``action``, optional
        ``tier``, ``months``) and the ``daily`` balances. Headers may be English or Chinese,
        as the CLI reads them. Records are reported as ``(table_name, row)``, rows 0-based.

        ``options`` are the core's portfolio options (SPEC §15), over the portfolio's own:
        ``absent`` (``"zero"``, ``"hold"``, ``"error"``), ``threads``, ``allow_empty_month``,
        ``empty_entities`` (a list of legal entity codes), ``catch_up``, ``rule_book_change``
        (or ``accept_rule_change=True``); each is given to the core's one parser as text
        (``True`` as ``true``, a list joined with commas), so an unknown key or value raises
        the core's message as ``InputError`` naming the key.

        ``measures`` gives a measure's values computed beside the tables, per customer id
        (``{"contribution": contribution.net_contribution()}``, SPEC §20.11): the core gives each
        record of the (single) month its customer's value; a customer without one has none
        (the measure's ``absent`` applies). A book or rule set that does not declare the
        measure, or a table that gives it in a column too, raises with nothing evaluated.

        The GIL is released while the engine works; ``threads`` > 1 splits the batch. Raises
        (with every error in ``.errors``, the states unchanged) when a record names no usable
        customer, the states were written under another rule book, the month has no AUM
        record at all (``InputError``, field ``month``; ``allow_empty_month=True`` when it is
        really empty) or is not the month after the portfolio's latest (``SequenceError``).

        Ctrl-C: while the tables are read the portfolio is unchanged and ``KeyboardInterrupt``
        is raised; once a month is evaluated it stays applied, and the interrupt is raised
        after the whole months applied (between the months of a range) with their tables as a
        ``PortfolioResult`` in its ``.result``."""
        return _run(
            self._native.evaluate_month, month, table, designations=designations, daily=daily, explain=explain,
            table_name=table_name, designations_name=designations_name, daily_name=daily_name,
            measures=None if measures is None else {str(k): dict(v) for k, v in measures.items()}, **options,
        )

    def evaluate_history(
        self,
        history: Any,
        *,
        months: Any = None,
        designations: Any = None,
        explain: bool = False,
        **options: Any,
    ) -> PortfolioResult:
        """Evaluates a long history table (with a ``month`` column) over ``months`` (a range
        ``"YYYY-MM..YYYY-MM"``; by default the table's first to last month), months ascending.
        ``options`` as for ``evaluate_month``."""
        return _run(
            self._native.evaluate_history, history, months=months, designations=designations, explain=explain,
            **options,
        )

    def state(self, customer_id: str) -> Optional[CustomerState]:
        """A customer's current state, or ``None`` for an unknown customer."""
        return self._native.state(customer_id)

    def set_state(
        self, customer_id: str, state: CustomerState, *, legal_entity: Optional[str] = None, kind: str = "personal"
    ) -> None:
        """Sets a customer's state, for instance one stored by the core system."""
        self._native.set_state(customer_id, state, legal_entity=legal_entity, kind=kind)

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
    daily: Any = None,
    missing_months: str = "error",
    explain: bool = False,
    measures: Optional[Mapping[str, Mapping[str, Any]]] = None,
    **options: Any,
) -> PortfolioResult:
    """Evaluates one portfolio month: with a ``Portfolio``, from its states (which it keeps);
    with rules, from new customers' states. ``measures`` and ``options`` as for
    ``Portfolio.evaluate_month``."""
    portfolio = rules if isinstance(rules, Portfolio) else Portfolio(rules, missing_months=missing_months)
    return portfolio.evaluate_month(
        month, table, designations=designations, daily=daily, explain=explain, measures=measures, **options
    )


def replay_portfolio(
    rules: RulesLike,
    history: Any,
    *,
    months: Any = None,
    designations: Any = None,
    missing_months: str = "error",
    explain: bool = False,
    **options: Any,
) -> PortfolioResult:
    """Replays a long history table (``customer_id``, ``month``, ``aum`` or component columns,
    ...) from new customers' states over ``months`` (by default the table's first to last
    month). ``options`` as for ``Portfolio.evaluate_month``."""
    return _run(
        _native.replay_table, load_rules(rules), history, months=months, designations=designations,
        missing_months=missing_months, explain=explain, **options,
    )


@dataclass(frozen=True)
class Simulation:
    """The same history under two rule books (the core's ``portfolio::simulate``, which the
    CLI's ``crm-tiering simulate`` also runs: the same columns as its ``counts.csv`` and
    ``changes.csv``).

    ``counts``: per evaluated ``month`` (a ``datetime.date``; the tier is effective from the
    month after) and effective ``tier`` (null for customers who are not VIPs), ``count_a``,
    ``count_b`` and ``delta`` (b - a). ``changes``: each customer-month whose effective tier
    differs, with ``aum``, ``tier_a``, ``tier_b``, ``status_a``, ``status_b``. ``baseline``
    (``Store.simulate`` only, else ``None``): each ``month`` and ``tier`` where rule book A's
    replay does not give the ``committed`` count (``replayed``), as the CLI's baseline.csv.
    """

    counts: Any
    changes: Any
    baseline: Any = None

    def summary(self) -> str:
        """A few lines: customers who change tier per month (needs pyarrow)."""
        import pyarrow as pa

        changes = pa.table(self.changes)
        per_month: dict = {}
        for m in changes.column("month").to_pylist():
            per_month[m] = per_month.get(m, 0) + 1
        lines = [
            f"{m:%Y-%m}: {n} customers land in a different tier (effective from the month after)"
            for m, n in sorted(per_month.items())
        ]
        return "\n".join(lines) if lines else "no customer lands in a different tier"


def simulate(
    rules_a: RulesLike,
    rules_b: RulesLike,
    history: Any,
    *,
    months: Any = None,
    designations: Any = None,
    daily: Any = None,
    states: Optional[Portfolio] = None,
    missing_months: str = "error",
    **options: Any,
) -> Simulation:
    """Replays the same history table under two rule books, from the same starting ``states``
    (a ``Portfolio``; new customers by default), over ``months`` (by default the table's first
    to last month), and reports per month how many customers stand at each effective tier
    under each book, and who changes: how a bank sizes a rule change. ``options`` as for
    ``Portfolio.evaluate_month``.

    >>> sim = simulate(rules, rules.with_tier_minimum("gold", "300000"), history)  # doctest: +SKIP
    """
    for name, value in (("rules_a", rules_a), ("rules_b", rules_b)):
        if hasattr(value, "__arrow_c_stream__") or hasattr(value, "__arrow_c_array__"):
            raise TypeError(f"simulate(rules_a, rules_b, history, ...): `{name}` is a table; the rule books come first")
    native_states = states._native if isinstance(states, Portfolio) else states
    counts, changes = _native.simulate(
        load_rules(rules_a), load_rules(rules_b), history, months=months, designations=designations, daily=daily,
        states=native_states, missing_months=missing_months, **options,
    )
    return Simulation(_table(counts), _table(changes))


_ID_COLUMNS = ("customer_id", "cust_id", "客户号", "客户编号")


def explain(
    rules: Union[RulesLike, Engine],
    history: Any,
    *,
    customer: Any = None,
    initial: Optional[CustomerState] = None,
    missing_months: str = "error",
) -> Any:
    """The month-by-month story of one customer as a table: AUM, standing, events with their
    reasons (codes, 中文 names and one English line each) and alerts.

    ``history`` is a list of ``MonthOutcome`` (already replayed; ``rules`` is then unused and
    may be ``None``), ``{month: input}``, ``(month, input)`` pairs, or a table (pyarrow, pandas,
    polars, or ``(header, rows)`` text cells) with ``month`` and ``aum`` or component columns.
    A long table of many customers gives the story of ``customer``; a table of one customer
    (or without a ``customer_id`` column) needs none.
    """
    if hasattr(history, "__arrow_c_stream__") or hasattr(history, "__arrow_c_array__") or _is_cells(history):
        if not _is_cells(history):
            import pyarrow as pa

            t = pa.table(history)
            if not any(n.strip().lower() in _ID_COLUMNS for n in t.column_names):
                t = t.append_column("customer_id", pa.array([str(customer or "customer")] * t.num_rows, pa.string()))
            history = t
        engine = _engine(rules, missing_months)
        return _table(
            _native.explain_table(
                engine.rules, history, customer=None if customer is None else str(customer), initial=initial,
                missing_months=engine.missing_months,
            )
        )
    items = list(history.items() if isinstance(history, Mapping) else history)
    if items and all(isinstance(o, MonthOutcome) for o in items):
        outcomes = items
    else:
        outcomes = replay(rules, customer if customer is not None else "customer", items, initial=initial,
                          missing_months=missing_months)
    return _table(_native.explain_outcomes(outcomes))


def _is_cells(obj: Any) -> bool:
    """A ``(header, rows)`` pair of text cells."""
    return (
        isinstance(obj, (tuple, list))
        and len(obj) == 2
        and isinstance(obj[0], (list, tuple))
        and all(isinstance(h, str) for h in obj[0])
        and isinstance(obj[1], (list, tuple))
        and all(isinstance(r, (list, tuple)) for r in obj[1])
    )


# The store's classes live in their own module; imported last, as they build on the above.
from ._store import CommittedMonth, Store, StoreHistory, StoreLoans, open_store  # noqa: E402
