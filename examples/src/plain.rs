//! Plain storage, exported read-only: `Table` (frozen class, no borrow needed) and `Readings`
//! (mutable class: a shared borrow is held while exported, so `&mut self` methods are refused).

use buffer_runtime::{buffer_methods, PyBuffer};
use pyo3::prelude::*;

use crate::alloc::{check_len, checked_count, Size};

/// `d`, shape (n, 3), read-only, in a frozen class.
#[pyclass(module = "buffer_examples", frozen)]
#[derive(PyBuffer)]
pub struct Table {
    #[buffer(shape = [n, 3])]
    data: Box<[f64]>,
    n: usize,
}

#[buffer_methods]
#[pymethods]
impl Table {
    /// `values`: n*3 floats, row-major.
    #[new]
    fn new(n: Size, values: Vec<f64>) -> PyResult<Self> {
        let n = n.0;
        check_len("Table", values.len(), checked_count(&[n, 3], 8)?)?;
        Ok(Table {
            data: values.into(),
            n,
        })
    }
}

/// 1-D `d`, read-only `Vec<f64>` in a mutable class.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct Readings {
    #[buffer]
    data: Vec<f64>,
}

#[buffer_methods]
#[pymethods]
impl Readings {
    #[new]
    fn new(values: Vec<f64>) -> Self {
        Readings { data: values }
    }

    /// Whether a view holds the shared borrow (plain storage keeps no count: each export
    /// holds one shared borrow of the object until it is released).
    fn exported(slf: &Bound<'_, Self>) -> bool {
        slf.try_borrow_mut().is_err()
    }

    /// Needs `&mut self`: refused by pyo3 while a view holds the shared borrow.
    fn clear(&mut self) {
        self.data.clear();
    }

    fn tolist(&self) -> Vec<f64> {
        self.data.clone()
    }
}
