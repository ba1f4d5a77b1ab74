//! Shared storage in a frozen class: views may write; Rust cannot resize (no `&mut self`).
use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

#[pyclass(frozen)]
#[derive(PyBuffer)]
struct Counters {
    #[buffer(writable)]
    counts: SharedVec<u64>,
}

#[pyclass(frozen)]
#[derive(PyBuffer)]
struct Matrix {
    #[buffer(readonly = locked)]
    cells: SharedArray<[[f64; 2]; 2]>,
    locked: bool,
}

#[buffer_methods]
#[pymethods]
impl Counters {
    fn total(&self) -> u64 {
        self.counts.to_vec().iter().sum()
    }
}

#[buffer_methods]
#[pymethods]
impl Matrix {}

fn main() {}
