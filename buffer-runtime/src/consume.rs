//! [`BufferReader`]: a safe consumer that reads any exporter's elements in place, checking
//! the format (byte order included) instead of trusting it.

use std::ffi::CStr;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{size_of, MaybeUninit};

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::{Bound, PyAny, PyErr, PyResult, Python};

use crate::element::Element;
use crate::flags::bits;

/// A buffer whose elements are not the `T` a [`BufferReader`] asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatMismatch {
    /// The format `T` has.
    pub expected: &'static str,
    /// The format the exporter gave (`B` when it gave none).
    pub got: String,
    /// The exporter's itemsize.
    pub itemsize: usize,
}

impl fmt::Display for FormatMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected a buffer of native '{}' items, got format '{}' (itemsize {})",
            self.expected, self.got, self.itemsize
        )
    }
}

impl From<FormatMismatch> for PyErr {
    fn from(e: FormatMismatch) -> PyErr {
        PyTypeError::new_err(e.to_string())
    }
}

/// Kind, size and byte order of a single-item `struct` format.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Scalar {
    kind: u8, // 'i' signed, 'u' unsigned, 'f' float, '?' bool, 'c' complex
    size: usize,
    little: bool,
}

/// Parses a single-item format such as `i`, `@i`, `=l`, `<d`, `>Zf`, resolving native sizes
/// and byte order. `None` for anything else (records, repeat counts).
fn parse_scalar(fmt: &[u8]) -> Option<Scalar> {
    use std::os::raw::{c_long, c_longlong};
    let native_little = cfg!(target_endian = "little");
    let (native, little, code) = match fmt {
        [b'@', rest @ ..] => (true, native_little, rest),
        [b'=', rest @ ..] => (false, native_little, rest),
        [b'<', rest @ ..] => (false, true, rest),
        [b'>' | b'!', rest @ ..] => (false, false, rest),
        rest => (true, native_little, rest),
    };
    // A repeat count of one is the item itself (`struct.calcsize("1i") == 4`).
    let code = match code {
        [b'1', rest @ ..] if rest.first().is_some_and(|c| !c.is_ascii_digit()) => rest,
        _ => code,
    };
    let (complex, code) = match code {
        [c] => (false, *c),
        [b'Z', c @ (b'e' | b'f' | b'd')] => (true, *c),
        _ => return None,
    };
    let long = if native { size_of::<c_long>() } else { 4 };
    let (kind, size) = match code {
        b'b' => (b'i', 1),
        b'B' => (b'u', 1),
        b'?' => (b'?', 1),
        b'h' => (b'i', 2),
        b'H' => (b'u', 2),
        b'i' => (b'i', 4),
        b'I' => (b'u', 4),
        b'l' => (b'i', long),
        b'L' => (b'u', long),
        b'q' => (b'i', if native { size_of::<c_longlong>() } else { 8 }),
        b'Q' => (b'u', if native { size_of::<c_longlong>() } else { 8 }),
        b'n' if native => (b'i', size_of::<isize>()),
        b'N' if native => (b'u', size_of::<usize>()),
        b'e' => (b'f', 2),
        b'f' => (b'f', 4),
        b'd' => (b'f', 8),
        _ => return None,
    };
    let (kind, size) = if complex { (b'c', size * 2) } else { (kind, size) };
    let little = little || size == 1; // byte order is moot for one byte
    Some(Scalar { kind, size, little })
}

/// Reads the elements of any buffer of `T`s in place: contiguous or strided, any ndim, any
/// alignment. The exporter's format must describe `T`s exactly, byte order included (so
/// `'>i'` is refused for `i32` on a little-endian machine instead of yielding byte-swapped
/// values; read it as `Be<i32>`). Records match by their exact format string.
///
/// ```
/// use pyo3::prelude::*;
/// use buffer_runtime::BufferReader;
/// Python::attach(|py| {
///     let arr = py.import("array")?.call_method1("array", ("i", vec![1, 2, 3]))?;
///     let r = BufferReader::<i32>::new(&arr)?;
///     let mut sum = 0;
///     r.for_each(|x| sum += x);
///     assert_eq!(sum, 6);
///     PyResult::Ok(())
/// }).unwrap();
/// ```
pub struct BufferReader<T: Element> {
    // Boxed: some exporters point `shape` into the view itself, so it must not move.
    view: Box<ffi::Py_buffer>,
    _t: PhantomData<T>,
}

impl<T: Element> BufferReader<T> {
    /// Requests a strided, formatted, read-only view of `obj` and checks its format.
    pub fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let mut view = Box::new(MaybeUninit::<ffi::Py_buffer>::zeroed());
        // SAFETY: `view` is valid for writes; on success it is filled and owned by us.
        let rc = unsafe {
            ffi::PyObject_GetBuffer(obj.as_ptr(), view.as_mut_ptr(), bits::STRIDES | bits::FORMAT)
        };
        if rc != 0 {
            return Err(PyErr::fetch(obj.py()));
        }
        // SAFETY: filled by a successful PyObject_GetBuffer.
        let view = unsafe { Box::from_raw(Box::into_raw(view).cast::<ffi::Py_buffer>()) };
        let reader = BufferReader { view, _t: PhantomData };
        reader.check_format()?;
        Ok(reader)
    }

    fn check_format(&self) -> Result<(), FormatMismatch> {
        let got = if self.view.format.is_null() {
            c"B"
        } else {
            // SAFETY: a non-null format is a NUL-terminated string valid while the view is.
            unsafe { CStr::from_ptr(self.view.format) }
        };
        let want = parse_scalar(T::FORMAT.to_bytes());
        let same = got == T::FORMAT || (want.is_some() && parse_scalar(got.to_bytes()) == want);
        let ok = same
            && self.view.itemsize as usize == size_of::<T>()
            && self.view.suboffsets.is_null();
        if ok {
            return Ok(());
        }
        Err(FormatMismatch {
            expected: T::FORMAT.to_str().unwrap_or("?"),
            got: got.to_string_lossy().into_owned(),
            itemsize: self.view.itemsize as usize,
        })
    }

    /// The shape, in elements (`()` for a 0-d buffer).
    pub fn shape(&self) -> &[usize] {
        let v = &self.view;
        if v.ndim == 0 {
            return &[];
        }
        // SAFETY: a STRIDES request returns `ndim` shape entries, all >= 0.
        unsafe { std::slice::from_raw_parts(v.shape.cast::<usize>(), v.ndim as usize) }
    }

    /// The byte strides.
    pub fn strides(&self) -> &[isize] {
        let v = &self.view;
        if v.ndim == 0 {
            return &[];
        }
        // SAFETY: a STRIDES request returns `ndim` strides.
        unsafe { std::slice::from_raw_parts(v.strides, v.ndim as usize) }
    }

    /// Calls `f` with every element, in C (row-major) order, reading each in place.
    pub fn for_each(&self, mut f: impl FnMut(T)) {
        let (shape, strides) = (self.shape(), self.strides());
        if shape.contains(&0) {
            return;
        }
        let read = |p: *const u8| {
            let mut item = MaybeUninit::<T>::uninit();
            // SAFETY: `p` addresses one element inside the exporter's buffer (exporter's
            // contract); copying bytes needs no alignment; `load` accepts any bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(p, item.as_mut_ptr().cast::<u8>(), size_of::<T>());
                T::load(item.as_ptr())
            }
        };
        let base = self.view.buf.cast::<u8>().cast_const();
        let ndim = shape.len();
        if ndim == 0 {
            return f(read(base));
        }
        let mut index = vec![0usize; ndim];
        let mut p = base;
        loop {
            f(read(p));
            // Odometer step over the dims, last fastest.
            let mut d = ndim;
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
                p = p.wrapping_offset(-(strides[d] * shape[d] as isize));
                index[d] = 0;
            }
        }
    }
}

impl<T: Element> Drop for BufferReader<T> {
    fn drop(&mut self) {
        // SAFETY: the view was filled by PyObject_GetBuffer and is released once.
        Python::attach(|_| unsafe { ffi::PyBuffer_Release(&mut *self.view) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_formats() {
        let i32_ = parse_scalar(b"i");
        let le = cfg!(target_endian = "little");
        assert_eq!(i32_, Some(Scalar { kind: b'i', size: 4, little: le }));
        assert_eq!(parse_scalar(b"@i"), i32_);
        assert_eq!(parse_scalar(b"=i"), i32_);
        assert_eq!(parse_scalar(b"=l"), i32_);
        assert_ne!(parse_scalar(b"I"), i32_);
        assert_eq!(parse_scalar(b"2i"), None);
        assert_eq!(parse_scalar(b"1i"), i32_);
        assert_eq!(parse_scalar(b"11i"), None);
        assert_eq!(parse_scalar(b"T{i}"), None);
        if le {
            assert_eq!(parse_scalar(b"<i"), i32_);
            assert_ne!(parse_scalar(b">i"), i32_);
            assert_eq!(parse_scalar(b">i"), parse_scalar(b"!i"));
        }
        assert_eq!(parse_scalar(b"=n"), None);
        assert_eq!(parse_scalar(b"Zd").map(|s| (s.kind, s.size)), Some((b'c', 16)));
        assert_eq!(parse_scalar(b"<B"), parse_scalar(b">B"));
    }
}
