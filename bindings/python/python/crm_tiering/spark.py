"""The portfolio month and multi-month replays over Spark DataFrames (optional extra ``spark``).

>>> from crm_tiering import spark as cts                                   # doctest: +SKIP
>>> r = cts.replay(rules, history_df, months="2023-01..2023-12",           # doctest: +SKIP
...                designations=designations_df, states=stored_df)
>>> r.states.write.parquet(...); r.stored_states.write.parquet(...)       # doctest: +SKIP

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

import hashlib
import json
import pickle
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import pyarrow as pa
import pyarrow.compute as pc

import crm_tiering as ct

__all__ = [
    "SparkResult",
    "canonical",
    "evaluate",
    "evaluate_month",
    "replay",
    "states_dataframe",
    "states_text",
    "to_arrow",
]

# The tagged input (one DataFrame of the three sources) and the tagged output.
_SRC_STATES, _SRC_AUM, _SRC_DESIGNATIONS = 0, 1, 2
OUTPUTS = ("states", "events", "alerts", "errors", "stored_states")
_FATAL = len(OUTPUTS)
_MONTH_COLUMNS = {"month", "effective_from", "window_from", "special_until", "reported_in", "last_month"}
_SORT_KEYS = {
    "states": ["customer_id", "month"],
    "events": ["customer_id", "month", "seq"],
    "alerts": ["customer_id", "month", "seq"],
    "errors": ["customer_id", "reported_in", "seq"],
    "stored_states": ["customer_id"],
}
_STORED_SCHEMA = pa.schema([("customer_id", pa.string()), ("rule_book", pa.string()), ("state", pa.string())])
_BATCH_ROWS = 65536


# ---------------------------------------------------------------------------------------------
# Arrow conversions shared by the single-process and the Spark paths
# ---------------------------------------------------------------------------------------------


def _month_to_date(col: Any) -> Any:
    t = col.type
    if pa.types.is_date32(t):
        return col
    if pa.types.is_date64(t) or pa.types.is_timestamp(t):
        return pc.cast(col, pa.date32())
    if pa.types.is_dictionary(t):
        col = pc.cast(col, pa.string())
    # "YYYY-MM" as the core writes it; the first day of the month.
    ts = pc.strptime(pc.binary_join_element_wise(col, pa.scalar("-01"), ""), format="%Y-%m-%d", unit="s")
    return pc.cast(ts, pa.date32())


def _plain(table: Any) -> pa.Table:
    """Spark-ready types: dictionaries as strings, months as dates, unsigned as signed."""
    table = pa.table(table)
    cols, fields = [], []
    for f, col in zip(table.schema, table.columns):
        t = f.type
        if f.name in _MONTH_COLUMNS:
            col = _month_to_date(col)
        elif pa.types.is_dictionary(t):
            col = pc.cast(col, t.value_type)
        elif pa.types.is_large_string(t):
            col = pc.cast(col, pa.string())
        elif t in (pa.uint8(), pa.uint16()):
            col = pc.cast(col, pa.int32())
        elif t == pa.uint32():
            col = pc.cast(col, pa.int32())  # counters and months left: small
        elif t == pa.uint64():
            col = pc.cast(col, pa.int64())
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = pc.cast(col, pa.string())
        cols.append(col)
        fields.append(pa.field(f.name, col.type))
    return pa.Table.from_arrays(cols, schema=pa.schema(fields))


def _group_seq(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """Sorts stably by ``keys`` (the core's order kept within a group) and adds ``seq``, the
    row's position in its group."""
    import numpy as np

    n = table.num_rows
    if n:
        table = table.take(pc.sort_indices(table, [(k, "ascending") for k in keys]))
    if n == 0:
        return table.append_column("seq", pa.array([], pa.int32()))
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for k in keys:
        col = table.column(k).combine_chunks()
        a, b = col.slice(1), col.slice(0, n - 1)
        diff = pc.fill_null(pc.not_equal(a, b), True)
        both_null = pc.and_(pc.is_null(a), pc.is_null(b))
        diff = pc.and_(diff, pc.invert(both_null))
        change[1:] |= diff.to_numpy(zero_copy_only=False)
    idx = np.arange(n, dtype=np.int64)
    start = np.maximum.accumulate(np.where(change, idx, 0))
    return table.append_column("seq", pa.array((idx - start).astype(np.int32)))


def _remap_rows(errors: pa.Table, rows: Dict[str, Any]) -> pa.Table:
    """Partition-local record rows to whole-DataFrame rows (``rows[table]``: int64 array, the
    global row of each local row)."""
    if errors.num_rows == 0 or not rows:
        return errors
    for row_col, table_col in (("record_row", "record_table"), ("other_record_row", "other_record_table")):
        if row_col not in errors.column_names:
            continue
        out = errors.column(row_col).combine_chunks()
        names = errors.column(table_col)
        for name, global_rows in rows.items():
            mine = pc.fill_null(pc.equal(names, name), False)
            if not pc.any(mine).as_py():
                continue
            local = pc.if_else(mine, out, pa.scalar(0, out.type))
            mapped = pc.take(global_rows, pc.cast(pc.fill_null(local, 0), pa.int64()))
            out = pc.if_else(mine, pc.cast(mapped, out.type), out)
        errors = errors.set_column(errors.column_names.index(row_col), row_col, out)
    return errors


def _stored_rows(text: str) -> pa.Table:
    """The lines of a checked states text as rows (customer_id, rule_book, state)."""
    lines = text.split("\n")
    header = json.loads(lines[0])
    body = [line for line in lines[1:] if line and not line.startswith('{"end_of_states"')]
    ids = [json.loads(line)["customer_id"] for line in body]
    return pa.table(
        {"customer_id": ids, "rule_book": [header["rule_book"]] * len(body), "state": body}, schema=_STORED_SCHEMA
    )


def _present(result: Any, rows: Optional[Dict[str, Any]] = None, text: Optional[str] = None) -> Dict[str, pa.Table]:
    errors = _plain(result.errors)
    if rows:
        errors = _remap_rows(errors, rows)
    out = {
        "states": _plain(result.states),
        "events": _group_seq(_plain(result.events), ["customer_id", "month"]),
        "alerts": _group_seq(_plain(result.alerts), ["customer_id", "month"]),
        "errors": _group_seq(errors, ["customer_id", "reported_in"]),
    }
    if text is not None:
        out["stored_states"] = _stored_rows(text)
    return out


def _sorted(name: str, table: pa.Table) -> pa.Table:
    if table.num_rows == 0:
        return table.combine_chunks()
    keys = [(k, "ascending") for k in _SORT_KEYS[name] if k in table.column_names]
    return table.take(pc.sort_indices(table, keys)).combine_chunks()


def canonical(result: Any, portfolio: Any = None, *, rows: Optional[Dict[str, Any]] = None) -> Dict[str, pa.Table]:
    """A single-process ``PortfolioResult`` (and, with ``portfolio``, its stored states) in the
    Spark outputs' form and canonical order: what ``SparkResult.to_arrow()`` gives for the same
    run. ``rows`` (``{"aum": array, ...}``: each table row's name, e.g. the ``row_column``
    values) renames errors' record rows as the Spark run names them."""
    text = portfolio.to_states_text() if portfolio is not None else None
    rows = {k: pa.array(v, pa.int64()) if not isinstance(v, pa.Array) else v for k, v in (rows or {}).items()}
    return {k: _sorted(k, v) for k, v in _present(result, rows, text).items()}


# ---------------------------------------------------------------------------------------------
# States text per partition
# ---------------------------------------------------------------------------------------------


def _checked_text(template_header: Dict[str, Any], rule_book: str, lines: List[str]) -> str:
    header = dict(template_header)
    header["rule_book"] = rule_book
    header["customers"] = len(lines)
    head = json.dumps(header, separators=(",", ":"), ensure_ascii=False) + "\n"
    body = "".join(line + "\n" for line in lines)
    digest = hashlib.sha256((head + body).encode("utf-8")).hexdigest()
    trailer = json.dumps({"end_of_states": {"customers": len(lines), "sha256": digest}}, separators=(",", ":"))
    return head + body + trailer + "\n"


def _header_template(rules: Any) -> Dict[str, Any]:
    empty = ct.Portfolio(rules).to_states_text()
    return json.loads(empty.split("\n", 1)[0])


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


@dataclass
class _Plan:
    rules_json: str
    months: str
    missing_months: str
    explain: bool
    options: Dict[str, Any]
    header: Dict[str, Any]
    aum_type: pa.DataType
    designations_type: Optional[pa.DataType]
    out_types: Dict[str, pa.DataType]


def _run(
    plan: _Plan,
    rules: Any,
    aum: pa.Table,
    designations: Optional[pa.Table],
    lines: List[Tuple[str, str]],
    options: Optional[Dict[str, Any]] = None,
) -> Any:
    """One partition through the core, as the single-process path runs the whole portfolio,
    with the run's options (``options``: the plan's unless given)."""
    options = dict(plan.options if options is None else options)
    accept = bool(options.pop("accept_rule_change", False)) or options.get("rule_book_change") == "accept"
    if lines:
        rule_books = {b for b, _ in lines}
        if len(rule_books) > 1:
            raise ct.StateError(
                f"stored states carry {len(rule_books)} rule books", field="rule_book", customer=None, month=None
            )
        text = _checked_text(plan.header, rule_books.pop(), [s for _, s in lines])
        p = ct.Portfolio.from_states_text(rules, text, missing_months=plan.missing_months, accept_rule_change=accept)
    else:
        p = ct.Portfolio(rules, missing_months=plan.missing_months)
    if accept:
        options["rule_book_change"] = "accept"
    result = p.evaluate_month(plan.months, aum, designations=designations, explain=plan.explain, **options)
    return p, result


def _partition_options(plan_options: Dict[str, Any], entities: List[str]) -> Dict[str, Any]:
    """A partition's options: the whole portfolio's month was checked on the driver (so a
    partition's empty month is not refused), and the legal entities with records somewhere in
    the portfolio are declared to the partition, whose customers of them without a record then
    follow the absent policy as in the whole portfolio (SPEC §15.6)."""
    options = dict(plan_options)
    options["allow_empty_month"] = True
    declared = options.get("empty_entities") or []
    if isinstance(declared, str):
        declared = [e for e in declared.split(",") if e]
    options["empty_entities"] = sorted(set(declared) | set(entities))
    return options


def _portfolio_checks(book: Any, aum: Any, columns: List[str], months: str, options: Dict[str, Any]) -> List[str]:
    """The checks of the whole portfolio a partition cannot make, on the driver: a declared
    month without any AUM record is refused (the core's error, raised here: the core runs them
    over one row per distinct month of the DataFrame), unless ``allow_empty_month``. Returns the
    legal entities that have an AUM record (single-month runs; none for a range, so that a
    partition holds, rather than evaluates at zero, the customers of an entity it lacks)."""
    from pyspark.sql import functions as F

    roles = dict(zip(ct._native._column_roles(book, "aum", columns), columns))
    month_col, entity_col = roles.get("month"), roles.get("legal_entity")
    if not options.get("allow_empty_month"):
        if month_col is None:
            present = pa.table({"customer_id": pa.array([], pa.string()), "aum": pa.array([], pa.string())})
            if aum.limit(1).count():
                present = pa.table({"customer_id": ["_"], "aum": ["0"]})
        else:
            cells = to_arrow(aum.select(F.col(f"`{month_col}`")).distinct())
            n = cells.num_rows
            present = pa.table(
                {month_col: cells.column(0), "customer_id": pa.array([f"_{k}" for k in range(n)], pa.string()),
                 "aum": pa.array(["0"] * n, pa.string())}
            )
        # The core's own rule and message; the throwaway portfolio is never kept.
        ct.Portfolio(book, missing_months="treat_as_zero").evaluate_month(months, present)
    if entity_col is None or ".." in months:
        return []
    rows = aum.select(F.col(f"`{entity_col}`").cast("string").alias("e")).distinct().collect()
    return sorted(r["e"] for r in rows if r["e"])





def _rename_error(err: Any, rows: Dict[str, Any]) -> Any:
    attrs = dict(err._attrs)
    message = err.message
    for key in ("record", "other_record"):
        rec = attrs.get(key)
        if rec is not None and rec[0] in rows:
            table, local = rec[0], int(rec[1])
            glob = int(rows[table][local].as_py())
            attrs[key] = (table, glob)
            message = message.replace(f"{table}:{local}:", f"{table}:{glob}:", 1)
    attrs.pop("errors", None)
    return type(err)(message, **attrs)


def _part(table: pa.Table, src: int, column: str, child_type: pa.DataType) -> Tuple[pa.Table, Any]:
    sel = table.filter(pc.equal(table.column("_src"), src))
    sel = sel.take(pc.sort_indices(sel.column("_row")))
    children = sel.column(column).flatten() if sel.num_rows else [pa.array([], f.type) for f in child_type]
    names = [f.name for f in child_type]
    return pa.Table.from_arrays(children, names=names), sel.column("_row").combine_chunks()


def _task(plan: _Plan) -> Any:
    out_struct = {k: plan.out_types[k] for k in OUTPUTS}

    def batch(kind: int, table: Optional[pa.Table] = None, fatal: Optional[bytes] = None) -> pa.RecordBatch:
        n = table.num_rows if table is not None else 1
        arrays: List[Any] = [pa.array([kind] * n, pa.int8())]
        for i, name in enumerate(OUTPUTS):
            t = out_struct[name]
            if i == kind and table is not None:
                arrays.append(pa.StructArray.from_arrays([c.combine_chunks() for c in table.columns], fields=list(t)))
            else:
                arrays.append(pa.nulls(n, t))
        arrays.append(pa.array([fatal] * n, pa.binary()))
        return pa.RecordBatch.from_arrays(arrays, names=["_out", *OUTPUTS, "_fatal"])

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        batches = list(batches)
        if not batches or sum(b.num_rows for b in batches) == 0:
            return
        table = pa.Table.from_batches(batches)
        rules = ct.RuleBook.from_str(plan.rules_json)  # once per task
        aum, aum_rows = _part(table, _SRC_AUM, "_aum", plan.aum_type)
        rows = {"aum": aum_rows}
        designations = None
        if plan.designations_type is not None:
            designations, des_rows = _part(table, _SRC_DESIGNATIONS, "_designations", plan.designations_type)
            rows["designations"] = des_rows
        st = table.filter(pc.equal(table.column("_src"), _SRC_STATES))
        if st.num_rows:
            st = st.take(pc.sort_indices(st, [("_cid", "ascending")]))
            stored = st.column("_stored").flatten()
            lines = list(zip(stored[1].to_pylist(), stored[2].to_pylist()))
        else:
            lines = []
        del table, batches
        try:
            p, result = _run(plan, rules, aum, designations, lines)
        except ct.TieringError as e:
            errs = [_rename_error(x, rows) for x in e.errors]
            yield batch(_FATAL, None, pickle.dumps(errs))
            return
        tables = _present(result, rows, p.to_states_text())
        for kind, name in enumerate(OUTPUTS):
            t = tables[name].select([f.name for f in out_struct[name]])
            t = t.cast(pa.schema(list(out_struct[name])))
            for b in t.to_batches(max_chunksize=_BATCH_ROWS):
                yield batch(kind, pa.Table.from_batches([b]))

    return run


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
    ``InputError``, field ``month``, the core's message)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    if months is None:
        raise TypeError("months must be declared (a month or a range 'YYYY-MM..YYYY-MM')")
    book = ct.load_rules(rules)
    spark = aum.sparkSession
    months_text = _months_text(months)

    aum_in = _with_row(aum, row_column)
    aum_cols = [c for c in aum.columns if c != row_column]
    aum_schema = pa.schema([f for f in _arrow_schema(aum) if f.name in aum_cols])
    des_in = des_cols = des_schema = None
    if designations is not None:
        des_in = _with_row(designations, designations_row_column)
        des_cols = [c for c in designations.columns if c != designations_row_column]
        des_schema = pa.schema([f for f in _arrow_schema(designations) if f.name in des_cols])

    plan = _Plan(
        rules_json=book.to_json(),
        months=months_text,
        missing_months=missing_months,
        explain=explain,
        options=dict(options),
        header=_header_template(book),
        aum_type=_struct_of(aum_schema),
        designations_type=_struct_of(des_schema) if des_schema is not None else None,
        out_types={},
    )
    # A dry run on empty tables: header and option errors raise here, as in the single-process
    # path, and gives the output schemas (an empty month is the driver's check below).
    empty_des = des_schema.empty_table() if des_schema is not None else None
    dry_options = dict(plan.options, allow_empty_month=True)
    p, dry = _run(plan, book, aum_schema.empty_table(), empty_des, [], dry_options)
    dry_tables = _present(dry, None, p.to_states_text())
    plan.out_types = {name: _struct_of(dry_tables[name].schema) for name in OUTPUTS}
    entities = _portfolio_checks(book, aum, aum_cols, months_text, plan.options)
    plan.options = _partition_options(plan.options, entities)

    def q(c: str) -> Any:
        return F.col(f"`{c}`")

    cid = F.col(f"`{customer_column}`").cast("string")
    parts = [
        aum_in.select(
            cid.alias("_cid"), F.lit(_SRC_AUM).cast("byte").alias("_src"), "_row", F.struct(*[q(c) for c in aum_cols]).alias("_aum")
        )
    ]
    if des_in is not None:
        parts.append(
            des_in.select(
                cid.alias("_cid"),
                F.lit(_SRC_DESIGNATIONS).cast("byte").alias("_src"),
                "_row",
                F.struct(*[q(c) for c in des_cols]).alias("_designations"),
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

    from pyspark.sql import types as T

    out_schema = T.StructType(
        [T.StructField("_out", T.ByteType(), False)]
        + [T.StructField(name, _spark_type(plan.out_types[name]), True) for name in OUTPUTS]
        + [T.StructField("_fatal", T.BinaryType(), True)]
    )
    n = partitions or spark.sparkContext.defaultParallelism
    result = combined.repartition(n, "_cid").mapInArrow(_task(plan), out_schema)
    result = result.persist(storage_level or StorageLevel.MEMORY_AND_DISK)
    fatal = result.where(F.col("_out") == _FATAL).select("_fatal").collect()
    if fatal:
        result.unpersist()
        errors = [e for row in fatal for e in pickle.loads(row["_fatal"])]
        order = {"aum": 0, "designations": 1}
        errors.sort(key=lambda e: (order.get(e.record[0], 2), e.record[1]) if e.record else (3, 0))
        first = errors[0]
        message = first.message + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        attrs = dict(first._attrs)
        attrs["errors"] = errors
        raise type(first)(message, **attrs)
    frames = {
        name: result.where(F.col("_out") == kind).select(f"{name}.*") for kind, name in enumerate(OUTPUTS)
    }
    return SparkResult(**frames, _combined=result)


def evaluate_month(rules: Any, aum: Any, *, month: Any, **options: Any) -> SparkResult:
    """One portfolio month (``evaluate`` with ``months=month``)."""
    return evaluate(rules, aum, months=month, **options)


def replay(rules: Any, history: Any, *, months: Any, **options: Any) -> SparkResult:
    """A multi-month replay of a long history (``month`` column) over ``months``."""
    return evaluate(rules, history, months=months, **options)
