//! `Image`: a `B` buffer of shape (height, width, channels) whose rows are `pitch` bytes apart,
//! so the padding at the end of each row is never exposed.

use buffer_runtime::{buffer_methods, PyBuffer, SharedBlock};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::alloc::{checked_count, filled, Size};

#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct Image {
    #[buffer(shape = [height, width, channels], strides = [pitch, channels, 1])]
    data: SharedBlock<u8>,
    height: usize,
    width: usize,
    channels: usize,
    pitch: usize,
}

/// What the padding bytes hold; never part of the exposed data.
const PADDING: u8 = 0xEE;

#[buffer_methods]
#[pymethods]
impl Image {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.data.exports()
    }

    /// Element (y, x, c) is `(y*31 + x*7 + c) % 256`.
    #[new]
    fn new(height: Size, width: Size, channels: Size, pitch: Size) -> PyResult<Self> {
        let (height, width, channels, pitch) = (height.0, width.0, channels.0, pitch.0);
        let row = checked_count(&[width, channels], 1)?;
        if pitch < row {
            return Err(PyValueError::new_err(format!(
                "pitch {pitch} is smaller than a row of width*channels = {row} bytes"
            )));
        }
        let n = checked_count(&[height, pitch], 1)?;
        let mut data = filled(n, PADDING)?;
        for y in (0..height).take_while(|_| row > 0) {
            for x in 0..width {
                for c in 0..channels {
                    data[y * pitch + x * channels + c] = ((y * 31 + x * 7 + c) % 256) as u8;
                }
            }
        }
        Ok(Image {
            data: data.into(),
            height,
            width,
            channels,
            pitch,
        })
    }

    #[getter]
    fn pitch(&self) -> usize {
        self.pitch
    }
}
