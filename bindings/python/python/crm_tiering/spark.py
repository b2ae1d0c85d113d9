"""The portfolio month and multi-month replays over Spark DataFrames (optional extra ``spark``).

>>> from crm_tiering import spark as cts                                   # doctest: +SKIP
>>> r = cts.replay(rules, history_df, months="2023-01..2023-12",           # doctest: +SKIP
...                designations=designations_df, states=stored_df)
>>> r.states.write.parquet(...); r.stored_states.write.parquet(...)       # doctest: +SKIP
>>> cts.evaluate_to_parquet(rules, history_df, "hdfs:///tiering/2023-12",  # doctest: +SKIP
...                         months="2023-01..2023-12")

How it runs. The AUM records, the designations and the stored states are tagged, put in one
DataFrame and repartitioned by customer id (``repartition(n, customer_id)``), so a customer's
whole history, its designations and its stored state land in one task. Each task rebuilds the
rule book once from its JSON text (shipped in the task's closure), builds the partition's
states text, and runs the core's portfolio month (``Portfolio.evaluate_month``: the same code
as the single-process path, the CLI, C and Java) over the partition's records in their
original order. Customers never meet across customers in the portfolio month (SPEC §15), so a
partition gives its customers exactly what the whole portfolio gives them.

What the results look like (``SparkResult``; the single-process path's tables through
``canonical`` look the same):

* ``states``, ``events``, ``alerts``, ``errors``: the single-process tables with code columns
  as strings, months as ``DateType`` (first day of the month), amounts ``DecimalType(38, 2)``,
  counters ``IntegerType``, record rows ``LongType``; ``events``, ``alerts`` and ``errors``
  have one more column, ``seq``: the row's position among its customer's rows of that month,
  in the core's order. Canonical order: ``customer_id``, ``month`` (``reported_in`` for
  errors), ``seq``.
* ``errors.record_row`` / ``other_record_row`` are rows of the whole input DataFrame, not of
  the partition: by default the 0-based position of the record in the DataFrame as Spark reads
  it (partition by partition, computed with one counting job per input), or the value of
  ``row_column`` when given (a row number the extract already carries).
* ``stored_states``: one row per customer, ``customer_id``, ``rule_book`` (the fingerprint
  the states text's header carries) and ``state`` (the customer's line of the core's checked
  states text, unchanged: id, kind, legal entity and the state JSON). ``states_text``
  collects it into the checked text (sorted by customer id) that
  ``Portfolio.from_states_text`` and the CLI read; ``states_dataframe`` is the way back.

A record that names no usable customer, or stored states written under another rule book,
stops the run as in the single-process path: the same exception class is raised on the driver
with every partition's errors in ``.errors`` (records renamed to whole-DataFrame rows; a line
of a states text is the line in its partition's text).

The months are declared (``months=``, required): the single-process default, "the table's
first to last month", would need a pass over the data and lets a stray row decide the run.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import pyarrow as pa

import crm_tiering as ct

# The driver's checks of the whole portfolio (_spark_checks).
from ._spark_checks import _months_text, _portfolio_checks

# A month's loan classification (_spark_loans), beside the portfolio month.
from ._spark_loans import LoanSparkResult, classify_loans
# The outputs' Arrow tables and the partitions' states texts (_spark_tables), and what runs in
# a task (_spark_task); this module is the driver's side.
from ._spark_tables import (
    _STORED_SCHEMA,
    OUTPUTS,
    _checked_text,
    _header_template,
    _present,
    _sorted,
    _stored_rows,
)
from ._spark_task import (
    _FATAL,
    _WRITTEN_SCHEMA,
    _SRC_AUM,
    _SRC_DESIGNATIONS,
    _SRC_STATES,
    _partition_options,
    _Plan,
    _run,
    _task,
    _write_task,
)

__all__ = [
    "LoanSparkResult",
    "SparkResult",
    "canonical",
    "classify_loans",
    "evaluate",
    "evaluate_month",
    "evaluate_to_parquet",
    "replay",
    "sort_output",
    "states_dataframe",
    "states_text",
    "to_arrow",
]


def canonical(result: Any, portfolio: Any = None, *, rows: Optional[Dict[str, Any]] = None) -> Dict[str, pa.Table]:
    """A single-process ``PortfolioResult`` (and, with ``portfolio``, its stored states) in the
    Spark outputs' form and canonical order: what ``SparkResult.to_arrow()`` gives for the same
    run. ``rows`` (``{"aum": array, ...}``: each table row's name, e.g. the ``row_column``
    values) renames errors' record rows as the Spark run names them."""
    text = portfolio.to_states_text() if portfolio is not None else None
    rows = {k: pa.array(v, pa.int64()) if not isinstance(v, pa.Array) else v for k, v in (rows or {}).items()}
    return {k: _sorted(k, v) for k, v in _present(result, rows, text).items()}


# ---------------------------------------------------------------------------------------------
# States text
# ---------------------------------------------------------------------------------------------


def sort_output(name: str, table: Any) -> pa.Table:
    """An output's Arrow table (``name`` one of ``OUTPUTS``) in canonical order, as ``to_arrow``
    and ``canonical`` give them: e.g. the files ``evaluate_to_parquet`` wrote, read back."""
    return _sorted(name, pa.table(table))


def states_text(stored: Any, rules: Any = None) -> str:
    """Collects a stored-states DataFrame (``SparkResult.stored_states``) into the core's
    checked states text, lines sorted by customer id; the text is checked by the core."""
    rows = sorted(((r["customer_id"], r["rule_book"], r["state"]) for r in stored.collect()), key=lambda r: r[0])
    rule_books = {r[1] for r in rows}
    book = ct.load_rules(rules)
    if len(rule_books) > 1:
        raise ct.StateError(
            f"stored states carry {len(rule_books)} rule books", field="rule_book", customer=None, month=None
        )
    fingerprint = rule_books.pop() if rule_books else book.fingerprint
    text = _checked_text(_header_template(book), fingerprint, [r[2] for r in rows])
    ct.Portfolio.from_states_text(book, text, accept_rule_change=True)  # the core checks it
    return text


def states_dataframe(spark: Any, text: str, rules: Any = None, *, name: str = "states") -> Any:
    """A stored-states DataFrame (``customer_id``, ``rule_book``, ``state``) from a checked states
    text (written by ``to_states_text``, the CLI, C or Java); the text is checked by the core
    first (``StateError`` naming the line of a cut or altered text)."""
    ct.Portfolio.from_states_text(ct.load_rules(rules), text, accept_rule_change=True, name=name)
    return _create(spark, _stored_rows(text))


# ---------------------------------------------------------------------------------------------
# Spark plumbing
# ---------------------------------------------------------------------------------------------


def _spark_type(t: pa.DataType) -> Any:
    from pyspark.sql import types as T

    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return T.StringType()
    if pa.types.is_boolean(t):
        return T.BooleanType()
    if pa.types.is_date32(t):
        return T.DateType()
    if pa.types.is_decimal(t):
        return T.DecimalType(t.precision, t.scale)
    if t == pa.int8():
        return T.ByteType()
    if t == pa.int16():
        return T.ShortType()
    if t == pa.int32():
        return T.IntegerType()
    if t == pa.int64():
        return T.LongType()
    if pa.types.is_binary(t):
        return T.BinaryType()
    if pa.types.is_struct(t):
        return T.StructType([T.StructField(f.name, _spark_type(f.type), True) for f in t])
    raise TypeError(f"no Spark type for Arrow {t}")


def _struct_of(schema: pa.Schema) -> pa.DataType:
    return pa.struct([pa.field(f.name, f.type) for f in schema])


def _arrow_schema(df: Any) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(df.schema)


def _create(spark: Any, table: pa.Table) -> Any:
    """A DataFrame from an Arrow table (PySpark >= 4 takes it directly)."""
    try:
        return spark.createDataFrame(table)
    except (TypeError, ValueError):
        return spark.createDataFrame(table.to_pandas(), schema=_spark_type(_struct_of(table.schema)))


def to_arrow(df: Any) -> pa.Table:
    """A DataFrame collected as an Arrow table (``toArrow`` on PySpark >= 4)."""
    if hasattr(df, "toArrow"):
        return df.toArrow()
    batches = df._collect_as_arrow()  # PySpark 3.5
    return pa.Table.from_batches(batches, schema=_arrow_schema(df))


def _with_row(df: Any, row_column: Optional[str]) -> Any:
    """``df`` with ``_row``: ``row_column`` as a long, or the record's 0-based position in the
    DataFrame as Spark reads it (per-partition counts, then offsets: one counting job)."""
    from pyspark.sql import functions as F

    if row_column is not None:
        return df.withColumn("_row", F.col(f"`{row_column}`").cast("long")).drop(row_column)
    tagged = df.withColumn("_pid", F.spark_partition_id()).withColumn("_mid", F.monotonically_increasing_id())
    counts = dict(df.select(F.spark_partition_id().alias("p")).groupBy("p").count().collect())
    offsets, total = [], 0
    for p in range(max(counts, default=-1) + 1):
        offsets.append(total)
        total += counts.get(p, 0)
    if not offsets:
        return tagged.withColumn("_row", F.lit(0).cast("long")).drop("_pid", "_mid")
    offset = F.element_at(F.array(*[F.lit(o).cast("long") for o in offsets]), F.col("_pid") + 1)
    local = F.col("_mid").bitwiseAND(F.lit((1 << 33) - 1))
    return tagged.withColumn("_row", offset + local).drop("_pid", "_mid")


@dataclass
class SparkResult:
    """The outputs of a Spark run, DataFrames over one persisted evaluation (``unpersist()``
    when done). ``stored_states`` (``customer_id``, ``rule_book``, ``state``) feed the next run
    (``states=``) or ``states_text``."""

    states: Any
    events: Any
    alerts: Any
    errors: Any
    stored_states: Any
    _combined: Any

    def to_arrow(self) -> Dict[str, pa.Table]:
        """Every output collected as an Arrow table in canonical order (small results, tests)."""
        return {name: _sorted(name, to_arrow(getattr(self, name))) for name in OUTPUTS}

    def write_parquet(self, path: str, mode: str = "overwrite") -> None:
        """Writes each output under ``path/<name>``."""
        for name in OUTPUTS:
            getattr(self, name).write.mode(mode).parquet(f"{path.rstrip('/')}/{name}")

    def unpersist(self) -> None:
        self._combined.unpersist()


@dataclass
class _Inputs:
    """The input DataFrames with their ``_row`` column, and the columns and Arrow schemas of the
    records the tasks read (the row columns left out)."""

    aum: Any
    aum_cols: List[str]
    aum_schema: pa.Schema
    designations: Any = None
    des_cols: Optional[List[str]] = None
    des_schema: Optional[pa.Schema] = None


def _inputs(aum: Any, designations: Any, row_column: Optional[str], designations_row_column: Optional[str]) -> _Inputs:
    """``aum`` and ``designations`` numbered (``_with_row``: one counting job each unless a row
    column is given), with the columns and schemas of their records."""
    aum_in = _with_row(aum, row_column)
    aum_cols = [c for c in aum.columns if c != row_column]
    aum_schema = pa.schema([f for f in _arrow_schema(aum) if f.name in aum_cols])
    inputs = _Inputs(aum_in, aum_cols, aum_schema)
    if designations is not None:
        inputs.designations = _with_row(designations, designations_row_column)
        inputs.des_cols = [c for c in designations.columns if c != designations_row_column]
        inputs.des_schema = pa.schema([f for f in _arrow_schema(designations) if f.name in inputs.des_cols])
    return inputs


def _plan_of(
    book: Any, inputs: _Inputs, months_text: str, missing_months: str, explain: bool, options: Dict[str, Any]
) -> _Plan:
    """The plan shipped to every task, its output types found by a dry run on empty tables:
    header and option errors raise here, as in the single-process path (an empty month is the
    driver's check, ``_portfolio_checks``)."""
    des_schema = inputs.des_schema
    plan = _Plan(
        rules_json=book.to_json(),
        months=months_text,
        missing_months=missing_months,
        explain=explain,
        options=dict(options),
        header=_header_template(book),
        aum_type=_struct_of(inputs.aum_schema),
        designations_type=_struct_of(des_schema) if des_schema is not None else None,
        out_types={},
    )
    empty_des = des_schema.empty_table() if des_schema is not None else None
    dry_options = dict(plan.options, allow_empty_month=True)
    p, dry = _run(plan, book, inputs.aum_schema.empty_table(), empty_des, [], dry_options)
    dry_tables = _present(dry, None, p.to_states_text())
    plan.out_types = {name: _struct_of(dry_tables[name].schema) for name in OUTPUTS}
    return plan


def _combined(plan: _Plan, inputs: _Inputs, states: Any, customer_column: str) -> Any:
    """The tagged input: the AUM records, the designations and the stored states in one
    DataFrame (``_cid``, ``_src``, ``_row`` and one struct column per source)."""
    from pyspark.sql import functions as F

    def q(c: str) -> Any:
        return F.col(f"`{c}`")

    cid = F.col(f"`{customer_column}`").cast("string")
    parts = [
        inputs.aum.select(
            cid.alias("_cid"), F.lit(_SRC_AUM).cast("byte").alias("_src"), "_row", F.struct(*[q(c) for c in inputs.aum_cols]).alias("_aum")
        )
    ]
    if inputs.designations is not None:
        parts.append(
            inputs.designations.select(
                cid.alias("_cid"),
                F.lit(_SRC_DESIGNATIONS).cast("byte").alias("_src"),
                "_row",
                F.struct(*[q(c) for c in inputs.des_cols or []]).alias("_designations"),
            )
        )
    if states is not None:
        parts.append(
            states.select(
                F.col("customer_id").cast("string").alias("_cid"),
                F.lit(_SRC_STATES).cast("byte").alias("_src"),
                F.lit(0).cast("long").alias("_row"),
                F.struct(F.col("customer_id"), F.col("rule_book"), F.col("state")).alias("_stored"),
            )
        )
    combined = parts[0]
    for other in parts[1:]:
        combined = combined.unionByName(other, allowMissingColumns=True)
    if "_designations" not in combined.columns and plan.designations_type is not None:
        combined = combined.withColumn("_designations", F.lit(None).cast(_spark_type(plan.designations_type)))
    if "_stored" not in combined.columns:
        combined = combined.withColumn("_stored", F.lit(None).cast(_spark_type(_struct_of(_STORED_SCHEMA))))
    return combined


def _out_schema(plan: _Plan) -> Any:
    """The Spark schema of the tasks' tagged output: ``_out`` (which output a row is), one struct
    column per output, ``_fatal`` (a task's pickled errors)."""
    from pyspark.sql import types as T

    return T.StructType(
        [T.StructField("_out", T.ByteType(), False)]
        + [T.StructField(name, _spark_type(plan.out_types[name]), True) for name in OUTPUTS]
        + [T.StructField("_fatal", T.BinaryType(), True)]
    )


def _fatal_error(fatal: List[Any]) -> Exception:
    """The exception the single-process path raises, from the tasks' fatal rows: the first error
    (records in DataFrame order) with every partition's errors in ``.errors``."""
    errors = [e for row in fatal for e in pickle.loads(row["_fatal"])]
    order = {"aum": 0, "designations": 1}
    errors.sort(key=lambda e: (order.get(e.record[0], 2), e.record[1]) if e.record else (3, 0))
    first = errors[0]
    message = first.message + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
    attrs = dict(first._attrs)
    attrs["errors"] = errors
    return type(first)(message, **attrs)


def _partitioned(
    rules: Any,
    aum: Any,
    months: Any,
    designations: Any,
    states: Any,
    missing_months: str,
    explain: bool,
    partitions: Optional[int],
    customer_column: str,
    row_column: Optional[str],
    designations_row_column: Optional[str],
    options: Dict[str, Any],
) -> Any:
    """The plan and the tagged input repartitioned by customer: what both ``evaluate`` and
    ``evaluate_to_parquet`` hand to their tasks (the driver's checks done)."""
    if months is None:
        raise TypeError("months must be declared (a month or a range 'YYYY-MM..YYYY-MM')")
    book = ct.load_rules(rules)
    spark = aum.sparkSession
    months_text = _months_text(months)

    inputs = _inputs(aum, designations, row_column, designations_row_column)
    plan = _plan_of(book, inputs, months_text, missing_months, explain, options)
    entities = _portfolio_checks(book, aum, inputs.aum_cols, months_text, plan.options)
    plan.options = _partition_options(plan.options, entities)

    combined = _combined(plan, inputs, states, customer_column)
    n = partitions or spark.sparkContext.defaultParallelism
    return plan, combined.repartition(n, "_cid")


def evaluate(
    rules: Any,
    aum: Any,
    *,
    months: Any,
    designations: Any = None,
    states: Any = None,
    missing_months: str = "error",
    explain: bool = False,
    partitions: Optional[int] = None,
    customer_column: str = "customer_id",
    row_column: Optional[str] = None,
    designations_row_column: Optional[str] = None,
    storage_level: Any = None,
    **options: Any,
) -> SparkResult:
    """Evaluates the declared ``months`` (one month or a range ``"YYYY-MM..YYYY-MM"``) over Spark
    DataFrames: ``aum`` (the columns the single-process tables take: ``customer_id``, ``aum`` or
    component columns, ``month``, ``legal_entity``, ``customer_kind``...), ``designations``, and
    the stored ``states`` (``customer_id``, ``rule_book``, ``state``: ``stored_states`` of a
    previous run, or ``states_dataframe``). ``options`` are the core's portfolio options, as in
    ``Portfolio.evaluate_month`` (``absent``, ``threads``, ``allow_empty_month``,
    ``empty_entities``, ``catch_up``, ``accept_rule_change``...).

    ``partitions`` (default: the context's default parallelism) is the number of customer-hash
    partitions, one task each; size them so that a task's records fit a Python worker's memory.
    The evaluation runs once, now, into a persisted DataFrame (``storage_level``, default
    MEMORY_AND_DISK) from which the five outputs are read. Raises as the single-process path
    when a record names no usable customer, the stored states' rule book is refused, or a
    declared month has no AUM record at all (checked on the driver over the whole DataFrame:
    ``InputError``, field ``month``, the core's message). To write the outputs as Parquet and
    nothing else, ``evaluate_to_parquet`` costs much less."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    plan, tagged = _partitioned(
        rules, aum, months, designations, states, missing_months, explain, partitions, customer_column,
        row_column, designations_row_column, options,
    )
    result = tagged.mapInArrow(_task(plan), _out_schema(plan))
    result = result.persist(storage_level or StorageLevel.MEMORY_AND_DISK)
    fatal = result.where(F.col("_out") == _FATAL).select("_fatal").collect()
    if fatal:
        result.unpersist()
        raise _fatal_error(fatal)
    frames = {
        name: result.where(F.col("_out") == kind).select(f"{name}.*") for kind, name in enumerate(OUTPUTS)
    }
    return SparkResult(**frames, _combined=result)


def evaluate_to_parquet(
    rules: Any,
    aum: Any,
    path: str,
    *,
    months: Any,
    designations: Any = None,
    states: Any = None,
    missing_months: str = "error",
    explain: bool = False,
    partitions: Optional[int] = None,
    customer_column: str = "customer_id",
    row_column: Optional[str] = None,
    designations_row_column: Optional[str] = None,
    mode: str = "overwrite",
    **options: Any,
) -> Dict[str, int]:
    """``evaluate``, writing the five outputs as Parquet under ``path/<name>`` (the files and
    types ``SparkResult.write_parquet`` writes: read them back with ``spark.read.parquet``), and
    returning each output's row count.

    Each task writes its partition's outputs with pyarrow straight from the core's Arrow tables
    (no conversion to Spark rows, nothing persisted) into a staging folder of its own attempt,
    ``path/_temporary``; the driver then moves the files of the attempts Spark kept to
    ``path/<name>/part-NNNNN.parquet`` and writes ``path/<name>/_SUCCESS``, as Spark does. ``path`` is any location
    pyarrow's filesystems open (a local path that the executors share, ``hdfs://``, ``s3://``).
    When errors stop the run, nothing is written (the staging folder is removed) and the same
    exception as ``evaluate``'s is raised. ``mode``: ``overwrite`` (the outputs already under
    ``path`` are replaced) or ``error`` (a ``path`` that holds any output is refused)."""
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    if mode not in ("overwrite", "error"):
        raise ValueError(f"mode must be 'overwrite' or 'error', not {mode!r}")
    if "://" not in path:
        path = os.path.abspath(path)  # the executors' working folders are not the driver's
    fs, base = pafs.FileSystem.from_uri(path)
    base = base.rstrip("/")
    if mode == "error":
        for name in OUTPUTS:
            if fs.get_file_info(f"{base}/{name}").type != pafs.FileType.NotFound:
                raise FileExistsError(f"{path}: output {name} exists (mode='error')")
    plan, tagged = _partitioned(
        rules, aum, months, designations, states, missing_months, explain, partitions, customer_column,
        row_column, designations_row_column, options,
    )
    staging = f"{base}/_temporary"
    fs.create_dir(staging, recursive=True)
    uri = path.rstrip("/") + "/_temporary"
    try:
        written = tagged.mapInArrow(_write_task(plan, uri), _spark_type(_struct_of(_WRITTEN_SCHEMA))).collect()
        fatal = [r for r in written if r["fatal"] is not None]
        if fatal:
            raise _fatal_error([{"_fatal": r["fatal"]} for r in fatal])
        rows = _commit_files(fs, base, plan, written, pq)
    finally:
        fs.delete_dir(staging)
    return rows


def _commit_files(fs: Any, base: str, plan: _Plan, written: List[Any], pq: Any) -> Dict[str, int]:
    """Moves the tasks' files to ``base/<name>/part-NNNNN.parquet`` (the outputs there before
    removed), an empty file with the output's schema where no task had rows; returns the rows of
    each output."""
    rows = {name: 0 for name in OUTPUTS}
    for name in OUTPUTS:
        fs.delete_dir_contents(f"{base}/{name}", missing_dir_ok=True)
        fs.create_dir(f"{base}/{name}", recursive=True)
    for r in sorted(written, key=lambda r: (r["output"], r["part"])):
        fs.move(r["file"], f"{base}/{r['output']}/part-{r['part']:05d}.parquet")
        rows[r["output"]] += r["rows"]
    for name in OUTPUTS:
        if not any(r["output"] == name for r in written):
            schema = pa.schema(list(plan.out_types[name]))
            pq.write_table(schema.empty_table(), f"{base}/{name}/part-00000.parquet", filesystem=fs)
        with fs.open_output_stream(f"{base}/{name}/_SUCCESS"):
            pass
    return rows


def evaluate_month(rules: Any, aum: Any, *, month: Any, **options: Any) -> SparkResult:
    """One portfolio month (``evaluate`` with ``months=month``)."""
    return evaluate(rules, aum, months=month, **options)


def replay(rules: Any, history: Any, *, months: Any, **options: Any) -> SparkResult:
    """A multi-month replay of a long history (``month`` column) over ``months``."""
    return evaluate(rules, history, months=months, **options)
