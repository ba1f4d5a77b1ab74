#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer(readonly = locked)]
    values: [[f64; 3]; 3],
    locked: bool,
}

#[buffer_methods]
#[pymethods]
impl Data {}

fn main() {}
