#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[buffer_methods]
#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer]
    values: Vec<f64>,
}

fn main() {}
