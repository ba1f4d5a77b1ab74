"""Buffer-export benchmark: the project's generated providers against hand-written peers.

    make bench          # full run: writes examples/bench/results.md and bench.png
    make bench-smoke    # tiny counts (< 60 s once built): writes into examples/bench/build/smoke/
    python examples/bench/bench.py [--smoke] [--out DIR] [--json FILE] [--no-build]

Builds every peer first (build.py), then, in this process, interleaved round-robin over the peers
for several rounds (medians reported, ns per operation):
  a. raw PyObject_GetBuffer(PyBUF_FULL_RO) + PyBuffer_Release, looped and timed inside C;
  b. memoryview(x).release(), timeit loop;
  c. np.asarray(x), timeit loop;
and in subprocesses:
  d. allocations per export: LD_PRELOAD=build/liballoccount.so counts libc malloc/calloc/realloc/
     memalign calls, PyMem_SetAllocator hooks count Python MEM/OBJ allocator calls, both around
     N raw get+release cycles (calibrated with known allocations first);
  e. zero-copy check: a 1 GiB generated provider against a 1 KiB one: export time ratios, and
     RSS / peak RSS (VmHWM, reset through /proc/self/clear_refs) around memoryview and np.asarray,
     with a deliberate 1 GiB copy as the control that the method sees a copy.
Also probes every peer's answer to every request flag (conformance.py).

The same rounds cover every example class (classes.py: 1-D and N-d shared storage, shape from
fields, runtime ndim, Fortran, pitched, plain storage in frozen and mutable classes, records)
and the consumer side (a typed f64 view of a 1 KiB numpy array created and dropped: the
project's PyView<f64>, pyo3's PyBuffer<f64>, a C consumer). Instructions per export and per
view are counted by callgrind in one valgrind subprocess (instr.py); allocations per view by
the LD_PRELOAD worker.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import build  # noqa: E402

FULL = dict(rounds=25, cons_n=50_000, instr_n=2000, raw_n=200_000, mv_n=40_000, np_n=10_000, alloc_n=20_000, alloc_reps=3,
            big_elements=1 << 27, big_rounds=7, big_raw_n=50_000, big_mv_n=10_000,
            big_np_n=3_000)
SMOKE = dict(rounds=3, cons_n=500, instr_n=50, raw_n=2_000, mv_n=500, np_n=200, alloc_n=500, alloc_reps=2,
             big_elements=1 << 23, big_rounds=3, big_raw_n=1_000, big_mv_n=300, big_np_n=100)


def import_built():
    if str(build.PYDIR) not in sys.path:
        sys.path.insert(0, str(build.PYDIR))
    import bench_helper

    return bench_helper


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


# ---- a, b, c: timing ------------------------------------------------------------------------


# a. is PyBUF_FULL_RO; SIMPLE and ND show where a provider's per-export cost comes from.
RAW_FLAGS = {"raw": 0x11C, "raw_simple": 0x0, "raw_nd": 0x8}
N_KEY = {"raw": "raw_n", "raw_simple": "raw_n", "raw_nd": "raw_n", "mv": "mv_n", "np": "np_n"}


def measure(objs: dict, cfg: dict, helper, np) -> dict:
    keys = list(objs)
    metrics = ("raw", "raw_simple", "raw_nd", "mv", "np")
    data = {k: {m: [] for m in metrics} for k in keys}
    errors: dict[str, dict[str, str]] = {k: {} for k in keys}
    mv_t = {k: timeit.Timer("mv(x).release()", globals={"mv": memoryview, "x": objs[k]})
            for k in keys}
    np_t = {k: timeit.Timer("asarray(x)", globals={"asarray": np.asarray, "x": objs[k]})
            for k in keys}

    def one(metric: str, k: str, n: int) -> None:
        if metric in errors[k]:
            return
        try:
            if metric.startswith("raw"):
                ns = helper.raw_loop(objs[k], n, RAW_FLAGS[metric])
            elif metric == "mv":
                ns = mv_t[k].timeit(n) * 1e9
            else:
                ns = np_t[k].timeit(n) * 1e9
        except Exception as e:
            errors[k][metric] = f"{type(e).__name__}: {e}"
            return
        data[k][metric].append(ns / n)

    for k in keys:  # warm-up: caches, lazy type init, branch predictors
        for metric in metrics:
            one(metric, k, max(cfg[N_KEY[metric]] // 10, 10))
        for m in data[k].values():
            m.clear()
    for r in range(cfg["rounds"]):
        order = keys[r % len(keys):] + keys[:r % len(keys)]
        for metric in metrics:
            for k in order:
                one(metric, k, cfg[N_KEY[metric]])
    out = {}
    for k in keys:
        out[k] = {}
        for metric, samples in data[k].items():
            if metric in errors[k] or not samples:
                out[k][metric] = {"error": errors[k].get(metric, "no samples")}
                continue
            qs = statistics.quantiles(samples, n=4) if len(samples) > 1 else [samples[0]] * 3
            out[k][metric] = {"median": statistics.median(samples), "q1": qs[0], "q3": qs[2],
                              "min": min(samples), "max": max(samples), "samples": len(samples)}
    return out


CONSUMERS = [("c_consumer", "C consumer (GetBuffer + checks + Release)"),
             ("pyview", "buffer_runtime PyView<f64>"),
             ("pybuffer", "pyo3 PyBuffer<f64>::get")]


def consumer_loops(helper, np):
    """{key: loop(n) -> ns} over a 1 KiB float64 numpy array; {} if bench_consumer is absent."""
    try:
        import bench_consumer as bc
    except ImportError:
        return {}
    a = np.zeros(128)
    return {"c_consumer": lambda n: helper.c_consumer_loop(a, n),
            "pyview": lambda n: bc.pyview_loop(a, n),
            "pybuffer": lambda n: bc.pybuffer_loop(a, n)}


def measure_consumer(cfg: dict, helper, np) -> dict:
    loops = consumer_loops(helper, np)
    keys = list(loops)
    data = {k: [] for k in keys}
    n = cfg["cons_n"]
    for k in keys:
        loops[k](max(n // 10, 10))
    for r in range(cfg["rounds"]):
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            data[k].append(loops[k](n) / n)
    return {k: {"median": statistics.median(v), "min": min(v), "max": max(v),
                "samples": len(v)} for k, v in data.items()}


# ---- workers --------------------------------------------------------------------------------


def run_worker(kind: str, cfg: dict, env_extra: dict | None = None, timeout: float = 600) -> dict:
    env = dict(os.environ, **(env_extra or {}))
    cmd = [sys.executable, str(Path(__file__).resolve()), f"--{kind}-worker",
           "--config", json.dumps(cfg)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        return {"error": f"worker exited {p.returncode}: {p.stderr.strip()[-2000:]}"}
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": f"worker printed no result: {p.stdout[-500:]} {p.stderr[-1500:]}"}


def alloc_worker(cfg: dict) -> dict:
    import peers

    helper = import_built()
    if not helper.have_alloc_counters():
        return {"error": "liballoccount.so is not preloaded (bench_alloc_counters not found)"}
    k = 1000
    cal = helper.calibrate(k)
    # With PYTHONMALLOC=malloc (valgrind runs) PyMem/PyObject_Malloc reach libc malloc too.
    py_to_libc = os.environ.get("PYTHONMALLOC", "").startswith("malloc")
    want_libc = 3 * k if py_to_libc else k
    calibration = {"expected": {"malloc": want_libc, "py_malloc": 2 * k}, "got": cal,
                   "ok": cal["malloc"] == want_libc and cal["py_malloc"] == 2 * k}
    out = {"calibration": calibration, "peers": {}}
    n = cfg["alloc_n"]
    for peer in peers.PEERS:
        obj, status = peers.make(peer)
        if status != "ok":
            out["peers"][peer.key] = {"status": status}
            continue
        helper.raw_loop(obj, 1000)  # lazy one-time allocations are not per-export costs
        reps = [helper.count_allocs(obj, n) for _ in range(cfg["alloc_reps"])]
        libc = [(r["malloc"] + r["calloc"] + r["realloc"] + r["memalign"]) / n for r in reps]
        py = [(r["py_malloc"] + r["py_calloc"] + r["py_realloc"]) / n for r in reps]
        frees = [(r["free"] + r["py_free"]) / n for r in reps]
        out["peers"][peer.key] = {"status": "ok", "libc": statistics.median(libc),
                                  "py": statistics.median(py), "frees": statistics.median(frees),
                                  "raw": reps}
        del obj
        gc.collect()
    import classes

    out["classes"] = {}
    for case in classes.CASES:
        obj, status = classes.make(case)
        if status != "ok":
            out["classes"][case.key] = {"status": status}
            continue
        helper.raw_loop(obj, 1000)
        reps = [helper.count_allocs(obj, n) for _ in range(cfg["alloc_reps"])]
        libc = [(r["malloc"] + r["calloc"] + r["realloc"] + r["memalign"]) / n for r in reps]
        py = [(r["py_malloc"] + r["py_calloc"] + r["py_realloc"]) / n for r in reps]
        out["classes"][case.key] = {"status": "ok", "libc": statistics.median(libc),
                                    "py": statistics.median(py)}
    import numpy as np

    out["consumer"] = {}
    for key, loop in consumer_loops(helper, np).items():
        loop(1000)
        r = helper.count_allocs_call(lambda: loop(n))
        # The loop's own result (one int) is allocated inside the call: at most 1/n per view.
        out["consumer"][key] = {"status": "ok",
                                "libc": (r["malloc"] + r["calloc"] + r["realloc"]
                                         + r["memalign"]) / n,
                                "py": (r["py_malloc"] + r["py_calloc"] + r["py_realloc"]) / n}
    return out


ABI3_CASES = ["growable", "intarray", "intmatrix", "image", "frozen", "readings"]


def abi3_worker(cfg: dict) -> dict:
    """The example classes from the abi3 build (PyO3's slots) against the hand-written PyO3
    peers built the same way, interleaved in this process (the abi3 modules shadow the
    venv's)."""
    sys.path.insert(0, str(build.ABI3_SITE))
    import buffer_examples

    where = Path(buffer_examples.__file__ or ".").parent
    if not any(p.name.endswith(".abi3.so") for p in where.glob("*.so")):
        return {"error": f"not the abi3 build: {buffer_examples.__file__}"}
    import numpy as np

    import classes
    import peers

    helper = import_built()
    objs = {k: peers.BY_KEY[k].factory() for k in ("c", "pyo3_bound", "pyo3_ref")}
    for key in ABI3_CASES:
        obj, st = classes.make(classes.BY_KEY[key])
        if st == "ok":
            objs[key] = obj
    timing = measure(objs, cfg, helper, np)
    return {"timing": timing, "module": buffer_examples.__file__}


def proc_status() -> dict:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, val = line.split(":", 1)
                out[key] = int(val.split()[0]) * 1024
    return out


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def bigmem_worker(cfg: dict) -> dict:
    import numpy as np

    helper = import_built()
    try:
        import buffer_examples as be
    except ImportError as e:
        return {"status": "missing", "reason": f"buffer_examples not importable: {e}"}
    n = cfg["big_elements"]
    if hasattr(be, "GrowableArray"):
        ctor, make = "GrowableArray([0.0] * n)", lambda k: be.GrowableArray([0.0] * k)
    elif hasattr(be, "Grid"):
        ctor, make = "Grid((n,))", lambda k: be.Grid((k,))
    else:
        return {"status": "missing", "reason": "neither GrowableArray nor Grid"}
    small = make(128)
    t0 = time.perf_counter()
    big = make(n)
    build_s = time.perf_counter() - t0
    gc.collect()
    nbytes = memoryview(big).nbytes
    base = proc_status()
    peak_ok = reset_peak()
    m = memoryview(big)
    after_mv = proc_status()
    a = np.asarray(big)
    after_np = proc_status()
    # Shared, not copied: a write through the ndarray shows in the memoryview, and vice versa.
    shared = None
    if not m.readonly and a.flags.writeable:
        flat, mb = a.reshape(-1), m.cast("B")
        flat[-1] = 7.0
        seen = bytes(mb[-8:]) == np.float64(7.0).tobytes()
        mb[0] = 0x42
        seen = seen and a.view(np.uint8).reshape(-1)[0] == 0x42
        flat[-1] = 0.0
        mb[0] = 0
        mb.release()
        shared = bool(seen)
    shares_memory = bool(np.shares_memory(a, np.asarray(m)))
    del a
    m.release()
    # Timings, small and big interleaved.
    t = {"small": {"raw": [], "mv": [], "np": []}, "big": {"raw": [], "mv": [], "np": []}}
    objs = {"small": small, "big": big}
    for _ in range(cfg["big_rounds"]):
        for which, obj in objs.items():
            t[which]["raw"].append(helper.raw_loop(obj, cfg["big_raw_n"]) / cfg["big_raw_n"])
            t[which]["mv"].append(timeit.Timer("mv(x).release()", globals={
                "mv": memoryview, "x": obj}).timeit(cfg["big_mv_n"]) * 1e9 / cfg["big_mv_n"])
            t[which]["np"].append(timeit.Timer("asarray(x)", globals={
                "asarray": np.asarray, "x": obj}).timeit(cfg["big_np_n"]) * 1e9 / cfg["big_np_n"])
    med = {w: {k: statistics.median(v) for k, v in d.items()} for w, d in t.items()}
    # Control: a real copy of the buffer must show up in the peak.
    reset_peak()
    before_copy = proc_status()
    c = bytes(memoryview(big))
    after_copy = proc_status()
    del c
    return {
        "status": "ok", "constructor": ctor, "elements": n, "nbytes": nbytes,
        "build_seconds": build_s, "peak_reset": peak_ok,
        "rss_before": base["VmRSS"], "rss_after_memoryview": after_mv["VmRSS"],
        "rss_after_asarray": after_np["VmRSS"], "peak_after_memoryview": after_mv["VmHWM"],
        "peak_after_asarray": after_np["VmHWM"], "shared_write_seen": shared,
        "np_shares_memory": shares_memory, "ns": med,
        "copy_control_peak_growth": after_copy["VmHWM"] - before_copy["VmHWM"],
    }


# ---- main -----------------------------------------------------------------------------------


def versions() -> dict:
    import importlib.metadata as md

    def cmd(*args: str) -> str:
        try:
            return subprocess.run(args, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"

    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    v = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
         "kernel": platform.release(), "cc": cmd(build.CC, "--version").splitlines()[0:1],
         "rustc": cmd("rustc", "--version"), "pyo3": "0.30.1",
         "commit": cmd("git", "-C", str(BENCH), "rev-parse", "--short", "HEAD") or "?",
         # Changes outside examples/bench (whose results files this run rewrites).
         "dirty": bool(cmd("git", "-C", str(BENCH.parent.parent), "status", "--porcelain",
                           "--", ".", ":(exclude)examples/bench"))}
    for pkg in ("numpy", "cython", "pybind11", "matplotlib", "maturin"):
        try:
            v[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            v[pkg] = "?"
    v["cc"] = v["cc"][0] if v["cc"] else "?"
    return v


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny counts, output under build/smoke")
    ap.add_argument("--out", type=Path, help="where results.md and bench.png go")
    ap.add_argument("--json", type=Path, help="machine-readable results (default: in build/)")
    ap.add_argument("--no-build", action="store_true", help="skip build.py")
    ap.add_argument("--alloc-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--bigmem-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--abi3-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-abi3", action="store_true",
                    help="skip the abi3 build of the examples and its measurement")
    ap.add_argument("--config", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.alloc_worker or args.bigmem_worker or args.abi3_worker:
        cfg = json.loads(args.config)
        if args.abi3_worker:
            res = abi3_worker(cfg)
        else:
            res = alloc_worker(cfg) if args.alloc_worker else bigmem_worker(cfg)
        print(json.dumps(res))
        return 0

    t_start = time.monotonic()
    load_start = os.getloadavg()
    mode = "smoke" if args.smoke else "full"
    cfg = dict(SMOKE if args.smoke else FULL)
    out_dir = args.out or (build.BUILD / "smoke" if args.smoke else BENCH)
    json_path = args.json or (build.BUILD / f"results-{mode}.json")
    if not args.no_build:
        build.ensure_all()
    helper = import_built()
    import numpy as np

    import conformance
    import peers
    import report

    # Peers, and their answers to every request.
    objs, status, conf = {}, {}, {}
    for peer in peers.PEERS:
        obj, st = peers.make(peer)
        status[peer.key] = st
        if st != "ok":
            log(f"{peer.label}: {st}")
            continue
        issues, notes = conformance.check(helper, obj, peers.NBYTES, peer.expect_writable)
        issues += conformance.check_sharing(np, obj)
        if peer.must_conform:  # the peers built here; the generated API is the project's
            issues += conformance.check_resize(obj)
        conf[peer.key] = {"issues": issues, "notes": notes}
        objs[peer.key] = obj
    import classes

    cls_status = {}
    for case in classes.CASES:
        if case.key in objs:  # the same provider as a peer: measured once, reported in both
            cls_status[case.key] = "ok"
            continue
        obj, st = classes.make(case)
        cls_status[case.key] = st
        if st != "ok":
            log(f"{case.label}: {st}")
            continue
        objs[case.key] = obj
    log(f"measuring {len(objs)} providers x {cfg['rounds']} rounds ({mode})")
    gc.collect()
    timing = measure(objs, cfg, helper, np)
    log("consumer side: typed f64 views of a 1 KiB numpy array")
    consumer = measure_consumer(cfg, helper, np)
    log("counting instructions per export and per view (callgrind worker)")
    import instr

    instructions = instr.count(cfg["instr_n"], ("FULL_RO", "SIMPLE", "ND"))
    log("counting allocations (LD_PRELOAD worker)")
    allocs = run_worker("alloc", cfg, {"LD_PRELOAD": str(build.PRELOAD)})
    log(f"zero-copy check, {cfg['big_elements'] * 8 >> 20} MiB (worker)")
    bigmem = run_worker("bigmem", cfg)
    abi3 = {"error": "skipped (--no-abi3)" if args.no_abi3 else "skipped in smoke mode"}
    if not args.no_abi3 and not args.smoke:
        log("abi3 build of the examples (PyO3's slots) vs the PyO3 peers (worker)")
        site = build.ensure_abi3()
        abi3 = run_worker("abi3", cfg) if site else {"error": "abi3 build failed"}
        if site:
            abi3["instructions"] = instr.count(
                cfg["instr_n"], ("FULL_RO",), ["c", "pyo3_bound", "pyo3_ref", *ABI3_CASES], site)

    command = os.environ.get("BENCH_COMMAND") or " ".join(
        [Path(sys.executable).name, "examples/bench/bench.py", *sys.argv[1:]])
    results = {
        "mode": mode, "command": command,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "config": cfg, "versions": versions(),
        "peers": [{"key": p.key, "label": p.label, "kind": p.kind, "note": p.note,
                   "must_conform": p.must_conform, "status": status[p.key],
                   "timing": timing.get(p.key), "conformance": conf.get(p.key),
                   "allocs": allocs.get("peers", {}).get(p.key)} for p in peers.PEERS],
        "classes": [{"key": c.key, "label": c.label, "layout": c.layout, "native": c.native,
                     "c_peer": c.c_peer, "borrows": c.borrows,
                     "status": cls_status[c.key], "timing": timing.get(c.key),
                     "allocs": allocs.get("classes", {}).get(c.key),
                     "instructions": instructions.get(c.key)} for c in classes.CASES],
        "consumer": {"timing": consumer, "allocs": allocs.get("consumer", {}),
                     "instructions": instructions.get("consumer"),
                     "labels": dict(CONSUMERS)},
        "instructions": instructions,
        "abi3": abi3,
        "alloc_calibration": allocs.get("calibration"), "alloc_error": allocs.get("error"),
        "bigmem": bigmem, "seconds": None,
        "load": {"start": load_start, "end": os.getloadavg()},
    }
    results["seconds"] = round(time.monotonic() - t_start, 1)
    text = report.table(results)
    print()
    print(text)
    print()
    print(report.classes_table(results))
    print()
    print(report.consumer_table(results))
    print()
    print(report.abi3_table(results))
    print()
    print(report.bigmem_text(results))
    print(report.conformance_text(results))
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1))
    (out_dir / "results.md").write_text(report.markdown(results))
    report.chart(results, out_dir / "bench.png")
    report.chart_classes(results, out_dir / "classes.png")
    readme = BENCH.parent.parent / "README.md"
    if mode == "full" and args.out is None and report.update_readme(results, readme):
        log(f"updated the performance table in {readme}")
    log(f"wrote {out_dir / 'results.md'}, {out_dir / 'bench.png'}, {json_path} "
        f"({results['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
