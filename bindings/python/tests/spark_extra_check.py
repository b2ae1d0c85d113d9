"""What `pip install "crm-tiering[spark]"` must bring: run by bindings/python/build-wheel.sh in a
fresh venv holding only the wheel and its `spark` extra (not collected by pytest). Replays two
months of a small portfolio on Spark local[1] with `crm_tiering.spark` and compares the states
with the single-process path's."""

import os
import sys

import pyarrow as pa

import crm_tiering as ct
from crm_tiering import spark as cts


def main() -> int:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("crm-tiering-spark-extra")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    months = ["2024-01", "2024-02"]
    rows = [(f"62{i:08d}", m, str(40_000 * (i % 40) + 17 * k)) for i in range(200) for k, m in enumerate(months)]
    table = pa.table({"customer_id": [r[0] for r in rows], "month": [r[1] for r in rows], "aum": [r[2] for r in rows]})
    rules = ct.load_rules()
    try:
        result = cts.replay(rules, cts._create(spark, table), months="2024-01..2024-02", partitions=2)
        try:
            got = result.to_arrow()["states"]
        finally:
            result.unpersist()
    finally:
        spark.stop()
    portfolio = ct.Portfolio(rules)
    want = cts.canonical(portfolio.evaluate_month("2024-01..2024-02", table), portfolio)["states"]
    if not got.equals(want):
        print(f"spark extra: the Spark states differ from the single-process path's\n{got}\n{want}")
        return 1
    print(f"spark extra: {got.num_rows} state rows over Spark equal the single-process path's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
