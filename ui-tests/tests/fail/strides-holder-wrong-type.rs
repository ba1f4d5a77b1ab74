#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer(shape = dims, strides = steps)]
    values: Vec<f64>,
    dims: Vec<usize>,
    steps: Vec<usize>,
}

#[buffer_methods]
#[pymethods]
impl Data {}

fn main() {}
