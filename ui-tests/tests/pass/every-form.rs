//! Every annotation form on one struct each, with the names of generated locals used as
//! field names.
use buffer_runtime::{buffer_methods, Order, PyBuffer, SharedArray, SharedVec};
use pyo3::prelude::*;

const COLS: usize = 3;

#[pyclass]
#[derive(PyBuffer)]
struct Grid {
    #[buffer(shape = [__shape, { COLS * 2 }], order = __order, readonly = __readonly)]
    __ex: SharedVec<f64>,
    __shape: u32,
    __order: Order,
    __readonly: bool,
}

#[pyclass(frozen)]
#[derive(PyBuffer)]
struct Reversed {
    #[buffer(shape = [2, 3], strides = [-24, 8], offset = 24, readonly)]
    cells: [[f64; 3]; 2],
}

#[pyclass]
#[derive(PyBuffer)]
struct Whole {
    #[buffer(shape = dims, strides = steps, offset = start, writable)]
    data: SharedArray<[u8; 16]>,
    dims: [usize; 2],
    steps: Box<[isize]>,
    start: i64,
}

#[pyclass]
#[derive(PyBuffer)]
struct Fortran {
    #[buffer(shape = [4, 4], order = "F", readonly = false)]
    m: SharedArray<[[f32; 4]; 4]>,
}

/// Constant strides over shared fixed-size storage: checked against the array at compile time.
#[pyclass]
#[derive(PyBuffer)]
struct Backwards {
    #[buffer(shape = [4], strides = [-4], offset = 12, writable)]
    data: SharedArray<[u32; 4]>,
}

/// Bare `#[buffer]`, other attributes around it, and a doc comment.
#[pyclass]
#[derive(PyBuffer)]
struct Plain {
    /// The data.
    #[allow(unused)]
    #[buffer]
    #[allow(dead_code)]
    data: Box<[bool]>,
}

/// The annotation split over two attributes.
#[pyclass]
#[derive(PyBuffer)]
struct Split {
    #[buffer(shape = [n])]
    #[buffer(readonly)]
    data: Vec<[u16; 2]>,
    n: usize,
}

/// A single element is a 0-d buffer.
#[pyclass(frozen)]
#[derive(PyBuffer)]
struct Scalar {
    #[buffer]
    value: f64,
}

/// Raw identifiers as field names.
#[pyclass]
#[derive(PyBuffer)]
struct Raw {
    #[buffer(shape = [r#type])]
    r#box: Vec<i8>,
    r#type: usize,
}

#[buffer_methods]
#[pymethods]
impl Grid {}
#[buffer_methods]
#[pymethods]
impl Reversed {}
#[buffer_methods]
#[pymethods]
impl Whole {}
#[buffer_methods]
#[pymethods]
impl Fortran {}
#[buffer_methods]
#[pymethods]
impl Plain {}
#[buffer_methods]
#[pymethods]
impl Backwards {}
#[buffer_methods]
#[pymethods]
impl Split {}
#[buffer_methods]
#[pymethods]
impl Scalar {}
#[buffer_methods]
#[pymethods]
impl Raw {}

fn main() {}
