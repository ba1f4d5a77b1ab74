"""Export/release cycles leak nothing: the suite-sized run of ``examples/stress/stress.py``
(``make stress`` runs 1,000,000 cycles per class and consumer)."""

from __future__ import annotations

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "stress"))
import stress  # noqa: E402

# Enough cycles that a leak of 8 bytes per export (one pointer) exceeds the 1 MiB bound.
N = 200_000


@pytest.mark.parametrize("consumer", list(stress.CONSUMERS))
@pytest.mark.parametrize("name", list(stress.FACTORIES))
def test_cycles_leak_nothing(name, consumer):
    r = stress.measure(stress.FACTORIES[name], consumer, N // stress.SCALE)
    assert r["refcount_delta"] == 0, r
    assert r["type_refcount_delta"] == 0, r
    assert r["exports_delta"] == 0, r
    assert stress.rss_ok(r["rss_growth"]), r


def test_every_example_class_is_stressed():
    import buffer_examples as bx
    from conftest import CLASS_NAMES

    assert set(CLASS_NAMES) <= set(stress.FACTORIES)
    for name, make in stress.FACTORIES.items():
        obj = make()
        assert type(obj) is getattr(bx, name)
        memoryview(obj).release()


def test_the_check_detects_a_leak_of_one_pointer_per_cycle():
    kept = []

    def leaky(obj, n):
        for _ in range(n):
            memoryview(obj).release()
            kept.append(0.5 + len(kept))  # a new float object per cycle: >= 8 bytes each

    stress.CONSUMERS["leaky"] = leaky
    try:
        r = stress.measure(stress.FACTORIES["GrowableArray"], "leaky", N)
    finally:
        del stress.CONSUMERS["leaky"]
    assert r["rss_growth"] >= stress.MIB, r
    assert stress.UNDER_VALGRIND or not stress.ok(r)
