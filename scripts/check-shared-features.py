#!/usr/bin/env python3
"""Checks that the CLI's and the Python extension's ship builds ask the same features of every
dependency they share, as `cargo tree` resolves each build on its own (one invocation each, as
scripts/build-dist.sh and bindings/python/build-wheel.sh run them).

A shared dependency asked different features is compiled twice, with every crate above it: the
second ship build then costs as much as the first. crates/crm-tiering-workspace-hack asks the
union; this check fails when the two part again and names the crates and the features missing.
Usage: scripts/check-shared-features.py
"""
import subprocess
import sys
from collections import defaultdict

TARGET = "x86_64-unknown-linux-gnu"
BUILDS = {
    # As scripts/build-dist.sh builds it: beside the workspace hack (features unified).
    "the CLI": ["-p", "crm-tiering-cli", "-p", "crm-tiering-workspace-hack",
                "--features", "crm-tiering-cli/vendored-openssl"],
    "the Python extension": ["-p", "crm-tiering-python", "--features", "vendored-openssl"],
}


def features_by_crate(args):
    """Each crate of the build (name and version) and the feature sets it is built with."""
    out = subprocess.run(
        ["cargo", "tree", "--locked", "-q", "-e", "normal,build", "--target", TARGET,
         "--prefix", "none", "--no-dedupe", "-f", "{p}|{f}", *args],
        check=True, stdout=subprocess.PIPE, text=True).stdout
    crates = defaultdict(set)
    for line in out.splitlines():
        package, _, features = line.partition("|")
        name = " ".join(package.split()[:2])
        crates[name].add(features)
    return crates


def main():
    (a_name, a_args), (b_name, b_args) = BUILDS.items()
    a, b = features_by_crate(a_args), features_by_crate(b_args)
    # The two top crates differ by design; the rest of the workspace must not.
    shared = sorted(set(a) & set(b))
    parted = [crate for crate in shared if a[crate] != b[crate]]
    for crate in parted:
        print(f"{crate}: {a_name} builds it with {sorted(a[crate])}, "
              f"{b_name} with {sorted(b[crate])}", file=sys.stderr)
    if parted:
        print(f"check-shared-features: {len(parted)} of {len(shared)} shared crates differ; "
              "add the missing features to crates/crm-tiering-workspace-hack/Cargo.toml",
              file=sys.stderr)
        return 1
    print(f"check-shared-features: {len(shared)} crates shared by {a_name} and {b_name}, "
          "each with one feature set")
    return 0


if __name__ == "__main__":
    sys.exit(main())
