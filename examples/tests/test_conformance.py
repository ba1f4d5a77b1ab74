"""The conformance kit (``buffer_examples.check_provider``, i.e. ``buffer_runtime::testing``)
over every example provider, over CPython's own exporters, and over providers that break the
rules: the kit must pass the first two and name what the last ones break. (Deliberately broken
C providers, one bug each: test_kit_catches_bugs.py.)

Each example provider of the registry (``providers.py``) is checked against an independent
reference of what it must hold, where the registry has one: ``Case.reference()``
(``_testbuffer.ndarray`` built from the specification) for the modelled cases, numpy arrays
written from the documented constructor semantics for records and typed arrays. Classes with
an ``exports()`` count also hand it to the kit.
"""

import array

import _testbuffer as tb
import numpy as np
import pytest

import buffer_examples as bx
from providers import REGISTRY, buffer_classes

PROVIDERS = [pytest.param(p.make, p.reference, id=p.id) for p in REGISTRY.values()]


def test_every_example_class_is_checked():
    covered = {p.cls for p in REGISTRY.values()}
    assert len(buffer_classes()) >= 16
    missing = buffer_classes() - covered
    assert not missing, f"add these classes to examples/tests/providers.py: {sorted(missing)}"


@pytest.mark.parametrize("make, reference", PROVIDERS)
def test_example_is_conformant(make, reference):
    obj = make()
    before = bytes(memoryview(obj).tobytes())
    kwargs = {}
    if reference is not None:
        kwargs["reference"] = reference()
    if callable(getattr(obj, "exports", None)):
        kwargs["exports"] = obj.exports
    report = bx.check_provider(obj, **kwargs)  # raises AssertionError with the report on any failure
    lines = report.splitlines()
    assert lines[0].startswith(f"buffer conformance of {type(obj).__name__}: ")
    assert " 0 failed" in lines[0]
    assert not any(line.lstrip().startswith("FAIL") for line in lines)
    # Every request combination was tried: 28 flag combinations plus 17 odd ones.
    assert sum("PyBUF_" in line for line in lines[1:]) >= 45
    if reference is not None:
        assert "ok    contents against the reference" in report
    if "exports" in kwargs:
        assert "ok    export count" in report
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
        pytest.param(
            lambda: tb.ndarray(list(range(12)), shape=[3, 4], format="i", flags=tb.ND_PIL),
            id="testbuffer-PIL",
        ),
    ],
)
def test_cpython_exporters_are_conformant(make):
    report = bx.check_provider(make())
    assert " 0 failed" in report.splitlines()[0]
    if "(PIL-style)" in report.splitlines()[1]:  # the kit's policy: accepted under INDIRECT, never followed
        assert "note  consumers                                     not run: PIL-style" in report


def test_reference_mismatch_is_reported():
    # The reference comparison is not vacuous: one wrong element, a wrong type of the same size,
    # a wrong read-only flag each fail.
    with pytest.raises(AssertionError, match=r"element \[1\] is .* but the reference's is"):
        bx.check_provider(bx.IntArray([1, 2, 3]), reference=tb.ndarray([1, 5, 3], shape=[3], format="i", flags=tb.ND_WRITABLE))
    with pytest.raises(AssertionError, match=r"format \"i\" describes other items than the reference's \"f\""):
        bx.check_provider(bx.IntArray([1, 2, 3]), reference=tb.ndarray([1.0, 2.0, 3.0], shape=[3], format="f", flags=tb.ND_WRITABLE))
    with pytest.raises(AssertionError, match=r"readonly 1 but the reference's is 0"):
        bx.check_provider(bx.Frozen(b"abc"), reference=bytearray(b"abc"))


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
