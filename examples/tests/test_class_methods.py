"""The pickle, copy and DLPack methods ``#[buffer_methods]`` gives a class: CPython method
descriptors installed once, when the type is created (``class_methods.rs``), with the signatures
and argument errors of ordinary built-in methods."""

import copy
import inspect
import pickle
import sys

import numpy as np
import pytest

import buffer_examples as bx
from test_pickle import FACTORIES

CLASSES = sorted({type(make()) for make in FACTORIES.values()}, key=lambda c: c.__name__)
METHODS = {
    "__reduce_ex__": "(self, protocol, /)",
    "__copy__": "(self, /)",
    "__deepcopy__": "(self, memo, /)",
    "__dlpack__": "(self, /, *, stream=None, max_version=None, dl_device=None, copy=None)",
    "__dlpack_device__": "(self, /)",
}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_the_methods_are_cpython_descriptors_of_the_class(cls):
    for name, signature in METHODS.items():
        d = cls.__dict__[name]
        assert type(d).__name__ == "method_descriptor", name
        assert d.__objclass__ is cls
        assert d.__qualname__ == f"{cls.__qualname__}.{name}"
        assert str(inspect.signature(d)) == signature
    restore = cls.__dict__["_buffer_restore"]
    assert type(restore).__name__ == "classmethod_descriptor"
    assert str(inspect.signature(cls._buffer_restore)) == "(data, meta, fields, /)"
    assert cls._buffer_restore.__self__ is cls


def test_argument_errors_are_type_errors():
    m = bx.IntMatrix(2, 3)
    with pytest.raises(TypeError, match="takes no positional arguments"):
        m.__dlpack__(None)
    with pytest.raises(TypeError, match="unexpected keyword argument 'strem'"):
        m.__dlpack__(strem=None)
    with pytest.raises(TypeError, match="'protocol' must be int, not str"):
        m.__reduce_ex__("5")
    with pytest.raises(TypeError, match="doesn't apply to a 'buffer_examples.Frozen' object"):
        bx.IntMatrix.__reduce_ex__(bx.Frozen(b"a"), 5)
    with pytest.raises(TypeError, match="doesn't apply"):
        bx.IntMatrix.__dlpack__(bytearray(4))
    with pytest.raises(TypeError, match=r"exactly 3 arguments \(2 given\)"):
        bx.IntMatrix._buffer_restore(bytes(48), None)
    with pytest.raises(TypeError, match="tuple"):
        bx.IntMatrix._buffer_restore(bytes(48), None, [2, 3])
    with pytest.raises(TypeError):
        m.__copy__(1)
    with pytest.raises(TypeError):
        m.__deepcopy__()


def test_called_through_the_class_or_the_instance_alike():
    m = bx.IntMatrix(2, 2, [1, 2, 3, 4])
    assert np.array_equal(np.asarray(bx.IntMatrix.__copy__(m)), np.asarray(m))
    assert np.array_equal(np.asarray(bx.IntMatrix.__deepcopy__(m, {})), np.asarray(m))
    restore, args = bx.IntMatrix.__reduce_ex__(m, 4)
    assert np.array_equal(np.asarray(restore(*args)), np.asarray(m))
    assert pickle.loads(pickle.dumps(restore)) == bx.IntMatrix._buffer_restore


def test_dlpack_keywords_take_none_as_their_default():
    m = bx.IntMatrix(2, 2, [1, 2, 3, 4])
    plain = repr(m.__dlpack__()).split(" at ")[0]
    assert repr(m.__dlpack__(stream=None, max_version=None, dl_device=None, copy=None)).split(" at ")[0] == plain
    versioned = repr(m.__dlpack__(max_version=(1, 0))).split(" at ")[0]
    assert "versioned" in versioned and "versioned" not in plain
    assert m.__dlpack_device__() == (1, 0)


def test_no_reference_is_kept_or_lost_on_success_or_error():
    m = bx.IntMatrix(2, 3)
    memo = {}
    protocol = 10**30  # an int object of its own, not a cached small int
    before = (sys.getrefcount(m), sys.getrefcount(memo), sys.getrefcount(protocol))
    for _ in range(2000):
        m.__reduce_ex__(5)
        copy.copy(m)
        m.__deepcopy__(memo)
        memo.clear()
        m.__dlpack__()
        m.__dlpack_device__()
        for error, bad in ((TypeError, lambda: m.__dlpack__(foo=1)),
                           (OverflowError, lambda: m.__reduce_ex__(protocol)),
                           (ValueError, lambda: bx.IntMatrix._buffer_restore(bytes(3), None, (2, 3)))):
            with pytest.raises(error):
                bad()
    assert (sys.getrefcount(m), sys.getrefcount(memo), sys.getrefcount(protocol)) == before


def test_an_immutable_type_gets_them_before_it_is_frozen():
    # Frozen is `#[pyclass(immutable_type)]`: its dict cannot be written once PyO3 has made it,
    # so the methods must have been installed while the type was being created.
    if not hasattr(bx.Frozen, "__flags__") or not bx.Frozen.__flags__ & (1 << 8):
        pytest.skip("immutable_type is not applied by this build (abi3 before 3.14)")
    with pytest.raises(TypeError, match="immutable type"):
        bx.Frozen.extra = 1
    f = bx.Frozen(b"abc")
    assert type(bx.Frozen.__dict__["__reduce_ex__"]).__name__ == "method_descriptor"
    assert bytes(pickle.loads(pickle.dumps(f, protocol=5))) == b"abc"
    assert bytes(copy.deepcopy(f)) == b"abc"
