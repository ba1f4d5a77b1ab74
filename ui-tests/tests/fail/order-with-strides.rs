#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer(shape = [2, 2], strides = [16, 8], order = "F")]
    values: [f64; 4],
}

#[buffer_methods]
#[pymethods]
impl Data {}

fn main() {}
