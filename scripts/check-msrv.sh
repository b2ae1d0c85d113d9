#!/usr/bin/env bash
# Checks the minimum supported Rust version (MSRV) declared in the workspace Cargo.toml:
#   1. every crate of the resolved dependency graph declares a rust-version at or below it;
#   2. clippy's `incompatible_msrv` lint (run by the test command with warnings denied) refuses
#      any standard-library API stabilised after it.
# The language features the code uses set the MSRV at 1.88 (let chains in edition 2024). This
# machine has one toolchain (no older one can be fetched), so the MSRV is not compiled with
# itself; these two checks are what can be verified here.
set -euo pipefail
cd "$(dirname "$0")/.."
msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
[ -n "$msrv" ] || { echo "check-msrv: no rust-version in Cargo.toml" >&2; exit 1; }
cargo metadata --locked --format-version 1 | python3 -c '
import json, sys
msrv = sys.argv[1]
key = lambda v: tuple(int(x) for x in v.split(".")[:3]) + (0,) * (3 - len(v.split(".")[:3]))
data = json.load(sys.stdin)
members = set(data["workspace_members"])
late = []
for p in data["packages"]:
    rv = p.get("rust_version")
    if p["id"] in members:
        if rv != msrv:
            late.append("%s declares rust-version %s, the workspace %s" % (p["name"], rv, msrv))
    elif rv and key(rv) > key(msrv):
        late.append("dependency %s %s needs Rust %s" % (p["name"], p["version"], rv))
if late:
    print("check-msrv: MSRV " + msrv + " is not met:\n  " + "\n  ".join(late), file=sys.stderr)
    sys.exit(1)
print("MSRV %s: %d crates checked, none needs a later Rust" % (msrv, len(data["packages"])))
' "$msrv"
