#!/usr/bin/env bash
# Tests of the C ABI: the header check and the crate's Rust tests, the C test suites (every
# conformance vector and the misuse cases; the portfolio month and every portfolio vector; the
# guarantees against misuse: handle checks, error details, silent panics, impossible counts; the
# contribution month and every contribution vector; the loan classification and every loan
# vector; the alerts' severity against SPEC §11.1's table) plain,
# under AddressSanitizer and under valgrind,
# and the C example. Runs from any directory; installs what it needs on Debian.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/c-tests"
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v gcc >/dev/null || missing+=(gcc)
command -v g++ >/dev/null || missing+=(g++)
command -v valgrind >/dev/null || missing+=(valgrind)
[ -f /usr/include/cjson/cJSON.h ] || missing+=(libcjson-dev)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "== installing ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -q
    $sudo_cmd apt-get install -y -q "${missing[@]}"
fi

echo "== cargo build and test -p crm-tiering-ffi (header check included)"
cd "$root"
cargo build -q -p crm-tiering-ffi
cargo test -q -p crm-tiering-ffi

mkdir -p "$out"
lib="$target/debug/libcrm_tiering_ffi.a"
cflags=(-std=c11 -Wall -Wextra -Werror -g -I"$here/include")
libs=("$lib" -lcjson -lpthread -ldl -lm)
vectors="$root/rules-spec/vectors"
pvectors="$root/rules-spec/portfolio-vectors"
lvectors="$root/rules-spec/loan-vectors"
# The contribution vectors are TOML: written as one JSON list for the C test to read.
cvectors="$out/contribution-vectors.json"
python3 "$root/scripts/contribution-vectors-json.py" "$root/rules-spec/contribution-vectors" "$cvectors"
export CRMT_DEFAULT_RULES="$root/rules-spec/default-rules.toml"
export RUST_BACKTRACE=0

echo "== the header compiles as C99 (pedantic) and C++17"
printf '#include "crm_tiering.h"\nint main(void) { return crmt_abi_version() == CRMT_ABI_VERSION ? 0 : 1; }\n' > "$out/header_check.c"
gcc -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$here/include" "$out/header_check.c"
g++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only -x c++ -I"$here/include" "$out/header_check.c"

echo "== C tests (plain)"
gcc "${cflags[@]}" "$here/tests/test_abi.c" -o "$out/test_abi" "${libs[@]}"
"$out/test_abi" "$vectors"
gcc "${cflags[@]}" "$here/tests/test_portfolio.c" -o "$out/test_portfolio" "${libs[@]}"
"$out/test_portfolio" "$pvectors"
gcc "${cflags[@]}" "$here/tests/test_guarantees.c" -o "$out/test_guarantees" "${libs[@]}"
"$out/test_guarantees"
gcc "${cflags[@]}" "$here/tests/test_contribution.c" -o "$out/test_contribution" "${libs[@]}"
"$out/test_contribution" "$cvectors"
gcc "${cflags[@]}" "$here/tests/test_loans.c" -o "$out/test_loans" "${libs[@]}"
"$out/test_loans" "$lvectors"
gcc "${cflags[@]}" "$here/tests/test_severity.c" -o "$out/test_severity" "${libs[@]}"
"$out/test_severity"

echo "== C tests (AddressSanitizer)"
gcc "${cflags[@]}" -fsanitize=address -fno-omit-frame-pointer "$here/tests/test_abi.c" -o "$out/test_abi_asan" "${libs[@]}"
ASAN_OPTIONS=detect_leaks=1 "$out/test_abi_asan" "$vectors"
gcc "${cflags[@]}" -fsanitize=address -fno-omit-frame-pointer "$here/tests/test_portfolio.c" -o "$out/test_portfolio_asan" "${libs[@]}"
ASAN_OPTIONS=detect_leaks=1 "$out/test_portfolio_asan" "$pvectors"
gcc "${cflags[@]}" -fsanitize=address -fno-omit-frame-pointer "$here/tests/test_guarantees.c" -o "$out/test_guarantees_asan" "${libs[@]}"
# A count memory cannot hold is refused after the allocator says no: let it say no.
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 "$out/test_guarantees_asan"
gcc "${cflags[@]}" -fsanitize=address -fno-omit-frame-pointer "$here/tests/test_contribution.c" -o "$out/test_contribution_asan" "${libs[@]}"
ASAN_OPTIONS=detect_leaks=1 "$out/test_contribution_asan" "$cvectors"
gcc "${cflags[@]}" -fsanitize=address -fno-omit-frame-pointer "$here/tests/test_loans.c" -o "$out/test_loans_asan" "${libs[@]}"
ASAN_OPTIONS=detect_leaks=1 "$out/test_loans_asan" "$lvectors"
gcc "${cflags[@]}" -fsanitize=address -fno-omit-frame-pointer "$here/tests/test_severity.c" -o "$out/test_severity_asan" "${libs[@]}"
ASAN_OPTIONS=detect_leaks=1 "$out/test_severity_asan"

echo "== C tests (valgrind)"
valgrind -q --leak-check=full --suppressions="$here/tests/valgrind.supp" --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
    "$out/test_abi" "$vectors"
valgrind -q --leak-check=full --suppressions="$here/tests/valgrind.supp" --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
    "$out/test_portfolio" "$pvectors"
valgrind -q --leak-check=full --suppressions="$here/tests/valgrind.supp" --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
    "$out/test_guarantees"
valgrind -q --leak-check=full --suppressions="$here/tests/valgrind.supp" --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
    "$out/test_contribution" "$cvectors"
valgrind -q --leak-check=full --suppressions="$here/tests/valgrind.supp" --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
    "$out/test_loans" "$lvectors"
valgrind -q --leak-check=full --suppressions="$here/tests/valgrind.supp" --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
    "$out/test_severity"

echo "== C example"
"$root/examples/c/run.sh"
