//! Consumer-side benchmark loops: `n` times, acquire a typed `f64` view of `obj` and drop it.
//!
//! - `pyview_loop(obj, n)`: `buffer_runtime::view::PyView::<f64>::new(obj)` (request
//!   `PyBUF_FORMAT | PyBUF_STRIDES`, the answer checked: format, itemsize, ndim, `len`,
//!   suboffsets, extent);
//! - `pybuffer_loop(obj, n)`: pyo3's `PyBuffer::<f64>::get(obj)` (request `PyBUF_FULL_RO`,
//!   format and alignment checked);
//!
//! each returns the elapsed nanoseconds (`Instant`); the C consumer it is compared with is
//! `bench_helper.c_consumer_loop`.

use std::hint::black_box;
use std::time::Instant;

use buffer_runtime::view::PyView;
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;

#[pyfunction]
fn pyview_loop(obj: &Bound<'_, PyAny>, n: usize) -> PyResult<u64> {
    let t0 = Instant::now();
    for _ in 0..n {
        let v = PyView::<f64>::new(black_box(obj))?;
        black_box(&v);
    }
    Ok(t0.elapsed().as_nanos() as u64)
}

#[pyfunction]
fn pybuffer_loop(obj: &Bound<'_, PyAny>, n: usize) -> PyResult<u64> {
    let t0 = Instant::now();
    for _ in 0..n {
        let v = PyBuffer::<f64>::get(black_box(obj))?;
        black_box(&v);
    }
    Ok(t0.elapsed().as_nanos() as u64)
}

#[pymodule(gil_used = false)]
fn bench_consumer(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(pyview_loop, m)?)?;
    m.add_function(wrap_pyfunction!(pybuffer_loop, m)?)?;
    Ok(())
}
