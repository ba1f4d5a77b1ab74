"""The run-time entries of the guide's troubleshooting section (buffer-runtime/docs/guide.md,
"Troubleshooting"), one test each: the error a user meets, and the fix the guide gives.

Layout errors (a shape that does not fit the storage) cannot be produced from Python with the
example classes, whose constructors check their arguments: the guide's own doctest shows them.
"""

import gc
import hashlib
import io

import _testbuffer as tb
import numpy as np
import pytest
from PIL import Image

import buffer_examples as bx

# --------------------------------------------------------------------------------------------
# "RuntimeError: Already borrowed": a mutable class with plain storage, mutated while exported
# --------------------------------------------------------------------------------------------


def test_plain_storage_mutated_while_exported_is_already_borrowed():
    # Readings: `Vec<f64>` in a mutable class. Each export holds a shared borrow of the object,
    # so pyo3 refuses every `&mut self` method until the last view is released; its message
    # says nothing of the export.
    r = bx.Readings([1.0, 2.0])
    view = memoryview(r)
    with pytest.raises(RuntimeError, match="^Already borrowed$"):
        r.clear()
    assert r.tolist() == [1.0, 2.0]  # `&self` methods still work
    # Fix 1: release the views (a `with` block, `view.release()`, `del` of numpy arrays).
    view.release()
    r.clear()
    assert r.tolist() == []
    r = bx.Readings([1.0, 2.0])
    a = np.asarray(r)
    with pytest.raises(RuntimeError, match="^Already borrowed$"):
        r.clear()
    del a
    gc.collect()
    r.clear()


def test_shared_storage_is_the_fix_for_already_borrowed():
    # Fix 2: shared storage (`SharedVec`): no borrow is held by an export, so `&mut self`
    # methods keep working while views live; only moving or resizing the memory is refused.
    g = bx.GrowableArray([1.0, 2.0])
    with memoryview(g) as view:
        g[0] = 5.0  # a `&mut self` method, allowed while exported
        assert view[0] == 5.0
        with pytest.raises(BufferError, match=r"cannot be re-sized \(1 live export\)"):
            g.append(3.0)


# --------------------------------------------------------------------------------------------
# "BufferError: Existing exports of data: object cannot be re-sized": shared storage resized
# --------------------------------------------------------------------------------------------


def test_resizing_while_exported_names_the_live_exports():
    g = bx.GrowableArray([1.0])
    a, m = np.asarray(g), memoryview(g)
    with pytest.raises(BufferError, match=r"^Existing exports of data: object cannot be re-sized \(2 live exports\)$"):
        g.append(2.0)
    assert g.tolist() == [1.0]  # unchanged
    # The fix: let the views go.
    m.release()
    del a
    gc.collect()
    g.append(2.0)
    assert g.tolist() == [1.0, 2.0]


# --------------------------------------------------------------------------------------------
# "BufferError: X: cannot serve a PyBUF_WRITABLE request: the buffer is read-only"
# --------------------------------------------------------------------------------------------


def test_writable_request_on_read_only_storage():
    f = bx.Frozen(b"abc")
    with pytest.raises(BufferError, match=r"^Frozen: cannot serve a PyBUF_WRITABLE request: the buffer is read-only$"):
        tb.ndarray(f, getbuf=tb.PyBUF_WRITABLE)
    # numpy asks without PyBUF_WRITABLE and marks the array read-only: its own error on write.
    a = np.asarray(f)
    with pytest.raises(ValueError, match="read-only"):
        a[0] = 1
    # The fix: shared storage, writable (here IntArray, `SharedVec<i32>`).
    w = np.asarray(bx.IntArray([1, 2]))
    w[0] = 7
    assert w.tolist() == [7, 2]


# --------------------------------------------------------------------------------------------
# "BufferError: X: cannot serve a PyBUF_SIMPLE request: the buffer is not C-contiguous, so it
# needs PyBUF_STRIDES": a strided provider handed to a contiguous-only consumer
# --------------------------------------------------------------------------------------------


def padded_image():
    return bx.Image(2, 3, 3, 16)  # rows of 9 bytes in a 16-byte pitch: strides (16, 3, 1)


@pytest.mark.parametrize(
    "consumer",
    [
        pytest.param(lambda x: Image.frombuffer("RGB", (3, 2), x, "raw", "RGB", 0, 1), id="PIL-frombuffer"),
        pytest.param(hashlib.sha256, id="hashlib"),
        pytest.param(lambda x: io.BytesIO().write(x), id="file-write"),
    ],
)
def test_contiguous_only_consumers_refuse_a_strided_provider(consumer):
    with pytest.raises(BufferError, match=r"^Image: cannot serve a PyBUF_\w+ request: the buffer is not C-contiguous"):
        consumer(padded_image())
    # memoryview.cast has its own message for the same reason.
    with pytest.raises(TypeError, match="C-contiguous"):
        memoryview(padded_image()).cast("B")


def expected_pixels():
    return np.array([[[(y * 31 + x * 7 + c) % 256 for c in range(3)] for x in range(3)] for y in range(2)], dtype=np.uint8)


@pytest.mark.parametrize(
    "copy",
    [
        pytest.param(np.ascontiguousarray, id="np.ascontiguousarray"),
        pytest.param(lambda x: memoryview(x).tobytes(), id="memoryview-tobytes"),
        pytest.param(bytes, id="bytes"),
        pytest.param(bx.contiguous_copy, id="rust-contiguous_copy"),
    ],
)
def test_a_contiguous_copy_reaches_them(copy):
    c = copy(padded_image())
    with memoryview(c) as m:
        assert m.c_contiguous
    pil = Image.frombuffer("RGB", (3, 2), c, "raw", "RGB", 0, 1)
    assert np.array_equal(np.asarray(pil), expected_pixels())
    assert hashlib.sha256(c).digest() == hashlib.sha256(expected_pixels().tobytes()).digest()
    assert io.BytesIO().write(c) == 18
    memoryview(c).cast("B")


def test_rust_contiguous_copy_keeps_shape_and_dtype():
    # `contiguous_copy` (examples/src/contiguous.rs: a view's `to_vec` into an `OwnedBuffer`)
    # keeps the shape, which `bytes` and `tobytes` lose; it is a copy, writable, and leaves
    # the source alone.
    img = padded_image()
    c = bx.contiguous_copy(img)
    a = np.asarray(c)
    assert a.shape == (2, 3, 3) and a.dtype == np.uint8 and a.strides == (9, 3, 1)
    assert np.array_equal(a, expected_pixels())
    a[0, 0, 0] = 255
    assert np.asarray(img)[0, 0, 0] == 0
    # Any strides, any shape: a reversed numpy view, 0-d, empty.
    rev = np.arange(10, dtype=np.uint8)[::-3]
    assert np.asarray(bx.contiguous_copy(rev)).tolist() == rev.tolist()
    assert np.asarray(bx.contiguous_copy(np.array(7, dtype=np.uint8))).shape == ()
    assert np.asarray(bx.contiguous_copy(bx.Image(0, 4, 3, 16))).shape == (0, 4, 3)
    with pytest.raises(TypeError, match="uint8"):
        bx.contiguous_copy(np.zeros(3, dtype=np.float64))


# --------------------------------------------------------------------------------------------
# Consumer side: a typed view refuses what its type excludes
# --------------------------------------------------------------------------------------------


def test_a_refused_view_argument_says_what_it_expected_and_got():
    with pytest.raises(TypeError, match=r"^src: expected a buffer of uint8 \('B'\), got .*'<f8'"):
        bx.contiguous_copy(np.zeros((2, 2)))
    # The fix: convert on the Python side.
    assert np.asarray(bx.contiguous_copy(np.zeros((2, 2)).astype(np.uint8))).shape == (2, 2)
