//! Reading the compressed input: one copy of the caller's bytes into an owned `Vec`, so the
//! decoders can run without the GIL. The only place that touches the input buffer.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyBufferError;
use pyo3::prelude::*;

/// The bytes of `data` (bytes, bytearray, memoryview, a numpy uint8 array...): `TypeError` if
/// it has no buffer, `BufferError` unless its items are unsigned bytes laid out C-contiguously.
pub fn input_bytes(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let buffer = PyBuffer::<u8>::get(data)?;
    if !buffer.is_c_contiguous() {
        return Err(PyBufferError::new_err(
            "decode: the input buffer must be C-contiguous",
        ));
    }
    buffer.to_vec(data.py())
}
