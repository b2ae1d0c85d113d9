#!/usr/bin/env bash
# A short coverage-guided run of the `store_blocks` fuzz target, built the way README.md shows
# (a plain `cargo build` with cargo-fuzz's flags: no cargo-fuzz, stable Rust), from the seeds
# in seeds/store_blocks. Prints libFuzzer's run count; exits non-zero on a crash.
#
#   fuzz/run-store-blocks.sh [SECONDS]     # default 5
#
# Env: CARGO_TARGET_DIR (default fuzz/target).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SECS="${1:-5}"
cd "$HERE"
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HERE/target}"
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions" \
  cargo build --quiet --release --target "$TRIPLE" --bin store_blocks
CORPUS="$(mktemp -d "${TMPDIR:-/tmp}/store_blocks.XXXXXX")"
trap 'rm -rf "$CORPUS"' EXIT
LOG="$CORPUS/log"
if ! "$CARGO_TARGET_DIR/$TRIPLE/release/store_blocks" "$CORPUS" seeds/store_blocks \
    -max_total_time="$SECS" -max_len=8192 >"$LOG" 2>&1; then
  tail -n 40 "$LOG" >&2
  echo "store_blocks: the fuzz target failed" >&2
  exit 1
fi
grep -E '^Done [0-9]+ runs' "$LOG" | sed 's/^/store_blocks: /'
