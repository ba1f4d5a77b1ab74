//! Exports of `#[derive(PyBuffer)]` classes through CPython's `PyObject_GetBuffer`, with fuzzed
//! request flags, shapes, strides, offsets and storage sizes, interleaved with releases (of the
//! view or of a copy of it), Rust-side writes and resizes, and writes through views.
//!
//! Each answer is checked against a model of the rules (`/work/shared/BUFFER-RULES.md`,
//! README "Request flags"): refused exactly when the layout is invalid for the storage or the
//! request cannot be met, and then with a `BufferError`, `view.obj` NULL and the reference
//! count unchanged; otherwise every field as the rules say, and every element's bytes inside
//! the storage (brute force; AddressSanitizer checks the memory itself). Export counts,
//! borrows and reference counts are checked after every step.
#![no_main]

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::raw::c_int;

use buffer_runtime::{buffer_methods, Element, Order, PyBuffer, SharedVec, Storage};
use libfuzzer_sys::fuzz_target;
use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;

#[path = "common/bytes.rs"]
mod bytes;
use bytes::Bytes;

/// Layouts with at most this many elements are checked element by element.
const BRUTE: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Element)]
#[repr(C)]
struct Padded {
    tag: u8,
    value: u64,
}

#[pyclass]
#[derive(PyBuffer)]
struct Strided {
    #[buffer(shape = dims, strides = strides, offset = offset, readonly = ro)]
    data: SharedVec<u32>,
    dims: Vec<usize>,
    strides: Vec<isize>,
    offset: isize,
    ro: bool,
}
#[buffer_methods]
#[pymethods]
impl Strided {}

#[pyclass]
#[derive(PyBuffer)]
struct Ordered {
    #[buffer(shape = dims, order = order)]
    data: SharedVec<u16>,
    dims: Vec<usize>,
    order: Order,
}
#[buffer_methods]
#[pymethods]
impl Ordered {}

/// Plain storage of a mutable class: exports hold a shared borrow.
#[pyclass]
#[derive(PyBuffer)]
struct PlainStrided {
    #[buffer(shape = dims, strides = strides, offset = offset)]
    data: Box<[u8]>,
    dims: Vec<usize>,
    strides: Vec<isize>,
    offset: isize,
}
#[buffer_methods]
#[pymethods]
impl PlainStrided {}

#[pyclass(frozen)]
#[derive(PyBuffer)]
struct FrozenOrdered {
    #[buffer(shape = dims, order = order)]
    data: Vec<i64>,
    dims: Vec<usize>,
    order: Order,
}
#[buffer_methods]
#[pymethods]
impl FrozenOrdered {}

/// The natural 1-D layout of shared storage: the direct export path.
#[pyclass]
#[derive(PyBuffer)]
struct Natural {
    #[buffer]
    data: SharedVec<f64>,
}
#[buffer_methods]
#[pymethods]
impl Natural {}

/// Padded records: the padding must read as zero through every export.
#[pyclass]
#[derive(PyBuffer)]
struct Records {
    #[buffer]
    data: SharedVec<Padded>,
}
#[buffer_methods]
#[pymethods]
impl Records {}

/// An element with array dims: natural shape `(len, 3)`.
#[pyclass]
#[derive(PyBuffer)]
struct Pixels {
    #[buffer]
    data: SharedVec<[u8; 3]>,
}
#[buffer_methods]
#[pymethods]
impl Pixels {}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Strided,
    Ordered,
    PlainStrided,
    FrozenOrdered,
    Natural,
    Records,
    Pixels,
}

#[derive(Clone, Debug)]
enum Lay {
    Order(Order),
    Bytes { strides: Vec<isize>, offset: isize },
}

/// What an export of an object must look like.
#[derive(Clone, Debug)]
struct Expect {
    itemsize: usize,
    format: &'static CStr,
    readonly: bool,
    dims: Vec<usize>,
    lay: Lay,
    /// The storage's first byte and its size in bytes.
    storage: *const u8,
    storage_bytes: usize,
}

struct Obj {
    obj: Py<PyAny>,
    kind: Kind,
    expect: Expect,
    /// Live views of this object.
    live: usize,
}

struct View {
    view: ffi::Py_buffer,
    owner: usize,
    count: usize,
}

fuzz_target!(|data: &[u8]| {
    Python::attach(|py| run(py, &mut Bytes::new(data)));
});

fn run(py: Python<'_>, b: &mut Bytes<'_>) {
    let mut objs: Vec<Obj> = Vec::new();
    let mut views: Vec<View> = Vec::new();
    let mut steps = 0;
    while !b.is_empty() && steps < 64 {
        steps += 1;
        match b.u8() % 8 {
            0 | 1 if objs.len() < 4 || objs.is_empty() => objs.push(new_object(py, b)),
            0..=3 if !objs.is_empty() => {
                let i = usize::from(b.u8()) % objs.len();
                let flags = b.flags();
                if views.len() < 8 {
                    if let Some(v) = export(py, &mut objs[i], i, flags) {
                        views.push(v);
                    }
                }
            }
            4 if !views.is_empty() => {
                let v = views.swap_remove(usize::from(b.u8()) % views.len());
                release(&mut objs, v, b.bool());
            }
            5 if !objs.is_empty() => {
                let i = usize::from(b.u8()) % objs.len();
                mutate(py, &mut objs[i], b);
            }
            6 if !views.is_empty() => {
                let k = usize::from(b.u8()) % views.len();
                write_through(py, &objs, &views[k], b);
            }
            7 if !objs.is_empty() && objs.iter().all(|o| o.live == 0) => {
                // Drop an object with no views; objects with views live on through them.
                objs.swap_remove(usize::from(b.u8()) % objs.len());
            }
            _ => {}
        }
        for (i, o) in objs.iter().enumerate() {
            check_counts(py, o, views.iter().filter(|v| v.owner == i).count());
        }
    }
    for v in views {
        release(&mut objs, v, false);
    }
    for o in &objs {
        check_counts(py, o, 0);
    }
}

/// Live exports as the storage counts them, and the borrow a plain mutable class holds.
fn check_counts(py: Python<'_>, o: &Obj, live: usize) {
    assert_eq!(o.live, live);
    let obj = o.obj.bind(py);
    let exports = match o.kind {
        Kind::Strided => Some(obj.cast::<Strided>().unwrap().borrow().data.exports()),
        Kind::Ordered => Some(obj.cast::<Ordered>().unwrap().borrow().data.exports()),
        Kind::Natural => Some(obj.cast::<Natural>().unwrap().borrow().data.exports()),
        Kind::Records => Some(obj.cast::<Records>().unwrap().borrow().data.exports()),
        Kind::Pixels => Some(obj.cast::<Pixels>().unwrap().borrow().data.exports()),
        Kind::PlainStrided => {
            let borrowed = obj.cast::<PlainStrided>().unwrap().try_borrow_mut().is_err();
            assert_eq!(borrowed, live > 0, "a plain mutable class is borrowed exactly while exported");
            None
        }
        Kind::FrozenOrdered => None,
    };
    if let Some(n) = exports {
        assert_eq!(n, live, "{:?}: exports() counts the live views", o.kind);
    }
}

/// A shape and a storage length that mostly fit each other.
fn dims_for(b: &mut Bytes<'_>) -> Vec<usize> {
    let ndim = match b.u8() {
        250..=255 => 65,
        n => usize::from(n % 5),
    };
    (0..ndim).map(|_| if b.u8() < 240 { usize::from(b.u8() % 5) } else { b.dim() }).collect()
}

fn product(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).filter(|&n| n <= isize::MAX as usize)
}

/// A storage length for a contiguous shape: its count most of the time.
fn len_for(b: &mut Bytes<'_>, dims: &[usize]) -> usize {
    match (b.u8() % 4, product(dims)) {
        (0, _) | (_, None) => usize::from(b.u8() % 64),
        (_, Some(n)) if n <= BRUTE => n,
        _ => usize::from(b.u8() % 64),
    }
}

/// Strides, offset and a storage length (in items) for a strided layout: in bounds, just at
/// the edge, or just out, most of the time.
fn strided_for(b: &mut Bytes<'_>, dims: &[usize], itemsize: usize) -> (Vec<isize>, isize, usize) {
    let nstrides = if b.u8() < 245 { dims.len() } else { usize::from(b.u8() % 6) };
    let strides: Vec<isize> = (0..nstrides).map(|_| b.stride(itemsize)).collect();
    let mut low = 0i128;
    let mut high = itemsize as i128;
    let empty = dims.contains(&0);
    for (&n, &s) in dims.iter().zip(&strides) {
        let reach = s as i128 * (n as i128 - 1);
        if reach < 0 {
            low = low.saturating_add(reach)
        } else {
            high = high.saturating_add(reach)
        }
    }
    if b.u8() < 64 || empty {
        return (strides, b.offset(), usize::from(b.u8() % 64));
    }
    let slack = i128::from(b.u8() % 4) - 1;
    let offset = low.saturating_neg().saturating_add(i128::from(b.u8() % 3) - 1);
    let bytes = offset.saturating_add(high).saturating_add(slack).max(0);
    let items = bytes.saturating_add(itemsize as i128 - 1) / itemsize as i128;
    if offset.unsigned_abs() > isize::MAX as u128 || items > BRUTE as i128 {
        return (strides, b.offset(), usize::from(b.u8() % 64));
    }
    (strides, offset as isize, items as usize)
}

fn order(b: &mut Bytes<'_>) -> Order {
    if b.bool() {
        Order::F
    } else {
        Order::C
    }
}

fn parts<S: Storage + ?Sized>(s: &S) -> (*const u8, usize) {
    let p = s.raw_parts();
    (p.ptr.cast_const(), p.count * s.itemsize())
}

fn new_object(py: Python<'_>, b: &mut Bytes<'_>) -> Obj {
    let kind = match b.u8() % 7 {
        0 => Kind::Strided,
        1 => Kind::Ordered,
        2 => Kind::PlainStrided,
        3 => Kind::FrozenOrdered,
        4 => Kind::Natural,
        5 => Kind::Records,
        _ => Kind::Pixels,
    };
    let (obj, expect): (Bound<'_, PyAny>, Expect) = match kind {
        Kind::Strided => {
            let dims = dims_for(b);
            let (strides, offset, len) = strided_for(b, &dims, 4);
            let ro = b.u8() < 64;
            let data: SharedVec<u32> = (0..len as u32).collect();
            let (storage, storage_bytes) = parts(&data);
            let lay = Lay::Bytes { strides: strides.clone(), offset };
            let e = Expect { itemsize: 4, format: c"I", readonly: ro, dims: dims.clone(), lay, storage, storage_bytes };
            (Bound::new(py, Strided { data, dims, strides, offset, ro }).unwrap().into_any(), e)
        }
        Kind::Ordered => {
            let dims = dims_for(b);
            let len = len_for(b, &dims);
            let order = order(b);
            let data: SharedVec<u16> = (0..len as u16).collect();
            let (storage, storage_bytes) = parts(&data);
            let e = Expect { itemsize: 2, format: c"H", readonly: false, dims: dims.clone(), lay: Lay::Order(order), storage, storage_bytes };
            (Bound::new(py, Ordered { data, dims, order }).unwrap().into_any(), e)
        }
        Kind::PlainStrided => {
            let dims = dims_for(b);
            let (strides, offset, len) = strided_for(b, &dims, 1);
            let data: Box<[u8]> = (0..len).map(|i| i as u8).collect();
            let (storage, storage_bytes) = parts(&data);
            let lay = Lay::Bytes { strides: strides.clone(), offset };
            let e = Expect { itemsize: 1, format: c"B", readonly: true, dims: dims.clone(), lay, storage, storage_bytes };
            (Bound::new(py, PlainStrided { data, dims, strides, offset }).unwrap().into_any(), e)
        }
        Kind::FrozenOrdered => {
            let dims = dims_for(b);
            let len = len_for(b, &dims);
            let order = order(b);
            let data: Vec<i64> = (0..len as i64).collect();
            let (storage, storage_bytes) = parts(&data);
            let e = Expect { itemsize: 8, format: c"q", readonly: true, dims: dims.clone(), lay: Lay::Order(order), storage, storage_bytes };
            (Bound::new(py, FrozenOrdered { data, dims, order }).unwrap().into_any(), e)
        }
        Kind::Natural => {
            let len = usize::from(b.u8() % 40);
            let data: SharedVec<f64> = (0..len).map(|i| i as f64).collect();
            let (storage, storage_bytes) = parts(&data);
            let e = Expect { itemsize: 8, format: c"d", readonly: false, dims: vec![len], lay: Lay::Order(Order::C), storage, storage_bytes };
            (Bound::new(py, Natural { data }).unwrap().into_any(), e)
        }
        Kind::Records => {
            let len = usize::from(b.u8() % 40);
            let data: SharedVec<Padded> = (0..len).map(|i| Padded { tag: i as u8, value: i as u64 }).collect();
            let (storage, storage_bytes) = parts(&data);
            let e = Expect { itemsize: 16, format: Padded::FORMAT, readonly: false, dims: vec![len], lay: Lay::Order(Order::C), storage, storage_bytes };
            (Bound::new(py, Records { data }).unwrap().into_any(), e)
        }
        Kind::Pixels => {
            let len = usize::from(b.u8() % 40);
            let data: SharedVec<[u8; 3]> = (0..len).map(|i| [i as u8, 1, 2]).collect();
            let (storage, storage_bytes) = parts(&data);
            let e = Expect { itemsize: 1, format: c"B", readonly: false, dims: vec![len, 3], lay: Lay::Order(Order::C), storage, storage_bytes };
            (Bound::new(py, Pixels { data }).unwrap().into_any(), e)
        }
    };
    Obj { obj: obj.unbind(), kind, expect, live: 0 }
}

/// The exact C- or F-order strides of `dims` (`None` if one does not fit `isize`).
fn exact_strides(dims: &[usize], itemsize: usize, order: Order) -> Vec<Option<isize>> {
    (0..dims.len())
        .map(|i| {
            let inner: Vec<usize> = match order {
                Order::C => (i + 1..dims.len()).collect(),
                Order::F => (0..i).collect(),
            };
            inner
                .iter()
                .try_fold(itemsize as u128, |a, &k| a.checked_mul(dims[k] as u128))
                .filter(|&v| v <= isize::MAX as u128)
                .map(|v| v as isize)
        })
        .collect()
}

/// CPython's contiguity test (`PyBuffer_IsContiguous`), written out again here.
fn contiguous(dims: &[usize], strides: &[isize], itemsize: usize, order: Order) -> bool {
    if dims.contains(&0) {
        return true;
    }
    let mut expect = itemsize as i128;
    let axes: Vec<usize> = match order {
        Order::C => (0..dims.len()).rev().collect(),
        Order::F => (0..dims.len()).collect(),
    };
    for k in axes {
        if dims[k] > 1 && strides[k] as i128 != expect {
            return false;
        }
        expect *= dims[k] as i128;
    }
    true
}

/// The layout an export must have, or why it must be refused.
fn model(e: &Expect, flags: c_int) -> Result<(Vec<isize>, isize, usize), String> {
    let has = |x: c_int| flags & x == x;
    let (writable, format, nd) = (has(0x1), has(0x4), has(0x8));
    let (strides_bit, c_req, f_req, any_req) = (has(0x18), has(0x38), has(0x58), has(0x98));
    let dims = &e.dims;
    if dims.len() > 64 {
        return Err("too many dims".into());
    }
    if dims.iter().any(|&d| d > isize::MAX as usize) {
        return Err("dim overflow".into());
    }
    let count: u128 = if dims.contains(&0) { 0 } else { dims.iter().map(|&d| d as u128).try_fold(1u128, |a, d| a.checked_mul(d)).unwrap_or(u128::MAX) };
    if count.saturating_mul(e.itemsize as u128) > isize::MAX as u128 {
        return Err("size overflow".into());
    }
    let count = count as usize;
    let (strides, offset) = match &e.lay {
        Lay::Order(o) => {
            if count * e.itemsize != e.storage_bytes {
                return Err("count mismatch".into());
            }
            // A stride that cannot be computed exactly only occurs with a zero dim.
            let s: Vec<isize> = exact_strides(dims, e.itemsize, *o).into_iter().map(|s| s.unwrap_or(-1)).collect();
            (s, 0)
        }
        Lay::Bytes { strides, offset } => {
            if strides.len() != dims.len() {
                return Err("strides rank".into());
            }
            if count > 0 {
                let (mut low, mut high) = (0i128, e.itemsize as i128);
                for (&n, &s) in dims.iter().zip(strides) {
                    let reach = s as i128 * (n as i128 - 1);
                    if reach < 0 {
                        low = low.saturating_add(reach)
                    } else {
                        high = high.saturating_add(reach)
                    }
                }
                let fits = |v: i128| v >= isize::MIN as i128 && v <= isize::MAX as i128;
                if !fits(low) || !fits(high) {
                    return Err("extent overflow".into());
                }
                let (lo, hi) = (*offset as i128 + low, *offset as i128 + high);
                if !fits(lo) || !fits(hi) {
                    return Err("offset overflow".into());
                }
                if lo < 0 || hi > e.storage_bytes as i128 {
                    return Err("out of bounds".into());
                }
            }
            (strides.clone(), *offset)
        }
    };
    if writable && e.readonly {
        return Err("read-only".into());
    }
    let c = contiguous(dims, &strides, e.itemsize, Order::C);
    let f = contiguous(dims, &strides, e.itemsize, Order::F);
    if c_req && !c {
        return Err("not C".into());
    }
    if f_req && !f {
        return Err("not F".into());
    }
    if any_req && !c && !f {
        return Err("not contiguous".into());
    }
    if !strides_bit && !c {
        return Err("needs strides".into());
    }
    if format && !nd {
        return Err("format without nd".into());
    }
    Ok((strides, offset, count))
}

fn export(py: Python<'_>, o: &mut Obj, owner: usize, flags: c_int) -> Option<View> {
    let e = &o.expect;
    let obj = o.obj.bind(py);
    let refcnt = refcnt_of(obj);
    let mut raw = MaybeUninit::<ffi::Py_buffer>::uninit();
    // SAFETY: any bytes are a valid `Py_buffer` (pointers and integers); a pattern instead of
    // zeros, so that nothing may rely on a zeroed view.
    unsafe { raw.as_mut_ptr().cast::<u8>().write_bytes(0xA5, std::mem::size_of::<ffi::Py_buffer>()) };
    // SAFETY: every byte was just written, and any bytes are a valid `Py_buffer` (as above).
    let mut view = unsafe { raw.assume_init() };
    // SAFETY: `view` is valid for writes.
    let rc = unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), &mut view, flags) };
    let want = model(e, flags);
    let what = || format!("{:?} {:?} flags {flags:#x} ({})", o.kind, e, buffer_runtime::Request::new(flags));
    if rc != 0 {
        let err = PyErr::take(py).expect("a failed export sets an exception");
        assert!(err.is_instance_of::<PyBufferError>(py), "not a BufferError: {err} for {}", what());
        assert!(view.obj.is_null(), "view.obj set on failure: {}", what());
        assert_eq!(refcnt_of(obj), refcnt, "reference leaked by a refused export: {}", what());
        assert!(want.is_err(), "refused ({err}) but the model accepts: {}", what());
        return None;
    }
    let (strides, offset, count) = match want {
        Ok(w) => w,
        Err(why) => panic!("served, but the model refuses ({why}): {}", what()),
    };
    let has = |x: c_int| flags & x == x;
    let v = &view;
    assert_eq!(v.obj, obj.as_ptr(), "{}", what());
    // `view.obj` is the one new reference: a plain mutable class's export also holds its
    // shared borrow, but as a `PyClassGuard`, which owns no reference (`view.obj` keeps the
    // object alive until after the release).
    assert_eq!(refcnt_of(obj), refcnt + 1, "{}", what());
    assert_eq!(v.len as usize, count * e.itemsize, "len: {}", what());
    assert_eq!(v.itemsize as usize, e.itemsize, "{}", what());
    assert_eq!(v.readonly != 0, e.readonly, "readonly: {}", what());
    assert!(v.suboffsets.is_null(), "{}", what());
    let ndim = e.dims.len();
    assert_eq!(v.ndim as usize, if has(0x8) { ndim } else { 1 }, "ndim: {}", what());
    if has(0x4) {
        assert!(!v.format.is_null(), "{}", what());
        // SAFETY: a non-null format is NUL-terminated and static here.
        assert_eq!(unsafe { CStr::from_ptr(v.format) }, e.format, "{}", what());
    } else {
        assert!(v.format.is_null(), "format without PyBUF_FORMAT: {}", what());
    }
    let with_shape = has(0x8) && ndim > 0;
    assert_eq!(!v.shape.is_null(), with_shape, "shape: {}", what());
    assert_eq!(!v.strides.is_null(), with_shape && has(0x18), "strides: {}", what());
    if with_shape {
        // SAFETY: `ndim` entries, valid until release.
        let shape = unsafe { std::slice::from_raw_parts(v.shape, ndim) };
        assert!(shape.iter().zip(&e.dims).all(|(&a, &b)| a as usize == b), "shape {shape:?}: {}", what());
    }
    if !v.strides.is_null() {
        // SAFETY: as for the shape.
        let got = unsafe { std::slice::from_raw_parts(v.strides, ndim) };
        for (k, (&g, &w)) in got.iter().zip(&strides).enumerate() {
            if w == -1 && matches!(e.lay, Lay::Order(_)) {
                // Not exactly computable (a zero dim elsewhere): any non-negative value.
                assert!(g >= 0, "stride {k} of a contiguous layout is negative: {got:?}: {}", what());
            } else {
                assert_eq!(g, w, "strides {got:?}: {}", what());
            }
        }
    }
    if count > 0 {
        assert_eq!(v.buf.cast::<u8>().cast_const(), e.storage.wrapping_offset(offset), "buf: {}", what());
    }
    // Every element inside the storage, and readable (AddressSanitizer checks the read).
    if count > 0 && count <= BRUTE {
        each_index(&e.dims, |index| {
            let off: isize = index.iter().zip(&strides).map(|(&i, &s)| i as isize * s).sum();
            let p = v.buf.cast::<u8>().cast_const().wrapping_offset(off);
            let start = (p as isize).wrapping_sub(e.storage as isize);
            assert!(start >= 0 && start as usize + e.itemsize <= e.storage_bytes, "element {index:?} outside: {}", what());
            // SAFETY: inside the storage (just checked); single-threaded.
            let bytes = unsafe { std::slice::from_raw_parts(p, e.itemsize) }.to_vec();
            if o.kind == Kind::Records {
                assert!(bytes[1..8].iter().all(|&x| x == 0), "padding not zero in element {index:?}: {bytes:?}");
            }
        });
    }
    o.live += 1;
    Some(View { view, owner, count })
}

fn refcnt_of(obj: &Bound<'_, PyAny>) -> isize {
    // SAFETY: a live object.
    unsafe { ffi::Py_REFCNT(obj.as_ptr()) }
}

/// Calls `f` with every index of `dims` in C order (none if a dim is 0; one for 0-d).
fn each_index(dims: &[usize], mut f: impl FnMut(&[usize])) {
    if dims.contains(&0) {
        return;
    }
    let mut index = vec![0usize; dims.len()];
    loop {
        f(&index);
        let mut k = dims.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            index[k] += 1;
            if index[k] < dims[k] {
                break;
            }
            index[k] = 0;
        }
    }
}

fn release(objs: &mut [Obj], mut v: View, via_copy: bool) {
    let o = &mut objs[v.owner];
    if via_copy {
        // A consumer may release a copy of the view (CPython's rule).
        let mut copy: ffi::Py_buffer = v.view;
        // SAFETY: a filled view, released once (through its copy).
        unsafe { ffi::PyBuffer_Release(&mut copy) };
    } else {
        // SAFETY: a filled view, released once.
        unsafe { ffi::PyBuffer_Release(&mut v.view) };
    }
    o.live -= 1;
}

/// Rust-side changes while views may be alive: in-place writes (allowed), resizing (refused
/// while exported), and for the plain mutable class a mutable borrow (refused while exported).
fn mutate(py: Python<'_>, o: &mut Obj, b: &mut Bytes<'_>) {
    let obj = o.obj.bind(py);
    let grow = b.bool();
    let at = usize::from(b.u8());
    macro_rules! shared {
        ($ty:ty, $value:expr) => {{
            let mut r = obj.cast::<$ty>().unwrap().try_borrow_mut().expect("shared storage exports hold no borrow");
            let len = r.data.len();
            if len > 0 {
                r.data.set(at % len, $value);
            }
            if grow {
                let pushed = r.data.push($value);
                assert_eq!(pushed.is_ok(), o.live == 0, "resizing is refused exactly while exported");
                if pushed.is_ok() {
                    let (storage, storage_bytes) = parts(&r.data);
                    o.expect.storage = storage;
                    o.expect.storage_bytes = storage_bytes;
                    if matches!(o.kind, Kind::Natural | Kind::Records | Kind::Pixels) {
                        o.expect.dims[0] = r.data.len();
                    }
                }
            }
        }};
    }
    match o.kind {
        Kind::Strided => shared!(Strided, 7),
        Kind::Ordered => shared!(Ordered, 7),
        Kind::Natural => shared!(Natural, 7.5),
        Kind::Records => shared!(Records, Padded { tag: 9, value: 99 }),
        Kind::Pixels => shared!(Pixels, [9, 9, 9]),
        Kind::PlainStrided => {
            let r = obj.cast::<PlainStrided>().unwrap().try_borrow_mut();
            assert_eq!(r.is_ok(), o.live == 0);
        }
        Kind::FrozenOrdered => {}
    }
}

/// A consumer's write through a writable view, then Rust's read of the same bytes.
fn write_through(py: Python<'_>, objs: &[Obj], v: &View, b: &mut Bytes<'_>) {
    let o = &objs[v.owner];
    // Records are left alone: a consumer may write their padding, which would then (rightly)
    // not read as zero.
    if v.view.readonly != 0 || v.count == 0 || o.kind == Kind::Records {
        return;
    }
    // The first element (buf): its bytes, then Rust reads the storage there.
    let byte = b.u8();
    let n = v.view.itemsize as usize;
    let p = v.view.buf.cast::<u8>();
    // SAFETY: a writable view with at least one element; single-threaded.
    unsafe { p.write_bytes(byte, n) };
    let start = (p as usize) - (o.expect.storage as usize);
    let obj = o.obj.bind(py);
    let seen: Vec<u8> = match o.kind {
        Kind::Strided => {
            let r = obj.cast::<Strided>().unwrap().borrow();
            (start / 4..(start + n).div_ceil(4)).flat_map(|j| r.data.get(j).unwrap().to_ne_bytes()).skip(start % 4).take(n).collect()
        }
        Kind::Ordered => {
            let r = obj.cast::<Ordered>().unwrap().borrow();
            r.data.get(start / 2).unwrap().to_ne_bytes().to_vec()
        }
        Kind::Natural => {
            let r = obj.cast::<Natural>().unwrap().borrow();
            r.data.get(start / 8).unwrap().to_ne_bytes().to_vec()
        }
        Kind::Pixels => {
            let r = obj.cast::<Pixels>().unwrap().borrow();
            vec![r.data.get(start / 3).unwrap()[start % 3]]
        }
        // A record's padding is not a value; a bool-free record reads back its fields.
        Kind::Records => unreachable!("records are skipped above"),
        Kind::PlainStrided | Kind::FrozenOrdered => unreachable!("plain storage is read-only"),
    };
    assert_eq!(seen, vec![byte; n], "Rust does not see a write made through a view");
}
