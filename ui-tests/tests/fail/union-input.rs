#![allow(unused_imports)]
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[derive(PyBuffer)]
union Data {
    a: u32,
    b: f32,
}

fn main() {}
