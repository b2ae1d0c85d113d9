"""The month-end store from Python: ``Store`` (a SQLite file or a PostgreSQL database the CLI's
``run`` commits into), its reads as Arrow tables, its month commits and rule-change sizing.
Imported into ``crm_tiering``; use it from there (``crm_tiering.Store``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, List, Optional, Union

from . import Portfolio, PortfolioResult, RuleBook, RulesLike, Simulation, _native, _result, _table, load_rules


@dataclass(frozen=True)
class StoreHistory:
    """One customer's history across the committed months of a store (``Store.history``):
    ``states`` (one row per committed month the customer has a state in), ``events`` (with
    their ``explanation`` text) and ``alerts``, with the columns of a ``PortfolioResult``'s."""

    states: Any
    events: Any
    alerts: Any


@dataclass(frozen=True)
class StoreLoans:
    """The stored loan months of a store (``Store.loans``, SPEC §21.10–§21.11), the core's loan
    tables: ``customers`` (``month``, ``customer_id``, ``loans``, ``worst``, ``worst_zh``,
    ``trend``, ``non_performing``), ``results`` (one row per loan: the overdue days, ``floor``,
    ``bank``, ``effective`` with their Chinese names, ``bank_kinder_than_floor``, ``upgrade``,
    the clean counters and ``expected_loss`` as ``decimal128(38, 28)``) and ``signals`` (one row
    per signal: ``number``, ``signal``, ``signal_zh``, ``overdue_days``, ``boundary``, the
    classes and an ``upgrade_held_by_clean_window`` signal's clean counters). The columns of
    the CLI's ``export``'s ``loan_*.csv`` and ``loan_*.parquet``."""

    customers: Any
    results: Any
    signals: Any


@dataclass(frozen=True)
class CommittedMonth:
    """A month committed into a store by ``Store.commit_month``: the run's id in the store's
    audit, the month (``"YYYY-MM"``) and its results (states, events, alerts, errors)."""

    run_id: int
    month: str
    result: "PortfolioResult"


class Store:
    """The month-end store the CLI's ``run`` commits into (``crates/crm-tiering-store``): a
    SQLite file or a PostgreSQL database (``postgres://user@host:port/db``).

    ``Store(location)`` and ``Store.open(location)`` open an existing store and never make one:
    a location without a store raises ``StoreError`` (kind ``missing``), an empty or cut file
    kind ``corrupt``; ``Store.create(location)`` makes a new one (with a new portfolio id) and
    refuses a location that holds a store or a file (kind ``exists``). ``read_only=True`` opens
    without ever writing (a store the user cannot write opens too).

    Tables are Arrow (pyarrow when installed) with the columns of a ``PortfolioResult``'s:
    amounts ``decimal128(38, 2)``, months ``date32``. ``months`` is a month (``"YYYY-MM"``,
    ``datetime.date``) or a range (``"YYYY-MM..YYYY-MM"``, ``(first, last)``); by default the
    latest committed month. A single month that is not committed is an ``InputError``; a range
    gives the committed months in it. Every read checks what it reads against the store's chain
    of months (a deleted or edited month is ``StoreError`` kind ``corrupt``). Store failures
    raise ``StoreError`` (``.kind``). Reads release the GIL. A ``Store`` is a context manager
    (``close()`` at the end).

    >>> store = Store.open("out/demo/crm-tiering.db")                  # doctest: +SKIP
    >>> store.months()[-1], store.states().num_rows                    # doctest: +SKIP
    >>> store.commit_month(load_rules(), "2025-01", table)             # doctest: +SKIP
    """

    def __init__(
        self, location: Union[str, "os.PathLike[str]"], *, create: bool = False, read_only: bool = False
    ) -> None:
        self._native = _native.Store(os.fspath(location), create=create, read_only=read_only)

    @classmethod
    def open(cls, location: Union[str, "os.PathLike[str]"], *, read_only: bool = False) -> "Store":
        """Opens the existing store at ``location`` (never makes one)."""
        return cls(location, read_only=read_only)

    @classmethod
    def create(cls, location: Union[str, "os.PathLike[str]"]) -> "Store":
        """Makes a new, empty store at ``location``: a SQLite file that does not exist yet, or a
        PostgreSQL database without a store."""
        return cls(location, create=True)

    @property
    def location(self) -> str:
        """The SQLite path or the PostgreSQL URL (without its password)."""
        return self._native.location

    @property
    def portfolio_id(self) -> str:
        """The store's portfolio id: random, made when the store was created."""
        return self._native.portfolio_id

    def months(self) -> List[str]:
        """The committed months, in order, as ``"YYYY-MM"``."""
        return self._native.months()

    def runs(self) -> Any:
        """Every run, oldest first, with its audit data: ``run_id``, ``month``, ``status``
        (``running``, ``committed``, ``replaced``, ``aborted``, ``abandoned``,
        ``rolled_back``), ``rerun``, ``started_at``/``finished_at`` (UTC timestamps), ``pid``,
        ``host``, ``tool_version``, ``rule_book_fingerprint``, ``inputs`` (JSON: role, path,
        sha256, rows), the counts ``states``, ``evaluated``, ``events``, ``alerts``,
        ``rejects`` (null until committed), ``note``."""
        return _table(self._native.runs())

    def rule_book(self, run_id: Optional[int] = None) -> Optional[RuleBook]:
        """The rule book a run used; by default the one that committed the latest month
        (``None`` for an empty store)."""
        return self._native.rule_book(run_id)

    def states(self, months: Any = None) -> Any:
        """The states after the committed ``months``: one row per customer and month, the
        columns of ``PortfolioResult.states`` (``aum`` and ``has_record`` null for a customer
        held back that month), customers in id order."""
        return _table(self._native.states(months))

    def events(self, months: Any = None, *, explain: bool = False) -> Any:
        """The events of the committed ``months`` (``explain=True`` fills the ``explanation``
        column with each event's English line)."""
        return _table(self._native.events(months, explain=explain))

    def alerts(self, months: Any = None) -> Any:
        """The alerts of the committed ``months``."""
        return _table(self._native.alerts(months))

    def rejects(self, months: Any = None) -> Any:
        """The customers held back and records refused by the runs that committed ``months``:
        ``customer_id``, ``month``, ``run_id``, ``seq``, ``category``, ``field``, ``message``,
        ``record`` and ``other_record`` (``file:line``, as the CLI names them)."""
        return _table(self._native.rejects(months))

    def loan_months(self) -> List[str]:
        """The stored loan months (written by the CLI's ``loans --store``), in order, as
        ``"YYYY-MM"``. Loan months are not in the tiering chain: a store may hold loan months
        without their tiering months, and the other way round."""
        return self._native.loan_months()

    def loans(self, months: Any = None) -> StoreLoans:
        """The stored loan ``months`` (by default the latest stored loan month; a single month
        that is not stored is an ``InputError``, a range gives the stored loan months in it):
        each customer's, loan's and signal's row, as ``StoreLoans``. The stored states after
        each month are checked as they are read (a damaged store raises ``StoreError`` kind
        ``corrupt``)."""
        return StoreLoans(*(_table(t) for t in self._native.loans(months)))

    def history(self, customer_id: str) -> StoreHistory:
        """One customer's states, events and alerts across every committed month. A customer
        the store does not hold is an ``InputError``."""
        return StoreHistory(*(_table(t) for t in self._native.history(customer_id)))

    def portfolio(
        self,
        rules: RulesLike,
        *,
        missing_months: str = "error",
        accept_rule_change: bool = False,
        **options: Any,
    ) -> "Portfolio":
        """A ``Portfolio`` holding the latest committed states (new customers for an empty
        store), to evaluate the months after them as the CLI's ``run`` would; ``options`` are
        the portfolio options of its every run, as ``Portfolio(rules, **options)`` takes them
        (``absent="hold"``, ``min_records=...``). States written under another rule book raise
        ``StateError`` (field ``rule_book``) unless ``accept_rule_change=True``. The store is
        not written: the portfolio is yours (to commit a month, use ``commit_month``)."""
        p = Portfolio.__new__(Portfolio)
        p._native = self._native.portfolio(
            load_rules(rules), missing_months=missing_months, accept_rule_change=accept_rule_change, **options
        )
        return p

    def simulate(
        self,
        rules_b: RulesLike,
        months: Any,
        *,
        rules_a: RulesLike = None,
        missing_months: str = "error",
        **options: Any,
    ) -> "Simulation":
        """Sizes a rule change over the committed ``months`` (SPEC §15.9): replays them under
        rule book A (``rules_a``; by default the book that committed the last of them) and
        ``rules_b`` from the states before them, with the AUM, designations and held customers
        the store holds, as ``crm-tiering simulate --store`` does. ``Simulation.baseline``
        lists each month and tier where A's replay is not what was committed (empty when the
        baseline holds). A month of the range that is not committed is an ``InputError``."""
        native_a = None if rules_a is None else load_rules(rules_a)
        counts, changes, baseline = self._native.simulate(
            load_rules(rules_b), months, rules_a=native_a, missing_months=missing_months, **options
        )
        return Simulation(_table(counts), _table(changes), _table(baseline))

    def commit_month(
        self,
        rules: RulesLike,
        month: Any,
        table: Any = None,
        *,
        designations: Any = None,
        daily: Any = None,
        rerun: bool = False,
        missing_months: str = "error",
        absent: str = "zero",
        accept_rule_change: bool = False,
        skip_bad_rows: bool = False,
        threads: int = 1,
        explain: bool = False,
        table_name: str = "aum",
        designations_name: str = "designations",
        daily_name: str = "daily",
    ) -> CommittedMonth:
        """Evaluates the declared ``month`` for the input tables (as ``Portfolio.evaluate_month``
        reads them) from the store's latest committed states and commits it, the way the CLI's
        ``run`` does: under the store's lock (another run holding it raises ``StoreError``
        kind ``locked``), the whole month or nothing. A committed month raises kind
        ``already_committed`` unless ``rerun=True`` (the latest month only). Customers held
        back by bad records raise with every error and nothing is committed, unless
        ``skip_bad_rows=True`` (they are kept as the run's rejects)."""
        run_id, tables = self._native.commit_month(
            load_rules(rules), month, table, designations=designations, daily=daily, rerun=rerun,
            missing_months=missing_months, absent=absent, accept_rule_change=accept_rule_change,
            skip_bad_rows=skip_bad_rows, threads=threads, explain=explain, table_name=table_name,
            designations_name=designations_name, daily_name=daily_name,
        )
        result = _result(tables)
        month_text = str(month) if isinstance(month, str) else f"{month:%Y-%m}"
        return CommittedMonth(run_id, month_text, result)

    def rollback(self, month: Any, *, who: Optional[str] = None) -> List[int]:
        """Undoes the latest committed ``month`` (only the latest can be): its runs are audited
        as ``rolled_back`` (by ``who``, default the user), its rows leave the store. Returns
        the run ids rolled back."""
        return self._native.rollback(month, who=who)

    def close(self) -> None:
        """Closes the connection; later reads raise ``ValueError``."""
        self._native.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._native)


def open_store(
    location: Union[str, "os.PathLike[str]"], *, create: bool = False, read_only: bool = False
) -> Store:
    """Opens the month-end store at ``location``: a SQLite file path (the CLI's
    ``crm-tiering.db``) or a ``postgres://`` URL. A location without a store raises
    ``StoreError`` (kind ``missing``) and is never made into one; ``create=True`` makes a new
    store there instead (``Store.create``: kind ``exists`` when one, or any file, is there).
    ``read_only=True`` never writes. A store of a newer schema raises ``StoreError`` (kind
    ``schema``)."""
    if create:
        return Store.create(location)
    return Store.open(location, read_only=read_only)


for _cls in (StoreHistory, StoreLoans, CommittedMonth, Store):
    _cls.__module__ = "crm_tiering"
open_store.__module__ = "crm_tiering"
