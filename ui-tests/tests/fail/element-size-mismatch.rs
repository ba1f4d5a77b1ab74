#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

// `element = T` presents the same bytes as `T`: a 2-byte element over 4-byte words would
// describe twice the items the storage holds.
#[pyclass]
#[derive(PyBuffer)]
struct Data {
    #[buffer(element = u16)]
    words: SharedVec<u32>,
}

#[buffer_methods]
#[pymethods]
impl Data {}

fn main() {}
