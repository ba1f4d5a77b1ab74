"""sum_array(obj): a buffer consumer summing native int32 buffers of any layout in place."""

import array
import gc
import re
import sys

import _testbuffer as tb
import numpy as np
import pytest

import buffer_examples as bx
from cases import flatten

pytestmark = pytest.mark.usefixtures("cheap_gc")

I32 = np.int32
assert sys.byteorder == "little", "the '>i4' cases below assume a little-endian machine"


def big_values(n, seed=1234):
    rng = np.random.default_rng(seed)
    return rng.integers(-(2**31), 2**31, size=n, dtype=np.int64).astype(I32)


def _ro(a):
    a = a.copy()
    a.flags.writeable = False
    return a


# (id, builder). Each builder returns a fresh buffer of native int32.
LAYOUTS = {
    # numpy, 1-D
    "np-1d": lambda: np.arange(10, dtype=I32),
    "np-1d-step3": lambda: np.arange(20, dtype=I32)[::3],
    "np-1d-reversed": lambda: np.arange(-5, 20, dtype=I32)[::-1],
    "np-1d-step-minus4": lambda: np.arange(30, dtype=I32)[::-4],
    "np-1d-neg-slice": lambda: np.arange(10, dtype=I32)[7:2:-2],
    "np-1d-single": lambda: np.array([-123456], dtype=I32),
    "np-1d-extremes": lambda: np.array([2**31 - 1] * 5 + [-(2**31)] * 2 + [2**31 - 1] * 3, dtype=I32),
    "np-1d-random-large": lambda: big_values(100_003),
    "np-1d-readonly": lambda: _ro(np.arange(-50, 50, dtype=I32) * 7),
    # numpy, 2-D
    "np-2d-C": lambda: np.arange(12, dtype=I32).reshape(3, 4),
    "np-2d-F": lambda: np.asfortranarray(np.arange(12, dtype=I32).reshape(3, 4) - 20),
    "np-2d-transpose": lambda: big_values(35, 5).reshape(5, 7).T,
    "np-2d-col-step": lambda: np.arange(40, dtype=I32).reshape(5, 8)[:, ::2],
    "np-2d-both-negative": lambda: np.arange(40, dtype=I32).reshape(5, 8)[::-1, ::-3],
    "np-2d-column": lambda: np.arange(40, dtype=I32).reshape(5, 8)[:, 3],
    "np-2d-row-of-F": lambda: np.asfortranarray(np.arange(40, dtype=I32).reshape(5, 8))[2],
    "np-2d-broadcast-zero-strides": lambda: np.broadcast_to(np.array(7, dtype=I32), (4, 5)),
    "np-2d-broadcast-row": lambda: np.broadcast_to(np.arange(6, dtype=I32), (3, 6)),
    # numpy, 3-D and more
    "np-3d": lambda: big_values(60, 9).reshape(3, 4, 5),
    "np-3d-sliced": lambda: big_values(60, 9).reshape(3, 4, 5)[:, ::2, ::-1],
    "np-3d-transposed": lambda: big_values(60, 10).reshape(3, 4, 5).transpose(2, 0, 1),
    "np-3d-F": lambda: np.asfortranarray(big_values(60, 11).reshape(3, 4, 5)),
    "np-5d-mixed": lambda: big_values(720, 12).reshape(2, 3, 4, 5, 6)[::-1, :, 1::2, ::2, ::-3],
    # 0-d and empty
    "np-0d": lambda: np.array(-7, dtype=I32),
    "np-0d-from-slice": lambda: np.arange(5, dtype=I32)[3, ...],
    "np-empty": lambda: np.zeros(0, dtype=I32),
    "np-empty-2d": lambda: np.zeros((3, 0), dtype=I32),
    "np-empty-3d-T": lambda: np.zeros((0, 4, 2), dtype=I32).T,
    "np-empty-slice": lambda: np.arange(10, dtype=I32)[5:5],
    # the project's own exporters
    "IntArray": lambda: bx.IntArray([5, -3, 2**31 - 1, 2**31 - 1, -(2**31)]),
    "IntArray-empty": lambda: bx.IntArray([]),
    "IntMatrix": lambda: bx.IntMatrix(3, 4, list(range(-6, 6))),
    "IntMatrix-default": lambda: bx.IntMatrix(3, 3),
    "IntMatrix-0x5": lambda: bx.IntMatrix(0, 5),
    # other CPython exporters
    "array-i": lambda: array.array("i", [1, -2, 3, -4, 2**31 - 1]),
    "array-i-empty": lambda: array.array("i"),
    "memoryview-array-step": lambda: memoryview(array.array("i", range(-10, 11)))[::-3],
    "memoryview-bytes-cast": lambda: memoryview(np.arange(8, dtype=I32).tobytes()).cast("i"),
    "memoryview-cast-2d": lambda: memoryview(np.arange(12, dtype=I32).tobytes()).cast("i", (3, 4)),
    "memoryview-of-IntMatrix": lambda: memoryview(bx.IntMatrix(2, 2, [1, 2, 3, 4])),
    "testbuffer-neg-strides": lambda: tb.ndarray(
        list(range(12)), shape=[3, 4], strides=[-16, -4], offset=44, format="i"
    ),
    "testbuffer-0d": lambda: tb.ndarray(99, shape=[], format="i"),
    "testbuffer-zero-strides": lambda: tb.ndarray([7], shape=[5], strides=[0], format="i"),
    "testbuffer-fortran": lambda: tb.ndarray(list(range(6)), shape=[2, 3], format="i", flags=tb.ND_FORTRAN),
    # explicit native / standard-size little-endian spellings of int32 (this is little-endian)
    "testbuffer-at-i": lambda: tb.ndarray([1, -2, 30], shape=[3], format="@i"),
    "testbuffer-eq-i": lambda: tb.ndarray([1, -2, 30], shape=[3], format="=i"),
    "testbuffer-lt-i": lambda: tb.ndarray([1, -2, 30], shape=[3], format="<i"),
    # re-exports: a view that has strides but came through another exporter
    "reexport-strided": lambda: tb.ndarray(
        tb.ndarray(list(range(12)), shape=[3, 4], strides=[-16, -4], offset=44, format="i"),
        getbuf=tb.PyBUF_STRIDES | tb.PyBUF_FORMAT,
    ),
    "reexport-IntMatrix-full": lambda: tb.ndarray(bx.IntMatrix(2, 3, [1, 2, 3, 4, 5, 6]), getbuf=tb.PyBUF_FULL_RO),
}


#: The project's own exporters: the sum of the values given to the constructor, worked out
#: here (never read back from the provider).
KNOWN_SUMS = {
    "IntArray": 5 - 3 + (2**31 - 1) + (2**31 - 1) - 2**31,
    "IntArray-empty": 0,
    "IntMatrix": sum(range(-6, 6)),
    "IntMatrix-default": 0,
    "IntMatrix-0x5": 0,
    "memoryview-of-IntMatrix": 1 + 2 + 3 + 4,
    "reexport-IntMatrix-full": 1 + 2 + 3 + 4 + 5 + 6,
}


def expected_sum(x):
    """Exact sum of the logical elements, computed without the provider (CPython's exporters
    and numpy read their own memory; the project's providers are in KNOWN_SUMS)."""
    assert not isinstance(x, (bx.IntArray, bx.IntMatrix)), "use KNOWN_SUMS"
    if isinstance(x, tb.ndarray):
        return sum(flatten(x.tolist()))
    if isinstance(x, memoryview):
        return sum(flatten(x.tolist()))
    if isinstance(x, array.array):
        return sum(x)
    return int(np.asarray(x).astype(np.int64).sum())


@pytest.mark.parametrize("build, known", [pytest.param(b, KNOWN_SUMS.get(k), id=k) for k, b in LAYOUTS.items()])
def test_sum_matches(build, known):
    x = build()
    want = known if known is not None else expected_sum(x)
    got = bx.sum_array(x)
    assert type(got) is int
    assert got == want


@pytest.mark.parametrize("build", [pytest.param(b, id=k) for k, b in LAYOUTS.items() if k.startswith("np-")])
def test_sum_matches_numpy(build):
    x = build()
    assert bx.sum_array(x) == int(x.sum(dtype=np.int64))


def test_sum_does_not_wrap_int32():
    x = np.full(1000, 2**31 - 1, dtype=I32)
    assert bx.sum_array(x) == 1000 * (2**31 - 1)
    y = np.full(1000, -(2**31), dtype=I32)
    assert bx.sum_array(y) == -1000 * 2**31


def test_reads_in_place_not_a_stale_copy():
    a = np.arange(10, dtype=I32)
    v = a[::2]
    assert bx.sum_array(v) == 20
    a[::2] = 100
    assert bx.sum_array(v) == 500
    ia = bx.IntArray([1, 2, 3])
    m = memoryview(ia)
    m[0] = 40
    assert bx.sum_array(ia) == 45
    m.release()


def test_sum_leaves_input_untouched_and_released():
    a = bx.IntArray([3, 4, 5])
    assert bx.sum_array(a) == 12
    a.append(6)  # no export may linger
    assert a.tolist() == [3, 4, 5, 6]
    x = np.arange(6, dtype=I32).reshape(2, 3)
    before = x.copy()
    bx.sum_array(x)
    assert np.array_equal(x, before)


def test_sum_refcount_stable():
    a = bx.IntArray([1, 2, 3])
    n = np.arange(10, dtype=I32)[::2]
    ra, rn = sys.getrefcount(a), sys.getrefcount(n)
    for _ in range(10_000):
        bx.sum_array(a)
        bx.sum_array(n)
    gc.collect()
    assert (sys.getrefcount(a), sys.getrefcount(n)) == (ra, rn)


# --------------------------------------------------------------------------------------------
# Wrong element types
# --------------------------------------------------------------------------------------------

WRONG = {
    "np-int64": lambda: np.arange(5, dtype=np.int64),
    "np-big-endian-int32": lambda: np.arange(5, dtype=">i4"),
    "np-big-endian-int32-2d": lambda: np.arange(6, dtype=">i4").reshape(2, 3),
    "np-uint32": lambda: np.arange(5, dtype=np.uint32),
    "np-int16": lambda: np.arange(5, dtype=np.int16),
    "np-int8": lambda: np.arange(5, dtype=np.int8),
    "np-float64": lambda: np.arange(5, dtype=np.float64),
    "np-float32": lambda: np.arange(5, dtype=np.float32),
    "np-bool": lambda: np.ones(5, dtype=bool),
    "np-structured-i4": lambda: np.zeros(3, dtype=[("a", "<i4")]),
    "np-int64-empty": lambda: np.zeros(0, dtype=np.int64),
    "np-float64-0d": lambda: np.array(1.0),
    "bytes": lambda: b"abcdefgh",
    "bytearray": lambda: bytearray(b"abcd"),
    "array-d": lambda: array.array("d", [1.0, 2.0]),
    "array-I": lambda: array.array("I", [1, 2]),
    "array-l": lambda: array.array("l", [1, 2]),
    "array-q": lambda: array.array("q", [1, 2]),
    "array-h": lambda: array.array("h", [1, 2]),
    "memoryview-cast-q": lambda: memoryview(bytes(16)).cast("q"),
    "testbuffer-2i-record": lambda: tb.ndarray([(1, 2), (3, 4)], shape=[2], format="2i"),
    "testbuffer-big-endian": lambda: tb.ndarray([1, 2], shape=[2], format=">i"),
    "testbuffer-f": lambda: tb.ndarray([1.0, 2.0], shape=[2], format="f"),
    "testbuffer-network-order": lambda: tb.ndarray([1, 2], shape=[2], format="!i"),
    "testbuffer-I": lambda: tb.ndarray([1, 2], shape=[2], format="I"),
    "Frozen": lambda: bx.Frozen(b"1234"),
    "FortranMatrix": lambda: bx.FortranMatrix(1, 2, [1.0, 2.0]),
    "Image": lambda: bx.Image(1, 1, 4, 4),
    "Mat4": lambda: bx.Mat4(),
    "Scalar": lambda: bx.Scalar(1.0),
    "Grid": lambda: bx.Grid([2], "C"),
    "GrowableArray": lambda: bx.GrowableArray([1.0]),
}


@pytest.mark.parametrize("build", [pytest.param(b, id=k) for k, b in WRONG.items()])
def test_wrong_format_is_typeerror_naming_the_format(build):
    x = build()
    fmt = memoryview(x).format
    with pytest.raises(TypeError) as info:
        bx.sum_array(x)
    # The format must appear as a token of its own (a bare 'l' or 'd' is in many words).
    token = r"(?<![A-Za-z0-9])" + re.escape(fmt) + r"(?![A-Za-z0-9])"
    assert re.search(token, str(info.value)), (fmt, str(info.value))
    # the failed consumer released what it got
    if isinstance(x, bx.GrowableArray):
        assert x.exports() == 0
        x.append(2.0)


def test_wrong_format_refcount_stable():
    g = bx.GrowableArray([1.0, 2.0])
    before = sys.getrefcount(g)
    for _ in range(5000):
        with pytest.raises(TypeError):
            bx.sum_array(g)
    gc.collect()
    assert sys.getrefcount(g) == before
    assert g.exports() == 0


@pytest.mark.parametrize("x", [pytest.param([1, 2, 3], id="list"), pytest.param(5, id="int"), pytest.param(None, id="None")])
def test_non_buffer_is_typeerror(x):
    with pytest.raises(TypeError):
        bx.sum_array(x)


def test_buffer_without_format_is_unsigned_bytes():
    """A view with a NULL format means 'B': refused, and the message says so."""
    raw = tb.ndarray(np.arange(4, dtype=I32), getbuf=tb.PyBUF_SIMPLE)
    assert raw.format == ""
    with pytest.raises(TypeError, match=r"(?<![A-Za-z0-9])B(?![A-Za-z0-9])"):
        bx.sum_array(raw)
