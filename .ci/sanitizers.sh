#!/usr/bin/env bash
# Sanitizers over buffer-runtime (nightly Rust, std rebuilt with the sanitizer: -Zbuild-std).
#
#   .ci/sanitizers.sh          # both
#   .ci/sanitizers.sh tsan     # ThreadSanitizer: the Python-free concurrency tests
#                              # (tests/concurrency.rs) and the unit tests, one process per test
#   .ci/sanitizers.sh asan     # AddressSanitizer: the unit tests and the integration tests
#                              # (tests/conformance.rs embeds CPython)
#
# Installs what it needs (the nightly's rust-src component). When something cannot run (no
# nightly toolchain, no rust-src), it says so on a line starting with SKIPPED and exits 0,
# unless SANITIZERS_REQUIRED=1, which turns every skip into a failure. Any sanitizer report
# or failing test fails the script, except in the `#[ignore]`d tests, which exercise races
# that docs/export-safety.md accepts: those are run and their reports printed as KNOWN
# (SANITIZERS_STRICT=1 makes them fail too). Logs: target/sanitizers/<thread|address>/.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

what=${1:-all}
case "$what" in
  tsan|asan|all) ;;
  *) echo "usage: $0 [tsan|asan|all]" >&2; exit 2 ;;
esac

TARGET=x86_64-unknown-linux-gnu
PYTHON_FOR_PYO3=${PYO3_PYTHON:-}
if [ -z "$PYTHON_FOR_PYO3" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON_FOR_PYO3=$ROOT/.venv/bin/python; else PYTHON_FOR_PYO3=$(command -v python3); fi
fi
export PYO3_PYTHON=$PYTHON_FOR_PYO3

skip() {
  echo "SKIPPED: $*"
  if [ "${SANITIZERS_REQUIRED:-0}" = 1 ]; then exit 1; fi
  exit 0
}

command -v rustup >/dev/null 2>&1 || skip "rustup is not installed, so no nightly toolchain for -Zsanitizer"
cargo +nightly --version >/dev/null 2>&1 || skip "no nightly Rust toolchain (rustup toolchain install nightly); sanitizers need -Zsanitizer"
if [ "$(uname -m)-$(uname -s)" != "x86_64-Linux" ]; then
  skip "the sanitizer builds here are set up for $TARGET only (this is $(uname -m) $(uname -s))"
fi

BUILD_STD=(-Zbuild-std)
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
  echo "== installing rust-src for the nightly toolchain (needed by -Zbuild-std)"
  if ! rustup component add rust-src --toolchain nightly; then
    echo "WARNING: rust-src cannot be installed: building WITHOUT -Zbuild-std. The standard library is"
    echo "         then not instrumented: TSan may report false races inside std's synchronisation"
    echo "         (Arc, Mutex, channels), and ASan misses errors inside std."
    BUILD_STD=()
  fi
fi

failed=()
known_races=()

# Builds the test executables of `cargo test <args>` with a sanitizer and prints their paths.
build_tests() {
  local san=$1; shift
  RUSTFLAGS="-Zsanitizer=$san" RUSTDOCFLAGS="-Zsanitizer=$san" CARGO_TARGET_DIR="$ROOT/target/$san" \
    cargo +nightly test "${BUILD_STD[@]}" --target "$TARGET" -p buffer-runtime "$@" --no-run \
    --message-format=json-render-diagnostics \
  | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])
'
}

# Runs every test of an executable in its own process, so that a sanitizer report names its
# test. `#[ignore]`d tests are the races docs/export-safety.md accepts: run too, reported as
# KNOWN (informational) unless SANITIZERS_STRICT=1.
run_each() {
  local san=$1 exe=$2 logs=$3
  local name rc reports ignored all
  mkdir -p "$logs"
  ignored=$("$exe" --list --format=terse --ignored 2>/dev/null | sed -n 's/: test$//p')
  all=$("$exe" --list --format=terse 2>/dev/null | sed -n 's/: test$//p')
  for name in $all; do
    local log="$logs/$(basename "$exe" | sed 's/-[0-9a-f]*$//').$name.log"
    local known=0 extra=()
    if printf '%s\n' $ignored | grep -qx -- "$name"; then known=1; extra=(--ignored); fi
    "$exe" --exact "$name" --test-threads=1 "${extra[@]}" >"$log" 2>&1
    rc=$?
    reports=$(grep -c "ERROR: AddressSanitizer\|WARNING: ThreadSanitizer\|ERROR: LeakSanitizer" "$log")
    if [ "$rc" = 0 ] && [ "$reports" = 0 ]; then
      printf '  ok    %s\n' "$name"
    elif [ "$known" = 1 ] && [ "${SANITIZERS_STRICT:-0}" != 1 ]; then
      printf '  KNOWN %s (accepted race, not a failure: exit %s, %s report(s); log %s)\n' "$name" "$rc" "$reports" "${log#$ROOT/}"
      grep -m2 "^SUMMARY:" "$log" | sed 's/^/          /'
      known_races+=("$san:$name")
    else
      printf '  FAIL  %s (exit %s, %s sanitizer report(s); log %s)\n' "$name" "$rc" "$reports" "${log#$ROOT/}"
      grep -m3 "^SUMMARY:\|panicked at" "$log" | sed 's/^/          /'
      failed+=("$san:$name")
    fi
  done
}

run_sanitizer() {
  local san=$1; shift
  echo "== $san: building (${BUILD_STD[*]:-no build-std}) $*"
  local exes
  if ! exes=$(build_tests "$san" "$@") || [ -z "$exes" ]; then
    echo "FAIL: the $san build failed (cargo +nightly test -Zsanitizer=$san $*)"
    failed+=("$san:build")
    return
  fi
  local exe
  for exe in $exes; do
    echo "== $san: $(basename "$exe")"
    run_each "$san" "$exe" "$ROOT/target/sanitizers/$san"
  done
}

start=$(date +%s)
if [ "$what" = tsan ] || [ "$what" = all ]; then
  # No interpreter under TSan: these tests are Python-free. halt_on_error=0 lists every race.
  export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
  run_sanitizer thread --lib --test concurrency
fi
if [ "$what" = asan ] || [ "$what" = all ]; then
  # CPython's own allocator hides heap errors from ASan; its deliberate leaks at exit are not ours.
  export PYTHONMALLOC=malloc ASAN_OPTIONS="detect_leaks=0 ${ASAN_OPTIONS:-}"
  run_sanitizer address --lib --tests
fi
echo "== sanitizers: $(( $(date +%s) - start )) s"

if [ ${#known_races[@]} -gt 0 ]; then
  echo "KNOWN (accepted in docs/export-safety.md, reported by the sanitizer): ${known_races[*]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "sanitizers: clean"
