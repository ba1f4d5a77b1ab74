//! `#[buffer(slots = "manual")]`: the class writes the two slots itself (here delegating to
//! the runtime), so it needs no `#[buffer_methods]`.
use buffer_runtime::PyBuffer;
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
#[buffer(slots = "manual")]
struct Samples {
    #[buffer]
    data: Vec<f64>,
}

#[pymethods]
impl Samples {
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut pyo3::ffi::Py_buffer,
        flags: std::os::raw::c_int,
    ) -> PyResult<()> {
        // SAFETY: pyo3 passes the view of this `bf_getbuffer` call.
        unsafe { buffer_runtime::getbuffer(slf, view, flags) }
    }

    unsafe fn __releasebuffer__(slf: Bound<'_, Self>, view: *mut pyo3::ffi::Py_buffer) {
        // SAFETY: the view was filled by `__getbuffer__` above.
        unsafe { buffer_runtime::releasebuffer(slf, view) }
    }
}

fn main() {}
