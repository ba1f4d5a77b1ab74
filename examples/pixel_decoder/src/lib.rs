//! `pixel_decoder`: PNG and JPEG files decoded (with the `png` and `zune-jpeg` crates) straight
//! into an `Image`, a zero-copy `uint8` buffer of shape (height, width, channels) with rows
//! padded to a multiple of 64 bytes.

mod decode_jpeg;
mod decode_png;
mod error;
mod formats;
mod image;
mod input;
mod jpeg_markers;
mod layout;
mod pattern;
mod size;

use pyo3::prelude::*;

use image::Image;
use size::Size;

/// Decodes a PNG or JPEG file held in any bytes-like object into an `Image`. The GIL is
/// released while the decoder runs.
#[pyfunction]
fn decode(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Image> {
    let bytes = input::input_bytes(data)?;
    let pixels = py.detach(move || formats::decode(&bytes))?;
    Ok(Image::new(pixels))
}

/// An `Image` whose element (y, x, c) is `(y*31 + x*7 + c*101) % 256`.
#[pyfunction]
#[pyo3(signature = (height, width, channels = Size(3)))]
fn synthetic(py: Python<'_>, height: Size, width: Size, channels: Size) -> PyResult<Image> {
    let pixels = py.detach(move || pattern::synthetic(height.0, width.0, channels.0))?;
    Ok(Image::new(pixels))
}

// Free-threading safe: see "Without the GIL" in buffer-runtime/docs/export-safety.md.
#[pymodule(gil_used = false)]
fn pixel_decoder(m: &Bound<'_, PyModule>) -> PyResult<()> {
    buffer_runtime::add_class::<Image>(m)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(synthetic, m)?)?;
    Ok(())
}
