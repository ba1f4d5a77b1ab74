//! Typed consumer views: read and write any Python buffer in place.
//!
//! [`PyView<T, D, L>`] (read-only) and [`PyViewMut<T, D, L>`] (writable) are `#[pyfunction]`
//! parameters whose type says what the function accepts: the element type `T` (any
//! [`Element`](crate::Element): byte order checked, records matched by their format), the
//! number of dimensions `D` ([`Ndim<N>`] or [`AnyNdim`]) and the layout `L` ([`CContiguous`],
//! [`FContiguous`], [`AnyContiguous`] or [`Strided`]). [`AnyView`] picks the element type from
//! the buffer's format.
//!
//! ```
//! use buffer_runtime::view::{Ndim, PyView, PyViewMut};
//! use pyo3::prelude::*;
//!
//! /// dst = 255 - src, for two 3-d uint8 buffers of one shape, without the GIL.
//! #[pyfunction]
//! fn invert(py: Python<'_>, src: PyView<u8, Ndim<3>>, dst: PyViewMut<u8, Ndim<3>>) -> PyResult<()> {
//!     if src.shape() != dst.shape() {
//!         return Err(pyo3::exceptions::PyValueError::new_err("shapes differ"));
//!     }
//!     py.detach(move || {
//!         let pixels = src.to_vec();             // one bulk copy out
//!         let mut out = pixels.iter().map(|&p| 255 - p).collect::<Vec<_>>();
//!         dst.copy_from_slice(&out)?;            // one bulk copy in
//!         out.clear();
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # What the exporter is asked, and what is checked
//! The request is `PyBUF_FORMAT`, the layout's bit (`PyBUF_STRIDES`, `PyBUF_C_CONTIGUOUS`,
//! ...) and, for writable views, `PyBUF_WRITABLE`, so an exporter that cannot serve the
//! function refuses; the answer is then checked, since exporters do not all honour requests:
//! the format and itemsize against `T`, `ndim` against `D` (0 to 64), the layout against `L`,
//! `len` against shape × itemsize, no PIL-style suboffsets, no extent that overflows. NULL
//! strides are C strides and a NULL shape is 1-d of `len / itemsize`, as CPython's consumers
//! read them (ctypes arrays return NULL strides even when strides were asked). A refusal is a
//! `TypeError` naming the parameter, what it expects and what it got:
//! `src: expected a C-contiguous 3-d buffer of uint8 ('B'), got a 2-d buffer of '<i4' with
//! shape (2, 2) and strides (8, 4)` (the exporter's own exception is its `__cause__`).
//!
//! # Why it is sound
//! While a view lives, its export keeps the memory alive and in place: that is the exporter's
//! side of the protocol (this crate's providers prove theirs in `docs/export-safety.md`). But
//! the memory is not the view's alone: another view, Python code or, once the GIL is released,
//! another thread may write it at any time, and `readonly` only says that *this* view may not.
//! So the views never form a `&T`, `&[T]` or `&mut [T]` into it. Every access is a byte-wise
//! atomic copy (RFC 3301 / P1478 semantics: relaxed atomic 8-byte words and bytes in `raw.rs`,
//! the `atomic-memcpy` crate for single aligned elements) into or out of a local value:
//! racing with a writer can give old, new or mixed bytes, which [`Element::load`] turns into a
//! valid `T`, but never undefined behaviour in Rust. Unaligned elements are copied
//! byte-wise, never through a misaligned pointer. Bulk operations copy whole runs into a local
//! buffer and compute on that, which is where the speed comes from.
//!
//! Slices and `ndarray` views of the exporter's memory exist only behind `unsafe`
//! ([`Span::as_array`], feature `ndarray`), whose contract is exactly the condition above: that
//! nobody else writes the memory while the borrow lives.
//!
//! [`Element::load`]: crate::Element::load

mod any;
mod contig;
mod export;
mod format;
mod held;
#[cfg(feature = "ndarray")]
mod ndarray;
mod owned;
mod rank;
pub(crate) mod raw;
mod span;

#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub use self::ndarray::{NdRank, NotAnArray};
pub use any::AnyView;
pub use contig::{AnyContiguous, CContiguous, Contiguity, FContiguous, Strided};
pub use owned::{PyView, PyViewMut};
pub use rank::{AnyNdim, DimValue, DynTable, Ndim, Rank, INLINE_DIMS};
pub use span::{Access, Iter, LengthMismatch, OutOfBounds, ReadOnly, Span, SubView, Writable};
