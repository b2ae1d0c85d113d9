#!/usr/bin/env bash
# Builds the crm_tiering wheel (abi3) with maturin, installs it in a fresh venv, runs pytest and
# the example end to end. Runs from any directory. Usage: bindings/python/run-tests.sh
# Env: VENV (default <repo>/.venv), PROFILE (dev, or release for benchmarks).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PROFILE="${PROFILE:-dev}"
PY="${PYTHON:-python3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
# The versions are pinned in constraints.txt (the developers' venv), so a new release of a test
# tool cannot change what the tests run on.
"$VENV/bin/python" -m pip install -q -c "$HERE/constraints.txt" maturin pytest pandas polars pyarrow matplotlib mypy "pyspark>=3.5"
# PySpark (tests/test_spark.py, examples/spark) runs on Java 17.
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/java-17-openjdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi

WHEELS="$(mktemp -d)"
OUT="$(mktemp -d)"
trap 'rm -rf "$WHEELS" "$OUT"' EXIT
echo "== building the wheel ($PROFILE)"
# The test wheel links this machine's OpenSSL: it is installed here only, so it is not repaired
# into a manylinux wheel (build-wheel.sh makes the wheel to ship, with OpenSSL built in).
(cd "$HERE" && "$VENV/bin/maturin" build --profile "$PROFILE" --auditwheel skip --out "$WHEELS" --interpreter "$VENV/bin/python")
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$WHEELS"/crm_tiering-*.whl

echo "== pytest"
# Run from the tests folder so that the installed wheel, not the source tree, is imported.
(cd "$HERE/tests" && "$VENV/bin/python" -m pytest -q -p no:cacheprovider)

echo "== example"
"$VENV/bin/python" "$ROOT/examples/python/make_notebook.py" --check
MPLBACKEND=Agg "$VENV/bin/python" "$ROOT/examples/python/portfolio_walkthrough.py" "$OUT" > "$OUT/log.txt"
for plot in tier_distribution.png migration_matrix.png threshold_change.png; do
  [ -s "$OUT/$plot" ] || { echo "missing plot $plot"; cat "$OUT/log.txt"; exit 1; }
done
echo "example wrote $(ls "$OUT"/*.png | wc -l) plots"
echo "== spark example"
CUSTOMERS=5000 PROFILE="$PROFILE" VENV="$VENV" "$ROOT/examples/spark/run.sh" "$OUT/spark"
echo "python binding: all checks passed"
