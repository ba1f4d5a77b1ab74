"""Eight Python threads exporting, reading, writing through views and calling mutators on one
shared ``GrowableArray`` for a bounded time: no crash, consistent counts, every refused
mutation reported as ``BufferError``.

Runs on GIL builds and on free-threaded builds (3.13t): there, concurrent `&self`/`&mut self`
calls may also meet pyo3's borrow check (``RuntimeError: Already borrowed``) or an export may
meet a running `&mut self` method (``BufferError: ... mutably borrowed``); both are counted and
allowed only when the GIL is disabled.
"""

from __future__ import annotations

import collections
import random
import sys
import threading
import time

import numpy as np
import pytest

import buffer_examples as bx

THREADS = 8
SECONDS = 1.5  # how long the threads run; nothing is asserted about time
RESIZE_MSG = "Existing exports of data: object cannot be re-sized"
GIL = getattr(sys, "_is_gil_enabled", lambda: True)()


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


class Outcome(collections.Counter):
    """Per-thread tallies."""


def classify(exc: BaseException) -> str:
    """The name of an allowed failure, or raises ``exc`` again."""
    if isinstance(exc, BufferError) and RESIZE_MSG in str(exc):
        return "refused"
    if not GIL and isinstance(exc, RuntimeError) and str(exc) in ("Already borrowed", "Already mutably borrowed"):
        return "borrow_conflict"
    if not GIL and isinstance(exc, BufferError) and "mutably borrowed" in str(exc):
        return "export_conflict"
    raise exc


def run_threads(worker, n=THREADS, barrier=None):
    errors = []
    start = threading.Barrier(n)

    def body(tid):
        try:
            start.wait()
            worker(tid)
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            errors.append((tid, repr(e)))
            if barrier is not None:
                barrier.abort()  # no thread waits forever for this one

    threads = [threading.Thread(target=body, args=(t,)) for t in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_threads_export_read_write_and_mutate(fast_switching):
    initial = 64
    g = bx.GrowableArray([1.0] * initial)
    outcomes = [Outcome() for _ in range(THREADS)]
    deadline = time.monotonic() + SECONDS
    quiet = {"stop": False, "rounds": 0}

    def between_rounds():
        # Runs in one thread while the others wait at the barrier, holding no view: the count
        # is exactly 0 and a resize succeeds.
        assert g.exports() == 0
        g.append(1.0)
        quiet["rounds"] += 1
        quiet["stop"] = time.monotonic() > deadline

    barrier = threading.Barrier(THREADS, action=between_rounds)

    def worker(tid):
        rng = random.Random(tid)
        out = outcomes[tid]
        mutators = [
            ("append", lambda: g.append(1.0), +1),
            ("extend", lambda: g.extend([1.0, 1.0]), +2),
            ("pop", lambda: g.pop(), -1),
            ("insert", lambda: g.insert(0, 1.0), +1),
        ]

        def mutate(own_view: bool):
            name, fn, delta = rng.choice(mutators)
            out["attempts"] += 1
            if own_view:
                out["attempts_with_own_view"] += 1
            try:
                if name == "pop" and len(g) < 8:
                    name, fn, delta = mutators[0]
                fn()
            except Exception as e:  # noqa: BLE001
                kind = classify(e)
                out[kind] += 1
                if own_view:
                    out[f"{kind}_with_own_view"] += 1
            else:
                out["ok"] += 1
                out["delta"] += delta

        step = 0
        while True:
            step += 1
            if step % 64 == 0:  # all threads meet between rounds
                barrier.wait(timeout=120)
                if quiet["stop"]:
                    break
            r = rng.random()
            try:
                if r < 0.35:
                    # Export, read and write through the view, try a mutator while it lives.
                    v = memoryview(g) if rng.random() < 0.5 else np.asarray(g)
                    try:
                        out["exports"] += 1
                        assert g.exports() >= 1
                        n = len(v)
                        i = rng.randrange(n)
                        v[i] = 1.0
                        # Every thread only ever writes or adds 1.0, so every read is 1.0.
                        assert v[i] == 1.0
                        s = memoryview(v)[::-1] if isinstance(v, memoryview) else v[::-1]
                        s[0] = 1.0
                        # The length cannot change while this view lives.
                        assert len(g) == n and g.sum() == float(n)
                        out["view_reads"] += 1
                        mutate(own_view=True)
                        assert len(g) == n
                        del s
                    finally:
                        if isinstance(v, memoryview) and rng.random() < 0.5:
                            v.release()
                        del v
                elif r < 0.7:
                    mutate(own_view=False)
                elif r < 0.85:
                    out["reads"] += 1
                    n = len(g)
                    values = g.tolist()  # one copy under the object's borrow: a consistent read
                    assert values == [1.0] * len(values)
                    if n:
                        assert g.call_and_read(0, lambda: None) == 1.0
                        assert g[-1] == 1.0
                else:
                    # A callback that writes through its own view, and one that tries to resize.
                    with memoryview(g) as m:
                        assert g.call_and_read(0, lambda: m.__setitem__(-1, 1.0)) == 1.0
                        try:
                            g.call_and_read(0, lambda: g.append(1.0))
                        except Exception as e:  # noqa: BLE001
                            out[f"callback_{classify(e)}"] += 1
                        else:
                            raise AssertionError("resize inside a callback with a live view ran")
            except Exception as e:  # noqa: BLE001
                if isinstance(e, AssertionError):
                    raise
                out[f"outside_mutation_{classify(e)}"] += 1

    run_threads(worker, barrier=barrier)
    total = Outcome()
    for out in outcomes:
        total.update(out)  # not `+`: Counter addition drops negative tallies ("delta")

    print(dict(total))  # shown with pytest -s
    assert g.exports() == 0
    # Every attempted mutation either ran or was reported as refused.
    assert total["attempts"] == total["ok"] + total["refused"] + total["borrow_conflict"]
    # With its own view alive, a thread's mutation is always refused (never a silent resize).
    assert total["attempts_with_own_view"] == total["refused_with_own_view"] + total["borrow_conflict_with_own_view"]
    assert total["attempts_with_own_view"] > 0
    # The length is exactly what the successful mutations made it.
    assert len(g) == initial + total["delta"] + quiet["rounds"]
    assert quiet["rounds"] > 0
    assert g.tolist() == [1.0] * len(g)
    assert total["callback_refused"] > 0
    assert total["exports"] > 0 and total["reads"] > 0
    if GIL:
        assert total["outside_mutation_refused"] == 0  # reads and exports are never refused
        assert not [k for k in total if "conflict" in k]
    # The object works normally afterwards.
    g.append(1.0)
    assert len(g) == initial + total["delta"] + quiet["rounds"] + 1


def test_threads_racing_numpy_writes_with_rust_reads(fast_switching):
    """numpy releases the GIL inside its loops, so Rust reads (`sum`) really run while other
    threads write through views. The values stay well-formed and nothing
    crashes; torn values are the consumers' race, as with bytearray."""
    n = 1 << 16
    g = bx.GrowableArray([0.0] * n)
    a = np.asarray(g)
    deadline = time.monotonic() + SECONDS / 2
    counts = [0] * THREADS

    def worker(tid):
        while True:  # at least one round each, however the threads are scheduled
            if tid % 2:
                np.multiply(a, 0.0, out=a)
                np.add(a, float(tid), out=a)
            else:
                assert len(g) == n
                s = g.sum()
                # Every element is 0.0 plus whole tids the writers added (aligned 8-byte
                # stores and loads: no torn element), so the sum is a whole, non-negative
                # number: never NaN, never a fraction.
                assert s == s and s == int(s) and s >= 0.0, s
                with pytest.raises(BufferError, match=RESIZE_MSG):
                    g.append(0.0)
            counts[tid] += 1
            if time.monotonic() > deadline:
                break

    run_threads(worker)
    assert all(counts)
    assert g.exports() == 1
    del a
    assert g.exports() == 0
    g.append(0.0)
    assert len(g) == n + 1
