//! `Image`: decoded pixels, exported as a writable `B` buffer of shape
//! (height, width, channels) whose rows are `pitch` bytes apart; the row padding is never
//! exposed.

use buffer_runtime::{buffer_methods, PyBuffer, SharedVec};
use pyo3::prelude::*;

use crate::layout::{Layout, Pixels};

#[pyclass(module = "pixel_decoder")]
#[derive(PyBuffer)]
pub struct Image {
    #[buffer(shape = [height, width, channels], strides = [pitch, channels, 1])]
    data: SharedVec<u8>,
    height: usize,
    width: usize,
    channels: usize,
    pitch: usize,
}

impl Image {
    /// Takes the pixels' buffer without copying it.
    pub fn new(pixels: Pixels) -> Self {
        let Pixels { layout, data } = pixels;
        debug_assert_eq!(data.len(), layout.total());
        let Layout {
            height,
            width,
            channels,
            pitch,
        } = layout;
        Image {
            data: SharedVec::from(data),
            height,
            width,
            channels,
            pitch,
        }
    }
}

#[buffer_methods]
#[pymethods]
impl Image {
    #[getter]
    fn height(&self) -> usize {
        self.height
    }

    #[getter]
    fn width(&self) -> usize {
        self.width
    }

    #[getter]
    fn channels(&self) -> usize {
        self.channels
    }

    /// Bytes from the start of one row to the next: a multiple of 64, at least
    /// `width * channels`.
    #[getter]
    fn pitch(&self) -> usize {
        self.pitch
    }

    fn __repr__(&self) -> String {
        format!(
            "pixel_decoder.Image(height={}, width={}, channels={}, pitch={})",
            self.height, self.width, self.channels, self.pitch
        )
    }
}
