//! `ndarray` integration (feature `ndarray`): owned copies, and borrowed `ArrayView`s behind
//! `unsafe` with the aliasing condition spelled out.
#![cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]

use std::mem::size_of;

use ndarray::{Array, ArrayView, ArrayViewMut, Axis, Dimension, IxDyn, ShapeBuilder};

use crate::element::Element;

use super::rank::{AnyNdim, Ndim, Rank};
use super::span::{Access, Span, Writable};

/// The `ndarray` dimension type of a rank: `Ix1`..`Ix6` for [`Ndim`], `IxDyn` for [`AnyNdim`].
pub trait NdRank: Rank {
    /// The matching `ndarray::Dimension`.
    type Dim: Dimension;
    /// `shape` as that dimension (its length is the rank's, checked by the view).
    fn dim(shape: &[usize]) -> Self::Dim;
}

macro_rules! nd_ranks {
    ($($n:literal => $ix:ident),*) => {$(
        impl NdRank for Ndim<$n> {
            type Dim = ndarray::$ix;
            fn dim(shape: &[usize]) -> Self::Dim {
                let mut d = Self::Dim::default();
                d.slice_mut().copy_from_slice(shape);
                d
            }
        }
    )*};
}
nd_ranks!(0 => Ix0, 1 => Ix1, 2 => Ix2, 3 => Ix3, 4 => Ix4, 5 => Ix5, 6 => Ix6);

impl NdRank for AnyNdim {
    type Dim = IxDyn;
    fn dim(shape: &[usize]) -> IxDyn {
        IxDyn(shape)
    }
}

/// Why a view has no `ndarray` form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotAnArray {
    /// An element address is not aligned for `T` (`ndarray` requires aligned elements).
    Unaligned,
    /// A byte stride is not a multiple of the item size.
    Stride,
}

impl<T: Element, D: NdRank, A: Access> Span<T, D, A> {
    /// An owned `ndarray::Array` holding a copy of the elements (safe: one bulk copy).
    pub fn to_array(&self) -> Array<T, D::Dim> {
        Array::from_shape_vec(D::dim(self.shape()), self.to_vec())
            .expect("to_vec returns exactly the shape's element count in C order")
    }

    /// Element strides and the pointer to the lowest element, with negative axes to invert.
    fn nd_parts(&self) -> Result<(*mut T, D::Dim, Vec<usize>), NotAnArray> {
        if !self.is_aligned() {
            return Err(NotAnArray::Unaligned);
        }
        let (mut ptr, shape, strides) = self.raw_parts();
        let size = size_of::<T>() as isize;
        let mut el = D::dim(shape);
        let mut flip = Vec::new();
        for (axis, (&n, &s)) in shape.iter().zip(strides).enumerate() {
            if s % size != 0 {
                return Err(NotAnArray::Stride);
            }
            if s < 0 && n > 0 {
                ptr = ptr.wrapping_offset(s * (n as isize - 1));
                flip.push(axis);
            }
            el.slice_mut()[axis] = s.unsigned_abs() / size as usize;
        }
        Ok((ptr.cast(), el, flip))
    }

    /// A borrowed `ArrayView` of the exporter's memory.
    ///
    /// # Safety
    /// While the returned view (or anything derived from it) lives, nobody writes the
    /// elements: no other view (including writable sub-views of this one), no Python code, no
    /// other thread. Holding the GIL and not calling into Python guarantees the first two
    /// only for Python code; a thread that released the GIL can still write.
    pub unsafe fn as_array(&self) -> Result<ArrayView<'_, T, D::Dim>, NotAnArray> {
        let (ptr, strides, flip) = self.nd_parts()?;
        let shape = D::dim(self.shape());
        // SAFETY: `ptr` is the lowest element, aligned; the positive element strides address
        // only elements of the view, which the export keeps alive for `'_`; nobody writes them
        // (caller's contract), so a shared borrow is valid.
        let mut a = unsafe { ArrayView::from_shape_ptr(shape.strides(strides), ptr.cast_const()) };
        for axis in flip {
            a.invert_axis(Axis(axis));
        }
        Ok(a)
    }
}

impl<T: Element, D: NdRank> Span<T, D, Writable> {
    /// A borrowed `ArrayViewMut` of the exporter's memory.
    ///
    /// # Safety
    /// While the returned view lives, nobody else reads or writes the elements (no other view
    /// or sub-view of this export, no Python code, no other thread), and the view has no two
    /// indices at one address (no zero stride on an axis longer than 1).
    pub unsafe fn as_array_mut(&self) -> Result<ArrayViewMut<'_, T, D::Dim>, NotAnArray> {
        let (ptr, strides, flip) = self.nd_parts()?;
        let shape = D::dim(self.shape());
        // SAFETY: as for `as_array`, with exclusive access by the caller's contract.
        let mut a = unsafe { ArrayViewMut::from_shape_ptr(shape.strides(strides), ptr) };
        for axis in flip {
            a.invert_axis(Axis(axis));
        }
        Ok(a)
    }
}
