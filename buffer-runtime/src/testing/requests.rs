//! The request list: every flag combination a consumer can send, and how each is named in the
//! report.

use std::os::raw::c_int;

use crate::flags::{bits, Request};

/// The shape part of a request, from the least to the most demanding.
pub(super) const SHAPE_LEVELS: [c_int; 7] = [
    bits::SIMPLE,
    bits::ND,
    bits::STRIDES,
    bits::C_CONTIGUOUS,
    bits::F_CONTIGUOUS,
    bits::ANY_CONTIGUOUS,
    bits::INDIRECT,
];

/// `PyBUF_FULL_RO`: what `memoryview` and `bytes` ask for; the reference for every other view.
pub(super) const FULL_RO: c_int = bits::INDIRECT | bits::FORMAT;

pub(super) fn indirect(req: Request) -> bool {
    req.raw() & bits::INDIRECT == bits::INDIRECT
}

/// The request's name, with the raw value when the named flags do not add up to it (lone
/// compound bits such as `0x10`, unknown bits, `-1`).
pub(super) fn name_of(req: Request) -> String {
    let mut named = 0;
    for b in [
        bits::INDIRECT,
        bits::C_CONTIGUOUS,
        bits::F_CONTIGUOUS,
        bits::ANY_CONTIGUOUS,
        bits::STRIDES,
        bits::ND,
        bits::FORMAT,
        bits::WRITABLE,
    ] {
        if req.raw() & b == b {
            named |= b;
        }
    }
    let name = req.to_string();
    if named == req.raw() || name.contains("(flags ") {
        name
    } else if req.raw() < 0 {
        format!("{name} (flags {})", req.raw())
    } else {
        format!("{name} (flags {:#x})", req.raw())
    }
}

/// Every request a consumer can make: each shape level with and without `FORMAT` and
/// `WRITABLE`, both contiguities at once, the compound bits on their own (`0x10` without the
/// `ND` bit is not `PyBUF_STRIDES`: a provider testing `flags & PyBUF_STRIDES` gets it wrong),
/// an unknown bit, and `-1` (PEP 688 lets Python pass any int to `__buffer__`).
pub(super) fn requests() -> Vec<c_int> {
    let mut out = Vec::new();
    for level in SHAPE_LEVELS {
        for format in [0, bits::FORMAT] {
            for writable in [0, bits::WRITABLE] {
                out.push(level | format | writable);
            }
        }
    }
    out.push(bits::C_CONTIGUOUS | bits::F_CONTIGUOUS);
    for lone in [0x10, 0x20, 0x40, 0x80, 0x100] {
        // 0x100 alone is PyBUF_READ, which CPython 3.13's PyObject_GetBuffer itself rejects
        // (SystemError) before the provider sees it.
        if lone != 0x100 {
            out.push(lone);
        }
        out.push(lone | bits::ND);
        out.push(lone | bits::FORMAT | bits::ND);
    }
    out.push(0x20 | 0x40 | 0x80 | 0x100 | bits::WRITABLE);
    out.push(bits::STRIDES | bits::FORMAT | 0x4000);
    out.push(-1);
    out
}
