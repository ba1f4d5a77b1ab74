//! `Hostile`: a deliberately sloppy exporter. A TEST FIXTURE ONLY, never a model to copy.
//!
//! It hands every consumer exactly the `Py_buffer` fields it was built with, whatever the
//! request flags say: NULL strides, NULL shape with `ndim > 0`, a `len` that disagrees with
//! shape × itemsize, negative shape entries, `ndim` 65 or -1, a wrong or zero `itemsize`,
//! PIL-style suboffsets, a NULL `buf` with elements, a NULL `format`, read-only memory for a
//! `PyBUF_WRITABLE` request. The consumer views must refuse (or read correctly) every one of
//! them, and release what they got.
//!
//! Nothing here checks that `shape`, `strides`, `offset` and `suboffsets` stay inside `data`:
//! the Python test that builds a `Hostile` chooses a layout inside the bytes it gives (and
//! must make `data` large enough for it). The only check is that each table given has at
//! least `ndim` entries, so that a consumer reading `ndim` entries stays inside the table.
//!
//! The class-wide count of live exports (`Hostile.exports()`, +1 in `__getbuffer__`, -1 in
//! `__releasebuffer__`) lets the tests check that refused views released their export.

use std::ffi::{c_int, CString};
use std::ptr;
use std::sync::atomic::{AtomicIsize, AtomicU8, Ordering};

use pyo3::exceptions::{PyBufferError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Live exports of every `Hostile` object.
static EXPORTS: AtomicIsize = AtomicIsize::new(0);

/// An exporter that fills the view with exactly the given fields, regardless of the request.
///
/// `Hostile(data, format, itemsize, ndim, shape, strides, length, suboffsets=None,
/// readonly=True, offset=0)`: `data=None` gives a NULL `buf`, otherwise `buf` is
/// `data + offset`; `format`, `shape`, `strides`, `suboffsets` of None are NULL pointers.
#[pyclass(module = "buffer_examples", frozen)]
pub struct Hostile {
    /// The bytes the view points into, owned by the (frozen, so never moved) object. A boxed
    /// slice of `AtomicU8` rather than `u8`: a view exported with `readonly=False` may write
    /// through the pointer while the object is shared, which needs interior mutability.
    data: Option<Box<[AtomicU8]>>,
    format: Option<CString>,
    itemsize: isize,
    ndim: c_int,
    shape: Option<Box<[isize]>>,
    strides: Option<Box<[isize]>>,
    suboffsets: Option<Box<[isize]>>,
    len: isize,
    readonly: bool,
    offset: isize,
}

/// A table for the view (NULL for None). The consumer only reads it (buffer protocol).
fn table_ptr(t: &Option<Box<[isize]>>) -> *mut ffi::Py_ssize_t {
    t.as_ref()
        .map_or(ptr::null_mut(), |t| t.as_ptr().cast_mut())
}

/// `values`, refused if a consumer reading `ndim` entries would read past its end.
fn table(name: &str, values: Option<Vec<isize>>, ndim: c_int) -> PyResult<Option<Box<[isize]>>> {
    match values {
        Some(v) if ndim > 0 && v.len() < ndim as usize => Err(PyValueError::new_err(format!(
            "{name} has {} entries but ndim is {ndim}: a consumer would read past it",
            v.len()
        ))),
        v => Ok(v.map(Vec::into_boxed_slice)),
    }
}

#[pymethods]
impl Hostile {
    #[new]
    #[pyo3(signature = (data, format, itemsize, ndim, shape, strides, length, suboffsets = None, readonly = true, offset = 0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        data: Option<Bound<'_, PyBytes>>,
        format: Option<&str>,
        itemsize: isize,
        ndim: c_int,
        shape: Option<Vec<isize>>,
        strides: Option<Vec<isize>>,
        length: isize,
        suboffsets: Option<Vec<isize>>,
        readonly: bool,
        offset: isize,
    ) -> PyResult<Self> {
        let format = format
            .map(|f| {
                CString::new(f).map_err(|_| PyValueError::new_err("format contains a NUL byte"))
            })
            .transpose()?;
        Ok(Hostile {
            data: data.map(|d| d.as_bytes().iter().map(|&b| AtomicU8::new(b)).collect()),
            format,
            itemsize,
            ndim,
            shape: table("shape", shape, ndim)?,
            strides: table("strides", strides, ndim)?,
            suboffsets: table("suboffsets", suboffsets, ndim)?,
            len: length,
            readonly,
            offset,
        })
    }

    /// Fills `view` with the stored fields, ignoring `flags`; `obj` is set last.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        _flags: c_int,
    ) -> PyResult<()> {
        if view.is_null() {
            return Err(PyBufferError::new_err("Hostile: NULL view"));
        }
        let this = slf.get();
        let buf = this.data.as_ref().map_or(ptr::null_mut(), |d| {
            // `AtomicU8` is an `UnsafeCell<u8>`: the pointer may be written through. Wrapping
            // arithmetic: the offset is the test's to choose and is only computed here.
            d.as_ptr()
                .cast::<u8>()
                .cast_mut()
                .wrapping_offset(this.offset)
                .cast()
        });
        let mut fields = ffi::Py_buffer::new(); // NULL `obj` and `internal`
        fields.buf = buf;
        fields.len = this.len;
        fields.itemsize = this.itemsize;
        fields.readonly = c_int::from(this.readonly);
        fields.ndim = this.ndim;
        fields.format = this
            .format
            .as_ref()
            .map_or(ptr::null_mut(), |f| f.as_ptr().cast_mut());
        fields.shape = table_ptr(&this.shape);
        fields.strides = table_ptr(&this.strides);
        fields.suboffsets = table_ptr(&this.suboffsets);
        // SAFETY: `view` is non-null and, by the buffer protocol, valid for writes of a
        // `Py_buffer` (possibly uninitialised: written whole, never read). The pointers stored
        // point into `this`, which the export's reference (`obj`) keeps alive and which,
        // frozen, is never mutated or moved.
        unsafe { view.write(fields) };
        EXPORTS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: as above; a new strong reference, set last, released by `PyBuffer_Release`.
        unsafe { (*view).obj = slf.into_any().into_ptr() };
        Ok(())
    }

    /// Counts the export released (`PyBuffer_Release` drops `obj`; nothing else is owned).
    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {
        EXPORTS.fetch_sub(1, Ordering::SeqCst);
    }

    /// Live exports of all `Hostile` objects.
    #[staticmethod]
    fn exports() -> isize {
        EXPORTS.load(Ordering::SeqCst)
    }
}
