#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, Element, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

// 4 bytes of padding after `a`: Rust leaves them uninitialised, so plain (read-only, borrowed)
// storage cannot zero them before Python reads them.
#[derive(Clone, Copy, Element)]
#[repr(C)]
struct Padded {
    a: u32,
    b: f64,
}

#[pyclass(frozen)]
#[derive(PyBuffer)]
struct Data {
    #[buffer]
    values: Vec<Padded>,
}

#[buffer_methods]
#[pymethods]
impl Data {}

fn main() {}
