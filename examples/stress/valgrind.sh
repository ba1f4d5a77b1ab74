#!/usr/bin/env bash
# memcheck over the example test suite (or the pytest arguments given):
#   examples/stress/valgrind.sh                          # every test in examples/tests
#   examples/stress/valgrind.sh examples/tests/test_safety.py -k cycle
# Fails on any invalid read or write (any memcheck error) and on any definite leak whose
# allocation stack passes through this project's code (the buffer_examples extension).
# CPython's own definite leaks at exit (interned constants and the like) are counted and listed
# by frame, not failed on. Needs valgrind (`make valgrind` installs it when missing).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
LOGDIR=${VALGRIND_LOGDIR:-$ROOT/target/valgrind}
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/memcheck.*.log
# By default every example test, except the benchmark smoke test: it calibrates allocation
# counting against pymalloc, which PYTHONMALLOC=malloc replaces, and measures no memory safety.
[ $# -gt 0 ] || set -- "$ROOT/examples/tests" \
    --ignore="$ROOT/examples/tests/test_bench_smoke.py"

# Run a private copy of the installed module, so that a rebuild (`make develop`) during the
# long run cannot rewrite the shared object under the running process.
PKG=$("$PY" -c "import buffer_examples, os; print(os.path.dirname(buffer_examples.__file__))")
SNAP=$(mktemp -d)
trap 'rm -rf "$SNAP"' EXIT
cp -r "$PKG" "$SNAP/"
export PYTHONPATH="$SNAP${PYTHONPATH:+:$PYTHONPATH}"
echo "module under test: $SNAP/buffer_examples (copy of $PKG)"

status=0
# PYTHONMALLOC=malloc: every object is a malloc block memcheck can follow (no pymalloc arenas).
# BUFFER_UNDER_VALGRIND=1: the tests shrink their loop counts and leave the RSS bound to
# memcheck's leak check (see examples/stress/stress.py).
PYTHONMALLOC=malloc BUFFER_UNDER_VALGRIND=1 valgrind \
    --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=none \
    --num-callers=40 --error-limit=no --track-origins=no \
    --suppressions="$ROOT/examples/stress/valgrind-python.supp" \
    --log-file="$LOGDIR/memcheck.%p.log" \
    "$PY" -m pytest -q -p no:cacheprovider "$@" || status=$?

"$PY" "$ROOT/examples/stress/vg_report.py" "$LOGDIR"/memcheck.*.log || status=$?
exit $status
