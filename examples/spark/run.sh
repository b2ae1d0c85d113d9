#!/usr/bin/env bash
# The Spark example end to end: the CLI's demo portfolio -> Parquet -> a 12-month replay on
# Spark local[2] (spark-submit), checked against the single-process path.
# Usage: examples/spark/run.sh [OUT]  (default out/spark)
# Env: CUSTOMERS (default 100000), VENV (default <repo>/.venv, with crm_tiering and pyspark),
#      PROFILE (dev or release, for the CLI that generates the demo), PARTITIONS (default 4).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${1:-$ROOT/out/spark}"
VENV="${VENV:-$ROOT/.venv}"
CUSTOMERS="${CUSTOMERS:-100000}"
PROFILE="${PROFILE:-release}"
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/java-17-openjdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi
export PYSPARK_PYTHON="$VENV/bin/python" PYSPARK_DRIVER_PYTHON="$VENV/bin/python"
mkdir -p "$OUT"
echo "== demo portfolio ($CUSTOMERS customers x 12 months, CSV)"
(cd "$ROOT" && cargo run -q --profile "$PROFILE" -p crm-tiering-cli -- \
  demo --customers "$CUSTOMERS" --months 12 --start 2023-01 --out "$OUT/demo" > "$OUT/demo.log")
echo "== Parquet"
"$VENV/bin/python" "$HERE/make_parquet.py" "$OUT/demo/input" "$OUT/input" --rows-per-file 250000
echo "== spark-submit (local[2])"
"$VENV/bin/spark-submit" --master "local[2]" \
  --conf spark.ui.showConsoleProgress=false --conf spark.driver.bindAddress=127.0.0.1 --conf spark.driver.host=127.0.0.1 \
  "$HERE/tiering_job.py" --input "$OUT/input" --output "$OUT/output" \
  --months 2023-01..2023-12 --partitions "${PARTITIONS:-4}" --check 2> "$OUT/spark.log" \
  || { tail -50 "$OUT/spark.log"; exit 1; }
for t in states events alerts errors stored_states; do
  ls "$OUT/output/$t"/*.parquet > /dev/null || { echo "missing output $t"; exit 1; }
done
echo "spark example: outputs in $OUT/output"
