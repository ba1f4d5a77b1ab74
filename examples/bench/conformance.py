"""Flag probe: one export per request combination, every field checked against BUFFER-RULES.

For each of the 28 combinations {SIMPLE, ND, STRIDES, INDIRECT, C/F/ANY_CONTIGUOUS} x
{WRITABLE} x {FORMAT}, plus flags = -1 (PEP 688 lets any int through), bench_helper.probe() makes
one export into a poisoned Py_buffer, reads every field back, and releases through a copy of the
view. The checks:

- success: view.obj is the exporter (+1 ref, back to 0 after release), buf non-NULL,
  len == 1024, suboffsets NULL; format present iff FORMAT (and calcsize(format) == itemsize);
  shape present iff ND (ndim entries, product * itemsize == len), else ndim == 1; strides present
  iff STRIDES; readonly == 0 when WRITABLE; the same readonly answer for every request;
- refusal: only WRITABLE on read-only memory, a contiguity the layout lacks (a request without
  STRIDES asks for C-contiguous memory; N-d peers), or FORMAT without ND (a documented policy
  choice), raised as BufferError with view.obj NULL.
Plus, for writable peers, a write through a memoryview is seen by a second export (shared
memory), and for peers with resize(): BufferError while a view is alive, success after.
"""
from __future__ import annotations

import math
import struct

SIMPLE, WRITABLE, FORMAT, ND = 0, 0x1, 0x4, 0x8
STRIDES = 0x10 | ND
C_CONTIGUOUS = 0x20 | STRIDES
F_CONTIGUOUS = 0x40 | STRIDES
ANY_CONTIGUOUS = 0x80 | STRIDES
INDIRECT = 0x100 | STRIDES

BASES = [("SIMPLE", SIMPLE), ("ND", ND), ("STRIDES", STRIDES), ("INDIRECT", INDIRECT),
         ("C_CONTIGUOUS", C_CONTIGUOUS), ("F_CONTIGUOUS", F_CONTIGUOUS),
         ("ANY_CONTIGUOUS", ANY_CONTIGUOUS)]


def cases() -> list[tuple[str, int]]:
    out = []
    for name, base in BASES:
        for w in (0, WRITABLE):
            for f in (0, FORMAT):
                parts = [name] + (["WRITABLE"] if w else []) + (["FORMAT"] if f else [])
                out.append(("|".join(parts), base | w | f))
    out.append(("-1", -1))
    return out


def check(helper, obj, nbytes: int, expect_writable: bool | None) -> tuple[list[str], list[str]]:
    """Returns (issues, notes): issues are rule violations, notes are allowed policy choices."""
    issues: list[str] = []
    notes: list[str] = []
    full = helper.probe(obj, 0x100 | 0x10 | 0x8 | 0x4)  # PyBUF_FULL_RO
    if not full["ok"]:
        return [f"FULL_RO refused: {full['exc_type']}: {full['exc_msg']}"], notes
    ro = full["readonly"]
    c_contig, f_contig = _contiguity(full["shape"], full["strides"], full["itemsize"])
    if expect_writable is True and ro:
        issues.append("read-only, expected writable")
    if expect_writable is False and not ro:
        issues.append("writable, expected read-only")
    for name, flags in cases():
        r = helper.probe(obj, flags)
        want_w = bool(flags & WRITABLE)
        has = lambda bit: (flags & bit) == bit  # noqa: E731
        lacks = ((has(C_CONTIGUOUS) and not c_contig) or (has(F_CONTIGUOUS) and not f_contig)
                 or (has(ANY_CONTIGUOUS) and not (c_contig or f_contig))
                 or (not has(STRIDES) and not c_contig))
        if r["ok"] and lacks:
            issues.append(f"{name}: served, but the layout is not the contiguity asked for")
        if not r["ok"]:
            allowed = (want_w and ro) or (has(FORMAT) and not has(ND)) or lacks
            if not allowed:
                issues.append(f"{name}: refused ({r['exc_type']}: {r['exc_msg']})")
            elif has(FORMAT) and not has(ND) and not (want_w and ro) and not lacks:
                notes.append(f"{name}: refused (FORMAT without ND policy)")
            if r["exc_type"] != "BufferError":
                issues.append(f"{name}: failed with {r['exc_type']}, not BufferError")
            if r["obj_after"] != "null":
                issues.append(f"{name}: view.obj left {r['obj_after']} after failure")
            if r["refcnt_delta"] != 0:
                issues.append(f"{name}: failure leaked {r['refcnt_delta']} reference(s)")
            continue
        if want_w and ro:
            issues.append(f"{name}: served WRITABLE on read-only memory")
        if not r["obj_is_exporter"]:
            issues.append(f"{name}: view.obj is not the exporter")
        if r["refcnt_delta"] != 1:
            issues.append(f"{name}: export took {r['refcnt_delta']} references, not 1")
        if r.get("refcnt_after_release_delta", 0) != 0:
            issues.append(f"{name}: release left {r['refcnt_after_release_delta']} reference(s)")
        if r["buf_null"]:
            issues.append(f"{name}: buf is NULL")
        if r["len"] != nbytes:
            issues.append(f"{name}: len {r['len']} != {nbytes}")
        if r["readonly"] != ro:
            issues.append(f"{name}: readonly {r['readonly']} differs from FULL_RO's {ro}")
        if not r["suboffsets_null"]:
            issues.append(f"{name}: suboffsets not NULL")
        fmt, itemsize = r["format"], r["itemsize"]
        if has(FORMAT):
            if fmt is None:
                issues.append(f"{name}: FORMAT requested, format NULL")
            else:
                try:
                    if struct.calcsize(fmt) != itemsize:
                        issues.append(f"{name}: calcsize({fmt!r}) != itemsize {itemsize}")
                except struct.error:
                    notes.append(f"{name}: format {fmt!r} is not plain struct syntax")
        elif fmt is not None:
            issues.append(f"{name}: format {fmt!r} without FORMAT (must be NULL)")
        shape, strides, ndim = r["shape"], r["strides"], r["ndim"]
        if has(ND):
            if not isinstance(shape, tuple) or len(shape) != ndim:
                issues.append(f"{name}: shape {shape!r} does not match ndim {ndim}")
            elif math.prod(shape) * itemsize != r["len"]:
                issues.append(f"{name}: product(shape) * itemsize != len")
        else:
            if shape is not None:
                issues.append(f"{name}: shape without ND (must be NULL)")
            if ndim != 1:
                issues.append(f"{name}: ndim {ndim} without ND (CPython's exporters say 1)")
        if has(STRIDES):
            if not isinstance(strides, tuple) or len(strides) != ndim:
                issues.append(f"{name}: strides {strides!r} do not match ndim {ndim}")
        elif strides is not None:
            issues.append(f"{name}: strides without STRIDES (must be NULL)")
    return issues, notes


def _contiguity(shape, strides, itemsize) -> tuple[bool, bool]:
    """(C-contiguous, Fortran-contiguous) as PyBuffer_IsContiguous says, for a FULL_RO answer."""
    if not isinstance(shape, tuple) or not isinstance(strides, tuple) or 0 in shape:
        return True, True

    def contig(order):
        want = itemsize
        for d, st in order:
            if d > 1 and st != want:
                return False
            want *= d
        return True

    pairs = list(zip(shape, strides))
    return contig(reversed(pairs)), contig(pairs)


def check_sharing(np, obj) -> list[str]:
    """A write through one export is seen by the next (writable peers only)."""
    issues = []
    m = memoryview(obj)
    if m.readonly:
        m.release()
        return issues
    # The first byte of memory, written and read through numpy (C-ordered views of it).
    def first_bytes():
        a = np.asarray(obj)
        return (a if a.flags.c_contiguous else a.T).view(np.uint8).reshape(-1)

    b = first_bytes()
    old = int(b[0])
    b[0] = old ^ 0x5A
    seen_mv = memoryview(obj).tobytes(order="A")[0]
    seen_np = first_bytes()[0]
    b[0] = old
    del b
    m.release()
    if seen_mv != old ^ 0x5A:
        issues.append("write through a view not seen by the next memoryview")
    if seen_np != old ^ 0x5A:
        issues.append("write through a view not seen by np.asarray")
    return issues


def check_resize(obj) -> list[str]:
    """Peers with resize(): BufferError while exported, fine afterwards."""
    if not hasattr(obj, "resize"):
        return []
    issues = []
    n = len(obj)
    m = memoryview(obj)
    try:
        obj.resize(n + 1)
        issues.append("resize() succeeded while a view was alive")
    except BufferError:
        pass
    except Exception as e:
        issues.append(f"resize() while exported raised {type(e).__name__}, not BufferError")
    m.release()
    try:
        obj.resize(n + 1)
        obj.resize(n)
    except Exception as e:
        issues.append(f"resize() failed after release: {type(e).__name__}: {e}")
    return issues
