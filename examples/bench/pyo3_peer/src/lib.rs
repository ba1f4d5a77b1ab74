//! Peer 4: hand-written PyO3 0.30.1 buffer providers, with the same safety semantics as the
//! project's generated shared-storage providers:
//!
//! - the elements live in a heap block behind an `Arc<Store>`; the shape and strides tables the
//!   views point to live in that same block;
//! - each export stores one `Arc` clone in `view->internal` (`Arc::into_raw`: a pointer, no
//!   allocation), dropped by `__releasebuffer__`; so the block survives `replace()` and the
//!   owner's death while a view is alive, and `resize()` (which needs `Arc::get_mut`) raises
//!   `BufferError` while any export is alive;
//! - flags are handled per BUFFER-RULES: `format` only with `PyBUF_FORMAT`, `shape` only with
//!   `PyBUF_ND`, `strides` only with `PyBUF_STRIDES`, `suboffsets` NULL, `ndim` 1 without ND;
//!   every request is servable (writable, 1-D, contiguous); FORMAT without ND is served;
//! - `view->obj` is NULL on every error path and set last on success.
//!
//! Two classes with identical bodies; only the `__getbuffer__` receiver differs:
//! `Pyo3Bound` takes `slf: Bound<'_, Self>` (pyo3 takes no borrow; the body borrows briefly and
//! maps a failed borrow to `BufferError` with `view->obj` NULL), `Pyo3Ref` takes `PyRef<'_, Self>`
//! (pyo3 borrows before the body runs; if that borrow fails, pyo3 raises its own error and
//! `view->obj` is left as the consumer passed it: the one rule this variant cannot keep).
//! Both release with a `Bound` receiver, so a release never needs a borrow.
//!
//! `Pyo3Raw` has `Pyo3Bound`'s body behind plain `extern "C"` slots written into its type at
//! module init (no PyO3 trampoline): the receiver cast with `cast`, the borrow with
//! `try_borrow`, panics caught, errors raised as Python exceptions.

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::sync::Arc;

use pyo3::exceptions::{PyBufferError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
#[cfg(not(feature = "abi3"))]
use pyo3::PyTypeInfo;

/// The shared block: elements plus the shape/strides tables views point to.
struct Store {
    data: Box<[UnsafeCell<f64>]>,
    shape: [ffi::Py_ssize_t; 1],
    strides: [ffi::Py_ssize_t; 1],
}

// SAFETY: Rust never forms references to the elements (they are written only by consumers
// through views, whose synchronisation is theirs, as with bytearray or numpy).
unsafe impl Sync for Store {}

impl Store {
    fn zeros(n: usize) -> PyResult<Arc<Store>> {
        if n > (isize::MAX as usize) / std::mem::size_of::<f64>() {
            return Err(PyValueError::new_err("size too large"));
        }
        let data: Box<[UnsafeCell<f64>]> = (0..n).map(|_| UnsafeCell::new(0.0)).collect();
        Ok(Arc::new(Store {
            data,
            shape: [n as ffi::Py_ssize_t],
            strides: [std::mem::size_of::<f64>() as ffi::Py_ssize_t],
        }))
    }
}

static FORMAT_D: &[u8; 2] = b"d\0";

/// Fills `view` from `store` (steps 2-4 of bf_getbuffer). Never fails.
#[inline(always)]
unsafe fn fill(view: *mut ffi::Py_buffer, flags: c_int, store: &Arc<Store>, owner: *mut ffi::PyObject) {
    let hold = Arc::clone(store);
    let v = unsafe { &mut *view };
    v.buf = hold.data.as_ptr() as *mut c_void;
    v.len = (hold.data.len() * std::mem::size_of::<f64>()) as ffi::Py_ssize_t;
    v.itemsize = std::mem::size_of::<f64>() as ffi::Py_ssize_t;
    v.readonly = 0;
    v.ndim = 1;
    v.format = if flags & ffi::PyBUF_FORMAT == ffi::PyBUF_FORMAT {
        FORMAT_D.as_ptr() as *mut c_char
    } else {
        ptr::null_mut()
    };
    v.shape = if flags & ffi::PyBUF_ND == ffi::PyBUF_ND {
        hold.shape.as_ptr() as *mut ffi::Py_ssize_t
    } else {
        ptr::null_mut()
    };
    v.strides = if flags & ffi::PyBUF_STRIDES == ffi::PyBUF_STRIDES {
        hold.strides.as_ptr() as *mut ffi::Py_ssize_t
    } else {
        ptr::null_mut()
    };
    v.suboffsets = ptr::null_mut();
    // The export's Arc clone: keeps data, shape and strides alive until the release.
    v.internal = Arc::into_raw(hold) as *mut c_void;
    v.obj = unsafe { ffi::Py_NewRef(owner) };
}

/// Drops the export's Arc clone. Keyed on `view->internal`, never on the view's address.
#[inline(always)]
unsafe fn release(view: *mut ffi::Py_buffer) {
    let internal = unsafe { (*view).internal } as *const Store;
    if !internal.is_null() {
        drop(unsafe { Arc::from_raw(internal) });
        unsafe { (*view).internal = ptr::null_mut() };
    }
}

fn exported_error(store: &Arc<Store>) -> PyErr {
    PyBufferError::new_err(format!(
        "Existing exports of data: object cannot be re-sized ({} live)",
        Arc::strong_count(store) - 1
    ))
}

/// One peer class: the struct, its `#[pymethods]` block with the shared methods, and the given
/// `__getbuffer__` (macros are not allowed *inside* a `#[pymethods]` block, so the whole block is
/// generated).
macro_rules! peer_class {
    ($name:ident, $($getbuffer:tt)*) => {
        #[pyclass(module = "bench_pyo3")]
        pub struct $name {
            store: Arc<Store>,
        }

        #[pymethods]
        impl $name {
            #[new]
            #[pyo3(signature = (n = 128))]
            fn new(n: usize) -> PyResult<Self> {
                Ok(Self { store: Store::zeros(n)? })
            }

            fn __len__(&self) -> usize {
                self.store.data.len()
            }

            /// Change the length in place; BufferError while exported.
            fn resize(&mut self, n: usize) -> PyResult<()> {
                if Arc::get_mut(&mut self.store).is_none() {
                    return Err(exported_error(&self.store));
                }
                let new = Store::zeros(n)?;
                for (dst, src) in new.data.iter().zip(self.store.data.iter()) {
                    // SAFETY: no export is alive (get_mut succeeded) and `new` is not shared.
                    unsafe { *dst.get() = *src.get() };
                }
                self.store = new;
                Ok(())
            }

            /// Swap in fresh storage of length n; live views keep the old block alive.
            fn replace(&mut self, n: usize) -> PyResult<()> {
                self.store = Store::zeros(n)?;
                Ok(())
            }

            /// Live exports of the current block.
            fn exports(&self) -> usize {
                Arc::strong_count(&self.store) - 1
            }

            /// Element i of the current block.
            fn get(&self, i: usize) -> PyResult<f64> {
                let c = self.store.data.get(i).ok_or_else(|| PyValueError::new_err("index"))?;
                // SAFETY: a plain read of a Copy element.
                Ok(unsafe { *c.get() })
            }

            $($getbuffer)*

            unsafe fn __releasebuffer__(_slf: Bound<'_, Self>, view: *mut ffi::Py_buffer) {
                unsafe { release(view) }
            }
        }
    };
}

peer_class!(
    Pyo3Bound,
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        if view.is_null() {
            return Err(PyBufferError::new_err("Pyo3Bound: NULL view"));
        }
        unsafe { (*view).obj = ptr::null_mut() };
        let me = slf.try_borrow().map_err(|_| {
            PyBufferError::new_err("Pyo3Bound: cannot export while mutably borrowed")
        })?;
        unsafe { fill(view, flags, &me.store, slf.as_ptr()) };
        Ok(())
    }
);

peer_class!(
    Pyo3Ref,
    unsafe fn __getbuffer__(
        slf: PyRef<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        if view.is_null() {
            return Err(PyBufferError::new_err("Pyo3Ref: NULL view"));
        }
        unsafe { fill(view, flags, &slf.store, slf.as_ptr()) };
        Ok(())
    }
);

peer_class!(
    Pyo3Raw,
    // Gives the type its buffer slots, replaced by `raw_getbuffer` at module init.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        if unsafe { raw_getbuffer(slf.as_ptr(), view, flags) } == 0 {
            Ok(())
        } else {
            Err(PyErr::fetch(slf.py()))
        }
    }
);

/// Raises `msg` as `BufferError` (or `TypeError`), returns -1; off the hot path.
#[cold]
#[inline(never)]
fn raise(type_error: bool, msg: &'static str) -> c_int {
    // SAFETY: called from a buffer slot, attached.
    let py = unsafe { Python::assume_attached() };
    let err = if type_error {
        pyo3::exceptions::PyTypeError::new_err(msg)
    } else {
        PyBufferError::new_err(msg)
    };
    err.restore(py);
    -1
}

/// `bf_getbuffer` of `Pyo3Raw`: `Pyo3Bound`'s body without PyO3's trampoline.
unsafe extern "C" fn raw_getbuffer(
    obj: *mut ffi::PyObject,
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> c_int {
    let run = || {
        if view.is_null() || obj.is_null() {
            return raise(false, "Pyo3Raw: NULL view");
        }
        unsafe { (*view).obj = ptr::null_mut() };
        // SAFETY: CPython calls buffer slots attached; `obj` is live for the call.
        let py = unsafe { Python::assume_attached() };
        let any = unsafe { Bound::ref_from_ptr(py, &obj) };
        let Ok(slf) = any.cast::<Pyo3Raw>() else {
            return raise(true, "Pyo3Raw: not a Pyo3Raw");
        };
        let Ok(me) = slf.try_borrow() else {
            return raise(false, "Pyo3Raw: cannot export while mutably borrowed");
        };
        unsafe { fill(view, flags, &me.store, obj) };
        0
    };
    std::panic::catch_unwind(run).unwrap_or_else(|_| {
        if !view.is_null() {
            unsafe { (*view).obj = ptr::null_mut() };
        }
        raise(false, "Pyo3Raw: panic in bf_getbuffer")
    })
}

/// `bf_releasebuffer` of `Pyo3Raw`: cannot fail, cannot panic.
#[cfg(not(feature = "abi3"))]
unsafe extern "C" fn raw_releasebuffer(_obj: *mut ffi::PyObject, view: *mut ffi::Py_buffer) {
    if !view.is_null() {
        unsafe { release(view) }
    }
}

#[pymodule]
fn bench_pyo3(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Pyo3Bound>()?;
    m.add_class::<Pyo3Ref>()?;
    m.add_class::<Pyo3Raw>()?;
    // Under the limited API (feature `abi3`) the type is opaque: `Pyo3Raw` keeps PyO3's slots.
    #[cfg(not(feature = "abi3"))]
    raw_slots(m)?;
    Ok(())
}

/// Writes `raw_getbuffer` / `raw_releasebuffer` into `Pyo3Raw`'s type.
#[cfg(not(feature = "abi3"))]
fn raw_slots(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let tp = Pyo3Raw::type_object(m.py()).as_type_ptr();
    // SAFETY: a heap type's `tp_as_buffer` is its own writable `PyHeapTypeObject::as_buffer`
    // (filled by PyO3 from `__getbuffer__`); no instance exists yet. Then the slot cache is
    // dropped.
    unsafe {
        let procs = (*tp).tp_as_buffer;
        if procs.is_null() {
            return Err(PyBufferError::new_err("Pyo3Raw: the type has no buffer slots"));
        }
        (*procs).bf_getbuffer = Some(raw_getbuffer);
        (*procs).bf_releasebuffer = Some(raw_releasebuffer);
        ffi::PyType_Modified(tp);
    }
    Ok(())
}
