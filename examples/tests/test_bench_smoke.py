"""The benchmark runs end to end (examples/bench, `make bench-smoke`'s script with tiny counts).

Builds the peers if needed (first run: pip installs cython/pybind11/matplotlib into the venv and
compiles the C, Cython, pybind11 and PyO3 peers, a couple of minutes; afterwards < 60 s), runs
every measurement once with tiny counts into a temporary directory, and checks the plumbing: a
table with every peer, a recorded (finite) number for every measurement, working allocation
counters, conforming hand-written peers and a zero-copy export of the big generated provider.
Timings are never asserted: how fast anything ran is not a test outcome (`make bench` measures).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import buffer_examples as bx

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
import peers  # noqa: E402

EXPECTED_KEYS = ["c", "c_borrow", "c_2d", "c_2d_f", "c_3d", "cython", "pybind11", "pyo3_bound",
                 "pyo3_ref", "pyo3_raw", "numpy", "bytearray", "array", "growable", "frozen",
                 "intarray"]
GENERATED_CLASS = {"growable": "GrowableArray", "frozen": "Frozen", "intarray": "IntArray"}
ZERO_ALLOC = ["c", "c_borrow", "c_2d", "c_2d_f", "c_3d", "cython", "pyo3_bound", "pyo3_ref",
              "pyo3_raw", "bytearray"]


def run_smoke(tmp_path: Path) -> tuple[dict, str]:
    out = tmp_path / "out"
    js = tmp_path / "results.json"
    p = subprocess.run(
        [sys.executable, str(BENCH / "bench.py"), "--smoke", "--out", str(out), "--json", str(js)],
        capture_output=True, text=True, timeout=1500,
    )
    assert p.returncode == 0, f"stdout:\n{p.stdout[-4000:]}\nstderr:\n{p.stderr[-4000:]}"
    return json.loads(js.read_text()), p.stdout


def test_bench_smoke(tmp_path):
    res, stdout = run_smoke(tmp_path)
    by_key = {p["key"]: p for p in res["peers"]}
    assert [p.key for p in peers.PEERS] == EXPECTED_KEYS
    assert list(by_key) == EXPECTED_KEYS

    # Status: every peer built here is present; a generated one may be "missing" only when the
    # example module really lacks the class.
    for key, p in by_key.items():
        if key in GENERATED_CLASS and not hasattr(bx, GENERATED_CLASS[key]):
            assert p["status"] == "missing", p
        else:
            assert p["status"] == "ok", p

    # The printed table: header plus one row per peer, each with its label.
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| peer "))
    rows = lines[header + 2 : header + 2 + len(EXPECTED_KEYS)]
    for row, key in zip(rows, EXPECTED_KEYS):
        p = by_key[key]
        assert row.startswith(f"| {p['label']} "), (row, key)
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 10, row
        if p["status"] == "ok":
            float(cells[1]), float(cells[3]), float(cells[5])  # ns/op cells are numbers
        else:
            assert "missing" in cells

    # Every measurement was taken and recorded as a number (its value is not checked).
    for key, p in by_key.items():
        if p["status"] != "ok":
            continue
        for metric in ("raw", "mv", "np"):
            m = p["timing"][metric]
            assert "median" in m, (key, metric, m)
            assert math.isfinite(m["median"]), (key, metric, m)
            assert m["samples"] == res["config"]["rounds"]

    # Allocation counting works (calibrated) and tells providers apart.
    assert res["alloc_error"] is None
    assert res["alloc_calibration"]["ok"], res["alloc_calibration"]
    for key, p in by_key.items():
        if p["status"] != "ok":
            continue
        a = p["allocs"]
        assert a["status"] == "ok", (key, a)
        assert a["libc"] >= 0 and a["py"] >= 0
    for key in ZERO_ALLOC:
        assert by_key[key]["allocs"]["libc"] == 0 and by_key[key]["allocs"]["py"] == 0, key
    # pybind11 heap-allocates a buffer_info (and its shape/strides vectors) per export: the
    # positive control that the counter sees per-export allocations.
    assert by_key["pybind11"]["allocs"]["libc"] >= 1
    # A typed view adds no allocation to numpy's own (its block comes from the thread's pool):
    # it allocates what the C consumer's loop does, give or take the loop's one result object.
    # pyo3's PyBuffer boxes its Py_buffer: the positive control.
    c = res["consumer"]["allocs"]
    if c:
        n = res["config"]["alloc_n"]
        base = c["c_consumer"]["libc"] + c["c_consumer"]["py"]
        assert abs(c["pyview"]["libc"] + c["pyview"]["py"] - base) <= 2 / n, c
        assert c["pybuffer"]["libc"] + c["pybuffer"]["py"] >= base + 1 - 2 / n, c

    # The peers built here answer every request correctly.
    for key, p in by_key.items():
        if p["must_conform"]:
            assert p["conformance"]["issues"] == [], (key, p["conformance"])

    # Zero-copy: exporting the big provider neither copies nor grows memory by its size, and the
    # method does see a real copy.
    b = res["bigmem"]
    if hasattr(bx, "GrowableArray") or hasattr(bx, "Grid"):
        assert b["status"] == "ok", b
        size = b["nbytes"]
        assert size == res["config"]["big_elements"] * 8
        for k in ("rss_after_memoryview", "rss_after_asarray", "peak_after_memoryview",
                  "peak_after_asarray"):
            assert b[k] - b["rss_before"] < size / 4, (k, b)
        assert b["copy_control_peak_growth"] > size * 0.9, b
        assert b["np_shares_memory"] is True
        assert b["shared_write_seen"] in (True, None)
        for which in ("small", "big"):
            for metric in ("raw", "mv", "np"):
                assert math.isfinite(b["ns"][which][metric])

    # Files: results.md with every peer, a PNG chart.
    md = (tmp_path / "out" / "results.md").read_text()
    for p in res["peers"]:
        assert p["label"] in md
    # The classes table gives the raw time of each class that takes PyO3's borrow flag as a
    # ratio to the C peer paying the same flag, and none for the frozen ones.
    head = next(i for i, line in enumerate(md.splitlines()) if "| vs C + borrow flag |" in line)
    table = {}
    for line in md.splitlines()[head + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        table[cells[0]] = cells
    assert table["C hand-written + borrow flag"][4] == "1.00x"
    assert re.fullmatch(r"\d+\.\d\dx", table["GrowableArray"][4]), table["GrowableArray"]
    assert table["Frozen"][4] == "-" and table["C hand-written"][4] == "-"
    png = (tmp_path / "out" / "bench.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_c_nd_peers_answer_every_request_as_the_reference_exporter():
    """The N-d C baselines (bench_cprov.CArray) against CPython's _testbuffer.ndarray of the same
    shape and order: every request flag gives the same refusal or the same fields (FORMAT without
    ND aside: CArray serves it, like CBuffer, bytes and numpy; _testbuffer refuses it)."""
    import _testbuffer as tb

    p = subprocess.run([sys.executable, str(BENCH / "build.py")], capture_output=True, text=True,
                       timeout=1500)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    import build

    sys.path.insert(0, str(build.PYDIR))
    import bench_cprov

    def answer(obj, flags):
        try:
            m = tb.ndarray(obj, getbuf=flags)
        except BufferError:
            return "refused"
        return (m.shape, m.strides, m.ndim, m.format, m.readonly, m.suboffsets, m.nbytes,
                m.c_contiguous, m.f_contiguous, m.tobytes())

    checked = 0
    for order in "CF":
        for shape in [(16, 8), (8, 4, 4), (1, 128), (128,), (2, 1, 3), (3, 1)]:
            mine = bench_cprov.CArray(shape, order)
            n = math.prod(shape)
            ref = tb.ndarray([0.0] * n, shape=list(shape), format="d",
                             flags=tb.ND_WRITABLE | (tb.ND_FORTRAN if order == "F" else 0))
            for flags in [*range(0x200), -1]:
                if flags != -1 and flags & tb.PyBUF_FORMAT and not flags & tb.PyBUF_ND:
                    continue
                assert answer(mine, flags) == answer(ref, flags), (order, shape, hex(flags))
                checked += 1
            assert mine.exports() == 0
    assert checked == 12 * 385
