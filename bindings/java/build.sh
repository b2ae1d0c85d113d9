#!/usr/bin/env bash
# Builds target/java/crm-tiering.jar (the binding) and target/java/test-classes, with javac only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
jna=/usr/share/java/jna.jar
out="$target/java"
rm -rf "$out/classes" "$out/test-classes"
mkdir -p "$out/classes" "$out/test-classes"
javac --release 17 -Xlint:all -Werror -d "$out/classes" -cp "$jna" $(find "$here/src/main/java" -name '*.java')
jar --create --file "$out/crm-tiering.jar" -C "$out/classes" .
javac --release 17 -Xlint:all -Werror -d "$out/test-classes" -cp "$out/crm-tiering.jar:$jna" \
    $(find "$here/src/test/java" -name '*.java')
