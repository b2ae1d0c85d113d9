"""Spark local[2] against the single-process Python path on the same replay (Parquet in,
Parquet out). Run each path in its own process:

    python examples/spark/bench.py single out/bench/input out/bench/single 2023-01..2023-12
    python examples/spark/bench.py spark  out/bench/input out/bench/spark  2023-01..2023-12 [partitions]

Input: make_parquet.py's output. Prints the phases' wall times and the peak RSS of this process
(the Spark path's Python workers and JVM are separate processes: see the README).
"""

import datetime
import os
import resource
import sys
import time

import crm_tiering as ct


def months_range(text):
    first, _, last = text.partition("..")
    last = last or first
    d = lambda m: datetime.date(int(m[:4]), int(m[5:7]), 1)  # noqa: E731
    return d(first), d(last)


def single(inp, out, months):
    import pyarrow.parquet as pq

    first, last = months_range(months)
    f = [("month", ">=", first), ("month", "<=", last)]
    t0 = time.perf_counter()
    aum = pq.read_table(f"{inp}/aum", filters=f).drop_columns(["row"])
    des = pq.read_table(f"{inp}/designations", filters=f).drop_columns(["row"])
    t1 = time.perf_counter()
    p = ct.Portfolio(ct.load_rules())
    r = p.evaluate_month(months, aum, designations=des)
    text = p.to_states_text()
    t2 = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    for name in ("states", "events", "alerts", "errors"):
        pq.write_table(getattr(r, name), f"{out}/{name}.parquet")
    with open(f"{out}/states.jsonl", "w", encoding="utf-8") as fh:
        fh.write(text)
    t3 = time.perf_counter()
    print(f"single: {aum.num_rows} records; read {t1 - t0:.1f} s, evaluate {t2 - t1:.1f} s, write {t3 - t2:.1f} s, "
          f"total {t3 - t0:.1f} s; states {r.states.num_rows} rows; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def spark(inp, out, months, partitions):
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from crm_tiering import spark as cts

    s = (SparkSession.builder.master("local[2]").appName("crm-tiering-bench")
         .config("spark.driver.memory", "8g").config("spark.ui.showConsoleProgress", "false")
         .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1").getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    first, last = months_range(months)
    in_months = F.col("month").between(F.lit(first), F.lit(last))
    t0 = time.perf_counter()
    aum = s.read.parquet(f"{inp}/aum").where(in_months)
    des = s.read.parquet(f"{inp}/designations").where(in_months)
    r = cts.replay(ct.load_rules(), aum, months=months, designations=des, partitions=partitions,
                   row_column="row", designations_row_column="row")
    t1 = time.perf_counter()
    r.write_parquet(out)
    t2 = time.perf_counter()
    n = r.states.count()
    print(f"spark local[2], {partitions} partitions: read+evaluate {t1 - t0:.1f} s, write {t2 - t1:.1f} s, "
          f"total {t2 - t0:.1f} s; states {n} rows")
    r.unpersist()
    s.stop()


if __name__ == "__main__":
    mode, inp, out, months = sys.argv[1:5]
    if mode == "single":
        single(inp, out, months)
    else:
        spark(inp, out, months, int(sys.argv[5]) if len(sys.argv) > 5 else 8)
