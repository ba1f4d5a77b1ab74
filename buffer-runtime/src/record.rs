//! Per-export state behind `Py_buffer.internal`: the shape and strides tables and the holds,
//! recycled through a few global slots so that exports do not allocate.

use std::ffi::c_void;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, Ordering};

use pyo3::ffi::Py_ssize_t;

use crate::hold::Hold;
use crate::layout::MAX_NDIM;

/// What one live export owns. `shape` and `strides` are what `Py_buffer` points at.
pub(crate) struct Record {
    pub shape: [Py_ssize_t; MAX_NDIM],
    pub strides: [Py_ssize_t; MAX_NDIM],
    pub holds: [Option<Hold>; 2],
}

/// Free records, each slot empty or owning one leaked `Box<Record>`. A swap takes a record, a
/// compare-exchange into an empty slot gives one back: no lock, no ABA (a pointer is only ever
/// moved whole), and no thread-local lookup, which costs a call in a shared library.
static FREE: [AtomicPtr<Record>; 8] = [const { AtomicPtr::new(ptr::null_mut()) }; 8];

/// An owned record; dropping it drops its holds and recycles it.
pub(crate) struct RecordBox(NonNull<Record>);

impl RecordBox {
    pub fn new() -> RecordBox {
        for slot in &FREE {
            if !slot.load(Ordering::Relaxed).is_null() {
                // Acquire: the record's contents as the giver left them.
                if let Some(p) = NonNull::new(slot.swap(ptr::null_mut(), Ordering::Acquire)) {
                    return RecordBox(p);
                }
            }
        }
        let boxed = Box::new(Record {
            shape: [0; MAX_NDIM],
            strides: [0; MAX_NDIM],
            holds: [None, None],
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
        // Drop the holds before the record can be taken again.
        self.get_mut().holds = [None, None];
        let p = self.0.as_ptr();
        for slot in &FREE {
            if slot.load(Ordering::Relaxed).is_null()
                && slot
                    .compare_exchange(ptr::null_mut(), p, Ordering::Release, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
        }
        // SAFETY: the pointer came from `Box::leak` and is owned by `self`, dropped once.
        drop(unsafe { Box::from_raw(p) });
    }
}
