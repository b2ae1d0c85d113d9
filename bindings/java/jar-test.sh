#!/usr/bin/env bash
# The jar as a bank installs it, tested from a clean directory: copies only the distributable jar
# (build-jar.sh) and Debian's JNA jar into a fresh temporary directory with the Java example
# (examples/java/MonthlyBatch.java, its portfolio and the demo rule book), compiles it, and runs
# two months with just those two jars on the classpath, no -Djna.library.path and no
# LD_LIBRARY_PATH: JNA must load libcrm_tiering_ffi.so from inside the jar. The output must equal
# that of the same program run with -Djna.library.path on the workspace's library, and that
# option must still win over the jar's copy.
# Usage: bindings/java/jar-test.sh [JAR]   (default: builds it with build-jar.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
jna="$(readlink -f /usr/share/java/jna.jar)"

if [ "$#" -gt 0 ]; then
    jarfile="$(readlink -f "$1")"
else
    "$here/build-jar.sh"
    jarfile="$(ls -t "$target"/java/dist/crm-tiering-*.jar | head -n 1)"
fi
[ -f "$jarfile" ] || { echo "jar-test.sh: no jar at $jarfile" >&2; exit 1; }

clean="$(mktemp -d)"
trap 'rm -rf "$clean"' EXIT
cp "$jarfile" "$jna" "$clean/"
cp "$root/examples/java/MonthlyBatch.java" "$root/examples/java/portfolio.csv" "$clean/"
cp "$root/rules-spec/demo-rules.toml" "$clean/rules.toml"
cp_jars="$(basename "$jarfile"):$(basename "$jna")"
echo "== clean directory $clean: $(cd "$clean" && ls | tr '\n' ' ')"

# Two months, from the clean directory, with nothing but the two jars.
months() { # $1: label, then java options
    local label="$1"
    shift
    local prev="none"
    for month in 2024-01 2024-02; do
        (cd "$clean" && env -u LD_LIBRARY_PATH -u JAVA_TOOL_OPTIONS java "$@" -cp "classes:$cp_jars" MonthlyBatch \
            rules.toml portfolio.csv "$month" "$prev" "states-$label-$month.txt")
        prev="states-$label-$month.txt"
    done
}
(cd "$clean" && javac -Xlint:all -Werror -d classes -cp "$cp_jars" MonthlyBatch.java)
months jar -Djna.debug_load=true > "$clean/out-jar.txt" 2> "$clean/err-jar.txt" || {
    echo "jar-test.sh: the example failed with only the jar and JNA on the classpath:" >&2
    cat "$clean/out-jar.txt" "$clean/err-jar.txt" >&2
    exit 1
}
if ! grep -q "Found library resource at jar:file:.*$(basename "$jarfile")!/linux-x86-64/libcrm_tiering_ffi.so" \
    "$clean/err-jar.txt"; then
    echo "jar-test.sh: libcrm_tiering_ffi.so was not loaded from the jar; JNA said:" >&2
    cat "$clean/err-jar.txt" >&2
    exit 1
fi
grep -q '^2024-02: ' "$clean/out-jar.txt" && grep -q '^  event  ' "$clean/out-jar.txt" || {
    echo "jar-test.sh: the example printed no month or no event:" >&2
    cat "$clean/out-jar.txt" >&2
    exit 1
}
echo "loaded from the jar: $(grep -o 'jar:file:.*\.so' "$clean/err-jar.txt" | head -n 1)"
sed -n '/^2024-0[12]: /p' "$clean/out-jar.txt"

# -Djna.library.path still wins over the jar's copy, with the same results.
[ -f "$target/debug/libcrm_tiering_ffi.so" ] || (cd "$root" && cargo build -q --locked -p crm-tiering-ffi)
months path -Djna.debug_load=true -Djna.library.path="$target/debug" > "$clean/out-path.txt" 2> "$clean/err-path.txt"
if ! grep -q "Found library 'crm_tiering_ffi' at $target/debug/libcrm_tiering_ffi.so" "$clean/err-path.txt"; then
    echo "jar-test.sh: -Djna.library.path=$target/debug was not used; JNA said:" >&2
    cat "$clean/err-path.txt" >&2
    exit 1
fi
if ! diff -u "$clean/out-path.txt" "$clean/out-jar.txt" || ! cmp -s "$clean/states-path-2024-02.txt" \
    "$clean/states-jar-2024-02.txt"; then
    echo "jar-test.sh: the jar's library and $target/debug's gave different results" >&2
    exit 1
fi
echo "-Djna.library.path=$target/debug: used before the jar's copy, same output and states"
echo "jar test: $(basename "$jarfile") passed from a clean directory"
