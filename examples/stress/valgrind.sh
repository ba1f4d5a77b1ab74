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
[ $# -gt 0 ] || set -- "$ROOT/examples/tests"

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
