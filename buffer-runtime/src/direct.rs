//! Direct exports: a shared block exported with its natural 1-D layout needs no per-export
//! record. Its head holds the view's shape and strides tables, and `view.internal` points at
//! the head (tagged with bit 0), owning one count of the block until release.

use std::ffi::c_void;
use std::ptr::NonNull;

use pyo3::ffi::Py_ssize_t;

/// The head of a shared block: the first field of a `#[repr(C)]` block behind an `Arc`.
#[repr(C)]
pub(crate) struct Direct {
    /// Drops the count a direct export owns; the argument is this head.
    release: unsafe fn(NonNull<Direct>),
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
    /// A head for a block of items of `itemsize` bytes, released by `release`.
    pub fn new(release: unsafe fn(NonNull<Direct>), itemsize: usize) -> Direct {
        Direct {
            release,
            shape: [0],
            strides: [itemsize as Py_ssize_t],
        }
    }

    /// Records the block's item count (with exclusive access to the block).
    pub fn set_len(&mut self, len: usize) {
        self.shape[0] = len as Py_ssize_t; // <= isize::MAX: a Vec's length
    }

    /// Takes over one count of the block whose head is `head`.
    ///
    /// # Safety
    /// `head` is the head of a live block whose `set_len` is current, and the caller gives up
    /// one count of it (e.g. from `Arc::into_raw`), which `release` gives back.
    pub unsafe fn export(head: NonNull<Direct>) -> DirectExport {
        DirectExport { head }
    }

    /// Releases a view's `internal` if it is a direct export; `false` if it is not.
    ///
    /// # Safety
    /// `internal` is a live view's `internal`, released once.
    pub unsafe fn release(internal: *mut c_void) -> bool {
        if internal.addr() & DIRECT_TAG == 0 {
            return false;
        }
        let head = internal.map_addr(|a| a & !DIRECT_TAG).cast::<Direct>();
        // SAFETY: a tagged `internal` comes from `DirectExport::into_internal`: the head of a
        // live block (non-null) whose count this view owns.
        let head = unsafe { NonNull::new_unchecked(head) };
        // SAFETY: as above: the head is live, so its `release` may be read.
        let release = unsafe { head.as_ref().release };
        // SAFETY: gives back the view's count of the block whose head this is, once.
        unsafe { release(head) };
        true
    }
}

/// The bit of `view.internal` that marks a direct export. The head is at least
/// pointer-aligned, so bit 0 of its address is free; records, the other kind of `internal`,
/// are untagged `Box`es (also pointer-aligned).
const DIRECT_TAG: usize = 1;
const _: () = assert!(std::mem::align_of::<Direct>() > DIRECT_TAG);

impl DirectExport {
    /// The shape and strides tables, valid while the count is held.
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
        // SAFETY: `self` owns one count of the live block, so the head may be read.
        let release = unsafe { self.head.as_ref().release };
        // SAFETY: gives back that count, once.
        unsafe { release(self.head) }
    }
}
