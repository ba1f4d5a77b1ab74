//! Shared storage: [`SharedVec`] and [`SharedArray`], whose elements views may write.
//!
//! The elements live in a heap block behind an `Arc`; every live export owns one strong count.
//! Hence:
//! - the export count is `strong_count - 1`, exact and atomic (no `Cell`, no reliance on the
//!   GIL: it is right on free-threaded Python too);
//! - operations that move or resize the block need `Arc::get_mut`, which fails while any export
//!   is alive (`BufferError`, like `bytearray`), leaving the contents untouched;
//! - dropping or replacing the storage while exported only drops one count: the block is freed
//!   by the last export's release;
//! - Rust reads and writes single elements through raw pointers to `UnsafeCell`s, each exactly
//!   once (a byte-wise atomic copy, as the consumer views make), and never forms a `&`/`&mut` to an element that a view may write, so a
//!   write through a view (even during a Python callback made by a Rust method) is seen by the
//!   next read, and a value read is never silently re-read.
//!
//! See `docs/export-safety.md` for the whole argument.

use std::cell::UnsafeCell;
use std::ffi::CStr;
use std::fmt;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::Arc;

use pyo3::exceptions::PyBufferError;
use pyo3::PyErr;

use crate::direct::{Direct, DirectExport};
use crate::element::{Element, Shaped};
use crate::hold::Hold;
use crate::storage::{DimsOf, NaturalShape, RawParts, Storage, WritableStorage};
use crate::view::raw::{load_bytes, store_bytes};

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

/// Reads the value at `p` once, as a whole, without assuming the bytes are a valid `S`.
///
/// # Safety
/// `p` is valid for reads of `size_of::<S>()` bytes and aligned.
#[inline]
unsafe fn read_once<S: Shaped>(p: *const S) -> S {
    // SAFETY: `p` is valid and aligned (contract). A byte-wise atomic copy (as the consumer
    // views make) races with no other access, Rust's or a view's, and can be neither elided nor
    // repeated; the block's padding is zeroed, so every byte copied is initialised. `load`
    // accepts any bytes, so the copy becomes a valid `S`.
    unsafe {
        let mut raw = MaybeUninit::<S>::uninit();
        load_bytes(p.cast(), raw.as_mut_ptr().cast(), std::mem::size_of::<S>());
        S::load(raw.as_ptr())
    }
}

/// Writes `value` at `p` once.
///
/// # Safety
/// `p` is valid for writes of `size_of::<S>()` bytes and aligned, and no Rust reference to
/// those bytes is alive.
#[inline]
unsafe fn write_once<S: Shaped>(p: *mut S, value: S) {
    let mut raw = MaybeUninit::new(value);
    // SAFETY: forwarded contract; `S: Copy`, so nothing is dropped. The padding is zeroed in the
    // local copy first, and the copy goes from that memory (never by value, which may drop
    // padding bytes in registers), so only initialised bytes are stored and the element's
    // padding is never undefined, not even for an instant.
    unsafe {
        S::clear_padding(raw.as_mut_ptr());
        store_bytes(raw.as_ptr().cast(), p.cast(), std::mem::size_of::<S>());
    }
}

/// Elements in `UnsafeCell`s: views may write them while Rust holds `&Cells`. The head comes
/// first, so a pointer to it is a pointer to the block (`Direct`).
#[repr(C)]
struct Cells<S> {
    direct: Direct,
    items: Vec<UnsafeCell<S>>,
}

impl<S: Shaped> Cells<S> {
    fn new(items: Vec<UnsafeCell<S>>) -> Arc<Cells<S>> {
        unsafe fn release<S>(head: NonNull<Direct>) {
            // SAFETY: `head` is the first field of a `Cells<S>` given up by `Arc::into_raw` in
            // `direct` (repr(C): same address); the count is dropped once.
            drop(unsafe { Arc::from_raw(head.as_ptr().cast::<Cells<S>>()) });
        }
        let direct = Direct::new(release::<S>, std::mem::size_of::<S>());
        let mut cells = Cells { direct, items };
        cells.settle(0);
        Arc::new(cells)
    }

    /// Restores the invariants exports rely on after `&mut` access: the head's shape table
    /// holds the length, and every padding byte from element `from` on is zero (Rust may leave
    /// padding undefined on any typed write). Runs with exclusive access, so no export and no
    /// other thread can observe the writes (the export path itself writes nothing).
    fn settle(&mut self, from: usize) {
        self.direct.set_len(self.items.len());
        if S::HAS_PADDING {
            for cell in self.items.iter_mut().skip(from) {
                // SAFETY: exclusive access; only padding bytes, which no field reads, are written.
                unsafe { S::clear_padding(cell.get_mut()) };
            }
        }
    }
}

/// Exclusive access to a [`SharedVec`]'s elements (no export alive, `&mut self`); dropping it
/// settles the block ([`Cells::settle`]) from element `from` on.
struct Unique<'a, S: Shaped> {
    cells: &'a mut Cells<S>,
    from: usize,
}

impl<S: Shaped> Deref for Unique<'_, S> {
    type Target = Vec<UnsafeCell<S>>;
    fn deref(&self) -> &Self::Target {
        &self.cells.items
    }
}

impl<S: Shaped> DerefMut for Unique<'_, S> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.cells.items
    }
}

impl<S: Shaped> Drop for Unique<'_, S> {
    fn drop(&mut self) {
        self.cells.settle(self.from);
    }
}

// SAFETY: through `&Cells` Rust only reads elements, by byte-wise atomic copy (`read_once`), and reads
// the `Vec` header and the head's tables, which only change through `&mut` (reached by
// `Arc::get_mut`, so never while shared; padding is zeroed there too, never on the export
// path). Rust writes elements only from methods taking `&mut SharedVec`, so two Rust threads
// never race on an element. Writes made by consumers through views race with Rust reads exactly
// as they would with `bytearray` or numpy: a racing read may see old, new or mixed bytes, which
// `Shaped::load` turns into a valid value; no length, pointer or capacity depends on them.
unsafe impl<S: Send + Sync> Sync for Cells<S> {}

fn cells_from_vec<S>(v: Vec<S>) -> Vec<UnsafeCell<S>> {
    let mut v = ManuallyDrop::new(v);
    let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: `UnsafeCell<S>` has the size and alignment of `S` (repr(transparent)), so the
    // allocation's layout is the same; `v` is not dropped.
    unsafe { Vec::from_raw_parts(ptr.cast::<UnsafeCell<S>>(), len, cap) }
}

fn vec_from_cells<S>(v: Vec<UnsafeCell<S>>) -> Vec<S> {
    let mut v = ManuallyDrop::new(v);
    let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: as in `cells_from_vec`, the other way round.
    unsafe { Vec::from_raw_parts(ptr.cast::<S>(), len, cap) }
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
        self.cells.items.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements the block can hold without moving.
    pub fn capacity(&self) -> usize {
        self.cells.items.capacity()
    }

    /// Live exports of this storage.
    pub fn exports(&self) -> usize {
        Arc::strong_count(&self.cells) - 1
    }

    /// The error a refused operation reports now.
    pub fn exported_error(&self) -> ExportedError {
        ExportedError {
            exports: self.exports(),
        }
    }

    /// The element at `index`, read by copy (sees every write made through views).
    pub fn get(&self, index: usize) -> Option<S> {
        let cell = self.cells.items.get(index)?;
        // SAFETY: the cell is initialised and aligned.
        Some(unsafe { read_once(cell.get()) })
    }

    /// Overwrites the element at `index` in place; allowed while exported, like a write through
    /// a view. Returns the old value, or `None` if `index` is out of bounds.
    pub fn set(&mut self, index: usize, value: S) -> Option<S> {
        let p = self.cells.items.get(index)?.get();
        // SAFETY: `&mut self` excludes other Rust access to the element (no Rust reference to
        // it exists); views may alias, which the cell permits; the pointer is valid and aligned.
        unsafe {
            let old = read_once(p);
            write_once(p, value);
            Some(old)
        }
    }

    /// Copies the elements out.
    pub fn to_vec(&self) -> Vec<S> {
        self.iter().collect()
    }

    /// Iterates over copies of the elements, each read when the iterator reaches it.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = S> + '_ {
        // SAFETY: as in `get`.
        self.cells
            .items
            .iter()
            .map(|c| unsafe { read_once(c.get()) })
    }

    /// The elements as a mutable slice, when no export is alive. No export can start while the
    /// slice lives: an export needs `&self`.
    ///
    /// Not for elements with padding (a compile error): a typed write may leave padding bytes
    /// undefined, which a later export would show; use [`as_mut_vec`](Self::as_mut_vec), whose
    /// guard zeroes them when dropped.
    pub fn as_mut_slice(&mut self) -> Result<&mut [S], ExportedError> {
        const {
            assert!(
                !S::HAS_PADDING,
                "SharedVec::as_mut_slice is not available for elements with padding: use as_mut_vec"
            )
        };
        let exports = self.exports();
        let items = &mut Arc::get_mut(&mut self.cells)
            .ok_or(ExportedError { exports })?
            .items;
        // SAFETY: `UnsafeCell<S>` has the layout of `S`; the access is unique (no export, and
        // `&mut self`); a slice write changes no length and, without padding, leaves no
        // undefined byte, so the block needs no settling afterwards.
        Ok(unsafe { std::slice::from_raw_parts_mut(items.as_mut_ptr().cast::<S>(), items.len()) })
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
        let vec = vec_from_cells(std::mem::take(&mut *slot));
        Ok(VecMut {
            slot,
            vec: ManuallyDrop::new(vec),
        })
    }

    /// Appends an element; refused while exported.
    pub fn push(&mut self, value: S) -> Result<(), ExportedError> {
        let mut items = self.unique()?;
        items.from = items.len();
        items.push(UnsafeCell::new(value));
        Ok(())
    }

    /// Appends every element of `iter`; refused (with nothing appended, `iter` not consumed)
    /// while exported.
    pub fn extend<I: IntoIterator<Item = S>>(&mut self, iter: I) -> Result<(), ExportedError> {
        let mut items = self.unique()?;
        items.from = items.len();
        items.extend(iter.into_iter().map(UnsafeCell::new));
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
        let mut slot = self.unique()?;
        Ok(vec_from_cells(std::mem::replace(
            &mut *slot,
            cells_from_vec(values),
        )))
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
        Ok(vec_from_cells(std::mem::take(&mut *slot)))
    }

    /// The vector, when no export is alive (a `&mut` to it can move or resize it).
    fn unique(&mut self) -> Result<Unique<'_, S>, ExportedError> {
        let exports = self.exports();
        // `get_mut` acquires the releases of the last exports, so writes made through views
        // released on other threads happen before whatever the caller does next.
        let cells = Arc::get_mut(&mut self.cells).ok_or(ExportedError { exports })?;
        Ok(Unique { cells, from: 0 })
    }
}

/// Unique access to a [`SharedVec`]'s elements as a `Vec<S>`, from [`SharedVec::as_mut_vec`].
/// The vector is put back when the guard is dropped (if the guard is leaked, the `SharedVec` is
/// left empty).
pub struct VecMut<'a, S: Shaped> {
    slot: Unique<'a, S>,
    vec: ManuallyDrop<Vec<S>>,
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
        // SAFETY: `vec` is taken once, here, and never used again.
        let vec = unsafe { ManuallyDrop::take(&mut self.vec) };
        *self.slot = cells_from_vec(vec); // `slot` settles the block when it drops next
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
            cells: Cells::new(cells_from_vec(v)),
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
    const HAS_PADDING: bool = S::HAS_PADDING;
    fn natural_shape(&self) -> NaturalShape {
        NaturalShape {
            outer: Some(self.len()),
            inner: DimsOf::<S>::SLICE,
        }
    }
    fn raw_parts(&self) -> RawParts {
        let cells = &self.cells.items;
        RawParts {
            ptr: cells.as_ptr().cast_mut().cast(),
            count: cells.len() * S::DIMS.count(),
        }
    }
    fn keep_alive(&self) -> Option<Hold> {
        Some(Hold::arc(Arc::clone(&self.cells)))
    }
    fn direct(&self) -> Option<DirectExport> {
        if !S::DIMS.as_slice().is_empty() {
            return None; // the head's tables describe a 1-D layout only
        }
        let raw = Arc::into_raw(Arc::clone(&self.cells)).cast_mut();
        // SAFETY: `direct` is the first field of the repr(C) block (same address), and the
        // count just taken is given up to the export; `Cells::new` set the release.
        Some(unsafe { Direct::export(NonNull::new_unchecked(raw).cast()) })
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
        let cell = Arc::new(ArrayCell(UnsafeCell::new(value)));
        // SAFETY: the value was just written and nothing else refers to it yet.
        unsafe { S::clear_padding(cell.0.get()) };
        SharedArray { cell }
    }

    /// The value, read by copy (sees every write made through views).
    pub fn get(&self) -> S {
        // SAFETY: initialised and aligned.
        unsafe { read_once(self.cell.0.get()) }
    }

    /// Overwrites the value in place; allowed while exported, like a write through a view.
    pub fn set(&mut self, value: S) {
        // SAFETY: `&mut self` excludes other Rust access; views may alias, which the cell
        // permits.
        unsafe { write_once(self.cell.0.get(), value) }
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
    const HAS_PADDING: bool = S::HAS_PADDING;
    fn natural_shape(&self) -> NaturalShape {
        NaturalShape {
            outer: None,
            inner: DimsOf::<S>::SLICE,
        }
    }
    fn raw_parts(&self) -> RawParts {
        RawParts {
            ptr: self.cell.0.get().cast(),
            count: S::DIMS.count(),
        }
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
        let mut v = SharedVec::from(vec![1u32]);
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
