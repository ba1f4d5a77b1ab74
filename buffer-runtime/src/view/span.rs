//! [`Span`]: the elements a view covers (pointer, shape, byte strides) and everything a
//! consumer does with them: shape queries, checked indexing, sub-views, iteration in logical
//! order, bulk copies in and out, and on writable views `set`, `fill` and an in-place map.
//!
//! Every element access goes through `raw` (byte-wise atomic copies), so a `Span` is shared
//! between threads freely and writes take `&self`, like a `Cell`: no Rust reference into the
//! exported memory exists for them to alias. A `Span` is never handed out by value (it is
//! neither `Clone` nor constructible outside the runtime), so it cannot outlive its export.

use std::marker::PhantomData;
use std::mem::{size_of, MaybeUninit};
use std::ops::Deref;
use std::ptr::NonNull;

use crate::element::Element;
use crate::layout::{element_count, is_c_contiguous, is_f_contiguous, MAX_NDIM};

use super::rank::{Ndim, Rank};
use super::raw;

mod sealed {
    pub trait Sealed {}
}

/// Whether a view may write: [`ReadOnly`] or [`Writable`].
pub trait Access: sealed::Sealed + Send + Sync + 'static {}
/// The view reads only.
#[derive(Debug)]
pub struct ReadOnly;
/// The view was exported writable (`PyBUF_WRITABLE`) and may write.
#[derive(Debug)]
pub struct Writable;
impl sealed::Sealed for ReadOnly {}
impl sealed::Sealed for Writable {}
impl Access for ReadOnly {}
impl Access for Writable {}

/// An index outside the view, or of the wrong length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfBounds;

impl std::fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("index out of bounds for the buffer's shape")
    }
}
impl std::error::Error for OutOfBounds {}
impl From<OutOfBounds> for pyo3::PyErr {
    fn from(e: OutOfBounds) -> pyo3::PyErr {
        pyo3::exceptions::PyIndexError::new_err(e.to_string())
    }
}

/// A slice given to a bulk copy whose length is not the view's element count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LengthMismatch {
    /// Elements in the view.
    pub view: usize,
    /// Elements in the slice.
    pub slice: usize,
}

impl std::fmt::Display for LengthMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the buffer has {} elements but the slice has {}",
            self.view, self.slice
        )
    }
}
impl std::error::Error for LengthMismatch {}
impl From<LengthMismatch> for pyo3::PyErr {
    fn from(e: LengthMismatch) -> pyo3::PyErr {
        pyo3::exceptions::PyValueError::new_err(e.to_string())
    }
}

/// The elements of a view: what [`PyView`](super::PyView), [`PyViewMut`](super::PyViewMut)
/// and their sub-views dereference to.
pub struct Span<T: Element, D: Rank, A: Access> {
    /// Element `(0, ..., 0)` (dangling, aligned for `T`, in an empty view whose exporter gave
    /// NULL). Non-null, so that results holding a span keep their tag in this niche.
    start: NonNull<u8>,
    shape: D::Table<usize>,
    strides: D::Table<isize>,
    /// Whether every element address is aligned for `T` (0 or 1: a `u8`, so that the niche
    /// is the pointer's).
    aligned: u8,
    _t: PhantomData<(fn() -> T, A)>,
}

// SAFETY: a `Span` addresses memory that its owner's export keeps alive from any thread, and
// every access is a byte-wise atomic copy, which is race-free (`raw`).
unsafe impl<T: Element, D: Rank, A: Access> Send for Span<T, D, A> {}
// SAFETY: as for `Send`: shared access only reads the tables and copies elements atomically.
unsafe impl<T: Element, D: Rank, A: Access> Sync for Span<T, D, A> {}

/// Bytes of the local buffer a run is copied through, a chunk at a time.
const CHUNK_BYTES: usize = 16 * 1024;

#[repr(C, align(64))]
struct ChunkBuf([MaybeUninit<u8>; CHUNK_BYTES]);

/// Local room for a chunk of elements: 16 KiB on the stack (however large the element, the
/// stack use is bounded), or one element on the heap when an element is larger than that or
/// more aligned than 64 bytes. The size difference between the variants is the point (no
/// allocation for the common case), hence the `allow`.
#[allow(clippy::large_enum_variant)]
enum Scratch<T> {
    Stack(ChunkBuf),
    Heap(Vec<MaybeUninit<T>>),
}

impl<T> Scratch<T> {
    fn new() -> Scratch<T> {
        if size_of::<T>() <= CHUNK_BYTES && std::mem::align_of::<T>() <= 64 {
            Scratch::Stack(ChunkBuf([MaybeUninit::uninit(); CHUNK_BYTES]))
        } else {
            Scratch::Heap(vec![MaybeUninit::uninit()])
        }
    }

    /// The slots (at least one).
    fn slots(&mut self) -> &mut [MaybeUninit<T>] {
        match self {
            Scratch::Stack(b) => {
                let n = CHUNK_BYTES / size_of::<T>().max(1);
                // SAFETY: the buffer is 64-aligned (>= `align_of::<T>()`, checked in `new`) and
                // holds `n * size_of::<T>()` bytes; uninitialised slots are what
                // `MaybeUninit<T>` allows.
                unsafe {
                    std::slice::from_raw_parts_mut(b.0.as_mut_ptr().cast::<MaybeUninit<T>>(), n)
                }
            }
            Scratch::Heap(v) => v,
        }
    }
}

impl<T: Element, D: Rank, A: Access> Span<T, D, A> {
    /// # Safety
    /// Every index inside `shape` addresses, at `ptr + Σ index·stride`, an element valid for
    /// reads (and writes if `A` is [`Writable`]) for as long as the span lives.
    #[inline(always)]
    pub(crate) unsafe fn new(
        ptr: *mut u8,
        shape: D::Table<usize>,
        strides: D::Table<isize>,
    ) -> Self {
        let align = std::mem::align_of::<T>();
        let aligned = (ptr as usize).is_multiple_of(align)
            && strides
                .as_ref()
                .iter()
                .zip(shape.as_ref())
                .all(|(&s, &n)| axis_aligned::<T>(n, s));
        Span {
            start: NonNull::new(ptr).unwrap_or(NonNull::<T>::dangling().cast()),
            shape,
            strides,
            aligned: u8::from(aligned),
            _t: PhantomData,
        }
    }

    /// Element `(0, ..., 0)`.
    #[inline(always)]
    fn ptr(&self) -> *mut u8 {
        self.start.as_ptr()
    }

    /// Element `(0, ..., 0)`, never null.
    #[inline(always)]
    pub(crate) fn start(&self) -> NonNull<u8> {
        self.start
    }

    /// Stores `start` again in the span at `out`, which already holds it: after an opaque call
    /// that built the span, this lets the compiler see that the start is non-null, hence that
    /// a `PyResult` holding the view (whose tag is that niche) is `Ok`, and move it once.
    ///
    /// # Safety
    /// `*out` is an initialised span whose start is `start`.
    #[inline(always)]
    pub(crate) unsafe fn restate_start(out: *mut Self, start: NonNull<u8>) {
        // SAFETY: a field address of a valid span (contract).
        let field = unsafe { std::ptr::addr_of_mut!((*out).start) };
        // SAFETY: valid for writes; given the value it holds.
        unsafe { field.write(start) };
    }

    /// The shape and strides tables of a span being built in place at `out` (to be started
    /// with [`Rank::inline_slots`] and completed by [`finish_at`](Self::finish_at)).
    ///
    /// # Safety
    /// `out` is valid for writes.
    #[inline(always)]
    pub(crate) unsafe fn tables_at(out: *mut Self) -> (*mut D::Table<usize>, *mut D::Table<isize>) {
        // SAFETY: field addresses of a valid pointer (contract).
        let shape = unsafe { std::ptr::addr_of_mut!((*out).shape) };
        // SAFETY: as above.
        let strides = unsafe { std::ptr::addr_of_mut!((*out).strides) };
        (shape, strides)
    }

    /// Completes a span built in place at `out`: what [`new`](Self::new) makes of `ptr` and the
    /// tables already written at [`tables_at`](Self::tables_at).
    ///
    /// # Safety
    /// `out` is valid for writes and both its tables are initialised; [`new`](Self::new)'s
    /// contract holds for `ptr` and them; `aligned` is whether `ptr` is aligned for `T` and
    /// every axis is ([`axis_aligned`]).
    #[inline(always)]
    pub(crate) unsafe fn finish_at(out: *mut Self, ptr: NonNull<u8>, aligned: bool) {
        // SAFETY: field addresses of a valid pointer (contract).
        let start = unsafe { std::ptr::addr_of_mut!((*out).start) };
        // SAFETY: as above.
        let flag = unsafe { std::ptr::addr_of_mut!((*out).aligned) };
        // SAFETY: valid for writes.
        unsafe { start.write(ptr) };
        // SAFETY: as above; the last field (`_t` is zero-sized), so `*out` is initialised.
        unsafe { flag.write(u8::from(aligned)) };
    }

    /// The shape, in elements (`[]` for a 0-d view).
    #[inline]
    pub fn shape(&self) -> &[usize] {
        self.shape.as_ref()
    }

    /// The strides, in bytes (negative and zero strides are possible).
    #[inline]
    pub fn strides(&self) -> &[isize] {
        self.strides.as_ref()
    }

    /// The number of dimensions.
    #[inline]
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// The number of elements (the product of the shape; 1 for a 0-d view).
    #[inline]
    pub fn len(&self) -> usize {
        // An empty view may have other dims whose product overflows: any 0 makes it 0.
        element_count(self.shape()).unwrap_or(0)
    }

    /// Whether the view has no element.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the elements are C-contiguous (CPython's rule: length-1 dims ignore strides).
    pub fn is_c_contiguous(&self) -> bool {
        is_c_contiguous(self.shape(), self.strides(), size_of::<T>())
    }

    /// Whether the elements are Fortran-contiguous.
    pub fn is_f_contiguous(&self) -> bool {
        is_f_contiguous(self.shape(), self.strides(), size_of::<T>())
    }

    /// Whether every element is aligned for `T` (`memoryview.cast` and packed records may not
    /// be; views read unaligned elements correctly, but [`as_array`](Self::as_array) refuses).
    pub fn is_aligned(&self) -> bool {
        self.aligned != 0
    }

    /// The byte offset of `index`, or `None` if it has the wrong length or is out of bounds.
    #[inline]
    fn offset(&self, index: &[usize]) -> Option<isize> {
        if index.len() != self.ndim() {
            return None;
        }
        let mut off = 0isize;
        for ((&i, &n), &s) in index.iter().zip(self.shape()).zip(self.strides()) {
            if i >= n {
                return None;
            }
            // In bounds: the exporter's layout addresses it, so the sum cannot overflow
            // (`Export::layout` checked the extent).
            off += i as isize * s;
        }
        Some(off)
    }

    /// The element at `index` (one entry per dimension), or `None` out of bounds.
    ///
    /// ```
    /// # use pyo3::prelude::*;
    /// # use buffer_runtime::view::{PyView, Ndim};
    /// # Python::attach(|py| {
    /// let np = py.import("array").unwrap();
    /// let a = np.call_method1("array", ("i", vec![1, 2, 3])).unwrap();
    /// let v: PyView<i32, Ndim<1>> = a.extract().unwrap();
    /// assert_eq!(v.get([2]), Some(3));
    /// assert_eq!(v.get([3]), None);
    /// # });
    /// ```
    #[inline]
    pub fn get(&self, index: impl AsRef<[usize]>) -> Option<T> {
        let off = self.offset(index.as_ref())?;
        // SAFETY: `off` addresses an element inside the view (`new`'s contract).
        Some(unsafe { raw::load(self.ptr().wrapping_offset(off), self.is_aligned()) })
    }

    fn sub<E: Rank>(
        &self,
        ptr: *mut u8,
        shape: &[usize],
        strides: &[isize],
    ) -> SubView<'_, T, E, A> {
        debug_assert_eq!(E::NDIM.unwrap_or(shape.len()), shape.len());
        // SAFETY: the caller passes a sub-layout of this span (a subset of its elements), valid
        // while `&self` is borrowed.
        let span = unsafe { Span::new(ptr, E::table(shape), E::table(strides)) };
        SubView {
            span,
            _owner: PhantomData,
        }
    }

    /// The sub-view at `index` along `axis` (one dimension fewer): a row of a matrix, a plane
    /// of a volume. `None` if `axis` or `index` is out of range.
    pub fn index_axis(&self, axis: usize, index: usize) -> Option<SubView<'_, T, D::Smaller, A>> {
        let (shape, strides) = (self.shape(), self.strides());
        if axis >= shape.len() || index >= shape[axis] {
            return None;
        }
        let mut s = [0usize; MAX_NDIM];
        let mut st = [0isize; MAX_NDIM];
        let mut k = 0;
        for d in (0..shape.len()).filter(|&d| d != axis) {
            (s[k], st[k]) = (shape[d], strides[d]);
            k += 1;
        }
        let ptr = self.ptr().wrapping_offset(index as isize * strides[axis]);
        Some(self.sub(ptr, &s[..k], &st[..k]))
    }

    /// Row `index`: the sub-view at `index` along the first axis.
    pub fn row(&self, index: usize) -> Option<SubView<'_, T, D::Smaller, A>> {
        self.index_axis(0, index)
    }

    /// The 1-d lane along `axis` through `at` (one entry per dimension; `at[axis]` is ignored):
    /// a column of a matrix, the channels of one pixel.
    pub fn lane(&self, axis: usize, at: impl AsRef<[usize]>) -> Option<SubView<'_, T, Ndim<1>, A>> {
        let at = at.as_ref();
        let (shape, strides) = (self.shape(), self.strides());
        if axis >= shape.len() || at.len() != shape.len() {
            return None;
        }
        let mut off = 0isize;
        for d in (0..shape.len()).filter(|&d| d != axis) {
            if at[d] >= shape[d] {
                return None;
            }
            off += at[d] as isize * strides[d];
        }
        Some(self.sub(
            self.ptr().wrapping_offset(off),
            &shape[axis..=axis],
            &strides[axis..=axis],
        ))
    }

    /// Calls `run(start, count, step)` for each 1-d run of elements, in C order: adjacent axes
    /// that are laid out back to back are merged, so a C-contiguous view is one run.
    fn runs(&self, mut run: impl FnMut(*mut u8, usize, isize)) {
        let (shape, strides) = (self.shape(), self.strides());
        if shape.contains(&0) {
            return;
        }
        let Some(last) = shape.len().checked_sub(1) else {
            return run(self.ptr(), 1, size_of::<T>() as isize);
        };
        let (mut count, step) = (shape[last], strides[last]);
        let mut outer = last;
        while outer > 0 && strides[outer - 1] == step.wrapping_mul(count as isize) && step != 0 {
            outer -= 1;
            count *= shape[outer];
        }
        // Odometer over the axes in front of the run, last fastest.
        let mut index = [0usize; MAX_NDIM];
        let mut p = self.ptr();
        loop {
            run(p, count, step);
            let mut d = outer;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                index[d] += 1;
                p = p.wrapping_offset(strides[d]);
                if index[d] < shape[d] {
                    break;
                }
                // Wrapping: a length-1 axis may have any stride, `isize::MIN` included.
                p = p.wrapping_offset(strides[d].wrapping_mul(shape[d] as isize).wrapping_neg());
                index[d] = 0;
            }
        }
    }

    /// Calls `f` with every element in logical (C) order. Contiguous runs are copied through a
    /// local buffer, so this is as fast as a loop over a slice.
    pub fn for_each(&self, mut f: impl FnMut(T)) {
        let size = size_of::<T>() as isize;
        let aligned = self.is_aligned();
        self.runs(|p, count, step| {
            if step == size {
                let mut scratch = Scratch::<T>::new();
                let buf = scratch.slots();
                let mut done = 0;
                while done < count {
                    let n = buf.len().min(count - done);
                    // SAFETY: `n` consecutive elements from `done` lie in the run.
                    let chunk = unsafe {
                        load_chunk(
                            p.wrapping_add(done * size_of::<T>()),
                            &mut buf[..n],
                            aligned,
                        )
                    };
                    chunk.iter().for_each(|&x| f(x));
                    done += n;
                }
            } else {
                for i in 0..count {
                    // SAFETY: element `i` of the run is inside the view.
                    f(unsafe { raw::load(p.wrapping_offset(i as isize * step), aligned) });
                }
            }
        });
    }

    /// An iterator over the elements in logical (C) order.
    pub fn iter(&self) -> Iter<'_, T, D, A> {
        Iter {
            span: self,
            index: [0; MAX_NDIM],
            remaining: self.len(),
        }
    }

    /// The elements in logical (C) order, copied.
    pub fn to_vec(&self) -> Vec<T> {
        let n = self.len();
        let mut out = Vec::with_capacity(n);
        let dst = &mut out.spare_capacity_mut()[..n];
        self.copy_out(dst);
        // SAFETY: `copy_out` initialised all `n` elements.
        unsafe { out.set_len(n) };
        out
    }

    /// Copies the elements, in logical (C) order, into `dst`, which must hold exactly
    /// [`len`](Self::len) elements.
    pub fn copy_to_slice(&self, dst: &mut [T]) -> Result<(), LengthMismatch> {
        if dst.len() != self.len() {
            return Err(LengthMismatch {
                view: self.len(),
                slice: dst.len(),
            });
        }
        // SAFETY: `MaybeUninit<T>` has `T`'s layout; only valid `T`s are written to it.
        let dst = unsafe { &mut *(dst as *mut [T] as *mut [MaybeUninit<T>]) };
        self.copy_out(dst);
        Ok(())
    }

    /// Fills `dst` (of exactly `len` elements) in C order.
    fn copy_out(&self, dst: &mut [MaybeUninit<T>]) {
        debug_assert_eq!(dst.len(), self.len());
        let size = size_of::<T>() as isize;
        let aligned = self.is_aligned();
        let mut at = 0;
        self.runs(|p, count, step| {
            let out = &mut dst[at..at + count];
            if step == size {
                // SAFETY: the run's `count` elements are consecutive inside the view.
                unsafe { load_chunk(p, out, aligned) };
            } else {
                for (i, slot) in out.iter_mut().enumerate() {
                    // SAFETY: element `i` of the run is inside the view.
                    slot.write(unsafe { raw::load(p.wrapping_offset(i as isize * step), aligned) });
                }
            }
            at += count;
        });
    }
}

/// Whether an axis of `n` elements `stride` bytes apart keeps an aligned first element's
/// successors aligned for `T` (a single element has no successor).
#[inline(always)]
pub(crate) fn axis_aligned<T>(n: usize, stride: isize) -> bool {
    n <= 1
        || stride
            .unsigned_abs()
            .is_multiple_of(std::mem::align_of::<T>())
}

/// Loads `buf.len()` consecutive elements from `p` and returns them initialised.
///
/// # Safety
/// `p` is valid for reads of `buf.len()` elements; `aligned` as for `raw::load`.
#[inline(always)]
unsafe fn load_chunk<T: Element>(
    p: *const u8,
    buf: &mut [MaybeUninit<T>],
    aligned: bool,
) -> &mut [T] {
    // SAFETY: `p` addresses `buf.len()` consecutive readable elements (the caller's contract).
    unsafe { raw::load_run(p, buf, aligned) };
    // SAFETY: `load_run` initialised every slot of `buf` with a valid `T`, and
    // `MaybeUninit<T>` has the layout of `T`.
    unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<T>(), buf.len()) }
}

impl<T: Element, D: Rank> Span<T, D, Writable> {
    /// Writes `value` at `index`.
    #[inline]
    pub fn set(&self, index: impl AsRef<[usize]>, value: T) -> Result<(), OutOfBounds> {
        let off = self.offset(index.as_ref()).ok_or(OutOfBounds)?;
        // SAFETY: `off` addresses an element inside the writable view.
        unsafe { raw::store(self.ptr().wrapping_offset(off), value, self.is_aligned()) };
        Ok(())
    }

    /// Writes `value` to every element.
    pub fn fill(&self, value: T) {
        self.update(|chunk| chunk.fill(value));
    }

    /// Replaces every element `x` with `f(x)`, in logical order. Contiguous runs go through a
    /// local buffer, so `f` vectorizes where it can.
    pub fn map_inplace(&self, mut f: impl FnMut(T) -> T) {
        self.update(|chunk| chunk.iter_mut().for_each(|x| *x = f(*x)));
    }

    /// Copies `src`, in logical (C) order, into the view; `src` must hold exactly
    /// [`len`](Self::len) elements.
    pub fn copy_from_slice(&self, src: &[T]) -> Result<(), LengthMismatch> {
        if src.len() != self.len() {
            return Err(LengthMismatch {
                view: self.len(),
                slice: src.len(),
            });
        }
        let (size, aligned) = (size_of::<T>() as isize, self.is_aligned());
        let mut at = 0;
        self.runs(|p, count, step| {
            let part = &src[at..at + count];
            if step == size {
                // SAFETY: the run's `count` elements are consecutive inside the writable view.
                unsafe { raw::store_run(part, p) };
            } else {
                for (i, &v) in part.iter().enumerate() {
                    // SAFETY: element `i` of the run is inside the writable view.
                    unsafe { raw::store(p.wrapping_offset(i as isize * step), v, aligned) };
                }
            }
            at += count;
        });
        Ok(())
    }

    /// Reads chunks of elements into a local buffer, lets `f` change them, writes them back.
    fn update(&self, mut f: impl FnMut(&mut [T])) {
        let (size, aligned) = (size_of::<T>() as isize, self.is_aligned());
        let mut scratch = Scratch::<T>::new();
        let buf = scratch.slots();
        self.runs(|p, count, step| {
            let mut done = 0;
            while done < count {
                let n = buf.len().min(count - done);
                let start = p.wrapping_offset(done as isize * step);
                if step == size {
                    // SAFETY: `n` consecutive elements from `start` lie in the writable run.
                    let chunk = unsafe { load_chunk(start, &mut buf[..n], aligned) };
                    f(chunk);
                    // SAFETY: as above.
                    unsafe { raw::store_run(chunk, start) };
                } else {
                    for (i, slot) in buf[..n].iter_mut().enumerate() {
                        // SAFETY: element `i` from `start` lies in the run.
                        slot.write(unsafe {
                            raw::load(start.wrapping_offset(i as isize * step), aligned)
                        });
                    }
                    // SAFETY: the first `n` slots were just initialised.
                    let chunk =
                        unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<T>(), n) };
                    f(chunk);
                    for (i, &v) in chunk.iter().enumerate() {
                        // SAFETY: element `i` from `start` lies in the writable run.
                        unsafe { raw::store(start.wrapping_offset(i as isize * step), v, aligned) };
                    }
                }
                done += n;
            }
        });
    }
}

/// A view of part of another view's elements (a row, a plane, a lane), borrowing it.
pub struct SubView<'a, T: Element, D: Rank, A: Access> {
    span: Span<T, D, A>,
    _owner: PhantomData<&'a ()>,
}

impl<T: Element, D: Rank, A: Access> Deref for SubView<'_, T, D, A> {
    type Target = Span<T, D, A>;
    #[inline]
    fn deref(&self) -> &Span<T, D, A> {
        &self.span
    }
}

/// The elements of a view in logical (C) order ([`Span::iter`]).
pub struct Iter<'a, T: Element, D: Rank, A: Access> {
    span: &'a Span<T, D, A>,
    index: [usize; MAX_NDIM],
    remaining: usize,
}

impl<T: Element, D: Rank, A: Access> Iterator for Iter<'_, T, D, A> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let (shape, strides) = (self.span.shape(), self.span.strides());
        let n = shape.len();
        let off: isize = self.index[..n]
            .iter()
            .zip(strides)
            .map(|(&i, &s)| i as isize * s)
            .sum();
        // Odometer step, last index fastest.
        for d in (0..n).rev() {
            self.index[d] += 1;
            if self.index[d] < shape[d] {
                break;
            }
            self.index[d] = 0;
        }
        // SAFETY: the index was inside the shape (`remaining` counts the elements left).
        Some(unsafe { raw::load(self.span.ptr().wrapping_offset(off), self.span.is_aligned()) })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T: Element, D: Rank, A: Access> ExactSizeIterator for Iter<'_, T, D, A> {}

impl<'a, T: Element, D: Rank, A: Access> IntoIterator for &'a Span<T, D, A> {
    type Item = T;
    type IntoIter = Iter<'a, T, D, A>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(feature = "ndarray")]
impl<T: Element, D: Rank, A: Access> Span<T, D, A> {
    pub(crate) fn raw_parts(&self) -> (*mut u8, &[usize], &[isize]) {
        (self.ptr(), self.shape(), self.strides())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::rank::{AnyNdim, Rank};
    use std::ffi::CStr;

    /// Elements larger than the 16 KiB chunk, and one that fits twice: bounded stack either way.
    #[derive(Clone, Copy, PartialEq, Debug)]
    #[repr(C)]
    struct Big<const N: usize>([u64; N]);

    // SAFETY: a test element: any bytes are a valid array of u64; the format is not read here.
    unsafe impl<const N: usize> Element for Big<N> {
        const FORMAT: &'static CStr = c"B";
        const ANY_BITS: bool = true;
        unsafe fn load(p: *const Self) -> Self {
            // SAFETY: forwarded contract.
            unsafe { p.read() }
        }
    }

    fn round_trip<const N: usize>() {
        let n = 5;
        let mut mem: Vec<Big<N>> = (0..n).map(|i| Big([i as u64; N])).collect();
        let shape = AnyNdim::table(&[n]);
        let strides = AnyNdim::table(&[size_of::<Big<N>>() as isize]);
        // SAFETY: the span covers exactly `mem`, which outlives it and is not otherwise used.
        let span: Span<Big<N>, AnyNdim, Writable> =
            unsafe { Span::new(mem.as_mut_ptr().cast(), shape, strides) };
        let mut seen = Vec::new();
        span.for_each(|x| seen.push(x.0[0]));
        assert_eq!(seen, [0, 1, 2, 3, 4]);
        span.map_inplace(|mut x| {
            x.0[N - 1] += 10;
            x
        });
        span.fill(Big([7; N]));
        assert!(span.to_vec().iter().all(|x| x.0.iter().all(|&v| v == 7)));
        drop(span);
        assert_eq!(mem[4].0[N - 1], 7);
    }

    #[test]
    fn huge_elements_use_bounded_scratch() {
        round_trip::<1024>(); // 8 KiB: two per stack chunk
        round_trip::<4096>(); // 32 KiB: one on the heap
    }
}
