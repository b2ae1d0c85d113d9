"""The driver's side of a Spark portfolio month before its tasks run (``spark.py``): the
declared months as text, and the checks of the whole portfolio that a partition cannot make."""

from typing import Any, Dict, List

import pyarrow as pa

import crm_tiering as ct

def _months_text(months: Any) -> str:
    """``"YYYY-MM"``, ``"YYYY-MM..YYYY-MM"``, a date or a ``(first, last)`` pair, as text the
    tasks pass to the core unchanged."""
    import datetime

    def one(m: Any) -> str:
        if isinstance(m, datetime.date):
            return f"{m.year:04d}-{m.month:02d}"
        return str(m)

    if isinstance(months, (tuple, list)):
        first, last = months
        return f"{one(first)}..{one(last)}"
    return one(months)


def _portfolio_checks(book: Any, aum: Any, columns: List[str], months: str, options: Dict[str, Any]) -> List[str]:
    """The checks of the whole portfolio a partition cannot make, on the driver: a declared
    month without any AUM record is refused (the core's error, raised here: the core runs them
    over one row per distinct month of the DataFrame), unless ``allow_empty_month``. Returns the
    legal entities that have an AUM record, as ``MONTH:ENTITY`` pairs (the option
    ``covered_entities``: a partition then evaluates at zero, rather than holds, the customers of
    an entity whose records all went to other partitions, as the whole portfolio does)."""
    from pyspark.sql import functions as F

    from .spark import to_arrow

    roles = dict(zip(ct._native._column_roles(book, "aum", columns), columns))
    month_col, entity_col = roles.get("month"), roles.get("legal_entity")
    check_months = not options.get("allow_empty_month")
    # One pass over the DataFrame for both: its distinct (month, legal entity) pairs.
    picks = []
    if month_col is not None:
        picks.append(F.col(f"`{month_col}`").alias("m"))
    if entity_col is not None:
        picks.append(F.col(f"`{entity_col}`").cast("string").alias("e"))
    pairs = to_arrow(aum.select(*picks).distinct()) if picks else None
    if check_months:
        if month_col is None:
            present = pa.table({"customer_id": pa.array([], pa.string()), "aum": pa.array([], pa.string())})
            if aum.limit(1).count():
                present = pa.table({"customer_id": ["_"], "aum": ["0"]})
        else:
            cells = pairs.column("m").unique()
            n = len(cells)
            present = pa.table(
                {month_col: cells, "customer_id": pa.array([f"_{k}" for k in range(n)], pa.string()),
                 "aum": pa.array(["0"] * n, pa.string())}
            )
        # The core's own rule and message; the throwaway portfolio is never kept.
        ct.Portfolio(book, missing_months="treat_as_zero").evaluate_month(months, present)
    if entity_col is None:
        return []
    entities = pairs.column("e").to_pylist()
    if ".." not in months:
        # A single month: every record is the month's (the core reads one without a month, or
        # with one it cannot read, as the declared month's).
        return sorted({f"{months}:{e}" for e in entities if e})
    # A range: the pairs whose month the core reads as a month (a record whose month cannot be
    # read covers no month, as in the core), the month read by the core itself.
    cells = pairs.column("m").to_pylist() if month_col is not None else []
    months_read = [ct._native._month_text(_months_text(m)) for m in cells]
    return sorted({f"{m}:{e}" for m, e in zip(months_read, entities) if e and m})
