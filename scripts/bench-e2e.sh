#!/usr/bin/env bash
# End-to-end benchmark of `crm-tiering run` against DuckDB (issues 12 and 19).
#
#   scripts/bench-e2e.sh [CUSTOMERS]        # default 1000000
#
# 1. builds crm-tiering in release;
# 2. generates a 2-month portfolio with `crm-tiering demo --customers N --months 2` (the demo
#    also runs it; only its input CSV is kept), keeps the AUM columns and the demo book's tiers
#    (scripts/bench-e2e-tiers.py: the work DuckDB's query does), splits the months, writes the second month as
#    CSV and as Parquet (amounts DECIMAL(20,2), Snappy), and commits the first month once into
#    a SQLite store;
# 3. installs DuckDB from PyPI in a venv ($BENCH_E2E_VENV, default target/bench-e2e/venv),
#    reused when present;
# 4. runs, alternately, best of $BENCH_E2E_REPS (default 3), one thread each:
#      DuckDB (SET threads=1): read the month as DECIMAL(20,2), sum the components, assign the
#        tier with a CASE on the default thresholds, write `month, customer_id, aum, tier` as
#        CSV (the narrow output: the stateless part of the month, nothing more);
#      crm-tiering run --month M2 --aum FILE --store <fresh copy of the month-1 store> --threads 1;
#      the same with --threads 2 (the stored states read while the input is; evaluation on two
#        threads), reported beside, not as the target's ratio;
#    from the CSV, then the same from the Parquet file; prints each wall time and peak RSS
#    (/usr/bin/time), the ratios crm-tiering/DuckDB and peak memory per million customers.
#
# Environment: CARGO_TARGET_DIR (as cargo), BENCH_E2E_VENV, BENCH_E2E_REPS, BENCH_E2E_SEED,
# TMPDIR (the generated files: about 150 bytes per customer-month, plus the stores).
set -euo pipefail

CUSTOMERS=${1:-1000000}
REPS=${BENCH_E2E_REPS:-3}
SEED=${BENCH_E2E_SEED:-20240601}
M1=2023-01
M2=2023-02

case $CUSTOMERS in ''|*[!0-9]*) echo "usage: $0 [CUSTOMERS]" >&2; exit 2 ;; esac
if [ ! -x /usr/bin/time ]; then
    echo "bench-e2e: /usr/bin/time (GNU time) is needed for the peak memory" >&2
    exit 2
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
BIN=$TARGET/release/crm-tiering
VENV=${BENCH_E2E_VENV:-$TARGET/bench-e2e/venv}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log() { printf '[bench-e2e] %s\n' "$*" >&2; }

# Runs a command; on failure prints its stderr and stops the script.
run_logged() {
    local name=$1; shift
    if ! "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"; then
        echo "bench-e2e: failed: $*" >&2
        tail -n 40 "$WORK/$name.err" >&2
        exit 1
    fi
}

# --- 1. build -------------------------------------------------------------------------------
log "building crm-tiering (release)"
(cd "$ROOT" && cargo build --release -p crm-tiering-cli)

# --- 3. DuckDB in a venv (before the data: the generation uses it) --------------------------
if ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
    log "installing duckdb from PyPI into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check duckdb
fi
PY=$VENV/bin/python
DUCKDB_VERSION=$("$PY" -c 'import duckdb; print(duckdb.__version__)')

# The DuckDB side, one script for the conversion and the timed query.
cat >"$WORK/duck.py" <<'EOF'
import sys
import duckdb

IDS = ("month", "customer_id", "legal_entity", "legal_entity_name", "customer_kind")
THRESHOLDS = [(3000000, "private"), (1000000, "diamond"), (500000, "platinum"), (200000, "gold")]

def header(csv_path):
    with open(csv_path, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n").split(",")

def read_csv(path, cols):
    types = ", ".join(
        "'%s': '%s'" % (c, "VARCHAR" if c in IDS else "DECIMAL(20,2)") for c in cols)
    return ("read_csv('%s', header=true, delim=',', quote='\"', columns={%s})"
            % (path, types))

def main():
    mode = sys.argv[1]
    con = duckdb.connect()
    con.execute("SET threads=1")
    if mode == "convert":  # convert CSV PARQUET: the month as Parquet with decimal amounts
        src, dst = sys.argv[2], sys.argv[3]
        cols = header(src)
        con.execute("COPY (SELECT * FROM %s) TO '%s' (FORMAT parquet, COMPRESSION snappy)"
                    % (read_csv(src, cols), dst))
        return
    # tier csv|parquet INPUT OUTPUT_CSV HEADER_SOURCE_CSV
    fmt, src, dst, header_csv = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    cols = header(header_csv)
    comps = [c for c in cols if c not in IDS]
    rel = read_csv(src, cols) if fmt == "csv" else "read_parquet('%s')" % src
    aum = " + ".join("coalesce(%s, 0)" % c for c in comps)
    case = "CASE " + " ".join(
        "WHEN aum >= %d THEN '%s'" % (t, code) for t, code in THRESHOLDS) + " END"
    con.execute(
        "COPY (SELECT month, customer_id, aum, %s AS tier FROM (SELECT month, customer_id, %s AS aum FROM %s)) "
        "TO '%s' (FORMAT csv, HEADER)" % (case, aum, rel, dst))

main()
EOF

# --- 2. the extracts ------------------------------------------------------------------------
log "generating $CUSTOMERS customers x 2 months with the demo (it runs them too)"
run_logged demo "$BIN" demo --customers "$CUSTOMERS" --months 2 --start "$M1" --seed "$SEED" \
    --out "$WORK/demo"
ALL=$WORK/demo/input/aum-monthly.csv
rm -f "$WORK/demo/crm-tiering.db"* # the demo's store (both months): not used

# The work issue 19 names: the demo book's tiers only, over the extract's AUM columns only
# (scripts/bench-e2e-tiers.py says why).
log "the demo book's tiers only, and the extract's AUM columns"
RULES=$WORK/tiers-rules.json
run_logged tiers "$PY" "$ROOT/scripts/bench-e2e-tiers.py" "$ROOT/rules-spec/demo-rules.toml" "$RULES" "$ALL" "$WORK/aum.csv"
rm -f "$ALL"
ALL=$WORK/aum.csv

export LC_ALL=C
{ head -n 1 "$ALL"; grep "^$M1," "$ALL" || true; } >"$WORK/m1.csv"
{ head -n 1 "$ALL"; grep "^$M2," "$ALL" || true; } >"$WORK/m2.csv"
rm -f "$ALL"
ROWS=$(($(wc -l <"$WORK/m2.csv") - 1))
[ "$ROWS" -gt 0 ] || { echo "bench-e2e: no row of $M2 in the demo's extract" >&2; exit 1; }
log "converting $M2 ($ROWS rows) to Parquet"
run_logged convert "$PY" "$WORK/duck.py" convert "$WORK/m2.csv" "$WORK/m2.parquet"

log "committing $M1 into the base store"
# The demo's customers are personal and corporate: its rule book (tiers only, above) tiers both.
run_logged base "$BIN" run --month "$M1" --aum "$WORK/m1.csv" --store "$WORK/base.db" --create-store --rules "$RULES" --quiet
rm -f "$WORK/m1.csv"

# --- 4. the timed runs ----------------------------------------------------------------------
# timed NAME CMD...: appends "seconds max_rss_kib" to $WORK/NAME.times
timed() {
    local name=$1; shift
    if ! /usr/bin/time -f '%e %M' -o "$WORK/time.tmp" "$@" >/dev/null 2>"$WORK/$name.err"; then
        echo "bench-e2e: failed: $*" >&2
        tail -n 40 "$WORK/$name.err" >&2
        exit 1
    fi
    tail -n 1 "$WORK/time.tmp" >>"$WORK/$name.times"
    read -r s k <"$WORK/time.tmp"
    printf '  %-20s %7.2f s %7d MiB\n' "$name" "$s" $((k / 1024))
}

fresh_store() {
    rm -f "$WORK/run.db" "$WORK/run.db-wal" "$WORK/run.db-shm" "$WORK/run.db-journal"
    cp "$WORK/base.db" "$WORK/run.db"
    if [ -e "$WORK/base.db-wal" ]; then cp "$WORK/base.db-wal" "$WORK/run.db-wal"; fi
    sync -f "$WORK/run.db" 2>/dev/null || true
}

duck() { # duck FORMAT INPUT
    rm -f "$WORK/duck-out.csv"
    timed "duckdb-$1" "$PY" "$WORK/duck.py" tier "$1" "$2" "$WORK/duck-out.csv" "$WORK/m2.csv"
}
crmt() { # crmt FORMAT INPUT [THREADS]
    local threads=${3:-1} name="crm-tiering-$1"
    [ "$threads" = 1 ] || name="$name-t$threads"
    fresh_store
    timed "$name" "$BIN" run --month "$M2" --aum "$2" --store "$WORK/run.db" --rules "$RULES" \
        --threads "$threads" --quiet
}

echo "crm-tiering run vs DuckDB $DUCKDB_VERSION: $CUSTOMERS customers, month $M2 ($ROWS rows," \
    "CSV $(($(stat -c %s "$WORK/m2.csv") / 1048576)) MiB, Parquet" \
    "$(($(stat -c %s "$WORK/m2.parquet") / 1048576)) MiB), 1 thread, best of $REPS"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq 1 "$REPS"); do
    echo "round $rep"
    duck csv "$WORK/m2.csv"
    crmt csv "$WORK/m2.csv"
    crmt csv "$WORK/m2.csv" 2
    duck parquet "$WORK/m2.parquet"
    crmt parquet "$WORK/m2.parquet"
    crmt parquet "$WORK/m2.parquet" 2
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

best() { sort -n "$WORK/$1.times" | head -n 1 | cut -d' ' -f1; }
peak() { sort -n -k2 "$WORK/$1.times" | tail -n 1 | cut -d' ' -f2; }

echo
printf '%-24s %10s %14s %22s\n' "best of $REPS" "seconds" "peak RSS MiB" "MiB per 1M customers"
for name in duckdb-csv crm-tiering-csv crm-tiering-csv-t2 duckdb-parquet crm-tiering-parquet crm-tiering-parquet-t2; do
    awk -v n="$name" -v s="$(best "$name")" -v k="$(peak "$name")" -v c="$CUSTOMERS" \
        'BEGIN { printf "%-24s %10.2f %14.0f %22.0f\n", n, s, k / 1024, k / 1024 / (c / 1e6) }'
done
for fmt in csv parquet; do
    awk -v f="$fmt" -v a="$(best "crm-tiering-$fmt")" -v b="$(best "duckdb-$fmt")" \
        'BEGIN { if (b <= 0) b = 0.01; printf "ratio crm-tiering/DuckDB (%s, both 1 thread): %.2fx (target 1.2x)\n", f, a / b }'
    awk -v f="$fmt" -v a="$(best "crm-tiering-$fmt-t2")" -v b="$(best "duckdb-$fmt")" \
        'BEGIN { if (b <= 0) b = 0.01; printf "ratio crm-tiering --threads 2/DuckDB 1 thread (%s): %.2fx\n", f, a / b }'
done
awk -v k1="$(peak crm-tiering-csv)" -v k2="$(peak crm-tiering-parquet)" -v c="$CUSTOMERS" \
    'BEGIN { k = k1 > k2 ? k1 : k2; printf "crm-tiering peak memory: %.0f MiB per million customers (target 300)\n", k / 1024 / (c / 1e6) }'
