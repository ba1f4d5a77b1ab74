"""pixel_decoder: PNG/JPEG decoded into a padded, zero-copy uint8 buffer.

Every expected value comes from an independent reference: numpy formulas, Pillow's own decode
of the same file, hand-assembled PNG files (zlib + struct), memoryview and ``_testbuffer``.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import textwrap
import threading
import zlib

import _testbuffer as tb
import numpy as np
import pytest
from PIL import Image as PILImage

import pixel_decoder as pd

# --------------------------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------------------------


def pattern(h, w, c):
    """What ``synthetic(h, w, c)`` must hold, from the formula in the spec."""
    return np.fromfunction(lambda y, x, k: (y * 31 + x * 7 + k * 101) % 256, (h, w, c), dtype=np.int64).astype(
        np.uint8
    )


def rows_with_padding(img):
    """The image's whole memory, row by row (``pitch`` bytes each, padding included)."""
    a = np.asarray(img)
    return np.lib.stride_tricks.as_strided(a, shape=(img.height, img.pitch), strides=(img.pitch, 1), writeable=False)


def check_layout(img, h, w, c):
    assert (img.height, img.width, img.channels) == (h, w, c)
    assert img.pitch % 64 == 0
    assert w * c <= img.pitch < w * c + 64
    m = memoryview(img)
    assert m.format == "B" and m.itemsize == 1 and m.ndim == 3
    assert m.shape == (h, w, c)
    assert m.strides == (img.pitch, c, 1)
    assert m.readonly is False
    assert m.nbytes == h * w * c
    if h > 0 and img.pitch > 0:
        assert not rows_with_padding(img)[:, w * c :].any(), "padding bytes must be 0"


def save(pil_image, fmt, **kw):
    b = io.BytesIO()
    pil_image.save(b, fmt, **kw)
    return b.getvalue()


def pil_decode(data, mode=None):
    im = PILImage.open(io.BytesIO(data))
    if mode is not None:
        im = im.convert(mode)
    return np.asarray(im)


def decoded(data):
    """``decode(data)`` as a numpy array of shape (h, w, c)."""
    img = pd.decode(data)
    a = np.asarray(img)
    check_layout(img, *a.shape)
    return a


def photo(rng, h, w, noise=4.0):
    """A smooth, photo-like RGB picture with mild noise."""
    y, x = np.mgrid[0:h, 0:w].astype(float)
    base = np.stack(
        [128 + 100 * np.sin(x / 17 + y / 29), 128 + 90 * np.cos(y / 13), 128 + 80 * np.sin((x - y) / 23)], -1
    )
    return np.clip(base + rng.normal(0, noise, base.shape), 0, 255).astype(np.uint8)


# Hand-assembled PNG files (the PNG spec, written out with zlib and struct).


def png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def pack_samples(rows, depth):
    """Rows of samples (h, n) as PNG scanline bytes at ``depth`` bits per sample."""
    if depth == 16:
        return [r.astype(">u2").tobytes() for r in rows]
    if depth == 8:
        return [r.astype(np.uint8).tobytes() for r in rows]
    per = 8 // depth
    out = []
    for r in rows:
        r = np.concatenate([r.astype(np.uint8), np.zeros((-len(r)) % per, np.uint8)]).reshape(-1, per)
        shifts = np.arange(per - 1, -1, -1) * depth
        out.append((r << shifts).sum(axis=1).astype(np.uint8).tobytes())
    return out


def make_png(samples, depth, color_type, interlace=False, extra=b""):
    """A PNG of ``samples`` (h, w, n) with filter 0 on every scanline."""
    h, w, n = samples.shape
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\0" + r for r in pack_samples(sub.reshape(sub.shape[0], -1), depth))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + extra
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# --------------------------------------------------------------------------------------------
# synthetic
# --------------------------------------------------------------------------------------------

SHAPES = [(1, 1, 1), (3, 5, 3), (17, 23, 4), (10, 64, 1), (9, 22, 3), (4, 16, 4), (300, 41, 3), (2, 3, 2), (5, 7, 0)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_synthetic_matches_formula(shape):
    img = pd.synthetic(*shape)
    check_layout(img, *shape)
    np.testing.assert_array_equal(np.asarray(img), pattern(*shape))
    assert memoryview(img).tolist() == pattern(*shape).tolist()
    assert bytes(img) == pattern(*shape).tobytes()


def test_synthetic_default_is_rgb():
    img = pd.synthetic(4, 5)
    assert img.channels == 3
    np.testing.assert_array_equal(np.asarray(img), pattern(4, 5, 3))


def test_pitch_examples():
    # The row length rounded up to a multiple of 64.
    assert pd.synthetic(2, 3, 3).pitch == 64
    assert pd.synthetic(2, 16, 4).pitch == 64
    assert pd.synthetic(2, 65, 1).pitch == 128
    assert pd.synthetic(2, 100, 3).pitch == 320


@pytest.mark.parametrize("shape", [(0, 5, 3), (4, 0, 3), (0, 0, 1), (3, 4, 0), (0, 0, 0)])
def test_empty_images_export(shape):
    img = pd.synthetic(*shape)
    check_layout(img, *shape)
    a = np.asarray(img)
    assert a.shape == shape and a.dtype == np.uint8 and a.size == 0
    assert bytes(img) == b""
    for flags in (tb.PyBUF_FULL_RO, tb.PyBUF_C_CONTIGUOUS, tb.PyBUF_SIMPLE, tb.PyBUF_FULL):
        nd = tb.ndarray(img, getbuf=flags)
        assert nd.tobytes() == b""


@pytest.mark.parametrize("shape", [(2**62, 0, 3), (2, 2**62, 0), (2**40, 2**20, 0), (0, 2**40, 3)])
def test_huge_but_empty_images_are_instant(shape):
    img = pd.synthetic(*shape)
    check_layout(img, *shape)
    assert bytes(img) == b""


def test_zero_width_has_zero_pitch():
    img = pd.synthetic(4, 0, 3)
    assert img.pitch == 0
    assert memoryview(img).strides == (0, 3, 1)


@pytest.mark.parametrize("bad", [-1, -(2**70)])
def test_synthetic_negative_sizes(bad):
    for args in ((bad, 2), (2, bad), (2, 2, bad)):
        with pytest.raises(ValueError):
            pd.synthetic(*args)


@pytest.mark.parametrize("args", [(2**62, 2**62), (2**20, 2**20, 4), (2**40, 2**40, 3), (1, 2**63 - 1, 1)])
def test_synthetic_huge_sizes(args):
    with pytest.raises((MemoryError, ValueError)):
        pd.synthetic(*args)


def test_synthetic_type_errors():
    with pytest.raises(TypeError):
        pd.synthetic(2.5, 3)
    with pytest.raises(TypeError):
        pd.synthetic("2", 3)


# --------------------------------------------------------------------------------------------
# The Image class
# --------------------------------------------------------------------------------------------


def test_attributes_are_read_only():
    img = pd.synthetic(3, 5, 4)
    for name in ("height", "width", "channels", "pitch"):
        with pytest.raises(AttributeError):
            setattr(img, name, 1)
    assert (img.height, img.width, img.channels, img.pitch) == (3, 5, 4, 64)


def test_repr():
    r = repr(pd.synthetic(3, 5, 4))
    assert "Image" in r
    for part in ("height=3", "width=5", "channels=4", "pitch=64"):
        assert part in r


def test_class_identity():
    assert pd.Image.__module__ == "pixel_decoder"
    assert type(pd.synthetic(1, 1)) is pd.Image
    assert isinstance(pd.decode(save(PILImage.new("RGB", (2, 2)), "PNG")), pd.Image)


def test_numpy_shares_memory():
    img = pd.synthetic(6, 7, 3)
    a = np.asarray(img)
    assert a.flags.writeable and not a.flags.c_contiguous
    a[2, 3, 1] = 250
    a[5, 6, :] = (1, 2, 3)
    b = np.asarray(img)
    assert np.shares_memory(a, b)
    assert b[2, 3, 1] == 250 and tuple(b[5, 6]) == (1, 2, 3)
    m = memoryview(img)
    assert m[2, 3, 1] == 250
    m[0, 0, 0] = 77
    assert a[0, 0, 0] == 77
    expected = pattern(6, 7, 3)
    expected[2, 3, 1], expected[5, 6], expected[0, 0, 0] = 250, (1, 2, 3), 77
    np.testing.assert_array_equal(np.asarray(img), expected)


def test_decoded_image_is_writable_and_shared(rng):
    arr = rng.integers(0, 256, (5, 9, 3), dtype=np.uint8)
    img = pd.decode(save(PILImage.fromarray(arr), "PNG"))
    a = np.asarray(img)
    a[...] = 255 - a
    np.testing.assert_array_equal(np.asarray(img), 255 - arr)


def test_array_keeps_image_alive():
    a = np.asarray(pd.synthetic(9, 10, 3))
    import gc

    gc.collect()
    np.testing.assert_array_equal(a, pattern(9, 10, 3))


def test_testbuffer_full_ro():
    img = pd.synthetic(5, 7, 3)
    nd = tb.ndarray(img, getbuf=tb.PyBUF_FULL_RO)
    assert nd.format == "B" and nd.shape == (5, 7, 3) and nd.strides == (img.pitch, 3, 1)
    assert nd.tolist() == pattern(5, 7, 3).tolist()
    assert nd.obj is img
    nd = tb.ndarray(img, getbuf=tb.PyBUF_FULL)
    assert nd.readonly is False


def test_padded_image_refuses_contiguous_requests():
    img = pd.synthetic(5, 7, 3)
    assert img.pitch > 7 * 3
    for flags in (tb.PyBUF_C_CONTIGUOUS, tb.PyBUF_ANY_CONTIGUOUS, tb.PyBUF_F_CONTIGUOUS, tb.PyBUF_SIMPLE, tb.PyBUF_ND):
        with pytest.raises(BufferError):
            tb.ndarray(img, getbuf=flags)


def test_tight_rows_are_c_contiguous():
    img = pd.synthetic(5, 16, 4)  # 64-byte rows: no padding
    assert img.pitch == 64
    nd = tb.ndarray(img, getbuf=tb.PyBUF_C_CONTIGUOUS)
    assert nd.c_contiguous and nd.tobytes() == pattern(5, 16, 4).tobytes()
    assert memoryview(img).c_contiguous


def test_single_row_is_contiguous():
    img = pd.synthetic(1, 5, 3)  # a length-1 dimension ignores its stride
    assert tb.ndarray(img, getbuf=tb.PyBUF_C_CONTIGUOUS).tobytes() == pattern(1, 5, 3).tobytes()


# --------------------------------------------------------------------------------------------
# PNG: exact agreement with Pillow
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 2, 3, 4], ids=["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (13, 29), (40, 70)], ids=lambda s: "x".join(map(str, s)))
def test_png_8bit_round_trip(rng, channels, size):
    h, w = size
    arr = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
    pil = PILImage.fromarray(arr[..., 0] if channels == 1 else arr)
    data = save(pil, "PNG")
    ref = pil_decode(data).reshape(h, w, channels)
    np.testing.assert_array_equal(ref, arr)  # the reference itself is sane
    np.testing.assert_array_equal(decoded(data), ref)


def test_png_optimized_and_compressed(rng):
    arr = photo(rng, 50, 61)
    for kw in ({"optimize": True}, {"compress_level": 0}, {"compress_level": 9}):
        data = save(PILImage.fromarray(arr), "PNG", **kw)
        np.testing.assert_array_equal(decoded(data), pil_decode(data))


@pytest.mark.parametrize("colors", [2, 4, 16, 200])  # Pillow writes 1, 2, 4 and 8-bit indices
def test_png_palette_expands_to_rgb(rng, colors):
    pil = PILImage.fromarray(rng.integers(0, 256, (21, 19, 3), dtype=np.uint8)).quantize(colors=colors)
    data = save(pil, "PNG")
    assert PILImage.open(io.BytesIO(data)).mode == "P"
    np.testing.assert_array_equal(decoded(data), pil_decode(data, "RGB"))


def test_png_palette_with_transparency_expands_to_rgba(rng):
    pil = PILImage.fromarray(rng.integers(0, 256, (15, 22, 3), dtype=np.uint8)).quantize(colors=16)
    data = save(pil, "PNG", transparency=3)
    got = decoded(data)
    assert got.shape[-1] == 4
    ref = pil_decode(data, "RGBA")
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(got[..., 3] == 0, np.asarray(pil) == 3)


def test_png_1bit_gray(rng):
    pil = PILImage.fromarray(rng.integers(0, 256, (9, 21), dtype=np.uint8)).convert("1")
    data = save(pil, "PNG")
    got = decoded(data)
    assert got.shape == (9, 21, 1)
    np.testing.assert_array_equal(got[..., 0], pil_decode(data, "L"))
    assert set(np.unique(got)) <= {0, 255}


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_png_low_bit_gray_hand_made(rng, depth):
    top = 2**depth - 1
    s = rng.integers(0, top + 1, (7, 11, 1), dtype=np.uint8)
    data = make_png(s, depth, 0)
    expected = (s.astype(int) * 255 // top).astype(np.uint8)  # PNG scaling to 8 bits
    np.testing.assert_array_equal(decoded(data), expected)
    np.testing.assert_array_equal(decoded(data)[..., 0], pil_decode(data, "L"))


def test_png_16bit_gray_from_pillow(rng):
    arr = rng.integers(0, 65536, (12, 17), dtype=np.uint16)
    data = save(PILImage.fromarray(arr), "PNG")
    ref16 = pil_decode(data)
    np.testing.assert_array_equal(ref16, arr)
    # STRIP_16 keeps the high byte: compare with Pillow's 16-bit values shifted down.
    np.testing.assert_array_equal(decoded(data)[..., 0], (ref16 >> 8).astype(np.uint8))


@pytest.mark.parametrize("color_type,channels,pil_mode", [(0, 1, None), (4, 2, "LA"), (2, 3, "RGB"), (6, 4, "RGBA")])
def test_png_16bit_hand_made(rng, color_type, channels, pil_mode):
    s = rng.integers(0, 65536, (10, 13, channels), dtype=np.uint16)
    data = make_png(s, 16, color_type)
    got = decoded(data)
    np.testing.assert_array_equal(got, (s >> 8).astype(np.uint8))
    if pil_mode is not None:  # Pillow reads 16-bit colour PNGs as 8-bit, high byte
        np.testing.assert_array_equal(got, pil_decode(data, pil_mode).reshape(got.shape))


@pytest.mark.parametrize(
    "depth,color_type,channels,pil_mode", [(8, 2, 3, "RGB"), (8, 0, 1, "L"), (16, 6, 4, "RGBA"), (4, 0, 1, "L")]
)
@pytest.mark.parametrize("size", [(1, 1), (3, 2), (9, 13), (16, 16)], ids=lambda s: "x".join(map(str, s)))
def test_png_interlaced_hand_made(rng, depth, color_type, channels, pil_mode, size):
    top = 2**depth - 1
    s = rng.integers(0, top + 1, (*size, channels), dtype=np.uint16 if depth == 16 else np.uint8)
    data = make_png(s, depth, color_type, interlace=True)
    assert PILImage.open(io.BytesIO(data)).info.get("interlace") == 1
    got = decoded(data)
    expected = (s >> 8) if depth == 16 else (s.astype(int) * 255 // top)
    np.testing.assert_array_equal(got, expected.astype(np.uint8))
    np.testing.assert_array_equal(got, pil_decode(data, pil_mode).reshape(got.shape))


def test_png_rgb_colour_key_adds_alpha(rng):
    arr = rng.integers(0, 256, (8, 10, 3), dtype=np.uint8)
    arr[0, 0] = arr[3, 4] = (1, 2, 3)
    data = save(PILImage.fromarray(arr), "PNG", transparency=(1, 2, 3))
    got = decoded(data)
    assert got.shape == (8, 10, 4)
    np.testing.assert_array_equal(got, pil_decode(data, "RGBA"))
    np.testing.assert_array_equal(got[..., :3], arr)
    np.testing.assert_array_equal(got[..., 3], np.where((arr == (1, 2, 3)).all(-1), 0, 255))


def test_png_gray_colour_key_adds_alpha(rng):
    arr = rng.integers(0, 256, (6, 9), dtype=np.uint8)
    arr[1, 1] = 7
    data = save(PILImage.fromarray(arr), "PNG", transparency=7)
    got = decoded(data)
    assert got.shape == (6, 9, 2)
    np.testing.assert_array_equal(got[..., 0], arr)
    np.testing.assert_array_equal(got[..., 1], np.where(arr == 7, 0, 255))
    np.testing.assert_array_equal(got, pil_decode(data, "LA"))


def test_png_large(rng):
    arr = photo(rng, 480, 641)
    data = save(PILImage.fromarray(arr), "PNG", compress_level=1)
    img = pd.decode(data)
    assert img.pitch == 1984  # 641 * 3 = 1923 rounded up to a multiple of 64
    np.testing.assert_array_equal(np.asarray(img), arr)
    check_layout(img, 480, 641, 3)


# --------------------------------------------------------------------------------------------
# JPEG: agreement with Pillow (libjpeg-turbo) within a measured tolerance
# --------------------------------------------------------------------------------------------
# Measured (zune-jpeg 0.5.15 vs Pillow 13, quality 90, smooth photo-like pictures of many sizes):
# gray: max |diff| 1; RGB 4:4:4: max 3, mean < 0.05; RGB 4:2:0 (Pillow's default): max 4,
# mean 0.38..0.47 (the chroma upsamplers round differently). The limits below leave a small
# margin. Noisy pictures with 4:2:0 differ more in the last column (zune-jpeg interpolates
# chroma with the encoder's padding there, libjpeg replicates the edge sample): not tested.

JPEG_SIZES = [(1, 1), (8, 8), (17, 33), (61, 83), (64, 96), (120, 160)]


@pytest.mark.parametrize("size", JPEG_SIZES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_jpeg_gray(rng, size, progressive):
    arr = photo(rng, *size)[..., 1].copy()
    data = save(PILImage.fromarray(arr), "JPEG", quality=90, progressive=progressive)
    got = decoded(data)
    assert got.shape == (*size, 1)
    d = np.abs(got[..., 0].astype(int) - pil_decode(data).astype(int))
    assert d.max() <= 1


@pytest.mark.parametrize("size", JPEG_SIZES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_jpeg_rgb_444(rng, size, progressive):
    arr = photo(rng, *size)
    data = save(PILImage.fromarray(arr), "JPEG", quality=90, subsampling=0, progressive=progressive)
    got = decoded(data)
    assert got.shape == (*size, 3)
    d = np.abs(got.astype(int) - pil_decode(data).astype(int))
    assert d.max() <= 3 and d.mean() < 0.1


@pytest.mark.parametrize("size", JPEG_SIZES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_jpeg_rgb_420(rng, size, progressive):
    arr = photo(rng, *size)
    data = save(PILImage.fromarray(arr), "JPEG", quality=90, progressive=progressive)
    got = decoded(data)
    assert got.shape == (*size, 3)
    d = np.abs(got.astype(int) - pil_decode(data).astype(int))
    assert d.max() <= 6 and d.mean() < 0.6


def test_jpeg_cmyk_is_refused():
    data = save(PILImage.new("CMYK", (8, 8), (10, 20, 30, 40)), "JPEG", quality=90)
    with pytest.raises(ValueError, match="colour space"):
        pd.decode(data)


# --------------------------------------------------------------------------------------------
# Input objects
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def png_file():
    arr = np.random.default_rng(5).integers(0, 256, (11, 14, 3), dtype=np.uint8)
    return arr, save(PILImage.fromarray(arr), "PNG")


@pytest.mark.parametrize(
    "wrap",
    [
        bytes,
        bytearray,
        memoryview,
        lambda d: memoryview(b"xx" + d)[2:],
        lambda d: np.frombuffer(d, np.uint8),
        lambda d: np.frombuffer(d, np.uint8).copy(),
        lambda d: memoryview(bytearray(d)).toreadonly(),
        lambda d: __import__("array").array("B", d),
    ],
    ids=["bytes", "bytearray", "memoryview", "memoryview-slice", "numpy", "numpy-copy", "readonly-mv", "array"],
)
def test_bytes_like_inputs(png_file, wrap):
    arr, data = png_file
    np.testing.assert_array_equal(decoded(wrap(data)), arr)


def test_input_is_copied(png_file):
    arr, data = png_file
    buf = bytearray(data)
    img = pd.decode(buf)
    buf[:] = bytes(len(buf))  # the image does not alias the compressed input
    np.testing.assert_array_equal(np.asarray(img), arr)


@pytest.mark.parametrize(
    "make,exc",
    [
        (lambda d: np.frombuffer(d, np.uint8).astype(np.int8), (BufferError, TypeError, ValueError)),
        (lambda d: np.frombuffer(d, np.uint8).astype(np.uint16), (BufferError, TypeError, ValueError)),
        (lambda d: np.frombuffer(d + d, np.uint8)[::2], (BufferError, TypeError, ValueError)),
        (lambda d: np.frombuffer(d, np.uint8).astype(np.float64), (BufferError, TypeError, ValueError)),
        (lambda d: d.decode("latin-1"), TypeError),
        (lambda d: None, TypeError),
        (lambda d: 42, TypeError),
        (lambda d: list(d), TypeError),
    ],
    ids=["int8", "uint16", "strided", "float64", "str", "None", "int", "list"],
)
def test_unusable_inputs(png_file, make, exc):
    with pytest.raises(exc):
        pd.decode(make(png_file[1]))


# --------------------------------------------------------------------------------------------
# Bad files: ValueError, never a panic or a crash
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jpeg_file():
    arr = photo(np.random.default_rng(6), 37, 53, noise=30)
    return save(PILImage.fromarray(arr), "JPEG", quality=90)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"hello world", b"GIF89a" + bytes(20), b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\n" + bytes(100),
     b"\xff\xd8", b"\xff\xd8\xff", b"\xff\xd8\xff\xd9", b"\xff\xd8\xff" + bytes(100), b"BM" + bytes(60)],
    ids=["empty", "nul", "text", "gif", "png-magic", "png-zeros", "jpeg-2", "jpeg-magic", "jpeg-soi-eoi",
         "jpeg-zeros", "bmp"],
)
def test_garbage_is_value_error(data):
    with pytest.raises(ValueError):
        pd.decode(data)


def test_error_messages_are_clear():
    with pytest.raises(ValueError, match="empty"):
        pd.decode(b"")
    with pytest.raises(ValueError, match="not a PNG or JPEG"):
        pd.decode(b"hello")
    with pytest.raises(ValueError, match="PNG"):
        pd.decode(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="JPEG"):
        pd.decode(b"\xff\xd8\xff")


def test_every_truncated_png_fails_or_is_complete(png_file):
    arr, data = png_file
    for cut in range(len(data)):
        try:
            got = np.asarray(pd.decode(data[:cut]))
        except ValueError:
            continue
        # Only the IEND chunk's tail may be missing, and then every pixel is there.
        assert cut >= len(data) - 12, cut
        np.testing.assert_array_equal(got, arr)


@pytest.mark.parametrize("progressive", [False, True])
def test_every_truncated_jpeg_fails(jpeg_file, progressive):
    data = jpeg_file
    if progressive:
        data = save(PILImage.open(io.BytesIO(data)), "JPEG", quality=90, progressive=True)
    for cut in range(len(data)):
        with pytest.raises(ValueError):
            pd.decode(data[:cut])
    # Pillow refuses the same truncations.
    with pytest.raises(OSError):
        pil_decode(data[: len(data) - 10])


def test_jpeg_with_trailing_bytes_decodes(jpeg_file):
    np.testing.assert_array_equal(decoded(jpeg_file + b"trailing junk"), decoded(jpeg_file))


def test_png_bad_crc_is_value_error(png_file):
    data = bytearray(png_file[1])
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF
    with pytest.raises(ValueError):
        pd.decode(bytes(data))


def test_png_header_claiming_a_huge_image():
    # Valid IHDR for 2**31-1 x 2**31-1 RGBA (and 100000 x 100000), a few bytes of data.
    for side in (2**31 - 1, 100_000):
        ihdr = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
        data = (
            b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 100))
            + png_chunk(b"IEND", b"")
        )
        with pytest.raises((ValueError, MemoryError)):
            pd.decode(data)


def test_jpeg_zero_size_header(jpeg_file):
    data = bytearray(jpeg_file)
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = bytes(4)  # height = width = 0
    with pytest.raises(ValueError):
        pd.decode(bytes(data))


FUZZ = textwrap.dedent(
    """
    import io, sys
    import numpy as np
    from PIL import Image
    import pixel_decoder as pd

    rng = np.random.default_rng(99)
    arr = rng.integers(0, 256, (23, 31, 3), dtype=np.uint8)
    files = []
    for fmt, kw in [("PNG", {}), ("JPEG", {"quality": 90}), ("JPEG", {"quality": 90, "progressive": True})]:
        b = io.BytesIO(); Image.fromarray(arr).save(b, fmt, **kw); files.append(b.getvalue())
    b = io.BytesIO(); Image.fromarray(arr[..., 0]).save(b, "JPEG", quality=90); files.append(b.getvalue())
    decoded = failed = 0
    for data in files:
        for _ in range(400):
            d = bytearray(data)
            for _ in range(int(rng.integers(1, 6))):
                d[int(rng.integers(2, len(d)))] = int(rng.integers(0, 256))
            try:
                img = pd.decode(bytes(d))
                np.asarray(img).sum()
                decoded += 1
            except ValueError:
                failed += 1
    print(decoded, failed)
    """
)


def test_fuzzed_files_never_panic_or_crash():
    # In a child process: a crash (abort, segfault) shows as a non-zero exit status, and a
    # PanicException (a BaseException, not a ValueError) escapes the loop.
    r = subprocess.run([sys.executable, "-c", FUZZ], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    decoded, failed = map(int, r.stdout.split())
    assert decoded + failed == 1600 and failed > 0


# --------------------------------------------------------------------------------------------
# Threads (the decoder runs without the GIL)
# --------------------------------------------------------------------------------------------


def test_concurrent_decodes(rng):
    arrays = [photo(rng, 90 + i, 120 + i) for i in range(4)]
    files = [save(PILImage.fromarray(a), "PNG") for a in arrays]
    results = [None] * 16
    errors = []

    def work(i):
        try:
            for _ in range(5):
                results[i] = np.asarray(pd.decode(files[i % 4])).copy()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, r in enumerate(results):
        np.testing.assert_array_equal(r, arrays[i % 4])
