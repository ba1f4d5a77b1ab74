#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

// Without `#[buffer_methods]` the class has no buffer slots: Python would see no buffer.
#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer]
    values: SharedVec<f64>,
}

#[pymethods]
impl Data {
    fn total(&self) -> f64 {
        0.0
    }
}

fn main() {}
