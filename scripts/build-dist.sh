#!/usr/bin/env bash
# Builds the CLI to ship: `crm-tiering` with the dist profile (release, stripped, thin LTO) for
# x86_64 Linux with glibc 2.17 or later (RHEL/CentOS 7 and every later distribution), linked by
# zig through cargo-zigbuild. Fails when the binary asks for a glibc symbol newer than 2.17, or
# when it does not run `demo --customers 1000 --months 2` here.
# Usage: scripts/build-dist.sh [OUT]   (default <target>/dist-bin; the binary is OUT/crm-tiering)
# Env: TOOLS_VENV (default <target>/zig-tools: ziglang and cargo-zigbuild, see
#      scripts/zig-tools.sh), PYTHON (python3), GLIBC (default 2.17).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
out="${1:-$CARGO_TARGET_DIR/dist-bin}"
tools="${TOOLS_VENV:-$CARGO_TARGET_DIR/zig-tools}"
glibc="${GLIBC:-2.17}"
triple=x86_64-unknown-linux-gnu
export PIP_DISABLE_PIP_VERSION_CHECK=1
started=$(date +%s)

[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "build-dist.sh: builds on Linux x86_64 only" >&2; exit 1; }
command -v objdump >/dev/null || { echo "build-dist.sh: objdump is missing (apt-get install binutils)" >&2; exit 1; }

source "$root/scripts/zig-tools.sh"
zig_tools "$tools"
rustup target list --installed 2>/dev/null | grep -qx "$triple" || rustup target add "$triple"

# With crm-tiering-workspace-hack beside it: cargo unifies the features of the packages one
# invocation builds, so the CLI's dependencies get the feature set the wheel's build asks too
# (bindings/python/build-wheel.sh then finds them compiled; see that crate's Cargo.toml).
echo "== cargo zigbuild --profile dist -p crm-tiering-cli -p crm-tiering-workspace-hack --target $triple.$glibc"
(cd "$root" && cargo zigbuild --locked --profile dist -p crm-tiering-cli -p crm-tiering-workspace-hack \
    --features crm-tiering-cli/vendored-openssl --target "$triple.$glibc")
bin="$CARGO_TARGET_DIR/$triple/dist/crm-tiering"
[ -x "$bin" ] || { echo "build-dist.sh: $bin was not built" >&2; exit 1; }
built=$(( $(date +%s) - started ))

echo "== the glibc versions it needs (objdump -T)"
needed="$(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sort -Vu)"
echo "$needed" | tr '\n' ' '
echo
newest="$(echo "$needed" | tail -n 1)"
newest="${newest#GLIBC_}"
if [ "$(printf '%s\n%s\n' "$newest" "$glibc" | sort -V | tail -n 1)" != "$glibc" ]; then
    echo "build-dist.sh: $bin needs glibc $newest, newer than $glibc; the symbols:" >&2
    objdump -T "$bin" | grep "GLIBC_$newest" >&2
    exit 1
fi
echo "needs glibc $newest at most: runs on glibc $glibc and later"

echo "== demo --customers 1000 --months 2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" demo --customers 1000 --months 2 --out "$work/demo" > "$work/demo.log" \
    || { cat "$work/demo.log"; echo "build-dist.sh: the demo failed" >&2; exit 1; }
grep -q '^committed ' "$work/demo.log" || { cat "$work/demo.log"; echo "build-dist.sh: the demo committed nothing" >&2; exit 1; }
grep '^committed \|^demo: ' "$work/demo.log"

mkdir -p "$out"
cp "$bin" "$out/crm-tiering"
release="$CARGO_TARGET_DIR/release/crm-tiering"
size() { du -b "$1" | cut -f1; }
echo "build-dist.sh: $out/crm-tiering, $(size "$bin") bytes (built in ${built}s, glibc <= $glibc)$(
    [ -f "$release" ] && echo "; target/release/crm-tiering: $(size "$release") bytes")"
