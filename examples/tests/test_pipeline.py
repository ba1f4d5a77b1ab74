"""The image pipeline: ``pixel_decoder`` exports decoded pixels, ``pixel_filter`` consumes any
3-d uint8 buffer in place.

Every filter result is compared with the numpy references in ``pixel_reference.py`` (which are
themselves cross-checked here against plain Python loops), on every kind of input a consumer
meets: the decoder's padded images, numpy arrays with any strides (sliced, negative, Fortran,
transposed, planar, zero strides), memoryviews, Pillow's arrays and other providers.  Then the
refusals (radius, channels, dtype, ndim, read-only targets), the output's buffer layout, the GIL
being released while a filter runs, and the lifetime of the views a filter holds.
"""

from __future__ import annotations

import array
import gc
import io
import mmap
import random
import sys
import threading
import time
import weakref

import _testbuffer as tb
import numpy as np
import pytest
from PIL import Image as PILImage

import buffer_examples as bx
import pixel_decoder
import pixel_filter
import pixel_reference as R

RNG_SEED = 20240611


def rng(seed=0):
    return np.random.default_rng(RNG_SEED + seed)


def rand_image(h, w, c, seed=0):
    return rng(seed).integers(0, 256, size=(h, w, c), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------
# Plain-Python loop implementations, straight from the formulas (small images only)
# ---------------------------------------------------------------------------------------------


def loop_box_blur(a, r):
    h, w, c = a.shape
    n = (2 * r + 1) ** 2
    out = np.zeros((h, w, c), dtype=np.uint8)
    vals = a.tolist()
    for y in range(h):
        for x in range(w):
            for ch in range(c):
                s = 0
                for dy in range(-r, r + 1):
                    yy = min(max(y + dy, 0), h - 1)
                    for dx in range(-r, r + 1):
                        xx = min(max(x + dx, 0), w - 1)
                        s += vals[yy][xx][ch]
                out[y, x, ch] = (s + n // 2) // n
    return out


def loop_grayscale(a):
    h, w, _ = a.shape
    out = np.zeros((h, w, 1), dtype=np.uint8)
    vals = a.tolist()
    for y in range(h):
        for x in range(w):
            rr, gg, bb = vals[y][x][:3]
            out[y, x, 0] = (77 * rr + 150 * gg + 29 * bb + 128) >> 8
    return out


def loop_synthetic(h, w, c):
    return np.array(
        [[[(y * 31 + x * 7 + ch * 101) % 256 for ch in range(c)] for x in range(w)] for y in range(h)],
        dtype=np.uint8,
    ).reshape(h, w, c)


class TestReferences:
    """The numpy references are right: they agree with the formulas written as loops."""

    @pytest.mark.parametrize("shape", [(5, 7, 3), (1, 6, 2), (6, 1, 1), (1, 1, 3), (4, 4, 4), (9, 3, 3)])
    @pytest.mark.parametrize("radius", [0, 1, 2, 4, 9])
    def test_box_blur(self, shape, radius):
        a = rand_image(*shape, seed=radius)
        assert np.array_equal(R.box_blur(a, radius), loop_box_blur(a, radius))

    def test_box_blur_extremes(self):
        # all-255 never overflows and stays 255; rounding is half-up: 1 bright pixel in a 3x3
        a = np.full((6, 5, 3), 255, np.uint8)
        assert np.array_equal(R.box_blur(a, 64), a)
        b = np.zeros((3, 3, 1), np.uint8)
        b[1, 1, 0] = 5  # S = 5, n = 9: (5 + 4) // 9 = 1 at every pixel
        assert R.box_blur(b, 1)[1, 1, 0] == 1
        b[1, 1, 0] = 4  # (4 + 4) // 9 = 0
        assert R.box_blur(b, 1)[1, 1, 0] == 0

    def test_box_blur_strided_input(self):
        a = rand_image(8, 10, 4, seed=3)
        v = a[::-2, 1::3, 2::-1]
        assert np.array_equal(R.box_blur(v, 2), loop_box_blur(np.array(v), 2))

    @pytest.mark.parametrize("shape", [(5, 7, 3), (3, 4, 4), (1, 9, 3), (7, 1, 5)])
    def test_grayscale(self, shape):
        a = rand_image(*shape, seed=shape[2])
        assert np.array_equal(R.grayscale(a), loop_grayscale(a))

    def test_grayscale_extremes(self):
        a = np.array([[[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
        # (256*255 + 128) >> 8 = 255; 0 -> 0; (77*255+128)>>8 = 77; 149; 29
        assert R.grayscale(a).ravel().tolist() == [255, 0, 77, 149, 29]

    @pytest.mark.parametrize("shape", [(4, 9, 3), (9, 40, 1), (2, 3, 4), (0, 3, 3)])
    def test_synthetic(self, shape):
        assert np.array_equal(R.synthetic(*shape), loop_synthetic(*shape))

    def test_refusals(self):
        with pytest.raises(ValueError):
            R.box_blur(rand_image(3, 3, 3), 65)
        with pytest.raises(ValueError):
            R.grayscale(rand_image(3, 3, 2))
        with pytest.raises(TypeError, match="^src:"):
            R.box_blur(np.zeros((3, 3, 3)), 1)


# ---------------------------------------------------------------------------------------------
# Output layout
# ---------------------------------------------------------------------------------------------


def row_pitch(width, channels):
    """The smallest multiple of 64 that holds a row."""
    return -(-width * channels // 64) * 64


def check_image(img, expected, image_type):
    """``img`` is an ``image_type`` exporting exactly ``expected`` with the specified layout."""
    expected = np.asarray(expected)
    assert isinstance(img, image_type), type(img)
    h, w, c = expected.shape
    assert (img.height, img.width, img.channels) == (h, w, c)
    assert img.pitch % 64 == 0
    assert img.pitch >= w * c
    if w * c:
        assert img.pitch == row_pitch(w, c)
    m = memoryview(img)
    try:
        assert m.format == "B"
        assert m.itemsize == 1
        assert m.ndim == 3
        assert m.shape == (h, w, c)
        # strides (pitch, c, 1); the stride of a length-1 dim addresses nothing, and nor does
        # any stride of an empty buffer, so an exporter may report other values there
        if m.nbytes:
            for n, got, want in zip(m.shape, m.strides, (img.pitch, c, 1)):
                assert n == 1 or got == want, (m.strides, (img.pitch, c, 1))
        assert not m.readonly
        assert m.nbytes == h * w * c
    finally:
        m.release()
    arr = np.asarray(img)
    assert arr.dtype == np.uint8 and arr.shape == (h, w, c)
    assert arr.flags.writeable
    assert np.array_equal(arr, expected)
    if arr.size:
        # writable: a write through one view is seen by the next export
        old = int(arr[-1, -1, -1])
        arr[-1, -1, -1] = old ^ 0xA5
        assert np.asarray(img)[-1, -1, -1] == old ^ 0xA5
        arr[-1, -1, -1] = old


def check_filter_output(out, expected, *sources):
    check_image(out, expected, pixel_filter.Image)
    o = np.asarray(out)
    for s in sources:
        try:
            sa = np.asarray(s)
        except (TypeError, ValueError, BufferError):
            continue
        assert not np.shares_memory(o, sa), "the output aliases the input"


# ---------------------------------------------------------------------------------------------
# pixel_decoder
# ---------------------------------------------------------------------------------------------


class TestDecoder:
    @pytest.mark.parametrize(
        "shape", [(4, 9, 3), (7, 33, 3), (3, 64, 1), (2, 16, 4), (5, 21, 2), (1, 1, 3), (130, 70, 3)]
    )
    def test_synthetic(self, shape):
        img = pixel_decoder.synthetic(*shape)
        check_image(img, R.synthetic(*shape), pixel_decoder.Image)

    def test_synthetic_default_channels(self):
        img = pixel_decoder.synthetic(6, 5)
        check_image(img, R.synthetic(6, 5, 3), pixel_decoder.Image)

    @pytest.mark.parametrize("shape", [(0, 5, 3), (5, 0, 3), (0, 0, 3)])
    def test_synthetic_empty(self, shape):
        img = pixel_decoder.synthetic(*shape)
        check_image(img, np.zeros(shape, np.uint8), pixel_decoder.Image)

    def test_decode_png(self):
        a = rand_image(37, 53, 3, seed=11)
        png = encode(a, "PNG")
        for data in (png, bytearray(png), memoryview(png)):
            img = pixel_decoder.decode(data)
            check_image(img, a, pixel_decoder.Image)

    def test_decode_jpeg(self):
        a = smooth_image(48, 40, seed=12)
        jpg = encode(a, "JPEG", quality=95, subsampling=0)
        img = pixel_decoder.decode(jpg)
        pil = np.asarray(PILImage.open(io.BytesIO(jpg)))
        assert (img.height, img.width, img.channels) == pil.shape
        # JPEG decoders may round the IDCT differently: close to Pillow's, not bit-equal
        diff = np.abs(np.asarray(img).astype(int) - pil.astype(int))
        assert diff.mean() < 2.0, diff.mean()


def encode(a, fmt, **kw):
    buf = io.BytesIO()
    PILImage.fromarray(np.ascontiguousarray(a)).save(buf, format=fmt, **kw)
    return buf.getvalue()


def smooth_image(h, w, seed=0):
    """Photo-like content: gradients plus a little noise (compresses like a picture)."""
    y = np.arange(h).reshape(-1, 1, 1)
    x = np.arange(w).reshape(1, -1, 1)
    c = np.arange(3).reshape(1, 1, -1)
    base = (y * 255 // max(h - 1, 1)) * (c == 0) + (x * 255 // max(w - 1, 1)) * (c == 1) + 96 * (c == 2)
    noise = rng(seed).integers(-6, 7, size=(h, w, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Input kinds for box_blur / grayscale
# ---------------------------------------------------------------------------------------------

H, W = 23, 31


def _kinds():
    """id -> factory returning a fresh source object (a 3-d uint8 buffer)."""
    a3 = lambda: rand_image(H, W, 3, seed=1)  # noqa: E731
    a4 = lambda: rand_image(H, W, 4, seed=2)  # noqa: E731

    def readonly():
        a = a3()
        a.setflags(write=False)
        return a

    def bx_image():
        # another project provider: padded rows with an odd pitch
        return bx.Image(H, W, 3, W * 3 + 5)

    def bytes_view():
        return memoryview(bytes(a3())).cast("B", (H, W, 3))

    def testbuffer_negative():
        a = a3()
        # CPython's reference exporter, rows reversed through a negative stride and an offset
        return tb.ndarray(
            a.ravel().tolist(), shape=[H, W, 3], strides=[-W * 3, 3, 1], offset=(H - 1) * W * 3, format="B"
        )

    return {
        "c-array": a3,
        "sliced": lambda: a3()[1:-1:2, ::3],
        "negative": lambda: a3()[::-1, ::-1],
        "negative-all-axes": lambda: a3()[::-1, ::-2, ::-1],
        "fortran": lambda: np.asfortranarray(a3()),
        "transposed": lambda: a3().transpose(1, 0, 2),
        "rgb-of-rgba": lambda: a4()[:, :, :3],  # channel-last, pixel stride 4
        "bgr-view": lambda: a3()[:, :, ::-1],  # channel stride -1
        "planar": lambda: np.ascontiguousarray(a3().transpose(2, 0, 1)).transpose(1, 2, 0),
        "zero-strides": lambda: np.broadcast_to(a3()[:1, :1], (H, W, 3)),
        "readonly-array": readonly,
        "rgba": a4,
        "memoryview": lambda: memoryview(a3()),
        "memoryview-strided": lambda: memoryview(a3()[::2, ::-1]),
        "memoryview-of-bytes": bytes_view,
        "testbuffer-negative": testbuffer_negative,
        "pil-rgb": lambda: np.asarray(PILImage.fromarray(a3())),
        "pil-rgba": lambda: np.asarray(PILImage.fromarray(a4(), "RGBA")),
        "decoder-synthetic": lambda: pixel_decoder.synthetic(H, W, 3),
        "decoder-synthetic-rgba": lambda: pixel_decoder.synthetic(H, W, 4),
        "decoder-decoded-png": lambda: pixel_decoder.decode(encode(a3(), "PNG")),
        "buffer-examples-image": bx_image,
        "filter-output": lambda: pixel_filter.box_blur(a3(), radius=0),
    }


KINDS = _kinds()


def logical(src):
    """What the source holds, as an independent C-contiguous copy."""
    if isinstance(src, tb.ndarray):
        return np.array(src.tolist(), dtype=np.uint8).reshape(src.shape)
    return np.array(np.asarray(src), copy=True, order="C")


def snapshot(src):
    return logical(src).tobytes()


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("radius", [0, 1, 3])
def test_box_blur_kinds(kind, radius):
    src = KINDS[kind]()
    want = R.box_blur(logical(src), radius)
    before = snapshot(src)
    out = pixel_filter.box_blur(src, radius)
    check_filter_output(out, want, src)
    assert snapshot(src) == before, "box_blur wrote its input"


@pytest.mark.parametrize("kind", list(KINDS))
def test_grayscale_kinds(kind):
    src = KINDS[kind]()
    want = R.grayscale(logical(src))
    before = snapshot(src)
    out = pixel_filter.grayscale(src)
    check_filter_output(out, want, src)
    assert snapshot(src) == before, "grayscale wrote its input"


def test_box_blur_default_radius_is_1():
    a = rand_image(9, 11, 3, seed=5)
    check_filter_output(pixel_filter.box_blur(a), R.box_blur(a, 1), a)
    check_filter_output(pixel_filter.box_blur(a, radius=2), R.box_blur(a, 2), a)


def test_radius_zero_is_identity_copy():
    a = rand_image(13, 17, 3, seed=6)
    out = pixel_filter.box_blur(a, 0)
    check_filter_output(out, a, a)
    np.asarray(out)[...] = 0  # the copy is independent of the source
    assert a.any()


@pytest.mark.parametrize("shape", [(5, 7, 3), (1, 1, 3), (3, 2, 1), (40, 3, 3)])
@pytest.mark.parametrize("radius", [20, 64])
def test_radius_larger_than_image(shape, radius):
    a = rand_image(*shape, seed=radius)
    check_filter_output(pixel_filter.box_blur(a, radius), R.box_blur(a, radius), a)


@pytest.mark.parametrize(
    "shape", [(1, 17, 3), (13, 1, 3), (1, 1, 3), (1, 1, 1), (2, 2, 3), (3, 70, 4), (70, 3, 2), (5, 5, 7)]
)
@pytest.mark.parametrize("radius", [1, 2, 5])
def test_thin_images(shape, radius):
    a = rand_image(*shape, seed=sum(shape))
    check_filter_output(pixel_filter.box_blur(a, radius), R.box_blur(a, radius), a)
    if shape[2] >= 3:
        check_filter_output(pixel_filter.grayscale(a), R.grayscale(a), a)
        check_filter_output(pixel_filter.grayscale(a[:, ::-1]), R.grayscale(a[:, ::-1]), a)


@pytest.mark.parametrize("shape", [(0, 5, 3), (5, 0, 3), (0, 0, 3), (4, 4, 0), (0, 0, 0)])
def test_zero_size_box_blur(shape):
    # the spec's shape rule applied to an empty image: an empty Image of the same shape
    for src in (np.zeros(shape, np.uint8), pixel_decoder.synthetic(*shape)):
        out = pixel_filter.box_blur(src, 2)
        check_image(out, np.zeros(shape, np.uint8), pixel_filter.Image)


@pytest.mark.parametrize("shape", [(0, 5, 3), (5, 0, 3), (0, 0, 4)])
def test_zero_size_grayscale(shape):
    for src in (np.zeros(shape, np.uint8), pixel_decoder.synthetic(*shape)):
        out = pixel_filter.grayscale(src)
        check_image(out, np.zeros(shape[:2] + (1,), np.uint8), pixel_filter.Image)


def test_grayscale_uses_first_three_channels():
    a = rand_image(6, 7, 4, seed=8)
    b = a.copy()
    b[:, :, 3] = 255 - b[:, :, 3]  # alpha differs, RGB equal
    ga, gb = pixel_filter.grayscale(a), pixel_filter.grayscale(b)
    check_filter_output(ga, R.grayscale(a[:, :, :3]), a)
    assert np.array_equal(np.asarray(ga), np.asarray(gb))
    wide = rand_image(4, 5, 9, seed=9)
    check_filter_output(pixel_filter.grayscale(wide), loop_grayscale(wide), wide)


# ---------------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("radius", [-1, 65, -64, 1000])
def test_radius_out_of_range(radius):
    with pytest.raises(ValueError):
        pixel_filter.box_blur(rand_image(4, 4, 3), radius)


@pytest.mark.parametrize("radius", [0, 64])
def test_radius_bounds_accepted(radius):
    a = rand_image(3, 4, 3)
    check_filter_output(pixel_filter.box_blur(a, radius), R.box_blur(a, radius), a)


@pytest.mark.parametrize("channels", [0, 1, 2])
def test_grayscale_too_few_channels(channels):
    for src in (np.zeros((4, 5, channels), np.uint8), pixel_decoder.synthetic(4, 5, channels)):
        with pytest.raises(ValueError):
            pixel_filter.grayscale(src)


BAD_TYPES = {
    "float64": lambda: np.zeros((4, 5, 3), np.float64),
    "int32": lambda: np.zeros((4, 5, 3), np.int32),
    "int8": lambda: np.zeros((4, 5, 3), np.int8),  # same itemsize, wrong format
    "bool": lambda: np.zeros((4, 5, 3), np.bool_),
    "uint16": lambda: np.zeros((4, 5, 3), np.uint16),
    "2-d": lambda: np.zeros((4, 5), np.uint8),
    "4-d": lambda: np.zeros((2, 4, 5, 3), np.uint8),
    "1-d bytes": lambda: bytes(60),
    "0-d": lambda: np.array(7, np.uint8),
    "float-provider": lambda: bx.Grid([4, 5, 3]),
}


@pytest.mark.parametrize("fn", ["box_blur", "grayscale"])
@pytest.mark.parametrize("bad", list(BAD_TYPES))
def test_wrong_dtype_or_ndim(fn, bad):
    with pytest.raises(TypeError) as e:
        getattr(pixel_filter, fn)(BAD_TYPES[bad]())
    assert str(e.value).startswith("src:"), str(e.value)


@pytest.mark.parametrize("fn", ["box_blur", "grayscale"])
@pytest.mark.parametrize("bad", [None, [[[1, 2, 3]]], "abc", 3])
def test_not_a_buffer(fn, bad):
    with pytest.raises(TypeError):
        getattr(pixel_filter, fn)(bad)


# ---------------------------------------------------------------------------------------------
# invert_inplace
# ---------------------------------------------------------------------------------------------


def test_invert_decoder_image():
    img = pixel_decoder.synthetic(19, 23, 3)
    old = np.array(img)
    assert pixel_filter.invert_inplace(img) is None
    assert np.array_equal(np.asarray(img), 255 - old)
    check_image(img, 255 - old, pixel_decoder.Image)


def test_invert_filter_output():
    a = rand_image(7, 9, 3)
    out = pixel_filter.box_blur(a, 1)
    pixel_filter.invert_inplace(out)
    assert np.array_equal(np.asarray(out), 255 - R.box_blur(a, 1))


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[::-1, ::-2],
        lambda a: a[::-3, 1::2, ::-1],
        lambda a: a.transpose(1, 0, 2)[::-1],
        lambda a: a[:, :, 1],
        lambda a: a,
    ],
    ids=["neg-rows-cols", "neg-all", "transposed-neg", "one-channel-2d", "whole"],
)
def test_invert_numpy_views_write_only_the_view(view):
    base = rand_image(10, 12, 3, seed=21)
    old = base.copy()
    v = view(base)
    mask = np.zeros(base.shape, bool)
    view(mask)[...] = True
    assert pixel_filter.invert_inplace(v) is None
    assert np.array_equal(base[mask], 255 - old[mask])  # the view's elements, seen by the owner
    assert np.array_equal(base[~mask], old[~mask])  # nothing outside the view


def test_invert_bytearray():
    b = bytearray(range(256)) * 3
    assert pixel_filter.invert_inplace(b) is None
    assert b == bytearray(255 - i for i in range(256)) * 3


def test_invert_stdlib_exporters():
    # array.array points its view's shape into the object; mmap (like bytearray and bytes) fills
    # the view with PyBuffer_FillInfo, whose shape/strides point into the Py_buffer itself
    arr = array.array("B", range(200))
    pixel_filter.invert_inplace(arr)
    assert arr.tolist() == [255 - i for i in range(200)]
    with mmap.mmap(-1, 300) as mm:
        mm[:] = bytes(i % 256 for i in range(300))
        pixel_filter.invert_inplace(mm)
        assert mm[:] == bytes(255 - i % 256 for i in range(300))


def test_invert_memoryview_of_bytearray():
    b = bytearray(b"\x00\x01\x7f\x80\xfe\xff" * 5)
    m = memoryview(b)
    pixel_filter.invert_inplace(m)
    assert b == bytearray(b"\xff\xfe\x80\x7f\x01\x00" * 5)
    m2 = memoryview(b)[::-2]  # strided memoryview: only every other byte, from the end
    old = bytes(b)
    pixel_filter.invert_inplace(m2)
    want = bytearray(old)
    for i in range(len(old) - 1, -1, -2):
        want[i] = 255 - old[i]
    assert b == want


@pytest.mark.parametrize("shape", [(37,), (3, 4, 5, 6), (2, 1, 3, 1, 2), (), (0,), (3, 0, 2)])
def test_invert_any_ndim(shape):
    a = rng(len(shape)).integers(0, 256, size=shape, dtype=np.uint8)
    old = a.copy()
    pixel_filter.invert_inplace(a)
    assert np.array_equal(a, 255 - old)


def test_invert_typed_array_provider():
    t = bx.TypedArray("uint8", [0, 1, 200, 255])
    pixel_filter.invert_inplace(t)
    assert t.tolist() == [255, 254, 55, 0]
    assert t.exports() == 0


def _ro_array():
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    a.setflags(write=False)
    return a


READ_ONLY = {
    "bytes": lambda: b"abcdef",
    "frozen": lambda: bx.Frozen(b"abc"),
    "readonly-numpy": _ro_array,
    "readonly-memoryview": lambda: memoryview(bytearray(b"xyz123")).toreadonly(),
    "memoryview-of-bytes": lambda: memoryview(b"qwerty"),
    "broadcast": lambda: np.broadcast_to(np.arange(3, dtype=np.uint8), (4, 3)),
    "pil-array": lambda: np.asarray(PILImage.fromarray(rand_image(4, 5, 3))),
    "testbuffer-readonly": lambda: tb.ndarray([1, 2, 3, 4], shape=[2, 2], format="B"),
}


@pytest.mark.parametrize("kind", list(READ_ONLY))
def test_invert_refuses_read_only(kind):
    obj = READ_ONLY[kind]()
    before = bytes(memoryview(obj).tobytes())
    with pytest.raises((BufferError, TypeError)):
        pixel_filter.invert_inplace(obj)
    assert bytes(memoryview(obj).tobytes()) == before


# ---------------------------------------------------------------------------------------------
# The GIL is released while a filter computes
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big():
    """A picture large enough that ``box_blur(big, radius=64)`` takes at least 0.6 s here
    (sized by measuring; nothing is asserted about time), and its reference result."""
    h, w = 256, 256
    while True:
        a = rand_image(h, w, 3, seed=99)
        t0 = time.perf_counter()
        pixel_filter.box_blur(a, 64)
        dt = time.perf_counter() - t0
        if dt >= 0.6 or h * w >= 8000 * 6000:
            break
        grow = min(max(0.9 / max(dt, 1e-4), 1.5), 64.0)
        h, w = int(h * grow**0.5) + 1, int(w * grow**0.5) + 1
    return a, R.box_blur(a, 64)


class Counter:
    """A Python thread incrementing a counter as fast as it can."""

    def __init__(self):
        self.n = 0
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop:
            self.n += 1

    def __enter__(self):
        self._t.start()
        while self.n == 0:
            time.sleep(0.001)
        return self

    def __exit__(self, *exc):
        self._stop = True
        self._t.join()

    def during(self, fn, *args):
        n0 = self.n
        result = fn(*args)
        return self.n - n0, result


@pytest.fixture
def short_switch_interval():
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    yield
    sys.setswitchinterval(old)


def test_gil_released_during_box_blur(big, short_switch_interval):
    a, want = big
    rnd = random.Random(5)
    ints = [rnd.getrandbits(60) for _ in range(2_000_000)]
    with Counter() as c:
        idle, _ = c.during(time.sleep, 0.2)  # the counter's pace with nothing else running
        threshold = idle // 4  # 50 ms worth of counting
        # control: sorting ints is C code that holds the GIL throughout; the counter only moves
        # at the call's edges (about one switch interval)
        held, _ = c.during(sorted, ints)
        released, out = c.during(pixel_filter.box_blur, a, 64)
    assert held < threshold, f"method check: a GIL-holding call let the counter move {held} (>= {threshold})"
    assert released >= threshold, (
        f"the counter moved only {released} during box_blur (idle pace: {idle} per 0.2 s; "
        f"GIL-holding control: {held})"
    )
    assert np.array_equal(np.asarray(out), want)


# ---------------------------------------------------------------------------------------------
# Lifetime of the views a filter holds
# ---------------------------------------------------------------------------------------------


def run_in_thread(fn):
    started = threading.Event()
    box = {}

    def body():
        started.set()
        try:
            box["out"] = fn()
        except BaseException as e:  # noqa: BLE001 - reported by the caller
            box["err"] = e

    t = threading.Thread(target=body)
    t.start()
    started.wait()
    return t, box


def test_source_deleted_while_blur_runs(big):
    a0, want = big
    holder = [a0.copy()]
    wr = weakref.ref(holder[0])
    t, box = run_in_thread(lambda: pixel_filter.box_blur(holder[0], 64))
    time.sleep(0.05)  # let the call start
    holder.clear()  # the only Python reference to the array is gone while the blur runs
    for _ in range(20):  # churn the allocator: freed memory would be reused
        np.full(a0.shape, 0xAA, np.uint8)
    t.join()
    assert "err" not in box, box.get("err")
    assert np.array_equal(np.asarray(box["out"]), want)
    del box["out"]
    gc.collect()
    assert wr() is None, "the source array is still referenced after the call (leaked view?)"


def test_view_held_for_the_whole_call(big):
    a0, want = big
    ba = bytearray(a0.tobytes())
    mv = memoryview(ba).cast("B", a0.shape)
    t, box = run_in_thread(lambda: pixel_filter.box_blur(mv, 64))
    time.sleep(0.05)
    alive = t.is_alive()
    try:
        mv.release()
        released_early = True
    except BufferError:  # "memoryview has 1 exported buffer": the filter still holds its view
        released_early = False
    t.join()
    assert alive, "box_blur finished before the probe: the picture is too small for this check"
    assert not released_early, "the memoryview could be released while box_blur was reading it"
    assert "err" not in box, box.get("err")
    assert np.array_equal(np.asarray(box["out"]), want)
    mv.release()  # after the call, every export is gone: the owner can be resized
    ba.extend(b"x")


N_CALLS = 2000


def test_no_reference_leak_numpy_source():
    src = rand_image(16, 24, 3, seed=31)
    bad = np.zeros((4, 4, 3), np.float64)
    ref = R.box_blur(src, 1)
    rc, rc_bad = sys.getrefcount(src), sys.getrefcount(bad)
    for _ in range(N_CALLS):
        out = pixel_filter.box_blur(src, 1)
        pixel_filter.grayscale(src)
        with pytest.raises(ValueError):
            pixel_filter.box_blur(src, 65)
        with pytest.raises(TypeError):
            pixel_filter.box_blur(bad)
    del out
    assert sys.getrefcount(src) == rc
    assert sys.getrefcount(bad) == rc_bad
    assert np.array_equal(np.asarray(pixel_filter.box_blur(src, 1)), ref)


def test_no_reference_leak_decoder_image():
    img = pixel_decoder.synthetic(16, 24, 3)
    rc = sys.getrefcount(img)
    for _ in range(N_CALLS):
        pixel_filter.box_blur(img, 1)
        pixel_filter.grayscale(img)
        pixel_filter.invert_inplace(img)  # an even number of times: back to the start
    assert sys.getrefcount(img) == rc
    # the image is not pinned: it exports again, and its contents are what they were
    with memoryview(img) as m:
        assert m.shape == (16, 24, 3)
    assert np.array_equal(np.asarray(img), R.synthetic(16, 24, 3))
    del img
    gc.collect()


def test_refused_exports_are_released():
    f = bx.Frozen(b"abc")
    rc = sys.getrefcount(f)
    for _ in range(1000):
        with pytest.raises((BufferError, TypeError)):
            pixel_filter.invert_inplace(f)
    assert sys.getrefcount(f) == rc
    assert bytes(f) == b"abc"


def test_bytearray_resizable_after_invert():
    b = bytearray(b"\x10\x20\x30")
    for _ in range(1000):
        pixel_filter.invert_inplace(b)
    b.extend(b"\x40")  # BufferError if any export were still alive
    assert b == bytearray(b"\x10\x20\x30\x40")


def test_typed_array_exports_released():
    t = bx.TypedArray("uint8", [1, 2, 3])
    for _ in range(1001):
        pixel_filter.invert_inplace(t)
    assert t.exports() == 0
    assert t.tolist() == [254, 253, 252]


def test_growable_array_resizable_after_invert():
    # GrowableArray exports float64 ("d"), not uint8: invert_inplace may refuse it (TypeError or
    # BufferError) or treat its bytes as uint8; either way every export must be released.
    g = bx.GrowableArray([1.5, -2.0, 3.25])
    raw = bytes(memoryview(g))
    outcomes = set()
    for _ in range(1000):
        try:
            pixel_filter.invert_inplace(g)
            outcomes.add("ok")
        except (TypeError, BufferError):
            outcomes.add("refused")
    assert len(outcomes) == 1, outcomes  # the same answer every time
    assert g.exports() == 0
    assert bytes(memoryview(g)) == raw  # refused, or inverted an even number of times
    g.resize(5)  # BufferError if an export leaked
    assert g.tolist() == [1.5, -2.0, 3.25, 0.0, 0.0]


# ---------------------------------------------------------------------------------------------
# decode -> filter chain
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(37, 53), (64, 21), (1, 70), (90, 1)])
@pytest.mark.parametrize("radius", [1, 4])
def test_decode_blur_grayscale_chain(shape, radius):
    a = smooth_image(*shape, seed=radius)
    png = encode(a, "PNG")
    pil = np.asarray(PILImage.open(io.BytesIO(png)))
    assert np.array_equal(pil, a)
    blurred = pixel_filter.box_blur(pixel_decoder.decode(png), radius)
    check_filter_output(blurred, R.box_blur(pil, radius), pil)
    gray = pixel_filter.grayscale(pixel_filter.box_blur(pixel_decoder.decode(png), radius))
    check_filter_output(gray, R.grayscale(R.box_blur(pil, radius)))


def test_chain_default_radius():
    a = smooth_image(30, 41, seed=7)
    png = encode(a, "PNG")
    pil = np.asarray(PILImage.open(io.BytesIO(png)))
    out = pixel_filter.grayscale(pixel_filter.box_blur(pixel_decoder.decode(png)))
    check_filter_output(out, R.grayscale(R.box_blur(pil)))
