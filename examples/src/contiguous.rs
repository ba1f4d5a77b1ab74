//! The escape hatch for consumers that take only C-contiguous memory (Pillow's
//! `Image.frombuffer`, `hashlib`, file writes, `memoryview.cast`): a strided provider such as
//! `Image` (padded rows) refuses their request, correctly. A contiguous copy, made from Rust
//! with public API only: a view reads any strides, `to_vec` copies in logical (C) order, and
//! an [`OwnedBuffer`] exports the copy with the same shape.

use buffer_runtime::view::PyView;
use buffer_runtime::OwnedBuffer;
use pyo3::prelude::*;

/// A C-contiguous copy of any `uint8` buffer (any shape, any strides), with the same shape;
/// writable. The copy runs without the GIL.
#[pyfunction]
pub fn contiguous_copy(py: Python<'_>, src: PyView<u8>) -> PyResult<OwnedBuffer> {
    let shape = src.shape().to_vec();
    let data = py.detach(move || src.to_vec());
    Ok(OwnedBuffer::from_vec(data).with_shape(shape)?)
}
