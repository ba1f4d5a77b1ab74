#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer(shape = [2], strides = [8], offset = start)]
    values: Vec<f64>,
    start: f32,
}

#[buffer_methods]
#[pymethods]
impl Data {}

fn main() {}
