//! Checked sizes and allocations for constructor arguments: a bad size is a Python error,
//! never an abort.

use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;

/// A size argument (a dimension, a pitch): any Python int in `0..=isize::MAX`, else
/// `ValueError` (`TypeError` for a non-int).
#[derive(Clone, Copy, Debug)]
pub struct Size(pub usize);

impl<'py> FromPyObject<'_, 'py> for Size {
    type Error = PyErr;
    fn extract(obj: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        let v: i128 = obj.extract()?;
        usize::try_from(v)
            .ok()
            .filter(|&n| n <= isize::MAX as usize)
            .map(Size)
            .ok_or_else(|| {
                PyValueError::new_err(format!("size {v} is out of range 0..=isize::MAX"))
            })
    }
}

/// The product of `dims`, or `ValueError` if it overflows a buffer's byte size.
pub fn checked_count(dims: &[usize], itemsize: usize) -> PyResult<usize> {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|n| {
            n.checked_mul(itemsize)
                .is_some_and(|b| b <= isize::MAX as usize)
        })
        .ok_or_else(|| PyValueError::new_err(format!("shape {dims:?} is too large")))
}

/// `n` copies of `value`, or `MemoryError`.
pub fn filled<T: Clone>(n: usize, value: T) -> PyResult<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| PyMemoryError::new_err(format!("cannot allocate {n} elements")))?;
    v.resize(n, value);
    Ok(v)
}

/// `[f(0), .., f(n - 1)]`, or `MemoryError` (a plain `collect` would abort the process).
pub fn built<T>(n: usize, f: impl FnMut(usize) -> T) -> PyResult<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| PyMemoryError::new_err(format!("cannot allocate {n} elements")))?;
    v.extend((0..n).map(f));
    Ok(v)
}

/// `ValueError` unless `values` has `expected` elements.
pub fn check_len(what: &str, got: usize, expected: usize) -> PyResult<()> {
    if got == expected {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "{what}: expected {expected} values, got {got}"
        )))
    }
}
