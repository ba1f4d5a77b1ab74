#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer(shape = [{ 2.0 * 3.0 }])]
    values: [f64; 6],
}

#[buffer_methods]
#[pymethods]
impl Data {}

fn main() {}
