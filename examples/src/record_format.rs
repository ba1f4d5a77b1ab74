//! A test hook: the record-format builder `#[derive(Element)]` uses, run on a layout given at
//! run time (`test_elements.py` checks it against random `ctypes` layouts read by numpy).
//!
//! The derive builds the format at compile time from `offset_of!`; the same builder, for a
//! layout that only exists at run time, is reachable only through the runtime's generated-code
//! module (`__private::{Field, format_string}`: no semver guarantee, which is fine for a test
//! hook in this repository and is why it lives in a file of its own). Array dimensions go
//! through the public [`Dims`].

use std::ffi::CString;

use buffer_runtime::__private::{format_string, Field};
use buffer_runtime::Dims;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The most array dimensions the hook takes per field. The generated layouts have at most 2;
/// staying far below the runtime's own nesting limit means `Dims::outer` never reaches it,
/// whatever that limit becomes, and the hook needs no copy of it.
const MAX_FIELD_DIMS: usize = 4;

/// One field for `record_format`: `(name, offset, size, align, element format, dims)`.
type FieldSpec = (String, usize, usize, usize, String, Vec<usize>);

/// The `T{...}` format `#[derive(Element)]` would build for a struct of `size` bytes aligned to
/// `align` with these fields (offsets, sizes and alignments as the compiler lays them out).
/// For tests that check the builder against layouts computed independently (ctypes).
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
            .fold(Dims::SCALAR, |inner, &n| Dims::outer(n, inner));
        built.push(Field {
            name,
            offset: *offset,
            size: *fsize,
            align: *falign,
            format,
            dims,
            padding: false,
        });
    }
    // The builder's own checks panic (at compile time in the derive): report them as errors.
    let tiled = built
        .windows(2)
        .all(|w| w[0].offset + w[0].size <= w[1].offset)
        && built.last().is_none_or(|f| f.offset + f.size <= size)
        && !built.is_empty()
        && size > 0
        && align > 0;
    if !tiled {
        return Err(PyValueError::new_err(
            "fields do not tile the struct in order",
        ));
    }
    Ok(format_string(&built, size, align))
}
