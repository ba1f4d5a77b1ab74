//! A size argument: any Python int in `0..=isize::MAX`, else `ValueError` (`TypeError` for a
//! non-int), so a negative size is not pyo3's `OverflowError`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

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
