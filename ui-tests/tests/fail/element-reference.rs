#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Refs {
    #[buffer]
    values: [&'static u8; 4],
}

#[buffer_methods]
#[pymethods]
impl Refs {}

fn main() {}
