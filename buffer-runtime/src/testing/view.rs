//! The FFI view: `PyObject_GetBuffer` into a poisoned `Py_buffer`, its release, and every read
//! the kit makes through a provider's pointers (a view's layout, its tables, its elements).
//! This is the kit's unsafe core: each read is argued against what the checks before it
//! validated ([`structure`](super::oracle::structure) for the fields, a full view for the
//! elements), and memory a provider may have freed is read volatile and only compared.

use std::ffi::{c_char, CStr};
use std::os::raw::c_int;

use pyo3::ffi;
use pyo3::prelude::*;

use super::requests::FULL_RO;

/// What the integer fields of a view hold before a request: negative as `Py_ssize_t` and as
/// `c_int`, so a field left unwritten fails its check.
pub(super) const GARBAGE: i64 = -0x5A5A_5A5A;

/// Kit-owned blocks the pointers of a view point into before a request: a pointer the provider
/// does not write is recognised (and never followed as if it were the provider's).
pub(super) struct Poison {
    pub(super) table: Box<[isize; 130]>,
    pub(super) bytes: Box<[u8; 64]>,
    pub(super) format: Box<[u8; 16]>,
}

impl Poison {
    pub(super) fn new() -> Self {
        Poison {
            table: Box::new([0; 130]),
            bytes: Box::new([0; 64]),
            format: Box::new([0; 16]),
        }
    }

    /// Refills the blocks (a provider may have written into them) and poisons `v`.
    pub(super) fn fill(&mut self, v: &mut ffi::Py_buffer) {
        self.table.fill(GARBAGE as isize);
        self.bytes.fill(0x5A);
        self.format.copy_from_slice(b"\x7fpoisoned view!\0");
        v.buf = self.bytes.as_mut_ptr().cast();
        v.obj = std::ptr::null_mut();
        v.len = GARBAGE as ffi::Py_ssize_t;
        v.itemsize = GARBAGE as ffi::Py_ssize_t;
        v.readonly = GARBAGE as c_int;
        v.ndim = GARBAGE as c_int;
        v.format = self.format.as_mut_ptr().cast();
        v.shape = self.table.as_mut_ptr();
        v.strides = self.table.as_mut_ptr().wrapping_add(65);
        v.suboffsets = self.table.as_mut_ptr().wrapping_add(1);
        v.internal = self.bytes.as_mut_ptr().wrapping_add(32).cast();
    }

    pub(super) fn owns(&self, p: *const u8) -> bool {
        let t = self.table.as_ptr() as usize
            ..self.table.as_ptr() as usize + std::mem::size_of_val(&*self.table);
        let b = self.bytes.as_ptr() as usize..self.bytes.as_ptr() as usize + 64;
        let f = self.format.as_ptr() as usize..self.format.as_ptr() as usize + 16;
        let p = p as usize;
        t.contains(&p) || b.contains(&p) || f.contains(&p)
    }
}

/// A view the checker got and still has to release. Boxed: a provider may point `shape` and
/// `strides` into the view itself (`PyBuffer_FillInfo` does), so the view never moves.
pub(super) struct View {
    pub(super) raw: Box<ffi::Py_buffer>,
    /// The export gave no new reference and the kit added one.
    pub(super) compensated: bool,
}

/// A failed request.
pub(super) struct Refusal {
    pub(super) err: Option<PyErr>,
    pub(super) rc: c_int,
    /// `view.obj` was left non-NULL.
    pub(super) obj_left: bool,
    /// ... with a reference to the object, which the kit gave back.
    pub(super) ref_given_back: bool,
}

/// `PyObject_GetBuffer` into a poisoned view.
pub(super) fn get(
    obj: &Bound<'_, PyAny>,
    flags: c_int,
    poison: &mut Poison,
) -> Result<View, Refusal> {
    let mut raw = Box::new(ffi::Py_buffer::new());
    poison.fill(&mut raw);
    let before = refcount(obj);
    // SAFETY: `obj` is a live object (we hold a reference, the GIL is held through `obj`'s
    // token) and `raw` is a writable `Py_buffer`.
    let rc = unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), &mut *raw, flags) };
    if rc == 0 {
        let mut compensated = false;
        if raw.obj == obj.as_ptr() && refcount(obj) <= before {
            // SAFETY: `obj` is live; this reference is the one `PyBuffer_Release` will drop.
            unsafe { ffi::Py_IncRef(obj.as_ptr()) };
            compensated = true;
        }
        Ok(View { raw, compensated })
    } else {
        let err = PyErr::take(obj.py());
        let obj_left = !raw.obj.is_null();
        let mut ref_given_back = false;
        if raw.obj == obj.as_ptr() && refcount(obj) == before + 1 {
            // SAFETY: the failed export took a reference nobody will release; give it back.
            unsafe { ffi::Py_DecRef(obj.as_ptr()) };
            ref_given_back = true;
        }
        Err(Refusal {
            err,
            rc,
            obj_left,
            ref_given_back,
        })
    }
}

impl View {
    /// Releases the view if `view.obj` is the object (else releasing would decref something
    /// the provider never gave); returns whether it did.
    pub(super) fn release_if_owned(self, obj: &Bound<'_, PyAny>) -> bool {
        if self.raw.obj == obj.as_ptr() {
            self.release();
            true
        } else {
            false
        }
    }

    pub(super) fn release(mut self) {
        // SAFETY: `raw` was filled by a successful `PyObject_GetBuffer` and is released once.
        unsafe { ffi::PyBuffer_Release(&mut *self.raw) };
    }
}

/// The layout of a view, copied out so that it outlives the view.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ViewLayout {
    pub(super) buf: usize,
    pub(super) len: isize,
    pub(super) itemsize: isize,
    pub(super) readonly: bool,
    pub(super) ndim: c_int,
    pub(super) format: Option<Vec<u8>>,
    /// Without `PyBUF_ND`: one dimension of `len / itemsize` items.
    pub(super) shape: Vec<isize>,
    /// C strides when the view has none.
    pub(super) strides: Vec<isize>,
    pub(super) suboffsets: Option<Vec<isize>>,
}

impl ViewLayout {
    /// Copies the layout of a view that passed `oracle::structure`.
    pub(super) fn of(v: &ffi::Py_buffer, nd: bool) -> ViewLayout {
        let n = usize::try_from(v.ndim).unwrap_or(0);
        let shape = if !nd {
            vec![v.len / v.itemsize.max(1)]
        } else if v.shape.is_null() {
            Vec::new()
        } else {
            // SAFETY: the view passed `structure`: a non-NULL `shape` points to `ndim` entries,
            // valid until the view is released (after this copy).
            unsafe { std::slice::from_raw_parts(v.shape, n) }.to_vec()
        };
        let strides = if v.strides.is_null() || !nd {
            c_strides_of(&shape, v.itemsize)
        } else {
            // SAFETY: as for `shape`: a non-NULL `strides` points to `ndim` entries.
            unsafe { std::slice::from_raw_parts(v.strides, n) }.to_vec()
        };
        let format = (!v.format.is_null()).then(|| {
            // SAFETY: the view passed `structure`: a non-NULL `format` is NUL-terminated and
            // valid until release.
            unsafe { CStr::from_ptr(v.format) }.to_bytes().to_vec()
        });
        let suboffsets = (!v.suboffsets.is_null()).then(|| {
            // SAFETY: as for `shape`: a non-NULL `suboffsets` points to `ndim` entries.
            unsafe { std::slice::from_raw_parts(v.suboffsets, n) }.to_vec()
        });
        ViewLayout {
            buf: v.buf as usize,
            len: v.len,
            itemsize: v.itemsize,
            readonly: v.readonly != 0,
            ndim: v.ndim,
            format,
            shape,
            strides,
            suboffsets,
        }
    }

    pub(super) fn format_str(&self) -> String {
        self.format
            .as_ref()
            .map_or("B".into(), |f| String::from_utf8_lossy(f).into_owned())
    }

    pub(super) fn count(&self) -> usize {
        self.shape.iter().map(|&d| d.max(0) as usize).product()
    }

    pub(super) fn c_contiguous(&self) -> bool {
        self.suboffsets.is_none() && contiguous(&self.shape, &self.strides, self.itemsize, false)
    }
    pub(super) fn f_contiguous(&self) -> bool {
        self.suboffsets.is_none() && contiguous(&self.shape, &self.strides, self.itemsize, true)
    }
}

/// CPython's precise contiguity (`PyBuffer_IsContiguous`): a dimension of length 1 ignores its
/// stride, and any dimension of length 0 makes the buffer contiguous. Used where the kit has
/// no live view to ask CPython about.
pub(super) fn contiguous(
    shape: &[isize],
    strides: &[isize],
    itemsize: isize,
    fortran: bool,
) -> bool {
    if shape.contains(&0) {
        return true;
    }
    let mut expected = itemsize;
    let dims: Vec<usize> = if fortran {
        (0..shape.len()).collect()
    } else {
        (0..shape.len()).rev().collect()
    };
    for i in dims {
        if shape[i] > 1 && strides[i] != expected {
            return false;
        }
        expected = expected.saturating_mul(shape[i]);
    }
    true
}

/// CPython's `PyBuffer_IsContiguous` on a live view that passed `oracle::structure`.
pub(super) fn cpython_contiguous(v: &ffi::Py_buffer, order: u8) -> bool {
    // SAFETY: the view passed `structure` (shape present whenever strides are).
    unsafe { ffi::PyBuffer_IsContiguous(v, order as c_char) == 1 }
}

pub(super) fn c_strides_of(shape: &[isize], itemsize: isize) -> Vec<isize> {
    let mut out = vec![0; shape.len()];
    let mut step = itemsize;
    for i in (0..shape.len()).rev() {
        out[i] = step;
        step = step.saturating_mul(shape[i]);
    }
    out
}

pub(super) fn refcount(obj: &Bound<'_, PyAny>) -> isize {
    // SAFETY: `obj` is a live object and the GIL is held.
    unsafe { ffi::Py_REFCNT(obj.as_ptr()) }
}

pub(super) fn describe(err: &Option<PyErr>, py: Python<'_>) -> String {
    match err {
        Some(e) => {
            let ty = e
                .get_type(py)
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "?".into());
            format!("{ty}: {}", e.value(py))
        }
        None => "no exception set".into(),
    }
}

/// A served view's fields and the contents of its tables, right after the request.
pub(super) struct Snapshot {
    pub(super) fields: (usize, isize, isize, c_int, c_int),
    pub(super) format: Option<Vec<u8>>,
    pub(super) shape: Option<Vec<isize>>,
    pub(super) strides: Option<Vec<isize>>,
}

/// Reads `n` entries behind a pointer that may have been freed since (a bug the kit looks for):
/// volatile reads, never turned into references.
///
/// # Safety
/// `p` pointed to `n` readable entries of a view's table when the view was served; the view is
/// not released yet (the provider may have freed or rewritten the table since: the kit reads
/// it only to compare).
pub(super) unsafe fn read_table(p: *const isize, n: usize) -> Vec<isize> {
    (0..n)
        .map(|i| {
            // SAFETY: entry `i < n` of the table (contract); read volatile, by value.
            unsafe { p.wrapping_add(i).read_volatile() }
        })
        .collect()
}

impl Snapshot {
    pub(super) fn take(v: &ffi::Py_buffer) -> Snapshot {
        let n = usize::try_from(v.ndim).unwrap_or(0).min(64);
        // A view the provider just served, from a request that was served cleanly before: its
        // tables have `ndim` entries and its format is NUL-terminated.
        Snapshot {
            fields: (v.buf as usize, v.len, v.itemsize, v.ndim, v.readonly),
            format: (!v.format.is_null()).then(|| {
                // SAFETY: a non-NULL format of such a view is NUL-terminated, valid until
                // release.
                unsafe { CStr::from_ptr(v.format) }
                    .to_bytes_with_nul()
                    .to_vec()
            }),
            shape: (!v.shape.is_null()).then(|| {
                // SAFETY: `shape` has `ndim` (at most 64) entries and the view is live.
                unsafe { read_table(v.shape, n) }
            }),
            strides: (!v.strides.is_null()).then(|| {
                // SAFETY: as for `shape`.
                unsafe { read_table(v.strides, n) }
            }),
        }
    }

    /// What differs now, if anything.
    pub(super) fn changed(&self, v: &ffi::Py_buffer) -> Option<String> {
        let fields = (v.buf as usize, v.len, v.itemsize, v.ndim, v.readonly);
        if fields != self.fields {
            return Some(format!(
                "(buf, len, itemsize, ndim, readonly) {:?} became {fields:?}",
                self.fields
            ));
        }
        // The same pointers as at `take`, read with the lengths seen then (a freed table is
        // read, not trusted: only compared).
        {
            if let Some(f) = &self.format {
                let now: Vec<u8> = (0..f.len())
                    .map(|i| {
                        // SAFETY: byte `i` of the format `take` copied (with its NUL), from a
                        // view not yet released; read volatile, by value.
                        unsafe { v.format.cast::<u8>().wrapping_add(i).read_volatile() }
                    })
                    .collect();
                if &now != f {
                    return Some(format!(
                        "format {:?} became {:?} (freed or rewritten)",
                        String::from_utf8_lossy(&f[..f.len() - 1]),
                        String::from_utf8_lossy(&now)
                    ));
                }
            }
            for (what, old, p) in [
                ("shape", &self.shape, v.shape),
                ("strides", &self.strides, v.strides),
            ] {
                if let Some(old) = old {
                    // SAFETY: the table `take` read `old.len()` entries of, from a view not yet
                    // released.
                    let now = unsafe { read_table(p, old.len()) };
                    if &now != old {
                        return Some(format!(
                            "{what} {old:?} became {now:?} (freed or rewritten)"
                        ));
                    }
                }
            }
        }
        None
    }
}

/// Address of the element with flat C-order index `k`.
pub(super) fn element_ptr(l: &ViewLayout, k: usize) -> *mut u8 {
    let mut rest = k;
    let mut off = 0isize;
    for d in (0..l.shape.len()).rev() {
        let n = l.shape[d].max(1) as usize;
        off += (rest % n) as isize * l.strides[d];
        rest /= n;
    }
    (l.buf as *mut u8).wrapping_offset(off)
}

/// The bytes of the elements at `indices`, read through `l`'s buf and strides.
pub(super) fn elements(l: &ViewLayout, indices: &[usize]) -> Vec<u8> {
    let item = l.itemsize.max(0) as usize;
    let mut out = Vec::with_capacity(indices.len() * item);
    for &k in indices {
        let p = element_ptr(l, k);
        out.extend((0..item).map(|j| {
            // SAFETY: byte `j < itemsize` of an element of `l`, the layout of a live view that
            // passed the checks: readable memory by the protocol. Volatile byte reads: another
            // view may write.
            unsafe { p.wrapping_add(j).read_volatile() }
        }));
    }
    out
}

/// The same for a view without `PyBUF_ND` (bytes in C order).
pub(super) fn elements_flat(l: &ViewLayout, itemsize: isize, indices: &[usize]) -> Vec<u8> {
    let item = itemsize as usize;
    let mut out = Vec::with_capacity(indices.len() * item);
    for &k in indices {
        if (k + 1) * item > l.len as usize {
            break;
        }
        let p = (l.buf as *const u8).wrapping_add(k * item);
        out.extend((0..item).map(|j| {
            // SAFETY: inside `len` bytes from `buf` (checked above), a live view's memory.
            unsafe { p.wrapping_add(j).read_volatile() }
        }));
    }
    out
}

/// The full view's elements through a fresh PyBUF_FULL_RO view.
pub(super) fn elements_of_obj(
    obj: &Bound<'_, PyAny>,
    full: &ViewLayout,
    poison: &mut Poison,
) -> Option<Vec<u8>> {
    let v = get(obj, FULL_RO, poison).ok()?;
    let l = ViewLayout::of(&v.raw, true);
    let out = (l == *full).then(|| elements(&l, &(0..l.count()).collect::<Vec<_>>()));
    v.release_if_owned(obj);
    out
}

/// Flips every byte of the elements at `indices` (`!b`), through `l`'s buf and strides: done
/// twice, the memory is as it was.
///
/// # Safety
/// `l` is the layout of a live, writable view that passed the checks (its elements are
/// writable memory by the protocol), and `indices` are below `l.count()`.
pub(super) unsafe fn flip_bytes(l: &ViewLayout, indices: &[usize]) {
    let item = l.itemsize.max(0) as usize;
    for &k in indices {
        let p = element_ptr(l, k);
        for j in 0..item {
            let q = p.wrapping_add(j);
            // SAFETY: byte `j < itemsize` of element `k` of a live view (contract); volatile,
            // by value: another view may access it.
            let b = unsafe { q.read_volatile() };
            // SAFETY: the same byte, writable (contract).
            unsafe { q.write_volatile(!b) };
        }
    }
}
