//! Memory that Rust did not allocate: [`SharedBlock`], fixed-length shared storage whose
//! elements live either in a block Rust owns or in another Python object's exported memory (a
//! `bytearray`, an `mmap`, a `multiprocessing.shared_memory.SharedMemory` block, a frame a
//! pickle protocol 5 load received).
//!
//! The export-safety model of `docs/export-safety.md` extends to it unchanged:
//! - the block ([`Block`]) lives behind an `Arc`; every export of the storage (a memoryview, a
//!   DLPack tensor, a `PickleBuffer`) keeps it alive (Python exports as `SharedVec`'s do,
//!   `shared/py_exports.rs`; the others with one count each), and the block is freed (or the
//!   foreign export released) by the last one;
//! - a foreign block holds the other object's export (`PyObject_GetBuffer`) for its whole life,
//!   so that object refuses to resize or close its memory until the block is gone (`bytearray`
//!   and `mmap` raise `BufferError`), and releases it with the interpreter attached;
//! - the length never changes: a `SharedBlock` has no resizing method at all;
//! - Rust never forms a `&`/`&mut` to an element: reads and writes are byte-wise atomic
//!   copies through raw pointers, and any bytes become a valid value through `Shaped::load`, exactly
//!   as for [`SharedVec`](crate::SharedVec). Foreign memory may be written by the other object's
//!   own views at any time, which is the same race a consumer view already is.

use std::borrow::Cow;
use std::ffi::CStr;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{size_of, MaybeUninit};
use std::ptr::NonNull;
use std::sync::Arc;

use pyo3::exceptions::{PyBufferError, PyMemoryError, PyValueError};
use pyo3::prelude::*;
use pyo3::{ffi, PyErr};

use crate::direct::{Checked, Direct, DirectExport, NdHit, NdLayout};
use crate::element::{Element, Shaped};
use crate::hold::Hold;
use crate::shared::{py_exports, read_once, write_once, Pinned};
use crate::storage::{shaped_items, NaturalShape, RawParts, Storage, WritableStorage};

/// Another object's export, held until dropped (then released with the interpreter attached,
/// from any thread).
pub(crate) struct ForeignExport {
    /// Boxed: some exporters key their bookkeeping on the view's address.
    view: Box<ffi::Py_buffer>,
}

// SAFETY: after `new`, the view is only read (`buf`, `len`, `readonly`) and released once, in
// `drop`, with the interpreter attached (`PyBuffer_Release` is then thread-agnostic). The memory
// it points to is accessed only through raw pointers by the storages that own the export.
unsafe impl Send for ForeignExport {}
// SAFETY: as above; `&ForeignExport` only reads plain fields.
unsafe impl Sync for ForeignExport {}

impl ForeignExport {
    /// A C-contiguous byte export of `obj` (writable if asked). Sloppy exporters that hand
    /// back suboffsets, a negative length or a NULL pointer with data are refused with
    /// `BufferError`, their export released.
    pub(crate) fn new(obj: &Bound<'_, PyAny>, writable: bool) -> PyResult<ForeignExport> {
        let py = obj.py();
        // SAFETY: an all-zero `Py_buffer` is a valid "empty" view (`obj` NULL).
        let mut view: Box<ffi::Py_buffer> =
            Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        let flags = if writable {
            ffi::PyBUF_WRITABLE
        } else {
            ffi::PyBUF_SIMPLE
        };
        // SAFETY: `obj` is a live object and `view` is valid for writes of a `Py_buffer`.
        if unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), &mut *view, flags) } != 0 {
            return Err(PyErr::fetch(py));
        }
        let export = ForeignExport { view }; // released on every path from here on
        let v = &*export.view;
        let contiguous = v.strides.is_null() || {
            // A PyBUF_SIMPLE request must not get strides; accept them only if C-contiguous.
            let ndim = usize::try_from(v.ndim).unwrap_or(usize::MAX);
            !v.shape.is_null() && ndim <= crate::layout::MAX_NDIM && {
                // SAFETY: a successful export's `shape` (non-NULL, checked) has `ndim` entries,
                // valid until the release in `drop`; nobody writes them meanwhile.
                let shape = unsafe { std::slice::from_raw_parts(v.shape, ndim) };
                // SAFETY: as for `shape`: `strides` is non-NULL (this branch) with `ndim` entries.
                let strides = unsafe { std::slice::from_raw_parts(v.strides, ndim) };
                let shape: Option<Vec<usize>> =
                    shape.iter().map(|&d| usize::try_from(d).ok()).collect();
                shape.is_some_and(|s| {
                    crate::layout::is_c_contiguous(&s, strides, v.itemsize.max(1) as usize)
                })
            }
        };
        let why = if v.len < 0 {
            Some("a negative length")
        } else if v.buf.is_null() && v.len > 0 {
            Some("a NULL pointer")
        } else if !v.suboffsets.is_null() {
            Some("suboffsets")
        } else if !contiguous {
            Some("non-contiguous memory")
        } else if writable && v.readonly != 0 {
            Some("read-only memory for a writable request")
        } else {
            None
        };
        if let Some(why) = why {
            let name = obj
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default();
            return Err(PyBufferError::new_err(format!("{name} exported {why}")));
        }
        Ok(export)
    }

    pub(crate) fn ptr(&self) -> *mut u8 {
        self.view.buf.cast()
    }

    pub(crate) fn len(&self) -> usize {
        self.view.len as usize // checked >= 0 in `new`
    }

    pub(crate) fn readonly(&self) -> bool {
        self.view.readonly != 0
    }
}

impl Drop for ForeignExport {
    fn drop(&mut self) {
        // SAFETY: the view was filled by a successful `PyObject_GetBuffer` and is released
        // once, attached to the interpreter.
        Python::attach(|_| unsafe { ffi::PyBuffer_Release(&mut *self.view) });
    }
}

/// A contiguous run of bytes and what keeps it alive: the memory of [`SharedBlock`] and of
/// [`OwnedBuffer`](crate::OwnedBuffer). Shared behind an `Arc`, which every export keeps alive.
#[repr(C)]
pub(crate) struct Block {
    /// A `SharedBlock`'s Python exports, counted under the GIL (`shared/py_exports.rs`), and
    /// their tables (`direct.rs`); first, so that a release finds it at the block's address.
    head: Direct,
    /// The first byte (dangling but aligned when empty).
    ptr: NonNull<u8>,
    /// Size in bytes.
    bytes: usize,
    /// The item format and size the bytes are exported with.
    format: Cow<'static, CStr>,
    itemsize: usize,
    /// Whether the memory may be written (Rust's own blocks, writable foreign exports).
    writable: bool,
    /// Whether the memory belongs to another Python object.
    foreign: bool,
    /// Owns the memory: a Rust allocation, a foreign export, a shared storage's block or a
    /// frozen object. Dropped last, with the `Arc`.
    _keep: Box<dyn Send + Sync>,
}

// SAFETY: `ptr` is only dereferenced through raw, volatile or byte-wise atomic copies by the
// storages, never as a Rust reference; the owner is `Send + Sync`.
unsafe impl Send for Block {}
// SAFETY: as above; through `&Block` only the plain fields are read, but for the head's N-d
// tables, written through `&Block` only by attached code, one thread at a time with the GIL
// (P1 of `shared/py_exports.rs`), and not at all on the free-threaded build (`Direct::nd_tables`).
unsafe impl Sync for Block {}

// SAFETY: the head is the first field of the repr(C) block, made by `Direct::new::<Self>`
// (`Block::head`).
unsafe impl Pinned for Block {
    fn head(&self) -> &Direct {
        &self.head
    }
}

/// A `Vec<S>`'s allocation, freed when dropped; no `Vec` exists while the block lives, so no
/// Rust reference to the elements does either.
struct VecAlloc<S> {
    ptr: *mut S,
    len: usize,
    cap: usize,
}

// SAFETY: only `drop` touches the allocation, once.
unsafe impl<S> Send for VecAlloc<S> {}
// SAFETY: `&VecAlloc` gives no access at all.
unsafe impl<S> Sync for VecAlloc<S> {}

impl<S> Drop for VecAlloc<S> {
    fn drop(&mut self) {
        // SAFETY: the parts came from `Vec::into_raw_parts`-style decomposition in
        // `Block::from_vec` and are reassembled once; `S: Copy` has no destructor.
        drop(unsafe { Vec::from_raw_parts(self.ptr, self.len, self.cap) });
    }
}

impl Block {
    fn head() -> Direct {
        // SAFETY: every `Block` is made with this head as its first field; its counts are given
        // back only for exports, which `py_exports::start` counts through an `Arc<Block>`. Its
        // 1-D tables are unused: a block's exports take their layout from the annotation.
        unsafe { Direct::new::<Block>(0) }
    }

    /// Takes over a `Vec`'s allocation without copying; padding bytes are zeroed first.
    pub(crate) fn from_vec<S: Shaped>(v: Vec<S>) -> Block {
        let mut v = std::mem::ManuallyDrop::new(v);
        if S::HAS_PADDING {
            for x in v.iter_mut() {
                // SAFETY: exclusive access to a valid element; only padding bytes are written.
                unsafe { S::clear_padding(x) };
            }
        }
        let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
        Block {
            head: Block::head(),
            // SAFETY: a `Vec`'s pointer is never null (dangling and aligned when empty).
            ptr: unsafe { NonNull::new_unchecked(ptr.cast()) },
            bytes: len * size_of::<S>(),
            format: Cow::Borrowed(S::Elem::FORMAT),
            itemsize: size_of::<S::Elem>(),
            writable: true,
            foreign: false,
            _keep: Box::new(VecAlloc { ptr, len, cap }),
        }
    }

    /// A block of `bytes` bytes in `words` (8-byte aligned, zeroed), exported as `format`.
    pub(crate) fn from_words(
        words: Vec<u64>,
        bytes: usize,
        format: Cow<'static, CStr>,
        itemsize: usize,
    ) -> Block {
        assert!(bytes <= words.len() * 8, "the words hold the bytes");
        let mut b = Block::from_vec(words);
        b.bytes = bytes;
        b.format = format;
        b.itemsize = itemsize;
        b
    }

    /// A block over memory `keep` keeps alive.
    ///
    /// # Safety
    /// `ptr` is non-null and valid for reads (and for writes if `writable`) of `bytes` bytes
    /// for as long as `keep` lives, and nothing moves or frees that memory meanwhile.
    pub(crate) unsafe fn over(
        ptr: *mut u8,
        bytes: usize,
        format: Cow<'static, CStr>,
        itemsize: usize,
        writable: bool,
        keep: Box<dyn Send + Sync>,
    ) -> Block {
        // SAFETY: non-null (contract).
        let ptr = unsafe { NonNull::new_unchecked(ptr) };
        Block {
            head: Block::head(),
            ptr,
            bytes,
            format,
            itemsize,
            writable,
            foreign: false,
            _keep: keep,
        }
    }

    /// Adopts another object's export; `align` is the alignment the items need (the memory
    /// is refused when it does not have it).
    pub(crate) fn foreign(
        export: ForeignExport,
        format: Cow<'static, CStr>,
        itemsize: usize,
        align: usize,
    ) -> Result<Block, ForeignError> {
        let (ptr, bytes) = (export.ptr(), export.len());
        if itemsize == 0 || bytes % itemsize != 0 {
            return Err(ForeignError::Length { bytes, itemsize });
        }
        let ptr = if bytes == 0 {
            // No element is addressed: an aligned dangling pointer, whatever the exporter gave.
            NonNull::new(align as *mut u8).expect("alignment is non-zero")
        } else if !(ptr as usize).is_multiple_of(align) {
            return Err(ForeignError::Unaligned { align });
        } else {
            NonNull::new(ptr).expect("checked non-null in ForeignExport::new")
        };
        let writable = !export.readonly();
        Ok(Block {
            head: Block::head(),
            ptr,
            bytes,
            format,
            itemsize,
            writable,
            foreign: true,
            _keep: Box::new(export),
        })
    }

    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn format(&self) -> &CStr {
        &self.format
    }

    pub(crate) fn itemsize(&self) -> usize {
        self.itemsize
    }

    pub(crate) fn writable(&self) -> bool {
        self.writable
    }

    pub(crate) fn is_foreign(&self) -> bool {
        self.foreign
    }
}

/// Why another object's memory cannot be adopted as is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ForeignError {
    Length { bytes: usize, itemsize: usize },
    Unaligned { align: usize },
}

impl fmt::Display for ForeignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForeignError::Length { bytes, itemsize } => {
                write!(
                    f,
                    "{bytes} bytes are not a whole number of {itemsize}-byte items"
                )
            }
            ForeignError::Unaligned { align } => {
                write!(f, "the memory is not aligned to {align} bytes")
            }
        }
    }
}

/// Byte-wise atomic copies out of memory others may write (the consumer views' primitive).
pub(crate) use crate::view::raw::load_bytes;

/// Zeroed 8-byte words for `bytes` bytes, or `MemoryError`.
pub(crate) fn try_zeroed_words(bytes: usize) -> PyResult<Vec<u64>> {
    let n = bytes.div_ceil(8);
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| PyMemoryError::new_err(format!("cannot allocate {bytes} bytes")))?;
    v.resize(n, 0);
    Ok(v)
}

/// The bytes of any C-contiguous buffer as `S` values (a copy; any bytes are valid values).
/// `ValueError` unless the length is a whole number of `S`, `MemoryError` if it cannot be had.
pub(crate) fn copy_items<S: Shaped>(data: &Bound<'_, PyAny>) -> PyResult<Vec<S>> {
    let export = ForeignExport::new(data, false)?;
    let (src, bytes) = (export.ptr(), export.len());
    let size = size_of::<S>();
    if size == 0 || bytes % size != 0 {
        return Err(PyValueError::new_err(format!(
            "{bytes} bytes are not a whole number of {size}-byte elements"
        )));
    }
    let n = bytes / size;
    let mut out: Vec<S> = Vec::new();
    out.try_reserve_exact(n)
        .map_err(|_| PyMemoryError::new_err(format!("cannot allocate {n} elements")))?;
    let dst = out.as_mut_ptr();
    if bytes > 0 {
        // SAFETY: `src` holds `bytes` bytes (a successful export), `dst` has room for `n * size`
        // bytes (reserved above); a private allocation does not overlap an export.
        unsafe { load_bytes(src, dst.cast(), bytes) };
    }
    // Unless the copied bytes already are valid values with nothing to zero, make them so.
    if !<S::Elem as Element>::ANY_BITS || S::HAS_PADDING {
        for i in 0..n {
            // SAFETY: `i < n`, and the reserved room holds `n` elements.
            let p = unsafe { dst.add(i) };
            // SAFETY: element `i` holds copied, initialised bytes in aligned private memory;
            // `load` makes a valid value of any bytes.
            let value = unsafe { S::load(p) };
            // SAFETY: `p` is valid for writes and aligned; the old bytes need no drop.
            unsafe { p.write(value) };
            // SAFETY: `p` now holds a valid `S`; only its padding bytes are written.
            unsafe { S::clear_padding(p) };
        }
    }
    // SAFETY: the `n` elements are initialised (copied bytes of types valid for any bits, or
    // values written by the loop above).
    unsafe { out.set_len(n) };
    Ok(out)
}

/// Fixed-length, writable shared storage of `S`: its own heap block (from a `Vec<S>`), or the
/// memory another Python object exports (a `bytearray`, `mmap`, `SharedMemory.buf`, a received
/// pickle frame), used in place. Views may write it; it never moves or resizes.
///
/// ```
/// use buffer_runtime::SharedBlock;
/// let mut m = SharedBlock::from(vec![1i32, 2, 3, 4]);
/// m.set(0, 10);
/// assert_eq!(m.to_vec(), [10, 2, 3, 4]);
/// assert!(!m.is_foreign());
/// ```
///
/// Over foreign memory (no copy):
///
/// ```
/// # use pyo3::prelude::*;
/// # use buffer_runtime::SharedBlock;
/// Python::attach(|py| -> PyResult<()> {
///     let ba = pyo3::types::PyByteArray::new(py, &[0u8; 16]);
///     let mut block = SharedBlock::<u32>::from_buffer(ba.as_any())?;
///     block.set(1, 0xffff_ffff);
///     assert_eq!(ba.to_vec()[4..8], [0xff; 4]);   // the bytearray's own memory
///     assert!(ba.resize(0).is_err());             // held exported: cannot resize
///     drop(block);
///     ba.resize(0)?;
///     Ok(())
/// }).unwrap();
/// ```
pub struct SharedBlock<S: Shaped> {
    block: Arc<Block>,
    _items: PhantomData<S>,
}

impl<S: Shaped> SharedBlock<S> {
    /// Uses the memory `obj` exports (writable, C-contiguous, aligned for `S`, a whole number
    /// of `S`) in place, for as long as the storage or any of its exports lives: `BufferError`
    /// if `obj` cannot export writable contiguous memory, `ValueError` if the length or
    /// alignment does not fit `S`. The object cannot resize or free that memory meanwhile.
    pub fn from_buffer(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let export = ForeignExport::new(obj, true)?;
        let block = Block::foreign(
            export,
            Cow::Borrowed(S::Elem::FORMAT),
            size_of::<S::Elem>(),
            std::mem::align_of::<S>(),
        )
        .map_err(|e| PyValueError::new_err(format!("cannot use the memory of this buffer: {e}")))?;
        debug_assert!(block.writable());
        Ok(SharedBlock {
            block: Arc::new(block),
            _items: PhantomData,
        })
    }

    /// A copy of the bytes of any C-contiguous buffer (read-only ones too).
    pub fn copy_from_buffer(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self::from(copy_items::<S>(obj)?))
    }

    /// [`from_buffer`](Self::from_buffer) when `obj`'s memory can be used in place, otherwise
    /// [`copy_from_buffer`](Self::copy_from_buffer). What a pickle protocol 5 load does.
    pub fn adopt_or_copy(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        Self::from_buffer(obj).or_else(|_| Self::copy_from_buffer(obj))
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match size_of::<S>() {
            0 => 0,
            size => self.block.bytes() / size,
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the memory belongs to another Python object.
    pub fn is_foreign(&self) -> bool {
        self.block.is_foreign()
    }

    /// The block as a plain `Arc`: the pin of its Python exports goes as when the storage is
    /// dropped.
    pub(crate) fn into_block(self) -> Arc<Block> {
        let mut this = std::mem::ManuallyDrop::new(self);
        py_exports::owner_gone(&mut this.block);
        // SAFETY: `this` is never dropped (`ManuallyDrop`) nor used again, so the `Arc` is moved
        // out once; `owner_gone` ran, as `Drop` would have.
        unsafe { std::ptr::read(&this.block) }
    }

    /// Live exports of this storage (views, DLPack tensors, pickle buffers).
    pub fn exports(&self) -> usize {
        py_exports::exports(&self.block)
    }

    fn item(&self, index: usize) -> Option<*mut S> {
        (index < self.len()).then(|| {
            // SAFETY: `index < len`, so the element lies inside the block (the offset stays in
            // the allocation, or the foreign export's memory).
            unsafe { self.block.ptr().cast::<S>().add(index) }
        })
    }

    /// The element at `index`, read by copy (sees every write made through views).
    pub fn get(&self, index: usize) -> Option<S> {
        self.item(index).map(|p| {
            // SAFETY: in bounds and aligned (checked when the block was made), initialised, and
            // no Rust reference to the element is alive (as in `set`); any bytes load.
            unsafe { read_once(p) }
        })
    }

    /// Overwrites the element at `index` in place (allowed while exported, like a write
    /// through a view); returns the old value, or `None` out of bounds.
    pub fn set(&mut self, index: usize, value: S) -> Option<S> {
        let p = self.item(index)?;
        // SAFETY: in bounds and aligned (checked when the block was made), initialised (Rust's
        // own blocks have their padding zeroed; foreign memory is bytes another object exports);
        // Rust never forms a reference to an element (module doc), so none is alive.
        let old = unsafe { read_once(p) };
        // SAFETY: as for the read, and writable: every `SharedBlock` is (foreign blocks are made
        // from writable exports only). As `SharedVec::set`: `write_once` zeroes the padding in
        // its local copy and stores the bytes byte-wise atomically, so a view reading at the
        // same time races with nothing and never sees an undefined byte.
        unsafe { write_once(p, value) };
        Some(old)
    }

    /// Iterates over copies of the elements.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = S> + '_ {
        (0..self.len()).map(|i| self.get(i).expect("in bounds"))
    }

    /// Copies the elements out.
    pub fn to_vec(&self) -> Vec<S> {
        self.iter().collect()
    }
}

impl<S: Shaped> From<Vec<S>> for SharedBlock<S> {
    fn from(v: Vec<S>) -> Self {
        SharedBlock {
            block: Arc::new(Block::from_vec(v)),
            _items: PhantomData,
        }
    }
}

impl<S: Shaped> FromIterator<S> for SharedBlock<S> {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<S>>())
    }
}

/// A deep copy into a block of its own (also of foreign memory).
impl<S: Shaped> Clone for SharedBlock<S> {
    fn clone(&self) -> Self {
        Self::from(self.to_vec())
    }
}

impl<S: Shaped + fmt::Debug> fmt::Debug for SharedBlock<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

// SAFETY: the block holds `len` consecutive `S` (length and alignment checked when it was
// made), each `DIMS.count()` items; it lives for as long as `&self` or any `Hold` from
// `keep_alive` lives and never moves or resizes; it is writable.
unsafe impl<S: Shaped> Storage for SharedBlock<S> {
    shaped_items!(S);
    const SHARED: bool = true;
    const FIXED_COUNT: Option<usize> = None;
    fn natural_shape(&self) -> NaturalShape {
        NaturalShape::of::<S>(Some(self.len()))
    }
    fn raw_parts(&self) -> RawParts {
        RawParts::of::<S>(self.block.ptr().cast(), self.len())
    }
    fn keep_alive(&self) -> Option<Hold> {
        Some(Hold::arc(Arc::clone(&self.block)))
    }
    unsafe fn export_hold(&self) -> Option<Hold> {
        // SAFETY: attached (contract).
        Some(unsafe { py_exports::hold(&self.block) })
    }
    #[inline(always)]
    unsafe fn direct_nd(
        &self,
        layout: &NdLayout<'_>,
        checked: Checked,
        with_tables: bool,
    ) -> Option<DirectExport> {
        // SAFETY: attached; `checked` is true of `layout` (contract).
        unsafe { py_exports::direct(&self.block, layout, checked, with_tables) }
    }
    #[inline(always)]
    unsafe fn nd_checked(&self, layout: &NdLayout<'_>) -> Option<NdHit> {
        // SAFETY: attached (contract).
        unsafe { py_exports::nd_checked(&self.block, layout) }
    }
}

/// Dropping the storage while exported leaves the block to its exports.
impl<S: Shaped> Drop for SharedBlock<S> {
    fn drop(&mut self) {
        py_exports::owner_gone(&mut self.block);
    }
}

// SAFETY: `SharedBlock` never references its elements.
unsafe impl<S: Shaped> WritableStorage for SharedBlock<S> {}

/// Type-erased block storage: the buffer field of [`OwnedBuffer`](crate::OwnedBuffer).
#[doc(hidden)]
pub struct AnyBlock(pub(crate) Arc<Block>);

// SAFETY: the block holds `bytes / itemsize` items of the block's format, alive while `&self`
// or a `Hold` lives, never moved or resized. It is written through views only when the owner
// exports it writable, which `OwnedBuffer` allows only for writable blocks.
unsafe impl Storage for AnyBlock {
    fn itemsize(&self) -> usize {
        self.0.itemsize()
    }
    fn format(&self) -> &CStr {
        self.0.format()
    }
    const SHARED: bool = true;
    const FIXED_COUNT: Option<usize> = None;
    fn natural_shape(&self) -> NaturalShape {
        NaturalShape {
            outer: Some(self.0.bytes() / self.0.itemsize().max(1)),
            inner: &[],
        }
    }
    fn raw_parts(&self) -> RawParts {
        RawParts {
            ptr: self.0.ptr(),
            count: self.0.bytes() / self.0.itemsize().max(1),
        }
    }
    fn keep_alive(&self) -> Option<Hold> {
        Some(Hold::arc(Arc::clone(&self.0)))
    }
}

// SAFETY: see `Storage for AnyBlock`.
unsafe impl WritableStorage for AnyBlock {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_blocks_read_write_and_count_exports() {
        let mut b = SharedBlock::from(vec![1u16, 2, 3]);
        assert_eq!((b.len(), b.exports(), b.is_foreign()), (3, 0, false));
        let hold = b.keep_alive();
        assert_eq!(b.exports(), 1);
        assert_eq!(b.set(2, 9), Some(3));
        assert_eq!(b.to_vec(), [1, 2, 9]);
        drop(hold);
        assert_eq!(b.exports(), 0);
        assert_eq!(b.clone().to_vec(), [1, 2, 9]);
        assert_eq!(b.get(3), None);
    }

    #[test]
    fn foreign_memory_is_used_in_place_and_held_exported() {
        Python::attach(|py| {
            let ba = pyo3::types::PyByteArray::new(py, &[1, 0, 0, 0, 2, 0, 0, 0]);
            let mut b = SharedBlock::<u32>::from_buffer(ba.as_any()).unwrap();
            assert!(b.is_foreign());
            assert_eq!(
                b.to_vec(),
                [
                    u32::from_le_bytes([1, 0, 0, 0]),
                    u32::from_le_bytes([2, 0, 0, 0])
                ]
            );
            b.set(0, 7);
            // SAFETY: test only: nothing else accesses the bytearray meanwhile.
            assert_eq!(unsafe { ba.as_bytes() }[..4], 7u32.to_ne_bytes());
            assert!(ba.resize(16).is_err());
            drop(b);
            ba.resize(16).unwrap();
            // Read-only memory, wrong lengths: refused, or copied on request.
            let bytes = pyo3::types::PyBytes::new(py, &[0; 6]);
            assert!(SharedBlock::<u8>::from_buffer(bytes.as_any()).is_err());
            assert_eq!(
                SharedBlock::<u8>::adopt_or_copy(bytes.as_any())
                    .unwrap()
                    .len(),
                6
            );
            assert!(SharedBlock::<u32>::copy_from_buffer(bytes.as_any()).is_err());
        });
    }
}
