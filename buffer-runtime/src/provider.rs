//! [`PyBuffer`], the trait a generated provider implements, and its early layout check.

use std::marker::PhantomData;
use std::ptr::NonNull;

use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::pyclass::boolean_struct::{False, True};
use pyo3::{PyClass, PyResult, Python};

use crate::error::ExportError;
use crate::export::{Exported, Exporter};
use crate::flags::Request;

/// A `#[pyclass]` that can export a buffer. Implemented by `#[derive(PyBuffer)]`.
///
/// The [`Exporter`] is tied to the borrow of `self` (`'a`, invariant), so only storage that
/// lives at least as long as that borrow — a field of `self`, or a `'static` — can be exported;
/// a local `Vec` is a compile error ("does not live long enough"), with or without `unsafe`
/// elsewhere.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not derive `PyBuffer`",
    label = "`#[derive(PyBuffer)]` is missing on this type",
    note = "add `#[derive(PyBuffer)]` below `#[pyclass]` on the struct and mark its data field `#[buffer]`"
)]
pub trait PyBuffer: PyClass {
    /// Describes the buffer to export; generated code, not for hand use.
    #[doc(hidden)]
    fn __export<'a>(&'a self, ex: Exporter<'a>) -> Result<Exported, ExportError>;

    /// The class's own [`TypeCell`](crate::fast::TypeCell), a `static` in the generated impl;
    /// generated code, not for hand use. An impl without one (written by hand) shares a cell
    /// that is never set: its exports all take the general path.
    #[doc(hidden)]
    #[inline(always)]
    fn __type_cell() -> &'static crate::fast::TypeCell {
        &crate::fast::UNSET_CELL
    }

    /// Runs the checks of an export without exporting: `Err` (a `BufferError` naming the
    /// class and the annotation) if the fields describe a layout the storage cannot back, as
    /// `memoryview(obj)` would raise. Call it where the fields are set (a `#[new]`
    /// constructor, a method that reshapes), because numpy swallows export errors
    /// (`np.asarray(obj)` then builds a 0-d object array).
    fn check_buffer(&self) -> PyResult<()> {
        check(self)
    }
}

/// [`PyBuffer::check_buffer`]: an export for a strided read-only request (which every valid
/// layout serves), dropped at once.
fn check<T: PyBuffer>(obj: &T) -> PyResult<()> {
    // Attached, like every export: the record pool an export may draw from is only touched
    // while attached (`export_state.rs`), and `&self` of a `Sync` class can reach a detached
    // thread.
    Python::attach(|_| {
        // A view of our own that nothing reads: the export writes into it, and dropping the
        // `Exported` gives back what it holds (the tables it pointed at go with it).
        let mut scratch = ffi::Py_buffer::new();
        let exporter = Exporter {
            _owner: PhantomData,
            view: NonNull::from(&mut scratch),
            request: Request::new(crate::flags::bits::STRIDES | crate::flags::bits::FORMAT),
            element: None,
            keep_borrow: false,
            quick: false,
        };
        crate::slots::export_outlined(obj, exporter)
            .map(drop)
            .map_err(|e| PyBufferError::new_err(format!("{}: {e}", T::NAME)))
    })
}

/// Whether a pyclass is `frozen` (its fields can never be borrowed mutably).
#[doc(hidden)]
pub trait FrozenFlag {
    const FROZEN: bool;
}
impl FrozenFlag for True {
    const FROZEN: bool = true;
}
impl FrozenFlag for False {
    const FROZEN: bool = false;
}
