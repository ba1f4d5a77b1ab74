//! [`Storage`]: the field types the derive can export, plain or shared.

use std::ffi::CStr;

use crate::direct::DirectExport;
use crate::element::{Element, Shaped};
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
    pub outer: Option<usize>,
    pub inner: &'static [usize],
}

/// `S::DIMS` as a static slice (exports copy no `Dims` around).
#[doc(hidden)]
pub struct DimsOf<S>(std::marker::PhantomData<S>);

impl<S: Shaped> DimsOf<S> {
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
/// `raw_parts` describes `count` consecutive, initialised items of `itemsize` bytes each,
/// laid out as `format` says, that stay valid and do not
/// move while `&self` lives, and, for shared storage, for as long as the `Hold` returned by
/// `keep_alive` lives (the `format` string too). Plain storage (`SHARED == false`) is never
/// written through the pointer. A shared storage's `Hold` may be dropped on any thread.
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
    /// Shared 1-D storage: a keep-alive that also holds the tables of the natural layout, so
    /// the export needs no record.
    #[doc(hidden)]
    fn direct(&self) -> Option<DirectExport> {
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

// SAFETY (all plain impls below): the pointer comes from `&self`, so the elements stay put for
// as long as `&self` lives; the export holds a shared borrow of the owner (or the owner is
// frozen) for the export's lifetime, and plain storage is only exported read-only.

unsafe impl<S: Shaped> Storage for S {
    fn itemsize(&self) -> usize {
        std::mem::size_of::<S::Elem>()
    }
    fn format(&self) -> &'static CStr {
        S::Elem::FORMAT
    }
    const SHARED: bool = false;
    const FIXED_COUNT: Option<usize> = Some(S::DIMS.count());
    const HAS_PADDING: bool = S::HAS_PADDING;
    fn natural_shape(&self) -> NaturalShape {
        NaturalShape {
            outer: None,
            inner: DimsOf::<S>::SLICE,
        }
    }
    fn raw_parts(&self) -> RawParts {
        RawParts {
            ptr: (self as *const S).cast_mut().cast(),
            count: S::DIMS.count(),
        }
    }
    fn keep_alive(&self) -> Option<Hold> {
        None
    }
}

unsafe impl<S: Shaped> Storage for [S] {
    fn itemsize(&self) -> usize {
        std::mem::size_of::<S::Elem>()
    }
    fn format(&self) -> &'static CStr {
        S::Elem::FORMAT
    }
    const SHARED: bool = false;
    const FIXED_COUNT: Option<usize> = None;
    const HAS_PADDING: bool = S::HAS_PADDING;
    fn natural_shape(&self) -> NaturalShape {
        NaturalShape {
            outer: Some(self.len()),
            inner: DimsOf::<S>::SLICE,
        }
    }
    fn raw_parts(&self) -> RawParts {
        RawParts {
            ptr: self.as_ptr().cast_mut().cast(),
            count: self.len() * S::DIMS.count(),
        }
    }
    fn keep_alive(&self) -> Option<Hold> {
        None
    }
}

macro_rules! deref_to_slice {
    ($($ty:ty),*) => {$(
        unsafe impl<S: Shaped> Storage for $ty {
            fn itemsize(&self) -> usize {
                std::mem::size_of::<S::Elem>()
            }
            fn format(&self) -> &'static CStr {
                S::Elem::FORMAT
            }
            const SHARED: bool = false;
            const FIXED_COUNT: Option<usize> = None;
            const HAS_PADDING: bool = S::HAS_PADDING;
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
