//! The number of dimensions a view has: fixed ([`Ndim<N>`]) or known at run time
//! ([`AnyNdim`]), and the small tables that hold a view's shape and strides.

use std::mem::{ManuallyDrop, MaybeUninit};

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
    /// Starts a table of `n` values in place at `dst`, when it holds them without a heap
    /// allocation: the `n` slots to write, after which `*dst` is initialised. `None` otherwise
    /// (for [`Ndim<N>`], whenever `n != N`).
    ///
    /// # Safety
    /// `dst` is valid for writes; `*dst` is initialised only once all `n` slots are written.
    #[doc(hidden)]
    unsafe fn inline_slots<X: DimValue>(dst: *mut Self::Table<X>, n: usize) -> Option<*mut X>;
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
            #[inline(always)]
            unsafe fn inline_slots<X: DimValue>(dst: *mut [X; $n], n: usize) -> Option<*mut X> {
                // An array is initialised once its `N` elements are.
                (n == $n).then_some(dst.cast::<X>())
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
    #[inline(always)]
    unsafe fn inline_slots<X: DimValue>(dst: *mut DynTable<X>, n: usize) -> Option<*mut X> {
        if n > INLINE_DIMS {
            return None;
        }
        // SAFETY: a field address of a valid pointer (contract).
        let len = unsafe { std::ptr::addr_of_mut!((*dst).len) };
        // SAFETY: valid for writes; an inline table of `n` entries is its length and its first
        // `n` slots.
        unsafe { len.write(n) };
        // SAFETY: a field address of a valid pointer; no union field is read.
        let inline = unsafe { std::ptr::addr_of_mut!((*dst).items.inline) };
        Some(inline.cast::<X>())
    }
}

/// Dimensions an [`AnyNdim`] table holds without a heap allocation.
pub const INLINE_DIMS: usize = 8;

/// The table of an [`AnyNdim`] view: inline up to [`INLINE_DIMS`] entries, boxed beyond (up to
/// [`MAX_NDIM`]).
pub struct DynTable<X: DimValue> {
    /// Entries; `items` is `inline` (its first `len` slots initialised) when `len` is at most
    /// [`INLINE_DIMS`], `heap` (of `len` entries) otherwise.
    len: usize,
    items: Items<X>,
}

/// A union, not an enum: an inline table is written in place, slot by slot, and the unused
/// slots are never written (zeroing them costs more than the rest of a small view's checks).
union Items<X: DimValue> {
    inline: [MaybeUninit<X>; INLINE_DIMS],
    heap: ManuallyDrop<Box<[X]>>,
}

impl<X: DimValue> DynTable<X> {
    #[inline(always)]
    fn new(values: &[X]) -> Self {
        debug_assert!(values.len() <= MAX_NDIM);
        let mut t = MaybeUninit::<Self>::uninit();
        // SAFETY: `t` is valid for writes.
        match unsafe { AnyNdim::inline_slots(t.as_mut_ptr(), values.len()) } {
            Some(slots) => {
                // Element by element, not `copy_from_slice`: a call to `memcpy` for a few
                // words costs more than the copy.
                for (i, &v) in values.iter().enumerate() {
                    // SAFETY: slot `i < n` of the inline table (`inline_slots`).
                    let slot = unsafe { slots.add(i) };
                    // SAFETY: that slot is valid for writes.
                    unsafe { slot.write(v) };
                }
                // SAFETY: the length and all `n` slots were written.
                unsafe { t.assume_init() }
            }
            None => DynTable {
                len: values.len(),
                items: Items {
                    heap: ManuallyDrop::new(values.into()),
                },
            },
        }
    }
}

impl<X: DimValue> AsRef<[X]> for DynTable<X> {
    #[inline]
    fn as_ref(&self) -> &[X] {
        if self.len <= INLINE_DIMS {
            // SAFETY: a table of `len <= INLINE_DIMS` entries is inline (the type's invariant).
            let items = unsafe { &self.items.inline };
            // SAFETY: its first `len` slots are initialised (the type's invariant).
            unsafe { std::slice::from_raw_parts(items.as_ptr().cast::<X>(), self.len) }
        } else {
            // SAFETY: a table longer than `INLINE_DIMS` is boxed (the type's invariant).
            unsafe { &self.items.heap }
        }
    }
}

impl<X: DimValue> AsMut<[X]> for DynTable<X> {
    #[inline]
    fn as_mut(&mut self) -> &mut [X] {
        if self.len <= INLINE_DIMS {
            // SAFETY: as in `as_ref`.
            let p = unsafe { &mut self.items.inline }.as_mut_ptr();
            // SAFETY: the first `len` slots are initialised, and borrowed mutably through `self`.
            unsafe { std::slice::from_raw_parts_mut(p.cast::<X>(), self.len) }
        } else {
            // SAFETY: as in `as_ref`.
            unsafe { &mut self.items.heap }
        }
    }
}

impl<X: DimValue> Clone for DynTable<X> {
    fn clone(&self) -> Self {
        DynTable::new(self.as_ref())
    }
}

impl<X: DimValue> Drop for DynTable<X> {
    #[inline]
    fn drop(&mut self) {
        if self.len > INLINE_DIMS {
            // SAFETY: a table longer than `INLINE_DIMS` is boxed (the type's invariant).
            let heap = unsafe { &mut self.items.heap };
            // SAFETY: the table owns its box, dropped only here.
            unsafe { ManuallyDrop::drop(heap) }
        }
    }
}

impl<X: DimValue + std::fmt::Debug> std::fmt::Debug for DynTable<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_ref()).finish()
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
            assert_eq!(t.len > INLINE_DIMS, n > INLINE_DIMS);
            assert_eq!(t.clone().as_ref(), &v[..]);
        }
        assert_eq!(<Ndim<3>>::table(&[1isize, 2, 3]), [1, 2, 3]);
    }
}
