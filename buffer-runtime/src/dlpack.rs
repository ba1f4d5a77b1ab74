//! DLPack (`__dlpack__` / `__dlpack_device__`) for any buffer provider, built on its own export.
//!
//! A shared tensor *is* an export: `__dlpack__` takes one `PyBUF_RECORDS_RO` export of the
//! object through its `bf_getbuffer`, describes that view as a `DLTensor`, and keeps the view in
//! the tensor's context until the consumer calls the deleter, which releases it (attaching to
//! the interpreter first, since a consumer may call it from any thread). So a tensor keeps the
//! memory alive, a `GrowableArray` cannot resize while one lives, and a read-only object gives
//! a read-only tensor, exactly as for a memoryview (`docs/export-safety.md`).
//!
//! The array API rules followed: the versioned capsule (`dltensor_versioned`, flags
//! `READ_ONLY` / `IS_COPIED`) when the caller's `max_version` is 1.0 or newer, the legacy one
//! (`dltensor`) otherwise; a consumer renames the capsule to `used_...` and then owns the
//! deleter, otherwise the capsule's destructor calls it, exactly once either way; `copy=True`
//! always copies (into C order), `copy=False` never does, `copy=None` shares; only the CPU
//! (`(1, 0)`) and `stream=None`.
//!
//! What DLPack cannot describe is a `BufferError` saying why: records and other struct formats,
//! an explicit non-native byte order, and (unless copying is allowed) byte strides that are not
//! a multiple of the itemsize. Read-only data is refused on the legacy path, which has no
//! read-only flag (as numpy does), unless `copy=True`.

use std::ffi::{c_void, CStr};

use pyo3::exceptions::{PyBufferError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;

use crate::foreign::load_bytes;

const KDL_CPU: i32 = 1;
const READ_ONLY: u64 = 1 << 0;
const IS_COPIED: u64 = 1 << 1;
/// The DLPack version of the versioned capsules this module makes.
const VERSION: (u32, u32) = (1, 0);

#[repr(C)]
#[derive(Clone, Copy)]
struct DLDevice {
    device_type: i32,
    device_id: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DLDataType {
    code: u8,
    bits: u8,
    lanes: u16,
}

#[repr(C)]
struct DLTensor {
    data: *mut c_void,
    device: DLDevice,
    ndim: i32,
    dtype: DLDataType,
    shape: *mut i64,
    strides: *mut i64,
    byte_offset: u64,
}

#[repr(C)]
struct DLManagedTensor {
    dl_tensor: DLTensor,
    manager_ctx: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DLManagedTensor)>,
}

#[repr(C)]
struct DLPackVersion {
    major: u32,
    minor: u32,
}

#[repr(C)]
struct DLManagedTensorVersioned {
    version: DLPackVersion,
    manager_ctx: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DLManagedTensorVersioned)>,
    flags: u64,
    dl_tensor: DLTensor,
}

/// What a tensor owns: its shape and strides tables and the memory (an export of the object,
/// or a private copy).
struct Context {
    shape: Vec<i64>,
    strides: Vec<i64>,
    memory: Memory,
}

enum Memory {
    /// An export of the object, released by the deleter.
    Export(Box<ffi::Py_buffer>),
    /// A C-contiguous copy (8-byte aligned words).
    Copy(#[allow(dead_code)] Vec<u64>),
}

impl Drop for Context {
    fn drop(&mut self) {
        if let Memory::Export(view) = &mut self.memory {
            // SAFETY: a successful export, released once, attached to the interpreter.
            Python::attach(|_| unsafe { ffi::PyBuffer_Release(&mut **view) });
        }
    }
}

/// The DLPack dtype of a struct-module format, or why there is none.
fn dtype(format: &CStr, itemsize: usize) -> Result<DLDataType, String> {
    let text = format.to_string_lossy();
    let mut s = text.as_bytes();
    if let Some((&first, rest)) = s.split_first() {
        let native_le = cfg!(target_endian = "little");
        match first {
            b'@' | b'=' => s = rest,
            b'<' if native_le => s = rest,
            b'>' | b'!' if !native_le => s = rest,
            b'<' | b'>' | b'!' => {
                return Err(format!(
                    "format {text:?} has an explicit non-native byte order, which DLPack cannot describe"
                ))
            }
            _ => {}
        }
    }
    let code = match s {
        b"?" => 6,
        b"b" | b"h" | b"i" | b"l" | b"q" | b"n" => 0,
        b"B" | b"H" | b"I" | b"L" | b"Q" | b"N" => 1,
        b"e" | b"f" | b"d" => 2,
        b"Ze" | b"Zf" | b"Zd" => 5,
        _ if s.starts_with(b"T{") => {
            return Err(format!("records (format {text:?}) have no DLPack dtype"));
        }
        _ => return Err(format!("format {text:?} has no DLPack dtype")),
    };
    let bits = u8::try_from(itemsize * 8)
        .map_err(|_| format!("itemsize {itemsize} is too large for DLPack"))?;
    Ok(DLDataType {
        code,
        bits,
        lanes: 1,
    })
}

/// `__dlpack_device__()`: host memory.
pub fn dlpack_device() -> (i32, i32) {
    (KDL_CPU, 0)
}

fn parse_copy(copy: Option<&Bound<'_, PyAny>>) -> PyResult<Option<bool>> {
    match copy {
        None => Ok(None),
        Some(c) if c.is_none() => Ok(None),
        Some(c) => c
            .extract::<bool>()
            .map(Some)
            .map_err(|_| PyValueError::new_err("copy must be True, False or None")),
    }
}

fn wants_versioned(max_version: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
    match max_version {
        None => Ok(false),
        Some(v) if v.is_none() => Ok(false),
        Some(v) => {
            let (major, _minor): (i64, i64) = v.extract().map_err(|_| {
                PyValueError::new_err("max_version must be a (major, minor) tuple or None")
            })?;
            Ok(major >= 1)
        }
    }
}

fn check_device(dl_device: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let Some(d) = dl_device.filter(|d| !d.is_none()) else {
        return Ok(());
    };
    let (kind, id): (i64, i64) = d.extract().map_err(|_| {
        PyValueError::new_err("dl_device must be a (device_type, device_id) tuple or None")
    })?;
    if (kind, id) != (KDL_CPU as i64, 0) {
        return Err(PyBufferError::new_err(format!(
            "only the CPU (dl_device (1, 0)) is supported, not ({kind}, {id})"
        )));
    }
    Ok(())
}

/// A released-on-drop export of `obj` (`PyBUF_RECORDS_RO`: format and strides, writable or not).
struct View(Option<Box<ffi::Py_buffer>>);

impl View {
    fn new(obj: &Bound<'_, PyAny>) -> PyResult<View> {
        // SAFETY: an all-zero `Py_buffer` is a valid empty view.
        let mut view: Box<ffi::Py_buffer> =
            Box::new(unsafe { std::mem::MaybeUninit::zeroed().assume_init() });
        // SAFETY: `obj` is alive and `view` valid for writes.
        if unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), &mut *view, ffi::PyBUF_RECORDS_RO) } != 0
        {
            return Err(PyErr::fetch(obj.py()));
        }
        Ok(View(Some(view)))
    }
    fn get(&self) -> &ffi::Py_buffer {
        self.0.as_ref().expect("taken only by into_inner")
    }
    fn into_inner(mut self) -> Box<ffi::Py_buffer> {
        self.0.take().expect("taken once")
    }
}

impl Drop for View {
    fn drop(&mut self) {
        if let Some(v) = &mut self.0 {
            // SAFETY: a successful export, released once (we are attached: `&Bound` was).
            unsafe { ffi::PyBuffer_Release(&mut **v) };
        }
    }
}

/// The shape and byte strides of a view (C strides when the exporter gave none).
fn layout_of(v: &ffi::Py_buffer) -> PyResult<(Vec<usize>, Vec<isize>)> {
    let ndim = usize::try_from(v.ndim).map_err(|_| PyBufferError::new_err("negative ndim"))?;
    if ndim > crate::layout::MAX_NDIM || (ndim > 0 && v.shape.is_null()) || !v.suboffsets.is_null()
    {
        return Err(PyBufferError::new_err("the export has no plain shape"));
    }
    let shape: Vec<usize> = if ndim == 0 {
        Vec::new()
    } else {
        // SAFETY: a successful RECORDS export with `ndim > 0` has a non-NULL `shape` (checked
        // above) of `ndim` entries, valid until its release; nobody writes them meanwhile.
        let shape = unsafe { std::slice::from_raw_parts(v.shape, ndim) };
        shape.iter().map(|&d| d.max(0) as usize).collect()
    };
    let strides = if ndim == 0 {
        Vec::new()
    } else if v.strides.is_null() {
        let mut s = vec![0; ndim];
        crate::layout::contiguous_strides(
            &shape,
            v.itemsize.max(0) as usize,
            crate::Order::C,
            &mut s,
        );
        s
    } else {
        // SAFETY: as for `shape`: a non-NULL `strides` of a successful export has `ndim`
        // entries (`ndim > 0` here).
        unsafe { std::slice::from_raw_parts(v.strides, ndim) }.to_vec()
    };
    Ok((shape, strides))
}

/// Copies the view's elements in C order into 8-byte aligned words.
fn copy_c_order(v: &ffi::Py_buffer, shape: &[usize], strides: &[isize]) -> PyResult<Vec<u64>> {
    let itemsize = v.itemsize as usize;
    let count: usize = shape.iter().product();
    let bytes = count * itemsize; // <= isize::MAX: the export's len
    let mut words = crate::foreign::try_zeroed_words(bytes)?;
    let dst = words.as_mut_ptr().cast::<u8>();
    if count == 0 {
        return Ok(words);
    }
    let mut index = vec![0usize; shape.len()];
    let base = v.buf.cast::<u8>();
    for n in 0..count {
        let offset: isize = index
            .iter()
            .zip(strides)
            .map(|(&i, &s)| i as isize * s)
            .sum();
        // The pointers are in bounds, but computed with wrapping arithmetic so that the copy
        // below is the block's one unsafe operation.
        let (src, to) = (base.wrapping_offset(offset), dst.wrapping_add(n * itemsize));
        // SAFETY: `index` is inside the shape, so the element at `src` lies inside the export
        // (its exporter's contract) and `itemsize` bytes of it are readable; `to` is item `n <
        // count` of `words`, which has room for `count` items and does not overlap an export.
        unsafe { load_bytes(src, to, itemsize) };
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Ok(words)
}

/// The deleter of a versioned tensor (DLPack: called exactly once, by its owner).
///
/// # Safety
/// `m` was made by `capsule` below and is freed once.
unsafe extern "C" fn delete_versioned(m: *mut DLManagedTensorVersioned) {
    // SAFETY: `m` is a `Box` given up by `capsule` (contract), taken back once.
    let m = unsafe { Box::from_raw(m) };
    // SAFETY: its context is a `Box<Context>` given up by `capsule` with it, taken back once.
    drop(unsafe { Box::from_raw(m.manager_ctx.cast::<Context>()) });
}

/// The deleter of a legacy tensor.
///
/// # Safety
/// As [`delete_versioned`].
unsafe extern "C" fn delete_legacy(m: *mut DLManagedTensor) {
    // SAFETY: as in `delete_versioned`.
    let m = unsafe { Box::from_raw(m) };
    // SAFETY: as in `delete_versioned`.
    drop(unsafe { Box::from_raw(m.manager_ctx.cast::<Context>()) });
}

const VERSIONED: &CStr = c"dltensor_versioned";
const USED_VERSIONED: &CStr = c"used_dltensor_versioned";
const LEGACY: &CStr = c"dltensor";
const USED_LEGACY: &CStr = c"used_dltensor";

/// Frees an unconsumed tensor: called by the capsule's destructor (attached).
///
/// # Safety
/// `capsule` is a capsule made by `capsule` below, named `name` (or `used` once a consumer
/// took the tensor), being destroyed, with the interpreter attached; `versioned` says which
/// tensor type it holds.
unsafe fn destroy(capsule: *mut ffi::PyObject, name: &CStr, used: &CStr, versioned: bool) {
    // SAFETY: `capsule` is a live capsule (contract) and `used` a NUL-terminated name.
    if unsafe { ffi::PyCapsule_IsValid(capsule, used.as_ptr()) } == 1 {
        return; // a consumer took the tensor: it owns the deleter
    }
    // SAFETY: a capsule destructor runs attached (contract).
    let py = unsafe { Python::assume_attached() };
    let pending = PyErr::take(py);
    // SAFETY: as for `PyCapsule_IsValid`; a wrong name gives NULL and an exception.
    let p = unsafe { ffi::PyCapsule_GetPointer(capsule, name.as_ptr()) };
    if p.is_null() {
        // SAFETY: attached, with the exception `PyCapsule_GetPointer` set.
        unsafe { ffi::PyErr_WriteUnraisable(capsule) };
    } else if versioned {
        let m = p.cast::<DLManagedTensorVersioned>();
        // SAFETY: the capsule's pointer is the live versioned tensor `capsule` made
        // (`versioned`, contract), never consumed (the name is unused).
        if let Some(d) = unsafe { (*m).deleter } {
            // SAFETY: the tensor's own deleter, called once: nobody else owns it.
            unsafe { d(m) };
        }
    } else {
        let m = p.cast::<DLManagedTensor>();
        // SAFETY: as above, for the legacy tensor.
        if let Some(d) = unsafe { (*m).deleter } {
            // SAFETY: as above.
            unsafe { d(m) };
        }
    }
    if let Some(e) = pending {
        e.restore(py);
    }
}

/// The destructor of a `dltensor_versioned` capsule.
///
/// # Safety
/// Called by CPython, attached, on a capsule made by `capsule` with this name.
unsafe extern "C" fn destroy_versioned(capsule: *mut ffi::PyObject) {
    // SAFETY: called by CPython on a capsule made by `capsule` with this name.
    unsafe { destroy(capsule, VERSIONED, USED_VERSIONED, true) }
}

/// The destructor of a `dltensor` capsule.
///
/// # Safety
/// As [`destroy_versioned`].
unsafe extern "C" fn destroy_legacy(capsule: *mut ffi::PyObject) {
    // SAFETY: as above.
    unsafe { destroy(capsule, LEGACY, USED_LEGACY, false) }
}

/// `__dlpack__(*, stream=None, max_version=None, dl_device=None, copy=None)` of `obj`.
pub fn dlpack<'py>(
    obj: &Bound<'py, PyAny>,
    stream: Option<&Bound<'py, PyAny>>,
    max_version: Option<&Bound<'py, PyAny>>,
    dl_device: Option<&Bound<'py, PyAny>>,
    copy: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let class = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    let refuse =
        |why: String| PyBufferError::new_err(format!("{class}: cannot export to DLPack: {why}"));
    if stream.is_some_and(|s| !s.is_none()) {
        return Err(refuse("stream must be None for CPU memory".into()));
    }
    check_device(dl_device)?;
    let copy = parse_copy(copy)?;
    let versioned = wants_versioned(max_version)?;

    let view = View::new(obj)?;
    let v = view.get();
    let itemsize = usize::try_from(v.itemsize)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| refuse("bad itemsize".into()))?;
    let format = if v.format.is_null() {
        c"B"
    } else {
        // SAFETY: a FORMAT export's format is a NUL-terminated string valid until release.
        unsafe { CStr::from_ptr(v.format) }
    };
    let dtype = dtype(format, itemsize).map_err(refuse)?;
    let (shape, strides) = layout_of(v)?;
    let readonly = v.readonly != 0;
    let describable = strides.iter().all(|s| s % itemsize as isize == 0);
    let do_copy = match copy {
        Some(true) => true,
        Some(false) => false,
        None => !describable,
    };
    if !do_copy && !describable {
        return Err(refuse(format!(
            "byte strides {strides:?} are not multiples of the itemsize {itemsize}"
        )));
    }
    if !do_copy && readonly && !versioned {
        return Err(refuse(
            "the data is read-only and the legacy (unversioned) DLPack capsule cannot say so; pass max_version=(1, 0) or copy=True".into(),
        ));
    }

    let shape64: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    let (data, strides64, memory) = if do_copy {
        let words = copy_c_order(v, &shape, &strides)?;
        let mut c = vec![0isize; shape.len()];
        crate::layout::contiguous_strides(&shape, 1, crate::Order::C, &mut c);
        drop(view); // the copy owns its memory: the object is not held
        let mut words = words;
        let data = words.as_mut_ptr().cast::<c_void>();
        (
            data,
            c.iter().map(|&s| s as i64).collect::<Vec<i64>>(),
            Memory::Copy(words),
        )
    } else {
        let data = v.buf;
        let elems: Vec<i64> = strides
            .iter()
            .map(|&s| (s / itemsize as isize) as i64)
            .collect();
        (data, elems, Memory::Export(view.into_inner()))
    };
    let mut ctx = Box::new(Context {
        shape: shape64,
        strides: strides64,
        memory,
    });
    let tensor = DLTensor {
        data,
        device: DLDevice {
            device_type: KDL_CPU,
            device_id: 0,
        },
        ndim: shape.len() as i32,
        dtype,
        shape: ctx.shape.as_mut_ptr(),
        strides: ctx.strides.as_mut_ptr(),
        byte_offset: 0,
    };
    let ctx = Box::into_raw(ctx).cast::<c_void>();
    let (pointer, name, destructor): (
        *mut c_void,
        &CStr,
        unsafe extern "C" fn(*mut ffi::PyObject),
    ) = if versioned {
        let flags = if do_copy {
            IS_COPIED
        } else if readonly {
            READ_ONLY
        } else {
            0
        };
        let m = Box::new(DLManagedTensorVersioned {
            version: DLPackVersion {
                major: VERSION.0,
                minor: VERSION.1,
            },
            manager_ctx: ctx,
            deleter: Some(delete_versioned),
            flags,
            dl_tensor: tensor,
        });
        (Box::into_raw(m).cast(), VERSIONED, destroy_versioned)
    } else {
        let m = Box::new(DLManagedTensor {
            dl_tensor: tensor,
            manager_ctx: ctx,
            deleter: Some(delete_legacy),
        });
        (Box::into_raw(m).cast(), LEGACY, destroy_legacy)
    };
    // SAFETY: attached (`py`); `pointer` is a live managed tensor and the name is static.
    let capsule = unsafe { ffi::PyCapsule_New(pointer, name.as_ptr(), Some(destructor)) };
    if capsule.is_null() {
        let e = PyErr::fetch(py);
        // On failure no capsule owns the tensor: it is freed here, once.
        if name == VERSIONED {
            // SAFETY: `pointer` is the versioned tensor made above, owned by nobody else.
            unsafe { delete_versioned(pointer.cast()) };
        } else {
            // SAFETY: `pointer` is the legacy tensor made above, owned by nobody else.
            unsafe { delete_legacy(pointer.cast()) };
        }
        return Err(e);
    }
    // SAFETY: `capsule` is a new, non-NULL reference, which the `Bound` takes over.
    Ok(unsafe { Bound::from_owned_ptr(py, capsule) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtypes_of_formats() {
        let d = |f: &CStr, n| dtype(f, n);
        assert_eq!(
            d(c"d", 8),
            Ok(DLDataType {
                code: 2,
                bits: 64,
                lanes: 1
            })
        );
        assert_eq!(d(c"?", 1).unwrap().code, 6);
        assert_eq!(
            d(c"Zf", 8).unwrap(),
            DLDataType {
                code: 5,
                bits: 64,
                lanes: 1
            }
        );
        assert_eq!(d(c"=H", 2).unwrap().code, 1);
        assert!(d(c"T{f:x:}", 4).unwrap_err().contains("records"));
        let other = if cfg!(target_endian = "little") {
            c">i"
        } else {
            c"<i"
        };
        assert!(d(other, 4).unwrap_err().contains("non-native byte order"));
        assert!(d(c"2i", 8).is_err());
    }
}
