//! Rust-level concurrency tests of the shared storages, with no Python and no GIL: what a
//! free-threaded interpreter would do to `SharedVec`, `SharedArray` and `SharedAnyVec` (exports
//! taken and released on several threads at once, consumers writing through exported memory,
//! Rust reading at the same time).
//!
//! They pass under a plain `cargo test` (the asserts check counts and contents); their real
//! job is to run under ThreadSanitizer, which sees races that never show up as wrong values:
//!
//! ```sh
//! .ci/sanitizers.sh tsan      # or: make tsan
//! ```
//!
//! which runs each test in its own process, so that a report is attributed to one test.
//!
//! A "consumer" here is what a view does on the other side of the protocol: it has the
//! export's pointer and one count of the block (a `Hold`), and reads or writes the elements with
//! relaxed atomic accesses (as `buffer_runtime::view` does). A `Hold`
//! is handed to another thread through [`SendHold`] because a free-threaded interpreter may
//! release a view on another thread than the one that exported it.
//!
//! The regression tests of issue 12's findings 4 and 5 are here (TSan reported both races before
//! the fix). Two tests race a consumer's writes with the storage's reads and `set` with a
//! consumer's reads: both sides copy elements byte-wise atomically, so TSan must stay quiet
//! (it reported them while the storage used volatile copies).

use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, MutexGuard};
use std::thread;

use buffer_runtime::{Element, ElementKind, SharedAnyVec, SharedArray, SharedVec, Storage};

/// Iterations per thread: small, so that a TSan build (5-15x slower) stays within seconds.
const ROUNDS: usize = 2_000;
const THREADS: usize = 4;

/// A `#[repr(C)]` record with 7 padding bytes after `tag` (finding 4).
#[derive(Clone, Copy, Debug, PartialEq, Element)]
#[repr(C)]
struct Padded {
    tag: u8,
    value: u64,
}

const PADDING: std::ops::Range<usize> = 1..8;

/// What an export owns, moved to the thread that releases it. The count inside is an `Arc`
/// count, which any thread may drop; only the raw pointers inside make it `!Send`.
struct SendHold<H>(#[allow(dead_code)] H);
// SAFETY: the holds sent here come from shared storage: a `Hold::arc`, whose drop decrements an
// atomic count on any thread, or a Python export, dropped only under `attached()`.
unsafe impl<H> Send for SendHold<H> {}

/// Stands for the GIL: a Python export (`Storage::direct`, `Storage::export_hold`) and its
/// release run attached to the interpreter, which with the GIL means one thread at a time, each
/// hand-over a lock's release and acquire. (On the free-threaded build these calls take atomic
/// counts and need no lock; holding one there changes nothing.)
static GIL: Mutex<()> = Mutex::new(());

fn attached() -> MutexGuard<'static, ()> {
    GIL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The export's data pointer, for a consumer on another thread.
#[derive(Clone, Copy)]
struct Ptr(*mut u8);
// SAFETY: only used while a hold keeps the block alive; every access through it is atomic, so
// the pointer may be used from any thread.
unsafe impl Send for Ptr {}
// SAFETY: as for `Send`: `&Ptr` only copies the pointer, and every access through it is atomic.
unsafe impl Sync for Ptr {}

impl Ptr {
    /// A consumer's read of the `u64` at element `i` (8-byte aligned).
    fn load_u64(self, i: usize) -> u64 {
        // SAFETY: the element is inside a block kept alive by a hold; `u64` elements are
        // 8-aligned, and every access to them through exports is atomic.
        unsafe { self.word(i) }.load(Ordering::Relaxed)
    }
    fn store_u64(self, i: usize, v: u64) {
        // SAFETY: as in `load_u64`.
        unsafe { self.word(i) }.store(v, Ordering::Relaxed)
    }
    fn load_byte(self, offset: usize) -> u8 {
        let p = self.0.wrapping_add(offset).cast::<AtomicU8>();
        // SAFETY: byte `offset` is inside a block kept alive by a hold; every access to it
        // through exports is atomic, and `AtomicU8` has the layout of `u8`.
        unsafe { &*p }.load(Ordering::Relaxed)
    }

    /// The `u64` at element `i`, as an atomic.
    ///
    /// # Safety
    /// Element `i` is inside a block kept alive by a hold, 8-aligned, and only ever accessed
    /// atomically while the reference lives.
    unsafe fn word<'a>(self, i: usize) -> &'a AtomicU64 {
        let p = self.0.cast::<AtomicU64>().wrapping_add(i);
        // SAFETY: in bounds, alive and aligned (contract); `AtomicU64` has the layout of `u64`.
        unsafe { &*p }
    }
}

fn ptr_of<S: Storage + ?Sized>(s: &S) -> Ptr {
    Ptr(s.raw_parts().ptr)
}

#[test]
fn readers_share_a_shared_vec() {
    let v: SharedVec<u64> = (0..64).collect();
    let seen = AtomicUsize::new(0);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (v, seen) = (&v, &seen);
            s.spawn(move || {
                for i in 0..ROUNDS {
                    let k = (i + t) % 64;
                    assert_eq!(v.get(k), Some(k as u64));
                    if i % 64 == 0 {
                        assert_eq!(v.iter().sum::<u64>(), 63 * 64 / 2);
                        assert_eq!(v.to_vec().len(), 64);
                        assert_eq!(v.clone().to_vec(), v.to_vec()); // deep copy, dropped here
                    }
                    let hold = v.keep_alive();
                    assert!(v.exports() >= 1);
                    let parts = v.raw_parts();
                    assert_eq!(parts.count, 64);
                    assert_eq!(Ptr(parts.ptr).load_u64(k), k as u64);
                    drop(hold);
                    seen.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(seen.into_inner(), THREADS * ROUNDS);
    assert_eq!(v.exports(), 0);
}

#[test]
fn exports_released_on_other_threads_are_counted_exactly() {
    let mut v = SharedVec::from(vec![0u64; 16]);
    let (tx, rx) = std::sync::mpsc::channel::<SendHold<_>>();
    thread::scope(|s| {
        // One thread releases every hold the exporting threads make, as a free-threaded
        // interpreter may release a view on any thread.
        s.spawn(move || {
            for hold in rx {
                drop(hold);
            }
        });
        for _ in 0..THREADS {
            let (v, tx) = (&v, tx.clone());
            s.spawn(move || {
                for _ in 0..ROUNDS / 4 {
                    tx.send(SendHold(v.keep_alive())).unwrap();
                    assert!(v.exports() <= THREADS * ROUNDS);
                }
            });
        }
        drop(tx);
    });
    assert_eq!(v.exports(), 0);
    v.push(1).unwrap(); // unique again
    assert_eq!(v.len(), 17);
}

/// A consumer writes through an export and releases it on its own thread; Rust then resizes.
/// `Arc::get_mut` (inside every resizing method) acquires the release of the consumer's count,
/// so Rust's plain accesses afterwards are ordered after the consumer's writes.
#[test]
fn consumer_writes_then_release_happen_before_resize() {
    for round in 0..50u64 {
        let mut v = SharedVec::from(vec![0u64; 8]);
        let hold = SendHold(v.keep_alive());
        let ptr = ptr_of(&v);
        let consumer = thread::spawn(move || {
            for i in 0..8 {
                ptr.store_u64(i, round * 100 + i as u64);
            }
            drop(hold);
        });
        // Wait for the release without any other synchronisation with the consumer: the
        // only happens-before edge is the one `Arc::get_mut` gives.
        while v.as_mut_slice().is_err() {
            std::hint::spin_loop();
        }
        let slice = v.as_mut_slice().unwrap();
        let expect: Vec<u64> = (0..8).map(|i| round * 100 + i).collect();
        assert_eq!(slice, &expect[..]);
        slice[0] = 7; // a plain write, after the consumer's
        v.push(9).unwrap();
        consumer.join().unwrap();
    }
}

/// The storage outlives its owner while exported: the owner is dropped on another thread, the
/// consumer keeps reading through its hold, and the last release frees the block.
#[test]
fn storage_dropped_on_another_thread_while_exported() {
    for _ in 0..50 {
        let v: SharedVec<u64> = (0..32).collect();
        let hold = v.keep_alive();
        let ptr = ptr_of(&v);
        let go = Arc::new(Barrier::new(2));
        let owner = {
            let go = Arc::clone(&go);
            thread::spawn(move || {
                go.wait();
                assert_eq!(v.get(5), Some(5));
                drop(v); // one count goes; the hold keeps the block
            })
        };
        go.wait();
        let sum: u64 = (0..32).map(|i| ptr.load_u64(i)).sum();
        assert_eq!(sum, 31 * 32 / 2);
        owner.join().unwrap();
        assert_eq!(ptr.load_u64(31), 31);
        drop(hold); // frees the block
    }
}

/// Python exports outlive their owner: the owner is dropped detached on one thread while the
/// export is released attached on another, in both orders (`shared/py_exports.rs`, P4: the
/// block is queued or its pin given back at once), and then the storage is exported again.
#[test]
fn owner_dropped_detached_while_python_exported() {
    for round in 0..200 {
        let v: SharedVec<u64> = (0..32).collect();
        let (d, n) = {
            let _gil = attached();
            // SAFETY: attached (`GIL`); released attached on the other thread.
            let d = unsafe { v.direct() }.unwrap();
            // SAFETY: as above; released attached right away.
            let n = unsafe { v.export_hold() };
            drop(n);
            (SendHold(d), v.exports())
        };
        assert_eq!(n, 1);
        let ptr = ptr_of(&v);
        let go = Arc::new(Barrier::new(2));
        let consumer = {
            let go = Arc::clone(&go);
            thread::spawn(move || {
                go.wait();
                let sum: u64 = (0..32).map(|i| ptr.load_u64(i)).sum();
                assert_eq!(sum, 31 * 32 / 2);
                if round % 2 == 0 {
                    thread::yield_now();
                }
                let _gil = attached();
                drop(d); // the last release: frees the block if the owner is gone
            })
        };
        go.wait();
        if round % 3 == 0 {
            thread::yield_now();
        }
        drop(v); // detached: no `attached()` here
        consumer.join().unwrap();
        // A later export of another block settles anything queued.
        let w: SharedVec<u64> = (0..4).collect();
        let _gil = attached();
        // SAFETY: attached (`GIL`), and released attached.
        drop(unsafe { w.direct() }.unwrap());
        assert_eq!(w.exports(), 0);
    }
}

/// Exports and releases of a `SharedAnyVec` of several kinds on many threads, with typed
/// reads at the same time.
#[test]
fn shared_any_vec_from_many_threads() {
    let vecs = [
        SharedAnyVec::from(vec![1.5f64; 32]),
        SharedAnyVec::from(vec![7i32; 32]),
        SharedAnyVec::zeros(ElementKind::BeU16, 32),
        SharedAnyVec::zeros(ElementKind::U8, 0),
    ];
    thread::scope(|s| {
        for t in 0..THREADS {
            let vecs = &vecs;
            s.spawn(move || {
                for i in 0..ROUNDS / 2 {
                    let v = &vecs[(i + t) % vecs.len()];
                    let hold = v.keep_alive();
                    assert!(v.exports() >= 1);
                    assert_eq!(v.raw_parts().count, v.len());
                    assert_eq!(v.itemsize(), v.kind().itemsize());
                    assert_eq!(v.format(), v.kind().format());
                    match v.kind() {
                        ElementKind::F64 => {
                            assert_eq!(v.downcast_ref::<f64>().unwrap().get(i % 32), Some(1.5))
                        }
                        ElementKind::I32 => {
                            assert_eq!(v.downcast_ref::<i32>().unwrap().get(i % 32), Some(7))
                        }
                        _ => {}
                    }
                    if i % 128 == 0 {
                        let copy = v.clone();
                        assert_eq!(
                            (copy.kind(), copy.len(), copy.exports()),
                            (v.kind(), v.len(), 0)
                        );
                    }
                    drop(hold);
                }
            });
        }
    });
    assert!(vecs.iter().all(|v| v.exports() == 0));
}

#[test]
fn shared_array_from_many_threads() {
    let a = SharedArray::new([[3u32; 4]; 4]);
    thread::scope(|s| {
        for _ in 0..THREADS {
            let a = &a;
            s.spawn(move || {
                for _ in 0..ROUNDS / 2 {
                    let hold = a.keep_alive();
                    assert_eq!(a.raw_parts().count, 16);
                    assert_eq!(a.get()[3][3], 3);
                    assert!(a.exports() >= 1);
                    drop(hold);
                }
            });
        }
    });
    assert_eq!(a.exports(), 0);
}

/// Two exports of the natural 1-D layout at once (the direct path: the block's own tables,
/// no record), each dropped without being handed to a view.
#[test]
fn direct_exports_from_many_threads_are_counted() {
    let v: SharedVec<u64> = (0..10).collect();
    thread::scope(|s| {
        for _ in 0..THREADS {
            let v = &v;
            s.spawn(move || {
                for _ in 0..ROUNDS / 2 {
                    let _gil = attached();
                    // SAFETY: attached (`GIL`), and released attached.
                    let d = unsafe { v.direct() }.expect("a 1-D SharedVec exports directly");
                    assert!(v.exports() >= 1);
                    drop(d); // ends the export
                }
            });
        }
    });
    assert_eq!(v.exports(), 0);
}

/// After an export, a padded record's padding bytes are zero (no uninitialised byte reaches a
/// consumer), whether the elements came from construction, `set`, `push` or `as_mut_vec`.
#[test]
fn padding_is_zero_when_exported() {
    fn padding_zero(v: &SharedVec<Padded>) -> bool {
        let p = ptr_of(v);
        (0..v.len()).all(|i| PADDING.clone().all(|b| p.load_byte(i * 16 + b) == 0))
    }
    let rec = |i: u8| Padded {
        tag: i,
        value: u64::from(i) * 3,
    };
    let mut v: SharedVec<Padded> = (0..8).map(rec).collect();
    assert!(padding_zero(&v));
    v.set(3, rec(30));
    assert!(padding_zero(&v));
    v.push(rec(40)).unwrap();
    assert!(padding_zero(&v));
    v.as_mut_vec().unwrap()[0] = rec(50); // as_mut_slice is refused for padded elements
    assert!(padding_zero(&v));
    assert_eq!(v.get(0), Some(rec(50)));
    assert_eq!(v.get(8), Some(rec(40)));
}

// ---- Regressions of issue 12, findings 4 and 5 (TSan reported these races before the fix). ----

/// Finding 4: every export used to zero record padding inside `Storage::raw_parts`, a plain
/// write through `&Cells`, while another thread read the same elements with `SharedVec::get`.
/// Padding is now zeroed under exclusive access only; the export path writes nothing.
#[test]
fn export_while_get_reads_padded_records() {
    for round in 0..20u8 {
        let v: SharedVec<Padded> = (0..64)
            .map(|i| Padded {
                tag: i,
                value: u64::from(round),
            })
            .collect();
        let go = Barrier::new(2);
        thread::scope(|s| {
            s.spawn(|| {
                go.wait();
                for i in 0..64 {
                    assert_eq!(v.get(i).map(|p| p.value), Some(u64::from(round)));
                }
            });
            s.spawn(|| {
                go.wait();
                let hold = v.keep_alive();
                let _ = v.raw_parts(); // what every export calls
                drop(hold);
            });
        });
    }
}

/// Finding 4, second half: two exports at once. With a "dirty" flag cleared by the first
/// export, the second one could hand its consumer the memory while the first was still
/// zeroing the padding. Every export must see zero padding, and not race with anything.
#[test]
fn concurrent_exports_see_zeroed_padding() {
    let nonzero = AtomicUsize::new(0);
    for _ in 0..20 {
        let mut v: SharedVec<Padded> = (0..256)
            .map(|i| Padded {
                tag: i as u8,
                value: 1,
            })
            .collect();
        v.set(7, Padded { tag: 7, value: 7 }); // a write under `&mut`, before the exports
        let go = Barrier::new(2);
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    go.wait();
                    let hold = v.keep_alive();
                    let p = ptr_of(&v); // each export calls raw_parts
                    for i in 0..v.len() {
                        for b in PADDING {
                            if p.load_byte(i * 16 + b) != 0 {
                                nonzero.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    drop(hold);
                });
            }
        });
    }
    assert_eq!(
        nonzero.into_inner(),
        0,
        "padding bytes seen non-zero by a concurrent export"
    );
}

/// Finding 5: each direct export stored the length into the block's shared `shape[0]` while a
/// consumer of an earlier export read its `view.shape[0]` (a plain read, as every consumer
/// does). The table must not be written while shared.
#[test]
fn direct_export_leaves_a_live_views_shape_alone() {
    let v: SharedVec<u64> = (0..10).collect();
    let go = Barrier::new(2);
    thread::scope(|s| {
        s.spawn(|| {
            let d = {
                let _gil = attached();
                // SAFETY: attached (`GIL`); released attached below.
                unsafe { v.direct() }.unwrap()
            };
            let (shape, strides) = d.tables();
            go.wait();
            for _ in 0..ROUNDS {
                // SAFETY: the tables live while `d` holds its count, and nobody writes them.
                let len = unsafe { shape.read() };
                // SAFETY: as for `shape`.
                let stride = unsafe { strides.read() };
                assert_eq!((len, stride), (10, 8));
            }
            let _gil = attached();
            drop(d);
        });
        s.spawn(|| {
            go.wait();
            for _ in 0..ROUNDS / 4 {
                let _gil = attached();
                // SAFETY: attached (`GIL`), and released attached.
                drop(unsafe { v.direct() }.unwrap());
            }
        });
    });
}

// ---- Races docs/export-safety.md accepts (volatile element copies): TSan reports them. ----

/// Rounds of each known-race test.
const RACE_ROUNDS: usize = 16;

/// Until both sides have done `ROUNDS / 4` accesses, each keeps going: so the two loops
/// overlap in time whatever the scheduler does. Only relaxed atomics: no happens-before edge
/// between the sides that would hide the race from TSan.
struct Overlap {
    a: AtomicUsize,
    b: AtomicUsize,
}

impl Overlap {
    fn new() -> Self {
        Overlap {
            a: AtomicUsize::new(0),
            b: AtomicUsize::new(0),
        }
    }
    /// One step of side `a` (or `b`); `false` once both sides have done enough.
    fn step(&self, a_side: bool) -> bool {
        let (mine, theirs) = if a_side {
            (&self.a, &self.b)
        } else {
            (&self.b, &self.a)
        };
        let n = mine.fetch_add(1, Ordering::Relaxed);
        n < ROUNDS / 4 || theirs.load(Ordering::Relaxed) < ROUNDS / 4
    }
}

/// A consumer writes through its export (relaxed atomic stores, exactly what this crate's own
/// views do) while Rust reads with `SharedVec::get` / `iter`, which use plain volatile reads:
/// a data race in Rust's memory model (R2), whatever values the reads return. Byte-wise atomic
/// loads in the storage (as the views use) would make both sides relaxed atomic accesses,
/// race-free.
#[test]
fn consumer_writes_while_rust_reads() {
    // Several rounds: TSan sees a given race in only some interleavings of one round.
    for _ in 0..RACE_ROUNDS {
        consumer_writes_while_rust_reads_once();
    }
}

fn consumer_writes_while_rust_reads_once() {
    let v = SharedVec::from(vec![0u64; 16]);
    let overlap = Overlap::new();
    thread::scope(|s| {
        let hold = SendHold(v.keep_alive());
        let ptr = ptr_of(&v);
        let overlap = &overlap;
        s.spawn(move || {
            let mut n = 0u64;
            while overlap.step(true) {
                ptr.store_u64((n % 16) as usize, n);
                n += 1;
            }
            drop(hold);
        });
        while overlap.step(false) {
            let _ = v.get(3);
            let _ = v.iter().count();
        }
    });
}

/// The other direction: `SharedVec::set` (a plain volatile write, allowed while exported)
/// while a consumer reads through its export with atomic loads.
#[test]
fn rust_set_while_consumer_reads() {
    for _ in 0..RACE_ROUNDS {
        rust_set_while_consumer_reads_once();
    }
}

fn rust_set_while_consumer_reads_once() {
    let mut v = SharedVec::from(vec![0u64; 16]);
    let hold = SendHold(v.keep_alive());
    let ptr = ptr_of(&v);
    let overlap = Overlap::new();
    thread::scope(|s| {
        let overlap = &overlap;
        s.spawn(move || {
            while overlap.step(true) {
                let _ = ptr.load_u64(5);
            }
            drop(hold);
        });
        let mut i = 0;
        while overlap.step(false) {
            v.set(5, i);
            i += 1;
        }
    });
}
