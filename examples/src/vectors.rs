//! One-dimensional providers: `IntArray`, `GrowableArray` (writable, growable) and `Frozen`
//! (read-only bytes).

use buffer_runtime::{buffer_methods, PyBuffer, SharedVec};
use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;

/// 1-D `i` (int32), writable; `append` is refused while a view is alive.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct IntArray {
    #[buffer]
    data: SharedVec<i32>,
}

#[buffer_methods]
#[pymethods]
impl IntArray {
    #[new]
    fn new(values: Vec<i32>) -> Self {
        IntArray {
            data: values.into(),
        }
    }

    fn append(&mut self, value: i32) -> PyResult<()> {
        Ok(self.data.push(value)?)
    }

    fn tolist(&self) -> Vec<i32> {
        self.data.to_vec()
    }

    fn exports(&self) -> usize {
        self.data.exports()
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }
}

/// 1-D `d` (float64), writable and growable while no view is alive.
///
/// Views may read and write it at any time; every method that would move or resize the
/// memory raises `BufferError` while a view is alive and leaves the contents unchanged
/// (`bytearray`'s rule). It has a `__dict__` (and weak references), so a view can be stored
/// on the object itself; the garbage collector sees and breaks such cycles. Python classes
/// may subclass it; their instances export through the same slots.
#[pyclass(module = "buffer_examples", dict, weakref, subclass)]
#[derive(PyBuffer)]
pub struct GrowableArray {
    #[buffer]
    data: SharedVec<f64>,
}

/// A Python index (negative counts from the end) into `0..len`, or `IndexError`.
fn py_index(i: isize, len: usize) -> PyResult<usize> {
    let j = if i < 0 {
        i.checked_add_unsigned(len).unwrap_or(-1)
    } else {
        i
    };
    usize::try_from(j)
        .ok()
        .filter(|&j| j < len)
        .ok_or_else(|| PyIndexError::new_err("GrowableArray index out of range"))
}

#[buffer_methods]
#[pymethods]
impl GrowableArray {
    #[new]
    #[pyo3(signature = (values = Vec::new()))]
    fn new(values: Vec<f64>) -> Self {
        GrowableArray {
            data: values.into(),
        }
    }

    fn append(&mut self, value: f64) -> PyResult<()> {
        Ok(self.data.push(value)?)
    }

    fn extend(&mut self, values: Vec<f64>) -> PyResult<()> {
        Ok(self.data.extend(values)?)
    }

    /// Inserts before `index` (clamped, like `list.insert`).
    fn insert(&mut self, index: isize, value: f64) -> PyResult<()> {
        let len = self.data.len();
        let i = if index < 0 {
            index.saturating_add_unsigned(len).max(0)
        } else {
            index
        };
        Ok(self.data.insert((i as usize).min(len), value)?)
    }

    /// Removes and returns the element at `index` (default: the last).
    #[pyo3(signature = (index = -1))]
    fn pop(&mut self, index: isize) -> PyResult<f64> {
        if self.data.exports() > 0 {
            return Err(self.data.exported_error().into());
        }
        let i = py_index(index, self.data.len()).map_err(|_| {
            PyIndexError::new_err("pop from empty GrowableArray or index out of range")
        })?;
        Ok(self.data.remove(i)?)
    }

    #[pyo3(signature = (new_len, fill = 0.0))]
    fn resize(&mut self, new_len: usize, fill: f64) -> PyResult<()> {
        Ok(self.data.try_resize(new_len, fill)?)
    }

    fn truncate(&mut self, len: usize) -> PyResult<()> {
        Ok(self.data.truncate(len)?)
    }

    fn clear(&mut self) -> PyResult<()> {
        Ok(self.data.clear()?)
    }

    fn reserve(&mut self, additional: usize) -> PyResult<()> {
        Ok(self.data.try_reserve(additional)?)
    }

    fn shrink_to_fit(&mut self) -> PyResult<()> {
        Ok(self.data.shrink_to_fit()?)
    }

    /// Replaces the whole contents, returning the old ones as a list.
    fn replace(&mut self, values: Vec<f64>) -> PyResult<Vec<f64>> {
        Ok(self.data.replace(values)?)
    }

    /// Takes the contents out as a list, leaving the array empty.
    fn take(&mut self) -> PyResult<Vec<f64>> {
        Ok(self.data.take()?)
    }

    /// Exchanges contents with `other`; refused while either is exported.
    fn swap(slf: &Bound<'_, Self>, other: &Bound<'_, Self>) -> PyResult<()> {
        if slf.is(other) {
            return Ok(());
        }
        let mut other = other.try_borrow_mut()?;
        Ok(slf.try_borrow_mut()?.data.swap(&mut other.data)?)
    }

    fn capacity(&self) -> usize {
        self.data.capacity()
    }

    fn __getitem__(&self, i: isize) -> PyResult<f64> {
        let i = py_index(i, self.data.len())?;
        Ok(self.data.get(i).expect("index checked"))
    }

    /// Writes in place: allowed while exported, like a write through a view.
    fn __setitem__(&mut self, i: isize, value: f64) -> PyResult<()> {
        let i = py_index(i, self.data.len())?;
        self.data.set(i, value);
        Ok(())
    }

    fn sum(&self) -> f64 {
        self.data.iter().sum()
    }

    fn tolist(&self) -> Vec<f64> {
        self.data.to_vec()
    }

    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.data.exports()
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }

    /// Calls `callback()` holding no borrow of `self`, then returns element `i` as it is after
    /// the call: a write made by the callback (through a view, or `a[i] = v`) is seen, and a
    /// resize the callback attempts is refused with `BufferError` while a view is alive.
    fn call_and_read(
        slf: &Bound<'_, Self>,
        i: isize,
        callback: &Bound<'_, PyAny>,
    ) -> PyResult<f64> {
        callback.call0()?;
        slf.try_borrow()?.__getitem__(i)
    }

    /// Reads every element, calling `callback(i)` before reading element `i`, while holding a
    /// shared borrow of `self` for the whole loop. Writes made by the callback are seen by the
    /// reads that follow; any `&mut self` method the callback calls (`append`, `a[i] = v`)
    /// raises pyo3's `RuntimeError: Already borrowed`.
    fn read_each(&self, callback: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
        let mut out = Vec::with_capacity(self.data.len());
        for i in 0..self.data.len() {
            callback.call1((i,))?;
            out.push(
                self.data
                    .get(i)
                    .expect("the length cannot change under a shared borrow"),
            );
        }
        Ok(out)
    }
}

/// 1-D `B`, read-only: plain storage in a frozen class whose type is immutable (so the class
/// methods and plain slots must be in place before PyO3 freezes it; abi3 before 3.14 has no
/// immutable types).
#[cfg_attr(
    not(feature = "abi3"),
    pyclass(module = "buffer_examples", frozen, immutable_type)
)]
#[cfg_attr(feature = "abi3", pyclass(module = "buffer_examples", frozen))]
#[derive(PyBuffer)]
pub struct Frozen {
    #[buffer]
    data: Box<[u8]>,
}

#[buffer_methods]
#[pymethods]
impl Frozen {
    #[new]
    fn new(data: &[u8]) -> Self {
        Frozen { data: data.into() }
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }
}
