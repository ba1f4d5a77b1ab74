"""Plain numpy references for the image pipeline (``pixel_decoder`` / ``pixel_filter``).

Exact integer arithmetic, written from the specification only, vectorized so that a 4000x3000x3
picture takes well under a second per filter.  Used as the independent oracle by
``test_pipeline.py`` and as the numpy contender by ``examples/bench/pipeline.py``.

Every function accepts anything ``np.asarray`` understands (numpy arrays of any strides,
memoryviews, buffer providers) and returns a fresh C-contiguous ``uint8`` array; the input is
never written (except by :func:`invert_inplace`, which is the in-place formula).

- ``synthetic(h, w, c)``:  ``(y * 31 + x * 7 + c * 101) % 256``
- ``box_blur(src, r)``:     ``(S + n // 2) // n``, ``n = (2r + 1)**2``, ``S`` the window sum with
  edge clamping (``np.pad(mode="edge")`` + running sums), ``0 <= r <= 64``
- ``grayscale(src)``:       ``(77 R + 150 G + 29 B + 128) >> 8`` of the first three channels,
  shape ``(h, w, 1)``
- ``invert(src)``:          ``255 - src``
"""

from __future__ import annotations

import numpy as np

MAX_RADIUS = 64


def _image(src) -> np.ndarray:
    a = np.asarray(src)
    if a.dtype != np.uint8:
        raise TypeError(f"src: expected uint8 data, got {a.dtype}")
    if a.ndim != 3:
        raise TypeError(f"src: expected a 3-d (h, w, c) buffer, got ndim {a.ndim}")
    return a


def synthetic(height: int, width: int, channels: int = 3) -> np.ndarray:
    """``(y * 31 + x * 7 + c * 101) % 256`` as a C-contiguous uint8 array (h, w, c)."""
    y = np.arange(height, dtype=np.int64).reshape(-1, 1, 1)
    x = np.arange(width, dtype=np.int64).reshape(1, -1, 1)
    c = np.arange(channels, dtype=np.int64).reshape(1, 1, -1)
    return ((y * 31 + x * 7 + c * 101) % 256).astype(np.uint8)


def box_blur(src, radius: int = 1) -> np.ndarray:
    """Box blur with clamped edges and round-half-up integer division.

    Separable running sums over the edge-padded image: a horizontal cumulative sum gives each
    row's window sums, a vertical cumulative sum of those gives the 2-D window sums.  uint32 is
    exact here: the largest intermediate is the vertical cumulative sum, at most
    ``(h + 2r) * (2r + 1) * 255`` (135 M for 4000 rows and r = 64).
    """
    a = _image(src)
    r = int(radius)
    if not 0 <= r <= MAX_RADIUS:
        raise ValueError(f"radius must be in 0..={MAX_RADIUS}, got {radius}")
    h, w, c = a.shape
    if a.size == 0:
        return np.zeros((h, w, c), dtype=np.uint8)
    k = 2 * r + 1
    n = k * k
    p = np.pad(a, ((r, r), (r, r), (0, 0)), mode="edge")  # (h + 2r, w + 2r, c)
    # horizontal window sums
    cs = np.zeros((h + 2 * r, w + 2 * r + 1, c), dtype=np.uint32)
    np.cumsum(p, axis=1, dtype=np.uint32, out=cs[:, 1:])
    rows = cs[:, k:] - cs[:, :w]  # (h + 2r, w, c): sum of p[y, x .. x + 2r]
    del cs, p
    # vertical window sums of the row sums
    cv = np.zeros((h + 2 * r + 1, w, c), dtype=np.uint32)
    np.cumsum(rows, axis=0, dtype=np.uint32, out=cv[1:])
    del rows
    s = cv[k:] - cv[:h]  # (h, w, c)
    del cv
    s += n // 2
    s //= n
    return s.astype(np.uint8)


def grayscale(src) -> np.ndarray:
    """``(77 R + 150 G + 29 B + 128) >> 8`` from the first three channels, shape (h, w, 1)."""
    a = _image(src)
    if a.shape[2] < 3:
        raise ValueError(f"grayscale needs at least 3 channels, got {a.shape[2]}")
    r = a[:, :, 0].astype(np.uint32)
    g = a[:, :, 1].astype(np.uint32)
    b = a[:, :, 2].astype(np.uint32)
    r *= 77
    g *= 150
    b *= 29
    r += g
    r += b
    r += 128
    r >>= 8
    return r.astype(np.uint8)[:, :, np.newaxis]


def invert(src) -> np.ndarray:
    """``255 - src`` as a new uint8 array of the same shape (any ndim)."""
    a = np.asarray(src)
    if a.dtype != np.uint8:
        raise TypeError(f"dst: expected uint8 data, got {a.dtype}")
    return np.subtract(np.uint8(255), a, dtype=np.uint8)


def invert_inplace(dst) -> None:
    """``dst = 255 - dst`` in place (numpy's own in-place ufunc)."""
    a = np.asarray(dst)
    np.subtract(np.uint8(255), a, out=a)
