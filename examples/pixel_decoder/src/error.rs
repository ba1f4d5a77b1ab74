//! The errors of the decoding and allocation code, built without the GIL (they are `Send`)
//! and turned into Python exceptions once it is held again.

use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::PyErr;

#[derive(Debug)]
pub enum Error {
    /// Bad input or an impossible size: `ValueError`.
    Value(String),
    /// The pixel buffer could not be allocated: `MemoryError`.
    Memory(String),
}

impl Error {
    pub fn value(msg: impl Into<String>) -> Self {
        Error::Value(msg.into())
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        match e {
            Error::Value(msg) => PyValueError::new_err(msg),
            Error::Memory(msg) => PyMemoryError::new_err(msg),
        }
    }
}
