//! Data that travels: buffers returned without a class of their own ([`OwnedBuffer`]).
//! Pickling (protocol 5 out of band), `copy`, and DLPack are generated for every example class
//! by `#[derive(PyBuffer)]` / `#[buffer_methods]`; nothing here is needed for them.

use buffer_runtime::{OwnedBuffer, SharedBlock};
use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;

use crate::alloc::Size;

/// int64 `0..n` (format `q`), reshaped to `shape` (C order) when given: a `ValueError` if the
/// product of `shape` is not `n`. Writable; the `Vec` is moved into the object, not copied.
#[pyfunction]
#[pyo3(signature = (n, shape = None))]
pub fn owned_range(n: Size, shape: Option<Vec<Size>>) -> PyResult<OwnedBuffer> {
    let n = n.0;
    if n > isize::MAX as usize / 8 {
        return Err(PyValueError::new_err(format!("n = {n} is too large")));
    }
    let mut v: Vec<i64> = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| PyMemoryError::new_err(format!("cannot allocate {n} elements")))?;
    v.extend(0..n as i64);
    let b = OwnedBuffer::from_vec(v);
    match shape {
        None => Ok(b),
        Some(shape) => {
            let dims: Vec<usize> = shape.iter().map(|d| d.0).collect();
            b.with_shape(&dims).map_err(|e| {
                PyValueError::new_err(format!(
                    "owned_range: shape {dims:?} does not fit {n} elements: {e}"
                ))
            })
        }
    }
}

/// A read-only object holding a copy of the bytes of `data` (any bytes-like object): format
/// `B`, 1-D.
#[pyfunction]
pub fn owned_frozen(data: &Bound<'_, PyAny>) -> PyResult<OwnedBuffer> {
    Ok(OwnedBuffer::from(SharedBlock::<u8>::copy_from_buffer(data)?).readonly())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    OwnedBuffer::add_to(m)?;
    m.add_function(wrap_pyfunction!(owned_range, m)?)?;
    m.add_function(wrap_pyfunction!(owned_frozen, m)?)?;
    Ok(())
}
