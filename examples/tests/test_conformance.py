"""The conformance kit (``buffer_examples.check_provider``, i.e. ``buffer_runtime::testing``)
over every example provider, over CPython's own exporters, and over providers that break the
rules: the kit must pass the first two and name what the last ones break."""

import array
import ctypes

import _testbuffer as tb
import numpy as np
import pytest

import buffer_examples as bx
from conftest import BROKEN_ON_PURPOSE, CASES

#: Providers not in conftest's CASES, with the constructor arguments to use.
EXTRA = {
    "Table-2x3": lambda: bx.Table(2, [0.5 * i for i in range(6)]),
    "Table-empty": lambda: bx.Table(0, []),
    "Readings-3": lambda: bx.Readings([1.0, -2.0, 3.5]),
    "Readings-empty": lambda: bx.Readings([]),
    "Particles-3": lambda: bx.Particles(3),
    "Particles-0": lambda: bx.Particles(0),
    "Samples-4": lambda: bx.Samples(4),
    "PackedSamples-5": lambda: bx.PackedSamples(5),
    "Pixels-2x3": lambda: bx.Pixels(2, 3),
    "TypedArray-f2-big-endian": lambda: bx.TypedArray(">f2", [1.0, -2.5]),
    "TypedArray-complex128": lambda: bx.TypedArray("complex128", [1 + 2j]),
    "TypedArray-bool": lambda: bx.TypedArray("bool", [True, False, True]),
    "TypedArray-uint64": lambda: bx.TypedArray("uint64", [0, 2**64 - 1]),
    "OwnedBuffer-3x4": lambda: bx.owned_range(12, (3, 4)),
    "OwnedBuffer-frozen": lambda: bx.owned_frozen(b"read-only"),
    "OwnedBuffer-0d": lambda: bx.owned_range(1, ()),
}

PROVIDERS = [pytest.param(c.make, id=c.id) for c in CASES] + [
    pytest.param(make, id=name) for name, make in EXTRA.items()
]


def has_getbuffer(cls):
    """Whether the type fills ``bf_getbuffer`` (``__buffer__`` is visible only from 3.12)."""
    get_slot = ctypes.pythonapi.PyType_GetSlot
    get_slot.restype = ctypes.c_void_p
    get_slot.argtypes = [ctypes.py_object, ctypes.c_int]
    return bool(get_slot(cls, 1))  # Py_bf_getbuffer == 1


def buffer_classes():
    return {
        name
        for name in dir(bx)
        if isinstance(getattr(bx, name), type) and has_getbuffer(getattr(bx, name)) and name not in BROKEN_ON_PURPOSE
    }


def test_every_example_class_is_checked():
    covered = {c.cls for c in CASES} | {name.split("-")[0] for name in EXTRA}
    assert len(buffer_classes()) >= 16
    missing = buffer_classes() - covered
    assert not missing, f"add these classes to EXTRA in test_conformance.py: {sorted(missing)}"


@pytest.mark.parametrize("make", PROVIDERS)
def test_example_is_conformant(make):
    obj = make()
    before = bytes(memoryview(obj).tobytes())
    report = bx.check_provider(obj)  # raises AssertionError with the report on any failure
    lines = report.splitlines()
    assert lines[0].startswith(f"buffer conformance of {type(obj).__name__}: ")
    assert " 0 failed" in lines[0]
    assert not any(line.lstrip().startswith("FAIL") for line in lines)
    # Every request combination was tried: 28 flag combinations plus 3 odd ones.
    assert sum("PyBUF_" in line for line in lines[1:]) >= 32
    # The kit writes a byte to check shared memory and must put it back.
    assert memoryview(obj).tobytes() == before


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: bytearray(b"abc"), id="bytearray"),
        pytest.param(lambda: b"xyz", id="bytes"),
        pytest.param(lambda: array.array("d", [1.5, 2.5]), id="array"),
        pytest.param(lambda: memoryview(bytearray(range(10)))[::3], id="memoryview-strided"),
        pytest.param(
            lambda: tb.ndarray(list(range(12)), shape=[3, 4], format="i", flags=tb.ND_WRITABLE),
            id="testbuffer-3x4",
        ),
        pytest.param(
            lambda: tb.ndarray(list(range(12)), shape=[3, 4], format="h", flags=tb.ND_FORTRAN),
            id="testbuffer-fortran",
        ),
    ],
)
def test_cpython_exporters_are_conformant(make):
    assert " 0 failed" in bx.check_provider(make()).splitlines()[0]


def test_numpy_refusing_with_valueerror_is_reported():
    # numpy refuses non-contiguous requests with ValueError, not CPython's BufferError.
    a = np.arange(6.0).reshape(2, 3)[:, ::2]
    with pytest.raises(AssertionError) as info:
        bx.check_provider(a)
    text = str(info.value)
    assert text.startswith("buffer conformance of ndarray: ")
    assert "FAIL  PyBUF_C_CONTIGUOUS " in text
    assert "refused with ValueError: ndarray is not C-contiguous; CPython's rule is BufferError" in text
    # What numpy does right still passes.
    assert "ok    PyBUF_STRIDES " in text


def test_non_buffer_object_is_reported():
    with pytest.raises(AssertionError, match="no bf_getbuffer slot"):
        bx.check_provider(object())


def test_report_explains_refusals_and_policy():
    report = bx.check_provider(bx.Image(3, 4, 3, 16))  # padded rows: not contiguous
    assert "ok    PyBUF_SIMPLE " in report
    simple = next(line for line in report.splitlines() if "  PyBUF_SIMPLE " in line)
    assert "refused: BufferError" in simple and "not C-contiguous" in simple
    contiguous = bx.check_provider(bx.IntArray([1, 2]))
    fmt = next(line for line in contiguous.splitlines() if "  PyBUF_FORMAT " in line)
    assert "refused (PyBUF_FORMAT without PyBUF_ND is a policy choice)" in fmt
    ro = bx.check_provider(bx.Frozen(b"abc"))
    writable = next(line for line in ro.splitlines() if "  PyBUF_WRITABLE " in line)
    assert "refused: BufferError" in writable and "read-only" in writable
    assert "note  a write through one view is seen by another" in ro
