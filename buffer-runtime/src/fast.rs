//! Plain `extern "C"` buffer slots written into a class's type at module init
//! ([`add_class`]), instead of PyO3's trampolines around `__getbuffer__` / `__releasebuffer__`.
//!
//! PyO3's slot trampoline (attach-count bookkeeping, the deferred-decref pool, panic catching,
//! receiver checks) costs more than the whole export. These slots do only what is needed:
//! - CPython calls `bf_getbuffer` / `bf_releasebuffer` attached to the interpreter, so
//!   [`Python::assume_attached`] is exact;
//! - the receiver is checked with a real downcast (`cast_into::<T>`), so an instance of a Python
//!   subclass (which inherits the slots) is accepted and anything else is a `TypeError`;
//! - the export runs the same [`getbuffer`](crate::getbuffer) as the PyO3 path, so the checks,
//!   borrows (`try_borrow` for non-frozen classes) and holds are identical;
//! - a panic is caught and becomes a `BufferError`, never an abort or a `PanicException`.
//!
//! Only for non-abi3 builds: under the limited API the type object is opaque, so the class keeps
//! PyO3's slots (installed by `#[buffer_methods]`), which work the same way, only slower.

#[cfg(not(Py_LIMITED_API))]
use std::os::raw::c_int;
#[cfg(not(Py_LIMITED_API))]
use std::panic::{self, AssertUnwindSafe};

#[cfg(not(Py_LIMITED_API))]
use pyo3::exceptions::PyBufferError;
#[cfg(not(Py_LIMITED_API))]
use pyo3::ffi;
#[cfg(not(Py_LIMITED_API))]
use pyo3::types::PyTypeMethods;
use pyo3::types::{PyModule, PyModuleMethods};
use pyo3::{Bound, PyResult, PyTypeInfo, Python};

#[cfg(not(Py_LIMITED_API))]
use crate::export::{getbuffer, release_view};
use crate::export::{FrozenFlag, PyBuffer};

/// `m.add_class::<T>()`, then the fast buffer slots on `T`'s type (non-abi3 builds).
///
/// ```
/// use buffer_runtime::{buffer_methods, PyBuffer, SharedVec};
/// use pyo3::prelude::*;
///
/// #[pyclass]
/// #[derive(PyBuffer)]
/// struct Samples {
///     #[buffer]
///     data: SharedVec<f64>,
/// }
/// #[buffer_methods]
/// #[pymethods]
/// impl Samples {}
///
/// #[pymodule]
/// fn samples(m: &Bound<'_, PyModule>) -> PyResult<()> {
///     buffer_runtime::add_class::<Samples>(m)
/// }
/// ```
pub fn add_class<T>(m: &Bound<'_, PyModule>) -> PyResult<()>
where
    T: PyBuffer + PyTypeInfo,
    T::Frozen: FrozenFlag,
{
    m.add_class::<T>()?;
    install::<T>(m.py())
}

#[cfg(not(Py_LIMITED_API))]
fn install<T>(py: Python<'_>) -> PyResult<()>
where
    T: PyBuffer + PyTypeInfo,
    T::Frozen: FrozenFlag,
{
    let ty = T::type_object(py);
    let tp = ty.as_type_ptr();
    // SAFETY: `tp` is a live type object. A PyO3 class is a heap type whose `tp_as_buffer`
    // points at its own `PyHeapTypeObject::as_buffer`, writable; this runs at module init,
    // before any instance can be exported, and `PyType_Modified` drops any cached lookup.
    unsafe {
        let procs = (*tp).tp_as_buffer;
        if procs.is_null() || (*tp).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE == 0 {
            return Err(PyBufferError::new_err(
                "add_class: the type has no buffer slots to replace",
            ));
        }
        (*procs).bf_getbuffer = Some(fast_getbuffer::<T>);
        (*procs).bf_releasebuffer = Some(fast_releasebuffer);
        ffi::PyType_Modified(tp);
    }
    Ok(())
}

#[cfg(Py_LIMITED_API)]
fn install<T>(_py: Python<'_>) -> PyResult<()> {
    Ok(()) // the type is opaque under abi3: PyO3's slots stay
}

/// `bf_getbuffer` for `T`.
///
/// # Safety
/// Called by CPython as `bf_getbuffer`: attached, `obj` a live object whose type has this slot,
/// `view` null or valid for writes.
#[cfg(not(Py_LIMITED_API))]
unsafe extern "C" fn fast_getbuffer<T>(
    obj: *mut ffi::PyObject,
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> c_int
where
    T: PyBuffer + PyTypeInfo,
    T::Frozen: FrozenFlag,
{
    // SAFETY: CPython calls buffer slots attached to the interpreter.
    let py = unsafe { Python::assume_attached() };
    let run = || -> PyResult<()> {
        // SAFETY: `obj` is a live object (contract); the new reference becomes `view.obj` on
        // success and is dropped on failure.
        let any = unsafe { Bound::from_borrowed_ptr(py, obj) };
        let slf = any.cast_into::<T>()?;
        // SAFETY: `view` as CPython passes it (contract).
        unsafe { getbuffer(slf, view, flags) }
    };
    // The error paths run attached through `Python::attach` (cheap when the thread already
    // holds the interpreter): PyO3 defers the decrefs of `Py` handles dropped while it does not
    // know the thread is attached, and restoring a `PyErr` drops some. Without this, every
    // failed export would park a few objects in PyO3's pool until its next trampoline.
    match panic::catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            Python::attach(|py| e.restore(py));
            -1
        }
        Err(_) => {
            if !view.is_null() {
                // SAFETY: `view` is valid for writes (contract); a failed export leaves `obj` NULL.
                unsafe { (*view).obj = std::ptr::null_mut() };
            }
            Python::attach(|py| {
                PyBufferError::new_err("internal error: bf_getbuffer panicked").restore(py)
            });
            -1
        }
    }
}

/// `bf_releasebuffer` for every class exported by [`getbuffer`].
///
/// # Safety
/// Called by CPython as `bf_releasebuffer` with a view (or a copy of one) filled by
/// `fast_getbuffer` and not yet released.
#[cfg(not(Py_LIMITED_API))]
unsafe extern "C" fn fast_releasebuffer(_obj: *mut ffi::PyObject, view: *mut ffi::Py_buffer) {
    // Releasing drops `Arc` counts and borrows, which cannot panic; the guard keeps a bug from
    // unwinding into C all the same.
    // SAFETY: forwarded contract.
    let _ = panic::catch_unwind(|| unsafe { release_view(view) });
}
