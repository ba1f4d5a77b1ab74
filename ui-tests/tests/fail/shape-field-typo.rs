#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Grid {
    #[buffer(shape = [rows, colums])]
    cells: SharedVec<f64>,
    rows: usize,
    columns: usize,
}

#[buffer_methods]
#[pymethods]
impl Grid {}

fn main() {}
