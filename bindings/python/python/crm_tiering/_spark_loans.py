"""A month's loan classification (SPEC §21) over Spark DataFrames: ``spark.classify_loans``.

The loan records and the loan states of the month before are tagged, put in one DataFrame and
repartitioned by customer id, so that a customer's loans and its state land in one task. Each
task runs ``loans.classify`` (the core's ``evaluate_loan_month``, the same code as the CLI, C,
Java and the single-process path) over its partition. Customers never meet in a loan month,
so a partition gives its customers exactly what the whole month gives them.

A loan month is all or nothing (SPEC §21.9): a task whose customers have a bad record returns
its first error instead of results, and the driver raises the error of the lowest customer id
among them (the core classifies and reports customers in id order, so it is the error the
single-process path raises), with every partition's first error in ``.errors``; no result is
returned in part.
"""

import json
import pickle
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import pyarrow as pa

from . import _native, load_rules
from . import errors as _errors
from . import loans as _loans
from ._spark_task import _tagged

# Which output a row of the tasks' tagged output is.
_CUSTOMERS, _SIGNALS, _STATES, _FATAL = 0, 1, 2, 3
_BATCH_ROWS = 65536

# The tables of ``loans.LoanMonth``, typed once here so that every partition (an empty column
# included) gives Spark the same schema.
CUSTOMERS_SCHEMA = pa.schema(
    [("month", pa.string()), ("customer_id", pa.string()), ("loans", pa.int64()), ("worst", pa.string()),
     ("trend", pa.string()), ("non_performing", pa.int64())]
)
SIGNALS_SCHEMA = pa.schema(
    [("month", pa.string()), ("customer_id", pa.string()), ("loan_id", pa.string()), ("kind", pa.string()),
     ("overdue_days", pa.int64()), ("boundary", pa.int64()), ("floor", pa.string()), ("bank", pa.string()),
     ("effective", pa.string())]
)
STATES_SCHEMA = pa.schema([("customer_id", pa.string()), ("state", pa.string())])
_OUTPUTS = (("customers", CUSTOMERS_SCHEMA), ("signals", SIGNALS_SCHEMA), ("states", STATES_SCHEMA))


@dataclass
class LoanSparkResult:
    """A classified loan month as DataFrames: ``customers`` and ``signals`` (the columns of
    ``loans.LoanMonth``'s tables, months as ``"YYYY-MM"`` text as there; ``signals`` has one
    more column, ``seq``: the signal's position among its customer's, in the core's order) and ``states`` (``customer_id``, ``state``: the customer's
    loan state as JSON text, the ``states`` of the next month's ``classify_loans``), over one
    persisted evaluation (``unpersist()`` when done)."""

    customers: Any
    signals: Any
    states: Any
    _result: Any

    def to_arrow(self) -> Dict[str, pa.Table]:
        """Every output collected as an Arrow table sorted as the single-process path gives it
        (``customer_id``; signals in the core's order within a customer); small results."""
        from .spark import to_arrow

        out = {}
        for name, schema in _OUTPUTS:
            table = to_arrow(getattr(self, name))
            keys = [("customer_id", "ascending")] + ([("seq", "ascending")] if "seq" in table.column_names else [])
            out[name] = table.sort_by(keys).select(schema.names).cast(schema)
        return out

    def unpersist(self) -> None:
        """Frees the persisted evaluation."""
        self._result.unpersist()


def _tables(month: Any) -> Dict[str, pa.Table]:
    """A ``LoanMonth``'s three tables in the schemas above; signals keep the core's order."""
    ids = sorted(month.states)
    states = pa.table(
        {"customer_id": pa.array(ids, pa.string()),
         "state": pa.array([json.dumps(month.states[c], sort_keys=True) for c in ids], pa.string())}
    )
    return {
        "customers": month.customers.select(CUSTOMERS_SCHEMA.names).cast(CUSTOMERS_SCHEMA),
        "signals": month.signals.select(SIGNALS_SCHEMA.names).cast(SIGNALS_SCHEMA),
        "states": states,
    }


def _classify_partition(rules_json: str, month: str, batches: List[pa.RecordBatch]) -> Any:
    """One task's partition through the core: none when empty, the pickled first error
    (``bytes``) when the month is refused, else the three tables."""
    if not batches or sum(b.num_rows for b in batches) == 0:
        return None
    table = pa.Table.from_batches(batches)
    src = table.column("_src").to_numpy()
    records = [r for r, s in zip(table.column("_loan").to_pylist(), src) if s == 0]
    states = {
        c: json.loads(text)
        for c, text, s in zip(table.column("_cid").to_pylist(), table.column("_state").to_pylist(), src)
        if s == 1
    }
    try:
        return _tables(_loans.classify(_native.RuleBook.from_str(rules_json), month, records, states))
    except _errors.TieringError as e:
        return pickle.dumps(e)


def _struct_types() -> List[pa.DataType]:
    """The tasks' output columns: each table as a struct, the signals with their ``seq``."""
    signals = pa.struct(list(SIGNALS_SCHEMA) + [pa.field("seq", pa.int32())])
    return [pa.struct(list(CUSTOMERS_SCHEMA)), signals, pa.struct(list(STATES_SCHEMA))]


def _seq(customers: Any) -> pa.Array:
    """Each row's position among its customer's rows (the rows come grouped by customer, in
    the core's order), which Spark does not keep."""
    ids = np.asarray(customers.to_pylist(), dtype=object)
    n = len(ids)
    starts = np.zeros(n, dtype=bool)
    if n:
        starts[0] = True
        starts[1:] = ids[1:] != ids[:-1]
    index = np.arange(n, dtype=np.int64)
    first = np.maximum.accumulate(np.where(starts, index, 0))
    return pa.array(index - first, pa.int32())


def _task(rules_json: str, month: str) -> Any:
    outputs = [(name, t) for (name, _), t in zip(_OUTPUTS, _struct_types())]

    def batch(kind: int, rows: Optional[pa.RecordBatch] = None, fatal: Optional[bytes] = None) -> pa.RecordBatch:
        return _tagged(outputs, kind, rows, fatal)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        out = _classify_partition(rules_json, month, list(batches))
        if out is None:
            return
        if isinstance(out, bytes):
            yield batch(_FATAL, None, out)
            return
        for kind, (name, _) in enumerate(_OUTPUTS):
            table = out[name]
            if name == "signals":
                table = table.append_column("seq", _seq(table.column("customer_id")))
            for b in table.to_batches(max_chunksize=_BATCH_ROWS):
                yield batch(kind, b)

    return run


def _out_schema() -> Any:
    from pyspark.sql import types as T

    from .spark import _spark_type

    return T.StructType(
        [T.StructField("_out", T.ByteType(), False)]
        + [T.StructField(name, _spark_type(t), True) for (name, _), t in zip(_OUTPUTS, _struct_types())]
        + [T.StructField("_fatal", T.BinaryType(), True)]
    )


def _combined(loans: Any, states: Any, customer_column: str) -> Any:
    """The loan records and the states in one DataFrame: ``_cid``, ``_src`` (0 a loan record, 1
    a state), ``_loan`` (the record's columns) and ``_state`` (the state's JSON text)."""
    from pyspark.sql import functions as F

    cid = F.col(f"`{customer_column}`").cast("string")
    combined = loans.select(
        cid.alias("_cid"), F.lit(0).cast("byte").alias("_src"), F.struct(*[F.col(f"`{c}`") for c in loans.columns]).alias("_loan"),
        F.lit(None).cast("string").alias("_state"),
    )
    if states is not None:
        combined = combined.unionByName(
            states.select(
                F.col("customer_id").cast("string").alias("_cid"), F.lit(1).cast("byte").alias("_src"),
                F.col("state").cast("string").alias("_state"),
            ),
            allowMissingColumns=True,
        )
    return combined


def _first_error(fatal: List[Any]) -> Exception:
    errors = [pickle.loads(row["_fatal"]) for row in fatal]
    errors.sort(key=lambda e: (e.customer or "", e.field or ""))
    first = errors[0]
    attrs = dict(first._attrs)
    attrs["errors"] = errors
    return type(first)(first.message, **attrs)


def classify_loans(
    rules: Any,
    loans: Any,
    *,
    month: Any,
    states: Any = None,
    partitions: Optional[int] = None,
    customer_column: str = "customer_id",
    storage_level: Any = None,
) -> LoanSparkResult:
    """Classifies a month's loans over Spark (see the module's documentation). ``loans``: a
    DataFrame with the columns ``loans.classify`` takes (``customer_id``, ``loan_id``,
    ``month``, ``principal_overdue_days``, ``interest_overdue_days``, ``bank_class``, optional
    ``expected_loss`` as a decimal and ``repayment_due``); ``states``: the ``states`` of the month
    before's result (``customer_id``, ``state``). ``partitions`` (default: the context's default
    parallelism) customer-hash partitions, one task each.

    Raises the single-process path's exception (``InputError`` naming the customer, loan and
    field; ``SequenceError`` for a state that does not follow) when any record is refused: the
    month gives nothing in part."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    book = load_rules(rules)
    month_text = _loans._month_text(month)
    spark = loans.sparkSession
    n = partitions or spark.sparkContext.defaultParallelism
    tagged = _combined(loans, states, customer_column).repartition(n, "_cid")
    result = tagged.mapInArrow(_task(book.to_json(), str(month_text)), _out_schema())
    result = result.persist(storage_level or StorageLevel.MEMORY_AND_DISK)
    fatal = result.where(F.col("_out") == _FATAL).select("_fatal").collect()
    if fatal:
        result.unpersist()
        raise _first_error(fatal)
    frames = {name: result.where(F.col("_out") == kind).select(f"{name}.*") for kind, (name, _) in enumerate(_OUTPUTS)}
    return LoanSparkResult(**frames, _result=result)
