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
//!    The slot does not rely on this argument. Its quick try (point 8) takes only an object
//!    whose `Py_TYPE` is `T`'s own type object, as `install` recorded it in the class's
//!    [`TypeCell`] before it wrote the slot (a cell asked to hold two types matches
//!    nothing); everything else goes to the general export, which checks with pyo3's own
//!    `cast::<T>()` (`PyObject_TypeCheck` against `T`'s type object), accepts `T` and its
//!    subclasses, whose layout starts with `T`'s, and refuses anything else with a
//!    `TypeError`.
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
//!    `PanicException`; a panic in the quick try sends the export to the general one, which
//!    meets it again. `bf_releasebuffer` cannot fail; its quick paths (plain stores, and the
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
//! 8. **The quick try.** `bf_getbuffer` first runs the export with [`Exporter::quick`] set:
//!    every check, error and rarely taken path that would need a call returning into the slot
//!    (a check kept out of line, a new record, building an error) gives up instead, with
//!    nothing taken: it gives up before it takes a count or a record, and what else it took
//!    goes back first (a borrow by its guard's drop; on the free-threaded build, the hold of
//!    shared storage that found the record pool empty). Then [`getbuffer_general`] runs the
//!    whole export again from the start, as a tail call. So the common export makes no call and needs no stack
//!    frame, and every answer (an export or an error) is the general export's, or one the
//!    general export would give: both run the same generated `__export` and
//!    [`Exporter::export`], which only stop earlier in a quick try.
//!
//! Only for non-abi3 builds: under the limited API the type object is opaque, so the class keeps
//! PyO3's slots (installed by `#[buffer_methods]`), which run the same export body
//! ([`getbuffer`](crate::getbuffer)), only slower. `docs/export-safety.md` has the whole export
//! argument.

use std::os::raw::c_int;
use std::panic::{self, AssertUnwindSafe};
#[cfg(not(Py_LIMITED_API))]
use std::ptr::NonNull;
use std::sync::atomic::AtomicPtr;
#[cfg(not(Py_LIMITED_API))]
use std::sync::atomic::Ordering;

use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
#[cfg(not(Py_LIMITED_API))]
use pyo3::types::PyTypeMethods;
use pyo3::types::{PyModule, PyModuleMethods};
use pyo3::{Bound, CastError, PyErr, PyResult, PyTypeInfo, Python};

use crate::error::{buffer_error_of, ExportError};
use crate::provider::{FrozenFlag, PyBuffer};
use crate::slots::export_into;
#[cfg(not(Py_LIMITED_API))]
use crate::slots::{release_internal, release_quick, take_internal};

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
    let ty = T::type_object(py);
    // The cell first: once `slot_getbuffer::<T>` can run anywhere, the cell holds `T`'s type
    // or matches nothing (`TypeCell::record`).
    T::__type_cell().record(ty.as_type_ptr());
    install_slot(&ty, slot_getbuffer::<T>)
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

/// The type object `T`'s fast slot is written into (null until then): one per class,
/// generated by `#[derive(PyBuffer)]` ([`PyBuffer::__type_cell`]). Its only use is the
/// comparison with `Py_TYPE(obj)` that lets the quick try skip pyo3's lazy type object (whose
/// first use initialises it, a call).
///
/// It holds one type for good: `install` records `T`'s type before it writes
/// `slot_getbuffer::<T>` anywhere, and a cell asked to hold a second type (an impl that
/// returned another class's cell) is spoilt, matching nothing from then on. So when
/// `slot_getbuffer::<T>` runs, its cell holds `T`'s type or matches nothing.
#[doc(hidden)]
pub struct TypeCell(#[cfg_attr(Py_LIMITED_API, allow(dead_code))] AtomicPtr<ffi::PyTypeObject>);

/// The cell of an impl without its own (`PyBuffer`'s default): never set, so it matches no
/// type.
pub(crate) static UNSET_CELL: TypeCell = TypeCell::new();

impl TypeCell {
    #[allow(clippy::new_without_default, reason = "for a `static` only")]
    pub const fn new() -> TypeCell {
        TypeCell(AtomicPtr::new(std::ptr::null_mut()))
    }

    /// Records `tp` (a live type object), or spoils a cell that holds another.
    #[cfg(not(Py_LIMITED_API))]
    fn record(&self, tp: *mut ffi::PyTypeObject) {
        if std::ptr::eq(self, &UNSET_CELL) {
            return;
        }
        // Relaxed: the pointer is only ever compared. A spoilt cell holds a non-null address
        // that no object's type can have.
        let null = std::ptr::null_mut();
        match self
            .0
            .compare_exchange(null, tp, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => {}
            Err(held) if held == tp => {}
            Err(_) => self
                .0
                .store(NonNull::dangling().as_ptr(), Ordering::Relaxed),
        }
    }
}

/// `bf_getbuffer` for `T` (non-abi3): a quick try for an instance of `T` itself, which makes
/// no call when it exports; anything else (a subclass, an error, a check kept out of line, a
/// new record), [`getbuffer_general`] does from the start, as a tail call. So
/// the common export needs no stack frame.
///
/// # Safety
/// Called by CPython as `bf_getbuffer`: attached, `obj` a live object, `view` null or valid for
/// writes.
#[cfg(not(Py_LIMITED_API))]
unsafe extern "C" fn slot_getbuffer<T>(
    obj: *mut ffi::PyObject,
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> c_int
where
    T: PyBuffer + PyTypeInfo,
    T::Frozen: FrozenFlag,
{
    // Relaxed: the pointer is only compared, never followed. It is `T`'s type object (recorded
    // by `install`, never freed: pyo3's lazy type object keeps it) or matches nothing.
    let tp = T::__type_cell().0.load(Ordering::Relaxed);
    // SAFETY: `obj` is a live object (contract: CPython read its type to find this slot). A
    // NULL `view` (obsolete, refused) is the general export's.
    if !view.is_null() && unsafe { ffi::Py_TYPE(obj) } == tp {
        // SAFETY: CPython calls buffer slots attached to the interpreter.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: `obj` is live and borrowed for the call (contract).
        let any = unsafe { Bound::ref_from_ptr(py, &obj) };
        // SAFETY: `obj`'s type is `T`'s own type object.
        let slf = unsafe { any.cast_unchecked::<T>() };
        // SAFETY: `view` is non-null and valid for writes (contract).
        if unsafe { quick_try(slf, view, flags) } {
            return 0;
        }
    }
    // SAFETY: forwarded contract; a failed quick try left nothing taken or set but `view`'s
    // fields, which the general export writes again.
    unsafe { getbuffer_general::<T>(obj, view, flags) }
}

/// The export with [`Exporter::quick`] set: `true` if it exported, `false` (with nothing
/// taken, and `view`'s fields, `obj` included, left for it to write) if the general export
/// must run, as it always does next. Makes no call on the way to an
/// export. One caller per build (the fast slot, or `getbuffer` under abi3): with two,
/// `catch_unwind`'s inner call is no longer inlined.
///
/// # Safety
/// `view` is non-null and valid for writes; attached.
#[inline(always)]
pub(crate) unsafe fn quick_try<T>(
    slf: &Bound<'_, T>,
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> bool
where
    T: PyBuffer,
    T::Frozen: FrozenFlag,
{
    // A panic (a bug) is caught; the general export then meets it again and raises.
    // SAFETY: forwarded contract.
    let quick = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
        export_into(slf, view, flags, true)
    }));
    match quick {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            e.discard();
            false
        }
        Err(_) => false,
    }
}

/// `bf_getbuffer` for `T` with every check and every error: the rest of [`slot_getbuffer`],
/// and the body of [`getbuffer`](crate::getbuffer), which PyO3's slot calls under abi3.
///
/// # Safety
/// As [`slot_getbuffer`].
#[inline(never)]
pub(crate) unsafe extern "C" fn getbuffer_general<T>(
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
        match unsafe { export_into(slf, view, flags, false) } {
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
/// `slot_getbuffer` and not yet released (never NULL).
#[cfg(not(Py_LIMITED_API))]
unsafe extern "C" fn slot_releasebuffer(_obj: *mut ffi::PyObject, view: *mut ffi::Py_buffer) {
    // SAFETY: the view being released (contract): non-null, as `PyBuffer_Release`, the one
    // caller, read its `obj` before it called this slot.
    let view = unsafe { NonNull::new_unchecked(view) };
    // SAFETY: as above, released once.
    let Some(taken) = (unsafe { take_internal(view) }) else {
        return;
    };
    // SAFETY: the view's `internal`, given up here, once, attached (contract); the quick
    // release changed nothing when it answers `false`.
    if !unsafe { release_quick(taken) } {
        // SAFETY: as above.
        unsafe { release_general(taken.as_ptr()) }
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

#[cfg(all(test, not(Py_LIMITED_API)))]
mod tests {
    use super::*;

    #[test]
    fn a_type_cell_holds_one_type_for_good() {
        // Addresses only: `record` compares and stores, never follows them.
        let (a, b) = (
            0x1000 as *mut ffi::PyTypeObject,
            0x2000 as *mut ffi::PyTypeObject,
        );
        let held = |c: &TypeCell| c.0.load(Ordering::Relaxed);
        let cell = TypeCell::new();
        assert!(held(&cell).is_null());
        cell.record(a);
        cell.record(a); // installed twice (a class attribute, then `add_class`)
        assert_eq!(held(&cell), a);
        cell.record(b); // another class's type: the cell is spoilt
        let spoilt = held(&cell);
        assert!(!spoilt.is_null() && spoilt != a && spoilt != b);
        cell.record(a);
        assert_eq!(held(&cell), spoilt, "a spoilt cell stays spoilt");
        UNSET_CELL.record(a);
        assert!(held(&UNSET_CELL).is_null());
    }
}
