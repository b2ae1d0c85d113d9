"""Benchmark: a portfolio month from a pyarrow table of N customers (default 1,000,000).

Compares, in one run and on the same data:
  * python-table: `Portfolio.evaluate_month(month, pyarrow_table)`: reading the Arrow columns in
    Rust, the engine, and building the states/events/alerts Arrow tables (GIL released);
  * rust-batch: `Engine::evaluate_batch` alone on the same customers, inputs and states already
    in Rust vectors (what a Rust caller pays; through `_native._bench_rust_batch`);
  * python-loop: `Engine.evaluate` customer by customer from Python, on a sample, extrapolated.
Both table paths are timed on the second month (states from the first), single-threaded.

Build the wheel with `maturin build --release` first. Usage: python bench.py [N] [LOOP_SAMPLE]
"""

import random
import sys
import time
from decimal import Decimal

import pyarrow as pa

import crm_tiering as ct
from crm_tiering import _native

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
SAMPLE = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
rnd = random.Random(1)
ids = [f"6221{i:08d}" for i in range(N)]
levels = [rnd.choice([30_000, 150_000, 190_000, 260_000, 450_000, 800_000, 1_500_000, 4_000_000]) for _ in range(N)]
m1 = [lv * 100 + rnd.randrange(100) for lv in levels]  # fen
m2 = [f * rnd.choice([7, 9, 10, 10, 11, 14]) // 10 for f in m1]


def table(fen):
    return pa.table({"customer_id": ids, "aum": pa.array(fen, pa.int64()).cast(pa.decimal128(20, 2)) })


t1 = pa.table({"customer_id": ids, "aum": pa.array([Decimal(f).scaleb(-2) for f in m1], pa.decimal128(20, 2))})
t2 = pa.table({"customer_id": ids, "aum": pa.array([Decimal(f).scaleb(-2) for f in m2], pa.decimal128(20, 2))})
rules = ct.load_rules()

best = {}
for _ in range(3):
    p = _native.Portfolio(rules)
    s = time.perf_counter()
    p.evaluate_month("2024-01", t1)
    first = time.perf_counter() - s
    s = time.perf_counter()
    states, events, alerts, errors = p.evaluate_month("2024-02", t2)
    native = time.perf_counter() - s
    s = time.perf_counter()
    pa.table(states), pa.table(events), pa.table(alerts)
    wrap = time.perf_counter() - s
    r = _native._bench_rust_batch(rules, "2024-01", t1, "2024-02", t2)
    for k, v in (("first", first), ("native", native), ("wrap", wrap), ("rust", r["seconds"])):
        best[k] = min(best.get(k, v), v)
    assert r["events"] == pa.table(events).num_rows and r["alerts"] == pa.table(alerts).num_rows

engine = ct.Engine(rules)
sample = list(range(0, N, max(1, N // SAMPLE)))[:SAMPLE]
prior = {i: engine.evaluate(ids[i], "2024-01", Decimal(m1[i]).scaleb(-2)).state for i in sample}
s = time.perf_counter()
for i in sample:
    engine.evaluate(ids[i], "2024-02", Decimal(m2[i]).scaleb(-2), prior[i])
loop = (time.perf_counter() - s) / len(sample) * N

table_s = best["native"] + best["wrap"]
print(f"customers: {N:,}; events {r['events']:,}, alerts {r['alerts']:,} in month 2 (best of 3)")
print(f"rust-batch   (evaluate_batch only)          {best['rust']:.3f} s  {N / best['rust']:>12,.0f} customer-months/s")
print(f"python-table (pyarrow in, Arrow tables out) {best['native']:.3f} s  {N / best['native']:>12,.0f} customer-months/s")
print(f"  + pa.table() on the three results        {best['wrap']:.3f} s")
print(f"  first month (registers customers)         {best['first']:.3f} s")
print(f"python-loop  (Engine.evaluate per customer) {loop:.3f} s  {N / loop:>12,.0f} customer-months/s "
      f"(sample {len(sample):,}, extrapolated)")
print(f"ratio python-table / rust-batch: {table_s / best['rust']:.2f}x (target <= 1.5x)")
print(f"ratio python-loop / python-table: {loop / table_s:.1f}x (target >= 30x)")
