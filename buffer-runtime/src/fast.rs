//! Plain `extern "C"` buffer slots written into a class's type at module init
//! ([`add_class`]), instead of PyO3's trampolines around `__getbuffer__` / `__releasebuffer__`.
//!
//! PyO3's slot trampoline (attach-count bookkeeping, the deferred-decref pool, panic catching,
//! receiver checks) costs more than the whole export. These slots do only what is needed.
//!
//! # Why they are sound
//! Each point is what the PyO3 trampoline would have guaranteed, and how the plain slot
//! guarantees it instead.
//!
//! 1. **Attached.** CPython calls `bf_getbuffer` / `bf_releasebuffer` only from a thread attached
//!    to the interpreter (holding the GIL, or attached on the free-threaded build):
//!    `PyObject_GetBuffer` and `PyBuffer_Release` require it of their callers. So
//!    [`Python::assume_attached`] states a fact; no attach-count bookkeeping is needed because
//!    nothing here hands a `Python` token to code that could outlive the call.
//! 2. **The receiver.** The slot is written into `T`'s own type object only, and it is found
//!    through `Py_TYPE(obj)->tp_as_buffer`, so `obj` is an instance of `T`, of a Python subclass
//!    of `T` (which inherits the slot), or of a foreign type whose author copied the slot pointer.
//!    The slot does not rely on this argument: it checks with pyo3's own `cast::<T>()`
//!    (`PyObject_TypeCheck` against `T`'s type object), accepts `T` and its subclasses, whose
//!    layout starts with `T`'s, and refuses anything else with a `TypeError`.
//! 3. **The borrow.** The fields are read under pyo3's public `PyClassGuard::try_from` (the class's
//!    borrow flag, atomic on every build; a no-op for a `frozen` class, whose fields are never
//!    borrowed mutably), exactly as a `&self` method would be. A class that is mutably borrowed
//!    (a running `&mut self` method that called back into Python) is refused with `BufferError`;
//!    plain storage of a mutable class keeps the borrow until release (`slots.rs`).
//! 4. **References.** `obj` is borrowed for the call (`Bound::ref_from_ptr`, no new reference);
//!    the only reference created is `view.obj`, set last and only on success. `view.obj` is NULL
//!    on every failure, before any error is raised, so CPython never releases a failed view.
//! 5. **Errors and panics.** Every failure becomes a Python exception and -1; the error is built
//!    and restored inside `Python::attach` (cheap when already attached), off the hot path. The
//!    whole body runs under `catch_unwind`: a panic (a bug) becomes a `BufferError` with
//!    `view.obj` NULL, never an unwind into C (which would abort) and never a
//!    `PanicException`. `bf_releasebuffer` cannot fail; its quick paths (plain stores, and the
//!    `extern "C"` release of a mutable class's borrow, which catches its own panics) cannot
//!    unwind, and the rest runs under `catch_unwind` too.
//! 6. **Release.** `bf_releasebuffer` gives back what `view.internal` owns (null, a tagged
//!    count of a shared block, or a record), keyed on `internal` and never on the view's address,
//!    so releasing a copy of the view is fine; it never touches `view.obj`, whose reference
//!    `PyBuffer_Release` drops. The slot is the same function for every class: `internal` says
//!    everything the release needs.
//! 7. **Patching the type.** The two slot pointers are written into the heap type's own
//!    `PyBufferProcs` (`PyHeapTypeObject::as_buffer`, which `tp_as_buffer` points to for every
//!    heap type) while PyO3 creates the type, before it is handed out: from the
//!    `_buffer_restore` class attribute `#[buffer_methods]` generates (PyO3 computes class
//!    attributes once the type object exists and before it is handed out; see
//!    `class_methods.rs`), or, for a class with hand-written slots, by [`add_class`] at module
//!    init. Then `PyType_Modified`. Subclasses created later copy the patched slots. A type
//!    without buffer slots or that is not a heap type is refused. PyO3's slots, replaced,
//!    run the same export and release bodies ([`export_into`], `release_view`), so an export
//!    made through one kind of slot (by an earlier class attribute, say) is released right
//!    by the other.
//!
//! Only for non-abi3 builds: under the limited API the type object is opaque, so the class keeps
//! PyO3's slots (installed by `#[buffer_methods]`), which run the same export body
//! ([`getbuffer`](crate::getbuffer)), only slower. `docs/export-safety.md` has the whole export
//! argument.

use std::os::raw::c_int;
use std::panic::{self, AssertUnwindSafe};
#[cfg(not(Py_LIMITED_API))]
use std::ptr::NonNull;

use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
#[cfg(not(Py_LIMITED_API))]
use pyo3::types::PyTypeMethods;
use pyo3::types::{PyModule, PyModuleMethods};
use pyo3::{Bound, CastError, PyErr, PyResult, PyTypeInfo, Python};

#[cfg(not(Py_LIMITED_API))]
use crate::direct::Direct;
use crate::error::{buffer_error_of, ExportError};
#[cfg(not(Py_LIMITED_API))]
use crate::export_state::StateBox;
use crate::provider::{FrozenFlag, PyBuffer};
use crate::slots::export_into;
#[cfg(not(Py_LIMITED_API))]
use crate::slots::{release_internal, take_internal};

/// `m.add_class::<T>()`, then the fast buffer slots on `T`'s type (non-abi3 builds). A class
/// with `#[buffer_methods]` has them from the moment its type is created, so plain
/// `m.add_class::<T>()` does the same for it; this is for classes whose slots are written by
/// hand (`#[buffer(slots = "manual")]`), and does no harm to the others.
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
pub(crate) fn install<T>(py: Python<'_>) -> PyResult<()>
where
    T: PyBuffer + PyTypeInfo,
    T::Frozen: FrozenFlag,
{
    install_slot(&T::type_object(py), slot_getbuffer::<T>)
}

/// [`install`] past what needs the class: compiled once.
#[cfg(not(Py_LIMITED_API))]
#[inline(never)]
fn install_slot(
    ty: &Bound<'_, pyo3::types::PyType>,
    getbuffer: ffi::getbufferproc,
) -> PyResult<()> {
    let tp = ty.as_type_ptr();
    // SAFETY: `tp` is a live type object (held by `ty`); reading a field.
    let procs = unsafe { (*tp).tp_as_buffer };
    // SAFETY: as above. (`PyType_GetFlags`, not the field: it is atomic on free-threaded
    // builds.)
    let flags = unsafe { ffi::PyType_GetFlags(tp) };
    if procs.is_null() || flags & ffi::Py_TPFLAGS_HEAPTYPE == 0 {
        return Err(PyBufferError::new_err(
            "add_class: the type has no buffer slots to replace",
        ));
    }
    // SAFETY: a heap type's `tp_as_buffer` points at its own `PyHeapTypeObject::as_buffer`,
    // writable; this runs while the type is created or at module init (point 7 above).
    unsafe { (*procs).bf_getbuffer = Some(getbuffer) };
    // SAFETY: as above.
    unsafe { (*procs).bf_releasebuffer = Some(slot_releasebuffer) };
    // SAFETY: `tp` is a live type object; drops any cached slot lookup.
    unsafe { ffi::PyType_Modified(tp) };
    Ok(())
}

#[cfg(Py_LIMITED_API)]
#[allow(
    clippy::extra_unused_type_parameters,
    reason = "the same signature as the non-abi3 install"
)]
pub(crate) fn install<T>(_py: Python<'_>) -> PyResult<()> {
    Ok(()) // the type is opaque under abi3: PyO3's slots stay
}

/// `bf_getbuffer` for `T`: the slot itself (non-abi3), and the body of
/// [`getbuffer`](crate::getbuffer), which PyO3's slot calls under abi3. Being the generated
/// `__export`'s only caller, it gets that export inlined.
///
/// # Safety
/// Called by CPython as `bf_getbuffer` (or like it): attached, `obj` a live object, `view` null
/// or valid for writes.
pub(crate) unsafe extern "C" fn slot_getbuffer<T>(
    obj: *mut ffi::PyObject,
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> c_int
where
    T: PyBuffer + PyTypeInfo,
    T::Frozen: FrozenFlag,
{
    // Everything that can fail returns -1 with an exception set and `view.obj` NULL; a panic
    // (a bug) is caught before it can unwind into C. The error paths are the non-generic
    // `raise_*` below, compiled once for every class.
    let run = || -> c_int {
        if view.is_null() || obj.is_null() {
            return raise_null_view();
        }
        // SAFETY: CPython calls buffer slots attached to the interpreter.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: `obj` is a live object (contract), borrowed for this call: no reference is
        // taken until the export succeeds.
        let any = unsafe { Bound::ref_from_ptr(py, &obj) };
        // A real type check (`PyObject_TypeCheck`): `T` itself or a Python subclass of it, which
        // inherits this slot; anything else (a foreign type that copied the slot) is refused.
        let slf = match any.cast::<T>() {
            Ok(slf) => slf,
            Err(e) => {
                // SAFETY: `view` is non-null and valid for writes (contract).
                unsafe { (*view).obj = std::ptr::null_mut() };
                return raise_not_an_instance(e);
            }
        };
        // SAFETY: `view` is non-null and valid for writes (contract).
        match unsafe { export_into(slf, view, flags) } {
            Ok(()) => 0,
            // SAFETY: `obj` is live and the thread attached (contract).
            Err(e) => unsafe { raise_export(obj, e) },
        }
    };
    match panic::catch_unwind(AssertUnwindSafe(run)) {
        Ok(rc) => rc,
        Err(_) => {
            if !view.is_null() {
                // SAFETY: `view` is valid for writes (contract); a failed export leaves `obj` NULL.
                unsafe { (*view).obj = std::ptr::null_mut() };
            }
            raise_panicked()
        }
    }
}

#[cold]
#[inline(never)]
fn raise_null_view() -> c_int {
    raise_cold(|| PyBufferError::new_err("bf_getbuffer called with a NULL view"))
}

#[cold]
#[inline(never)]
fn raise_not_an_instance(e: CastError<'_, '_>) -> c_int {
    raise_cold(move || PyErr::from(e))
}

/// Takes `obj` as the raw pointer, not as the `&Bound` the slot borrows: a reference that
/// reached this call would keep `obj` in a stack slot on every export.
///
/// # Safety
/// `obj` is a live object; attached.
#[cold]
#[inline(never)]
unsafe fn raise_export(obj: *mut ffi::PyObject, e: ExportError) -> c_int {
    raise_cold(|| {
        // SAFETY: attached (contract).
        let py = unsafe { Python::assume_attached() };
        // SAFETY: `obj` is live (contract).
        let any = unsafe { Bound::ref_from_ptr(py, &obj) };
        buffer_error_of(any, e)
    })
}

#[cold]
#[inline(never)]
fn raise_panicked() -> c_int {
    raise_cold(|| PyBufferError::new_err("internal error: bf_getbuffer panicked"))
}

/// Restores the error `make` builds and returns -1; kept out of line, off the hot path.
///
/// It runs inside `Python::attach` (cheap when the thread is already attached, as it is in a
/// slot): PyO3 defers the decrefs of `Py` handles dropped while it does not know the thread is
/// attached, and building and restoring a `PyErr` drops some. Without this, every failed export
/// would park a few objects in PyO3's pool until its next trampoline.
#[cold]
#[inline(never)]
fn raise_cold(make: impl FnOnce() -> PyErr) -> c_int {
    Python::attach(|py| make().restore(py));
    -1
}

/// `bf_releasebuffer` for every class exported by [`getbuffer`].
///
/// # Safety
/// Called by CPython as `bf_releasebuffer` with a view (or a copy of one) filled by
/// `slot_getbuffer` and not yet released.
#[cfg(not(Py_LIMITED_API))]
unsafe extern "C" fn slot_releasebuffer(_obj: *mut ffi::PyObject, view: *mut ffi::Py_buffer) {
    // SAFETY: the view being released, once (contract).
    let internal = unsafe { take_internal(view) };
    if internal.is_null() {
        return;
    }
    // The common cases without a call to the general release: a direct export whose end hands
    // nothing back, a record of plain storage (holding nothing, or a mutable class's borrow).
    let quick = if Direct::is_direct(internal) {
        // SAFETY: the view's `internal`, given up here, once, attached (contract).
        unsafe { Direct::release_quick(internal) }
    } else {
        // SAFETY: tested non-null above.
        let rec = unsafe { NonNull::new_unchecked(internal) };
        // SAFETY: as above: an untagged non-null `internal` is a record from `into_raw`. (The
        // borrow it may give back cannot unwind, so no unwind reaches this C frame.)
        unsafe { StateBox::release_quick(rec) }
    };
    if !quick {
        // SAFETY: as above; the quick paths released nothing.
        unsafe { release_general(internal) }
    }
}

/// The rest of [`slot_releasebuffer`]: records that hold storage or find `FREE[0]` taken,
/// orphans, direct exports on the free-threaded build. Out of line, so that the common cases
/// above need no stack frame, and `extern "C"` (it cannot unwind), so that calling it needs no
/// unwind guard either: a tail call.
///
/// # Safety
/// `internal` is a view's `internal` from `slot_getbuffer`, given up by the caller; attached.
#[cfg(not(Py_LIMITED_API))]
#[inline(never)]
unsafe extern "C" fn release_general(internal: *mut std::ffi::c_void) {
    // Releasing drops `Arc` counts (a borrow's release catches its own panics); the guard keeps
    // a bug from unwinding into C all the same.
    // SAFETY: forwarded contract.
    let _ = panic::catch_unwind(|| unsafe { release_internal(internal) });
}
