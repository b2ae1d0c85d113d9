"""A month-end tiering job on Spark: a multi-month replay of a portfolio held as Parquet.

    spark-submit --master local[2] examples/spark/tiering_job.py \
        --input out/spark/input --output out/spark/output --months 2023-01..2023-12

Reads <input>/aum (customer_id, month as a date, legal_entity, customer_kind, component
balances as decimals) and <input>/designations, keeps the declared months, replays them with
crm_tiering.spark (customers hash-partitioned, the rule book shipped to every task) and writes
<output>/{states,events,alerts,errors,stored_states} as Parquet from the tasks
(``evaluate_to_parquet``: <output> must be a location every executor reaches). --states reads the
stored_states of a previous run (Parquet) to continue from; --check also runs the
single-process path on the same data and requires identical results (small portfolios).
"""

import argparse
import datetime
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

import crm_tiering as ct
from crm_tiering import spark as cts


def month_date(text):
    return datetime.date(int(text[:4]), int(text[5:7]), 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--months", required=True, help="YYYY-MM..YYYY-MM (or one month)")
    ap.add_argument("--rules", help="rule book (TOML/JSON); the default book otherwise")
    ap.add_argument("--states", help="stored_states Parquet of a previous run")
    ap.add_argument("--partitions", type=int, help="customer-hash partitions (default: the cluster's parallelism)")
    ap.add_argument("--check", action="store_true", help="compare with the single-process path")
    a = ap.parse_args()

    spark = SparkSession.builder.appName("crm-tiering").getOrCreate()
    rules = ct.load_rules(a.rules)  # read on the driver; its JSON text travels with the tasks
    first, _, last = a.months.partition("..")
    last = last or first
    in_months = F.col("month").between(F.lit(month_date(first)), F.lit(month_date(last)))
    aum = spark.read.parquet(f"{a.input}/aum").where(in_months)
    designations = spark.read.parquet(f"{a.input}/designations").where(in_months)
    states = spark.read.parquet(a.states) if a.states else None

    t0 = time.perf_counter()
    # The tasks write the outputs themselves (pyarrow, straight from the core's tables), and the
    # driver commits their files: nothing is converted to Spark rows or persisted.
    counts = cts.evaluate_to_parquet(
        rules, aum, a.output, months=a.months, designations=designations, states=states, partitions=a.partitions,
        row_column="row", designations_row_column="row",  # errors name records by their CSV row
    )
    t1 = time.perf_counter()
    print(f"evaluated {a.months} and wrote {a.output} in {t1 - t0:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    out = {name: spark.read.parquet(f"{a.output}/{name}") for name in cts.OUTPUTS}
    (out["states"].where(F.col("month") == F.lit(month_date(last))).groupBy("effective_tier").count()
     .orderBy("effective_tier").show())

    if a.check:
        import pyarrow.parquet as pq

        table = pq.read_table(f"{a.input}/aum", filters=[("month", ">=", month_date(first)), ("month", "<=", month_date(last))])
        des = pq.read_table(f"{a.input}/designations", filters=[("month", ">=", month_date(first)), ("month", "<=", month_date(last))])
        if a.states:
            text = cts.states_text(states, rules)
            p = ct.Portfolio.from_states_text(rules, text)
        else:
            p = ct.Portfolio(rules)
        # errors name records by their CSV row in both paths
        rows = {"aum": table.column("row").combine_chunks(), "designations": des.column("row").combine_chunks()}
        table, des = table.drop_columns(["row"]), des.drop_columns(["row"])
        want = cts.canonical(p.evaluate_month(a.months, table, designations=des), p, rows=rows)
        for name in cts.OUTPUTS:
            if not cts.sort_output(name, cts.to_arrow(out[name])).equals(want[name]):
                raise SystemExit(f"check: {name} differs between Spark and the single-process path")
        print("check: Spark and the single-process path give identical states, events, alerts, errors and stored states")
    spark.stop()


if __name__ == "__main__":
    main()
