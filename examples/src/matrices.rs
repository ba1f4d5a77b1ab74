//! Two-dimensional and 0-d providers: `IntMatrix` (C order), `FortranMatrix` (F order),
//! `Mat4` (an inline `[[f32; 4]; 4]`) and `Scalar` (0-d).

use buffer_runtime::{buffer_methods, PyBuffer, SharedArray, SharedBlock};
use pyo3::prelude::*;

use crate::alloc::{check_len, checked_count, filled, Size};

/// 2-D `i`, C order, writable. Fixed-size storage ([`SharedBlock`]): a pickle protocol 5 load
/// with a writable buffer uses that buffer's memory in place.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct IntMatrix {
    #[buffer(shape = [rows, cols])]
    data: SharedBlock<i32>,
    rows: usize,
    cols: usize,
}

#[buffer_methods]
#[pymethods]
impl IntMatrix {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.data.exports()
    }

    #[new]
    #[pyo3(signature = (rows, cols, values = None))]
    fn new(rows: Size, cols: Size, values: Option<Vec<i32>>) -> PyResult<Self> {
        let (rows, cols) = (rows.0, cols.0);
        let n = checked_count(&[rows, cols], 4)?;
        let data = match values {
            None => filled(n, 0)?,
            Some(v) => {
                check_len("IntMatrix", v.len(), n)?;
                v
            }
        };
        Ok(IntMatrix {
            data: data.into(),
            rows,
            cols,
        })
    }

    /// A matrix over `buffer`'s own memory (writable, C-contiguous, `rows * cols` int32; a
    /// `bytearray`, `mmap`, `SharedMemory.buf`...), used in place: `buffer` cannot be resized
    /// or closed while the matrix or any view of it lives.
    #[staticmethod]
    fn from_buffer(buffer: &Bound<'_, PyAny>, rows: Size, cols: Size) -> PyResult<Self> {
        let (rows, cols) = (rows.0, cols.0);
        let n = checked_count(&[rows, cols], 4)?;
        let data = SharedBlock::from_buffer(buffer)?;
        check_len("IntMatrix.from_buffer", data.len(), n)?;
        Ok(IntMatrix { data, rows, cols })
    }

    /// Nested lists, row by row.
    fn tolist(&self) -> Vec<Vec<i32>> {
        let flat = self.data.to_vec();
        (0..self.rows)
            .map(|r| flat[r * self.cols..(r + 1) * self.cols].to_vec())
            .collect()
    }

    #[getter]
    fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }
}

/// 2-D `d`, Fortran order, writable; fixed-size storage, as `IntMatrix`.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct FortranMatrix {
    #[buffer(shape = [rows, cols], order = "F")]
    data: SharedBlock<f64>,
    rows: usize,
    cols: usize,
}

#[buffer_methods]
#[pymethods]
impl FortranMatrix {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.data.exports()
    }

    /// `values` are in logical (row-major) order; they are stored column by column.
    #[new]
    fn new(rows: Size, cols: Size, values: Vec<f64>) -> PyResult<Self> {
        let (rows, cols) = (rows.0, cols.0);
        let n = checked_count(&[rows, cols], 8)?;
        check_len("FortranMatrix", values.len(), n)?;
        let mut data = filled(n, 0.0)?;
        for r in (0..rows).take_while(|_| cols > 0) {
            for c in 0..cols {
                data[c * rows + r] = values[r * cols + c];
            }
        }
        Ok(FortranMatrix {
            data: data.into(),
            rows,
            cols,
        })
    }

    /// Nested lists, row by row (logical order).
    fn tolist(&self) -> Vec<Vec<f64>> {
        let flat = self.data.to_vec();
        (0..self.rows)
            .map(|r| (0..self.cols).map(|c| flat[c * self.rows + r]).collect())
            .collect()
    }
}

/// A 4x4 `f` matrix stored inline as `[[f32; 4]; 4]`, writable.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct Mat4 {
    #[buffer]
    m: SharedArray<[[f32; 4]; 4]>,
}

#[buffer_methods]
#[pymethods]
impl Mat4 {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.m.exports()
    }

    /// `values`: 16 floats, row-major; the identity by default.
    #[new]
    #[pyo3(signature = (values = None))]
    fn new(values: Option<Vec<f32>>) -> PyResult<Self> {
        let mut m = [[0f32; 4]; 4];
        match values {
            None => (0..4).for_each(|i| m[i][i] = 1.0),
            Some(v) => {
                check_len("Mat4", v.len(), 16)?;
                for (i, x) in v.into_iter().enumerate() {
                    m[i / 4][i % 4] = x;
                }
            }
        }
        Ok(Mat4 {
            m: SharedArray::new(m),
        })
    }

    fn tolist(&self) -> Vec<Vec<f32>> {
        self.m.get().iter().map(|row| row.to_vec()).collect()
    }
}

/// A 0-d `d`, writable.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct Scalar {
    #[buffer]
    value: SharedArray<f64>,
}

#[buffer_methods]
#[pymethods]
impl Scalar {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.value.exports()
    }

    #[new]
    fn new(value: f64) -> Self {
        Scalar {
            value: SharedArray::new(value),
        }
    }

    #[getter]
    fn value(&self) -> f64 {
        self.value.get()
    }

    #[setter]
    fn set_value(&mut self, value: f64) {
        self.value.set(value)
    }
}
