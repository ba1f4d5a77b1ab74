//! `TypedArray`: the element type is a numpy dtype name given at run time.

use buffer_runtime::{buffer_methods, Be, ElementKind, Le, PyBuffer, SharedAnyVec};
use half::f16;
use num_complex::Complex;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyComplex, PyString};

use super::index_error;
use crate::alloc::{checked_count, filled};

/// Conversion of one element type from and to Python values.
trait PyValue: Sized {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self>;
    fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}

macro_rules! py_value_via {
    ($($ty:ty),*) => {$(
        impl PyValue for $ty {
            fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
                v.extract()
            }
            fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(self.into_pyobject(py)?.to_owned().into_any())
            }
        }
    )*};
}
py_value_via!(bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64);

impl PyValue for f16 {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(f16::from_f64(v.extract()?))
    }
    fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.to_f64().to_py(py)
    }
}

fn py_complex(v: &Bound<'_, PyAny>) -> PyResult<(f64, f64)> {
    let c = v.py().get_type::<PyComplex>().call1((v,))?;
    let c = c.cast::<PyComplex>().map_err(PyErr::from)?;
    Ok((c.real(), c.imag()))
}

impl PyValue for Complex<f32> {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (re, im) = py_complex(v)?;
        Ok(Complex::new(re as f32, im as f32))
    }
    fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyComplex::from_doubles(py, self.re.into(), self.im.into()).into_any())
    }
}

impl PyValue for Complex<f64> {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (re, im) = py_complex(v)?;
        Ok(Complex::new(re, im))
    }
    fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyComplex::from_doubles(py, self.re, self.im).into_any())
    }
}

impl<T: buffer_runtime::EndianScalar + PyValue> PyValue for Le<T> {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        T::from_py(v).map(Le::new)
    }
    fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get().to_py(py)
    }
}

impl<T: buffer_runtime::EndianScalar + PyValue> PyValue for Be<T> {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
        T::from_py(v).map(Be::new)
    }
    fn to_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get().to_py(py)
    }
}

/// Runs `$body` with `$T` the Rust type of the `ElementKind` `$kind` (in a function returning
/// `PyResult`: a kind this list lacks is a `ValueError`).
macro_rules! with_type {
    ($kind:expr, $T:ident => $body:expr) => {{
        use ElementKind as K;
        match $kind {
            K::Bool => {
                type $T = bool;
                $body
            }
            K::I8 => {
                type $T = i8;
                $body
            }
            K::U8 => {
                type $T = u8;
                $body
            }
            K::I16 => {
                type $T = i16;
                $body
            }
            K::U16 => {
                type $T = u16;
                $body
            }
            K::I32 => {
                type $T = i32;
                $body
            }
            K::U32 => {
                type $T = u32;
                $body
            }
            K::I64 => {
                type $T = i64;
                $body
            }
            K::U64 => {
                type $T = u64;
                $body
            }
            K::F16 => {
                type $T = f16;
                $body
            }
            K::F32 => {
                type $T = f32;
                $body
            }
            K::F64 => {
                type $T = f64;
                $body
            }
            K::C64 => {
                type $T = Complex<f32>;
                $body
            }
            K::C128 => {
                type $T = Complex<f64>;
                $body
            }
            K::LeI16 => {
                type $T = Le<i16>;
                $body
            }
            K::BeI16 => {
                type $T = Be<i16>;
                $body
            }
            K::LeU16 => {
                type $T = Le<u16>;
                $body
            }
            K::BeU16 => {
                type $T = Be<u16>;
                $body
            }
            K::LeI32 => {
                type $T = Le<i32>;
                $body
            }
            K::BeI32 => {
                type $T = Be<i32>;
                $body
            }
            K::LeU32 => {
                type $T = Le<u32>;
                $body
            }
            K::BeU32 => {
                type $T = Be<u32>;
                $body
            }
            K::LeI64 => {
                type $T = Le<i64>;
                $body
            }
            K::BeI64 => {
                type $T = Be<i64>;
                $body
            }
            K::LeU64 => {
                type $T = Le<u64>;
                $body
            }
            K::BeU64 => {
                type $T = Be<u64>;
                $body
            }
            K::LeF16 => {
                type $T = Le<f16>;
                $body
            }
            K::BeF16 => {
                type $T = Be<f16>;
                $body
            }
            K::LeF32 => {
                type $T = Le<f32>;
                $body
            }
            K::BeF32 => {
                type $T = Be<f32>;
                $body
            }
            K::LeF64 => {
                type $T = Le<f64>;
                $body
            }
            K::BeF64 => {
                type $T = Be<f64>;
                $body
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "no Rust type listed for {other:?}"
                )))
            }
        }
    }};
}

/// 1-D, writable, of the numpy dtype named at construction: `"bool"`, `"int8"`..`"uint64"`,
/// `"float16"`, `"float32"`, `"float64"`, `"complex64"`, `"complex128"`, or an explicit byte
/// order such as `">i4"`, `"<f8"`, `">f2"`.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct TypedArray {
    #[buffer]
    data: SharedAnyVec,
}

#[buffer_methods]
#[pymethods]
impl TypedArray {
    #[new]
    fn new(dtype: &Bound<'_, PyString>, values: Vec<Bound<'_, PyAny>>) -> PyResult<Self> {
        let name = dtype.to_str()?;
        let kind = ElementKind::from_numpy_name(name).ok_or_else(|| {
            let known: Vec<_> = ElementKind::ALL.iter().map(|k| k.numpy_name()).collect();
            PyValueError::new_err(format!(
                "unsupported dtype {name:?}: expected one of {}",
                known.join(", ")
            ))
        })?;
        checked_count(&[values.len()], kind.itemsize())?;
        let data = with_type!(kind, T => {
            let mut v: Vec<T> = filled(values.len(), T::default())?;
            for (slot, value) in v.iter_mut().zip(&values) {
                *slot = T::from_py(value).map_err(|e| {
                    PyTypeError::new_err(format!("cannot store {} as {name}: {e}", value.repr().map(|r| r.to_string()).unwrap_or_default()))
                })?;
            }
            SharedAnyVec::from(v)
        });
        Ok(TypedArray { data })
    }

    /// The numpy dtype name given at construction.
    #[getter]
    fn dtype(&self) -> &'static str {
        self.data.kind().numpy_name()
    }

    /// The buffer format.
    #[getter]
    fn format(&self) -> &'static str {
        self.data.kind().format().to_str().expect("ASCII")
    }

    /// The elements as Python values, read by Rust.
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        with_type!(self.data.kind(), T => {
            let v = self.data.downcast_ref::<T>().expect("kind matches the storage");
            v.iter().map(|x| x.to_py(py)).collect()
        })
    }

    /// Overwrites element `i` from Rust (allowed while exported).
    fn set(&mut self, i: usize, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let len = self.data.len();
        with_type!(self.data.kind(), T => {
            let x = T::from_py(value)?;
            let v = self.data.downcast_mut::<T>().expect("kind matches the storage");
            v.set(i, x).map(drop).ok_or_else(|| index_error(i, len))
        })
    }

    fn exports(&self) -> usize {
        self.data.exports()
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }
}
