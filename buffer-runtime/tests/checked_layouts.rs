//! A shared block remembers the N-d layout it last exported, with everything that layout's
//! checks read (`Direct::nd_checked`): an export of that same layout against the same item
//! count does not check it again. These tests change each thing the checks read, one at a
//! time, and expect the checks to run again: a bad layout is refused, a good one exported as
//! described.

use buffer_runtime::{buffer_methods, PyBuffer, SharedAnyVec, SharedBlock, SharedVec};
use pyo3::exceptions::PyBufferError;
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyMemoryView};

#[pyclass]
#[derive(PyBuffer)]
struct Dense {
    #[buffer(shape = [rows, cols])]
    data: SharedVec<f64>,
    rows: usize,
    cols: usize,
}

#[buffer_methods]
#[pymethods]
impl Dense {}

#[pyclass]
#[derive(PyBuffer)]
struct Pitched {
    #[buffer(shape = [rows, cols], strides = [pitch, 8], offset = start)]
    data: SharedVec<f64>,
    rows: usize,
    cols: usize,
    pitch: isize,
    start: isize,
}

#[buffer_methods]
#[pymethods]
impl Pitched {}

#[pyclass]
#[derive(PyBuffer)]
struct BlockDense {
    #[buffer(shape = [rows, cols])]
    data: SharedBlock<f64>,
    rows: usize,
    cols: usize,
}

#[buffer_methods]
#[pymethods]
impl BlockDense {}

#[pyclass]
#[derive(PyBuffer)]
struct AnyDense {
    #[buffer(shape = [rows, cols])]
    data: SharedAnyVec,
    rows: usize,
    cols: usize,
}

#[buffer_methods]
#[pymethods]
impl AnyDense {}

#[pyclass]
#[derive(PyBuffer)]
struct RunTime {
    #[buffer(shape = dims, strides = steps)]
    data: SharedVec<f64>,
    dims: Vec<usize>,
    steps: Vec<isize>,
}

#[buffer_methods]
#[pymethods]
impl RunTime {}

/// What a memoryview of `obj` says: its shape, strides, byte length and first item; or the
/// `BufferError` it got.
type Described = (Vec<isize>, Vec<isize>, usize, f64);

fn export(obj: &Bound<'_, PyAny>) -> Result<Described, String> {
    let py = obj.py();
    match PyMemoryView::from(obj) {
        Ok(mv) => {
            let got = (
                mv.getattr("shape").unwrap().extract().unwrap(),
                mv.getattr("strides").unwrap().extract().unwrap(),
                mv.getattr("nbytes").unwrap().extract().unwrap(),
                mv.call_method1("__getitem__", ((0, 0),))
                    .unwrap()
                    .extract()
                    .unwrap(),
            );
            mv.call_method0("release").unwrap();
            Ok(got)
        }
        Err(e) => {
            assert!(e.is_instance_of::<PyBufferError>(py), "{e}");
            Err(e.value(py).to_string())
        }
    }
}

fn numbered(n: usize) -> SharedVec<f64> {
    (0..n).map(|i| i as f64).collect::<Vec<_>>().into()
}

/// A `Dense` of 2 x 3 items numbered from 0.
fn dense_2x3(py: Python<'_>) -> Bound<'_, Dense> {
    let dense = Dense {
        data: numbered(6),
        rows: 2,
        cols: 3,
    };
    Bound::new(py, dense).unwrap()
}

#[test]
fn a_contiguous_layout_is_checked_again_when_the_item_count_changes() {
    Python::attach(|py| {
        let m = dense_2x3(py);
        let any = m.as_any();
        let good = Ok((vec![2, 3], vec![24, 8], 48, 0.0));
        assert_eq!(export(any), good);
        assert_eq!(export(any), good, "the same layout again: held");

        // Same dims, one more item: the held layout was checked against 6.
        m.borrow_mut().data.push(6.0).unwrap();
        let err = export(any).unwrap_err();
        assert!(err.contains("6 elements, but data holds 7"), "{err}");
        // One fewer than checked.
        m.borrow_mut().data.truncate(5).unwrap();
        let err = export(any).unwrap_err();
        assert!(err.contains("6 elements, but data holds 5"), "{err}");
        // Back to 6: good again, with the new items.
        m.borrow_mut().data.push(9.0).unwrap();
        m.borrow_mut().data.set(0, 7.0);
        assert_eq!(export(any), Ok((vec![2, 3], vec![24, 8], 48, 7.0)));

        // Other dims of the same count: checked, exported as described.
        (m.borrow_mut().rows, m.borrow_mut().cols) = (3, 2);
        assert_eq!(export(any), Ok((vec![3, 2], vec![16, 8], 48, 7.0)));
        (m.borrow_mut().rows, m.borrow_mut().cols) = (3, 3);
        let err = export(any).unwrap_err();
        assert!(err.contains("9 elements, but data holds 6"), "{err}");
    });
}

#[test]
fn a_strided_layout_is_checked_again_when_the_offset_strides_or_item_count_change() {
    Python::attach(|py| {
        // Rows of 3 items, 4 apart: items 0..3 and 4..7 of 8.
        let p = Bound::new(
            py,
            Pitched {
                data: numbered(8),
                rows: 2,
                cols: 3,
                pitch: 32,
                start: 0,
            },
        )
        .unwrap();
        let any = p.as_any();
        assert_eq!(export(any), Ok((vec![2, 3], vec![32, 8], 48, 0.0)));
        assert_eq!(export(any), Ok((vec![2, 3], vec![32, 8], 48, 0.0)));

        // Another offset: bytes 8..64 of 64 fit, 16..72 do not.
        p.borrow_mut().start = 8;
        assert_eq!(export(any), Ok((vec![2, 3], vec![32, 8], 48, 1.0)));
        p.borrow_mut().start = 16;
        let err = export(any).unwrap_err();
        assert!(
            err.contains("addresses bytes 16..72, but data has 64 bytes"),
            "{err}"
        );

        // The layout of offset 8 was held; fewer items make it leave the storage.
        p.borrow_mut().start = 8;
        assert_eq!(export(any), Ok((vec![2, 3], vec![32, 8], 48, 1.0)));
        p.borrow_mut().data.truncate(7).unwrap();
        let err = export(any).unwrap_err();
        assert!(
            err.contains("addresses bytes 8..64, but data has 56 bytes"),
            "{err}"
        );
        p.borrow_mut().data.push(7.0).unwrap();
        assert_eq!(export(any), Ok((vec![2, 3], vec![32, 8], 48, 1.0)));

        // Another pitch, entry by entry: 40 leaves the storage, 24 fits.
        p.borrow_mut().pitch = 40;
        let err = export(any).unwrap_err();
        assert!(err.contains("addresses bytes 8..72"), "{err}");
        p.borrow_mut().pitch = 24;
        assert_eq!(export(any), Ok((vec![2, 3], vec![24, 8], 48, 1.0)));
    });
}

#[test]
fn a_held_layout_under_a_live_view_is_still_checked_for_other_layouts() {
    Python::attach(|py| {
        let m = dense_2x3(py);
        let any = m.as_any();
        let live = PyMemoryView::from(any).unwrap();
        // The block holds [2, 3] for its live view; other layouts get records, and are checked.
        (m.borrow_mut().rows, m.borrow_mut().cols) = (2, 4);
        let err = export(any).unwrap_err();
        assert!(err.contains("8 elements, but data holds 6"), "{err}");
        (m.borrow_mut().rows, m.borrow_mut().cols) = (6, 1);
        assert_eq!(export(any), Ok((vec![6, 1], vec![8, 8], 48, 0.0)));
        (m.borrow_mut().rows, m.borrow_mut().cols) = (2, 3);
        assert_eq!(export(any), Ok((vec![2, 3], vec![24, 8], 48, 0.0)));
        let shape: Vec<isize> = live.getattr("shape").unwrap().extract().unwrap();
        assert_eq!(shape, vec![2, 3]);
        live.call_method0("release").unwrap();
    });
}

#[test]
fn a_held_layout_is_not_held_for_another_count_of_strides() {
    Python::attach(|py| {
        let r = Bound::new(
            py,
            RunTime {
                data: numbered(6),
                dims: vec![2, 3],
                steps: vec![24, 8],
            },
        )
        .unwrap();
        let any = r.as_any();
        let good = Ok((vec![2, 3], vec![24, 8], 48, 0.0));
        assert_eq!(export(any), good);
        // The held strides begin with these, but their count is not the dims'.
        for steps in [vec![24], vec![24, 8, 8]] {
            let n = steps.len();
            r.borrow_mut().steps = steps;
            let err = export(any).unwrap_err();
            assert!(
                err.contains(&format!("{n} strides for the 2 dimensions")),
                "{err}"
            );
            // And with a contiguity request, which reads every stride.
            let tb = py.import("_testbuffer").unwrap();
            let flags: i32 = tb.getattr("PyBUF_FULL_RO").unwrap().extract().unwrap();
            let c: i32 = tb.getattr("PyBUF_C_CONTIGUOUS").unwrap().extract().unwrap();
            let kwargs = [("getbuf", flags | c)].into_py_dict(py).unwrap();
            let err = tb
                .getattr("ndarray")
                .unwrap()
                .call((any,), Some(&kwargs))
                .unwrap_err();
            assert!(err.is_instance_of::<PyBufferError>(py), "{err}");
            assert!(
                err.to_string().contains("strides for the 2 dimensions"),
                "{err}"
            );
        }
        r.borrow_mut().steps = vec![24, 8];
        assert_eq!(export(any), good);
    });
}

#[test]
fn every_shared_storage_checks_a_layout_again_when_its_dims_change() {
    Python::attach(|py| {
        let b = Bound::new(
            py,
            BlockDense {
                data: SharedBlock::from((0..6).map(f64::from).collect::<Vec<_>>()),
                rows: 2,
                cols: 3,
            },
        )
        .unwrap();
        let any = b.as_any();
        let good = Ok((vec![2, 3], vec![24, 8], 48, 0.0));
        assert_eq!(export(any), good);
        assert_eq!(export(any), good);
        (b.borrow_mut().rows, b.borrow_mut().cols) = (3, 3);
        let err = export(any).unwrap_err();
        assert!(err.contains("9 elements, but data holds 6"), "{err}");
        (b.borrow_mut().rows, b.borrow_mut().cols) = (3, 2);
        assert_eq!(export(any), Ok((vec![3, 2], vec![16, 8], 48, 0.0)));
        (b.borrow_mut().rows, b.borrow_mut().cols) = (2, 3);
        assert_eq!(export(any), good);
    });
}

#[test]
fn run_time_typed_storage_checks_a_layout_again_when_its_items_change() {
    Python::attach(|py| {
        let a = Bound::new(
            py,
            AnyDense {
                data: SharedAnyVec::from((0..6).map(f64::from).collect::<Vec<_>>()),
                rows: 2,
                cols: 3,
            },
        )
        .unwrap();
        let any = a.as_any();
        let good = Ok((vec![2, 3], vec![24, 8], 48, 0.0));
        assert_eq!(export(any), good);
        assert_eq!(export(any), good);
        // Another block of another item type: its own strides.
        a.borrow_mut().data = SharedAnyVec::from((1..7).collect::<Vec<i32>>());
        assert_eq!(export(any), Ok((vec![2, 3], vec![12, 4], 24, 1.0)));
        // Another block of another count: refused.
        a.borrow_mut().data = SharedAnyVec::from(vec![0.5f64; 8]);
        let err = export(any).unwrap_err();
        assert!(err.contains("6 elements, but data holds 8"), "{err}");
        a.borrow_mut().data = SharedAnyVec::from(vec![0.5f64; 6]);
        assert_eq!(export(any), Ok((vec![2, 3], vec![24, 8], 48, 0.5)));
    });
}
