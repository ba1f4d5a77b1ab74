"""Typed consumer views (``buffer_runtime::view``) through the ``buffer_examples`` test hooks.

``view_read`` / ``view_get`` / ``view_sub`` / ``view_write`` / ``view_any`` make a ``PyView``,
``PyViewMut`` or ``AnyView`` of an object and report what they see. Every expected value here
comes from an independent reference: CPython's ``memoryview`` and ``_testbuffer`` (the
reference exporter, also used to re-export an object with exactly the request a view makes),
numpy, ``struct`` and ``ctypes`` -- never from the code under test.

``buffer_examples.Hostile`` (``examples/src/hostile.rs``) is a test fixture that hands out
exactly the ``Py_buffer`` fields it was built with, to feed the views the answers sloppy or
broken exporters give.
"""

from __future__ import annotations

import array
import ctypes
import itertools
import math
import struct
import sys
from dataclasses import dataclass

import _testbuffer as tb
import numpy as np
import pytest

import buffer_examples as bx

assert sys.byteorder == "little", "the '<'/'>' byte-order cases below assume a little-endian machine"

H = bx.Hostile

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

#: Struct codes the hooks know (``view_read(obj, dtype)``), all native.
DTYPES = ["B", "b", "H", "h", "I", "i", "Q", "q", "f", "d", "?"]
#: Layout constraints: any strides, C-contiguous, Fortran-contiguous, either.
CONSTRAINTS = ["strided", "C", "F", "A"]
#: The request each constraint makes (PyBUF_FORMAT plus the layout bit, read-only).
REQUEST = {
    "strided": tb.PyBUF_STRIDES | tb.PyBUF_FORMAT,
    "C": tb.PyBUF_C_CONTIGUOUS | tb.PyBUF_FORMAT,
    "F": tb.PyBUF_F_CONTIGUOUS | tb.PyBUF_FORMAT,
    "A": tb.PyBUF_ANY_CONTIGUOUS | tb.PyBUF_FORMAT,
}
#: How an error message names each constraint ("expected a C-contiguous buffer of ...").
DESCRIPTION = {"strided": "", "C": "C-contiguous ", "F": "Fortran-contiguous ", "A": "contiguous "}


def flat(v):
    """``memoryview.tolist()`` output (nested lists, or a scalar for 0-d) as a flat list."""
    if isinstance(v, list):
        return [y for x in v for y in flat(x)]
    return [v]


def c_strides(shape, itemsize):
    """Byte strides of a C-contiguous ``shape`` (from the definition)."""
    out, step = [], itemsize
    for n in reversed(shape):
        out.append(step)
        step *= n
    return out[::-1]


def int_range(code):
    bits = 8 * struct.calcsize(code)
    if code.islower():
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def items_for(code, n):
    """``n`` distinct-ish values of struct type ``code`` (extremes included for integers)."""
    if code == "?":
        return [i % 3 == 1 for i in range(n)]
    if code in "fd":
        return [i * 0.5 - 3.25 for i in range(n)]  # exact in float32
    lo, hi = int_range(code)
    vals = [(i * 37 + 5) % 100 - (50 if code.islower() else 0) for i in range(n)]
    if n > 2:
        vals[1], vals[2] = hi, lo
    return vals


@dataclass
class Seen:
    shape: list
    strides: list
    readonly: bool
    values: list


def read(obj, dtype, layout="strided", ndim=None):
    """``view_read``, checking that its three ways of reading agree."""
    shape, strides, readonly, vec, it, each = bx.view_read(obj, dtype, layout, ndim)
    assert vec == it, "iter() differs from to_vec()"
    assert vec == each, "for_each() differs from to_vec()"
    return Seen(list(shape), list(strides), readonly, vec)


@dataclass
class Refusal:
    type: type
    message: str
    cause: type | None
    cause_message: str


def refusal(fn, *args, **kwargs):
    """What ``fn(*args)`` raised. Keeps no reference to the exception (refcount checks), and
    catches BaseException so that a Rust panic (pyo3's PanicException) fails the calling
    test's assertions instead of escaping as something else."""
    try:
        fn(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001 - the exception is the observation
        cause = e.__cause__
        return Refusal(type(e), str(e), type(cause) if cause is not None else None, str(cause or ""))
    raise AssertionError(f"{fn.__name__} accepted what it should refuse")


def assert_view_type_error(r: Refusal, *needles):
    assert issubclass(r.type, TypeError), f"{r.type.__name__}: {r.message}"
    assert r.type.__name__ == "ViewTypeError", r.type
    assert "expected " in r.message and ", got " in r.message, r.message
    for needle in needles:
        assert needle in r.message, f"{needle!r} not in {r.message!r}"


@dataclass
class Answer:
    """What an exporter hands a consumer for one request, seen through ``_testbuffer``."""

    shape: list
    strides: list
    readonly: bool
    values: list
    c_contiguous: bool
    f_contiguous: bool


def exporter_answer(obj, constraint):
    """The exporter's answer to the request a view with ``constraint`` makes, or None if it
    refuses. NULL strides read as C strides, as CPython's consumers read them."""
    try:
        nd = tb.ndarray(obj, getbuf=REQUEST[constraint])
    except (BufferError, ValueError, TypeError):
        return None
    shape = list(nd.shape)
    strides = list(nd.strides) if (nd.strides or not shape) else c_strides(shape, nd.itemsize)
    return Answer(shape, strides, bool(nd.readonly), flat(nd.tolist()), nd.c_contiguous, nd.f_contiguous)


def meets(answer: Answer | None, constraint):
    """Whether CPython's contiguity rules accept the answer for ``constraint``."""
    if answer is None:
        return False
    return {
        "strided": True,
        "C": answer.c_contiguous,
        "F": answer.f_contiguous,
        "A": answer.c_contiguous or answer.f_contiguous,
    }[constraint]


def check_read(obj, dtype, constraint="strided", expect_readonly=None):
    """A view of ``obj`` with ``constraint`` is accepted exactly when the exporter serves the
    request and CPython's contiguity rules accept the answer; then it sees what the exporter
    handed out. Returns the Seen, or None when (correctly) refused."""
    answer = exporter_answer(obj, constraint)
    if meets(answer, constraint):
        got = read(obj, dtype, constraint)
        assert got.shape == answer.shape
        assert got.strides == answer.strides
        assert got.values == answer.values
        assert got.readonly == answer.readonly
        if expect_readonly is not None:
            assert got.readonly == expect_readonly
        return got
    r = refusal(bx.view_read, obj, dtype, constraint)
    assert_view_type_error(r, f"expected a {DESCRIPTION[constraint]}buffer of ")
    if answer is None:
        assert r.cause is not None, "the exporter's own exception should be the __cause__"
    return None


def assert_released(obj):
    """No export of ``obj`` is left: bytearray/array.array can be resized only then."""
    if isinstance(obj, bytearray):
        obj.append(0)
        obj.pop()
    elif isinstance(obj, array.array):
        obj.append(obj[0] if len(obj) else 0)
        obj.pop()


def np_base(code, shape, order="C"):
    """A numpy array of ``items_for(code, ...)`` in logical order, stored in ``order``."""
    n = math.prod(shape)
    vals = items_for(code, n)
    return np.array(vals, dtype=np.dtype(code)).reshape(shape, order="C").copy(order=order)


def made_readonly(a):
    """``a``, marked read-only."""
    a.flags.writeable = False
    return a


GUARD = 0xA5  # the bytes around an unaligned array's elements


def unaligned(code, shape):
    """Elements one byte past an aligned address, with guard bytes before and after."""
    size = struct.calcsize(code)
    n = math.prod(shape)
    buf = bytearray([GUARD]) + bytearray(n * size) + bytearray([GUARD] * 9)
    a = np.frombuffer(buf, dtype=np.dtype(code), offset=1, count=n).reshape(shape)
    a[...] = np.array(items_for(code, n), dtype=np.dtype(code)).reshape(shape)
    assert size == 1 or not a.flags.aligned
    return a


def unaligned_pitched(code, shape):
    """Rows one byte longer than the items: aligned first element, misaligned rows."""
    size = struct.calcsize(code)
    rows, cols = shape
    pitch = cols * size + 1
    buf = bytearray([GUARD] * (rows * pitch + size))
    a = np.ndarray(shape, dtype=np.dtype(code), buffer=buf, strides=(pitch, size))
    a[...] = np.array(items_for(code, rows * cols), dtype=np.dtype(code)).reshape(shape)
    return a


def raw_outside(a):
    """The bytes of the buffer under ``a`` (a bytearray) that are not its elements."""
    owner = a
    while isinstance(owner, np.ndarray):
        owner = owner.base
    raw = bytes(owner)
    start = a.ctypes.data - np.frombuffer(owner, np.uint8).ctypes.data
    inside = set()
    for idx in np.ndindex(a.shape):
        at = start + sum(i * s for i, s in zip(idx, a.strides))
        inside.update(range(at, at + a.itemsize))
    return bytes(b for k, b in enumerate(raw) if k not in inside)


# --------------------------------------------------------------------------------------------
# _testbuffer layouts: every constraint x every layout x several dtypes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TbLayout:
    id: str
    shape: tuple
    strides: tuple | None  # in items (scaled by the itemsize); None: the ndarray's own
    offset: int  # in items
    nitems: int
    flags: int = 0

    def build(self, code, writable=False, items=None):
        items = items_for(code, self.nitems) if items is None else items
        flags = self.flags | (tb.ND_WRITABLE if writable else 0)
        size = struct.calcsize(code)
        if not self.shape:
            return tb.ndarray(items[0], shape=[], format=code, flags=flags)
        kw = {} if self.strides is None else {"strides": [s * size for s in self.strides]}
        return tb.ndarray(items, shape=list(self.shape), format=code, flags=flags, offset=self.offset * size, **kw)


TB_LAYOUTS = [
    TbLayout("0d", (), None, 0, 1),
    TbLayout("1d", (6,), None, 0, 6),
    TbLayout("1d-len1", (1,), None, 0, 1),
    TbLayout("1d-step2", (3,), (2,), 0, 6),
    TbLayout("1d-reversed", (5,), (-1,), 4, 5),
    TbLayout("1d-zero-size", (0,), (1,), 0, 1),
    TbLayout("1d-zero-stride", (3,), (0,), 0, 1),
    TbLayout("2d-C", (3, 4), None, 0, 12),
    TbLayout("2d-F", (3, 4), None, 0, 12, tb.ND_FORTRAN),
    TbLayout("2d-0x3", (0, 3), (3, 1), 0, 1),
    TbLayout("2d-3x0-odd-strides", (3, 0), (1, -1), 0, 3),
    TbLayout("2d-rows-reversed", (3, 4), (-4, 1), 8, 12),
    TbLayout("2d-cols-reversed", (3, 4), (4, -1), 3, 12),
    TbLayout("2d-both-reversed", (3, 4), (-4, -1), 11, 12),
    TbLayout("2d-transposed", (4, 3), (1, 4), 0, 12),
    TbLayout("2d-pitched", (3, 4), (6, 1), 0, 18),
    TbLayout("2d-pitched-one-row", (1, 4), (6, 1), 0, 6),
    TbLayout("2d-1x5-odd-row-stride", (1, 5), (100, 1), 0, 5),
    TbLayout("2d-5x1-odd-col-stride", (5, 1), (1, 7), 0, 5),
    TbLayout("2d-column-slice", (3, 2), (4, 2), 1, 12),
    TbLayout("2d-zero-stride-rows", (2, 3), (0, 1), 0, 3),
    TbLayout("3d-C", (2, 3, 4), None, 0, 24),
    TbLayout("3d-F", (2, 3, 4), None, 0, 24, tb.ND_FORTRAN),
    TbLayout("3d-pitched-image", (2, 3, 3), (12, 3, 1), 0, 24),
    TbLayout("3d-len1-middle-odd-stride", (2, 1, 3), (3, 50, 1), 0, 6),
    TbLayout("3d-mixed-negative", (2, 3, 2), (-6, 2, -1), 7, 12),
    TbLayout("3d-2x0x3", (2, 0, 3), (-10, 1, 10), 10, 11),
    TbLayout("64d-ones", (1,) * 64, None, 0, 1),
    TbLayout("64d-ones-odd-strides", (1,) * 64, tuple(i - 32 for i in range(64)), 0, 1),
    TbLayout("64d-ones-then-2x3", (1,) * 62 + (2, 3), None, 0, 6),
    TbLayout("64d-2x3-then-ones-F", (2, 3) + (1,) * 62, None, 0, 6, tb.ND_FORTRAN),
]
TB_IDS = [c.id for c in TB_LAYOUTS]
MATRIX_DTYPES = ["B", "h", "i", "Q", "d", "?"]


@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("code", MATRIX_DTYPES)
@pytest.mark.parametrize("layout", TB_LAYOUTS, ids=TB_IDS)
def test_testbuffer_layouts_against_cpython_contiguity(layout, code, constraint):
    x = layout.build(code)
    with memoryview(x) as m:
        shape, strides, c, f = list(m.shape), list(m.strides), m.c_contiguous, m.f_contiguous
        values = flat(m.tolist())
    want = {"strided": True, "C": c, "F": f, "A": c or f}[constraint]
    if want:
        got = read(x, code, constraint)
        assert got.shape == shape
        assert got.strides == strides
        assert got.values == values
        assert got.readonly is True
        if code == "?":
            assert all(type(v) is bool for v in got.values)
    else:
        r = refusal(bx.view_read, x, code, constraint)
        assert_view_type_error(
            r,
            f"expected a {DESCRIPTION[constraint]}buffer of {np.dtype(code).name} ('{code}')",
            f"got a read-only {len(shape)}-d buffer",
            f"with shape {tuple(shape)} and strides {tuple(strides)}",
        )
        assert r.cause is BufferError, "the reference exporter refuses a layout it cannot serve"


@pytest.mark.parametrize("layout", TB_LAYOUTS, ids=TB_IDS)
def test_testbuffer_layouts_against_numpy(layout):
    x = layout.build("i")
    got = read(x, "i")
    assert got.values == np.asarray(x).flatten(order="C").tolist()
    assert got.shape == list(np.asarray(x).shape)


@pytest.mark.parametrize("want", DTYPES)
@pytest.mark.parametrize("code", DTYPES)
@pytest.mark.parametrize("layout_id", ["0d", "1d-reversed", "2d-cols-reversed", "3d-F", "3d-pitched-image"])
def test_element_type_must_match_the_format(layout_id, code, want):
    layout = next(c for c in TB_LAYOUTS if c.id == layout_id)
    x = layout.build(code)
    if want == code:
        got = read(x, want)
        assert got.values == flat(memoryview(x).tolist())
    else:
        r = refusal(bx.view_read, x, want)
        assert_view_type_error(
            r, f"expected a buffer of {np.dtype(want).name} ('{want}')", f"of '{np.dtype(code).str}'"
        )


RANK_LAYOUTS = ["0d", "1d", "1d-zero-size", "2d-F", "2d-5x1-odd-col-stride", "3d-C", "3d-2x0x3", "64d-ones"]


@pytest.mark.parametrize("ndim", [None, 0, 1, 2, 3])
@pytest.mark.parametrize("layout_id", RANK_LAYOUTS)
def test_fixed_rank(layout_id, ndim):
    layout = next(c for c in TB_LAYOUTS if c.id == layout_id)
    x = layout.build("d")
    actual = len(layout.shape)
    if ndim is None or ndim == actual:
        got = read(x, "d", ndim=ndim)
        assert got.shape == list(memoryview(x).shape)
        assert got.values == flat(memoryview(x).tolist())
    else:
        r = refusal(bx.view_read, x, "d", "strided", ndim)
        assert_view_type_error(r, f"expected a {ndim}-d buffer of float64", f"got a read-only {actual}-d buffer")


def test_rank_2_view_of_a_3d_buffer_names_both_ranks():
    x = tb.ndarray(list(range(24)), shape=[2, 3, 4], format="B")
    r = refusal(bx.view_read, x, "B", "C", 2)
    assert_view_type_error(r, "2-d", "3-d")


def test_pil_style_buffers_are_refused_with_type_error():
    # _testbuffer's PIL layout (suboffsets) cannot be served without PyBUF_INDIRECT: the views
    # do not follow suboffsets, so this is a refusal, and refusals are TypeErrors.
    x = tb.ndarray(list(range(12)), shape=[3, 4], format="i", flags=tb.ND_PIL)
    assert memoryview(x).suboffsets  # really indirect
    for constraint in CONSTRAINTS:
        r = refusal(bx.view_read, x, "i", constraint)
        assert_view_type_error(r, f"expected a {DESCRIPTION[constraint]}buffer of int32")
        assert r.cause is BufferError


# --------------------------------------------------------------------------------------------
# Real exporters: ctypes, array.array, bytes, bytearray, memoryview, numpy
# --------------------------------------------------------------------------------------------

C_INT = ctypes.c_int
CTYPES_CASES = {
    "c_int*3": (lambda: (C_INT * 3)(1, 2, 3), "i", [1, 2, 3]),
    "c_int*3*2": (lambda: ((C_INT * 3) * 2)((1, -2, 3), (4, 5, -6)), "i", [1, -2, 3, 4, 5, -6]),
    "c_int*3*2-zeroed": (lambda: ((C_INT * 3) * 2)(), "i", [0] * 6),
    "c_int*1": (lambda: (C_INT * 1)(7), "i", [7]),
    "c_double*4": (lambda: (ctypes.c_double * 4)(0.5, -1.5, 2.25, 1e300), "d", [0.5, -1.5, 2.25, 1e300]),
    "c_uint8*5": (lambda: (ctypes.c_uint8 * 5)(0, 1, 254, 255, 7), "B", [0, 1, 254, 255, 7]),
    "c_int16*2*2*2": (lambda: (((ctypes.c_int16 * 2) * 2) * 2)(((1, 2), (3, 4)), ((5, 6), (7, -8))), "h",
                      [1, 2, 3, 4, 5, 6, 7, -8]),
    "c_longlong*2": (lambda: (ctypes.c_longlong * 2)(-(2**63), 2**63 - 1), "q", [-(2**63), 2**63 - 1]),
    "c_bool*3": (lambda: (ctypes.c_bool * 3)(True, False, True), "?", [True, False, True]),
}


def ctypes_shape(obj):
    shape, t = [], type(obj)
    while hasattr(t, "_length_"):
        shape.append(t._length_)
        t = t._type_
    return shape


def ctypes_values(obj):
    return [y for x in obj for y in ctypes_values(x)] if hasattr(type(obj), "_length_") else [obj]


@pytest.mark.parametrize("case", CTYPES_CASES, ids=list(CTYPES_CASES))
def test_ctypes_arrays_with_null_strides(case):
    make, code, values = CTYPES_CASES[case]
    obj = make()
    assert tb.ndarray(obj, getbuf=REQUEST["strided"]).strides == ()  # ctypes gives NULL strides
    got = read(obj, code)
    assert got.shape == ctypes_shape(obj) == list(memoryview(obj).shape)
    assert got.strides == c_strides(got.shape, ctypes.sizeof(obj) // math.prod(got.shape))
    assert got.values == ctypes_values(obj) == values
    assert got.readonly is False
    for constraint in CONSTRAINTS:
        check_read(obj, code, constraint)


@pytest.mark.parametrize("case", [c for c in CTYPES_CASES if CTYPES_CASES[c][1] == "i"])
def test_sum_array_on_ctypes(case):
    make, _, values = CTYPES_CASES[case]
    assert bx.sum_array(make()) == sum(values)


def test_ctypes_writes_land_in_the_array():
    obj = ((C_INT * 3) * 2)()
    bx.view_write(obj, "i", "copy", [1, 2, 3, 4, 5, 6])
    assert [list(r) for r in obj] == [[1, 2, 3], [4, 5, 6]]
    bx.view_write(obj, "i", "set", [[1, 0], -9])
    bx.view_write(obj, "i", "add", [10])
    assert [list(r) for r in obj] == [[11, 12, 13], [1, 15, 16]]


LONG = "q" if struct.calcsize("l") == 8 else "i"
ARRAY_CODES = {"b": "b", "B": "B", "h": "h", "H": "H", "i": "i", "I": "I", "l": LONG, "L": LONG.upper(),
               "q": "q", "Q": "Q", "f": "f", "d": "d"}


@pytest.mark.parametrize("typecode", ARRAY_CODES)
def test_array_array(typecode):
    code = ARRAY_CODES[typecode]
    a = array.array(typecode, items_for(code, 7))
    got = read(a, code)
    assert got.shape == [7] and got.strides == [a.itemsize]
    assert got.values == a.tolist()
    assert got.readonly is False
    others = [d for d in DTYPES if d != code]
    r = refusal(bx.view_read, a, others[0])
    assert_view_type_error(r)
    assert_released(a)


@pytest.mark.parametrize("typecode", ["b", "i", "l", "d", "f"])
def test_array_array_writes(typecode):
    code = ARRAY_CODES[typecode]
    a = array.array(typecode, [1, 2, 3, 4, 5])
    expected = a.tolist()
    bx.view_write(a, code, "set", [[2], 9])
    expected[2] = 9
    assert a.tolist() == expected
    bx.view_write(a, code, "add", [2])
    assert a.tolist() == [x + 2 for x in expected]
    bx.view_write(a, code, "copy", [5, 4, 3, 2, 1])
    assert a.tolist() == [5, 4, 3, 2, 1]
    bx.view_write(a, code, "fill", [-1])
    assert a.tolist() == [-1] * 5
    assert_released(a)


def test_bytes_read_only():
    b = b"hello world"
    got = read(b, "B")
    assert got.values == list(b) and got.shape == [11] and got.strides == [1] and got.readonly is True
    for op, args in [("fill", [0]), ("set", [[0], 1]), ("copy", [0] * 11), ("add", [1])]:
        r = refusal(bx.view_write, b, "B", op, args)
        assert_view_type_error(r, "expected a writable buffer of uint8", "read-only")
        assert r.cause is BufferError
    assert b == b"hello world"


def test_bytearray_read_and_write():
    ba = bytearray(b"\x00\x01\x7f\x80\xfe")
    got = read(ba, "B")
    assert got.values == list(ba) and got.readonly is False
    assert_view_type_error(refusal(bx.view_read, ba, "b"), "int8 ('b')", "'|u1'")  # 'B' is not 'b'
    assert read(memoryview(ba).cast("b"), "b").values == list(struct.unpack("5b", ba))
    bx.view_write(ba, "B", "add", [1])
    assert list(ba) == [1, 2, 128, 129, 255]
    r = refusal(bx.view_write, ba, "B", "add", [1])  # 255 + 1 does not fit a uint8
    assert issubclass(r.type, OverflowError), r
    bx.view_write(ba, "B", "fill", [7])
    assert ba == bytearray([7] * 5)
    bx.view_write(ba, "B", "set", [[4], 0])
    bx.view_write(ba, "B", "copy", [9, 8, 7, 6, 5])
    assert ba == bytearray([9, 8, 7, 6, 5])
    assert_released(ba)


def test_memoryview_slices():
    ba = bytearray(range(20))
    cases = {
        "step3": memoryview(ba)[2:17:3],
        "reversed": memoryview(ba)[::-1],
        "reversed-step": memoryview(ba)[15:2:-4],
        "empty": memoryview(ba)[5:5],
        "2d-cast": memoryview(ba)[:12].cast("B", shape=[3, 4]),
        "readonly": memoryview(ba).toreadonly()[::2],
    }
    for name, m in cases.items():
        for constraint in CONSTRAINTS:
            check_read(m, "B", constraint, expect_readonly=m.readonly)
    for m in cases.values():
        m.release()
    assert_released(ba)


def test_memoryview_unaligned_float64_reads_and_writes():
    ba = bytearray(17)
    struct.pack_into("2d", ba, 1, 1.5, -2.25e-300)
    m = memoryview(ba)[1:].cast("d")
    got = read(m, "d")
    assert got.shape == [2] and got.strides == [8]
    assert got.values == list(struct.unpack_from("2d", ba, 1))
    bx.view_write(m, "d", "copy", [3.5, -0.125])
    assert struct.unpack_from("2d", ba, 1) == (3.5, -0.125)
    bx.view_write(m, "d", "set", [[1], 1e300])
    bx.view_write(m, "d", "add", [1.0])
    assert struct.unpack_from("2d", ba, 1) == (4.5, 1e300 + 1.0)
    assert ba[0] == 0
    m.release()
    assert_released(ba)


def test_memoryview_unaligned_int32_2d():
    ba = bytearray(1 + 24)
    struct.pack_into("6i", ba, 1, 1, -2, 3, -4, 5, 2**31 - 1)
    m = memoryview(ba)[1:].cast("i", shape=[2, 3])
    got = read(m, "i", "C", 2)
    assert got.shape == [2, 3] and got.strides == [12, 4]
    assert got.values == list(struct.unpack_from("6i", ba, 1))
    assert bx.sum_array(m) == sum(struct.unpack_from("6i", ba, 1))
    bx.view_write(m, "i", "fill", [-7])
    assert struct.unpack_from("6i", ba, 1) == (-7,) * 6 and ba[0] == 0


NUMPY_LAYOUTS = {
    "C-3d": lambda c: np_base(c, (3, 4, 5)),
    "F-3d": lambda c: np_base(c, (3, 4, 5), "F"),
    "sliced": lambda c: np_base(c, (3, 4, 5))[::2, 1::2, ::-1],
    "reversed": lambda c: np_base(c, (3, 4, 5))[::-1],
    "transposed": lambda c: np_base(c, (3, 4, 5)).T,
    "swapaxes": lambda c: np_base(c, (3, 4, 5)).swapaxes(0, 1),
    "row-of-2d": lambda c: np_base(c, (3, 4))[1:2, :],
    "col-of-2d": lambda c: np_base(c, (3, 4))[:, 1:2],
    "column": lambda c: np_base(c, (3, 4))[:, 1],
    "row-of-F": lambda c: np_base(c, (3, 4), "F")[1],
    "broadcast": lambda c: np.broadcast_to(np_base(c, (4,)), (3, 4)),
    "broadcast-scalar": lambda c: np.broadcast_to(np_base(c, ()), (2, 3)),
    "zero-size": lambda c: np_base(c, (2, 0, 3))[:, :, ::-1],
    "0d": lambda c: np_base(c, ()),
    "readonly": lambda c: made_readonly(np_base(c, (2, 3))[:, ::-1]),
    "unaligned": lambda c: unaligned(c, (2, 3)),
    "unaligned-pitch": lambda c: unaligned_pitched(c, (3, 2)),
    # longer than the runtime's copy chunks (256 elements, 64 bytes)
    "long-contiguous": lambda c: np_base(c, (2500,)),
    "long-merged-rows": lambda c: np_base(c, (7, 300)),
    "long-reversed": lambda c: np_base(c, (2100,))[::-1],
    "long-column": lambda c: np_base(c, (1500, 3))[:, 1],
    "long-pitched-rows": lambda c: np_base(c, (3, 1110))[:, 3:1103],
    "long-unaligned": lambda c: unaligned(c, (2100,)),
    "long-unaligned-pitched": lambda c: unaligned_pitched(c, (3, 1030)),
    "long-F-3d": lambda c: np_base(c, (13, 11, 10), "F"),
}


@pytest.mark.parametrize("code", DTYPES)
@pytest.mark.parametrize("layout", NUMPY_LAYOUTS)
def test_numpy_layouts(layout, code):
    a = NUMPY_LAYOUTS[layout](code)
    got = read(a, code)
    assert got.shape == list(a.shape)
    assert got.values == a.flatten(order="C").tolist()
    assert got.readonly == (not a.flags.writeable)
    if a.size:
        assert got.strides == list(a.strides)
    for constraint in CONSTRAINTS:
        check_read(a, code, constraint, expect_readonly=not a.flags.writeable)


def test_numpy_broadcast_zero_strides_are_read_only():
    a = np.broadcast_to(np.arange(4, dtype=np.int32), (3, 4))
    got = read(a, "i")
    assert got.strides == [0, 4] and got.readonly is True
    assert got.values == a.flatten().tolist()
    r = refusal(bx.view_write, a, "i", "fill", [1])
    assert_view_type_error(r, "writable", "read-only")
    assert r.cause is not None


@pytest.mark.parametrize("np_dtype", [">i4", "<i4", "=i4"])
def test_numpy_byte_order(np_dtype):
    a = np.array([1, -2, 2**31 - 1, -(2**31)], dtype=np_dtype)[::-1]
    values = a.tolist()
    big = np.dtype(np_dtype).byteorder == ">"
    for dtype in ["i", "<i", ">i"]:
        accepts = (dtype == ">i") == big
        if accepts:
            assert read(a, dtype).values == values
        else:
            r = refusal(bx.view_read, a, dtype)
            assert_view_type_error(r, f"of '{np.dtype(np_dtype).str}'")
    if big:
        bx.view_write(a, ">i", "copy", [10, -20, 30, -40])
        bx.view_write(a, ">i", "set", [[0], 123456789])
        bx.view_write(a, ">i", "add", [1])
        assert a.tolist() == [123456790, -19, 31, -39]
        assert struct.unpack(">i", a.base.tobytes()[:4]) == (-39,)  # stored big-endian


def test_numpy_bool_and_bool_byte_normalisation():
    a = np.array([True, False, True, True])
    got = read(a, "?")
    assert got.values == [True, False, True, True] and all(type(v) is bool for v in got.values)
    raw = bytes([0, 1, 2, 255, 0x80])
    b = np.frombuffer(raw, dtype=np.uint8).view(np.bool_)
    got = read(b, "?")
    assert got.values == list(struct.unpack("5?", raw))
    assert all(type(v) is bool for v in got.values)
    assert bx.view_any(b)[2] == [float(v) for v in struct.unpack("5?", raw)]


def test_numpy_records_are_refused_with_a_clear_message():
    rec = np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")])
    fmt = memoryview(rec).format
    r = refusal(bx.view_read, rec, "i")
    assert_view_type_error(r, "expected a buffer of int32 ('i')", f"of '{fmt}'", "shape (3,)")
    r = refusal(bx.view_any, rec)
    assert_view_type_error(r, fmt)
    assert r.message.startswith("obj: ")


def test_sum_array_layouts():
    base = np.arange(-30, 30, dtype=np.int32).reshape(3, 4, 5)
    for a in [base, base[::-1, ::2, 1::2], base.T, np.asfortranarray(base), base[:, 0, :], base[1, 1, 1:2]]:
        assert bx.sum_array(a) == int(a.sum(dtype=np.int64))
    r = refusal(bx.sum_array, base.astype(np.int64))
    assert_view_type_error(r, "int32")


# --------------------------------------------------------------------------------------------
# get / index_axis / lane against numpy indexing
# --------------------------------------------------------------------------------------------

SUB_LAYOUTS = {
    "1d": lambda: np.arange(5, dtype=np.int32) * 3,
    "1d-reversed": lambda: (np.arange(9, dtype=np.int32) - 4)[::-2],
    "2d-C": lambda: np.arange(12, dtype=np.int32).reshape(3, 4),
    "2d-F": lambda: np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4)),
    "2d-negative": lambda: np.arange(20, dtype=np.int32).reshape(4, 5)[::-1, ::-2],
    "3d-C": lambda: np.arange(24, dtype=np.int32).reshape(2, 3, 4),
    "3d-transposed-sliced": lambda: np.arange(60, dtype=np.int32).reshape(3, 4, 5).transpose(2, 0, 1)[::2, ::-1],
    "3d-broadcast": lambda: np.broadcast_to(np.arange(4, dtype=np.int32), (2, 3, 4)),
    "3d-zero-size": lambda: np.zeros((2, 0, 3), dtype=np.int32),
    "0d": lambda: np.array(42, dtype=np.int32),
}


@pytest.mark.parametrize("layout", SUB_LAYOUTS)
def test_get_against_numpy(layout):
    a = SUB_LAYOUTS[layout]()
    for idx in np.ndindex(a.shape):
        assert bx.view_get(a, "i", list(idx)) == a[idx].item()
    first = [0] * a.ndim
    for d in range(a.ndim):
        out = list(first)
        out[d] = a.shape[d]
        assert bx.view_get(a, "i", out) is None
        out[d] = a.shape[d] + 1000
        assert bx.view_get(a, "i", out) is None
    assert bx.view_get(a, "i", first + [0]) is None  # one index too many
    if a.ndim:
        assert bx.view_get(a, "i", first[:-1]) is None  # one too few
    else:
        assert bx.view_get(a, "i", []) == a.item()


@pytest.mark.parametrize("layout", SUB_LAYOUTS)
def test_index_axis_against_numpy(layout):
    a = SUB_LAYOUTS[layout]()
    for axis in range(a.ndim):
        for i in range(a.shape[axis]):
            want = np.asarray(np.take(a, i, axis=axis))
            assert bx.view_sub(a, "i", "axis", axis, [i]) == (list(want.shape), want.flatten().tolist())
        assert bx.view_sub(a, "i", "axis", axis, [a.shape[axis]]) is None
    assert bx.view_sub(a, "i", "axis", a.ndim, [0]) is None
    assert bx.view_sub(a, "i", "axis", a.ndim + 5, [0]) is None


@pytest.mark.parametrize("layout", SUB_LAYOUTS)
def test_lane_against_numpy(layout):
    a = SUB_LAYOUTS[layout]()
    for axis in range(a.ndim):
        others = [n for d, n in enumerate(a.shape) if d != axis]
        for rest in itertools.product(*(range(n) for n in others)):
            at = list(rest[:axis]) + [10**6] + list(rest[axis:])  # at[axis] is ignored
            key = tuple(slice(None) if d == axis else at[d] for d in range(a.ndim))
            assert bx.view_sub(a, "i", "lane", axis, at) == ([a.shape[axis]], a[key].tolist())
        for d in range(a.ndim):
            if d != axis:
                at = [0] * a.ndim
                at[d] = a.shape[d]
                assert bx.view_sub(a, "i", "lane", axis, at) is None
        assert bx.view_sub(a, "i", "lane", axis, [0] * (a.ndim + 1)) is None
        if a.ndim > 1:
            assert bx.view_sub(a, "i", "lane", axis, [0] * (a.ndim - 1)) is None
    assert bx.view_sub(a, "i", "lane", a.ndim, [0] * a.ndim) is None


def test_sub_views_of_unaligned_and_bytes():
    m = memoryview(bytearray(struct.pack("<x6i", *range(10, 16))))[1:].cast("i", shape=[2, 3])
    assert bx.view_sub(m, "i", "axis", 1, [2]) == ([2], [12, 15])
    assert bx.view_sub(m, "i", "lane", 0, [0, 1]) == ([2], [11, 14])
    assert bx.view_get(m, "i", [1, 2]) == 15
    assert bx.view_get(b"abc", "B", [2]) == ord("c")


# --------------------------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------------------------

#: (base shape, base order, the view of the base written through)
WRITE_LAYOUTS = {
    "C": ((3, 4), "C", lambda b: b),
    "F": ((3, 4), "F", lambda b: b),
    "negative": ((3, 4), "C", lambda b: b[::-1, ::-1]),
    "slice-of-larger": ((8, 10), "C", lambda b: b[1:7:2, 2:9:3]),
    "transposed-slice": ((6, 5), "C", lambda b: b[2:6, 1:4].T),
    "3d-mixed": ((4, 5, 6), "C", lambda b: b[::-1, 1:4, ::2]),
    "column": ((4, 5), "F", lambda b: b[:, 3]),
    "row-of-F": ((4, 5), "F", lambda b: b[2]),
    "0d": ((6,), "C", lambda b: b[2:3].reshape(())),
    "zero-size": ((3, 4), "C", lambda b: b[:, 2:2]),
    # longer than the runtime's copy chunks (256 elements, 64 bytes)
    "long-contiguous": ((2500,), "C", lambda b: b[1:-1]),
    "long-merged-rows": ((7, 300), "C", lambda b: b[1:6]),
    "long-reversed": ((2100,), "C", lambda b: b[-2::-1]),
    "long-column": ((1500, 3), "C", lambda b: b[:, 1]),
    "long-pitched-rows": ((3, 1110), "C", lambda b: b[:, 3:1103]),
    "long-F-3d": ((13, 11, 10), "F", lambda b: b[1:]),
}
WRITE_DTYPES = ["i", "d", "B", "h", "q", "f", "?"]


def write_base(code, shape, order):
    n = math.prod(shape)
    if code == "?":
        vals = [i % 3 == 1 for i in range(n)]
    elif code in "fd":
        vals = [i * 0.5 for i in range(n)]
    else:
        vals = [(i * 7) % 50 for i in range(n)]
    return np.array(vals, dtype=np.dtype(code)).reshape(shape).copy(order=order)


def write_value(code, i=0):
    return {"?": i % 2 == 0, "f": 1.25 + i, "d": -3.5 + i}.get(code, 3 + i % 90)


def write_ops(code):
    ops = ["set", "fill", "copy"]
    return ops + ([] if code == "?" else ["add"])


@pytest.mark.parametrize("code", WRITE_DTYPES)
@pytest.mark.parametrize("layout", WRITE_LAYOUTS)
def test_numpy_writes(layout, code):
    shape, order, derive = WRITE_LAYOUTS[layout]
    for op in write_ops(code):
        base = write_base(code, shape, order)
        expected = base.copy(order="K")
        target, want = derive(base), derive(expected)
        assert target.size == 0 or np.shares_memory(target, base)
        if op == "set":
            if target.size == 0:
                continue
            idx = list(np.unravel_index(target.size // 2, target.shape))
            value = write_value(code)
            bx.view_write(target, code, "set", [[int(i) for i in idx], value])
            want[tuple(idx)] = value
        elif op == "fill":
            bx.view_write(target, code, "fill", [write_value(code)])
            want[...] = write_value(code)
        elif op == "copy":
            values = [write_value(code, i) for i in range(target.size)]
            bx.view_write(target, code, "copy", values)
            want[...] = np.array(values, dtype=np.dtype(code)).reshape(target.shape)
        else:
            k = 1.5 if code in "fd" else 3
            bx.view_write(target, code, "add", [k])
            want += k
        assert np.array_equal(base, expected), f"{op}: {base!r} != {expected!r}"
        assert read(target, code).values == want.flatten().tolist()


@pytest.mark.parametrize("code", ["d", "f", "q", "i", "h", "H", "B"])
@pytest.mark.parametrize("make", [lambda c: unaligned(c, (2100,)), lambda c: unaligned(c, (2, 3)),
                                  lambda c: unaligned_pitched(c, (40, 9)), lambda c: unaligned_pitched(c, (3, 1030))],
                         ids=["long", "2x3", "pitched", "long-pitched"])
def test_unaligned_writes(make, code):
    a = make(code)
    assert a.itemsize == 1 or not a.flags.aligned
    outside = raw_outside(a)
    assert outside and set(outside) == {GUARD}
    values = [write_value(code, i) for i in range(a.size)]
    bx.view_write(a, code, "copy", values)
    assert a.flatten().tolist() == values
    expected = a.copy()
    bx.view_write(a, code, "add", [1])
    expected += 1
    assert np.array_equal(a, expected)
    bx.view_write(a, code, "set", [[a.shape[0] - 1] + [0] * (a.ndim - 1), 7])
    expected[(a.shape[0] - 1,) + (0,) * (a.ndim - 1)] = 7
    assert np.array_equal(a, expected)
    bx.view_write(a, code, "fill", [write_value(code)])
    assert (a == write_value(code)).all()
    assert raw_outside(a) == outside, "a write touched bytes outside the elements"


def test_write_errors_leave_the_buffer_unchanged():
    a = np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::-1]
    before = a.copy()
    r = refusal(bx.view_write, a, "i", "set", [[3, 0], 1])
    assert issubclass(r.type, IndexError), r
    r = refusal(bx.view_write, a, "i", "set", [[0], 1])
    assert issubclass(r.type, IndexError), r
    r = refusal(bx.view_write, a, "i", "copy", list(range(11)))
    assert issubclass(r.type, ValueError), r
    r = refusal(bx.view_write, a, "i", "copy", list(range(13)))
    assert issubclass(r.type, ValueError), r
    r = refusal(bx.view_write, a, "d", "fill", [1.0])
    assert_view_type_error(r, "writable buffer of float64")
    assert np.array_equal(a, before)


WRITABLE_TB = ["1d-reversed", "2d-F", "2d-both-reversed", "2d-pitched", "2d-column-slice", "3d-mixed-negative", "0d"]


@pytest.mark.parametrize("layout_id", WRITABLE_TB)
def test_testbuffer_writable_writes(layout_id):
    layout = next(c for c in TB_LAYOUTS if c.id == layout_id)
    for op in ["set", "fill", "copy", "add"]:
        x = layout.build("i", writable=True, items=[i * 3 - 10 for i in range(layout.nitems)])
        values = flat(x.tolist())
        shape = list(layout.shape)
        if op == "set":
            idx = [n - 1 for n in shape]
            bx.view_write(x, "i", "set", [idx, -77])
            values[int(np.ravel_multi_index(idx, shape)) if shape else 0] = -77
        elif op == "fill":
            bx.view_write(x, "i", "fill", [5])
            values = [5] * len(values)
        elif op == "copy":
            values = [i * 11 - 3 for i in range(len(values))]
            bx.view_write(x, "i", "copy", values)
        else:
            bx.view_write(x, "i", "add", [1000])
            values = [v + 1000 for v in values]
        assert flat(x.tolist()) == values, op


def test_memoryview_of_bytearray_writes_only_its_elements():
    ba = bytearray(range(20))
    m = memoryview(ba)[1:19:3]
    bx.view_write(m, "B", "fill", [200])
    assert list(ba) == [200 if 1 <= i < 19 and (i - 1) % 3 == 0 else i for i in range(20)]
    ba2 = bytearray(range(20))
    m2 = memoryview(ba2)[::-5]
    bx.view_write(m2, "B", "copy", [1, 2, 3, 4])
    assert list(ba2) == [{19: 1, 14: 2, 9: 3, 4: 4}.get(i, i) for i in range(20)]
    m.release()
    m2.release()
    assert_released(ba)


READ_ONLY_EXPORTERS = {
    "bytes": (lambda: b"abcdef", "B", bytes),
    "numpy-readonly": (lambda: made_readonly(np.arange(6, dtype=np.int32)), "i", lambda a: a.tobytes()),
    "numpy-broadcast": (lambda: np.broadcast_to(np.arange(3, dtype=np.int32), (2, 3)), "i", lambda a: a.tobytes()),
    "testbuffer-readonly": (lambda: tb.ndarray([1, 2, 3, 4], shape=[2, 2], format="i"), "i", lambda x: x.tobytes()),
    "Frozen": (lambda: bx.Frozen(b"abc"), "B", bytes),
    "memoryview-readonly": (lambda: memoryview(bytearray(b"xyz")).toreadonly(), "B", bytes),
    "memoryview-of-bytes": (lambda: memoryview(b"xyz")[::2], "B", bytes),
}


@pytest.mark.parametrize("op", ["set", "fill", "copy", "add"])
@pytest.mark.parametrize("exporter", READ_ONLY_EXPORTERS)
def test_read_only_exporters_refuse_writes(exporter, op):
    make, code, snapshot = READ_ONLY_EXPORTERS[exporter]
    obj = make()
    before = snapshot(obj)
    n = len(read(obj, code).values)
    args = {"set": [[0] * len(read(obj, code).shape), 1], "fill": [9], "copy": [9] * n, "add": [1]}[op]
    r = refusal(bx.view_write, obj, code, op, args)
    assert_view_type_error(r, "expected a writable buffer", "read-only")
    assert r.cause is not None
    if exporter not in ("numpy-readonly", "numpy-broadcast"):  # numpy raises ValueError
        assert r.cause is BufferError
    assert snapshot(obj) == before
    assert read(obj, code).readonly is True


# --------------------------------------------------------------------------------------------
# AnyView
# --------------------------------------------------------------------------------------------

ANY_CODES = ["b", "B", "h", "H", "i", "I", "l", "L", "q", "Q", "n", "N", "e", "f", "d", "?"]


def np_name(code):
    return {"n": np.dtype(np.intp).name, "N": np.dtype(np.uintp).name}.get(code) or np.dtype(code).name


@pytest.mark.parametrize("code", ANY_CODES)
def test_any_view_native_codes(code):
    vals = [True, False, True] if code == "?" else [1, 2, 3] if code not in "efd" else [0.5, -1.25, 3.0]
    ba = bytearray(struct.pack(f"3{code}", *vals))
    # memoryview.cast does not know 'e'; numpy exports float16 as 'e'
    m = np.frombuffer(ba, dtype=np.float16) if code == "e" else memoryview(ba).cast(code)
    assert memoryview(m).format == code
    name, shape, values = bx.view_any(m)
    assert name == np_name(code)
    assert shape == [3]
    assert values == [float(v) for v in struct.unpack(f"3{code}", ba)]


@pytest.mark.parametrize("np_code", ["b", "B", "h", "H", "i", "I", "q", "Q", "e", "f", "d", "?", "F", "D"])
def test_any_view_numpy(np_code):
    base = np.arange(24).reshape(2, 3, 4).astype(np_code) if np_code != "?" else np.arange(24).reshape(2, 3, 4) % 3 == 0
    a = base[:, ::-1, 1::2]
    name, shape, values = bx.view_any(a)
    assert name == a.dtype.name
    assert shape == list(a.shape)
    want = a.real if np.iscomplexobj(a) else a
    assert values == [float(v) for v in want.flatten().tolist()]


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.arange(3, dtype=">i4"),
        lambda: np.arange(3, dtype=">f8"),
        lambda: np.arange(3, dtype=">u2"),
        lambda: np.arange(3, dtype=">c8"),
        lambda: np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")]),
        lambda: np.zeros(3, dtype=np.longdouble),
        lambda: memoryview(b"abc").cast("c"),
        lambda: H(struct.pack(">2i", 1, 2), ">i", 4, 1, [2], [4], 8),
    ],
    ids=[">i4", ">f8", ">u2", ">c8", "record", "longdouble", "char", "hostile->i"],
)
def test_any_view_refuses_non_native(make):
    obj = make()
    exports = H.exports()
    r = refusal(bx.view_any, obj)
    assert_view_type_error(r, "expected a buffer of native bool, int, uint or float items")
    assert r.message.startswith("obj: ")
    assert H.exports() == exports


def test_any_view_of_hostile_null_format_is_uint8():
    h = hostile(format=None, itemsize=1, shape=None, strides=None, length=6)
    exports = H.exports()
    assert bx.view_any(h) == ("uint8", [6], [float(b) for b in I12[:6]])
    assert H.exports() == exports


def test_any_view_accepts_explicit_native_order_and_single_bytes():
    assert bx.view_any(np.arange(3, dtype="<i4"))[:2] == ("int32", [3])
    assert bx.view_any(np.arange(3, dtype=">u1"))[:2] == ("uint8", [3])
    assert bx.view_any(b"\x01\xff") == ("uint8", [2], [1.0, 255.0])


# --------------------------------------------------------------------------------------------
# The hostile exporter (examples/src/hostile.rs)
# --------------------------------------------------------------------------------------------

I12 = struct.pack("<12i", *range(100, 112))


def hostile(data=I12, format="i", itemsize=4, ndim=1, shape=(12,), strides=(4,), length=48, **kw):
    as_list = lambda t: None if t is None else list(t)  # noqa: E731
    return H(data, format, itemsize, ndim, as_list(shape), as_list(strides), length, **kw)


def test_hostile_counts_its_exports():
    h = hostile()
    before = H.exports()
    with memoryview(h) as m:
        assert H.exports() == before + 1
        assert m.tolist() == list(range(100, 112))
    assert H.exports() == before


def test_hostile_tables_shorter_than_ndim_are_rejected_by_the_fixture():
    with pytest.raises(ValueError):
        hostile(ndim=2, shape=[12], strides=[4, 4])


#: (id, Hostile kwargs, dtype, expected shape, expected strides, expected values)
HOSTILE_ACCEPTED = [
    ("null-strides-2d", dict(ndim=2, shape=(3, 4), strides=None), "i", [3, 4], [16, 4], list(range(100, 112))),
    ("null-strides-3d-float64", dict(data=struct.pack("24d", *[i / 4 for i in range(24)]), format="d", itemsize=8,
                                     ndim=3, shape=(2, 3, 4), strides=None, length=192),
     "d", [2, 3, 4], [96, 32, 8], [i / 4 for i in range(24)]),
    ("null-strides-0d", dict(ndim=0, shape=None, strides=None, length=4), "i", [], [], [100]),
    ("empty-tables-0d", dict(ndim=0, shape=(), strides=(), length=4), "i", [], [], [100]),
    ("null-shape-1d", dict(shape=None, strides=None), "i", [12], [4], list(range(100, 112))),
    ("null-shape-ndim2", dict(ndim=2, shape=None, strides=None), "i", [12], [4], list(range(100, 112))),
    ("null-shape-ndim3", dict(ndim=3, shape=None, strides=None, length=16), "i", [4], [4], list(range(100, 104))),
    ("null-format-is-B", dict(format=None, itemsize=1, shape=(8,), strides=(1,), length=8),
     "B", [8], [1], list(I12[:8])),
    ("null-format-null-shape", dict(format=None, itemsize=1, shape=None, strides=None, length=10),
     "B", [10], [1], list(I12[:10])),
    ("negative-suboffsets", dict(ndim=2, shape=(3, 4), strides=(16, 4), suboffsets=(-1, -1)),
     "i", [3, 4], [16, 4], list(range(100, 112))),
    ("negative-strides-offset", dict(ndim=2, shape=(3, 4), strides=(-16, -4), offset=44),
     "i", [3, 4], [-16, -4], list(range(111, 99, -1))),
    ("pitched-offset", dict(ndim=2, shape=(2, 2), strides=(24, 8), offset=4, length=16),
     "i", [2, 2], [24, 8], [101, 103, 107, 109]),
    ("zero-strides", dict(ndim=2, shape=(2, 3), strides=(0, 0), offset=8, length=24),
     "i", [2, 3], [0, 0], [102] * 6),
    ("null-buf-no-elements", dict(data=None, shape=(0,), strides=(4,), length=0), "i", [0], [4], []),
    ("zero-dim-with-huge-dim", dict(ndim=2, shape=(0, 2**62), strides=(4, 2**62), length=0),
     "i", [0, 2**62], [4, 2**62], []),
    ("64d-null-strides", dict(ndim=64, shape=(1,) * 64, strides=None, length=4), "i", [1] * 64, [4] * 64, [100]),
    ("explicit-little-endian", dict(format="<i"), "i", [12], [4], list(range(100, 112))),
    ("repeat-count-1", dict(format="1i"), "i", [12], [4], list(range(100, 112))),
    ("big-endian", dict(data=struct.pack(">3i", -1, 2, 2**31 - 1), format=">i", shape=(3,), length=12),
     ">i", [3], [4], [-1, 2, 2**31 - 1]),
]


@pytest.mark.parametrize("case", HOSTILE_ACCEPTED, ids=[c[0] for c in HOSTILE_ACCEPTED])
def test_hostile_accepted(case):
    _, kw, dtype, shape, strides, values = case
    h = hostile(**kw)
    exports, refs = H.exports(), sys.getrefcount(h)
    got = read(h, dtype)
    assert (got.shape, got.strides, got.values, got.readonly) == (shape, strides, values, True)
    assert H.exports() == exports
    assert sys.getrefcount(h) == refs


#: (id, Hostile kwargs, what the message must mention). Every one has format 'i'.
HOSTILE_REFUSED = [
    ("len-too-small", dict(length=44), "len"),
    ("len-too-large", dict(length=52), "len"),
    ("len-negative", dict(length=-48), "len"),
    ("len-not-multiple-null-shape", dict(shape=None, strides=None, length=46), "len"),
    ("len-wrong-0d", dict(ndim=0, shape=None, strides=None, length=8), "len"),
    ("negative-shape", dict(shape=(-1,), length=48), "shape"),
    ("negative-shape-2d", dict(ndim=2, shape=(4, -3), strides=(12, 4), length=48), "shape"),
    ("ndim-65", dict(ndim=65, shape=(1,) * 65, strides=(4,) * 65, length=4), "ndim"),
    ("ndim-65-null-tables", dict(ndim=65, shape=None, strides=None, length=4), "ndim"),
    ("ndim-minus-1", dict(ndim=-1, shape=None, strides=None), "ndim"),
    ("ndim-minus-1-tables", dict(ndim=-1), "ndim"),
    ("itemsize-8", dict(itemsize=8, shape=(6,), strides=(8,)), ""),
    ("itemsize-2", dict(itemsize=2, shape=(24,), strides=(2,)), ""),
    ("itemsize-0", dict(itemsize=0, length=0), ""),
    ("itemsize-negative", dict(itemsize=-4), ""),
    ("suboffsets-zero", dict(suboffsets=(0,)), "suboffsets"),
    ("suboffsets-mixed", dict(ndim=2, shape=(3, 4), strides=(16, 4), suboffsets=(-1, 0)), "suboffsets"),
    ("suboffsets-positive-first", dict(ndim=2, shape=(3, 4), strides=(16, 4), suboffsets=(8, -1)), "suboffsets"),
    ("null-buf", dict(data=None), "NULL buf"),
    ("null-buf-0d", dict(data=None, ndim=0, shape=None, strides=None, length=4), "NULL buf"),
    ("stride-overflow", dict(shape=(3,), strides=(2**62,), length=12), "overflow"),
    ("negative-stride-overflow", dict(ndim=2, shape=(3, 3), strides=(-(2**62), -(2**62)), length=36), "overflow"),
    ("count-overflow", dict(ndim=2, shape=(2**32, 2**32), strides=(4, 4), length=0), "overflow"),
    ("null-format-is-not-int", dict(format=None), ""),
    ("record-format", dict(format="T{i:a:}"), "T{i:a:}"),
    ("two-items-format", dict(format="2i", itemsize=8, shape=(6,), strides=(8,)), "2i"),
    ("big-endian-format", dict(format=">i"), ">i"),
]

#: Needles naming a broken layout field (formats are checked before the layout).
LAYOUT_NEEDLES = {"len", "shape", "suboffsets", "NULL buf", "overflow"}

#: How each consumer reaches the hostile exporter (all views of int32).
HOSTILE_CONSUMERS = {
    "read": lambda h: bx.view_read(h, "i"),
    "read-C": lambda h: bx.view_read(h, "i", "C"),
    "read-F": lambda h: bx.view_read(h, "i", "F"),
    "read-A-ndim1": lambda h: bx.view_read(h, "i", "A", 1),
    "get": lambda h: bx.view_get(h, "i", [0]),
    "sub": lambda h: bx.view_sub(h, "i", "axis", 0, [0]),
    "write": lambda h: bx.view_write(h, "i", "fill", [0]),
    "any": lambda h: bx.view_any(h),
    "sum_array": lambda h: bx.sum_array(h),
}


@pytest.mark.parametrize("consumer", HOSTILE_CONSUMERS)
@pytest.mark.parametrize("case", HOSTILE_REFUSED, ids=[c[0] for c in HOSTILE_REFUSED])
def test_hostile_refused_and_released(case, consumer):
    _, kw, needle = case
    # Writable, so that a write is refused for the broken field, not for read-only memory.
    h = hostile(readonly=False, **kw)
    exports, refs = H.exports(), sys.getrefcount(h)
    r = refusal(HOSTILE_CONSUMERS[consumer], h)
    ndim = kw.get("ndim", 1)
    seen_ndim = 1 if kw.get("shape", ()) is None and ndim > 0 else ndim  # NULL shape reads as 1-d
    if consumer == "read-A-ndim1" and seen_ndim in (0, 2, 3) and needle in LAYOUT_NEEDLES:
        needle = f"{seen_ndim}-d buffer"  # a fixed-rank view may refuse the rank before the broken field
    assert_view_type_error(r, needle)
    assert r.cause is None  # the exporter accepted; the view refused its answer
    assert H.exports() == exports, "the refused view leaked its export"
    assert sys.getrefcount(h) == refs, "the refused view leaked a reference to the exporter"


@pytest.mark.parametrize("case", [c for c in HOSTILE_REFUSED if c[0].startswith("itemsize")], ids=lambda c: c[0])
def test_hostile_wrong_itemsize_message_says_itemsize(case):
    # A refusal says what it got: an item size that disagrees with the format must be named,
    # or the message reads "expected int32 ('i'), got ... '<i4'" with nothing wrong in it.
    h = hostile(**case[1])
    r = refusal(bx.view_read, h, "i")
    assert_view_type_error(r, "itemsize")


@pytest.mark.parametrize(
    "kw",
    [
        dict(ndim=2, shape=None, strides=(16, 4)),
        dict(ndim=3, shape=None, strides=(16, 8, 4)),
        dict(ndim=2, shape=None, strides=(16, 4), length=46),
    ],
    ids=["ndim2", "ndim3", "ndim2-bad-len"],
)
def test_hostile_null_shape_with_strides_never_panics_or_leaks(kw):
    # NULL shape with ndim > 1 but non-NULL strides: either refused (TypeError) or read as
    # 1-d of len / itemsize, as a NULL shape is documented to be. Never a Rust panic, never a
    # leaked export.
    h = hostile(**kw)
    exports, refs = H.exports(), sys.getrefcount(h)
    problems = []
    try:
        got = read(h, "i")
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001
        if not isinstance(e, TypeError):
            problems.append(f"raised {type(e).__name__}: {e}")
        del e
    else:
        n = kw.get("length", 48) // 4
        if (got.shape, got.values) != ([n], list(range(100, 100 + n))):
            problems.append(f"read {got}")
    if H.exports() != exports:
        problems.append(f"leaked {H.exports() - exports} export(s)")
    if sys.getrefcount(h) != refs:
        problems.append(f"leaked {sys.getrefcount(h) - refs} reference(s) to the exporter")
    assert not problems, "; ".join(problems)


def struct_reads_as(fmt, raw, want):
    """Whether ``struct`` reads ``raw`` with ``fmt`` as exactly the one value ``want``."""
    try:
        if struct.calcsize(fmt) != len(raw):
            return False
        got = struct.unpack(fmt, raw)
    except struct.error:
        return False
    return len(got) == 1 and type(got[0]) is type(want) and got[0] == want


INT32_FORMATS = ["i", "@i", "=i", "<i", "1i", "=l", "<l", "l", ">i", "!i", "I", "<I", "f", "2h", "4B", "xxxx",
                 "q", "n", "T{i}", "Zi", "11i", "0i", "ii", "", "<"]
UINT8_FORMATS = ["B", "<B", ">B", "=B", "@B", "1B", "b", "c", "?", "x", "s", "h", "BB"]


@pytest.mark.parametrize("fmt", INT32_FORMATS)
def test_hostile_formats_read_as_int32_exactly_when_struct_says(fmt):
    h = hostile(format=fmt, shape=(3,), length=12)
    exports, refs = H.exports(), sys.getrefcount(h)
    if struct_reads_as(fmt, struct.pack("<i", -2), -2):
        assert read(h, "i").values == [100, 101, 102]
        assert bx.view_any(h) == ("int32", [3], [100.0, 101.0, 102.0])
    else:
        assert_view_type_error(refusal(bx.view_read, h, "i"), "expected a buffer of int32 ('i')")
    assert H.exports() == exports and sys.getrefcount(h) == refs


@pytest.mark.parametrize("fmt", UINT8_FORMATS)
def test_hostile_formats_read_as_uint8_exactly_when_struct_says(fmt):
    h = hostile(format=fmt, itemsize=1, shape=(4,), strides=(1,), length=4)
    exports, refs = H.exports(), sys.getrefcount(h)
    if struct_reads_as(fmt, b"\xfe", 254):
        assert read(h, "B").values == list(I12[:4])
        assert bx.view_any(h) == ("uint8", [4], [float(b) for b in I12[:4]])
    else:
        assert_view_type_error(refusal(bx.view_read, h, "B"), "expected a buffer of uint8 ('B')")
    assert H.exports() == exports and sys.getrefcount(h) == refs


def test_hostile_read_only_memory_for_a_writable_request():
    h = hostile(readonly=True)
    exports, refs = H.exports(), sys.getrefcount(h)
    r = refusal(bx.view_write, h, "i", "fill", [0])
    assert_view_type_error(r, "writable", "read-only")
    assert H.exports() == exports and sys.getrefcount(h) == refs
    assert memoryview(h).tolist() == list(range(100, 112))


@pytest.mark.parametrize(
    "kw, accepted",
    [
        (dict(ndim=2, shape=(3, 4), strides=None), {"strided", "C", "A"}),
        (dict(ndim=2, shape=(3, 4), strides=(4, 12)), {"strided", "F", "A"}),
        (dict(ndim=2, shape=(2, 3), strides=(24, 4), length=24), {"strided"}),
        (dict(ndim=2, shape=(3, 4), strides=(-16, 4), offset=32), {"strided"}),
        (dict(ndim=2, shape=(1, 4), strides=(999, 4), length=16), {"strided", "C", "F", "A"}),
        (dict(ndim=2, shape=(0, 4), strides=(7, -3), length=0), {"strided", "C", "F", "A"}),
    ],
    ids=["C", "F", "pitched", "negative", "len1-odd-stride", "empty-odd-strides"],
)
def test_hostile_ignores_contiguity_requests_so_the_view_checks(kw, accepted):
    # Hostile serves every request, so contiguity is decided by the view's own check, which
    # must agree with CPython's rules (memoryview's flags for the same fields).
    h = hostile(**kw)
    m = memoryview(h)  # a well-formed layout: CPython's consumer may look
    want = {"strided": True, "C": m.c_contiguous, "F": m.f_contiguous, "A": m.contiguous}
    m.release()
    assert {c for c, ok in want.items() if ok} == accepted  # the table above is CPython's view
    for constraint in CONSTRAINTS:
        exports, refs = H.exports(), sys.getrefcount(h)
        if constraint in accepted:
            assert read(h, "i", constraint).shape == list(kw["shape"])
        else:
            assert_view_type_error(refusal(bx.view_read, h, "i", constraint), DESCRIPTION[constraint])
        assert H.exports() == exports and sys.getrefcount(h) == refs


def test_hostile_rank_refusal():
    h = hostile(ndim=2, shape=(3, 4), strides=(16, 4))
    refs = sys.getrefcount(h)
    for ndim in (0, 1, 3):
        assert_view_type_error(refusal(bx.view_read, h, "i", "strided", ndim), f"{ndim}-d", "2-d")
    exports = H.exports()
    assert read(h, "i", "C", 2).values == list(range(100, 112))
    assert H.exports() == exports
    assert sys.getrefcount(h) == refs


@pytest.mark.parametrize(
    "kw",
    [
        dict(ndim=2, shape=(3, 4), strides=None),
        dict(ndim=2, shape=(3, 4), strides=(-16, -4), offset=44),
        dict(ndim=2, shape=(2, 2), strides=(24, 8), offset=4, length=16),
    ],
    ids=["null-strides", "negative-offset", "pitched"],
)
def test_hostile_writes(kw):
    h = hostile(readonly=False, **kw)
    shape = list(kw["shape"])
    n = math.prod(shape)
    bx.view_write(h, "i", "copy", list(range(n)))
    bx.view_write(h, "i", "add", [1000])
    bx.view_write(h, "i", "set", [[0, 0], -5])
    logical = [-5] + [1000 + i for i in range(1, n)]
    assert read(h, "i").values == logical
    with memoryview(h) as m:  # CPython's consumer sees the same (the layouts are well-formed)
        assert flat(m.tolist()) == logical


def test_hostile_many_refusals_leak_nothing():
    objs = [hostile(**kw) for _, kw, _ in HOSTILE_REFUSED]
    exports = H.exports()
    refs = [sys.getrefcount(h) for h in objs]
    for _ in range(300):
        for obj in objs:
            for consume in HOSTILE_CONSUMERS.values():
                try:
                    consume(obj)
                except TypeError:
                    pass
    del obj
    assert H.exports() == exports
    assert [sys.getrefcount(h) for h in objs] == refs


# --------------------------------------------------------------------------------------------
# Export bookkeeping and parameter naming
# --------------------------------------------------------------------------------------------


def test_growable_array_exports_balance_after_many_views():
    g = bx.GrowableArray([0.5, -1.5, 2.0])
    with memoryview(g):
        assert g.exports() == 1  # the counter counts
    refs = sys.getrefcount(g)
    for _ in range(10_000):
        assert read(g, "d").values == [0.5, -1.5, 2.0]
        assert bx.view_get(g, "d", [1]) == -1.5
        assert bx.view_any(g)[0] == "float64"
        bx.view_write(g, "d", "add", [0.0])
        for bad in (lambda: bx.view_read(g, "i"), lambda: bx.view_read(g, "d", "C", 2),
                    lambda: bx.view_write(g, "f", "fill", [0.0]), lambda: bx.sum_array(g)):
            try:
                bad()
            except TypeError:
                pass
            else:
                raise AssertionError("accepted")
    assert g.exports() == 0
    assert sys.getrefcount(g) == refs
    g.append(4.0)
    assert read(g, "d").values == [0.5, -1.5, 2.0, 4.0]


def test_bytearray_resizable_after_many_views():
    ba = bytearray(b"\x01\x02\x03\x04")
    refs = sys.getrefcount(ba)
    for _ in range(2000):
        read(ba, "B")
        bx.view_write(ba, "B", "add", [0])
        try:
            bx.view_read(ba, "i")  # 4 bytes, but format 'B'
        except TypeError:
            pass
        ro = memoryview(ba).toreadonly()
        try:  # refused by the exporter: the view's second, describing export is released too
            bx.view_write(ro, "B", "fill", [0])
        except TypeError:
            pass
        ro.release()  # BufferError if the memoryview still had an export
    assert sys.getrefcount(ba) == refs
    ba.extend(b"\x05")  # BufferError if an export were left
    assert bx.view_any(ba) == ("uint8", [5], [1.0, 2.0, 3.0, 4.0, 5.0])


def test_parameter_is_named_in_the_error():
    r = refusal(bx.sum_array, b"abcd")
    assert_view_type_error(r, "int32")
    assert r.message.startswith("obj: "), r.message
    r = refusal(bx.sum_array, 3)
    assert_view_type_error(r, "'int', which is not a buffer")
    assert r.message.startswith("obj: ") and r.cause is TypeError
    r = refusal(bx.view_any, "text")
    assert r.message.startswith("obj: ")
    # the hooks make their views inside the function: no parameter to name
    assert refusal(bx.view_read, b"abcd", "i").message.startswith("expected ")
