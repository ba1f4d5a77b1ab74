//! `#[buffer_methods]` next to other methods, slots and attributes in the block, and with
//! the `#[pymethods]` path written in full.
use buffer_runtime::{buffer_methods, PyBuffer};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Table {
    #[buffer(shape = [rows, 2])]
    data: Vec<i32>,
    rows: u8,
}

#[buffer_methods]
#[pyo3::pymethods]
impl Table {
    #[new]
    fn new() -> Self {
        Table { data: vec![0; 4], rows: 2 }
    }

    fn __len__(&self) -> usize {
        self.rows as usize
    }

    #[getter]
    fn rows(&self) -> u8 {
        self.rows
    }

    #[staticmethod]
    fn width() -> usize {
        2
    }
}

fn main() {}
