//! The conformance kit on good providers (derived, CPython's own) and on broken ones: each
//! broken rule must show up as a failure naming it.

use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, Ordering};

use buffer_runtime::testing::{check_provider, Checker, Outcome};
use buffer_runtime::{buffer_methods, PyBuffer, SharedVec};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Matrix {
    #[buffer(shape = [rows, 3])]
    data: SharedVec<f64>,
    rows: usize,
}

#[buffer_methods]
#[pymethods]
impl Matrix {}

#[pyclass(frozen)]
#[derive(PyBuffer)]
struct Padded {
    #[buffer(shape = [2, 2], strides = [8, 2])]
    data: Box<[u16]>,
}

#[buffer_methods]
#[pymethods]
impl Padded {}

static DATA: [i32; 3] = [1, 2, 3];

/// Fills every field whatever the request, and serves `PyBUF_WRITABLE` on read-only data.
#[pyclass(frozen)]
struct Sloppy;

#[pymethods]
impl Sloppy {
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut pyo3::ffi::Py_buffer,
        _flags: c_int,
    ) -> PyResult<()> {
        static SHAPE: [isize; 1] = [3];
        static STRIDES: [isize; 1] = [4];
        // SAFETY: `view` is writable (CPython's contract); the pointers are to statics.
        unsafe {
            let v = &mut *view;
            v.buf = DATA.as_ptr() as *mut _;
            v.len = 12;
            v.itemsize = 4;
            v.readonly = 1;
            v.ndim = 1;
            v.format = c"i".as_ptr() as *mut _;
            v.shape = SHAPE.as_ptr() as *mut _;
            v.strides = STRIDES.as_ptr() as *mut _;
            v.suboffsets = std::ptr::null_mut();
            v.internal = std::ptr::null_mut();
            v.obj = slf.into_ptr();
        }
        Ok(())
    }
}

/// Refuses everything with `ValueError` and leaves `view.obj` set (a crash in CPython's
/// argument parsing).
#[pyclass(frozen)]
struct LeavesObj;

#[pymethods]
impl LeavesObj {
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut pyo3::ffi::Py_buffer,
        _flags: c_int,
    ) -> PyResult<()> {
        // SAFETY: `view` is writable (CPython's contract).
        unsafe { (*view).obj = slf.into_ptr() };
        Err(PyValueError::new_err("no"))
    }
}

/// A full view whose `len` (16) is not `product(shape) * itemsize` (12).
#[pyclass(frozen)]
struct WrongLen;

#[pymethods]
impl WrongLen {
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut pyo3::ffi::Py_buffer,
        _flags: c_int,
    ) -> PyResult<()> {
        static SHAPE: [isize; 1] = [3];
        static STRIDES: [isize; 1] = [4];
        // SAFETY: `view` is writable (CPython's contract); the pointers are to statics. No
        // consumer reads through this view: the checker stops at the numbers.
        unsafe {
            let v = &mut *view;
            *v = pyo3::ffi::Py_buffer::new();
            v.buf = DATA.as_ptr() as *mut _;
            v.len = 16;
            v.itemsize = 4;
            v.readonly = 1;
            v.ndim = 1;
            v.format = c"i".as_ptr() as *mut _;
            v.shape = SHAPE.as_ptr() as *mut _;
            v.strides = STRIDES.as_ptr() as *mut _;
            v.obj = slf.into_ptr();
        }
        Ok(())
    }
}

/// Writes only `buf`, `itemsize`, `ndim`, `readonly` and `obj`: no `len`, no shape, strides or
/// format, whatever the request.
#[pyclass(frozen)]
struct Forgetful;

#[pymethods]
impl Forgetful {
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut pyo3::ffi::Py_buffer,
        _flags: c_int,
    ) -> PyResult<()> {
        // SAFETY: `view` is writable (CPython's contract); `buf` points to a static.
        unsafe {
            let v = &mut *view;
            v.buf = DATA.as_ptr() as *mut _;
            v.itemsize = 4;
            v.ndim = 1;
            v.readonly = 1;
            v.obj = slf.into_ptr();
        }
        Ok(())
    }
}

/// Set when `PymemLeak` is asked for a buffer while `tracemalloc` traces (no test here starts it).
static SAW_TRACING: AtomicBool = AtomicBool::new(false);

/// A correct `PyBuffer_FillInfo` export that leaks 64 bytes of pymalloc per export (`internal`,
/// never freed), and notes whether `tracemalloc` was tracing while it was asked.
#[pyclass(frozen)]
struct PymemLeak;

#[pymethods]
impl PymemLeak {
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut pyo3::ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let py = slf.py();
        if py
            .import("tracemalloc")?
            .call_method0("is_tracing")?
            .extract::<bool>()?
        {
            SAW_TRACING.store(true, Ordering::Relaxed);
        }
        // SAFETY: `view` is writable (CPython's contract), `slf` a live object, and `buf` points
        // to a static of 12 bytes, exported read-only.
        let rc = unsafe {
            pyo3::ffi::PyBuffer_FillInfo(view, slf.as_ptr(), DATA.as_ptr() as *mut _, 12, 1, flags)
        };
        if rc != 0 {
            return Err(PyErr::fetch(py));
        }
        // SAFETY: attached (`py`); any size may be asked of `PyMem_Malloc`.
        let leak = unsafe { pyo3::ffi::PyMem_Malloc(64) }; // the bug: never freed
                                                           // SAFETY: `view` is writable, and was just filled (CPython's contract).
        unsafe { (*view).internal = leak };
        Ok(())
    }
}

fn failures(report: &buffer_runtime::testing::Report) -> String {
    report
        .failures()
        .map(|c| format!("{}: {}\n", c.name, c.detail))
        .collect()
}

#[test]
fn derived_providers_pass() {
    Python::attach(|py| {
        let m = Bound::new(
            py,
            Matrix {
                data: vec![1.0; 6].into(),
                rows: 2,
            },
        )
        .unwrap();
        let report = check_provider(m.as_any());
        report.assert_ok();
        assert!(report.checks().len() > 30, "{report}");
        let text = report.to_string();
        assert!(text.starts_with("buffer conformance of Matrix: "), "{text}");
        assert!(
            text.contains("a write through one view is seen by another"),
            "{text}"
        );

        let p = Bound::new(
            py,
            Padded {
                data: vec![1u16, 0, 2, 0, 3, 0, 4, 0].into(),
            },
        )
        .unwrap();
        let report = check_provider(p.as_any());
        report.assert_ok();
        // Not contiguous and read-only: these requests must have been refused.
        let refused = |name: &str| {
            report
                .checks()
                .iter()
                .any(|c| c.name == name && c.detail.starts_with("refused"))
        };
        assert!(refused("PyBUF_SIMPLE"), "{report}");
        assert!(refused("PyBUF_C_CONTIGUOUS"), "{report}");
        assert!(refused("PyBUF_STRIDES|PyBUF_WRITABLE"), "{report}");
        assert!(!refused("PyBUF_STRIDES"), "{report}");
    });
}

#[test]
fn cpython_exporters_pass() {
    Python::attach(|py| {
        for expr in [
            c"bytearray(b'abc')",
            c"b'xyz'",
            c"memoryview(b'abcdef')[::2]",
            c"__import__('array').array('d', [1.5, 2.5])",
        ] {
            let obj = py.eval(expr, None, None).unwrap();
            check_provider(&obj).assert_ok();
        }
    });
}

#[test]
fn sloppy_provider_fails_with_reasons() {
    Python::attach(|py| {
        let obj = Bound::new(py, Sloppy).unwrap();
        let report = check_provider(obj.as_any());
        assert!(!report.is_ok());
        let f = failures(&report);
        assert!(
            f.contains("PyBUF_SIMPLE: format is set although PyBUF_FORMAT was not requested"),
            "{f}"
        );
        assert!(
            f.contains("shape is set although PyBUF_ND was not requested"),
            "{f}"
        );
        assert!(
            f.contains(
                "PyBUF_ND|PyBUF_FORMAT: strides is set although PyBUF_STRIDES was not requested"
            ),
            "{f}"
        );
        assert!(f.contains("PyBUF_STRIDES|PyBUF_FORMAT|PyBUF_WRITABLE: readonly is 1 although PyBUF_WRITABLE was requested"), "{f}");
        assert!(
            !f.contains("PyBUF_FULL_RO"),
            "the full view itself is fine: {f}"
        );
        let text = report.to_string();
        assert!(text.contains("  FAIL  PyBUF_SIMPLE "), "{text}");
        assert!(text.contains("  ok    PyBUF_FULL_RO"), "{text}");
    });
}

#[test]
fn leaving_obj_set_on_failure_is_reported() {
    Python::attach(|py| {
        let obj = Bound::new(py, LeavesObj).unwrap();
        let report = check_provider(obj.as_any());
        let f = failures(&report);
        assert!(
            f.contains("PyBUF_FULL_RO (memoryview's request): refused (ValueError: no)"),
            "{f}"
        );
        assert!(
            f.contains("refused with ValueError: no; CPython's rule is BufferError"),
            "{f}"
        );
        assert!(
            f.contains("view.obj is not NULL after a failed request"),
            "{f}"
        );
        // The reference the failed export took is given back, so the object's count is right.
        assert!(
            f.contains("it held a reference, which the kit gave back"),
            "{f}"
        );
        assert!(!f.contains("reference count"), "{f}");
    });
}

#[test]
fn non_buffer_object_fails() {
    Python::attach(|py| {
        let obj = py.eval(c"object()", None, None).unwrap();
        let report = check_provider(&obj);
        assert!(!report.is_ok());
        assert_eq!(report.checks().len(), 1);
        assert_eq!(report.checks()[0].outcome, Outcome::Fail);
        assert!(report.to_string().contains("no bf_getbuffer slot"));
    });
}

#[test]
fn fields_left_unwritten_are_reported_not_followed() {
    Python::attach(|py| {
        let obj = Bound::new(py, Forgetful).unwrap();
        let report = check_provider(obj.as_any());
        let f = failures(&report);
        // Every field it leaves alone still holds the kit's poison, suboffsets included (a real
        // consumer would follow that garbage: the kit runs none).
        assert!(
            f.contains("PyBUF_FULL_RO (memoryview's request): len was not written"),
            "{f}"
        );
        for field in ["len", "format", "shape", "strides", "suboffsets"] {
            assert!(
                f.contains(&format!(
                    "{field} was not written (it still holds the kit's poison)"
                )),
                "{f}"
            );
        }
        let text = report.to_string();
        assert!(text.contains("note  consumers"), "{text}");
        // The views were still released: no reference leaked.
        assert!(!f.contains("reference count"), "{f}");
    });
}

#[test]
fn full_view_is_checked_on_its_own() {
    Python::attach(|py| {
        let obj = Bound::new(py, WrongLen).unwrap();
        // The checker only compares numbers for a malformed full view; consumers are skipped.
        let report = check_provider(obj.as_any());
        let f = failures(&report);
        assert!(f.contains("PyBUF_FULL_RO (memoryview's request): len is 16 but product(shape) * itemsize is 12"), "{f}");
        assert!(!f.contains("consumer"), "{f}");
    });
}

/// The memory check must neither start nor stop `tracemalloc` (that swaps the allocator hooks
/// under the other test threads: `tracemalloc.stop()` while one of them attaches crashed CPython
/// 3.11 in `PyGILState_Ensure`), and still see a pymalloc leak without it.
#[test]
fn pymalloc_leak_is_caught_without_tracemalloc() {
    Python::attach(|py| {
        let obj = Bound::new(py, PymemLeak).unwrap();
        let report = Checker::new(obj.as_any()).exports_per_round(500).run();
        let f = failures(&report);
        // 64-byte PyMem_Malloc blocks are pymalloc's, unless pymalloc is off (PYTHONMALLOC=malloc,
        // as under valgrind, whose malloc `mallinfo2` does not see either).
        let sys = py.import("sys").unwrap();
        if sys
            .call_method0("getallocatedblocks")
            .unwrap()
            .extract::<isize>()
            .unwrap()
            > 0
        {
            assert!(f.contains("pymalloc (sys.getallocatedblocks): "), "{f}");
            assert!(f.contains("memory leaked per export"), "{f}");
            assert!(!f.contains("malloc: "), "{f}");
        }
        assert!(
            !SAW_TRACING.load(Ordering::Relaxed),
            "the kit started tracemalloc"
        );
        let tracing: bool = py
            .import("tracemalloc")
            .unwrap()
            .call_method0("is_tracing")
            .unwrap()
            .extract()
            .unwrap();
        assert!(!tracing);
    });
}

#[test]
fn checker_reference_and_export_count() {
    use buffer_runtime::testing::Checker;
    Python::attach(|py| {
        let m = Bound::new(
            py,
            Matrix {
                data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0].into(),
                rows: 2,
            },
        )
        .unwrap();
        let good = py
            .eval(
                c"__import__('array').array('d', [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])",
                None,
                None,
            )
            .unwrap();
        // The array is 1-d: the shape differs, so the reference comparison must fail...
        let report = Checker::new(m.as_any()).reference(&good).run();
        assert!(
            report
                .to_string()
                .contains("shape [2, 3] but the reference's is [6]"),
            "{report}"
        );
        // ... and pass against a reference of the right shape.
        let tb = c"(lambda tb: tb.ndarray([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], shape=[2, 3], format='d', flags=tb.ND_WRITABLE))(__import__('_testbuffer'))";
        let right = py.eval(tb, None, None).unwrap();
        Checker::new(m.as_any()).reference(&right).run().assert_ok();
        // A count that never moves is reported on the first request.
        let report = Checker::new(m.as_any())
            .export_count(|| Ok(0))
            .exports_per_round(0)
            .run();
        assert!(
            report.failures().any(|c| c.detail.contains("live exports")),
            "{report}"
        );
        let m2 = m.clone();
        let count = move || Ok(m2.borrow().data.exports() as isize);
        Checker::new(m.as_any())
            .export_count(count)
            .run()
            .assert_ok();
    });
}
