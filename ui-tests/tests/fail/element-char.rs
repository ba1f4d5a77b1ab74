#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Text {
    #[buffer]
    chars: Box<[char]>,
}

#[buffer_methods]
#[pymethods]
impl Text {}

fn main() {}
