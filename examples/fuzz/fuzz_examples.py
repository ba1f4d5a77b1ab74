"""atheris over the Python API of the example modules (buffer_examples, pixel_filter,
pixel_decoder).

Each input is a short program: constructors with fuzzed arguments (sizes small, or huge enough
that allocation must fail cleanly), mutators and indices, exports through
``_testbuffer.ndarray(obj, getbuf=flags)`` with fuzzed request flags and through
``memoryview``/``bytes``/numpy, the typed-view hooks (``view_read``, ``view_get``,
``view_sub``, ``view_write``, ``view_any``) over providers and over numpy arrays of fuzzed
dtype and strides, ``pixel_filter`` on fuzzed images and ``pixel_decoder.decode`` on fuzzed
bytes.

Any ``Exception`` (``ValueError``, ``TypeError``, ``BufferError``, ``MemoryError``,
``OverflowError``, ``IndexError``...) is a normal answer. A finding is anything else: a crash
or abort of the process, or an exception that is not an ``Exception`` -- notably
``pyo3_runtime.PanicException`` (a Rust panic), which atheris then reports with the input.
Invariants checked on the way (an ``AssertionError`` is re-raised as a finding): export counts
return to zero once views are released, and a refused resize leaves the contents unchanged.

Run it bounded, e.g. (``.ci/fuzz.sh`` does this):

    .venv/bin/python examples/fuzz/fuzz_examples.py -max_total_time=30 examples/fuzz/corpus

The example modules must be built (``make develop``). Their native code is not coverage-
instrumented: atheris is guided by the coverage of this harness's own Python code, not by the
Rust code under test.
"""

import sys
import zlib
import struct

import atheris

import array
import copy
import ctypes
import pickle

import _testbuffer
import numpy as np

import buffer_examples as be
import pixel_decoder
import pixel_filter

# _testbuffer's request flags (CPython Include/pybuffer.h).
FLAG_BITS = [0x0, 0x1, 0x4, 0x8, 0x18, 0x38, 0x58, 0x98, 0x118, 0x11D, 0x1C, 0x3D, 0x9D]

DTYPES = ["B", "b", "H", "h", "I", "i", "Q", "q", "f", "d", "?", "<i", ">i"]
NP_DTYPES = ["u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f4", "f8", "?", "<i4", ">i4", "f2", "c8"]
LAYOUTS = ["strided", "C", "F", "A"]


class Finding(Exception):
    """An invariant the harness checks failed (re-raised out of the catch-all)."""


def size(fdp, small=64):
    """A size: small mostly, else huge (must fail cleanly), or negative. Up to 4096 for 1-d
    sizes (``small >= 64``) only: a product of such dims would be slow to read back."""
    k = fdp.ConsumeIntInRange(0, 15)
    if k < 11:
        return fdp.ConsumeIntInRange(0, small)
    if k < 13:
        return 1 << fdp.ConsumeIntInRange(40, 70)
    if k == 13:
        return (1 << 64) - fdp.ConsumeIntInRange(1, 4)
    if k == 14:
        return -fdp.ConsumeIntInRange(1, 1 << 40)
    return fdp.ConsumeIntInRange(0, 4096 if small >= 64 else small)


def index(fdp, n):
    k = fdp.ConsumeIntInRange(0, 7)
    if k < 5 and n > 0:
        return fdp.ConsumeIntInRange(0, n - 1)
    if k == 5:
        return -fdp.ConsumeIntInRange(0, n + 2)
    return size(fdp)


def floats(fdp, n):
    return [fdp.ConsumeRegularFloat() for _ in range(min(n, 64))]


def ints(fdp, n, lo=-(1 << 31), hi=(1 << 31) - 1):
    return [fdp.ConsumeIntInRange(lo, hi) for _ in range(min(n, 64))]


def make_provider(fdp):
    """One of the example providers, built from fuzzed arguments (or None when refused)."""
    k = fdp.ConsumeIntInRange(0, 19)
    n = size(fdp)
    try:
        if k == 0:
            return be.IntArray(ints(fdp, n))
        if k == 1:
            return be.GrowableArray(floats(fdp, n))
        if k == 2:
            return be.Frozen(fdp.ConsumeBytes(n if n < 4096 else 16))
        if k == 3:
            return be.Bits(ints(fdp, n, 0, (1 << 32) - 1))
        if k == 4:
            rows, cols = size(fdp, 8), size(fdp, 8)
            values = ints(fdp, rows * cols) if fdp.ConsumeBool() and rows * cols <= 64 else None
            return be.IntMatrix(rows, cols, values)
        if k == 5:
            rows, cols = size(fdp, 8), size(fdp, 8)
            return be.FortranMatrix(rows, cols, floats(fdp, rows * cols if rows * cols <= 64 else 3))
        if k == 6:
            return be.Mat4(floats(fdp, 16) if fdp.ConsumeBool() else None)
        if k == 7:
            return be.Scalar(fdp.ConsumeRegularFloat())
        if k == 8:
            return be.Image(size(fdp, 8), size(fdp, 8), size(fdp, 4), size(fdp, 40))
        if k == 9:
            m = size(fdp, 8)
            return be.Table(m, floats(fdp, 3 * m if m <= 20 else 3))
        if k == 10:
            return be.Readings(floats(fdp, n))
        if k == 11:
            return be.Grid([size(fdp, 4) for _ in range(fdp.ConsumeIntInRange(0, 6))], fdp.PickValueInList(["C", "F", "X"]))
        if k == 12:
            return be.Particles(n)
        if k == 13:
            return be.Samples(n)
        if k == 14:
            return be.PackedSamples(n)
        if k == 15:
            return be.Pixels(size(fdp, 8), size(fdp, 8))
        if k == 16:
            dt = fdp.PickValueInList(NP_DTYPES + ["int8", "float16", "bogus", ">f8", "<u8", "bool"])
            return be.TypedArray(dt, ints(fdp, n, 0, 100))
        if k == 17:
            m = size(fdp, 32)
            shape = [size(fdp, 4) for _ in range(fdp.ConsumeIntInRange(0, 3))] if fdp.ConsumeBool() else None
            return be.owned_range(m, shape)
        if k == 18:
            return be.owned_frozen(fdp.ConsumeBytes(64))
        return pixel_decoder.synthetic(size(fdp, 8), size(fdp, 8), size(fdp, 4))
    except Exception:
        return None


def make_numpy(fdp):
    """A numpy array of fuzzed dtype and shape, sliced and transposed into odd strides."""
    dt = np.dtype(fdp.PickValueInList(NP_DTYPES))
    shape = tuple(fdp.ConsumeIntInRange(0, 5) for _ in range(fdp.ConsumeIntInRange(0, 4)))
    count = int(np.prod(shape)) if shape else 1
    raw = fdp.ConsumeBytes(count * dt.itemsize)
    raw = raw + bytes(count * dt.itemsize - len(raw))
    a = np.frombuffer(bytearray(raw), dtype=dt).reshape(shape) if shape else np.frombuffer(bytearray(raw), dtype=dt)[0:1].reshape(())
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        op = fdp.ConsumeIntInRange(0, 3)
        if a.ndim == 0:
            break
        ax = fdp.ConsumeIntInRange(0, a.ndim - 1)
        sl = [slice(None)] * a.ndim
        if op == 0:
            sl[ax] = slice(None, None, fdp.PickValueInList([-1, 2, -2, 3]))
            a = a[tuple(sl)]
        elif op == 1:
            a = a.T
        elif op == 2:
            sl[ax] = slice(fdp.ConsumeIntInRange(0, 2), None)
            a = a[tuple(sl)]
        else:
            a = np.broadcast_to(a[tuple(slice(0, 1) for _ in range(a.ndim))], a.shape) if a.size else a
    if fdp.ConsumeBool() and a.ndim >= 1:
        a = a.view(np.uint8) if a.flags.c_contiguous and a.dtype.itemsize > 0 and a.ndim >= 1 and a.size else a
    return a


def make_buffer(fdp):
    """Something with the buffer protocol: a provider, numpy, bytearray, memoryview casts,
    array.array, ctypes, a _testbuffer.ndarray re-export with fuzzed flags."""
    k = fdp.ConsumeIntInRange(0, 7)
    if k <= 2:
        return make_provider(fdp)
    if k == 3:
        return make_numpy(fdp)
    if k == 4:
        b = bytearray(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64)))
        m = memoryview(b)
        fmt = fdp.PickValueInList(["B", "i", "d", "h", "b"])
        try:
            m = m.cast(fmt)
            if fdp.ConsumeBool() and len(m) >= 2:
                m = m[1::2]
        except (TypeError, ValueError):
            pass
        return m if fdp.ConsumeBool() else b
    if k == 5:
        return array.array(fdp.PickValueInList(["i", "d", "B", "q"]), [0] * fdp.ConsumeIntInRange(0, 16))
    if k == 6:
        n = fdp.ConsumeIntInRange(1, 4)
        return (ctypes.c_int * n)(*range(n)) if fdp.ConsumeBool() else (ctypes.c_int * n * 2)()
    p = make_provider(fdp)
    if p is None:
        return None
    try:
        return _testbuffer.ndarray(p, getbuf=fdp.PickValueInList(FLAG_BITS) | fdp.PickValueInList([0, 0x100, 0x200]))
    except Exception:
        return p


def exports_of(obj):
    f = getattr(obj, "exports", None)
    return f() if callable(f) else None


def op_export(fdp, obj):
    """Exports with fuzzed flags through _testbuffer, then consumers; views are released."""
    before = exports_of(obj)
    flags = fdp.PickValueInList(FLAG_BITS)
    if fdp.ConsumeBool():
        flags = fdp.ConsumeIntInRange(-1, 0x3FF)
    views = []
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        try:
            views.append(_testbuffer.ndarray(obj, getbuf=flags))
            views[-1].tolist()
            _ = (views[-1].shape, views[-1].strides, views[-1].format, views[-1].readonly, views[-1].nbytes)
            if views[-1].contiguous:
                bytes(views[-1])
        except Exception:
            pass
        try:
            views.append(memoryview(obj))
            views[-1].tobytes()
            views[-1].tolist()
        except Exception:
            pass
    try:
        np.asarray(obj).sum()
    except Exception:
        pass
    # Resizing while viewed must be refused and change nothing.
    if isinstance(obj, be.GrowableArray) and views:
        live = exports_of(obj)
        old = obj.tolist()
        try:
            obj.resize(size(fdp))
            if live:
                raise Finding(f"resize accepted with {live} live exports")
        except (BufferError, MemoryError, ValueError, OverflowError, TypeError):
            if obj.tolist() != old:
                raise Finding("a refused resize changed the contents")
    for v in views:
        if isinstance(v, memoryview):
            v.release()
    del views
    if before is not None and exports_of(obj) != before:
        raise Finding(f"exports {exports_of(obj)} after every view was released (was {before})")


def op_mutate(fdp, obj):
    if isinstance(obj, be.GrowableArray):
        n = len(obj)
        m = fdp.ConsumeIntInRange(0, 10)
        if m == 0:
            obj.append(fdp.ConsumeRegularFloat())
        elif m == 1:
            obj.extend(floats(fdp, size(fdp)))
        elif m == 2:
            obj.insert(index(fdp, n), 1.0)
        elif m == 3:
            obj.pop(index(fdp, n))
        elif m == 4:
            obj.resize(size(fdp), fdp.ConsumeRegularFloat())
        elif m == 5:
            obj.truncate(size(fdp))
        elif m == 6:
            obj.reserve(size(fdp))
        elif m == 7:
            obj[index(fdp, n)] = fdp.ConsumeRegularFloat()
        elif m == 8:
            obj[index(fdp, n)]
        elif m == 9:
            obj.replace(floats(fdp, size(fdp)))
        else:
            obj.call_and_read(index(fdp, n), lambda: obj.resize(size(fdp)))
    elif isinstance(obj, be.IntArray):
        obj.append(fdp.ConsumeIntInRange(-(1 << 40), 1 << 40))
    elif isinstance(obj, be.Particles):
        obj.set(index(fdp, len(obj)), (1.0, 2.0, 3.0, 4.0, fdp.ConsumeIntInRange(-1, 1 << 33)))
        obj.get(index(fdp, len(obj)))
    elif isinstance(obj, (be.Samples, be.PackedSamples)):
        obj.set_nth(index(fdp, len(obj)), index(fdp, 8))
        obj.get(index(fdp, len(obj)))
    elif isinstance(obj, be.Pixels):
        w, h = obj.size
        obj.set(index(fdp, w), index(fdp, h), ints(fdp, fdp.ConsumeIntInRange(0, 5), -1, 256))
        obj.get(index(fdp, w), index(fdp, h))
    elif isinstance(obj, be.TypedArray):
        obj.set(index(fdp, len(obj)), fdp.PickValueInList([0, -1, 1 << 70, 1.5, "x", True]))
        obj.tolist()
    elif isinstance(obj, be.Readings):
        obj.clear()
    elif isinstance(obj, be.Scalar):
        obj.value = fdp.ConsumeRegularFloat()
    for m in ("__copy__",):
        getattr(obj, m, lambda: None)()
    copy.deepcopy(obj)


def op_pickle(fdp, obj):
    proto = fdp.ConsumeIntInRange(0, 5)
    bufs = []
    data = pickle.dumps(obj, protocol=proto, buffer_callback=bufs.append if proto >= 5 and fdp.ConsumeBool() else None)
    back = pickle.loads(data, buffers=bufs)
    if bytes(memoryview(back).cast("B")) != bytes(memoryview(obj).cast("B")) and memoryview(obj).contiguous:
        raise Finding("pickle round trip changed the bytes")


def op_dlpack(fdp, obj):
    kwargs = {}
    if fdp.ConsumeBool():
        kwargs["max_version"] = (fdp.ConsumeIntInRange(0, 2), fdp.ConsumeIntInRange(0, 3))
    if fdp.ConsumeBool():
        kwargs["copy"] = fdp.PickValueInList([None, True, False])
    if fdp.ConsumeBool():
        kwargs["dl_device"] = (fdp.ConsumeIntInRange(0, 3), 0)
    cap = obj.__dlpack__(**kwargs)
    del cap
    np.from_dlpack(obj)


def op_views(fdp, obj):
    dtype = fdp.PickValueInList(DTYPES + ["Z"])
    k = fdp.ConsumeIntInRange(0, 5)
    ndim = fdp.PickValueInList([None, 0, 1, 2, 3, 4])
    if k == 0:
        be.view_read(obj, dtype, fdp.PickValueInList(LAYOUTS + ["X"]), ndim)
    elif k == 1:
        be.view_get(obj, dtype, [index(fdp, 4) for _ in range(fdp.ConsumeIntInRange(0, 4))])
    elif k == 2:
        be.view_sub(obj, dtype, fdp.PickValueInList(["index_axis", "row", "lane", "x"]), index(fdp, 4), [index(fdp, 4) for _ in range(fdp.ConsumeIntInRange(0, 4))])
    elif k == 3:
        op = fdp.PickValueInList(["set", "fill", "copy", "add", "x"])
        if op == "set":
            args = [[index(fdp, 4) for _ in range(fdp.ConsumeIntInRange(0, 4))], fdp.ConsumeIntInRange(-300, 300)]
        elif op == "copy":
            args = ints(fdp, size(fdp, 32), -300, 300)
        else:
            args = [fdp.PickValueInList([0, 1, -1, 255, 1 << 40, 0.5, True])]
        be.view_write(obj, dtype, op, args)
    elif k == 4:
        be.view_any(obj)
    else:
        be.sum_array(obj)


def op_pixels(fdp):
    k = fdp.ConsumeIntInRange(0, 4)
    if k == 0:
        data = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 2048))
        if fdp.ConsumeBool():
            data = fdp.PickValueInList([PNG, JPEG]) [: fdp.ConsumeIntInRange(0, 200)] + data
        img = pixel_decoder.decode(data)
        pixel_filter.grayscale(img)
        return
    if k == 1:
        src = fdp.PickValueInList([PNG, JPEG])
        pos = fdp.ConsumeIntInRange(0, len(src))
        data = src[:pos] + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 8)) + src[pos + 1 :]
        img = pixel_decoder.decode(data)
    elif k == 2:
        img = pixel_decoder.synthetic(size(fdp, 8), size(fdp, 8), size(fdp, 4))
    else:
        h, w, c = (fdp.ConsumeIntInRange(0, 9) for _ in range(3))
        raw = fdp.ConsumeBytes(h * w * c)
        a = np.frombuffer(bytearray(raw + bytes(h * w * c - len(raw))), dtype=np.uint8).reshape(h, w, c)
        if fdp.ConsumeBool() and h > 1:
            a = a[::-1]
        if fdp.ConsumeBool() and w > 1:
            a = a[:, ::2]
        img = a
    radius = fdp.PickValueInList([0, 1, 2, 3, 7, -1, 1 << 40, 1 << 62])
    out = pixel_filter.box_blur(img, radius=radius)
    pixel_filter.grayscale(out)
    pixel_filter.invert_inplace(out)
    pixel_filter.invert_inplace(img)


def tiny_png(w=3, h=2):
    rows = b"".join(b"\x00" + bytes((x * 40 + y * 7) % 256 for x in range(w * 3)) for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def tiny_jpeg():
    try:
        import io

        from PIL import Image

        out = io.BytesIO()
        Image.new("RGB", (4, 3), (10, 200, 30)).save(out, "JPEG")
        return out.getvalue()
    except Exception:
        return b"\xff\xd8\xff\xe0" + bytes(16) + b"\xff\xd9"


PNG = tiny_png()
JPEG = tiny_jpeg()


def TestOneInput(data):
    fdp = atheris.FuzzedDataProvider(data)
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        what = fdp.ConsumeIntInRange(0, 6)
        try:
            if what == 6:
                op_pixels(fdp)
                continue
            obj = make_buffer(fdp) if what == 4 else make_provider(fdp)
            if obj is None:
                continue
            [op_export, op_mutate, op_pickle, op_dlpack, op_views, op_views][what](fdp, obj)
        except Finding:
            raise
        except Exception:
            pass  # a normal Python error: fine. A PanicException is not an Exception.


def main():
    # Coverage of this harness's own code guides the fuzzer (instrumenting everything loaded,
    # numpy included, takes ~15 s at startup: too much for a short CI pass).
    for name, fn in list(globals().items()):
        if callable(fn) and getattr(fn, "__module__", None) == __name__ and name not in ("main", "Finding"):
            globals()[name] = atheris.instrument_func(fn)
    atheris.Setup(sys.argv, globals()["TestOneInput"])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
