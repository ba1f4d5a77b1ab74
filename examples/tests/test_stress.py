"""Export/release cycles leak nothing: the suite-sized run of ``examples/stress/stress.py``
(``make stress`` runs 1,000,000 cycles per class and consumer)."""

from __future__ import annotations

import pathlib
import sys

import pytest

import buffer_examples as bx
from providers import buffer_classes

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "stress"))
import stress  # noqa: E402

#: Cycles per class and consumer (a tenth of it for numpy on record formats). The leak bounds
#: are per cycle (``stress.HEAP_BYTES_PER_CYCLE`` bytes of malloc, half a pymalloc block), so a
#: leak of one pointer or one small object per export fails at either count; RSS (1 MiB) is a
#: second, coarse bound.
N = 200_000


@pytest.mark.parametrize("consumer", list(stress.CONSUMERS))
@pytest.mark.parametrize("name", list(stress.FACTORIES))
def test_cycles_leak_nothing(name, consumer):
    n = N // stress.SCALE
    with memoryview(stress.FACTORIES[name]()) as m:
        if consumer == "numpy" and m.format.startswith("T{"):
            # numpy parses record formats in Python (~50 us per export): fewer cycles here,
            # the full million in `make stress`.
            n //= 10
    r = stress.measure(stress.FACTORIES[name], consumer, n, trace=True)
    assert r["refcount_delta"] == 0, r
    assert r["type_refcount_delta"] == 0, r
    # The class's own count where it keeps one (None only for frozen plain storage).
    assert r["exports_delta"] == 0 or (r["exports_delta"] is None and name in stress.NO_COUNT), r
    assert r["heap_growth"] < stress.HEAP_BYTES_PER_CYCLE * n, r
    assert r["blocks_growth"] < n / 2, r
    assert stress.rss_ok(r["rss_growth"]), r


def test_every_example_class_is_stressed():
    missing = buffer_classes() - set(stress.FACTORIES)
    assert not missing, f"add these classes to STRESS in examples/tests/providers.py: {sorted(missing)}"
    for name, make in stress.FACTORIES.items():
        obj = make()
        assert type(obj) is getattr(bx, name)
        memoryview(obj).release()


@pytest.mark.parametrize("n", [N, N // 10], ids=["full", "numpy-records-count"])
def test_the_check_detects_a_leak_of_one_pointer_per_cycle(n):
    kept = []

    def leaky(obj, n):
        for _ in range(n):
            memoryview(obj).release()
            kept.append(None)  # one list slot (8 bytes, malloc'ed) per cycle, amortised

    stress.CONSUMERS["leaky"] = leaky
    try:
        r = stress.measure(stress.FACTORIES["GrowableArray"], "leaky", n, trace=True)
    finally:
        del stress.CONSUMERS["leaky"]
    assert r["heap_growth"] >= stress.HEAP_BYTES_PER_CYCLE * n, r
    assert not stress.ok(r)


@pytest.mark.parametrize("n", [N, N // 10], ids=["full", "numpy-records-count"])
def test_the_check_detects_a_leak_of_one_small_object_per_cycle(n):
    kept = []

    def leaky(obj, n):
        for i in range(n):
            memoryview(obj).release()
            kept.append(0.5 + i)  # one float (a pymalloc block) and one list slot per cycle

    stress.CONSUMERS["leaky"] = leaky
    try:
        r = stress.measure(stress.FACTORIES["GrowableArray"], "leaky", n, trace=True)
    finally:
        del stress.CONSUMERS["leaky"]
    assert r["blocks_growth"] >= n, r
    assert not stress.ok(r)


def test_the_export_count_check_can_fail():
    # A consumer that keeps one export per run: the class's own count shows it.
    kept = []

    def keeps_one(obj, n):
        memoryview_cycles(obj, n)
        kept.append(memoryview(obj))

    memoryview_cycles = stress.CONSUMERS["memoryview"]
    stress.CONSUMERS["keeps-one"] = keeps_one
    try:
        r = stress.measure(stress.FACTORIES["IntMatrix"], "keeps-one", 1000)
    finally:
        del stress.CONSUMERS["keeps-one"]
    assert r["exports_delta"] == 1 and not stress.ok(r), r
    with pytest.raises(TypeError, match="reports no export count"):
        stress.export_count(object())
