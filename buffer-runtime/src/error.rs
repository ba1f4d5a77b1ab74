//! Why an export was refused, and the `BufferError` that says so.

use std::fmt;

use pyo3::exceptions::PyBufferError;
use pyo3::types::{PyAnyMethods, PyTypeMethods};
use pyo3::{Bound, PyAny, PyErr};

use crate::flags::Request;
use crate::layout::LayoutError;

/// Why an export was refused; becomes a `BufferError` naming the class.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExportError {
    /// The request cannot be served by this layout.
    Request {
        /// What the consumer asked for.
        request: Request,
        /// Why it cannot have it.
        reason: &'static str,
    },
    /// The described layout is invalid for the storage.
    Layout(LayoutError),
    /// A shape or stride field holds a value that is not a valid dimension.
    BadField {
        /// The field's name.
        field: &'static str,
        /// Its value.
        value: i128,
    },
    /// The object is mutably borrowed by a running method.
    Borrowed,
    /// `element = T` does not fit the storage: another itemsize, or data not aligned for `T`.
    Element {
        /// `size_of::<T>()`.
        size: usize,
        /// `align_of::<T>()`.
        align: usize,
        /// The storage's itemsize.
        storage: usize,
    },
    /// A [`Layout`](ExportError::Layout) or [`BadField`](ExportError::BadField) error of a
    /// `#[derive(PyBuffer)]` class, told in the words of its annotation: the key, its text and
    /// the values of the fields it names (`shape = [rows, cols] = [2, 4]: 8 elements, but
    /// data holds 6`). Built only when an export fails.
    Annotated {
        /// The error as the runtime found it.
        cause: Box<ExportError>,
        /// The whole explanation.
        message: String,
    },
}

impl ExportError {
    /// Drops the error. Only an [`Annotated`](ExportError::Annotated) one owns memory; the
    /// others go without a call to the drop glue (which a quick try, `fast.rs`, must not make).
    #[inline(always)]
    pub(crate) fn discard(self) {
        match self {
            // Every variant named: one added later must say whether it owns memory.
            ExportError::Request { .. }
            | ExportError::Layout(_)
            | ExportError::BadField { .. }
            | ExportError::Borrowed
            | ExportError::Element { .. } => std::mem::forget(self),
            ExportError::Annotated { .. } => drop(self),
        }
    }
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
            ExportError::Annotated { message, .. } => f.write_str(message),
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

/// The `BufferError` of a failed export of `slf`: `"{class name}: {e}"`. Not generic, so it is
/// compiled once for every class (it only needs the object's type).
#[cold]
#[inline(never)]
pub(crate) fn buffer_error_of(slf: &Bound<'_, PyAny>, e: ExportError) -> PyErr {
    let name = slf
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into());
    PyBufferError::new_err(format!("{name}: {e}"))
}
