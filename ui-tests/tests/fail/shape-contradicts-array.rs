#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Mat4 {
    #[buffer(shape = [4, 3])]
    cells: [[f32; 4]; 4],
}

#[buffer_methods]
#[pymethods]
impl Mat4 {}

fn main() {}
