//! [`Hold`]: something an export keeps until it is released (a shared storage's memory, or a
//! shared borrow of the owner), type-erased into one pointer and a drop function.

use std::ffi::c_void;
use std::mem::{size_of, ManuallyDrop};
use std::ptr::NonNull;
use std::sync::Arc;

use pyo3::pycell::PyRef;
use pyo3::PyClass;

/// A type-erased owned value, dropped when the `Hold` is.
pub struct Hold {
    ptr: NonNull<c_void>,
    drop_fn: unsafe fn(NonNull<c_void>),
}

impl Hold {
    /// Keeps an `Arc` (one strong count) until the hold is dropped.
    pub(crate) fn arc<T: Send + Sync>(arc: Arc<T>) -> Hold {
        unsafe fn drop_arc<T>(p: NonNull<c_void>) {
            // SAFETY: `p` came from `Arc::into_raw` in `Hold::arc::<T>` and is dropped once.
            drop(unsafe { Arc::from_raw(p.as_ptr().cast::<T>()) });
        }
        let raw = Arc::into_raw(arc).cast_mut().cast::<c_void>();
        // SAFETY: `Arc::into_raw` never returns null.
        let ptr = unsafe { NonNull::new_unchecked(raw) };
        Hold {
            ptr,
            drop_fn: drop_arc::<T>,
        }
    }

    /// Keeps a shared borrow of a pyclass (and the strong reference inside it) until the hold
    /// is dropped. The hold must be dropped while attached to the interpreter.
    pub(crate) fn borrow<T: PyClass>(guard: PyRef<'_, T>) -> Hold {
        const {
            assert!(size_of::<PyRef<'static, T>>() == size_of::<NonNull<c_void>>());
        }
        unsafe fn drop_borrow<T: PyClass>(p: NonNull<c_void>) {
            // SAFETY: `p` holds the bytes of a `PyRef<T>` moved in by `Hold::borrow::<T>`
            // (same size, asserted above); reading them back moves the guard out once.
            let guard: PyRef<'static, T> = unsafe { std::mem::transmute_copy(&p) };
            drop(guard);
        }
        let guard = ManuallyDrop::new(guard);
        // SAFETY: moves the pointer-sized guard's bytes into a pointer-sized slot; the guard is
        // never used again here (`ManuallyDrop`), only re-read by `drop_borrow`. The lifetime
        // only ties the guard to being attached, which `drop_borrow`'s caller guarantees.
        let ptr: NonNull<c_void> = unsafe { std::mem::transmute_copy(&*guard) };
        Hold {
            ptr,
            drop_fn: drop_borrow::<T>,
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        // SAFETY: `drop_fn` matches the value `ptr` was made from, and runs once.
        unsafe { (self.drop_fn)(self.ptr) }
    }
}
