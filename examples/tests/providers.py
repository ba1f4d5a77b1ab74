"""The one registry of example providers: every object of ``buffer_examples`` the tests, the
conformance kit and the stress run (``examples/stress/stress.py``) build, each under one ID.

- :data:`CASES`: providers modelled in full from the specification (:class:`cases.Case`):
  the request-flag, consumer and lifetime tests run over all of them.
- :data:`OTHER_CASES`: modelled in full too, but kept out of ``CASES`` (plain storage that a
  lifetime test may not write, RGBA pixels): the request-flag comparison covers them.
- :data:`REGISTRY`: every provider by ID (the cases above, records, typed arrays, owned
  buffers), with the reference object the conformance kit compares it to, where one exists.
- :data:`STRESS`: one provider per class, by class name, for the export/release stress.

A new example class is added here once; ``test_conformance.py`` and ``test_stress.py`` fail,
naming it, until it is.
"""

from __future__ import annotations

import ctypes
import math
import struct
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

import buffer_examples as bx
from cases import Case, c_strides, f32, f_strides

#: Deliberately malformed exporters in the module (fixtures for the consumer-view tests): the
#: conformance kit and the stress run would rightly fail them.
BROKEN_ON_PURPOSE = {"Hostile"}


def has_getbuffer(cls) -> bool:
    """Whether the type fills ``bf_getbuffer`` (``__buffer__`` is visible only from 3.12)."""
    get_slot = ctypes.pythonapi.PyType_GetSlot
    get_slot.restype = ctypes.c_void_p
    get_slot.argtypes = [ctypes.py_object, ctypes.c_int]
    return bool(get_slot(cls, 1))  # Py_bf_getbuffer == 1


def buffer_classes() -> set[str]:
    """Names of the module's buffer providers, the deliberately broken ones left out."""
    return {
        name
        for name, obj in vars(bx).items()
        if isinstance(obj, type) and has_getbuffer(obj) and name not in BROKEN_ON_PURPOSE
    }


@dataclass(frozen=True)
class Provider:
    id: str
    cls: str  # class name in buffer_examples
    make: Callable[[], Any]
    #: What the object must hold, built independently of it (None: no independent reference).
    reference: Callable[[], Any] | None = None
    #: The full model, for providers in CASES or OTHER_CASES.
    case: Case | None = None

    def __repr__(self):
        return self.id


REGISTRY: dict[str, Provider] = {}

CASES: list[Case] = []
OTHER_CASES: list[Case] = []


def _register(provider: Provider) -> None:
    assert provider.id not in REGISTRY, provider.id
    REGISTRY[provider.id] = provider


def _add(case: Case, into: list[Case] = CASES) -> None:
    into.append(case)
    _register(Provider(case.id, case.cls, case.make, case.reference, case))


def _other(provider_id: str, make: Callable[[], Any], reference: Callable[[], Any] | None = None) -> None:
    _register(Provider(provider_id, provider_id.split("-")[0], make, reference))


# --------------------------------------------------------------------------------------------
# CASES
# --------------------------------------------------------------------------------------------

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

#: The classes CASES models.
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

# --------------------------------------------------------------------------------------------
# OTHER_CASES: plain storage (read-only views; Readings is mutable and so locked while
# exported) and RGBA pixels (a [u8; 4] element becomes the trailing dimension).
# --------------------------------------------------------------------------------------------

_TABLE = [0.5 * i for i in range(6)]
_PIXELS = [v for y in range(2) for x in range(3) for v in (x % 256, y % 256, (x + y) % 256, 255)]
for _case in [
    Case("Table-2x3", "Table", lambda: bx.Table(2, list(_TABLE)), "d", (2, 3), (24, 8), True, _TABLE, _TABLE),
    Case("Table-empty", "Table", lambda: bx.Table(0, []), "d", (0, 3), (24, 8), True, [], []),
    Case("Readings-3", "Readings", lambda: bx.Readings([1.0, -2.0, 3.5]), "d", (3,), (8,), True,
         [1.0, -2.0, 3.5], [1.0, -2.0, 3.5]),
    Case("Readings-empty", "Readings", lambda: bx.Readings([]), "d", (0,), (8,), True, [], []),
    Case("Pixels-2x3", "Pixels", lambda: bx.Pixels(2, 3), "B", (2, 3, 4), c_strides((2, 3, 4), 1), False,
         _PIXELS, _PIXELS),
]:
    _add(_case, into=OTHER_CASES)

# --------------------------------------------------------------------------------------------
# Not modelled as a Case (records and types `struct` cannot pack): the reference, where there is
# one, is a numpy array written from the constructors' documented semantics.
# --------------------------------------------------------------------------------------------

_VEC3 = np.dtype({"names": ["x", "y", "z"], "formats": ["<f4"] * 3, "offsets": [0, 4, 8], "itemsize": 12})
_PARTICLE = np.dtype(
    {"names": ["x", "y", "z", "mass", "id"], "formats": ["<f4", "<f4", "<f4", "<f8", "<u4"],
     "offsets": [0, 4, 8, 16, 24], "itemsize": 32}
)
_PACKED = np.dtype(
    {"names": ["tag", "value", "big", "pos", "count", "little"],
     "formats": ["u1", "<u4", ">u2", _VEC3, "<i8", "<f8"], "offsets": [0, 1, 5, 7, 19, 27], "itemsize": 35}
)

_other("Particles-3", lambda: bx.Particles(3),
       lambda: np.array([(i, 2 * i, 3 * i, i * 0.5, i) for i in range(3)], dtype=_PARTICLE))
_other("Particles-0", lambda: bx.Particles(0), lambda: np.zeros(0, dtype=_PARTICLE))
_other("Samples-4", lambda: bx.Samples(4))  # no reference: its record mixes every field kind
_other("PackedSamples-5", lambda: bx.PackedSamples(5), lambda: np.array(
    [(i % 256, 100000 + i, i, (i, -float(i), 0.5 * i), -i, i / 8) for i in range(5)], dtype=_PACKED
))
for _name, _dtype, _values in [
    ("f2-big-endian", ">f2", [1.0, -2.5]),
    ("complex128", "complex128", [1 + 2j]),
    ("bool", "bool", [True, False, True]),
    ("uint64", "uint64", [0, 2**64 - 1]),
    ("float64", "float64", [1.0, 2.0]),
    ("float16", "float16", [1.0, -2.0]),
    ("complex64", "complex64", [1 + 2j]),
    ("int32-little-endian", "<i4", [5]),  # explicit, but native on little-endian machines
    ("int32-big-endian", ">i4", [1]),
]:
    _other(f"TypedArray-{_name}", lambda d=_dtype, v=_values: bx.TypedArray(d, list(v)),
           lambda d=_dtype, v=_values: np.array(v, dtype=d))
_other("OwnedBuffer-3x4", lambda: bx.owned_range(12, (3, 4)))
_other("OwnedBuffer-frozen", lambda: bx.owned_frozen(b"read-only"))
_other("OwnedBuffer-0d", lambda: bx.owned_range(1, ()))

# --------------------------------------------------------------------------------------------
# The stress run's object of each class
# --------------------------------------------------------------------------------------------

#: Class name -> maker of the object ``stress.py`` exports and releases a million times.
STRESS: dict[str, Callable[[], Any]] = {
    REGISTRY[i].cls: REGISTRY[i].make
    for i in [
        "IntArray-9",
        "GrowableArray-3",
        "Frozen-bin",
        "IntMatrix-3x4-default",
        "FortranMatrix-2x3",
        "Mat4-identity",
        "Scalar-2.5",
        "Image-3x4x3-pitch16",
        "Table-2x3",
        "Readings-3",
        "Grid-2x3x4-F",
        "Particles-3",
        "Samples-4",
        "PackedSamples-5",
        "Pixels-2x3",
        "TypedArray-float64",
        "Bits-3",
        "OwnedBuffer-3x4",
    ]
}


def makers(ids: dict[str, str]) -> dict[str, Callable[[], Any]]:
    """``{test ID: maker}`` for a test's own selection of registry entries (``{test ID:
    registry ID}``), so that a test keeps its IDs and the registry stays the one place that
    says how each object is built."""
    return {name: REGISTRY[provider_id].make for name, provider_id in ids.items()}


def case_params(predicate=lambda c: True, cases=CASES):
    """``pytest.param``s of the cases ``predicate`` accepts, with their IDs."""
    import pytest  # here, so that stress.py can import this module without pytest

    return [pytest.param(c, id=c.id) for c in cases if predicate(c)]
