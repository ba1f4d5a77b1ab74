#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer]
    values: Vec<f64>,
}

#[buffer_methods(krate = "::buffer_runtime")]
#[pymethods]
impl Data {}

fn main() {}
