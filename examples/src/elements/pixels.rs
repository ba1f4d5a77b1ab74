//! `Pixels`: an RGBA image as `[u8; 4]` elements.

use buffer_runtime::{buffer_methods, PyBuffer, SharedVec};
use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;

use crate::alloc::{built, checked_count};

/// RGBA pixels, `Vec<[u8; 4]>` row-major, exported as shape `(height, width, 4)` format `B`
/// (the `[u8; 4]` becomes the trailing dimension). Pixel `(y, x)` is
/// `(x % 256, y % 256, (x + y) % 256, 255)`.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct Pixels {
    #[buffer(shape = [height, width, 4])]
    data: SharedVec<[u8; 4]>,
    height: usize,
    width: usize,
}

#[buffer_methods]
#[pymethods]
impl Pixels {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.data.exports()
    }

    #[new]
    fn new(height: usize, width: usize) -> PyResult<Self> {
        let n = checked_count(&[height, width], 4)?;
        let data = built(n, |i| {
            let (y, x) = (i / width, i % width);
            [(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8, 255]
        })?;
        Ok(Pixels {
            data: data.into(),
            height,
            width,
        })
    }

    #[getter]
    fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Pixel `(x, y)` as `(r, g, b, a)`, read by Rust.
    fn get(&self, x: usize, y: usize) -> PyResult<[u8; 4]> {
        self.check(x, y)?;
        Ok(self.data.get(y * self.width + x).expect("checked"))
    }

    /// Overwrites pixel `(x, y)` from Rust (allowed while exported).
    fn set(&mut self, x: usize, y: usize, rgba: [u8; 4]) -> PyResult<()> {
        self.check(x, y)?;
        self.data.set(y * self.width + x, rgba);
        Ok(())
    }
}

impl Pixels {
    fn check(&self, x: usize, y: usize) -> PyResult<()> {
        if x < self.width && y < self.height {
            Ok(())
        } else {
            Err(PyIndexError::new_err(format!(
                "pixel ({x}, {y}) outside {}x{}",
                self.width, self.height
            )))
        }
    }
}
