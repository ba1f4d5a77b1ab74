//! `#[buffer(pickle = false)]`: fields that do not convert to Python values are fine; the class
//! is then unpicklable (TypeError at run time, as for any object), and still has DLPack.
use buffer_runtime::{buffer_methods, PyBuffer, SharedBlock};
use pyo3::prelude::*;

struct NotPython;

#[pyclass]
#[derive(PyBuffer)]
#[buffer(pickle = false)]
struct Opaque {
    #[buffer]
    data: SharedBlock<u8>,
    handle: std::sync::Mutex<NotPython>,
}

#[buffer_methods]
#[pymethods]
impl Opaque {}

/// Whole-shape fields of every holder type pickle (`Box<[usize]>` as a list).
#[pyclass]
#[derive(PyBuffer)]
struct Boxed {
    #[buffer(shape = dims, strides = steps)]
    data: SharedBlock<f64>,
    dims: Box<[usize]>,
    steps: Box<[isize]>,
}

#[buffer_methods]
#[pymethods]
impl Boxed {}

fn main() {
    let _ = Opaque { data: SharedBlock::from(vec![1u8]), handle: std::sync::Mutex::new(NotPython) };
    let _ = Boxed { data: SharedBlock::from(vec![1.0]), dims: Box::new([1]), steps: Box::new([8]) };
}
