//! Consumer views (`buffer_runtime::view`) over fuzzed `Py_buffer` contents: a fake exporter
//! (a pyclass whose `__getbuffer__` hands out exactly the fields the fuzzer chose, whatever
//! the request: format, itemsize, ndim, shape, strides, suboffsets, len, readonly, NULL
//! pointers) is read through `PyView`, `PyViewMut` and `AnyView` of several element types,
//! ranks and layouts.
//!
//! The fake's memory is exactly the bytes its layout addresses (as a consumer must interpret
//! it: NULL strides are C strides, a NULL shape is 1-d of `len / itemsize`), so
//! AddressSanitizer catches any access outside it. Checked:
//! - never a panic or a crash; a refusal is a `TypeError` (or the exporter's own error);
//! - an accepted view satisfies its type: element size and format, rank, contiguity, `len`
//!   consistent, no suboffsets, writable if `PyViewMut`; its shape and strides are the ones
//!   the exporter gave (or CPython's reading of the missing ones);
//! - a consistent, honest export that matches the type is accepted;
//! - reads (`to_vec`, `get`, `iter`) return the bytes in memory (brute force in C order), and
//!   writes (`set`, `fill`, `copy_from_slice`) land where the layout says;
//! - every export is released exactly once, accepted or not.
#![no_main]

use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::sync::atomic::{AtomicIsize, Ordering};

use buffer_runtime::view::{AnyContiguous, AnyNdim, AnyView, CContiguous, Contiguity, FContiguous, Ndim, PyView, PyViewMut, Rank, Strided};
use buffer_runtime::Element;
use libfuzzer_sys::fuzz_target;
use pyo3::exceptions::{PyBufferError, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;

#[path = "common/bytes.rs"]
mod bytes;
use bytes::Bytes;

/// The fields the fake hands out, and its memory.
struct Spec {
    format: Option<CString>,
    itemsize: isize,
    ndim: c_int,
    shape: Option<Vec<isize>>,
    strides: Option<Vec<isize>>,
    suboffsets: Option<Vec<isize>>,
    len: isize,
    readonly: bool,
    null_buf: bool,
    /// Refuse `PyBUF_WRITABLE` on read-only memory (an honest exporter), or ignore the flags.
    honest: bool,
}

/// The memory: `buf = base + shift`, the bytes `[low, high)` around `buf` allocated exactly.
struct Memory {
    block: Vec<u8>,
    /// Offset of `buf` in `block`.
    at: usize,
}

#[pyclass(frozen)]
struct Fake {
    spec: Spec,
    /// `Some` when the layout's memory could be allocated; otherwise `buf` points at a small
    /// block and the harness never reads through an accepted view.
    memory: std::sync::Mutex<Memory>,
    live: AtomicIsize,
    /// The pointer tables handed out (`ndim` entries at least, for any `ndim` up to 64).
    shape: Vec<isize>,
    strides: Vec<isize>,
    suboffsets: Vec<isize>,
}

#[pymethods]
impl Fake {
    unsafe fn __getbuffer__(slf: Bound<'_, Self>, view: *mut ffi::Py_buffer, flags: c_int) -> PyResult<()> {
        let me = slf.get();
        let s = &me.spec;
        if s.honest && s.readonly && flags & 1 == 1 {
            // SAFETY: `view` is writable (CPython's contract).
            unsafe { (*view).obj = std::ptr::null_mut() };
            return Err(PyBufferError::new_err("read-only"));
        }
        let buf = if s.null_buf {
            std::ptr::null_mut()
        } else {
            let mut m = me.memory.lock().unwrap();
            let at = m.at;
            m.block.as_mut_ptr().wrapping_add(at)
        };
        me.live.fetch_add(1, Ordering::Relaxed);
        let tab = |on: bool, t: &Vec<isize>| if on { t.as_ptr().cast_mut() } else { std::ptr::null_mut() };
        // SAFETY: `view` is writable; every pointer stays valid while the object lives (it is
        // kept alive by `obj`).
        unsafe {
            let v = &mut *view;
            v.buf = buf.cast();
            v.len = s.len;
            v.itemsize = s.itemsize;
            v.readonly = c_int::from(s.readonly);
            v.ndim = s.ndim;
            v.format = s.format.as_ref().map_or(std::ptr::null_mut(), |f| f.as_ptr().cast_mut());
            v.shape = tab(s.shape.is_some(), &me.shape);
            v.strides = tab(s.strides.is_some(), &me.strides);
            v.suboffsets = tab(s.suboffsets.is_some(), &me.suboffsets);
            v.internal = 0x5A5A as *mut std::ffi::c_void;
            v.obj = slf.into_ptr();
        }
        Ok(())
    }

    unsafe fn __releasebuffer__(slf: Bound<'_, Self>, view: *mut ffi::Py_buffer) {
        // A panic here would only reach `sys.unraisablehook`: abort, which the fuzzer reports.
        // SAFETY: a view this object filled.
        if unsafe { (*view).internal } as usize != 0x5A5A {
            eprintln!("views: a view released with another view's `internal`");
            std::process::abort();
        }
        if slf.get().live.fetch_sub(1, Ordering::Relaxed) <= 0 {
            eprintln!("views: released more often than exported");
            std::process::abort();
        }
    }
}

/// Views with at most this many elements are read and written whole.
const BRUTE: usize = 1 << 14;

const FORMATS: &[&CStr] = &[
    c"B", c"b", c"i", c"<i", c">i", c"=l", c"l", c"@i", c"1i", c"2i", c"I", c"q", c"d", c"<d", c">d", c"f",
    c"?", c"e", c"Zf", c"Zd", c"h", c"H", c"n", c"N", c"c", c"x", c"", c"T{i:a:}", c"T{B:a:7xd:b:}",
];

/// The record the views target reads: its format is `T{B:a:7xd:b:}`.
#[derive(Clone, Copy, Debug, PartialEq, Element)]
#[repr(C)]
struct Rec {
    a: u8,
    b: f64,
}

/// What `interpret` finds: shape, byte strides, itemsize and element count.
type Interpreted = (Vec<usize>, Vec<isize>, usize, usize);

/// How a consumer must read the fields: shape and strides in effect, or why not.
fn interpret(s: &Spec) -> Result<Interpreted, &'static str> {
    let ndim = usize::try_from(s.ndim).ok().filter(|&n| n <= 64).ok_or("ndim")?;
    let itemsize = usize::try_from(s.itemsize).ok().filter(|&n| n > 0).ok_or("itemsize")?;
    let len = usize::try_from(s.len).map_err(|_| "len")?;
    let (shape, from_exporter): (Vec<usize>, bool) = match &s.shape {
        _ if ndim == 0 => (vec![], true),
        Some(raw) => (raw[..ndim].iter().map(|&d| usize::try_from(d).map_err(|_| "negative dim")).collect::<Result<_, _>>()?, true),
        None if len % itemsize == 0 => (vec![len / itemsize], false),
        None => return Err("len not a multiple"),
    };
    let mut count: u128 = 1;
    for &d in &shape {
        count = count.saturating_mul(d as u128);
    }
    if shape.iter().any(|&d| d > isize::MAX as usize) || (count > isize::MAX as u128 && !shape.contains(&0)) {
        return Err("count overflow");
    }
    let count = if shape.contains(&0) { 0 } else { count as usize };
    if (count as u128) * (itemsize as u128) != len as u128 {
        return Err("len mismatch");
    }
    if s.suboffsets.as_ref().is_some_and(|so| ndim > 0 && so[..ndim].iter().any(|&o| o >= 0)) {
        return Err("suboffsets");
    }
    let strides: Vec<isize> = match &s.strides {
        Some(raw) if from_exporter && ndim > 0 => raw[..ndim].to_vec(),
        _ => {
            // C strides, with a zero dim zeroing the ones outside it (CPython's rule).
            let mut out = vec![0isize; shape.len()];
            let mut step: i128 = itemsize as i128;
            for i in (0..shape.len()).rev() {
                out[i] = if step > isize::MAX as i128 { 0 } else { step as isize };
                step = step.saturating_mul(shape[i] as i128);
            }
            out
        }
    };
    // The extent must fit the address space.
    if count > 0 {
        let (mut low, mut high) = (0i128, itemsize as i128);
        for (&n, &st) in shape.iter().zip(&strides) {
            let reach = st as i128 * (n as i128 - 1);
            if reach < 0 {
                low += reach
            } else {
                high += reach
            }
        }
        if low < isize::MIN as i128 || high > isize::MAX as i128 {
            return Err("extent overflow");
        }
    }
    if count > 0 && s.null_buf {
        return Err("null buf");
    }
    Ok((shape, strides, itemsize, count))
}

/// The bytes `[low, high)` the interpreted layout addresses, relative to `buf`.
fn extent(shape: &[usize], strides: &[isize], itemsize: usize, count: usize) -> (i128, i128) {
    if count == 0 {
        return (0, 0);
    }
    let (mut low, mut high) = (0i128, itemsize as i128);
    for (&n, &st) in shape.iter().zip(strides) {
        let reach = st as i128 * (n as i128 - 1);
        if reach < 0 {
            low += reach
        } else {
            high += reach
        }
    }
    (low, high)
}

fn gen_spec(b: &mut Bytes<'_>) -> Spec {
    let format = match b.u8() % 16 {
        0 => None,
        1 => {
            let raw: Vec<u8> = (0..b.u8() % 6).map(|_| b.u8().max(1)).collect();
            Some(CString::new(raw).unwrap())
        }
        _ => Some(FORMATS[usize::from(b.u8()) % FORMATS.len()].to_owned()),
    };
    // An item size consistent with the format most of the time.
    let natural = match format.as_deref().map(CStr::to_bytes) {
        Some(b"B" | b"b" | b"?" | b"c" | b"x" | b"") | None => 1,
        Some(b"h" | b"H" | b"e") => 2,
        Some(b"i" | b"<i" | b">i" | b"=l" | b"@i" | b"1i" | b"I" | b"f" | b"T{i:a:}") => 4,
        Some(b"2i" | b"Zf") => 8,
        Some(b"T{B:a:7xd:b:}" | b"Zd") => 16,
        _ => 8,
    };
    let itemsize = match b.u8() % 16 {
        0 => 0,
        1 => -1,
        2 => isize::from(b.u8()),
        3 => isize::MAX,
        _ => natural,
    };
    let ndim: c_int = match b.u8() {
        0..=229 => c_int::from(b.u8() % 4),
        230..=239 => -1,
        240..=247 => 65,
        _ => 64,
    };
    let n = usize::try_from(ndim).unwrap_or(0).min(64);
    let shape: Vec<isize> = (0..n).map(|_| if b.u8() < 240 { isize::from(b.u8() % 5) } else { b.offset() }).collect();
    let isz = usize::try_from(itemsize).unwrap_or(1).max(1);
    let strides: Vec<isize> = match b.u8() % 4 {
        // C strides (honest)
        0 | 1 => {
            let mut out = vec![0isize; n];
            let mut step = isz as isize;
            for i in (0..n).rev() {
                out[i] = step;
                step = step.saturating_mul(shape[i].max(0));
            }
            out
        }
        _ => (0..n).map(|_| b.stride(isz)).collect(),
    };
    let shape_null = b.u8().is_multiple_of(8);
    let strides_null = b.u8().is_multiple_of(6);
    let suboffsets = match b.u8() % 10 {
        0 => Some((0..n).map(|_| if b.bool() { -1 } else { isize::from(b.u8()) }).collect()),
        1 => Some(vec![-1; n]),
        _ => None,
    };
    let count: isize = if shape_null {
        isize::from(b.u8() % 8)
    } else {
        shape.iter().try_fold(1isize, |a, &d| a.checked_mul(d)).unwrap_or(-1)
    };
    let len = match b.u8() % 10 {
        0 => b.offset(),
        1 => count.wrapping_mul(itemsize).wrapping_add(1),
        _ => count.wrapping_mul(itemsize),
    };
    Spec {
        format,
        itemsize,
        ndim,
        shape: (!shape_null).then_some(shape),
        strides: (!strides_null).then_some(strides),
        suboffsets,
        len,
        readonly: b.u8().is_multiple_of(4),
        null_buf: b.u8().is_multiple_of(16),
        honest: b.bool(),
    }
}

fn new_fake(py: Python<'_>, spec: Spec) -> (Bound<'_, Fake>, bool) {
    // Allocate exactly the bytes the layout addresses (ASan sees any access outside).
    let (memory, valid) = match interpret(&spec) {
        Ok((shape, strides, itemsize, count)) => {
            let (low, high) = extent(&shape, &strides, itemsize, count);
            if high - low <= 1 << 20 {
                let size = (high - low) as usize;
                let block: Vec<u8> = (0..size).map(|i| (i * 7 + 3) as u8).collect();
                (Memory { block, at: (-low) as usize }, true)
            } else {
                (Memory { block: vec![0; 16], at: 0 }, false)
            }
        }
        Err(_) => (Memory { block: vec![0; 16], at: 0 }, false),
    };
    let pad = |t: &Option<Vec<isize>>| {
        let mut v = t.clone().unwrap_or_default();
        v.resize(65, 0);
        v
    };
    let fake = Fake {
        shape: pad(&spec.shape),
        strides: pad(&spec.strides),
        suboffsets: pad(&spec.suboffsets),
        spec,
        memory: std::sync::Mutex::new(memory),
        live: AtomicIsize::new(0),
    };
    (Bound::new(py, fake).unwrap(), valid)
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes::new(data);
    let which = b.u8();
    let value = b.u8();
    let index_seed = b.u16();
    let spec = gen_spec(&mut b);
    if std::env::var_os("FUZZ_DEBUG").is_some() {
        eprintln!("views: case {} over {}", which % 12, describe(&spec));
    }
    Python::attach(|py| {
        let (fake, valid) = new_fake(py, spec);
        let obj = fake.as_any();
        let ctx = Ctx { fake: &fake, valid, value, index_seed };
        match which % 12 {
            0 => read::<u8, AnyNdim, Strided>(py, obj, &ctx),
            1 => read::<i32, Ndim<1>, Strided>(py, obj, &ctx),
            2 => read::<f64, AnyNdim, CContiguous>(py, obj, &ctx),
            3 => read::<i32, Ndim<2>, FContiguous>(py, obj, &ctx),
            4 => read::<u16, AnyNdim, AnyContiguous>(py, obj, &ctx),
            5 => read::<bool, Ndim<0>, Strided>(py, obj, &ctx),
            6 => read::<Rec, AnyNdim, Strided>(py, obj, &ctx),
            7 => write::<u8, Ndim<2>, Strided>(py, obj, &ctx),
            8 => write::<i32, AnyNdim, Strided>(py, obj, &ctx),
            9 => write::<f64, Ndim<1>, CContiguous>(py, obj, &ctx),
            10 => write::<Rec, AnyNdim, Strided>(py, obj, &ctx),
            _ => any(py, obj, &ctx),
        }
        assert_eq!(fake.get().live.load(Ordering::Relaxed), 0, "an export was not released (or released twice)");
    });
});

struct Ctx<'a, 'py> {
    fake: &'a Bound<'py, Fake>,
    valid: bool,
    value: u8,
    index_seed: u16,
}

/// What a view of `T`, `D`, `L` must have, given what the fake hands out.
fn admissible<T: Element, D: Rank, L: Contiguity>(s: &Spec, writable: bool) -> Result<(Vec<usize>, Vec<isize>, usize), &'static str> {
    let (shape, strides, itemsize, count) = interpret(s)?;
    if itemsize != std::mem::size_of::<T>() {
        return Err("itemsize");
    }
    if D::NDIM.is_some_and(|n| n != shape.len()) {
        return Err("rank");
    }
    if !L::accepts(&shape, &strides, itemsize) {
        return Err("layout");
    }
    if writable && s.readonly {
        return Err("readonly");
    }
    Ok((shape, strides, count))
}

fn refusal_is_an_error_not_a_panic(py: Python<'_>, e: &PyErr, what: &dyn Fn() -> String) {
    assert!(
        e.is_instance_of::<PyTypeError>(py) || e.is_instance_of::<PyBufferError>(py),
        "refused with {} ({e}), not a TypeError/BufferError: {}",
        e.get_type(py),
        what()
    );
}

fn describe(s: &Spec) -> String {
    format!(
        "format {:?} itemsize {} ndim {} shape {:?} strides {:?} suboffsets {:?} len {} readonly {} null_buf {} honest {}",
        s.format, s.itemsize, s.ndim, s.shape.as_ref().map(|v| &v[..]), s.strides, s.suboffsets, s.len, s.readonly, s.null_buf, s.honest
    )
}

/// The element at `offset` bytes from `buf`, read from the fake's memory.
fn mem_read<T: Element>(ctx: &Ctx<'_, '_>, offset: isize) -> T {
    let m = ctx.fake.get().memory.lock().unwrap();
    let start = (m.at as isize + offset) as usize;
    let bytes = &m.block[start..start + std::mem::size_of::<T>()];
    let mut tmp = std::mem::MaybeUninit::<T>::uninit();
    // SAFETY: `bytes` is `size_of::<T>()` bytes of the fake's memory, `tmp` a `T`-sized local:
    // both valid, not overlapping.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), tmp.as_mut_ptr().cast::<u8>(), bytes.len()) };
    // SAFETY: `tmp` is an aligned local holding initialised bytes; `load` accepts any bytes.
    unsafe { T::load(tmp.as_ptr()) }
}

fn mem_bytes(ctx: &Ctx<'_, '_>, offset: isize, n: usize) -> Vec<u8> {
    let m = ctx.fake.get().memory.lock().unwrap();
    let start = (m.at as isize + offset) as usize;
    m.block[start..start + n].to_vec()
}

/// Byte offsets of every element in C order.
fn offsets(shape: &[usize], strides: &[isize]) -> Vec<isize> {
    let mut out = Vec::new();
    if shape.contains(&0) {
        return out;
    }
    let mut index = vec![0usize; shape.len()];
    loop {
        out.push(index.iter().zip(strides).map(|(&i, &s)| i as isize * s).sum());
        let mut k = shape.len();
        loop {
            if k == 0 {
                return out;
            }
            k -= 1;
            index[k] += 1;
            if index[k] < shape[k] {
                break;
            }
            index[k] = 0;
        }
    }
}

fn index_of(shape: &[usize], mut flat: usize) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for k in (0..shape.len()).rev() {
        index[k] = flat % shape[k];
        flat /= shape[k];
    }
    index
}

/// Bytes of a `T`, padding excluded (records): what a comparison may look at.
fn same<T: Element>(a: &T, b: &T) -> bool {
    let (pa, pb) = ((a as *const T).cast::<u8>(), (b as *const T).cast::<u8>());
    let n = std::mem::size_of::<T>();
    // SAFETY: both are live `T`s; for a record, only its field bytes are compared (`Rec`'s
    // padding is bytes 1..8).
    let sa = unsafe { std::slice::from_raw_parts(pa, n) };
    // SAFETY: as for `sa`: `b` is a live `T` of `n` bytes.
    let sb = unsafe { std::slice::from_raw_parts(pb, n) };
    if T::HAS_PADDING {
        sa[0] == sb[0] && sa[8..] == sb[8..]
    } else {
        sa == sb
    }
}

fn read<T: Element + std::fmt::Debug, D: Rank, L: Contiguity>(py: Python<'_>, obj: &Bound<'_, PyAny>, ctx: &Ctx<'_, '_>) {
    let s = &ctx.fake.get().spec;
    let what = || format!("PyView<{}, {:?}, {}> over {}", std::any::type_name::<T>(), D::NDIM, std::any::type_name::<L>(), describe(s));
    let want = admissible::<T, D, L>(s, false);
    let v = match PyView::<T, D, L>::new(obj) {
        Ok(v) => v,
        Err(e) => {
            refusal_is_an_error_not_a_panic(py, &e, &what);
            // Refusing an admissible layout is allowed only for a format that does not match:
            // the type's own spelling must be accepted.
            if want.is_ok() && s.format.as_deref() == Some(T::FORMAT) {
                panic!("refused ({e}) although the export matches exactly: {}", what());
            }
            return;
        }
    };
    let (shape, strides, count) = match want {
        Ok(w) => w,
        Err(why) => panic!("accepted, but the export violates {why}: {}", what()),
    };
    assert_eq!(v.shape(), &shape[..], "{}", what());
    if count > 0 {
        assert_eq!(v.strides(), &strides[..], "{}", what());
    }
    assert_eq!(v.len(), count, "{}", what());
    if !ctx.valid {
        return; // the fake could not allocate this layout's memory: no reads
    }
    if count > BRUTE {
        // Legal (zero strides alias one element), but too many to copy: one element only.
        let k = usize::from(ctx.index_seed) % count;
        let index = index_of(&shape, k);
        let off: isize = index.iter().zip(&strides).map(|(&i, &s)| i as isize * s).sum();
        assert!(same(&v.get(&index).unwrap(), &mem_read(ctx, off)), "get({index:?}): {}", what());
        return;
    }
    let offs = offsets(&shape, &strides);
    let got = v.to_vec();
    assert_eq!(got.len(), offs.len(), "{}", what());
    for (k, (g, &off)) in got.iter().zip(&offs).enumerate() {
        let m: T = mem_read(ctx, off);
        assert!(same(g, &m), "element {k}: view {g:?}, memory {m:?}: {}", what());
    }
    assert_eq!(v.iter().count(), count, "{}", what());
    if count > 0 {
        let k = usize::from(ctx.index_seed) % count;
        let index = index_of(&shape, k);
        let g = v.get(&index).expect("an index inside the shape");
        assert!(same(&g, &mem_read(ctx, offs[k])), "get({index:?}): {}", what());
        if !shape.is_empty() {
            let mut outside = index.clone();
            outside[0] = shape[0];
            assert!(v.get(&outside).is_none(), "get({outside:?}) outside the shape: {}", what());
        }
    }
    assert!(v.get(vec![0usize; shape.len() + 1]).is_none(), "an index of the wrong rank: {}", what());
}

/// A value of `T` made of the byte `b` (valid for every element type here).
fn value_of<T: Element>(b: u8) -> T {
    let mut bytes = vec![b; std::mem::size_of::<T>()];
    if std::mem::size_of::<T>() == 1 && T::FORMAT == c"?" {
        bytes[0] = b & 1;
    }
    let mut tmp = std::mem::MaybeUninit::<T>::uninit();
    // SAFETY: `bytes` has `size_of::<T>()` bytes and `tmp` is a `T`-sized local: both valid,
    // not overlapping.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), tmp.as_mut_ptr().cast::<u8>(), bytes.len()) };
    // SAFETY: `tmp` is an aligned local holding initialised bytes; `load` accepts any bytes.
    unsafe { T::load(tmp.as_ptr()) }
}

fn write<T: Element + std::fmt::Debug, D: Rank, L: Contiguity>(py: Python<'_>, obj: &Bound<'_, PyAny>, ctx: &Ctx<'_, '_>) {
    let s = &ctx.fake.get().spec;
    let what = || format!("PyViewMut<{}, {:?}, {}> over {}", std::any::type_name::<T>(), D::NDIM, std::any::type_name::<L>(), describe(s));
    let want = admissible::<T, D, L>(s, true);
    let v = match PyViewMut::<T, D, L>::new(obj) {
        Ok(v) => v,
        Err(e) => {
            refusal_is_an_error_not_a_panic(py, &e, &what);
            if want.is_ok() && s.format.as_deref() == Some(T::FORMAT) {
                panic!("refused ({e}) although the export matches exactly: {}", what());
            }
            return;
        }
    };
    let (shape, strides, count) = match want {
        Ok(w) => w,
        Err(why) => panic!("accepted, but the export violates {why}: {}", what()),
    };
    assert_eq!(v.shape(), &shape[..], "{}", what());
    if !ctx.valid || count > BRUTE {
        return;
    }
    let offs = offsets(&shape, &strides);
    // Elements that overlap without coinciding (strides smaller than the item) clobber each
    // other's bytes: only the last write to a byte is checked there.
    let size = std::mem::size_of::<T>() as isize;
    let mut distinct: Vec<isize> = offs.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let overlapping = distinct.windows(2).any(|w| w[1] - w[0] < size);
    let x: T = value_of(ctx.value);
    v.fill(x);
    if !overlapping {
        for &off in &offs {
            assert!(same(&mem_read::<T>(ctx, off), &x), "fill: {}", what());
            if T::HAS_PADDING {
                // Rec: the padding bytes written are zero, never uninitialised.
                assert!(mem_bytes(ctx, off + 1, 7).iter().all(|&b| b == 0), "fill wrote non-zero padding: {}", what());
            }
        }
    }
    if count > 0 {
        let k = usize::from(ctx.index_seed) % count;
        let y: T = value_of(ctx.value.wrapping_add(1));
        v.set(index_of(&shape, k), y).expect("in bounds");
        assert!(same(&mem_read::<T>(ctx, offs[k]), &y), "set: {}", what());
    }
    let src: Vec<T> = (0..count).map(|i| value_of(i as u8)).collect();
    v.copy_from_slice(&src).expect("right length");
    if !overlapping {
        // Elements that coincide (zero strides) hold the last value copied there.
        let mut last = std::collections::HashMap::new();
        for (i, &off) in offs.iter().enumerate() {
            last.insert(off, i);
        }
        for (&off, &i) in &last {
            assert!(same(&mem_read::<T>(ctx, off), &src[i]), "copy_from_slice element {i}: {}", what());
        }
    }
    assert!(v.copy_from_slice(&vec![x; count + 1]).is_err(), "a slice of the wrong length: {}", what());
    let _ = py;
}

fn any(py: Python<'_>, obj: &Bound<'_, PyAny>, ctx: &Ctx<'_, '_>) {
    let s = &ctx.fake.get().spec;
    match AnyView::<AnyNdim, Strided>::new(obj) {
        Ok(v) => {
            let (shape, _, itemsize, count) = interpret(s).unwrap_or_else(|why| panic!("AnyView accepted an export that violates {why}: {}", describe(s)));
            assert_eq!(v.shape(), &shape[..], "{}", describe(s));
            let _ = (itemsize, v.dtype());
            if ctx.valid && count <= BRUTE {
                assert_eq!(v.to_f64_vec().len(), count, "{}", describe(s));
            }
        }
        Err(e) => refusal_is_an_error_not_a_panic(py, &e, &|| describe(s)),
    }
}
