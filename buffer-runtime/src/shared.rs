//! Shared storage: [`SharedVec`] and [`SharedArray`], whose elements views may write.
//!
//! The elements live in a heap block behind an `Arc`, which every live export keeps alive: with
//! one strong count each on the free-threaded build; with the GIL, Python exports are counted
//! under it and share one strong count, the pin (`shared/py_exports.rs`). Hence:
//! - the export count is exact whenever the owner is borrowed mutably;
//! - operations that move or resize the block need `Arc::get_mut`, which fails while any export
//!   is alive (`BufferError`, like `bytearray`), leaving the contents untouched;
//! - dropping or replacing the storage while exported leaves the block to its exports: it is
//!   freed by the last export's release;
//! - Rust reads and writes single elements by byte-wise atomic copy, each exactly once, and
//!   never forms a `&`/`&mut` to an element that a view may write, so a write through a view
//!   (even during a Python callback made by a Rust method) is seen by the next read, and a value
//!   read is never silently re-read.
//!
//! This file is safe code: every `unsafe` block behind it is in `shared/cells.rs` (the blocks,
//! `read_once` / `write_once`, and the rules R1–R4 their SAFETY comments cite) and
//! `shared/py_exports.rs` (the export count, rules P1–P4), which can be reviewed alone. See `docs/export-safety.md` for the whole argument.

mod cells;
pub(crate) mod py_exports;

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use pyo3::exceptions::PyBufferError;
use pyo3::PyErr;

pub(crate) use cells::{read_once, write_once};
use cells::{ArrayCell, Cells, Unique};
pub(crate) use py_exports::{Pinned, PyExports};

use crate::direct::{Checked, DirectExport, NdHit, NdLayout};
use crate::element::Shaped;
use crate::hold::Hold;
use crate::storage::{shaped_items, NaturalShape, RawParts, Storage, WritableStorage};

/// An operation that would move or resize exported memory was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportedError {
    /// Exports alive when the operation was refused.
    pub exports: usize,
}

impl fmt::Display for ExportedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.exports == 1 { "" } else { "s" };
        write!(
            f,
            "Existing exports of data: object cannot be re-sized ({} live export{s})",
            self.exports
        )
    }
}

impl std::error::Error for ExportedError {}

impl From<ExportedError> for PyErr {
    fn from(e: ExportedError) -> PyErr {
        PyBufferError::new_err(e.to_string())
    }
}

/// A growing operation (`try_reserve`, `try_resize`) that could not be done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrowError {
    /// An export is alive: the block may not move.
    Exported(ExportedError),
    /// The allocator refused, or the size overflows `isize::MAX` bytes.
    Alloc {
        /// Elements the block would have had to hold.
        elements: usize,
    },
}

impl fmt::Display for GrowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrowError::Exported(e) => e.fmt(f),
            GrowError::Alloc { elements } => {
                write!(f, "cannot allocate room for {elements} elements")
            }
        }
    }
}

impl std::error::Error for GrowError {}

impl From<ExportedError> for GrowError {
    fn from(e: ExportedError) -> GrowError {
        GrowError::Exported(e)
    }
}

/// `BufferError` while exported, `MemoryError` when the memory cannot be had (as `bytearray`).
impl From<GrowError> for PyErr {
    fn from(e: GrowError) -> PyErr {
        match e {
            GrowError::Exported(e) => e.into(),
            GrowError::Alloc { .. } => pyo3::exceptions::PyMemoryError::new_err(e.to_string()),
        }
    }
}

/// A growable, writable buffer storage: a `Vec<S>` that views may write and that refuses to
/// move or resize while exported.
///
/// Reads (`get`, `iter`, `to_vec`) take `&self` and see every write made through views;
/// in-place writes (`set`) take `&mut self` and are allowed while exported, like writes through
/// a view. Every method that may move or resize the memory (`push`, `extend`, `insert`,
/// `remove`, `pop`, `resize`, `truncate`, `clear`, `reserve`, `shrink_to_fit`, `replace`,
/// `swap`, `take`, `into_vec`, `as_mut_vec`, `as_mut_slice`) returns [`ExportedError`] while an
/// export is alive, whatever its arguments, and then leaves the contents unchanged.
///
/// ```
/// use buffer_runtime::SharedVec;
/// let mut v = SharedVec::from(vec![1i32, 2, 3]);
/// v.push(4).unwrap();           // Err(ExportedError) while a view is alive
/// v.set(0, 10);
/// v.as_mut_vec().unwrap().retain(|&x| x != 2);
/// assert_eq!(v.to_vec(), [10, 3, 4]);
/// assert_eq!(v.exports(), 0);
/// ```
pub struct SharedVec<S: Shaped> {
    cells: Arc<Cells<S>>,
}

impl<S: Shaped> SharedVec<S> {
    /// An empty vector.
    pub fn new() -> Self {
        Self::from(Vec::new())
    }

    /// An empty vector with room for `capacity` elements.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::from(Vec::with_capacity(capacity))
    }

    /// Number of elements (outer length).
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements the block can hold without moving.
    pub fn capacity(&self) -> usize {
        self.cells.capacity()
    }

    /// Live exports of this storage.
    pub fn exports(&self) -> usize {
        py_exports::exports(&self.cells)
    }

    /// The error a refused operation reports now.
    pub fn exported_error(&self) -> ExportedError {
        ExportedError {
            exports: self.exports(),
        }
    }

    /// The element at `index`, read by copy (sees every write made through views).
    pub fn get(&self, index: usize) -> Option<S> {
        self.cells.get(index)
    }

    /// Overwrites the element at `index` in place; allowed while exported, like a write through
    /// a view. Returns the old value, or `None` if `index` is out of bounds.
    pub fn set(&mut self, index: usize, value: S) -> Option<S> {
        Cells::set(&mut self.cells, index, value)
    }

    /// Copies the elements out.
    pub fn to_vec(&self) -> Vec<S> {
        self.iter().collect()
    }

    /// Iterates over copies of the elements, each read when the iterator reaches it.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = S> + '_ {
        self.cells.iter()
    }

    /// The elements as a mutable slice, when no export is alive. No export can start while the
    /// slice lives: an export needs `&self`.
    ///
    /// Not for elements with padding (a compile error): a typed write may leave padding bytes
    /// undefined, which a later export would show; use [`as_mut_vec`](Self::as_mut_vec), whose
    /// guard zeroes them when dropped.
    pub fn as_mut_slice(&mut self) -> Result<&mut [S], ExportedError> {
        let exports = self.exports();
        Cells::as_mut_slice(&mut self.cells).ok_or(ExportedError { exports })
    }

    /// The whole `Vec<S>`, for any `Vec` operation, when no export is alive. No export can
    /// start while the guard lives: an export needs `&self`.
    ///
    /// ```
    /// use buffer_runtime::SharedVec;
    /// let mut v = SharedVec::from(vec![3u8, 1, 2]);
    /// v.as_mut_vec().unwrap().sort();
    /// assert_eq!(v.to_vec(), [1, 2, 3]);
    /// ```
    pub fn as_mut_vec(&mut self) -> Result<VecMut<'_, S>, ExportedError> {
        let mut slot = self.unique()?;
        let vec = slot.take_vec();
        Ok(VecMut { slot, vec })
    }

    /// Appends an element; refused while exported.
    pub fn push(&mut self, value: S) -> Result<(), ExportedError> {
        self.unique()?.push(value);
        Ok(())
    }

    /// Appends every element of `iter`; refused (with nothing appended, `iter` not consumed)
    /// while exported.
    pub fn extend<I: IntoIterator<Item = S>>(&mut self, iter: I) -> Result<(), ExportedError> {
        self.unique()?.extend(iter);
        Ok(())
    }

    /// Removes and returns the last element (`Ok(None)` when empty); refused while exported.
    pub fn pop(&mut self) -> Result<Option<S>, ExportedError> {
        Ok(self.unique()?.pop().map(UnsafeCell::into_inner))
    }

    /// Inserts `value` at `index`, shifting the rest up; refused while exported.
    ///
    /// # Panics
    /// If `index > len` (and no export is alive), like `Vec::insert`.
    pub fn insert(&mut self, index: usize, value: S) -> Result<(), ExportedError> {
        self.unique()?.insert(index, UnsafeCell::new(value));
        Ok(())
    }

    /// Removes and returns the element at `index`, shifting the rest down; refused while
    /// exported.
    ///
    /// # Panics
    /// If `index >= len` (and no export is alive), like `Vec::remove`.
    pub fn remove(&mut self, index: usize) -> Result<S, ExportedError> {
        Ok(self.unique()?.remove(index).into_inner())
    }

    /// Resizes to `new_len`, filling with `value`; refused while exported.
    pub fn resize(&mut self, new_len: usize, value: S) -> Result<(), ExportedError> {
        self.unique()?
            .resize_with(new_len, || UnsafeCell::new(value));
        Ok(())
    }

    /// Keeps the first `len` elements; refused while exported (even when `len >= self.len()`).
    pub fn truncate(&mut self, len: usize) -> Result<(), ExportedError> {
        self.unique()?.truncate(len);
        Ok(())
    }

    /// Removes every element; refused while exported.
    pub fn clear(&mut self) -> Result<(), ExportedError> {
        self.unique()?.clear();
        Ok(())
    }

    /// Makes room for `additional` more elements; refused while exported (growing may move
    /// the block).
    pub fn reserve(&mut self, additional: usize) -> Result<(), ExportedError> {
        self.unique()?.reserve(additional);
        Ok(())
    }

    /// [`reserve`](Self::reserve) that reports allocation failure instead of aborting: use it
    /// wherever the size comes from outside (a Python argument).
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), GrowError> {
        let mut items = self.unique()?;
        let elements = items.len().saturating_add(additional);
        items
            .try_reserve(additional)
            .map_err(|_| GrowError::Alloc { elements })
    }

    /// [`resize`](Self::resize) that reports allocation failure instead of aborting.
    pub fn try_resize(&mut self, new_len: usize, value: S) -> Result<(), GrowError> {
        let mut items = self.unique()?;
        let additional = new_len.saturating_sub(items.len());
        items
            .try_reserve(additional)
            .map_err(|_| GrowError::Alloc { elements: new_len })?;
        items.resize_with(new_len, || UnsafeCell::new(value));
        Ok(())
    }

    /// Gives back unused capacity; refused while exported (shrinking may move the block).
    pub fn shrink_to_fit(&mut self) -> Result<(), ExportedError> {
        self.unique()?.shrink_to_fit();
        Ok(())
    }

    /// Replaces the whole contents with `values`, returning the old ones; refused while
    /// exported (`values` is then dropped, the contents unchanged).
    ///
    /// Assigning a new `SharedVec` to a field is also sound while exported (the old block lives
    /// on for its views), but it silently detaches them; `replace` refuses like `bytearray`.
    pub fn replace(&mut self, values: Vec<S>) -> Result<Vec<S>, ExportedError> {
        Ok(self.unique()?.replace_vec(values))
    }

    /// Takes the contents out, leaving the vector empty; refused while exported.
    pub fn take(&mut self) -> Result<Vec<S>, ExportedError> {
        self.replace(Vec::new())
    }

    /// Exchanges the contents of two vectors; refused while either is exported.
    pub fn swap(&mut self, other: &mut SharedVec<S>) -> Result<(), ExportedError> {
        let theirs = other.exports();
        if theirs > 0 {
            return Err(ExportedError { exports: theirs });
        }
        self.unique()?;
        std::mem::swap(&mut self.cells, &mut other.cells);
        Ok(())
    }

    /// The elements as a `Vec`, without copying, when no export is alive; otherwise `self`
    /// back, unchanged.
    pub fn into_vec(mut self) -> Result<Vec<S>, Self> {
        if self.exports() > 0 {
            return Err(self);
        }
        let mut slot = self.unique().expect("no export is alive");
        Ok(slot.take_vec())
    }

    /// The vector, when no export is alive (a `&mut` to it can move or resize it).
    fn unique(&mut self) -> Result<Unique<'_, S>, ExportedError> {
        let exports = self.exports();
        Cells::unique(&mut self.cells).ok_or(ExportedError { exports })
    }
}

/// Unique access to a [`SharedVec`]'s elements as a `Vec<S>`, from [`SharedVec::as_mut_vec`].
/// The vector is put back when the guard is dropped (if the guard is leaked, the `SharedVec` is
/// left empty).
pub struct VecMut<'a, S: Shaped> {
    slot: Unique<'a, S>,
    /// The elements while the guard lives (the block is empty meanwhile).
    vec: Vec<S>,
}

impl<S: Shaped> Deref for VecMut<'_, S> {
    type Target = Vec<S>;
    fn deref(&self) -> &Vec<S> {
        &self.vec
    }
}

impl<S: Shaped> DerefMut for VecMut<'_, S> {
    fn deref_mut(&mut self) -> &mut Vec<S> {
        &mut self.vec
    }
}

impl<S: Shaped> Drop for VecMut<'_, S> {
    fn drop(&mut self) {
        let vec = std::mem::take(&mut self.vec);
        self.slot.replace_vec(vec); // `slot` settles the block when it drops next
    }
}

/// Dropping the owner handle while exported leaves the block to its exports (the last release
/// frees it).
impl<S: Shaped> Drop for SharedVec<S> {
    fn drop(&mut self) {
        py_exports::owner_gone(&mut self.cells);
    }
}

impl<S: Shaped> Default for SharedVec<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Shaped> From<Vec<S>> for SharedVec<S> {
    fn from(v: Vec<S>) -> Self {
        SharedVec {
            cells: Cells::new(v),
        }
    }
}

impl<S: Shaped> FromIterator<S> for SharedVec<S> {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<S>>())
    }
}

/// A deep copy: the clone has its own memory and no exports.
impl<S: Shaped> Clone for SharedVec<S> {
    fn clone(&self) -> Self {
        Self::from(self.to_vec())
    }
}

impl<S: Shaped + fmt::Debug> fmt::Debug for SharedVec<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

// SAFETY: `raw_parts` is the block's `len` consecutive `S` (`UnsafeCell` is transparent), each
// `DIMS.count()` initialised `S::Elem` laid out as its `FORMAT` says, padding zeroed (cells.rs
// R4). The block lives as long as `&self` or any `Hold` from `keep_alive` (each owns a count,
// dropped on any thread: `Cells` is `Send + Sync`), and it cannot move or resize while such a
// `Hold` lives (R2: `Arc::get_mut` fails). Views may write it: shared storage (R1, R3).
unsafe impl<S: Shaped> Storage for SharedVec<S> {
    shaped_items!(S);
    const SHARED: bool = true;
    const FIXED_COUNT: Option<usize> = None;
    fn natural_shape(&self) -> NaturalShape {
        NaturalShape::of::<S>(Some(self.len()))
    }
    fn raw_parts(&self) -> RawParts {
        RawParts::of::<S>(self.cells.as_ptr(), self.cells.len())
    }
    fn keep_alive(&self) -> Option<Hold> {
        Some(Hold::arc(Arc::clone(&self.cells)))
    }
    unsafe fn export_hold(&self) -> Option<Hold> {
        // SAFETY: attached (contract).
        Some(unsafe { py_exports::hold(&self.cells) })
    }
    unsafe fn direct(&self) -> Option<DirectExport> {
        if !S::DIMS.as_slice().is_empty() {
            return None; // the head's 1-D tables describe a 1-D layout only
        }
        // SAFETY: attached (contract).
        Some(unsafe { Cells::direct(&self.cells) })
    }
    #[inline(always)]
    unsafe fn direct_nd(
        &self,
        layout: &NdLayout<'_>,
        checked: Checked,
        with_tables: bool,
    ) -> Option<DirectExport> {
        // SAFETY: attached; `checked` is true of `layout` (contract).
        unsafe { py_exports::direct(&self.cells, layout, checked, with_tables) }
    }
    #[inline(always)]
    unsafe fn nd_checked(&self, layout: &NdLayout<'_>) -> Option<NdHit> {
        // SAFETY: attached (contract).
        unsafe { py_exports::nd_checked(&self.cells, layout) }
    }
}

// SAFETY: Rust never references the elements (cells.rs R3): it reads and writes them by copy,
// so writes through views race with nothing Rust holds.
unsafe impl<S: Shaped> WritableStorage for SharedVec<S> {}

/// A fixed-size writable buffer storage for one value: a scalar (0-d) or a nested array such
/// as `[[f32; 4]; 4]` (2-d). Views may write it; it can never be resized.
///
/// ```
/// use buffer_runtime::SharedArray;
/// let mut m = SharedArray::new([[0f32; 2]; 2]);
/// m.set([[1.0, 2.0], [3.0, 4.0]]);
/// assert_eq!(m.get()[1][0], 3.0);
/// ```
pub struct SharedArray<S: Shaped> {
    cell: Arc<ArrayCell<S>>,
}

impl<S: Shaped> SharedArray<S> {
    /// Storage holding `value`.
    pub fn new(value: S) -> Self {
        SharedArray {
            cell: ArrayCell::new(value),
        }
    }

    /// The value, read by copy (sees every write made through views).
    pub fn get(&self) -> S {
        self.cell.get()
    }

    /// Overwrites the value in place; allowed while exported, like a write through a view.
    pub fn set(&mut self, value: S) {
        ArrayCell::set(&mut self.cell, value)
    }

    /// Live exports of this storage.
    pub fn exports(&self) -> usize {
        py_exports::exports(&self.cell)
    }
}

impl<S: Shaped + Default> Default for SharedArray<S> {
    fn default() -> Self {
        Self::new(S::default())
    }
}

/// A deep copy: the clone has its own memory and no exports.
impl<S: Shaped> Clone for SharedArray<S> {
    fn clone(&self) -> Self {
        Self::new(self.get())
    }
}

impl<S: Shaped + fmt::Debug> fmt::Debug for SharedArray<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

// SAFETY: `raw_parts` is the one `S` in the cell: `DIMS.count()` consecutive, initialised
// `S::Elem` laid out as its `FORMAT` says, padding zeroed (cells.rs R4), in a heap block the
// `Arc` keeps alive for as long as `&self` or any `Hold` from `keep_alive` lives (dropped on any
// thread: `ArrayCell` is `Send + Sync`); it never moves. `FIXED_COUNT` is that count.
unsafe impl<S: Shaped> Storage for SharedArray<S> {
    shaped_items!(S);
    const SHARED: bool = true;
    const FIXED_COUNT: Option<usize> = Some(S::DIMS.count());
    fn natural_shape(&self) -> NaturalShape {
        NaturalShape::of::<S>(None)
    }
    fn raw_parts(&self) -> RawParts {
        RawParts::of::<S>(self.cell.as_ptr(), 1)
    }
    fn keep_alive(&self) -> Option<Hold> {
        Some(Hold::arc(Arc::clone(&self.cell)))
    }
    unsafe fn export_hold(&self) -> Option<Hold> {
        // SAFETY: attached (contract).
        Some(unsafe { py_exports::hold(&self.cell) })
    }
    #[inline(always)]
    unsafe fn direct_nd(
        &self,
        layout: &NdLayout<'_>,
        checked: Checked,
        with_tables: bool,
    ) -> Option<DirectExport> {
        // SAFETY: attached; `checked` is true of `layout` (contract).
        unsafe { py_exports::direct(&self.cell, layout, checked, with_tables) }
    }
    #[inline(always)]
    unsafe fn nd_checked(&self, layout: &NdLayout<'_>) -> Option<NdHit> {
        // SAFETY: attached (contract).
        unsafe { py_exports::nd_checked(&self.cell, layout) }
    }
}

/// Dropping the storage while exported leaves the value's block to its exports.
impl<S: Shaped> Drop for SharedArray<S> {
    fn drop(&mut self) {
        py_exports::owner_gone(&mut self.cell);
    }
}

// SAFETY: Rust never references the value (cells.rs R3): it reads and writes it by copy.
unsafe impl<S: Shaped> WritableStorage for SharedArray<S> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaked_guard_leaves_an_empty_export_not_a_stale_one() {
        let mut v = SharedVec::from(vec![1u32, 2, 3]);
        let mut g = v.as_mut_vec().unwrap();
        g.push(4);
        // Safe code may leak the guard. The elements went with it: the 1-D tables a direct
        // export hands out say 0 elements too (not 3 over an empty block).
        std::mem::forget(g);
        assert_eq!(
            (v.len(), v.raw_parts().count, v.cells.exported_len()),
            (0, 0, 0)
        );
        // The next guard settles the block again.
        v.push(5).unwrap();
        assert_eq!(
            (v.len(), v.cells.exported_len(), v.to_vec()),
            (1, 1, vec![5])
        );
    }

    #[test]
    fn exports_block_resizing_but_not_writes() {
        let mut v = SharedVec::from(vec![1u16, 2, 3]);
        let hold = v.keep_alive();
        assert_eq!(v.exports(), 1);
        assert_eq!(v.push(4), Err(ExportedError { exports: 1 }));
        assert!(v.as_mut_slice().is_err());
        assert_eq!(v.set(0, 7), Some(1));
        assert_eq!(v.to_vec(), [7, 2, 3]);
        drop(hold);
        assert_eq!(v.exports(), 0);
        v.push(4).unwrap();
        v.as_mut_slice().unwrap()[1] = 9;
        assert_eq!(v.to_vec(), [7, 9, 3, 4]);
    }

    #[test]
    fn every_mutator_is_refused_while_exported_and_changes_nothing() {
        type Op = fn(&mut SharedVec<u32>) -> Result<(), ExportedError>;
        let ops: [(&str, Op); 16] = [
            ("push", |v| v.push(9)),
            ("extend", |v| v.extend([9, 9])),
            ("extend_empty", |v| v.extend([])),
            ("pop", |v| v.pop().map(drop)),
            ("insert", |v| v.insert(0, 9)),
            ("remove", |v| v.remove(0).map(drop)),
            ("resize", |v| v.resize(10, 9)),
            ("truncate", |v| v.truncate(1)),
            ("clear", |v| v.clear()),
            ("reserve", |v| v.reserve(1000)),
            ("shrink_to_fit", |v| v.shrink_to_fit()),
            ("replace", |v| v.replace(vec![9]).map(drop)),
            ("take", |v| v.take().map(drop)),
            ("swap", |v| v.swap(&mut SharedVec::from(vec![9])).map(drop)),
            ("as_mut_vec", |v| v.as_mut_vec().map(|mut g| g.push(9))),
            ("as_mut_slice", |v| v.as_mut_slice().map(|s| s[0] = 9)),
        ];
        for (name, op) in ops {
            let mut v = SharedVec::from(vec![1u32, 2, 3]);
            let (parts, cap) = (v.raw_parts(), v.capacity());
            let holds = [v.keep_alive(), v.keep_alive()];
            assert_eq!(op(&mut v), Err(ExportedError { exports: 2 }), "{name}");
            assert_eq!(v.to_vec(), [1, 2, 3], "{name}");
            assert_eq!(
                (v.raw_parts().ptr, v.capacity()),
                (parts.ptr, cap),
                "{name}"
            );
            drop(holds);
            assert_eq!(op(&mut v), Ok(()), "{name} after release");
        }
        let v = SharedVec::from(vec![1u32]);
        let hold = v.keep_alive();
        let v = v.into_vec().unwrap_err();
        assert_eq!(v.exports(), 1);
        drop(hold);
        assert_eq!(v.into_vec().unwrap(), [1]);
    }

    #[test]
    fn swap_is_refused_when_the_other_side_is_exported() {
        let mut a = SharedVec::from(vec![1u8]);
        let mut b = SharedVec::from(vec![2u8, 3]);
        let hold = b.keep_alive();
        assert_eq!(a.swap(&mut b), Err(ExportedError { exports: 1 }));
        assert_eq!((a.to_vec(), b.to_vec()), (vec![1], vec![2, 3]));
        drop(hold);
        a.swap(&mut b).unwrap();
        assert_eq!((a.to_vec(), b.to_vec()), (vec![2, 3], vec![1]));
    }

    #[test]
    fn vec_operations_when_unexported() {
        let mut v: SharedVec<[i16; 2]> = SharedVec::with_capacity(4);
        v.extend([[1, 2], [3, 4]]).unwrap();
        v.insert(1, [5, 6]).unwrap();
        assert_eq!(v.remove(0), Ok([1, 2]));
        v.resize(4, [0, 0]).unwrap();
        assert_eq!(v.pop(), Ok(Some([0, 0])));
        v.truncate(2).unwrap();
        assert_eq!(v.to_vec(), [[5, 6], [3, 4]]);
        v.as_mut_vec().unwrap().reverse();
        assert_eq!(v.replace(vec![[7, 8]]), Ok(vec![[3, 4], [5, 6]]));
        v.shrink_to_fit().unwrap();
        assert_eq!(v.take(), Ok(vec![[7, 8]]));
        assert!(v.is_empty());
        assert_eq!(v.pop(), Ok(None));
    }

    #[test]
    fn exports_from_many_threads_are_counted_exactly() {
        let mut v = SharedVec::from(vec![0u64; 64]);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 0..10_000 {
                        let hold = v.keep_alive();
                        assert!(v.exports() >= 1);
                        assert_eq!(v.get(i % 64), Some(0));
                        drop(hold);
                    }
                });
            }
        });
        assert_eq!(v.exports(), 0);
        v.push(1).unwrap();
        assert_eq!(v.len(), 65);
    }

    #[test]
    fn replaced_storage_stays_alive_for_its_exports() {
        let mut v = SharedVec::from(vec![5u8; 1000]);
        let parts = v.raw_parts();
        let hold = v.keep_alive();
        v = SharedVec::from(vec![1u8]);
        // The old block is still owned by the hold.
        // SAFETY: the hold keeps the old block (1000 bytes) alive; byte 999 is inside it, and
        // nothing writes it meanwhile.
        let last = unsafe { parts.ptr.add(999) };
        // SAFETY: as above: in bounds of the live block, initialised, read by no other thread.
        assert_eq!(unsafe { last.read() }, 5);
        drop(hold);
        assert_eq!(v.to_vec(), [1]);
    }

    #[cfg(not(Py_GIL_DISABLED))]
    #[allow(
        clippy::multiple_unsafe_ops_per_block,
        reason = "one contract, stated once, covers the sequence"
    )]
    #[test]
    fn a_view_without_tables_leaves_its_layout_held_for_the_next_export() {
        use crate::direct::Checked;
        use crate::layout::Order;
        use crate::request_checks::Placement;

        let v = SharedVec::from(vec![0f64; 6]);
        let c23 = NdLayout {
            dims: &[2, 3],
            placement: Placement::Contiguous(Order::C),
            itemsize: 8,
            offset: 0,
            count: 6,
        };
        let c32 = NdLayout {
            dims: &[3, 2],
            ..c23
        };
        let none = (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: one thread stands for the attached one (P1), for every call below; each
        // export is ended (dropped) attached, before `v`.
        unsafe {
            assert!(v.nd_checked(&c23).is_none());
            // `PyBUF_SIMPLE`'s export: no tables, but the head takes the layout it checked,
            // so that the next export of it is a hit.
            let simple = v.direct_nd(&c23, Checked::Now(48), false).unwrap();
            assert_eq!(simple.tables(), none);
            let hit = v
                .nd_checked(&c23)
                .expect("held after a view without tables");
            assert_eq!(Checked::Held(hit).len(), 48);
            // While it lives, another layout cannot have the head's tables, and is not held;
            // a view of it without tables needs none, and is still exported directly.
            assert!(v.direct_nd(&c32, Checked::Now(48), true).is_none());
            let other = v.direct_nd(&c32, Checked::Now(48), false).unwrap();
            assert_eq!(other.tables(), none);
            assert!(v.nd_checked(&c32).is_none());
            assert!(v.nd_checked(&c23).is_some());
            assert_eq!(v.exports(), 2);
            drop((simple, other));
            assert_eq!(v.exports(), 0);
        }
    }

    #[test]
    fn shared_array_reads_writes_through_the_pointer() {
        let mut a = SharedArray::new([[0i32; 2]; 2]);
        let parts = a.raw_parts();
        assert_eq!(parts.count, 4);
        let _h = a.keep_alive();
        let items = parts.ptr.cast::<i32>();
        // SAFETY: the block holds 4 `i32` (`count`) and `_h` keeps it alive: item 3 is inside.
        let fourth = unsafe { items.add(3) };
        // SAFETY: a write through the exported pointer, as a view makes: in bounds, aligned
        // (the block is an `[[i32; 2]; 2]`), and no Rust reference to the value is alive.
        unsafe { fourth.write(42) };
        assert_eq!(a.get(), [[0, 0], [0, 42]]);
        a.set([[1, 2], [3, 4]]);
        // SAFETY: item 2 is inside the live block, as above.
        let third = unsafe { items.add(2) };
        // SAFETY: in bounds, aligned, initialised; no other thread writes meanwhile.
        assert_eq!(unsafe { third.read() }, 3);
        assert_eq!(a.exports(), 1);
    }
}
