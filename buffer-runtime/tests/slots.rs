//! The buffer slots at an edge CPython's API does not reach: `bf_getbuffer` called straight
//! through the type with a NULL view (obsolete; the fast slot's quick try leaves it to the
//! general export, which refuses it).

use buffer_runtime::{buffer_methods, PyBuffer, SharedVec};
use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct Samples {
    #[buffer(shape = [rows, cols])]
    data: SharedVec<f64>,
    rows: usize,
    cols: usize,
}

#[buffer_methods]
#[pymethods]
impl Samples {}

#[test]
fn a_null_view_is_refused_with_buffer_error() {
    Python::attach(|py| {
        let obj = Bound::new(
            py,
            Samples {
                data: vec![0.0; 6].into(),
                rows: 2,
                cols: 3,
            },
        )
        .unwrap();
        // SAFETY: `obj` is a live object.
        let refs = unsafe { ffi::Py_REFCNT(obj.as_ptr()) };
        // SAFETY: `obj` is a live object.
        let tp = unsafe { ffi::Py_TYPE(obj.as_ptr()) };
        // SAFETY: the live object's live type.
        let procs = unsafe { (*tp).tp_as_buffer };
        assert!(
            !procs.is_null(),
            "`#[buffer_methods]` gives the type buffer slots"
        );
        // SAFETY: `procs` is the type's live `PyBufferProcs`.
        let getbuffer = unsafe { (*procs).bf_getbuffer }.expect("bf_getbuffer");
        // SAFETY: the slot called attached, on its own type's instance, with a NULL view, as
        // an obsolete caller would.
        let rc = unsafe { getbuffer(obj.as_ptr(), std::ptr::null_mut(), ffi::PyBUF_FULL_RO) };
        assert_eq!(rc, -1);
        let err = PyErr::take(py).expect("an exception is set");
        assert!(err.is_instance_of::<PyBufferError>(py), "{err}");
        assert_eq!(
            err.value(py).to_string(),
            "bf_getbuffer called with a NULL view"
        );
        // SAFETY: as above.
        let after = unsafe { ffi::Py_REFCNT(obj.as_ptr()) };
        assert_eq!(after, refs, "no reference taken");
        assert_eq!(obj.borrow().data.exports(), 0, "no export counted");
        // And the slot still exports after it.
        let m = pyo3::types::PyMemoryView::from(obj.as_any()).unwrap();
        assert_eq!(obj.borrow().data.exports(), 1);
        drop(m);
        assert_eq!(obj.borrow().data.exports(), 0, "released");
    });
}
