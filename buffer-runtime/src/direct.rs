//! Direct exports: a shared block exported with its natural 1-D layout needs no per-export
//! record. Its head holds the view's shape and strides tables, and `view.internal` points at
//! the head (tagged with bit 0), owning one export of the block until release.

use std::ffi::c_void;
use std::ptr::NonNull;

use pyo3::ffi::Py_ssize_t;

use crate::shared::PyExports;

/// The head of a shared block: the first field of a `#[repr(C)]` block behind an `Arc`.
#[repr(C)]
pub(crate) struct Direct {
    /// Gives back one strong count of the block whose head this is: the pin when an orphaned
    /// block's last export ends (with the GIL), the export's own count (free-threaded build).
    give_back: unsafe fn(NonNull<Direct>),
    /// The block's Python exports (`shared/py_exports.rs`), here so that a release reaches them
    /// without knowing the block's type.
    pub(crate) py: PyExports,
    /// The item count. Written only with exclusive access to the block (no export alive:
    /// `Direct::set_len` through `&mut`); exports only hand out its address, so views read a
    /// value nobody writes while they live.
    shape: [Py_ssize_t; 1],
    strides: [Py_ssize_t; 1],
}

/// What a direct export puts in the view. Dropping it without `into_internal` gives the count
/// back.
#[doc(hidden)]
pub struct DirectExport {
    head: NonNull<Direct>,
}

impl Direct {
    /// A head for a block of items of `itemsize` bytes, whose counts `give_back` drops.
    pub fn new(give_back: unsafe fn(NonNull<Direct>), itemsize: usize) -> Direct {
        Direct {
            give_back,
            py: PyExports::new(),
            shape: [0],
            strides: [itemsize as Py_ssize_t],
        }
    }

    /// Records the block's item count (with exclusive access to the block).
    pub fn set_len(&mut self, len: usize) {
        self.shape[0] = len as Py_ssize_t; // <= isize::MAX: a Vec's length
    }

    /// Takes over one export of the block whose head is `head`.
    ///
    /// # Safety
    /// `head` is the head of a live block whose `set_len` is current, and the caller gives up
    /// one export of it counted by `py_exports::start`, which the release ends.
    pub unsafe fn export(head: NonNull<Direct>) -> DirectExport {
        DirectExport { head }
    }

    /// Ends one export of the block: `py_exports::end` without knowing the block's type.
    ///
    /// # Safety
    /// `head` is the head of a live block, one of whose exports the caller gives up, attached.
    #[inline(always)]
    unsafe fn end(head: NonNull<Direct>) {
        // SAFETY: the block lives while the export is counted (contract).
        let h = unsafe { head.as_ref() };
        #[cfg(not(Py_GIL_DISABLED))]
        {
            // SAFETY: attached, for an export counted by `start`, ended once (contract).
            if !unsafe { h.py.end() } {
                return;
            }
        }
        let give_back = h.give_back;
        // SAFETY: the count `end` handed over (with the GIL) or the export's own (free-threaded),
        // dropped once.
        unsafe { give_back(head) }
    }

    /// Releases a view's `internal` if it is a direct export; `false` if it is not.
    ///
    /// # Safety
    /// `internal` is a live view's `internal`, released once, attached.
    #[inline(always)]
    pub unsafe fn release(internal: *mut c_void) -> bool {
        if internal.addr() & DIRECT_TAG == 0 {
            return false;
        }
        let head = internal.map_addr(|a| a & !DIRECT_TAG).cast::<Direct>();
        // SAFETY: a tagged `internal` comes from `DirectExport::into_internal`: the head of a
        // live block (non-null) one of whose exports this view owns.
        let head = unsafe { NonNull::new_unchecked(head) };
        // SAFETY: ends that export, once, attached (contract).
        unsafe { Direct::end(head) };
        true
    }

    /// [`release`](Self::release) of a direct export whose end hands nothing back, with no
    /// call: `true` once released, `false` with nothing changed (then `release` must run).
    ///
    /// # Safety
    /// As [`release`](Self::release).
    #[cfg(not(Py_LIMITED_API))]
    #[inline(always)]
    pub unsafe fn release_quick(internal: *mut c_void) -> bool {
        #[cfg(not(Py_GIL_DISABLED))]
        {
            if internal.addr() & DIRECT_TAG == 0 {
                return false;
            }
            let head = internal.map_addr(|a| a & !DIRECT_TAG).cast::<Direct>();
            // SAFETY: a tagged `internal` is the head of a live block one of whose exports this
            // view owns (as in `release`).
            let h = unsafe { &*head };
            // SAFETY: attached, for that export, ended at most once (contract).
            unsafe { h.py.end_quick() }
        }
        #[cfg(Py_GIL_DISABLED)]
        {
            let _ = internal;
            false // each export's own strong count: `release` drops it
        }
    }
}

/// The bit of `view.internal` that marks a direct export. The head is at least
/// pointer-aligned, so bit 0 of its address is free; records, the other kind of `internal`,
/// are untagged `Box`es (also pointer-aligned).
const DIRECT_TAG: usize = 1;
const _: () = assert!(std::mem::align_of::<Direct>() > DIRECT_TAG);

impl DirectExport {
    /// The shape and strides tables, valid while the export is held.
    pub fn tables(&self) -> (*mut Py_ssize_t, *mut Py_ssize_t) {
        let h = self.head.as_ptr();
        // SAFETY: the head is live while `self` holds its count; only addresses are taken.
        let shape = unsafe { std::ptr::addr_of_mut!((*h).shape) };
        // SAFETY: as above.
        let strides = unsafe { std::ptr::addr_of_mut!((*h).strides) };
        (shape.cast::<Py_ssize_t>(), strides.cast::<Py_ssize_t>())
    }

    /// The tagged pointer for `view.internal`, which now owns the count.
    pub fn into_internal(self) -> *mut c_void {
        let p = std::mem::ManuallyDrop::new(self).head.as_ptr();
        p.map_addr(|a| a | DIRECT_TAG).cast::<c_void>()
    }
}

impl Drop for DirectExport {
    fn drop(&mut self) {
        // SAFETY: `self` owns one export of the live block, ended once; exports and their
        // failed attempts run attached.
        unsafe { Direct::end(self.head) }
    }
}
