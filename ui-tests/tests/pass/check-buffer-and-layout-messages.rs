//! `check_buffer()` runs an export's checks without exporting, and a bad layout is told in the
//! words of its annotation, with the values of the fields it names.
use buffer_runtime::{buffer_methods, PyBuffer, SharedVec};
use pyo3::prelude::*;

#[pyclass]
#[derive(PyBuffer)]
struct IntMatrix {
    #[buffer(shape = [rows, cols])]
    data: Vec<i32>,
    rows: usize,
    cols: i64,
}

#[pyclass]
#[derive(PyBuffer)]
struct Image {
    #[buffer(shape = [height, width, 3], strides = [pitch, 3, 1], offset = start)]
    data: SharedVec<u8>,
    height: usize,
    width: usize,
    pitch: isize,
    start: isize,
}

#[pyclass]
#[derive(PyBuffer)]
struct Grid {
    #[buffer(shape = dims, strides = steps)]
    data: SharedVec<f64>,
    dims: Vec<usize>,
    steps: Vec<isize>,
}

#[buffer_methods]
#[pymethods]
impl IntMatrix {}
#[buffer_methods]
#[pymethods]
impl Image {}
#[buffer_methods]
#[pymethods]
impl Grid {}

fn message(r: PyResult<()>) -> String {
    Python::attach(|py| r.unwrap_err().value(py).to_string())
}

fn main() {
    Python::initialize();
    let m = |rows, cols| IntMatrix {
        data: vec![0; 6],
        rows,
        cols,
    };
    assert!(m(2, 3).check_buffer().is_ok());
    assert_eq!(
        message(m(2, 4).check_buffer()),
        "IntMatrix: shape = [rows, cols] = [2, 4]: 8 elements, but data holds 6"
    );
    assert_eq!(
        message(m(2, -1).check_buffer()),
        "IntMatrix: shape = [rows, cols]: field `cols` is -1, which is not a dimension"
    );

    let image = |pitch, start| Image {
        data: vec![0u8; 20].into(),
        height: 2,
        width: 3,
        pitch,
        start,
    };
    assert!(image(10, 0).check_buffer().is_ok());
    assert_eq!(
        message(image(12, 2).check_buffer()),
        "Image: strides = [pitch, 3, 1] = [12, 3, 1], offset = start = 2 with shape = [height, width, 3] = [2, 3, 3]: addresses bytes 2..23, but data has 20 bytes"
    );

    let grid = Grid {
        data: vec![0.0; 4].into(),
        dims: vec![2, 2],
        steps: vec![8],
    };
    assert_eq!(
        message(grid.check_buffer()),
        "Grid: strides = steps = [8]: 1 strides for the 2 dimensions of shape = dims = [2, 2]"
    );
}
