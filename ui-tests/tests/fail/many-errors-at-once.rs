#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer(shape = [rows, 3], ordr = "C", readonly = maybe, strides = 8)]
    values: Vec<f64>,
    rows: usize,
}

#[buffer_methods]
#[pymethods]
impl Data {}

fn main() {}
