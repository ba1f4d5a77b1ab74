//! A test hook: the record-format builder `#[derive(Element)]` uses, run on a layout given at
//! run time (`test_elements.py` checks it against random `ctypes` layouts read by numpy),
//! through the conformance kit's [`buffer_runtime::testing::record_format`]. Array dimensions
//! go through the public [`ArrayDims`].

use std::ffi::CString;

use buffer_runtime::testing::{record_format as build, RecordField};
use buffer_runtime::ArrayDims;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The most array dimensions the hook takes per field. The generated layouts have at most 2;
/// staying far below the runtime's own nesting limit means `ArrayDims::outer` never reaches it,
/// whatever that limit becomes, and the hook needs no copy of it.
const MAX_FIELD_DIMS: usize = 4;

/// One field for `record_format`: `(name, offset, size, align, element format, dims)`.
type FieldSpec = (String, usize, usize, usize, String, Vec<usize>);

#[pyfunction]
pub fn record_format(fields: Vec<FieldSpec>, size: usize, align: usize) -> PyResult<String> {
    let formats = fields
        .iter()
        .map(|f| CString::new(f.4.as_str()).map_err(|e| PyValueError::new_err(e.to_string())))
        .collect::<PyResult<Vec<_>>>()?;
    let mut built = Vec::with_capacity(fields.len());
    for (f, format) in fields.iter().zip(&formats) {
        let (name, offset, fsize, falign, _, dims) = f;
        if *falign == 0 || dims.len() > MAX_FIELD_DIMS {
            return Err(PyValueError::new_err(format!(
                "bad field spec: alignment 0, or more than {MAX_FIELD_DIMS} array dimensions"
            )));
        }
        let dims = dims
            .iter()
            .rev()
            .fold(ArrayDims::SCALAR, |inner, &n| ArrayDims::outer(n, inner));
        built.push(RecordField {
            name,
            offset: *offset,
            size: *fsize,
            align: *falign,
            format,
            dims,
            padding: false,
        });
    }
    build(&built, size, align).map_err(PyValueError::new_err)
}
