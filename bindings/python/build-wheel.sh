#!/usr/bin/env bash
# Builds the wheel a bank installs on its servers: manylinux2014 (glibc 2.17) x86_64, abi3
# (CPython 3.9+), linked with zig for glibc 2.17 through cargo-zigbuild, as the CLI's ship build
# (scripts/build-dist.sh) is: maturin runs cargo as scripts/zig-cargo.sh, so the two builds share
# their compiled dependencies instead of rebuilding each other's (see that file);
# then checks it with `auditwheel show` (the platform tag must be manylinux2014 /
# manylinux_2_17), and installs it with the `spark` extra into a fresh venv in a temporary
# directory, where `crm_tiering.spark` evaluates a month on Spark local[1].
# Usage: bindings/python/build-wheel.sh [OUT]   (default <target>/wheels-dist)
# Env: TOOLS_VENV (default <target>/zig-tools, shared with scripts/build-dist.sh: maturin, ziglang,
#      auditwheel), PYTHON (python3),
#      SPARK_CHECK (default 1; 0 skips the spark extra's check, which downloads PySpark).
# Takes several minutes (a release build from scratch); not part of run-tests.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$(mkdir -p "${1:-$CARGO_TARGET_DIR/wheels-dist}" && cd "${1:-$CARGO_TARGET_DIR/wheels-dist}" && pwd)"
TOOLS="${TOOLS_VENV:-$CARGO_TARGET_DIR/zig-tools}"
PY="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
started=$(date +%s)

source "$ROOT/scripts/zig-tools.sh"
zig_tools "$TOOLS"
echo "== tools: maturin, auditwheel in $TOOLS (versions from constraints.txt)"
"$TOOLS/bin/python" -m pip install -q -c "$HERE/constraints.txt" maturin auditwheel

# The dist profile (release, stripped), the same features of every shared dependency
# (crates/crm-tiering-workspace-hack) and the same linker as scripts/build-dist.sh builds the
# CLI with: the two share their compiled dependencies. OpenSSL is built in and linked statically
# (vendored-openssl).
echo "== maturin build --profile dist --compatibility manylinux2014 --features vendored-openssl, cargo-zigbuild linking for glibc 2.17"
rm -f "$OUT"/crm_tiering-*.whl
(cd "$HERE" && CARGO="$ROOT/scripts/zig-cargo.sh" ZIG_GLIBC=2.17 "$TOOLS/bin/maturin" build \
    --profile dist --target x86_64-unknown-linux-gnu --compatibility manylinux2014 \
    --features vendored-openssl --out "$OUT" --interpreter "$TOOLS/bin/python")
wheels=("$OUT"/crm_tiering-*.whl)
[ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] || { echo "build-wheel.sh: expected one wheel in $OUT" >&2; exit 1; }
wheel="${wheels[0]}"
echo "built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB) in $(( $(date +%s) - started ))s"

echo "== auditwheel show"
report="$("$TOOLS/bin/auditwheel" show "$wheel")"
echo "$report"
tag="$(tr '\n' ' ' <<< "$report" | grep -o 'consistent with the following platform tag: *"[^"]*"' \
    | sed 's/.*"\(.*\)"/\1/' || true)"
case "$tag" in
    manylinux2014_x86_64 | manylinux_2_17_x86_64) echo "auditwheel: platform tag $tag" ;;
    *) echo "build-wheel.sh: auditwheel gives the platform tag '$tag', not manylinux2014 (glibc 2.17)" >&2; exit 1 ;;
esac
case "$(basename "$wheel")" in
    *manylinux_2_17_x86_64*.whl | *manylinux2014_x86_64*.whl) ;;
    *) echo "build-wheel.sh: the wheel's file name has no manylinux2014 tag: $(basename "$wheel")" >&2; exit 1 ;;
esac

if [ "${SPARK_CHECK:-1}" = 1 ]; then
    echo "== pip install \"crm_tiering[spark]\" from the wheel, in a fresh venv"
    clean="$(mktemp -d)"
    trap 'rm -rf "$clean"' EXIT
    "$PY" -m venv "$clean/venv"
    # Only the extra's own requirements (pinned by constraints.txt where listed there).
    "$clean/venv/bin/python" -m pip install -q -c "$HERE/constraints.txt" "$wheel[spark]"
    "$clean/venv/bin/python" -m pip list --format=freeze | sed 's/^/  /'
    if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/java-17-openjdk-amd64 ]; then
        export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
    fi
    (cd "$clean" && "$clean/venv/bin/python" "$HERE/tests/spark_extra_check.py")
fi
echo "build-wheel.sh: $(basename "$wheel") ($tag) passed in $(( $(date +%s) - started ))s; wheel in $OUT"
