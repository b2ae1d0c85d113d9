"""Spark against the single-process Python path on the same replay (Parquet in, Parquet out).
Run each path in its own process:

    python examples/spark/bench.py single out/bench/input out/bench/single 2023-01..2023-12
    python examples/spark/bench.py spark  out/bench/input out/bench/spark  2023-01..2023-12 [partitions] [--direct]
    PYSPARK_PYTHON=./environment/bin/python python examples/spark/bench.py spark \
        out/bench/input out/bench/spark 2023-01..2023-12 8 \
        --master spark://127.0.0.1:7177 --archives /tmp/tiering_env.tar.gz#environment

Input: make_parquet.py's output. Prints the phases' wall times, records per second (and per
core: the single-process path is one core, ``threads=1``; a Spark run has the cluster's cores),
the peak RSS of this process (the Spark path's Python workers and JVM are separate processes:
see the README) and, for Spark, each stage's wall time and its tasks' summed run time from the
application's REST API (``<driver UI>/api/v1/applications/<id>/stages``).
"""

import argparse
import datetime
import json
import os
import resource
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
    print(f"single: {aum.num_rows / (t3 - t0):,.0f} records/s end to end on 1 core "
          f"({aum.num_rows / (t2 - t1):,.0f} records/s evaluating)")


def stage_times(sc):
    """Each stage of the application, from the driver's REST API: (id, name, tasks, wall s,
    summed task run s, shuffle read MB, shuffle write MB)."""
    from urllib.request import urlopen

    url = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}/stages"
    rows = []
    for st in json.load(urlopen(url)):
        if st.get("status") != "COMPLETE":
            continue
        wall = (_ms(st.get("completionTime")) - _ms(st.get("submissionTime"))) / 1000
        rows.append((st["stageId"], st["name"].split(" at ")[0], st["numTasks"], wall,
                     st["executorRunTime"] / 1000, st["shuffleReadBytes"] / 2**20, st["shuffleWriteBytes"] / 2**20))
    return sorted(rows)


def executor_cores(sc):
    """The executors' cores (the REST API's ``executors``, the driver left out); ``local[n]``'s
    n for a local master."""
    from urllib.request import urlopen

    url = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}/executors"
    cores = sum(e["totalCores"] for e in json.load(urlopen(url)) if e["id"] != "driver")
    return cores or sc.defaultParallelism


def _ms(text):
    """Milliseconds since the epoch of the REST API's ``2024-01-01T00:00:00.000GMT``."""
    t = datetime.datetime.strptime(text.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return t.timestamp() * 1000


def spark(inp, out, months, partitions, master="local[2]", archives=None, direct=False):
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from crm_tiering import spark as cts

    b = (SparkSession.builder.master(master).appName("crm-tiering-bench")
         .config("spark.driver.memory", "8g").config("spark.ui.showConsoleProgress", "false")
         .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1"))
    if archives:
        b = b.config("spark.archives", archives)
    s = b.getOrCreate()
    s.sparkContext.setLogLevel("ERROR")
    # Executors registered before the clock starts (a standalone cluster starts them now).
    deadline = time.time() + 120
    while not master.startswith("local") and time.time() < deadline:
        if s.sparkContext._jsc.sc().getExecutorMemoryStatus().size() > 1:  # the driver's entry + executors
            break
        time.sleep(0.5)
    cores = executor_cores(s.sparkContext)
    first, last = months_range(months)
    in_months = F.col("month").between(F.lit(first), F.lit(last))
    t0 = time.perf_counter()
    aum = s.read.parquet(f"{inp}/aum").where(in_months)
    des = s.read.parquet(f"{inp}/designations").where(in_months)
    if direct:  # the tasks write the outputs themselves: one job, nothing persisted
        rows = cts.evaluate_to_parquet(ct.load_rules(), aum, out, months=months, designations=des,
                                       partitions=partitions, row_column="row", designations_row_column="row")
        t1 = t2 = time.perf_counter()
        n = rows["states"]
    else:
        r = cts.replay(ct.load_rules(), aum, months=months, designations=des, partitions=partitions,
                       row_column="row", designations_row_column="row")
        t1 = time.perf_counter()
        r.write_parquet(out)
        t2 = time.perf_counter()
        n = r.states.count()
        r.unpersist()
    stages = stage_times(s.sparkContext)
    records = s.read.parquet(f"{inp}/aum").where(in_months).count()
    print(f"spark {master}, {cores} cores, {partitions} partitions: {records} records; read+evaluate {t1 - t0:.1f} s, "
          f"write {t2 - t1:.1f} s, total {t2 - t0:.1f} s; states {n} rows")
    print(f"spark: {records / (t2 - t0):,.0f} records/s end to end, {records / (t2 - t0) / cores:,.0f} records/s per core")
    print("stage  tasks   wall s  task s  shuffle read MB  write MB  name")
    for sid, name, tasks, wall, run, rd, wr in stages:
        print(f"{sid:5d} {tasks:6d} {wall:8.1f} {run:7.1f} {rd:16.1f} {wr:9.1f}  {name}")
    s.stop()


def main():
    """Command line: the mode, the input and output folders, the months, then for Spark the
    partitions, the master and the archives to ship (a packed environment)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["single", "spark"])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("months")
    ap.add_argument("partitions", nargs="?", type=int, default=8)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--archives", help="spark.archives, e.g. /tmp/tiering_env.tar.gz#environment")
    ap.add_argument("--direct", action="store_true",
                    help="evaluate_to_parquet (the tasks write the outputs) instead of replay + write_parquet")
    a = ap.parse_args()
    if a.mode == "single":
        single(a.input, a.output, a.months)
    else:
        spark(a.input, a.output, a.months, a.partitions, a.master, a.archives, a.direct)


if __name__ == "__main__":
    main()
