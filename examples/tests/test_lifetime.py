"""Export lifetime: shared memory between views, mutation locks, owner lifetime, refcounts."""

import gc
import sys

import _testbuffer as tb
import numpy as np
import pytest

import buffer_examples as bx
from cases import flatten
from providers import CASES, case_params

pytestmark = pytest.mark.usefixtures("cheap_gc")

WRITABLE_NONEMPTY = case_params(lambda c: not c.readonly and c.size > 0)


def one_case_per_class():
    seen = {}
    for c in CASES:
        if c.size > 1 and c.cls not in seen:
            seen[c.cls] = c
    for c in CASES:  # classes whose only cases are tiny (Scalar)
        seen.setdefault(c.cls, c)
    return [pytest.param(c, id=c.cls) for c in seen.values()]


def first_and_last(shape):
    if not shape:
        return [()]
    return [tuple(0 for _ in shape), tuple(d - 1 for d in shape)]


def set_item(m, idx, value):
    if m.ndim == 1:
        m[idx[0]] = value
    else:
        m[idx] = value


def get_item(m, idx):
    return m[idx[0]] if m.ndim == 1 else m[idx]


# --------------------------------------------------------------------------------------------
# Views share the object's memory
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", WRITABLE_NONEMPTY)
def test_write_through_one_view_is_seen_by_others(case):
    obj = case.make()
    m1 = memoryview(obj)
    a = np.asarray(obj)
    nd = tb.ndarray(obj, getbuf=tb.PyBUF_FULL)
    values = iter([11, 22, 33, 44, 55, 66])
    for idx in first_and_last(case.shape):
        v = next(values)
        set_item(m1, idx, v)
        assert a[idx] == v
        assert get_item(memoryview(nd), idx) == v
        v = next(values)
        a[idx] = v
        assert get_item(m1, idx) == v
        m3 = memoryview(obj)  # a view created afterwards sees it too
        assert get_item(m3, idx) == v
        m3.release()
        v = next(values)
        set_item(memoryview(nd), idx, v)
        assert get_item(m1, idx) == v and a[idx] == v
    expected = a.tolist()
    if hasattr(obj, "tolist"):
        assert obj.tolist() == expected
    if case.cls == "GrowableArray":
        assert obj.sum() == pytest.approx(sum(flatten(expected)))
    m1.release()
    del a, nd


# --------------------------------------------------------------------------------------------
# Mutation is locked while a view is alive (IntArray, GrowableArray)
# --------------------------------------------------------------------------------------------

GROWABLE = {
    "IntArray": (lambda: bx.IntArray([1, 2, 3]), [1, 2, 3], 4),
    "GrowableArray": (lambda: bx.GrowableArray([1.5, 2.5, 3.5]), [1.5, 2.5, 3.5], 4.5),
}


def _view_makers():
    return {
        "memoryview": lambda o: memoryview(o),
        "numpy": lambda o: np.asarray(o),
        "testbuffer": lambda o: tb.ndarray(o, getbuf=tb.PyBUF_FULL_RO),
        "memoryview-slice": lambda o: memoryview(o)[1:],
        "numpy-view": lambda o: np.asarray(o)[::2],
    }


@pytest.mark.parametrize("view", list(_view_makers()))
@pytest.mark.parametrize("cls", list(GROWABLE))
def test_append_refused_while_view_alive(cls, view):
    make, values, extra = GROWABLE[cls]
    obj = make()
    v = _view_makers()[view](obj)
    with pytest.raises(BufferError):
        obj.append(extra)
    assert len(obj) == len(values)
    assert memoryview(obj).tolist() == values
    expected_view = {"memoryview-slice": values[1:], "numpy-view": values[::2]}.get(view, values)
    assert np.asarray(v).tolist() == expected_view  # the live view still reads the old data
    del v  # released at once by reference counting: no gc.collect() needed
    obj.append(extra)
    assert len(obj) == len(values) + 1
    assert memoryview(obj).tolist() == values + [extra]


@pytest.mark.parametrize("cls", list(GROWABLE))
@pytest.mark.parametrize("how", ["del", "release", "with"])
def test_append_works_after_release(cls, how):
    make, values, extra = GROWABLE[cls]
    obj = make()
    if how == "with":
        with memoryview(obj) as m:
            with pytest.raises(BufferError):
                obj.append(extra)
            assert m.tolist() == values
    else:
        m = memoryview(obj)
        with pytest.raises(BufferError):
            obj.append(extra)
        if how == "del":
            del m
        else:
            m.release()
    obj.append(extra)
    obj.append(extra)
    assert memoryview(obj).tolist() == values + [extra, extra]
    if hasattr(obj, "tolist"):
        assert obj.tolist() == values + [extra, extra]


@pytest.mark.parametrize("cls", list(GROWABLE))
def test_lock_counts_views(cls):
    """Releasing one of two views must not unlock the object."""
    make, values, extra = GROWABLE[cls]
    obj = make()
    m1 = memoryview(obj)
    m2 = memoryview(obj)
    a = np.asarray(obj)
    m1.release()
    with pytest.raises(BufferError):
        obj.append(extra)
    del a
    with pytest.raises(BufferError):
        obj.append(extra)
    m2.release()
    obj.append(extra)
    assert memoryview(obj).tolist() == values + [extra]


@pytest.mark.parametrize("extra", [1, 10_000], ids=["within-capacity", "reallocating"])
def test_growable_extend_while_view_alive_is_refused(extra):
    """extend under a live view is refused (BufferError, like bytearray's resize), whether or
    not it would move the block, and the contents stay as they were."""
    g = bx.GrowableArray([1.0, 2.0])
    g.reserve(100)  # room for "within-capacity": no reallocation needed, still refused
    m = memoryview(g)
    with pytest.raises(BufferError):
        g.extend([float(i) for i in range(extra)])
    assert len(g) == 2
    assert m.tolist() == [1.0, 2.0]
    m.release()
    g.extend([3.0, 4.0])
    assert memoryview(g).tolist()[-2:] == [3.0, 4.0]


def test_growable_grows_then_exports_new_contents():
    g = bx.GrowableArray([])
    assert memoryview(g).tolist() == []
    vals = [float(i) * 0.5 for i in range(5000)]
    g.extend(vals)
    for v in (1.0, 2.0):
        g.append(v)
    assert len(g) == 5002
    assert g.sum() == pytest.approx(sum(vals) + 3.0)
    a = np.asarray(g)
    assert a.shape == (5002,)
    assert a[:5000].tolist() == vals and a[-2:].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("cls", list(GROWABLE))
def test_failed_export_does_not_lock(cls):
    make, values, extra = GROWABLE[cls]
    obj = make()
    for flags in (tb.PyBUF_FORMAT, tb.PyBUF_FORMAT | tb.PyBUF_WRITABLE):
        for _ in range(3):
            with pytest.raises(BufferError):
                tb.ndarray(obj, getbuf=flags)
    obj.append(extra)
    assert memoryview(obj).tolist() == values + [extra]


# --------------------------------------------------------------------------------------------
# GrowableArray.exports()
# --------------------------------------------------------------------------------------------


def test_growable_exports_counts_live_views():
    g = bx.GrowableArray([1.0, 2.0, 3.0])
    assert g.exports() == 0
    views = [memoryview(g) for _ in range(3)]
    assert g.exports() == 3
    views[1].release()
    assert g.exports() == 2
    sliced = views[0][1:]  # shares views[0]'s export
    assert g.exports() == 2
    del views[0]
    assert g.exports() == 2  # the slice keeps that export alive
    del sliced
    assert g.exports() == 1
    a = np.asarray(g)
    assert g.exports() == 2
    nd = tb.ndarray(g, getbuf=tb.PyBUF_STRIDED)
    assert g.exports() == 3
    del a, nd
    views.clear()
    assert g.exports() == 0
    for flags in (tb.PyBUF_FORMAT, tb.PyBUF_FORMAT | tb.PyBUF_WRITABLE):
        with pytest.raises(BufferError):
            tb.ndarray(g, getbuf=flags)
    assert g.exports() == 0
    g.append(4.0)
    assert g.sum() == 10.0


# --------------------------------------------------------------------------------------------
# The owner may die before its views
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params())
def test_view_outlives_owner(case):
    m = memoryview(case.make())
    a = np.asarray(case.make())
    nd = tb.ndarray(case.make(), getbuf=tb.PyBUF_FULL_RO)
    gc.collect()
    # Churn the allocator so that freed memory would be reused and overwritten.
    junk = [case.make() for _ in range(20)]
    junk += [bytearray(b"\xa5" * max(case.nbytes, 64)) for _ in range(50)]
    for o in junk[:20]:
        if not case.readonly and case.size:
            np.asarray(o)[...] = 0
    del junk
    assert m.tolist() == case.logical
    assert a.tolist() == case.logical
    assert nd.tolist() == case.logical
    assert m.obj is not None and type(m.obj).__name__ == case.cls
    if not case.readonly and case.size:
        idx = first_and_last(case.shape)[-1]
        set_item(m, idx, 1)
        assert get_item(m, idx) == 1
    m.release()


def test_owner_dies_with_numpy_view_of_image():
    img_view = np.asarray(bx.Image(5, 6, 3, 32))[1:, ::2]
    gc.collect()
    for y in range(4):
        for x in range(3):
            for c in range(3):
                assert img_view[y, x, c] == ((y + 1) * 31 + (2 * x) * 7 + c) % 256


@pytest.mark.parametrize("last", ["memoryview", "numpy", "both", "none"])
def test_foreign_memory_is_given_back_when_the_last_user_goes(last):
    """The exports of a SharedBlock share one count of its block (shared/py_exports.rs): it
    must go back with the last of them, whatever the order, or the bytearray whose memory the
    block uses would stay locked (refusing to resize) forever."""
    for _ in range(200):
        ba = bytearray(24)
        m = bx.IntMatrix.from_buffer(ba, 2, 3)
        v = memoryview(m) if last in ("memoryview", "both") else None
        a = np.asarray(m) if last in ("numpy", "both") else None
        for _ in range(3):  # exports and releases that leave the count pinned
            memoryview(m).release()
        with pytest.raises(BufferError):
            ba.append(1)
        del m  # the views keep the matrix alive
        gc.collect()
        if v is not None or a is not None:
            with pytest.raises(BufferError):
                ba.append(1)
        if v is not None:
            v.release()
        del a
        gc.collect()
        ba.append(1)  # the block and its export of `ba` are gone
        assert len(ba) == 25


def test_growable_resizes_after_pinned_exports_and_counts_exactly():
    g = bx.GrowableArray([0.0] * 8)
    views = [memoryview(g) for _ in range(5)]
    arrays = [np.asarray(g) for _ in range(3)]
    assert g.exports() == 8
    for i, v in enumerate(views):
        v.release()
        assert g.exports() == 8 - i - 1
    del arrays
    gc.collect()
    assert g.exports() == 0
    g.append(1.0)  # the pin goes back: the vector is unique again
    assert len(memoryview(g)) == 9


# --------------------------------------------------------------------------------------------
# Reference counts
# --------------------------------------------------------------------------------------------

CYCLES = 10_000


@pytest.mark.parametrize("case", one_case_per_class())
def test_refcount_stable_over_export_cycles(case):
    obj = case.make()
    before = sys.getrefcount(obj)
    for _ in range(CYCLES):
        m = memoryview(obj)
        m.release()
    for _ in range(CYCLES // 10):
        del m
        m = memoryview(obj)
        a = np.asarray(obj)
        nd = tb.ndarray(obj, getbuf=tb.PyBUF_RECORDS_RO)
        del a, nd
        with memoryview(obj) as m2:
            m2.tobytes()
    del m
    gc.collect()
    assert sys.getrefcount(obj) == before
    if case.cls == "GrowableArray":
        assert obj.exports() == 0


FAILING = [
    pytest.param(lambda: bx.Frozen(b"abc"), tb.PyBUF_WRITABLE, id="Frozen-WRITABLE"),
    pytest.param(lambda: bx.Frozen(b"abc"), tb.PyBUF_FULL, id="Frozen-FULL"),
    pytest.param(lambda: bx.FortranMatrix(2, 3, [1.0] * 6), tb.PyBUF_C_CONTIGUOUS, id="FortranMatrix-C_CONTIGUOUS"),
    pytest.param(lambda: bx.FortranMatrix(2, 3, [1.0] * 6), tb.PyBUF_SIMPLE, id="FortranMatrix-SIMPLE"),
    pytest.param(lambda: bx.Image(3, 4, 3, 16), tb.PyBUF_ND, id="Image-padded-ND"),
    pytest.param(lambda: bx.Image(3, 4, 3, 16), tb.PyBUF_ANY_CONTIGUOUS, id="Image-padded-ANY_CONTIGUOUS"),
    pytest.param(lambda: bx.IntArray([1, 2]), tb.PyBUF_FORMAT, id="IntArray-FORMAT"),
    pytest.param(lambda: bx.Grid([2, 3], "F"), tb.PyBUF_CONTIG_RO, id="Grid-F-CONTIG_RO"),
    pytest.param(lambda: bx.Grid([2, 3], "C"), tb.PyBUF_F_CONTIGUOUS, id="Grid-C-F_CONTIGUOUS"),
    pytest.param(lambda: bx.Mat4(), tb.PyBUF_F_CONTIGUOUS, id="Mat4-F_CONTIGUOUS"),
    pytest.param(lambda: bx.Scalar(1.0), tb.PyBUF_FORMAT, id="Scalar-FORMAT"),
    pytest.param(lambda: bx.GrowableArray([1.0]), tb.PyBUF_FORMAT | tb.PyBUF_WRITABLE, id="GrowableArray-FORMAT"),
    pytest.param(lambda: bx.IntMatrix(2, 2), -1, id="IntMatrix-minus1"),
]


@pytest.mark.parametrize("make, flags", FAILING)
def test_failed_exports_leave_refcount_unchanged(make, flags):
    obj = make()
    before = sys.getrefcount(obj)
    for _ in range(CYCLES // 10):
        with pytest.raises(BufferError):
            tb.ndarray(obj, getbuf=flags)
    gc.collect()
    assert sys.getrefcount(obj) == before
    # and the object is still fully usable
    m = memoryview(obj)
    assert m.nbytes == m.itemsize * (np.prod(m.shape, dtype=int) if m.shape else 1)
    m.release()
    if hasattr(obj, "exports"):
        assert obj.exports() == 0
    if hasattr(obj, "append"):
        obj.append(1)


@pytest.mark.parametrize("case", one_case_per_class())
def test_consumer_failure_paths_leave_refcount_unchanged(case):
    """Consumers that get a buffer and then fail for their own reasons must release it."""
    obj = case.make()
    before = sys.getrefcount(obj)
    for _ in range(1000):
        try:
            memoryview(obj).cast("B").cast("Q", (10**6,))  # wrong size: TypeError/ValueError
        except (TypeError, ValueError):
            pass
        m = memoryview(obj)
        try:
            m[10**9]  # out of range / unsupported index
        except (IndexError, TypeError, NotImplementedError):
            pass
        del m
    gc.collect()
    assert sys.getrefcount(obj) == before
    if case.cls == "GrowableArray":
        assert obj.exports() == 0


# --------------------------------------------------------------------------------------------
# Exports attempted *during* a mutation (from Python code the mutation calls back into)
# --------------------------------------------------------------------------------------------


class ExportsOnConversion:
    """A number whose conversion (__float__/__index__) exports the target object."""

    def __init__(self, target, value):
        self.target = target
        self.value = value
        self.view = None

    def _grab(self):
        try:
            self.view = memoryview(self.target)
        except BufferError:
            self.view = None

    def __float__(self):
        self._grab()
        return float(self.value)

    def __index__(self):
        self._grab()
        return int(self.value)


@pytest.mark.parametrize("cls", list(GROWABLE))
def test_export_during_append_is_safe(cls):
    """Either the export inside the conversion is refused, or append is refused because a view
    is alive; never both succeed (that would reallocate under a live view)."""
    make, values, extra = GROWABLE[cls]
    obj = make()
    items = [ExportsOnConversion(obj, 5) for _ in range(300)]
    appended = 0
    for it in items:
        try:
            obj.append(it)
            appended += 1
            assert it.view is None, "append succeeded while a view exported during it is alive"
        except BufferError:
            pass
    views = [it.view for it in items if it.view is not None]
    assert len(obj) == len(values) + appended
    current = memoryview(obj).tolist()
    for v in views:
        assert v.tolist() == current[: len(v)]
    del views, items
    if cls == "GrowableArray":
        assert obj.exports() == 0
    obj.append(extra)
    assert len(obj) == len(values) + appended + 1


def test_export_during_extend_is_safe():
    g = bx.GrowableArray([1.0])
    items = [ExportsOnConversion(g, i) for i in range(2000)]
    try:
        g.extend(items)
        extended = True
    except BufferError:
        extended = False
    views = [it.view for it in items if it.view is not None]
    if extended:
        assert not views, "extend succeeded although views were created during it"
        assert memoryview(g).tolist() == [1.0] + [float(i) for i in range(2000)]
    else:
        assert memoryview(g).tolist()[:1] == [1.0]
        for v in views:
            assert v.tolist() == memoryview(g).tolist()[: len(v)]
    del views, items
    assert g.exports() == 0
    g.append(3.0)
    assert memoryview(g).tolist()[-1] == 3.0
