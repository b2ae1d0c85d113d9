#!/usr/bin/env bash
# The portfolio month from C and from Java on the same data, in one run, with the ratio (issue 12,
# point 4: Java within 2x of C). Release build, one thread.
# Usage: bindings/c/bench_portfolio.sh [customers]   (REPS=n: processes per side, default 3)
#
# Both programs build the same 1,000,000 customers (ids and fen of bench_batch.c), run January on a
# new portfolio (the customers join; not timed) and time February: the extract filled by
# crmt_extract_push_totals_fen (65,536 customers per call), crmt_evaluate_portfolio, and the
# evaluated AUMs and events read back (Java: PortfolioRun's primitive arrays). Each process prints
# its best of 3 rounds (Java after one warm-up round); the C and Java processes alternate REPS
# times and the best of each side counts, so that load from other processes favours neither.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
n="${1:-1000000}"
reps="${REPS:-3}"
cd "$root"
cargo build -q --release -p crm-tiering-ffi --lib
mkdir -p "$target/c-bench"
gcc -std=c11 -O2 -Wall -Wextra -Werror -I"$here/include" "$here/bench/bench_portfolio.c" \
    -o "$target/c-bench/bench_portfolio" "$target/release/libcrm_tiering_ffi.a" -lpthread -ldl -lm
"$root/bindings/java/build.sh"

lines=""
for _ in $(seq "$reps"); do
    lines+="$("$target/c-bench/bench_portfolio" "$n")"$'\n'
    lines+="$(java -Xmx6g -Djna.library.path="$target/release" \
        -cp "$target/java/test-classes:$target/java/crm-tiering.jar:/usr/share/java/jna.jar" \
        crm.tiering.PortfolioBench "$n")"$'\n'
done

echo "$lines" | awk -v n="$n" -v reps="$reps" '
NF == 4 {
    if (!($1 in best) || $2 < best[$1]) best[$1] = $2
    if (($1 in events) && (events[$1] != $3 || sums[$1] != $4)) { printf "results differ between runs of %s\n", $1; bad = 1 }
    events[$1] = $3; sums[$1] = $4
}
END {
    if (!("c_portfolio" in best) || !("java_portfolio" in best)) { print "missing figures"; exit 1 }
    if (events["c_portfolio"] != events["java_portfolio"] || sums["c_portfolio"] != sums["java_portfolio"]) {
        print "C and Java disagree on the events or AUMs"; exit 1
    }
    if (bad) exit 1
    printf "%d customers, portfolio month 2024-02 after 2024-01, 1 thread, best of %d processes x 3 rounds:\n", n, reps
    printf "  C     push_totals_fen + crmt_evaluate_portfolio         %.3f s = %5.2f M customers/s, %d events\n",
        best["c_portfolio"], n / best["c_portfolio"] / 1e6, events["c_portfolio"]
    printf "  Java  Extract.addTotals + evaluatePortfolioInto (JNA direct) %.3f s = %5.2f M customers/s, %d events\n",
        best["java_portfolio"], n / best["java_portfolio"] / 1e6, events["java_portfolio"]
    printf "ratio (issue 12 point 4, target <= 2x): Java takes %.2fx the time of C\n",
        best["java_portfolio"] / best["c_portfolio"]
}'
