"""`ndarray` forms of consumer views (feature `ndarray`): the owned copy and the borrowed
`ArrayView` read the same values as numpy on every layout, negative strides included."""

import numpy as np
import pytest

import buffer_examples as bx

BASE = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)

LAYOUTS = {
    "c": BASE,
    "fortran": np.asfortranarray(BASE),
    "reversed": BASE[::-1, :, ::-1],
    "sliced": BASE[:, ::2, 1:],
    "transposed": BASE.transpose(2, 0, 1),
    "zero-size": BASE[:, :0],
    "0-d": np.array(2.5),
    "broadcast": np.broadcast_to(np.arange(3.0), (2, 3)),
}


@pytest.mark.parametrize("a", [pytest.param(a, id=k) for k, a in LAYOUTS.items()])
def test_owned_and_borrowed_arrays_read_as_numpy_does(a):
    owned, borrowed = bx.view_ndarray(a)
    expected = np.asarray(a).flatten(order="C").tolist()
    assert owned == expected
    assert borrowed == expected


def test_unaligned_view_has_owned_but_no_borrowed_form():
    raw = bytearray(8 * 4 + 1)
    m = memoryview(raw)[1:].cast("d")
    np.frombuffer(raw, dtype=np.uint8)[1:] = np.frombuffer(np.arange(4.0).tobytes(), dtype=np.uint8)
    owned, borrowed = bx.view_ndarray(m)
    assert owned == [0.0, 1.0, 2.0, 3.0]
    assert borrowed is None


def test_packed_record_field_has_owned_but_no_borrowed_form():
    rec = np.zeros(3, dtype=[("a", "u1"), ("x", "f8")])  # packed: x at byte 1, stride 9
    rec["x"] = [1.0, 2.0, 3.0]
    owned, borrowed = bx.view_ndarray(rec["x"])
    assert owned == [1.0, 2.0, 3.0]
    assert borrowed is None
