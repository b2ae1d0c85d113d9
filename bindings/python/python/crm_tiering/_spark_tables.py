"""The Arrow tables of the Spark outputs (``crm_tiering.spark``): the conversions shared by the
single-process and the Spark paths (Spark-ready types, ``seq``, errors' record rows renamed to
whole-DataFrame rows, canonical order) and the checked states text of a partition.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, List, Optional, Sequence

import pyarrow as pa
import pyarrow.compute as pc

import crm_tiering as ct

# The outputs, in the order of the tasks' tagged output.
OUTPUTS = ("states", "events", "alerts", "errors", "stored_states")
_MONTH_COLUMNS = {
    "month",
    "effective_from",
    "window_from",
    "watch_since",
    "below_entry_since",
    "special_first_month",
    "special_last_month",
    "reported_in",
    "last_month",
    "stage_since",
}
_SORT_KEYS = {
    "states": ["customer_id", "month"],
    "events": ["customer_id", "month", "seq"],
    "alerts": ["customer_id", "month", "seq"],
    "errors": ["customer_id", "reported_in", "seq"],
    "stored_states": ["customer_id"],
}
_STORED_SCHEMA = pa.schema([("customer_id", pa.string()), ("rule_book", pa.string()), ("state", pa.string())])


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


_ID_PREFIX = '{"customer_id":"'


def _line_customer_id(line: str) -> str:
    """The customer id of a states-text line. The core writes ``{"customer_id":"<id>",...``
    first: the id is read from there when it has no escape, else the line is parsed as JSON
    (parsing every line was a quarter of a Spark task's Python time)."""
    if line.startswith(_ID_PREFIX):
        end = line.find('"', len(_ID_PREFIX))
        cid = line[len(_ID_PREFIX) : end]
        if end > 0 and "\\" not in cid:
            return cid
    return str(json.loads(line)["customer_id"])


def _stored_rows(text: str) -> pa.Table:
    """The lines of a checked states text as rows (customer_id, rule_book, state)."""
    lines = text.split("\n")
    header = json.loads(lines[0])
    body = [line for line in lines[1:] if line and not line.startswith('{"end_of_states"')]
    ids = [_line_customer_id(line) for line in body]
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
