//! [`Hold`]: something an export keeps until it is released (a shared storage's memory),
//! type-erased into one pointer-sized slot and a drop function; [`Borrow`]: the same for a
//! mutable class's shared borrow of its owner.

use std::ffi::c_void;
use std::mem::{size_of, ManuallyDrop, MaybeUninit};
use std::sync::Arc;

use pyo3::{PyClass, PyClassGuard};

/// The bytes of one pointer-sized value, whatever its type: `MaybeUninit`, so that holding
/// them needs nothing of the value's layout (it may have padding, or be all zero).
pub(crate) type Slot = MaybeUninit<*mut c_void>;

/// A type-erased owned value, dropped when the `Hold` is.
pub struct Hold {
    slot: Slot,
    /// Drops the value `slot` holds; matches how `slot` was made.
    drop_fn: unsafe fn(Slot),
}

impl Hold {
    /// A hold of whatever `slot` stands for, which `drop_fn` gives back.
    ///
    /// # Safety
    /// `drop_fn(slot)` is sound once, wherever and whenever the hold is dropped.
    pub(crate) unsafe fn from_raw(slot: Slot, drop_fn: unsafe fn(Slot)) -> Hold {
        Hold { slot, drop_fn }
    }

    /// Keeps an `Arc` (one strong count) until the hold is dropped.
    pub(crate) fn arc<T: Send + Sync>(arc: Arc<T>) -> Hold {
        unsafe fn drop_arc<T>(slot: Slot) {
            // SAFETY: `slot` holds the pointer `Arc::into_raw` returned in `Hold::arc::<T>`,
            // written whole, so it is initialised.
            let raw = unsafe { slot.assume_init() };
            // SAFETY: `raw` came from `Arc::into_raw::<T>` and is turned back into the `Arc`
            // once (the hold drops once).
            drop(unsafe { Arc::from_raw(raw.cast_const().cast::<T>()) });
        }
        Hold {
            slot: Slot::new(Arc::into_raw(arc).cast_mut().cast::<c_void>()),
            drop_fn: drop_arc::<T>,
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        // SAFETY: `drop_fn` matches the value `slot` was made from, and runs once (this is the
        // hold's only drop, and the slot is not used after it).
        unsafe { (self.drop_fn)(self.slot) }
    }
}

/// A shared borrow of a pyclass, type-erased like a [`Hold`] and given back when dropped, which
/// must happen while attached and while the object lives: an export's borrow is dropped by
/// `bf_releasebuffer`, which CPython calls before it drops the view's reference to the object
/// (a borrow is made only once an export has succeeded).
///
/// Its release is an `extern "C"` function that catches its own panics (giving back pyo3's
/// flag is an atomic decrement for a live object; none is expected): a function that cannot
/// unwind is one the fast release slot can end with, as a tail call.
pub(crate) struct Borrow {
    slot: Slot,
    /// Gives back the borrow `slot` holds; matches how `slot` was made.
    release: unsafe extern "C" fn(Slot),
}

impl Borrow {
    /// The guard is moved, as bytes, into the slot and moved back out by the release function:
    /// a bitwise move is what every Rust move is, so this needs only that the guard fits the
    /// slot (asserted at compile time) and nothing of `PyClassGuard`'s private layout.
    pub(crate) fn new<T: PyClass>(guard: PyClassGuard<'_, T>) -> Borrow {
        const {
            assert!(size_of::<PyClassGuard<'static, T>>() <= size_of::<Slot>());
        }
        unsafe extern "C" fn release<T: PyClass>(slot: Slot) {
            // SAFETY: `slot` starts with the bytes of a `PyClassGuard<T>` written by
            // `Borrow::new::<T>` (it fits, asserted above); reading them back moves the guard
            // out, once. The read is unaligned, so the slot's alignment does not matter.
            let guard: PyClassGuard<'static, T> = unsafe {
                std::ptr::read_unaligned(slot.as_ptr().cast::<PyClassGuard<'static, T>>())
            };
            // A panic (a bug) must not reach the caller: it would abort at this `extern "C"`.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(guard)));
        }
        // `'static` only erases the borrow of the object, which outlives the `Borrow` (above).
        let guard = ManuallyDrop::new(guard);
        let mut slot = Slot::uninit();
        // SAFETY: the slot is at least as large as the guard (asserted above) and the write is
        // unaligned; the guard is never used again here (`ManuallyDrop`): its bytes now belong
        // to the slot, which `release` reads once.
        unsafe {
            std::ptr::write_unaligned(
                slot.as_mut_ptr()
                    .cast::<ManuallyDrop<PyClassGuard<'_, T>>>(),
                guard,
            )
        };
        Borrow {
            slot,
            release: release::<T>,
        }
    }
}

impl Drop for Borrow {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `release` matches the guard `slot` was made from, and runs once (this is the
        // borrow's only drop, and the slot is not used after it).
        unsafe { (self.release)(self.slot) }
    }
}
