#!/usr/bin/env bash
# The batch benchmark: the C program over the ABI and the Rust batch on the same data, back to
# back, with the ratio. Release build.  Usage: bindings/c/bench.sh [customers] [threads]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
n="${1:-1000000}"
threads="${2:-1}"
cd "$root"
cargo build -q --release -p crm-tiering-ffi --lib --example bench_batch
mkdir -p "$target/c-bench"
gcc -std=c11 -O2 -Wall -Wextra -Werror -I"$here/include" "$here/bench/bench_batch.c" -o "$target/c-bench/bench_batch" \
    "$target/release/libcrm_tiering.a" -lpthread -ldl -lm
c_line="$("$target/c-bench/bench_batch" "$n" "$threads")"
r_lines="$("$target/release/examples/bench_batch" "$n" "$threads")"
echo "$r_lines"
echo "$c_line"
rust_rate="$(echo "$r_lines" | sed -n 1p | sed -E 's/.*= ([0-9]+) customer-months.*/\1/')"
rust_with_inputs="$(echo "$r_lines" | sed -n 2p | sed -E 's/.*: ([0-9]+) customer-months.*/\1/')"
c_rate="$(echo "$c_line" | sed -E 's/.*= ([0-9]+) customer-months.*/\1/')"
awk -v r="$rust_rate" -v ri="$rust_with_inputs" -v c="$c_rate" 'BEGIN {
    printf "ratio: C over the ABI takes %.2fx the time of Engine::evaluate_batch alone (inputs prebuilt)\n", r / c
    printf "ratio: C over the ABI takes %.2fx the time of a Rust caller building its month of inputs and calling evaluate_batch (target <= 1.25x)\n", ri / c
}'

# The Java figure (JNA binding over the same release library), when Java and JNA are present.
if command -v javac >/dev/null && [ -f /usr/share/java/jna.jar ]; then
    "$root/bindings/java/build.sh"
    java -Xmx4g -Djna.library.path="$target/release" \
        -cp "$target/java/test-classes:$target/java/crm-tiering.jar:/usr/share/java/jna.jar" \
        crm.tiering.BatchBench "$n" "$threads"
fi
