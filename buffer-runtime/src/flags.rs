//! Decoding of the `flags` argument of `bf_getbuffer` (PEP 3118 request flags).

use std::fmt;
use std::os::raw::c_int;

/// The request-flag bits, with CPython's values (`Include/pybuffer.h`).
pub mod bits {
    use std::os::raw::c_int;
    /// `PyBUF_SIMPLE`: no shape, no strides, no format (unsigned bytes).
    pub const SIMPLE: c_int = 0;
    /// `PyBUF_WRITABLE`: writable memory or a refusal.
    pub const WRITABLE: c_int = 0x0001;
    /// `PyBUF_FORMAT`: the item format string.
    pub const FORMAT: c_int = 0x0004;
    /// `PyBUF_ND`: the shape.
    pub const ND: c_int = 0x0008;
    /// `PyBUF_STRIDES`: the strides (includes `ND`).
    pub const STRIDES: c_int = 0x0010 | ND;
    /// `PyBUF_C_CONTIGUOUS` (includes `STRIDES`).
    pub const C_CONTIGUOUS: c_int = 0x0020 | STRIDES;
    /// `PyBUF_F_CONTIGUOUS` (includes `STRIDES`).
    pub const F_CONTIGUOUS: c_int = 0x0040 | STRIDES;
    /// `PyBUF_ANY_CONTIGUOUS` (includes `STRIDES`).
    pub const ANY_CONTIGUOUS: c_int = 0x0080 | STRIDES;
    /// `PyBUF_INDIRECT`: suboffsets allowed (includes `STRIDES`).
    pub const INDIRECT: c_int = 0x0100 | STRIDES;
}

/// What a consumer asked for, decoded once from the raw flags.
///
/// Every compound bit is tested as `(flags & X) == X`: `C_CONTIGUOUS` and friends contain the
/// `STRIDES` bit, and `STRIDES` contains `ND`. Any `c_int` decodes (PEP 688 lets Python pass any
/// int, `-1` included); bits CPython does not define are ignored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub(crate) raw: c_int,
}

impl Request {
    /// The request `flags` as `bf_getbuffer` received them.
    #[inline]
    pub const fn new(flags: c_int) -> Self {
        Request { raw: flags }
    }
    #[inline]
    const fn has(self, bits: c_int) -> bool {
        self.raw & bits == bits
    }
    /// `PyBUF_WRITABLE` was asked.
    #[inline]
    pub const fn writable(self) -> bool {
        self.has(bits::WRITABLE)
    }
    /// `PyBUF_FORMAT` was asked.
    #[inline]
    pub const fn format(self) -> bool {
        self.has(bits::FORMAT)
    }
    /// `PyBUF_ND` (or more) was asked: the shape.
    #[inline]
    pub const fn nd(self) -> bool {
        self.has(bits::ND)
    }
    /// `PyBUF_STRIDES` (or more) was asked.
    #[inline]
    pub const fn strides(self) -> bool {
        self.has(bits::STRIDES)
    }
    /// `PyBUF_C_CONTIGUOUS` was asked (every one of its bits).
    #[inline]
    pub const fn c_contiguous(self) -> bool {
        self.has(bits::C_CONTIGUOUS)
    }
    /// `PyBUF_F_CONTIGUOUS` was asked (every one of its bits).
    #[inline]
    pub const fn f_contiguous(self) -> bool {
        self.has(bits::F_CONTIGUOUS)
    }
    /// `PyBUF_ANY_CONTIGUOUS` was asked (every one of its bits).
    #[inline]
    pub const fn any_contiguous(self) -> bool {
        self.has(bits::ANY_CONTIGUOUS)
    }
    /// The flags as received.
    #[inline]
    pub const fn raw(self) -> c_int {
        self.raw
    }
}

/// Prints the request the way CPython's headers name it, e.g. `PyBUF_STRIDES|PyBUF_WRITABLE`.
impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Largest compound first, so that STRIDES is not also printed as ND.
        let shape = [
            (bits::INDIRECT, "PyBUF_INDIRECT"),
            (bits::C_CONTIGUOUS, "PyBUF_C_CONTIGUOUS"),
            (bits::F_CONTIGUOUS, "PyBUF_F_CONTIGUOUS"),
            (bits::ANY_CONTIGUOUS, "PyBUF_ANY_CONTIGUOUS"),
            (bits::STRIDES, "PyBUF_STRIDES"),
            (bits::ND, "PyBUF_ND"),
        ];
        let mut parts: Vec<&str> = Vec::new();
        let mut covered = 0;
        for (b, name) in shape {
            if self.has(b) && (covered & b) != b {
                parts.push(name);
                covered |= b;
            }
        }
        if self.format() {
            parts.push("PyBUF_FORMAT");
        }
        if self.writable() {
            parts.push("PyBUF_WRITABLE");
        }
        if parts.is_empty() {
            parts.push("PyBUF_SIMPLE");
        }
        write!(f, "{}", parts.join("|"))?;
        let known = bits::INDIRECT
            | bits::C_CONTIGUOUS
            | bits::F_CONTIGUOUS
            | bits::ANY_CONTIGUOUS
            | bits::FORMAT
            | bits::WRITABLE;
        if self.raw & !known != 0 {
            write!(f, " (flags {})", self.raw)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::bits::*;
    use super::*;

    #[test]
    fn compound_bits_need_every_bit() {
        // 0x0020 alone is not a C_CONTIGUOUS request: it lacks the STRIDES bits.
        assert!(!Request::new(0x0020).c_contiguous());
        assert!(Request::new(C_CONTIGUOUS).c_contiguous());
        assert!(Request::new(C_CONTIGUOUS).strides());
        assert!(Request::new(C_CONTIGUOUS).nd());
        assert!(!Request::new(ND).strides());
        assert!(Request::new(INDIRECT).strides());
        assert!(!Request::new(INDIRECT).c_contiguous());
        assert!(!Request::new(SIMPLE).nd());
    }

    #[test]
    fn minus_one_asks_for_everything() {
        let r = Request::new(-1);
        assert!(r.writable() && r.format() && r.nd() && r.strides());
        assert!(r.c_contiguous() && r.f_contiguous() && r.any_contiguous());
    }

    #[test]
    fn display_names_the_request() {
        assert_eq!(Request::new(SIMPLE).to_string(), "PyBUF_SIMPLE");
        assert_eq!(
            Request::new(STRIDES | FORMAT).to_string(),
            "PyBUF_STRIDES|PyBUF_FORMAT"
        );
        assert_eq!(
            Request::new(C_CONTIGUOUS | WRITABLE).to_string(),
            "PyBUF_C_CONTIGUOUS|PyBUF_WRITABLE"
        );
        assert_eq!(
            Request::new(INDIRECT | FORMAT).to_string(),
            "PyBUF_INDIRECT|PyBUF_FORMAT"
        );
        assert!(Request::new(-1).to_string().contains("(flags -1)"));
    }
}
