#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Chars {
    #[buffer(writable)]
    values: SharedArray<[char; 4]>,
}

#[buffer_methods]
#[pymethods]
impl Chars {}

fn main() {}
