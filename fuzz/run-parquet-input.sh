#!/usr/bin/env bash
# A short coverage-guided run of the parquet_input fuzz target (the build fuzz/README.md shows,
# without cargo-fuzz): SECONDS_TO_RUN seconds (default 5) from the seeds, printing the number of
# runs. Exits non-zero when the fuzzer finds a crash, a leak or an allocation over the limit.
#   fuzz/run-parquet-input.sh [SECONDS_TO_RUN]
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN=${1:-5}
TARGET_TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/target}
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions" \
  cargo build --quiet --release --target "$TARGET_TRIPLE" --bin parquet_input
CORPUS=$(mktemp -d)
trap 'rm -rf "$CORPUS"' EXIT
# -malloc_limit_mb: a damaged footer must never make the reader allocate what it claims.
"$CARGO_TARGET_DIR/$TARGET_TRIPLE/release/parquet_input" "$CORPUS" seeds/parquet_input \
  -max_total_time="$SECONDS_TO_RUN" -malloc_limit_mb=2048 -rss_limit_mb=4096 -print_final_stats=1 2>"$CORPUS/log" || {
  tail -n 40 "$CORPUS/log"
  exit 1
}
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$CORPUS/log")
echo "parquet_input: ${runs:-?} runs in ${SECONDS_TO_RUN}s from $(ls seeds/parquet_input | grep -c parquet) seeds, no failure"
