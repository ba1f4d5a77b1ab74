#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Names {
    #[buffer]
    names: Vec<String>,
}

#[buffer_methods]
#[pymethods]
impl Names {}

fn main() {}
