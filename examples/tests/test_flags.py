"""Request-flag semantics: every provider, every request, against CPython's reference exporter.

For each case (see providers.CASES) and every request flag combination CPython defines, the
provider object and a ``_testbuffer.ndarray`` with exactly the same layout are consumed through
``_testbuffer.ndarray(obj, getbuf=FLAGS)`` and every observable detail is compared: whether the
request is refused (BufferError), ndim, shape, strides, suboffsets, itemsize, format, readonly,
nbytes, contiguity, contents (tolist/tobytes/contiguous copies) and a memoryview re-export.
"""

import struct

import _testbuffer as tb
import numpy as np
import pytest

import buffer_examples as bx
from observation import observe
from providers import OTHER_CASES, case_params
from request_flags import ALL_FLAG_COMBOS, ODD_FLAGS, flag_name

FLAG_PARAMS = [pytest.param(f, id=flag_name(f)) for f in ALL_FLAG_COMBOS]


def match(req, flag):
    return req & flag == flag


# --------------------------------------------------------------------------------------------
# The harness itself: the reference built from the spec really has the spec's layout.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params())
def test_reference_model_matches_spec(case):
    ref = case.reference()
    assert ref.format == case.fmt
    assert ref.itemsize == struct.calcsize(case.fmt)
    assert ref.shape == case.shape
    assert ref.strides == case.strides
    assert ref.readonly == case.readonly
    assert ref.nbytes == case.nbytes
    assert ref.tolist() == case.logical
    assert np.array_equal(np.asarray(ref), case.numpy_expected())


def test_flag_combinations_cover_cpython_names():
    names = [
        "PyBUF_SIMPLE", "PyBUF_WRITABLE", "PyBUF_FORMAT", "PyBUF_ND", "PyBUF_STRIDES",
        "PyBUF_C_CONTIGUOUS", "PyBUF_F_CONTIGUOUS", "PyBUF_ANY_CONTIGUOUS", "PyBUF_INDIRECT",
        "PyBUF_CONTIG", "PyBUF_CONTIG_RO", "PyBUF_STRIDED", "PyBUF_STRIDED_RO",
        "PyBUF_RECORDS", "PyBUF_RECORDS_RO", "PyBUF_FULL", "PyBUF_FULL_RO",
    ]
    combos = set(ALL_FLAG_COMBOS)
    for name in names:
        v = getattr(tb, name)
        for extra in (0, tb.PyBUF_WRITABLE, tb.PyBUF_FORMAT, tb.PyBUF_WRITABLE | tb.PyBUF_FORMAT):
            assert v | extra in combos, (name, extra)
    assert len({flag_name(f) for f in ALL_FLAG_COMBOS}) == len(ALL_FLAG_COMBOS)


# --------------------------------------------------------------------------------------------
# The core comparison
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flags", FLAG_PARAMS)
@pytest.mark.parametrize("case", case_params())
def test_request_matches_reference(case, flags):
    obj = case.make()
    ref = case.reference()
    ours = observe(obj, flags)
    theirs = observe(ref, flags)
    assert ours == theirs


@pytest.mark.parametrize("flags", FLAG_PARAMS)
@pytest.mark.parametrize("case", case_params())
def test_request_matches_policy(case, flags):
    """The written policy, checked directly (independently of _testbuffer's own logic)."""
    obj = case.make()
    c, f = case.c_contiguous, case.f_contiguous
    must_fail = (
        (match(flags, tb.PyBUF_WRITABLE) and case.readonly)
        or (match(flags, tb.PyBUF_C_CONTIGUOUS) and not c)
        or (match(flags, tb.PyBUF_F_CONTIGUOUS) and not f)
        or (match(flags, tb.PyBUF_ANY_CONTIGUOUS) and not (c or f))
        or (not match(flags, tb.PyBUF_STRIDES) and not c)
        or (not match(flags, tb.PyBUF_ND) and match(flags, tb.PyBUF_FORMAT))
    )
    if must_fail:
        with pytest.raises(BufferError):
            tb.ndarray(obj, getbuf=flags)
        return
    nd = tb.ndarray(obj, getbuf=flags)
    assert nd.obj is obj
    assert nd.readonly == case.readonly
    assert nd.itemsize == case.itemsize
    assert nd.nbytes == case.nbytes
    assert nd.suboffsets == ()
    assert nd.format == (case.fmt if match(flags, tb.PyBUF_FORMAT) else "")
    if not match(flags, tb.PyBUF_ND):
        assert (nd.ndim, nd.shape, nd.strides) == (1, (), ())
    elif case.ndim == 0:
        assert (nd.ndim, nd.shape, nd.strides) == (0, (), ())
    else:
        assert nd.ndim == case.ndim
        assert nd.shape == case.shape
        assert nd.strides == (case.strides if match(flags, tb.PyBUF_STRIDES) else ())
    assert nd.tobytes() == case.c_bytes()


@pytest.mark.parametrize("case", case_params())
def test_odd_flag_values_match_reference(case):
    """Raw ints that are not ORs of named flags (partial compound bits, undefined bits, -1, ...)
    are decoded like the reference exporter does; none may crash."""
    mismatches = []
    for flags in ODD_FLAGS:
        ours = observe(case.make(), flags)
        theirs = observe(case.reference(), flags)
        if ours != theirs:
            diff = {k: (ours.get(k), theirs.get(k)) for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k)}
            mismatches.append((hex(flags), diff))
    assert not mismatches, mismatches[:5]


@pytest.mark.parametrize("case", case_params())
def test_minus_one_asks_for_everything(case):
    """getbuf=-1 sets every bit: served only when the buffer is writable and both C and F
    contiguous, and then with full information."""
    obj = case.make()
    if case.readonly or not (case.c_contiguous and case.f_contiguous):
        with pytest.raises(BufferError):
            tb.ndarray(obj, getbuf=-1)
    else:
        nd = tb.ndarray(obj, getbuf=-1)
        assert nd.format == case.fmt
        assert nd.shape == case.shape
        assert nd.strides == case.strides
        assert nd.tolist() == case.logical


# --------------------------------------------------------------------------------------------
# A few hand-picked requests, stated explicitly (clear failure messages for the key rules)
# --------------------------------------------------------------------------------------------


def test_writable_request_on_frozen_is_buffererror():
    import buffer_examples as bx

    obj = bx.Frozen(b"abc")
    for flags in (tb.PyBUF_WRITABLE, tb.PyBUF_CONTIG, tb.PyBUF_STRIDED, tb.PyBUF_FULL, tb.PyBUF_RECORDS):
        with pytest.raises(BufferError):
            tb.ndarray(obj, getbuf=flags)
    nd = tb.ndarray(obj, getbuf=tb.PyBUF_FULL_RO)
    assert nd.readonly and nd.tolist() == [97, 98, 99]


def test_fortran_matrix_contiguity_requests():
    import buffer_examples as bx

    m = bx.FortranMatrix(2, 3, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    for flags in (tb.PyBUF_C_CONTIGUOUS, tb.PyBUF_SIMPLE, tb.PyBUF_ND, tb.PyBUF_CONTIG_RO):
        with pytest.raises(BufferError):
            tb.ndarray(m, getbuf=flags)
    nd = tb.ndarray(m, getbuf=tb.PyBUF_F_CONTIGUOUS | tb.PyBUF_FORMAT)
    assert nd.strides == (8, 16)
    assert nd.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    nd = tb.ndarray(m, getbuf=tb.PyBUF_ANY_CONTIGUOUS)
    assert nd.f_contiguous and not nd.c_contiguous


def test_padded_image_needs_strides():
    import buffer_examples as bx

    img = bx.Image(2, 3, 2, 8)
    for flags in (tb.PyBUF_SIMPLE, tb.PyBUF_ND, tb.PyBUF_CONTIG, tb.PyBUF_ANY_CONTIGUOUS):
        with pytest.raises(BufferError):
            tb.ndarray(img, getbuf=flags)
    nd = tb.ndarray(img, getbuf=tb.PyBUF_STRIDED_RO | tb.PyBUF_FORMAT)
    assert nd.shape == (2, 3, 2) and nd.strides == (8, 2, 1)
    assert nd.nbytes == 12
    assert nd.tolist() == [[[(y * 31 + x * 7 + c) % 256 for c in range(2)] for x in range(3)] for y in range(2)]


def test_zero_dim_request_shapes():
    import buffer_examples as bx

    s = bx.Scalar(4.0)
    nd = tb.ndarray(s, getbuf=tb.PyBUF_FULL_RO)
    assert (nd.ndim, nd.shape, nd.strides, nd.nbytes, nd.itemsize) == (0, (), (), 8, 8)
    assert nd.tolist() == 4.0
    nd = tb.ndarray(s, getbuf=tb.PyBUF_SIMPLE)
    assert (nd.ndim, nd.shape, nd.format, nd.nbytes) == (1, (), "", 8)


def test_format_without_nd_is_refused():
    import buffer_examples as bx

    for obj in (bx.IntArray([1, 2]), bx.Frozen(b"x"), bx.Scalar(1.0), bx.GrowableArray([1.0])):
        for flags in (tb.PyBUF_FORMAT, tb.PyBUF_FORMAT | tb.PyBUF_WRITABLE):
            if obj.__class__.__name__ == "Frozen" and flags & tb.PyBUF_WRITABLE:
                continue
            with pytest.raises(BufferError):
                tb.ndarray(obj, getbuf=flags)
        assert tb.ndarray(obj, getbuf=tb.PyBUF_SIMPLE).format == ""


# --------------------------------------------------------------------------------------------
# The classes providers.CASES leaves out (plain storage and RGBA pixels: providers.OTHER_CASES;
# complex elements below): every request against _testbuffer with the same layout, so that
# "matches _testbuffer on every combination for every example" holds for every class
# (records: test_elements.py).
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flags", FLAG_PARAMS)
@pytest.mark.parametrize("case", case_params(cases=OTHER_CASES))
def test_other_classes_match_reference(case, flags):
    assert observe(case.make(), flags) == observe(case.reference(), flags)


def _without_format(obs):
    """An observation without what depends on the format string (struct cannot read Z)."""
    obs = {k: v for k, v in obs.items() if k not in ("format", "tolist")}
    if obs.get("memoryview", (None,))[0] == "ok":
        obs["memoryview"] = ("ok", {k: v for k, v in obs["memoryview"][1].items() if k not in ("format", "tolist")})
    return obs


@pytest.mark.parametrize("flags", FLAG_PARAMS)
@pytest.mark.parametrize(
    "name, values, fmt, size",
    [("complex64", [1 + 2j, -0.5j, 3.0], "Zf", 8), ("complex128", [1 + 2j, -1e300 + 0j], "Zd", 16)],
)
def test_complex_typed_arrays_match_reference(name, values, fmt, size, flags):
    # _testbuffer packs items with struct, which has no Z: the reference holds the same bytes
    # (numpy's encoding of the values) as `{size}s` items; everything but the format must match,
    # and the format must be the PEP 3118 code numpy reads as this dtype.
    t = bx.TypedArray(name, values)
    raw = np.array(values, dtype=name).tobytes()
    ref = tb.ndarray([raw[i : i + size] for i in range(0, len(raw), size)], shape=[len(values)],
                     format=f"{size}s", flags=tb.ND_WRITABLE)
    ours, theirs = observe(t, flags), observe(ref, flags)
    assert _without_format(ours) == _without_format(theirs)
    if ours.get("request") == "ok":
        assert ours["format"] == (fmt if match(flags, tb.PyBUF_FORMAT) else "")
        assert ours["tobytes"] == ("ok", raw)
