#!/usr/bin/env bash
# The batch benchmark, in one run: the C program calling crmt_evaluate_batch_into, and two Rust
# callers of the engine on the same data, with the ratios; then the Java binding's batch.
# Release build.  Usage: bindings/c/bench.sh [customers] [threads]   (REPS=n: processes per side)
#
# Each program runs three months from new states, best of 3 rounds per month. The C and Rust
# programs are run alternately REPS times (default 3) and the best time of each month counts,
# so that load from other processes on a shared machine does not favour either side.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
n="${1:-1000000}"
threads="${2:-1}"
reps="${REPS:-3}"
cd "$root"
cargo build -q --release -p crm-tiering-ffi --lib --example bench_batch
mkdir -p "$target/c-bench"
gcc -std=c11 -O2 -Wall -Wextra -Werror -I"$here/include" "$here/bench/bench_batch.c" -o "$target/c-bench/bench_batch" \
    "$target/release/libcrm_tiering_ffi.a" -lpthread -ldl -lm

lines=""
for _ in $(seq "$reps"); do
    lines+="$("$target/c-bench/bench_batch" "$n" "$threads" 2>/dev/null)"$'\n'
    lines+="$("$target/release/examples/bench_batch" "$n" "$threads")"$'\n'
done

echo "$lines" | awk -v n="$n" -v threads="$threads" -v reps="$reps" '
NF == 5 {
    for (m = 1; m <= 3; m++) if (!(($1, m) in best) || $(m + 1) < best[$1, m]) best[$1, m] = $(m + 1)
    if (($1 in events) && events[$1] != $5) { printf "event counts differ between runs of %s\n", $1; bad = 1 }
    events[$1] = $5
}
END {
    split("rust_batch rust_batch_with c_batch_into", names, " ")
    label["rust_batch"] = "Rust  Engine::evaluate_batch (owned customers, Vec<MonthInput> prebuilt)"
    label["rust_batch_with"] = "Rust  Engine::evaluate_batch_with (borrowed ids, lazy inputs, reused sink)"
    label["c_batch_into"] = "C     crmt_evaluate_batch_into (one reused result handle)"
    printf "%d customers x 3 months, %d thread(s), best per month of %d processes x 3 rounds:\n", n, threads, reps
    for (k = 1; k <= 3; k++) {
        x = names[k]
        if (!((x, 1) in best)) { printf "missing figures for %s\n", x; exit 1 }
        secs[x] = best[x, 1] + best[x, 2] + best[x, 3]
        printf "  %-76s %.3f s (%.3f %.3f %.3f) = %5.2f M customer-months/s, %d events\n", label[x], secs[x],
            best[x, 1], best[x, 2], best[x, 3], n * 3 / secs[x] / 1e6, events[x]
    }
    if (events["c_batch_into"] != events["rust_batch"] || events["rust_batch_with"] != events["rust_batch"]) {
        print "the C and Rust batches disagree on the events"; exit 1
    }
    if (bad) exit 1
    printf "ratio (the issue'"'"'s, target <= 1.25x): C takes %.2fx the time of Engine::evaluate_batch\n",
        secs["c_batch_into"] / secs["rust_batch"]
    printf "ratio (against the best Rust caller):     C takes %.2fx the time of Engine::evaluate_batch_with\n",
        secs["c_batch_into"] / secs["rust_batch_with"]
}'

# The Java figure (JNA binding over the same release library), when Java and JNA are present.
if command -v javac >/dev/null && [ -f /usr/share/java/jna.jar ]; then
    "$root/bindings/java/build.sh"
    java -Xmx4g -Djna.library.path="$target/release" \
        -cp "$target/java/test-classes:$target/java/crm-tiering.jar:/usr/share/java/jna.jar" \
        crm.tiering.BatchBench "$n" "$threads"
fi
