//! [`AnyView`]: a read-only view whose element type is chosen by the exporter's format, for
//! functions that accept several dtypes.

use pyo3::{Borrowed, Bound, FromPyObject, PyAny, PyErr, PyResult};

use crate::flags::bits;

use super::contig::{Contiguity, Strided};
use super::export::{Export, Fields};
use super::format::parse_scalar;
use super::owned::{check, refused, view_type_error, PyView};
use super::rank::{AnyNdim, Rank};
use super::span::{ReadOnly, Span};

macro_rules! any_view {
    ($($(#[$cfg:meta])* $variant:ident($ty:ty) = $kind:literal, $size:literal, $name:literal;)*) => {
        /// The span of an [`AnyView`] before it is joined with its export.
        enum AnySpan<D: Rank> {
            $($(#[$cfg])* $variant(Span<$ty, D, ReadOnly>),)*
        }

        /// A read-only view of a buffer of any native scalar type: the variant says which.
        ///
        /// ```
        /// use buffer_runtime::view::AnyView;
        /// use pyo3::prelude::*;
        ///
        /// /// The sum of any numeric buffer, as a float.
        /// #[pyfunction]
        /// fn total(a: AnyView) -> f64 {
        ///     let mut s = 0.0;
        ///     match a {
        ///         AnyView::F64(v) => v.for_each(|x| s += x),
        ///         AnyView::I32(v) => v.for_each(|x| s += f64::from(x)),
        ///         AnyView::U8(v) => v.for_each(|x| s += f64::from(x)),
        ///         other => s = other.to_f64_vec().iter().sum(),
        ///     }
        ///     s
        /// }
        /// # Python::attach(|py| {
        /// #     let f = wrap_pyfunction!(total, py).unwrap();
        /// #     let a = py.import("array").unwrap().call_method1("array", ("h", vec![1i16, 2])).unwrap();
        /// #     assert_eq!(f.call1((a,)).unwrap().extract::<f64>().unwrap(), 3.0);
        /// # });
        /// ```
        #[non_exhaustive]
        pub enum AnyView<D: Rank = AnyNdim, L: Contiguity = Strided> {
            $($(#[$cfg])* $(#[cfg_attr(docsrs, doc($cfg))])* #[doc = concat!("`", $name, "` elements.")] $variant(PyView<$ty, D, L>),)*
        }

        impl<D: Rank, L: Contiguity> AnyView<D, L> {
            /// A view of `obj` typed by its format (native byte order, one scalar per item).
            pub fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
                let expected = || format!("a {}buffer of native bool, int, uint or float items", L::DESCRIPTION);
                let inspect = |fields: &Fields| -> PyResult<AnySpan<D>> {
                    let scalar = parse_scalar(fields.format().to_bytes())
                        .filter(|s| s.size == 1 || s.little == cfg!(target_endian = "little"));
                    match scalar.map(|s| (s.kind, s.size)) {
                        $($(#[$cfg])* Some(($kind, $size)) => Ok(AnySpan::$variant(check::<$ty, D, L, ReadOnly>(obj.py(), fields)?)),)*
                        _ => Err(view_type_error(obj.py(), format!("expected {}, got {}", expected(), fields.describe()))),
                    }
                };
                let (export, span) = Export::acquire(obj, L::FLAGS | bits::FORMAT, inspect).map_err(|e| refused(obj, e, expected))?;
                Ok(match span? {
                    $($(#[$cfg])* AnySpan::$variant(s) => AnyView::$variant(PyView::from_parts(export, s)),)*
                })
            }

            /// numpy's name of the element type (`"uint8"`, `"float64"`).
            pub fn dtype(&self) -> &'static str {
                match self {
                    $($(#[$cfg])* AnyView::$variant(_) => $name,)*
                }
            }

            /// The shape, in elements.
            pub fn shape(&self) -> &[usize] {
                match self {
                    $($(#[$cfg])* AnyView::$variant(v) => v.shape(),)*
                }
            }

            /// The byte strides.
            pub fn strides(&self) -> &[isize] {
                match self {
                    $($(#[$cfg])* AnyView::$variant(v) => v.strides(),)*
                }
            }
        }
    };
}

any_view! {
    Bool(bool) = b'?', 1, "bool";
    I8(i8) = b'i', 1, "int8";
    I16(i16) = b'i', 2, "int16";
    I32(i32) = b'i', 4, "int32";
    I64(i64) = b'i', 8, "int64";
    U8(u8) = b'u', 1, "uint8";
    U16(u16) = b'u', 2, "uint16";
    U32(u32) = b'u', 4, "uint32";
    U64(u64) = b'u', 8, "uint64";
    #[cfg(feature = "half")]
    F16(half::f16) = b'f', 2, "float16";
    F32(f32) = b'f', 4, "float32";
    F64(f64) = b'f', 8, "float64";
    #[cfg(feature = "num-complex")]
    C64(num_complex::Complex<f32>) = b'c', 8, "complex64";
    #[cfg(feature = "num-complex")]
    C128(num_complex::Complex<f64>) = b'c', 16, "complex128";
}

impl<D: Rank, L: Contiguity> AnyView<D, L> {
    /// The elements converted to `f64` in logical order (complex numbers: their real part;
    /// 64-bit integers beyond 2^53 round).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(crate::layout::element_count(self.shape()).unwrap_or(0));
        macro_rules! push {
            ($v:expr, $conv:expr) => {
                $v.for_each(|x| out.push($conv(x)))
            };
        }
        match self {
            AnyView::Bool(v) => push!(v, |x: bool| f64::from(u8::from(x))),
            AnyView::I8(v) => push!(v, f64::from),
            AnyView::I16(v) => push!(v, f64::from),
            AnyView::I32(v) => push!(v, f64::from),
            AnyView::I64(v) => push!(v, |x: i64| x as f64),
            AnyView::U8(v) => push!(v, f64::from),
            AnyView::U16(v) => push!(v, f64::from),
            AnyView::U32(v) => push!(v, f64::from),
            AnyView::U64(v) => push!(v, |x: u64| x as f64),
            #[cfg(feature = "half")]
            AnyView::F16(v) => push!(v, f64::from),
            AnyView::F32(v) => push!(v, f64::from),
            AnyView::F64(v) => push!(v, |x| x),
            #[cfg(feature = "num-complex")]
            AnyView::C64(v) => push!(v, |x: num_complex::Complex<f32>| f64::from(x.re)),
            #[cfg(feature = "num-complex")]
            AnyView::C128(v) => push!(v, |x: num_complex::Complex<f64>| x.re),
        }
        out
    }
}

impl<'a, 'py, D: Rank, L: Contiguity> FromPyObject<'a, 'py> for AnyView<D, L> {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Self::new(&obj)
    }
}
