//! Test hooks for the typed consumer views (`buffer_runtime::view`): each makes the view it is
//! asked for and reports what it sees, so the Python tests can compare every layout and
//! exporter against numpy and `_testbuffer`.

use buffer_runtime::view::{
    AnyContiguous, AnyNdim, AnyView, CContiguous, Contiguity, FContiguous, Ndim, PyView, PyViewMut,
    Rank, Strided,
};
use buffer_runtime::{Be, Element, Le};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;

/// Runs `$body` with `$t` bound to the element type named by `$dtype` (a struct code).
macro_rules! by_dtype {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            "B" => {
                type $t = u8;
                $body
            }
            "b" => {
                type $t = i8;
                $body
            }
            "H" => {
                type $t = u16;
                $body
            }
            "h" => {
                type $t = i16;
                $body
            }
            "I" => {
                type $t = u32;
                $body
            }
            "i" => {
                type $t = i32;
                $body
            }
            "Q" => {
                type $t = u64;
                $body
            }
            "q" => {
                type $t = i64;
                $body
            }
            "f" => {
                type $t = f32;
                $body
            }
            "d" => {
                type $t = f64;
                $body
            }
            "?" => {
                type $t = bool;
                $body
            }
            "<i" => {
                type $t = Le<i32>;
                $body
            }
            ">i" => {
                type $t = Be<i32>;
                $body
            }
            other => Err(PyValueError::new_err(format!(
                "no test element type {other:?}"
            ))),
        }
    };
}

/// Element values as Python objects.
trait Value: Element {
    fn py(self, py: Python<'_>) -> PyResult<Py<PyAny>>;
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self>;
}

macro_rules! plain_values {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                self.into_py_any(py)
            }
            fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
                v.extract()
            }
        }
    )*};
}
plain_values!(u8, i8, u16, i16, u32, i32, u64, i64, f32, f64, bool);

macro_rules! endian_values {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                self.get().into_py_any(py)
            }
            fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Self> {
                Ok(<$t>::new(v.extract()?))
            }
        }
    )*};
}
endian_values!(Le<i32>, Be<i32>);

fn values<T: Value>(py: Python<'_>, v: impl IntoIterator<Item = T>) -> PyResult<Vec<Py<PyAny>>> {
    v.into_iter().map(|x| x.py(py)).collect()
}

/// What a read-only view of any rank sees: (shape, strides, readonly, to_vec, iter, for_each).
type Seen = (
    Vec<usize>,
    Vec<isize>,
    bool,
    Vec<Py<PyAny>>,
    Vec<Py<PyAny>>,
    Vec<Py<PyAny>>,
);

fn seen<T: Value, D: Rank, L: Contiguity>(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
) -> PyResult<Seen> {
    let v = PyView::<T, D, L>::new(obj)?;
    let mut each = Vec::new();
    v.for_each(|x| each.push(x));
    Ok((
        v.shape().to_vec(),
        v.strides().to_vec(),
        v.readonly(),
        values(py, v.to_vec())?,
        values(py, v.iter())?,
        values(py, each)?,
    ))
}

fn with_layout<T: Value, D: Rank>(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    layout: &str,
) -> PyResult<Seen> {
    match layout {
        "strided" => seen::<T, D, Strided>(py, obj),
        "C" => seen::<T, D, CContiguous>(py, obj),
        "F" => seen::<T, D, FContiguous>(py, obj),
        "A" => seen::<T, D, AnyContiguous>(py, obj),
        other => Err(PyValueError::new_err(format!("no layout {other:?}"))),
    }
}

/// A read-only view of `obj` as `dtype` with `layout` ("strided", "C", "F", "A") and `ndim`
/// (None: any; 0 to 3): (shape, strides, readonly, to_vec, iter, for_each).
#[pyfunction]
#[pyo3(signature = (obj, dtype, layout = "strided", ndim = None))]
pub fn view_read(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    dtype: &str,
    layout: &str,
    ndim: Option<usize>,
) -> PyResult<Seen> {
    by_dtype!(dtype, T => match ndim {
        None => with_layout::<T, AnyNdim>(py, obj, layout),
        Some(0) => with_layout::<T, Ndim<0>>(py, obj, layout),
        Some(1) => with_layout::<T, Ndim<1>>(py, obj, layout),
        Some(2) => with_layout::<T, Ndim<2>>(py, obj, layout),
        Some(3) => with_layout::<T, Ndim<3>>(py, obj, layout),
        Some(n) => Err(PyValueError::new_err(format!("no test rank {n}"))),
    })
}

/// The element at `index` of a read-only view, or None out of bounds.
#[pyfunction]
pub fn view_get(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    dtype: &str,
    index: Vec<usize>,
) -> PyResult<Option<Py<PyAny>>> {
    by_dtype!(dtype, T => PyView::<T>::new(obj)?.get(&index).map(|x| x.py(py)).transpose())
}

/// The C-order values of a sub-view: `("axis", axis, [index])` is `index_axis(axis, index)`,
/// `("lane", axis, at)` is `lane(axis, at)`; None when the view refuses.
/// A sub-view's shape and its elements in logical order.
type SubViewValues = (Vec<usize>, Vec<Py<PyAny>>);

#[pyfunction]
pub fn view_sub(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    dtype: &str,
    kind: &str,
    axis: usize,
    at: Vec<usize>,
) -> PyResult<Option<SubViewValues>> {
    by_dtype!(dtype, T => {
        let v = PyView::<T>::new(obj)?;
        let sub = match kind {
            "axis" => at.first().and_then(|&i| v.index_axis(axis, i)),
            "lane" => return v.lane(axis, &at).map(|s| Ok((s.shape().to_vec(), values(py, s.to_vec())?))).transpose(),
            other => return Err(PyValueError::new_err(format!("no sub-view kind {other:?}"))),
        };
        sub.map(|s| Ok((s.shape().to_vec(), values(py, s.to_vec())?))).transpose()
    })
}

/// Writes through a writable view: `("set", [index, value])`, `("fill", [value])`,
/// `("copy", values)` (C order), `("add", [k])` (map_inplace x + k).
#[pyfunction]
pub fn view_write(
    obj: &Bound<'_, PyAny>,
    dtype: &str,
    op: &str,
    args: Vec<Bound<'_, PyAny>>,
) -> PyResult<()> {
    by_dtype!(dtype, T => {
        let v = PyViewMut::<T>::new(obj)?;
        let arg = |i: usize| args.get(i).ok_or_else(|| PyValueError::new_err("missing argument"));
        match op {
            "set" => Ok(v.set(arg(0)?.extract::<Vec<usize>>()?, T::from_py(arg(1)?)?)?),
            "fill" => {
                v.fill(T::from_py(arg(0)?)?);
                Ok(())
            }
            "copy" => {
                let src = args.iter().map(|a| T::from_py(a)).collect::<PyResult<Vec<T>>>()?;
                Ok(v.copy_from_slice(&src)?)
            }
            "add" => add_each(&v, arg(0)?),
            other => Err(PyValueError::new_err(format!("no write op {other:?}"))),
        }
    })
}

/// `map_inplace(|x| x + k)`, the sum computed by Python (so every type gets its own rules).
fn add_each<T: Value>(v: &PyViewMut<T>, k: &Bound<'_, PyAny>) -> PyResult<()> {
    let mut err = None;
    v.map_inplace(|x| {
        let sum = x
            .py(k.py())
            .and_then(|x| x.bind(k.py()).add(k))
            .and_then(|s| T::from_py(&s));
        sum.unwrap_or_else(|e| {
            err.get_or_insert(e);
            x
        })
    });
    err.map_or(Ok(()), Err)
}

/// `(dtype, shape, values)` of an `AnyView` of `obj`.
#[pyfunction]
pub fn view_any(obj: AnyView) -> (&'static str, Vec<usize>, Vec<f64>) {
    (obj.dtype(), obj.shape().to_vec(), obj.to_f64_vec())
}

/// `(to_array, as_array)` of a float64 view, each flattened in C order; `as_array` is None
/// when the view has no `ndarray` form (unaligned, or strides not multiples of 8).
#[pyfunction]
pub fn view_ndarray(py: Python<'_>, obj: PyView<f64>) -> (Vec<f64>, Option<Vec<f64>>) {
    let owned = obj.to_array().iter().copied().collect();
    // SAFETY: the GIL is held for the whole borrow and no Python code runs during it; the
    // tests that call this start no other thread that writes the buffer.
    let borrowed = unsafe { obj.as_array() }
        .ok()
        .map(|a| a.iter().copied().collect());
    let _ = py;
    (owned, borrowed)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(view_read, m)?)?;
    m.add_function(wrap_pyfunction!(view_get, m)?)?;
    m.add_function(wrap_pyfunction!(view_sub, m)?)?;
    m.add_function(wrap_pyfunction!(view_write, m)?)?;
    m.add_function(wrap_pyfunction!(view_any, m)?)?;
    m.add_function(wrap_pyfunction!(view_ndarray, m)?)?;
    Ok(())
}
