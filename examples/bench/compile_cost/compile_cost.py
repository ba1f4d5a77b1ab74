"""Compile cost of the derive: 100 annotated classes vs the same 100 with hand-written providers.

Generates two extension crates under examples/bench/build/compile_cost/ (same classes, same
methods; one uses #[derive(PyBuffer)] + #[buffer_methods], the other writes __getbuffer__ /
__releasebuffer__ by hand around one shared fill function, as a careful C-style author would),
builds their dependencies once, then times `cargo build --release` of each crate alone
(dependencies cached, the crate's own source touched) and prints the difference.

Usage: python examples/bench/compile_cost/compile_cost.py [--classes N] [--runs R] [--no-pickle]

Besides wall time it prints the CPU time (user + system) of each build, which other jobs on a
shared machine disturb less. `--no-pickle` adds `#[buffer(pickle = false)]` to each derived
class (the cost of the generated pickle support is the difference).
"""

import argparse
import os
import pathlib
import resource
import statistics
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[3]
OUT = ROOT / "examples" / "bench" / "build" / "compile_cost"

CARGO = """[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
pyo3 = {{ version = "0.30.1", features = ["extension-module"] }}
buffer-runtime = {{ path = "{runtime}" }}

[workspace]
"""

DERIVED = """
#[pyclass]
#[derive(PyBuffer)]{attrs}
pub struct Matrix{i} {{
    #[buffer(shape = [rows, cols])]
    data: SharedVec<f64>,
    rows: usize,
    cols: usize,
}}

#[buffer_methods]
#[pymethods]
impl Matrix{i} {{
    #[new]
    fn new(rows: usize, cols: usize) -> Self {{
        Matrix{i} {{ data: vec![0.0; rows * cols].into(), rows, cols }}
    }}
}}
"""

HAND_HEADER = """
use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::Arc;
use pyo3::exceptions::PyBufferError;
use pyo3::ffi;

pub struct Block { data: Box<[std::cell::UnsafeCell<f64>]>, shape: [isize; 2], strides: [isize; 2] }
unsafe impl Sync for Block {}

/// One shared, careful fill: writable check, C-contiguous 2-D, flags honoured.
unsafe fn fill(view: *mut ffi::Py_buffer, flags: c_int, block: &Arc<Block>, owner: *mut ffi::PyObject) -> PyResult<()> {
    if view.is_null() { return Err(PyBufferError::new_err("NULL view")); }
    (*view).obj = ptr::null_mut();
    if flags & ffi::PyBUF_FORMAT == ffi::PyBUF_FORMAT && flags & ffi::PyBUF_ND != ffi::PyBUF_ND {
        return Err(PyBufferError::new_err("FORMAT without ND"));
    }
    let hold = Arc::clone(block);
    let v = &mut *view;
    v.buf = hold.data.as_ptr() as *mut c_void;
    v.len = (hold.data.len() * 8) as isize;
    v.itemsize = 8;
    v.readonly = 0;
    v.ndim = if flags & ffi::PyBUF_ND == ffi::PyBUF_ND { 2 } else { 1 };
    v.format = if flags & ffi::PyBUF_FORMAT == ffi::PyBUF_FORMAT { c"d".as_ptr() as *mut _ } else { ptr::null_mut() };
    v.shape = if flags & ffi::PyBUF_ND == ffi::PyBUF_ND { hold.shape.as_ptr() as *mut _ } else { ptr::null_mut() };
    v.strides = if flags & ffi::PyBUF_STRIDES == ffi::PyBUF_STRIDES { hold.strides.as_ptr() as *mut _ } else { ptr::null_mut() };
    v.suboffsets = ptr::null_mut();
    v.internal = Arc::into_raw(hold) as *mut c_void;
    v.obj = ffi::Py_NewRef(owner);
    Ok(())
}

unsafe fn release(view: *mut ffi::Py_buffer) {
    let p = (*view).internal as *const Block;
    if !p.is_null() { drop(Arc::from_raw(p)); }
}
"""

HAND = """
#[pyclass]
pub struct Matrix{i} {{
    block: Arc<Block>,
}}

#[pymethods]
impl Matrix{i} {{
    #[new]
    fn new(rows: usize, cols: usize) -> Self {{
        let data = (0..rows * cols).map(|_| std::cell::UnsafeCell::new(0.0)).collect();
        Matrix{i} {{ block: Arc::new(Block {{ data, shape: [rows as isize, cols as isize], strides: [cols as isize * 8, 8] }}) }}
    }}
    unsafe fn __getbuffer__(slf: Bound<'_, Self>, view: *mut ffi::Py_buffer, flags: c_int) -> PyResult<()> {{
        let me = slf.try_borrow().map_err(|_| PyBufferError::new_err("borrowed"))?;
        unsafe {{ fill(view, flags, &me.block, slf.as_ptr()) }}
    }}
    unsafe fn __releasebuffer__(_slf: Bound<'_, Self>, view: *mut ffi::Py_buffer) {{
        unsafe {{ release(view) }}
    }}
}}
"""


def write_crate(kind: str, n: int, pickle: bool = True) -> pathlib.Path:
    crate = OUT / kind
    (crate / "src").mkdir(parents=True, exist_ok=True)
    (crate / "Cargo.toml").write_text(
        CARGO.format(name=f"cost_{kind}", runtime=(ROOT / "buffer-runtime").as_posix())
    )
    body = ["use pyo3::prelude::*;"]
    if kind == "derived":
        body.append("use buffer_runtime::{buffer_methods, PyBuffer, SharedVec};")
        attrs = "" if pickle else "\n#[buffer(pickle = false)]"
        body += [DERIVED.format(i=i, attrs=attrs) for i in range(n)]
    else:
        body.append(HAND_HEADER)
        body += [HAND.format(i=i) for i in range(n)]
    adds = "\n".join(f"    m.add_class::<Matrix{i}>()?;" for i in range(n))
    body.append(
        f"#[pymodule]\nfn cost_{kind}(m: &Bound<'_, PyModule>) -> PyResult<()> {{\n{adds}\n    Ok(())\n}}\n"
    )
    (crate / "src" / "lib.rs").write_text("\n".join(body))
    return crate


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def build(crate: pathlib.Path, env: dict) -> tuple[float, float]:
    """Wall and CPU seconds of one build of the crate alone."""
    (crate / "src" / "lib.rs").touch()
    t, c = time.perf_counter(), cpu()
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--manifest-path", str(crate / "Cargo.toml")],
        check=True,
        env=env,
    )
    return time.perf_counter() - t, cpu() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-pickle", action="store_true", help="#[buffer(pickle = false)] on each derived class")
    args = ap.parse_args()
    env = dict(os.environ, CARGO_TARGET_DIR=str(OUT / "target"))
    crates = {k: write_crate(k, args.classes, not args.no_pickle) for k in ("hand", "derived")}
    for crate in crates.values():  # dependencies, once
        build(crate, env)
    times = {k: [] for k in crates}
    cpus = {k: [] for k in crates}
    for _ in range(args.runs):  # interleaved
        for k, crate in crates.items():
            wall, used = build(crate, env)
            times[k].append(wall)
            cpus[k].append(used)
    med = {k: statistics.median(v) for k, v in times.items()}
    cmed = {k: statistics.median(v) for k, v in cpus.items()}
    note = ", pickle = false" if args.no_pickle else ""
    print(f"release build of the crate alone, {args.classes} classes{note}, median of {args.runs} (s):")
    for k in crates:
        print(
            f"  {k:8} {med[k]:6.2f}   runs: {', '.join(f'{t:.2f}' for t in times[k])}"
            f"   cpu {cmed[k]:6.2f}   runs: {', '.join(f'{t:.2f}' for t in cpus[k])}"
        )
    print(
        f"  derive adds {med['derived'] - med['hand']:+.2f} s over hand-written providers"
        f" (cpu {cmed['derived'] - cmed['hand']:+.2f} s)"
    )


if __name__ == "__main__":
    main()
