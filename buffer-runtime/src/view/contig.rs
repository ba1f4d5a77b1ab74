//! What memory layout a view accepts: C-contiguous, Fortran-contiguous, either, or any strides.

use std::os::raw::c_int;

use crate::flags::bits;
use crate::layout::{is_c_contiguous, is_f_contiguous};

mod sealed {
    pub trait Sealed {}
}

/// The layout a view requires. The view asks the exporter for it (`PyBUF_C_CONTIGUOUS`, ...), so
/// an exporter that cannot serve it refuses, and checks the answer, since not every exporter
/// honours the request.
pub trait Contiguity: sealed::Sealed + Send + Sync + 'static {
    /// The request bits (each includes `PyBUF_STRIDES`).
    const FLAGS: c_int;
    /// How the requirement reads in an error message (`"C-contiguous "`, or empty).
    const DESCRIPTION: &'static str;
    /// Whether a layout meets the requirement (CPython's precise contiguity rules).
    fn accepts(shape: &[usize], strides: &[isize], itemsize: usize) -> bool;
}

/// Row-major contiguous (numpy's `order="C"`; Cython's `[:, ::1]`).
#[derive(Clone, Copy, Debug)]
pub struct CContiguous;
/// Column-major contiguous (numpy's `order="F"`; Cython's `[::1, :]`).
#[derive(Clone, Copy, Debug)]
pub struct FContiguous;
/// C- or Fortran-contiguous.
#[derive(Clone, Copy, Debug)]
pub struct AnyContiguous;
/// Any strides, negative and zero ones included (the default).
#[derive(Clone, Copy, Debug)]
pub struct Strided;

macro_rules! contiguity {
    ($($ty:ident => $flags:expr, $desc:literal, |$s:ident, $st:ident, $i:ident| $accepts:expr;)*) => {$(
        impl sealed::Sealed for $ty {}
        impl Contiguity for $ty {
            const FLAGS: c_int = $flags;
            const DESCRIPTION: &'static str = $desc;
            #[inline]
            fn accepts($s: &[usize], $st: &[isize], $i: usize) -> bool {
                $accepts
            }
        }
    )*};
}

contiguity! {
    CContiguous => bits::C_CONTIGUOUS, "C-contiguous ", |s, st, i| is_c_contiguous(s, st, i);
    FContiguous => bits::F_CONTIGUOUS, "Fortran-contiguous ", |s, st, i| is_f_contiguous(s, st, i);
    AnyContiguous => bits::ANY_CONTIGUOUS, "contiguous ",
        |s, st, i| is_c_contiguous(s, st, i) || is_f_contiguous(s, st, i);
    Strided => bits::STRIDES, "", |_s, _st, _i| true;
}
