#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Empty {
    data: Vec<f64>,
}

#[buffer_methods]
#[pymethods]
impl Empty {}

fn main() {}
