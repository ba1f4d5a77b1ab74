"""CPython's buffer request flags as test parameters: the named flags, every distinct OR of
them, the raw values that are none of those, and a readable name for each (the test IDs)."""

from __future__ import annotations

import _testbuffer as tb

BASE_FLAGS = {
    "WRITABLE": tb.PyBUF_WRITABLE,
    "FORMAT": tb.PyBUF_FORMAT,
    "ND": tb.PyBUF_ND,
    "STRIDES": tb.PyBUF_STRIDES,
    "C_CONTIGUOUS": tb.PyBUF_C_CONTIGUOUS,
    "F_CONTIGUOUS": tb.PyBUF_F_CONTIGUOUS,
    "ANY_CONTIGUOUS": tb.PyBUF_ANY_CONTIGUOUS,
    "INDIRECT": tb.PyBUF_INDIRECT,
}

# Named composite requests CPython defines (for readable ids).
COMPOSITES = {
    "FULL": tb.PyBUF_FULL,
    "FULL_RO": tb.PyBUF_FULL_RO,
    "RECORDS": tb.PyBUF_RECORDS,
    "RECORDS_RO": tb.PyBUF_RECORDS_RO,
    "STRIDED": tb.PyBUF_STRIDED,
    "STRIDED_RO": tb.PyBUF_STRIDED_RO,
    "CONTIG": tb.PyBUF_CONTIG,
    "CONTIG_RO": tb.PyBUF_CONTIG_RO,
}


def flag_name(flags: int) -> str:
    """A readable, unique name: the minimal set of base flags whose OR is ``flags``."""
    for name, value in COMPOSITES.items():
        if value == flags:
            return name
    if flags == 0:
        return "SIMPLE"
    names = []
    covered = 0
    # Largest compounds first so that e.g. STRIDES is not also printed as ND.
    for name in ("INDIRECT", "C_CONTIGUOUS", "F_CONTIGUOUS", "ANY_CONTIGUOUS", "STRIDES", "ND", "FORMAT", "WRITABLE"):
        v = BASE_FLAGS[name]
        if flags & v == v and covered & v != v:
            names.append(name)
            covered |= v
    if covered != flags:
        return hex(flags)
    return "|".join(names)


def _all_combinations():
    values = {0}
    for v in BASE_FLAGS.values():
        values |= {x | v for x in values}
    # The composites are all in here already (they are ORs of base flags); keep them explicit.
    values |= set(COMPOSITES.values())
    values |= {c | tb.PyBUF_WRITABLE for c in COMPOSITES.values()}
    values |= {c | tb.PyBUF_FORMAT for c in COMPOSITES.values()}
    return sorted(values)


#: Every distinct OR of CPython's request flags (72 values).
ALL_FLAG_COMBOS = _all_combinations()

#: Raw values that are not ORs of named flags: partial compound bits, undefined bits,
#: and the PEP 688 style "anything goes" ints (-1 asks for everything).
ODD_FLAGS = sorted(
    (set(range(0x200)) - set(ALL_FLAG_COMBOS))
    | {0x200, 0x400, 0x200 | tb.PyBUF_STRIDES, 0x1000 | tb.PyBUF_FULL_RO, -1, -2, -(2**31), 2**31 - 1}
)

