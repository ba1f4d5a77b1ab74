//! The number of dimensions a view has: fixed ([`Ndim<N>`]) or known at run time
//! ([`AnyNdim`]), and the small tables that hold a view's shape and strides.

use crate::layout::MAX_NDIM;

mod sealed {
    pub trait Sealed {}
}

/// A value of a shape or stride table.
pub trait DimValue: Copy + Default + Send + Sync + 'static {}
impl DimValue for usize {}
impl DimValue for isize {}

/// How many dimensions a view has: [`Ndim<N>`] (`N` from 0 to 6) or [`AnyNdim`].
///
/// Sealed: the runtime relies on `NDIM` and the tables agreeing.
pub trait Rank: sealed::Sealed + Send + Sync + 'static {
    /// The fixed number of dimensions, or `None` for [`AnyNdim`].
    const NDIM: Option<usize>;
    /// One dimension fewer (a row of a matrix); [`AnyNdim`] for [`AnyNdim`].
    type Smaller: Rank;
    /// A table of one value per dimension, on the stack for every fixed rank and for up to
    /// [`INLINE_DIMS`] dimensions of [`AnyNdim`].
    type Table<X: DimValue>: AsRef<[X]> + AsMut<[X]> + Clone + Send + Sync + 'static;
    /// A table of `values.len()` values (`values.len()` is this rank's, checked by the caller).
    fn table<X: DimValue>(values: &[X]) -> Self::Table<X>;
}

/// Exactly `N` dimensions: `PyView<u8, Ndim<3>>` is a 3-d view, like Cython's `uint8_t[:, :, :]`.
#[derive(Clone, Copy, Debug)]
pub struct Ndim<const N: usize>;

/// Any number of dimensions (0 to 64), known only when the view is made.
#[derive(Clone, Copy, Debug)]
pub struct AnyNdim;

macro_rules! fixed_ranks {
    ($($n:literal => $smaller:literal),*) => {$(
        impl sealed::Sealed for Ndim<$n> {}
        impl Rank for Ndim<$n> {
            const NDIM: Option<usize> = Some($n);
            type Smaller = Ndim<$smaller>;
            type Table<X: DimValue> = [X; $n];
            #[inline]
            fn table<X: DimValue>(values: &[X]) -> [X; $n] {
                std::array::from_fn(|i| values[i])
            }
        }
    )*};
}
// `Ndim<0>` has no smaller rank; removing an axis from it is refused before the type is used.
fixed_ranks!(0 => 0, 1 => 0, 2 => 1, 3 => 2, 4 => 3, 5 => 4, 6 => 5);

impl sealed::Sealed for AnyNdim {}
impl Rank for AnyNdim {
    const NDIM: Option<usize> = None;
    type Smaller = AnyNdim;
    type Table<X: DimValue> = DynTable<X>;
    #[inline(always)]
    fn table<X: DimValue>(values: &[X]) -> DynTable<X> {
        DynTable::new(values)
    }
}

/// Dimensions an [`AnyNdim`] table holds without a heap allocation.
pub const INLINE_DIMS: usize = 8;

/// The table of an [`AnyNdim`] view: inline up to [`INLINE_DIMS`] entries, boxed beyond (up to
/// [`MAX_NDIM`]).
#[derive(Clone, Debug)]
pub struct DynTable<X: DimValue>(Repr<X>);

#[derive(Clone, Debug)]
enum Repr<X: DimValue> {
    Inline(u8, [X; INLINE_DIMS]),
    Heap(Box<[X]>),
}

impl<X: DimValue> DynTable<X> {
    #[inline(always)]
    fn new(values: &[X]) -> Self {
        debug_assert!(values.len() <= MAX_NDIM);
        if values.len() <= INLINE_DIMS {
            // Element by element, not `copy_from_slice`: a call to `memcpy` for a few words
            // costs more than the copy.
            let t = std::array::from_fn(|i| values.get(i).copied().unwrap_or_default());
            DynTable(Repr::Inline(values.len() as u8, t))
        } else {
            DynTable(Repr::Heap(values.into()))
        }
    }
}

impl<X: DimValue> AsRef<[X]> for DynTable<X> {
    #[inline]
    fn as_ref(&self) -> &[X] {
        match &self.0 {
            Repr::Inline(n, t) => &t[..usize::from(*n)],
            Repr::Heap(b) => b,
        }
    }
}

impl<X: DimValue> AsMut<[X]> for DynTable<X> {
    #[inline]
    fn as_mut(&mut self) -> &mut [X] {
        match &mut self.0 {
            Repr::Inline(n, t) => &mut t[..usize::from(*n)],
            Repr::Heap(b) => b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dyn_tables_hold_every_rank() {
        for n in [0, 1, INLINE_DIMS, INLINE_DIMS + 1, MAX_NDIM] {
            let v: Vec<usize> = (0..n).collect();
            let t = AnyNdim::table(&v);
            assert_eq!(t.as_ref(), &v[..]);
            assert_eq!(matches!(t.0, Repr::Heap(_)), n > INLINE_DIMS);
        }
        assert_eq!(<Ndim<3>>::table(&[1isize, 2, 3]), [1, 2, 3]);
    }
}
