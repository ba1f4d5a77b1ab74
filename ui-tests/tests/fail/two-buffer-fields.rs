#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Two {
    #[buffer]
    a: Vec<f64>,
    #[buffer]
    b: Vec<f64>,
}

#[buffer_methods]
#[pymethods]
impl Two {}

fn main() {}
