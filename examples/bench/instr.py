"""Instructions per export, counted by callgrind (stable where nanoseconds are noisy).

    python examples/bench/instr.py [--n N] [--flags FULL_RO,SIMPLE,...] [--only key,...] [--json F]

One valgrind process (`--tool=callgrind --collect-atstart=no`) imports every peer and example
class and runs bench_helper.counted_loop(x, N, flags, label) for each: callgrind collects only
inside that C loop (`PyObject_GetBuffer` + `PyBuffer_Release`, N times, after a warm-up of the
same loop uncounted) and dumps the counts under the label. Reported: instructions (Ir) per
get+release pair, the loop's own few instructions included, the same for every provider.
The consumer side (`consumer`): the C, PyView<f64> and PyBuffer<f64> loops of bench.py, each
called once through bench_helper.counted_call, per view created and dropped.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

FLAGS = {"FULL_RO": 0x11C, "SIMPLE": 0x0, "ND": 0x8, "STRIDES": 0x18, "RECORDS_RO": 0x1C,
         "C_CONTIGUOUS": 0x38}


def worker(n: int, flag_names: list[str], only: list[str] | None) -> None:
    import build

    sys.path.insert(0, str(build.PYDIR))
    import bench_helper

    import classes
    import peers

    todo = [(p.key, p.factory) for p in peers.PEERS if p.key not in classes.BY_KEY]
    todo += [(c.key, c.factory) for c in classes.CASES]
    for key, factory in todo:
        if only and key not in only:
            continue
        try:
            obj = factory()
        except Exception:
            continue
        for name in flag_names:
            try:
                bench_helper.raw_loop(obj, 200, FLAGS[name])  # warm-up, lazy init, not counted
                bench_helper.counted_loop(obj, n, FLAGS[name], f"{key}:{name}")
            except Exception:
                pass  # refused (e.g. a contiguity request): no count
    if only and "consumer" not in only:
        return
    import numpy as np

    import bench

    for key, loop in bench.consumer_loops(bench_helper, np).items():
        loop(200)  # warm-up
        bench_helper.counted_call(lambda: loop(n), f"consumer:{key}")


def count(n: int = 2000, flag_names=("FULL_RO",), only=None, site=None) -> dict:
    """{key: {flags: Ir per pair}}, or {"error": ...} without valgrind. `site`: a directory
    put first on the worker's import path (the abi3 builds, `build.ensure_abi3`)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return {"error": "valgrind not installed (apt-get install valgrind)"}
    import build

    sys.path.insert(0, str(build.PYDIR))
    import bench_helper

    if not bench_helper.have_callgrind():
        return {"error": "bench_helper was compiled without <valgrind/callgrind.h>"}
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "cg.out"
        cmd = [valgrind, "--tool=callgrind", "--collect-atstart=no", f"--callgrind-out-file={out}",
               sys.executable, str(Path(__file__).resolve()), "--worker", "--n", str(n),
               "--flags", ",".join(flag_names)]
        if only:
            cmd += ["--only", ",".join(only)]
        env = dict(os.environ, PYTHONMALLOC="malloc")
        if site:
            env["PYTHONPATH"] = os.pathsep.join(
                [str(site), *filter(None, [os.environ.get("PYTHONPATH")])])
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
        if p.returncode != 0:
            return {"error": f"valgrind exited {p.returncode}: {p.stderr[-1500:]}"}
        res: dict[str, dict[str, float]] = {}
        for f in sorted(Path(d).glob("cg.out*")):
            text = f.read_text(errors="replace")
            m = re.search(r"^desc: Trigger: Client Request: (\S+)$", text, re.M)
            t = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
            if not (m and t):
                continue
            key, flags = m.group(1).split(":")
            res.setdefault(key, {})[flags] = int(t.group(1)) / n
        return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--flags", default="FULL_RO")
    ap.add_argument("--only", default="")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    flag_names = [f for f in a.flags.split(",") if f]
    only = [k for k in a.only.split(",") if k] or None
    if a.worker:
        worker(a.n, flag_names, only)
        return 0
    res = count(a.n, flag_names, only)
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))
    if "error" in res:
        print(res["error"])
        return 1
    base = res.get("c", {})
    print(f"{'provider':<14}" + "".join(f"{f:>14}" for f in flag_names))
    for key, d in res.items():
        cells = []
        for f in flag_names:
            v = d.get(f)
            r = f" {v / base[f]:.2f}x" if v and base.get(f) else ""
            cells.append(f"{v:8.1f}{r}" if v is not None else "-")
        print(f"{key:<14}" + "".join(f"{c:>14}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
