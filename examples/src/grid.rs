//! `Grid`: a `d` buffer whose ndim (0 to 64) and order ("C" or "F") are chosen at run time.

use buffer_runtime::{buffer_methods, layout::MAX_NDIM, Order, PyBuffer, SharedBlock};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::alloc::{checked_count, filled, Size};

#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct Grid {
    #[buffer(shape = dims, order = order)]
    data: SharedBlock<f64>,
    dims: Vec<usize>,
    order: Order,
}

#[buffer_methods]
#[pymethods]
impl Grid {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.data.exports()
    }

    /// The element at logical index (i0, i1, ...) is its C-order flat index.
    #[new]
    #[pyo3(signature = (shape, order = "C"))]
    fn new(shape: Vec<Size>, order: &str) -> PyResult<Self> {
        let order = parse_order(order)?;
        if shape.len() > MAX_NDIM {
            return Err(PyValueError::new_err(format!(
                "at most {MAX_NDIM} dimensions, got {}",
                shape.len()
            )));
        }
        let dims: Vec<usize> = shape.iter().map(|d| d.0).collect();
        let n = checked_count(&dims, 8)?;
        let mut data = filled(n, 0.0)?;
        match order {
            Order::C => data.iter_mut().enumerate().for_each(|(i, x)| *x = i as f64),
            Order::F => fill_fortran(&dims, &mut data),
        }
        Ok(Grid {
            data: data.into(),
            dims,
            order,
        })
    }

    #[getter]
    fn shape(&self) -> Vec<usize> {
        self.dims.clone()
    }

    #[getter]
    fn order(&self) -> &'static str {
        match self.order {
            Order::C => "C",
            Order::F => "F",
        }
    }

    /// Describes the same elements with another shape and order (as many elements), even
    /// while exported: live views keep the layout they were given.
    #[pyo3(signature = (shape, order = "C"))]
    fn reshape(&mut self, shape: Vec<Size>, order: &str) -> PyResult<()> {
        let order = parse_order(order)?;
        let dims: Vec<usize> = shape.iter().map(|d| d.0).collect();
        if dims.len() > MAX_NDIM || checked_count(&dims, 8)? != self.data.len() {
            return Err(PyValueError::new_err(format!(
                "cannot reshape {} elements to {dims:?}",
                self.data.len()
            )));
        }
        (self.dims, self.order) = (dims, order);
        Ok(())
    }
}

fn parse_order(order: &str) -> PyResult<Order> {
    match order {
        "C" => Ok(Order::C),
        "F" => Ok(Order::F),
        other => Err(PyValueError::new_err(format!(
            "order must be \"C\" or \"F\", not {other:?}"
        ))),
    }
}

/// Stores, at each position of a Fortran-ordered block, the C-order flat index of the logical
/// index found there.
fn fill_fortran(dims: &[usize], data: &mut [f64]) {
    if data.is_empty() {
        return; // nothing to fill; the C strides of a huge empty shape would overflow
    }
    // Element strides of the C order, walked with the first index fastest.
    let mut c_stride = vec![1usize; dims.len()];
    for d in (0..dims.len().saturating_sub(1)).rev() {
        c_stride[d] = c_stride[d + 1] * dims[d + 1];
    }
    let mut index = vec![0usize; dims.len()];
    let mut flat = 0usize;
    for x in data.iter_mut() {
        *x = flat as f64;
        for d in 0..dims.len() {
            index[d] += 1;
            flat += c_stride[d];
            if index[d] < dims[d] {
                break;
            }
            flat -= c_stride[d] * dims[d];
            index[d] = 0;
        }
    }
}
