"""Export/release stress: N get/release cycles per example class, through memoryview and numpy.

For each class it checks that ``sys.getrefcount`` of the object (and of its type) is unchanged,
that the provider's own count of live exports is back where it was (``export_count``), and
that the process's resident memory grew by less than 1 MiB over the run (measured after a
warm-up, so that allocator pools and numpy's caches are already filled).

    python examples/stress/stress.py              # 1,000,000 cycles per class and consumer
    python examples/stress/stress.py -n 100000

Exit status 0 when every class passes. ``examples/tests/test_stress.py`` runs the same checks
with smaller counts.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from providers import STRESS  # noqa: E402

MIB = 1 << 20

#: Set by ``valgrind.sh``. Under valgrind, freed blocks sit in its quarantine and RSS measures
#: valgrind's own heap, so the RSS bound is replaced by valgrind's leak check, and loop counts
#: are divided by ``SCALE`` (valgrind runs Python ~50x slower).
UNDER_VALGRIND = os.environ.get("BUFFER_UNDER_VALGRIND") == "1"
SCALE = 100 if UNDER_VALGRIND else 1

#: One maker per example class: class name -> zero-argument constructor, from the tests'
#: registry of example providers (examples/tests/providers.py, STRESS).
FACTORIES = STRESS


#: Frozen classes with plain (or owned, immutable) storage keep no export count: an export holds
#: only its reference to the object, which the refcount check sees.
NO_COUNT = {"Frozen", "Table", "OwnedBuffer"}


def export_count(obj) -> int | None:
    """The provider's own count of live exports: shared storage counts them (``exports()``); a
    mutable class with plain storage holds a shared borrow while exported (``exported()``, 0 or
    1); ``None`` for the classes in ``NO_COUNT``. Any other class without a count is an error,
    so that a new class cannot silently skip the check."""
    if hasattr(obj, "exports"):
        return obj.exports()
    if hasattr(obj, "exported"):
        return int(obj.exported())
    if type(obj).__name__ in NO_COUNT:
        return None
    raise TypeError(f"{type(obj).__name__} reports no export count: add exports() or list it in NO_COUNT")


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()
    ]


def malloc_bytes() -> int | None:
    """Bytes in use from C ``malloc`` (glibc ``mallinfo2``; Rust's allocator and C extensions),
    or None where there is no ``mallinfo2``."""
    f = getattr(ctypes.CDLL(None), "mallinfo2", None)
    if f is None:
        return None
    f.restype = _Mallinfo2
    m = f()
    return m.uordblks + m.hblkhd


#: With ``measure(..., trace=True)``: C ``malloc`` growth must stay under this many bytes per
#: cycle, and pymalloc (``sys.getallocatedblocks()``) under half a block per cycle, so that a
#: leak of one pointer (8 bytes) or one small object per export fails whatever the number of
#: cycles. (Not tracemalloc: starting or stopping it while another thread allocates without the
#: GIL crashes CPython 3.11.)
HEAP_BYTES_PER_CYCLE = 4


def rss_bytes() -> int:
    """Resident set size of this process, from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memoryview_cycles(obj, n: int) -> None:
    for _ in range(n):
        memoryview(obj).release()


def numpy_cycles(obj, n: int) -> None:
    asarray = np.asarray
    for _ in range(n):
        asarray(obj)


CONSUMERS = {"memoryview": memoryview_cycles, "numpy": numpy_cycles}


def measure(make, consumer, n: int, trace: bool = False) -> dict:
    """Runs ``n`` get/release cycles of ``consumer`` on a fresh object; returns what changed.
    ``trace``: also measure the heap exactly (``mallinfo2`` for C ``malloc``, and
    ``sys.getallocatedblocks()`` for pymalloc), for runs too short for RSS to show a small leak."""
    obj = make()
    cycles = CONSUMERS[consumer]
    warmup = max(1, n // 10)
    cycles(obj, warmup)
    gc.collect()
    heap0 = (sys.getallocatedblocks(), malloc_bytes())
    ref_obj, ref_type = sys.getrefcount(obj), sys.getrefcount(type(obj))
    exports = export_count(obj)
    rss0 = rss_bytes()
    cycles(obj, n)
    gc.collect()
    rss1 = rss_bytes()
    heap1 = (sys.getallocatedblocks(), malloc_bytes())
    heap_growth = blocks_growth = None
    if trace:
        blocks_growth = heap1[0] - heap0[0]
        heap_growth = heap1[1] - heap0[1] if heap0[1] is not None else 0
    return dict(
        refcount_delta=sys.getrefcount(obj) - ref_obj,
        type_refcount_delta=sys.getrefcount(type(obj)) - ref_type,
        exports_delta=None if exports is None else export_count(obj) - exports,
        rss_growth=rss1 - rss0,
        heap_growth=heap_growth,
        blocks_growth=blocks_growth,
        cycles=n,
    )


def rss_ok(growth: int) -> bool:
    """Whether RSS growth is under 1 MiB (not measurable under valgrind: see ``SCALE``)."""
    return UNDER_VALGRIND or growth < MIB


def ok(result: dict) -> bool:
    return (
        result["refcount_delta"] == 0
        and result["type_refcount_delta"] == 0
        and result["exports_delta"] in (0, None)
        and rss_ok(result["rss_growth"])
        and (result["heap_growth"] is None or result["heap_growth"] < HEAP_BYTES_PER_CYCLE * result["cycles"])
        and (result["blocks_growth"] is None or result["blocks_growth"] < result["cycles"] / 2)
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1_000_000, help="cycles per class and consumer")
    ap.add_argument("--classes", nargs="*", default=list(FACTORIES), help="class names")
    args = ap.parse_args(argv)
    failures = 0
    print(f"{args.n:,} get/release cycles per class and consumer; RSS limit 1 MiB")
    for name in args.classes:
        for consumer in CONSUMERS:
            t0 = time.perf_counter()
            r = measure(FACTORIES[name], consumer, args.n)
            dt = time.perf_counter() - t0
            good = ok(r)
            failures += not good
            print(
                f"{'ok  ' if good else 'FAIL'} {name:14} {consumer:10} "
                f"refcount {r['refcount_delta']:+d} type refcount {r['type_refcount_delta']:+d} "
                f"exports {'n/a' if r['exports_delta'] is None else format(r['exports_delta'], '+d')} "
                f"RSS {r['rss_growth'] / 1024:+.0f} KiB "
                f"({dt:.1f} s)",
                flush=True,
            )
    print("PASS" if not failures else f"{failures} FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
