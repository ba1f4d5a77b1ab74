//! The buffer slots' bodies: [`getbuffer`] fills a view from a [`PyBuffer`]'s export,
//! [`releasebuffer`] gives back what it held. The plain `extern "C"` slots of `fast.rs` and
//! pyo3's slots (abi3) both end here.

use std::ffi::c_void;
use std::marker::PhantomData;
use std::os::raw::c_int;
use std::ptr::{self, NonNull};

use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::{Bound, PyClassGuard, PyErr, PyResult};

use crate::direct::Direct;
use crate::error::ExportError;
use crate::export::Exporter;
use crate::export_state::StateBox;
use crate::flags::Request;
use crate::hold::Borrow;
use crate::provider::{FrozenFlag, PyBuffer};

/// `bf_getbuffer` for a [`PyBuffer`] class.
///
/// # Safety
/// `view` is null or valid for writes of a `Py_buffer` (what CPython passes to `bf_getbuffer`).
pub unsafe fn getbuffer<T>(
    slf: Bound<'_, T>,
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> PyResult<()>
where
    T: PyBuffer,
    T::Frozen: FrozenFlag,
{
    // SAFETY: forwarded contract.
    unsafe { getbuffer_borrowed(&slf, view, flags) }
}

/// [`getbuffer`] with the receiver borrowed, as `#[buffer_methods]`'s `__getbuffer__` takes it
/// (no reference counted in and out of the slot).
///
/// # Safety
/// As [`getbuffer`].
#[inline]
pub(crate) unsafe fn getbuffer_borrowed<T>(
    slf: &Bound<'_, T>,
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> PyResult<()>
where
    T: PyBuffer,
    T::Frozen: FrozenFlag,
{
    // Under abi3 (PyO3's slots), the fast slot's two steps (`fast.rs`): the quick try, then
    // the general export. Elsewhere the fast slot makes the quick try itself; this is
    // reached only before it is installed, or from hand-written slots.
    #[cfg(Py_LIMITED_API)]
    // SAFETY: `view` is non-null and valid for writes (contract); attached (`slf`); `slf` is
    // a `T` (pyo3's slot checked it).
    if !view.is_null() && unsafe { crate::fast::quick_try(slf, view, flags) } {
        return Ok(());
    }
    // SAFETY: `slf` is a live `T`; `view` as the contract says.
    let rc = unsafe { crate::fast::getbuffer_general::<T>(slf.as_ptr(), view, flags) };
    if rc == 0 {
        Ok(())
    } else {
        Err(slot_error(slf.py()))
    }
}

/// The error a failed `bf_getbuffer` raised, taken back as a `PyErr`; compiled once.
#[cold]
#[inline(never)]
fn slot_error(py: pyo3::Python<'_>) -> PyErr {
    PyErr::take(py)
        .unwrap_or_else(|| PyBufferError::new_err("bf_getbuffer failed without an error"))
}

/// The body of [`getbuffer`], without the `PyErr`: the fast slots raise the error themselves,
/// off the hot path.
///
/// # Safety
/// `view` is non-null and valid for writes of a `Py_buffer`.
#[inline(always)]
pub(crate) unsafe fn export_into<T>(
    slf: &Bound<'_, T>,
    view: *mut ffi::Py_buffer,
    flags: c_int,
    quick: bool,
) -> Result<(), ExportError>
where
    T: PyBuffer,
    T::Frozen: FrozenFlag,
{
    // CPython releases a view whose `obj` is set even after a failed request, so it must be
    // NULL until success. A quick try that fails is always followed by the general export,
    // which writes it first.
    if !quick {
        // SAFETY: `view` is valid for writes (contract).
        unsafe { (*view).obj = ptr::null_mut() };
    }

    // pyo3's own borrow flag (a no-op for a frozen class): no `&mut self` runs while the
    // fields are read. A `PyClassGuard` borrows without a new reference to the object.
    let guard = PyClassGuard::try_from(slf).map_err(|_| ExportError::Borrowed)?;
    let exporter = Exporter {
        _owner: PhantomData,
        // SAFETY: non-null (contract).
        view: unsafe { NonNull::new_unchecked(view) },
        request: Request::new(flags),
        element: None,
        keep_borrow: !<T::Frozen as FrozenFlag>::FROZEN,
        quick,
    };
    // The quick try has its own copy of the export, inlined, where its constant `quick` folds
    // away whatever it gives up on; every other export shares one copy per class.
    let exported = if quick {
        guard.__export(exporter)
    } else {
        export_outlined(&*guard, exporter)
    };
    let exported = std::mem::ManuallyDrop::new(exported?);
    let internal = exported.internal;
    if exported.needs_borrow {
        // Plain storage of a mutable class: no `&mut self` until this export is released.
        // `internal` is then a record (`Exporter::record` makes one whenever a borrow is kept).
        let rec = internal.cast::<crate::export_state::ExportState>();
        // SAFETY: `rec` is the live record the export owns; nothing else refers to it yet.
        unsafe { (*rec).put_borrow(Borrow::new(guard)) };
    } else {
        drop(guard);
    }

    // SAFETY: `view` is valid for writes; `Exporter::export` filled every other field.
    unsafe {
        let v = &mut *view;
        v.internal = internal;
        // A new strong reference, set last.
        v.obj = slf.clone().into_ptr();
    }
    Ok(())
}

/// `T`'s generated export (`#[inline(always)]`) out of line: one copy per class, for the
/// general export and [`PyBuffer::check_buffer`].
#[inline(never)]
pub(crate) fn export_outlined<'a, T: PyBuffer>(
    this: &'a T,
    ex: Exporter<'a>,
) -> Result<crate::export::Exported, ExportError> {
    this.__export(ex)
}

/// `bf_releasebuffer` for a [`PyBuffer`] class: gives back what the export held. Does not
/// touch `view.obj` (`PyBuffer_Release` drops that reference).
///
/// # Safety
/// `view` is a view (or a copy of one) filled by [`getbuffer`] and not yet released.
pub unsafe fn releasebuffer<T: PyBuffer>(_slf: Bound<'_, T>, view: *mut ffi::Py_buffer) {
    // SAFETY: forwarded contract.
    unsafe { release_view(view) }
}

/// Gives back what an export from [`getbuffer`] held.
///
/// # Safety
/// As [`releasebuffer`], attached to the interpreter (the record pool relies on it, see
/// `export_state.rs`).
#[inline]
pub(crate) unsafe fn release_view(view: *mut ffi::Py_buffer) {
    let Some(view) = NonNull::new(view) else {
        return; // CPython never passes NULL
    };
    // SAFETY: forwarded contract.
    if let Some(p) = unsafe { take_internal(view) } {
        // SAFETY: what `take_internal` handed over, given up here, once, attached (contract);
        // the quick release changed nothing when it answers `false`.
        if !unsafe { release_quick(p) } {
            // SAFETY: as above.
            unsafe { release_internal(p.as_ptr()) };
        }
    }
}

/// The common releases, with no call: a direct export whose end hands nothing back, a record
/// of plain storage (holding nothing, or a mutable class's borrow). `true` once released,
/// `false` with nothing changed (then [`release_internal`] must run).
///
/// # Safety
/// As [`release_internal`], for a non-null `internal`.
#[inline(always)]
pub(crate) unsafe fn release_quick(internal: NonNull<c_void>) -> bool {
    if Direct::is_direct(internal.as_ptr()) {
        // SAFETY: forwarded contract.
        unsafe { Direct::release_quick(internal.as_ptr()) }
    } else {
        // SAFETY: an untagged non-null `internal` is a record from `into_raw` (contract). The
        // borrow it may give back cannot unwind.
        unsafe { StateBox::release_quick(internal) }
    }
}

/// Takes what a view's `internal` owns out of the view (`None` if it held nothing, as plain
/// storage kept alive by `view.obj` does); the caller then gives it up.
///
/// # Safety
/// `view` is a view filled by [`getbuffer`], being released (once).
#[inline(always)]
pub(crate) unsafe fn take_internal(view: NonNull<ffi::Py_buffer>) -> Option<NonNull<c_void>> {
    let view = view.as_ptr();
    // SAFETY: `view` is valid (contract).
    let internal = NonNull::new(unsafe { (*view).internal })?;
    // SAFETY: as above; `internal` is taken back once because a view is released once.
    unsafe { (*view).internal = ptr::null_mut() };
    Some(internal)
}

/// Gives back what an export's `internal` owns.
///
/// # Safety
/// `internal` is null, a tagged direct export or a record from [`Exporter::export`], owned by
/// the caller, who gives it up; attached to the interpreter.
#[inline]
pub(crate) unsafe fn release_internal(internal: *mut c_void) {
    // SAFETY: forwarded contract: a tagged `internal` is a direct export, released once.
    if unsafe { Direct::release(internal) } {
        return;
    }
    if let Some(rec) = NonNull::new(internal) {
        // SAFETY: an untagged non-null `internal` is a record given up by `into_raw`, taken
        // back once (contract).
        drop(unsafe { StateBox::from_raw(rec) });
    }
}
