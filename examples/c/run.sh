#!/usr/bin/env bash
# Builds the C example and runs three portfolio months over portfolio.csv, carrying the states
# from month to month in a store file, as a core system's month-end job would.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
profile="${CRMT_PROFILE:-debug}"
[ -f "$target/$profile/libcrm_tiering_ffi.so" ] || (cd "$root" && cargo build -q -p crm-tiering-ffi)
out="$target/c-example"
mkdir -p "$out"
gcc -std=c11 -Wall -Wextra -Werror -O2 -I"$root/bindings/c/include" "$here/monthly_batch.c" \
    -o "$out/monthly_batch" -L"$target/$profile" -Wl,-rpath,"$target/$profile" -lcrm_tiering_ffi
store="$out/states"
rm -f "$store".*
prev="$store.none"
for month in 2024-01 2024-02 2024-03; do
    "$out/monthly_batch" "$root/rules-spec/demo-rules.toml" "$here/portfolio.csv" "$month" "$prev" "$store.$month.txt"
    prev="$store.$month.txt"
done
echo "final states: $prev ($(( $(wc -l < "$prev") - 2 )) customers, keyed by id, with a header and a checked trailer)"
