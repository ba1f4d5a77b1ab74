//! Views that must stay valid: every served request held at once, re-read after a heap spray
//! and at each release (out of order); and memory per export, over many export/release cycles.

use std::os::raw::c_int;

use super::memory;
use super::report::Outcome;
use super::requests::{name_of, FULL_RO};
use super::run::Run;
use super::view::{describe, get, refcount, Snapshot, View};
use crate::flags::{bits, Request};

pub(super) const PER_EXPORT_LEAK: usize = 8;

impl<'a, 'py> Run<'a, 'py> {
    /// Every cleanly served request at once; their fields and tables must not change until
    /// each is released.
    pub(super) fn live_views(&mut self) {
        let name = "views held together stay valid until released";
        if self.served.is_empty() {
            self.report.push(
                Outcome::Note,
                name,
                "not checked: no request was served cleanly",
            );
            return;
        }
        let obj = self.obj;
        let before = refcount(obj);
        let exports_before = self.exports();
        let mut flags: Vec<c_int> = vec![FULL_RO];
        flags.extend(
            self.served
                .iter()
                .copied()
                .filter(|&f| f != FULL_RO)
                .take(31),
        );
        let mut views: Vec<(c_int, View, Snapshot)> = Vec::new();
        let mut problems = Vec::new();
        // Every view held is re-read after each later export (a table rewritten by one export
        // may be rewritten back by the next).
        let mut changed = vec![false; flags.len()];
        for &f in &flags {
            match get(obj, f, &mut self.poison) {
                Ok(v) => {
                    for (i, (f0, v0, snap0)) in views.iter().enumerate() {
                        if changed[i] {
                            continue;
                        }
                        if let Some(d) = snap0.changed(&v0.raw) {
                            changed[i] = true;
                            problems.push(format!(
                                "the {} view changed when {} was exported: {d}",
                                name_of(Request::new(*f0)),
                                name_of(Request::new(f))
                            ));
                        }
                    }
                    let snap = Snapshot::take(&v.raw);
                    views.push((f, v, snap));
                }
                Err(r) => problems.push(format!(
                    "{} was refused with {} other views held ({})",
                    name_of(Request::new(f)),
                    views.len(),
                    describe(&r.err, self.py)
                )),
            }
        }
        if let (Some(Ok(e0)), Some(Ok(e1))) = (&exports_before, self.exports()) {
            if e1 != e0 + views.len() as isize {
                problems.push(format!(
                    "the provider counts {} live exports with {} views held",
                    e1 - e0,
                    views.len()
                ));
            }
        }
        if refcount(obj) < before + views.len() as isize {
            problems.push(format!(
                "{} views hold {} references",
                views.len(),
                refcount(obj) - before
            ));
        }
        {
            let _spray = memory::Spray::new(self.py);
            for (i, (f, v, snap)) in views.iter().enumerate() {
                if changed.get(i).copied().unwrap_or(false) {
                    continue;
                }
                if let Some(d) = snap.changed(&v.raw) {
                    problems.push(format!(
                        "the {} view changed after later exports: {d}",
                        name_of(Request::new(*f))
                    ));
                }
            }
        }
        // Release out of order: every other one first, then the rest backwards; re-read each
        // remaining view after every release and each view right before its own.
        let n = views.len();
        let mut order: Vec<usize> = (0..n).filter(|i| i % 2 == 1).collect();
        order.extend((0..n).filter(|i| i % 2 == 0).rev());
        let mut slots: Vec<Option<(c_int, View, Snapshot)>> = views.into_iter().map(Some).collect();
        let mut seen_change = problems.len();
        for i in order {
            let (f, v, snap) = slots[i].take().expect("released once");
            if let Some(d) = snap.changed(&v.raw) {
                problems.push(format!(
                    "the {} view changed before its release: {d}",
                    name_of(Request::new(f))
                ));
            }
            v.release_if_owned(obj);
            if problems.len() == seen_change {
                for (f2, v2, snap2) in slots.iter().flatten() {
                    if let Some(d) = snap2.changed(&v2.raw) {
                        problems.push(format!(
                            "the {} view changed when the {} view was released: {d}",
                            name_of(Request::new(*f2)),
                            name_of(Request::new(f))
                        ));
                        break;
                    }
                }
            }
            seen_change = problems.len();
        }
        if refcount(obj) != before {
            problems.push(format!(
                "reference count {} after releasing all, {before} before",
                refcount(obj)
            ));
        }
        if let (Some(Ok(e0)), Some(Ok(e1))) = (&exports_before, self.exports()) {
            if e1 != *e0 {
                problems.push(format!(
                    "the provider counts {e1} live exports after all were released, {e0} before"
                ));
            }
        }
        if !problems.is_empty() {
            self.hazards.push("its views change while alive".into());
        }
        if problems.len() > 4 {
            let more = problems.len() - 3;
            problems.truncate(3);
            problems.push(format!("and {more} more"));
        }
        self.report.judge(name, problems, format!("{n} views held, re-read after a heap spray and at each release, released out of order"));
    }

    /// Many export/release cycles: memory in use must not grow with them.
    pub(super) fn memory_per_export(&mut self) {
        let name = "memory per export";
        let n = self.opts.per_round;
        if n == 0 {
            self.report
                .push(Outcome::Note, name, "not checked (exports_per_round(0))");
            return;
        }
        let obj = self.obj;
        let mut flags = vec![FULL_RO];
        for want in [
            bits::SIMPLE,
            bits::ND,
            bits::STRIDES | bits::WRITABLE,
            bits::C_CONTIGUOUS,
        ] {
            if self.served.contains(&want) {
                flags.push(want);
            }
        }
        let exports_total = n * flags.len();
        let before = refcount(obj);
        let round = |this: &mut Self| -> bool {
            for _ in 0..n {
                for &f in &flags {
                    match get(obj, f, &mut this.poison) {
                        Ok(v) => {
                            v.release_if_owned(obj);
                        }
                        Err(_) => return false,
                    }
                }
            }
            true
        };
        let meter = memory::Meter::start(self.py);
        let ok = round(self);
        let m0 = meter.usage();
        let ok = ok && round(self);
        let m1 = meter.usage();
        let ok = ok && round(self);
        let m2 = meter.usage();
        drop(meter);
        if !ok {
            self.report.push(
                Outcome::Fail,
                name,
                "a request served before was refused during the loop",
            );
            return;
        }
        let mut p = Vec::new();
        let mut measured = Vec::new();
        let growth =
            |a: Option<usize>, b: Option<usize>| a.zip(b).map(|(a, b)| b as isize - a as isize);
        let blocks = |a: Option<isize>, b: Option<isize>| a.zip(b).map(|(a, b)| b - a);
        for (what, unit, g1, g2, limit) in [
            (
                "malloc",
                "bytes",
                growth(m0.malloc, m1.malloc),
                growth(m1.malloc, m2.malloc),
                PER_EXPORT_LEAK * exports_total,
            ),
            (
                "Python allocators (tracemalloc)",
                "bytes",
                growth(m0.traced, m1.traced),
                growth(m1.traced, m2.traced),
                PER_EXPORT_LEAK * exports_total,
            ),
            (
                "pymalloc (sys.getallocatedblocks)",
                "blocks",
                blocks(m0.blocks, m1.blocks),
                blocks(m1.blocks, m2.blocks),
                exports_total / 2,
            ),
        ] {
            let (Some(g1), Some(g2)) = (g1, g2) else {
                continue;
            };
            measured.push(what);
            let limit = limit as isize;
            if g1 >= limit && g2 >= limit {
                p.push(format!(
                    "{what}: {g1} then {g2} more {unit} in use after two rounds of {exports_total} exports \
                     ({:.1} {unit} per export): memory leaked per export",
                    g2 as f64 / exports_total as f64
                ));
            }
        }
        if measured.is_empty() {
            if let (Some(a), Some(c)) = (m0.rss, m2.rss) {
                measured.push("RSS");
                if c > a + 64 * exports_total {
                    p.push(format!(
                        "RSS grew {} bytes over {} exports",
                        c - a,
                        2 * exports_total
                    ));
                }
            }
        }
        let leaked_refs = refcount(obj) - before;
        if leaked_refs != 0 {
            p.push(format!(
                "the reference count changed by {leaked_refs} over {} exports",
                3 * exports_total
            ));
        }
        self.report.judge(
            name,
            p,
            format!(
                "3 x {exports_total} export/release cycles ({} request kinds): no growth ({})",
                flags.len(),
                if measured.is_empty() {
                    "no memory measure on this platform".to_string()
                } else {
                    measured.join(", ")
                }
            ),
        );
    }
}
