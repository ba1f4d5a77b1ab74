"""Every example class the derive generates, each as a ~1 KiB provider, for the per-layout tables.

Kept apart from peers.PEERS (whose list the smoke test pins): bench.py measures these in the same
interleaved rounds as the peers, against the hand-written C peer of the same dims and order
(`c_peer`), and instr.py counts their instructions per export under callgrind.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Case:
    key: str
    label: str
    layout: str  # what the case stands for in the list
    factory: Callable[[], Any]
    native: bool  # a single native format code: numpy's C fast path applies to np.asarray
    c_peer: str = "c"  # the hand-written C peer of the same dims and order: the ratios' base
    # A mutable class: its export reads the fields under PyO3's atomic borrow flag, whose floor
    # the C peer `c_borrow` measures.
    borrows: bool = True


def _cls(module: str, name: str):
    return getattr(importlib.import_module(module), name)


def _be(name: str, *args):
    return lambda: _cls("buffer_examples", name)(*args)


def _filtered_image():
    import numpy as np

    # 8 x 40 x 3 uint8 rows padded to 128 bytes: 1 KiB, strides (128, 3, 1).
    return importlib.import_module("pixel_filter").box_blur(np.zeros((8, 40, 3), np.uint8), 1)


CASES: list[Case] = [
    Case("growable", "GrowableArray", "1-D shared (SharedVec<f64>)",
         _be("GrowableArray", [0.0] * 128), True),
    Case("intarray", "IntArray", "1-D shared (SharedVec<i32>)", _be("IntArray", [0] * 256), True),
    Case("intmatrix", "IntMatrix", "N-d shared, shape from fields (16 x 16 i32)",
         _be("IntMatrix", 16, 16), True, c_peer="c_2d"),
    Case("grid", "Grid", "runtime ndim (Vec<usize> shape, 8 x 16 f64)", _be("Grid", [8, 16]), True,
         c_peer="c_2d"),
    Case("fortran", "FortranMatrix", "Fortran order (16 x 8 f64)",
         _be("FortranMatrix", 16, 8, [0.0] * 128), True, c_peer="c_2d_f"),
    Case("image", "Image", "pitched (16 x 15 x 4 u8, pitch 64)", _be("Image", 16, 15, 4, 64), True,
         c_peer="c_3d"),
    Case("pf_image", "pixel_filter.Image", "pitched, SharedVec (8 x 40 x 3 u8, pitch 128)",
         _filtered_image, True, c_peer="c_3d"),
    Case("pixels", "Pixels", "N-d SharedVec<[u8; 4]> (16 x 16 x 4)", _be("Pixels", 16, 16), True,
         c_peer="c_3d"),
    Case("frozen", "Frozen", "plain storage, frozen class (1024 B)", _be("Frozen", bytes(1024)),
         True, borrows=False),
    Case("table", "Table", "plain storage, frozen, shape from fields (42 x 3 f64)",
         _be("Table", 42, [0.0] * 126), True, c_peer="c_2d", borrows=False),
    Case("readings", "Readings", "plain storage, mutable class (borrow held)",
         _be("Readings", [0.0] * 128), True),
    Case("particles", "Particles", "records (32 x 32 B)", _be("Particles", 32), False),
    Case("mat4", "Mat4", "SharedArray<[[f32; 4]; 4]>, plain m.add_class", _be("Mat4"), True,
         c_peer="c_2d"),
]

BY_KEY = {c.key: c for c in CASES}


def make(case: Case) -> tuple[Any, str]:
    try:
        return case.factory(), "ok"
    except (ImportError, AttributeError):
        return None, "missing"
    except Exception as e:
        return None, f"error: {type(e).__name__}: {e}"
