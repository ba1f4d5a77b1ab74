"""Parallel stress: threads export, read, write through views and mutate shared objects at once
for a bounded time, then export counts, contents and refcounts are checked.

Written for the free-threaded interpreter (`make test-ft PYTHON=/path/to/python3.14t`), where
the threads really run at once; under the GIL it still interleaves them at every bytecode
boundary and every released-GIL filter call.

    python examples/stress/parallel.py                 # 8 threads, 10 s
    python examples/stress/parallel.py --threads 4 --seconds 2

Exit status 0 when every check passes.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import numpy as np

import buffer_examples as bx
import pixel_decoder
import pixel_filter


def run(threads: int, seconds: float) -> list[str]:
    growable = bx.GrowableArray([1.0] * 64)
    ints = bx.IntArray(list(range(256)))
    img = pixel_decoder.synthetic(64, 48, 3)
    expected_img = np.asarray(pixel_decoder.synthetic(64, 48, 3)).copy()
    refs = {name: sys.getrefcount(o) for name, o in (("growable", growable), ("ints", ints), ("img", img))}
    stop = time.monotonic() + seconds
    errors: list[str] = []
    counts = {"append": 0, "refused": 0, "views": 0, "inverts": 0}
    lock = threading.Lock()

    def note(key: str) -> None:
        with lock:
            counts[key] += 1

    def viewer() -> None:
        # Views of every kind; each one reads what it must.
        while time.monotonic() < stop:
            with memoryview(ints) as m:
                if m[10] != 10:
                    errors.append(f"IntArray[10] read {m[10]}")
            a = np.asarray(growable)
            if not np.all(a == 1.0):
                errors.append("GrowableArray holds a value nobody wrote")
            del a
            if bx.sum_array(ints) != sum(range(256)):
                errors.append("sum_array on IntArray")
            note("views")

    def mutator() -> None:
        # Appends race with the viewers: each is either done or refused with BufferError.
        while time.monotonic() < stop:
            try:
                growable.append(1.0)
                note("append")
            except BufferError:
                note("refused")
            except RuntimeError:  # another thread holds the pyo3 borrow
                note("refused")

    def writer() -> None:
        # Two inverts in a row through writable views leave the image as it was.
        while time.monotonic() < stop:
            with lock:
                pixel_filter.invert_inplace(img)
                pixel_filter.invert_inplace(img)
            out = np.asarray(pixel_filter.grayscale(img))
            if out.shape != (64, 48, 1):
                errors.append(f"grayscale shape {out.shape}")
            note("inverts")

    roles = [viewer, mutator, writer]
    pool = [threading.Thread(target=roles[i % len(roles)]) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()

    if growable.exports() != 0 or ints.exports() != 0:
        errors.append(f"exports left: {growable.exports()}, {ints.exports()}")
    if len(growable) != 64 + counts["append"]:
        errors.append(f"length {len(growable)} != 64 + {counts['append']} appends")
    try:
        growable.append(2.0)  # no export is alive: must work
    except BufferError as e:
        errors.append(f"append after the run: {e}")
    if not np.array_equal(np.asarray(img), expected_img):
        errors.append("the image changed although every writer inverted it twice")
    for name, o in (("growable", growable), ("ints", ints), ("img", img)):
        if sys.getrefcount(o) != refs[name]:
            errors.append(f"refcount of {name}: {refs[name]} -> {sys.getrefcount(o)}")
    print(f"parallel stress: {threads} threads, {seconds} s: {counts}", flush=True)
    return errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"{sys.version.split()[0]}, GIL {'enabled' if gil else 'disabled'}")
    errors = run(args.threads, args.seconds)
    for e in errors[:20]:
        print("FAIL:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
