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

# The outputs, in the order of the tasks' tagged output (`_out`); a task's errors come after.
_NAMES = ("customers", "results", "signals", "states")
_SIGNALS, _FATAL = _NAMES.index("signals"), len(_NAMES)
_BATCH_ROWS = 65536
_STATES_SCHEMA = pa.schema([("customer_id", pa.string()), ("state", pa.string())])


def _plain(schema: pa.Schema) -> pa.Schema:
    """A core table's schema with its dictionary columns (codes, Chinese names) as plain
    strings: Spark has no dictionary type."""
    return pa.schema(
        [pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type, f.nullable) for f in schema]
    )


def _schemas(book: Any, month: str) -> List[pa.Schema]:
    """The four outputs' schemas: the core's loan tables' (those of an empty month, so that
    they are the core's, never restated here), dictionaries as strings, and the states'."""
    empty = _loans.classify(book, month, [])
    return [_plain(t.schema) for t in (empty.customers, empty.results, empty.signals)] + [_STATES_SCHEMA]


@dataclass
class LoanSparkResult:
    """A classified loan month as DataFrames: ``customers``, ``results`` and ``signals`` (the
    core's loan tables of SPEC §21.11, as ``loans.classify`` gives them, codes and Chinese
    names as strings; ``signals`` has one more column, ``seq``: the signal's position among its
    customer's, in the core's order) and ``states`` (``customer_id``, ``state``: the customer's
    loan state as JSON text, the ``states`` of the next month's ``classify_loans``), over one
    persisted evaluation (``unpersist()`` when done)."""

    customers: Any
    results: Any
    signals: Any
    states: Any
    _result: Any
    _schemas: List[pa.Schema]

    def to_arrow(self) -> Dict[str, pa.Table]:
        """Every output collected as an Arrow table in the single-process path's order
        (customer id; a customer's loans by loan id, its signals in the core's order), in the
        core's schemas (non-null columns included) without ``seq``; small results."""
        from .spark import to_arrow

        keys = {"results": ["loan_id"], "signals": ["seq"]}
        out = {}
        for name, schema in zip(_NAMES, self._schemas):
            table = to_arrow(getattr(self, name))
            order = [(k, "ascending") for k in ["customer_id", *keys.get(name, [])]]
            out[name] = table.sort_by(order).select(schema.names).cast(schema)
        return out

    def unpersist(self) -> None:
        """Frees the persisted evaluation."""
        self._result.unpersist()


def _tables(month: Any, schemas: List[pa.Schema]) -> Dict[str, pa.Table]:
    """A ``LoanMonth``'s outputs in the Spark schemas: its three tables (in the core's order)
    and its states, by customer id."""
    ids = sorted(month.states)
    states = pa.table(
        {"customer_id": pa.array(ids, pa.string()),
         "state": pa.array([json.dumps(month.states[c], sort_keys=True) for c in ids], pa.string())}
    )
    tables = (month.customers, month.results, month.signals, states)
    return {name: t.cast(schema) for name, t, schema in zip(_NAMES, tables, schemas)}


def _classify_partition(rules_json: str, month: str, schemas: List[pa.Schema], batches: List[pa.RecordBatch]) -> Any:
    """One task's partition through the core: none when empty, the pickled first error
    (``bytes``) when the month is refused, else the four outputs."""
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
        month_out = _loans.classify(_native.RuleBook.from_str(rules_json), month, records, states)
    except _errors.TieringError as e:
        return pickle.dumps(e)
    return _tables(month_out, schemas)


def _struct_types(schemas: List[pa.Schema]) -> List[pa.DataType]:
    """The tasks' output columns: each output as a struct, the signals with their ``seq``."""
    types = [pa.struct(list(schema)) for schema in schemas]
    types[_SIGNALS] = pa.struct(list(schemas[_SIGNALS]) + [pa.field("seq", pa.int32())])
    return types


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


def _task(rules_json: str, month: str, schemas: List[pa.Schema]) -> Any:
    outputs = list(zip(_NAMES, _struct_types(schemas)))

    def batch(kind: int, rows: Optional[pa.RecordBatch] = None, fatal: Optional[bytes] = None) -> pa.RecordBatch:
        return _tagged(outputs, kind, rows, fatal)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        out = _classify_partition(rules_json, month, schemas, list(batches))
        if out is None:
            return
        if isinstance(out, bytes):
            yield batch(_FATAL, None, out)
            return
        for kind, name in enumerate(_NAMES):
            table = out[name]
            if kind == _SIGNALS:
                table = table.append_column("seq", _seq(table.column("customer_id")))
            for b in table.to_batches(max_chunksize=_BATCH_ROWS):
                yield batch(kind, b)

    return run


def _out_schema(schemas: List[pa.Schema]) -> Any:
    from pyspark.sql import types as T

    from .spark import _spark_type

    return T.StructType(
        [T.StructField("_out", T.ByteType(), False)]
        + [T.StructField(name, _spark_type(t), True) for name, t in zip(_NAMES, _struct_types(schemas))]
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
    schemas = _schemas(book, str(month_text))
    tagged = _combined(loans, states, customer_column).repartition(n, "_cid")
    result = tagged.mapInArrow(_task(book.to_json(), str(month_text), schemas), _out_schema(schemas))
    result = result.persist(storage_level or StorageLevel.MEMORY_AND_DISK)
    fatal = result.where(F.col("_out") == _FATAL).select("_fatal").collect()
    if fatal:
        result.unpersist()
        raise _first_error(fatal)
    frames = {name: result.where(F.col("_out") == kind).select(f"{name}.*") for kind, name in enumerate(_NAMES)}
    return LoanSparkResult(**frames, _result=result, _schemas=schemas)
