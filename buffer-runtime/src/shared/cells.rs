//! The unsafe core of shared storage: element memory that views may write while Rust holds the
//! storage. [`SharedVec`](crate::SharedVec) and [`SharedArray`](crate::SharedArray) (in
//! `shared.rs`) and [`SharedBlock`](crate::SharedBlock) (in `foreign.rs`) are safe code over
//! what this file exports; every `unsafe` block of shared storage is here, argued against the
//! rules below.
//!
//! # The model
//!
//! Two blocks live behind an `Arc`: [`Cells`] (a `SharedVec`: a [`Direct`] head, then a
//! `Vec<UnsafeCell<S>>`) and [`ArrayCell`] (a `SharedArray`: one `UnsafeCell<S>`). The storage
//! holds one strong count, the *owner handle*; every live export keeps the block alive (a
//! [`Hold`](crate::hold::Hold) or a direct export), Python exports through `py_exports.rs`
//! (one shared count under the GIL, rules P1–P4), other holds with a count each. The rules each
//! SAFETY comment cites:
//!
//! - **R1, handles.** An export's count only keeps the block alive: no Rust code reads or
//!   writes elements through it. Rust reaches the elements only through the owner handle, so
//!   `&mut` to the owner handle is exclusive *Rust* access to the elements, even while
//!   exported; `&` to it allows Rust reads only. Consumers (views, other threads) may write at
//!   any time through the exported pointer: that is the race `bytearray` and numpy have too.
//! - **R2, structure.** The `Vec` header (pointer, length, capacity) and the head's 1-D tables
//!   change only through `&mut Cells`, which only `Arc::get_mut` gives, and only while no
//!   export is alive ([`Unique`]). The head's cached N-d tables are written through `&Cells`,
//!   but only by attached code with the GIL while no Python export is alive
//!   (`Direct::nd_tables`). So nothing a view was given (pointer, shape, strides) changes
//!   under it, and the allocation never moves or shrinks while exported.
//! - **R3, accesses.** Rust never forms a `&`/`&mut` to an element a view may write. It reads
//!   and writes each element once, by byte-wise atomic copy ([`read_once`] / [`write_once`],
//!   over `view::raw`'s `load_bytes` / `store_bytes`) between the block and a local value: a
//!   racing consumer makes a read see old, new or mixed bytes, never undefined behaviour, and
//!   the compiler can neither elide nor repeat the access. [`Shaped::load`] turns any bytes
//!   into a valid value.
//! - **R4, padding.** Every padding byte of every element in the block is zero from the moment
//!   the element is in the block: [`Cells::new`] and [`Unique`]'s drop zero them after `&mut`
//!   access (which may leave them undefined), [`write_once`] zeroes them in the local copy
//!   before the copy. So every byte a read or a view copies is initialised.
//!
//! See `docs/export-safety.md` for the whole argument from the protocol's side.

use std::cell::UnsafeCell;
use std::mem::{size_of, ManuallyDrop, MaybeUninit};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::py_exports::{self, Pinned};
use crate::direct::{Direct, DirectExport};
use crate::element::Shaped;
use crate::view::raw::{load_bytes, store_bytes};

/// Reads the value at `p` once, as a whole, without assuming the bytes are a valid `S` (R3).
///
/// # Safety
/// `p` is valid for reads of `size_of::<S>()` initialised bytes and aligned for `S`; Rust holds
/// no `&mut` to those bytes (consumers may write them meanwhile).
#[inline]
pub(crate) unsafe fn read_once<S: Shaped>(p: *const S) -> S {
    let mut raw = MaybeUninit::<S>::uninit();
    // SAFETY: `p` is valid for reads of `size_of::<S>()` bytes (contract) and `raw` for writes
    // of as many; a local does not overlap the block. The copy is byte-wise atomic, so it races
    // with no other access, Rust's or a view's (R3).
    unsafe { load_bytes(p.cast(), raw.as_mut_ptr().cast(), size_of::<S>()) };
    // SAFETY: `raw` is a local, so aligned for `S`, and holds `size_of::<S>()` initialised bytes
    // (the contract; R4 for padding); `load` makes a valid `S` of any bytes.
    unsafe { S::load(raw.as_ptr()) }
}

/// Writes `value` at `p` once (R3), its padding zeroed first (R4).
///
/// # Safety
/// `p` is valid for writes of `size_of::<S>()` bytes and aligned for `S`, and no Rust
/// reference to those bytes is alive.
#[inline]
pub(crate) unsafe fn write_once<S: Shaped>(p: *mut S, value: S) {
    let mut raw = MaybeUninit::new(value);
    // SAFETY: `raw` is a local, initialised, aligned `S`; only its padding bytes are written.
    unsafe { S::clear_padding(raw.as_mut_ptr()) };
    // SAFETY: `raw` holds `size_of::<S>()` initialised bytes (fields, and padding zeroed just
    // above) and does not overlap `p`, which is valid for writes (contract). The copy goes from
    // memory, never by value (which may drop padding bytes in registers), byte-wise atomically,
    // so the element's padding is never undefined, not even for an instant; `S: Copy`, so
    // nothing is dropped.
    unsafe { store_bytes(raw.as_ptr().cast(), p.cast(), size_of::<S>()) };
}

/// A `SharedVec`'s block: elements in `UnsafeCell`s, which views may write while Rust holds
/// `&Cells`. The head comes first, so a pointer to it is a pointer to the block (`Direct`).
#[repr(C)]
pub(crate) struct Cells<S> {
    direct: Direct,
    items: Vec<UnsafeCell<S>>,
}

// SAFETY: through `&Cells` Rust reads elements only, by byte-wise atomic copy (R3), and reads
// the `Vec` header and the head's 1-D tables, which change only through `&mut Cells` (R2: never
// while shared, and never on the export path); the head's N-d tables are written through
// `&Cells` only by attached code, one thread at a time with the GIL (P1 of `py_exports.rs`),
// and not at all on the free-threaded build (`Direct::nd_tables`). Rust writes elements only
// through `&mut` to the owner handle (R1), so two Rust threads never race on an element.
// Writes made by consumers race with Rust reads exactly as with `bytearray` or numpy: a racing
// read sees old, new or mixed bytes, which `Shaped::load` turns into a valid value; no length,
// pointer or capacity depends on them. `S: Send` because the last count, hence the drop of the elements, may be
// given up on any thread.
unsafe impl<S: Send + Sync> Sync for Cells<S> {}

// SAFETY: the head is the first field of the repr(C) block, made by `Direct::new::<Self>`.
unsafe impl<S: Send + Sync> Pinned for Cells<S> {
    fn head(&self) -> &Direct {
        &self.direct
    }
}

impl<S: Shaped> Cells<S> {
    /// A block holding `values`, its padding zeroed (R4).
    pub(crate) fn new(values: Vec<S>) -> Arc<Cells<S>> {
        // SAFETY: the head goes into the `Cells` as its first field, and that behind an `Arc`.
        let direct = unsafe { Direct::new::<Cells<S>>(size_of::<S>()) };
        let mut cells = Cells {
            direct,
            items: cells_from_vec(values),
        };
        cells.settle(0);
        Arc::new(cells)
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Elements the allocation can hold.
    pub(crate) fn capacity(&self) -> usize {
        self.items.capacity()
    }

    /// The first element (dangling but aligned when there is none). Consumers may write
    /// through it while an export holds the block (R1).
    pub(crate) fn as_ptr(&self) -> *mut S {
        // `UnsafeCell<S>` is `repr(transparent)`: the cell pointer is the element pointer.
        self.items.as_ptr().cast_mut().cast()
    }

    /// The element at `index`, read by copy (sees every write made through views).
    pub(crate) fn get(&self, index: usize) -> Option<S> {
        let cell = self.items.get(index)?;
        // SAFETY: the cell is an initialised, aligned element of the block (R4: its padding is
        // zero), and no `&mut` to it exists: `&self` rules out `&mut Cells`, and Rust never
        // forms `&mut` to an element otherwise (R3).
        Some(unsafe { read_once(cell.get()) })
    }

    /// Copies of the elements, each read when the iterator reaches it.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = S> + '_ {
        self.items.iter().map(|cell| {
            // SAFETY: as in `get`.
            unsafe { read_once(cell.get()) }
        })
    }

    /// Overwrites the element at `index`, returning the old value (`None` out of bounds).
    /// `&mut` to the owner handle: allowed while exported, like a write through a view.
    pub(crate) fn set(this: &mut Arc<Cells<S>>, index: usize, value: S) -> Option<S> {
        let p = this.items.get(index)?.get();
        // SAFETY: `p` is an initialised, aligned element of the block; `&mut` to the owner
        // handle excludes every other Rust access to it (R1), so no Rust reference to it is
        // alive; views may write it meanwhile, which the cell permits (R3).
        let old = unsafe { read_once(p) };
        // SAFETY: as for the read: valid, aligned, and no Rust reference to it is alive.
        unsafe { write_once(p, value) };
        Some(old)
    }

    /// Exclusive access to the elements as a `Vec`, when no export is alive (R2); the block is
    /// settled when the guard drops.
    pub(crate) fn unique(this: &mut Arc<Cells<S>>) -> Option<Unique<'_, S>> {
        // `unpin` reads the Python exports' count with Acquire (P3) and `get_mut` acquires the
        // other holds' releases, so writes made through views released on other threads happen
        // before whatever the caller does next.
        py_exports::unpin(this);
        Arc::get_mut(this).map(|cells| {
            let from = cells.items.len();
            // The head says 0 elements until the guard settles the block. The one guard safe
            // code can leak (`mem::forget` of a `VecMut`) has taken the elements out, so a
            // leaked guard leaves an empty block whose head agrees, never a stale length (R2).
            cells.direct.set_len(0);
            Unique { cells, from }
        })
    }

    /// The count the head's 1-D tables give a direct export: [`len`](Self::len) once the block
    /// is settled, 0 while a [`Unique`] guard is out (or was leaked).
    #[cfg(test)]
    pub(crate) fn exported_len(&self) -> usize {
        self.direct.len()
    }

    /// The elements as a mutable slice, when no export is alive (R2). No export can start
    /// while the slice lives: an export needs `&` to the owner handle.
    ///
    /// Not for elements with padding (a compile error): a typed write may leave padding bytes
    /// undefined, and no guard would zero them again (R4).
    pub(crate) fn as_mut_slice(this: &mut Arc<Cells<S>>) -> Option<&mut [S]> {
        const {
            assert!(
                !S::HAS_PADDING,
                "SharedVec::as_mut_slice is not available for elements with padding: use as_mut_vec"
            )
        };
        py_exports::unpin(this);
        let items = &mut Arc::get_mut(this)?.items;
        let (ptr, len) = (items.as_mut_ptr().cast::<S>(), items.len());
        // SAFETY: `UnsafeCell<S>` has the layout of `S` (repr(transparent)), so `ptr` points to
        // `len` initialised `S`; the access is unique for the slice's lifetime (no export, and
        // `&mut` to the only count: R1, R2). A slice write changes no length and, without
        // padding, leaves no undefined byte, so the block needs no settling afterwards (R4).
        Some(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
    }

    /// A direct export of a 1-D block: the head's tables and one export of the block.
    ///
    /// # Safety
    /// Attached to the interpreter (P1); the export is ended attached.
    pub(crate) unsafe fn direct(this: &Arc<Cells<S>>) -> DirectExport {
        // SAFETY: attached (contract), with `&` to the owner handle.
        let block = unsafe { py_exports::start(this) };
        // SAFETY: `direct` is the first field of the repr(C) block (same address), its length is
        // current (`settle` ran after every `&mut` access, R2), and the export just counted is
        // given up to the direct export, whose release ends it (`Direct::end`, with the
        // `give_back` set by `Cells::new`).
        unsafe { Direct::export(block.cast()) }
    }

    /// Restores the invariants exports rely on after `&mut` access: the head's shape table
    /// holds the length (R2), and every padding byte from element `from` on is zero (R4).
    /// Runs with exclusive access, so no export and no other thread can observe the writes
    /// (the export path writes none of this: only the head's N-d tables, `Direct::nd_tables`).
    fn settle(&mut self, from: usize) {
        self.direct.set_len(self.items.len());
        if S::HAS_PADDING {
            for cell in self.items.iter_mut().skip(from) {
                // SAFETY: exclusive access to an initialised, aligned element; only padding
                // bytes, which no field reads, are written.
                unsafe { S::clear_padding(cell.get_mut()) };
            }
        }
    }
}

/// Exclusive access to a `SharedVec`'s elements (no export alive, `&mut` to the owner handle,
/// R2). Dropping it settles the block ([`Cells::settle`]), so safe code may do anything with
/// the `Vec` meanwhile.
pub(crate) struct Unique<'a, S: Shaped> {
    cells: &'a mut Cells<S>,
    /// Elements before this one were not written through the guard: settling may skip them.
    /// Lowered by every write (`DerefMut` lowers it to 0).
    from: usize,
}

impl<S: Shaped> Unique<'_, S> {
    /// Appends an element (only the new one needs settling).
    pub(crate) fn push(&mut self, value: S) {
        self.from = self.from.min(self.cells.items.len());
        self.cells.items.push(UnsafeCell::new(value));
    }

    /// Appends every element of `iter` (only the new ones need settling).
    pub(crate) fn extend(&mut self, iter: impl IntoIterator<Item = S>) {
        self.from = self.from.min(self.cells.items.len());
        self.cells
            .items
            .extend(iter.into_iter().map(UnsafeCell::new));
    }

    /// Takes the elements out as a plain `Vec`, leaving the block empty.
    pub(crate) fn take_vec(&mut self) -> Vec<S> {
        self.replace_vec(Vec::new())
    }

    /// Replaces the elements with `values`, returning the old ones.
    pub(crate) fn replace_vec(&mut self, values: Vec<S>) -> Vec<S> {
        self.from = 0;
        vec_from_cells(std::mem::replace(
            &mut self.cells.items,
            cells_from_vec(values),
        ))
    }
}

impl<S: Shaped> Deref for Unique<'_, S> {
    type Target = Vec<UnsafeCell<S>>;
    fn deref(&self) -> &Self::Target {
        &self.cells.items
    }
}

impl<S: Shaped> DerefMut for Unique<'_, S> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.from = 0; // any element may be written
        &mut self.cells.items
    }
}

impl<S: Shaped> Drop for Unique<'_, S> {
    fn drop(&mut self) {
        self.cells.settle(self.from);
    }
}

fn cells_from_vec<S>(v: Vec<S>) -> Vec<UnsafeCell<S>> {
    let mut v = ManuallyDrop::new(v);
    let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: `UnsafeCell<S>` has the size and alignment of `S` (repr(transparent)), so the
    // allocation's layout is the same and its `len` elements are valid cells; `v` is not
    // dropped, so the allocation has one owner.
    unsafe { Vec::from_raw_parts(ptr.cast::<UnsafeCell<S>>(), len, cap) }
}

fn vec_from_cells<S>(v: Vec<UnsafeCell<S>>) -> Vec<S> {
    let mut v = ManuallyDrop::new(v);
    let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: as in `cells_from_vec`, the other way round (`UnsafeCell::into_inner` per element,
    // without moving them).
    unsafe { Vec::from_raw_parts(ptr.cast::<S>(), len, cap) }
}

/// A `SharedArray`'s block: the head (the count of its Python exports, their tables), then one
/// value in an `UnsafeCell`, which views may write.
#[repr(C)]
pub(crate) struct ArrayCell<S> {
    head: Direct,
    value: UnsafeCell<S>,
}

// SAFETY: the argument for `Cells`, for one element: through `&ArrayCell` Rust only reads the
// value by byte-wise atomic copy (R3); it writes only through `&mut` to the owner handle (R1),
// so Rust threads never race; consumers' writes race with reads as with `bytearray`, and any
// bytes load as a valid value. There is no structure to change (R2 holds trivially) but the
// head's N-d tables, written as `Cells`'s are (see there).
unsafe impl<S: Send + Sync> Sync for ArrayCell<S> {}

// SAFETY: the head is the first field of the repr(C) block, made by `Direct::new::<Self>`.
unsafe impl<S: Send + Sync> Pinned for ArrayCell<S> {
    fn head(&self) -> &Direct {
        &self.head
    }
}

impl<S: Shaped> ArrayCell<S> {
    /// A block holding `value`, its padding zeroed (R4).
    pub(crate) fn new(value: S) -> Arc<ArrayCell<S>> {
        let cell = Arc::new(ArrayCell {
            // SAFETY: the head goes into the `ArrayCell` as its first field, behind an `Arc`.
            // (Its 1-D tables are unused: a value's layout comes from its type.)
            head: unsafe { Direct::new::<ArrayCell<S>>(0) },
            value: UnsafeCell::new(value),
        });
        // SAFETY: the value was just written, is aligned, and nothing else refers to it yet;
        // only padding bytes are written.
        unsafe { S::clear_padding(cell.value.get()) };
        cell
    }

    /// The value (dangling never: the `Arc`'s allocation). Consumers may write through it while
    /// an export holds the block (R1).
    pub(crate) fn as_ptr(&self) -> *mut S {
        self.value.get()
    }

    /// The value, read by copy (sees every write made through views).
    pub(crate) fn get(&self) -> S {
        // SAFETY: initialised (padding zeroed, R4) and aligned; Rust never forms `&mut` to it
        // (R3).
        unsafe { read_once(self.value.get()) }
    }

    /// Overwrites the value; `&mut` to the owner handle, allowed while exported.
    pub(crate) fn set(this: &mut Arc<ArrayCell<S>>, value: S) {
        // SAFETY: valid and aligned; `&mut` to the owner handle excludes other Rust access
        // (R1), so no Rust reference to the value is alive; views may write it meanwhile, which
        // the cell permits (R3).
        unsafe { write_once(this.value.get(), value) }
    }
}
