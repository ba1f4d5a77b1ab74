"""Shared model of every example buffer provider in ``buffer_examples``.

Each :class:`Case` knows how to build one provider object and, independently of the provider,
what its buffer must look like according to the specification: format, shape, byte strides,
writability, the logical contents (C-order nested list, what ``memoryview.tolist()`` returns)
and the full underlying memory (padding included).  From that it builds the equivalent
CPython reference exporter, ``_testbuffer.ndarray``, which the tests consume side by side
with the provider.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any, Callable

import _testbuffer as tb
import numpy as np
import pytest

import buffer_examples as bx

# Deliberately malformed exporters in the module (fixtures for the consumer-view tests): the
# conformance kit and the stress run would rightly fail them.
BROKEN_ON_PURPOSE = {"Hostile"}

# --------------------------------------------------------------------------------------------
# Layout helpers (pure Python, from the spec)
# --------------------------------------------------------------------------------------------


def c_strides(shape, itemsize):
    strides = []
    step = itemsize
    for dim in reversed(shape):
        strides.append(step)
        step *= dim
    return tuple(reversed(strides))


def f_strides(shape, itemsize):
    strides = []
    step = itemsize
    for dim in shape:
        strides.append(step)
        step *= dim
    return tuple(strides)


def nested(flat, shape):
    """C-order nested list of ``flat`` with ``shape`` (a scalar when shape is ())."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat[: shape[0]])
    step = math.prod(shape[1:])
    return [nested(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def flatten(lst):
    if not isinstance(lst, list):
        return [lst]
    out = []
    for x in lst:
        out.extend(flatten(x))
    return out


def f32(x):
    """``x`` rounded to float32, as a Python float."""
    return struct.unpack("f", struct.pack("f", x))[0]


# --------------------------------------------------------------------------------------------
# The case model
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    cls: str  # class name in buffer_examples
    make: Callable[[], Any]
    fmt: str
    shape: tuple
    strides: tuple
    readonly: bool
    logical_flat: list  # elements in C (logical) order
    memory: list  # every element of the underlying storage, in memory order
    tags: set = field(default_factory=set)

    @property
    def itemsize(self):
        return struct.calcsize(self.fmt)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def nbytes(self):
        return self.size * self.itemsize

    @property
    def logical(self):
        """What ``memoryview(obj).tolist()`` must return."""
        return nested(self.logical_flat, self.shape)

    def c_bytes(self):
        """The exposed data, packed in C order (what ``bytes(obj)`` must return)."""
        return b"".join(struct.pack(self.fmt, v) for v in self.logical_flat)

    def numpy_expected(self):
        dt = np.dtype(self.fmt)
        return np.array(self.logical_flat, dtype=dt).reshape(self.shape)

    def reference(self):
        """CPython's reference exporter with exactly the layout the spec describes."""
        flags = 0 if self.readonly else tb.ND_WRITABLE
        if not self.shape:
            return tb.ndarray(self.memory[0], shape=[], format=self.fmt, flags=flags)
        items = self.memory if self.memory else [0.0 if self.fmt in "fd" else 0]
        return tb.ndarray(
            list(items),
            shape=list(self.shape),
            strides=list(self.strides),
            format=self.fmt,
            flags=flags,
            offset=0,
        )

    @property
    def c_contiguous(self):
        return self.reference().c_contiguous

    @property
    def f_contiguous(self):
        return self.reference().f_contiguous

    @property
    def contiguous(self):
        return self.reference().contiguous

    def __repr__(self):
        return self.id


CASES: list[Case] = []


def _add(case):
    assert case.id not in {c.id for c in CASES}, case.id
    CASES.append(case)


# IntArray(values): 1-D 'i', writable.
for name, vals in [
    ("5", [3, -1, 7, 2**31 - 1, -(2**31)]),
    ("empty", []),
    ("1", [42]),
    ("9", list(range(-4, 5))),
]:
    _add(
        Case(
            id=f"IntArray-{name}",
            cls="IntArray",
            make=lambda v=vals: bx.IntArray(list(v)),
            fmt="i",
            shape=(len(vals),),
            strides=(4,),
            readonly=False,
            logical_flat=list(vals),
            memory=list(vals),
        )
    )

# IntMatrix(rows, cols, values=None): 2-D C-order 'i'.
for rows, cols, with_values in [
    (2, 3, True),
    (3, 4, False),
    (0, 5, False),
    (5, 0, False),
    (1, 4, True),
    (4, 1, True),
    (1, 1, True),
]:
    n = rows * cols
    vals = [(i * 37) % 101 - 50 for i in range(n)] if with_values else [0] * n
    _add(
        Case(
            id=f"IntMatrix-{rows}x{cols}" + ("" if with_values else "-default"),
            cls="IntMatrix",
            make=(
                (lambda r=rows, c=cols, v=vals: bx.IntMatrix(r, c, list(v)))
                if with_values
                else (lambda r=rows, c=cols: bx.IntMatrix(r, c))
            ),
            fmt="i",
            shape=(rows, cols),
            strides=c_strides((rows, cols), 4),
            readonly=False,
            logical_flat=vals,
            memory=vals,
        )
    )

# FortranMatrix(rows, cols, values): 2-D 'd', Fortran order, values given row-major.
for rows, cols in [(2, 3), (3, 2), (1, 4), (4, 1), (0, 3), (3, 0), (1, 1), (3, 3)]:
    vals = [r * 10.0 + c + 0.5 for r in range(rows) for c in range(cols)]
    memory = [vals[r * cols + c] for c in range(cols) for r in range(rows)]
    _add(
        Case(
            id=f"FortranMatrix-{rows}x{cols}",
            cls="FortranMatrix",
            make=lambda r=rows, c=cols, v=vals: bx.FortranMatrix(r, c, list(v)),
            fmt="d",
            shape=(rows, cols),
            strides=(8, 8 * rows),
            readonly=False,
            logical_flat=vals,
            memory=memory,
            tags={"fortran"},
        )
    )

# Frozen(data): 1-D 'B', read-only.
for name, data in [("hello", b"hello world"), ("empty", b""), ("1", b"\xff"), ("bin", bytes(range(256)))]:
    _add(
        Case(
            id=f"Frozen-{name}",
            cls="Frozen",
            make=lambda d=data: bx.Frozen(bytes(d)),
            fmt="B",
            shape=(len(data),),
            strides=(1,),
            readonly=True,
            logical_flat=list(data),
            memory=list(data),
            tags={"readonly"},
        )
    )

# Image(height, width, channels, pitch): 'B', shape (h, w, c), strides (pitch, c, 1).
PAD = 0xEE  # arbitrary: padding is never compared


def image_value(y, x, c):
    return (y * 31 + x * 7 + c) % 256


for h, w, ch, pitch in [
    (3, 4, 3, 16),  # padded rows
    (3, 4, 3, 12),  # tight rows: C-contiguous
    (1, 4, 3, 16),  # one padded row: contiguous (length-1 dim ignores its stride)
    (2, 1, 1, 5),
    (0, 4, 3, 16),  # zero-size
    (3, 0, 3, 4),  # zero width
    (4, 2, 1, 3),
    (2, 3, 4, 13),  # odd pitch
    (1, 1, 1, 1),
    (10, 9, 3, 32),  # lots of padding, values wrap past 255
    (2, 2, 0, 0),  # no channels: zero-size with zero strides
    (0, 0, 0, 0),
]:
    memory = [PAD] * (h * pitch)
    for y in range(h):
        for x in range(w):
            for c in range(ch):
                memory[y * pitch + x * ch + c] = image_value(y, x, c)
    logical = [image_value(y, x, c) for y in range(h) for x in range(w) for c in range(ch)]
    _add(
        Case(
            id=f"Image-{h}x{w}x{ch}-pitch{pitch}",
            cls="Image",
            make=lambda h=h, w=w, ch=ch, p=pitch: bx.Image(h, w, ch, p),
            fmt="B",
            shape=(h, w, ch),
            strides=(pitch, ch, 1),
            readonly=False,
            logical_flat=logical,
            memory=memory,
            tags={"padded"} if pitch > w * ch else set(),
        )
    )

# Mat4(values=None): (4, 4) 'f', default identity.
_identity = [1.0 if r == c else 0.0 for r in range(4) for c in range(4)]
_mat_vals = [f32(i * 1.25 - 7.5) for i in range(16)]
_add(
    Case(
        id="Mat4-identity",
        cls="Mat4",
        make=lambda: bx.Mat4(),
        fmt="f",
        shape=(4, 4),
        strides=(16, 4),
        readonly=False,
        logical_flat=_identity,
        memory=_identity,
    )
)
_add(
    Case(
        id="Mat4-values",
        cls="Mat4",
        make=lambda: bx.Mat4(list(_mat_vals)),
        fmt="f",
        shape=(4, 4),
        strides=(16, 4),
        readonly=False,
        logical_flat=_mat_vals,
        memory=_mat_vals,
    )
)

# Scalar(value): 0-d 'd'.
for name, value in [("2.5", 2.5), ("neg-huge", -1.5e300)]:
    _add(
        Case(
            id=f"Scalar-{name}",
            cls="Scalar",
            make=lambda v=value: bx.Scalar(v),
            fmt="d",
            shape=(),
            strides=(),
            readonly=False,
            logical_flat=[value],
            memory=[value],
            tags={"0d"},
        )
    )

# Grid(shape, order): 'd', element at logical index = its C-order flat index.
GRID_SHAPES = {
    "0d": (),
    "7": (7,),
    "2x3": (2, 3),
    "0x3": (0, 3),
    "3x0": (3, 0),
    "3x1": (3, 1),
    "1x5x1": (1, 5, 1),
    "2x3x4": (2, 3, 4),
    "2x1x3x1x2": (2, 1, 3, 1, 2),
    "2x3x1x2x2": (2, 3, 1, 2, 2),
    "64d-ones": (1,) * 64,
    "64d-ones-then-2x3": (1,) * 62 + (2, 3),
    "64d-2x3-then-ones": (2, 3) + (1,) * 62,
    "64d-zeros": (0,) * 64,
}
for sid, shape in GRID_SHAPES.items():
    for order in ("C", "F"):
        n = math.prod(shape)
        logical = [float(i) for i in range(n)]
        if order == "C":
            memory = logical
            strides = c_strides(shape, 8)
        else:
            memory = [float(v) for v in np.arange(n).reshape(shape).ravel(order="F")] if shape else logical
            strides = f_strides(shape, 8)
        _add(
            Case(
                id=f"Grid-{sid}-{order}",
                cls="Grid",
                make=lambda s=shape, o=order: bx.Grid(list(s), o),
                fmt="d",
                shape=shape,
                strides=strides,
                readonly=False,
                logical_flat=logical,
                memory=memory,
                tags={"0d"} if not shape else set(),
            )
        )

# GrowableArray(values): 1-D 'd'.
for name, vals in [("3", [1.5, 2.5, -3.0]), ("empty", []), ("1", [0.25])]:
    _add(
        Case(
            id=f"GrowableArray-{name}",
            cls="GrowableArray",
            make=lambda v=vals: bx.GrowableArray(list(v)),
            fmt="d",
            shape=(len(vals),),
            strides=(8,),
            readonly=False,
            logical_flat=list(vals),
            memory=list(vals),
        )
    )

# Bits(words): 1-D 'f' over u32 storage (`element = f32`): the words are float32 bit patterns.
for name, floats in [("3", [1.0, -2.5, 3.1415927]), ("empty", []), ("1", [0.5])]:
    words = [struct.unpack("I", struct.pack("f", x))[0] for x in floats]
    _add(
        Case(
            id=f"Bits-{name}",
            cls="Bits",
            make=lambda w=words: bx.Bits(list(w)),
            fmt="f",
            shape=(len(floats),),
            strides=(4,),
            readonly=False,
            logical_flat=[f32(x) for x in floats],
            memory=[f32(x) for x in floats],
        )
    )


CLASS_NAMES = [
    "IntArray",
    "IntMatrix",
    "FortranMatrix",
    "Frozen",
    "Image",
    "Mat4",
    "Scalar",
    "Grid",
    "GrowableArray",
    "Bits",
]
assert {c.cls for c in CASES} == set(CLASS_NAMES)


def case_params(predicate=lambda c: True):
    return [pytest.param(c, id=c.id) for c in CASES if predicate(c)]


# --------------------------------------------------------------------------------------------
# Request flags
# --------------------------------------------------------------------------------------------

BASE_FLAGS = {
    "WRITABLE": tb.PyBUF_WRITABLE,
    "FORMAT": tb.PyBUF_FORMAT,
    "ND": tb.PyBUF_ND,
    "STRIDES": tb.PyBUF_STRIDES,
    "C_CONTIGUOUS": tb.PyBUF_C_CONTIGUOUS,
    "F_CONTIGUOUS": tb.PyBUF_F_CONTIGUOUS,
    "ANY_CONTIGUOUS": tb.PyBUF_ANY_CONTIGUOUS,
    "INDIRECT": tb.PyBUF_INDIRECT,
}

# Named composite requests CPython defines (for readable ids).
COMPOSITES = {
    "FULL": tb.PyBUF_FULL,
    "FULL_RO": tb.PyBUF_FULL_RO,
    "RECORDS": tb.PyBUF_RECORDS,
    "RECORDS_RO": tb.PyBUF_RECORDS_RO,
    "STRIDED": tb.PyBUF_STRIDED,
    "STRIDED_RO": tb.PyBUF_STRIDED_RO,
    "CONTIG": tb.PyBUF_CONTIG,
    "CONTIG_RO": tb.PyBUF_CONTIG_RO,
}


def flag_name(flags: int) -> str:
    """A readable, unique name: the minimal set of base flags whose OR is ``flags``."""
    for name, value in COMPOSITES.items():
        if value == flags:
            return name
    if flags == 0:
        return "SIMPLE"
    names = []
    covered = 0
    # Largest compounds first so that e.g. STRIDES is not also printed as ND.
    for name in ("INDIRECT", "C_CONTIGUOUS", "F_CONTIGUOUS", "ANY_CONTIGUOUS", "STRIDES", "ND", "FORMAT", "WRITABLE"):
        v = BASE_FLAGS[name]
        if flags & v == v and covered & v != v:
            names.append(name)
            covered |= v
    if covered != flags:
        return hex(flags)
    return "|".join(names)


def _all_combinations():
    values = {0}
    for v in BASE_FLAGS.values():
        values |= {x | v for x in values}
    # The composites are all in here already (they are ORs of base flags); keep them explicit.
    values |= set(COMPOSITES.values())
    values |= {c | tb.PyBUF_WRITABLE for c in COMPOSITES.values()}
    values |= {c | tb.PyBUF_FORMAT for c in COMPOSITES.values()}
    return sorted(values)


#: Every distinct OR of CPython's request flags (72 values).
ALL_FLAG_COMBOS = _all_combinations()

#: Raw values that are not ORs of named flags: partial compound bits, undefined bits,
#: and the PEP 688 style "anything goes" ints (-1 asks for everything).
ODD_FLAGS = sorted(
    (set(range(0x200)) - set(ALL_FLAG_COMBOS))
    | {0x200, 0x400, 0x200 | tb.PyBUF_STRIDES, 0x1000 | tb.PyBUF_FULL_RO, -1, -2, -(2**31), 2**31 - 1}
)


# --------------------------------------------------------------------------------------------
# Observation of one consumer request, comparable between provider and reference
# --------------------------------------------------------------------------------------------


def attempt(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - the exception type is the observation
        return ("raises", type(e).__name__)


def describe_memoryview(m):
    with m:
        return dict(
            format=m.format,
            itemsize=m.itemsize,
            ndim=m.ndim,
            shape=m.shape,
            strides=m.strides,
            suboffsets=m.suboffsets,
            readonly=m.readonly,
            nbytes=m.nbytes,
            c_contiguous=m.c_contiguous,
            f_contiguous=m.f_contiguous,
            contiguous=m.contiguous,
            tolist=attempt(m.tolist),
            tobytes=attempt(m.tobytes),
        )


def observe(exporter, flags):
    """Everything a consumer can see of ``exporter`` through one request with ``flags``."""
    try:
        nd = tb.ndarray(exporter, getbuf=flags)
    except BufferError:
        return {"request": "BufferError"}
    out = dict(
        request="ok",
        obj_is_exporter=nd.obj is exporter,
        ndim=nd.ndim,
        shape=nd.shape,
        strides=nd.strides,
        suboffsets=nd.suboffsets,
        itemsize=nd.itemsize,
        format=nd.format,
        readonly=nd.readonly,
        nbytes=nd.nbytes,
        c_contiguous=nd.c_contiguous,
        f_contiguous=nd.f_contiguous,
        contiguous=nd.contiguous,
        tobytes=attempt(nd.tobytes),
        tolist=attempt(nd.tolist),
    )
    for order in "CFA":
        out[f"get_contiguous_{order}"] = attempt(
            lambda o=order: tb.get_contiguous(nd, tb.PyBUF_READ, o).tobytes()
        )
        out[f"is_contiguous_{order}"] = tb.is_contiguous(nd, order)
    out["memoryview"] = attempt(lambda: describe_memoryview(memoryview(nd)))
    return out


# --------------------------------------------------------------------------------------------
# gc.collect() with ~10^4 collected test items alive scans all of them (~0.3 s each call).
# Tests that call it freeze what exists before the module starts, so that a collection only
# looks at objects the tests themselves create; unfrozen again afterwards.
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cheap_gc():
    import gc

    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
