#!/usr/bin/env bash
# Runs every test of crm-tiering: Rust (format, lints, unit/property/vector/doc tests, CLI end to
# end), C (plain, AddressSanitizer, valgrind), Java and Python. Installs what it needs (Debian
# packages, a Python venv) on a fresh machine. `.ci/run` calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step prints the free disk: a CI machine's disk is not large, and a full disk fails far
# from its cause.
# Each step also prints the seconds since the start, and the end lists what each step took: a CI
# run near its time limit shows where the minutes went.
started=$(date +%s)
step_names=(); step_starts=()
step() {
  step_names+=("$*"); step_starts+=("$(date +%s)")
  printf '\n==> %s   [%s free, %ss]\n' "$*" "$(df -h --output=avail . | tail -n 1 | tr -d ' ')" \
    "$(( $(date +%s) - started ))"
}
step_times() {
  local i end
  for i in "${!step_names[@]}"; do
    end="${step_starts[$((i + 1))]:-$(date +%s)}"
    printf '%6ss  %s\n' "$(( end - step_starts[i] ))" "${step_names[$i]:0:90}"
  done
}
# A clean clone builds once: no incremental caches (gigabytes) and no pip cache beside the venvs.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export PIP_NO_CACHE_DIR="${PIP_NO_CACHE_DIR:-1}"

step "Build prerequisites: OpenSSL's headers and pkg-config (PostgreSQL over TLS)"
if ! pkg-config --exists openssl 2>/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq libssl-dev pkg-config
fi

step "Shape: no source file over 600 lines, no function over 100 (scripts/check-shape.py)"
python3 scripts/check-shape.py

step "The ship builds share their dependencies: one feature set each (scripts/check-shared-features.py)"
python3 scripts/check-shared-features.py

step "Rust: formatting"
cargo fmt --all -- --check

step "Rust: clippy (warnings denied; incompatible_msrv refuses std APIs newer than the MSRV)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust: the MSRV (every dependency's rust-version at or below it)"
bash scripts/check-msrv.sh

step "Rust: docs (cargo doc --workspace, warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "PostgreSQL: a throwaway cluster for the store and CLI tests"
source scripts/postgres-test-cluster.sh
pg_test_cluster_start
# On a failure, the steps' times up to the failing one are listed too.
on_exit() {
  local rc=$?
  pg_test_cluster_stop
  if [ "$rc" -ne 0 ]; then printf '\nthe steps (the last one failed):\n'; step_times; fi
}
trap on_exit EXIT

step "Rust: tests (unit, properties, conformance vectors, CLI end to end, store on SQLite and PostgreSQL, doctests)"
cargo test --workspace --locked

step "Fuzz: parquet_input, a short coverage-guided run from its seeds (fuzz/README.md)"
bash fuzz/run-parquet-input.sh 5

step "Rust: the example month-end batch"
cargo run -q --locked -p crm-tiering --example monthly_batch | tail -n 1

for suite in bindings/c/run-tests.sh bindings/java/run-tests.sh bindings/python/run-tests.sh; do
  step "$suite"
  bash "$suite"
done

step "The month report in headless Chromium (scripts/report-browser-check.sh)"
bash scripts/report-browser-check.sh

step "The CLI to ship: stripped, linked for glibc 2.17, run once (scripts/build-dist.sh)"
bash scripts/build-dist.sh

step "The wheel to ship: manylinux2014, checked by auditwheel, installed with [spark] in a clean venv (bindings/python/build-wheel.sh)"
bash bindings/python/build-wheel.sh

step "Spark standalone: a master and two workers on 127.0.0.1 run the example with that wheel (examples/spark/cluster-test.sh)"
# The CLI to ship makes the demo portfolio: no release build of its own.
WHEEL="$(ls target/wheels-dist/crm_tiering-*.whl)" VENV="$PWD/.venv" CLI="$PWD/target/dist-bin/crm-tiering" \
  bash examples/spark/cluster-test.sh

printf '\nthe steps:\n'
step_times
printf '\nall test suites passed in %ss\n' "$(( $(date +%s) - started ))"
