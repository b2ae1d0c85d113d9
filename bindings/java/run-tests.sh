#!/usr/bin/env bash
# Tests of the Java binding: builds the native library and the jar, runs every conformance
# vector and the API cases through JNA, every contribution vector (ContributionTests), every
# loan vector (LoanTests), the alerts' severity against SPEC §11.1's table (SeverityTests), the
# boundary tests (BoundaryTests), the Java example,
# then the distributable jar (build-jar.sh) from a clean directory (jar-test.sh). Installs what it
# needs on Debian.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
[ -f /usr/share/java/jna.jar ] || missing+=(libjna-java)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "== installing ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -q
    $sudo_cmd apt-get install -y -q "${missing[@]}"
fi

echo "== cargo build -p crm-tiering-ffi"
(cd "$root" && cargo build -q -p crm-tiering-ffi)
echo "== javac"
"$here/build.sh"
echo "== Java tests"
RUST_BACKTRACE=0 java -Djna.library.path="$target/debug" -cp "$target/java/test-classes:$target/java/crm-tiering.jar:/usr/share/java/jna.jar" \
    crm.tiering.TieringTests "$root/rules-spec/vectors"
echo "== Java portfolio month tests"
RUST_BACKTRACE=0 java -Djna.library.path="$target/debug" -cp "$target/java/test-classes:$target/java/crm-tiering.jar:/usr/share/java/jna.jar" \
    crm.tiering.PortfolioTests "$root/rules-spec/portfolio-vectors"
echo "== Java contribution tests (every contribution vector, as JSON)"
python3 "$root/scripts/contribution-vectors-json.py" "$root/rules-spec/contribution-vectors" "$target/java/contribution-vectors.json"
RUST_BACKTRACE=0 java -Djna.library.path="$target/debug" -cp "$target/java/test-classes:$target/java/crm-tiering.jar:/usr/share/java/jna.jar" \
    crm.tiering.ContributionTests "$target/java/contribution-vectors.json"
echo "== Java loan classification tests (every loan vector)"
RUST_BACKTRACE=0 java -Djna.library.path="$target/debug" -cp "$target/java/test-classes:$target/java/crm-tiering.jar:/usr/share/java/jna.jar" \
    crm.tiering.LoanTests "$root/rules-spec/loan-vectors"
echo "== Java alert severity tests (SPEC §11.1)"
RUST_BACKTRACE=0 java -Djna.library.path="$target/debug" -cp "$target/java/test-classes:$target/java/crm-tiering.jar:/usr/share/java/jna.jar" \
    crm.tiering.SeverityTests
echo "== Java boundary tests (checks before the native call, thread model, 4-thread stress)"
RUST_BACKTRACE=0 java -Djna.library.path="$target/debug" -cp "$target/java/test-classes:$target/java/crm-tiering.jar:/usr/share/java/jna.jar" \
    crm.tiering.BoundaryTests
echo "== Java example"
"$root/examples/java/run.sh"
echo "== the distributable jar, from a clean directory (build-jar.sh, jar-test.sh)"
"$here/jar-test.sh"
