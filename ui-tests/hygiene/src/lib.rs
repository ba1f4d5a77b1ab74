//! Compiles only if the generated code uses absolute paths: no prelude, and the runtime is
//! known here as `renamed_runtime` (named through `crate = "..."`).
#![no_implicit_prelude]
#![deny(warnings, unused, rust_2018_idioms)]
#![deny(clippy::all, clippy::pedantic)]

use ::pyo3::prelude::pyclass;
use ::pyo3::prelude::pymethods;
use ::renamed_runtime::{buffer_methods, PyBuffer};

/// Names that generated code must not pick up in place of the real items. (Primitive types
/// are not shadowed: `#[pyclass]` itself does not support that.)
#[allow(dead_code)]
mod shadows {
    pub struct Result;
    pub struct Option;
    pub struct Ok;
    pub struct Err;
    pub mod buffer_runtime {}
}
#[allow(unused_imports)]
use shadows::*;

const N: ::core::primitive::usize = 2;

/// Every annotation form, with a fixed-size array.
#[pyclass]
#[derive(PyBuffer)]
#[buffer(crate = "::renamed_runtime")]
pub struct Grid {
    #[buffer(shape = [rows, { N * 3 }], order = order, readonly = locked)]
    cells: ::renamed_runtime::SharedVec<::core::primitive::f64>,
    rows: ::core::primitive::u32,
    order: ::renamed_runtime::Order,
    locked: ::core::primitive::bool,
}

/// Explicit strides and offset over a fixed array, read-only.
#[pyclass(frozen)]
#[derive(PyBuffer)]
#[buffer(crate = "::renamed_runtime")]
pub struct Strided {
    #[buffer(shape = [2, 3], strides = [-24, 8], offset = 24, readonly)]
    cells: [[::core::primitive::f64; 3]; 2],
}

/// Writable shared storage, with whole-shape fields.
#[pyclass]
#[derive(PyBuffer)]
#[buffer(crate = "::renamed_runtime")]
pub struct Shared {
    #[buffer(shape = dims, strides = steps, writable)]
    data: ::renamed_runtime::SharedVec<::core::primitive::i32>,
    dims: ::std::vec::Vec<::core::primitive::usize>,
    steps: ::std::vec::Vec<::core::primitive::isize>,
}

#[buffer_methods(crate = "::renamed_runtime")]
#[pymethods]
impl Grid {}

#[buffer_methods(crate = "::renamed_runtime")]
#[pymethods]
impl Strided {}

#[buffer_methods(crate = "::renamed_runtime")]
#[pymethods]
impl Shared {}
