#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
#[buffer(pikle = false)]
struct Grid {
    #[buffer(shap = [rows, cols])]
    cells: SharedVec<f64>,
    rows: usize,
    cols: usize,
}

#[buffer_methods]
#[pymethods]
impl Grid {}

fn main() {}
