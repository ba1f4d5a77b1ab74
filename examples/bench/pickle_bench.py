"""`make bench-pickle`: pickling round trips of a 256 MiB object at protocol 4 (in band) and
protocol 5 out of band, against numpy arrays of the same size, and a Dask round trip
(scatter to a worker process, compute there, gather back). Not a test; writes
examples/bench/pickle-results.md."""

import argparse
import os
import pickle
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import buffer_examples as bx

HERE = Path(__file__).resolve().parent
MiB = 1 << 20


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def round_trip_in_band(obj):
    return pickle.loads(pickle.dumps(obj, protocol=4))


def round_trip_out_of_band(obj):
    buffers = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    # What a transport receives: writable memory it hands to the load (here: the same buffers).
    return pickle.loads(data, buffers=buffers)


def round_trip_received(obj):
    """Protocol 5 with the buffers copied once into bytearrays, as a socket receive would."""
    buffers = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    received = [bytearray(b) for b in buffers]
    return pickle.loads(data, buffers=received)


def dumps_only(obj, protocol):
    if protocol == 5:
        return pickle.dumps(obj, protocol=5, buffer_callback=lambda b: None)
    return pickle.dumps(obj, protocol=protocol)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--out", default=str(HERE / "pickle-results.md"))
    args = ap.parse_args()
    n = args.mib * MiB // 4
    rows = 4096
    objects = {
        "IntMatrix (SharedBlock<i32>)": bx.IntMatrix(rows, n // rows),
        "GrowableArray (SharedVec<f64>)": bx.GrowableArray(),
        "numpy int32 array": np.zeros((rows, n // rows), np.int32),
    }
    objects["GrowableArray (SharedVec<f64>)"].resize(n // 2, 1.0)
    np.asarray(objects["IntMatrix (SharedBlock<i32>)"])[:] = 1
    objects["numpy int32 array"][:] = 1
    rows_out = []
    for name, obj in objects.items():
        for label, fn in [
            ("dumps, protocol 4", lambda o=obj: dumps_only(o, 4)),
            ("dumps, protocol 5 out of band", lambda o=obj: dumps_only(o, 5)),
            ("round trip, protocol 4", lambda o=obj: round_trip_in_band(o)),
            ("round trip, protocol 5 out of band", lambda o=obj: round_trip_out_of_band(o)),
            ("round trip, protocol 5, buffers received as bytearray", lambda o=obj: round_trip_received(o)),
        ]:
            lo, med = best(fn, args.repeat)
            rows_out.append((name, label, lo, med))
            print(f"{name:32} {label:55} {lo * 1e3:10.2f} ms (median {med * 1e3:.2f})", flush=True)

    dask_rows = []
    if not args.no_dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, silence_logs=40) as cluster, Client(cluster) as client:
            for name in ("IntMatrix (SharedBlock<i32>)", "numpy int32 array"):
                obj = objects[name]
                # The same task for both, so that only the transport differs (`sum_array`, the
                # consumer-view sum, is slower than numpy's own sum).
                task = lambda a: int(np.asarray(a).sum(dtype=np.int64))  # noqa: E731

                def trip(o=obj, f=task):
                    [fut] = client.scatter([o])
                    r = client.submit(f, fut).result()
                    back = fut.result()  # the object itself, back from the worker
                    assert r == n
                    return back

                trip()  # warm up
                lo, med = best(trip, max(2, args.repeat // 2))
                dask_rows.append((name, lo, med))
                print(f"dask {name:32} scatter + sum on worker + gather: {lo * 1e3:.1f} ms (median {med * 1e3:.1f})", flush=True)

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, cwd=HERE).stdout.strip())
    except OSError:
        commit, dirty = "?", False
    lines = [
        "# Pickle / Dask round trips (`make bench-pickle`)",
        "",
        f"{args.mib} MiB objects, best of {args.repeat} (median in parentheses), ms. Python {platform.python_version()}, "
        f"numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, commit {commit}{' (uncommitted tree)' if dirty else ''}.",
        "",
        "| object | operation | best ms | median ms | GB/s (best) |",
        "|---|---|---:|---:|---:|",
    ]
    for name, label, lo, med in rows_out:
        rate = "no copy" if lo < 1e-3 else f"{args.mib * MiB / lo / 1e9:.2f}"
        lines.append(f"| {name} | {label} | {lo * 1e3:.2f} | {med * 1e3:.2f} | {rate} |")
    if dask_rows:
        lines += ["", "Dask `LocalCluster` (2 worker processes, loopback): scatter, a sum on the worker (`numpy.asarray(x).sum()` for both), its result, and the object gathered back. numpy has Dask's own serializer family and tokenizer; the example classes go through the pickle family (protocol 5, the data as its own frame).", "",
                  "| object | best ms | median ms |", "|---|---:|---:|"]
        lines += [f"| {name} | {lo * 1e3:.1f} | {med * 1e3:.1f} |" for name, lo, med in dask_rows]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
