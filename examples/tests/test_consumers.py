"""Real consumers (memoryview, numpy, bytes, hashlib, struct) on every provider."""

import hashlib
import math
import struct

import numpy as np
import pytest

import buffer_examples as bx

from cases import flatten, nested
from observation import attempt
from providers import CASES, CLASS_NAMES, case_params

WRITABLE_NONEMPTY = case_params(lambda c: not c.readonly and c.size > 0)


# --------------------------------------------------------------------------------------------
# memoryview
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params())
def test_memoryview_fields(case):
    obj = case.make()
    with memoryview(obj) as m:
        assert m.obj is obj
        assert m.format == case.fmt
        assert m.itemsize == case.itemsize
        assert m.ndim == case.ndim
        assert m.shape == case.shape
        assert m.strides == case.strides
        assert m.suboffsets == ()
        assert m.readonly is case.readonly
        assert m.nbytes == case.nbytes
        assert m.tolist() == case.logical
        assert m.c_contiguous == case.c_contiguous
        assert m.f_contiguous == case.f_contiguous
        assert m.contiguous == case.contiguous
        if case.ndim == 0:
            assert len(m) == 1  # CPython's convention for 0-d memoryviews
            assert m[()] == case.logical
        else:
            assert len(m) == case.shape[0]


@pytest.mark.parametrize("case", case_params())
def test_memoryview_equals_reference_memoryview(case):
    obj = case.make()
    ref = case.reference()
    with memoryview(obj) as a, memoryview(ref) as b:
        assert a == b
        assert a.tobytes() == b.tobytes() == case.c_bytes()
        assert a.hex() == b.hex()
        for order in ("C", "F", "A"):
            assert a.tobytes(order=order) == b.tobytes(order=order), order


@pytest.mark.parametrize("case", case_params())
def test_struct_calcsize_matches_itemsize(case):
    with memoryview(case.make()) as m:
        assert struct.calcsize(m.format) == m.itemsize == case.itemsize


#: Slicing/casting operations on a memoryview; each returns something comparable.
MV_OPS = {
    "tolist": lambda m: m.tolist(),
    "slice_step2": lambda m: m[::2].tolist(),
    "slice_reverse": lambda m: m[::-1].tolist(),
    "slice_tail": lambda m: m[1:].tolist(),
    "slice_empty": lambda m: m[2:1].tolist(),
    "slice_reverse_strides": lambda m: m[::-1].strides,
    "slice_step3_shape": lambda m: (m[::3].shape, m[::3].strides),
    "cast_B": lambda m: m.cast("B").tolist(),
    "cast_B_back": lambda m: m.cast("B").cast(m.format, m.shape).tolist()
    if m.ndim
    else m.cast("B").cast(m.format).tolist(),
    "cast_c_flat": lambda m: m.cast("B").cast(m.format).tolist(),
    "toreadonly": lambda m: (m.toreadonly().readonly, m.toreadonly().tolist()),
    "index0": lambda m: m[0] if m.ndim == 1 else m[(0,) * m.ndim],
    "index_last": lambda m: m[-1] if m.ndim == 1 else m[tuple(-1 for _ in m.shape)],
}


@pytest.mark.parametrize("op", list(MV_OPS))
@pytest.mark.parametrize("case", case_params())
def test_memoryview_slicing_and_casting_match_reference(case, op):
    fn = MV_OPS[op]
    with memoryview(case.make()) as a, memoryview(case.reference()) as b:
        assert attempt(lambda: fn(a)) == attempt(lambda: fn(b))


@pytest.mark.parametrize("case", case_params(lambda c: c.ndim >= 1 and c.size > 0))
def test_memoryview_slicing_values(case):
    with memoryview(case.make()) as m:
        lst = case.logical
        assert m[::2].tolist() == lst[::2]
        assert m[::-1].tolist() == lst[::-1]
        assert m[1::3].tolist() == lst[1::3]
        assert m[::-1].strides[0] == -case.strides[0]


@pytest.mark.parametrize("case", case_params())
def test_memoryview_cast_requires_c_contiguity(case):
    with memoryview(case.make()) as m:
        # CPython casts only C-contiguous views, and multi-dimensional ones only without
        # zeros in the shape.
        if case.c_contiguous and (case.size > 0 or case.ndim == 1):
            assert m.cast("B").tobytes() == case.c_bytes()
            assert m.cast("B").nbytes == case.nbytes
            assert m.cast("B").cast(case.fmt).tolist() == case.logical_flat
        else:
            with pytest.raises(TypeError):
                m.cast("B")


# --------------------------------------------------------------------------------------------
# numpy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params())
def test_numpy_asarray_layout(case):
    obj = case.make()
    a = np.asarray(obj)
    assert a.dtype == np.dtype(case.fmt)
    assert a.shape == case.shape
    assert a.strides == case.strides
    assert a.flags.writeable is (not case.readonly)
    assert a.flags.c_contiguous == case.c_contiguous
    assert a.flags.f_contiguous == case.f_contiguous
    assert np.array_equal(a, case.numpy_expected())
    assert a.tolist() == case.logical


def _indices(shape):
    """A few logical indices spread over the array: first, last, and some in between."""
    n = math.prod(shape)
    picks = sorted({0, n - 1, n // 2, n // 3, (2 * n) // 3})
    return [tuple(int(i) for i in np.unravel_index(k, shape)) for k in picks]


def _read_back(obj, case):
    """Ways of reading the object that do not go through numpy."""
    views = {"memoryview": memoryview(obj).tolist()}
    if hasattr(obj, "tolist"):
        views["obj.tolist"] = obj.tolist()
    if case.cls == "GrowableArray":
        views["obj.sum"] = obj.sum()
    return views


@pytest.mark.parametrize("case", WRITABLE_NONEMPTY)
def test_numpy_writes_are_seen_by_object(case):
    obj = case.make()
    a = np.asarray(obj)
    expected = case.numpy_expected().copy()
    for k, idx in enumerate(_indices(case.shape)):
        new = 100 + k if case.fmt in "iB" else 0.5 + k
        a[idx] = new
        expected[idx] = new
    for name, got in _read_back(obj, case).items():
        if name == "obj.sum":
            assert got == pytest.approx(float(expected.sum()))
        else:
            assert got == expected.tolist(), name
    del a


@pytest.mark.parametrize("case", WRITABLE_NONEMPTY)
def test_memoryview_writes_are_seen_by_numpy(case):
    obj = case.make()
    expected = case.numpy_expected().copy()
    with memoryview(obj) as m:
        for k, idx in enumerate(_indices(case.shape)):
            new = 200 + k if case.fmt in "iB" else -0.25 - k
            if case.ndim == 1:
                m[idx[0]] = new
            else:
                m[idx] = new
            expected[idx] = new
    a = np.asarray(obj)
    assert np.array_equal(a, expected)
    if hasattr(obj, "tolist"):
        assert obj.tolist() == expected.tolist()


@pytest.mark.parametrize("case", case_params(lambda c: not c.readonly and c.ndim == 0))
def test_zero_dim_write(case):
    obj = case.make()
    with memoryview(obj) as m:
        m[()] = 7.75
    assert np.asarray(obj)[()] == 7.75
    np.asarray(obj)[()] = -1.0
    assert memoryview(obj)[()] == -1.0


@pytest.mark.parametrize("case", case_params(lambda c: c.readonly))
def test_readonly_writes_refused(case):
    obj = case.make()
    with memoryview(obj) as m:
        with pytest.raises(TypeError):
            m[0:0] = b""
        if case.size:
            with pytest.raises(TypeError):
                m[0] = 1
            with pytest.raises(TypeError):
                m.cast("B")[0] = 1
    a = np.asarray(obj)
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a.flags.writeable = True
    if case.size:
        with pytest.raises(ValueError):
            a[0] = 1
    assert memoryview(obj).tolist() == case.logical


@pytest.mark.parametrize("case", case_params(lambda c: c.c_contiguous and not c.readonly and c.size > 0))
def test_write_through_cast_view(case):
    obj = case.make()
    with memoryview(obj) as m, m.cast("B") as raw:
        raw[0:case.itemsize] = struct.pack(case.fmt, 9)
    first = memoryview(obj).tolist()
    first = flatten(first)[0]
    assert first == 9


# --------------------------------------------------------------------------------------------
# bytes / hashlib
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params())
def test_bytes_is_c_order_data(case):
    obj = case.make()
    assert bytes(obj) == case.c_bytes()
    assert bytearray(obj) == case.c_bytes()


@pytest.mark.parametrize("case", case_params())
def test_hashlib(case):
    obj = case.make()
    if case.c_contiguous:
        assert hashlib.sha256(obj).hexdigest() == hashlib.sha256(case.c_bytes()).hexdigest()
        h = hashlib.md5()
        h.update(obj)
        assert h.digest() == hashlib.md5(case.c_bytes()).digest()
    else:
        with pytest.raises(BufferError):
            hashlib.sha256(obj)
        # Same behaviour as the reference exporter.
        with pytest.raises(BufferError):
            hashlib.sha256(case.reference())


@pytest.mark.parametrize("case", case_params(lambda c: c.c_contiguous))
def test_bytes_consumers_accept_contiguous(case):
    obj = case.make()
    data = case.c_bytes()
    assert b"".join([obj]) == data
    import io

    f = io.BytesIO()
    assert f.write(obj) == len(data)
    assert f.getvalue() == data


def test_every_class_is_covered():
    assert {c.cls for c in CASES} == set(CLASS_NAMES)


# --------------------------------------------------------------------------------------------
# Constructor arguments: bad ones raise ValueError/TypeError; good ones always export
# --------------------------------------------------------------------------------------------

BAD_ARGS = {
    "Image-pitch-too-small": lambda: bx.Image(2, 3, 4, 11),
    "Image-negative-height": lambda: bx.Image(-1, 2, 2, 4),
    "Grid-65-dims": lambda: bx.Grid([1] * 65),
    "Grid-bad-order": lambda: bx.Grid([2, 3], "X"),
    "Grid-negative-dim": lambda: bx.Grid([-1]),
    "Grid-dim-beyond-ssize_t": lambda: bx.Grid([0, 2**63]),
    "Grid-not-a-sequence": lambda: bx.Grid(5),
    "Grid-too-large": lambda: bx.Grid([2**40, 2**40]),
    "IntArray-str-item": lambda: bx.IntArray(["a"]),
    "IntMatrix-wrong-count": lambda: bx.IntMatrix(2, 2, [1, 2, 3]),
    "IntMatrix-negative-rows": lambda: bx.IntMatrix(-1, 2),
    "FortranMatrix-wrong-count": lambda: bx.FortranMatrix(2, 2, [1.0]),
    "Mat4-15-values": lambda: bx.Mat4([1.0] * 15),
    "Mat4-17-values": lambda: bx.Mat4([1.0] * 17),
    "Frozen-str": lambda: bx.Frozen("abc"),
    "Scalar-str": lambda: bx.Scalar("x"),
    "GrowableArray-str-item": lambda: bx.GrowableArray([1.0, "a"]),
}


@pytest.mark.parametrize("build", [pytest.param(b, id=k) for k, b in BAD_ARGS.items()])
def test_bad_constructor_arguments(build):
    """Bad shapes/dimensions/values: ValueError or TypeError (a negative or oversized dimension
    is a bad shape, as Grid([-1]) reports it, not an arithmetic overflow)."""
    with pytest.raises((ValueError, TypeError)):
        build()


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 2**64])
def test_element_out_of_int32_range_is_refused(value):
    # OverflowError is accepted here: it is what array.array('i', [value]) raises.
    with pytest.raises((ValueError, TypeError, OverflowError)):
        bx.IntArray([1, value])
    with pytest.raises((ValueError, TypeError, OverflowError)):
        bx.IntMatrix(1, 2, [1, value])


#: Empty shapes at the edges, with what each must do: a dimension beyond isize::MAX cannot be a
#: Py_ssize_t shape entry and is refused with ValueError; every other empty shape is accepted
#: and exports an empty buffer, however large its other dimensions.
EDGE_ARGS = {
    "IntMatrix-0x0": (lambda: bx.IntMatrix(0, 0), "export"),
    "IntMatrix-0-rows-huge-cols": (lambda: bx.IntMatrix(0, 2**63), ValueError),
    "IntMatrix-0-rows-max-cols": (lambda: bx.IntMatrix(0, 2**62), "export"),
    "FortranMatrix-0x0": (lambda: bx.FortranMatrix(0, 0, []), "export"),
    "Image-0x0x0": (lambda: bx.Image(0, 0, 0, 0), "export"),
    "Grid-0-then-huge": (lambda: bx.Grid([0, 2**62, 2**62]), "export"),
    "Grid-0-then-beyond": (lambda: bx.Grid([0, 2**63 - 1, 3], "F"), "export"),
    "Grid-0-then-too-big": (lambda: bx.Grid([0, 2**63, 3]), ValueError),
}


@pytest.mark.parametrize("build, expected", [pytest.param(*v, id=k) for k, v in EDGE_ARGS.items()])
def test_edge_constructor_arguments_refused_or_exportable(build, expected):
    """Each edge case does what EDGE_ARGS says: refused, or accepted and exportable."""
    if expected != "export":
        with pytest.raises(expected):
            build()
        return
    obj = build()
    with memoryview(obj) as m:
        assert m.nbytes == 0
        assert m.tolist() == nested([], m.shape)
    assert bytes(obj) == b""
