#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
#[buffer(crate = "not a path")]
struct Data {
    #[buffer]
    values: Vec<f64>,
}

#[buffer_methods]
#[pymethods]
impl Data {}

fn main() {}
