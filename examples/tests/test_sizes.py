"""Sizes that come from Python never abort the interpreter or raise PanicException (issue:
`GrowableArray().resize(2**40)` aborted; `reserve(2**62)` raised PanicException). Each size
here is far beyond this machine's memory, so the allocator refuses at once."""

import pytest

import buffer_examples as bx

HUGE = [2**40, 2**50, 2**62, 2**63 - 1]


@pytest.mark.parametrize("n", HUGE + [2**64 - 1])
def test_growable_reserve_is_memory_error(n):
    g = bx.GrowableArray([1.0, 2.0])
    with pytest.raises((MemoryError, OverflowError)):
        g.reserve(n)
    assert g.tolist() == [1.0, 2.0]
    g.append(3.0)  # still usable
    assert g.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("n", HUGE)
def test_growable_resize_is_memory_error(n):
    g = bx.GrowableArray([1.0])
    with pytest.raises(MemoryError):
        g.resize(n)
    assert g.tolist() == [1.0]


@pytest.mark.parametrize("n", [2**64, -1])
def test_growable_sizes_outside_usize_are_overflow_errors(n):
    g = bx.GrowableArray()
    for method in (g.resize, g.reserve, g.truncate):
        with pytest.raises(OverflowError):
            method(n)


def test_growable_resize_while_exported_is_buffer_error_even_when_huge():
    g = bx.GrowableArray([1.0])
    with memoryview(g):
        with pytest.raises(BufferError):
            g.resize(2**40)
        with pytest.raises(BufferError):
            g.reserve(2**62)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: bx.Particles(2**40), id="Particles"),
        pytest.param(lambda: bx.Samples(2**40), id="Samples"),
        pytest.param(lambda: bx.PackedSamples(2**40), id="PackedSamples"),
        pytest.param(lambda: bx.Pixels(2**20, 2**20), id="Pixels"),
        pytest.param(lambda: bx.Image(2**20, 2**20, 1, 2**20), id="Image"),
        pytest.param(lambda: bx.IntMatrix(2**20, 2**20), id="IntMatrix"),
        pytest.param(lambda: bx.Grid([2**20, 2**20]), id="Grid"),
    ],
)
def test_huge_constructors_are_memory_or_value_errors(make):
    with pytest.raises((MemoryError, ValueError)):
        make()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: bx.Particles(2**63), id="Particles"),
        pytest.param(lambda: bx.Pixels(2**62, 4), id="Pixels"),
        pytest.param(lambda: bx.Samples(-1), id="Samples-negative"),
    ],
)
def test_sizes_past_the_address_space_are_clear_errors(make):
    with pytest.raises((MemoryError, ValueError, OverflowError)):
        make()


@pytest.mark.parametrize(
    "make, shape, strides",
    [
        # Strides of an empty buffer address nothing; a product past isize::MAX becomes 0
        # instead of wrapping (it was (8, -8) and (8, -8, 8)).
        pytest.param(lambda: bx.FortranMatrix(2**63 - 1, 0, []), (2**63 - 1, 0), (8, 0), id="FortranMatrix"),
        pytest.param(lambda: bx.Grid([0, 2**63 - 1, 2**63 - 1]), (0, 2**63 - 1, 2**63 - 1), (0, 0, 8), id="Grid"),
    ],
)
def test_strides_of_huge_empty_layouts_do_not_wrap(make, shape, strides):
    with memoryview(make()) as m:
        assert m.shape == shape
        assert m.strides == strides
        assert m.nbytes == 0
