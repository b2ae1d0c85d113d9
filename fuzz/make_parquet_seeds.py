"""Writes the seeds of the parquet_input fuzz target into seeds/parquet_input/ (run with any
Python that has pyarrow: python fuzz/make_parquet_seeds.py). The seeds are committed; this
script says how they were made.

- valid.parquet: a small AUM extract (month, customer_id, legal_entity, aum decimal128(20, 2));
- components.parquet: component columns, a dictionary-encoded legal entity, a null amount;
- fen.parquet: integer fen in `aum_fen`, a date32 month;
- huge-rows.parquet: valid.parquet whose footer claims 2^40 rows (file and row group);
- huge-chunk.parquet: valid.parquet whose first column chunk claims 2^40 compressed bytes;
- truncated-*.parquet: valid.parquet cut short (the footer lost, half the file, the magic only).
"""

import io
import os
import struct
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "parquet_input")


def write(name, table, **kw):
    buf = io.BytesIO()
    pq.write_table(table, buf, **kw)
    data = buf.getvalue()
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    return data


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def patch_footer(data, old, new):
    """Replaces every `old` byte string in the footer's metadata by `new`, fixing its length."""
    (meta_len,) = struct.unpack("<I", data[-8:-4])
    start = len(data) - 8 - meta_len
    meta = data[start:-8]
    assert old in meta, (old, meta)
    meta = meta.replace(old, new)
    return data[:start] + meta + struct.pack("<I", len(meta)) + b"PAR1"


os.makedirs(HERE, exist_ok=True)
valid = write(
    "valid.parquet",
    pa.table(
        {
            "month": ["2024-03", "2024-03", "2024/03"],
            "customer_id": ["c1", "c2", "c3"],
            "legal_entity": ["620101", "620101", ""],
            "aum": pa.array([Decimal("250000.00"), Decimal("1.05"), None], pa.decimal128(20, 2)),
        }
    ),
    compression="snappy",
)
write(
    "components.parquet",
    pa.table(
        {
            "customer_id": ["c1", "c2"],
            "legal_entity": pa.array(["620101", "620102"]).dictionary_encode(),
            "time_deposit": pa.array([Decimal("150000"), None], pa.decimal128(20, 2)),
            "wealth_product": ["60000", "1"],
        }
    ),
)
write(
    "fen.parquet",
    pa.table(
        {
            "month": pa.array([19783, 19783], pa.date32()),
            "customer_id": ["c1", "c2"],
            "aum_fen": pa.array([25_000_000, -1], pa.int64()),
        }
    ),
    compression="none",
)
# num_rows (i64, field 3 of FileMetaData and of RowGroup): 3 rows -> 2^40. Compact thrift:
# a field header 0x16 (delta 1, i64) then the zigzag varint.
rows = b"\x16" + varint(zigzag(3))
huge = patch_footer(valid, rows, b"\x16" + varint(zigzag(1 << 40)))
with open(os.path.join(HERE, "huge-rows.parquet"), "wb") as f:
    f.write(huge)
meta = pq.read_metadata(io.BytesIO(valid))
size = meta.row_group(0).column(0).total_compressed_size
# ColumnMetaData's total_compressed_size is field 7 (i64) after field 6 (total_uncompressed_size).
old = b"\x16" + varint(zigzag(size))
chunk = patch_footer(valid, old, b"\x16" + varint(zigzag(1 << 40)))
with open(os.path.join(HERE, "huge-chunk.parquet"), "wb") as f:
    f.write(chunk)
for name, data in (
    ("truncated-footer.parquet", valid[:-5]),
    ("truncated-half.parquet", valid[: len(valid) // 2]),
    ("truncated-magic.parquet", valid[:4]),
):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
for name in sorted(os.listdir(HERE)):
    print(name, os.path.getsize(os.path.join(HERE, name)))
