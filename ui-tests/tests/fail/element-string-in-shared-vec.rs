#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

// One error, on the field: `SharedVec` itself rejects the element.
#[pyclass]
#[derive(PyBuffer)]
struct Names {
    #[buffer]
    names: SharedVec<String>,
}

#[buffer_methods]
#[pymethods]
impl Names {}

fn main() {}
