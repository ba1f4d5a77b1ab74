#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass(unsendable)]
#[derive(PyBuffer)]
struct Pointers {
    #[buffer]
    values: Vec<*const u8>,
}

#[buffer_methods]
#[pymethods]
impl Pointers {}

fn main() {}
