//! Why an export was refused, and the `BufferError` that says so.

use std::fmt;

use pyo3::exceptions::PyBufferError;
use pyo3::types::{PyAnyMethods, PyTypeMethods};
use pyo3::{Bound, PyClass, PyErr};

use crate::flags::Request;
use crate::layout::LayoutError;

/// Why an export was refused; becomes a `BufferError` naming the class.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExportError {
    /// The request cannot be served by this layout.
    Request {
        request: Request,
        reason: &'static str,
    },
    /// The described layout is invalid for the storage.
    Layout(LayoutError),
    /// A shape or stride field holds a value that is not a valid dimension.
    BadField { field: &'static str, value: i128 },
    /// The object is mutably borrowed by a running method.
    Borrowed,
    /// `element = T` does not fit the storage: another itemsize, or data not aligned for `T`.
    Element {
        size: usize,
        align: usize,
        storage: usize,
    },
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Request { request, reason } => {
                write!(f, "cannot serve a {request} request: {reason}")
            }
            ExportError::Layout(e) => write!(f, "invalid buffer layout: {e}"),
            ExportError::BadField { field, value } => {
                write!(f, "invalid buffer layout: field `{field}` is {value}")
            }
            ExportError::Element {
                size,
                align,
                storage,
            } => write!(
                f,
                "the element type ({size} bytes, alignment {align}) does not fit the storage's \
                 {storage}-byte items"
            ),
            ExportError::Borrowed => {
                write!(
                    f,
                    "cannot export a buffer while the object is mutably borrowed"
                )
            }
        }
    }
}

impl From<LayoutError> for ExportError {
    fn from(e: LayoutError) -> Self {
        ExportError::Layout(e)
    }
}

pub(crate) fn buffer_error<T: PyClass>(slf: &Bound<'_, T>, e: ExportError) -> PyErr {
    let name = slf
        .as_any()
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into());
    PyBufferError::new_err(format!("{name}: {e}"))
}
