//! One kit call ([`Run`]): the full view, every request of the list judged by the oracle, and
//! releasing a copy of a view; then the checks of the other files, in the order the module
//! documentation gives.

use std::os::raw::c_int;

use pyo3::ffi;
use pyo3::prelude::*;

use super::oracle::{detail_of, structure, Expect, Full};
use super::report::{Outcome, Report};
use super::requests::{name_of, requests, FULL_RO};
use super::view::{describe, get, refcount, Poison, View, ViewLayout};
use super::Checker;
use crate::flags::Request;

/// One kit call.
pub(super) struct Run<'a, 'py> {
    pub(super) obj: &'a Bound<'py, PyAny>,
    pub(super) py: Python<'py>,
    pub(super) opts: Checker<'a, 'py>,
    pub(super) report: Report,
    pub(super) poison: Poison,
    pub(super) base: isize,
    pub(super) full: Option<Full>,
    /// `_testbuffer.ndarray` with the full view's layout, or why there is none.
    pub(super) mirror: Result<Bound<'py, PyAny>, String>,
    /// Requests served with sound fields, in order.
    pub(super) served: Vec<c_int>,
    /// Why real consumers must not be run.
    pub(super) hazards: Vec<String>,
    /// Why the kit must not write.
    pub(super) write_hazards: Vec<String>,
}

impl<'a, 'py> Run<'a, 'py> {
    pub(super) fn new(opts: Checker<'a, 'py>) -> Self {
        let obj = opts.obj;
        let subject = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "object".into());
        Run {
            obj,
            py: obj.py(),
            opts,
            report: Report::new(subject),
            poison: Poison::new(),
            base: refcount(obj),
            full: None,
            mirror: Err("no full view".into()),
            served: Vec::new(),
            hazards: Vec::new(),
            write_hazards: Vec::new(),
        }
    }

    pub(super) fn exports(&self) -> Option<PyResult<isize>> {
        self.opts.exports.as_ref().map(|f| f())
    }

    pub(super) fn all(mut self) -> Report {
        // SAFETY: `obj` is a live object and the GIL is held.
        if unsafe { ffi::PyObject_CheckBuffer(self.obj.as_ptr()) } == 0 {
            self.report.push(
                Outcome::Fail,
                "buffer protocol",
                "the type has no bf_getbuffer slot",
            );
            return self.report;
        }
        let start_exports = self.exports();
        self.full_view();
        self.mirror = self.build_mirror();
        if let Err(why) = &self.mirror {
            if self.full.is_some() {
                let why = why.clone();
                self.report.push(
                    Outcome::Note,
                    "reference exporter",
                    format!("_testbuffer cannot mirror this layout ({why}): the kit's own rules decide refusals"),
                );
            }
        }
        for flags in requests() {
            self.request(flags);
        }
        self.release_paths();
        // The checks below read (and the last one writes) memory through the views.
        self.live_views();
        self.contents();
        self.memory_per_export();
        self.consumers();
        self.shared_writes();

        let end = refcount(self.obj);
        let base = self.base;
        self.report.judge(
            "reference count",
            if end == base {
                vec![]
            } else {
                vec![format!("{base} before the checks, {end} after")]
            },
            format!("{base} before and after"),
        );
        if let (Some(Ok(a)), Some(Ok(b))) = (start_exports, self.exports()) {
            self.report.judge(
                "export count",
                if a == b {
                    vec![]
                } else {
                    vec![format!("{a} live exports before the checks, {b} after")]
                },
                format!("{a} before and after"),
            );
        }
        self.report
    }

    pub(super) fn full_view(&mut self) {
        let name = "PyBUF_FULL_RO (memoryview's request)";
        let req = Request::new(FULL_RO);
        match get(self.obj, FULL_RO, &mut self.poison) {
            Ok(v) => {
                let mut problems = structure(&v.raw, req, self.obj, &self.poison);
                if v.compensated {
                    problems.push(no_reference());
                    self.hazards
                        .push("its views hold no reference to the object".into());
                }
                let mut full = None;
                if problems.is_empty() {
                    let layout = ViewLayout::of(&v.raw, true);
                    let (mut p, parsed) = self.rules(&layout, &v.raw, req, None);
                    if layout.shape.iter().any(|&d| d < 0) {
                        p.push(format!("negative dimension in shape {:?}", layout.shape));
                    }
                    problems.append(&mut p);
                    let pil = layout.suboffsets.is_some();
                    full = Some(Full {
                        layout,
                        parsed,
                        pil,
                    });
                }
                v.release_if_owned(self.obj);
                if !problems.is_empty() {
                    full = None; // not a sound reference for the other requests
                    self.hazards.push("its full view is malformed".into());
                }
                let detail = detail_of(&full);
                self.full = full;
                self.report.judge(name, problems, detail);
            }
            Err(r) => {
                self.hazards.push("it refuses PyBUF_FULL_RO".into());
                let what = describe(&r.err, self.py);
                let mut p = vec![format!("refused ({what}): every consumer asks for this")];
                p.extend(self.refusal_problems(&r));
                self.report.push(Outcome::Fail, name, p.join("; "));
            }
        }
    }

    pub(super) fn request(&mut self, flags: c_int) {
        let req = Request::new(flags);
        let name = name_of(req);
        let expectation = self.decide(req);
        let before = refcount(self.obj);
        let exports_before = self.exports();
        match get(self.obj, flags, &mut self.poison) {
            Ok(v) => {
                let mut problems = structure(&v.raw, req, self.obj, &self.poison);
                let sound = problems.is_empty();
                if v.compensated {
                    problems.push(no_reference());
                    self.hazards
                        .push("its views hold no reference to the object".into());
                }
                if sound {
                    let got = ViewLayout::of(&v.raw, req.nd());
                    let (mut p, _) = self.rules(&got, &v.raw, req, self.full.as_ref());
                    if !p.is_empty() && req.writable() {
                        self.write_hazards.push(format!("its {name} view is wrong"));
                    }
                    problems.append(&mut p);
                } else {
                    self.hazards.push(format!("its {name} view is malformed"));
                    self.write_hazards
                        .push(format!("its {name} view is malformed"));
                }
                if let (Some(Ok(e0)), Some(Ok(e1))) = (&exports_before, self.exports()) {
                    if e1 != e0 + 1 {
                        problems.push(format!("the provider counts {e1} live exports with one more view held ({e0} before)"));
                    }
                }
                let released = v.release_if_owned(self.obj);
                if released && refcount(self.obj) != before {
                    problems.push(format!(
                        "reference count is {} after release, {before} before the request",
                        refcount(self.obj)
                    ));
                }
                if let (Some(Ok(e0)), Some(Ok(e1))) = (&exports_before, self.exports()) {
                    if released && e1 != *e0 {
                        problems.push(format!("the provider counts {e1} live exports after the release, {e0} before the request"));
                    }
                }
                if let Some(Expect::Refuse(why)) = &expectation {
                    problems.push(format!("served, but must be refused: {why}"));
                    if req.writable() {
                        self.write_hazards.push(format!("it serves {name}"));
                    }
                }
                if sound && !matches!(expectation, Some(Expect::Refuse(_))) {
                    self.served.push(flags);
                }
                let detail = match &expectation {
                    Some(Expect::Either(why)) => format!("served ({why})"),
                    _ => "served".to_string(),
                };
                self.report.judge(name, problems, detail);
            }
            Err(r) => {
                let what = describe(&r.err, self.py);
                let mut problems = self.refusal_problems(&r);
                if r.obj_left {
                    // CPython's argument parsing releases such a view: a crash or a leak.
                    self.hazards
                        .push("it leaves view.obj set when it refuses".into());
                }
                if refcount(self.obj) != before {
                    problems.push(format!(
                        "reference count changed from {before} to {} by a refused request",
                        refcount(self.obj)
                    ));
                }
                if let Some(Expect::Serve) = expectation {
                    problems.push("refused a request the layout can serve".into());
                }
                let detail = match expectation {
                    Some(Expect::Either(why)) => format!("refused ({why}): {what}"),
                    _ => format!("refused: {what}"),
                };
                self.report.judge(name, problems, detail);
            }
        }
    }

    /// A copy of a view can be released, and overlapping views in any order.
    pub(super) fn release_paths(&mut self) {
        let (obj, base) = (self.obj, refcount(self.obj));
        let name = "release a copy of the view";
        match get(obj, FULL_RO, &mut self.poison) {
            Ok(v) => {
                let copy = View {
                    raw: Box::new(*v.raw),
                    compensated: v.compensated,
                };
                let owned = v.raw.obj == obj.as_ptr();
                if owned {
                    copy.release(); // released once, through the copy; `v` is only dropped
                }
                drop(v);
                let after = refcount(obj);
                let again = get(obj, FULL_RO, &mut self.poison)
                    .map(|v| v.release_if_owned(obj))
                    .is_ok();
                let mut p = Vec::new();
                if after != base {
                    p.push(format!(
                        "reference count {after} after release, {base} before"
                    ));
                }
                if !again {
                    p.push("the next request failed".into());
                }
                self.report.judge(
                    name,
                    p,
                    "per-export state does not depend on the view's address",
                );
            }
            Err(r) => self
                .report
                .push(Outcome::Fail, name, describe(&r.err, obj.py())),
        }
    }
}

pub(super) fn no_reference() -> String {
    "the view holds no reference to view.obj (the export must return a new reference; the kit added \
     the missing one so that the object survives the release)"
        .into()
}
