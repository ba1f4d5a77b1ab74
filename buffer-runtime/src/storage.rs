//! [`Storage`]: the field types the derive can export, plain or shared.

use std::ffi::CStr;

use crate::direct::{Checked, DirectExport, NdHit, NdLayout};
use crate::element::Shaped;
use crate::hold::Hold;

/// Where the exported elements live, as the export needs it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct RawParts {
    /// The first element (dangling but non-null when there is none).
    pub ptr: *mut u8,
    /// How many items the storage holds.
    pub count: usize,
}

/// The shape a storage has when the annotation gives none: an optional outer length (`Vec`,
/// `Box<[_]>`) in front of the dimensions of the element type.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct NaturalShape {
    /// The outer length (`Vec`, `Box<[_]>`, `SharedVec`), `None` for a single value.
    pub outer: Option<usize>,
    /// The dimensions of one element (`DimsOf::<S>::SLICE`).
    pub inner: &'static [usize],
}

impl NaturalShape {
    /// `outer` values of `S` (`None`: one `S`, no outer dimension).
    pub(crate) const fn of<S: Shaped>(outer: Option<usize>) -> NaturalShape {
        NaturalShape {
            outer,
            inner: DimsOf::<S>::SLICE,
        }
    }
}

impl RawParts {
    /// `len` consecutive values of `S` from `ptr`: `len * S::DIMS.count()` items.
    pub(crate) fn of<S: Shaped>(ptr: *const S, len: usize) -> RawParts {
        RawParts {
            ptr: ptr.cast_mut().cast(),
            count: len * S::DIMS.count(),
        }
    }
}

/// `S::DIMS` as a static slice (exports copy no `ArrayDims` around).
#[doc(hidden)]
pub struct DimsOf<S>(std::marker::PhantomData<S>);

impl<S: Shaped> DimsOf<S> {
    /// `S::DIMS.as_slice()`, promoted to a static.
    pub const SLICE: &'static [usize] = S::DIMS.as_slice();
}

/// A field type that `#[derive(PyBuffer)]` can export.
///
/// Two kinds exist:
/// - **plain** storage, exported read-only under a shared borrow of the object: `Vec<S>`,
///   `Box<[S]>`, `[S; N]` (nested arrays too) and a single element;
/// - **shared** storage, which may be exported writable and keeps its memory alive by itself:
///   [`SharedVec`](crate::SharedVec) and [`SharedArray`](crate::SharedArray).
///
/// # Safety
/// `raw_parts` describes `count` consecutive, initialised items of `itemsize` bytes each
/// (so `count * itemsize <= isize::MAX`, as for any allocation), laid out as `format` says,
/// that stay valid and do not
/// move while `&self` lives, and, for shared storage, for as long as the `Hold` returned by
/// `keep_alive` lives (the `format` string too). Plain storage (`SHARED == false`) is never
/// written through the pointer, and holds nothing: its `keep_alive` and `export_hold` are
/// `None`, its exports are kept alive by `view.obj` alone. A shared storage's `Hold` may be
/// dropped on any thread.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be exported as a buffer",
    label = "not a buffer storage type",
    note = "use `Vec<T>`, `Box<[T]>`, `[T; N]` (read-only) or `SharedVec<T>`, `SharedArray<A>` (writable), with `T` a buffer element"
)]
pub unsafe trait Storage {
    /// The size of one item in bytes.
    #[doc(hidden)]
    fn itemsize(&self) -> usize;
    /// The item's format string (valid as long as the memory, see the safety contract).
    #[doc(hidden)]
    fn format(&self) -> &CStr;
    /// Whether this is shared storage (may be written through views).
    #[doc(hidden)]
    const SHARED: bool;
    /// The element count when the type fixes it (arrays), for compile-time shape checks.
    #[doc(hidden)]
    const FIXED_COUNT: Option<usize>;
    /// Whether the elements have padding bytes: only shared storage, which zeroes them, may
    /// export such elements.
    #[doc(hidden)]
    const HAS_PADDING: bool = false;
    #[doc(hidden)]
    fn natural_shape(&self) -> NaturalShape;
    #[doc(hidden)]
    fn raw_parts(&self) -> RawParts;
    /// Shared storage: a handle that keeps the memory alive until the export is released.
    #[doc(hidden)]
    fn keep_alive(&self) -> Option<Hold>;
    /// What one Python export keeps until its release: `keep_alive`, unless the storage counts
    /// its Python exports itself (`SharedVec`, under the GIL).
    ///
    /// # Safety
    /// Attached to the interpreter; the hold is dropped attached.
    #[doc(hidden)]
    unsafe fn export_hold(&self) -> Option<Hold> {
        self.keep_alive()
    }
    /// Shared 1-D storage: a Python export that also holds the tables of the natural layout, so
    /// the export needs no record.
    ///
    /// # Safety
    /// As for `export_hold`: attached, and released attached.
    #[doc(hidden)]
    unsafe fn direct(&self) -> Option<DirectExport> {
        None
    }
    /// Shared storage: a Python export that shares the tables of `layout` with the storage's
    /// other exports of it (or, without `with_tables`, a view without tables), so the export
    /// needs no record; `None` when it cannot.
    ///
    /// # Safety
    /// As for `export_hold`: attached, and released attached; `checked` is true of `layout`.
    #[doc(hidden)]
    unsafe fn direct_nd(
        &self,
        layout: &NdLayout<'_>,
        checked: Checked,
        with_tables: bool,
    ) -> Option<DirectExport> {
        let _ = (layout, checked, with_tables);
        None
    }
    /// Shared storage: the block holds the tables of `layout`, which an earlier export checked
    /// (`Direct::nd_checked`), so its checks need not run again.
    ///
    /// # Safety
    /// Attached.
    #[doc(hidden)]
    unsafe fn nd_checked(&self, layout: &NdLayout<'_>) -> Option<NdHit> {
        let _ = layout;
        None
    }
}

/// Shared storage: may be exported writable.
///
/// # Safety
/// Implemented only by storage whose elements Rust never references while exported.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be exported writable",
    label = "plain storage is exported read-only",
    note = "store the data in `buffer_runtime::SharedVec<T>` (growable) or `buffer_runtime::SharedArray<A>` (fixed size) to let views write to it"
)]
pub unsafe trait WritableStorage: Storage {}

/// The item description of every storage whose values are one [`Shaped`] type `$s` known at
/// compile time: `itemsize` and `format` are those of `$s::Elem`, `HAS_PADDING` is `$s`'s. One
/// definition, spliced into each such `Storage` impl (the plain ones below, `SharedVec`,
/// `SharedArray`, `SharedBlock`), so that no impl can describe its items differently from the
/// type it holds. The format is `'static`, which the trait's `format` contract allows.
macro_rules! shaped_items {
    ($s:ty) => {
        fn itemsize(&self) -> usize {
            ::std::mem::size_of::<<$s as $crate::element::Shaped>::Elem>()
        }
        fn format(&self) -> &'static ::std::ffi::CStr {
            <<$s as $crate::element::Shaped>::Elem as $crate::element::Element>::FORMAT
        }
        const HAS_PADDING: bool = <$s as $crate::element::Shaped>::HAS_PADDING;
    };
}
pub(crate) use shaped_items;

// The plain impls. Each one's `raw_parts` pointer is derived from `&self`, so the items stay
// put and alive for as long as `&self` lives, which is all the contract asks of plain storage
// (the export holds a shared borrow of the owner, or the owner is frozen, for its lifetime);
// plain storage is exported read-only only (`SHARED == false`: no `WritableStorage` impl).

// SAFETY: `raw_parts` is `self` itself: one `S`, that is `DIMS.count()` consecutive `S::Elem`
// (the `Shaped` contract) of `itemsize` bytes laid out as `S::Elem`'s `FORMAT` says (the
// `Element` contract), at `self`'s address, alive and unmoved while `&self` lives. Their fields
// are initialised; padding bytes may not be, which `HAS_PADDING` reports (such plain storage is
// never exported). `FIXED_COUNT` is that count.
unsafe impl<S: Shaped> Storage for S {
    shaped_items!(S);
    const SHARED: bool = false;
    const FIXED_COUNT: Option<usize> = Some(S::DIMS.count());
    fn natural_shape(&self) -> NaturalShape {
        NaturalShape::of::<S>(None)
    }
    fn raw_parts(&self) -> RawParts {
        RawParts::of::<S>(self, 1)
    }
    fn keep_alive(&self) -> Option<Hold> {
        None
    }
}

// SAFETY: `raw_parts` is the slice's own memory: `len` consecutive `S` (the slice layout), each
// `DIMS.count()` `S::Elem` as for a single `S` above (padding too); alive and unmoved while
// `&self` lives (an empty slice's pointer is dangling but non-null, as `RawParts` allows).
unsafe impl<S: Shaped> Storage for [S] {
    shaped_items!(S);
    const SHARED: bool = false;
    const FIXED_COUNT: Option<usize> = None;
    fn natural_shape(&self) -> NaturalShape {
        NaturalShape::of::<S>(Some(self.len()))
    }
    fn raw_parts(&self) -> RawParts {
        RawParts::of::<S>(self.as_ptr(), self.len())
    }
    fn keep_alive(&self) -> Option<Hold> {
        None
    }
}

/// Owned slices: `Storage` as the `[S]` they dereference to.
macro_rules! deref_to_slice {
    ($($ty:ty),*) => {$(
        // SAFETY: every method describes the `[S]` this type dereferences to, through `&self`
        // (see `Storage for [S]`): the heap block cannot be moved, resized or freed while
        // `&self` lives, since that needs `&mut self` or ownership.
        unsafe impl<S: Shaped> Storage for $ty {
            shaped_items!(S);
            const SHARED: bool = false;
            const FIXED_COUNT: Option<usize> = None;
            fn natural_shape(&self) -> NaturalShape {
                <[S] as Storage>::natural_shape(self)
            }
            fn raw_parts(&self) -> RawParts {
                <[S] as Storage>::raw_parts(self)
            }
            fn keep_alive(&self) -> Option<Hold> {
                None
            }
        }
    )*};
}
deref_to_slice!(Vec<S>, Box<[S]>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_shapes() {
        let v: Vec<[u8; 4]> = vec![[0; 4]; 3];
        let n = v.natural_shape();
        assert_eq!((n.outer, n.inner), (Some(3), &[4][..]));
        assert_eq!(v.raw_parts().count, 12);
        let m = [[0f32; 4]; 2];
        assert_eq!(m.natural_shape().inner, &[2, 4]);
        assert_eq!(<[[f32; 4]; 2] as Storage>::FIXED_COUNT, Some(8));
        assert_eq!(1.5f64.natural_shape().inner, &[] as &[usize]);
        assert_eq!(1.5f64.raw_parts().count, 1);
    }
}
