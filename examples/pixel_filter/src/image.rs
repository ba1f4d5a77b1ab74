//! `pixel_filter.Image`: a filter's output. uint8 `B` of shape `(height, width, channels)`,
//! rows padded to a multiple of 64 bytes (strides `(pitch, channels, 1)`), writable.

use buffer_runtime::{buffer_methods, PyBuffer, SharedVec};
use pyo3::exceptions::PyMemoryError;
use pyo3::prelude::*;

/// Row alignment of every image, in bytes.
pub const ROW_ALIGN: usize = 64;

#[pyclass(module = "pixel_filter")]
#[derive(PyBuffer)]
pub struct Image {
    #[buffer(shape = [height, width, channels], strides = [pitch, channels, 1])]
    data: SharedVec<u8>,
    height: usize,
    width: usize,
    channels: usize,
    pitch: usize,
}

/// An image's geometry and its zeroed pixel rows, filled before it becomes an [`Image`].
pub struct Canvas {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub pitch: usize,
    pub data: Vec<u8>,
}

impl Canvas {
    /// A zeroed image, or `MemoryError` when it cannot be allocated.
    pub fn new(height: usize, width: usize, channels: usize) -> PyResult<Canvas> {
        let too_big = || {
            PyMemoryError::new_err(format!(
                "cannot allocate a {height}x{width}x{channels} image"
            ))
        };
        let row = width.checked_mul(channels).ok_or_else(too_big)?;
        let pitch = row
            .checked_next_multiple_of(ROW_ALIGN)
            .ok_or_else(too_big)?;
        let size = pitch
            .checked_mul(height)
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or_else(too_big)?;
        let mut data = Vec::new();
        data.try_reserve_exact(size).map_err(|_| too_big())?;
        data.resize(size, 0);
        Ok(Canvas {
            height,
            width,
            channels,
            pitch,
            data,
        })
    }

    /// Row `y`'s pixels (without its padding).
    pub fn row_mut(&mut self, y: usize) -> &mut [u8] {
        let start = y * self.pitch;
        &mut self.data[start..start + self.width * self.channels]
    }
}

impl From<Canvas> for Image {
    fn from(c: Canvas) -> Image {
        Image {
            data: SharedVec::from(c.data),
            height: c.height,
            width: c.width,
            channels: c.channels,
            pitch: c.pitch,
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

    #[getter]
    fn pitch(&self) -> usize {
        self.pitch
    }

    fn __repr__(&self) -> String {
        format!(
            "pixel_filter.Image(height={}, width={}, channels={}, pitch={})",
            self.height, self.width, self.channels, self.pitch
        )
    }
}
