"""Benchmark: a portfolio month from a pyarrow table of N customers (default 1,000,000).

Compares, in one run and on the same data (the second month, states from the first; best of 5,
the two paths alternating):
  * rust-batch: `Engine::evaluate_batch` alone (`evaluate_batch_parallel` for 2 threads), with
    customers, inputs and states already in Rust vectors, the states updated in place and the
    month's events and alerts returned as Rust vectors (a `BatchOutcome`), no table built: what
    a Rust caller pays for the engine (through `_native._bench_rust_batch`);
  * python-table: `Portfolio.evaluate_month(month, pyarrow_table)` called from Python: reading
    the Arrow columns, the engine, and the states/events/alerts/errors Arrow tables (all 14
    states columns), GIL released;
  * python-loop: `Engine.evaluate` customer by customer from Python, on a sample, extrapolated;
  * phases (1 thread, `_native._bench_phases`, Rust-side timers): the first month without
    tables, the one reader alone, the core's portfolio month with a sink that builds nothing,
    the portfolio month with the four table writers, and the four writers alone (fed the
    month's results as the core collected them).
Issue 12's targets: python-table within 1.3x of rust-batch (1 thread, the four tables
included), the first month at most 2x a later month. The phases also give the same work timed
in Rust (reader + portfolio month with the four table writers), so the binding's own cost is
python-table against that.

Build the wheel with `maturin build --release --features bench` first: the `_bench_*` helpers
are compiled only with that feature, never into a shipped wheel.
Usage: python bench.py [N] [LOOP_SAMPLE] [THREADS...]   (default: 1000000 20000 1 2)
"""

import random
import sys
import time
from decimal import Decimal

import pyarrow as pa

import crm_tiering as ct
from crm_tiering import _native

if not hasattr(_native, "_bench_phases"):
    sys.exit("bench.py needs the benchmark helpers: build the wheel with `maturin build --release --features bench`")

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
SAMPLE = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
THREADS = [int(t) for t in sys.argv[3:]] or [1, 2]
rnd = random.Random(1)
ids = [f"6221{i:08d}" for i in range(N)]
levels = [rnd.choice([30_000, 150_000, 190_000, 260_000, 450_000, 800_000, 1_500_000, 4_000_000]) for _ in range(N)]
m1 = [lv * 100 + rnd.randrange(100) for lv in levels]  # fen
m2 = [f * rnd.choice([7, 9, 10, 10, 11, 14]) // 10 for f in m1]

# Two tables as a bank's monthly extracts would be: separate id arrays, amounts decimal128(20, 2).
t1 = pa.table({"customer_id": ids, "aum": pa.array([Decimal(f).scaleb(-2) for f in m1], pa.decimal128(20, 2))})
t2 = pa.table({"customer_id": list(ids), "aum": pa.array([Decimal(f).scaleb(-2) for f in m2], pa.decimal128(20, 2))})
rules = ct.load_rules()

results = {}
for threads in THREADS:
    best = {}
    for _ in range(5):
        p = ct.Portfolio(rules)
        s = time.perf_counter()
        r1 = p.evaluate_month("2024-01", t1)  # kept: freeing its tables is not part of the month
        first = time.perf_counter() - s
        del r1
        s = time.perf_counter()
        r = p.evaluate_month("2024-02", t2, threads=threads)
        table = time.perf_counter() - s
        rust = _native._bench_rust_batch(rules, "2024-01", t1, "2024-02", t2, threads)
        assert rust["events"] == r.events.num_rows and rust["alerts"] == r.alerts.num_rows
        assert r.states.num_rows == N and r.errors.num_rows == 0
        for k, v in (("first", first), ("table", table), ("rust", rust["seconds"])):
            best[k] = min(best.get(k, v), v)
        if threads == 1:
            for k, v in _native._bench_phases(rules, "2024-01", t1, "2024-02", t2).items():
                best["phase_" + k] = min(best.get("phase_" + k, v), v)
        del r
    results[threads] = best

engine = ct.Engine(rules)
sample = list(range(0, N, max(1, N // SAMPLE)))[:SAMPLE]
prior = {i: engine.evaluate(ids[i], "2024-01", Decimal(m1[i]).scaleb(-2)).state for i in sample}
s = time.perf_counter()
for i in sample:
    engine.evaluate(ids[i], "2024-02", Decimal(m2[i]).scaleb(-2), state=prior[i])
loop = (time.perf_counter() - s) / len(sample) * N


def rate(sec):
    return f"{sec:.3f} s  {N / sec / 1e6:6.2f} M customer-months/s"


print(f"customers: {N:,}; month 2: events {rust['events']:,}, alerts {rust['alerts']:,} (best of 5)")
for threads, best in results.items():
    print(f"-- {threads} thread(s)")
    print(f"rust-batch   (engine only: vectors in, no table) {rate(best['rust'])}")
    print(f"python-table (pyarrow in, 4 Arrow tables out)    {rate(best['table'])}")
    print(f"  ratio python-table / rust-batch: {best['table'] / best['rust']:.2f}x (issue target <= 1.3x)")
    print(f"  first month (registers the customers)          {rate(best['first'])}")
    print(f"  ratio first / later month: {best['first'] / best['table']:.2f}x (issue target <= 2x)")
    if "phase_read" in best:
        same_work = best["phase_read"] + best["phase_tables"]
        print(f"  ratio python-table / the same work timed in Rust (reader + portfolio month + 4 tables): "
              f"{best['table'] / same_work:.2f}x (the binding's own cost)")
        print(f"  phases: reader {best['phase_read']:.3f} s, portfolio month (no output) {best['phase_month']:.3f} s, "
              f"portfolio month + 4 tables {best['phase_tables']:.3f} s, the 4 writers alone "
              f"{best['phase_writers']:.3f} s, first month in Rust (no tables) {best['phase_first']:.3f} s")
one = results.get(1) or next(iter(results.values()))
print(f"python-loop  (Engine.evaluate per customer)      {rate(loop)} (sample {len(sample):,}, extrapolated)")
print(f"ratio python-loop / python-table (1 thread): {loop / one['table']:.1f}x")
