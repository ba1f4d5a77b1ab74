"""What a consumer sees of an exporter through one request: an observation that compares
equal between a provider and CPython's reference exporter exactly when the two behave alike."""

from __future__ import annotations

import _testbuffer as tb

def attempt(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - the exception type is the observation
        return ("raises", type(e).__name__)


def describe_memoryview(m):
    with m:
        return dict(
            format=m.format,
            itemsize=m.itemsize,
            ndim=m.ndim,
            shape=m.shape,
            strides=m.strides,
            suboffsets=m.suboffsets,
            readonly=m.readonly,
            nbytes=m.nbytes,
            c_contiguous=m.c_contiguous,
            f_contiguous=m.f_contiguous,
            contiguous=m.contiguous,
            tolist=attempt(m.tolist),
            tobytes=attempt(m.tobytes),
        )


def observe(exporter, flags):
    """Everything a consumer can see of ``exporter`` through one request with ``flags``."""
    try:
        nd = tb.ndarray(exporter, getbuf=flags)
    except BufferError:
        return {"request": "BufferError"}
    out = dict(
        request="ok",
        obj_is_exporter=nd.obj is exporter,
        ndim=nd.ndim,
        shape=nd.shape,
        strides=nd.strides,
        suboffsets=nd.suboffsets,
        itemsize=nd.itemsize,
        format=nd.format,
        readonly=nd.readonly,
        nbytes=nd.nbytes,
        c_contiguous=nd.c_contiguous,
        f_contiguous=nd.f_contiguous,
        contiguous=nd.contiguous,
        tobytes=attempt(nd.tobytes),
        tolist=attempt(nd.tolist),
    )
    for order in "CFA":
        out[f"get_contiguous_{order}"] = attempt(
            lambda o=order: tb.get_contiguous(nd, tb.PyBUF_READ, o).tobytes()
        )
        out[f"is_contiguous_{order}"] = tb.is_contiguous(nd, order)
    out["memoryview"] = attempt(lambda: describe_memoryview(memoryview(nd)))
    return out

