#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer(shape = [2, 2], order = layout)]
    values: SharedVec<f64>,
    layout: String,
}

#[buffer_methods]
#[pymethods]
impl Data {}

fn main() {}
