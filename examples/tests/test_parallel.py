"""The parallel stress (`examples/stress/parallel.py`, run at length by `make test-ft`) for a short
bounded time: export counts, contents and refcounts are right afterwards."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "stress"))

import parallel  # noqa: E402


def test_parallel_stress_keeps_counts_contents_and_refcounts():
    errors = parallel.run(threads=6, seconds=1.5)
    assert errors == []
