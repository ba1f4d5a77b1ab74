#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Data<T> {
    #[buffer]
    values: Vec<T>,
}

fn main() {}
