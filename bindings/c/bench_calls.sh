#!/usr/bin/env bash
# The cost of one call of the per-customer entry points from C (bench/bench_calls.c): the
# boundary's own work on every call (panic guard, handle checks, error details) next to the
# evaluation. Release build.   Usage: bindings/c/bench_calls.sh [customers]
#   REPS=n       processes per library (default 3); the best figure of each measure counts
#   BASELINE=lib another build of libcrm_tiering_ffi.a to compare with: the two programs run
#                alternately and the ratio (this build / baseline) is printed per measure
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
n="${1:-200000}"
reps="${REPS:-3}"
cd "$root"
cargo build -q --release -p crm-tiering-ffi --lib
mkdir -p "$target/c-bench"
build() {
    gcc -std=c11 -O2 -Wall -Wextra -Werror -I"$here/include" "$here/bench/bench_calls.c" -o "$2" "$1" -lpthread -ldl -lm
}
build "$target/release/libcrm_tiering_ffi.a" "$target/c-bench/bench_calls"
if [ -n "${BASELINE:-}" ]; then
    build "$BASELINE" "$target/c-bench/bench_calls_baseline"
fi

lines=""
for _ in $(seq "$reps"); do
    lines+="$("$target/c-bench/bench_calls" "$n" | sed 's/^/this /')"$'\n'
    if [ -n "${BASELINE:-}" ]; then
        lines+="$("$target/c-bench/bench_calls_baseline" "$n" | sed 's/^/baseline /')"$'\n'
    fi
done

echo "$lines" | awk -v n="$n" -v reps="$reps" '
NF == 4 {
    key = $1 SUBSEP $2
    if (!(key in best) || $3 < best[key]) best[key] = $3
    if (!($2 in seen)) { order[++count] = $2; seen[$2] = 1 }
    if ((key in events) && events[key] != $4) { printf "event counts differ between runs of %s\n", $2; bad = 1 }
    events[key] = $4
    if ($1 == "baseline") base = 1
}
END {
    printf "%d customers x 3 months, best of %d processes x 5 rounds, ns per call:\n", n, reps
    for (k = 1; k <= count; k++) {
        x = order[k]
        if (base) {
            if (events["this", x] != events["baseline", x]) { printf "%s: the builds disagree on the events\n", x; bad = 1 }
            printf "  %-14s %8.1f ns   baseline %8.1f ns   ratio %.3f\n", x, best["this", x], best["baseline", x],
                best["this", x] / best["baseline", x]
        } else {
            printf "  %-14s %8.1f ns\n", x, best["this", x]
        }
    }
    if (bad) exit 1
}'
