#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Image {
    #[buffer(shape = [h, w], shape = [w, h])]
    pixels: Vec<u8>,
    h: usize,
    w: usize,
}

#[buffer_methods]
#[pymethods]
impl Image {}

fn main() {}
