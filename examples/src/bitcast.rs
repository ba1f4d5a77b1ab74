//! `element = T`: `Bits`, `u32` storage presented to Python as `f32` (the same bytes, like
//! numpy's `.view(np.float32)`).

use buffer_runtime::{buffer_methods, PyBuffer, SharedVec};
use pyo3::prelude::*;

/// 1-D `f`, writable, over `u32` storage: Rust sees bit patterns, Python sees floats.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct Bits {
    #[buffer(element = f32)]
    words: SharedVec<u32>,
}

#[buffer_methods]
#[pymethods]
impl Bits {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.words.exports()
    }

    /// `words`: the IEEE-754 bit patterns of the floats.
    #[new]
    fn new(words: Vec<u32>) -> Self {
        Bits {
            words: words.into(),
        }
    }

    /// The stored bit patterns (writes through views included).
    fn words(&self) -> Vec<u32> {
        self.words.to_vec()
    }

    fn __len__(&self) -> usize {
        self.words.len()
    }
}
