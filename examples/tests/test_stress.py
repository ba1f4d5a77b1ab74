"""Export/release cycles leak nothing: the suite-sized run of ``examples/stress/stress.py``
(``make stress`` runs 1,000,000 cycles per class and consumer)."""

from __future__ import annotations

import ctypes
import pathlib
import sys

import pytest

import buffer_examples as bx
from conftest import BROKEN_ON_PURPOSE

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "stress"))
import stress  # noqa: E402

# Enough cycles that a leak of 8 bytes per export (one pointer) exceeds the 1 MiB bound.
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
    r = stress.measure(stress.FACTORIES[name], consumer, n)
    assert r["refcount_delta"] == 0, r
    assert r["type_refcount_delta"] == 0, r
    assert r["exports_delta"] == 0, r
    assert stress.rss_ok(r["rss_growth"]), r


def has_getbuffer(cls):
    """Whether the type fills ``bf_getbuffer`` (``__buffer__`` is visible only from 3.12)."""
    get_slot = ctypes.pythonapi.PyType_GetSlot
    get_slot.restype = ctypes.c_void_p
    get_slot.argtypes = [ctypes.py_object, ctypes.c_int]
    return bool(get_slot(cls, 1))  # Py_bf_getbuffer == 1


def test_every_example_class_is_stressed():
    exporters = {n for n, c in vars(bx).items() if isinstance(c, type) and has_getbuffer(c)} - BROKEN_ON_PURPOSE
    missing = exporters - set(stress.FACTORIES)
    assert not missing, f"add these classes to FACTORIES in examples/stress/stress.py: {sorted(missing)}"
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
