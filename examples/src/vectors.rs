//! One-dimensional providers: `IntArray`, `GrowableArray` (writable, growable) and `Frozen`
//! (read-only bytes).

use buffer_runtime::{buffer_methods, PyBuffer, SharedVec};
use pyo3::prelude::*;

/// 1-D `i` (int32), writable; `append` is refused while a view is alive.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct IntArray {
    #[buffer]
    data: SharedVec<i32>,
}

#[buffer_methods]
#[pymethods]
impl IntArray {
    #[new]
    fn new(values: Vec<i32>) -> Self {
        IntArray { data: values.into() }
    }

    fn append(&mut self, value: i32) -> PyResult<()> {
        Ok(self.data.push(value)?)
    }

    fn tolist(&self) -> Vec<i32> {
        self.data.to_vec()
    }

    fn exports(&self) -> usize {
        self.data.exports()
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }
}

/// 1-D `d` (float64), writable and growable while no view is alive.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct GrowableArray {
    #[buffer]
    data: SharedVec<f64>,
}

#[buffer_methods]
#[pymethods]
impl GrowableArray {
    #[new]
    fn new(values: Vec<f64>) -> Self {
        GrowableArray { data: values.into() }
    }

    fn append(&mut self, value: f64) -> PyResult<()> {
        Ok(self.data.push(value)?)
    }

    fn extend(&mut self, values: Vec<f64>) -> PyResult<()> {
        Ok(self.data.extend(values)?)
    }

    fn sum(&self) -> f64 {
        self.data.iter().sum()
    }

    fn tolist(&self) -> Vec<f64> {
        self.data.to_vec()
    }

    fn exports(&self) -> usize {
        self.data.exports()
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }
}

/// 1-D `B`, read-only: plain storage in a frozen class.
#[pyclass(module = "buffer_examples", frozen)]
#[derive(PyBuffer)]
pub struct Frozen {
    #[buffer]
    data: Box<[u8]>,
}

#[buffer_methods]
#[pymethods]
impl Frozen {
    #[new]
    fn new(data: &[u8]) -> Self {
        Frozen { data: data.into() }
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }
}
