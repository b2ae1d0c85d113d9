# Sourced by scripts/build-dist.sh and bindings/java/build-jar.sh: puts zig and cargo-zigbuild
# on PATH, for builds that link against an old glibc (`cargo zigbuild --target
# x86_64-unknown-linux-gnu.2.17`). Both come from PyPI into a venv (default
# <target>/zig-tools, shared with bindings/python/build-wheel.sh): ziglang is zig's release,
# cargo-zigbuild's PyPI package its release binary (`cargo install cargo-zigbuild --locked`
# gives the same tool, and one already on PATH is used).
# Usage: source scripts/zig-tools.sh; zig_tools "$venv"
zig_tools_ziglang=0.15.2
zig_tools_cargo_zigbuild=0.24.1

zig_tools() {
    local venv="$1"
    echo "== zig tools in $venv: ziglang $zig_tools_ziglang, cargo-zigbuild $zig_tools_cargo_zigbuild"
    [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install -q "ziglang==$zig_tools_ziglang"
    if ! command -v cargo-zigbuild >/dev/null; then
        PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install -q \
            "cargo-zigbuild==$zig_tools_cargo_zigbuild"
    fi
    # cargo-zigbuild runs zig as `python3 -m ziglang`: the venv's python3 first on PATH.
    export PATH="$venv/bin:$PATH"
}
