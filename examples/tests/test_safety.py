"""Export safety of writable, growable storage (``SharedVec`` behind ``GrowableArray``):
``bytearray``'s rule under every kind of view, every mutator, failed requests, owner death,
re-entrant callbacks and reference cycles."""

from __future__ import annotations

import ctypes
import gc
import itertools
import pathlib
import random
import sys
import weakref

import _testbuffer as tb
import numpy as np
import pytest

import buffer_examples as bx

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "stress"))
import stress  # noqa: E402

RESIZE_MSG = "Existing exports of data: object cannot be re-sized"
VALUES = [1.5, -2.0, 3.25, 4.0, 5.5, -6.75]

# Every GrowableArray method that may move or resize the memory, with arguments that would
# change the contents if it ran.
MUTATORS = {
    "append": lambda g: g.append(9.0),
    "extend": lambda g: g.extend([9.0, 10.0]),
    "extend-empty": lambda g: g.extend([]),
    "insert": lambda g: g.insert(1, 9.0),
    "pop": lambda g: g.pop(),
    "pop-0": lambda g: g.pop(0),
    "resize-grow": lambda g: g.resize(100, 1.0),
    "resize-shrink": lambda g: g.resize(2),
    "truncate": lambda g: g.truncate(1),
    "clear": lambda g: g.clear(),
    "reserve": lambda g: g.reserve(1 << 16),
    "shrink_to_fit": lambda g: g.shrink_to_fit(),
    "replace": lambda g: g.replace([7.0]),
    "take": lambda g: g.take(),
    "swap": lambda g: g.swap(bx.GrowableArray([7.0])),
    "swap-other-side": lambda g: bx.GrowableArray([7.0]).swap(g),
}


def view_memoryview(g):
    return [memoryview(g)]


def view_numpy(g):
    return [np.asarray(g)]


def view_nested_slices(g):
    # Only the slice chain stays alive: it keeps the one export of its base view.
    return [memoryview(g)[::-1][1:][::2]]


def view_numpy_of_memoryview(g):
    return [np.asarray(memoryview(g))[1:]]


def view_many(g):
    return [memoryview(g), np.asarray(g), memoryview(g)[::2], memoryview(np.asarray(g))]


VIEWS = {
    f.__name__[5:]: f
    for f in (view_memoryview, view_numpy, view_nested_slices, view_numpy_of_memoryview, view_many)
}


def snapshot(g):
    """Everything a resize could change: contents, bytes, length, capacity, data address."""
    a = np.asarray(g)
    state = (g.tolist(), a.tobytes(), len(g), g.capacity(), a.__array_interface__["data"][0])
    del a
    return state


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("mutator", list(MUTATORS))
def test_mutator_refused_while_exported_and_contents_unchanged(mutator, view):
    g = bx.GrowableArray(VALUES)
    g.shrink_to_fit()  # so that shrink_to_fit would move the block if it ran
    g.reserve(0)
    views = VIEWS[view](g)
    exports = g.exports()
    assert exports >= 1
    before = snapshot(g)
    seen = [bytes(v) for v in views]
    with pytest.raises(BufferError, match=RESIZE_MSG):
        MUTATORS[mutator](g)
    assert snapshot(g) == before
    assert g.exports() == exports
    assert [bytes(v) for v in views] == seen  # the views still see the same bytes
    del views
    assert g.exports() == 0
    MUTATORS[mutator](g)  # allowed again


def test_refused_mutation_bytes_identical_through_the_view():
    g = bx.GrowableArray(VALUES)
    m = memoryview(g)
    raw = m.tobytes()
    for name, mutate in MUTATORS.items():
        with pytest.raises(BufferError, match=RESIZE_MSG):
            mutate(g)
        assert m.tobytes() == raw, name
    m.release()


def test_intarray_append_refused_while_exported():
    a = bx.IntArray([1, 2, 3])
    with memoryview(a) as m:
        with pytest.raises(BufferError, match=RESIZE_MSG):
            a.append(4)
        assert a.tolist() == [1, 2, 3] and m.tolist() == [1, 2, 3]
    a.append(4)
    assert a.tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize("view", ["memoryview", "numpy"])
def test_growable_array_while_viewed(view):
    """The issue's contract for GrowableArray, through a memoryview and through numpy."""
    g = bx.GrowableArray([1.0, 2.0, 3.0])
    v = memoryview(g) if view == "memoryview" else np.asarray(g)
    assert g.exports() == 1
    v[0] = 10.0
    v[2] = -3.0
    assert len(g) == 3
    assert g.sum() == 9.0
    assert g.tolist() == [10.0, 2.0, -3.0]
    g[1] = 20.0  # in-place writes stay allowed, and the view sees them
    assert v[1] == 20.0
    with pytest.raises(BufferError, match=RESIZE_MSG):
        g.append(4.0)
    assert g.tolist() == [10.0, 20.0, -3.0] and len(g) == 3
    if view == "memoryview":
        v.release()
    else:
        del v
    assert g.exports() == 0
    g.append(4.0)
    assert g.tolist() == [10.0, 20.0, -3.0, 4.0]
    assert np.asarray(g).tolist() == [10.0, 20.0, -3.0, 4.0]


def test_with_memoryview_releases():
    g = bx.GrowableArray([1.0])
    with memoryview(g) as m:
        assert g.exports() == 1
        with memoryview(g) as m2:
            assert g.exports() == 2
            m2[0] = 5.0
        assert g.exports() == 1
        assert m[0] == 5.0
    assert g.exports() == 0
    with pytest.raises(ValueError):
        m[0]
    g.append(2.0)


MAKERS = {
    "memoryview": lambda g: memoryview(g),
    "nested-slices": lambda g: memoryview(g)[::2][1:][::-1],
    "numpy": lambda g: np.asarray(g),
    "numpy-reversed": lambda g: np.asarray(g)[::-1],
    "memoryview-of-numpy": lambda g: memoryview(np.asarray(g)),
    "numpy-of-memoryview": lambda g: np.asarray(memoryview(g)),
}

#: What each maker's view of GrowableArray(range(10)) holds, by the same slicing of a list.
MAKER_VALUES = {
    "memoryview": list(range(10)),
    "nested-slices": list(range(10))[::2][1:][::-1],
    "numpy": list(range(10)),
    "numpy-reversed": list(range(10))[::-1],
    "memoryview-of-numpy": list(range(10)),
    "numpy-of-memoryview": list(range(10)),
}


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(MAKERS)))), ids=str)
def test_many_exports_released_in_any_order(order):
    g = bx.GrowableArray([float(i) for i in range(10)])
    views = {name: make(g) for name, make in MAKERS.items()}
    names = list(views)
    # Each maker starts from the object itself, so each holds exactly one export.
    assert g.exports() == len(views)
    for k, i in enumerate(order, 1):
        del views[names[i]]
        assert g.exports() == len(MAKERS) - k
        if views:
            with pytest.raises(BufferError):
                g.append(0.0)
        # Still readable, and still the object's values (a generator: no loop variable
        # outlives it to keep a view alive).
        assert all(np.asarray(views[n]).tolist() == [float(x) for x in MAKER_VALUES[n]] for n in views)
    assert g.exports() == 0
    g.append(10.0)
    assert len(g) == 11


def test_explicit_release_of_base_view_keeps_slice_export():
    g = bx.GrowableArray([1.0, 2.0, 3.0, 4.0])
    m = memoryview(g)
    s = m[1:]
    t = s[::2]
    m.release()
    assert g.exports() == 1  # the slices share the base view's one export
    t[0] = 20.0
    assert g[1] == 20.0
    s.release()
    assert g.exports() == 1
    t.release()
    assert g.exports() == 0


def test_random_interleaving_of_exports_and_releases():
    rng = random.Random(1234)
    g = bx.GrowableArray([0.0] * 8)
    live = []
    for step in range(3000):
        if live and rng.random() < 0.5:
            v = live.pop(rng.randrange(len(live)))
            if isinstance(v, memoryview) and rng.random() < 0.5:
                v.release()
            del v
        else:
            live.append(rng.choice(list(MAKERS.values()))(g))
        assert g.exports() == len(live)
        if not live:
            g.append(float(step))
            g.pop()
    live.clear()
    assert g.exports() == 0


@pytest.mark.parametrize("name", list(stress.FACTORIES))
def test_owner_dropped_while_views_live(name):
    obj = stress.FACTORIES[name]()
    expected = memoryview(obj).tobytes()  # raw bytes: records have no memoryview.tolist()
    m = memoryview(obj)
    a = np.asarray(obj)
    s = memoryview(obj)[::-1] if m.ndim else None
    del obj
    gc.collect()
    assert m.tobytes() == expected
    assert a.tobytes() == expected
    if s is not None:
        assert s[::-1].tobytes() == expected
    if not m.readonly and m.ndim == 1 and len(m) and m.format in "bBhHiIlLqQnNfd":
        # Writes through one view are seen by the others (the owner lives on in view.obj).
        m[0] = 1
        assert a[0] == 1
    owner = weakref.ref(m.obj) if name == "GrowableArray" else None
    del m, a, s
    gc.collect()
    if owner is not None:
        assert owner() is None  # freed once the last view is gone


def test_owner_dropped_then_views_released_in_reverse():
    g = bx.GrowableArray([1.0, 2.0])
    owner = weakref.ref(g)
    views = [memoryview(g), np.asarray(g), memoryview(g)[1:]]
    del g
    gc.collect()
    assert owner() is not None and owner().exports() == 3
    while views:
        views.pop()
        gc.collect()
        if views:
            assert owner().exports() == len(views)
    assert owner() is None


# Requests each provider must refuse (CPython's PyBUF_* flags, through _testbuffer).
FAILING = {
    "Frozen-writable": (lambda: bx.Frozen(b"abc"), tb.PyBUF_WRITABLE),
    "Table-writable": (lambda: bx.Table(1, [1.0, 2.0, 3.0]), tb.PyBUF_FULL),
    "Readings-writable": (lambda: bx.Readings([1.0]), tb.PyBUF_CONTIG),
    "Growable-format-without-nd": (lambda: bx.GrowableArray([1.0]), tb.PyBUF_FORMAT),
    "IntMatrix-f-contiguous": (lambda: bx.IntMatrix(2, 3), tb.PyBUF_F_CONTIGUOUS),
    "FortranMatrix-c-contiguous": (lambda: bx.FortranMatrix(2, 3, [0.0] * 6), tb.PyBUF_C_CONTIGUOUS),
    "Image-padded-without-strides": (lambda: bx.Image(3, 4, 3, 16), tb.PyBUF_ND),
}


@pytest.mark.parametrize("case", list(FAILING))
def test_failed_exports_leak_nothing_and_keep_the_count(case):
    make, flags = FAILING[case]
    obj = make()
    keep = memoryview(obj)  # a live export, whose count must survive the failures
    # The provider's own count where its storage keeps one (shared storage); plain storage
    # keeps none: a mutable class's export holds a shared borrow (Readings.exported()), a
    # frozen class's export holds only its reference to the object, which getrefcount counts.
    if hasattr(obj, "exports"):
        count = obj.exports
    elif hasattr(obj, "exported"):
        count = obj.exported
    else:
        assert type(obj) in (bx.Frozen, bx.Table), type(obj)
        count = lambda: "no count: frozen plain storage"  # noqa: E731
    before = (sys.getrefcount(obj), count())
    assert before[1] in (1, True, "no count: frozen plain storage"), before
    for _ in range(1000 // stress.SCALE):  # warm-up: exception and allocator caches
        with pytest.raises(BufferError):
            tb.ndarray(obj, getbuf=flags)
    gc.collect()
    rss0 = stress.rss_bytes()
    for _ in range(100_000 // stress.SCALE):
        try:
            tb.ndarray(obj, getbuf=flags)
        except BufferError:
            pass
        else:
            pytest.fail("the request was served")
    gc.collect()
    assert stress.rss_ok(stress.rss_bytes() - rss0)
    assert (sys.getrefcount(obj), count()) == before
    keep.release()
    if hasattr(obj, "exports"):
        assert obj.exports() == 0
    if isinstance(obj, bx.Readings):
        assert not obj.exported()
        obj.clear()  # no shared borrow was left behind by the failures
    if isinstance(obj, bx.GrowableArray):
        obj.append(2.0)


# Requests the fast slot's quick try cannot finish (a contiguity check, a subclass, an empty
# record pool): it gives up and the general export serves them. What the quick try took (a
# borrow, a record) must be given back, and the general export's own must be released.
HANDED_ON = {
    "FortranMatrix-f-contiguous": (
        lambda: bx.FortranMatrix(2, 3, [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]),
        tb.PyBUF_F_CONTIGUOUS | tb.PyBUF_FORMAT,
        0,
    ),
    "Readings-f-contiguous": (
        lambda: bx.Readings([1.0, 2.0]),
        tb.PyBUF_F_CONTIGUOUS | tb.PyBUF_FORMAT,
        0,
    ),
    "Table-f-contiguous": (
        lambda: bx.Table(1, [1.0, 2.0, 3.0]),
        tb.PyBUF_F_CONTIGUOUS | tb.PyBUF_FORMAT,
        0,
    ),
    "Table-pool-empty": (lambda: bx.Table(2, [1.0] * 6), tb.PyBUF_FULL_RO, 20),
    "Readings-pool-empty": (lambda: bx.Readings([1.0, 2.0]), tb.PyBUF_FULL_RO, 20),
}


@pytest.mark.parametrize("case", list(HANDED_ON))
def test_exports_the_quick_try_hands_on_leak_nothing(case):
    make, flags, live = HANDED_ON[case]
    obj = make()
    want = memoryview(obj).tolist()
    # More live record exports than the pool holds (8): every new export needs a fresh one.
    keep = [memoryview(obj) for _ in range(live)]
    assert tb.ndarray(obj, getbuf=flags).tolist() == want
    for _ in range(1000 // stress.SCALE):  # warm-up: allocator caches
        tb.ndarray(obj, getbuf=flags)
    gc.collect()
    before = sys.getrefcount(obj)
    rss0 = stress.rss_bytes()
    for _ in range(100_000 // stress.SCALE):
        tb.ndarray(obj, getbuf=flags)
    gc.collect()
    assert stress.rss_ok(stress.rss_bytes() - rss0)
    assert sys.getrefcount(obj) == before
    for v in keep:
        v.release()
    if hasattr(obj, "exports"):
        assert obj.exports() == 0
    if isinstance(obj, bx.Readings):
        assert not obj.exported()
        obj.clear()  # no shared borrow was left behind


def test_a_subclass_is_exported_by_the_general_path():
    class Sub(bx.GrowableArray):
        pass

    obj = Sub([1.0, 2.0, 3.0])
    before = sys.getrefcount(obj)
    for flags in (tb.PyBUF_FULL_RO, tb.PyBUF_SIMPLE, tb.PyBUF_F_CONTIGUOUS):
        for _ in range(1000 // stress.SCALE):
            got = tb.ndarray(obj, getbuf=flags)
        assert got.tobytes() == bytes(memoryview(obj))
        assert obj.exports() == 1
        del got
    assert sys.getrefcount(obj) == before
    assert obj.exports() == 0
    obj.append(4.0)  # no export or borrow left behind


# Re-entrancy: Rust methods that call back into Python.


@pytest.mark.parametrize("how", ["memoryview", "numpy", "setitem"])
def test_callback_write_is_seen_by_the_read_after_it(how):
    g = bx.GrowableArray([1.0, 2.0, 3.0])
    m = memoryview(g)
    a = np.asarray(g)

    def write():
        if how == "memoryview":
            m[1] = 42.0
        elif how == "numpy":
            a[1] = 42.0
        else:
            g[1] = 42.0  # no borrow is held across the callback, so &mut self methods run

    assert g.call_and_read(1, write) == 42.0
    assert g.exports() == 2


def test_callback_resize_with_live_view_is_refused_with_buffer_error():
    g = bx.GrowableArray([1.0, 2.0, 3.0])
    m = memoryview(g)
    calls = []

    def resize():
        calls.append(1)
        m[0] = 7.0
        g.append(4.0)

    with pytest.raises(BufferError, match=RESIZE_MSG):
        g.call_and_read(0, resize)
    assert calls == [1]
    assert g.tolist() == [7.0, 2.0, 3.0] and g.exports() == 1
    m.release()


def test_callback_resize_without_views_is_allowed_and_not_stale():
    g = bx.GrowableArray([1.0, 2.0, 3.0])
    assert g.call_and_read(0, lambda: g.replace([9.0])) == 9.0
    with pytest.raises(IndexError):
        g.call_and_read(0, g.clear)  # the read sees the new, empty contents
    assert len(g) == 0


def test_callbacks_inside_a_borrowing_loop_see_view_writes():
    g = bx.GrowableArray([0.0] * 5)
    m = memoryview(g)
    a = np.asarray(g)

    def write_ahead(i):
        # Writes the current and the next element: every read must see the newest value.
        m[i] = 10.0 * i
        if i + 1 < len(a):
            a[i + 1] = -1.0

    assert g.read_each(write_ahead) == [0.0, 10.0, 20.0, 30.0, 40.0]


@pytest.mark.parametrize("mutate", ["append", "setitem", "clear"])
def test_mutation_inside_a_borrowing_loop_is_refused_by_the_borrow_check(mutate):
    """`read_each` holds `&self` across its callbacks: pyo3 refuses any `&mut self` method
    with RuntimeError("Already borrowed") — before the export check, even with no view."""
    g = bx.GrowableArray([1.0, 2.0])
    ops = {"append": lambda: g.append(1.0), "setitem": lambda: g.__setitem__(0, 5.0), "clear": g.clear}

    def cb(i):
        ops[mutate]()

    with pytest.raises(RuntimeError, match="^Already borrowed$"):
        g.read_each(cb)
    assert g.tolist() == [1.0, 2.0]
    with memoryview(g):
        with pytest.raises(RuntimeError, match="^Already borrowed$"):
            g.read_each(cb)
    assert g.tolist() == [1.0, 2.0] and g.exports() == 0


def test_export_inside_a_borrowing_loop_is_allowed():
    g = bx.GrowableArray([1.0, 2.0, 3.0])
    kept = []

    def export(i):
        kept.append(memoryview(g))
        kept[-1][i] = 100.0 + i

    assert g.read_each(export) == [100.0, 101.0, 102.0]
    assert g.exports() == 3
    kept.clear()
    assert g.exports() == 0


# Reference cycles through an exported object.


@pytest.mark.parametrize(
    "make_view",
    [
        lambda g: memoryview(g),
        lambda g: memoryview(g)[::-1][1:],
        lambda g: memoryview(memoryview(g)),
        lambda g: [memoryview(g), {"nested": memoryview(g)}],
    ],
    ids=["memoryview", "slice", "view-of-view", "containers"],
)
def test_cycle_through_a_view_stored_on_the_object_is_collected(make_view):
    gc.collect()
    g = bx.GrowableArray([1.0, 2.0, 3.0])
    g.view = make_view(g)
    g.self_ref = g
    assert g.exports() >= 1
    owner = weakref.ref(g)
    del g
    assert owner() is not None  # only the cycle keeps it alive
    gc.collect()
    assert owner() is None


def test_collected_cycle_released_its_exports():
    g = bx.GrowableArray([1.0])
    other = bx.GrowableArray([2.0])
    g.view = memoryview(g)
    g.other_view = memoryview(other)  # the cycle holds an export of a live object
    assert other.exports() == 1
    del g
    gc.collect()
    assert other.exports() == 0
    other.append(3.0)


# Mutable class, plain storage (README "Why it is sound", export-safety.md): each export holds a
# shared borrow, so `&mut self` methods are refused while any view is alive and the data stays.


@pytest.mark.parametrize(
    "view",
    [
        pytest.param(memoryview, id="memoryview"),
        pytest.param(np.asarray, id="numpy"),
        pytest.param(lambda r: tb.ndarray(r, getbuf=tb.PyBUF_FULL_RO), id="testbuffer"),
        pytest.param(lambda r: memoryview(r)[::-1], id="memoryview-slice"),
    ],
)
def test_mutable_plain_storage_refuses_mut_self_while_exported(view):
    r = bx.Readings([1.0, 2.0, 3.0])
    assert not r.exported()
    v = view(r)
    assert r.exported()
    with pytest.raises(RuntimeError, match="Already borrowed"):
        r.clear()
    assert r.tolist() == [1.0, 2.0, 3.0]  # `&self` methods still work; the data stayed
    assert np.asarray(v).tolist()[::-1] in ([1.0, 2.0, 3.0], [3.0, 2.0, 1.0])
    if isinstance(v, memoryview):
        v.release()
    del v
    gc.collect()
    assert not r.exported()
    r.clear()  # allowed again once the last view is gone
    assert r.tolist() == []


@pytest.mark.parametrize("seed", range(4))
def test_mutable_plain_storage_gives_each_borrow_back_whatever_the_release_order(seed):
    # More live exports than the record pool's 8 slots, released in a random order with new
    # exports in between (which take recycled records): the release slot's quick path (the
    # record into an empty FREE[0], then the borrow given back) and its fallback (FREE[0]
    # taken: the general release) interleave. Under abi3, PyO3's slots run the general one.
    rng = random.Random(seed)
    owners = [bx.Readings([float(i)] * 3) for i in range(4)]
    views = [memoryview(rng.choice(owners)) for _ in range(24)]
    rng.shuffle(views)
    for step in itertools.count():
        if not views:
            break
        if step >= 150 or rng.random() < 0.6:
            views.pop(rng.randrange(len(views))).release()
        else:
            r = rng.choice(owners)
            if not r.exported():
                r.clear()  # the borrow is back: `&mut self` runs
                assert r.tolist() == []
            views.append(memoryview(r))
        for r in owners:
            assert r.exported() == any(v.obj is r for v in views)
    for r in owners:
        r.clear()
        assert r.tolist() == []


# Allocation per export (README "Performance", export-safety.md): 1-D SharedVec storage holds its
# own tables, plain 1-D byte storage of a frozen class points them at the view's own `len` and
# `itemsize` (as PyBuffer_FillInfo does), and neither allocates; every other export takes a
# per-export record (shape and strides tables, a hold and a borrow) from 8 process-wide free
# slots, so it allocates only while more than 8 such exports are alive at once, one record
# each, freed on release.

RECORD_BYTES = (1000, 1200)  # one Record: 2 x 64 Py_ssize_t tables, a hold and a borrow (1,072 bytes)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()
    ]


_LIBC = ctypes.CDLL(None)
_MALLINFO2 = getattr(_LIBC, "mallinfo2", None)
if _MALLINFO2 is not None:
    _MALLINFO2.restype = _Mallinfo2


def _mallinfo_in_use():
    m = _MALLINFO2()
    return m.uordblks + m.hblkhd


def _mallinfo_counts():
    """Whether mallinfo2 sees a 64 KiB malloc: not under valgrind, whose malloc replaces
    glibc's and reports zeros (memcheck's leak check stands in for this count there)."""
    malloc, free = _LIBC.malloc, _LIBC.free
    malloc.restype = ctypes.c_void_p
    malloc.argtypes = [ctypes.c_size_t]
    free.argtypes = [ctypes.c_void_p]
    before = _mallinfo_in_use()
    p = malloc(1 << 16)
    try:
        return _mallinfo_in_use() - before >= 1 << 16
    finally:
        free(p)


_MALLINFO2_COUNTS = _MALLINFO2 is not None and _mallinfo_counts()


def _malloc_in_use():
    if _MALLINFO2 is None:
        pytest.skip("no glibc mallinfo2 here: C allocations cannot be counted")
    if not _MALLINFO2_COUNTS:
        pytest.skip("mallinfo2 counts nothing here (valgrind's malloc): memcheck checks leaks")
    return _mallinfo_in_use()


@pytest.mark.parametrize(
    "make, record",
    [
        pytest.param(lambda: bx.IntArray([1, 2, 3]), False, id="IntArray-1d-SharedVec"),
        pytest.param(lambda: bx.Particles(3), False, id="Particles-1d-SharedVec"),
        pytest.param(lambda: bx.TypedArray(">i4", [1, 2]), False, id="TypedArray-1d-SharedAnyVec"),
        pytest.param(lambda: bx.Frozen(b"abc"), False, id="Frozen-plain-1d-bytes"),  # tables in the view
        pytest.param(lambda: bx.Readings([1.0]), True, id="Readings-plain"),
        # Shared storage in one layout of up to 4 dims: the block's head holds the tables.
        pytest.param(lambda: bx.IntMatrix(3, 4), False, id="IntMatrix-SharedBlock"),
        pytest.param(lambda: bx.Mat4(), False, id="Mat4-SharedArray"),
        pytest.param(lambda: bx.Pixels(2, 3), False, id="Pixels-2d-SharedVec"),
        pytest.param(lambda: bx.Grid([2, 1, 3, 1, 2]), True, id="Grid-5d-SharedBlock"),
    ],
)
@pytest.mark.parametrize("live", [8, 100])
def test_allocations_per_export_with_many_live_views(make, record, live):
    obj = make()
    _malloc_in_use()  # warm the measure itself (ctypes)
    views = [tb.ndarray(obj, getbuf=tb.PyBUF_FULL_RO) for _ in range(live)]  # fill the free slots
    del views
    gc.collect()
    views = [None] * live
    before = _malloc_in_use()
    for i in range(live):
        views[i] = tb.ndarray(obj, getbuf=tb.PyBUF_FULL_RO)
    held = _malloc_in_use() - before
    views = None
    gc.collect()
    after = _malloc_in_use() - before
    beyond = max(0, live - 8) if record else 0
    lo, hi = RECORD_BYTES
    assert lo * beyond <= held <= hi * beyond, (held, beyond)
    assert after <= 0, after


# Exports of a shared block share the tables of one N-d layout in the block's head, rewritten
# only while no export is alive (`direct.rs`): a layout changed under live views must leave
# their tables alone and give the new export its own.
def _layout(v):
    return (v.shape, v.strides, v.c_contiguous, v.f_contiguous)


def test_relayout_under_live_views_keeps_each_views_tables():
    g = bx.Grid([2, 3, 4])
    a = memoryview(g)
    g.reshape([4, 6], "F")
    b = memoryview(g)
    n = np.asarray(g)
    g.reshape([24])
    c = tb.ndarray(g, getbuf=tb.PyBUF_FULL_RO)
    assert _layout(a) == ((2, 3, 4), (96, 32, 8), True, False)
    assert _layout(b) == ((4, 6), (8, 32), False, True)
    assert (n.shape, n.strides) == ((4, 6), (8, 32))
    assert (c.shape, c.strides) == ((24,), (8,))
    assert a.tolist()[1][2][3] == 23.0 and b.tolist()[3][5] == 23.0
    a.release()
    b.release()
    assert g.exports() == 2
    # Still exported (numpy, _testbuffer): another layout cannot take over the head's tables.
    g.reshape([2, 12], "C")
    d = memoryview(g)
    assert _layout(d) == ((2, 12), (96, 8), True, False)
    assert (n.shape, n.strides, c.shape) == ((4, 6), (8, 32), (24,))
    del n, c
    d.release()
    assert g.exports() == 0
    # Nothing alive: the head takes each new layout, and repeated exports share it.
    for shape, order, strides in [([6, 4], "F", (8, 48)), ([3, 8], "C", (64, 8)), ([24], "C", (8,))]:
        g.reshape(shape, order)
        views = [memoryview(g) for _ in range(3)]
        assert {(v.shape, v.strides) for v in views} == {(tuple(shape), strides)}
        for v in views:
            v.release()
    with pytest.raises(ValueError):
        g.reshape([5, 5])
    # The same shape in the other order is another layout.
    x = tb.ndarray(g, getbuf=tb.PyBUF_FULL_RO)
    g.reshape([24], "F")
    g.reshape([2, 12], "F")
    y = tb.ndarray(g, getbuf=tb.PyBUF_FULL_RO)
    g.reshape([2, 12], "C")
    z = tb.ndarray(g, getbuf=tb.PyBUF_FULL_RO)
    assert (x.shape, x.strides, y.shape, y.strides, z.strides) == ((24,), (8,), (2, 12), (8, 16), (96, 8))


def _strides(shape, order, itemsize=8):
    out, step = [0] * len(shape), itemsize
    for i in (reversed(range(len(shape))) if order == "C" else range(len(shape))):
        out[i], step = step, step * shape[i]
    return tuple(out)


def test_random_relayouts_under_random_exports():
    rng = random.Random(20261202)
    shapes = [[24], [2, 12], [4, 6], [2, 3, 4], [2, 2, 2, 3], [1, 2, 1, 3, 4], [3, 1, 8]]
    g = bx.Grid([24])
    live = []
    for _ in range(2000):
        r = rng.random()
        if r < 0.3:
            g.reshape(rng.choice(shapes), rng.choice("CF"))
        elif r < 0.65 or not live:
            # _testbuffer reads the exporter's own tables; memoryview and numpy copy them.
            make = rng.choice([memoryview, np.asarray, lambda o: tb.ndarray(o, getbuf=tb.PyBUF_FULL_RO)])
            v = make(g)
            live.append((v, tuple(g.shape), _strides(g.shape, g.order)))
        else:
            v, shape, strides = live.pop(rng.randrange(len(live)))
            assert (tuple(v.shape), tuple(v.strides)) == (shape, strides)
            if isinstance(v, memoryview):
                v.release()
            del v
        assert g.exports() == len(live)
    for v, shape, strides in live:
        assert (tuple(v.shape), tuple(v.strides)) == (shape, strides)
