//! Rich element types, one class a file: records (`Particles`, `Samples`, `PackedSamples`),
//! an element type chosen at run time (`TypedArray`) and RGBA pixels (`Pixels`).

mod packed_samples;
mod particles;
mod pixels;
mod samples;
mod typed_array;

pub use packed_samples::PackedSamples;
pub use particles::Particles;
pub use pixels::Pixels;
pub use samples::Samples;
pub use typed_array::TypedArray;

use pyo3::exceptions::PyIndexError;
use pyo3::PyErr;

fn index_error(i: usize, len: usize) -> PyErr {
    PyIndexError::new_err(format!("index {i} out of range for length {len}"))
}

/// A record type for [`record_array!`]: element `i` of a new array, and how Python sees one.
trait Record: buffer_runtime::Element {
    /// What `get(i)` returns to Python.
    type Tuple;
    /// Element `i` of `Class(n)`.
    fn nth(i: usize) -> Self;
    /// The element as `get(i)` returns it.
    fn to_tuple(self) -> Self::Tuple;
}

/// A `#[pyclass]` holding a 1-D writable array of a [`Record`] in shared storage, with the
/// methods `Samples` and `PackedSamples` share: `Class(n)` (elements `Record::nth(0..n)`),
/// `exports()`, the `format` and `itemsize` class attributes, `get(i)` (read by Rust),
/// `set_nth(i, j)` (written by Rust, allowed while exported) and `len()`.
macro_rules! record_array {
    ($(#[$attr:meta])* $name:ident of $record:ty) => {
        $(#[$attr])*
        #[pyclass(module = "buffer_examples")]
        #[derive(buffer_runtime::PyBuffer)]
        pub struct $name {
            #[buffer]
            data: buffer_runtime::SharedVec<$record>,
        }

        #[buffer_runtime::buffer_methods]
        #[pymethods]
        impl $name {
            /// Live exports (views of this object not yet released).
            fn exports(&self) -> usize {
                self.data.exports()
            }

            #[new]
            fn new(n: usize) -> PyResult<Self> {
                $crate::alloc::checked_count(&[n], ::core::mem::size_of::<$record>())?;
                Ok($name {
                    data: $crate::alloc::built(n, <$record as $crate::elements::Record>::nth)?
                        .into(),
                })
            }

            /// The record format every export gives.
            #[classattr]
            fn format() -> &'static str {
                <$record as buffer_runtime::Element>::FORMAT
                    .to_str()
                    .expect("ASCII")
            }

            #[classattr]
            fn itemsize() -> usize {
                ::core::mem::size_of::<$record>()
            }

            /// Element `i` as a tuple, read by Rust.
            fn get(&self, i: usize) -> PyResult<<$record as $crate::elements::Record>::Tuple> {
                self.data
                    .get(i)
                    .map($crate::elements::Record::to_tuple)
                    .ok_or_else(|| $crate::elements::index_error(i, self.data.len()))
            }

            /// Sets element `i` to `Record::nth(j)` from Rust (allowed while exported).
            fn set_nth(&mut self, i: usize, j: usize) -> PyResult<()> {
                let len = self.data.len();
                self.data
                    .set(i, <$record as $crate::elements::Record>::nth(j))
                    .map(drop)
                    .ok_or_else(|| $crate::elements::index_error(i, len))
            }

            fn __len__(&self) -> usize {
                self.data.len()
            }
        }
    };
}
use record_array;
