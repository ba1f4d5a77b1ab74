"""``OwnedBuffer``: the runtime's ready provider class, through ``owned_range`` and
``owned_frozen`` (a ``Vec`` moved into a Python object, no class of its own)."""

import gc
import pickle
import struct

import numpy as np
import pytest

import buffer_examples as bx


def test_owned_range_is_int64_and_writable():
    r = bx.owned_range(5)
    assert type(r) is bx.OwnedBuffer
    m = memoryview(r)
    assert (m.format, m.itemsize, m.shape, m.strides, m.readonly) == ("q", 8, (5,), (8,), False)
    assert m.tolist() == [0, 1, 2, 3, 4]
    a = np.asarray(r)
    assert a.dtype == np.int64 and a.flags.writeable
    a[1] = -7  # numpy writes the object's own memory
    assert memoryview(r).tolist() == [0, -7, 2, 3, 4]


@pytest.mark.parametrize("shape", [(3, 4), (12,), (2, 3, 2), (1, 12, 1)])
def test_owned_range_reshapes_in_c_order(shape):
    a = np.asarray(bx.owned_range(12, shape))
    assert a.shape == shape and a.flags.c_contiguous
    assert (a == np.arange(12).reshape(shape)).all()


def test_owned_range_zero_and_zero_d():
    assert np.asarray(bx.owned_range(0)).shape == (0,)
    assert np.asarray(bx.owned_range(0, (3, 0))).shape == (3, 0)
    m = memoryview(bx.owned_range(1, ()))
    assert (m.ndim, m.shape, m.tolist()) == (0, (), 0)


@pytest.mark.parametrize("shape", [(5,), (3, 3), (0,), (2, 2, 2)])
def test_owned_range_refuses_a_shape_of_another_size(shape):
    with pytest.raises(ValueError, match="does not fit 6 elements"):
        bx.owned_range(6, shape)


@pytest.mark.parametrize("bad", [-1, 2**63, 2**64])
def test_owned_range_refuses_bad_sizes(bad):
    with pytest.raises((ValueError, OverflowError, MemoryError)):
        bx.owned_range(bad)


def test_owned_frozen_is_a_read_only_copy():
    src = bytearray(b"hello")
    f = bx.owned_frozen(src)
    m = memoryview(f)
    assert (m.format, m.shape, m.readonly, bytes(m)) == ("B", (5,), True, b"hello")
    src[0] = ord("J")  # a copy: the source may change
    assert bytes(f) == b"hello"
    with pytest.raises(TypeError, match="read-only"):
        memoryview(f)[0:1] = b"x"
    assert not np.asarray(f).flags.writeable
    for source in [b"", memoryview(b"abcdef")[::2].tobytes(), np.arange(3, dtype=np.int16), struct.pack("3d", 1, 2, 3)]:
        assert bytes(bx.owned_frozen(source)) == bytes(memoryview(source).cast("B"))
    with pytest.raises(TypeError):
        bx.owned_frozen(42)


def test_owned_buffer_keeps_its_memory_for_its_views():
    r = bx.owned_range(1000)
    view = memoryview(r)
    arr = np.asarray(r)
    del r
    gc.collect()
    assert view[999] == 999 and arr[500] == 500
    view.release()


def test_owned_buffer_is_conformant_and_pickles_by_name():
    for obj in [bx.owned_range(12, (3, 4)), bx.owned_frozen(b"xyz"), bx.owned_range(0)]:
        assert " 0 failed" in bx.check_provider(obj).splitlines()[0]
        assert bx.OwnedBuffer.__module__.startswith("buffer_examples")
        back = pickle.loads(pickle.dumps(obj, protocol=5))
        m, n = memoryview(obj), memoryview(back)
        assert (n.format, n.shape, n.strides, n.readonly, n.tolist()) == (m.format, m.shape, m.strides, m.readonly, m.tolist())


def test_owned_buffer_cannot_be_built_from_python():
    with pytest.raises(TypeError):
        bx.OwnedBuffer()
