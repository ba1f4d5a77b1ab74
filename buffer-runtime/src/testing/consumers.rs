//! The checks that touch the memory, run last and only on views whose fields passed: the
//! contents through every view and against the reference, real consumers (`memoryview`,
//! `bytes`, `hashlib`, numpy), and a write through one view that another must see.

use pyo3::exceptions::PyBufferError;
use pyo3::prelude::*;
use pyo3::PyTypeInfo;

use super::format;
use super::oracle::structure;
use super::report::{summary, Outcome, Report};
use super::requests::{name_of, FULL_RO};
use super::run::Run;
use super::view::{
    describe, elements, elements_flat, elements_of_obj, flip_bytes, get, View, ViewLayout,
};
use crate::flags::{bits, Request};

impl<'a, 'py> Run<'a, 'py> {
    /// The elements each served view shows, read through its own `buf` and strides, against
    /// the full view's; the full view's against the reference.
    pub(super) fn contents(&mut self) {
        let name = "contents through every view";
        let (fl, pil) = match &self.full {
            Some(f) => (f.layout.clone(), f.pil),
            None => {
                self.report
                    .push(Outcome::Note, name, "not checked: no sound full view");
                return;
            }
        };
        if pil {
            self.report.push(
                Outcome::Note,
                name,
                "not checked: PIL-style suboffsets are not followed by the kit",
            );
            return;
        }
        let obj = self.obj;
        let indices = sample(fl.count());
        let fv = match get(obj, FULL_RO, &mut self.poison) {
            Ok(v)
                if structure(&v.raw, Request::new(FULL_RO), obj, &self.poison).is_empty()
                    && ViewLayout::of(&v.raw, true) == fl =>
            {
                v
            }
            Ok(v) => {
                v.release_if_owned(obj);
                self.report.push(
                    Outcome::Fail,
                    name,
                    "the PyBUF_FULL_RO view changed between two requests",
                );
                return;
            }
            Err(r) => {
                self.report.push(
                    Outcome::Fail,
                    name,
                    format!("PyBUF_FULL_RO refused: {}", describe(&r.err, self.py)),
                );
                return;
            }
        };
        let want = elements(&fl, &indices);
        let mut problems = Vec::new();
        for &flags in &self.served.clone() {
            let req = Request::new(flags);
            let Ok(v) = get(obj, flags, &mut self.poison) else {
                continue;
            };
            if structure(&v.raw, req, obj, &self.poison).is_empty() {
                let got = ViewLayout::of(&v.raw, req.nd());
                let seen = if req.nd() {
                    elements(&got, &indices)
                } else {
                    elements_flat(&got, fl.itemsize, &indices)
                };
                if let Some(i) = first_difference(&seen, &want, fl.itemsize as usize, None) {
                    problems.push(format!(
                        "{}: element {} reads {} through this view but {} through PyBUF_FULL_RO",
                        name_of(req),
                        index_of(indices[i], &fl.shape),
                        hex(&seen, i, fl.itemsize),
                        hex(&want, i, fl.itemsize)
                    ));
                }
            }
            v.release_if_owned(obj);
        }
        self.report.judge(
            name,
            problems,
            format!(
                "{} elements read through {} views agree",
                indices.len(),
                self.served.len()
            ),
        );

        let name = "contents against the reference";
        match self.opts.reference {
            None => self.report.push(
                Outcome::Note,
                name,
                "not checked: without a reference (Checker::reference / reference=) the kit cannot tell a \
                 wrong item type of the right size, or buf at the wrong element, from the truth",
            ),
            Some(reference) => {
                let p = self.against_reference(reference, &fl, &want, &indices);
                self.report.judge(name, p, "shape, item layout, readonly and every element match");
            }
        }
        fv.release_if_owned(obj);
    }

    pub(super) fn against_reference(
        &mut self,
        reference: &Bound<'py, PyAny>,
        fl: &ViewLayout,
        want: &[u8],
        indices: &[usize],
    ) -> Vec<String> {
        let mut p = Vec::new();
        let rv = match get(reference, FULL_RO, &mut self.poison) {
            Ok(v) => v,
            Err(r) => {
                return vec![format!(
                    "the reference exports no PyBUF_FULL_RO buffer ({})",
                    describe(&r.err, self.py)
                )]
            }
        };
        if !structure(&rv.raw, Request::new(FULL_RO), reference, &self.poison).is_empty() {
            rv.release_if_owned(reference);
            return vec!["the reference's own buffer is malformed".into()];
        }
        let rl = ViewLayout::of(&rv.raw, true);
        if rl.shape != fl.shape {
            p.push(format!(
                "shape {:?} but the reference's is {:?}",
                fl.shape, rl.shape
            ));
        }
        if rl.itemsize != fl.itemsize {
            p.push(format!(
                "itemsize {} but the reference's is {}",
                fl.itemsize, rl.itemsize
            ));
        }
        if rl.readonly != fl.readonly {
            p.push(format!(
                "readonly {} but the reference's is {}",
                u8::from(fl.readonly),
                u8::from(rl.readonly)
            ));
        }
        let mine = self
            .full
            .as_ref()
            .and_then(|f| f.parsed.clone())
            .or_else(|| {
                // A NULL format is 'B'.
                format::parse(&fl.format_str())
                    .ok()
                    .filter(|x| x.itemsize as isize == fl.itemsize)
            });
        let theirs = format::parse(&rl.format_str())
            .ok()
            .filter(|x| x.itemsize as isize == rl.itemsize);
        let same_format = match (&mine, &theirs) {
            (Some(a), Some(b)) => a.layout() == b.layout(),
            _ => fl.format_str().trim_start_matches('@') == rl.format_str().trim_start_matches('@'),
        };
        if !same_format {
            p.push(format!(
                "format {:?} describes other items than the reference's {:?}",
                fl.format_str(),
                rl.format_str()
            ));
        }
        if p.is_empty() && rl.suboffsets.is_none() {
            let theirs_bytes = elements(&rl, indices);
            let mask = mine.as_ref().map(|m| m.padding_mask());
            if let Some(i) =
                first_difference(want, &theirs_bytes, fl.itemsize as usize, mask.as_deref())
            {
                p.push(format!(
                    "element {} is {} but the reference's is {} (contents differ from the reference)",
                    index_of(indices[i], &fl.shape),
                    hex(want, i, fl.itemsize),
                    hex(&theirs_bytes, i, fl.itemsize)
                ));
            }
        }
        rv.release_if_owned(reference);
        p
    }

    /// Real consumers: memoryview, bytes, hashlib, numpy.
    pub(super) fn consumers(&mut self) {
        let (full, pil) = match &self.full {
            Some(f) => (f.layout.clone(), f.pil),
            None => {
                self.report
                    .push(Outcome::Note, "consumers", "not run: no sound full view");
                return;
            }
        };
        if pil {
            self.report.push(
                Outcome::Note,
                "consumers",
                "not run: PIL-style suboffsets (see the kit's policy)",
            );
            return;
        }
        if !self.hazards.is_empty() {
            self.report.push(
                Outcome::Note,
                "consumers",
                format!(
                    "not run: {} (a real consumer could crash the process)",
                    summary(&self.hazards)
                ),
            );
            return;
        }
        let py = self.py;
        let obj = self.obj;
        let count = full.count();
        let all = sample(count).len() == count;
        let kit_bytes = elements_of_obj(obj, &full, &mut self.poison);

        let name = "consumer memoryview";
        let r: PyResult<Vec<String>> = (|| {
            let m = pyo3::types::PyMemoryView::from(obj)?;
            let mut p = Vec::new();
            let get = |attr: &str| m.getattr(attr);
            let nbytes: isize = get("nbytes")?.extract()?;
            if nbytes != full.len {
                p.push(format!("nbytes {nbytes}, len {}", full.len));
            }
            let shape: Vec<isize> = get("shape")?.extract()?;
            if shape != full.shape {
                p.push(format!("shape {shape:?}, expected {:?}", full.shape));
            }
            let format: String = get("format")?.extract()?;
            if format != full.format_str() {
                p.push(format!(
                    "format {format:?}, expected {:?}",
                    full.format_str()
                ));
            }
            if get("readonly")?.extract::<bool>()? != full.readonly {
                p.push("readonly differs".into());
            }
            match m.call_method0("tolist") {
                Ok(_) => {}
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyNotImplementedError>(py) => {}
                Err(e) => p.push(format!("tolist() raised {e}")),
            }
            let bytes: Vec<u8> = m.call_method0("tobytes")?.extract()?;
            if all && kit_bytes.as_deref().is_some_and(|k| k != bytes.as_slice()) {
                p.push("memoryview(obj).tobytes() differs from the elements the kit reads through buf and strides".into());
            }
            m.call_method0("release")?;
            Ok(p)
        })();
        judge_py(
            &mut self.report,
            name,
            r,
            "fields and tobytes() match the full view",
        );

        let name = "consumer bytes";
        let r: PyResult<Vec<String>> = (|| {
            let b = pyo3::types::PyBytes::type_object(py).call1((obj,))?;
            let m = pyo3::types::PyMemoryView::from(obj)?;
            let mut p = Vec::new();
            if b.len()? as isize != full.len {
                p.push(format!(
                    "bytes(obj) has {} bytes, len is {}",
                    b.len()?,
                    full.len
                ));
            }
            if !b.eq(m.call_method0("tobytes")?)? {
                p.push("bytes(obj) differs from memoryview(obj).tobytes()".into());
            }
            m.call_method0("release")?;
            Ok(p)
        })();
        judge_py(
            &mut self.report,
            name,
            r,
            "bytes(obj) == memoryview(obj).tobytes()",
        );

        let name = "consumer hashlib";
        let c_contiguous = full.c_contiguous();
        let r: PyResult<Vec<String>> = (|| {
            let hashlib = py.import("hashlib")?;
            let mut p = Vec::new();
            match hashlib.call_method1("sha256", (obj,)) {
                Ok(h) if c_contiguous => {
                    let b = pyo3::types::PyBytes::type_object(py).call1((obj,))?;
                    let want = hashlib
                        .call_method1("sha256", (b,))?
                        .call_method0("digest")?;
                    if !h.call_method0("digest")?.eq(want)? {
                        p.push("sha256(obj) differs from sha256(bytes(obj))".into());
                    }
                }
                Ok(_) => p.push("hashed non-C-contiguous data".into()),
                Err(e) if !c_contiguous && e.is_instance_of::<PyBufferError>(py) => {}
                Err(e) => p.push(format!("sha256(obj) raised {e}")),
            }
            Ok(p)
        })();
        let ok = if c_contiguous {
            "sha256(obj) == sha256(bytes(obj))"
        } else {
            "refused: not C-contiguous"
        };
        judge_py(&mut self.report, name, r, ok);

        let name = "consumer numpy";
        let Ok(np) = py.import("numpy") else {
            self.report
                .push(Outcome::Note, name, "numpy is not installed: not checked");
            return;
        };
        if obj.is_instance_of::<pyo3::types::PyBytes>() {
            self.report.push(
                Outcome::Note,
                name,
                "numpy reads bytes as a scalar, not through the buffer",
            );
            return;
        }
        let r: PyResult<Vec<String>> = (|| {
            let a = match np.call_method1("asarray", (obj,)) {
                Ok(a) => a,
                Err(e) => {
                    // The format passed the kit's checks; numpy does not read every one.
                    return Ok(vec![format!(
                        "__note__numpy cannot read format {:?}: {e}",
                        full.format_str()
                    )]);
                }
            };
            let mut p = Vec::new();
            let shape: Vec<isize> = a.getattr("shape")?.extract()?;
            let strides: Vec<isize> = a.getattr("strides")?.extract()?;
            if shape != full.shape {
                p.push(format!("shape {shape:?}, expected {:?}", full.shape));
            }
            if strides != full.strides && full.len > 0 {
                p.push(format!("strides {strides:?}, expected {:?}", full.strides));
            }
            let itemsize: isize = a.getattr("itemsize")?.extract()?;
            if itemsize != full.itemsize {
                p.push(format!(
                    "numpy's itemsize {itemsize}, expected {}",
                    full.itemsize
                ));
            }
            let data: usize = a
                .getattr("__array_interface__")?
                .get_item("data")?
                .get_item(0)?
                .extract()?;
            if data != full.buf && full.len > 0 {
                p.push("numpy's data pointer is not the buffer's: a copy was made".into());
            }
            Ok(p)
        })();
        judge_py(
            &mut self.report,
            name,
            r,
            "np.asarray(obj): same shape, strides and memory",
        );
    }

    /// For writable data: every byte written through one view is seen through a second one,
    /// then put back.
    pub(super) fn shared_writes(&mut self) {
        let name = "a write through one view is seen by another";
        let Some(full) = &self.full else {
            self.report
                .push(Outcome::Note, name, "not run: no sound full view");
            return;
        };
        if full.pil || full.layout.readonly || full.layout.len == 0 {
            self.report.push(
                Outcome::Note,
                name,
                "not applicable: read-only, empty or PIL-style",
            );
            return;
        }
        if !self.write_hazards.is_empty() || !self.hazards.is_empty() {
            let mut h = self.write_hazards.clone();
            h.extend(self.hazards.iter().cloned());
            self.report
                .push(Outcome::Note, name, format!("not run: {}", summary(&h)));
            return;
        }
        let obj = self.obj;
        let flags = bits::STRIDES | bits::WRITABLE;
        let req = Request::new(flags);
        let (a, b) = match (
            get(obj, flags, &mut self.poison),
            get(obj, flags, &mut self.poison),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (a, b) => {
                let py = self.py;
                let err = a.err().or(b.err()).and_then(|e| e.err);
                self.report.push(
                    Outcome::Fail,
                    name,
                    format!("a writable export failed: {}", describe(&err, py)),
                );
                return;
            }
        };
        let sound =
            |v: &View| structure(&v.raw, req, obj, &self.poison).is_empty() && v.raw.readonly == 0;
        if !sound(&a) || !sound(&b) {
            self.report.push(
                Outcome::Fail,
                name,
                "the writable views are malformed (see the request lines)",
            );
            a.release_if_owned(obj);
            b.release_if_owned(obj);
            return;
        }
        let (la, lb) = (ViewLayout::of(&a.raw, true), ViewLayout::of(&b.raw, true));
        let indices = sample(la.count());
        let before = elements(&lb, &indices);
        // SAFETY: both views are live and writable (`sound`), their layouts passed the checks
        // against the full view, and `indices` come from `la.count()`. Every byte is flipped back
        // below.
        unsafe { flip_bytes(&la, &indices) };
        let flipped = elements(&lb, &indices);
        // SAFETY: as above; this puts every byte back.
        unsafe { flip_bytes(&la, &indices) };
        let restored = elements(&lb, &indices);
        a.release();
        b.release();
        let mut p = Vec::new();
        if flipped.iter().zip(&before).any(|(x, y)| *x != !*y) {
            p.push("the second view does not see every byte written through the first: the exports do not share memory".into());
        }
        if restored != before {
            p.push("the bytes did not read back as they were after being restored".into());
        }
        self.report.judge(
            name,
            p,
            format!(
                "{} elements, every byte: both views share the memory (zero copy)",
                indices.len()
            ),
        );
    }
}

/// Flat C-order indices to compare: all of them, or a spread of 12,288 for big buffers.
pub(super) fn sample(count: usize) -> Vec<usize> {
    const ALL: usize = 1 << 16;
    if count <= ALL {
        return (0..count).collect();
    }
    let mut v: Vec<usize> = (0..4096).chain(count - 4096..count).collect();
    v.extend((0..4096).map(|i| 4096 + i * ((count - 8192) / 4096)));
    v.sort_unstable();
    v.dedup();
    v
}

/// Index of the first element whose bytes differ (padding bytes skipped when a mask is given).
pub(super) fn first_difference(
    a: &[u8],
    b: &[u8],
    item: usize,
    pad: Option<&[bool]>,
) -> Option<usize> {
    if item == 0 {
        return None;
    }
    let n = a.len().max(b.len()) / item;
    (0..n).find(|&i| {
        (0..item).any(|j| {
            let skip = pad.is_some_and(|m| m.get(j).copied().unwrap_or(false));
            !skip && a.get(i * item + j) != b.get(i * item + j)
        })
    })
}

pub(super) fn hex(bytes: &[u8], i: usize, item: isize) -> String {
    let item = item as usize;
    let s: Vec<String> = bytes
        .iter()
        .skip(i * item)
        .take(item)
        .map(|b| format!("{b:02x}"))
        .collect();
    if s.is_empty() {
        "nothing".into()
    } else {
        s.join("")
    }
}

pub(super) fn index_of(k: usize, shape: &[isize]) -> String {
    let mut idx = vec![0usize; shape.len()];
    let mut rest = k;
    for d in (0..shape.len()).rev() {
        let n = shape[d].max(1) as usize;
        idx[d] = rest % n;
        rest /= n;
    }
    format!("{idx:?}")
}

pub(super) fn judge_py(report: &mut Report, name: &str, r: PyResult<Vec<String>>, ok: &str) {
    match r {
        Ok(p) if p.len() == 1 && p[0].starts_with("__note__") => {
            report.push(Outcome::Note, name, p[0].trim_start_matches("__note__"))
        }
        Ok(p) => report.judge(name, p, ok),
        Err(e) => report.push(Outcome::Fail, name, format!("raised {e}")),
    }
}
