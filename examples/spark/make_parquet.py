"""Converts the CLI demo's input CSV (`crm-tiering demo --out DIR` writes DIR/input/aum-monthly.csv
and designations.csv) to Parquet as a warehouse would hold it: customer ids and codes as strings,
component balances as decimal(20, 2) (never floats), months as dates (the month's first day),
and `row`, the record's 0-based data row in its CSV file (errors name records by it).

    python examples/spark/make_parquet.py out/demo/input out/spark/input

Writes <out>/aum/ and <out>/designations/ (a few Parquet files each, so that Spark reads them
in several splits).
"""

import argparse
import os

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv
import pyarrow.parquet as pq

COMPONENTS = [
    "demand_deposit", "time_deposit", "cert_treasury", "wealth_product",
    "securities_fund", "treasury_bond", "gold", "cts_margin",
]
TEXT = ["month", "customer_id", "legal_entity", "legal_entity_name", "customer_kind"]


def month_dates(col):
    ts = pc.strptime(pc.binary_join_element_wise(col, pa.scalar("-01"), ""), format="%Y-%m-%d", unit="s")
    return pc.cast(ts, pa.date32())


def convert_aum(src, dst, rows_per_file):
    types = {c: pa.string() for c in TEXT}
    types.update({c: pa.decimal128(20, 2) for c in COMPONENTS})
    reader = csv.open_csv(
        src,
        convert_options=csv.ConvertOptions(column_types=types, strings_can_be_null=False),
        read_options=csv.ReadOptions(block_size=64 << 20),
    )
    os.makedirs(dst, exist_ok=True)
    writer, part, rows, total = None, 0, 0, 0
    for batch in reader:
        t = pa.Table.from_batches([batch])
        # The AUM extract only: the demo also writes its book's measure columns (days_inactive,
        # matured_not_reinvested, non_performing), which the default book the job reads does not
        # declare (an undeclared column stops a table, SPEC §19.1).
        t = t.select([c for c in t.column_names if c in TEXT or c in COMPONENTS])
        t = t.append_column("row", pa.array(range(total, total + t.num_rows), pa.int64()))
        t = t.set_column(t.column_names.index("month"), "month", month_dates(t.column("month")))
        if writer is None or rows >= rows_per_file:
            if writer is not None:
                writer.close()
            writer = pq.ParquetWriter(os.path.join(dst, f"part-{part:05d}.parquet"), t.schema)
            part, rows = part + 1, 0
        writer.write_table(t)
        rows += t.num_rows
        total += t.num_rows
    if writer is not None:
        writer.close()
    return total, part


def convert_designations(src, dst):
    types = {"customer_id": pa.string(), "month": pa.string(), "action": pa.string(), "tier": pa.string(), "months": pa.int32()}
    t = csv.read_csv(src, convert_options=csv.ConvertOptions(column_types=types, strings_can_be_null=False))
    t = t.set_column(t.column_names.index("month"), "month", month_dates(t.column("month")))
    t = t.append_column("row", pa.array(range(t.num_rows), pa.int64()))
    os.makedirs(dst, exist_ok=True)
    pq.write_table(t, os.path.join(dst, "part-00000.parquet"))
    return t.num_rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv_dir", help="the demo's input directory (aum-monthly.csv, designations.csv)")
    ap.add_argument("out_dir")
    ap.add_argument("--rows-per-file", type=int, default=1_000_000)
    a = ap.parse_args()
    n, files = convert_aum(os.path.join(a.csv_dir, "aum-monthly.csv"), os.path.join(a.out_dir, "aum"), a.rows_per_file)
    d = convert_designations(os.path.join(a.csv_dir, "designations.csv"), os.path.join(a.out_dir, "designations"))
    print(f"parquet: {n} AUM records in {files} files, {d} designations -> {a.out_dir}")


if __name__ == "__main__":
    main()
