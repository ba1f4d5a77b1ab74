"""The benchmark's peers: each a factory for a 1 KiB buffer provider (1-D unless labelled).

Imported by bench.py and by its worker subprocesses (same order, same keys). The build products
must be importable first: build.PYDIR on sys.path, bench_pyo3 installed in the venv.
"""
from __future__ import annotations

import array
import importlib
from dataclasses import dataclass
from typing import Any, Callable

N_DOUBLES = 128  # 1 KiB of float64
NBYTES = 1024


@dataclass(frozen=True)
class Peer:
    key: str
    label: str
    kind: str  # "baseline" | "hand" | "reference" | "generated"
    factory: Callable[[], Any]
    expect_writable: bool | None  # None: whatever the provider says
    # Peers built here must pass every flag-probe check (the test insists on it).
    must_conform: bool = False
    note: str = ""


def _cls(module: str, name: str):
    return getattr(importlib.import_module(module), name)


def _np_zeros():
    import numpy as np

    return np.zeros(N_DOUBLES)


PEERS: list[Peer] = [
    Peer("c", "C hand-written", "baseline",
         lambda: _cls("bench_cprov", "CBuffer")(N_DOUBLES), True, True),
    Peer("c_borrow", "C hand-written + borrow flag", "hand",
         lambda: _cls("bench_cprov", "CBorrowed")(N_DOUBLES), True, True,
         "CBuffer plus PyO3's atomic borrow flag (compare-exchange, fetch_sub) in getbuffer: "
         "the floor of a mutable PyO3 class"),
    Peer("c_2d", "C hand-written, 2-D", "baseline",
         lambda: _cls("bench_cprov", "CArray")((16, 8)), True, True,
         "16 x 8 float64, C order: the baseline of the 2-D C-order classes"),
    Peer("c_2d_f", "C hand-written, 2-D Fortran", "baseline",
         lambda: _cls("bench_cprov", "CArray")((16, 8), "F"), True, True,
         "16 x 8 float64, Fortran order: the baseline of the Fortran-order class"),
    Peer("c_3d", "C hand-written, 3-D", "baseline",
         lambda: _cls("bench_cprov", "CArray")((8, 4, 4)), True, True,
         "8 x 4 x 4 float64, C order: the baseline of the 3-D classes"),
    Peer("cython", "Cython __getbuffer__", "hand",
         lambda: _cls("bench_cy", "CyBuffer")(N_DOUBLES), True, True),
    Peer("pybind11", "pybind11 def_buffer", "hand",
         lambda: _cls("bench_pb11", "Pb11Buffer")(N_DOUBLES), True, False,
         "pybind11's own getbuffer; allocates a buffer_info per export"),
    Peer("pyo3_bound", "PyO3 hand (Bound)", "hand",
         lambda: _cls("bench_pyo3", "Pyo3Bound")(N_DOUBLES), True, True),
    Peer("pyo3_ref", "PyO3 hand (PyRef)", "hand",
         lambda: _cls("bench_pyo3", "Pyo3Ref")(N_DOUBLES), True, True),
    Peer("pyo3_raw", "PyO3 hand (raw slots)", "hand",
         lambda: _cls("bench_pyo3", "Pyo3Raw")(N_DOUBLES), True, True,
         "Pyo3Bound's body in plain extern \"C\" slots written into the type at module init"),
    Peer("numpy", "numpy ndarray", "reference", _np_zeros, True, False,
         "np.asarray(ndarray) returns the array itself: no export"),
    Peer("bytearray", "bytearray", "reference", lambda: bytearray(NBYTES), True, False),
    Peer("array", "array.array('d')", "reference",
         lambda: array.array("d", bytes(NBYTES)), True, False),
    Peer("growable", "GrowableArray (generated)", "generated",
         lambda: _cls("buffer_examples", "GrowableArray")([0.0] * N_DOUBLES), True),
    Peer("frozen", "Frozen (generated)", "generated",
         lambda: _cls("buffer_examples", "Frozen")(bytes(NBYTES)), False),
    Peer("intarray", "IntArray (generated)", "generated",
         lambda: _cls("buffer_examples", "IntArray")([0] * 256), None),
]

BY_KEY = {p.key: p for p in PEERS}


def make(peer: Peer) -> tuple[Any, str]:
    """Returns (object, status): status "ok", "missing" (module/class absent) or "error: ..."."""
    try:
        return peer.factory(), "ok"
    except (ImportError, AttributeError):
        if peer.kind == "generated":
            return None, "missing"
        raise
    except Exception as e:  # a present but broken class: report, do not abort the run
        return None, f"error: {type(e).__name__}: {e}"
