#!/usr/bin/env bash
# A short, bounded fuzz pass: every cargo-fuzz target of buffer-runtime/fuzz (nightly Rust,
# AddressSanitizer), then atheris over the example modules' Python API.
#
#   .ci/fuzz.sh                      # all, FUZZ_SECONDS (default 20) each
#   .ci/fuzz.sh layout views         # some cargo-fuzz targets
#   .ci/fuzz.sh atheris              # the Python harness only
#   FUZZ_SECONDS=300 .ci/fuzz.sh     # longer
#
# Each target starts from its committed seeds (buffer-runtime/fuzz/corpus/<target>,
# examples/fuzz/corpus) plus a working corpus under target/fuzz-corpus/<target> that later runs
# reuse; new inputs go to the working corpus only. Crashes go to target/fuzz-artifacts/<target>/
# with the command that reproduces them.
#
# Installs what it needs when missing (cargo-fuzz, the nightly's rust-src, atheris). What
# cannot run (no nightly, atheris not installable, example modules not buildable) is reported
# on a line starting with SKIPPED and does not fail the script, unless FUZZ_REQUIRED=1.
# A crash, hang, leak of exports or panic fails it.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_EACH=${FUZZ_SECONDS:-20}
TARGETS_ALL=(layout record_format export views)

want=("$@")
[ ${#want[@]} -eq 0 ] && want=("${TARGETS_ALL[@]}" atheris)

failed=()
skipped=()
skip() {
  echo "SKIPPED: $*"
  skipped+=("$1")
}

PY=${PYO3_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PY=$ROOT/.venv/bin/python; else PY=$(command -v python3); fi
fi
export PYO3_PYTHON=$PY
# The embedded interpreter of the fuzz targets: the same Python as PYO3_PYTHON (its shared
# library first, its site-packages for numpy). Its deliberate leaks at exit are not ours.
PY_LIBDIR=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')
PY_SITE=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
export LD_LIBRARY_PATH="$PY_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PYTHONPATH="$PY_SITE${PYTHONPATH:+:$PYTHONPATH}"
export ASAN_OPTIONS="detect_leaks=0 ${ASAN_OPTIONS:-}"

start=$(date +%s)

run_cargo_fuzz() {
  local targets=("$@")
  [ ${#targets[@]} -eq 0 ] && return
  if ! cargo +nightly --version >/dev/null 2>&1; then
    skip cargo-fuzz "no nightly Rust toolchain (rustup toolchain install nightly): cargo-fuzz needs it"
    return
  fi
  if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked || { skip cargo-fuzz "cargo-fuzz cannot be installed"; return; }
  fi
  if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
    echo "== installing rust-src for the nightly toolchain (cargo-fuzz builds std with the sanitizer)"
    rustup component add rust-src --toolchain nightly || echo "WARNING: rust-src cannot be installed; the build may fail"
  fi
  local fz=(--fuzz-dir "$ROOT/buffer-runtime/fuzz" --target-dir "$ROOT/target/fuzz")
  echo "== cargo fuzz build"
  if ! cargo +nightly fuzz build "${fz[@]}"; then
    echo "FAIL: the fuzz targets do not build"
    failed+=("cargo-fuzz:build")
    return
  fi
  local t
  for t in "${targets[@]}"; do
    if [ "$t" = record_format ] && ! "$PY" -c 'import numpy' 2>/dev/null; then
      skip record_format "numpy is not importable by $PY: the record-format target checks against numpy's parser"
      continue
    fi
    local work="$ROOT/target/fuzz-corpus/$t" seeds="$ROOT/buffer-runtime/fuzz/corpus/$t"
    local arts="$ROOT/target/fuzz-artifacts/$t/" log="$ROOT/target/fuzz-logs/$t.log"
    mkdir -p "$work" "$seeds" "$arts" "$(dirname "$log")"
    echo "== fuzz $t: ${SECONDS_EACH}s"
    cargo +nightly fuzz run "${fz[@]}" "$t" "$work" "$seeds" -- \
      -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$arts" \
      -print_final_stats=1 >"$log" 2>&1
    local rc=$?
    local runs
    runs=$(grep -o '^stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    if [ "$rc" = 0 ]; then
      echo "  ok    $t: ${runs:-?} inputs, no crash (log ${log#$ROOT/})"
    else
      local art
      art=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
      echo "  FAIL  $t (exit $rc; log ${log#$ROOT/})"
      grep -m3 -E "panicked at|^(assertion|thread '|==[0-9]+==ERROR)|SUMMARY:" "$log" | sed 's/^/          /'
      grep -m1 -A1 "panicked at" "$log" | tail -1 | sed 's/^/          /'
      grep -m1 -o -E "(buffer-runtime/src|examples/src)/[^ :]*:[0-9]+" "$log" | sed 's/^/          first frame in this repository: /'
      [ -n "$art" ] && echo "          reproduce: cargo +nightly fuzz run --fuzz-dir buffer-runtime/fuzz $t ${art#$ROOT/}" \
        "(with PYO3_PYTHON, PYTHONPATH, ASAN_OPTIONS as set at the top of .ci/fuzz.sh)"
      failed+=("$t")
    fi
  done
}

run_atheris() {
  if ! "$PY" -c 'import atheris' 2>/dev/null; then
    echo "== installing atheris into $($PY -c 'import sys; print(sys.prefix)')"
    if ! "$PY" -m pip install --quiet atheris; then
      skip atheris "atheris cannot be installed for $PY (no wheel for this Python, and building it needs clang with libFuzzer)"
      return
    fi
  fi
  if ! "$PY" -c 'import buffer_examples, pixel_filter, pixel_decoder, _testbuffer, numpy' 2>/dev/null; then
    echo "== the example modules are not built: make develop"
    if ! make develop >/dev/null; then
      skip atheris "the example modules cannot be built (make develop failed)"
      return
    fi
  fi
  local work="$ROOT/target/fuzz-corpus/atheris" seeds="$ROOT/examples/fuzz/corpus"
  local arts="$ROOT/target/fuzz-artifacts/atheris/" log="$ROOT/target/fuzz-logs/atheris.log"
  mkdir -p "$work" "$seeds" "$arts" "$(dirname "$log")"
  echo "== atheris examples/fuzz/fuzz_examples.py: ${SECONDS_EACH}s"
  # The modules are not ASan builds: no sanitizer options apply to them.
  ASAN_OPTIONS= "$PY" examples/fuzz/fuzz_examples.py -max_total_time="$SECONDS_EACH" -rss_limit_mb=3072 \
    -timeout=20 -artifact_prefix="$arts" -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1
  local rc=$?
  if [ "$rc" = 0 ]; then
    local runs
    runs=$(grep -o '^stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    echo "  ok    atheris: ${runs:-?} inputs, no crash, hang or panic (log ${log#$ROOT/})"
  else
    local art
    art=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
    echo "  FAIL  atheris (exit $rc; log ${log#$ROOT/})"
    grep -m4 -E "Uncaught Python exception|PanicException|Finding|Timeout|ERROR: libFuzzer|Segmentation|SUMMARY" "$log" | sed 's/^/          /'
    [ -n "$art" ] && echo "          reproduce: $PY examples/fuzz/fuzz_examples.py ${art#$ROOT/}"
    failed+=("atheris")
  fi
}

cargo_targets=()
for t in "${want[@]}"; do
  case "$t" in
    atheris) ;;
    layout|record_format|export|views) cargo_targets+=("$t") ;;
    *) echo "unknown target $t (known: ${TARGETS_ALL[*]} atheris)" >&2; exit 2 ;;
  esac
done
run_cargo_fuzz "${cargo_targets[@]}"
for t in "${want[@]}"; do
  [ "$t" = atheris ] && run_atheris
done

echo "== fuzz: $(( $(date +%s) - start )) s"
if [ ${#skipped[@]} -gt 0 ]; then
  echo "SKIPPED: ${skipped[*]} (see above)"
  if [ "${FUZZ_REQUIRED:-0}" = 1 ]; then failed+=("${skipped[@]}"); fi
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: no findings"
