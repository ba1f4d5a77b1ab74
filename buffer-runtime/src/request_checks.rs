//! What a request may ask of a layout beyond a strided view: contiguity in an order, no
//! strides (C-contiguous data), a format without a shape. Pure functions of the request and the
//! layout, so they are unit-tested without Python.

use std::os::raw::c_int;

use crate::error::ExportError;
use crate::flags::Request;
use crate::layout::{self, Order};

/// A refusal of `request`, for `reason`.
pub(crate) fn refuse(request: Request, reason: &'static str) -> ExportError {
    ExportError::Request { request, reason }
}

/// The request bits beyond `PyBUF_STRIDES` that ask about contiguity.
pub(crate) const CONTIGUITY_BITS: c_int = 0x20 | 0x40 | 0x80;

/// How the elements of a layout are placed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Placement<'a> {
    /// Contiguous in this order (the strides follow from the shape).
    Contiguous(Order),
    /// At these byte strides.
    Strided(&'a [isize]),
}

/// The checks of a request that asks about contiguity or leaves out `PyBUF_STRIDES`: kept out
/// of line (and not generic) so that the common strided request stays short.
#[inline(never)]
pub(crate) fn check_contiguity(
    req: Request,
    dims: &[usize],
    placement: Placement<'_>,
    itemsize: usize,
) -> Result<(), ExportError> {
    // A contiguous layout is contiguous in its own order, and in the other one only along a
    // single axis.
    let contiguous = |want: Order| match placement {
        Placement::Contiguous(own) => own == want || layout::is_single_axis(dims),
        Placement::Strided(s) => match want {
            Order::C => layout::is_c_contiguous(dims, s, itemsize),
            Order::F => layout::is_f_contiguous(dims, s, itemsize),
        },
    };
    let needs_c = req.c_contiguous() || !req.strides();
    let c = needs_c && contiguous(Order::C);
    if req.c_contiguous() && !c {
        return Err(refuse(req, "the buffer is not C-contiguous"));
    }
    if req.f_contiguous() && !contiguous(Order::F) {
        return Err(refuse(req, "the buffer is not Fortran-contiguous"));
    }
    if req.any_contiguous() && !contiguous(Order::C) && !contiguous(Order::F) {
        return Err(refuse(req, "the buffer is not contiguous"));
    }
    if !req.strides() && !c {
        return Err(refuse(
            req,
            "the buffer is not C-contiguous, so it needs PyBUF_STRIDES",
        ));
    }
    if !req.nd() && req.format() {
        return Err(refuse(
            req,
            "PyBUF_FORMAT without PyBUF_ND: data without a shape is exposed as unsigned bytes",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::bits::*;

    fn check(flags: c_int, dims: &[usize], placement: Placement<'_>) -> Result<(), String> {
        check_contiguity(Request::new(flags), dims, placement, 8).map_err(|e| e.to_string())
    }

    #[test]
    fn contiguous_layouts_answer_their_own_order() {
        let c = Placement::Contiguous(Order::C);
        let f = Placement::Contiguous(Order::F);
        assert!(check(STRIDES | C_CONTIGUOUS, &[2, 3], c).is_ok());
        assert!(check(STRIDES | ANY_CONTIGUOUS, &[2, 3], f).is_ok());
        assert!(check(STRIDES | F_CONTIGUOUS, &[2, 3], f).is_ok());
        let e = check(STRIDES | F_CONTIGUOUS, &[2, 3], c).unwrap_err();
        assert!(e.contains("not Fortran-contiguous"), "{e}");
        let e = check(STRIDES | C_CONTIGUOUS, &[2, 3], f).unwrap_err();
        assert!(e.contains("not C-contiguous"), "{e}");
        // Without strides the data must be C-contiguous.
        let e = check(ND, &[2, 3], f).unwrap_err();
        assert!(e.contains("needs PyBUF_STRIDES"), "{e}");
    }

    #[test]
    fn one_axis_is_both_orders() {
        for dims in [&[6][..], &[1, 6], &[6, 1], &[1, 1, 1], &[0, 3]] {
            let f = Placement::Contiguous(Order::F);
            let c = Placement::Contiguous(Order::C);
            let single = layout::is_single_axis(dims);
            assert_eq!(
                check(STRIDES | C_CONTIGUOUS, dims, f).is_ok(),
                single,
                "{dims:?}"
            );
            assert_eq!(
                check(STRIDES | F_CONTIGUOUS, dims, c).is_ok(),
                single,
                "{dims:?}"
            );
        }
    }

    #[test]
    fn strided_layouts_are_measured() {
        // 2 x 3 f64, rows 32 bytes apart (padded): contiguous in no order.
        let padded = Placement::Strided(&[32, 8]);
        assert!(check(STRIDES, &[2, 3], padded).is_ok());
        for flags in [
            STRIDES | C_CONTIGUOUS,
            STRIDES | F_CONTIGUOUS,
            STRIDES | ANY_CONTIGUOUS,
            ND,
            SIMPLE,
        ] {
            assert!(check(flags, &[2, 3], padded).is_err(), "{flags:#x}");
        }
        // The same shape at C strides and at F strides.
        assert!(check(
            STRIDES | C_CONTIGUOUS,
            &[2, 3],
            Placement::Strided(&[24, 8])
        )
        .is_ok());
        assert!(check(ND, &[2, 3], Placement::Strided(&[24, 8])).is_ok());
        assert!(check(
            STRIDES | F_CONTIGUOUS,
            &[2, 3],
            Placement::Strided(&[8, 16])
        )
        .is_ok());
        assert!(check(
            STRIDES | ANY_CONTIGUOUS,
            &[2, 3],
            Placement::Strided(&[8, 16])
        )
        .is_ok());
        // Negative strides are never contiguous.
        assert!(check(STRIDES | ANY_CONTIGUOUS, &[3], Placement::Strided(&[-8])).is_err());
    }

    #[test]
    fn format_needs_a_shape() {
        let c = Placement::Contiguous(Order::C);
        let e = check(FORMAT, &[4], c).unwrap_err();
        assert!(e.contains("PyBUF_FORMAT without PyBUF_ND"), "{e}");
        assert!(check(ND | FORMAT, &[4], c).is_ok());
        assert!(check(SIMPLE, &[4], c).is_ok());
    }
}
