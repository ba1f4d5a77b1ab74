#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Flipped {
    #[buffer(shape = [2, 3], strides = [24, 8], offset = 8)]
    cells: [[f64; 3]; 2],
}

#[buffer_methods]
#[pymethods]
impl Flipped {}

fn main() {}
