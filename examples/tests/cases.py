"""The case model: what one example provider's buffer must look like, from the specification.

A :class:`Case` knows how to build one provider object and, independently of the provider,
what its buffer must look like: format, shape, byte strides, writability, the logical contents
(C-order nested list, what ``memoryview.tolist()`` returns) and the full underlying memory
(padding included). From that it builds the equivalent CPython reference exporter,
``_testbuffer.ndarray``, which the tests consume side by side with the provider.

The cases themselves (which objects, with which arguments) are in ``providers.py``.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any, Callable

import _testbuffer as tb
import numpy as np

# --------------------------------------------------------------------------------------------
# Layout helpers (pure Python, from the spec)
# --------------------------------------------------------------------------------------------


def c_strides(shape, itemsize):
    strides = []
    step = itemsize
    for dim in reversed(shape):
        strides.append(step)
        step *= dim
    return tuple(reversed(strides))


def f_strides(shape, itemsize):
    strides = []
    step = itemsize
    for dim in shape:
        strides.append(step)
        step *= dim
    return tuple(strides)


def nested(flat, shape):
    """C-order nested list of ``flat`` with ``shape`` (a scalar when shape is ())."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat[: shape[0]])
    step = math.prod(shape[1:])
    return [nested(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def flatten(lst):
    if not isinstance(lst, list):
        return [lst]
    out = []
    for x in lst:
        out.extend(flatten(x))
    return out


def f32(x):
    """``x`` rounded to float32, as a Python float."""
    return struct.unpack("f", struct.pack("f", x))[0]


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    cls: str  # class name in buffer_examples
    make: Callable[[], Any]
    fmt: str
    shape: tuple
    strides: tuple
    readonly: bool
    logical_flat: list  # elements in C (logical) order
    memory: list  # every element of the underlying storage, in memory order
    tags: set = field(default_factory=set)

    @property
    def itemsize(self):
        return struct.calcsize(self.fmt)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def nbytes(self):
        return self.size * self.itemsize

    @property
    def logical(self):
        """What ``memoryview(obj).tolist()`` must return."""
        return nested(self.logical_flat, self.shape)

    def c_bytes(self):
        """The exposed data, packed in C order (what ``bytes(obj)`` must return)."""
        return b"".join(struct.pack(self.fmt, v) for v in self.logical_flat)

    def numpy_expected(self):
        dt = np.dtype(self.fmt)
        return np.array(self.logical_flat, dtype=dt).reshape(self.shape)

    def reference(self):
        """CPython's reference exporter with exactly the layout the spec describes."""
        flags = 0 if self.readonly else tb.ND_WRITABLE
        if not self.shape:
            return tb.ndarray(self.memory[0], shape=[], format=self.fmt, flags=flags)
        items = self.memory if self.memory else [0.0 if self.fmt in "fd" else 0]
        return tb.ndarray(
            list(items),
            shape=list(self.shape),
            strides=list(self.strides),
            format=self.fmt,
            flags=flags,
            offset=0,
        )

    @property
    def c_contiguous(self):
        return self.reference().c_contiguous

    @property
    def f_contiguous(self):
        return self.reference().f_contiguous

    @property
    def contiguous(self):
        return self.reference().contiguous

    def __repr__(self):
        return self.id

