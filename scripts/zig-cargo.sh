#!/bin/sh
# cargo as maturin runs it (bindings/python/build-wheel.sh sets CARGO to this file): the build
# commands (`rustc`, `build`) go through cargo-zigbuild, with the target given the glibc
# version of $ZIG_GLIBC (x86_64-unknown-linux-gnu becomes x86_64-unknown-linux-gnu.2.17);
# every other command (metadata, tree) is cargo's own.
#
# Why not `maturin build --zig`: maturin then links through the cargo-zigbuild it embeds, whose
# linker wrapper is another file than scripts/build-dist.sh's. Cargo counts the linker in every
# compiled unit's fingerprint, so the CLI's and the wheel's ship builds rebuilt each other's
# dependencies (in place, at the same paths) on every run. Through this file both link with the
# same wrapper of the same cargo-zigbuild (scripts/zig-tools.sh) and share their units.
set -eu
case "${1:-}" in
    rustc | build) ;;
    *) exec cargo "$@" ;;
esac
command="$1"
shift
for arg; do
    shift
    case "$arg" in
        x86_64-unknown-linux-gnu) arg="x86_64-unknown-linux-gnu.${ZIG_GLIBC:?the glibc version to link for}" ;;
        --target=x86_64-unknown-linux-gnu) arg="--target=x86_64-unknown-linux-gnu.${ZIG_GLIBC:?}" ;;
    esac
    set -- "$@" "$arg"
done
exec cargo-zigbuild "$command" "$@"
