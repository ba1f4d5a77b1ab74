//! The rule oracle: what a served view's fields must be (`Doc/c-api/buffer.rst`), whether a
//! request must be served or refused (CPython's reference exporter `_testbuffer`, mirroring the
//! provider's layout, or the kit's own rules where it cannot), and what a refusal must look
//! like.

use std::os::raw::c_int;

use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::format;
use super::requests::indirect;
use super::run::Run;
use super::view::{cpython_contiguous, describe, get, Poison, Refusal, ViewLayout, GARBAGE};
use crate::flags::{bits, Request};

/// Checks the pointers and counts of a served view on their own: nothing here dereferences a
/// pointer the checks before it did not validate. Returns the problems found.
pub(super) fn structure(
    v: &ffi::Py_buffer,
    req: Request,
    obj: &Bound<'_, PyAny>,
    poison: &Poison,
) -> Vec<String> {
    let mut p = Vec::new();
    let unwritten =
        |what: &str| format!("{what} was not written (it still holds the kit's poison)");
    if v.obj.is_null() {
        p.push("view.obj is NULL after a successful request".into());
    } else if v.obj != obj.as_ptr() {
        p.push("view.obj is not the exporting object".into());
    }
    if v.itemsize == GARBAGE as isize {
        p.push(unwritten("itemsize"));
    } else if v.itemsize < 1 {
        p.push(format!("itemsize is {}", v.itemsize));
    }
    if v.readonly == GARBAGE as c_int {
        p.push(unwritten("readonly"));
    }
    if v.ndim == GARBAGE as c_int {
        p.push(unwritten("ndim"));
        return p;
    }
    if !(0..=64).contains(&v.ndim) {
        p.push(format!("ndim is {} (must be 0..=64)", v.ndim));
        return p;
    }
    if v.len == GARBAGE as isize {
        p.push(unwritten("len"));
    } else if v.len < 0 {
        p.push(format!("len is {}", v.len));
    }
    if poison.owns(v.buf.cast()) {
        p.push(unwritten("buf"));
    } else if v.len > 0 && v.buf.is_null() {
        p.push("buf is NULL for a non-empty buffer".into());
    }
    if poison.owns(v.format.cast()) {
        p.push(unwritten("format"));
    } else if req.format() && v.format.is_null() {
        p.push("format is NULL although PyBUF_FORMAT was requested".into());
    } else if !req.format() && !v.format.is_null() {
        p.push("format is set although PyBUF_FORMAT was not requested (must be NULL)".into());
    }
    if poison.owns(v.shape.cast()) {
        p.push(unwritten("shape"));
    } else if req.nd() {
        if v.ndim > 0 && v.shape.is_null() {
            p.push("shape is NULL although PyBUF_ND was requested".into());
        }
        if v.ndim == 0 && !v.shape.is_null() {
            p.push("shape is not NULL for ndim 0".into());
        }
    } else if !v.shape.is_null() {
        p.push("shape is set although PyBUF_ND was not requested (must be NULL)".into());
    }
    if !req.nd() && v.ndim != 1 {
        p.push(format!(
            "ndim is {} without PyBUF_ND: the data is exposed as one dimension of bytes (ndim 1, as \
             CPython's exporters and _testbuffer report)",
            v.ndim
        ));
    }
    if poison.owns(v.strides.cast()) {
        p.push(unwritten("strides"));
    } else if req.strides() {
        if v.ndim > 0 && v.strides.is_null() {
            p.push("strides is NULL although PyBUF_STRIDES was requested".into());
        }
        if v.ndim == 0 && !v.strides.is_null() {
            p.push("strides is not NULL for ndim 0".into());
        }
    } else if !v.strides.is_null() {
        p.push("strides is set although PyBUF_STRIDES was not requested (must be NULL)".into());
    }
    if poison.owns(v.suboffsets.cast()) {
        p.push(unwritten("suboffsets"));
    } else if !v.suboffsets.is_null() {
        if !indirect(req) {
            p.push(
                "suboffsets is set although PyBUF_INDIRECT was not requested (must be NULL)".into(),
            );
        } else if v.ndim == 0 || !req.nd() {
            p.push("suboffsets is set for a view without dimensions".into());
        } else {
            // SAFETY: non-NULL, not ours, and `ndim` entries are what a consumer reads.
            let s = unsafe { std::slice::from_raw_parts(v.suboffsets, v.ndim as usize) };
            if s.iter().all(|&x| x < 0) {
                p.push(format!(
                    "suboffsets {s:?} are all negative: such a table must be NULL (buffer.rst)"
                ));
            }
        }
    }
    p
}

/// The format's problems, judged by `struct` or the kit's PEP 3118 parser, and its parse when
/// it describes `itemsize`-byte items.
pub(super) fn judge_format(
    py: Python<'_>,
    fmt: &[u8],
    itemsize: isize,
) -> (Vec<String>, Option<format::Parsed>) {
    let Ok(text) = std::str::from_utf8(fmt) else {
        return (
            vec![format!(
                "format {:?} is not ASCII",
                String::from_utf8_lossy(fmt)
            )],
            None,
        );
    };
    let own = format::parse(text);
    let by_struct: PyResult<isize> = py
        .import("struct")
        .and_then(|s| s.call_method1("calcsize", (text,))?.extract());
    let mut p = Vec::new();
    match (&by_struct, &own) {
        (Ok(size), _) if *size != itemsize => {
            p.push(format!("struct.calcsize({text:?}) is {size} but itemsize is {itemsize}"))
        }
        (Ok(_), _) => {}
        (Err(_), Ok(parsed)) if parsed.itemsize as isize != itemsize => p.push(format!(
            "format {text:?} describes {}-byte items (PEP 3118, as numpy reads it) but itemsize is {itemsize}",
            parsed.itemsize
        )),
        (Err(_), Ok(_)) => {}
        (Err(e), Err(why)) => {
            p.push(format!("format {text:?} is not a valid format (struct: {}; PEP 3118: {why})", e.value(py)))
        }
    }
    let parsed = own
        .ok()
        .filter(|parsed| parsed.itemsize as isize == itemsize);
    (p, parsed)
}

/// Whether the layout must serve a request, refuse it, or may do either (the reason given).
pub(super) enum Expect {
    Serve,
    Refuse(String),
    Either(&'static str),
}

/// The kit's own rules, where `_testbuffer` cannot say.
pub(super) fn expect_own(l: &ViewLayout, req: Request) -> Expect {
    if req.writable() && l.readonly {
        return Expect::Refuse("the data is read-only".into());
    }
    if l.suboffsets.is_some() && !indirect(req) {
        return Expect::Refuse("PIL-style data needs PyBUF_INDIRECT".into());
    }
    if req.c_contiguous() && !l.c_contiguous() {
        return Expect::Refuse("the data is not C-contiguous".into());
    }
    if req.f_contiguous() && !l.f_contiguous() {
        return Expect::Refuse("the data is not Fortran-contiguous".into());
    }
    if req.any_contiguous() && !l.c_contiguous() && !l.f_contiguous() {
        return Expect::Refuse("the data is not contiguous".into());
    }
    if !req.strides() && !l.c_contiguous() {
        return Expect::Refuse("the data is not C-contiguous, so it needs PyBUF_STRIDES".into());
    }
    Expect::Serve
}

/// The full view: the reference for every other request.
pub(super) struct Full {
    pub(super) layout: ViewLayout,
    pub(super) parsed: Option<format::Parsed>,
    pub(super) pil: bool,
}

/// The line for the full view.
pub(super) fn detail_of(full: &Option<Full>) -> String {
    match full {
        Some(f) => {
            let l = &f.layout;
            let mut d = format!(
                "served: format {:?}, itemsize {}, shape {:?}, strides {:?}, readonly {}",
                l.format_str(),
                l.itemsize,
                l.shape,
                l.strides,
                u8::from(l.readonly)
            );
            if let Some(s) = &l.suboffsets {
                d.push_str(&format!(", suboffsets {s:?} (PIL-style)"));
            }
            d
        }
        None => String::new(),
    }
}

impl<'a, 'py> Run<'a, 'py> {
    /// Rules on a view whose structure passed: its own numbers, and the full view's.
    pub(super) fn rules(
        &self,
        got: &ViewLayout,
        raw: &ffi::Py_buffer,
        req: Request,
        full: Option<&Full>,
    ) -> (Vec<String>, Option<format::Parsed>) {
        let mut p = Vec::new();
        let mut parsed = None;
        if req.nd() {
            let count: Option<isize> = got
                .shape
                .iter()
                .try_fold(1isize, |acc, &d| acc.checked_mul(d));
            match count.and_then(|c| c.checked_mul(got.itemsize)) {
                Some(n) if n == got.len => {}
                Some(n) => p.push(format!(
                    "len is {} but product(shape) * itemsize is {n}",
                    got.len
                )),
                None => p.push("product(shape) * itemsize overflows".into()),
            }
        }
        if let Some(fmt) = &got.format {
            let (mut fp, fparsed) = judge_format(self.py, fmt, got.itemsize);
            p.append(&mut fp);
            parsed = fparsed;
        }
        if req.writable() && got.readonly {
            p.push("readonly is 1 although PyBUF_WRITABLE was requested".into());
        }
        let pil = got.suboffsets.is_some();
        if req.c_contiguous() && (pil || !cpython_contiguous(raw, b'C')) {
            p.push("not C-contiguous (PyBuffer_IsContiguous) although PyBUF_C_CONTIGUOUS was requested".into());
        }
        if req.f_contiguous() && (pil || !cpython_contiguous(raw, b'F')) {
            p.push("not Fortran-contiguous (PyBuffer_IsContiguous) although PyBUF_F_CONTIGUOUS was requested".into());
        }
        if req.any_contiguous() && (pil || !cpython_contiguous(raw, b'A')) {
            p.push("not contiguous (PyBuffer_IsContiguous) although PyBUF_ANY_CONTIGUOUS was requested".into());
        }
        if req.nd() && got.shape.is_empty() && got.len != got.itemsize {
            p.push(format!(
                "ndim 0 but len {} is not itemsize {}",
                got.len, got.itemsize
            ));
        }
        let Some(full) = full else { return (p, parsed) };
        let full = &full.layout;
        if got.buf != full.buf && got.len > 0 {
            p.push(
                "buf differs from the PyBUF_FULL_RO view's: consumers would see other memory"
                    .into(),
            );
        }
        if got.len != full.len {
            p.push(format!(
                "len is {} but the PyBUF_FULL_RO view's is {}",
                got.len, full.len
            ));
        }
        if got.itemsize != full.itemsize {
            p.push(format!(
                "itemsize is {} but the PyBUF_FULL_RO view's is {}",
                got.itemsize, full.itemsize
            ));
        }
        if !req.writable() && got.readonly != full.readonly {
            p.push(format!(
                "readonly is {} but the PyBUF_FULL_RO view's is {}: every consumer must get one answer",
                u8::from(got.readonly),
                u8::from(full.readonly)
            ));
        }
        if req.format() && got.format != full.format {
            p.push(format!(
                "format {:?} differs from the PyBUF_FULL_RO view's {:?}",
                got.format_str(),
                full.format_str()
            ));
        }
        if req.nd() && got.shape != full.shape {
            p.push(format!(
                "shape {:?} differs from the PyBUF_FULL_RO view's {:?}",
                got.shape, full.shape
            ));
        }
        if req.strides() && got.strides != full.strides {
            p.push(format!(
                "strides {:?} differ from the PyBUF_FULL_RO view's {:?}",
                got.strides, full.strides
            ));
        }
        if indirect(req) && got.suboffsets != full.suboffsets {
            p.push(format!(
                "suboffsets {:?} differ from the PyBUF_FULL_RO view's {:?}",
                got.suboffsets, full.suboffsets
            ));
        }
        (p, parsed)
    }

    /// `_testbuffer.ndarray` with the full view's layout: shape, strides, offset, itemsize (as an
    /// `Ns` format: only the size matters to the request rules) and read-only flag.
    pub(super) fn build_mirror(&self) -> Result<Bound<'py, PyAny>, String> {
        let full = self.full.as_ref().ok_or("no full view")?;
        if full.pil {
            return Err("PIL-style layout".into());
        }
        let l = &full.layout;
        let tb = self
            .py
            .import("_testbuffer")
            .map_err(|_| "_testbuffer is not installed".to_string())?;
        let item = pyo3::types::PyBytes::new(self.py, &vec![0u8; l.itemsize as usize]);
        let fmt = format!("{}s", l.itemsize);
        let kw = PyDict::new(self.py);
        let e = |e: PyErr| e.to_string();
        kw.set_item("format", &fmt).map_err(e)?;
        let writable: isize = tb
            .getattr("ND_WRITABLE")
            .and_then(|f| f.extract())
            .map_err(e)?;
        kw.set_item("flags", if l.readonly { 0 } else { writable })
            .map_err(e)?;
        let ndarray = tb.getattr("ndarray").map_err(e)?;
        if l.shape.is_empty() {
            kw.set_item("shape", Vec::<isize>::new()).map_err(e)?;
            return ndarray.call((item,), Some(&kw)).map_err(e);
        }
        let (mut lo, mut hi) = (0isize, 0isize);
        if !l.shape.contains(&0) {
            for (&n, &s) in l.shape.iter().zip(&l.strides) {
                let reach = (n - 1).checked_mul(s).ok_or("layout overflows")?;
                if reach < 0 {
                    lo += reach
                } else {
                    hi += reach
                }
            }
        }
        if l.strides.iter().any(|s| s % l.itemsize != 0) {
            return Err("strides are not multiples of the itemsize".into());
        }
        let memlen = hi - lo + l.itemsize;
        if memlen > 256 * 1024 {
            return Err(format!("{memlen} bytes of memory"));
        }
        let items = pyo3::types::PyList::new(
            self.py,
            std::iter::repeat_n(item, (memlen / l.itemsize) as usize),
        )
        .map_err(e)?;
        kw.set_item("shape", &l.shape).map_err(e)?;
        kw.set_item("strides", &l.strides).map_err(e)?;
        kw.set_item("offset", -lo).map_err(e)?;
        ndarray.call((items,), Some(&kw)).map_err(e)
    }

    /// Serve, refuse or either, for this request on this layout.
    pub(super) fn decide(&mut self, req: Request) -> Option<Expect> {
        self.full.as_ref()?;
        let verdict = |flags: c_int, this: &mut Self| -> Expect {
            match &this.mirror {
                Ok(m) => {
                    let m = m.clone();
                    match get(&m, flags, &mut this.poison) {
                        Ok(v) => {
                            v.release_if_owned(&m);
                            Expect::Serve
                        }
                        Err(r) => Expect::Refuse(format!(
                            "CPython's reference exporter with this layout (_testbuffer) refuses it ({})",
                            describe(&r.err, this.py)
                        )),
                    }
                }
                Err(_) => expect_own(
                    &this.full.as_ref().expect("checked").layout,
                    Request::new(flags),
                ),
            }
        };
        if req.format() && !req.nd() {
            // Only the FORMAT bit is a policy choice: without it the request must be decided.
            return Some(match verdict(req.raw() & !bits::FORMAT, self) {
                Expect::Serve => Expect::Either("PyBUF_FORMAT without PyBUF_ND is a policy choice"),
                other => other,
            });
        }
        Some(verdict(req.raw(), self))
    }

    pub(super) fn refusal_problems(&self, r: &Refusal) -> Vec<String> {
        let mut problems = Vec::new();
        let what = describe(&r.err, self.py);
        if r.rc != -1 {
            problems.push(format!("returned {} (must be 0 or -1)", r.rc));
        }
        match &r.err {
            None => problems.push("failed without setting an exception".into()),
            Some(e) if !e.is_instance_of::<PyBufferError>(self.py) => problems.push(format!(
                "refused with {what}; CPython's rule is BufferError"
            )),
            Some(_) => {}
        }
        if r.obj_left {
            let mut m =
                "view.obj is not NULL after a failed request (CPython then releases the view)"
                    .to_string();
            if r.ref_given_back {
                m.push_str("; it held a reference, which the kit gave back");
            }
            problems.push(m);
        }
        problems
    }
}
