#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer]
    values: Vec<f64>,
}

#[buffer_methods]
#[pymethods]
impl Data {
    unsafe fn __getbuffer__(
        _slf: Bound<'_, Self>,
        _view: *mut pyo3::ffi::Py_buffer,
        _flags: std::os::raw::c_int,
    ) -> PyResult<()> {
        Ok(())
    }
}

fn main() {}
