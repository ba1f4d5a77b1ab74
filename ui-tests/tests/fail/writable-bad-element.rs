#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

// One mistake (the element), one error: the writability check stays silent for it.
#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer(writable)]
    values: SharedVec<char>,
}

#[buffer_methods]
#[pymethods]
impl Data {}

fn main() {}
