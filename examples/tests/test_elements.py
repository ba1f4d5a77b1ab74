"""Rich element types through real consumers: records (Particles, Samples, PackedSamples), an
element type chosen at run time (TypedArray, every supported numpy dtype), RGBA pixels (Pixels).

Every expectation is written from the spec (field names, offsets, item sizes, values), never
read back from the provider; numpy, memoryview, struct, Pillow and CPython's reference exporter
``_testbuffer`` are the judges.
"""

import ctypes
import random
import struct

import _testbuffer as tb
import numpy as np
import pytest
from numpy._core._internal import _dtype_from_pep3118  # what numpy.asarray runs on T{...}
from PIL import Image

import buffer_examples as bx
from cases import Case, c_strides
from observation import observe
from request_flags import ALL_FLAG_COMBOS, ODD_FLAGS, flag_name

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def record_dtype(fields, itemsize):
    """A numpy structured dtype from ``(name, format, offset)`` triples and an item size."""
    return np.dtype(
        {
            "names": [f[0] for f in fields],
            "formats": [f[1] for f in fields],
            "offsets": [f[2] for f in fields],
            "itemsize": itemsize,
        }
    )


def same_dtype(got, want):
    """Equal dtypes, with equal field names, offsets and item size (== alone ignores names)."""
    assert got == want
    assert got.names == want.names
    assert got.itemsize == want.itemsize
    if want.names:
        for name in want.names:
            g, w = got.fields[name], want.fields[name]
            assert g[1] == w[1], name  # offset
            same_dtype(g[0], w[0])
    if want.subdtype:
        assert got.subdtype[1] == want.subdtype[1]
        same_dtype(got.subdtype[0], want.subdtype[0])
    assert got.str == want.str


def numpy_reexport_roundtrips(arr):
    """numpy re-exports the array and parses its own format back to the same dtype."""
    again = np.asarray(memoryview(arr))
    same_dtype(again.dtype, arr.dtype)
    assert again.tobytes() == arr.tobytes()


def plain(x):
    """A numpy record / subarray / scalar as plain Python tuples, lists and numbers."""
    if isinstance(x, np.void) and x.dtype.names:
        return tuple(plain(x[n]) for n in x.dtype.names)
    if isinstance(x, np.ndarray):
        return [plain(v) for v in x] if x.dtype.names else x.tolist()
    return x.item() if isinstance(x, np.generic) else x


def written_both_ways(obj, arr):
    """A write through numpy is seen by a fresh export, and the memory is shared."""
    assert not arr.flags.owndata
    assert np.shares_memory(arr, np.asarray(obj))


# --------------------------------------------------------------------------------------------
# Particles: the record from the issue
# --------------------------------------------------------------------------------------------

VEC3 = record_dtype([("x", "<f4", 0), ("y", "<f4", 4), ("z", "<f4", 8)], 12)
PARTICLE = record_dtype(
    [("x", "<f4", 0), ("y", "<f4", 4), ("z", "<f4", 8), ("mass", "<f8", 16), ("id", "<u4", 24)], 32
)


def particle(i):
    return (float(i), 2.0 * i, 3.0 * i, i * 0.5, i)


@pytest.mark.parametrize("n", [0, 1, 5, 1000])
def test_particles_numpy(n):
    p = bx.Particles(n)
    assert bx.Particles.itemsize == 32
    a = np.asarray(p)
    same_dtype(a.dtype, PARTICLE)
    assert a.dtype.itemsize == 32
    assert a.shape == (n,)
    assert a.dtype.names == ("x", "y", "z", "mass", "id")
    assert a.tolist() == [particle(i) for i in range(n)]
    # Padding bytes are unspecified (as in C); compare the fields' bytes only.
    packed_fields = b"".join(struct.pack("=fffdI", *particle(i)) for i in range(n))
    assert b"".join(a[i : i + 1].tobytes()[:12] + a[i : i + 1].tobytes()[16:28] for i in range(n)) == packed_fields
    numpy_reexport_roundtrips(a)


def test_particles_format_and_memoryview():
    p = bx.Particles(3)
    # Explicit padding between z and mass, and at the end (numpy needs the trailing `x`).
    assert bx.Particles.format == "T{f:x:f:y:f:z:4xd:mass:I:id:4x}"
    # The same layout in plain struct syntax (struct knows no T{} or names): 32 bytes.
    assert struct.calcsize("fffxxxxdIxxxx") == 32
    with memoryview(p) as m:
        assert m.format == bx.Particles.format
        assert (m.itemsize, m.ndim, m.shape, m.strides, m.nbytes) == (32, 1, (3,), (32,), 96)
        assert not m.readonly
        unpacked = [struct.unpack_from("fffxxxxdIxxxx", m, 32 * i) for i in range(3)]
    assert unpacked == [particle(i) for i in range(3)]


def test_particles_writes_visible_both_ways():
    p = bx.Particles(4)
    a = np.asarray(p)
    a["mass"][2] = 9.25
    a[3] = (-1.0, -2.0, -3.0, 4.5, 77)
    assert p.get(2) == (2.0, 4.0, 6.0, 9.25, 2)
    assert p.get(3) == (-1.0, -2.0, -3.0, 4.5, 77)
    p.set(0, (0.5, 1.5, 2.5, 3.5, 42))
    assert a[0].tolist() == (0.5, 1.5, 2.5, 3.5, 42)
    written_both_ways(p, a)


def test_every_export_carries_the_same_static_format():
    # Every export of every object of the type carries the same format, the one written out
    # above from the struct's layout (not the class's own attribute).
    fmts = {memoryview(bx.Particles(k)).format for k in range(1, 5)}
    assert fmts == {"T{f:x:f:y:f:z:4xd:mass:I:id:4x}"}


# --------------------------------------------------------------------------------------------
# Samples: bool, nested record, subarrays, float16, big-endian, complex, usize
# --------------------------------------------------------------------------------------------

SAMPLE = record_dtype(
    [
        ("flag", "?", 0),
        ("pos", VEC3, 4),
        ("rgb", ("u1", (3,)), 16),
        ("level", "<f2", 20),
        ("big", ">u4", 22),
        ("matrix", ("<i2", (2, 2)), 26),
        ("z", "<c16", 40),
        ("count", "<u8", 56),
    ],
    64,
)


def sample(i):
    return (
        i % 2 == 1,
        (float(i), i + 0.5, -float(i)),
        [i % 256, 2 * i % 256, 3 * i % 256],
        i / 4,
        1000 + i,
        [[i, -i], [2 * i, -2 * i]],
        complex(i, -i),
        7 * i,
    )


def sample_from_rust(t):
    flag, pos, rgb, level, big, matrix, z, count = t
    return (flag, pos, list(rgb), level, big, [list(r) for r in matrix], complex(*z), count)


@pytest.mark.parametrize("n", [0, 1, 6])
def test_samples_numpy(n):
    s = bx.Samples(n)
    assert bx.Samples.itemsize == 64
    a = np.asarray(s)
    same_dtype(a.dtype, SAMPLE)
    assert plain(a) == [sample(i) for i in range(n)]
    assert [sample_from_rust(s.get(i)) for i in range(n)] == [sample(i) for i in range(n)]
    numpy_reexport_roundtrips(a)
    with memoryview(s) as m:
        assert (m.format, m.itemsize, m.shape) == (bx.Samples.format, 64, (n,))


def test_samples_writes_visible_both_ways():
    s = bx.Samples(4)
    a = np.asarray(s)
    a[1] = sample(9)
    a["matrix"][2, 1, 0] = -123
    a["pos"]["y"][3] = 0.25
    assert sample_from_rust(s.get(1)) == sample(9)
    assert s.get(2)[5] == [[2, -2], [-123, -4]]
    assert s.get(3)[1] == (3.0, 0.25, -3.0)
    s.set_nth(0, 5)
    assert plain(a[0]) == sample(5)
    written_both_ways(s, a)


def test_bool_field_accepts_any_byte():
    s = bx.Samples(2)
    raw = np.asarray(s).view(np.uint8).reshape(2, 64)
    raw[0, 0] = 2  # not a valid Rust bool: must be read as true, not trusted
    raw[1, 0] = 255
    assert s.get(0)[0] is True
    assert s.get(1)[0] is True
    raw[1, 0] = 0
    assert s.get(1)[0] is False


# --------------------------------------------------------------------------------------------
# PackedSamples: repr(C, packed), unaligned fields, nested record at offset 7
# --------------------------------------------------------------------------------------------

PACKED = record_dtype(
    [
        ("tag", "u1", 0),
        ("value", "<u4", 1),
        ("big", ">u2", 5),
        ("pos", VEC3, 7),
        ("count", "<i8", 19),
        ("little", "<f8", 27),
    ],
    35,
)


def packed(i):
    return (i % 256, 100_000 + i, i, (float(i), -float(i), 0.5 * i), -i, i / 8)


@pytest.mark.parametrize("n", [0, 1, 7])
def test_packed_samples_numpy(n):
    s = bx.PackedSamples(n)
    assert bx.PackedSamples.itemsize == 35
    a = np.asarray(s)
    same_dtype(a.dtype, PACKED)
    assert a.tolist() == [packed(i) for i in range(n)]
    assert [s.get(i) for i in range(n)] == [packed(i) for i in range(n)]
    numpy_reexport_roundtrips(a)
    # The packed layout in struct syntax, byte order per field as the format says.
    for i in range(n):
        raw = a[i : i + 1].tobytes()
        assert struct.unpack("<BI", raw[:5]) == packed(i)[:2]
        assert struct.unpack(">H", raw[5:7]) == (i,)
        assert struct.unpack("<fffqd", raw[7:]) == (*packed(i)[3], packed(i)[4], packed(i)[5])


def test_packed_samples_writes_visible_both_ways():
    s = bx.PackedSamples(3)
    a = np.asarray(s)
    a["big"][1] = 0xBEEF
    a["pos"]["z"][2] = -8.5
    assert s.get(1)[2] == 0xBEEF
    assert s.get(2)[3] == (2.0, -2.0, -8.5)
    s.set_nth(0, 300)
    assert a[0].tolist() == packed(300)
    written_both_ways(s, a)


# --------------------------------------------------------------------------------------------
# TypedArray: every dtype
# --------------------------------------------------------------------------------------------

INTS = {
    "int8": (-128, 127),
    "uint8": (0, 255),
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}

#: dtype name -> (format the buffer must carry, values to store)
TYPES = {
    "bool": ("?", [True, False, True, True]),
    **{
        name: (code, [lo, hi, 0, 1, hi // 3])
        for (name, (lo, hi)), code in zip(INTS.items(), "bBhHiIqQ")
    },
    "float16": ("e", [0.5, -2.0, 65504.0, 0.1, float("inf")]),
    "float32": ("f", [0.1, -1e30, 3.5, float("-inf"), float("nan")]),
    "float64": ("d", [0.1, -1e300, 2.0**-1074, float("nan")]),
    "complex64": ("Zf", [1 + 2j, -0.5j, 3, complex(0.1, -7)]),
    "complex128": ("Zd", [1 + 2j, -0.5j, 3, complex(0.1, -1e300)]),
}
for order, mark in (("<", "<"), (">", ">")):
    for code, kind, size, vals in [
        ("h", "i", 2, [-(2**15), 2**15 - 1, 0x1234]),
        ("H", "u", 2, [0, 2**16 - 1, 0x1234]),
        ("i", "i", 4, [-(2**31), 2**31 - 1, 0x12345678]),
        ("I", "u", 4, [0, 2**32 - 1, 0x12345678]),
        ("q", "i", 8, [-(2**63), 2**63 - 1, 0x1234567890ABCDEF]),
        ("Q", "u", 8, [0, 2**64 - 1, 0x1234567890ABCDEF]),
        ("e", "f", 2, [0.5, -65504.0, 0.1]),
        ("f", "f", 4, [0.1, -1e30, float("inf")]),
        ("d", "f", 8, [0.1, -1e300, float("nan")]),
    ]:
        TYPES[f"{order}{kind}{size}"] = (f"{mark}{code}", vals)

STRUCT_CODES = set("?bBhHiIqQefd")  # what the struct module (and _testbuffer) can pack


def struct_supported(fmt):
    return fmt.lstrip("<>") in STRUCT_CODES


def test_every_supported_dtype_is_tested():
    t = bx.TypedArray("int8", [])
    assert t.dtype == "int8"
    with pytest.raises(ValueError, match="unsupported dtype"):
        bx.TypedArray("int128", [])
    # Every name in TYPES is accepted...
    for name in TYPES:
        assert bx.TypedArray(name, []).dtype == name
    # ... and vice versa: of every dtype name numpy knows (and every byte-order spelling of
    # every kind and size), the module accepts only those in TYPES.
    candidates = {k for k in np._core.sctypeDict if isinstance(k, str)}
    candidates |= {f"{o}{k}{n}" for o in "<>=|" for k in "biufcV" for n in (1, 2, 4, 8, 16)}
    accepted = set()
    for name in candidates:
        try:
            bx.TypedArray(name, [])
        except ValueError:
            continue
        accepted.add(name)
    assert accepted <= set(TYPES), sorted(accepted - set(TYPES))
    assert len(accepted) >= 20, sorted(accepted)  # the probe itself reaches the module


@pytest.mark.parametrize("name", list(TYPES))
def test_typed_array_numpy(name):
    fmt, values = TYPES[name]
    t = bx.TypedArray(name, values)
    assert t.format == fmt
    a = np.asarray(t)
    want = np.dtype(name)
    assert a.dtype == want and a.dtype.str == want.str
    assert a.shape == (len(values),)
    assert np.array_equal(a, np.array(values, dtype=want), equal_nan=True)
    assert a.flags.writeable and not a.flags.owndata
    if want.kind != "c":
        assert struct.calcsize(fmt) == want.itemsize
    with memoryview(t) as m:
        assert (m.format, m.itemsize, m.shape, m.readonly) == (fmt, want.itemsize, (len(values),), False)
        assert m.tobytes() == np.array(values, dtype=want).tobytes()
    numpy_reexport_roundtrips(a)


@pytest.mark.parametrize("name", list(TYPES))
def test_typed_array_writes_visible_both_ways(name):
    fmt, values = TYPES[name]
    t = bx.TypedArray(name, values)
    a = np.asarray(t)
    a[0] = a[1]
    assert np.array_equal(np.array(t.tolist(), dtype=a.dtype), a, equal_nan=True)
    got = t.tolist()
    assert got[0] == got[1] or got[0] != got[0]  # nan != nan
    t.set(2, values[0])
    assert np.array_equal(a[2], np.array(values[0], dtype=a.dtype), equal_nan=True)
    assert t.exports() == 1
    del a
    assert t.exports() == 0


@pytest.mark.parametrize("name", [n for n, (f, _) in TYPES.items() if struct_supported(f)])
def test_typed_array_matches_reference_for_every_request(name):
    fmt, values = TYPES[name]
    values = [v for v in values if v == v]  # NaN never compares equal in the observations
    case = Case(
        id=f"TypedArray-{name}",
        cls="TypedArray",
        make=lambda: bx.TypedArray(name, values),
        fmt=fmt,
        shape=(len(values),),
        strides=(struct.calcsize(fmt),),
        readonly=False,
        logical_flat=list(values),
        memory=list(values),
    )
    obj, ref = case.make(), case.reference()
    assert ref.format == fmt
    for flags in ALL_FLAG_COMBOS + ODD_FLAGS[:: max(1, len(ODD_FLAGS) // 40)]:
        ours, theirs = observe(obj, flags), observe(ref, flags)
        assert ours == theirs, flag_name(flags)


def test_memoryview_reads_native_formats():
    # Where CPython's memoryview supports the format, it reads the same values.
    for name in ["bool", "int8", "uint64", "float32", "float64", "int32"]:
        fmt, values = TYPES[name]
        with memoryview(bx.TypedArray(name, values)) as m:
            got = m.tolist()
        want = np.array(values, dtype=name).tolist()
        assert got == want or all(g == w or (g != g and w != w) for g, w in zip(got, want))
    # Explicit byte orders are not memoryview-native: refused exactly like the reference.
    with memoryview(bx.TypedArray(">i4", [1])) as m:
        with pytest.raises(NotImplementedError):
            m.tolist()


def test_bad_values_are_type_errors():
    with pytest.raises(TypeError, match="cannot store"):
        bx.TypedArray("int32", ["x"])
    with pytest.raises(TypeError, match="cannot store"):
        bx.TypedArray("uint8", [256])
    with pytest.raises(TypeError):
        bx.TypedArray("float64", 3)


# --------------------------------------------------------------------------------------------
# Pixels: RGBA [u8; 4]
# --------------------------------------------------------------------------------------------


def pixel(x, y):
    return (x % 256, y % 256, (x + y) % 256, 255)


@pytest.mark.parametrize("h, w", [(1, 1), (3, 5), (20, 300), (0, 4)])
def test_pixels_numpy_and_reference(h, w):
    px = bx.Pixels(h, w)
    a = np.asarray(px)
    assert a.shape == (h, w, 4) and a.dtype == np.uint8
    want = [[pixel(x, y) for x in range(w)] for y in range(h)]
    assert a.tolist() == [[list(p) for p in row] for row in want]
    flat = [c for row in want for p in row for c in p]
    case = Case(
        id=f"Pixels-{h}x{w}",
        cls="Pixels",
        make=lambda: bx.Pixels(h, w),
        fmt="B",
        shape=(h, w, 4),
        strides=c_strides((h, w, 4), 1),
        readonly=False,
        logical_flat=flat,
        memory=flat,
    )
    ref = case.reference()
    for flags in ALL_FLAG_COMBOS:
        assert observe(px, flags) == observe(ref, flags), flag_name(flags)


@pytest.mark.parametrize("args", [(), ("raw", "RGBA", 0, 1)], ids=["default", "explicit"])
def test_pixels_pillow_without_copy(args):
    w, h = 7, 3
    px = bx.Pixels(h, w)
    img = Image.frombuffer("RGBA", (w, h), px, *args)
    assert img.size == (w, h) and img.mode == "RGBA"
    assert [img.getpixel((x, y)) for y in range(h) for x in range(w)] == [
        pixel(x, y) for y in range(h) for x in range(w)
    ]
    # Pillow maps the buffer instead of copying it: a write from Rust shows in the image.
    assert img.readonly
    px.set(4, 2, [9, 8, 7, 6])
    assert img.getpixel((4, 2)) == (9, 8, 7, 6)
    np.asarray(px)[0, 6] = (1, 2, 3, 4)
    assert img.getpixel((6, 0)) == (1, 2, 3, 4)
    assert px.get(6, 0) == bytes([1, 2, 3, 4])


# --------------------------------------------------------------------------------------------
# Records against the reference exporter: same answers to every request as a reference with
# the same layout and an opaque 'Ns' item (struct knows no T{}), apart from the format itself.
# --------------------------------------------------------------------------------------------


def without_format(obs):
    obs = dict(obs)
    fmt = obs.pop("format", None)
    obs.pop("tolist", None)
    mv = obs.pop("memoryview", None)
    if mv is not None and mv[0] == "ok":
        mv = dict(mv[1])
        mv.pop("format")
        mv.pop("tolist")
        obs["memoryview"] = mv
    return obs, fmt


RECORD_DTYPES = {"Particles": PARTICLE, "Samples": SAMPLE, "PackedSamples": PACKED}


@pytest.mark.parametrize("cls", ["Particles", "Samples", "PackedSamples"])
@pytest.mark.parametrize("n", [0, 1, 4])
def test_records_answer_every_request_like_the_reference(cls, n):
    obj = getattr(bx, cls)(n)
    size = getattr(bx, cls).itemsize
    raw = memoryview(obj).tobytes()
    items = [raw[i * size : (i + 1) * size] for i in range(n)] or [bytes(size)]
    ref = tb.ndarray(items, shape=[n], format=f"{size}s", flags=tb.ND_WRITABLE)
    for flags in ALL_FLAG_COMBOS:
        ours, ours_fmt = without_format(observe(obj, flags))
        theirs, their_fmt = without_format(observe(ref, flags))
        assert ours == theirs, flag_name(flags)
        if their_fmt == f"{size}s":
            # Where the reference gives its (stand-in) format, ours must describe the record:
            # numpy's own parser reads it as the dtype written out independently above.
            same_dtype(_dtype_from_pep3118(ours_fmt), RECORD_DTYPES[cls])
        else:
            assert ours_fmt == their_fmt, flag_name(flags)


# --------------------------------------------------------------------------------------------
# The record-format builder against an independent layout: random C structs laid out by
# ctypes (nested, arrays, packed, explicit byte orders), their format built by the derive's
# builder (bx.record_format), parsed by numpy's own PEP 3118 parser (what numpy.asarray runs).
# --------------------------------------------------------------------------------------------

class _Complex64(ctypes.Structure):
    _fields_ = [("re", ctypes.c_float), ("im", ctypes.c_float)]


class _Complex128(ctypes.Structure):
    _fields_ = [("re", ctypes.c_double), ("im", ctypes.c_double)]


#: (ctypes stand-in with the Rust type's size and alignment, format, numpy dtype)
SCALARS = [
    (ctypes.c_bool, "?", "?"),
    (ctypes.c_int8, "b", "i1"),
    (ctypes.c_uint8, "B", "u1"),
    (ctypes.c_int16, "h", "i2"),
    (ctypes.c_uint16, "H", "u2"),
    (ctypes.c_int32, "i", "i4"),
    (ctypes.c_uint32, "I", "u4"),
    (ctypes.c_int64, "q", "i8"),
    (ctypes.c_uint64, "Q", "u8"),
    (ctypes.c_ssize_t, "n", np.dtype(np.intp).str),
    (ctypes.c_size_t, "N", np.dtype(np.uintp).str),
    (ctypes.c_float, "f", "f4"),
    (ctypes.c_double, "d", "f8"),
    (ctypes.c_uint16, "e", "f2"),  # half::f16: 2 bytes, alignment 2
    (_Complex64, "Zf", "c8"),
    (_Complex128, "Zd", "c16"),
    # Le<T> / Be<T>: bytes, alignment 1.
    (ctypes.c_uint8 * 2, "<h", "<i2"),
    (ctypes.c_uint8 * 4, ">I", ">u4"),
    (ctypes.c_uint8 * 8, ">d", ">f8"),
    (ctypes.c_uint8 * 2, ">e", ">f2"),
    (ctypes.c_uint8 * 8, "<q", "<i8"),
]


class Rec:
    """A generated record: its ctypes type, our format and the dtype numpy must read."""

    def __init__(self, ctype, fmt, dtype):
        self.ctype, self.fmt, self.dtype = ctype, fmt, dtype


def random_record(rng, depth=0, counter=[0]):
    counter[0] += 1
    nfields = rng.randint(1, 5)
    parts = []  # (name, ctype, element format, element dtype, dims)
    for i in range(nfields):
        r = rng.random()
        if depth < 2 and r < 0.15:
            inner = random_record(rng, depth + 1)
            elem = (inner.ctype, inner.fmt, inner.dtype)
        else:
            elem = rng.choice(SCALARS)
        dims = []
        if rng.random() < 0.2:
            dims = [rng.randint(1, 3) for _ in range(rng.randint(1, 2))]
        ctype = elem[0]
        for d in reversed(dims):
            ctype = ctype * d
        parts.append((f"a{i}", ctype, elem[1], elem[2], dims))
    attrs = {"_fields_": [(name, ctype) for name, ctype, *_ in parts]}
    if rng.random() < 0.3:
        attrs = {"_pack_": 1, **attrs}
    struct_t = type(f"R{counter[0]}", (ctypes.Structure,), attrs)
    specs = []
    for name, ctype, efmt, _, dims in parts:
        field = getattr(struct_t, name)
        specs.append((name, field.offset, ctypes.sizeof(ctype), ctypes.alignment(ctype), efmt, dims))
    size, align = ctypes.sizeof(struct_t), ctypes.alignment(struct_t)
    fmt = bx.record_format(specs, size, align)
    dtype = np.dtype(
        {
            "names": [p[0] for p in parts],
            "formats": [np.dtype((p[3], tuple(p[4]))) if p[4] else np.dtype(p[3]) for p in parts],
            "offsets": [s[1] for s in specs],
            "itemsize": size,
        }
    )
    return Rec(struct_t, fmt, dtype)


@pytest.mark.parametrize("seed", range(8))
def test_record_format_builder_matches_ctypes_layouts(seed):
    rng = random.Random(seed)
    for _ in range(40):
        rec = random_record(rng)
        got = _dtype_from_pep3118(rec.fmt)
        try:
            same_dtype(got, rec.dtype)
        except AssertionError:
            raise AssertionError(f"{rec.fmt}\n  numpy read {got}\n  layout is {rec.dtype}") from None


def test_record_format_builder_refuses_bad_layouts():
    with pytest.raises(ValueError, match="overlap"):
        bx.record_format([("a", 0, 4, 4, "i", []), ("b", 2, 4, 4, "i", [])], 8, 4)
    with pytest.raises(ValueError, match="at least one field"):
        bx.record_format([], 8, 4)
    with pytest.raises(ValueError, match="past the struct"):
        bx.record_format([("a", 0, 4, 4, "i", []), ("b", 4, 4, 4, "i", [])], 6, 4)
    with pytest.raises(ValueError, match="zero-sized"):
        bx.record_format([("a", 0, 0, 1, "x", [])], 0, 1)
    with pytest.raises(ValueError, match="printable ASCII"):
        bx.record_format([("a:b", 0, 4, 4, "i", [])], 4, 4)
    # Deeper array nesting than the hook takes is an error, never the runtime's assertion.
    with pytest.raises(ValueError, match="bad field spec"):
        bx.record_format([("a", 0, 4, 4, "i", [1] * 5)], 4, 4)
    with pytest.raises(ValueError, match="bad field spec"):
        bx.record_format([("a", 0, 4, 0, "i", [])], 4, 4)


def _padding_bytes(obj):
    """The bytes of every item that no field of the numpy dtype covers."""
    dt = np.asarray(obj).dtype
    covered = set()
    for name in dt.names:
        sub, off = dt.fields[name][:2]
        covered.update(range(off, off + sub.itemsize))
    raw = bytes(obj)
    return [raw[i * dt.itemsize + b] for i in range(len(obj)) for b in range(dt.itemsize) if b not in covered]


@pytest.mark.parametrize("make", [lambda: bx.Particles(5), lambda: bx.Samples(4)], ids=["Particles", "Samples"])
def test_padding_bytes_are_zero_not_uninitialised(make):
    # Rust leaves a record's padding undefined; shared storage zeroes it before any consumer
    # (bytes, hashlib, file writes) can read it.
    obj = make()
    pad = _padding_bytes(obj)
    assert pad and set(pad) == {0}
    # Still zero after a Rust-side write of a whole element.
    if hasattr(obj, "set"):
        obj.set(1, (9.0, 9.0, 9.0, 9.0, 9))
    else:
        obj.set_nth(1, 3)
    assert set(_padding_bytes(obj)) == {0}
