//! Generated code is warning-free in the user's crate: every annotation form, both derives and
//! every struct key, under `deny(warnings)` and the lints a careful crate turns on.
#![deny(warnings, unused, rust_2018_idioms, unused_qualifications, unreachable_pub)]
#![deny(clippy::all, clippy::pedantic)]
use buffer_runtime::{buffer_methods, Element, Order, PyBuffer, SharedArray, SharedBlock, SharedVec};
use pyo3::prelude::*;

const COLS: usize = 3;

#[pyclass]
#[derive(PyBuffer)]
struct Grid {
    #[buffer(shape = [rows, { COLS * 2 }], order = order, readonly = locked)]
    cells: SharedVec<f64>,
    rows: u32,
    order: Order,
    locked: bool,
}

/// `crate = ...` on a frozen class with plain array storage.
#[pyclass(frozen)]
#[derive(PyBuffer)]
#[buffer(crate = "::buffer_runtime")]
struct Reversed {
    #[buffer(shape = [2, 3], strides = [-24, 8], offset = 24, readonly)]
    cells: [[f64; 3]; 2],
}

#[pyclass]
#[derive(PyBuffer)]
struct Whole {
    #[buffer(shape = dims, strides = steps, offset = start, writable)]
    data: SharedArray<[u8; 16]>,
    dims: [usize; 2],
    steps: Box<[isize]>,
    start: i64,
}

#[pyclass]
#[derive(PyBuffer)]
struct Fortran {
    #[buffer(shape = [4, 4], order = "F", readonly = false)]
    m: SharedArray<[[f32; 4]; 4]>,
}

#[pyclass(frozen)]
#[derive(PyBuffer)]
struct Plain {
    #[buffer]
    data: Vec<u16>,
}

#[pyclass]
#[derive(PyBuffer)]
struct Bits {
    #[buffer(element = f32)]
    data: SharedVec<u32>,
}

#[derive(Clone, Copy, Element)]
#[repr(C)]
struct Point {
    x: f32,
    y: f32,
    tag: [u8; 4],
}

#[pyclass]
#[derive(PyBuffer)]
#[buffer(pickle = false)]
struct Points {
    #[buffer(shape = [n])]
    points: SharedVec<Point>,
    n: usize,
}

#[pyclass(frozen)]
#[derive(PyBuffer)]
#[buffer(crate = "::buffer_runtime", pickle = false)]
struct Block {
    #[buffer(writable)]
    data: SharedBlock<i64>,
}

/// `crate = ...` with a constant shape over shared fixed-size storage, `element = T`, and a
/// constant-block entry.
#[pyclass]
#[derive(PyBuffer)]
#[buffer(crate = "::buffer_runtime")]
struct Renamed {
    #[buffer(shape = [2, { COLS - 1 }], order = "F", element = i16, writable)]
    data: SharedArray<[u16; 4]>,
}

#[pyclass]
#[derive(PyBuffer)]
#[buffer(crate = "::buffer_runtime", slots = "manual")]
struct RenamedManual {
    #[buffer(shape = [rows], readonly = locked)]
    data: SharedVec<f32>,
    rows: u8,
    locked: bool,
}

#[derive(Clone, Copy, Element)]
#[repr(C, packed)]
#[element(crate = "::buffer_runtime")]
struct Packed(u8, u32);

#[pyclass(frozen)]
#[derive(PyBuffer)]
#[buffer(crate = "::buffer_runtime")]
struct PackedRecords {
    #[buffer]
    data: Box<[Packed]>,
}

#[pyclass]
#[derive(PyBuffer)]
#[buffer(slots = "manual")]
struct Manual {
    #[buffer]
    data: Vec<u8>,
}

#[buffer_methods]
#[pymethods]
impl Grid {}
#[buffer_methods(crate = "::buffer_runtime")]
#[pymethods]
impl Reversed {}
#[buffer_methods]
#[pymethods]
impl Whole {}
#[buffer_methods]
#[pymethods]
impl Fortran {}
#[buffer_methods]
#[pymethods]
impl Plain {}
#[buffer_methods]
#[pymethods]
impl Bits {}
#[buffer_methods]
#[pymethods]
impl Points {}
#[buffer_methods]
#[pymethods]
impl Block {}

#[buffer_methods(crate = "::buffer_runtime")]
#[pymethods]
impl Renamed {}
#[buffer_methods(crate = "::buffer_runtime")]
#[pymethods]
impl PackedRecords {}

#[pymethods]
impl RenamedManual {
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

#[pymethods]
impl Manual {
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

fn main() {
    let _ = (Grid::check_buffer, Plain::check_buffer);
}
