#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
#[buffer(crate = "::buffer_runtime", shape = [2])]
struct Data {
    #[buffer(shape = [n])]
    #[buffer(shape = [2], order = "c")]
    values: Vec<f64>,
    #[buffer]
    other: Vec<f64>,
}

#[buffer_methods]
#[pymethods]
impl Data {}

fn main() {}
