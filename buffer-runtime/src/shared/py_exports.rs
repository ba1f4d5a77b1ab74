//! Python exports of a shared block counted under the GIL, instead of one atomic strong count
//! each (every build but the free-threaded one, where each export keeps its own strong count).
//! The functions at the end are what the storages call, on either build.
//!
//! Two atomic read-modify-writes (an `Arc` clone and its drop) cost more than the rest of an
//! export. Exports and their releases run attached to the interpreter, so with the GIL they never
//! run at once: a count kept with plain (relaxed) loads and stores is exact. Together, a block's
//! Python exports own one strong count of it, the *pin*: taken by the first export, kept after the
//! last release (a loop of exports then makes no atomic read-modify-write at all), and given back
//! when the owner handle needs the block to itself or is dropped.
//!
//! The rules each use cites:
//! - **P1, attached.** [`PyExports::start`] runs attached with `&` to the owner handle,
//!   [`PyExports::end`] (and the [`drain`] it starts with) attached. With the GIL, attached code
//!   runs on one thread at a time, and the GIL's hand-over orders it, so these never race with
//!   one another.
//! - **P2, owner.** The owner side ([`PyExports::try_unpin`], [`PyExports::owner_gone`]) runs with
//!   `&mut` to, or ownership of, the owner handle, on any thread, attached or not. No `start` can
//!   run meanwhile (it needs `&`), so the count can only go down, and once read as 0 it stays 0.
//!   A block has one owner handle in its whole life: the storages make every block with
//!   `Arc::new` and never wrap an existing one again, so once the owner is gone no `start` runs.
//! - **P3, last touch.** `end` reads everything it needs before it stores the lowered count
//!   (Release); after that store it touches the block again only if the block is orphaned (the
//!   owner handle is gone, so no owner side runs). An owner side that reads the count as 0
//!   (Acquire) therefore races with no `end`, and sees every write made through the views.
//! - **P4, orphans.** An owner handle dropped while exports are alive does not decide alone (it
//!   may be detached): it queues the block, and attached code decides in [`drain`]: the pin goes
//!   back at once if the count is 0 by then, or else the block is marked orphaned and the last
//!   `end` gives the pin back. An owner that queued re-checks under the queue's lock, so a block
//!   whose last view was released meanwhile is not left waiting.

use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::direct::{Checked, Direct, DirectExport, NdHit, NdLayout, Tables};
use crate::hold::{Hold, Slot};

/// The Python exports of one block (unused on the free-threaded build).
#[cfg_attr(Py_GIL_DISABLED, allow(dead_code))]
pub(crate) struct PyExports {
    /// Live Python exports.
    count: AtomicUsize,
    /// Whether the exports own a strong count of the block (the pin).
    pinned: AtomicBool,
    /// The owner handle is gone: the last `end` gives the pin back.
    orphaned: AtomicBool,
}

/// Gives back the pin of the block at the address: the `Arc`'s strong count.
#[cfg_attr(Py_GIL_DISABLED, allow(dead_code))]
pub(crate) type GiveBack = unsafe fn(*const c_void);

/// A block queued by an owner dropped while exported (P4).
#[cfg_attr(Py_GIL_DISABLED, allow(dead_code))]
struct Orphan {
    exports: *const PyExports,
    block: *const c_void,
    give_back: GiveBack,
}

// SAFETY: the pointers are only dereferenced by `drain` (attached, P1) or by the owner that
// queued them, under the queue's lock; the pin keeps the block alive until one of them gives it
// back, which also removes the entry.
unsafe impl Send for Orphan {}

#[cfg_attr(Py_GIL_DISABLED, allow(dead_code))]
static ORPHANS: Mutex<Vec<Orphan>> = Mutex::new(Vec::new());
/// Whether `ORPHANS` may be non-empty: the one load `end` pays for the queue.
#[cfg_attr(Py_GIL_DISABLED, allow(dead_code))]
static QUEUED: AtomicBool = AtomicBool::new(false);

#[cfg_attr(Py_GIL_DISABLED, allow(dead_code))]
impl PyExports {
    pub(crate) const fn new() -> PyExports {
        PyExports {
            count: AtomicUsize::new(0),
            pinned: AtomicBool::new(false),
            orphaned: AtomicBool::new(false),
        }
    }

    /// Counts one more export; `true` if the caller must take the pin (one strong count).
    ///
    /// # Safety
    /// Attached, with `&` to the owner handle (P1); a `true` is acted on before the export is
    /// published.
    #[inline(always)]
    pub(crate) unsafe fn start(&self) -> bool {
        // Relaxed: only attached code writes these (P1).
        let pin = !self.pinned.load(Ordering::Relaxed);
        if pin {
            // Rare: the pin stays until the owner needs the block to itself or is gone.
            std::hint::cold_path();
            self.pinned.store(true, Ordering::Relaxed);
        }
        let n = self.count.load(Ordering::Relaxed);
        self.count.store(n + 1, Ordering::Relaxed);
        pin
    }

    /// Counts one export less; `true` if the caller must give the pin back now (the block is
    /// orphaned and this was its last export).
    ///
    /// # Safety
    /// Attached (P1), for an export counted by `start` and not yet ended.
    #[inline(always)]
    pub(crate) unsafe fn end(&self) -> bool {
        if QUEUED.load(Ordering::Relaxed) {
            // SAFETY: attached (contract).
            unsafe { drain() };
        }
        // Read before the store (P3).
        let orphaned = self.orphaned.load(Ordering::Relaxed);
        let n = self.lower();
        if n == 0 && orphaned {
            // Orphaned: only attached code touches the block now (P3, P4).
            self.orphaned.store(false, Ordering::Relaxed);
            self.pinned.store(false, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// [`end`](Self::end) when it has nothing to hand back (no orphan queued, the block not
    /// orphaned): `true` once done, `false` with nothing changed (then `end` must run).
    ///
    /// # Safety
    /// As [`end`](Self::end).
    #[inline(always)]
    pub(crate) unsafe fn end_quick(&self) -> bool {
        if QUEUED.load(Ordering::Relaxed) || self.orphaned.load(Ordering::Relaxed) {
            return false;
        }
        self.lower();
        true
    }

    /// Counts one export less (attached, P1), returning the new count.
    #[inline(always)]
    fn lower(&self) -> usize {
        let n = self.count.load(Ordering::Relaxed) - 1;
        // Release: what the view wrote happens before an owner side that reads this (P3).
        self.count.store(n, Ordering::Release);
        n
    }

    /// Live Python exports (a snapshot when read without `&mut` to the owner handle).
    pub(crate) fn live(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Sets the count of live exports, for tests of what reads it.
    #[cfg(test)]
    pub(crate) fn set_live(&self, n: usize) {
        self.count.store(n, Ordering::Relaxed);
    }

    /// Whether the exports hold the pin.
    pub(crate) fn pinned(&self) -> bool {
        self.pinned.load(Ordering::Relaxed)
    }

    /// Unpins if no export is alive; `true` if the caller must give the pin back (it is not the
    /// last count: the owner handle holds one).
    ///
    /// # Safety
    /// `&mut` to the owner handle (P2).
    pub(crate) unsafe fn try_unpin(&self) -> bool {
        // Relaxed for `pinned`: only `start` sets it, which cannot run now (P2).
        if !self.pinned.load(Ordering::Relaxed) || self.count.load(Ordering::Acquire) != 0 {
            return false;
        }
        self.pinned.store(false, Ordering::Relaxed);
        true
    }

    /// The owner handle is being dropped: gives the pin back if no export is alive, or hands
    /// the block to attached code (P4). The owner's own count is dropped by the caller, after.
    ///
    /// # Safety
    /// Ownership of the owner handle (P2); `block` is the block's address, which `give_back`
    /// takes the pin of, and `self` lies inside that block.
    pub(crate) unsafe fn owner_gone(&self, block: *const c_void, give_back: GiveBack) {
        // SAFETY: forwarded contract.
        if unsafe { self.try_unpin() } {
            // SAFETY: the pin is a count of `block` (contract); the owner's keeps it alive.
            unsafe { give_back(block) };
            return;
        }
        if !self.pinned.load(Ordering::Relaxed) {
            return; // never exported, or unpinned already
        }
        let mut orphans = ORPHANS.lock().unwrap_or_else(|e| e.into_inner());
        // The last export may have ended since `try_unpin` looked (P2: the count only goes
        // down): then no `end` will touch the block again (P3), and the pin goes back here.
        if self.count.load(Ordering::Acquire) == 0 {
            drop(orphans);
            self.pinned.store(false, Ordering::Relaxed);
            // SAFETY: as above.
            unsafe { give_back(block) };
            return;
        }
        orphans.push(Orphan {
            exports: self,
            block,
            give_back,
        });
        QUEUED.store(true, Ordering::Relaxed);
    }
}

/// A block behind an `Arc` whose Python exports are counted here, in its head.
///
/// # Safety
/// `head` is the block's first field, in a `#[repr(C)]` block (so the head's address is the
/// block's), made by `Direct::new::<Self>`.
pub(crate) unsafe trait Pinned: Send + Sync + Sized {
    fn head(&self) -> &Direct;

    #[cfg_attr(Py_GIL_DISABLED, allow(dead_code))]
    fn py_exports(&self) -> &PyExports {
        &self.head().py
    }
}

/// A Python export of `this`'s block that needs no record: the view gets the head's tables for
/// `layout`, or none without `with_tables`. `None` when the view needs tables and the head
/// cannot share them ([`Direct::nd_tables`]; always on the free-threaded build, where no count
/// says when they may be rewritten): then the export makes a record.
///
/// # Safety
/// Attached, with `&` to the owner handle; the export is ended attached; `checked` is true of
/// `layout`.
#[inline(always)]
pub(crate) unsafe fn direct<T: Pinned>(
    this: &Arc<T>,
    layout: &NdLayout<'_>,
    checked: Checked,
    with_tables: bool,
) -> Option<DirectExport> {
    // A view without tables uses none of the head's, but the head still takes the layout if
    // it can, so that the next export of it (`PyBUF_SIMPLE`'s, say) finds it checked.
    // SAFETY: attached (contract), before the export is counted; `checked` is true of
    // `layout` (contract).
    #[cfg(not(Py_GIL_DISABLED))]
    let held = unsafe { this.head().nd_tables(layout, checked) };
    #[cfg(Py_GIL_DISABLED)]
    let held = {
        let _ = (layout, checked);
        None
    };
    let tables = match held {
        _ if !with_tables => Tables::NONE,
        Some(tables) => tables,
        None => return None,
    };
    // SAFETY: attached, with `&` to the owner handle (contract).
    let block = unsafe { start(this) };
    // SAFETY: the head is at the block's address (`Pinned`); the export just counted is given up
    // to the direct export, whose release ends it (`Direct::end`, through the head's
    // `give_back`); the tables are the head's, unchanged while the export lives.
    Some(unsafe { Direct::export_with(block.cast(), tables) })
}

/// [`Direct::nd_checked`] of `this`'s block: the head holds `layout`, checked by an earlier
/// export (never on the free-threaded build, which caches no N-d tables).
///
/// # Safety
/// Attached.
#[inline(always)]
pub(crate) unsafe fn nd_checked<T: Pinned>(this: &Arc<T>, layout: &NdLayout<'_>) -> Option<NdHit> {
    #[cfg(not(Py_GIL_DISABLED))]
    {
        // SAFETY: attached (contract).
        unsafe { this.head().nd_checked(layout) }
    }
    #[cfg(Py_GIL_DISABLED)]
    {
        let _ = (this, layout);
        None
    }
}

/// Counts one Python export of `this`'s block, which keeps the block alive until [`end`]: as a
/// share of the pin under the GIL (P1), as one strong count on the free-threaded build.
///
/// # Safety
/// Attached, with `&` to the owner handle (`this`).
#[inline(always)]
pub(crate) unsafe fn start<T: Pinned>(this: &Arc<T>) -> NonNull<T> {
    #[cfg(not(Py_GIL_DISABLED))]
    {
        // SAFETY: attached with `&` to the owner handle (contract).
        if unsafe { this.py_exports().start() } {
            // SAFETY: `this` is a live `Arc`, so its pointer is one `into_raw` would give; the
            // count taken is the pin, which `PyExports` accounts for until it is given back.
            unsafe { Arc::increment_strong_count(Arc::as_ptr(this)) };
        }
        // The `Arc`'s own pointer (not a reference's), so that giving the pin back through
        // it later may touch the counts in front of the block.
        // SAFETY: `Arc::as_ptr` is never null.
        unsafe { NonNull::new_unchecked(Arc::as_ptr(this).cast_mut()) }
    }
    #[cfg(Py_GIL_DISABLED)]
    {
        let raw = Arc::into_raw(Arc::clone(this)).cast_mut();
        // SAFETY: `Arc::into_raw` never returns null.
        unsafe { NonNull::new_unchecked(raw) }
    }
}

/// Ends an export counted by [`start`].
///
/// # Safety
/// `block` came from `start` and is ended once, attached.
#[inline(always)]
pub(crate) unsafe fn end<T: Pinned>(block: NonNull<T>) {
    #[cfg(not(Py_GIL_DISABLED))]
    {
        // SAFETY: the pin keeps the block alive while its export is counted (P4: even when
        // orphaned).
        let exports = unsafe { block.as_ref() }.py_exports();
        // SAFETY: attached, for an export `start` counted, ended once (contract).
        if unsafe { exports.end() } {
            // SAFETY: `end` handed the pin (one strong count of this `Arc`) to the caller.
            unsafe { Arc::decrement_strong_count(block.as_ptr()) };
        }
    }
    #[cfg(Py_GIL_DISABLED)]
    {
        // SAFETY: the count `start` took with `into_raw`, dropped once (contract).
        drop(unsafe { Arc::from_raw(block.as_ptr()) });
    }
}

/// A [`Hold`] of one Python export of `this`'s block, for a record.
///
/// # Safety
/// Attached, with `&` to the owner handle; the hold is dropped attached.
pub(crate) unsafe fn hold<T: Pinned>(this: &Arc<T>) -> Hold {
    unsafe fn end_hold<T: Pinned>(slot: Slot) {
        // SAFETY: `slot` holds the block pointer `hold` wrote, whole.
        let block = unsafe { slot.assume_init() };
        // SAFETY: `start` returned it, non-null.
        let block = unsafe { NonNull::new_unchecked(block.cast::<T>()) };
        // SAFETY: the export `hold` counted, ended once (a hold drops once), attached (`hold`'s
        // contract).
        unsafe { end(block) }
    }
    // SAFETY: attached, with `&` to the owner handle (contract).
    let block = unsafe { start(this) };
    // SAFETY: `end_hold::<T>` ends exactly the export counted just above, when the hold drops.
    unsafe { Hold::from_raw(Slot::new(block.as_ptr().cast()), end_hold::<T>) }
}

/// Live exports of `this`'s block: Python exports and every other hold (exact with `&mut` to
/// the owner handle, a snapshot otherwise).
pub(crate) fn exports<T: Pinned>(this: &Arc<T>) -> usize {
    let others = Arc::strong_count(this) - 1;
    #[cfg(not(Py_GIL_DISABLED))]
    let others =
        others.saturating_sub(usize::from(this.py_exports().pinned())) + this.py_exports().live();
    others
}

/// Gives the pin back when no Python export is alive, so that only the other holds keep
/// `Arc::get_mut` from succeeding.
pub(crate) fn unpin<T: Pinned>(this: &mut Arc<T>) {
    #[cfg(not(Py_GIL_DISABLED))]
    {
        // SAFETY: `&mut` to the owner handle (P2).
        if unsafe { this.py_exports().try_unpin() } {
            // SAFETY: the pin is one strong count of this `Arc`; the owner's keeps it alive.
            unsafe { Arc::decrement_strong_count(Arc::as_ptr(this)) };
        }
    }
    #[cfg(Py_GIL_DISABLED)]
    let _ = this;
}

/// The owner handle `this` goes: the pin goes back now or with the last export's release (P4).
/// The caller then drops (or keeps, as a plain `Arc`) the owner's own count.
pub(crate) fn owner_gone<T: Pinned>(this: &mut Arc<T>) {
    #[cfg(not(Py_GIL_DISABLED))]
    {
        unsafe fn give_back<T>(block: *const c_void) {
            // SAFETY: `block` is the address of a `T` behind an `Arc` whose pin this is
            // (`owner_gone`), given back once.
            unsafe { Arc::decrement_strong_count(block.cast::<T>()) }
        }
        // SAFETY: the owner handle is going (P2); the address is the block's, which holds the
        // `PyExports`, and `give_back::<T>` takes its pin.
        unsafe {
            this.py_exports()
                .owner_gone(Arc::as_ptr(this).cast(), give_back::<T>)
        }
    }
    #[cfg(Py_GIL_DISABLED)]
    let _ = this;
}

/// Settles the queued orphans (P4): each block's pin goes back if its exports have all ended,
/// or the block is marked orphaned for its last `end`.
///
/// # Safety
/// Attached (P1).
#[cold]
#[inline(never)]
#[cfg_attr(Py_GIL_DISABLED, allow(dead_code))]
unsafe fn drain() {
    // Taken out before any is settled: giving a pin back may free a block, whose drop may drop
    // objects and so queue another orphan (`owner_gone` locks the queue) or end other exports.
    let orphans = {
        let mut queue = ORPHANS.lock().unwrap_or_else(|e| e.into_inner());
        QUEUED.store(false, Ordering::Relaxed);
        std::mem::take(&mut *queue)
    };
    for o in orphans {
        // SAFETY: the pin keeps a queued block alive until this entry is settled, once.
        let exports = unsafe { &*o.exports };
        if exports.count.load(Ordering::Relaxed) == 0 {
            exports.pinned.store(false, Ordering::Relaxed);
            // SAFETY: the pin is a count of `o.block` (queued by `owner_gone`); this is the only
            // place that gives it back for a queued block.
            unsafe { (o.give_back)(o.block) };
        } else {
            exports.orphaned.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(all(test, not(Py_GIL_DISABLED)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    static GIVEN: AtomicUsize = AtomicUsize::new(0);
    unsafe fn count_give_back(_: *const c_void) {
        GIVEN.fetch_add(1, Ordering::SeqCst);
    }

    #[allow(
        clippy::multiple_unsafe_ops_per_block,
        reason = "one contract, stated once, covers the sequence"
    )]
    // One test, so that no other test of this file drains the queue meanwhile (the crate's
    // other tests never queue: their owners drop only unexported or unpinned blocks).
    #[test]
    fn pin_is_taken_once_and_given_back_once() {
        let e = PyExports::new();
        let block = std::ptr::null::<c_void>();
        // SAFETY: one thread stands for the attached one (P1), and the test owns the "owner
        // handle" (P2: nothing else touches `e`), for every call below.
        unsafe {
            assert!(e.start());
            assert!(!e.start());
            assert!(!e.end());
            assert!(!e.end());
            assert!(e.pinned() && e.live() == 0);
            // Idle: a loop of exports keeps the pin.
            assert!(!e.start());
            assert!(!e.end());
            assert!(e.try_unpin());
            assert!(!e.try_unpin());
            // Dropped while exported: queued, then the last end gives the pin back.
            assert!(e.start());
            e.owner_gone(block, count_give_back);
            assert_eq!(GIVEN.load(Ordering::SeqCst), 0);
            assert!(QUEUED.load(Ordering::Relaxed));
            assert!(e.end(), "the last end of an orphan gives the pin back");
            assert!(!e.pinned());
            // Dropped while idle: given back at once.
            assert!(e.start());
            assert!(!e.end());
            e.owner_gone(block, count_give_back);
            assert_eq!(GIVEN.load(Ordering::SeqCst), 1);

            // A pin given back by `drain` frees a block whose drop drops another exported
            // owner, which queues itself: the queue must not be locked meanwhile.
            assert!(NESTED.start());
            let q = PyExports::new();
            assert!(q.start());
            q.owner_gone(block, give_back_and_queue);
            // Its last export ended without seeing the queue (the race P4's re-check is for).
            q.count.store(0, Ordering::Relaxed);
            let other = PyExports::new();
            assert!(other.start());
            assert!(
                !other.end(),
                "drains: `q`'s pin goes back, `NESTED` is queued"
            );
            assert_eq!(GIVEN.load(Ordering::SeqCst), 2);
            assert!(QUEUED.load(Ordering::Relaxed));
            assert!(
                NESTED.end(),
                "the nested orphan's last end gives its pin back"
            );
        }
    }

    static NESTED: PyExports = PyExports::new();

    unsafe fn give_back_and_queue(_: *const c_void) {
        GIVEN.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the test owns `NESTED`'s "owner handle"; one thread stands for the attached.
        unsafe { NESTED.owner_gone(std::ptr::null(), count_give_back) };
    }
}
