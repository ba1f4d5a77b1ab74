//! Per-export state behind `Py_buffer.internal`: the shape and strides tables and the holds,
//! recycled through a small per-thread free list so that exports do not allocate.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr::NonNull;

use pyo3::ffi::Py_ssize_t;

use crate::hold::Hold;
use crate::layout::MAX_NDIM;

/// What one live export owns. `shape` and `strides` are what `Py_buffer` points at.
pub(crate) struct Record {
    pub shape: [Py_ssize_t; MAX_NDIM],
    pub strides: [Py_ssize_t; MAX_NDIM],
    pub holds: [Option<Hold>; 2],
}

/// Free records kept per thread; more are freed.
const POOL_SIZE: usize = 16;

thread_local! {
    static POOL: RefCell<Vec<Box<Record>>> = const { RefCell::new(Vec::new()) };
}

/// An owned record; dropping it drops its holds and recycles it.
pub(crate) struct RecordBox(NonNull<Record>);

impl RecordBox {
    pub fn new() -> RecordBox {
        let pooled = POOL.try_with(|p| p.try_borrow_mut().ok()?.pop()).ok().flatten();
        let boxed = pooled.unwrap_or_else(|| {
            Box::new(Record { shape: [0; MAX_NDIM], strides: [0; MAX_NDIM], holds: [None, None] })
        });
        RecordBox(NonNull::from(Box::leak(boxed)))
    }

    pub fn get_mut(&mut self) -> &mut Record {
        // SAFETY: the record is owned by `self` and valid.
        unsafe { self.0.as_mut() }
    }

    /// Gives up ownership, for storing in `Py_buffer.internal`.
    pub fn into_raw(self) -> NonNull<c_void> {
        std::mem::ManuallyDrop::new(self).0.cast()
    }

    /// Takes back a record given up by `into_raw`.
    ///
    /// # Safety
    /// `p` came from `into_raw` and is taken back once.
    pub unsafe fn from_raw(p: NonNull<c_void>) -> RecordBox {
        RecordBox(p.cast())
    }
}

impl Drop for RecordBox {
    fn drop(&mut self) {
        // Drop the holds before touching the pool: dropping one may run other code.
        self.get_mut().holds = [None, None];
        // SAFETY: the pointer came from `Box::leak` and is owned by `self`, dropped once.
        let boxed = unsafe { Box::from_raw(self.0.as_ptr()) };
        let _ = POOL.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                if p.len() < POOL_SIZE {
                    p.push(boxed);
                }
            }
        });
    }
}
