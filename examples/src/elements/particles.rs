//! `Particles`: the record from the issue (3 `f32`, an `f64`, a `u32`, with padding).

use buffer_runtime::{buffer_methods, Element, PyBuffer, SharedVec};
use pyo3::prelude::*;

use super::index_error;
use crate::alloc::{built, checked_count};

/// One particle: 3 `f32`, 4 bytes of padding, an `f64`, a `u32`, 4 bytes of padding = 32 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Element)]
#[repr(C)]
pub struct Particle {
    pub x: f32,
    pub y: f32,
    pub z: f32,
    pub mass: f64,
    pub id: u32,
}

/// 1-D array of `Particle` records, writable: `numpy.asarray(p)` is a structured array with
/// fields `x, y, z, mass, id` and itemsize 32.
#[pyclass(module = "buffer_examples")]
#[derive(PyBuffer)]
pub struct Particles {
    #[buffer]
    data: SharedVec<Particle>,
}

#[buffer_methods]
#[pymethods]
impl Particles {
    /// Live exports (views of this object not yet released).
    fn exports(&self) -> usize {
        self.data.exports()
    }

    /// Particle `i` has `x=i, y=2i, z=3i, mass=i*0.5, id=i`.
    #[new]
    fn new(n: usize) -> PyResult<Self> {
        checked_count(&[n], size_of::<Particle>())?;
        let data = built(n, |i| {
            let f = i as f32;
            Particle {
                x: f,
                y: 2.0 * f,
                z: 3.0 * f,
                mass: i as f64 * 0.5,
                id: i as u32,
            }
        })?;
        Ok(Particles { data: data.into() })
    }

    /// The record format every export gives.
    #[classattr]
    fn format() -> &'static str {
        Particle::FORMAT.to_str().expect("ASCII")
    }

    #[classattr]
    fn itemsize() -> usize {
        size_of::<Particle>()
    }

    /// Particle `i` as `(x, y, z, mass, id)`, read by Rust.
    fn get(&self, i: usize) -> PyResult<(f32, f32, f32, f64, u32)> {
        let p = self
            .data
            .get(i)
            .ok_or_else(|| index_error(i, self.data.len()))?;
        Ok((p.x, p.y, p.z, p.mass, p.id))
    }

    /// Overwrites particle `i` from Rust (allowed while exported).
    fn set(&mut self, i: usize, value: (f32, f32, f32, f64, u32)) -> PyResult<()> {
        let (x, y, z, mass, id) = value;
        let len = self.data.len();
        self.data
            .set(i, Particle { x, y, z, mass, id })
            .map(drop)
            .ok_or_else(|| index_error(i, len))
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }
}
