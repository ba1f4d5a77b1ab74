//! The per-export record behind `Py_buffer.internal` ([`ExportState`]): the shape and strides
//! tables, a hold and a borrow, recycled through a few global slots so that exports do not
//! allocate.
//! (Not to be confused with record *elements*, `#[derive(Element)]` structs: their `T{...}`
//! format is built in `record_format.rs`.)
//!
//! Records are taken and given back only attached to the interpreter (`getbuffer` and the
//! release slot; a `StateBox` holds a raw pointer, so it is neither `Send` nor `Sync` and
//! cannot leave the attached code that made it). With the GIL (every build but the
//! free-threaded one), attached means holding this interpreter's GIL, and pyo3 refuses to load
//! a module into a second interpreter, so no two threads ever touch the slots at once and the
//! GIL's hand-over orders their accesses: plain relaxed loads and stores are enough. The
//! free-threaded build (`Py_GIL_DISABLED`) takes and gives back with atomic read-modify-writes.

use std::ffi::c_void;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, Ordering};

use pyo3::ffi::Py_ssize_t;

use crate::hold::{Borrow, Hold};
use crate::layout::MAX_NDIM;

/// What one live export owns. `shape` and `strides` are what `Py_buffer` points at.
pub(crate) struct ExportState {
    pub shape: [Py_ssize_t; MAX_NDIM],
    pub strides: [Py_ssize_t; MAX_NDIM],
    /// What the storage keeps alive for the export (an `Arc` of shared storage), if anything.
    pub hold: Option<Hold>,
    /// A mutable class's shared borrow of its owner (plain storage).
    pub borrow: Option<Borrow>,
}

impl ExportState {
    /// Stores the hold of a record that holds nothing yet (every record `StateBox::new` and
    /// `pooled` hand out: fresh, or emptied before it was given back), without the drop of
    /// the old value (a call) that `=` would compile to.
    #[inline(always)]
    pub fn put_hold(&mut self, hold: Option<Hold>) {
        debug_assert!(self.hold.is_none());
        std::mem::forget(std::mem::replace(&mut self.hold, hold));
    }

    /// As [`put_hold`](Self::put_hold), for the borrow.
    #[inline(always)]
    pub fn put_borrow(&mut self, borrow: Borrow) {
        debug_assert!(self.borrow.is_none());
        std::mem::forget(self.borrow.replace(borrow));
    }
}

/// Free records, each slot empty or owning one leaked `Box<ExportState>`. A swap takes a record, a
/// compare-exchange into an empty slot gives one back: no lock, no ABA (a pointer is only ever
/// moved whole), and no thread-local lookup, which costs a call in a shared library.
static FREE: [AtomicPtr<ExportState>; 8] = [const { AtomicPtr::new(ptr::null_mut()) }; 8];

/// An owned record; dropping it drops its hold and borrow and recycles it.
pub(crate) struct StateBox(NonNull<ExportState>);

impl StateBox {
    #[inline]
    pub fn new() -> StateBox {
        Self::pooled().unwrap_or_else(Self::fresh)
    }

    /// A free record, if the pool has one: no allocation.
    #[inline(always)]
    pub fn pooled() -> Option<StateBox> {
        FREE.iter().find_map(take).map(StateBox)
    }

    #[cold]
    #[inline(never)]
    fn fresh() -> StateBox {
        let boxed = Box::new(ExportState {
            shape: [0; MAX_NDIM],
            strides: [0; MAX_NDIM],
            hold: None,
            borrow: None,
        });
        StateBox(NonNull::from(Box::leak(boxed)))
    }

    pub fn get_mut(&mut self) -> &mut ExportState {
        // SAFETY: the record is owned by `self` and valid.
        unsafe { self.0.as_mut() }
    }

    /// Gives up ownership, for storing in `Py_buffer.internal`.
    pub fn into_raw(self) -> NonNull<c_void> {
        std::mem::ManuallyDrop::new(self).0.cast()
    }

    /// Ends a record given up by `into_raw` that holds at most a borrow (plain storage) without
    /// the drop's loop over the free slots: the borrow is moved out, the record given to
    /// `FREE[0]` if that is empty, then the borrow given back (the reverse of the drop's order,
    /// so that nothing touches the record once it is given). `false`, with nothing done,
    /// otherwise: the caller still owns `p`.
    ///
    /// # Safety
    /// As [`from_raw`](Self::from_raw); attached (module docs).
    #[inline(always)]
    pub unsafe fn release_quick(p: NonNull<c_void>) -> bool {
        let rec = p.cast::<ExportState>().as_ptr();
        // SAFETY: a live record the caller owns (contract).
        if unsafe { (*rec).hold.is_some() } {
            return false;
        }
        // SAFETY: as above.
        if unsafe { (*rec).borrow.is_none() } {
            return give(&FREE[0], rec); // a frozen class's: nothing to move out
        }
        // SAFETY: as above; moved out before the record can be taken again.
        let borrow = unsafe { (*rec).borrow.take() };
        if !give(&FREE[0], rec) {
            // SAFETY: still the caller's record: it was not given; its borrow was just taken.
            unsafe { (*rec).borrow = borrow };
            return false;
        }
        drop(borrow);
        true
    }

    /// Takes back a record given up by `into_raw`.
    ///
    /// # Safety
    /// `p` came from `into_raw` and is taken back once.
    pub unsafe fn from_raw(p: NonNull<c_void>) -> StateBox {
        StateBox(p.cast())
    }
}

impl Drop for StateBox {
    #[inline]
    fn drop(&mut self) {
        // Drop the hold and the borrow before the record can be taken again.
        let rec = self.get_mut();
        if rec.hold.is_some() {
            rec.hold = None;
        }
        if rec.borrow.is_some() {
            rec.borrow = None;
        }
        let p = self.0.as_ptr();
        for slot in &FREE {
            if give(slot, p) {
                return;
            }
        }
        // SAFETY: the pointer came from `Box::leak` and is owned by `self`, dropped once.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Takes the record in `slot`, if any.
#[inline(always)]
fn take(slot: &AtomicPtr<ExportState>) -> Option<NonNull<ExportState>> {
    let p = NonNull::new(slot.load(Ordering::Relaxed))?;
    #[cfg(not(Py_GIL_DISABLED))]
    {
        // Under the GIL (module docs): nobody else reads or writes the slot meanwhile.
        slot.store(ptr::null_mut(), Ordering::Relaxed);
        Some(p)
    }
    #[cfg(Py_GIL_DISABLED)]
    {
        // Acquire: the record's contents as the giver left them.
        let _ = p;
        NonNull::new(slot.swap(ptr::null_mut(), Ordering::Acquire))
    }
}

/// Puts `p` into `slot` if it is empty.
#[inline(always)]
fn give(slot: &AtomicPtr<ExportState>, p: *mut ExportState) -> bool {
    if !slot.load(Ordering::Relaxed).is_null() {
        return false;
    }
    #[cfg(not(Py_GIL_DISABLED))]
    {
        // Under the GIL (module docs).
        slot.store(p, Ordering::Relaxed);
        true
    }
    #[cfg(Py_GIL_DISABLED)]
    {
        slot.compare_exchange(ptr::null_mut(), p, Ordering::Release, Ordering::Relaxed)
            .is_ok()
    }
}
