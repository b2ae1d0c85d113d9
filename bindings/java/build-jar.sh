#!/usr/bin/env bash
# Builds the distributable jar of the Java binding: target/java/dist/crm-tiering-VERSION.jar holds
# the classes (Java 17), libcrm_tiering_ffi.so for linux-x86-64 under linux-x86-64/ (where JNA
# looks on the classpath when -Djna.library.path does not have it) and the POM under
# META-INF/maven/io.github.crmtiering/crm-tiering/, so that a bank can install it into its own
# Maven repository (bindings/java/README.md). VERSION is the workspace's (Cargo.toml).
# Env: PROFILE (default dist: release, stripped; see Cargo.toml), CARGO_TARGET_DIR,
#      GLIBC (e.g. 2.17: the library is linked by zig for that glibc and later, with
#      scripts/zig-tools.sh, and refused if it needs a newer one; default: this machine's glibc).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
profile="${PROFILE:-dist}"
jna=/usr/share/java/jna.jar
group=io.github.crmtiering
artifact=crm-tiering

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "build-jar.sh: builds the linux-x86-64 jar only, and this is $(uname -s)-$(uname -m)" >&2
    exit 1
fi
[ -f "$jna" ] || { echo "build-jar.sh: $jna is missing (apt-get install libjna-java)" >&2; exit 1; }

# The workspace version: the first `version = "..."` of [workspace.package].
version="$(awk '/^\[workspace\.package\]/ {in_pkg = 1; next} /^\[/ {in_pkg = 0}
    in_pkg && /^version *=/ {gsub(/.*= *"|".*/, ""); print; exit}' "$root/Cargo.toml")"
[ -n "$version" ] || { echo "build-jar.sh: no version in [workspace.package] of $root/Cargo.toml" >&2; exit 1; }
pom_version="$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$here/pom.xml" | head -n 1)"
if [ "$pom_version" != "$version" ]; then
    echo "build-jar.sh: bindings/java/pom.xml has version '$pom_version', Cargo.toml $version: make them equal" >&2
    exit 1
fi

dir="$profile"
[ "$profile" = dev ] && dir=debug
if [ -n "${GLIBC:-}" ]; then
    source "$root/scripts/zig-tools.sh"
    zig_tools "${TOOLS_VENV:-$target/zig-tools}"
    triple=x86_64-unknown-linux-gnu
    echo "== cargo zigbuild --profile $profile -p crm-tiering-ffi --target $triple.$GLIBC"
    (cd "$root" && cargo zigbuild -q --locked --profile "$profile" -p crm-tiering-ffi --target "$triple.$GLIBC")
    so="$target/$triple/$dir/libcrm_tiering_ffi.so"
else
    echo "== cargo build --profile $profile -p crm-tiering-ffi"
    (cd "$root" && cargo build -q --locked --profile "$profile" -p crm-tiering-ffi)
    so="$target/$dir/libcrm_tiering_ffi.so"
fi
[ -f "$so" ] || { echo "build-jar.sh: $so was not built" >&2; exit 1; }
command -v objdump >/dev/null || { echo "build-jar.sh: objdump is missing (apt-get install binutils)" >&2; exit 1; }
newest="$(objdump -T "$so" | { grep -o 'GLIBC_[0-9.]*' || true; } | sort -Vu | tail -n 1)"
newest="${newest#GLIBC_}"
if [ -n "${GLIBC:-}" ] && [ "$(printf '%s\n%s\n' "$newest" "$GLIBC" | sort -V | tail -n 1)" != "$GLIBC" ]; then
    echo "build-jar.sh: $so needs glibc $newest, newer than GLIBC=$GLIBC" >&2
    exit 1
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
echo "== javac (release 17)"
javac --release 17 -Xlint:all -Werror -d "$stage" -cp "$jna" $(find "$here/src/main/java" -name '*.java')
mkdir -p "$stage/linux-x86-64" "$stage/META-INF/maven/$group/$artifact"
cp "$so" "$stage/linux-x86-64/libcrm_tiering_ffi.so"
cp "$here/pom.xml" "$stage/META-INF/maven/$group/$artifact/pom.xml"
printf 'groupId=%s\nartifactId=%s\nversion=%s\n' "$group" "$artifact" "$version" \
    > "$stage/META-INF/maven/$group/$artifact/pom.properties"
printf 'Implementation-Title: %s\nImplementation-Version: %s\nAutomatic-Module-Name: crm.tiering\n' \
    "$artifact" "$version" > "$stage/manifest.txt"

out="$target/java/dist"
jarfile="$out/$artifact-$version.jar"
mkdir -p "$out"
rm -f "$jarfile"
jar --create --file "$jarfile" --manifest "$stage/manifest.txt" -C "$stage" crm -C "$stage" linux-x86-64 \
    -C "$stage" META-INF/maven
for entry in linux-x86-64/libcrm_tiering_ffi.so "META-INF/maven/$group/$artifact/pom.xml" crm/tiering/RuleBook.class; do
    jar tf "$jarfile" | grep -qx "$entry" || { echo "build-jar.sh: $entry is missing from $jarfile" >&2; exit 1; }
done
echo "built $jarfile ($(du -k "$jarfile" | cut -f1) KiB, native library from $so, needs glibc $newest)"
