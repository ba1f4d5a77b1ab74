//! [`Held`]: a view's export and span in a block that never moves, so that the view itself
//! moves as one pointer.
//!
//! Why not hold them by value: the exporter writes the `Py_buffer` field by field, and the
//! checks write the span's tables entry by entry, just before the view is returned. A move of a
//! few hundred bytes right after those narrow stores reads them back with wider loads, which
//! store-to-load forwarding cannot serve, so each waits for the stores to reach the cache (our
//! reading of why that move's ~40 instructions cost ~15 ns; no PMU here to count stalls). Measured with `examples/bench/consumer/interleaved.py` (a typed f64 view of a 1 KiB
//! numpy array, created and dropped): 53-59 ns held by value, 41 ns held here, 35 ns for the C
//! consumer. Built in its block, nothing is read back wide, and every later move (out of
//! `PyResult`, into a `#[pyfunction]`'s argument) copies one pointer.
//!
//! The blocks come from a small per-thread free list ([`POOL`], up to [`POOL_CAP`] blocks), so a
//! thread that creates and drops views allocates nothing once it has made its first few, as
//! long as no more than `POOL_CAP` are alive at once; a view dropped on another thread gives its
//! block to that thread's list (or frees it there, when the list is full). Parts too large for a block (none of the views' are:
//! the largest span, `AnyNdim`'s, leaves room) are boxed on their own.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::Cell;
use std::convert::Infallible;
use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::ptr::{self, NonNull};

use super::export::Export;

/// A view's parts, in the block.
#[repr(C)]
pub(crate) struct Parts<S> {
    pub export: Export,
    pub span: S,
}

/// Bytes of a pooled block: a `Py_buffer` and the span of an `AnyNdim` view, with room.
const BLOCK_BYTES: usize = 256;
/// Alignment of a pooled block.
const BLOCK_ALIGN: usize = 16;
/// Free blocks one thread keeps.
const POOL_CAP: usize = 8;

/// The layout of a pooled block.
const BLOCK: Layout = match Layout::from_size_align(BLOCK_BYTES, BLOCK_ALIGN) {
    Ok(l) => l,
    Err(_) => panic!("block layout"),
};

/// A thread's free blocks: a list threaded through the blocks' first word.
struct Pool {
    head: Cell<*mut u8>,
    len: Cell<usize>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        let mut p = self.head.get();
        while !p.is_null() {
            // SAFETY: every listed block was allocated with `BLOCK` and holds the next pointer
            // in its first word (`give_back`).
            let next = unsafe { p.cast::<*mut u8>().read() };
            // SAFETY: as above; no longer listed.
            unsafe { dealloc(p, BLOCK) };
            p = next;
        }
    }
}

thread_local! {
    static POOL: Pool = const { Pool { head: Cell::new(ptr::null_mut()), len: Cell::new(0) } };
}

/// A pooled block, or a new one (also when the thread's pool is gone, at thread exit).
#[inline]
fn take_block() -> NonNull<u8> {
    let pooled = POOL
        .try_with(|pool| {
            let p = pool.head.get();
            if !p.is_null() {
                // SAFETY: a listed block holds the next pointer in its first word.
                pool.head.set(unsafe { p.cast::<*mut u8>().read() });
                pool.len.set(pool.len.get() - 1);
            }
            p
        })
        .unwrap_or(ptr::null_mut());
    NonNull::new(pooled).unwrap_or_else(new_block)
}

#[cold]
fn new_block() -> NonNull<u8> {
    // SAFETY: `BLOCK` has a non-zero size.
    NonNull::new(unsafe { alloc(BLOCK) }).unwrap_or_else(|| handle_alloc_error(BLOCK))
}

/// Lists a block that holds nothing any more, or frees it when the list is full or gone.
#[inline]
fn give_back(block: NonNull<u8>) {
    let listed = POOL
        .try_with(|pool| {
            if pool.len.get() >= POOL_CAP {
                return false;
            }
            // SAFETY: the block is `BLOCK_BYTES` bytes, aligned for a pointer, and ours.
            unsafe { block.as_ptr().cast::<*mut u8>().write(pool.head.get()) };
            pool.head.set(block.as_ptr());
            pool.len.set(pool.len.get() + 1);
            true
        })
        .unwrap_or(false);
    if !listed {
        // SAFETY: allocated with `BLOCK` (`take_block`), and nothing refers to it.
        unsafe { dealloc(block.as_ptr(), BLOCK) };
    }
}

/// Owns a block holding an initialised [`Parts<S>`]; drops them (the export first) and gives
/// the block back on drop.
pub(crate) struct Held<S> {
    parts: NonNull<Parts<S>>,
    _owns: PhantomData<Parts<S>>,
}

// SAFETY: `Held` owns its parts like a `Box` does.
unsafe impl<S> Send for Held<S> where Parts<S>: Send {}
// SAFETY: as above.
unsafe impl<S> Sync for Held<S> where Parts<S>: Sync {}

impl<S> Held<S> {
    /// Whether `Parts<S>` fits a pooled block (else it is boxed on its own).
    const POOLED: bool =
        size_of::<Parts<S>>() <= BLOCK_BYTES && align_of::<Parts<S>>() <= BLOCK_ALIGN;

    /// A block for `Parts<S>`, lets `init` fill it in place, and owns the parts if `init` says
    /// it did. On `Err` (or a panic in `init`) the block is given back (or freed).
    ///
    /// # Safety
    /// `init` initialises both fields of `*parts` when it returns `Ok`, and leaves nothing in
    /// them that needs dropping otherwise.
    #[inline(always)]
    pub unsafe fn try_new<E>(init: impl FnOnce(*mut Parts<S>) -> Result<(), E>) -> Result<Self, E> {
        let block = if Self::POOLED {
            take_block()
        } else {
            Self::new_boxed()
        };
        // Gives the block back if `init` fails or panics.
        struct Unused<S>(NonNull<u8>, PhantomData<S>);
        impl<S> Drop for Unused<S> {
            fn drop(&mut self) {
                // SAFETY: the block of `Held::<S>::try_new`, holding nothing.
                unsafe { Held::<S>::free(self.0) }
            }
        }
        let guard = Unused::<S>(block, PhantomData);
        let parts = block.cast::<Parts<S>>();
        init(parts.as_ptr())?; // `guard` gives the block back on error
        std::mem::forget(guard);
        Ok(Held {
            parts,
            _owns: PhantomData,
        })
    }

    /// A block holding `parts`.
    pub fn new(parts: Parts<S>) -> Self {
        let init = |p: *mut Parts<S>| {
            // SAFETY: `p` is valid for writes (`try_new`).
            unsafe { p.write(parts) };
            Ok::<(), Infallible>(())
        };
        // SAFETY: `init` initialises both fields and cannot fail.
        match unsafe { Self::try_new(init) } {
            Ok(held) => held,
            Err(never) => match never {},
        }
    }

    #[cold]
    fn new_boxed() -> NonNull<u8> {
        let layout = Layout::new::<Parts<S>>();
        // SAFETY: `Parts` holds an `Export`, so its size is not zero.
        NonNull::new(unsafe { alloc(layout) }).unwrap_or_else(|| handle_alloc_error(layout))
    }

    /// Frees a block of `try_new` that holds nothing.
    ///
    /// # Safety
    /// `block` came from `Held::<S>::try_new` and nothing refers to it.
    unsafe fn free(block: NonNull<u8>) {
        if Self::POOLED {
            give_back(block);
        } else {
            // SAFETY: allocated with this layout (`new_boxed`; contract).
            unsafe { dealloc(block.as_ptr(), Layout::new::<Parts<S>>()) };
        }
    }

    #[inline(always)]
    pub fn export(&self) -> &Export {
        // SAFETY: initialised and owned (the type's invariant).
        unsafe { &self.parts.as_ref().export }
    }

    #[inline(always)]
    pub fn span(&self) -> &S {
        // SAFETY: initialised and owned (the type's invariant).
        unsafe { &self.parts.as_ref().span }
    }
}

impl<S> Drop for Held<S> {
    fn drop(&mut self) {
        let p = self.parts.as_ptr();
        // Frees the block even if a drop below panics.
        struct Free<S>(NonNull<u8>, PhantomData<S>);
        impl<S> Drop for Free<S> {
            fn drop(&mut self) {
                // SAFETY: the block of this `Held`, whose parts are dropped by now.
                unsafe { Held::<S>::free(self.0) }
            }
        }
        let _free = Free::<S>(self.parts.cast(), PhantomData);
        // SAFETY: initialised and owned, dropped once: the export (released) first, then the
        // span, which the drop glue still drops if the export's drop panics.
        unsafe { p.drop_in_place() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks cross threads: taken from one thread's pool, given to another's or freed there
    /// (AddressSanitizer runs this in `.ci/sanitizers.sh`).
    #[test]
    fn views_made_on_some_threads_and_dropped_on_others_release_every_export() {
        use crate::view::PyView;
        use pyo3::prelude::*;
        use pyo3::types::PyAnyMethods;
        use std::sync::mpsc;

        const THREADS: usize = 4;
        const VIEWS: usize = 200;
        Python::attach(|py| {
            let ba = py
                .eval(c"bytearray(b'0123456789abcdef')", None, None)
                .unwrap()
                .unbind();
            let (tx, rx) = mpsc::channel::<Vec<PyView<u8>>>();
            py.detach(|| {
                std::thread::scope(|s| {
                    // Makers: views of one bytearray, in batches larger than a pool, sent away.
                    for _ in 0..THREADS {
                        let (tx, ba) = (tx.clone(), &ba);
                        s.spawn(move || {
                            for _ in 0..VIEWS / 20 {
                                let batch = Python::attach(|py| {
                                    (0..20)
                                        .map(|_| PyView::<u8>::new(ba.bind(py)).unwrap())
                                        .collect::<Vec<_>>()
                                });
                                tx.send(batch).unwrap();
                            }
                            assert!(POOL.with(|p| p.len.get()) <= POOL_CAP);
                        });
                    }
                    drop(tx);
                    // The dropper: half of the batches detached (each view re-attaches to release).
                    s.spawn(move || {
                        for (i, batch) in rx.into_iter().enumerate() {
                            assert!(batch.iter().all(|v| v.to_vec() == b"0123456789abcdef"));
                            if i % 2 == 0 {
                                drop(batch);
                            } else {
                                Python::attach(|_| drop(batch));
                            }
                            assert!(POOL.with(|p| p.len.get()) <= POOL_CAP);
                        }
                    });
                });
            });
            // Every export was released: the bytearray may resize again.
            ba.bind(py).call_method1("extend", (b"!",)).unwrap();
        });
    }

    #[test]
    fn views_are_send_and_sync() {
        use crate::view::{AnyNdim, Ndim, PyView, PyViewMut};
        fn both<T: Send + Sync>() {}
        both::<PyView<f64>>();
        both::<PyViewMut<u8, Ndim<3>>>();
        both::<PyView<i32, AnyNdim>>();
    }

    #[test]
    fn blocks_are_reused_up_to_the_cap() {
        let blocks: Vec<_> = (0..POOL_CAP + 2).map(|_| take_block()).collect();
        for &b in &blocks {
            give_back(b);
        }
        assert_eq!(POOL.with(|p| p.len.get()), POOL_CAP);
        // The list is last in, first out: the latest block listed comes back first.
        let again = take_block();
        assert_eq!(again, blocks[POOL_CAP - 1]);
        give_back(again);
    }

    #[test]
    fn views_use_pooled_blocks_and_larger_parts_their_own_and_both_release_the_export() {
        use crate::view::{AnyNdim, Ndim, PyView, ReadOnly, Span};
        use pyo3::prelude::*;
        use pyo3::types::PyAnyMethods;

        // Every view's parts fit a block (the largest span: `AnyNdim`'s inline tables).
        const {
            assert!(Held::<Span<f64, AnyNdim, ReadOnly>>::POOLED);
            assert!(Held::<Span<u8, Ndim<6>, ReadOnly>>::POOLED);
            assert!(!Held::<[u64; 64]>::POOLED);
        }
        Python::attach(|py| {
            let pooled = || POOL.with(|p| p.len.get());
            let ba = py.eval(c"bytearray(b'abc')", None, None).unwrap();
            drop(PyView::<u8>::new(&ba).unwrap());
            let listed = pooled();
            assert!(listed >= 1);
            let v = PyView::<u8>::new(&ba).unwrap(); // takes the listed block
            assert_eq!(pooled(), listed - 1);
            assert_eq!(v.to_vec(), b"abc");
            drop(v);
            assert_eq!(pooled(), listed);
            // Released: a bytearray refuses to resize while exported.
            ba.call_method1("extend", (b"d",)).unwrap();

            let (export, ()) = Export::acquire(&ba, 0, |_| ()).unwrap();
            let big = Held::new(Parts {
                export,
                span: [7u64; 64],
            });
            assert_eq!(pooled(), listed);
            assert!(ba.call_method1("extend", (b"e",)).is_err()); // exported
            assert_eq!(big.span()[63], 7);
            drop(big);
            assert_eq!(pooled(), listed);
            ba.call_method1("extend", (b"e",)).unwrap();
        });
    }
}
