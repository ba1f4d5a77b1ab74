//! One export held by a consumer: `PyObject_GetBuffer` on creation, `PyBuffer_Release` on drop,
//! and the exporter's answer checked field by field before anything is read through it.

use std::ffi::CStr;
use std::fmt::Write as _;
use std::mem::{size_of, MaybeUninit};
use std::os::raw::c_int;
use std::ptr::NonNull;

use pyo3::ffi;
use pyo3::{Bound, PyAny, PyErr, Python};

use crate::layout::{byte_extent, contiguous_strides, element_count, Order, Table, MAX_NDIM};

use super::contig::Contiguity;
use super::format;
use super::rank::Rank;
use super::span::{axis_aligned, Access, Span};
use crate::element::Element;

/// A buffer export that this consumer owns and releases exactly once.
///
/// Filled where it then stays (the view's block, `held.rs`), except for [`Export::acquire`]'s
/// callers, which move it: a consumer may release a copy of the view (CPython's rule;
/// exporters key their state on `obj` and `internal`). But `shape` and
/// `strides` may point into the view itself (`PyBuffer_FillInfo` points them at `len` and
/// `itemsize`: `bytes`, `bytearray`, `array.array`), so they are read only through
/// [`Fields`], while the view is still where the exporter filled it, and copied out.
pub(crate) struct Export {
    view: ffi::Py_buffer,
}

/// The fields of an export at the address the exporter filled: what [`Export::acquire`] lets
/// its caller inspect before the view moves.
#[repr(transparent)]
pub(crate) struct Fields {
    view: ffi::Py_buffer,
}

// SAFETY: the view is only used to release the export, which happens attached to the
// interpreter (`Drop`), from whichever thread drops it; CPython allows releasing from any
// thread that holds an attachment.
unsafe impl Send for Export {}
// SAFETY: `&Export` gives access to no pointer field.
unsafe impl Sync for Export {}

impl Export {
    /// Asks `obj` for a buffer with `flags` and lets `inspect` read it in place; the exporter's
    /// exception on refusal. Whatever `inspect` returns, the export is owned (and released on
    /// drop) by the returned `Export`.
    #[inline(always)]
    pub fn acquire<R>(
        obj: &Bound<'_, PyAny>,
        flags: c_int,
        inspect: impl FnOnce(&Fields) -> R,
    ) -> Result<(Export, R), PyErr> {
        let mut view = MaybeUninit::<ffi::Py_buffer>::zeroed();
        // SAFETY: `view` is valid for writes; on success it is filled and ours to release.
        let rc = unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), view.as_mut_ptr(), flags) };
        if rc != 0 {
            return Err(PyErr::fetch(obj.py()));
        }
        // Releases the export if `inspect` panics, before any `Export` owns it.
        struct Unwinding<'v>(&'v mut MaybeUninit<ffi::Py_buffer>);
        impl Drop for Unwinding<'_> {
            fn drop(&mut self) {
                // SAFETY: filled by the successful call, released only here on this path.
                unsafe { ffi::PyBuffer_Release(self.0.as_mut_ptr()) }
            }
        }
        let guard = Unwinding(&mut view);
        // SAFETY: filled by the successful call (zeroed before, so every field is initialised);
        // `Fields` is a transparent wrapper of `Py_buffer`, and `view` stays put while borrowed.
        let seen = inspect(unsafe { &*guard.0.as_ptr().cast::<Fields>() });
        std::mem::forget(guard);
        // SAFETY: as above; from here on only `obj`, `internal` and `readonly` are used.
        let view = unsafe { view.assume_init() };
        Ok((Export { view }, seen))
    }

    /// The view inside an `Export` being built in place.
    ///
    /// # Safety
    /// `export` is valid for writes (it may be uninitialised).
    #[inline(always)]
    pub unsafe fn view_ptr(export: *mut Export) -> *mut ffi::Py_buffer {
        // SAFETY: a field address of a valid pointer (contract).
        unsafe { std::ptr::addr_of_mut!((*export).view) }
    }

    /// Asks `obj` for a buffer with `flags` into `*view` (zeroed first, so that every field is
    /// initialised whatever the exporter writes); the exporter's exception on refusal.
    ///
    /// # Safety
    /// `view` is valid for writes; on `Ok` the caller owns the export and releases it once
    /// (`PyBuffer_Release`, or by making the memory an `Export` and dropping it).
    #[inline(always)]
    pub unsafe fn fill(
        obj: &Bound<'_, PyAny>,
        flags: c_int,
        view: *mut ffi::Py_buffer,
    ) -> Result<(), PyErr> {
        // SAFETY: `view` is valid for writes (contract).
        unsafe { view.write_bytes(0, 1) };
        // SAFETY: `obj` is live, `view` valid for writes; on success the caller owns the export.
        let rc = unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), view, flags) };
        if rc != 0 {
            return Err(PyErr::fetch(obj.py()));
        }
        Ok(())
    }

    /// Whether the exporter reported read-only memory.
    pub fn readonly(&self) -> bool {
        self.view.readonly != 0
    }
}

impl Fields {
    pub fn readonly(&self) -> bool {
        self.view.readonly != 0
    }

    pub fn itemsize(&self) -> isize {
        self.view.itemsize
    }

    /// The item format (`B` when the exporter gave none, as CPython's consumers assume).
    pub fn format(&self) -> &CStr {
        let f = self.view.format;
        format::or_unsigned_bytes((!f.is_null()).then(|| {
            // SAFETY: a non-null format is a NUL-terminated string valid while the view is.
            unsafe { CStr::from_ptr(f) }
        }))
    }

    /// Whether the exporter's format is exactly `want` (a NULL format is `B`): compared byte by
    /// byte in place, without measuring the exporter's string first.
    #[inline]
    pub fn format_is(&self, want: &CStr) -> bool {
        let f = self.view.format;
        if f.is_null() {
            return want.to_bytes() == b"B";
        }
        for (i, &w) in want.to_bytes_with_nul().iter().enumerate() {
            // SAFETY: a non-null format is NUL-terminated and valid while the view is; bytes
            // `0..i` of it equalled `want`'s, which are not NUL, so its NUL is not before `i`.
            let b = unsafe { *f.wrapping_add(i) } as u8;
            if b != w {
                return false;
            }
        }
        true
    }

    /// The exporter's `ndim`, if it is one a buffer may have.
    fn ndim(&self) -> Option<usize> {
        usize::try_from(self.view.ndim)
            .ok()
            .filter(|&n| n <= MAX_NDIM)
    }

    /// The exporter's shape as given (`None` when NULL or `ndim` is out of range).
    fn raw_shape(&self) -> Option<&[isize]> {
        let n = self.ndim()?;
        if self.view.shape.is_null() || n == 0 {
            return (n == 0).then_some(&[]);
        }
        // SAFETY: a non-null shape has `ndim` entries valid while the view is (exporter's
        // contract; nothing else can be checked).
        Some(unsafe { std::slice::from_raw_parts(self.view.shape, n) })
    }

    fn raw_strides(&self) -> Option<&[isize]> {
        let n = self.ndim()?;
        if self.view.strides.is_null() || n == 0 {
            return None;
        }
        // SAFETY: as for `raw_shape`.
        Some(unsafe { std::slice::from_raw_parts(self.view.strides, n) })
    }

    fn suboffsets(&self) -> Option<&[isize]> {
        let n = self.ndim()?;
        if self.view.suboffsets.is_null() || n == 0 {
            return None;
        }
        // SAFETY: as for `raw_shape`.
        Some(unsafe { std::slice::from_raw_parts(self.view.suboffsets, n) })
    }

    /// The span of a view of `T`, `D`, `L` for the common answer, checked in one pass and
    /// written in place at `out`: shape and strides given, no suboffsets, no empty dimension,
    /// a non-null `buf`, items of `size_of::<T>()` bytes, tables that fit inline. `false` means
    /// "not that case" (or a refusal) and leaves `*out` uninitialised: the full path
    /// ([`layout_checked`](Self::layout_checked)) decides, so the result is always the full
    /// path's.
    ///
    /// # Safety
    /// `out` is valid for writes.
    #[inline(always)]
    pub(crate) unsafe fn span_fast<T: Element, D: Rank, L: Contiguity, A: Access>(
        &self,
        out: *mut Span<T, D, A>,
    ) -> bool {
        let v = &self.view;
        let Some(n) = self.ndim() else {
            return false;
        };
        let size = size_of::<T>();
        if n == 0
            || v.shape.is_null()
            || v.strides.is_null()
            || !v.suboffsets.is_null()
            || size == 0
            || v.itemsize != size as isize
        {
            return false;
        }
        let Some(buf) = NonNull::new(v.buf.cast::<u8>()) else {
            return false;
        };
        // SAFETY: `out` is valid for writes (contract).
        let (shape_at, strides_at) = unsafe { Span::tables_at(out) };
        // SAFETY: `shape_at` is valid for writes; `*out` counts as uninitialised until
        // `finish_at`.
        let Some(shape_out) = (unsafe { D::inline_slots(shape_at, n) }) else {
            return false;
        };
        // SAFETY: as above.
        let Some(strides_out) = (unsafe { D::inline_slots(strides_at, n) }) else {
            return false;
        };
        // SAFETY: a non-null shape has `ndim` entries valid while the view is (exporter's
        // contract, as in `raw_shape`).
        let shape = unsafe { std::slice::from_raw_parts(v.shape, n) };
        // SAFETY: as above, for the strides.
        let strides = unsafe { std::slice::from_raw_parts(v.strides, n) };
        // The full path's checks, fused with the copy into the span (each entry read once):
        // every dim > 0, the element count and `len`, the byte extent without overflow
        // (`byte_extent`), and whether every element is aligned (`Span::new`).
        let (mut count, mut low, mut high) = (1usize, 0isize, 0isize);
        let mut aligned = (buf.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>());
        for (i, (&d, &st)) in shape.iter().zip(strides).enumerate() {
            if d <= 0 {
                return false;
            }
            let Some(c) = count.checked_mul(d as usize) else {
                return false;
            };
            count = c;
            let Some(reach) = st.checked_mul(d - 1) else {
                return false;
            };
            let end = if reach < 0 { &mut low } else { &mut high };
            match end.checked_add(reach) {
                Some(e) => *end = e,
                None => return false,
            }
            aligned &= axis_aligned::<T>(d as usize, st);
            // SAFETY: slot `i < n` of the shape table (`inline_slots`).
            let shape_slot = unsafe { shape_out.add(i) };
            // SAFETY: as above, of the strides table.
            let stride_slot = unsafe { strides_out.add(i) };
            // SAFETY: a slot of the shape table, valid for writes.
            unsafe { shape_slot.write(d as usize) };
            // SAFETY: as above, of the strides table.
            unsafe { stride_slot.write(st) };
        }
        debug_assert!(low <= 0);
        if high.checked_add(v.itemsize).is_none() {
            return false;
        }
        // The byte size must fit `Py_ssize_t` before it is compared with `len`: a wrapping
        // cast would let a negative `len` match (found by the `views` fuzz target).
        let bytes = count
            .checked_mul(size)
            .and_then(|b| isize::try_from(b).ok());
        if bytes != Some(v.len) {
            return false;
        }
        // SAFETY: all `n` slots of the shape table were written in the loop.
        let shape = unsafe { std::slice::from_raw_parts(shape_out, n) };
        // SAFETY: as above, for the strides.
        let strides = unsafe { std::slice::from_raw_parts(strides_out, n) };
        if !L::accepts(shape, strides, size) {
            return false;
        }
        // SAFETY: the tables are initialised and hold the layout checked above, which the
        // export (held beside the span for its whole life) keeps valid; `aligned` as
        // `finish_at` asks.
        unsafe { Span::finish_at(out, buf, aligned) };
        true
    }

    /// The layout as a consumer may use it: CPython's rules for sloppy exporters applied
    /// (NULL strides are C strides, NULL shape is 1-D of `len / itemsize`), every field that
    /// addresses memory checked, and the result in tables of rank `D`.
    #[inline(never)]
    pub(crate) fn layout_checked<D: Rank>(&self) -> Result<CheckedLayout<D>, String> {
        let v = &self.view;
        self.ndim()
            .ok_or_else(|| format!("the exporter reported ndim = {}", v.ndim))?;
        let itemsize = usize::try_from(v.itemsize)
            .ok()
            .filter(|&s| s > 0)
            .ok_or_else(|| format!("the exporter reported itemsize = {}", v.itemsize))?;
        let len =
            usize::try_from(v.len).map_err(|_| format!("the exporter reported len = {}", v.len))?;
        // Tables of `ndim` entries, uninitialised beyond (zeroing 2 x 64 entries per view costs
        // more than the rest of the checks).
        let mut shape = Table::<usize>::new();
        match self.raw_shape() {
            Some(raw) => {
                for &d in raw {
                    let d = usize::try_from(d)
                        .map_err(|_| format!("the exporter reported shape {raw:?}"))?;
                    shape
                        .push(d)
                        .map_err(|_| "too many dimensions".to_string())?;
                }
            }
            None if len % itemsize == 0 => {
                shape.filled(1, len / itemsize);
            }
            None => {
                return Err(format!(
                    "no shape, and len {len} is not a multiple of itemsize {itemsize}"
                ))
            }
        };
        let shape = shape.as_slice();
        let ndim = shape.len();
        if let Some(want) = D::NDIM {
            if want != ndim {
                return Err(String::new()); // described by the caller, who knows the want
            }
        }
        let count = element_count(shape).ok_or("the shape's size overflows")?;
        if count.checked_mul(itemsize) != Some(len) {
            return Err(format!(
                "the exporter reported len = {len}, but shape {shape:?} of {itemsize}-byte items is {} bytes",
                count.saturating_mul(itemsize)
            ));
        }
        if self.suboffsets().is_some_and(|s| s.iter().any(|&o| o >= 0)) {
            return Err(
                "it has PIL-style suboffsets (indirect memory), which views do not follow".into(),
            );
        }
        let mut own_strides = Table::<isize>::new();
        let strides: &[isize] = match self.raw_strides() {
            // Strides belong to the exporter's shape: without one, the data is 1-d bytes.
            Some(raw) if raw.len() == ndim && self.raw_shape().is_some() => raw,
            _ => {
                let out = own_strides.filled(ndim, 0);
                contiguous_strides(shape, itemsize, Order::C, out);
                out
            }
        };
        byte_extent(shape, strides, itemsize).ok_or("its strides overflow the address space")?;
        if count > 0 && v.buf.is_null() {
            return Err("the exporter reported a NULL buf".into());
        }
        Ok(CheckedLayout {
            ptr: v.buf.cast(),
            shape: D::table(shape),
            strides: D::table(strides),
            itemsize,
        })
    }

    /// What the exporter handed over, for error messages: `a read-only 2-d buffer of '<i4'
    /// (format 'i') with shape (2, 2) and strides (8, 4)`.
    pub fn describe(&self) -> String {
        let mut s = String::from("a ");
        if self.readonly() {
            s.push_str("read-only ");
        }
        match self.ndim() {
            Some(n) => write!(s, "{n}-d buffer"),
            None => write!(s, "buffer with ndim {}", self.view.ndim),
        }
        .ok();
        let (typestr, raw) = (
            format::typestr(self.format()),
            self.format().to_string_lossy(),
        );
        write!(s, " of '{typestr}'").ok();
        if typestr != raw {
            write!(s, " (format '{raw}')").ok();
        }
        let itemsize = self.itemsize();
        if format::parse_scalar(self.format().to_bytes())
            .is_none_or(|f| f.size as isize != itemsize)
        {
            write!(s, " with itemsize {itemsize}").ok();
        }
        if let Some(shape) = self.raw_shape().filter(|s| !s.is_empty()) {
            write!(s, " with shape {}", tuple(shape)).ok();
            match self.raw_strides() {
                Some(st) => write!(s, " and strides {}", tuple(st)),
                None => write!(s, " and no strides"),
            }
            .ok();
        }
        if let Some(sub) = self.suboffsets() {
            write!(s, " and suboffsets {}", tuple(sub)).ok();
        }
        s
    }
}

impl Drop for Export {
    fn drop(&mut self) {
        // Re-attaches if dropped while detached (a view moved into `py.detach`). At interpreter
        // shutdown, when no thread can attach, the export is left to the dying interpreter.
        Python::try_attach(|_| {
            // SAFETY: the view was filled by `PyObject_GetBuffer` and is released once.
            unsafe { ffi::PyBuffer_Release(&mut self.view) }
        });
    }
}

/// A checked layout: `ptr` addresses element `(0, ..., 0)`; every index inside `shape` is
/// `ptr + Σ index·stride` bytes away, inside the exporter's memory (the exporter's contract,
/// with the fields checked for consistency).
pub(crate) struct CheckedLayout<D: Rank> {
    pub ptr: *mut u8,
    pub shape: D::Table<usize>,
    pub strides: D::Table<isize>,
    pub itemsize: usize,
}

/// `(2, 3)` / `(2,)` / `()`, as Python prints tuples.
pub(crate) fn tuple<X: std::fmt::Display>(values: &[X]) -> String {
    let mut s = String::from("(");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        write!(s, "{v}").ok();
    }
    if values.len() == 1 {
        s.push(',');
    }
    s.push(')');
    s
}
