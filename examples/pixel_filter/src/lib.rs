//! `pixel_filter`: image filters that read any 3-d uint8 buffer in place (a
//! `pixel_decoder.Image`, a numpy array of any strides, a memoryview, a Pillow image through
//! numpy) through typed views, compute without the GIL, and return a `pixel_filter.Image`.
//! This crate does not depend on `pixel_decoder`: the buffer protocol is their only contract.

mod filters;
mod image;

use buffer_runtime::view::PyViewMut;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use filters::Source;
use image::{Canvas, Image};

fn no_memory(e: filters::NoMemory) -> PyErr {
    pyo3::exceptions::PyMemoryError::new_err(format!("cannot allocate {} scratch elements", e.0))
}

/// The largest `radius` `box_blur` takes.
const MAX_RADIUS: usize = 64;

/// `out[y, x, c] = (S + n // 2) // n`, `n = (2 radius + 1)^2`, `S` the sum of the source over
/// the window around `(y, x)` with coordinates clamped to the image.
#[pyfunction]
#[pyo3(signature = (src, radius = 1))]
fn box_blur(py: Python<'_>, src: Source, radius: i64) -> PyResult<Image> {
    let r = usize::try_from(radius)
        .ok()
        .filter(|&r| r <= MAX_RADIUS)
        .ok_or_else(|| {
            PyValueError::new_err(format!("radius must be in 0..={MAX_RADIUS}, got {radius}"))
        })?;
    let [h, w, c] = [src.shape()[0], src.shape()[1], src.shape()[2]];
    let out = Canvas::new(h, w, c)?;
    Ok(py
        .detach(move || filters::box_blur(&src, r, out))
        .map_err(no_memory)?
        .into())
}

/// Shape `(h, w, 1)`: `(77 R + 150 G + 29 B + 128) >> 8` from the first three channels.
#[pyfunction]
fn grayscale(py: Python<'_>, src: Source) -> PyResult<Image> {
    let [h, w, c] = [src.shape()[0], src.shape()[1], src.shape()[2]];
    if c < 3 {
        return Err(PyValueError::new_err(format!(
            "src: grayscale needs at least 3 channels, got {c}"
        )));
    }
    let out = Canvas::new(h, w, 1)?;
    Ok(py
        .detach(move || filters::grayscale(&src, out))
        .map_err(no_memory)?
        .into())
}

/// `dst = 255 - dst` in place, for a writable uint8 buffer of any shape and strides.
#[pyfunction]
fn invert_inplace(py: Python<'_>, dst: PyViewMut<u8>) {
    py.detach(move || dst.map_inplace(|x| 255 - x));
}

// Free-threading safe: see "Without the GIL" in buffer-runtime/docs/export-safety.md.
#[pymodule(gil_used = false)]
fn pixel_filter(m: &Bound<'_, PyModule>) -> PyResult<()> {
    buffer_runtime::add_class::<Image>(m)?;
    m.add_function(wrap_pyfunction!(box_blur, m)?)?;
    m.add_function(wrap_pyfunction!(grayscale, m)?)?;
    m.add_function(wrap_pyfunction!(invert_inplace, m)?)?;
    Ok(())
}
