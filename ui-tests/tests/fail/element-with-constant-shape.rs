#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

// One error for the element; the shape assertions stay silent.
#[pyclass]
#[derive(PyBuffer)]
struct Names {
    #[buffer(shape = [2, 2])]
    names: [[String; 2]; 2],
}

#[pyclass]
#[derive(PyBuffer)]
struct Strided {
    #[buffer(shape = [2], strides = [16])]
    names: [char; 4],
}

#[buffer_methods]
#[pymethods]
impl Names {}

#[buffer_methods]
#[pymethods]
impl Strided {}

fn main() {}
