"""The exceptions of crm_tiering, one class per category of the engine's errors.

``TieringError`` is the base class. The engine's four categories map one to one:

* ``RuleFileError``: an invalid rule book (``.field``, ``.line``, ``.column``);
* ``InputError``: an invalid input record; also a ``ValueError`` (``.customer``, ``.month``,
  ``.field``);
* ``SequenceError``: months not evaluated strictly in order (``.customer``, ``.month``,
  ``.last_month``, ``.expected_month``);
* ``StateError``: a stored state that cannot be used (``.customer``, ``.field``).

``ContributionError`` is the customer contribution's (``crm_tiering.contribution``): a rule book,
a table or a run that failed, with ``.kind``, ``.table``, ``.row``, ``.line``, ``.subject`` and
``.field`` (below), every error of the run in ``.errors``.

``StoreError`` is the month-end store's (``open_store``): ``.kind`` is the store's error kind
(``missing``, ``exists``, ``locked``, ``already_committed``, ``sequence``, ``schema``,
``read_only``, ``corrupt``, ``input``, ``database``), ``.category`` is ``"store"``.

Every error has ``.category``, ``.customer``, ``.month`` (``"YYYY-MM"``), ``.field``, exactly
as the core reports them (no surface rebuilds them), and for an error about a record of an
input table or a states text, ``.record`` and ``.other_record`` as ``(table, row)`` (rows are
0-based for tables, 1-based lines for states text; ``other_record`` is the first record of a
duplicate). A portfolio month that cannot run at all raises the class of its first error with
every error in ``.errors``; any other error's ``.errors`` is ``[self]``. An error raised by a
replay (``replay``, ``Engine.replay``) names the customer and month and carries the outcomes of
the months before it as ``.outcomes`` (an empty list for the first month; ``None`` elsewhere).
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

__all__ = [
    "TieringError", "RuleFileError", "InputError", "SequenceError", "StateError", "StoreError", "ContributionError",
]


class TieringError(Exception):
    """Any error the tiering engine reports."""

    category: str = ""

    def __init__(self, message: str, **attrs: Any) -> None:
        super().__init__(message)
        self.message = message
        self._attrs = attrs
        self.customer: Optional[str] = attrs.get("customer")
        self.month: Optional[str] = attrs.get("month")
        self.field: Optional[str] = attrs.get("field")
        self.record: Optional[Tuple[str, int]] = _record(attrs.get("record"))
        self.other_record: Optional[Tuple[str, int]] = _record(attrs.get("other_record"))
        errors = attrs.get("errors")
        self.errors: List[TieringError] = list(errors) if errors else [self]
        self.outcomes: Optional[List[Any]] = None

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.message, self._attrs))

    def __str__(self) -> str:
        return self.message


def _record(value: Any) -> Optional[Tuple[str, int]]:
    if value is None:
        return None
    table, row = value
    return (str(table), int(row))


def _rebuild(cls: type, message: str, attrs: dict) -> TieringError:
    return cls(message, **attrs)  # type: ignore[no-any-return]


class RuleFileError(TieringError):
    """The rule book is invalid: ``field`` names the offending field, with ``line`` and
    ``column`` where the parser gives them."""

    category = "rules"

    def __init__(self, message: str, **attrs: Any) -> None:
        super().__init__(message, **attrs)
        self.line: Optional[int] = int(attrs["line"]) if attrs.get("line") is not None else None
        self.column: Optional[int] = int(attrs["column"]) if attrs.get("column") is not None else None


class InputError(TieringError, ValueError):
    """A customer's input for a month is invalid: ``customer``, ``month`` and ``field`` say
    which record and which value."""

    category = "input"


class SequenceError(TieringError):
    """A customer's months are not evaluated strictly in order."""

    category = "sequence"

    def __init__(self, message: str, **attrs: Any) -> None:
        super().__init__(message, **attrs)
        self.last_month: Optional[str] = attrs.get("last_month")
        self.expected_month: Optional[str] = attrs.get("expected_month")


class StateError(TieringError):
    """A stored state cannot be used: schema version, malformed, unknown tier (``field``
    ``tier``), a states text cut short or altered (``record`` names its line), states written
    under another rule book (``field`` ``rule_book``)."""

    category = "state"


class StoreError(TieringError):
    """The month-end store failed or refused: ``kind`` is the store's error kind (``missing``
    for a location without a store, which is never made into one; ``exists`` when
    ``Store.create`` finds a store or a file; ``locked``, ``already_committed``, ``sequence``,
    ``schema`` for a newer or unknown schema, an older one a read-only open cannot upgrade, or
    a database that is not a store; ``read_only``; ``corrupt`` for a damaged store: a deleted or
    edited month, state or head, a file cut short or empty; ``input`` for data the store cannot
    keep; ``database`` for the database's own failures: connection, disk)."""

    category = "store"

    def __init__(self, message: str, **attrs: Any) -> None:
        super().__init__(message, **attrs)
        self.kind: Optional[str] = attrs.get("kind")


class ContributionError(TieringError, ValueError):
    """A contribution rule book, input table or run that failed (SPEC 20.8): nothing is
    computed in part. The exception carries its first error's attributes and every error in
    ``.errors``, each a ``ContributionError`` with:

    * ``kind``: ``rules`` (the rule book; ``field`` is the key path), ``table`` (an input
      table's column or cell: ``table``, ``row`` counted from 0 over the table, ``field`` the
      column), ``record`` (a record's value: ``subject`` such as ``"account a1"``, ``field``),
      ``rate_gap``, ``unknown_product``, ``duplicate``, ``shares`` (``customer``),
      ``zero_driver``, ``conservation``, ``too_large``;
    * ``table``, ``row``, ``line`` (a CSV table's line or ``None``), ``subject``, ``field``;
    * ``record``: ``(table, row)`` for an error about a row of an input table.
    """

    category = "contribution"

    def __init__(self, message: str, **attrs: Any) -> None:
        super().__init__(message, **attrs)
        self.kind: Optional[str] = attrs.get("kind")
        self.table: Optional[str] = attrs.get("table")
        self.row: Optional[int] = attrs.get("row")
        self.line: Optional[int] = attrs.get("line")
        self.subject: Optional[str] = attrs.get("subject")
