#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[derive(Clone, Copy)]
struct Point {
    x: f64,
    y: f64,
}

#[pyclass]
#[derive(PyBuffer)]
struct Points {
    #[buffer]
    points: Vec<Point>,
}

#[buffer_methods]
#[pymethods]
impl Points {}

fn main() {}
