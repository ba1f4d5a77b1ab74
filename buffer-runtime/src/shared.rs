//! Shared storage: [`SharedVec`] and [`SharedArray`], whose elements views may write.
//!
//! The elements live in a heap block behind an `Arc`; every live export owns one strong count.
//! Hence:
//! - the export count is `strong_count - 1`, exact and atomic;
//! - operations that move or resize the block need `Arc::get_mut`, which fails while any export
//!   is alive (`BufferError`, like `bytearray`);
//! - dropping or replacing the storage while exported only drops one count: the block is freed
//!   by the last export's release;
//! - Rust reads and writes single elements through raw pointers to `UnsafeCell`s and never
//!   forms a `&`/`&mut` to an element that a view may write, so a write through a view (even
//!   during a Python callback made by a Rust method) is seen by the next read.

use std::cell::UnsafeCell;
use std::ffi::CStr;
use std::fmt;
use std::sync::Arc;

use pyo3::exceptions::PyBufferError;
use pyo3::PyErr;

use crate::element::{Element, Shaped};
use crate::hold::Hold;
use crate::storage::{DimsOf, NaturalShape, RawParts, Storage, WritableStorage};

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

/// Elements in `UnsafeCell`s: views may write them while Rust holds `&Cells`.
#[repr(transparent)]
struct Cells<S>(Vec<UnsafeCell<S>>);

// SAFETY: `&Cells` only reads elements by copy (`Shaped::load`) or writes them through raw
// pointers from methods that take `&mut SharedVec`, so two Rust threads never race on an
// element. Writes made by consumers through views are the program's own synchronisation
// business, exactly as with `bytearray` or numpy.
unsafe impl<S: Send + Sync> Sync for Cells<S> {}

/// A growable, writable buffer storage: a `Vec<S>` that views may write and that refuses to
/// move or resize while exported.
///
/// ```
/// use buffer_runtime::SharedVec;
/// let mut v = SharedVec::from(vec![1i32, 2, 3]);
/// v.push(4).unwrap();           // Err(ExportedError) while a view is alive
/// v.set(0, 10);
/// assert_eq!(v.to_vec(), [10, 2, 3, 4]);
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

    /// Number of elements (outer length).
    pub fn len(&self) -> usize {
        self.cells.0.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Live exports of this storage.
    pub fn exports(&self) -> usize {
        Arc::strong_count(&self.cells) - 1
    }

    /// The element at `index`, read by copy (sees every write made through views).
    pub fn get(&self, index: usize) -> Option<S> {
        let cell = self.cells.0.get(index)?;
        // SAFETY: the cell is initialised and aligned; `load` accepts any bytes.
        Some(unsafe { S::load(cell.get()) })
    }

    /// Overwrites the element at `index` in place; allowed while exported, like a write through
    /// a view. Returns the old value, or `None` if `index` is out of bounds.
    pub fn set(&mut self, index: usize, value: S) -> Option<S> {
        let cell = self.cells.0.get(index)?;
        let p = cell.get();
        // SAFETY: `&mut self` excludes other Rust access; views may alias, which the cell
        // permits; the pointer is valid and aligned.
        unsafe {
            let old = S::load(p);
            p.write(value);
            Some(old)
        }
    }

    /// Copies the elements out.
    pub fn to_vec(&self) -> Vec<S> {
        self.iter().collect()
    }

    /// Iterates over copies of the elements.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = S> + '_ {
        // SAFETY: as in `get`.
        self.cells.0.iter().map(|c| unsafe { S::load(c.get()) })
    }

    /// The elements as a mutable slice, when no export is alive. No export can start while the
    /// slice lives: an export needs `&self`.
    pub fn as_mut_slice(&mut self) -> Result<&mut [S], ExportedError> {
        let cells = self.unique()?;
        let len = cells.len();
        // SAFETY: `UnsafeCell<S>` has the layout of `S`; the access is unique (no export, and
        // `&mut self`).
        Ok(unsafe { std::slice::from_raw_parts_mut(cells.as_mut_ptr().cast::<S>(), len) })
    }

    /// Appends an element; refused while exported.
    pub fn push(&mut self, value: S) -> Result<(), ExportedError> {
        self.unique()?.push(UnsafeCell::new(value));
        Ok(())
    }

    /// Appends every element of `iter`; refused (with nothing appended) while exported.
    pub fn extend<I: IntoIterator<Item = S>>(&mut self, iter: I) -> Result<(), ExportedError> {
        self.unique()?.extend(iter.into_iter().map(UnsafeCell::new));
        Ok(())
    }

    /// The vector, when no export is alive (a `&mut` to it can move or resize it).
    fn unique(&mut self) -> Result<&mut Vec<UnsafeCell<S>>, ExportedError> {
        let exports = self.exports();
        Arc::get_mut(&mut self.cells).map(|c| &mut c.0).ok_or(ExportedError { exports })
    }
}

impl<S: Shaped> Default for SharedVec<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Shaped> From<Vec<S>> for SharedVec<S> {
    fn from(v: Vec<S>) -> Self {
        let mut v = std::mem::ManuallyDrop::new(v);
        let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
        // SAFETY: `UnsafeCell<S>` has the size and alignment of `S`, so the allocation is the
        // same; `v` is not dropped.
        let cells = unsafe { Vec::from_raw_parts(ptr.cast::<UnsafeCell<S>>(), len, cap) };
        SharedVec { cells: Arc::new(Cells(cells)) }
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

// SAFETY: the elements are `len` consecutive `S` (`UnsafeCell` is transparent), each `S`
// `DIMS.count()` elements; the block lives as long as `&self` or any `Hold` from `keep_alive`,
// and it cannot move or resize while such a `Hold` lives (`Arc::get_mut` fails).
unsafe impl<S: Shaped> Storage for SharedVec<S> {
    fn itemsize(&self) -> usize {
        std::mem::size_of::<S::Elem>()
    }
    fn format(&self) -> &'static CStr {
        S::Elem::FORMAT
    }
    const SHARED: bool = true;
    const FIXED_COUNT: Option<usize> = None;
    fn natural_shape(&self) -> NaturalShape {
        NaturalShape { outer: Some(self.len()), inner: DimsOf::<S>::SLICE }
    }
    fn raw_parts(&self) -> RawParts {
        let cells = &self.cells.0;
        RawParts { ptr: cells.as_ptr().cast_mut().cast(), count: cells.len() * S::DIMS.count() }
    }
    fn keep_alive(&self) -> Option<Hold> {
        Some(Hold::arc(Arc::clone(&self.cells)))
    }
}

// SAFETY: `SharedVec` never references elements while exported.
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

#[repr(transparent)]
struct ArrayCell<S>(UnsafeCell<S>);

// SAFETY: as for `Cells`.
unsafe impl<S: Send + Sync> Sync for ArrayCell<S> {}

impl<S: Shaped> SharedArray<S> {
    /// Storage holding `value`.
    pub fn new(value: S) -> Self {
        SharedArray { cell: Arc::new(ArrayCell(UnsafeCell::new(value))) }
    }

    /// The value, read by copy (sees every write made through views).
    pub fn get(&self) -> S {
        // SAFETY: initialised, aligned; `load` accepts any bytes.
        unsafe { S::load(self.cell.0.get()) }
    }

    /// Overwrites the value in place; allowed while exported, like a write through a view.
    pub fn set(&mut self, value: S) {
        // SAFETY: `&mut self` excludes other Rust access; views may alias, which the cell
        // permits.
        unsafe { self.cell.0.get().write(value) }
    }

    /// Live exports of this storage.
    pub fn exports(&self) -> usize {
        Arc::strong_count(&self.cell) - 1
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

// SAFETY: one `S` is `DIMS.count()` elements in a heap cell kept alive by the `Arc`.
unsafe impl<S: Shaped> Storage for SharedArray<S> {
    fn itemsize(&self) -> usize {
        std::mem::size_of::<S::Elem>()
    }
    fn format(&self) -> &'static CStr {
        S::Elem::FORMAT
    }
    const SHARED: bool = true;
    const FIXED_COUNT: Option<usize> = Some(S::DIMS.count());
    fn natural_shape(&self) -> NaturalShape {
        NaturalShape { outer: None, inner: DimsOf::<S>::SLICE }
    }
    fn raw_parts(&self) -> RawParts {
        RawParts { ptr: self.cell.0.get().cast(), count: S::DIMS.count() }
    }
    fn keep_alive(&self) -> Option<Hold> {
        Some(Hold::arc(Arc::clone(&self.cell)))
    }
}

// SAFETY: `SharedArray` never references its value while exported.
unsafe impl<S: Shaped> WritableStorage for SharedArray<S> {}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn replaced_storage_stays_alive_for_its_exports() {
        let mut v = SharedVec::from(vec![5u8; 1000]);
        let parts = v.raw_parts();
        let hold = v.keep_alive();
        v = SharedVec::from(vec![1u8]);
        // The old block is still owned by the hold.
        assert_eq!(unsafe { parts.ptr.add(999).read() }, 5);
        drop(hold);
        assert_eq!(v.to_vec(), [1]);
    }

    #[test]
    fn shared_array_reads_writes_through_the_pointer() {
        let mut a = SharedArray::new([[0i32; 2]; 2]);
        let parts = a.raw_parts();
        assert_eq!(parts.count, 4);
        let _h = a.keep_alive();
        unsafe { parts.ptr.cast::<i32>().add(3).write(42) };
        assert_eq!(a.get(), [[0, 0], [0, 42]]);
        a.set([[1, 2], [3, 4]]);
        assert_eq!(unsafe { parts.ptr.cast::<i32>().add(2).read() }, 3);
        assert_eq!(a.exports(), 1);
    }
}
