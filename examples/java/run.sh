#!/usr/bin/env bash
# Builds the Java binding and runs the example for three months, carrying the states in a store.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
jna=/usr/share/java/jna.jar
[ -f "$target/java/crm-tiering.jar" ] || "$root/bindings/java/build.sh"
[ -f "$target/debug/libcrm_tiering_ffi.so" ] || (cd "$root" && cargo build -q -p crm-tiering-ffi)
out="$target/java-example"
mkdir -p "$out/classes"
javac -Xlint:all -Werror -d "$out/classes" -cp "$target/java/crm-tiering.jar:$jna" "$here/MonthlyBatch.java"
cp="$out/classes:$target/java/crm-tiering.jar:$jna"
store="$out/states"
rm -f "$store".*
prev="$store.none"
for month in 2024-01 2024-02 2024-03; do
    java -Djna.library.path="$target/debug" -cp "$cp" MonthlyBatch "$root/rules-spec/demo-rules.toml" \
        "$here/portfolio.csv" "$month" "$prev" "$store.$month.txt"
    prev="$store.$month.txt"
done
echo "final states: $prev ($(( $(wc -l < "$prev") - 2 )) customers, keyed by id)"
